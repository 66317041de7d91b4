#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/cli_json.sh -- --json on the commands of zupd and
# zupd-mirror: every output, success and failure, is one document valid
# against docs/json-envelope.schema.json (tests/integration/json_schema.py),
# and a failure's error names its exit status as docs/errors.md does.
set -u
. "$(dirname "$0")/lib.sh"
need python3
test_init cli-json
ZUPD_KDF_COST=min
export ZUPD_KDF_COST
SCHEMA=$top_srcdir/docs/json-envelope.schema.json
n=0

# jrun WANT DESC CMD...: CMD exits WANT and prints one valid envelope whose
# "ok" and error code/name agree with the exit status
jrun() {
    _w=$1 _d=$2
    expect_rc "$@"
    n=$((n + 1))
    cp "$work/out" "$work/json.$n"
    if out=$(python3 "$top_srcdir/tests/integration/json_schema.py" "$SCHEMA" "$work/json.$n"); then
        ok "$_d: valid envelope"
    else
        bad "$_d: $out"
        return
    fi
    python3 - "$work/json.$n" "$_w" "$("$MIRROR" --list-exit-codes | awk -v c="$_w" '$1 == c {print $2}')" <<'PY' &&
import json, sys
d, want, name = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
if want in (0, 100):
    assert d["ok"] is True, d
else:
    assert d["ok"] is False and d["error"]["code"] == want and d["error"]["name"] == name, d
PY
        ok "$_d: ok/error agree with exit $_w" || bad "$_d: ok/error disagree with exit $_w: $(cat "$work/json.$n")"
}

M=$MIRROR
R=$work/repo
# zupd-mirror
jrun 0 "mirror version" "$M" version --json
jrun 1 "mirror unknown command" "$M" frobnicate --json
jrun 0 "init" "$M" init "$R" --keys "$work/keys" --same-passphrase --json
jrun 31 "init over an existing repository" "$M" init "$R" --keys "$work/keys" --same-passphrase --json
jrun 0 "key list" "$M" key list -C "$R" --keys "$work/keys" --json
jrun 0 "key generate" "$M" key generate extra -C "$R" --keys "$work/keys" --json
jrun 0 "key show" "$M" key show extra -C "$R" --keys "$work/keys" --json
jrun 25 "key show of an unknown key" "$M" key show nosuch -C "$R" --keys "$work/keys" --json
make_tree "$work/v1" 1.0 5
jrun 0 "publish" "$M" publish product 1.0 "$work/v1" -C "$R" --keys "$work/keys" --json
jrun 31 "publish again" "$M" publish product 1.0 "$work/v1" -C "$R" --keys "$work/keys" --json
jrun 0 "promote" "$M" promote product 1.0 --channel stable -C "$R" --keys "$work/keys" --json
jrun 1 "promote without --channel" "$M" promote product 1.0 -C "$R" --json
jrun 0 "refresh" "$M" refresh -C "$R" --keys "$work/keys" --json
jrun 0 "floor" "$M" floor product 1.0 -C "$R" --keys "$work/keys" --json
jrun 0 "prune" "$M" prune --keep 5 -C "$R" --keys "$work/keys" --json
jrun 0 "verify" "$M" verify "$R" --json
jrun 25 "verify of a missing tree" "$M" verify "$work/nowhere" --json
jrun 0 "stage" "$M" stage targets -C "$R" --keys "$work/keys" --json
f=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["staged"])' "$work/out")
jrun 0 "sign" "$M" sign "$f" --key "$work/keys/targets.key" --json
jrun 0 "import" "$M" import "$f" -C "$R" --keys "$work/keys" --json
jrun 0 "policy init" "$M" policy init "$work/pol" --keys "$work/pkeys" --same-passphrase --json
jrun 0 "policy pin" "$M" policy pin product 1.0 --channel stable -C "$work/pol" --keys "$work/pkeys" --json
jrun 0 "policy show" "$M" policy show -C "$work/pol" --keys "$work/pkeys" --json
jrun 0 "policy release" "$M" policy release product --channel stable -C "$work/pol" --keys "$work/pkeys" --json
printf 'old contents\n' >"$work/old"
printf 'new contents\n' >"$work/new"
jrun 0 "delta create" "$M" delta create "$work/old" "$work/new" "$work/patch" --json
jrun 0 "delta apply" "$M" delta apply "$work/old" "$work/patch" "$work/out2" --json
jrun 30 "delta apply on the wrong base" "$M" delta apply "$work/new" "$work/patch" "$work/out3" --json
jrun 1 "delta usage" "$M" delta apply "$work/old" --json
jrun 1 "sync usage" "$M" sync --json

# zupd, against the repository served on 127.0.0.1
serve_tree "$R" || exit 1
PORT=$SPORT
write_conf
Z="$ZUPD --config $work/zupd.conf"
jrun 0 "sync" "$M" sync "http://127.0.0.1:$PORT/" "$work/ent" --root "$R/metadata/1.root.json" --json
jrun 0 "sync again, after the options" "$M" sync --json "http://127.0.0.1:$PORT/" "$work/ent"
jrun 25 "sync with a missing root" "$M" sync "http://127.0.0.1:$PORT/" "$work/ent2" --root "$work/nope.json" --json
jrun 0 "key rotate" "$M" key rotate products --key extra -C "$R" --keys "$work/keys" --json
jrun 0 "zupd version" $Z --json version
jrun 0 "zupd status, --json after the command" $Z status --json
jrun 100 "zupd check (update available)" $Z --json check
jrun 0 "zupd update" $Z --json update
jrun 0 "zupd status" $Z --json status
jrun 0 "zupd verify" $Z --json verify
jrun 0 "zupd hold" $Z --json hold product
jrun 0 "zupd release" $Z --json release product
jrun 25 "zupd rollback with nothing earlier" $Z --json rollback product
jrun 1 "zupd unknown component" $Z --json status nosuch
jrun 1 "zupd unknown command" $Z --json frobnicate
jrun 1 "zupd missing configuration" "$ZUPD" --config "$work/nowhere.conf" --json status
jrun 20 "zupd check with no mirror answering" sh -c \
    "sed 's/127.0.0.1:$PORT/127.0.0.1:1/' '$work/zupd.conf' >'$work/dead.conf' && exec $ZUPD --config '$work/dead.conf' --json check"
grep -q '"name": "network"' "$work/out" && ok "the network failure is named" || bad "no network error: $(cat "$work/out")"
finish cli_json
