#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/manifest_mem.sh -- `make bench`: peak memory of parsing a
# release manifest of N files, against the manifest's size (issue 14's goal:
# under 4x the manifest; docs/internals/store.md). The manifests are made
# here in zupd's format (one blob and two deltas a file, paths of a deep
# tree), BENCH_MANIFEST_FILES (default "10000 70000 280000") files each.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(pwd)}
P=$top_builddir/tests/bench/manifest_mem
[ -x "$P" ] || { echo "manifest_mem.sh: build first ($P missing)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/zupd-bench.XXXXXX"); trap 'rm -rf "$W"' EXIT
printf '%-10s %12s %12s %12s %8s\n' files "manifest B" "file KiB" "parse KiB" ratio
for n in ${BENCH_MANIFEST_FILES:-10000 70000 280000}; do
    python3 - "$n" "$W/m.json" <<'PY'
import hashlib, json, sys
n, out = int(sys.argv[1]), sys.argv[2]
h = lambda *a: hashlib.sha256(repr(a).encode()).hexdigest()
files = []
for i in range(n):
    p = "usr/share/app/%03d/%03d/file-%07d.dat" % (i // 10000, (i // 100) % 100, i)
    files.append({"path": p, "mode": 420, "size": 4096 + i, "sha256": h(i),
                  "blob": {"encoding": "zstd", "sha256": h(i, "b"), "size": 2048 + i},
                  "deltas": [{"from_sha256": h(i, "o", k), "method": "bsdiff",
                              "sha256": h(i, "d", k), "size": 100 + k} for k in range(2)]})
files.sort(key=lambda f: f["path"])
doc = {"zupd_manifest": 1, "component": "big", "role": "products", "version": "1.0",
       "created": "2026-01-01T00:00:00Z", "provenance": {}, "files": files}
open(out, "w").write(json.dumps(doc, sort_keys=True, separators=(",", ":")))
PY
    read -r size nf before after < <("$P" "$W/m.json")
    parse=$((after - before))
    printf '%-10s %12s %12s %12s %7.2fx\n' "$nf" "$size" "$before" "$parse" \
        "$(echo "$parse * 1024 / $size" | bc -l)"
done
