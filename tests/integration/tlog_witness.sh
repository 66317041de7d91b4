#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tlog_witness.sh -- witnesses of the transparency log
# (docs/transparency.md): two real `zupd-mirror witness serve` (C2SP
# tlog-witness) on 127.0.0.1 and a repository with a quorum of 2. A publish
# leaves log/checkpoint with the log's signature and two cosignatures that
# libzupd's zu_checkpoint_open verifies (tlogtool open); the witnesses'
# answers by HTTP status (curl): a re-cosign (200), a stale old size (409
# with the size, text/x.tlog.size), a rollback (400), a fork (422, asked by a
# second repository with the same log key), a bad proof (422), an unknown
# log (404), a bad log signature (403), a malformed body (400), an oversized
# one (413); the state survives kill -9 right after an answer; a witness
# down leaves a publish with one cosignature and a warning, and `log
# cosign` adds the second once it is back.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
test_init tlog-witness
M=$MIRROR
tool=$top_builddir/tests/interop/tlogtool
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS
R=$work/repo K=$work/keys
need curl python3

size() { sed -n 2p "$1/log/checkpoint"; }
cosigs() { grep -c '^— witness\.test/' "$1/log/checkpoint"; }

expect_rc 0 "init" "$M" init "$R" --keys "$K" --same-passphrase
cp "$R/log/checkpoint" "$work/cp-init"
LOGVKEY=$(cat "$R/log/vkey")
ORIGIN=$(sed -n 1p "$R/log/checkpoint")
OHASH=$(printf '%s' "$ORIGIN" | sha256sum | cut -d' ' -f1)

# the witnesses: keys, vkeys, servers on fixed free ports (a restart keeps
# its URL)
for i in 1 2; do
    expect_rc 0 "witness init w$i" "$M" witness init --key "$work/w$i.key" --name "witness.test/w$i"
    eval "W${i}VKEY=\$(cat \"\$work/out\")"
    eval "P$i=\$(free_port)"
done
check "a cosignature/v1 vkey" "$W1VKEY" '^witness\.test/w1\+[0-9a-f]{8}\+B'
expect_rc 1 "witness init: a name with a space" "$M" witness init --key "$work/bad.key" --name "a b"
expect_rc 31 "witness init: never over an existing key" "$M" witness init --key "$work/w1.key" \
    --name witness.test/w1
start_witness() { # start_witness N
    eval "_port=\$P$1"
    "$M" witness serve --key "$work/w$1.key" --name "witness.test/w$1" --state "$work/w$1-state" \
        --listen "127.0.0.1:$_port" --log "$LOGVKEY" 2>>"$work/w$1.err" &
    eval "w$1_pid=$!"
    track_pid $!
    wait_port "$_port" $! || {
        cat "$work/w$1.err"
        bad "witness w$1 did not start"
        return 1
    }
}
start_witness 1 && start_witness 2 && ok "two witnesses listening"
expect_rc 34 "a second witness on the same state is refused" "$M" witness serve --key "$work/w1.key" \
    --name witness.test/w1 --state "$work/w1-state" --listen 127.0.0.1:0 --log "$LOGVKEY"

# the repository's witnesses, quorum 2 (zupd-mirror log witness)
expect_rc 0 "log witness add w1" "$M" log witness add "$R" "$W1VKEY" "http://127.0.0.1:$P1" --keys "$K"
expect_rc 22 "a quorum above the witnesses listed is refused (nothing written)" \
    "$M" log witness add "$R" "$W2VKEY" "http://127.0.0.1:$P2/" --quorum 3 --keys "$K"
check "says why" "$(cat "$work/err")" "a quorum of 3 with 2 witnesses listed"
expect_rc 0 "log witness add w2 --quorum 2" \
    "$M" log witness add "$R" "$W2VKEY" "http://127.0.0.1:$P2/" --quorum 2 --keys "$K"
expect_rc 31 "the same witness twice is refused" \
    "$M" log witness add "$R" "$W1VKEY" "http://127.0.0.1:$P1" --keys "$K"
expect_rc 11 "a vkey that is not a cosignature/v1 one is refused" \
    "$M" log witness add "$R" "$LOGVKEY" "http://127.0.0.1:$P1" --keys "$K"
expect_rc 11 "a URL that is not http(s) is refused" \
    "$M" log witness add "$R" "$W1VKEY" "ftp://127.0.0.1/" --keys "$K"
expect_rc 25 "removing a witness not listed" "$M" log witness remove "$R" nobody.test/w --keys "$K"
expect_rc 0 "log witness list --json" "$M" log witness list "$R" --json --keys "$K"
python3 - "$work/out" "$R/.zupd/config.json" "$W1VKEY" "$W2VKEY" <<'PY' &&
import json, sys
out, cfg, v1, v2 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
assert out["quorum"] == 2 and [w["vkey"] for w in out["witnesses"]] == [v1, v2], out
assert cfg["witness_quorum"] == 2 and [w["vkey"] for w in cfg["witnesses"]] == [v1, v2], cfg
PY
    ok "config.json lists w1 and w2, quorum 2" || bad "witness list: $(cat "$work/out")"
printf '%s\n%s\n%s\n' "$LOGVKEY" "$W1VKEY" "$W2VKEY" >"$work/vkeys"

mkdir -p "$work/in"
echo one >"$work/in/a"
expect_rc 0 "publish 1.0 (both witnesses up)" "$M" publish app 1.0 "$work/in" -C "$R" --keys "$K"
if grep -q warning "$work/err"; then bad "publish warned: $(cat "$work/err")"; else ok "no warning"; fi
eq "two cosignature lines" "$(cosigs "$R")" 2
expect_rc 0 "libzupd: log signature and a quorum of 2 cosignatures" "$tool" open "$work/vkeys" "$R/log/checkpoint" 2
check "tlogtool open" "$(cat "$work/out")" "size $(size "$R"), 2 cosigner"
head -n 4 "$R/log/checkpoint" | tail -n 1 | grep -q '^$' && sed -n 5p "$R/log/checkpoint" | grep -q "^— $ORIGIN " &&
    ok "the log's own signature first" || bad "the log's signature is not first"
S1=$(size "$R")

# kill -9 right after an answer: the cosigned state is on disk
kill -9 "$w1_pid"
wait "$w1_pid" 2>/dev/null
if kill -0 "$w1_pid" 2>/dev/null; then bad "w1 still runs after kill -9"; else ok "w1 killed (-9)"; fi
start_witness 1
req() { # req FILE OLD [PROOF-LINES...]: a request body of OLD, proofs, the checkpoint FILE
    _cp=$1 _old=$2
    shift 2
    { printf 'old %s\n' "$_old"; for _l in "$@"; do printf '%s\n' "$_l"; done; printf '\n'; cat "$_cp"; } >"$work/req"
}
post() { # post PORT: POST $work/req; "STATUS CONTENT-TYPE", body in $work/resp
    curl -sS --noproxy '*' -o "$work/resp" -w '%{http_code} %{content_type}' \
        -H 'Content-Type: text/plain' --data-binary @"$work/req" "http://127.0.0.1:$1/add-checkpoint"
}
req "$R/log/checkpoint" 0
eq "after kill -9 and a restart: 409 names the size cosigned" "$(post "$P1")" "409 text/x.tlog.size"
eq "409 body" "$(cat "$work/resp")" "$S1"
req "$R/log/checkpoint" "$S1"
eq "the same checkpoint again: 200" "$(post "$P1")" "200 text/plain; charset=utf-8"
check "a cosignature line of w1" "$(cat "$work/resp")" '^— witness\.test/w1 [A-Za-z0-9+/]{102}==$'
curl -sS --noproxy '*' -o "$work/mon" "http://127.0.0.1:$P1/$OHASH/checkpoint" &&
    head -n 3 "$work/mon" | cmp -s - "$work/cp-head" 2>/dev/null || head -n 3 "$R/log/checkpoint" >"$work/cp-head"
head -n 3 "$work/mon" | cmp -s - "$work/cp-head" && grep -q '^— witness\.test/w1 ' "$work/mon" &&
    grep -q "^— $ORIGIN " "$work/mon" && ok "GET /<origin hash>/checkpoint: the log's and w1's signatures" ||
    bad "monitoring checkpoint: $(cat "$work/mon")"

# refusals, each with the specification's status
req "$work/cp-init" "$S1"
eq "a rollback (old size over the checkpoint's): 400" "$(post "$P1" | cut -d' ' -f1)" 400
req "$work/cp-init" 1
eq "a rollback from an older size: 409" "$(post "$P1" | cut -d' ' -f1)" 409
python3 - "$R/log/checkpoint" "$work/cp-badsig" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
sig = lines[4]  # the log's signature line
name, b64 = sig.rsplit(" ", 1)
i = 20  # inside the Ed25519 signature, past the key id
b64 = b64[:i] + ("A" if b64[i] != "A" else "B") + b64[i + 1:]
lines[4] = name + " " + b64
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines[:5]) + "\n")
PY
req "$work/cp-badsig" "$S1"
eq "a bad signature of the log's key: 403" "$(post "$P1" | cut -d' ' -f1)" 403
head -n 4 "$R/log/checkpoint" >"$work/cp-nosig"
printf '— other.example/key AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' >>"$work/cp-nosig"
req "$work/cp-nosig" "$S1"
eq "no signature of the log's key: 403" "$(post "$P1" | cut -d' ' -f1)" 403
expect_rc 0 "a repository whose log the witnesses do not follow" "$M" init "$work/other" --keys "$work/okeys" --same-passphrase
req "$work/other/log/checkpoint" 0
eq "an unknown log: 404" "$(post "$P1" | cut -d' ' -f1)" 404
printf 'old 01\n\n' >"$work/req" && cat "$R/log/checkpoint" >>"$work/req"
eq "a leading zero: 400" "$(post "$P1" | cut -d' ' -f1)" 400
printf 'old 1\nnot-base64\n\n' >"$work/req" && cat "$R/log/checkpoint" >>"$work/req"
eq "a proof line that is no hash: 400" "$(post "$P1" | cut -d' ' -f1)" 400
head -c 200000 /dev/zero | tr '\0' 'a' >"$work/req"
eq "a body over the cap: 413" "$(post "$P1" | cut -d' ' -f1)" 413

# a fork: a second repository with the same log key (same origin) but other
# entries, grown to at least the witnesses' size, asks them: each answers
# the 409, then refuses the consistency proof from its tree (422)
R2=$work/fork
expect_rc 0 "init a fork with the same keys" "$M" init "$R2" --keys "$K" --same-passphrase
eq "same origin" "$(sed -n 1p "$R2/log/checkpoint")" "$ORIGIN"
v=0
while [ "$(size "$R2")" -le "$S1" ] && [ $v -lt 10 ]; do
    [ "$(size "$R2")" = "$S1" ] && cp "$R2/log/checkpoint" "$work/cp-fork-same"
    v=$((v + 1))
    echo "fork $v" >"$work/in/a"
    "$M" publish app "9.$v" "$work/in" -C "$R2" --keys "$K" >/dev/null 2>&1 || bad "fork publish 9.$v"
done
cp "$R/.zupd/config.json" "$R2/.zupd/config.json"
expect_rc 14 "log cosign of the fork (larger): below the quorum" "$M" log cosign "$R2"
check "both witnesses refused the fork's proof" "$(cat "$work/err")" \
    "w1' refused .* size $(size "$R2") from size $S1: HTTP 422: a bad consistency proof" "w2' refused .*HTTP 422"
eq "no cosignature on the fork" "$(cosigs "$R2")" 0
expect_rc 14 "log cosign --json below the quorum" "$M" log cosign "$R2" --json
check "an error envelope with the counts" "$(cat "$work/out")" '"ok": *false' '"name": *"threshold"' '"cosigned": *0'
if [ -f "$work/cp-fork-same" ]; then
    req "$work/cp-fork-same" "$S1"
    eq "a fork at the same size (a different root): 422" "$(post "$P2" | cut -d' ' -f1)" 422
else
    bad "the fork never had the log's size $S1"
fi

# a witness down: the publish goes on with one cosignature and a warning
kill -9 "$w1_pid"
wait "$w1_pid" 2>/dev/null
echo two >"$work/in/a"
expect_rc 0 "publish 2.0 with w1 down" "$M" publish app 2.0 "$work/in" -C "$R" --keys "$K"
check "a warning names the witness" "$(cat "$work/err")" "warning: witness 'witness\.test/w1' .*did not answer" \
    "1 of the 2 cosignatures"
eq "one cosignature" "$(cosigs "$R")" 1
expect_rc 0 "libzupd: quorum 1 met" "$tool" open "$work/vkeys" "$R/log/checkpoint" 1
expect_rc 1 "libzupd: quorum 2 not met" "$tool" open "$work/vkeys" "$R/log/checkpoint" 2
S2=$(size "$R")
start_witness 1
# w1 is at S1, the checkpoint at S2: a proof that is not one
req "$R/log/checkpoint" "$S1" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
eq "a bad consistency proof: 422" "$(post "$P1" | cut -d' ' -f1)" 422
req "$R/log/checkpoint" "$S1"
eq "no proof at all: 422" "$(post "$P1" | cut -d' ' -f1)" 422
req "$R/log/checkpoint" 0 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
eq "a proof from size 0: 409 first (w1 has cosigned)" "$(post "$P1" | cut -d' ' -f1)" 409
expect_rc 0 "log cosign once w1 is back" "$M" log cosign "$R"
check "log cosign" "$(cat "$work/out")" "^ok: .* size $S2 has 2 of 2 .*1 new"
eq "two cosignatures" "$(cosigs "$R")" 2
expect_rc 0 "libzupd: quorum 2 met again" "$tool" open "$work/vkeys" "$R/log/checkpoint" 2
expect_rc 0 "log verify still accepts the log" "$M" log verify "$R"
expect_rc 0 "log cosign again: nothing to ask" "$M" log cosign "$R" --json
check "--json" "$(cat "$work/out")" '"cosigned": *2' '"added": *0'

# crashes: publish killed (the library's ZUPD_MIRROR_CRASH_AT hook) at each
# step from the log-signed checkpoint to the first TUF metadata file, in a
# fresh copy of the repository and of both witnesses' states each time:
# the log verifies, its checkpoint is the log's signed one, and running
# publish again ends with two cosignatures (a witness that cosigned before
# the crash is caught up through its 409, never seen as a fork)
stop_witnesses() {
    for i in 1 2; do
        eval "_p=\$w${i}_pid"
        kill "$_p" 2>/dev/null
        wait "$_p" 2>/dev/null
    done
}
stop_witnesses
cp -a "$R" "$work/base-repo" && cp -a "$work/w1-state" "$work/base-w1" && cp -a "$work/w2-state" "$work/base-w2"
restore() {
    stop_witnesses
    rm -rf "$R" "$work/w1-state" "$work/w2-state"
    cp -a "$work/base-repo" "$R" && cp -a "$work/base-w1" "$work/w1-state" && cp -a "$work/base-w2" "$work/w2-state"
    start_witness 1 && start_witness 2
}
restore
echo three >"$work/in/a"
ZUPD_MIRROR_CRASH_TRACE=1 "$M" publish app 3.0 "$work/in" -C "$R" --keys "$K" >/dev/null 2>"$work/trace" ||
    bad "traced publish"
steps_of() { sed -n "s/^zupd-mirror: step \([0-9]*\): rename '$1'\$/\1/p" "$work/trace"; }
ck1=$(steps_of 'log\/checkpoint' | sed -n 1p)
ck2=$(steps_of 'log\/checkpoint' | sed -n 2p)
sizes=$(steps_of '.zupd\/witness-sizes.json')
meta1=$(sed -n "s/^zupd-mirror: step \([0-9]*\): rename 'metadata\/.*/\1/p" "$work/trace" | head -n 1)
if [ -n "$ck1" ] && [ -n "$ck2" ] && [ -n "$sizes" ] && [ -n "$meta1" ] && [ "$ck1" -lt "$ck2" ] &&
    [ "$ck2" -lt "$meta1" ] && [ "$sizes" -lt "$meta1" ]; then
    ok "order: checkpoint (step $ck1), cosigned checkpoint ($ck2), witness sizes ($sizes), then metadata ($meta1)"
else
    bad "order: checkpoint '$ck1', cosigned '$ck2', sizes '$sizes', first metadata '$meta1'"
fi
eq "traced publish: two cosignatures" "$(cosigs "$R")" 2
n=$((ck1 - 3))
while [ -n "$meta1" ] && [ "$n" -le "$meta1" ]; do
    restore
    ZUPD_MIRROR_CRASH_AT=$n "$M" publish app 3.0 "$work/in" -C "$R" --keys "$K" >/dev/null 2>&1
    rc=$?
    [ "$rc" = 137 ] && ok || bad "step $n: not killed (exit $rc)"
    out=$("$M" log verify "$R" 2>&1) && ok || bad "killed at step $n: log verify: $out"
    out=$("$tool" open "$work/vkeys" "$R/log/checkpoint" 0 2>&1) && ok ||
        bad "killed at step $n: checkpoint not the log's: $out"
    "$M" publish app 3.0 "$work/in" -C "$R" --keys "$K" >"$work/again" 2>&1 && ok ||
        bad "killed at step $n: publish again: $(cat "$work/again")"
    grep -q warning "$work/again" && bad "killed at step $n: publish again warned: $(cat "$work/again")"
    [ "$(cosigs "$R")" = 2 ] && "$tool" open "$work/vkeys" "$R/log/checkpoint" 2 >/dev/null 2>&1 && ok ||
        bad "killed at step $n, publish again: $(cosigs "$R") cosignatures"
    n=$((n + 1))
done
echo "ok: publish killed at each of steps $((ck1 - 3))..$meta1, then run again: the log verifies, 2 cosignatures"

# a witness removed by name, the quorum lowered with it
expect_rc 22 "removing w2 with quorum 2 left is refused" "$M" log witness remove "$R" witness.test/w2 --keys "$K"
expect_rc 0 "log witness remove w2 --quorum 1" "$M" log witness remove "$R" witness.test/w2 --quorum 1 --keys "$K"
check "one witness left, quorum 1" "$(cat "$work/out")" "1 witness, quorum 1"
expect_rc 0 "log witness add w2 again --quorum 2" \
    "$M" log witness add "$R" "$W2VKEY" "http://127.0.0.1:$P2/" --quorum 2 --keys "$K"

# a bad configuration is refused by name
python3 - "$R/.zupd/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["witness_quorum"] = 3
json.dump(c, open(sys.argv[1], "w"))
PY
expect_rc 11 "a quorum over the witnesses" "$M" log cosign "$R"
check "names the setting" "$(cat "$work/err")" "witness_quorum"
finish tlog_witness
