#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_parallel.sh -- parallel downloads: the same
# updates with `parallel = 1` and `parallel = 4` give the same trees and the
# same bytes; the parallel endpoint used several connections at once. The
# endpoints go through a server that answers each blob after 20 ms (as a
# distant mirror would), so that transfers overlap whatever the machine's
# load: without the delay a tiny blob may be done before the next transfer
# looks for a connection, and one connection serves them all.
set -u
. "$(dirname "$0")/lib.sh"
test_init parallel
# start_slow: the fixture server over $work, blobs answered after 20 ms;
# the repository is at $SLOW_URL
start_slow() {
    printf '[{"path":"repo/blobs/*","mode":"delay","delay":0.02}]\n' >"$work/slow-rules.json"
    start_fixture slow repo "$work" "$work/slow-rules.json" || return 1
    SLOW_URL=http://127.0.0.1:$slow_port/slow/repo/
}

publish_k() { # publish_k K VERSION DIR
    "$MIRROR" publish product "$2" "$3" --deltas "$1" -C "$work/repo" --keys "$work/keys" \
        > "$work/publish.log" 2>&1 || { cat "$work/publish.log"; return 1; }
}
conf_for() { # conf_for NAME PARALLEL: $work/NAME.conf, state and install path of its own
    sed "s|$work/state|$work/state-$1|; s|$work/opt-product|$work/opt-$1|" "$work/zupd.conf" \
        > "$work/$1.conf"
    echo "parallel = $2;" >> "$work/$1.conf"
}
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$work/out" "$1"; }

start_repo || exit 1
make_tree "$work/v1" 1.0 60
make_tree "$work/v2" 2.0 60
# every data file changes in 2.0 (no deltas: --deltas 0), so 2.0 is many blobs
for f in "$work/v2"/share/data/*; do echo "changed" >> "$f"; done
publish_k 0 1.0 "$work/v1" && promote product 1.0 stable || exit 1
start_slow || exit 1
write_conf
sed -i "s|http://127.0.0.1:$PORT/|$SLOW_URL|" "$work/zupd.conf"
conf_for one 1
conf_for four 4

for rel in 1 2; do
    [ "$rel" = 2 ] && { publish_k 0 2.0 "$work/v2" && promote product 2.0 stable || exit 1; }
    for ep in one four; do
        expect_rc 0 "$ep: update to $rel.0" $ZUPD --config "$work/$ep.conf" --json update
        diff -r "$work/v$rel" "$work/opt-$ep/" > /dev/null && ok "$ep: install path holds $rel.0" \
            || bad "$ep: install path is not $rel.0"
        eval "${ep}_bytes=$(json 'd["components"][0]["downloaded"]')"
        eval "${ep}_conns=$(json 'd["connections"]')"
        eval "${ep}_whole=$(json 'd["components"][0]["whole"]')"
    done
    echo "  $rel.0: parallel 1: $one_whole blobs, $one_bytes bytes, $one_conns connections;" \
        "parallel 4: $four_whole blobs, $four_bytes bytes, $four_conns connections"
    [ "$one_bytes" = "$four_bytes" ] && [ "$one_whole" = "$four_whole" ] \
        && ok "$rel.0: the same downloads either way" || bad "$rel.0: downloads differ"
    [ "$four_whole" -gt 4 ] && [ "$four_conns" -gt "$one_conns" ] \
        && ok "$rel.0: downloads ran in parallel (more connections)" \
        || bad "$rel.0: no parallel downloads"
done
# one run, two components: the first (two blobs) needs fewer handles than the second,
# so the handle pool grows between them (its handles must not move: libcurl
# holds their addresses; a realloc of the pool was a use after free)
mkdir -p "$work/small/bin" && echo small > "$work/small/bin/tool" && echo helper > "$work/small/bin/helper"
"$MIRROR" publish small 1.0 "$work/small" -C "$work/repo" --keys "$work/keys" > "$work/publish.log" 2>&1 &&
    promote small 1.0 stable || { cat "$work/publish.log"; exit 1; }
conf_for mix 4
sed -i "s|^components = (|components = (\n  { name = \"small\"; role = \"products\"; channel = \"stable\"; install_path = \"$work/opt-small\"; keep = 2; },|" "$work/mix.conf"
expect_rc 0 "mix: two components in one run, the pool grows" $ZUPD --config "$work/mix.conf" update
diff -r "$work/v2" "$work/opt-mix/" > /dev/null && [ "$(cat "$work/opt-small/bin/tool")" = small ] &&
    ok "mix: both components installed" || bad "mix: trees differ"
expect_rc 0 "verify (parallel 4)" $ZUPD --config "$work/four.conf" verify
# only verified manifests (t-*) stay in the cache
ls "$work/state-four/cache" | grep -v '^t-' | grep -q . && bad "blobs left in the cache" \
    || ok "the cache holds no blob after the install"

finish update_parallel
