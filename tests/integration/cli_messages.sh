#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/cli_messages.sh -- the first messages an administrator
# meets (issue 15): a missing passphrase says how to give one, a missing or
# unreadable configuration names its path, init makes parent directories and
# leaves nothing behind when it fails, promote finds a component's role.
set -u
. "$(dirname "$0")/lib.sh"
test_init cli-msg
ZUPD_KDF_COST=min
export ZUPD_KDF_COST
M=$MIRROR

# init: parents made; a failed init leaves nothing
expect_rc 0 "init makes the parent directories" "$M" init "$work/a/b/repo" --keys "$work/a/b/keys" --same-passphrase
[ -d "$work/a/b/repo/metadata" ] && ok "the repository is there" || bad "no repository in $work/a/b/repo"
expect_rc 26 "init with no passphrase to be had" env -u ZUPD_PASSPHRASE setsid "$M" init "$work/c/d/repo" --keys "$work/c/keys"
[ ! -e "$work/c" ] && ok "a failed init leaves nothing behind" || bad "left: $(find "$work/c")"
mkdir "$work/empty"
expect_rc 26 "init into an existing empty directory, no passphrase" env -u ZUPD_PASSPHRASE setsid "$M" init "$work/empty" --keys "$work/empty-keys"
[ -d "$work/empty" ] && [ -z "$(ls -A "$work/empty")" ] && [ ! -e "$work/empty-keys" ] &&
    ok "the existing directory stays, empty; the key directory made is gone" || bad "after the failed init: $(ls -A "$work/empty" "$work/empty-keys" 2>&1)"
expect_rc 31 "init over a repository" "$M" init "$work/a/b/repo" --keys "$work/a/b/keys" --same-passphrase
[ -d "$work/a/b/repo/metadata" ] && ok "a refused init removes nothing it did not make" || bad "the repository went away"

# a missing passphrase is not a wrong one
R=$work/a/b/repo K=$work/a/b/keys
make_tree "$work/v1" 1.0 3
expect_rc 26 "publish with no passphrase and no terminal" env -u ZUPD_PASSPHRASE setsid "$M" publish product 1.0 "$work/v1" -C "$R" --keys "$K"
check "it says how to give one" "$(cat "$work/err")" "no passphrase for key 'products'" "ZUPD_PASSPHRASE" "--passphrase-file"
grep -q "wrong passphrase" "$work/err" && bad "a missing passphrase reads as a wrong one: $(cat "$work/err")" || ok "not called a wrong passphrase"
expect_rc 26 "publish with an empty ZUPD_PASSPHRASE" env ZUPD_PASSPHRASE= "$M" publish product 1.0 "$work/v1" -C "$R" --keys "$K"
check "it says the variable is empty" "$(cat "$work/err")" "ZUPD_PASSPHRASE is empty"
expect_rc 26 "a wrong passphrase is still called one" env ZUPD_PASSPHRASE=wrong "$M" publish product 1.0 "$work/v1" -C "$R" --keys "$K"
check "wrong passphrase" "$(cat "$work/err")" "wrong passphrase"

# promote: the role from the component
expect_rc 0 "publish an AV database" "$M" publish db 1 "$work/v1" --role avdb -C "$R" --keys "$K"
expect_rc 0 "promote it without --role" "$M" promote db 1 --channel daily -C "$R" --keys "$K" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["role"] == "avdb", d' "$work/out" &&
    ok "promote found the role avdb" || bad "promote: $(cat "$work/out")"
expect_rc 0 "publish a product" "$M" publish product 1.0 "$work/v1" -C "$R" --keys "$K"
expect_rc 0 "promote the product without --role" "$M" promote product 1.0 --channel stable -C "$R" --keys "$K" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["role"] == "products", d' "$work/out" &&
    ok "promote found the role products" || bad "promote: $(cat "$work/out")"
expect_rc 25 "promote of a version published nowhere" "$M" promote db 9 --channel daily -C "$R" --keys "$K"
check "it says so" "$(cat "$work/err")" "not published \(neither in 'products' nor in 'avdb'\)"

# the configuration's path
expect_rc 1 "zupd with a missing configuration" "$ZUPD" --config "$work/nope.conf" status
check "names the path and --config" "$(cat "$work/err")" "'$work/nope.conf'" "No such file" "--config"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups "$ZUPD" --version >/dev/null 2>&1; then
    printf 'mirrors = [ "http://127.0.0.1:1/" ];\n' >"$work/unread.conf"
    chmod 600 "$work/unread.conf"
    chmod 755 "$work"
    expect_rc 1 "zupd with an unreadable configuration" setpriv --reuid=65534 --regid=65534 --clear-groups "$ZUPD" --config "$work/unread.conf" status
    check "names the path and why" "$(cat "$work/err")" "'$work/unread.conf'" "Permission denied"
else
    skip_part unreadable-config "needs root and setpriv"
fi
finish cli_messages
