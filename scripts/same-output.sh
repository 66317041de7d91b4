#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/same-output.sh -- do two builds of zupd-mirror write the same bytes?
# For a change that must not change output (a restructure, a speed-up):
#   scripts/same-output.sh OLD/zupd-mirror NEW/zupd-mirror [CORPUS]
# (1) Repository: the same keys, clock (ZUPD_MIRROR_NOW) and inputs through
#     init, publish (blobs, deltas, avdb bins), promote, a rollback, refresh;
#     every file of the two trees compared (diff -r).
# (2) Deltas: on every pair *.old/*.new of CORPUS (the bench corpus of
#     tests/bench/delta.sh; skipped when not given), a patch made by each
#     build at levels LEVELS (default "19 22"), compared with cmp, and each
#     patch applied by the other build and compared with the new file.
# Prints one line per check and "N identical, N differ"; exit 1 on any
# difference. Writes only under a temporary directory, removed at the end.
set -eu
OLD=$1 NEW=$2 CORPUS=${3:-}
W=$(mktemp -d "${TMPDIR:-/tmp}/zupd-same.XXXXXX")
trap 'rm -rf "$W"' EXIT
same=0 differ=0
check() { # check LABEL: exit status of the previous compare in $?
    if [ "$2" = 0 ]; then same=$((same + 1)); echo "identical: $1"
    else differ=$((differ + 1)); echo "DIFFER: $1"; fi
}

export ZUPD_PASSPHRASE=same-output ZUPD_KDF_COST=min ZUPD_MIRROR_NOW=1767830400
in=$W/in
mkdir -p "$in/bin" "$in/share"
# deterministic inputs: the same bytes for both builds
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "%08x line %d\n", (i * 2654435761) % 4294967296, i }' \
    >"$in/bin/app"
seq 1 50000 >"$in/share/f1"
echo a >"$in/share/f2"
for v in old new; do
    if [ $v = old ]; then B=$OLD; else B=$NEW; fi
    R=$W/$v
    mkdir -p "$R"
    [ -d "$W/keys" ] && cp -a "$W/keys" "$R/keys"
    "$B" init "$R/repo" --keys "$R/keys" --same-passphrase --avdb-bins 2 >/dev/null
    [ -d "$W/keys" ] || cp -a "$R/keys" "$W/keys" # the new build signs with the same keys
    "$B" publish app 1.0 "$in" -C "$R/repo" --keys "$R/keys" --source-revision git:1 \
        --builder ci >/dev/null
    cp "$in/bin/app" "$W/app.keep"
    printf 'x' | dd of="$in/bin/app" bs=1 seek=1000 conv=notrunc 2>/dev/null
    seq 1 50100 >"$in/share/f1"
    "$B" publish app 1.1 "$in" -C "$R/repo" --keys "$R/keys" >/dev/null
    "$B" publish sigs 1 "$in/share/f1" --role avdb -C "$R/repo" --keys "$R/keys" >/dev/null
    "$B" promote app 1.1 --channel stable -C "$R/repo" --keys "$R/keys" >/dev/null
    "$B" promote app 1.0 --channel stable --rollback -C "$R/repo" --keys "$R/keys" >/dev/null
    "$B" refresh -C "$R/repo" --keys "$R/keys" >/dev/null
    cp "$W/app.keep" "$in/bin/app"
    seq 1 50000 >"$in/share/f1"
done
rc=0; diff -r --exclude=lock "$W/old/repo" "$W/new/repo" >"$W/diff" || rc=$?
check "repository ($(find "$W/new/repo" -type f | wc -l) files)" $rc
[ $rc = 0 ] || head -n 20 "$W/diff"

if [ -n "$CORPUS" ]; then
    for o in "$CORPUS"/*.old; do
        p=$(basename "$o" .old)
        n=$CORPUS/$p.new
        [ -f "$n" ] || continue
        for lv in ${LEVELS:-19 22}; do
            "$OLD" delta create "$o" "$n" "$W/p.old" --level "$lv" >/dev/null
            "$NEW" delta create "$o" "$n" "$W/p.new" --level "$lv" >/dev/null
            rc=0; cmp -s "$W/p.old" "$W/p.new" || rc=1
            "$OLD" delta apply "$o" "$W/p.new" "$W/out" >/dev/null && cmp -s "$W/out" "$n" || rc=1
            "$NEW" delta apply "$o" "$W/p.old" "$W/out" >/dev/null && cmp -s "$W/out" "$n" || rc=1
            check "delta $p level $lv ($(wc -c <"$W/p.new") bytes)" $rc
        done
    done
fi
echo "$same identical, $differ differ"
[ "$differ" = 0 ]
