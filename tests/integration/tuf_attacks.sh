#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tuf_attacks.sh -- the metadata attacks of the TUF
# specification against the real `zupd check` on 127.0.0.1, part 1:
# arbitrary software, rollback of every role, mix-and-match (part 2,
# tuf_keys.sh: freeze, signature thresholds, root rotation, fast-forward).
# Each refusal must have its exit code (10 + enum zupd_err) and leave the
# trusted metadata unchanged; see docs/internals/attacks.md. Network
# attacks are in tuf_network.sh and tuf_mirrors.sh.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
tuf_setup

make_base base
make_base baseh --hashes
S=saved/A/repo/metadata # replayed files, relative to a case's r/
CH="targets/products/product/channels/*.stable.json"

# ------------------------------------------------ arbitrary software installation
case_begin "arbitrary target: other content, same length (hash)"
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"6.6"}' >"$C/evil.json"
rule evil "targets/products/product/channels/*.stable.json" file from="$C/evil.json"
attack 17
case_begin "arbitrary target: truncated (length)"
rule evil "targets/products/product/channels/*.stable.json" truncate n=20
attack 18
case_begin "arbitrary target: longer than signed (cap)"
rule evil "targets/products/product/channels/*.stable.json" append n=100
attack 12
case_begin "arbitrary target: another target's content"
printf '{"zupd_channel":1,"component":"widgets","channel":"stable","version":"1.0"}' >"$C/other.json"
"$T" add-target "$C/r" products products/widgets/channels/stable.json "$C/other.json"
"$T" publish "$C/r"
rule evil "targets/products/product/channels/*.stable.json" file from="$C/other.json"
attack 17 timestamp.json snapshot.json products.json
case_begin "arbitrary target: tampered products metadata"
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"6.6"}' >"$C/evil.json"
"$T" add-target "$C/r" products products/product/channels/stable.json "$C/evil.json"
"$T" publish "$C/r" --sign products tampered
attack 14 timestamp.json snapshot.json
case_begin "arbitrary target: avdb (key stolen) lists a products path"
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"6.6"}' >"$C/evil.json"
"$T" add-target "$C/r" avdb products/product/channels/stable.json "$C/evil.json"
"$T" publish "$C/r"
rule evil "$CH" file from="$C/evil.json"
attack 17 timestamp.json snapshot.json
grep -q "avdb" "$C/state/metadata/snapshot.json" && [ ! -e "$C/state/metadata/avdb.json" ] &&
    ok "avdb was never consulted for a products path" || bad "avdb consulted"

# ------------------------------------------------ rollback
case_begin "rollback: timestamp replayed"
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
accept 100 timestamp=3
rule evil metadata/timestamp.json file from="$C/r/$S/timestamp.json"
attack 16
case_begin "rollback: root N+1 is an old root"
"$T" rotate "$C/r" root >/dev/null
accept 100 root=2
rule evil metadata/3.root.json file from="$C/r/repo/metadata/1.root.json"
attack 16
case_begin "rollback: root N+1 skips a version"
"$T" rotate "$C/r" root --version 3 >/dev/null
rule evil metadata/2.root.json file from="$C/r/repo/metadata/3.root.json"
attack 16
case_begin "rollback: snapshot (timestamp key compromised)"
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
accept 100 snapshot=3
"$T" restore "$C/r" A snapshot && "$T" publish "$C/r" --no-snapshot
attack 16
case_begin "rollback: targets (snapshot key compromised)"
"$T" save "$C/r" A && "$T" expire "$C/r" targets 3000000 && "$T" publish "$C/r"
accept 100 targets=2
"$T" restore "$C/r" A targets && "$T" publish "$C/r"
attack 16 timestamp.json
case_begin "rollback: delegated products (snapshot key compromised)"
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
accept 100 products=3
"$T" restore "$C/r" A products && "$T" publish "$C/r"
attack 16 timestamp.json

# ------------------------------------------------ mix-and-match
case_begin "mix-and-match: old snapshot under the new name"
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
rule evil metadata/3.snapshot.json file from="$C/r/$S/2.snapshot.json"
attack 29 timestamp.json
case_begin "mix-and-match: old targets with the new snapshot"
"$T" save "$C/r" A && "$T" expire "$C/r" targets 3000000 && "$T" publish "$C/r"
rule evil metadata/2.targets.json file from="$C/r/$S/1.targets.json"
attack 29 timestamp.json snapshot.json
case_begin "mix-and-match: old products with the new snapshot"
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
rule evil metadata/3.products.json file from="$C/r/$S/2.products.json"
attack 29 timestamp.json snapshot.json
case_begin "mix-and-match: old snapshot, hashes in timestamp" baseh
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
rule evil metadata/3.snapshot.json file from="$C/r/$S/2.snapshot.json"
attack 17 timestamp.json
case_begin "mix-and-match: old products, hashes in snapshot" baseh
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
rule evil metadata/3.products.json file from="$C/r/$S/2.products.json"
attack 17 timestamp.json snapshot.json

tuf_finish
