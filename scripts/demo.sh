#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/demo.sh -- the README's main command: install what is missing, build,
# and run the local demo on 127.0.0.1. It grows with each landed part of zupd;
# it says at the end what it showed and what is not built yet.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-demo}
"$top/scripts/deps.sh"
cd "$top"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" >configure.out 2>&1 || { cat configure.out; exit 1; }
make -j"$(nproc 2>/dev/null || echo 2)" >make.out 2>&1 || { tail -n 40 make.out; exit 1; }
work=$(mktemp -d /tmp/zupd-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "== zupd demo (work dir $work, removed at exit)"
"$build/updater/zupd" version
"$build/mirror/zupd-mirror" version
for step in "$top"/scripts/demo.d/*.sh; do
    [ -f "$step" ] || continue
    . "$step"
done
echo "== demo done"
