#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/bench/delta.sh -- the delta benchmark of issues 4 and 18 (run by `make bench`).
#
# Fetches the corpus (npm, about a minute the first time): the public pairs
# of ../shared/bench/delta-corpus.sh, or with BENCH_WIDE=1 the wider corpus
# of tests/bench/wide-corpus.sh (27 pairs, tuning and held-out halves).
# Then, on every pair and in this one run, creates and applies patches with
# zupd-mirror (default level, --method auto), Debian's bsdiff 4.3, xdelta3 -9
# -S djw, zstd --patch-from -19 --long (and --ultra -22 unless
# BENCH_ULTRA=0) and HDiffPatch (hdiffz -m-6 -SD -c-zstd-21-24, and
# -c-bzip2-9 for size; hpatchz), each timed (wall s to the millisecond, peak
# RSS by /usr/bin/time; applies: the median of BENCH_APPLY_REPS runs,
# default 5), every result checked with cmp. Prints sizes, creation and apply
# tables with the ratios of issues 4 and 18, and totals per set (public, or
# tuning and held-out).
#
# HDiffPatch is not part of zupd and is never fetched or built by this
# script: build it beside the project from its source tree
# (github.com/sisong/HDiffPatch, `make ZSTD=2 BZIP2=2 LZMA=0 LDEF=0 ZLIB=0
# MD5=0 XXH=0 hdiffz hpatchz` against Debian's libzstd-dev and libbz2-dev)
# and point HDIFFPATCH_DIR at that tree; without it the HDiffPatch columns
# are "-" and the script says so.
#
# Environment: BENCH_CORPUS (default $top_builddir/bench-corpus, or
# $top_builddir/bench-wide with BENCH_WIDE=1), BENCH_WIDE=1,
# HDIFFPATCH_DIR (a built HDiffPatch tree),
# BENCH_SHARED (the directory of delta-corpus.sh), BENCH_PAIRS (subset),
# BENCH_LEVEL (zupd --level, default: the default level), BENCH_TSV (keep raw TSV),
# BENCH_ULTRA=0 (skip zstd -22: its sizes are then taken from the figures of
# ../shared/bench/README.md for the corpus pairs, marked R), BENCH_MAX=1 (also
# zupd --level 22, size and time only). Build without --enable-sanitizers
# (e.g. ../configure CFLAGS=-O2) for meaningful times.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
M=$top_builddir/mirror/zupd-mirror
[ -x "$M" ] || { echo "delta.sh: build first ($M missing)" >&2; exit 1; }
SHARED=${BENCH_SHARED:-}
if [ -z "$SHARED" ]; then
  for d in "$top_srcdir/../shared/bench" "$top_srcdir/../../shared/bench" /work/shared/bench; do
    [ -x "$d/delta-corpus.sh" ] && { SHARED=$d; break; }
  done
fi
ULTRA=${BENCH_ULTRA:-1}
if [ "${BENCH_WIDE:-0}" = 1 ]; then
  CORPUS=${BENCH_CORPUS:-$top_builddir/bench-wide}
  "$here/wide-corpus.sh" "$CORPUS" all >&2
else
  [ -n "$SHARED" ] || { echo "delta.sh: delta-corpus.sh not found (set BENCH_SHARED)" >&2; exit 1; }
  CORPUS=${BENCH_CORPUS:-$top_builddir/bench-corpus}
  "$SHARED/delta-corpus.sh" "$CORPUS" all >&2
fi
HDZ=; HPZ=
if [ -n "${HDIFFPATCH_DIR:-}" ]; then
  HDZ=$HDIFFPATCH_DIR/hdiffz; HPZ=$HDIFFPATCH_DIR/hpatchz
  if [ ! -x "$HDZ" ] || [ ! -x "$HPZ" ]; then
    echo "delta.sh: no hdiffz/hpatchz in HDIFFPATCH_DIR=$HDIFFPATCH_DIR; build them there first:" >&2
    echo "  make ZSTD=2 BZIP2=2 LZMA=0 LDEF=0 ZLIB=0 MD5=0 XXH=0 hdiffz hpatchz" >&2
    exit 1
  fi
  echo "delta.sh: HDiffPatch anchor: $("$HDZ" -v 2>&1 | head -n1) in $HDIFFPATCH_DIR" >&2
else
  echo "delta.sh: HDIFFPATCH_DIR not given: HDiffPatch anchors NOT measured (columns '-')." >&2
  echo "  Build HDiffPatch beside the project (github.com/sisong/HDiffPatch; in its tree:" >&2
  echo "  make ZSTD=2 BZIP2=2 LZMA=0 LDEF=0 ZLIB=0 MD5=0 XXH=0 hdiffz hpatchz) and set HDIFFPATCH_DIR." >&2
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/zupd-bench.XXXXXX"); trap 'rm -rf "$W"' EXIT
lvl=(); [ -n "${BENCH_LEVEL:-}" ] && lvl=(--level "$BENCH_LEVEL")

PAIRS=()
while IFS=$'\t' read -r p _; do [ "$p" = pair ] || PAIRS+=("$p"); done < "$CORPUS/MANIFEST.tsv"
[ -z "${BENCH_PAIRS:-}" ] || read -r -a PAIRS <<< "$BENCH_PAIRS"
declare -A SET
while IFS=$'\t' read -r p st _; do SET[$p]=$st; done < "$CORPUS/MANIFEST.tsv"

wlog() { local n=$1 b=0; while [ $((1 << b)) -lt "$n" ]; do b=$((b+1)); done
         [ $b -lt 10 ] && b=10; [ $b -gt 31 ] && b=31; echo $b; }
# run CMD...: T = wall s (ms resolution), K = peak RSS KiB
run() {
  local t0 t1
  t0=$(date +%s%N)
  if ! /usr/bin/time -f "%M" -o "$W/time" "$@" >/dev/null 2>"$W/err"; then
    echo "delta.sh: failed: $*" >&2; cat "$W/err" >&2; exit 1
  fi
  t1=$(date +%s%N)
  K=$(tail -n1 "$W/time")
  T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}
# runm CMD...: run APPLY_REPS times (default 5); T = the median, K = the largest
APPLY_REPS=${BENCH_APPLY_REPS:-5}
runm() {
  local ts=() km=0 i
  for ((i = 0; i < APPLY_REPS; i++)); do
    run "$@"; ts+=("$T"); [ "$K" -gt "$km" ] && km=$K
  done
  T=$(printf '%s\n' "${ts[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  K=$km
}
BAD=0
check() { cmp -s "$1" "$2" || { echo "delta.sh: $3: output differs from new" >&2; BAD=1; }; rm -f "$1"; }

RES=$W/res.tsv
echo -e "pair\tset\told\tnew\tfull\tzupd\tzupd_method\tzupd_ct\tzupd_cm\tzupd_at\tzupd_am\tbsd\tbsd_ct\tbsd_cm\tbsd_at\tbsd_am\txd3\txd3_ct\txd3_cm\txd3_at\txd3_am\tpf19\tpf19_ct\tpf19_cm\tpf19_at\tpf19_am\tpf22\tzmax\tzmax_ct\tzmax_cm\thdz\thdz_ct\thdz_cm\thdz_at\thdz_am\thdb" > "$RES"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for p in "${PAIRS[@]}"; do
  o=$CORPUS/$p.old; n=$CORPUS/$p.new
  os=$(stat -c %s "$o"); ns=$(stat -c %s "$n")
  wn=$(wlog "$ns"); wp=$(wlog $((os + ns)))
  echo "delta.sh: $p" >&2
  zstd -q -f -19 --long="$wn" "$n" -o "$W/full.zst"; full=$(stat -c %s "$W/full.zst")
  row=("$p" "${SET[$p]:--}" "$os" "$ns" "$full")
  # zupd
  run "$M" delta create "$o" "$n" "$W/z" "${lvl[@]}"; zc=("$T" "$K")
  meth=$("$M" delta create "$o" "$n" "$W/z2" "${lvl[@]}" -v 2>&1 | sed -n 's/.*method \([a-z0-9]*\).*/\1/p')
  runm "$M" delta apply "$o" "$W/z" "$W/out"; za=("$T" "$K"); check "$W/out" "$n" "$p zupd"
  row+=("$(stat -c %s "$W/z")" "$meth" "${zc[@]}" "${za[@]}")
  # bsdiff 4.3
  run bsdiff "$o" "$n" "$W/b"; bc=("$T" "$K")
  runm bspatch "$o" "$W/out" "$W/b"; ba=("$T" "$K"); check "$W/out" "$n" "$p bspatch"
  row+=("$(stat -c %s "$W/b")" "${bc[@]}" "${ba[@]}")
  # xdelta3
  xb=(); [ "$os" -gt $((64 << 20)) ] && xb=(-B $((1 << $(wlog "$os"))))
  run xdelta3 -9 -S djw -e -f "${xb[@]}" -s "$o" "$n" "$W/x"; xc=("$T" "$K")
  runm xdelta3 -d -f "${xb[@]}" -s "$o" "$W/x" "$W/out"; xa=("$T" "$K"); check "$W/out" "$n" "$p xdelta3"
  row+=("$(stat -c %s "$W/x")" "${xc[@]}" "${xa[@]}")
  # zstd --patch-from -19 (and -22 for size)
  run zstd -q -f -19 --long="$wp" --patch-from="$o" "$n" -o "$W/pf"; pc=("$T" "$K")
  runm zstd -q -f -d --long="$wp" --patch-from="$o" "$W/pf" -o "$W/out"; pa=("$T" "$K"); check "$W/out" "$n" "$p zstd-pf19"
  row+=("$(stat -c %s "$W/pf")" "${pc[@]}" "${pa[@]}")
  if [ "$ULTRA" != 0 ]; then
    zstd -q -f --ultra -22 --long="$wp" --patch-from="$o" "$n" -o "$W/pf22" 2>/dev/null
    row+=("$(stat -c %s "$W/pf22")")
  else row+=(-); fi
  if [ "${BENCH_MAX:-0}" = 1 ]; then
    run "$M" delta create "$o" "$n" "$W/zm" --level 22; row+=("$(stat -c %s "$W/zm")" "$T" "$K")
  else row+=(- - -); fi
  if [ -n "$HDZ" ]; then
    # HDiffPatch: -m-6 -SD with zstd 21 (window 2^24), and bzip2 -9 for size
    run "$HDZ" -f -m-6 -SD -c-zstd-21-24 "$o" "$n" "$W/h"; hc=("$T" "$K")
    runm "$HPZ" -f "$o" "$W/h" "$W/out"; ha=("$T" "$K"); check "$W/out" "$n" "$p hpatchz"
    "$HDZ" -f -m-6 -SD -c-bzip2-9 "$o" "$n" "$W/hb" >/dev/null 2>&1 || { echo "delta.sh: hdiffz bzip2 failed on $p" >&2; exit 1; }
    "$HPZ" -f "$o" "$W/hb" "$W/out" >/dev/null 2>&1; check "$W/out" "$n" "$p hpatchz bzip2"
    row+=("$(stat -c %s "$W/h")" "${hc[@]}" "${ha[@]}" "$(stat -c %s "$W/hb")")
  else row+=(- - - - - -); fi
  (IFS=$'\t'; echo "${row[*]}") >> "$RES"
done
echo "# done $(date -u +%Y-%m-%dT%H:%MZ), loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2
[ -z "${BENCH_TSV:-}" ] || cp "$RES" "$BENCH_TSV"
python3 "$here/delta_table.py" "$RES"
[ $BAD = 0 ] || { echo "delta.sh: SOME OUTPUTS DIFFER" >&2; exit 1; }
