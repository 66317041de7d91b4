#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/interop/tufjs_mirror.sh -- tuf-js (npm, version pinned by
# tests/interop/mirror/package-lock.json) refreshes from a repository that
# `zupd-mirror` published (init, publish to products and avdb, promote,
# refresh, key rotation of timestamp and root), served by a plain static HTTP
# server on 127.0.0.1, walking the root chain from 1.root.json, and
# downloads manifests and channel pointers through the delegations with
# their hashes checked; the bytes must be the files zupd-mirror wrote.
# Needs node >= 20.17 and npm; node_modules is installed with `npm ci` from
# the lock file (in the source tree when writable, else in the build tree).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
M=$top_builddir/mirror/zupd-mirror
src=$top_srcdir/tests/interop/mirror
me=tufjs_mirror.sh
die() { echo "$me: $*" >&2; echo "FAIL: $me"; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
no_proxy='*'; NO_PROXY='*'; export no_proxy NO_PROXY

command -v node >/dev/null 2>&1 || die "node is missing (Debian nodejs)"
command -v npm >/dev/null 2>&1 || die "npm is missing (Debian npm)"
command -v python3 >/dev/null 2>&1 || die "python3 is missing"
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1);' || die "node too old for tuf-js 5"
copy=
if [ -w "$src" ] && [ -n "$(find "$src" -maxdepth 0 -perm -u=w 2>/dev/null)" ]; then
    js=$src
else
    # a read-only source tree (make distcheck): a copy in the build tree,
    # removed at the end so that distcleancheck finds nothing left
    js=$top_builddir/tests/interop/mirror
    copy=$js
    mkdir -p "$js" || die "cannot create $js"
    cp "$src/package.json" "$src/package-lock.json" "$src"/*.mjs "$js/" || die "cannot copy to $js"
fi
stamp=$js/node_modules/.zupd-lock
if ! cmp -s "$js/package-lock.json" "$stamp" 2>/dev/null; then
    (cd "$js" && npm_config_update_notifier=false npm ci --no-audit --no-fund --loglevel=error) ||
        die "npm ci failed in $js"
    cp "$js/package-lock.json" "$stamp" || die "cannot write $stamp"
fi

tmp=$(mktemp -d)
srv=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    rm -rf "$tmp"
    [ -n "$copy" ] && rm -rf "$copy"
}
trap cleanup EXIT INT TERM
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
step() {
    name=$1
    shift
    if out=$("$@" 2>&1); then ok "$name"; else bad "$name"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
}

R=$tmp/srv/repo
mkdir -p "$tmp/srv" "$tmp/in/bin"
printf 'app\n' >"$tmp/in/bin/app"
head -c 50000 /dev/urandom | od -An -x >"$tmp/in/bin/data"
step "init" "$M" init "$R" --same-passphrase --root-keys 2 --root-threshold 2
step "publish products" "$M" publish app 1.0 "$tmp/in" -C "$R" --source-revision git:1 --builder t
step "publish avdb" "$M" publish db 7 "$tmp/in/bin/data" --role avdb -C "$R"
step "promote" "$M" promote app 1.0 --channel stable -C "$R"
echo more >>"$tmp/in/bin/data"
step "publish products 1.1" "$M" publish app 1.1 "$tmp/in" -C "$R"
step "refresh --force" "$M" refresh --force -C "$R"
step "rotate the timestamp key" "$M" key rotate timestamp -C "$R"
step "rotate the root keys" "$M" key rotate root --key r2-1 --key r2-2 --threshold 2 -C "$R"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/srv" >"$tmp/http.log" 2>&1 &
srv=$!
i=0
until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/repo/metadata/timestamp.json')" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 50 ] && die "the HTTP server did not start"
    sleep 0.1
done

out=$(node "$js/refresh.mjs" "http://127.0.0.1:$port/repo" "$R/metadata/1.root.json" "$tmp/client" \
    products/app/1.0/manifest.json products/app/1.1/manifest.json products/app/channels/stable.json \
    avdb/db/7/manifest.json '!products/app/9.9/manifest.json' '!avdb/app/1.0/manifest.json' 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
[ $rc = 0 ] && ok "tuf-js refreshes and downloads every target" || bad "tuf-js refresh (exit $rc)"
for t in products/app/1.0/manifest.json avdb/db/7/manifest.json products/app/channels/stable.json; do
    got=$(printf '%s\n' "$out" | sed -n "s|^ok $t [0-9]* ||p")
    dir=$(dirname "$t")
    want=$(ls "$R/targets/$dir/"*".$(basename "$t")" 2>/dev/null | head -n 1)
    if [ -n "$got" ] && [ -n "$want" ] && cmp -s "$got" "$want"; then
        ok "tuf-js got the bytes zupd-mirror wrote: $t"
    else
        bad "bytes of $t"
    fi
done
grep -q 'GET /repo/metadata/3.root.json' "$tmp/http.log" && ok "tuf-js walked the root chain" ||
    bad "tuf-js walked the root chain"

# avdb delegating to succinct hash bins (TAP 15)
B=$tmp/srv/bins
step "init with 8 avdb hash bins" "$M" init "$B" --same-passphrase --avdb-bins 3 --keys "$tmp/keys-bins"
step "publish 5 avdb components at once" "$M" publish sig-a 1 "$tmp/in/bin/app" sig-b 1 "$tmp/in/bin/app" \
    sig-c 1 "$tmp/in/bin/data" sig-d 1 "$tmp/in/bin/data" sig-e 1 "$tmp/in/bin/app" --role avdb -C "$B" --keys "$tmp/keys-bins"
step "promote in a bin" "$M" promote sig-c 1 --channel daily --role avdb -C "$B" --keys "$tmp/keys-bins"
step "zupd-mirror verify with bins" "$M" verify "$B"
out=$(node "$js/refresh.mjs" "http://127.0.0.1:$port/bins" "$B/metadata/1.root.json" "$tmp/client-bins" \
    avdb/sig-a/1/manifest.json avdb/sig-c/1/manifest.json avdb/sig-e/1/manifest.json \
    avdb/sig-c/channels/daily.json '!avdb/sig-f/1/manifest.json' 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
[ $rc = 0 ] && ok "tuf-js finds targets through the hash bins" || bad "tuf-js with hash bins (exit $rc)"
grep -q 'GET /bins/metadata/[0-9]*.avdb-bin-' "$tmp/http.log" && ok "tuf-js fetched bin metadata" ||
    bad "tuf-js fetched bin metadata"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
