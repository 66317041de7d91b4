#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/audit.sh -- multi-party signing of the products role
# (issue 17): the auditor's key added with `key add`, threshold 2; a release
# the stolen build key alone signs is refused by the endpoint (zupd update
# against zupd-mirror serve on 127.0.0.1); zupd-mirror audit checks a staged
# release against its rebuild over HTTP, signs it, import puts it live and
# the endpoint installs it; audits refused with a report: a rebuild one byte
# off, a manifest with a file the rebuild lacks, a delta that does not
# reproduce, a products metadata that also changes another component.
set -u
. "$(dirname "$0")/lib.sh"
test_init audit

M() { "$MIRROR" "$@" -C "$work/repo" --keys "$work/keys"; }

start_repo || exit 1
make_tree "$work/v1" 1.0 20
make_tree "$work/v2" 2.0 20
make_tree "$work/o1" other1 3
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
publish other 1.0 "$work/o1" && promote other 1.0 stable || exit 1
# the build key gets a name in the metadata (key add of a key the role has)
"$MIRROR" key show products --keys "$work/keys" >"$work/build.pub" || exit 1
expect_rc 0 "key add products build.pub --name build (a rename)" M key add products "$work/build.pub" --name build
write_conf
Z="$ZUPD --config $work/zupd.conf"
expect_rc 0 "1.0 installed while products needs one signature" $Z update
expect_rc 0 "zupd status" $Z status
grep -Eq "^  signed by: build \([0-9a-f]{16}\.\.\.\)$" "$work/out" &&
    ok "status: 1.0 signed by build" || bad "status: $(cat "$work/out")"
# a second endpoint, which will meet the thief's mirror
sed "s|$work/state|$work/estate|; s|$work/opt-product|$work/eopt|" "$work/zupd.conf" >"$work/e.conf"
expect_rc 0 "1.0 installed on the second endpoint" $ZUPD --config "$work/e.conf" update
# the first endpoint also checks the transparency log: what the auditor puts
# live must have been logged (publish --stage logs it)
printf 'log = { key = "%s"; };\n' "$(cat "$work/repo/log/vkey")" >>"$work/zupd.conf"
expect_rc 0 "the first endpoint checks 1.0 in the log" $Z update

# ------------------------------------------------------------ keys and threshold
"$MIRROR" key generate auditor --keys "$work/akeys" >/dev/null &&
    "$MIRROR" key show auditor --keys "$work/akeys" >"$work/auditor.pub" || exit 1
expect_rc 0 "key add products auditor.pub --name auditor" M key add products "$work/auditor.pub" --name auditor
expect_rc 31 "the same key again" M key add products "$work/auditor.pub" --name auditor
grep -q "already has key 'auditor'" "$work/err" && ok "says the key is there" || bad "$(cat "$work/err")"
expect_rc 22 "threshold 3 of 2 keys" M key threshold products 3
grep -q "threshold 3 of 'products' is impossible: it has 2 key(s)" "$work/err" &&
    ok "says why 3 is impossible" || bad "$(cat "$work/err")"
expect_rc 22 "removing root's last key" M key remove root root-1
grep -q "is the last key of 'root'" "$work/err" && ok "says it is the last key" || bad "$(cat "$work/err")"
expect_rc 0 "key list" M key list
grep -Eq "^  auditor +[0-9a-f]{64}  \(held elsewhere\)" "$work/out" &&
    ok "key list names the auditor's key, held elsewhere" || bad "key list: $(cat "$work/out")"

expect_rc 0 "key threshold products 2" M key threshold products 2
grep -q "the change is staged" "$work/out" && ok "the new threshold waits for the auditor" ||
    bad "$(cat "$work/out")"
S=$(ls "$work/repo/staged/products/"*.products.json)
cp "$S" "$work/thr.products.json"
expect_rc 0 "the auditor signs the staged products" \
    "$MIRROR" sign "$work/thr.products.json" --key "$work/akeys/auditor.key"
expect_rc 0 "import it" M import "$work/thr.products.json"
grep -q "has 2 of 2 signatures and is live" "$work/out" && ok "threshold 2 is live" || bad "$(cat "$work/out")"
expect_rc 0 "the repository verifies" "$MIRROR" verify "$work/repo"
cp "$work/thr.products.json" "$work/last.json"

# ------------------------------------------------------------ a stolen build key
expect_rc 0 "publish --stage 2.0, signed by the build key" \
    M publish product 2.0 "$work/v2" --stage --channel stable --source-revision r2000 --builder zurich-ci
grep -q "signed by 1 of the 2 keys it needs" "$work/out" && ok "staged, 1 of 2 signatures" ||
    bad "$(cat "$work/out")"
expect_rc 0 "the endpoint sees nothing new" $Z update
tree_is "$work/v1" && ok "still 1.0" || bad "not 1.0"
# prune would take the staged release's blobs: refused while it waits
expect_rc 22 "prune while a release is staged" M prune --keep 1
grep -q "a change of 'products' is staged.*import or unstage it before pruning" "$work/err" &&
    ok "prune says why" || bad "$(cat "$work/err")"

# the thief also holds the publishing host (its online keys): it puts the
# build key's products live, naming it in a re-signed snapshot and timestamp
cp -a "$work/repo" "$work/evil"
N=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['version'])" \
    "$work/evil/staged/products/release.json")
python3 - "$work/evil" "$N" <<'PY' || exit 1
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
raw = json.load(open(f"{d}/staged/products/{n}.products.json"))
txt = json.dumps(raw, separators=(",", ":"), sort_keys=True)
open(f"{d}/metadata/{n}.products.json", "w").write(txt)
sv = json.load(open(f"{d}/metadata/timestamp.json"))["signed"]["meta"]["snapshot.json"]["version"]
p = f"{d}/metadata/{sv}.snapshot.json"
s = json.load(open(p))
s["signed"]["meta"]["products.json"] = {"version": n, "length": len(txt)}
open(p, "w").write(json.dumps(s, separators=(",", ":"), sort_keys=True))
PY
"$MIRROR" refresh --force -C "$work/evil" --keys "$work/keys" >/dev/null || exit 1
expect_rc 14 "zupd-mirror verify refuses the thief's products" "$MIRROR" verify "$work/evil"
grep -q "products: 1 of 2 required signatures" "$work/err" && ok "verify: 1 of 2 signatures" || bad "$(cat "$work/err")"
serve_tree "$work/evil" || exit 1
sed "s|127.0.0.1:$PORT/|127.0.0.1:$SPORT/|" "$work/e.conf" >"$work/evil.conf"
"$ZUPD" --config "$work/evil.conf" update >"$work/out" 2>"$work/err"
rc=$?
[ $rc -ne 0 ] && ok "the endpoint refuses the build key's release (exit $rc)" || bad "the endpoint took it"
grep -q "1 of 2 required signatures" "$work/err" && ok "it says: 1 of 2 required signatures" ||
    bad "endpoint said: $(cat "$work/err")"
diff -r "$work/v1" "$work/eopt/" >/dev/null && ok "nothing installed: still 1.0" ||
    bad "the install path changed"

# ------------------------------------------------------------ audits refused
cp -a "$work/v2" "$work/rb"
URL=http://127.0.0.1:$PORT/
A() { "$MIRROR" audit "$@" --key "$work/akeys/auditor.key" --out "$work/aout" --last-signed "$work/last.json"; }
mkdir -p "$work/aout"
printf 'zurich-ci\n' >"$work/builders"
printf 'r2000\n' >"$work/revisions"

cp -a "$work/rb" "$work/rb-byte"
printf '\001' | dd of="$work/rb-byte/bin/app" bs=1 seek=1000 conv=notrunc 2>/dev/null
expect_rc 29 "a rebuild one byte off" A "$URL" --rebuild "$work/rb-byte"
grep -q "FAIL file 'bin/app' differs from the rebuild" "$work/out" && ok "names bin/app" || bad "$(cat "$work/out")"
grep -q "nothing signed" "$work/err" && ok "nothing signed" || bad "$(cat "$work/err")"
ls "$work/aout"/*.sig.json >/dev/null 2>&1 && bad "a signature was written" || ok "no signature file"

# --json: one envelope, the failed check among the report's lines
expect_rc 29 "a rebuild one byte off, --json" A "$URL" --rebuild "$work/rb-byte" --json
python3 "$top_srcdir/tests/integration/json_schema.py" "$top_srcdir/docs/json-envelope.schema.json" \
    "$work/out" >/dev/null && ok "--json: a valid envelope" || bad "--json envelope: $(cat "$work/out")"
python3 - "$work/out" <<'PY' && ok "--json: failed, exit 29, the check named" || bad "--json: $(cat "$work/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["error"]["code"] == 29 and d["failed"] >= 1, d
assert any(l.startswith("FAIL file 'bin/app' differs") for l in d["report"]), d["report"]
assert "signature" not in d, d
PY
ls "$work/aout"/*.sig.json >/dev/null 2>&1 && bad "--json: a signature was written" || ok "--json: no signature file"

cp -a "$work/rb" "$work/rb-less"
rm "$work/rb-less/share/data/f005.txt"
expect_rc 29 "a manifest with a file the rebuild lacks" A "$URL" --rebuild "$work/rb-less"
grep -q "FAIL manifest file 'share/data/f005.txt' is not in the rebuild" "$work/out" &&
    ok "names the extra file" || bad "$(cat "$work/out")"

expect_rc 29 "a builder off the allow-list" A "$URL" --rebuild "$work/rb" --allow-builders "$work/revisions"
grep -q "FAIL builder 'zurich-ci' is NOT on the allow-list" "$work/out" && ok "names the builder" ||
    bad "$(cat "$work/out")"

# a delta blob that does not give the new content (a copy of the tree)
cp -a "$work/repo" "$work/bad-delta"
D=$(python3 - "$work/bad-delta" <<'PY'
import glob, json, sys
d = sys.argv[1]
m = json.load(open(glob.glob(f"{d}/targets/products/product/2.0/*.manifest.json")[0]))
for f in m["files"]:
    for x in f.get("deltas", []):
        print(x["sha256"]); sys.exit(0)
PY
)
if [ -n "$D" ]; then
    B="$work/bad-delta/blobs/sha256/$(echo "$D" | cut -c1-2)/$D"
    printf '\377' | dd of="$B" bs=1 seek=40 conv=notrunc 2>/dev/null
    expect_rc 29 "a delta that does not reproduce" A "$work/bad-delta" --rebuild "$work/rb"
    grep -q "FAIL delta (.*) of 'bin/app' .* does not reproduce the new content" "$work/out" &&
        ok "names the delta of bin/app" || bad "$(cat "$work/out")"
else
    bad "2.0 has no delta to spoil"
fi

# the products metadata also changes another component behind the release
cp -a "$work/repo" "$work/sneak"
(cd "$work/sneak" && rm -r staged)
make_tree "$work/o2" other2 3
"$MIRROR" publish product 2.0 "$work/v2" other 1.1 "$work/o2" --stage --channel stable \
    --source-revision r2000 --builder zurich-ci -C "$work/sneak" --keys "$work/keys" >/dev/null || exit 1
python3 - "$work/sneak/staged/products/release.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["releases"] = [r for r in d["releases"] if r["component"] == "product"]
open(p, "w").write(json.dumps(d))
PY
expect_rc 29 "a products metadata that also changes 'other'" A "$work/sneak" --rebuild "$work/rb"
grep -q "FAIL target 'products/other/1.1/manifest.json' added outside the release" "$work/out" &&
    ok "names the other component's manifest" || bad "$(cat "$work/out")"
grep -q "FAIL target 'products/other/channels/stable.json' changed outside the release" "$work/out" &&
    ok "names the other component's channel" || bad "$(cat "$work/out")"

# ------------------------------------------------------------ the audit passes
expect_rc 0 "audit over HTTP against the matching rebuild" \
    A "$URL" --rebuild "$work/rb" --allow-builders "$work/builders" --allow-revisions "$work/revisions"
grep -q "audit passed" "$work/out" && ok "signed" || bad "$(cat "$work/out")"
expect_rc 0 "the same audit, --json" \
    A "$URL" --rebuild "$work/rb" --allow-builders "$work/builders" --allow-revisions "$work/revisions" --json
python3 - "$work/out" <<'PY' && ok "--json: passed, the files written named" || bad "--json: $(cat "$work/out")"
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["failed"] == 0 and d["checks"] == len(d["report"]), d
assert all(l.startswith("ok ") for l in d["report"]), d["report"]
assert all(os.path.exists(d[k]) for k in ("signature", "record", "signed")), d
PY
SIG=$(ls "$work/aout"/*.products.sig.json)
REC=$(ls "$work/aout"/*.products.audit.json)
python3 - "$REC" "$work/akeys/auditor.key" <<'PY' && ok "the audit record names key, revision, manifest, checks" || bad "audit record"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["signed"]
k = json.load(open(sys.argv[2]))
assert s["auditor_keyid"] == k["keyid"] and r["signatures"][0]["keyid"] == k["keyid"]
assert s["source_revision"] == "r2000" and s["builder"] == "zurich-ci"
assert len(s["manifest_sha256"]) == 64 and s["result"] == "signed" and len(s["checks"]) >= 6
print("  record: %d checks, version %d, checked at %s" % (len(s["checks"]), s["version"], s["checked_at"]))
PY

# a signature for another version, or one that does not verify, is refused
python3 - "$SIG" "$work/sig-ver.json" "$work/sig-bad.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
v = dict(s); v["version"] = s["version"] + 1
json.dump(v, open(sys.argv[2], "w"))
b = dict(s); b["sig"] = ("0" if s["sig"][0] != "0" else "1") + s["sig"][1:]
json.dump(b, open(sys.argv[3], "w"))
PY
expect_rc 29 "a signature for another version" M import "$work/sig-ver.json"
grep -q "but version .* is staged" "$work/err" && ok "says which version is staged" || bad "$(cat "$work/err")"
expect_rc 13 "a signature that does not verify" M import "$work/sig-bad.json"
grep -q "does not verify over the staged 'products'" "$work/err" && ok "says it does not verify" || bad "$(cat "$work/err")"
expect_rc 0 "the endpoint still sees nothing new" $Z update
tree_is "$work/v1" && ok "still 1.0" || bad "not 1.0"

expect_rc 0 "import the auditor's signature" M import "$SIG"
grep -q "has 2 of 2 signatures and is live" "$work/out" && ok "2.0 is live" || bad "$(cat "$work/out")"
[ -d "$work/repo/staged/products" ] && [ -n "$(ls "$work/repo/staged/products")" ] &&
    bad "the staged change is left" || ok "the staged change is gone"
expect_rc 0 "the repository verifies" "$MIRROR" verify "$work/repo"
# the staged release and its channel were logged when staged (before the
# auditor saw them), so the live targets are all in the transparency log
expect_rc 0 "the log has every live target" "$MIRROR" log verify "$work/repo"
expect_rc 0 "the endpoint installs 2.0" $Z update
tree_is "$work/v2" && ok "2.0 installed after both signatures" || bad "not 2.0"
expect_rc 0 "zupd status" $Z status
grep -Eq "^  signed by: (build \([0-9a-f]{16}\.\.\.\), auditor|auditor \([0-9a-f]{16}\.\.\.\), build) " "$work/out" &&
    ok "status: 2.0 signed by build and auditor" || bad "status: $(cat "$work/out")"
expect_rc 0 "zupd status --json" $Z --json status
python3 - "$work/out" "$work/akeys/auditor.key" <<'PY' && ok "status --json: signed_by names both keys" || bad "status --json"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
names = sorted(s["name"] for s in c["signed_by"])
assert c["current"] == "2.0" and names == ["auditor", "build"], c
assert json.load(open(sys.argv[2]))["keyid"] in [s["keyid"] for s in c["signed_by"]]
print("  signed_by:", ", ".join("%s %s" % (s["name"], s["keyid"][:16]) for s in c["signed_by"]))
PY

finish audit
