#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/build-deb.sh [OUTDIR] -- the Debian packages zupd, zupd-mirror,
# libzupd1 and libzupd-dev from a clean export of this tree, into OUTDIR
# (default: build-deb/), then lintian (if installed): any error fails.
#
# The packaging lives in packaging/debian (the tree's map); dpkg-buildpackage
# wants it as debian/ at the top of the source. It is COPIED there, in a
# temporary export of the files git tracks (their working-tree contents, so
# an uncommitted change is built too, but no build directory or other
# untracked file), not symlinked: dpkg-buildpackage and debhelper write into
# debian/ (debian/tmp, debian/<package>/, the generated libzupd1.symbols,
# logs), which through a symlink would land in packaging/debian of the tree.
#   BUILD_DEPS=1   first install the Build-Depends (apt-get build-dep; root)
#   DEB_BUILD_OPTIONS  passed on; default "nocheck noddebs parallel=2" (make check
#                  is the CI's test step, not the package build's)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-deb}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
command -v git >/dev/null 2>&1 && git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || {
    echo "build-deb.sh: needs git and a git checkout (it exports the tracked files)" >&2
    exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/zupd-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
src=$work/zupd-0.1.0
mkdir -p "$src"
(cd "$top" && git ls-files -z | xargs -0 tar --no-recursion -cf - --) | tar -xf - -C "$src"
rm -rf "$src/debian"
cp -a "$top/packaging/debian" "$src/debian"

if [ "${BUILD_DEPS:-0}" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$src" >&2
fi
cd "$src"
DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck noddebs parallel=2} dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log"
    echo "build-deb.sh: dpkg-buildpackage failed" >&2
    exit 1
}
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
cp "$work/build.log" "$out/build.log"
echo "build-deb.sh: built in $out:"
(cd "$out" && ls -1 *.deb)
if command -v lintian >/dev/null 2>&1; then
    # errors fail; the warnings kept are listed in packaging/debian/README
    lintian --fail-on error --tag-display-limit 0 "$out"/*.changes | tee "$out/lintian.log"
    echo "build-deb.sh: lintian: $(grep -c '^E:' "$out/lintian.log" || true) errors, $(grep -c '^W:' "$out/lintian.log" || true) warnings"
fi
