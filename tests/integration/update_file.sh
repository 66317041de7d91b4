#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_file.sh -- file:// mirrors (issue 15: a mounted
# share or a removable medium), verified exactly like HTTP ones: a first
# install and a delta update from a repository tree on disk, a tampered
# blob refused with the install left whole, a missing file mirror skipped
# for the next one, a percent-encoded path, and URLs zupd.conf refuses.
set -u
. "$(dirname "$0")/lib.sh"
test_init file

init_repo || exit 1
make_tree "$work/v1" 1.0 40
make_tree "$work/v2" 2.0 40
make_tree "$work/v3" 3.0 40
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
PORT=1 write_conf
sed -i "s|\"http://127.0.0.1:1/\"|\"file://$work/repo/\"|" "$work/zupd.conf"
check "the mirror is a file:// URL" "$(grep mirrors "$work/zupd.conf")" "file://$work/repo/"
Z="$ZUPD --config $work/zupd.conf"

expect_rc 0 "first install from file://" $Z --json update
tree_is "$work/v1" && ok "install path holds 1.0" || bad "install path is not 1.0"

publish product 2.0 "$work/v2" && promote product 2.0 stable || exit 1
expect_rc 0 "update 1.0 -> 2.0 from file://" $Z --json update
python3 - "$work/out" <<'PY' && ok "2.0 came by delta and links" || bad "2.0 was not a delta update"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
print("  2.0: %(files)d files, %(unchanged)d unchanged, %(by_delta)d by delta, "
      "%(whole)d whole, %(downloaded)d of %(full_size)d bytes" % c)
assert c["action"] == "installed" and c["by_delta"] >= 1 and c["unchanged"] >= 30
PY
tree_is "$work/v2" && ok "install path holds 2.0" || bad "install path is not 2.0"
expect_rc 0 "an idle check from file://" $Z check

# a blob of 3.0 changed on the share: refused as a hash mismatch, 2.0 stays
publish product 3.0 "$work/v3" && promote product 3.0 stable || exit 1
app=$(python3 - "$work/repo" <<'PY'
import glob, json, sys
m = glob.glob(sys.argv[1] + "/targets/products/product/3.0/*.manifest.json")
d = json.load(open(m[0]))
f = [f for f in d["files"] if f["path"] == "bin/app"][0]
blobs = [x["sha256"] for x in f["deltas"]] + [f["blob"]["sha256"]]
print("\n".join(glob.glob(sys.argv[1] + "/blobs/sha256/%s/%s" % (h[:2], h))[0] for h in blobs))
PY
)
[ -n "$app" ] || { bad "no blob of bin/app found for 3.0"; finish; }
for b in $app; do cp "$b" "$b.good"; printf 'X' | dd of="$b" bs=1 seek=100 conv=notrunc 2>/dev/null; done
$Z update >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" != 0 ] && ok "a tampered blob on the share fails the update (exit $rc)" \
    || bad "a tampered blob was installed"
grep -qi "hash\|sha256\|does not match" "$work/err" && ok "the error names the hash" \
    || { bad "no hash error"; cat "$work/err"; }
tree_is "$work/v2" && ok "install path still holds 2.0, whole" || bad "install path damaged"
for b in $app; do mv "$b.good" "$b"; done

# the first mirror is missing (the medium is not mounted): the next one serves
sed -i "s|\"file://$work/repo/\"|\"file://$work/not-mounted/\", \"file://$work/repo/\"|" \
    "$work/zupd.conf"
expect_rc 0 "update 2.0 -> 3.0 past a missing file mirror" $Z update
tree_is "$work/v3" && ok "install path holds 3.0" || bad "install path is not 3.0"

# a path with a space, percent-encoded; file://localhost/ is the same host
cp -a "$work/repo" "$work/my repo"
sed -i "s|mirrors = .*|mirrors = [ \"file://localhost$work/my%20repo/\" ];|" "$work/zupd.conf"
expect_rc 0 "a percent-encoded file://localhost/ mirror" $Z check

# what zupd.conf refuses: another host, a relative path
for bad_url in "file://fileserver/share/" "file:repo/"; do
    sed -i "s|mirrors = .*|mirrors = [ \"$bad_url\" ];|" "$work/zupd.conf"
    expect_rc 1 "mirror $bad_url refused" $Z check
    check "its message" "$(cat "$work/err")" "file:///absolute/path"
done
finish
