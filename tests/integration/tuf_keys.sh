#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tuf_keys.sh -- the metadata attacks of the TUF
# specification against the real `zupd check` on 127.0.0.1, part 2:
# indefinite freeze, signature thresholds, root rotation, fast-forward
# recovery (part 1, tuf_attacks.sh: arbitrary software, rollback,
# mix-and-match). Each refusal must have its exit code (10 + enum zupd_err)
# and leave the trusted metadata unchanged; see docs/internals/attacks.md.
# Network attacks are in tuf_network.sh and tuf_mirrors.sh.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
tuf_setup

make_base base
S=saved/A/repo/metadata # replayed files, relative to a case's r/

# ------------------------------------------------ indefinite freeze
case_begin "freeze: expired timestamp"
"$T" expire "$C/r" timestamp -60 && "$T" publish "$C/r"
attack 15
case_begin "freeze: expired snapshot"
"$T" expire "$C/r" snapshot -60 && "$T" publish "$C/r"
attack 15 timestamp.json
case_begin "freeze: expired targets"
"$T" expire "$C/r" targets -60 && "$T" publish "$C/r"
attack 15 timestamp.json snapshot.json
case_begin "freeze: expired products"
"$T" expire "$C/r" products -60 && "$T" publish "$C/r"
attack 15 timestamp.json snapshot.json
case_begin "freeze: expired root (new root persisted, spec 5.3.8)"
"$T" rotate "$C/r" root --expires -60 >/dev/null
attack 15 root.json
case_begin "freeze: expired root, next run"
"$T" rotate "$C/r" root --expires -60 >/dev/null
zcheck
attack 15
# a timestamp the client trusted, replayed until after it expired: once
# answered 304 (conditional GET), once the same bytes again
case_begin "freeze: trusted timestamp replayed after expiry (304)"
F1=$C
"$T" expire "$C/r" timestamp 2 && "$T" publish "$C/r"
accept 100 timestamp=3
case_begin "freeze: trusted timestamp replayed after expiry (200)"
F2=$C
"$T" expire "$C/r" timestamp 2 && "$T" publish "$C/r"
accept 100 timestamp=3
rule evil metadata/timestamp.json noetag
sleep 3
C=$F1 NAME="freeze: trusted timestamp replayed after expiry (304)"
attack 15
grep -q "nothing newer" "$C/err" && ok "answered by a 304" || bad "not a 304: $(cat "$C/err")"
C=$F2 NAME="freeze: trusted timestamp replayed after expiry (200)"
attack 15

# ------------------------------------------------ signatures
case_begin "threshold: timestamp 1 of 2 signatures"
"$T" rotate "$C/r" timestamp --keys 1 --threshold 2 >/dev/null && "$T" publish "$C/r"
accept 100 root=2 timestamp=3
"$T" sign-with "$C/r" timestamp threshold-missing
attack 14
case_begin "threshold: one signature listed twice (same key id)"
"$T" rotate "$C/r" timestamp --keys 1 --threshold 2 >/dev/null && "$T" publish "$C/r"
accept 100 root=2 timestamp=3
"$T" sign-with "$C/r" timestamp duplicate-signature
attack 11
case_begin "threshold: one signature copied under another key id"
"$T" rotate "$C/r" timestamp --keys 1 --threshold 2 >/dev/null && "$T" publish "$C/r"
accept 100 root=2 timestamp=3
"$T" sign-with "$C/r" timestamp copied-signature
attack 14
case_begin "threshold: one key listed under two key ids"
"$T" dup-key "$C/r" timestamp >/dev/null && "$T" publish "$C/r"
attack 14 root.json
case_begin "threshold: signed by an unknown key"
"$T" sign-with "$C/r" timestamp unknown-key
attack 14
case_begin "threshold: timestamp signed by the snapshot key"
"$T" sign-with "$C/r" timestamp key "$("$T" keyids "$C/r" snapshot)"
attack 14
case_begin "threshold: products signed by the targets key"
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"6.6"}' >"$C/evil.json"
"$T" add-target "$C/r" products products/product/channels/stable.json "$C/evil.json"
"$T" publish "$C/r" --sign products key "$("$T" keyids "$C/r" targets)"
attack 14 timestamp.json snapshot.json
case_begin "threshold: unsigned snapshot"
"$T" sign-with "$C/r" snapshot none
attack 14 timestamp.json
case_begin "threshold: products 1 of 2 signatures"
"$T" rotate "$C/r" products --keys 1 --threshold 2 >/dev/null && publish_channel "$C/r" 2.0
accept 100 targets=2 products=3
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"6.6"}' >"$C/evil.json"
"$T" add-target "$C/r" products products/product/channels/stable.json "$C/evil.json"
"$T" publish "$C/r" --sign products threshold-missing
attack 14 timestamp.json snapshot.json

# ------------------------------------------------ root rotation
case_begin "rotation: good chain 1 -> 2 -> 3"
"$T" rotate "$C/r" root --revoke-all >/dev/null && "$T" rotate "$C/r" root --revoke-all >/dev/null
"$T" rotate "$C/r" timestamp --revoke-all >/dev/null && "$T" publish "$C/r"
accept 100 root=4 timestamp=3
case_begin "rotation: new root not signed by the old root keys"
"$T" rotate "$C/r" root --revoke-all --sign new >/dev/null
attack 14
case_begin "rotation: new root not signed by its own keys"
"$T" rotate "$C/r" root --revoke-all --sign old >/dev/null
attack 14
case_begin "rotation: broken link in a chain 1 -> 2 -> 3"
"$T" rotate "$C/r" root --revoke-all >/dev/null
"$T" rotate "$C/r" root --revoke-all --sign new >/dev/null
attack 14 root.json
case_begin "rotation: revoked timestamp key signs again"
old=$("$T" keyids "$C/r" timestamp)
"$T" rotate "$C/r" timestamp --revoke-all >/dev/null && "$T" publish "$C/r"
accept 100 root=2 timestamp=3
"$T" sign-with "$C/r" timestamp key "$old"
attack 14

# ------------------------------------------------ fast-forward recovery
case_begin "fast-forward: timestamp pushed to 1000000 by a stolen key"
"$T" save "$C/r" A && "$T" publish "$C/r" --version timestamp 1000000
accept 100 timestamp=1000000
"$T" restore "$C/r" A && publish_channel "$C/r" 2.0
NAME="fast-forward: without rotation the genuine timestamp is a rollback"
attack 16
NAME="fast-forward: timestamp key rotated, client recovers"
"$T" rotate "$C/r" timestamp --revoke-all >/dev/null && "$T" publish "$C/r"
accept 100 root=2 timestamp=4 snapshot=4 products=3
check_names 2.0
case_begin "fast-forward: snapshot pushed to 1000000 by stolen keys"
"$T" save "$C/r" A && "$T" publish "$C/r" --version snapshot 1000000
accept 100 timestamp=3 snapshot=1000000
"$T" restore "$C/r" A && publish_channel "$C/r" 2.0 && "$T" publish "$C/r"
NAME="fast-forward: without rotation the genuine snapshot is a rollback"
attack 16
NAME="fast-forward: snapshot and timestamp keys rotated, client recovers"
"$T" rotate "$C/r" snapshot --revoke-all >/dev/null
"$T" rotate "$C/r" timestamp --revoke-all >/dev/null && "$T" publish "$C/r"
accept 100 root=3 timestamp=5 snapshot=5 products=3
check_names 2.0
case_begin "fast-forward: targets pushed to 1000000 by stolen keys"
"$T" save "$C/r" A && "$T" publish "$C/r" --version targets 1000000
accept 100 targets=1000000
"$T" restore "$C/r" A && publish_channel "$C/r" 2.0 && "$T" expire "$C/r" targets 3000000 && "$T" publish "$C/r"
NAME="fast-forward: without rotation the genuine targets is a rollback"
attack 16 timestamp.json
NAME="fast-forward: targets, snapshot and timestamp keys rotated, client recovers"
"$T" rotate "$C/r" targets --revoke-all >/dev/null
"$T" rotate "$C/r" snapshot --revoke-all >/dev/null
"$T" rotate "$C/r" timestamp --revoke-all >/dev/null && "$T" publish "$C/r"
accept 100 root=4 targets=3 products=3
check_names 2.0

tuf_finish
