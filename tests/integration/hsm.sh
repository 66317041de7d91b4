#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/hsm.sh -- signing keys in a PKCS#11 token (SoftHSM2, a
# real PKCS#11 module loaded with dlopen): keys made inside a private token
# (Ed25519 and ECDSA P-256), a whole init + publish + promote with them, an
# offline root rotation (key rotate, then stage / sign with a PKCS#11 URI /
# import) with a root key in the token, and the endpoint (zupd update from
# zupd-mirror serve on 127.0.0.1) installing the result. A wrong PIN, a
# missing object or token and a module that does not load each give a clear
# error and a non-zero exit. Skips without softhsm2 (fails instead when
# ZUPD_TESTS_REQUIRE_SOFTHSM=1, as .ci/run sets).
set -u
. "$(dirname "$0")/lib.sh"
M=$MIRROR
Z=$ZUPD
[ -x "$Z" ] || { echo "$Z not built"; exit 99; }
MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
    [ -r "$m" ] && MODULE=$m && break
done
if ! command -v softhsm2-util >/dev/null 2>&1 || [ -z "$MODULE" ]; then
    skip_or_fail ZUPD_TESTS_REQUIRE_SOFTHSM "softhsm2 missing (apt-get install softhsm2)"
fi
test_init hsm
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS ZUPD_PKCS11_MODULE ZUPD_PKCS11_PIN

# SoftHSM 2.6.1 leaks a few bytes of OpenSSL ASN.1 in C_SignInit of an EdDSA
# key (inside the module, every signature): not ours, suppressed by module
# name, which needs the slow unwinder to see the module's frames
printf 'leak:libsofthsm2.so\n' >"$tmp/lsan.supp"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0
LSAN_OPTIONS=suppressions=$tmp/lsan.supp:print_suppressions=0
export ASAN_OPTIONS LSAN_OPTIONS

# a private token directory: nothing of the machine's own SoftHSM is touched
mkdir -p "$tmp/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$tmp" >"$tmp/softhsm2.conf"
SOFTHSM2_CONF=$tmp/softhsm2.conf
export SOFTHSM2_CONF
if softhsm2-util --init-token --free --label zurich --pin 1234 --so-pin 5678 >"$tmp/init-token.log" 2>&1; then
    ok "softhsm2-util --init-token"
else
    bad "softhsm2-util --init-token"
    cat "$tmp/init-token.log"
    finish hsm
fi

K=$tmp/keys
R=$tmp/repo
P11="--pkcs11-module $MODULE"
printf '1234\n' >"$tmp/pin"
chmod 600 "$tmp/pin"

step() { # step NAME CMD...
    _n=$1
    shift
    if out=$("$@" 2>&1); then ok "$_n"; else bad "$_n"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
}

# ---------------------------------------------------------------- keys in the token
step "root-1: an Ed25519 key made in the token" \
    "$M" key generate root-1 --keys "$K" $P11 --pin-file "$tmp/pin" \
    --pkcs11 'pkcs11:token=zurich;object=root-1'
step "targets: a P-256 key made in the token" \
    "$M" key generate targets --keys "$K" $P11 --pin-file "$tmp/pin" --key-type ecdsa \
    --pkcs11 'pkcs11:token=zurich;object=targets'
# the products key: made with the PIN in the URI, module from the environment
ZUPD_PKCS11_MODULE=$MODULE "$M" key generate products --keys "$K" \
    --pkcs11 'pkcs11:token=zurich;object=products?pin-value=1234' >"$tmp/out" 2>&1 &&
    ok "products: an Ed25519 key made in the token" || { bad "products key"; cat "$tmp/out"; }
grep -q 1234 "$K/products.key" && bad "the pin-value was written to the key reference" ||
    ok "the pin-value is not kept in the key reference"
grep -q '"sealed_seed"' "$K/root-1.key" "$K/targets.key" "$K/products.key" &&
    bad "a token key reference holds a secret" || ok "token key references hold no secret"
out=$("$M" key list --keys "$K" 2>&1)
check "key list names the token keys" "$out" "^products .*pkcs11:token=zurich;object=products" \
    "^targets .*pkcs11:token=zurich;object=targets"
out=$("$M" key show targets --keys "$K" 2>&1)
check "key show: an ecdsa P-256 key (PEM)" "$out" '"keytype":"ecdsa"' 'ecdsa-sha2-nistp256' \
    'BEGIN PUBLIC KEY'
expect_rc 31 "a key name taken in the token is refused" \
    "$M" key generate other --keys "$K" $P11 --pin-file "$tmp/pin" \
    --pkcs11 'pkcs11:token=zurich;object=root-1'
check "... saying so" "$(cat "$work/err")" "already has a key 'root-1'"

# ---------------------------------------------------------------- init, publish, promote
# snapshot, timestamp and avdb stay key files (online keys); the others are
# the token's
ZUPD_PKCS11_PIN=1234
export ZUPD_PKCS11_PIN
step "init with root, targets and products in the token" "$M" init "$R" --keys "$K" $P11 --same-passphrase
grep -q '"keytype": *"ecdsa"' "$R/metadata/1.root.json" && ok "root lists the P-256 targets key" ||
    bad "root lists the P-256 targets key"
mkdir -p "$tmp/v1/bin" "$tmp/v2/bin"
printf '#!/bin/sh\necho v1\n' >"$tmp/v1/bin/app"
printf '#!/bin/sh\necho v2\n' >"$tmp/v2/bin/app"
chmod 755 "$tmp/v1/bin/app" "$tmp/v2/bin/app"
grep -q "\"pkcs11_module\": \"$MODULE\"" "$R/.zupd/config.json" &&
    ok "init records the module in the repository config" || bad "no pkcs11_module in config.json"
# the repository's module comes before the one a key reference recorded
sed -i "s|\"module\": \".*\"|\"module\": \"$tmp/moved.so\"|" "$K/products.key"
step "publish 1.0 (products signed in the token; module from config.json)" \
    "$M" publish product 1.0 "$tmp/v1" -C "$R" --keys "$K"
step "promote 1.0" "$M" promote product 1.0 --channel stable -C "$R" --keys "$K" $P11
step "verify the repository" "$M" verify "$R"

# ---------------------------------------------------------------- errors
unset ZUPD_PKCS11_PIN
ZUPD_PKCS11_PIN=9999 expect_rc 26 "publish with a wrong PIN fails" \
    "$M" publish product 1.1 "$tmp/v2" -C "$R" --keys "$K" $P11
check "... naming the token and CKR_PIN_INCORRECT" "$(cat "$work/err")" \
    "wrong PIN for PKCS#11 token 'zurich' \(CKR_PIN_INCORRECT\)"
f=$("$M" stage targets -C "$R" --keys "$K" 2>&1)
[ -f "$f" ] && ok "stage targets" || bad "stage targets: $f"
expect_rc 25 "sign with a missing object fails" \
    "$M" sign "$f" $P11 --pin-file "$tmp/pin" --key 'pkcs11:token=zurich;object=nope'
check "... naming it" "$(cat "$work/err")" "token 'zurich' has no public key object 'nope'"
expect_rc 25 "sign with a missing token fails" \
    "$M" sign "$f" $P11 --pin-file "$tmp/pin" --key 'pkcs11:token=geneva;object=targets'
check "... naming it and the tokens there are" "$(cat "$work/err")" \
    "token 'geneva' not found in module '$MODULE' \(tokens: 'zurich'"
expect_rc 25 "sign with a module that does not load fails" \
    "$M" sign "$f" --pkcs11-module "$tmp/nope.so" --pin-file "$tmp/pin" \
    --key 'pkcs11:token=zurich;object=targets'
check "... naming it" "$(cat "$work/err")" "cannot load PKCS#11 module '$tmp/nope.so'"
expect_rc 22 "sign with an unknown URI attribute fails" \
    "$M" sign "$f" $P11 --pin-file "$tmp/pin" --key 'pkcs11:token=zurich;objekt=targets'
check "... naming it" "$(cat "$work/err")" "unsupported attribute 'objekt'"
chmod 644 "$tmp/pin"
expect_rc 27 "a PIN file readable by others is refused" \
    "$M" sign "$f" $P11 --pin-file "$tmp/pin" --key 'pkcs11:token=zurich;object=targets'
check "... saying why" "$(cat "$work/err")" "closed to group and others"
chmod 600 "$tmp/pin"
out=$("$M" sign "$f" $P11 --key "pkcs11:token=zurich;object=targets?pin-source=file:$tmp/pin" 2>&1)
check "sign staged targets with the token key (PIN from pin-source)" "$out" "^signed"
step "import it" "$M" import "$f" -C "$R" --keys "$K"

# ---------------------------------------------------------------- offline root rotation
step "root-2: a P-256 key made in the token" \
    "$M" key generate root-2 --keys "$K" $P11 --pin-file "$tmp/pin" --key-type ecdsa \
    --pkcs11 'pkcs11:token=zurich;object=root-2'
step "rotate root to root-1 + root-2 (threshold 2), signed in the token" \
    "$M" key rotate root --key root-1 --key root-2 --threshold 2 -C "$R" --keys "$K" $P11 \
    --pin-file "$tmp/pin"
f=$("$M" stage root -C "$R" --keys "$K" 2>&1)
[ -f "$f" ] && ok "stage root" || bad "stage root: $f"
expect_rc 14 "import refuses root signed by no key" "$M" import "$f" -C "$R" --keys "$K"
out=$("$M" sign "$f" $P11 --pin-file "$tmp/pin" --key 'pkcs11:token=zurich;object=root-1' 2>&1)
check "sign the new root with root-1 (URI)" "$out" "^signed"
expect_rc 14 "import refuses root with 1 of 2 signatures" "$M" import "$f" -C "$R" --keys "$K"
out=$("$M" sign "$f" $P11 --pin-file "$tmp/pin" --key "$K/root-2.key" 2>&1)
check "sign it with root-2 (the key reference)" "$out" "^signed"
step "import the root signed by both token keys" "$M" import "$f" -C "$R" --keys "$K"
ZUPD_PKCS11_PIN=1234 step "publish 2.0" \
    "$M" publish product 2.0 "$tmp/v2" -C "$R" --keys "$K" $P11
ZUPD_PKCS11_PIN=1234 step "promote 2.0" \
    "$M" promote product 2.0 --channel stable -C "$R" --keys "$K" $P11
step "verify the repository after the rotation" "$M" verify "$R"

# ---------------------------------------------------------------- the auditor's token key
# the auditor's key is made in the token too: products needs it (threshold
# 2); audit unlocks it with --pin-file and --pkcs11-module, as the
# repository commands do
step "the auditor's key in the token" "$M" key generate auditor --keys "$tmp/akeys" $P11 \
    --pin-file "$tmp/pin" --pkcs11 'pkcs11:token=zurich;object=auditor'
"$M" key show auditor --keys "$tmp/akeys" >"$tmp/auditor.pub" 2>"$work/err" ||
    bad "key show auditor: $(cat "$work/err")"
export ZUPD_PKCS11_PIN=1234
step "key add products auditor.pub" "$M" key add products "$tmp/auditor.pub" --name auditor \
    -C "$R" --keys "$K" $P11
step "key threshold products 2 (staged)" "$M" key threshold products 2 -C "$R" --keys "$K" $P11
unset ZUPD_PKCS11_PIN
thr=$(ls "$R"/staged/products/*.products.json 2>/dev/null | head -n 1)
[ -n "$thr" ] && cp "$thr" "$tmp/thr.json" && ok "the threshold change is staged" ||
    bad "no staged products change"
out=$("$M" sign "$tmp/thr.json" $P11 --pin-file "$tmp/pin" --key "$tmp/akeys/auditor.key" 2>&1)
check "the auditor signs the threshold change with its token key" "$out" "^signed"
step "import it" "$M" import "$tmp/thr.json" -C "$R" --keys "$K"
mkdir -p "$tmp/v3/bin"
printf '#!/bin/sh\necho v3\n' >"$tmp/v3/bin/app"
chmod 755 "$tmp/v3/bin/app"
mkdir -p "$tmp/aout"
ZUPD_PKCS11_PIN=1234 step "publish --stage 3.0 (the build key in the token signs)" \
    "$M" publish product 3.0 "$tmp/v3" --stage --channel stable --source-revision r3 \
    --builder ci -C "$R" --keys "$K" $P11
expect_rc 26 "audit with a wrong PIN fails" env ZUPD_PKCS11_PIN=9999 "$M" audit "$R" \
    --rebuild "$tmp/v3" --key "$tmp/akeys/auditor.key" --out "$tmp/aout" --pkcs11-module "$MODULE"
check "... naming the token and CKR_PIN_INCORRECT" "$(cat "$work/err")" "CKR_PIN_INCORRECT"
step "audit 3.0 against its rebuild, signed with the auditor's token key" \
    "$M" audit "$R" --rebuild "$tmp/v3" --key "$tmp/akeys/auditor.key" --out "$tmp/aout" \
    --pkcs11-module "$MODULE" --pin-file "$tmp/pin"
sig=$(ls "$tmp"/aout/*.products.sig.json 2>/dev/null | head -n 1)
[ -n "$sig" ] && ok "the audit wrote its signature" || bad "no audit signature"
step "import the auditor's signature: 3.0 is live" "$M" import "$sig" -C "$R" --keys "$K"
step "verify the repository with products at 2 of 2" "$M" verify "$R"

# ---------------------------------------------------------------- the endpoint
start_serve srv "$R" || { bad "zupd-mirror serve did not start"; finish hsm; }
cat >"$tmp/zupd.conf" <<CONF
mirrors = [ "$srv_url/" ];
trusted_root = "$R/metadata/1.root.json";
state_dir = "$tmp/state";
components = (
  { name = "product"; role = "products"; channel = "stable";
    install_path = "$tmp/opt/product"; keep = 2; }
);
CONF
mkdir -p "$tmp/state" "$tmp/opt"
step "zupd update through the rotated root" "$Z" --config "$tmp/zupd.conf" update
eq "3.0 (signed by the build and the auditor's token keys) installed" \
    "$("$tmp/opt/product/bin/app" 2>&1)" v3
finish hsm
