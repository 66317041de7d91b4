#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/deps.sh -- install the Debian packages zupd needs to build, test and demo.
# Runs apt-get only for what is missing; needs root for that.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config clang libclang-rt-14-dev
libcurl4-openssl-dev libsodium-dev libssl-dev libzstd-dev liblzma-dev libdivsufsort-dev libbz2-dev
libjansson-dev libconfig-dev libmicrohttpd-dev libcmocka-dev libp11-kit-dev softhsm2
bsdiff xdelta3 zstd curl nginx-light wrk faketime nodejs npm git systemd man-db
golang-go golang-golang-x-mod-dev"
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
# node/npm may come from elsewhere than Debian on a developer machine
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
fi
missing=$(echo $missing)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing Debian packages: $missing" >&2
    echo "deps.sh: run as root, or: sudo apt-get install -y $missing" >&2
    exit 1
fi
echo "deps.sh: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq $missing >&2
