#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/publish.sh -- zupd-mirror publish of an AV database: 1,000
# files, then releases in which 10 files change. Reports the publish time
# (without unlocking keys), the delta work inside it, the blobs written, and
# the bytes of new metadata a client downloads per release: the TUF metadata
# (timestamp, snapshot, the role) and the release manifest.
#   FILES (1000), CHANGED (10), RELEASES (5), SIZE (bytes per file, 16384)
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
M=$top_builddir/mirror/zupd-mirror
FILES=${FILES:-1000} CHANGED=${CHANGED:-10} RELEASES=${RELEASES:-5} SIZE=${SIZE:-16384}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ZUPD_KDF_COST=min ZUPD_PASSPHRASE=bench
unset ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_NOW

gen() { # gen DIR SEED FIRST COUNT: files sig/NNNN.ndb, compressible like signature
          # text; SEED > 0 rewrites 5% of the lines of an existing file (an update)
    python3 - "$@" <<'PY'
import os, random, sys
d, seed, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
size = int(os.environ.get("SIZE", "16384"))
os.makedirs(os.path.join(d, "sig"), exist_ok=True)
def line(r):
    return "Sig.%06d:%d:*:%s\n" % (r.randrange(10**6), r.randrange(9), "%x" % r.getrandbits(160))
for i in range(first, first + count):
    p = os.path.join(d, "sig", "%04d.ndb" % i)
    r = random.Random(seed * 1000003 + i)
    if seed > 0:
        lines = open(p).read().splitlines(True)
        for _ in range(max(1, len(lines) // 20)):
            lines[r.randrange(len(lines))] = line(r)
    else:
        lines, n = [], 0
        while n < size:
            lines.append(line(r))
            n += len(lines[-1])
    with open(p, "w") as f:
        f.write("".join(lines)[:size])
PY
}

# run LAYOUT: publish the releases; LAYOUT "one" is the whole database as
# one component, "split" is 100 components of FILES/100 files each (what a
# client downloads then grows with the components that changed), "bins" is
# "split" with avdb delegating to 16 hash bins (a release re-signs only the
# bins of the components it changes)
run() {
    layout=$1
    rm -rf "$tmp/in" "$tmp/repo" "$tmp/keys"
    gen "$tmp/in" 0 0 "$FILES"
    if [ "$layout" = bins ]; then
        "$M" init "$tmp/repo" --same-passphrase --avdb-bins 4 >/dev/null
    else
        "$M" init "$tmp/repo" --same-passphrase >/dev/null
    fi
    per=$((FILES / 100))
    echo
    echo "layout: $layout"
    printf '%-8s %8s %8s %9s %8s %9s %7s %11s %11s %10s\n' release wall_s cpu_s publish_s delta_s new_blobs deltas blob_bytes manifest_B tuf_meta_B
    for rel in $(seq 0 "$RELEASES"); do
        changed=""
        if [ "$rel" -gt 0 ]; then
            # CHANGED files spread over the database get new content
            step=$((FILES / CHANGED))
            for j in $(seq 0 $((CHANGED - 1))); do
                gen "$tmp/in" "$rel" $((j * step)) 1
                changed="$changed $((j * step / per))"
            done
        fi
        set --
        if [ "$layout" = one ]; then
            set -- db "$rel" "$tmp/in"
        else
            rm -rf "$tmp/split"
            for c in $(seq 0 99); do
                if [ "$rel" -gt 0 ] && ! printf ' %s ' "$changed " | grep -q " $c "; then continue; fi
                mkdir -p "$tmp/split/$c"
                for f in $(seq $((c * per)) $((c * per + per - 1))); do
                    ln "$tmp/in/sig/$(printf %04d "$f").ndb" "$tmp/split/$c/"
                done
                set -- "$@" "db-$c" "$rel" "$tmp/split/$c"
            done
        fi
        t0=$(date +%s%N)
        TIMEFORMAT='%U %S'
        { time "$M" publish "$@" --role avdb -C "$tmp/repo" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/cpu" ||
            { cat "$tmp/err"; exit 1; }
        t1=$(date +%s%N)
        out=$(cat "$tmp/out")
        cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$tmp/cpu")
        nd=$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) deltas;.*/\1/p')
        pub=$(printf '%s' "$out" | sed -n 's/.*; \([0-9.]*\) s (delta work.*/\1/p')
        dw=$(printf '%s' "$out" | sed -n 's/.*delta work \([0-9.]*\) s.*/\1/p')
        nb=$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) new blobs.*/\1/p')
        bb=$(printf '%s' "$out" | sed -n 's/.*new blobs (\([0-9]*\) bytes).*/\1/p')
        mb=$(printf '%s' "$out" | sed -n 's/.*manifest \([0-9]*\) bytes.*/\1/p')
        tb=$(printf '%s' "$out" | sed -n 's/.*new metadata \([0-9]*\) bytes.*/\1/p')
        printf '%-8s %8.3f %8s %9s %8s %9s %7s %11s %11s %10s\n' "$rel" \
            "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$cpu" "$pub" "$dw" "$nb" "$nd" "$bb" "$mb" "$tb"
    done
    "$M" verify "$tmp/repo"
}

echo "publish of an AV database: $FILES files of $SIZE bytes; then $RELEASES releases with $CHANGED changed files"
run one
run split
run bins
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "publish_s: the publish itself (keys already unlocked), delta_s of it in the delta engine;"
echo "wall_s, cpu_s: the whole process (user + system CPU); the rest of wall_s is waiting for the disk."
echo "tuf_meta_B: new TUF metadata per release (role + snapshot + timestamp);"
echo "manifest_B: the release manifests (TUF targets), O(files of the components published)."
echo "A client downloads tuf_meta_B + the manifests of the components it follows that changed."
