#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/test.sh -- the README's test command: install what is missing, build
# from scratch with clang, -Werror, ASan and UBSan, run every test (make check),
# print "N passed, N failed". Exit status is non-zero on any failure.
#   BUILD_DIR  build directory (default: build-test, wiped first)
#   JOBS       parallel make jobs (default: number of CPUs)
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
    || { cat configure.out; echo "0 passed, 1 failed"; exit 1; }
make -j"$jobs" >make.out 2>&1 || { tail -n 60 make.out; echo "0 passed, 1 failed"; exit 1; }
rc=0
make -j"$jobs" -k check >check.out 2>&1 || rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL):' check.out || true
if [ -f test-suite.log ]; then
    awk '/^(FAIL|ERROR|XPASS): /{p=1} p' test-suite.log | sed -n '1,400p' | grep -v '^\.\. contents' || true
fi
count() { sed -n "s/^# $1: *//p" test-suite.log 2>/dev/null | head -n 1; }
pass=$(count PASS); fail=$(count FAIL); err=$(count ERROR); xpass=$(count XPASS)
pass=${pass:-0}; fail=$(( ${fail:-0} + ${err:-0} + ${xpass:-0} ))
if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
    tail -n 60 check.out
    fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
