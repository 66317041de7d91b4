#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/test.sh -- the README's test command: install what is missing, build
# from scratch with clang, -Werror, ASan and UBSan, run every test (make
# check), printing each test's result as it finishes, then the logs of what
# failed, what was skipped and why, and last "N passed, N failed, N skipped".
# Exit status is non-zero on any failure.
#   BUILD_DIR  build directory (default: build-test, wiped first)
#   JOBS       parallel make jobs (default: number of CPUs)
#   ZUPD_EXPECTED_SKIPS  when set (.ci/run sets it; empty there by default):
#              the skips allowed, space-separated; any other skip is counted
#              as a failure. A skipped test is named as make check prints it
#              (tests/integration/fetch_https.sh) or short (fetch_https); a
#              part of a test that did not run (its log has a line
#              "SKIP-PART: NAME: why", see tests/integration/lib.sh) as
#              tests/integration/delta_compat.sh:short-disk or
#              delta_compat:short-disk. A passing test with a skipped part
#              counts once as passed and once as skipped.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-test}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

"$top/scripts/deps.sh"
cd "$top"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
rm -rf "$build"
mkdir -p "$build"
cd "$build"
"$top/configure" CC=clang --enable-werror --enable-sanitizers >configure.out 2>&1 \
    || { cat configure.out; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
make -j"$jobs" >make.out 2>&1 || { tail -n 60 make.out; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# make check, its whole output in check.out; the result lines as they come
{ make -j"$jobs" -k check 2>&1; echo $? >check.rc; } | tee check.out |
    grep --line-buffered -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL):' || true
rc=$(cat check.rc 2>/dev/null || echo 1)
if [ -f test-suite.log ]; then
    awk '/^(FAIL|ERROR|XPASS): /{p=1} p' test-suite.log | sed -n '1,400p' | grep -v '^\.\. contents' || true
fi
count() { sed -n "s/^# $1: *//p" test-suite.log 2>/dev/null | head -n 1; }
pass=$(count PASS); fail=$(count FAIL); err=$(count ERROR); xpass=$(count XPASS); skip=$(count SKIP)
pass=${pass:-0}; fail=$(( ${fail:-0} + ${err:-0} + ${xpass:-0} )); skip=${skip:-0}
if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
    tail -n 60 check.out
    fail=1
fi

# what was skipped, and why: whole tests (exit 77) and parts of passing tests
log_of() { # log_of TEST: its log file
    if [ -f "${1%.sh}.log" ]; then echo "${1%.sh}.log"; else echo "$1.log"; fi
}
skipped=
for t in $(sed -n 's/^SKIP: //p' check.out); do
    why=$(sed -n 's/^SKIP: //p' "$(log_of "$t")" 2>/dev/null | tail -n 1)
    echo "skipped: $t${why:+ ($why)}"
    skipped="$skipped $t"
done
for t in $(sed -n 's/^PASS: //p' check.out); do
    parts=$(sed -n 's/^SKIP-PART: \([^:]*\): .*/\1/p' "$(log_of "$t")" 2>/dev/null)
    for p in $parts; do
        why=$(sed -n "s/^SKIP-PART: $p: //p" "$(log_of "$t")" | head -n 1)
        echo "skipped: $t:$p ($why)"
        skipped="$skipped $t:$p"
        skip=$((skip + 1))
    done
done
# in CI (ZUPD_EXPECTED_SKIPS set), a skip nobody expected is a failure
if [ -n "${ZUPD_EXPECTED_SKIPS+set}" ]; then
    for s in $skipped; do
        short=$(basename "${s%%:*}" .sh)
        case $s in *:*) short="$short:${s#*:}" ;; esac
        expected=no
        for e in $ZUPD_EXPECTED_SKIPS; do
            [ "$e" = "$s" ] || [ "$e" = "$short" ] && expected=yes
        done
        if [ $expected = no ]; then
            echo "FAIL: $s was skipped, and ZUPD_EXPECTED_SKIPS does not list it"
            fail=$((fail + 1))
        fi
    done
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
