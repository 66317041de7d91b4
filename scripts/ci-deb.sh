#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/ci-deb.sh -- .ci/run's package step, runnable alone (root, Debian
# 12): install what building packages needs, scripts/build-deb.sh, install
# the four packages with apt-get, then with the INSTALLED programs only:
# zupd --version, zupd-mirror --version, systemd-analyze verify of the
# installed units, a repository made with zupd-mirror init/publish/promote
# and served by zupd-mirror serve on 127.0.0.1 as the user zupd-mirror,
# zupd update from it into a temporary install path, run without any
# capability (as zupd-update.service's CapabilityBoundingSet= would), zupd
# verify; then purge the packages. Prints "PASS: ..." or "FAIL: ..." last
# and exits 0 or 1. Takes about 2 minutes (the build is most of it).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
out=${DEB_OUT:-$top/build-deb}
w=$(mktemp -d "${TMPDIR:-/tmp}/zupd-ci-deb.XXXXXX")
serve_pid=
PKGS="zupd zupd-mirror libzupd1 libzupd-dev"
purge() {
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKGS >"$w/purge.log" 2>&1
}
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
    rm -rf "$w"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "ci-deb: $*"
    for f in "$w"/*.log "$w"/*.err; do
        [ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
    dpkg-query -W zupd >/dev/null 2>&1 && purge
    echo "FAIL: debian packages ($*)"
    exit 1
}
step() { echo "ci-deb: $* ($(( $(date +%s) - start )) s)"; }

[ "$(id -u)" = 0 ] || fail "needs root (apt-get install, the zupd-mirror user)"
export DEBIAN_FRONTEND=noninteractive
step "installing the packaging tools and Build-Depends"
apt-get install -y -qq --no-install-recommends debhelper dpkg-dev fakeroot lintian \
    >"$w/apt.log" 2>&1 || fail "apt-get install debhelper lintian"
BUILD_DEPS=1 "$top/scripts/build-deb.sh" "$out" >"$w/build-deb.log" 2>&1 || fail "scripts/build-deb.sh"
grep '^build-deb.sh: lintian' "$w/build-deb.log"
step "built: $(cd "$out" && echo *.deb)"

(cd "$out" && apt-get install -y -qq ./zupd_*.deb ./zupd-mirror_*.deb ./libzupd1_*.deb ./libzupd-dev_*.deb) \
    >"$w/install.log" 2>&1 || fail "apt-get install ./*.deb"
step "installed"
v=$(/usr/bin/zupd --version) || fail "zupd --version"
vm=$(/usr/bin/zupd-mirror --version) || fail "zupd-mirror --version"
echo "ci-deb: $v; $vm"
[ -f /etc/zupd/zupd.conf ] && grep -qx /etc/zupd/zupd.conf /var/lib/dpkg/info/zupd.conffiles ||
    fail "/etc/zupd/zupd.conf is not a conffile"
getent passwd zupd-mirror >/dev/null || fail "no user zupd-mirror"
pkg-config --exists libzupd || fail "pkg-config libzupd"
units=$(dpkg -L zupd zupd-mirror | grep -E '/systemd/system/.*\.(service|timer)$')
systemd-analyze verify $units >"$w/verify.log" 2>&1 && [ ! -s "$w/verify.log" ] ||
    fail "systemd-analyze verify of the installed units"
echo "ci-deb: systemd-analyze verify: $(echo $units | wc -w) installed units, no message"

# a repository, published and served with the installed zupd-mirror
export ZUPD_PASSPHRASE=ci-deb ZUPD_KDF_COST=min
chmod 755 "$w"
mkdir -p "$w/v1/bin" "$w/v2/bin"
head -c 300000 /dev/urandom >"$w/v1/bin/app"
cp "$w/v1/bin/app" "$w/v2/bin/app"
printf 'second release' | dd of="$w/v2/bin/app" bs=1 seek=1000 conv=notrunc 2>/dev/null
echo 1.0 >"$w/v1/VERSION"
echo 2.0 >"$w/v2/VERSION"
M=/usr/bin/zupd-mirror
$M init "$w/repo" --keys "$w/keys" --same-passphrase >"$w/init.log" 2>&1 || fail "zupd-mirror init"
$M publish product 1.0 "$w/v1" -C "$w/repo" --keys "$w/keys" >"$w/publish.log" 2>&1 &&
    $M promote product 1.0 --channel stable -C "$w/repo" --keys "$w/keys" >"$w/promote.log" 2>&1 ||
    fail "zupd-mirror publish/promote 1.0"
chmod -R a+rX "$w/repo"
setpriv --reuid=zupd-mirror --regid=zupd-mirror --clear-groups --no-new-privs --bounding-set=-all \
    $M serve "$w/repo" --listen 127.0.0.1:0 2>"$w/serve.err" &
serve_pid=$!
i=0
while ! grep -q 'on http://' "$w/serve.err" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url=$(sed -n 's|.* on \(http://[0-9.]*:[0-9]*\) .*|\1|p' "$w/serve.err" | head -n 1)
[ -n "$url" ] || fail "zupd-mirror serve as zupd-mirror did not start"
step "serving $url as the user zupd-mirror"

cat >"$w/zupd.conf" <<EOC
mirrors = [ "$url/" ];
trusted_root = "$w/repo/metadata/1.root.json";
state_dir = "$w/state";
components = (
  { name = "product"; role = "products"; channel = "stable"; install_path = "$w/opt-product"; keep = 2; }
);
EOC
# no capability at all, as in zupd-update.service
Z="setpriv --bounding-set=-all --inh-caps=-all --no-new-privs /usr/bin/zupd --config $w/zupd.conf"
$Z update >"$w/update1.log" 2>&1 || fail "zupd update (1.0)"
diff -r "$w/v1" "$w/opt-product/" >/dev/null || fail "the install path is not 1.0"
$M publish product 2.0 "$w/v2" -C "$w/repo" --keys "$w/keys" >"$w/publish.log" 2>&1 &&
    $M promote product 2.0 --channel stable -C "$w/repo" --keys "$w/keys" >"$w/promote.log" 2>&1 ||
    fail "zupd-mirror publish/promote 2.0"
chmod -R a+rX "$w/repo"
$Z --json update >"$w/update2.log" 2>&1 || fail "zupd update (1.0 -> 2.0)"
diff -r "$w/v2" "$w/opt-product/" >/dev/null || fail "the install path is not 2.0"
$Z verify >"$w/verify-tree.log" 2>&1 || fail "zupd verify"
step "zupd updated 1.0 -> 2.0 from $url: $(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["components"][0]; print("%(downloaded)d of %(full_size)d bytes, %(by_delta)d by delta" % c)' "$w/update2.log" 2>/dev/null)"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null
serve_pid=

purge || fail "apt-get purge"
for f in /usr/bin/zupd /usr/bin/zupd-mirror /etc/zupd/zupd.conf /usr/libexec/zupd; do
    [ -e "$f" ] && fail "$f is left after the purge"
done
step "purged"
echo "PASS: debian packages (build, lintian, install, update from zupd-mirror serve, purge: $(( $(date +%s) - start )) s)"
