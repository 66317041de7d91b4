#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/tlog_endpoint.sh -- `make bench`: what the transparency-log
# check costs a real zupd per update (docs/transparency.md, issue 16's goal:
# at most 2 extra requests and 8 KiB at 1,000,000 entries), at
# BENCH_TLOG_SIZES entries (default "1000 1000000"). A real repository
# (zupd-mirror init, publish, promote) whose log tlog_fill grows to the size,
# served by zupd-mirror serve on 127.0.0.1; two endpoints update side by
# side, one with the log group in zupd.conf and one without, and the
# difference of their requests and bytes (zupd --json update) is the log's:
# the first install (no tile cached, no checkpoint stored), the next
# update (two entries later), and an idle update.
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/integration/lib.sh"
FILL=$top_builddir/tests/bench/tlog_fill
[ -x "$FILL" ] || { echo "tlog_endpoint.sh: build first ($FILL missing)" >&2; exit 1; }
test_init tlog-endpoint-bench
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS

pub() { # pub REPO VERSION
    echo "$2" >"$work/in/a"
    "$MIRROR" publish app "$2" "$work/in" -C "$1" --keys "$work/keys-$n" >/dev/null &&
        "$MIRROR" promote app "$2" --channel stable -C "$1" --keys "$work/keys-$n" >/dev/null
}
conf() { # conf NAME [LOG]
    cat >"$work/$1.conf" <<EOF2
mirrors = [ "http://127.0.0.1:$SPORT/" ];
trusted_root = "$R/metadata/1.root.json";
state_dir = "$work/state-$1";
log_syslog = false;
components = ( { name = "app"; role = "products"; channel = "stable"; install_path = "$work/opt-$1"; } );
${2:-}
EOF2
}
cost() { # cost NAME: "requests bytes" of one update
    "$ZUPD" --config "$work/$1.conf" --json update >"$work/$1.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["requests"], d["bytes"])' "$work/$1.json"
}
diff_line() { # diff_line WHAT
    read -r lr lb <<<"$(cost log)"
    read -r pr pb <<<"$(cost plain)"
    printf '  %-44s log: %2d requests %8d bytes; without: %2d requests %8d bytes; extra: %d requests, %d bytes\n' \
        "$1" "$lr" "$lb" "$pr" "$pb" $((lr - pr)) $((lb - pb))
}

mkdir -p "$work/in"
for n in ${BENCH_TLOG_SIZES:-1000 1000000}; do
    echo "--- log of $n entries"
    R=$work/repo-$n
    "$MIRROR" init "$R" --keys "$work/keys-$n" --same-passphrase >/dev/null 2>&1
    pub "$R" 1.0
    t0=$(date +%s.%N)
    "$FILL" "$R" "$work/keys-$n" $((n - $(sed -n 2p "$R/log/checkpoint") - 2))
    printf '  filled to %s entries in %.1f s (the release makes it %s)\n' "$(sed -n 2p "$R/log/checkpoint")" \
        "$(echo "$(date +%s.%N) - $t0" | bc)" "$n"
    pub "$R" 2.0
    serve_tree "$R"
    conf plain
    conf log "log = { key = \"$(cat "$R/log/vkey")\"; };"
    diff_line "first install (nothing cached or stored)"
    pub "$R" 3.0
    diff_line "next update (two entries later)"
    diff_line "idle (nothing new)"
    printf '  tile cache after two updates: %s files, %s bytes\n' \
        "$(find "$work/state-log/log/tiles" -type f | wc -l)" \
        "$(find "$work/state-log/log/tiles" -type f -exec cat {} + | wc -c)"
    rm -rf "$R" "$work"/state-* "$work"/opt-*
done
