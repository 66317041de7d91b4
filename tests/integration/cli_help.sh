#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/cli_help.sh -- --help on every command and subcommand of
# zupd and zupd-mirror (the lists come from the programs' command tables,
# --list-commands, and each help from the command's option table), and the
# man page documents every command and every long option the parser takes.
set -u
. "$(dirname "$0")/lib.sh"
test_init cli-help

# man_has PAGE WORD: WORD in the roff source, "-" written "\-" or "-"
man_has() {
    _w=$(printf '%s' "$2" | sed 's/-/\\\\?-/g')
    grep -Eq -- "(^|[^a-z-])$_w([^a-z-]|$)" "$1"
}

for prog in "$ZUPD" "$MIRROR"; do
    name=$(basename "$prog")
    page=$top_srcdir/docs/$name.1
    expect_rc 0 "$name --help" "$prog" --help
    expect_rc 0 "$name --list-commands" "$prog" --list-commands
    cut -f1 "$work/out" >"$work/cmds"
    [ -s "$work/cmds" ] || bad "$name: no commands listed"
    while read -r cmd; do
        if man_has "$page" "$cmd"; then ok "$name.1 documents $cmd"; else bad "$name.1 lacks the command '$cmd'"; fi
        [ "$cmd" = version ] && continue
        expect_rc 0 "$name $cmd --help" "$prog" "$cmd" --help
        grep -q "^usage: $name $cmd" "$work/out" || bad "$name $cmd --help: no usage line"
        cp "$work/out" "$work/help"
        # subcommands: the third word of a usage line, when it is a word
        sed -n "s/^ *\(usage:\)\{0,1\} *$name $cmd \([a-z][a-z]*\)\( .*\)\{0,1\}\$/\2/p" "$work/help" |
            grep -v '^OPTIONS$' | sort -u >"$work/subs"
        while read -r sub; do
            expect_rc 0 "$name $cmd $sub --help" "$prog" "$cmd" "$sub" --help
            if man_has "$page" "$sub"; then ok "$name.1 documents $cmd $sub"; else bad "$name.1 lacks '$cmd $sub'"; fi
        done <"$work/subs"
        grep -Eo -- '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' "$work/help" | grep -Eo -- '--[a-z0-9-]+' >"$work/opts"
        [ -s "$work/opts" ] || bad "$name $cmd --help lists no option"
        while read -r opt; do
            if man_has "$page" "$opt"; then ok; else bad "$name.1 lacks $opt (of $cmd)"; fi
        done <"$work/opts"
    done <"$work/cmds"
    expect_rc 1 "$name: an option no command takes" "$prog" version --no-such-option
done
# per-command tables: an option of another command is refused
expect_rc 1 "zupd-mirror refresh refuses --keep (prune's)" "$MIRROR" refresh --keep 3 -C "$work"
grep -q "option '--keep'" "$work/err" && ok "names the option" || bad "message: $(cat "$work/err")"
expect_rc 1 "zupd status refuses --to (rollback's)" "$ZUPD" status --to 1.0
finish cli_help
