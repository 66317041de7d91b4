#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tuf_payload.sh -- arbitrary software installation at the
# payload level: `zupd update` of a release whose manifest or blob a mirror
# replaces, truncates or pads must fail with its exit code and install
# nothing; with a good mirror after the hostile one it must install the
# signed content. See docs/internals/attacks.md.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
tuf_setup

# publish_release DIR VERSION: a release of one file bin/app (a raw blob)
publish_release() {
    d=$1 v=$2
    printf 'application %s\n' "$v" >"$d/app"
    i=0
    while [ $i -lt 200 ]; do printf 'line %d of the application %s\n' $i "$v"; i=$((i + 1)); done >>"$d/app"
    sha=$(sha256sum "$d/app" | cut -d' ' -f1)
    size=$(stat -c %s "$d/app")
    mkdir -p "$d/repo/blobs/sha256/$(echo "$sha" | cut -c1-2)"
    cp "$d/app" "$d/repo/blobs/sha256/$(echo "$sha" | cut -c1-2)/$sha"
    cat >"$d/manifest.json" <<EOM
{"zupd_manifest": 1, "component": "product", "role": "products", "version": "$v",
 "created": "2026-11-23T12:00:00Z", "provenance": {"source_revision": "git:0", "builder": "tests"},
 "files": [{"path": "bin/app", "mode": 493, "size": $size, "sha256": "$sha",
            "blob": {"sha256": "$sha", "size": $size, "encoding": "raw"}}]}
EOM
    "$T" add-target "$d" products "products/product/$v/manifest.json" "$d/manifest.json" &&
        publish_channel "$d" "$v"
}

zupdate() { "$ZUPD" --config "$C/zupd.conf" update >"$C/out" 2>"$C/err"; }

# update_attack CODE: zupd update exits CODE and installs nothing
update_attack() {
    want=$1
    zupdate
    rc=$?
    inst=$(ls "$C/state/components/product/versions" 2>/dev/null)
    if [ "$rc" -ne "$want" ]; then
        bad "exit $rc, expected $want"
        record "$want" "$rc" FAIL
    elif [ -n "$inst" ] || [ -e "$C/install/product" ]; then
        bad "installed: $inst"
        record "$want" "$rc" FAIL
    else
        ok "exit $rc, nothing installed"
        record "$want" "$rc" ok
    fi
}
# update_accept VERSION: zupd update installs the signed content of VERSION
update_accept() {
    zupdate
    rc=$?
    if [ "$rc" -eq 0 ] && cmp -s "$C/install/product/bin/app" "$C/r/app"; then
        ok "exit 0, $1 installed with the signed content"
        record 0 "$rc" ok
    else
        bad "exit $rc, $(ls -l "$C/install/product/" 2>&1)"
        record 0 "$rc" FAIL
    fi
}

make_base base
B="blobs/sha256/*"
M="targets/products/product/2.0/*.manifest.json"
mkdir -p "$tmp/base/install"

case_begin "payload: blob with other content (hash)"
publish_release "$C/r" 2.0
rule evil "$B" flip
update_attack 17
[ ! -e "$C/state/cache/$sha.part" ] && ok "no partial kept" || bad "partial kept"
NAME="payload: the same client, good mirror afterwards"
norules
update_accept 2.0
case_begin "payload: blob truncated (length)"
publish_release "$C/r" 2.0
rule evil "$B" truncate n=100
update_attack 18
case_begin "payload: blob longer than signed (cap)"
publish_release "$C/r" 2.0
rule evil "$B" append n=1000
update_attack 12
case_begin "payload: blob sent endlessly"
publish_release "$C/r" 2.0
rule evil "$B" endless
update_attack 12
case_begin "payload: manifest replaced by another release's"
publish_release "$C/r" 2.0
publish_release "$C/r" 3.0
printf '{"zupd_channel":1,"component":"product","channel":"stable","version":"2.0"}' >"$C/p2.json"
"$T" add-target "$C/r" products products/product/channels/stable.json "$C/p2.json" && "$T" publish "$C/r"
rule evil "$M" file from="$C/r/manifest.json"
update_attack 17
# a hostile mirror leaves a wrong partial blob (cut connections are resumed):
# the next run, from a good mirror, must still install the signed content
case_begin "payload: poisoned partial blob, then a good mirror"
publish_release "$C/r" 2.0
rule evil "$B" cut n=2000 flip=1
zupdate
[ -s "$C/state/cache/$sha.part" ] && ok "partial kept after a cut connection" || bad "no partial: $(ls "$C/state/cache")"
norules
NAME="payload: poisoned partial blob, next run from a good mirror"
update_accept 2.0
case_begin "payload: first mirror sends wrong bytes and cuts, second resumes"
publish_release "$C/r" 2.0
mirrors evil good
rule evil "$B" cut n=2000 flip=1
update_accept 2.0
case_begin "payload: hostile mirror first, good mirror second"
publish_release "$C/r" 2.0
mirrors evil good
rule evil "$B" flip
rule evil "$M" truncate n=10
update_accept 2.0
# blame: the log names the mirror that sent the wrong bytes, never the next
check "mismatch blamed on the mirror that sent the bytes" "$(cat "$C/err")" \
    "hash mismatch of the bytes mirror '[^']*/evil/[^']*' sent"
grep 'mismatch' "$C/err" | grep -q '/good/' && bad "the good mirror blamed: $(grep mismatch "$C/err")"
# a wrong partial left by an earlier run is checked before any mirror is
# asked: its failure is the cache's, no mirror's
case_begin "payload: a whole wrong partial in the cache, then two good mirrors"
publish_release "$C/r" 2.0
mirrors good good
printf 'application 2.0' >"$C/app.bad"
head -c $(($(stat -c %s "$C/r/app") - 15)) /dev/zero >>"$C/app.bad"
cp "$C/app.bad" "$C/state/cache/$sha.part"
update_accept 2.0
check "leftover partial blamed on the cache" "$(cat "$C/err")" \
    "partial download in the local cache .* does not match its signed hash; discarded, no mirror blamed"
grep 'mismatch' "$C/err" | grep -q '/good/' && bad "a mirror blamed for the cache: $(grep mismatch "$C/err")"

tuf_finish
