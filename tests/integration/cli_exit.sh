#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/cli_exit.sh -- the one exit-code table: docs/errors.md
# against what zupd and zupd-mirror report (--list-exit-codes, built from
# zupd_errname()/zupd_strerror()), and real commands exiting as it says.
. "$(dirname "$0")/lib.sh"
need python3
test_init cli-exit

# the docs' rows, "CODE<TAB>NAME<TAB>MESSAGE"
python3 - "$top_srcdir/docs/errors.md" >"$work/doc.txt" <<'PY'
import sys
rows, on = [], False
for line in open(sys.argv[1]):
    if line.startswith("<!-- exit-codes"):
        on = True
        continue
    if on and line.startswith("|"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].isdigit():
            rows.append("%s\t%s\t%s" % (cells[0], cells[1], cells[2]))
    elif on and rows and not line.startswith("|"):
        break
print("\n".join(rows))
PY
[ -s "$work/doc.txt" ] && ok "docs/errors.md has an exit-code table" || bad "no exit-code table in docs/errors.md"
for prog in "$ZUPD" "$MIRROR"; do
    name=$(basename "$prog")
    expect_rc 0 "$name --list-exit-codes" "$prog" --list-exit-codes
    if diff -u "$work/doc.txt" "$work/out" >"$work/diff"; then
        ok "$name: docs/errors.md and the code agree ($(wc -l <"$work/out") codes)"
    else
        bad "$name: docs/errors.md differs from the code: $(cat "$work/diff")"
    fi
done

# real commands exit with the codes the table names
code_of() { awk -F'\t' -v n="$1" '$2 == n {print $1}' "$work/doc.txt"; }
expect_rc "$(code_of usage)" "zupd: unknown option is a usage error" "$ZUPD" --no-such-option
expect_rc "$(code_of usage)" "zupd-mirror: unknown command is a usage error" "$MIRROR" no-such-command
expect_rc "$(code_of usage)" "delta: usage error" "$MIRROR" delta apply only-one
expect_rc "$(code_of usage)" "serve: bad number" "$MIRROR" serve . --threads x
expect_rc "$(code_of notfound)" "verify of a missing tree: notfound" "$MIRROR" verify "$work/nowhere"
expect_rc "$(code_of notfound)" "delta apply of a missing file: notfound" \
    "$MIRROR" delta apply "$work/nowhere" "$work/nowhere2" "$work/x"
printf 'not a delta' >"$work/bad.zpd"
printf 'old' >"$work/old"
expect_rc "$(code_of format)" "delta apply of garbage: format" \
    "$MIRROR" delta apply "$work/old" "$work/bad.zpd" "$work/x"
finish cli_exit
