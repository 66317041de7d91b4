#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/symbols.sh -- libzupd.so exports exactly the symbols in tests/symbols.txt.
set -eu
so=$(ls "$top_builddir"/lib/.libs/libzupd.so.* 2>/dev/null | head -n 1)
[ -n "$so" ] || { echo "symbols.sh: libzupd.so not built"; exit 1; }
got=$(mktemp)
trap 'rm -f "$got"' EXIT
nm -D --defined-only "$so" | awk '$2 ~ /^[TDRB]$/ {print $3}' | LC_ALL=C sort > "$got"
if ! diff -u "$top_srcdir/tests/symbols.txt" "$got"; then
    echo "symbols.sh: exported symbols differ from tests/symbols.txt (update it on purpose)"
    exit 1
fi
echo "symbols.sh: $(wc -l < "$got") exported symbols match"
