#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/delta_compat.sh -- zupd-mirror delta create/apply through
# the CLI: round trips of every method, BSDIFF40 both ways with Debian's
# bsdiff/bspatch (byte-exact), and the errors and exit codes of bad input.
# Uses generated files and binaries of this system; no network.
# Without Debian's bsdiff/bspatch the other checks run and the test then
# skips (77), loudly; with ZUPD_TESTS_REQUIRE_BSDIFF=1 (set by .ci/run,
# scripts/deps.sh installs bsdiff) it fails instead. The short-disk case
# needs root (it mounts a tmpfs); otherwise a SKIP-PART line says so.
set -eu
. "$(dirname "$0")/lib.sh"
test_init delta-compat
at_exit 'umount "$work/small" 2>/dev/null'
M=$MIRROR
D=$top_srcdir/tests/data
W=$work

have_bsdiff=1
command -v bsdiff >/dev/null 2>&1 && command -v bspatch >/dev/null 2>&1 || have_bsdiff=0
if [ "$have_bsdiff" = 0 ]; then
    if [ "${ZUPD_TESTS_REQUIRE_BSDIFF:-0}" = 1 ]; then
        bad "Debian's bsdiff/bspatch not installed (ZUPD_TESTS_REQUIRE_BSDIFF=1: they must be)"
    else
        echo "SKIP: Debian's bsdiff/bspatch not installed: the BSDIFF40 cross-checks will not run"
    fi
fi

# pair NAME OLD NEW
pair() {
    name=$1 old=$2 new=$3
    for m in auto bsdiff zstd bsdiff40; do
        p=$W/$name.$m
        if ! "$M" delta create "$old" "$new" "$p" --method "$m" --level 3; then
            bad "$name: create --method $m"; continue
        fi
        rm -f "$W/out"
        if "$M" delta apply "$old" "$p" "$W/out" && cmp -s "$W/out" "$new"; then ok; else
            bad "$name: apply of --method $m"; fi
    done
    [ "$have_bsdiff" = 1 ] || return 0
    [ -s "$old" ] && [ -s "$new" ] || return 0 # Debian's bsdiff cannot map empty files
    # zupd's BSDIFF40 patch applied by Debian's bspatch
    rm -f "$W/out"
    if bspatch "$old" "$W/out" "$W/$name.bsdiff40" && cmp -s "$W/out" "$new"; then ok; else
        bad "$name: bspatch of zupd's bsdiff40 patch"; fi
    # Debian's bsdiff patch applied by zupd
    if bsdiff "$old" "$new" "$W/$name.deb"; then
        rm -f "$W/out"
        if "$M" delta apply "$old" "$W/$name.deb" "$W/out" && cmp -s "$W/out" "$new"; then ok; else
            bad "$name: zupd apply of Debian's bsdiff patch"; fi
    else
        bad "$name: Debian bsdiff"
    fi
}

# generated pairs: text with edits, binary with shifted pointers, empty files
python3 - "$W" <<'PY'
import random, sys
w = sys.argv[1]
r = random.Random(1)
lines = ["host-%06d.example.com\n" % (i * 13) for i in range(20000)]
open(w + "/text.old", "w").write("".join(lines))
for i in range(0, len(lines), 211):
    lines[i] = "changed-%d.example.org\n" % i
del lines[5000:5100]
open(w + "/text.new", "w").write("".join(lines))
old = bytearray(r.randrange(256) for _ in range(300000))
new = bytearray(old)
for i in range(0, len(new) - 4, 1000):
    new[i] = (new[i] + 7) & 0xff
new[150000:150000] = bytes(r.randrange(256) for _ in range(3000))
open(w + "/bin.old", "wb").write(old)
open(w + "/bin.new", "wb").write(new)
PY
: > "$W/empty"
pair text "$W/text.old" "$W/text.new"
pair bin "$W/bin.old" "$W/bin.new"
pair empty-to-text "$W/empty" "$W/text.new"
pair text-to-empty "$W/text.old" "$W/empty"
pair identical "$W/bin.old" "$W/bin.old"

# real binaries of this system, as "versions" of each other
set -- /usr/bin/bspatch /usr/bin/bsdiff /usr/bin/xdelta3 /usr/bin/zstd /bin/ls /bin/cp /bin/mv
prev=
for f in "$@"; do
    [ -f "$f" ] || continue
    if [ -n "$prev" ]; then pair "$(basename "$prev")-$(basename "$f")" "$prev" "$f"; fi
    prev=$f
done

# the benchmark corpus, when one was fetched (make bench; no network here):
# ZUPD_DELTA_CORPUS=DIR [ZUPD_DELTA_PAIRS="a b"] cross-checks those pairs too
if [ -n "${ZUPD_DELTA_CORPUS:-}" ] && [ -f "$ZUPD_DELTA_CORPUS/MANIFEST.tsv" ]; then
    pairs=${ZUPD_DELTA_PAIRS:-$(cut -f1 "$ZUPD_DELTA_CORPUS/MANIFEST.tsv" | grep -vx pair)}
    for p in $pairs; do
        pair "corpus-$p" "$ZUPD_DELTA_CORPUS/$p.old" "$ZUPD_DELTA_CORPUS/$p.new"
    done
fi

# expect_fail NAME STATUS MESSAGE-PART CMD...
expect_fail() {
    name=$1 want=$2 msg=$3
    shift 3
    rc=0
    "$@" 2>"$W/err" || rc=$?
    if [ "$rc" != "$want" ]; then bad "$name: exit $rc, want $want ($(cat "$W/err"))"; return; fi
    if ! grep -q "$msg" "$W/err"; then bad "$name: message '$(cat "$W/err")' lacks '$msg'"; return; fi
    ok
}
G=$D/good/delta B=$D/bad/delta
rm -f "$W/x"
expect_fail wrong-base 30 "delta base does not match" "$M" delta apply "$G/base.old" "$B/wrong-base.zpd" "$W/x"
[ ! -e "$W/x" ] || bad "wrong-base: output written"
expect_fail wrong-base-file 30 "delta base does not match" "$M" delta apply "$W/text.old" "$G/base.zpd" "$W/x"
expect_fail truncated 11 "corrupt or truncated delta" "$M" delta apply "$G/base.old" "$B/truncated-delta.zpd" "$W/x"
expect_fail truncated-header 11 "not a delta" "$M" delta apply "$G/base.old" "$B/truncated-header.zpd" "$W/x"
expect_fail corrupt 11 "corrupt or truncated delta" "$M" delta apply "$G/base.old" "$B/corrupt-stream.zpd" "$W/x"
expect_fail bad-hash 17 "does not match the hash" "$M" delta apply "$G/base.old" "$B/wrong-new-hash.zpd" "$W/x"
expect_fail ctrl-range 11 "corrupt or truncated delta" "$M" delta apply "$G/base.old" "$B/ctrl-add-past-old.zpd" "$W/x"
expect_fail b40-trunc 11 "not a delta" "$M" delta apply "$G/base.old" "$B/truncated-delta.bsdiff40" "$W/x"
expect_fail b40-neg 11 "corrupt or truncated delta" "$M" delta apply "$G/base.old" "$B/negative-add.bsdiff40" "$W/x"
expect_fail missing-old 25 "cannot read" "$M" delta apply "$W/nonexistent" "$G/base.zpd" "$W/x"
expect_fail usage 1 "usage" "$M" delta apply "$G/base.old"
expect_fail bad-method 1 "unknown delta method" "$M" delta create a b c --method xz
expect_fail lzma-no-lzma 1 "contradict each other" "$M" delta create "$G/base.old" "$G/base.new" "$W/x" --method lzma --no-lzma
expect_fail apply-no-lzma 1 "apply takes no" "$M" delta apply "$G/base.old" "$G/base.zpd" "$W/x" --no-lzma
# LZMA2 streams (format version 10) or patch-from in LZMA2 (method 5,
# version 11: on this pair of 144 KB it is the smallest) where smaller;
# --no-lzma keeps to version 9 and older (endpoints with an older libzupd
# read the patch); --method lzma asks for patch-from in LZMA2
for f in "" --no-lzma "--method lzma"; do
    p=$W/lzma$(echo "$f" | tr -d ' ').zpd
    if "$M" delta create "$G/lzma.old" "$G/lzma.new" "$p" $f; then
        v=$(od -A n -t u1 -j 4 -N 2 "$p" | tr -s ' ' :)
        case "$f$v" in
        :11:5 | --no-lzma:[789]:1 | "--method lzma:11:5") ok ;;
        *) bad "lzma pair: create $f wrote version $v" ;;
        esac
        rm -f "$W/out"
        if "$M" delta apply "$G/lzma.old" "$p" "$W/out" && cmp -s "$W/out" "$G/lzma.new"; then ok; else
            bad "lzma pair: apply of create $f"; fi
    else
        bad "lzma pair: create $f"
    fi
done
[ ! -e "$W/x" ] || bad "failed applies left '$W/x'"
ls -A "$W" | grep -q '\.tmp\|^\.zupd-tmp\.' && bad "temporary files left behind"
# short disk: /dev/full is not a directory we can rename in; use a tiny tmpfs if allowed
if [ -w /dev/full ] && [ "$(id -u)" = 0 ] && mkdir "$W/small" && mount -t tmpfs -o size=64k tmpfs "$W/small" 2>/dev/null; then
    expect_fail short-disk 32 "no space left" "$M" delta apply "$W/empty" "$W/empty-to-text.zstd" "$W/small/out"
    [ -z "$(ls -A "$W/small")" ] || bad "short-disk: files left in the full directory"
    umount "$W/small"
    echo "delta_compat: short disk checked on a 64 KiB tmpfs"
else
    skip_part short-disk "the short-disk case runs only as root, on a tmpfs it mounts (uid $(id -u))"
fi
if [ "$have_bsdiff" = 0 ] && [ "$fail" = 0 ]; then
    echo "SKIP: Debian's bsdiff/bspatch not installed: the BSDIFF40 cross-checks did not run ($pass other checks passed)"
    exit 77
fi
finish delta_compat
