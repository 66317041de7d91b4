#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/sync_keep.sh -- zupd-mirror sync --channel/--keep: a
# filtered enterprise mirror fetches only the releases it keeps (and their
# blobs and deltas, counted in the --json report against the vendor's
# manifests), keeps the vendor's metadata byte for byte, verifies, serves
# endpoints (which can install only what it mirrors), fetches only what is
# new after a release, removes what it no longer keeps after the switch,
# verifies after a crash at every step of such a sync, and walks the hash
# bins (TAP 15) of a repository made with init --avdb-bins.
set -u
LC_ALL=C ZUPD_KDF_COST=min
export LC_ALL ZUPD_KDF_COST
. "$(dirname "$0")/lib.sh"
test_init synckeep

jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/out" "$1"; }
listing() { (cd "$1" && find metadata targets blobs -type f -print0 | sort -z | xargs -0 sha256sum); }

# blobs_of ROLE/COMPONENT/VERSION...: "hash size" of every blob and delta the
# vendor's manifests of these releases name, sorted, unique
blobs_of() {
    python3 - "$work/repo" "$@" <<'PY'
import glob, json, sys
out = set()
for rel in sys.argv[2:]:
    for p in glob.glob("%s/targets/%s/*.manifest.json" % (sys.argv[1], rel)):
        for f in json.load(open(p))["files"]:
            out.add((f["blob"]["sha256"], f["blob"]["size"]))
            for d in f.get("deltas", []):
                out.add((d["sha256"], d["size"]))
for h, s in sorted(out):
    print(h, s)
PY
}
sum_sizes() { awk '{s += $2} END {print s + 0}' "$@"; }
mirror_blobs() { # "hash size" of the blobs in mirror DIR
    (cd "$1/blobs/sha256" && find . -type f -printf '%f %s\n' | sort)
}

# endpoint_conf NAME PORT ROLE COMPONENT CHANNEL
endpoint_conf() {
    cat > "$work/$1.conf" <<EOF2
mirrors = [ "http://127.0.0.1:$2/" ];
trusted_root = "$work/pinned-root.json";
state_dir = "$work/state-$1";
low_speed_time = 5;
components = (
  { name = "$4"; role = "$3"; channel = "$5"; install_path = "$work/opt-$1"; keep = 3; }
);
EOF2
}
make_db() { # make_db DIR SEED: an AV database of 30 text files (one changes per
    # seed) and a 100 KB binary one with a few bytes changed per seed (a delta)
    mkdir -p "$1"
    for i in $(seq 0 29); do
        if [ "$i" = 7 ]; then v=$2; else v=stable; fi
        python3 -c 'import sys; print(("sig %s %s\n" % (sys.argv[1], sys.argv[2])) * 300)' \
            "$i" "$v" > "$1/sig$i.db"
    done
    python3 - "$1/main.cvd" "$2" <<'PY'
import random, sys
b = bytearray(random.Random(1).randbytes(100_000))
r = random.Random(sys.argv[2])
for _ in range(4):
    i = r.randrange(len(b) - 8)
    b[i:i + 8] = r.randbytes(8)
open(sys.argv[1], "wb").write(b)
PY
}

start_repo || exit 1
UP="http://127.0.0.1:$PORT/"
cp "$work/repo/metadata/1.root.json" "$work/pinned-root.json"
for v in 1.0 2.0 3.0; do
    make_tree "$work/p$v" "$v" 40
    publish product "$v" "$work/p$v" || exit 1
done
promote product 2.0 stable && promote product 3.0 beta || exit 1
for v in 1 2 3 4 5 6; do make_db "$work/db$v" "$v"; done
for v in 1 2 3 4; do
    publish db-main "$v" "$work/db$v" avdb && promote db-main "$v" stable --role avdb || exit 1
done
SYNC="$MIRROR sync"
ENT=$work/ent

expect_rc 1 "--keep 0 is a usage error" $SYNC "$UP" "$ENT" --keep 0
expect_rc 1 "a bad channel name is a usage error" $SYNC "$UP" "$ENT" --channel ../x

# --- a full mirror, for comparison
expect_rc 0 "full sync (for comparison)" $SYNC "$UP" "$work/full" --root "$work/pinned-root.json" --json
full_bytes=$(jget bytes_fetched) full_blobs=$(jget blobs_fetched) full_targets=$(jget targets)
echo "  full mirror: $full_targets targets, $full_blobs blobs, $full_bytes bytes fetched"

# --- --channel stable: the releases stable names, with their blobs and deltas
blobs_of products/product/2.0 avdb/db-main/4 > "$work/want"
expect_rc 0 "sync --channel stable" $SYNC "$UP" "$ENT" --root "$work/pinned-root.json" \
    --channel stable --json
cat "$work/out"; echo
want_n=$(wc -l < "$work/want") want_bytes=$(sum_sizes "$work/want")
[ "$(jget targets)" = 4 ] && [ "$(jget targets_skipped)" = $((full_targets - 4)) ] &&
    ok "4 targets mirrored (2 stable pointers, product 2.0, db-main 4), $(jget targets_skipped) not" ||
    bad "targets: $(jget targets) mirrored, $(jget targets_skipped) skipped"
[ "$(jget blobs)" = "$want_n" ] && [ "$(jget blobs_fetched)" = "$want_n" ] &&
    [ "$(jget blob_bytes_fetched)" = "$want_bytes" ] &&
    ok "fetched exactly the $want_n blobs and deltas of the two releases ($want_bytes bytes)" ||
    bad "blobs: $(jget blobs_fetched) fetched ($(jget blob_bytes_fetched) bytes), want $want_n ($want_bytes)"
[ "$(mirror_blobs "$ENT")" = "$(cat "$work/want")" ] && ok "the mirror holds exactly those blobs" ||
    bad "the mirror's blobs differ from the releases' blobs"
echo "  filtered: $(jget bytes_fetched) bytes in $(jget requests) requests; full: $full_bytes bytes"
[ "$(jget bytes_fetched)" -lt "$full_bytes" ] && ok "the filtered sync transferred less than a full one" ||
    bad "the filtered sync transferred as much as a full one"
same=1
for f in "$ENT"/metadata/*; do
    cmp -s "$f" "$work/repo/metadata/$(basename "$f")" || { same=0; echo "  differs: $f"; }
done
[ "$same" = 1 ] && ok "every metadata file is the vendor's, byte for byte" || bad "metadata differs"
expect_rc 0 "the filtered mirror verifies" "$MIRROR" verify "$ENT" --root "$work/pinned-root.json"
grep -q "$((full_targets - 4)) targets not mirrored" "$work/out" && ok "verify: $(cat "$work/out")" ||
    bad "verify does not report what is not mirrored: $(cat "$work/out")"

# --- an enterprise policy pinned against the filtered mirror: only what it holds
expect_rc 0 "a policy repository" "$MIRROR" policy init "$work/policy" --keys "$work/pkeys" --same-passphrase
expect_rc 0 "pin product 2.0 (mirrored) --vendor the filtered mirror" "$MIRROR" policy pin \
    product 2.0 --channel stable --vendor "$ENT" -C "$work/policy" --keys "$work/pkeys"
expect_rc 25 "pin product 3.0 (signed, not mirrored) is refused" "$MIRROR" policy pin \
    product 3.0 --channel stable --vendor "$ENT" -C "$work/policy" --keys "$work/pkeys"
grep -q "not mirrored" "$work/err" && ok "the refusal says it is not mirrored" ||
    bad "refusal: $(cat "$work/err")"

# --- endpoints on the filtered mirror
serve_tree "$ENT" || exit 1
EPORT=$SPORT
endpoint_conf prod "$EPORT" products product stable
endpoint_conf db "$EPORT" avdb db-main stable
endpoint_conf beta "$EPORT" products product beta
expect_rc 0 "an endpoint installs product 2.0 (stable) from the filtered mirror" "$ZUPD" --config "$work/prod.conf" update
diff -r "$work/p2.0" "$work/opt-prod/" > /dev/null 2>&1 && ok "endpoint holds 2.0" || bad "endpoint not on 2.0"
expect_rc 0 "an endpoint installs db-main 4 from the filtered mirror" "$ZUPD" --config "$work/db.conf" update
diff -r "$work/db4" "$work/opt-db/" > /dev/null 2>&1 && ok "endpoint holds db-main 4" || bad "endpoint not on db-main 4"
"$ZUPD" --config "$work/beta.conf" update > "$work/out" 2> "$work/err"; rc=$?
[ "$rc" != 0 ] && [ ! -e "$work/opt-beta" ] &&
    ok "an endpoint on the unmirrored channel beta installs nothing (exit $rc: $(head -c 150 "$work/err"))" ||
    bad "the beta endpoint: exit $rc"

# --- one new AV database release: only the new metadata, pointer, manifest, blobs
listing "$work/repo" | sort > "$work/vendor-before"
publish db-main 5 "$work/db5" avdb && promote db-main 5 stable --role avdb || exit 1
listing "$work/repo" | sort > "$work/vendor-after"
new_meta_bytes=$(cd "$work/repo" && comm -13 "$work/vendor-before" "$work/vendor-after" |
    awk '{print $2}' | grep -e '^metadata/' -e '^targets/' | grep -v '^metadata/root.json$' |
    xargs stat -c %s | awk '{s+=$1} END {print s}')
blobs_of avdb/db-main/5 > "$work/b5"
blobs_of avdb/db-main/4 > "$work/b4"
comm -23 "$work/b5" "$work/b4" > "$work/b5new"
comm -13 "$work/b5" "$work/b4" > "$work/b4gone"
listing "$ENT" > "$work/ent-before"
expect_rc 0 "incremental sync --channel stable after db-main 5" $SYNC "$UP" "$ENT" --channel stable --json
cat "$work/out"; echo
n5=$(wc -l < "$work/b5new") b5=$(sum_sizes "$work/b5new")
echo "  db-main 5 names $(wc -l < "$work/b5") blobs, $n5 new ($b5 bytes); new metadata and targets: $new_meta_bytes bytes"
[ "$(jget targets_fetched)" = 2 ] && [ "$(jget blobs_fetched)" = "$n5" ] &&
    [ "$(jget blob_bytes_fetched)" = "$b5" ] &&
    [ "$(jget bytes_fetched)" -le $((new_meta_bytes + b5)) ] &&
    ok "incremental: the pointer, the manifest and $n5 new blobs; $(jget bytes_fetched) bytes <= $((new_meta_bytes + b5))" ||
    bad "incremental sync fetched more than the release"
python3 - "$work/out" <<'PY' && ok "removed: db-main 4 and the old pointer" || bad "removed_targets"
import json, sys
d = json.load(open(sys.argv[1]))
print("  removed:", d["removed_targets"], d["blobs_removed"], "blobs", d["bytes_removed"], "bytes")
assert sorted(d["removed_targets"]) == ["avdb/db-main/4/manifest.json", "avdb/db-main/channels/stable.json"]
PY
[ "$(jget blobs_removed)" = "$(wc -l < "$work/b4gone")" ] &&
    [ "$(mirror_blobs "$ENT")" = "$( (blobs_of products/product/2.0 avdb/db-main/5) )" ] &&
    ok "the $(jget blobs_removed) blobs only db-main 4 named are gone; the mirror holds exactly the kept releases' blobs" ||
    bad "blobs after the incremental sync"
expect_rc 0 "the mirror verifies after the removal" "$MIRROR" verify "$ENT"
expect_rc 0 "the AV endpoint updates 4 -> 5 from the filtered mirror" "$ZUPD" --config "$work/db.conf" --json update
python3 - "$work/out" <<'PY' && ok "db-main 5 came by delta" || bad "db-main 5 not by delta"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
print("  db-main 5: %(files)d files, %(unchanged)d unchanged, %(by_delta)d by delta, %(whole)d whole, %(downloaded)d of %(full_size)d bytes" % c)
assert c["to"] == "5" and c["by_delta"] == 1 and c["downloaded"] * 20 < c["full_size"]
PY
diff -r "$work/db5" "$work/opt-db/" > /dev/null 2>&1 && ok "endpoint holds db-main 5" || bad "endpoint not on db-main 5"

# --- --keep 2: the two newest releases of each component as well
publish db-main 6 "$work/db6" avdb && promote db-main 6 stable --role avdb || exit 1
expect_rc 0 "sync --channel stable --keep 2" $SYNC "$UP" "$ENT" --channel stable --keep 2 --json
cat "$work/out"; echo
blobs_of products/product/2.0 products/product/3.0 avdb/db-main/5 avdb/db-main/6 > "$work/want"
python3 - "$work/out" <<'PY' && ok "--keep 2: product 3.0 and db-main 6 fetched, nothing removed but the old pointer" || bad "--keep 2 report"
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d["new_targets"]) == ["avdb/db-main/6/manifest.json", "avdb/db-main/channels/stable.json",
                                    "products/product/3.0/manifest.json"], d["new_targets"]
assert d["removed_targets"] == ["avdb/db-main/channels/stable.json"], d["removed_targets"]
assert d["targets"] == 6 and d["blobs_removed"] == 0
PY
[ "$(mirror_blobs "$ENT")" = "$(cat "$work/want")" ] && ok "the mirror holds the blobs of 2.0, 3.0, 5, 6" ||
    bad "blobs after --keep 2"
expect_rc 0 "the mirror verifies" "$MIRROR" verify "$ENT"

# --- an existing full mirror switched to --keep 1: the rest goes after the switch
expect_rc 0 "sync the full mirror" $SYNC "$UP" "$work/full" --json
expect_rc 0 "sync the full mirror with --keep 1" $SYNC "$UP" "$work/full" --keep 1 --json
blobs_of products/product/2.0 products/product/3.0 avdb/db-main/6 > "$work/want"
echo "  removed $(jget targets_removed) targets, $(jget blobs_removed) blobs, $(jget bytes_removed) bytes; fetched $(jget bytes_fetched) bytes"
[ "$(jget blobs_fetched)" = 0 ] && [ "$(mirror_blobs "$work/full")" = "$(cat "$work/want")" ] &&
    ok "--keep 1 (plus every channel's release: product 2.0 stable, 3.0 beta): the other blobs removed, nothing fetched" ||
    bad "the full mirror after --keep 1"
expect_rc 0 "it verifies" "$MIRROR" verify "$work/full"

# --- a crash at every step of a sync that adds a release and removes one
publish db-main 7 "$work/db1" avdb && promote db-main 7 stable --role avdb || exit 1
rm -rf "$work/crash-base"; cp -a "$ENT" "$work/crash-base"
steps=$(ZUPD_MIRROR_CRASH_TRACE=1 $SYNC "$UP" "$work/crash-base" --channel stable --keep 2 2>&1 > /dev/null |
    grep -c 'step [0-9]*:')
rm -rf "$work/crash-base"; cp -a "$ENT" "$work/crash-base"
unlinks=$(ZUPD_MIRROR_CRASH_TRACE=1 $SYNC "$UP" "$work/crash-base" --channel stable --keep 2 2>&1 > /dev/null |
    grep -c 'step [0-9]*: unlink')
rm -rf "$work/crash-base"; cp -a "$ENT" "$work/crash-base"
n=1 crash_bad=0
while [ "$n" -le "$steps" ]; do
    rm -rf "$work/ent-crash"; cp -a "$work/crash-base" "$work/ent-crash"
    (ZUPD_MIRROR_CRASH_AT=$n $SYNC "$UP" "$work/ent-crash" --channel stable --keep 2; true) > /dev/null 2>&1
    if ! "$MIRROR" verify "$work/ent-crash" > "$work/verify.out" 2>&1; then
        crash_bad=$((crash_bad + 1)); echo "  crash at step $n:"; cat "$work/verify.out"
    fi
    $SYNC "$UP" "$work/ent-crash" --channel stable --keep 2 > /dev/null 2>&1 &&
        "$MIRROR" verify "$work/ent-crash" > /dev/null 2>&1 &&
        [ "$(mirror_blobs "$work/ent-crash")" = "$(blobs_of products/product/2.0 products/product/3.0 avdb/db-main/6 avdb/db-main/7)" ] ||
        { crash_bad=$((crash_bad + 1)); echo "  crash at step $n: the next sync did not finish"; }
    n=$((n + 1))
done
[ "$unlinks" -gt 0 ] && [ "$crash_bad" = 0 ] &&
    ok "crash at each of $steps steps ($unlinks removals): the mirror verifies, the next sync completes" ||
    bad "crash steps ($steps, $unlinks removals): $crash_bad failures"

# --- hash bins (TAP 15): the avdb role delegates to 16 bins; sync walks them
B=$work/binrepo
"$MIRROR" init "$B" --keys "$work/binkeys" --same-passphrase --avdb-bins 4 > "$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
bpub() { "$MIRROR" "$@" -C "$B" --keys "$work/binkeys" > "$work/publish.log" 2>&1 || { cat "$work/publish.log"; exit 1; }; }
bpub publish db-main 1 "$work/db1" db-x 1 "$work/db2" --role avdb
bpub promote db-main 1 --channel stable --role avdb
cp "$B/metadata/1.root.json" "$work/bin-root.json"
serve_tree "$B" || exit 1
BUP="http://127.0.0.1:$SPORT/"
expect_rc 0 "sync a repository with 16 hash bins" $SYNC "$BUP" "$work/entb" --root "$work/bin-root.json" --json
[ "$(jget roles)" = 19 ] && [ "$(jget targets)" = 3 ] &&
    ok "every bin walked: $(jget roles) roles, $(jget targets) targets, $(jget blobs) blobs" ||
    bad "bins: $(jget roles) roles, $(jget targets) targets"
expect_rc 0 "the bin mirror verifies" "$MIRROR" verify "$work/entb" --root "$work/bin-root.json"
same=1
for f in "$work/entb"/metadata/*.json; do
    cmp -s "$f" "$B/metadata/$(basename "$f")" || { same=0; echo "  differs: $f"; }
done
[ "$same" = 1 ] && [ "$(ls "$work/entb/metadata" | grep -c '^[0-9]*\.avdb-bin-[0-9a-f]\.json$')" = 16 ] &&
    ok "the current version of each of the 16 bins is mirrored byte for byte" || bad "bin metadata"
bpub publish db-main 2 "$work/db2" --role avdb
bpub promote db-main 2 --channel stable --role avdb
expect_rc 0 "incremental sync of the bin repository" $SYNC "$BUP" "$work/entb" --channel stable --json
echo "  incremental: $(jget metadata_written) metadata files, $(jget targets_fetched) targets, $(jget blobs_fetched) blobs, $(jget bytes_fetched) bytes; removed $(jget removed_targets)"
[ "$(jget targets_fetched)" = 2 ] && [ "$(jget metadata_written)" -le 6 ] &&
    ok "only the changed bins, the snapshot, the timestamp, the pointer and the manifest" ||
    bad "incremental bin sync: $(cat "$work/out")"
expect_rc 0 "the filtered bin mirror verifies" "$MIRROR" verify "$work/entb" --root "$work/bin-root.json"
serve_tree "$work/entb" || exit 1
sed -e "s|127.0.0.1:[0-9]*/|127.0.0.1:$SPORT/|" -e "s|$work/pinned-root.json|$work/bin-root.json|" \
    -e "s|state-db|state-bindb|" -e "s|opt-db|opt-bindb|" "$work/db.conf" > "$work/bindb.conf"
expect_rc 0 "an endpoint installs db-main 2 through the bins, from the mirror" "$ZUPD" --config "$work/bindb.conf" update
diff -r "$work/db2" "$work/opt-bindb/" > /dev/null 2>&1 && ok "endpoint holds db-main 2" || bad "endpoint not on db-main 2"

finish sync_keep
