#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tlog_keyrot.sh -- rotating the transparency log's key
# (docs/transparency.md, "Rotating the log key") with no flag day: a real
# repository, a real witness (`zupd-mirror witness serve`, quorum 1) and
# three real endpoints on 127.0.0.1, one configured with the old log key,
# one with the new, one with both (log.keys). `log key add` makes the new
# key and every checkpoint is then signed by both (the witness, given both
# vkeys for the one origin, keeps cosigning); the old-key and the new-key
# endpoints both install; `log key retire` leaves the new key alone: the
# old-key endpoint refuses (exit 13, naming the log), the others install.
# `log verify` passes throughout. A retire interrupted right after its
# rename is finished by running it again.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
test_init tlog-keyrot
M=$MIRROR
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS
need python3
R=$work/repo K=$work/keys W=$work/web

mkdir -p "$work/in" "$W"
pub() { # pub VERSION CONTENT: publish app and promote it to stable
    echo "$2" >"$work/in/a"
    expect_rc 0 "publish $1" "$M" publish app "$1" "$work/in" -C "$R" --keys "$K"
    if grep -q warning "$work/err"; then bad "publish $1 warned: $(cat "$work/err")"; fi
    expect_rc 0 "promote $1" "$M" promote app "$1" --channel stable -C "$R" --keys "$K"
    rm -rf "${W:?}"/* && cp -a "$R"/. "$W"/
}
logsigs() { grep -c "^— $ORIGIN " "$R/log/checkpoint"; }
cosigs() { grep -c '^— witness\.test/w1 ' "$R/log/checkpoint"; }
verify() { # verify DESC [--vkey VKEY]: log verify passes
    _d=$1
    shift
    expect_rc 0 "log verify: $_d" "$M" log verify "$R" "$@"
}
conf() { # conf NAME LOG-KEYS-SETTING: endpoint NAME's zupd.conf
    mkdir -p "$work/$1"
    cat >"$work/$1/zupd.conf" <<EOF
mirrors = [ "http://127.0.0.1:$SPORT/" ];
trusted_root = "$R/metadata/1.root.json";
state_dir = "$work/$1/state";
low_speed_time = 5;
log_syslog = false;
components = (
  { name = "app"; role = "products"; channel = "stable"; install_path = "$work/$1/opt"; keep = 5; }
);
log = { $2 witnesses = [ "$WVKEY" ]; };
EOF
}
Z() { # Z NAME ARGS...: zupd of endpoint NAME
    _n=$1
    shift
    "$ZUPD" --config "$work/$_n/zupd.conf" "$@"
}
on() { # on NAME CONTENT: endpoint NAME runs that release
    eq "endpoint $1 runs '$2'" "$(cat "$work/$1/opt/a" 2>/dev/null)" "$2"
}

# ---------------------------------------------------------------- the repository and its witness
expect_rc 0 "init" "$M" init "$R" --keys "$K" --same-passphrase
OLD=$(cat "$R/log/vkey")
ORIGIN=$(cut -d+ -f1 "$R/log/vkey")
expect_rc 0 "witness init" "$M" witness init --key "$work/w1.key" --name witness.test/w1
WVKEY=$(cat "$work/out")
WP=$(free_port)
start_witness() { # start_witness VKEY...: the witness, following the log with these keys
    _args=""
    for _v in "$@"; do _args="$_args --log $_v"; done
    # shellcheck disable=SC2086 # one word per vkey
    "$M" witness serve --key "$work/w1.key" --name witness.test/w1 --state "$work/w1-state" \
        --listen "127.0.0.1:$WP" $_args 2>>"$work/w1.err" &
    w_pid=$!
    track_pid $w_pid
    wait_port "$WP" $w_pid || {
        cat "$work/w1.err"
        bad "the witness did not start"
        return 1
    }
}
stop_witness() { kill "$w_pid" && wait "$w_pid" 2>/dev/null; }
start_witness "$OLD" || exit 1
python3 - "$R/.zupd/config.json" "$WVKEY" "$WP" <<'PY'
import json, sys
p, v, port = sys.argv[1:]
c = json.load(open(p))
c["witnesses"] = [{"vkey": v, "url": "http://127.0.0.1:%s" % port}]
c["witness_quorum"] = 1
json.dump(c, open(p, "w"), indent=2)
PY
serve_tree "$W" || exit 1

pub 1.0 one
verify "before the rotation"
conf old "key = \"$OLD\";"
expect_rc 0 "old-key endpoint installs 1.0" Z old update
on old one

# ---------------------------------------------------------------- log key add
expect_rc 0 "log key add" "$M" log key add "$R" --keys "$K" --json
NEW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["new_vkey"])' "$work/out")
eq "add --json: the old vkey" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["old_vkey"])' "$work/out")" "$OLD"
check "the new key: same name (origin), another key ID" "$NEW" "^$ORIGIN\\+[0-9a-f]{8}\\+A"
[ "$NEW" != "$OLD" ] && ok "the new vkey is another key" || bad "the new vkey is the old one"
[ -f "$K/online/log-next.key" ] && ok "KEYDIR/online/log-next.key made" || bad "no log-next.key"
eq "log/vkey lists both, the current key first" "$(cat "$R/log/vkey")" "$OLD
$NEW"
eq "the checkpoint is re-signed by both keys" "$(logsigs)" 2
eq "its cosignature kept" "$(cosigs)" 1
verify "log/vkey with both keys"
verify "the old key alone" --vkey "$OLD"
verify "the new key alone" --vkey "$NEW"
expect_rc 0 "log key add again while under way: finishes, no third key" "$M" log key add "$R" --keys "$K"
check "says the rotation was under way" "$(cat "$work/out")" "under way"
eq "still two keys in log/vkey" "$(wc -l <"$R/log/vkey" | tr -d ' ')" 2

# the witness operator adds the new vkey for the same origin
stop_witness
start_witness "$OLD" "$NEW" || exit 1
pub 2.0 two
eq "a new checkpoint: signed by both keys" "$(logsigs)" 2
eq "cosigned by the witness" "$(cosigs)" 1
verify "after a publish signed by both"

expect_rc 0 "old-key endpoint installs 2.0" Z old update
on old two
conf new "key = \"$NEW\";"
expect_rc 0 "new-key endpoint installs 2.0" Z new update
on new two
conf both "keys = [ \"$OLD\", \"$NEW\" ];"
expect_rc 0 "both-keys endpoint (log.keys) installs 2.0" Z both update
on both two

# ---------------------------------------------------------------- log key retire
expect_rc 0 "log key retire" "$M" log key retire "$R" --keys "$K"
[ ! -e "$K/online/log-next.key" ] && ok "log-next.key became log.key" || bad "log-next.key still there"
eq "log/vkey: the new key alone" "$(cat "$R/log/vkey")" "$NEW"
eq "the checkpoint is signed by the new key alone" "$(logsigs)" 1
eq "its cosignature kept" "$(cosigs)" 1
verify "after retire"
verify "the new key" --vkey "$NEW"
expect_rc 13 "log verify with the old key refuses" "$M" log verify "$R" --vkey "$OLD"
expect_rc 25 "log key retire with no rotation under way" "$M" log key retire "$R" --keys "$K"
check "says so" "$(cat "$work/err")" "no log key rotation under way"

pub 3.0 three
eq "a new checkpoint: the new key alone" "$(logsigs)" 1
eq "cosigned by the witness (given both vkeys)" "$(cosigs)" 1
verify "after a publish with the new key"

expect_rc 13 "old-key endpoint refuses 3.0" Z old update
check "the refusal names the log" "$(cat "$work/err")" "log '$ORIGIN'.*not signed by key '$ORIGIN'"
on old two
expect_rc 0 "new-key endpoint installs 3.0" Z new update
on new three
expect_rc 0 "both-keys endpoint installs 3.0" Z both update
on both three
# the old endpoint's operator adds the new key: it catches up
conf old "keys = [ \"$OLD\", \"$NEW\" ];"
expect_rc 0 "old endpoint given the new key too installs 3.0" Z old update
on old three

# ---------------------------------------------------------------- a retire interrupted after its rename
expect_rc 0 "a second rotation: log key add" "$M" log key add "$R" --keys "$K"
NEWER=$(sed -n 2p "$R/log/vkey")
stop_witness
start_witness "$NEW" "$NEWER" || exit 1
mv "$K/online/log-next.key" "$K/online/log.key" # what retire's rename does, then a crash
expect_rc 0 "log verify after the crash (log/vkey still lists both)" "$M" log verify "$R"
expect_rc 0 "log key retire again finishes it" "$M" log key retire "$R" --keys "$K"
check "says it finished an interrupted retire" "$(cat "$work/out")" "interrupted retire finished"
eq "log/vkey: the newer key alone" "$(cat "$R/log/vkey")" "$NEWER"
eq "the checkpoint: the newer key alone" "$(logsigs)" 1
verify "after the finished retire"
pub 4.0 four
expect_rc 13 "the endpoint with the key retired now refuses 4.0" Z new update
on new three
conf new "key = \"$NEWER\";"
expect_rc 0 "the endpoint given the newer key installs 4.0" Z new update
on new four

finish tlog_keyrot
