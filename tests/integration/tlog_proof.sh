#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tlog_proof.sh -- the offline proof unit
# (docs/transparency.md, "Proof material as one unit"): `zupd-mirror log
# proof` on a real repository writes the unit of a release manifest and of a
# channel pointer; prooftool, an offline endpoint (lib/tlog_proof.c only, no
# network, no tile), accepts it with the witnesses' quorum and the stored
# checkpoint, and refuses a flipped proof hash, another release's bytes, a
# stored checkpoint of another size (a unit made for another endpoint) or
# another root (a fork), an unmet quorum and another log key, each with its
# exit code (10 + enum zupd_err).
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
test_init tlog-proof
M=$MIRROR
PT=$top_builddir/tests/integration/prooftool
NT=$top_builddir/tests/integration/notetool
[ -x "$PT" ] || skip "tests/integration/prooftool is not built"
[ -x "$NT" ] || skip "tests/integration/notetool is not built"
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS
R=$work/repo K=$work/keys U=$work/unit

target() { ls "$R/targets/$1/"*".$2"; } # target DIR NAME: the file of a target
rc_of() { "$@" >"$work/out" 2>"$work/err"; echo $?; }

expect_rc 0 "init" "$M" init "$R" --keys "$K" --same-passphrase
mkdir -p "$work/in"
echo one >"$work/in/a"
expect_rc 0 "publish 1.0" "$M" publish app 1.0 "$work/in" -C "$R" --keys "$K"
cp "$R/log/checkpoint" "$work/cp-old" # what an endpoint accepted then (size 2)
old=$(sed -n 2p "$work/cp-old")
expect_rc 0 "promote 1.0" "$M" promote app 1.0 --channel stable -C "$R" --keys "$K"
echo two >"$work/in/a"
expect_rc 0 "publish 2.0" "$M" publish app 2.0 "$work/in" -C "$R" --keys "$K"
VK=$(cat "$R/log/vkey")
M1=$(target products/app/1.0 manifest.json)
M2=$(target products/app/2.0 manifest.json)
CH=$(target products/app/channels stable.json)

# a witness cosigns the checkpoint (notetool: the test's witness key)
ORIGIN=$(sed -n 1p "$R/log/checkpoint")
WV=$("$NT" vkey witness witness-one.example w1) || bad "notetool vkey"
"$NT" cosign witness-one.example w1 1767225600 "$R/log/checkpoint" || bad "notetool cosign"

expect_rc 0 "log proof of release 1.0 from size $old" \
    "$M" log proof "$R" products/app/1.0/manifest.json --old "$old" --out "$U"
check "log proof summary" "$(cat "$work/out")" "is entry 1 of log '$ORIGIN'" "1 cosignatures" \
    "consistency from size $old"
head -1 "$U" | grep -qx 'zupd-log-proof/v1' && ok "the unit's first line" || bad "the unit's first line"
expect_rc 0 "offline check with the stored checkpoint and one witness" \
    "$PT" "$U" "$VK" "$work/cp-old" products/app/1.0/manifest.json "$M1" 1 "$WV"
check "offline check" "$(cat "$work/out")" "ok: entry 1 of size 4, 1 cosigners"
expect_rc 0 "offline check without a stored checkpoint" \
    "$PT" "$U" "$VK" - products/app/1.0/manifest.json "$M1"
expect_rc 0 "log proof on stdout, no --old" "$M" log proof "$R" products/app/channels/stable.json
cp "$work/out" "$work/unit-ch"
grep -qx 'old 0' "$work/unit-ch" && ok "stdout: the unit alone" || bad "stdout: the unit alone"
expect_rc 0 "offline check of the channel pointer" \
    "$PT" "$work/unit-ch" "$VK" - products/app/channels/stable.json "$CH" 1 "$WV"
expect_rc 0 "log proof --json" "$M" log proof "$R" products/app/2.0/manifest.json --old 4 --json
python3 - "$work/out" <<'PY' && ok "--json envelope: index, size, unit" || bad "--json envelope"
import json, sys
d = json.load(open(sys.argv[1]))
r = d.get("result", d)
assert r["index"] == 3 and r["size"] == 4 and r["old"] == 4 and r["consistency"] == 0, r
assert r["unit"].startswith("zupd-log-proof/v1\nindex 3\nold 4\n"), r
PY

# refusals, each with the online check's exit code
flip=$work/flip
python3 - "$U" "$flip" <<'PY'
import sys
l = open(sys.argv[1]).read().split("\n")
i = l.index("inclusion 2") + 1
l[i] = ("B" if l[i][0] == "A" else "A") + l[i][1:]
open(sys.argv[2], "w").write("\n".join(l))
PY
rc=$(rc_of "$PT" "$flip" "$VK" "$work/cp-old" products/app/1.0/manifest.json "$M1")
eq "a flipped inclusion hash: not in the log (25)" "$rc" 25
grep -q "not proven to be entry 1" "$work/err" && ok "message: not proven" || bad "message: $(cat "$work/err")"
rc=$(rc_of "$PT" "$U" "$VK" "$work/cp-old" products/app/1.0/manifest.json "$M2")
eq "another release's bytes: not in the log (25)" "$rc" 25
rc=$(rc_of "$PT" "$U" "$VK" "$R/log/checkpoint" products/app/1.0/manifest.json "$M1")
eq "stored checkpoint of another size than --old: mismatch (29)" "$rc" 29
grep -q -- "--old 4" "$work/err" && ok "message names the --old to use" || bad "message: $(cat "$work/err")"
sed "3s#.*#$(sed -n 3p "$R/log/checkpoint")#" "$work/cp-old" >"$work/cp-fork"
rc=$(rc_of "$PT" "$U" "$VK" "$work/cp-fork" products/app/1.0/manifest.json "$M1")
eq "stored checkpoint of size $old with another root: a fork (16)" "$rc" 16
rc=$(rc_of "$PT" "$U" "$VK" "$work/cp-old" products/app/1.0/manifest.json "$M1" 2 "$WV" \
    "$("$NT" vkey witness witness-two.example w2)")
eq "quorum of 2, one cosigner: threshold (14)" "$rc" 14
rc=$(rc_of "$PT" "$U" "$("$NT" vkey log "$ORIGIN" not-the-log-key)" "$work/cp-old" \
    products/app/1.0/manifest.json "$M1")
eq "another log key: signature (13)" "$rc" 13
head -c 200 "$U" >"$work/cut"
rc=$(rc_of "$PT" "$work/cut" "$VK" - products/app/1.0/manifest.json "$M1")
eq "a truncated unit: format (11)" "$rc" 11
expect_rc 25 "log proof of an unsigned path" "$M" log proof "$R" products/app/9.9/manifest.json
expect_rc 22 "log proof --old above the size" "$M" log proof "$R" products/app/1.0/manifest.json --old 99
expect_rc 1 "--out is not an option of log verify" "$M" log verify "$R" --out "$work/x"
finish tlog_proof
