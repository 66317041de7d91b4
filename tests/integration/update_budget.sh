#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_budget.sh -- a slow mirror costs an update at most
# its time budget (issue 14): the first mirror stalls on every blob (the
# fixture server's "stall" rule), each stall costs low_speed_time, and with
# one download at a time the wait grew as files x low_speed_time. With
# mirror_time_budget = 3 the first mirror is dropped after about 3 s and
# the update completes from the second mirror within a bound.
set -u
. "$(dirname "$0")/lib.sh"
need python3
test_init budget

init_repo || exit 1
start_fixture srv repo "$work" || exit 1
make_tree "$work/v1" 1.0 30
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
printf '[{"mirror": "slow", "path": "repo/blobs/*", "mode": "stall", "seconds": "60"}]\n' \
    >"$work/rules.json"
cat >"$work/zupd.conf" <<EOF2
mirrors = [ "http://127.0.0.1:$srv_port/slow/repo/", "http://127.0.0.1:$srv_port/good/repo/" ];
trusted_root = "$work/repo/metadata/1.root.json";
state_dir = "$work/state";
low_speed_time = 2;
low_speed_limit = 1024;
parallel = 1;
mirror_time_budget = 3;
components = ( { name = "product"; role = "products"; channel = "stable";
                 install_path = "$work/opt-product"; } );
EOF2
nblobs=$(find "$work/repo/blobs" -type f | wc -l)
t0=$(date +%s)
expect_rc 0 "update with a stalling first mirror" $ZUPD --config "$work/zupd.conf" update
el=$(($(date +%s) - t0))
tree_is "$work/v1" && ok "1.0 installed" || bad "install path is not 1.0"
# without the budget: one stall of low_speed_time (2 s) per blob
echo "  $nblobs blobs; $el s (without a budget at least $((nblobs * 2)) s)"
[ "$el" -le 20 ] && ok "done in $el s (bound 20 s)" || bad "took $el s (bound 20 s)"
slow=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$srv_port/_log').read().decode())" |
    grep -c '^slow repo/blobs/')
[ "$slow" -le 3 ] && ok "the slow mirror was asked for $slow blobs" || bad "the slow mirror was asked for $slow blobs"
check "the log says the mirror used its budget" "$(cat "$work/err")" \
    "mirror 'http://127.0.0.1:$srv_port/slow/repo/' used its time budget \(3 s\)"
finish
