#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/sync_policy.sh -- zupd-mirror sync --policy: a filtered
# enterprise mirror (--keep 1) keeps every release the enterprise's policy
# repository pins (read verified, against its own root, from a directory or
# a URL), an endpoint held by that policy installs the pinned release from
# the mirror, a policy repository that does not verify fails the sync closed
# (nothing removed), and verify --policy reports a pin the mirror cannot
# serve.
set -u
LC_ALL=C ZUPD_KDF_COST=min
export LC_ALL ZUPD_KDF_COST
. "$(dirname "$0")/lib.sh"
test_init syncpolicy

jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/out" "$1"; }
# has DIR VERSION: the mirror DIR holds product VERSION's manifest
has() { ls "$1/targets/products/product/$2/"*.manifest.json >/dev/null 2>&1; }
# blobs_ok DIR VERSION: the mirror DIR holds every blob VERSION's manifest names
blobs_ok() {
    python3 - "$work/repo" "$1" "$2" <<'PY'
import glob, json, os, sys
repo, mirror, v = sys.argv[1:]
m = glob.glob("%s/targets/products/product/%s/*.manifest.json" % (repo, v))[0]
for f in json.load(open(m))["files"]:
    h = f["blob"]["sha256"]
    p = "%s/blobs/sha256/%s/%s" % (mirror, h[:2], h)
    assert os.path.getsize(p) == f["blob"]["size"], p
PY
}
listing() { (cd "$1" && find metadata targets blobs -type f -print0 | sort -z | xargs -0 sha256sum); }

start_repo || exit 1
UP="http://127.0.0.1:$PORT/"
cp "$work/repo/metadata/1.root.json" "$work/pinned-root.json"
for v in 1.0 2.0 3.0; do
    make_tree "$work/v$v" "$v" 20
    publish product "$v" "$work/v$v" || exit 1
done
promote product 3.0 stable || exit 1

# the enterprise's policy repository holds the fleet on 1.0
pol() { "$MIRROR" policy "$@" -C "$work/policy" --keys "$work/pkeys"; }
expect_rc 0 "policy init" "$MIRROR" policy init "$work/policy" --keys "$work/pkeys" --same-passphrase
expect_rc 0 "policy pin product 1.0" pol pin product 1.0 --channel stable --note "INC-7 hold"
cp "$work/policy/metadata/1.root.json" "$work/policy-root.json"
serve_tree "$work/policy" || exit 1
POLURL="http://127.0.0.1:$SPORT/"
SYNC="$MIRROR sync"

# --- usage
expect_rc 1 "--policy without --policy-root is a usage error" \
    $SYNC "$UP" "$work/x" --root "$work/pinned-root.json" --keep 1 --policy "$work/policy"
grep -q -- "--policy-root" "$work/err" && ok "the message asks for --policy-root" ||
    bad "message: $(cat "$work/err")"
[ -e "$work/x" ] && bad "a usage error created the mirror" || ok "nothing was created"

# --- without --policy, --keep 1 removes 1.0 as before
expect_rc 0 "full sync (plain)" $SYNC "$UP" "$work/plain" --root "$work/pinned-root.json"
has "$work/plain" 1.0 && ok "the full mirror has 1.0" || bad "the full mirror lacks 1.0"
expect_rc 0 "sync --keep 1 without --policy" $SYNC "$UP" "$work/plain" --keep 1
has "$work/plain" 1.0 && bad "1.0 kept without --policy" || ok "without --policy 1.0 is removed"
grep -q "removed: products/product/1.0/manifest.json" "$work/out" && ok "report: 1.0 removed" ||
    bad "report: $(cat "$work/out")"
has "$work/plain" 3.0 && ok "3.0 (newest, stable) kept" || bad "3.0 missing"

# --- with --policy DIR: the pinned 1.0 stays, 2.0 goes
ENT=$work/ent
expect_rc 0 "full sync (enterprise)" $SYNC "$UP" "$ENT" --root "$work/pinned-root.json"
expect_rc 0 "sync --keep 1 --policy DIR" $SYNC "$UP" "$ENT" --keep 1 \
    --policy "$work/policy" --policy-root "$work/policy-root.json" --json
cat "$work/out"
has "$ENT" 1.0 && ok "the pinned 1.0 is kept" || bad "the pinned 1.0 was removed"
blobs_ok "$ENT" 1.0 && ok "with every blob its manifest names" || bad "1.0's blobs are missing"
has "$ENT" 3.0 && ok "3.0 (newest, stable) kept" || bad "3.0 missing"
has "$ENT" 2.0 && bad "2.0 kept" || ok "2.0 (neither newest nor pinned) removed"
python3 - "$work/out" <<'PY' && ok "--json reports the pin as kept" || bad "--json pins wrong"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] and r["pins_kept"] == 1, r
assert r["pins"] == [{"pointer": "products/product/channels/stable.json",
                      "release": "products/product/1.0/manifest.json",
                      "version": "1.0", "state": "kept"}], r["pins"]
assert "products/product/2.0/manifest.json" in r["removed_targets"], r
assert "products/product/1.0/manifest.json" not in r["removed_targets"], r
PY
[ -f "$ENT/.zupd/sync-policy/timestamp.json" ] && ok "the policy's trusted state is kept in .zupd/sync-policy" ||
    bad "no policy state in $ENT/.zupd/sync-policy"

# --- again, with the policy by URL (from the trusted state): text report, nothing removed
expect_rc 0 "sync --keep 1 --policy URL" $SYNC "$UP" "$ENT" --keep 1 \
    --policy "$POLURL" --policy-root "$work/policy-root.json"
grep -q "pinned: products/product/1.0/manifest.json (products/product/channels/stable.json): kept" \
    "$work/out" && ok "text report: pinned ... kept" || bad "text report: $(cat "$work/out")"
has "$ENT" 1.0 && ok "1.0 still kept" || bad "1.0 removed by the URL sync"
expect_rc 0 "the enterprise mirror verifies" "$MIRROR" verify "$ENT" --root "$work/pinned-root.json"

# --- an endpoint held on 1.0 by the policy installs it from the filtered mirror
serve_tree "$ENT" || exit 1
PORT=$SPORT
write_conf
cat >>"$work/zupd.conf" <<EOF2
policy = { url = "$POLURL"; trusted_root = "$work/policy-root.json"; };
EOF2
expect_rc 0 "endpoint update through the filtered mirror" "$ZUPD" --config "$work/zupd.conf" update
tree_is "$work/v1.0" && ok "the endpoint installed the pinned 1.0" ||
    bad "install path is not 1.0: $(cat "$work/err")"

# --- verify --policy: served here, not by the plain mirror
expect_rc 0 "verify --policy on the enterprise mirror" "$MIRROR" verify "$ENT" \
    --root "$work/pinned-root.json" --policy "$POLURL" --policy-root "$work/policy-root.json"
grep -q "1 pins of the policy served" "$work/out" && ok "verify: $(cat "$work/out")" ||
    bad "verify: $(cat "$work/out")"
expect_rc 25 "verify --policy on the mirror that dropped 1.0" "$MIRROR" verify "$work/plain" \
    --root "$work/pinned-root.json" --policy "$work/policy" --policy-root "$work/policy-root.json"
grep -q "pin 'products/product/channels/stable.json' -> 'products/product/1.0/manifest.json': cannot be served: not mirrored" \
    "$work/err" && ok "verify names the pin and why" || bad "verify: $(cat "$work/err")"
grep -q "1 of the 1 pins of the policy repository" "$work/err" && ok "and counts it" ||
    bad "verify: $(cat "$work/err")"
# a pinned release whose blob is gone from the mirror (selection still lists it)
b=$(python3 - "$work/repo" <<'PY'
import glob, json, sys
m = glob.glob("%s/targets/products/product/1.0/*.manifest.json" % sys.argv[1])[0]
h = json.load(open(m))["files"][0]["blob"]["sha256"]
print("blobs/sha256/%s/%s" % (h[:2], h))
PY
)
cp -a "$ENT" "$work/ent-broken"
rm -f "$work/ent-broken/$b"
expect_rc 25 "verify --policy: a blob of the pinned release missing" "$MIRROR" verify \
    "$work/ent-broken" --root "$work/pinned-root.json" --policy "$work/policy" \
    --policy-root "$work/policy-root.json"
grep -q "cannot be served: $b: missing" "$work/err" && ok "the pin's missing blob is named" ||
    bad "verify: $(cat "$work/err")"
expect_rc 1 "verify --policy without --policy-root" "$MIRROR" verify "$ENT" --policy "$POLURL"

# --- a policy repository whose signature does not verify fails the sync closed
cp -a "$work/policy" "$work/policy-bad"
python3 - "$work/policy-bad/metadata/timestamp.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
s = d["signatures"][0]["sig"]
d["signatures"][0]["sig"] = ("1" if s[0] != "1" else "2") + s[1:]
json.dump(d, open(p, "w"))
PY
expect_rc 0 "full sync (third mirror)" $SYNC "$UP" "$work/ent3" --root "$work/pinned-root.json"
listing "$work/ent3" >"$work/before"
rc=0
$SYNC "$UP" "$work/ent3" --keep 1 --policy "$work/policy-bad" \
    --policy-root "$work/policy-root.json" >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -ge 10 ] && ok "a badly signed policy fails the sync (exit $rc)" || bad "exit $rc"
grep -q "policy repository '$work/policy-bad' refused" "$work/err" &&
    ok "the error names the policy repository" || bad "error: $(cat "$work/err")"
listing "$work/ent3" >"$work/after"
cmp -s "$work/before" "$work/after" && ok "nothing was removed or written" ||
    bad "the mirror changed after a refused policy"
has "$work/ent3" 2.0 && ok "2.0 still there" || bad "2.0 removed"
# the same for the mirror that already trusts the good policy: a tampered
# timestamp is refused, the trusted policy state stays
cp "$ENT/.zupd/sync-policy/timestamp.json" "$work/ts-trusted"
rc=0
$SYNC "$UP" "$ENT" --keep 1 --policy "$work/policy-bad" \
    --policy-root "$work/policy-root.json" >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -ge 10 ] && ok "refused on a mirror with policy state too (exit $rc)" || bad "exit $rc"
cmp -s "$work/ts-trusted" "$ENT/.zupd/sync-policy/timestamp.json" &&
    ok "the trusted policy timestamp is unchanged" || bad "the trusted policy state changed"
has "$ENT" 1.0 && ok "1.0 still there" || bad "1.0 removed"

# --- a pin of a release the vendor never signed: reported, nothing to keep
expect_rc 0 "policy pin product 9.9 (unsigned) on beta" pol pin product 9.9 --channel beta
expect_rc 0 "sync with the unsigned pin" $SYNC "$UP" "$ENT" --keep 1 \
    --policy "$work/policy" --policy-root "$work/policy-root.json" --json
python3 - "$work/out" <<'PY' && ok "--json: 1.0 kept, 9.9 unsigned" || bad "--json pins: $(cat "$work/out")"
import json, sys
r = json.load(open(sys.argv[1]))
st = {p["version"]: p["state"] for p in r["pins"]}
assert st == {"1.0": "kept", "9.9": "unsigned"} and r["pins_kept"] == 1, r
PY
has "$ENT" 1.0 && ok "1.0 still kept" || bad "1.0 removed"
expect_rc 25 "verify --policy reports the unsigned pin" "$MIRROR" verify "$ENT" \
    --root "$work/pinned-root.json" --policy "$work/policy" --policy-root "$work/policy-root.json"
grep -q "products/product/9.9/manifest.json': cannot be served: the vendor's metadata lists no release 9.9" \
    "$work/err" && ok "verify names the unsigned pin" || bad "verify: $(cat "$work/err")"
grep -q "1.0/manifest.json': cannot be served" "$work/err" && bad "verify blames the served 1.0" ||
    ok "and not the served 1.0"

finish sync_policy
