#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tuf_mirrors.sh -- a malicious mirror among several,
# against the real `zupd check` (and zupd-tuf-client) on 127.0.0.1: the
# update must succeed from the good mirror; when every mirror is hostile it
# must fail with the refusal. See docs/internals/attacks.md.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
tuf_setup
TUFC=$top_builddir/updater/zupd-tuf-client

make_base base
S=saved/A/repo/metadata
CH="targets/products/product/channels/*.stable.json"

# ------------------------------------------------ a malicious mirror among several
# the client must trust a newer timestamp than the one replayed: a mirror
# serving the timestamp the client already has is only stale (a freeze,
# bounded by the timestamp's expiry; see docs/internals/attacks.md)
ahead() {
    "$T" save "$C/r" A && "$T" publish "$C/r" && { zcheck; publish_channel "$C/r" 2.0; }
}
case_begin "mirrors: first replays an old timestamp"
ahead
mirrors evil good
rule evil metadata/timestamp.json file from="$C/r/$S/timestamp.json"
accept 100 timestamp=4 products=3
check_names 2.0
# the refused response carries the ETag of the good mirror's new timestamp:
# sent to the good mirror, it would answer 304 and hide the new timestamp
case_begin "mirrors: first replays an old timestamp with the new ETag"
ahead
mirrors evil good
rule evil metadata/timestamp.json file from="$C/r/$S/timestamp.json" etag=real
accept 100 timestamp=4 products=3
check_names 2.0
case_begin "mirrors: first sends endless data"
publish_channel "$C/r" 2.0
mirrors evil good
rule evil "metadata/*" endless
accept 100 timestamp=3 products=3
case_begin "mirrors: first trickles"
publish_channel "$C/r" 2.0
mirrors evil good
rule evil metadata/timestamp.json trickle delay=1
accept 100 timestamp=3 products=3
case_begin "mirrors: first serves an old snapshot"
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
mirrors evil good
rule evil metadata/3.snapshot.json file from="$C/r/$S/2.snapshot.json"
accept 100 timestamp=3 snapshot=3 products=3
case_begin "mirrors: first serves a forged channel pointer"
publish_channel "$C/r" 2.0
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"6.6"}' >"$C/evil.json"
mirrors evil good
rule evil "$CH" file from="$C/evil.json"
accept 100 products=3
check_names 2.0
case_begin "mirrors: first hides a new root (404)"
"$T" rotate "$C/r" root --revoke-all >/dev/null && publish_channel "$C/r" 2.0
mirrors evil good
rule evil metadata/2.root.json status code=404
accept 100 root=2 products=3
case_begin "mirrors: first hides the channel pointer (404)"
publish_channel "$C/r" 2.0
mirrors evil good
rule evil "$CH" status code=404
accept 100 products=3
check_names 2.0
case_begin "mirrors: first answers 500"
publish_channel "$C/r" 2.0
mirrors evil good
rule evil "*" status code=500
accept 100 timestamp=3 products=3
# one mirror asking for a long cool-down must not stop the client from
# using the others, in this run or the next
case_begin "mirrors: first answers 503 Retry-After: 3600"
publish_channel "$C/r" 2.0
mirrors evil good
rule evil "*" status code=503 retry_after=3600
accept 100 timestamp=3 products=3
NAME="mirrors: next run after a 503 Retry-After from one mirror"
publish_channel "$C/r" 3.0
accept 100 timestamp=4 products=4
check_names 3.0
case_begin "mirrors: all replay an old timestamp"
ahead
mirrors evil evil2
rule "*" metadata/timestamp.json file from="$C/r/$S/timestamp.json"
attack 16
case_begin "mirrors: one endless, one replaying"
ahead
mirrors evil evil2
rule evil metadata/timestamp.json endless
rule evil2 metadata/timestamp.json file from="$C/r/$S/timestamp.json"
attack 16
case_begin "mirrors: all send endless data"
mirrors evil evil2
rule "*" metadata/timestamp.json endless
attack 12
case_begin "mirrors: all serve a forged channel pointer"
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"6.6"}' >"$C/evil.json"
mirrors evil evil2
rule "*" "$CH" file from="$C/evil.json"
attack 17

# ------------------------------------------------ zupd-tuf-client (conformance CLI)
case_begin "tuf client: refresh against a replayed timestamp"
md=$C/tufmd
mkdir -p "$md" "$C/tgt"
"$TUFC" --metadata-dir "$md" init "$C/r/repo/metadata/1.root.json" &&
    "$TUFC" --metadata-dir "$md" --metadata-url "$u/good/${C#"$tmp"/}/r/repo/metadata" refresh 2>/dev/null
"$T" save "$C/r" A && publish_channel "$C/r" 2.0
"$TUFC" --metadata-dir "$md" --metadata-url "$u/good/${C#"$tmp"/}/r/repo/metadata" refresh 2>/dev/null
rule evil metadata/timestamp.json file from="$C/r/$S/timestamp.json"
"$T" save "$C/r" B
(cd "$md" && sha256sum -- *) >"$C/before"
"$TUFC" --metadata-dir "$md" --metadata-url "$u/evil/${C#"$tmp"/}/r/repo/metadata" refresh 2>"$C/err"
rc=$?
(cd "$md" && sha256sum -- *) >"$C/after"
if [ $rc -eq 1 ] && cmp -s "$C/before" "$C/after"; then ok "exit 1, metadata unchanged"; else bad "exit $rc"; fi
record 1 $rc "$([ $rc -eq 1 ] && echo ok || echo FAIL)"
NAME="tuf client: download of a target with the wrong content"
rule evil "$CH" flip
"$TUFC" --metadata-dir "$md" --metadata-url "$u/good/${C#"$tmp"/}/r/repo/metadata" \
    --target-name products/product/channels/stable.json --target-dir "$C/tgt" \
    --target-base-url "$u/evil/${C#"$tmp"/}/r/repo/targets" download 2>"$C/err"
rc=$?
left=$(ls -A "$C/tgt")
if [ $rc -eq 1 ] && [ -z "$left" ]; then ok "exit 1, nothing in the target directory"; else bad "exit $rc, left: $left"; fi
record 1 $rc "$([ $rc -eq 1 ] && [ -z "$left" ] && echo ok || echo FAIL)"

tuf_finish
