#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/chain_mem.sh -- `make bench`: peak memory of an update through
# delta chains of big releases (issue 14: a chain holds one intermediate
# manifest at a time, or only what the plan needs of it). Releases of
# BENCH_CHAIN_FILES files (default 60000; zupd.conf's manifest cap is
# 64 MiB) where only bin/app changes, published with deltas from the last
# release only; the endpoint installs 1.0, then updates to 5.0 through a
# chain 1.0 -> ... -> 5.0 read from a file:// mirror. Prints the update's
# peak RSS next to the biggest manifest's size. ZUPD_BASE=PATH/zupd adds the
# same update by that build (its own state, installed by it), for a ratio
# measured in the same run.
set -euo pipefail
top_builddir=${top_builddir:-$(pwd)}
M=$top_builddir/mirror/zupd-mirror
Z=$top_builddir/updater/zupd
N=${BENCH_CHAIN_FILES:-60000}
[ -x "$M" ] && [ -x "$Z" ] || { echo "chain_mem.sh: build first" >&2; exit 1; }
# hundreds of thousands of small files: on tmpfs when there is one
tmp=${TMPDIR:-$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo /tmp)}
W=$(mktemp -d "$tmp/zupd-bench.XXXXXX"); trap 'rm -rf "$W"' EXIT
export ZUPD_KDF_COST=min ZUPD_PASSPHRASE=bench
"$M" init "$W/repo" --keys "$W/keys" --same-passphrase >/dev/null
for v in 1 2 3 4 5; do
    # the small files once, in the tree publish reads; bin/app anew each time
    python3 - "$W/tree" "$v" "$N" <<'PY'
import os, random, sys
d, v, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d + "/bin", exist_ok=True)
blob = bytearray(random.Random(1).randbytes(1 << 20))
r = random.Random(v)
for _ in range(50 * v):
    i = r.randrange(len(blob) - 8)
    blob[i:i + 8] = r.randbytes(8)
open(d + "/bin/app", "wb").write(blob)
for k in range(n if v == 1 else 0):
    sub = "%s/share/%03d" % (d, k // 1000)
    if k % 1000 == 0:
        os.makedirs(sub)
    open("%s/f%06d.txt" % (sub, k), "w").write("file %d\n" % k)
PY
    "$M" publish product "$v.0" "$W/tree" --deltas 1 -C "$W/repo" --keys "$W/keys" >/dev/null
    [ "$v" = 1 ] && "$M" promote product 1.0 --channel stable -C "$W/repo" --keys "$W/keys" >/dev/null
done
conf() { # conf STATE INSTALL
    cat >"$W/$1.conf" <<EOF2
mirrors = [ "file://$W/repo/" ];
trusted_root = "$W/repo/metadata/1.root.json";
state_dir = "$W/$1";
components = ( { name = "product"; role = "products"; channel = "stable";
                 install_path = "$W/$2"; keep = 2; } );
EOF2
}
conf state opt
"$Z" --config "$W/state.conf" update >/dev/null
if [ -n "${ZUPD_BASE:-}" ]; then
    conf state-base opt-base
    "$ZUPD_BASE" --config "$W/state-base.conf" update >/dev/null
fi
"$M" promote product 5.0 --channel stable -C "$W/repo" --keys "$W/keys" >/dev/null
mbytes=$(stat -c %s "$(ls "$W"/repo/targets/products/product/5.0/*.manifest.json)")
run() { # run LABEL ZUPD STATE INSTALL
    /usr/bin/time -f %M -o "$W/rss" "$2" --config "$W/$3.conf" --json update >"$W/out"
    python3 - "$W/out" "$1" "$(cat "$W/rss")" "$mbytes" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
assert c["by_chain"] >= 1, "no chain"
kib, mb = int(sys.argv[3]), int(sys.argv[4])
print("%-6s %8d files  manifest %6.1f MB  by chain %d  peak %7.1f MB  %5.2fx the manifest"
      % (sys.argv[2], c["files"], mb / 1e6, c["by_chain"], kib * 1024 / 1e6, kib * 1024 / mb))
PY
}
[ -n "${ZUPD_BASE:-}" ] && run base "$ZUPD_BASE" state-base opt-base
run zupd "$Z" state opt
