#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/sync.sh -- zupd-mirror sync: a vendor repository served on
# 127.0.0.1, synced into an enterprise mirror that endpoints update from;
# incremental syncs, a mirror of the mirror, and faults (tampered and
# rolled-back metadata, a truncated blob, the upstream killed mid-transfer,
# a crash at every step of the sync's writes): the mirror (and the
# transparency log it carries) always verifies
# and keeps serving its last good state.
set -u
LC_ALL=C ZUPD_KDF_COST=min
export LC_ALL ZUPD_KDF_COST
. "$(dirname "$0")/lib.sh"
test_init sync
t0=$(date +%s)
phase() { echo "--- $* (at $(( $(date +%s) - t0 )) s)"; }

# listing DIR: checksums of the served tree (metadata, targets, blobs)
listing() {
    (cd "$1" && find metadata targets blobs -type f -print0 2>/dev/null | sort -z |
        xargs -0 sha256sum)
}

# jget FIELD: a field of the JSON report in $work/out
jget() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/out" "$1"
}

# endpoint_conf NAME PORT: a zupd configuration updating from 127.0.0.1:PORT
endpoint_conf() {
    cat > "$work/$1.conf" <<EOF2
mirrors = [ "http://127.0.0.1:$2/" ];
trusted_root = "$work/pinned-root.json";
state_dir = "$work/state-$1";
low_speed_time = 5;
components = (
  { name = "product"; role = "products"; channel = "stable";
    install_path = "$work/opt-$1"; keep = 3; }
);
EOF2
}

make_db() { # make_db DIR SEED: an AV database of 30 files, one changes per seed
    mkdir -p "$1"
    for i in $(seq 0 29); do
        if [ "$i" = 7 ]; then v=$2; else v=stable; fi
        python3 -c 'import sys; print(("sig %s %s\n" % (sys.argv[1], sys.argv[2])) * 300)' \
            "$i" "$v" > "$1/sig$i.db"
    done
}

start_repo || exit 1
VPORT=$PORT
UP="http://127.0.0.1:$VPORT/"
cp "$work/repo/metadata/1.root.json" "$work/pinned-root.json"
make_tree "$work/v1" 1.0 40
make_tree "$work/v2" 2.0 40
make_tree "$work/v3" 3.0 40
head -c 1500000 /dev/urandom > "$work/v3/bin/big"     # an incompressible 1.5 MB blob
make_db "$work/db1" 1
make_db "$work/db2" 2
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
publish db-main 1 "$work/db1" avdb && promote db-main 1 stable --role avdb || exit 1

ENT=$work/ent
SYNC="$MIRROR sync"

# --- usage and refusals before anything is fetched
phase "usage and refusals before anything is fetched"
expect_rc 1 "sync without DIR is a usage error" $SYNC "$UP"
expect_rc 22 "the first sync needs --root" $SYNC "$UP" "$work/noroot"
expect_rc 22 "sync into a publishing repository is refused" \
    $SYNC "$UP" "$work/repo" --root "$work/pinned-root.json"

# --- first sync
phase "first sync"
expect_rc 0 "first sync" $SYNC "$UP" "$ENT" --root "$work/pinned-root.json" --json
cat "$work/out"
[ "$(jget ok)" = True ] && [ "$(jget changed)" = True ] && [ "$(jget blobs_fetched)" -gt 0 ] &&
    [ "$(jget targets)" = 4 ] && ok "first sync fetched $(jget targets) targets, $(jget blobs_fetched) blobs, $(jget bytes_fetched) bytes" ||
    bad "first sync report"
expect_rc 0 "the mirror verifies" "$MIRROR" verify "$ENT"
expect_rc 0 "the mirror verifies against the pinned root" "$MIRROR" verify "$ENT" --root "$work/pinned-root.json"
same=1
for f in "$ENT"/metadata/*; do
    cmp -s "$f" "$work/repo/metadata/$(basename "$f")" || { same=0; echo "  differs: $f"; }
done
[ "$same" = 1 ] && ok "metadata is the vendor's, byte for byte" || bad "metadata differs from the vendor's"
[ "$(cd "$work/repo" && find blobs -type f | sort)" = "$(cd "$ENT" && find blobs -type f | sort)" ] &&
    ok "every vendor blob is mirrored" || bad "blob sets differ"

# --- endpoints update from the enterprise mirror
phase "endpoints update from the enterprise mirror"
serve_tree "$ENT" || exit 1
EPORT=$SPORT
endpoint_conf e1 "$EPORT"
expect_rc 0 "endpoint installs 1.0 from the enterprise mirror" "$ZUPD" --config "$work/e1.conf" update
diff -r "$work/v1" "$work/opt-e1/" > /dev/null 2>&1 && ok "endpoint holds 1.0" || bad "endpoint is not on 1.0"

# --- a sync with nothing new transfers almost nothing
expect_rc 0 "sync, nothing new" $SYNC "$UP" "$ENT" --json
[ "$(jget changed)" = False ] && [ "$(jget blobs_fetched)" = 0 ] && [ "$(jget targets_fetched)" = 0 ] &&
    [ "$(jget bytes_fetched)" -lt 2000 ] &&
    ok "nothing new: $(jget requests) requests, $(jget bytes_fetched) bytes" || { bad "idle sync"; cat "$work/out"; }

# --- one new AV database release: only its metadata, manifest and blobs
cp -a "$work/repo" "$work/repo-old"           # for the rollback attack below
listing "$work/repo" | sort > "$work/vendor-before"
publish db-main 2 "$work/db2" avdb || exit 1
listing "$work/repo" | sort > "$work/vendor-after"
new_bytes=$(cd "$work/repo" && comm -13 "$work/vendor-before" "$work/vendor-after" |
    awk '{print $2}' | grep -v '^metadata/root.json$' | xargs stat -c %s | awk '{s+=$1} END {print s}')
new_blobs=$(comm -13 "$work/vendor-before" "$work/vendor-after" | grep -c ' blobs/')
expect_rc 0 "sync after one AV database release" $SYNC "$UP" "$ENT" --json
cat "$work/out"
got=$(jget bytes_fetched)
echo "  new in the vendor tree: $new_bytes bytes, $new_blobs blobs; the sync fetched $got bytes"
[ "$(jget blobs_fetched)" = "$new_blobs" ] && [ "$(jget targets_fetched)" = 1 ] &&
    [ "$got" -le "$new_bytes" ] &&
    ok "incremental: $(jget blobs_fetched) blobs, 1 manifest, $got bytes <= $new_bytes new" ||
    bad "incremental sync fetched more than the release"
[ "$(jget new_targets)" = "['avdb/db-main/2/manifest.json']" ] &&
    ok "the report names the new release" || bad "new_targets: $(jget new_targets)"
expect_rc 0 "the mirror verifies after the incremental sync" "$MIRROR" verify "$ENT"

# --- a product release reaches the endpoint through the mirror
publish product 2.0 "$work/v2" && promote product 2.0 stable || exit 1
expect_rc 0 "sync product 2.0" $SYNC "$UP" "$ENT" --json
expect_rc 0 "endpoint updates to 2.0 from the mirror" "$ZUPD" --config "$work/e1.conf" update
diff -r "$work/v2" "$work/opt-e1/" > /dev/null 2>&1 && ok "endpoint holds 2.0" || bad "endpoint is not on 2.0"

# --- a mirror of the mirror
phase "a mirror of the mirror"
expect_rc 0 "chained sync (mirror of the mirror)" \
    $SYNC "http://127.0.0.1:$EPORT" "$work/ent2" --root "$work/pinned-root.json" --json
expect_rc 0 "the chained mirror verifies" "$MIRROR" verify "$work/ent2"
# every file of the chained mirror is in the first one, byte for byte, and
# the blobs are the same (the first mirror also keeps the metadata and
# channel pointers it served before)
listing "$ENT" | sort > "$work/l1"; listing "$work/ent2" | sort > "$work/l2"
[ -z "$(comm -13 "$work/l1" "$work/l2")" ] &&
    [ "$(grep ' blobs/' "$work/l1")" = "$(grep ' blobs/' "$work/l2")" ] &&
    ok "the chained mirror is the current part of the first one, byte for byte" ||
    { bad "the chained mirror differs"; diff "$work/l1" "$work/l2" | head; }
serve_tree "$work/ent2" || exit 1
endpoint_conf e2 "$SPORT"
expect_rc 0 "endpoint installs 2.0 from the chained mirror" "$ZUPD" --config "$work/e2.conf" update
diff -r "$work/v2" "$work/opt-e2/" > /dev/null 2>&1 && ok "chained endpoint holds 2.0" || bad "chained endpoint not on 2.0"

# --- faults: the mirror stays as it was and keeps serving
phase "faults: the mirror stays as it was and keeps serving"
# the vendor publishes 3.0; hostile copies of its tree are served instead
publish product 3.0 "$work/v3" && promote product 3.0 stable || exit 1
listing "$ENT" > "$work/ent-before"
unchanged() { # unchanged WHAT
    listing "$ENT" > "$work/ent-now"
    if cmp -s "$work/ent-before" "$work/ent-now"; then ok "$1: the mirror is unchanged"; else
        bad "$1: the mirror changed"; diff "$work/ent-before" "$work/ent-now" | head; fi
}

# tampered metadata: timestamp version raised without the key
cp -a "$work/repo" "$work/evil"
python3 - "$work/evil/metadata/timestamp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["signed"]["version"] += 5
open(sys.argv[1], "w").write(json.dumps(d))
PY
serve_tree "$work/evil" || exit 1
expect_rc 14 "tampered timestamp refused" $SYNC "http://127.0.0.1:$SPORT/" "$ENT"
grep -q "upstream metadata refused" "$work/err" && ok "clear error: $(head -c 200 "$work/err")" || bad "no clear error"
unchanged "tampered metadata"

# tampered target: a manifest changed after signing
rm -rf "$work/evil2"; cp -a "$work/repo" "$work/evil2"
m=$(ls "$work/evil2"/targets/products/product/3.0/*.manifest.json)
sed -i 's/"3.0"/"3.1"/' "$m"
serve_tree "$work/evil2" || exit 1
expect_rc 17 "tampered manifest refused (hash)" $SYNC "http://127.0.0.1:$SPORT/" "$ENT"
unchanged "tampered manifest"

# rolled-back metadata: the vendor tree as it was two releases ago
serve_tree "$work/repo-old" || exit 1
expect_rc 16 "rolled-back upstream refused" $SYNC "http://127.0.0.1:$SPORT/" "$ENT"
grep -q "rollback\|version" "$work/err" && ok "clear error: $(head -c 200 "$work/err")" || bad "no clear error"
unchanged "rolled-back metadata"

# a truncated blob
rm -rf "$work/trunc"; cp -a "$work/repo" "$work/trunc"
big=$( (cd "$work/trunc" && find blobs -type f -size +1000k) | head -n 1)
[ -n "$big" ] || { bad "no big blob in 3.0"; }
truncate -s 700000 "$work/trunc/$big"
serve_tree "$work/trunc" || exit 1
expect_rc 18 "truncated blob refused (length)" $SYNC "http://127.0.0.1:$SPORT/" "$ENT"
grep -q "$(basename "$big")" "$work/err" && ok "the error names the blob" || bad "error does not name the blob"
unchanged "truncated blob"
expect_rc 0 "the mirror still verifies" "$MIRROR" verify "$ENT"
rm -f "$ENT"/.zupd/sync-staging/*.part   # the partial of the lie is not resumed

# the upstream killed mid-transfer: a server that stalls halfway through blobs
phase "the upstream killed mid-transfer: a server that stalls halfway through blobs"
printf '[{"path":"blobs/*","mode":"stall","seconds":120,"min_size":1000001}]\n' >"$work/slow-rules.json"
start_fixture slow repo "$work/repo" "$work/slow-rules.json" || exit 1
SLOWPID=$slow_pid
$SYNC "http://127.0.0.1:$slow_port/slow/" "$ENT" --json > "$work/slow.out" 2> "$work/slow.err" &
SYNCPID=$!
for _ in $(seq 100); do
    [ -n "$(find "$ENT/.zupd/sync-staging" -name '*.part' -size +500k 2>/dev/null)" ] && break
    sleep 0.1
done
expect_rc 0 "during the stalled sync the mirror verifies" "$MIRROR" verify "$ENT"
expect_rc 0 "during the stalled sync an endpoint sees the previous state" \
    "$ZUPD" --config "$work/e1.conf" check
kill "$SLOWPID"
wait "$SYNCPID"; src=$?
[ "$src" != 0 ] && ok "sync fails when the upstream dies (exit $src: $(head -c 150 "$work/slow.err"))" ||
    bad "sync succeeded with a dead upstream"
unchanged "upstream killed mid-transfer"
expect_rc 0 "the mirror verifies after the upstream died" "$MIRROR" verify "$ENT"

# --- a crash at every step of the sync's writes: the mirror always verifies
phase "a crash at every step of the sync's writes: the mirror always verifies"
cp -a "$ENT" "$work/ent-crash-base"
rm -rf "$work/ent-crash"; cp -a "$work/ent-crash-base" "$work/ent-crash"
steps=$(ZUPD_MIRROR_CRASH_TRACE=1 $SYNC "$UP" "$work/ent-crash" 2>&1 | grep -c 'step [0-9]*:')
n=1 crash_bad=0
# the partial from the dead upstream is resumed by the first run
while [ "$n" -le "$steps" ]; do
    rm -rf "$work/ent-crash"; cp -a "$work/ent-crash-base" "$work/ent-crash"
    ZUPD_MIRROR_CRASH_AT=$n $SYNC "$UP" "$work/ent-crash" > /dev/null 2>&1
    if ! "$MIRROR" verify "$work/ent-crash" > "$work/verify.out" 2>&1; then
        crash_bad=$((crash_bad + 1)); echo "  crash at step $n:"; cat "$work/verify.out"
    fi
    # the transparency log it serves logs every target it serves
    if ! "$MIRROR" log verify "$work/ent-crash" > "$work/verify.out" 2>&1; then
        crash_bad=$((crash_bad + 1)); echo "  crash at step $n: log verify:"; cat "$work/verify.out"
    fi
    $SYNC "$UP" "$work/ent-crash" > /dev/null 2>&1 && "$MIRROR" verify "$work/ent-crash" > /dev/null 2>&1 ||
        { crash_bad=$((crash_bad + 1)); echo "  crash at step $n: the next sync did not finish"; }
    n=$((n + 1))
done
[ "$steps" -gt 5 ] && [ "$crash_bad" = 0 ] && ok "crash at each of $steps write steps: the mirror and its log verify, the next sync completes" ||
    bad "crash steps ($steps): $crash_bad failures"

# --- the real upstream again: the sync resumes and completes
phase "the real upstream again: the sync resumes and completes"
big_size=$(stat -c %s "$work/repo/$big")
expect_rc 0 "sync from the vendor after the faults" $SYNC "$UP" "$ENT" --json
cat "$work/out"
echo "  the 3.0 blob is $big_size bytes; $(jget blob_bytes_fetched) blob bytes fetched"
[ "$(jget blob_bytes_fetched)" -lt "$big_size" ] && ok "the interrupted blob was resumed, not fetched again" ||
    bad "the interrupted blob was fetched again"
expect_rc 0 "the mirror verifies" "$MIRROR" verify "$ENT"
expect_rc 0 "endpoint updates to 3.0 from the mirror" "$ZUPD" --config "$work/e1.conf" update
diff -r "$work/v3" "$work/opt-e1/" > /dev/null 2>&1 && ok "endpoint holds 3.0" || bad "endpoint is not on 3.0"

# --- --component: only the chosen component's targets and blobs
phase "component: only the chosen component's targets and blobs"
expect_rc 0 "sync of one component" $SYNC "$UP" "$work/ent-db" --root "$work/pinned-root.json" \
    --component db-main --json
[ -z "$(find "$work/ent-db/targets" -path '*products*' -type f)" ] &&
    [ -n "$(find "$work/ent-db/targets" -path '*db-main*' -type f)" ] &&
    ok "--component db-main: no product targets ($(jget targets) targets, $(jget blobs) blobs)" ||
    bad "--component did not filter"

finish sync
