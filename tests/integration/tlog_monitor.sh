#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tlog_monitor.sh -- the auditor's and the mirror's side
# of the transparency log (docs/transparency.md): a repository served by
# zupd-mirror serve on 127.0.0.1; `log verify URL` cross-checks it with the
# TUF repository at that URL; `log show` lists the entries; `log monitor`
# reports every entry on its first run, then exactly the new ones, and
# alarms (exit 29 fork, 16 rollback) on a forked log (a copy of the
# repository and its log key that went its own way) and on a rolled-back
# checkpoint, keeping its state; a tampered tile is caught (17); `sync`
# carries log/ (only new tiles fetched), a downstream `log verify` of the
# mirror passes, and sync refuses a forked upstream log, a tampered tile and
# a release signed but not logged, leaving the mirror as it was.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
test_init tlog-monitor
M=$MIRROR
LC_ALL=C ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export LC_ALL ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS
R=$work/repo K=$work/keys D=$work/mirror S=$work/monitor.state

flip() { # flip FILE OFFSET
    python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[int(sys.argv[2])]^=1; open(p,"wb").write(b)' "$1" "$2"
}
pub() { # pub REPO KEYS VERSION: publish app VERSION
    mkdir -p "$work/in"
    echo "$3" >"$work/in/a"
    "$M" publish app "$3" "$work/in" -C "$1" --keys "$2" >"$work/pub.log" 2>&1 || {
        cat "$work/pub.log"
        bad "publish $3 into $1"
    }
}
# jq_ EXPR: a Python expression over the JSON document in $work/out (as j)
jq_() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$work/out" "$1"; }
schema() { # schema NAME: $work/out is a valid --json envelope
    if python3 "$top_srcdir/tests/integration/json_schema.py" "$top_srcdir/docs/json-envelope.schema.json" "$work/out" >"$work/schema.out" 2>&1; then
        ok "$1: the --json envelope"
    else
        bad "$1: $(cat "$work/schema.out")"
    fi
}
listing() { (cd "$1" && find metadata targets blobs log -type f -print0 | sort -z | xargs -0 sha256sum); }

expect_rc 0 "init" "$M" init "$R" --keys "$K" --same-passphrase
pub "$R" "$K" 1.0
expect_rc 0 "promote 1.0" "$M" promote app 1.0 --channel stable -C "$R" --keys "$K"
cp "$R/metadata/1.root.json" "$work/root.json"
VK=$(cat "$R/log/vkey")
serve_tree "$R" || bad "serve the repository"
U=http://127.0.0.1:$SPORT/

# ---- log verify URL: the log over HTTP, cross-checked with the TUF repository
expect_rc 0 "log verify URL" "$M" log verify "$U" --root "$work/root.json" --vkey "$VK"
check "verify URL counts" "$(cat "$work/out")" "of 3 entries" "1 releases, 1 channel changes, 1 root versions" \
    "2 targets and every root version logged"
expect_rc 1 "log verify URL needs --root" "$M" log verify "$U"

# ---- log show: the checkpoint, then the entries
expect_rc 0 "log show DIR" "$M" log show "$R"
check "show: checkpoint" "$(cat "$work/out")" "^size 3$" "^signed by zupd-log/" "^root [A-Za-z0-9+/]{43}=$"
check "show: entries" "$(cat "$work/out")" "^0 root - - 1 [0-9a-f]{64}$" "^1 release products app 1.0 [0-9a-f]{64}$" \
    "^2 channel products app 1.0 [0-9a-f]{64}$"
expect_rc 0 "log show URL --from 1 --json" "$M" log show "$U" --from 1 --json
schema "log show"
eq "show --from 1: entries 1 and 2" "$(jq_ '[e["index"] for e in j["entries"]]')" "[1, 2]"
eq "show --json: checkpoint" "$(jq_ 'j["checkpoint"]["size"], j["checkpoint"]["signers"][0] == j["checkpoint"]["origin"]')" "(3, True)"

# ---- monitor: the first run reports everything
expect_rc 0 "monitor: first run" "$M" log monitor "$U" --state "$S" --vkey "$VK"
check "first run: every entry" "$(cat "$work/out")" "first run: 3 entries" "^2 channel products app 1.0 "
cmp -s "$S" "$R/log/checkpoint" && ok "monitor remembers the checkpoint" || bad "state is not the checkpoint"
cp "$R/log/checkpoint" "$work/cp3"
# a fork to come: a copy of the repository and its keys (the log key too)
cp -a "$R" "$work/fork" && cp -a "$K" "$work/fork-keys"

# ---- sync carries log/; a mirror of it verifies downstream
expect_rc 0 "sync: first" "$M" sync "$U" "$D" --root "$work/root.json" --json
eq "sync: log carried" "$(jq_ 'j["log"], j["log_size"]')" "(True, 3)"
cmp -s "$D/log/checkpoint" "$R/log/checkpoint" && cmp -s "$D/log/vkey" "$R/log/vkey" &&
    ok "mirror holds the checkpoint and vkey" || bad "mirror's log/ differs"
serve_tree "$D" || bad "serve the mirror"
UD=http://127.0.0.1:$SPORT/
expect_rc 0 "downstream: log verify URL of the mirror" "$M" log verify "$UD" --root "$work/root.json" --vkey "$VK"

# ---- publish; monitor reports exactly the new entries
pub "$R" "$K" 2.0
expect_rc 0 "promote 2.0" "$M" promote app 2.0 --channel stable -C "$R" --keys "$K"
expect_rc 0 "monitor: after a publish" "$M" log monitor "$U" --state "$S" --vkey "$VK" --json
schema "log monitor"
echo "  monitor of 2 new entries at size 5: $(jq_ 'j["requests"]') requests"
eq "monitor: exactly the new entries" "$(jq_ '[(e["index"], e["type"], e.get("version")) for e in j["entries"]], j["previous_size"], j["first_run"]')" \
    "([(3, 'release', '2.0'), (4, 'channel', '2.0')], 3, False)"
expect_rc 0 "monitor: nothing new" "$M" log monitor "$U" --state "$S" --vkey "$VK"
check "monitor: nothing new" "$(cat "$work/out")" "^0 new entries since size 5$"
expect_rc 0 "monitor --json: nothing new" "$M" log monitor "$U" --state "$S" --vkey "$VK" --json
eq "monitor: an idle check is one request (the checkpoint)" "$(jq_ 'len(j["entries"]), j["requests"]')" "(0, 1)"
cp "$S" "$work/state5"

# ---- sync again: only the new tiles
expect_rc 0 "sync: second" "$M" sync "$U" "$D" --json
eq "sync: 2 new log files (level-0 tile, entry bundle)" "$(jq_ 'j["log_size"], j["log_files_fetched"]')" "(5, 2)"
cmp -s "$D/log/checkpoint" "$R/log/checkpoint" && ok "mirror's checkpoint replaced" || bad "mirror's checkpoint"
listing "$D" >"$work/mirror5"

# ---- a tampered tile
pub "$R" "$K" 3.0
cp "$R/log/tile/0/000.p/6" "$work/tile6"
flip "$R/log/tile/0/000.p/6" 100
expect_rc 17 "monitor: a tampered tile" "$M" log monitor "$U" --state "$S" --vkey "$VK"
cmp -s "$S" "$work/state5" && ok "monitor: state kept" || bad "monitor changed its state"
expect_rc 17 "sync: a tampered tile" "$M" sync "$U" "$D"
listing "$D" | cmp -s - "$work/mirror5" && ok "sync: mirror unchanged" || bad "sync changed the mirror"
expect_rc 17 "log verify URL: a tampered tile" "$M" log verify "$U" --root "$work/root.json"
cp "$work/tile6" "$R/log/tile/0/000.p/6"

# ---- a fork: the copied repository, same log key, its own history
for v in 7.0 7.1 7.2 7.3 7.4; do pub "$work/fork" "$work/fork-keys" "$v"; done
serve_tree "$work/fork" || bad "serve the fork"
UF=http://127.0.0.1:$SPORT/
expect_rc 0 "the fork verifies on its own" "$M" log verify "$UF" --root "$work/root.json" --vkey "$VK"
expect_rc 29 "monitor: ALARM on a fork" "$M" log monitor "$UF" --state "$S" --vkey "$VK"
check "monitor: names the fork" "$(cat "$work/err")" "ALARM.*fork"
cmp -s "$S" "$work/state5" && ok "monitor: state kept after the alarm" || bad "monitor changed its state"
expect_rc 29 "monitor --json: ALARM on a fork" "$M" log monitor "$UF" --state "$S" --vkey "$VK" --json
schema "monitor alarm"
eq "monitor --json: the error" "$(jq_ 'j["ok"], j["error"]["name"], "fork" in j["error"]["message"]')" "(False, 'mismatch', True)"
expect_rc 29 "sync: refuses a forked upstream log" "$M" sync "$UF" "$D"
check "sync: names it" "$(cat "$work/err")" "not consistent with the log the mirror holds.*fork"
listing "$D" | cmp -s - "$work/mirror5" && ok "sync: mirror whole after a fork" || bad "sync changed the mirror"

# ---- a rolled-back checkpoint
cp -a "$R" "$work/rb"
cp "$work/cp3" "$work/rb/log/checkpoint"
expect_rc 16 "monitor: ALARM on a rollback" "$M" log monitor "$work/rb" --state "$S" --vkey "$VK"
check "monitor: names the rollback" "$(cat "$work/err")" "ALARM.*rollback"
cmp -s "$S" "$work/state5" && ok "monitor: state kept after the rollback" || bad "monitor changed its state"

# ---- a release signed but not logged: sync refuses the upstream
cp -a "$R" "$work/unlogged" && cp -a "$K" "$work/unlogged-keys"
mv "$work/unlogged/log" "$work/log-aside" && mv "$work/unlogged-keys/online/log.key" "$work/log.key-aside"
pub "$work/unlogged" "$work/unlogged-keys" 9.0
mv "$work/log-aside" "$work/unlogged/log"
serve_tree "$work/unlogged" || bad "serve the unlogged repository"
expect_rc 25 "sync: refuses a release signed but not logged" "$M" sync "http://127.0.0.1:$SPORT/" "$D"
check "sync: names the release" "$(cat "$work/err")" "products/app/9.0/manifest.json.*signed but not in the log"
listing "$D" | cmp -s - "$work/mirror5" && ok "sync: mirror whole after the refusal" || bad "sync changed the mirror"

# ---- back to the real upstream: sync and monitor move on
expect_rc 0 "sync: the real upstream again" "$M" sync "$U" "$D" --json
eq "sync: log at 6" "$(jq_ 'j["log_size"]')" "6"
expect_rc 0 "downstream: log verify URL of the mirror" "$M" log verify "$UD" --root "$work/root.json"
expect_rc 0 "downstream: log verify DIR of the mirror" "$M" log verify "$D" --vkey "$VK"
check "downstream: the mirror's log" "$(cat "$work/out")" "of 6 entries" "3 releases, 2 channel changes, 1 root versions"
expect_rc 0 "log verify file:// URL" "$M" log verify "file://$R/" --root "$work/root.json" --vkey "$VK"
expect_rc 0 "monitor: one new entry" "$M" log monitor "$U" --state "$S" --vkey "$VK"
check "monitor: 3.0" "$(cat "$work/out")" "^1 new entries since size 5$" "^5 release products app 3.0 "
cmp -s "$S" "$R/log/checkpoint" && ok "monitor: state moved on" || bad "state"
expect_rc 1 "monitor needs --state and --vkey" "$M" log monitor "$U" --vkey "$VK"
# witnesses: a quorum the checkpoint does not have (nobody cosigns here)
WV=$(python3 -c 'import base64, hashlib
name = "witness.example/w1"; pub = bytes(range(1, 33))
kid = hashlib.sha256(name.encode() + b"\n\x04" + pub).digest()[:4]
print(name + "+" + kid.hex() + "+" + base64.b64encode(b"\x04" + pub).decode())')
cp "$S" "$work/state6"
expect_rc 14 "monitor: a witness quorum not met" "$M" log monitor "$U" --state "$S" --vkey "$VK" --witness "$WV" --quorum 1
cmp -s "$S" "$work/state6" && ok "monitor: state kept without the quorum" || bad "monitor changed its state"
expect_rc 0 "monitor: the witness known, quorum 0" "$M" log monitor "$U" --state "$S" --vkey "$VK" --witness "$WV"
expect_rc 1 "monitor: --quorum above the witnesses given" "$M" log monitor "$U" --state "$S" --vkey "$VK" --quorum 1
finish tlog_monitor
