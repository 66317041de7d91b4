#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/bench/update_apply.sh -- issue 6's benchmark: `zupd update` of a
# 100 MB file by delta (zupd-mirror publish + serve on 127.0.0.1), against
# the I/O floor measured in the same run: read the old file, write the new
# one, sha256 it, fsync it. Also an idle `zupd update`: requests and CPU.
#   APPLY_MB  size of the file (default 100)
#   REPS      rounds (default 7): each round measures the floor, then the
#             update from the same starting state; medians are reported
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
mb=${APPLY_MB:-100}
reps=${REPS:-7}
. "$top_srcdir/tests/integration/lib.sh"
test_init bench-apply
start_repo

python3 - "$work" "$mb" <<'PY'
import os, random, sys
w, mb = sys.argv[1], int(sys.argv[2])
r = random.Random(5)
data = bytearray(r.randbytes(mb << 20))
for v in ("1.0", "2.0"):
    os.makedirs("%s/v%s/bin" % (w, v), exist_ok=True)
    with open("%s/v%s/bin/big" % (w, v), "wb") as f:
        f.write(data)
    for _ in range(2000):           # scattered changes, as a rebuild makes them
        i = r.randrange(len(data) - 16)
        data[i:i + 16] = r.randbytes(16)
PY
t0=$(date +%s.%N)
publish product 1.0 "$work/v1.0" && promote product 1.0 stable
t1=$(date +%s.%N)
publish product 2.0 "$work/v2.0"
t2=$(date +%s.%N)
write_conf
"$ZUPD" --config "$work/zupd.conf" --quiet update
promote product 2.0 stable
cp -a "$work/state" "$work/state.base" # 1.0 installed: where every round starts

# the I/O floor, same machine, same run
floor() {
    python3 - "$work/v1.0/bin/big" "$work/v2.0/bin/big" "$work/floor.out" <<'PY'
import hashlib, os, sys, time
old, new, out = sys.argv[1:4]
t = time.monotonic()
with open(old, "rb") as f:
    while f.read(1 << 20):
        pass
h = hashlib.sha256()
with open(new, "rb") as src, open(out, "wb") as dst:
    while True:
        b = src.read(1 << 20)
        if not b:
            break
        h.update(b)
        dst.write(b)
    dst.flush()
    os.fsync(dst.fileno())
print("%.3f" % (time.monotonic() - t))
PY
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
: > "$work/floors"
: > "$work/walls"
: > "$work/rss"
for round in $(seq "$reps"); do
    rm -rf "$work/state" && cp -a "$work/state.base" "$work/state"
    sync
    floor >> "$work/floors"
    /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$ZUPD" --config "$work/zupd.conf" --json update > "$work/upd.json"
    read -r wall rss usr sys < "$work/time"
    echo "$wall" >> "$work/walls"
    echo "$rss" >> "$work/rss"
done
f=$(median < "$work/floors")
wall=$(median < "$work/walls")
rss=$(sort -n "$work/rss" | tail -n 1)
python3 - "$work/upd.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
print("update 1.0 -> 2.0: %(action)s, %(by_delta)d by delta, %(whole)d whole, "
      "downloaded %(downloaded)d of %(full_size)d bytes" % c)
PY
printf 'publish 1.0: %.1f s, publish 2.0 (with delta): %.1f s\n' \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
echo "I/O floor (read old, write+sha256+fsync new), median of $reps: ${f} s ($(tr '\n' ' ' < "$work/floors"))"
echo "zupd update by delta, median of $reps: ${wall} s wall ($(tr '\n' ' ' < "$work/walls")), peak RSS $((rss / 1024)) MiB (old file $mb MiB), ratio $(echo "scale=2; $wall / $f" | bc)"
/usr/bin/time -f '%e %U %S' -o "$work/time" "$ZUPD" --config "$work/zupd.conf" --json update > "$work/idle.json"
read -r iwall iusr isys < "$work/time"
python3 - "$work/idle.json" "$iusr" "$isys" "$iwall" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("idle zupd update: %d requests, %d bytes, %.0f ms CPU (%.0f ms wall)" %
      (d["requests"], d["bytes"], 1000 * (float(sys.argv[2]) + float(sys.argv[3])),
       1000 * float(sys.argv[4])))
PY
