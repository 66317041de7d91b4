#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/mirror_update.sh -- end to end: a repository made by
# zupd-mirror (init, publish, promote, rollback) served by a plain static
# HTTP server on 127.0.0.1, and the endpoint client `zupd update` installing
# from it: first install, an upgrade by delta, a vendor rollback.
set -u
. "$(dirname "$0")/lib.sh"
M=$MIRROR
Z=$ZUPD
need python3
[ -x "$Z" ] || { echo "$Z not built"; exit 99; }
test_init mirror-update
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS

step() { # step NAME CMD...
    name=$1
    shift
    if out=$("$@" 2>&1); then ok "$name"; else bad "$name"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
}

R=$tmp/srv/repo
mkdir -p "$tmp/srv" "$tmp/in/bin" "$tmp/state" "$tmp/opt"
python3 -c "
import random
r = random.Random(7)
open('$tmp/in/bin/data', 'w').write(''.join('record %d %x\n' % (i, r.getrandbits(64)) for i in range(20000)))"
printf '#!/bin/sh\necho v1\n' >"$tmp/in/bin/app"
chmod 755 "$tmp/in/bin/app"
step "init (avdb in 4 hash bins)" "$M" init "$R" --same-passphrase --avdb-bins 2
mkdir -p "$tmp/db"
echo "sig 1" >"$tmp/db/main.ndb"
step "publish an AV database" "$M" publish avdb 1 "$tmp/db" --role avdb -C "$R"
step "promote it" "$M" promote avdb 1 --channel daily --role avdb -C "$R"
step "publish 1.0" "$M" publish product 1.0 "$tmp/in" -C "$R" --source-revision git:1 --builder t
step "promote 1.0" "$M" promote product 1.0 --channel stable -C "$R"

# a plain static server of the tree, on a free port
port=$(free_port)
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$R" >"$tmp/http.log" 2>&1 &
srv=$!
track_pid $srv
wait_port "$port" "$srv" || { bad "server did not start"; exit 1; }

cat >"$tmp/zupd.conf" <<CONF
mirrors = [ "http://127.0.0.1:$port/" ];
trusted_root = "$R/metadata/1.root.json";
state_dir = "$tmp/state";
components = (
  { name = "product"; role = "products"; channel = "stable";
    install_path = "$tmp/opt/product"; keep = 3; },
  { name = "avdb"; role = "avdb"; channel = "daily";
    install_path = "$tmp/opt/avdb"; keep = 2; }
);
CONF

step "zupd update installs 1.0" "$Z" --config "$tmp/zupd.conf" update
[ "$("$tmp/opt/product/bin/app")" = v1 ] && ok "1.0 installed" || bad "1.0 installed"
cmp -s "$tmp/in/bin/data" "$tmp/opt/product/bin/data" && ok "content intact" || bad "content intact"
cmp -s "$tmp/db/main.ndb" "$tmp/opt/avdb/main.ndb" && ok "AV database installed through its hash bin" ||
    bad "AV database installed through its hash bin"
echo "sig 2" >"$tmp/db/main.ndb"
step "publish AV database 2" "$M" publish avdb 2 "$tmp/db" --role avdb -C "$R"
step "promote it" "$M" promote avdb 2 --channel daily --role avdb -C "$R"
step "zupd update picks it up" "$Z" --config "$tmp/zupd.conf" update
cmp -s "$tmp/db/main.ndb" "$tmp/opt/avdb/main.ndb" && ok "AV database 2 installed" || bad "AV database 2 installed"

sed -i 's/^record 100 /RECORD 100 /' "$tmp/in/bin/data"
printf '#!/bin/sh\necho v2\n' >"$tmp/in/bin/app"
out=$("$M" publish product 1.1 "$tmp/in" -C "$R" 2>&1)
printf '%s\n' "$out" | grep -Eq '[1-9][0-9]* deltas' && ok "publish 1.1 made deltas" || bad "publish 1.1: $out"
step "promote 1.1" "$M" promote product 1.1 --channel stable -C "$R"
step "verify the served tree" "$M" verify "$R"
step "zupd update to 1.1" "$Z" --config "$tmp/zupd.conf" update
[ "$("$tmp/opt/product/bin/app")" = v2 ] && ok "1.1 installed" || bad "1.1 installed"
cmp -s "$tmp/in/bin/data" "$tmp/opt/product/bin/data" && ok "1.1 content intact" || bad "1.1 content intact"
d=$(sed -n 's/.*"deltas":\[{"from_sha256":"[0-9a-f]*","method":"[a-z0-9]*","sha256":"\([0-9a-f]*\)".*/\1/p' \
    "$R"/targets/products/product/1.1/*.manifest.json | head -n 1)
[ -n "$d" ] && grep -q "GET /blobs/sha256/../$d " "$tmp/http.log" && ok "the upgrade fetched the delta" ||
    bad "the upgrade fetched the delta ($d)"

step "vendor rollback: promote 1.0 --rollback" "$M" promote product 1.0 --channel stable --rollback -C "$R"
step "zupd update follows the rollback" "$Z" --config "$tmp/zupd.conf" update
[ "$("$tmp/opt/product/bin/app")" = v1 ] && ok "back on 1.0" || bad "back on 1.0"
step "zupd verify" "$Z" --config "$tmp/zupd.conf" verify
finish
