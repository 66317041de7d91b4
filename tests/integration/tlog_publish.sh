#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tlog_publish.sh -- the publisher's transparency log
# (docs/transparency.md): init makes the log key and log/; publish, promote,
# floor and key rotate each log their entries; `zupd-mirror log verify`
# accepts the result and refuses, each with its exit code (10 + enum
# zupd_err): a release signed in TUF but absent from the log, a tile or an
# entry bundle with one flipped byte, a checkpoint rolled back to a smaller
# tree, a checkpoint checked with another log key; a publish stopped by a
# garbled checkpoint writes nothing; serve hands out the log.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
test_init tlog-publish
M=$MIRROR
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS
R=$work/repo K=$work/keys

size() { sed -n 2p "$R/log/checkpoint"; }
flip() { # flip FILE OFFSET
    python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[int(sys.argv[2])]^=1; open(p,"wb").write(b)' "$1" "$2"
}

expect_rc 0 "init" "$M" init "$R" --keys "$K" --same-passphrase
[ -f "$K/online/log.key" ] && [ -f "$R/log/vkey" ] && [ "$(size)" = 1 ] && ok "init: log key, vkey, root version 1 logged" ||
    bad "init: no log key or log"
mkdir -p "$work/in"
echo one >"$work/in/a"
expect_rc 0 "publish 1.0" "$M" publish app 1.0 "$work/in" -C "$R" --keys "$K"
expect_rc 0 "promote 1.0" "$M" promote app 1.0 --channel stable -C "$R" --keys "$K"
echo two >"$work/in/a"
expect_rc 0 "publish 2.0" "$M" publish app 2.0 "$work/in" -C "$R" --keys "$K"
expect_rc 0 "promote 2.0" "$M" promote app 2.0 --channel stable -C "$R" --keys "$K"
expect_rc 0 "floor 2.0" "$M" floor app 2.0 -C "$R" --keys "$K"
expect_rc 0 "rollback to 1.0 (a public trace)" "$M" promote app 1.0 --channel stable --rollback -C "$R" --keys "$K"
expect_rc 0 "key rotate timestamp (a new root)" "$M" key rotate timestamp -C "$R" --keys "$K"
eq "log size after 7 changes" "$(size)" 8
expect_rc 0 "log verify" "$M" log verify "$R"
check "log verify counts" "$(cat "$work/out")" "of 8 entries" "2 releases, 4 channel changes, 2 root versions" \
    "3 targets and every root version logged"
# the vendor's rollback: stable back at 1.0, after the floor, in the log
last=$(python3 - "$R/log/tile/entries/000.p/8" <<'PY'
import sys, json
b = open(sys.argv[1], "rb").read()
e = []
while b:
    n = int.from_bytes(b[:2], "big"); e.append(json.loads(b[2:2 + n])); b = b[2 + n:]
c = [x for x in e if x["type"] == "channel"]
print(" ".join("%s:%s%s" % (x["channel"], x["version"], "/floor" + x["floor"] if "floor" in x else "") for x in c))
PY
)
eq "channel entries: promote, promote, floor, rollback" "$last" "stable:1.0 stable:2.0 stable:2.0/floor2.0 stable:1.0/floor2.0"
expect_rc 0 "log verify --vkey (the key given, not read from the tree)" \
    "$M" log verify "$R" --vkey "$(cat "$R/log/vkey")"

# served as static files: the checkpoint (text/plain) and the tiles
serve_tree "$R" || bad "serve"
curl -sS --noproxy '*' -D "$work/h" -o "$work/cp" "http://127.0.0.1:$SPORT/log/checkpoint" &&
    cmp -s "$work/cp" "$R/log/checkpoint" && grep -qi '^content-type: text/plain' "$work/h" &&
    ok "serve: log/checkpoint" || bad "serve: log/checkpoint"
curl -sS --noproxy '*' -D "$work/h" -o "$work/t" "http://127.0.0.1:$SPORT/log/tile/0/000.p/8" &&
    cmp -s "$work/t" "$R/log/tile/0/000.p/8" && grep -qi '^cache-control:.*immutable' "$work/h" &&
    ok "serve: a tile, immutable" || bad "serve: a tile"

# attacks on the log
cp -a "$R" "$work/saved"
restore() { rm -rf "$R" && cp -a "$work/saved" "$R"; }
flip "$R/log/tile/0/000.p/8" 40
expect_rc 17 "a flipped byte in a tile" "$M" log verify "$R"
check "names the tile" "$(cat "$work/err")" "tile|bundle|root"
restore
flip "$R/log/tile/entries/000.p/8" 30
expect_rc 17 "a flipped byte in an entry bundle" "$M" log verify "$R"
restore
cp "$R/log/checkpoint" "$work/cp8"
echo three >"$work/in/a"
# a release the vendor signed with the log out of the way: in TUF, not logged
mv "$R/log" "$work/log-aside" && mv "$K/online/log.key" "$work/log.key-aside"
expect_rc 0 "publish 3.0 with the log out of the way" "$M" publish app 3.0 "$work/in" -C "$R" --keys "$K"
mv "$work/log-aside" "$R/log" && mv "$work/log.key-aside" "$K/online/log.key"
expect_rc 25 "a release signed but not logged" "$M" log verify "$R"
check "names the release" "$(cat "$work/err")" "products/app/3.0/manifest.json.*signed but not in the log"
restore
# rolled back: the checkpoint of an older, smaller tree
expect_rc 0 "publish 3.0 logged" "$M" publish app 3.0 "$work/in" -C "$R" --keys "$K"
cp "$work/cp8" "$R/log/checkpoint"
expect_rc 25 "a log rolled back to a smaller tree" "$M" log verify "$R"
restore
# a garbled checkpoint stops a publish before anything is signed or written
printf 'not a checkpoint\n' >"$R/log/checkpoint"
cp -a "$R" "$work/garbled"
mkdir "$work/in4" && head -c 70000 /dev/urandom >"$work/in4/new.bin"
expect_rc 11 "publish with a garbled log/checkpoint" "$M" publish app 4.0 "$work/in4" -C "$R" --keys "$K"
check "names the file" "$(cat "$work/err")" "cannot read '.*/log/checkpoint'"
diff -r "$work/garbled" "$R" >/dev/null && ok "the repository is unchanged" ||
    bad "the repository changed"
restore
expect_rc 11 "a malformed vkey" "$M" log verify "$R" --vkey "zupd-log/x+00000000+AQ=="
python3 - "$R/log/vkey" >"$work/vkey2" <<'PY'
import sys, base64, hashlib
name = open(sys.argv[1]).read().split('+')[0]
pub = bytes(range(32))
kid = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
print(name + "+" + kid.hex() + "+" + base64.b64encode(b"\x01" + pub).decode())
PY
expect_rc 13 "a checkpoint checked with another log key" "$M" log verify "$R" --vkey "$(cat "$work/vkey2")"
finish tlog_publish
