#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/interop/tufjs.sh -- interoperability of libzupd with tuf-js (npm
# @tufjs/models, @tufjs/canonical-json, tuf-js; versions pinned by
# tests/interop/package-lock.json). See docs/internals/interop.md.
#
#  1. canonical JSON: zupd-interop and @tufjs/canonical-json against the
#     expected bytes (made by securesystemslib) of tests/data/good/canonical;
#     the known divergences (divergent-*) pinned to what tuf-js prints;
#  2. a repository built and signed by @tufjs/models verifies in libzupd, and
#     libzupd's client (zupd-tuf-client) refreshes from it over HTTP and
#     downloads targets;
#  3. a repository built and signed by libzupd verifies in @tufjs/models, and
#     the tuf-js client refreshes from it over HTTP on 127.0.0.1 and downloads
#     every target;
#  4. both encoders give the same bytes for every metadata file of both;
#  5. negative checks: tampered, unsigned and duplicate-signed files fail in
#     libzupd (tuf-js-made) and in tuf-js (zupd-made), for the right reason.
#
# Needs node >= 20.17 and npm (Debian nodejs, npm; scripts/deps.sh installs
# them): without them this test FAILS, it does not skip. node_modules is
# installed with `npm ci` from the lock file when missing or stale: in the
# source tree when it is writable, else (make distcheck) in a copy in the
# build tree. KEEP=1 keeps the scratch directory.
set -u

me=tufjs.sh
: "${top_srcdir:?$me: top_srcdir not set (run through make check)}"
: "${top_builddir:?$me: top_builddir not set (run through make check)}"
src=$top_srcdir/tests/interop
vec=$top_srcdir/tests/data/good/canonical
tool=$top_builddir/tests/interop/zupd-interop

die() { echo "$me: $*" >&2; echo "FAIL: $me"; exit 1; }

# ---------------------------------------------------------------- node, npm
command -v node >/dev/null 2>&1 ||
    die "node is missing: install Debian's nodejs and npm (scripts/deps.sh does)"
command -v npm >/dev/null 2>&1 ||
    die "npm is missing: install Debian's npm (scripts/deps.sh does)"
nodever=$(node -p 'process.versions.node') || die "node does not run"
node -e '
const [a, b] = process.versions.node.split(".").map(Number);
process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1);' ||
    die "node $nodever is too old: tuf-js 5 needs node >= 20.17"
[ -x "$tool" ] || die "$tool is not built"

# where node_modules lives, and the scripts run from (ESM resolves packages
# from the script's own directory, so the scripts go along with it)
# (the mode bits, not just access(2): make distcheck's read-only source tree
# is still writable for root)
if [ -w "$src" ] && [ -n "$(find "$src" -maxdepth 0 -perm -u=w 2>/dev/null)" ]; then
    js=$src
else
    js=$top_builddir/tests/interop/node
    mkdir -p "$js" || die "cannot create $js"
    cp "$src/package.json" "$src/package-lock.json" "$src"/*.mjs "$js/" || die "cannot copy to $js"
fi
stamp=$js/node_modules/.zupd-lock
if ! cmp -s "$js/package-lock.json" "$stamp" 2>/dev/null; then
    echo "$me: npm ci in $js (node $nodever, npm $(npm --version 2>/dev/null))"
    (cd "$js" && npm_config_update_notifier=false npm ci --no-audit --no-fund --loglevel=error) ||
        die "npm ci failed in $js"
    cp "$js/package-lock.json" "$stamp" || die "cannot write $stamp"
fi
versions=$(cd "$js" && node -p '
["@tufjs/models", "@tufjs/canonical-json", "tuf-js"].map((p) =>
  p + "@" + require("./node_modules/" + p + "/package.json").version).join(" ")') ||
    die "node_modules in $js is incomplete"
echo "$me: node $nodever; $versions"

work=$(mktemp -d "${TMPDIR:-/tmp}/zupd-tufjs.XXXXXX") || die "mktemp failed"
npass=0
nfail=0
spid=
finish() {
    if [ -n "$spid" ]; then kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; fi
    if [ "$nfail" = 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "$me: kept $work"; fi
}
trap finish EXIT

pass() { npass=$((npass + 1)); echo "ok $((npass + nfail)) - $*"; }
fail() { nfail=$((nfail + 1)); echo "not ok $((npass + nfail)) - $*"; }

# run a command, keep its output in $work/out
run() { "$@" >"$work/out" 2>&1; }
show() { sed 's/^/    /' "$work/out"; }

expect_ok() { # description command...
    d=$1; shift
    if run "$@"; then pass "$d"; else fail "$d"; show; fi
}

expect_fail() { # description pattern command...: must exit 1, saying pattern
    d=$1; pat=$2; shift 2
    run "$@"
    rc=$?
    if [ "$rc" = 0 ]; then
        fail "$d: accepted"; show
    elif [ "$rc" != 1 ] || grep -q 'Sanitizer' "$work/out"; then
        fail "$d: refused, but exit status $rc or a sanitizer report"; show
    elif grep -q -- "$pat" "$work/out"; then
        pass "$d: refused: $(grep -- "$pat" "$work/out" | head -n 1 | sed "s|$work/||g")"
    else
        fail "$d: refused, but not for '$pat'"; show
    fi
}

# ---------------------------------------------------------------- 1 canonical JSON vectors
mkdir -p "$work/cz" "$work/cj"
for f in "$vec"/*.json; do
    b=$(basename "$f" .json)
    want=$vec/$b.canon
    if run "$tool" canon "$f" && mv "$work/out" "$work/cz/$b" && cmp -s "$work/cz/$b" "$want"; then
        pass "canonical $b: libzupd = securesystemslib"
    else
        fail "canonical $b: libzupd differs from $want"; [ -f "$work/out" ] && show
    fi
    if ! run node "$js/canon.mjs" "$f"; then
        fail "canonical $b: canon.mjs failed"; show; continue
    fi
    mv "$work/out" "$work/cj/$b"
    case $b in
    divergent-*)
        # a known divergence: tuf-js must still print exactly what it did
        # when the vector was made; if it changes, revisit the docs
        if cmp -s "$work/cj/$b" "$vec/$b.tufjs.canon" && ! cmp -s "$work/cj/$b" "$want"; then
            pass "canonical $b: tuf-js differs from libzupd as documented"
        else
            fail "canonical $b: tuf-js output changed (see docs/internals/interop.md)"
        fi ;;
    *)
        if cmp -s "$work/cj/$b" "$want" && cmp -s "$work/cj/$b" "$work/cz/$b"; then
            pass "canonical $b: @tufjs/canonical-json = libzupd, byte for byte"
        else
            fail "canonical $b: @tufjs/canonical-json differs"
        fi ;;
    esac
done

# ---------------------------------------------------------------- 2, 3 repositories both ways
T=$work/tufjs-repo
Z=$work/zupd-repo
expect_ok "@tufjs/models builds and signs a repository" node "$js/make-repo.mjs" "$T"
expect_ok "libzupd builds and signs a repository" "$tool" make-repo "$Z"
expect_ok "libzupd verifies the tuf-js repository (root chain, ed25519/ECDSA/RSA-PSS, delegations, hash bins)" \
    "$tool" verify "$T"
expect_ok "@tufjs/models verifies the libzupd repository" node "$js/verify.mjs" "$Z"
# every target of the manifest, plus paths no role may give
targets_of() { node -e '
const m = require(process.argv[1]);
console.log(Object.values(m).flat().join("\n"));' "$1/manifest.json"; }
zt=$(targets_of "$Z") || zt=
n=$(printf '%s\n' "$zt" | grep -c .)
# the target lists are split on newlines only (names have spaces in theory)
nl='
'
set -f
oldifs=$IFS
IFS=$nl
expect_ok "tuf-js client refreshes from the libzupd repository over HTTP and downloads its $n targets" \
    node "$js/client.mjs" --repo "$Z" $zt '!bins/item-99.txt' '!products/gadget/9.9.9/manifest.json' '!nothing.txt'
tt=$(targets_of "$T") || tt=
n=$(printf '%s\n' "$tt" | grep -c .)
# this one through serve.mjs, the server later client tests start on their
# own; it serves the whole scratch directory until the end
node "$js/serve.mjs" "$work" --port-file "$work/port" >/dev/null 2>"$work/serve.err" &
spid=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 100 ] && kill -0 "$spid" 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
port=$(cat "$work/port" 2>/dev/null) || port=
url=http://127.0.0.1:$port
[ -n "$port" ] || fail "serve.mjs did not start: $(cat "$work/serve.err")"
expect_ok "tuf-js client refreshes from the tuf-js repository (serve.mjs) and downloads its $n targets" \
    node "$js/client.mjs" --url "$url/tufjs-repo" --trusted-root "$T/metadata/1.root.json" \
    $tt '!bins/none.dat'
IFS=$oldifs
set +f

# libzupd's own client (the tuf-conformance CLI, lib/client.c): init from
# root v1, refresh from the tuf-js repository over HTTP, download targets
zclient=$top_builddir/updater/zupd-tuf-client
zc_download() { # repo-name state-dir target... (newline-free names)
    name=$1; st=$2; shift 2
    rm -rf "$st" && mkdir -p "$st/md" "$st/t" || return 1
    "$zclient" --metadata-dir "$st/md" init "$work/$name/metadata/1.root.json" || return 1
    for t in "$@"; do set -- "$@" --target-name "$t"; shift; done
    "$zclient" --metadata-dir "$st/md" --metadata-url "$url/$name/metadata" \
        --target-dir "$st/t" --target-base-url "$url/$name/targets" "$@" download
}
zct='hello.txt
docs/ünïcødé/日本語.txt
emoji/😀-smile.txt
nested/a/b/c/deep.bin
empty.txt
products/widget/1.0.0/manifest.json
products/widget/channels/stable.json
avdb/daily.cvd
bins/file-000.dat
bins/file-063.dat'
n=$(printf '%s\n' "$zct" | grep -c .)
set -f
IFS=$nl
if run zc_download tufjs-repo "$work/zc" $zct && [ "$(ls "$work/zc/t" | grep -c .)" = "$n" ]; then
    pass "libzupd client (zupd-tuf-client) refreshes from the tuf-js repository over HTTP and downloads $n targets"
else
    fail "libzupd client on the tuf-js repository"; show
fi
IFS=$oldifs
set +f

# ---------------------------------------------------------------- 4 canonical JSON of every metadata file
for R in "$T" "$Z"; do
    name=$(basename "$R")
    mkdir -p "$work/mz-$name" "$work/mj-$name"
    if run "$tool" canon -o "$work/mz-$name" "$R"/metadata/*.json &&
        run node "$js/canon.mjs" -o "$work/mj-$name" "$R"/metadata/*.json; then
        files=0; diffs=
        for f in "$work/mz-$name"/*.canon; do
            files=$((files + 1))
            cmp -s "$f" "$work/mj-$name/$(basename "$f")" || diffs="$diffs $(basename "$f")"
        done
        if [ -z "$diffs" ] && [ "$files" -gt 3 ]; then
            pass "canonical JSON of the $files metadata files of $name: identical in both"
        else
            fail "canonical JSON of $name differs:$diffs"
        fi
    else
        fail "canonical JSON of $name: an encoder failed"; show
    fi
done

# ---------------------------------------------------------------- 5 negative checks
# damage one file of a copy of repository $1 with tamper.mjs mode $2
damaged() { # repo file mode -> path of the damaged copy
    d=$work/damaged-$(basename "$1")-$3-$(echo "$2" | tr -c 'a-zA-Z0-9.\n' _)
    rm -rf "$d" && cp -R "$1" "$d" && node "$js/tamper.mjs" "$3" "$d/metadata/$2" && echo "$d"
}
neg_zupd() { # file mode pattern: a damaged tuf-js repository fails libzupd
    if d=$(damaged "$T" "$1" "$2"); then
        expect_fail "libzupd on tuf-js $1 ($2)" "$3" "$tool" verify "$d"
    else
        fail "cannot damage $1"
    fi
}
neg_node() { # file mode pattern: a damaged libzupd repository fails tuf-js
    if d=$(damaged "$Z" "$1" "$2"); then
        expect_fail "@tufjs/models on libzupd $1 ($2)" "$3" node "$js/verify.mjs" "$d"
    else
        fail "cannot damage $1"
    fi
}
bin=$(cd "$T/metadata" && ls 1.bin-*.json | head -n 1)
binrole=${bin#1.}
binrole=${binrole%.json}
neg_zupd 1.root.json byte 'threshold not met (root: 0 of 1 required'
neg_zupd 2.root.json byte 'threshold not met'
neg_zupd 2.root.json unsign 'threshold not met (root: 1 of 2 required'
neg_zupd 2.root.json dupsig 'several signatures by key id'
neg_zupd timestamp.json byte "role 'timestamp': signature threshold not met"
neg_zupd 4.snapshot.json byte 'hash mismatch'
neg_zupd 3.targets.json byte 'hash mismatch'
neg_zupd 2.products.json byte "role 'products': signature threshold not met"
neg_zupd 1.hashed.json byte "role 'hashed': signature threshold not met"
neg_zupd 1.bins.json byte "role 'bins': signature threshold not met"
neg_zupd "$bin" byte "role '$binrole': signature threshold not met"
neg_node 1.root.json unsign 'root was signed by 1/2 keys'
neg_node 2.root.json byte 'root was signed by 0/2 keys'
neg_node timestamp.json byte 'timestamp was signed by 0/1 keys'
neg_node 2.targets.json byte 'Expected hash'
neg_node 1.products.json byte 'products was signed by 0/1 keys'
neg_node 1.zbin-0.json byte 'zbin-0 was signed by 0/1 keys'
if d=$(damaged "$Z" 1.hashed.json byte); then
    expect_fail "tuf-js client on libzupd repository with a damaged delegated role" \
        'hashed was signed by 0/1 keys' node "$js/client.mjs" --repo "$d" avdb/daily.cvd
else
    fail "cannot damage 1.hashed.json"
fi

if d=$(damaged "$T" 2.products.json byte); then
    expect_fail "libzupd client on a tuf-js repository with a damaged delegated role" \
        'products: 0 of 1 required signatures' zc_download "$(basename "$d")" "$work/zc-bad" products/widget/1.0.0/manifest.json
else
    fail "cannot damage 2.products.json"
fi

# expired metadata, both ways
if run node "$js/make-repo.mjs" "$work/expired-tufjs" --expires 2020-01-01T00:00:00Z; then
    expect_fail "libzupd on an expired tuf-js repository" 'metadata has expired' \
        "$tool" verify "$work/expired-tufjs"
else
    fail "make-repo.mjs --expires"; show
fi
if run "$tool" make-repo "$work/expired-zupd" --expires 2020-01-01T00:00:00Z; then
    expect_fail "@tufjs/models on an expired libzupd repository" "expired (2020-01-01T00:00:00Z)" \
        node "$js/verify.mjs" "$work/expired-zupd"
else
    fail "zupd-interop make-repo --expires"; show
fi

# A known divergence, pinned: tuf-js sorts object keys by UTF-16 code unit,
# libzupd (like securesystemslib) by code point. Targets named with U+FF46
# and U+1F600 make a targets role that tuf-js signs and libzupd refuses.
D=$work/utf16-repo
if run node "$js/make-repo.mjs" "$D" --utf16-trap; then
    expect_fail "known divergence: tuf-js-signed targets with U+FF46 and U+1F600 keys" \
        "role 'targets': signature threshold not met" "$tool" verify "$D"
else
    fail "make-repo.mjs --utf16-trap"; show
fi

echo "$me: $npass passed, $nfail failed"
[ "$nfail" = 0 ]
