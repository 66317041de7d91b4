#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/update_e2e.sh -- zupd against a zupd-mirror repository on
# 127.0.0.1: first install, delta update, vendor rollback through the channel
# pointer, health check failure and bad-release memory, rollback/hold/release,
# verify, disk full during staging.
set -u
. "$(dirname "$0")/lib.sh"
test_init e2e
at_exit 'umount "$work/small" 2>/dev/null'

start_repo || exit 1
make_tree "$work/v1" 1.0 40
make_tree "$work/v2" 2.0 40
make_tree "$work/v3" 3.0 40
publish product 1.0 "$work/v1" && promote product 1.0 stable || exit 1
write_conf
Z="$ZUPD --config $work/zupd.conf"

expect_rc 100 "check: update available before the first install" $Z check
expect_rc 0 "first install" $Z update
tree_is "$work/v1" && ok "install path holds 1.0" || bad "install path is not 1.0"
expect_rc 0 "check: up to date" $Z check
expect_rc 0 "an idle check" $Z --json check
python3 - "$work/out" <<'PY' && ok "idle check: the root probe and a 304 for timestamp" || bad "idle check too dear"
import json, sys
d = json.load(open(sys.argv[1]))
print("  idle check: %(requests)d requests, %(bytes)d body bytes" % d)
assert d["requests"] == 2 and not d["metadata_changed"]
PY

expect_rc 25 "rollback with no earlier version installed" $Z rollback product
grep -q "cannot roll back 'product': no earlier version of it is installed" "$work/err" &&
    ok "rollback says there is no earlier version" || bad "rollback message: $(cat "$work/err")"
publish product 2.0 "$work/v2" && promote product 2.0 stable || exit 1
expect_rc 0 "update 1.0 -> 2.0" $Z --json update
tree_is "$work/v2" && ok "install path holds 2.0" || bad "install path is not 2.0"
python3 - "$work/out" <<'PY' && ok "2.0 came mostly by delta and links" || bad "2.0 download too big"
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
print("  2.0: %(files)d files, %(unchanged)d unchanged, %(by_delta)d by delta, "
      "%(whole)d whole, %(downloaded)d of %(full_size)d bytes" % c)
assert c["action"] == "installed" and c["by_delta"] >= 1 and c["unchanged"] >= 30
assert c["downloaded"] * 5 < c["full_size"]
PY
expect_rc 0 "verify 2.0" $Z verify

# the vendor forces a rollback: a newly signed channel pointer to 1.0
promote product 1.0 stable --rollback || exit 1
expect_rc 0 "vendor rollback through the channel pointer" $Z update
tree_is "$work/v1" && ok "rolled back to 1.0" || bad "not on 1.0 after the vendor rollback"

# a release whose health check fails is undone and never retried
promote product 2.0 stable && publish product 3.0 "$work/v3" && promote product 3.0 stable || exit 1
printf '#!/bin/sh\ntest "$ZUPD_VERSION" != 3.0\n' > "$work/health.sh"
write_conf "sh $work/health.sh"
expect_rc 101 "3.0 fails its health check" $Z update
grep -q "marked bad" "$work/err" && ok "the failure is reported" || bad "no report of the bad release"
tree_is "$work/v1" && ok "back on the previous version (1.0)" || bad "not back on 1.0"
expect_rc 0 "the bad release is not retried" $Z update
grep -q "product: bad" "$work/out" && ok "update says the release is bad" || bad "bad release retried?"
expect_rc 0 "status" $Z --json status
grep -q '"3.0"' "$work/out" && ok "status lists 3.0 as bad" || bad "status does not show 3.0 bad"

# rollback, hold, release
write_conf
publish product 4.0 "$work/v2" && promote product 4.0 stable || exit 1
expect_rc 0 "update to 4.0" $Z update
expect_rc 0 "zupd rollback" $Z rollback product
tree_is "$work/v1" && ok "rollback went to the previous version" || bad "rollback did not restore 1.0"
expect_rc 0 "a held component is not updated" $Z update
tree_is "$work/v1" && ok "still on 1.0 while held" || bad "held component was updated"
expect_rc 0 "release" $Z release product
expect_rc 0 "update after release" $Z update
tree_is "$work/v2" && ok "back on the channel's 4.0" || bad "not on 4.0 after release"

# damage is found by verify
chmod u+w "$work/opt-product/share/VERSION"
printf 'X.Y\n' > "$work/opt-product/share/VERSION"   # same length, other bytes
expect_rc 17 "verify finds a modified file (hash)" $Z verify
# a missing manifest is named as such (it used to read "'' does not match")
mv "$work/state/components/product/manifests" "$work/manifests.saved"
mkdir "$work/state/components/product/manifests"
expect_rc 25 "verify without the installed version's manifest" $Z verify
grep -q "product 4\.0: cannot read its signed manifest: not found" "$work/err" &&
    ok "verify names the missing manifest" || bad "verify names the missing manifest: $(cat "$work/err")"
rmdir "$work/state/components/product/manifests"
mv "$work/manifests.saved" "$work/state/components/product/manifests"

# disk full while staging: old version untouched, clear error, no staging left
if [ "$(id -u)" = 0 ] && mkdir -p "$work/small" && mount -t tmpfs -o size=1200k tmpfs "$work/small" 2>/dev/null; then
    cp -a "$work/state" "$work/small/state" 2>/dev/null || true
    rm -rf "$work/small/state"
    sed "s|state_dir = \"$work/state\"|state_dir = \"$work/small/state\"|; s|$work/opt-product|$work/small/opt|" \
        "$work/zupd.conf" > "$work/small.conf"
    # the first install (200 KB binary + data) fits, the next one does not
    make_tree "$work/big" 5.0 40
    head -c 2000000 /dev/urandom > "$work/big/bin/huge"
    promote product 1.0 stable --rollback || exit 1
    expect_rc 0 "install 1.0 on the small disk" $ZUPD --config "$work/small.conf" update
    publish product 5.0 "$work/big" && promote product 5.0 stable || exit 1
    # statvfs lies (the shim of the crash tests), or the free-space check
    # would refuse 5.0 before it starts (update_limits.sh tests that)
    expect_rc 32 "disk full while staging 5.0 (nospace)" env \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0:detect_leaks=0" \
        LD_PRELOAD="$top_builddir/tests/integration/.libs/libfaultinject.so" \
        ZUPD_FAKE_FREE=10000000000 $ZUPD --config "$work/small.conf" update
    grep -q "no space" "$work/err" && ok "the error says no space" || bad "unclear disk-full error"
    [ -z "$(ls "$work/small/state/components/product/versions/" | grep staging)" ] \
        && ok "no staging tree left" || bad "staging tree left behind"
    diff -r "$work/v1" "$work/small/opt/" > /dev/null && ok "1.0 untouched on the full disk" \
        || bad "1.0 damaged by the full disk"
    umount "$work/small"
else
    skip_part disk-full "the disk-full case runs only as root, on a tmpfs it mounts (uid $(id -u))"
fi

finish update_e2e
