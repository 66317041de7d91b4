#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/demo.sh -- the README's main command. On a fresh Debian machine:
# installs what is missing, builds, then on 127.0.0.1 only:
#   1. a vendor repository with a fresh Zurich root key and its
#      transparency log (zupd-mirror init);
#   2. two releases of a demo product and three hourly AV database releases
#      (zupd-mirror publish / promote), each logged;
#   3. the repository served by zupd-mirror serve; an independent witness
#      (zupd-mirror witness) cosigns the log's checkpoint;
#   4. an endpoint (zupd) doing the first install; it installs only what
#      the log, cosigned by the witness, shows to everyone;
#   5. the delta updates, printing bytes downloaded against the full size;
#   6. a forced rollback by the vendor through the signed channel pointer;
#   7. an enterprise policy repository (its own root) holding the fleet;
#   8. an independent auditor: products needs the build key and the
#      auditor's key; a release waits until the auditor's check against its
#      own rebuild signs it;
#   9. a replayed timestamp refused;
#  10. a release signed with stolen keys for one customer only, kept out of
#      the public log: refused; the log checked against the metadata;
#  11. zupd status (naming both keys and the checkpoint it trusts).
# Everything lives in a temporary directory removed at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-demo}
"$top/scripts/deps.sh"
cd "$top"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" >configure.out 2>&1 || { cat configure.out; exit 1; }
echo "== building zupd (log: $build/make.out)"
make -j"$(nproc 2>/dev/null || echo 2)" >make.out 2>&1 || { tail -n 40 make.out; exit 1; }
MIRROR=$build/mirror/zupd-mirror
ZUPD=$build/updater/zupd

work=$(mktemp -d /tmp/zupd-demo.XXXXXX)
serve_pid=
policy_pid=
witness_pid=
thief_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    [ -n "$policy_pid" ] && kill "$policy_pid" 2>/dev/null && wait "$policy_pid" 2>/dev/null
    [ -n "$witness_pid" ] && kill "$witness_pid" 2>/dev/null && wait "$witness_pid" 2>/dev/null
    [ -n "$thief_pid" ] && kill "$thief_pid" 2>/dev/null && wait "$thief_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$work|\$DEMO|g; s|$build/[a-z]*/||g"; "$@"; }

# the demo's key passphrase; a real vendor types it or keeps it in a vault
export ZUPD_PASSPHRASE=demo-only-passphrase
# zupd-mirror on the vendor repository (options go after the command)
m() { c=$1; shift; run "$MIRROR" "$c" "$@" -C "$work/vendor" --keys "$work/keys"; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 50); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }

say "1. a vendor repository with a fresh Zurich root key and its transparency log"
run $MIRROR init "$work/vendor" --keys "$work/keys" --same-passphrase
ls "$work/keys"
echo "the log's public key (endpoints and witnesses pin it):"
cat "$work/vendor/log/vkey"

say "2. releases: product 1.0 and 1.1, AV database 2026112301..03"
python3 - "$work" <<'PY'
import os, random, sys
w = sys.argv[1]
def tree(d, files):
    for p, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, p)), exist_ok=True)
        with open(os.path.join(d, p), "wb") as f:
            f.write(data)
r = random.Random(7)
binary = bytearray(r.randbytes(3_000_000))          # a 3 MB "executable"
libs = {"lib/libdemo-%d.so" % i: r.randbytes(200_000) for i in range(5)}
tree(w + "/product-1.0", {"bin/demo": bytes(binary), "VERSION": b"1.0\n", **libs})
for _ in range(40):                                  # 1.1: a patch release
    i = r.randrange(len(binary) - 16)
    binary[i:i + 16] = r.randbytes(16)
tree(w + "/product-1.1", {"bin/demo": bytes(binary), "VERSION": b"1.1\n", **libs})
sigs = ["%08x:Demo.Signature.%d\n" % (r.getrandbits(32), i) for i in range(20000)]
for h in (1, 2, 3):                                  # hourly AV databases
    sigs += ["%08x:Demo.New.%d.%d\n" % (r.getrandbits(32), h, i) for i in range(300)]
    files = {"main.db": "".join(sigs[:len(sigs) // 2]).encode(),
             "daily.db": "".join(sigs[len(sigs) // 2:]).encode(),
             "VERSION": b"20261123%02d\n" % h}
    tree(w + "/avdb-%d" % h, files)
PY
m publish product 1.0 "$work/product-1.0" --source-revision git:demo-1.0 --builder zurich-build
m promote product 1.0 --channel stable
m publish avdb 2026112301 "$work/avdb-1" --role avdb
m promote avdb 2026112301 --channel hourly --role avdb

say "3. the repository served on 127.0.0.1; an independent witness cosigns its log"
port=$(free_port)
"$MIRROR" serve "$work/vendor" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
serve_pid=$!
wait_http "http://127.0.0.1:$port/metadata/timestamp.json"
echo "serving $work/vendor on http://127.0.0.1:$port/" | sed "s|$work|\$DEMO|g"
# the witness is the auditor's (C2SP tlog-witness): it cosigns a checkpoint
# only when it extends, append-only, the one it cosigned before
wport=$(free_port)
run "$MIRROR" witness init --key "$work/witness/w.key" --name auditor.example/witness |
    tee "$work/witness.out"
tail -n 1 "$work/witness.out" >"$work/witness.vkey"
"$MIRROR" witness serve --key "$work/witness/w.key" --name auditor.example/witness \
    --state "$work/witness/state" --listen "127.0.0.1:$wport" \
    --log "$(cat "$work/vendor/log/vkey")" >"$work/witness.log" 2>&1 &
witness_pid=$!
wait_http "http://127.0.0.1:$wport/"
# the vendor lists the witness; endpoints will want its cosignature
m log witness add "$work/vendor" "$(cat "$work/witness.vkey")" "http://127.0.0.1:$wport" --quorum 1
m log cosign "$work/vendor"
tail -n 3 "$work/vendor/log/checkpoint" | cut -c1-60

say "4. an endpoint: zupd.conf trusts only the Zurich root, the log's key and the witness"
cat > "$work/zupd.conf" <<EOF
mirrors = [ "http://127.0.0.1:$port/" ];
trusted_root = "$work/vendor/metadata/1.root.json";
state_dir = "$work/endpoint/var-lib-zupd";
log = { key = "$(cat "$work/vendor/log/vkey")";
        witnesses = [ "$(cat "$work/witness.vkey")" ]; quorum = 1; };
components = (
  { name = "product"; role = "products"; channel = "stable";
    install_path = "$work/endpoint/opt-product"; keep = 3; },
  { name = "avdb"; role = "avdb"; channel = "hourly";
    install_path = "$work/endpoint/av-db"; keep = 2; }
);
EOF
Z="$ZUPD --config $work/zupd.conf"
run $Z check || true
run $Z update
cat "$work/endpoint/opt-product/VERSION" "$work/endpoint/av-db/VERSION"

say "5. new releases arrive: updates by delta"
m publish product 1.1 "$work/product-1.1" --source-revision git:demo-1.1 --builder zurich-build
m promote product 1.1 --channel stable
for h in 2 3; do
    m publish avdb 202611230$h "$work/avdb-$h" --role avdb
    m promote avdb 202611230$h --channel hourly --role avdb
    [ "$h" = 2 ] && run $Z update avdb
done
run $Z update
cat "$work/endpoint/opt-product/VERSION" "$work/endpoint/av-db/VERSION"
run $Z verify

say "6. the vendor forces a rollback: the signed channel pointer moves back to 1.0"
m promote product 1.0 --channel stable --rollback
run $Z update product
cat "$work/endpoint/opt-product/VERSION"

say "7. an enterprise holds its fleet: a policy repository with its own root"
# the enterprise's own small TUF repository, holding channel pointers only
p() { c=$1; shift; run "$MIRROR" policy "$c" "$@" -C "$work/policy" --keys "$work/policy-keys"; }
run "$MIRROR" policy init "$work/policy" --keys "$work/policy-keys" --same-passphrase
pport=$(free_port)
"$MIRROR" serve "$work/policy" --listen "127.0.0.1:$pport" >"$work/policy-serve.log" 2>&1 &
policy_pid=$!
wait_http "http://127.0.0.1:$pport/metadata/timestamp.json"
cat >> "$work/zupd.conf" <<EOF
policy = { url = "http://127.0.0.1:$pport/";
           trusted_root = "$work/policy/metadata/1.root.json"; };
EOF
p pin product 1.0 --channel stable --for 7d --note "hold until the VPN client is certified"
m promote product 1.1 --channel stable
run $Z check || true
run $Z update product
cat "$work/endpoint/opt-product/VERSION"
p release product --channel stable
run $Z update product
cat "$work/endpoint/opt-product/VERSION"

say "8. an independent auditor: a product release needs the build key AND the auditor's key"
# the auditor's key never leaves the auditor; the vendor gets its public half
run "$MIRROR" key generate auditor --keys "$work/auditor-keys" >/dev/null
"$MIRROR" key show auditor --keys "$work/auditor-keys" >"$work/auditor.pub"
"$MIRROR" key show products --keys "$work/keys" >"$work/build.pub"
m key add products "$work/build.pub" --name build
m key add products "$work/auditor.pub" --name auditor
m key threshold products 2
# the new threshold itself needs the auditor's signature on products
cp "$work/vendor/staged/products/"*.products.json "$work/threshold.json"
run "$MIRROR" sign "$work/threshold.json" --key "$work/auditor-keys/auditor.key"
m import "$work/threshold.json"
cp -a "$work/product-1.1" "$work/product-1.2" && echo 1.2 >"$work/product-1.2/VERSION"
m publish product 1.2 "$work/product-1.2" --stage --channel stable \
    --source-revision git:demo-1.2 --builder zurich-build
echo "the endpoint sees nothing while the release waits for the auditor:"
run $Z update product
# the auditor rebuilds git:demo-1.2 itself and checks the staged release over HTTP
cp -a "$work/product-1.2" "$work/auditor-rebuild"
echo zurich-build >"$work/builders"
mkdir -p "$work/audit-out"
run "$MIRROR" audit "http://127.0.0.1:$port/" --rebuild "$work/auditor-rebuild" \
    --key "$work/auditor-keys/auditor.key" --allow-builders "$work/builders" --out "$work/audit-out"
m import "$work/audit-out/"*.products.sig.json
run $Z update product
cat "$work/endpoint/opt-product/VERSION"

say "9. a mirror replaying an old timestamp is refused (rollback attack)"
cp "$work/vendor/metadata/timestamp.json" "$work/ts.old"
m refresh --force
run $Z check > /dev/null
cp "$work/ts.old" "$work/vendor/metadata/timestamp.json"
if $Z check > "$work/out" 2>&1; then echo "accepted?!"; exit 1; fi
echo "zupd check refused it: $(grep -m1 rollback "$work/out" || tail -n 1 "$work/out")"

say "10. a release signed with stolen keys, for one customer only, kept out of the public log"
# the thief has the publishing server: the online keys (snapshot, timestamp,
# avdb) and a copy of the tree. Logging its AV database publicly would show
# it to everyone, so the copy drops the log and serves it to one endpoint
cp -a "$work/vendor" "$work/thief" && cp -a "$work/keys" "$work/thief-keys"
rm -rf "$work/thief/log" "$work/thief-keys/online/log.key" "$work/thief-keys/offline"
cp -a "$work/avdb-3" "$work/avdb-evil" && echo 2026112399 >"$work/avdb-evil/VERSION"
"$MIRROR" publish avdb 2026112399 "$work/avdb-evil" --role avdb \
    -C "$work/thief" --keys "$work/thief-keys" >/dev/null
"$MIRROR" promote avdb 2026112399 --channel hourly --role avdb \
    -C "$work/thief" --keys "$work/thief-keys" >/dev/null
tport=$(free_port)
"$MIRROR" serve "$work/thief" --listen "127.0.0.1:$tport" >"$work/thief.log" 2>&1 &
thief_pid=$!
wait_http "http://127.0.0.1:$tport/metadata/timestamp.json"
sed "s|127.0.0.1:$port/|127.0.0.1:$tport/|" "$work/zupd.conf" >"$work/victim.conf"
echo "the endpoint is sent to the thief's mirror (its TUF signatures are valid):"
if run $ZUPD --config "$work/victim.conf" update avdb >"$work/out" 2>&1; then
    echo "installed?!"; exit 1
fi
sed "s|$work|\$DEMO|g; s|$build/[a-z]*/||g" "$work/out"
cat "$work/endpoint/av-db/VERSION"
echo "anyone can check the vendor's log against its signed metadata:"
m log verify "$work/vendor"

say "11. zupd status"
run $Z status

say "done: everything above ran on 127.0.0.1 and is removed now"
