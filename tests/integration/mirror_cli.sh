#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/mirror_cli.sh -- every zupd-mirror repository command as
# a user runs it: init (k of n root keys), key generate|list|show|rotate,
# publish (directory, single file, twice refused, symlink out of the tree
# refused), --delta-level (init and publish), promote (forward, back refused,
# --rollback), refresh (nothing due, --force, expired offline role refused,
# --offline), stage/sign/import with a threshold of two, prune, verify (and what it catches), error messages and
# exit codes (10 + zupd_err).
set -u
. "$(dirname "$0")/lib.sh"
test_init mirror-cli
M=$MIRROR

# minimum Argon2 cost for test keys; passphrases from the environment
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=correct-horse
export ZUPD_KDF_COST ZUPD_PASSPHRASE
unset ZUPD_MIRROR_NOW ZUPD_MIRROR_CRASH_AT ZUPD_MIRROR_REPO ZUPD_MIRROR_KEYS

# run NAME EXPECTED-EXIT PATTERN CMD...: exit status and a pattern in stdout+stderr
run() {
    name=$1 want=$2 pat=$3
    shift 3
    out=$("$@" 2>&1)
    got=$?
    if [ "$got" = "$want" ] && printf '%s\n' "$out" | grep -Eq -- "$pat"; then
        ok "$name"
    else
        bad "$name (exit $got, wanted $want; /$pat/)"
        printf '%s\n' "$out" | sed 's/^/#   /'
    fi
}

R=$tmp/repo
in=$tmp/in
mkdir -p "$in/bin" "$in/share"
i=0
while [ $i -lt 30 ]; do
    head -c 3000 /dev/urandom | od -An -x >"$in/share/f$i"
    i=$((i + 1))
done
printf '#!/bin/sh\necho app\n' >"$in/bin/app"
chmod 755 "$in/bin/app"

# ---------------------------------------------------------------- init, keys
run "init with a 2-of-3 root" 0 "initialized" "$M" init "$R" --same-passphrase --root-keys 3 --root-threshold 2
run "init refuses an existing repository" 31 "already holds a repository" "$M" init "$R"
run "init refuses an impossible threshold" 22 "impossible" "$M" init "$tmp/r2" --root-keys 1 --root-threshold 2

# ---------------------------------------------------------------- key custody
# one passphrase for the online and the offline keys: refused, no key left
run "init refuses one passphrase for online and offline keys" 26 \
    "the online key 'snapshot' and the offline key 'root-1' would have the same passphrase.*--same-passphrase" \
    "$M" init "$tmp/c1" --keys "$tmp/ckeys"
[ -z "$(find "$tmp/ckeys" -name '*.key' 2>/dev/null)" ] && ok "... before writing any key" ||
    bad "init left keys behind: $(find "$tmp/ckeys" -name '*.key')"
# a passphrase per class, real Argon2id costs: offline keys keep libsodium's
# "moderate" level, online keys take the level asked for
run "init: online keys in KEYDIR/online, offline keys in KEYDIR/offline" 0 \
    "move '$tmp/ckeys/offline/' to offline storage" \
    env -u ZUPD_KDF_COST ZUPD_PASSPHRASE=offline-pw ZUPD_PASSPHRASE_SNAPSHOT=online-pw \
    ZUPD_PASSPHRASE_TIMESTAMP=online-pw ZUPD_PASSPHRASE_AVDB=online-pw ZUPD_PASSPHRASE_LOG=online-pw \
    "$M" init "$tmp/c1" --keys "$tmp/ckeys" --online-kdf interactive
for k in root-1 targets products; do
    [ -f "$tmp/ckeys/offline/$k.key" ] || bad "offline key $k not in offline/"
done
for k in snapshot timestamp avdb log; do
    [ -f "$tmp/ckeys/online/$k.key" ] || bad "online key $k not in online/"
done
ok "each key in the directory of its class"
grep -q '"memlimit": 268435456' "$tmp/ckeys/offline/root-1.key" &&
    grep -q '"memlimit": 67108864' "$tmp/ckeys/online/timestamp.key" &&
    ok "Argon2id: offline keys 256 MiB (moderate), online keys 64 MiB (interactive)" ||
    bad "Argon2id costs: $(grep memlimit "$tmp/ckeys"/*/root-1.key "$tmp/ckeys"/*/timestamp.key)"
run "--online-kdf refuses an unknown level" 1 "interactive, moderate or sensitive" \
    "$M" init "$tmp/c2" --online-kdf fast
# systemd credentials (LoadCredential=passphrase:FILE): the refresh unit's way
mkdir -p "$tmp/creds"
printf 'online-pw\n' >"$tmp/creds/passphrase"
chmod 400 "$tmp/creds/passphrase"
run "refresh reads the passphrase from \$CREDENTIALS_DIRECTORY/passphrase" 0 "re-signed timestamp" \
    env -u ZUPD_PASSPHRASE CREDENTIALS_DIRECTORY="$tmp/creds" \
    "$M" refresh --force -C "$tmp/c1" --keys "$tmp/ckeys/online"
printf 'wrong\n' >"$tmp/creds/passphrase-timestamp"
chmod 400 "$tmp/creds/passphrase-timestamp"
run "... and passphrase-<KEY> before it" 26 "wrong passphrase for key 'timestamp'" \
    env -u ZUPD_PASSPHRASE CREDENTIALS_DIRECTORY="$tmp/creds" \
    "$M" refresh --force -C "$tmp/c1" --keys "$tmp/ckeys/online"
rm -f "$tmp/creds/passphrase-timestamp"
chmod 604 "$tmp/creds/passphrase"
run "a credential readable by others is refused" 27 "credential '.*/passphrase' must be root's or yours and closed to others" \
    env -u ZUPD_PASSPHRASE CREDENTIALS_DIRECTORY="$tmp/creds" \
    "$M" refresh --force -C "$tmp/c1" --keys "$tmp/ckeys/online"
for f in 1.root.json root.json 1.targets.json 1.products.json 1.avdb.json 1.snapshot.json timestamp.json; do
    [ -f "$R/metadata/$f" ] || bad "init wrote metadata/$f"
done
ok "init wrote every role"
run "key list shows every key" 0 "root-3 +[0-9a-f]{64}" "$M" key list -C "$R"
run "key show prints a TUF key object" 0 '"keytype":"ed25519"' "$M" key show timestamp -C "$R"
run "key generate" 0 "[0-9a-f]{64} .*extra.key" "$M" key generate extra -C "$R"
run "key generate refuses to overwrite" 31 "exists" "$M" key generate extra -C "$R"
mode=$(stat -c %a "$tmp/keys/extra.key")
[ "$mode" = 600 ] && ok "key files are 0600" || bad "key file mode $mode"
grep -q sealed_seed "$tmp/keys/extra.key" && ! grep -q '"seed"' "$tmp/keys/extra.key" &&
    ok "secret key sealed" || bad "secret key sealed"
run "key show of a missing key" 25 "no such key" "$M" key show nothere -C "$R"

# ---------------------------------------------------------------- publish
run "publish a directory" 0 "published app 1.0 in 'products': 31 files, 31 new blobs" \
    "$M" publish app 1.0 "$in" -C "$R" --source-revision git:1111 --builder ci-1
run "verify after publish" 0 "ok: 6 roles, 1 targets \\(1 manifests\\), 31 blobs" "$M" verify "$R"
m=$(ls "$R"/targets/products/app/1.0/*.manifest.json)
grep -q '"source_revision":"git:1111"' "$m" && grep -q '"builder":"ci-1"' "$m" &&
    ok "manifest carries provenance" || bad "manifest carries provenance"
grep -q '"mode":493' "$m" && ok "manifest keeps the mode" || bad "manifest keeps the mode"
# what is signed is what the operator gave, or nothing: bytes that are not
# UTF-8 cannot be a JSON string (they used to read "out of memory" for a file
# name, and a --builder was dropped from the provenance with exit 0)
bad8=$(printf 'ci-\377')
run "publish refuses a --builder that is not UTF-8" 22 "'app 1.0.1'.*--builder is not valid UTF-8" \
    "$M" publish app 1.0.1 "$in" -C "$R" --builder "$bad8"
run "publish refuses a --source-revision that is not UTF-8" 22 "--source-revision is not valid UTF-8" \
    "$M" publish app 1.0.1 "$in" -C "$R" --source-revision "$bad8"
mkdir -p "$tmp/in8"
echo x >"$tmp/in8/$(printf 'caf\351.txt')"
run "publish refuses a file name that is not UTF-8, naming it" 22 \
    "in8/caf\\\\xe9\\.txt': file name is not valid UTF-8" "$M" publish app 1.0.1 "$tmp/in8" -C "$R"
[ ! -d "$R/targets/products/app/1.0.1" ] && ok "nothing published by the refusals" ||
    bad "nothing published by the refusals"
grep -q '"encoding":"zstd"' "$m" && ok "compressible files stored zstd" || bad "zstd blobs"
run "publishing the same version twice is refused" 31 "cannot publish 'app 1.0': version 1.0 of 'app' is already published" \
    "$M" publish app 1.0 "$in" -C "$R"
echo changed >"$in/share/f3"
run "publish only stores what changed" 0 "1 new blobs .*30 reused" "$M" publish app 1.1 "$in" -C "$R"
run "publish a single file" 0 "published tool 0.1 in 'avdb': 1 files" \
    "$M" publish tool 0.1 "$in/bin/app" --role avdb -C "$R"
snaps=$(ls "$R"/metadata/*.snapshot.json | wc -l)
run "publish two components in one change" 0 "published 2 releases in 'avdb': 2 files" \
    "$M" publish sigs-a 1 "$in/share/f1" sigs-b 1 "$in/share/f2" --role avdb -C "$R"
[ "$(ls "$R"/metadata/*.snapshot.json | wc -l)" = $((snaps + 1)) ] && ok "one snapshot for the change" ||
    bad "one snapshot for the change"
run "a component twice in one publish" 22 "appears twice" \
    "$M" publish sigs-c 1 "$in/share/f1" sigs-c 2 "$in/share/f2" --role avdb -C "$R"
run "a batch with one bad release publishes nothing" 31 "'sigs-a 1': version 1 of 'sigs-a' is already published" \
    "$M" publish sigs-d 1 "$in/share/f1" sigs-a 1 "$in/share/f2" --role avdb -C "$R"
[ "$(ls "$R"/metadata/*.snapshot.json | wc -l)" = $((snaps + 1)) ] && ok "nothing of the failed batch" ||
    bad "nothing of the failed batch"
ln -s /etc/passwd "$in/evil"
run "a symlink out of the tree is refused" 27 "cannot publish 'app 1.2': .*evil': symlink to '/etc/passwd', outside the tree" \
    "$M" publish app 1.2 "$in" -C "$R"
rm "$in/evil"
ln -s share/f1 "$in/inside"
run "a symlink inside the tree is followed" 0 "published app 1.2" "$M" publish app 1.2 "$in" -C "$R"
rm "$in/inside"
ln -s "$in" "$tmp/in-link"
run "PATH itself may be a symlink" 0 "published app 1.2.1" "$M" publish app 1.2.1 "$tmp/in-link" -C "$R"
run "bad version name" 22 "invalid version" "$M" publish app ../x "$in" -C "$R"
run "bad role" 1 "--role wants" "$M" publish app 9 "$in" --role nope -C "$R"
run "missing input" 25 "cannot read" "$M" publish app 9 "$tmp/nothere" -C "$R"
run "wrong passphrase" 26 "wrong passphrase for key 'products'" \
    env ZUPD_PASSPHRASE=wrong "$M" publish app 9 "$in" -C "$R"
printf 'correct-horse\n' >"$tmp/pass"
chmod 640 "$tmp/pass"
run "a passphrase file readable by the group is refused" 27 \
    "passphrase file '$tmp/pass' must be yours and closed to group and others \\(mode 640" \
    env -u ZUPD_PASSPHRASE "$M" publish app 1.3 "$in" -C "$R" --passphrase-file "$tmp/pass"
chmod 604 "$tmp/pass"
run "a passphrase file readable by others is refused" 27 "\\(mode 604, owner [0-9]+\\): chmod 600 it" \
    env -u ZUPD_PASSPHRASE "$M" publish app 1.3 "$in" -C "$R" --passphrase-file "$tmp/pass"
chmod 600 "$tmp/pass"
run "--passphrase-file" 0 "published app 1.3" env -u ZUPD_PASSPHRASE "$M" publish app 1.3 "$in" -C "$R" --passphrase-file "$tmp/pass"
run "per-key passphrase variable" 0 "published app 1.4" \
    env -u ZUPD_PASSPHRASE ZUPD_PASSPHRASE_PRODUCTS=correct-horse ZUPD_PASSPHRASE_SNAPSHOT=correct-horse \
    ZUPD_PASSPHRASE_TIMESTAMP=correct-horse ZUPD_PASSPHRASE_LOG=correct-horse "$M" publish app 1.4 "$in" -C "$R"
run "no passphrase without a terminal" 26 "no passphrase for key" \
    env -u ZUPD_PASSPHRASE setsid "$M" publish app 9 "$in" -C "$R"
# a permission error says so (it read "input/output error", exit 19):
# run as nobody on a repository whose metadata it may not read
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups "$M" version >/dev/null 2>&1; then
    pd=$(mktemp -d /tmp/zupd-perm.XXXXXX) && chmod 755 "$pd" && at_exit "rm -rf '$pd'"
    "$M" init "$pd/r" --same-passphrase >/dev/null 2>&1 && chmod -R a+rX "$pd" && chmod 700 "$pd/r/metadata"
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$M" verify "$pd/r" 2>&1)
    got=$?
    check "verify of unreadable metadata: a permission error (exit $got)" "$got $out" \
        "^27 .*metadata/1\\.root\\.json: permission denied"
else
    skip_part permission-denied "not root, no setpriv, or nobody cannot run $M"
fi

# passphrases leave the environment at startup: a long-running serve started
# with them set does not keep them (in environ nor in /proc/PID/environ)
if [ -r /proc/self/environ ]; then
    mkdir -p "$tmp/srv" && echo '{}' >"$tmp/srv/timestamp.json"
    ZUPD_PASSPHRASE_ROOT_1=per-key-secret-7 start_serve srv "$tmp/srv" || exit 1
    env_of_serve=$(tr '\0' '\n' <"/proc/$srv_pid/environ")
    case $env_of_serve in
    *correct-horse* | *per-key-secret-7*) bad "serve keeps a passphrase in its environment" ;;
    *) ok "serve keeps no passphrase in its environment" ;;
    esac
    printf '%s\n' "$env_of_serve" | grep -q '^ZUPD_KDF_COST=min$' &&
        ok "(other variables are still there)" || bad "serve's environment was read"
    kill "$srv_pid"
else
    skip_part environ "/proc/PID/environ is not readable here"
fi
mv "$tmp/keys/online/avdb.key" "$tmp/avdb.key"
ln -s "$tmp/avdb.key" "$tmp/keys/online/avdb.key"
run "a symlinked key file: the permission error, not a missing key" 27 \
    "cannot load key '.*/avdb\\.key': permission denied or unsafe file permissions" \
    "$M" publish tool 0.2 "$in/bin/app" --role avdb -C "$R"
rm "$tmp/keys/online/avdb.key"
run "missing key" 25 "missing key: role 'avdb' needs 1 signatures" "$M" publish tool 0.2 "$in/bin/app" --role avdb -C "$R"
mv "$tmp/avdb.key" "$tmp/keys/online/avdb.key"

# ---------------------------------------------------------------- promote
run "promote" 0 "channel 'stable' of 'app' now points at 1.1" "$M" promote app 1.1 --channel stable -C "$R"
run "promote forward" 0 "now points at 1.2" "$M" promote app 1.2 --channel stable -C "$R"
run "moving a channel back needs --rollback" 16 "version 1.0 sorts lower than 1.2.*--rollback" \
    "$M" promote app 1.0 --channel stable -C "$R"
run "--rollback moves it back" 0 "now points at 1.0" "$M" promote app 1.0 --channel stable --rollback -C "$R"
run "promote an unpublished version" 25 "not published" "$M" promote app 7.0 --channel stable -C "$R"
run "promote needs --channel" 1 "usage" "$M" promote app 1.0 -C "$R"
run "verify with channels" 0 "ok: 6 roles, 10 targets \\(9 manifests\\)" "$M" verify "$R"

# ---------------------------------------------------------------- refresh
run "refresh: nothing due" 0 "nothing due" "$M" refresh -C "$R"
run "refresh --force" 0 "re-signed timestamp" "$M" refresh --force -C "$R"
now=$(date +%s)
late=$((now + 5 * 86400))
run "refresh when timestamp and snapshot are due" 0 "re-signed snapshot" env ZUPD_MIRROR_NOW=$late "$M" refresh -C "$R"
run "verify later" 0 "^ok" env ZUPD_MIRROR_NOW=$late "$M" verify "$R"
far=$((now + 100 * 86400))
run "verify refuses expired metadata" 15 "expired" env ZUPD_MIRROR_NOW=$far "$M" verify "$R"
run "publish refuses an expired offline role" 15 "cannot publish 'app 2.0': cannot publish: role 'targets' \\(version 1\\) expired on" \
    env ZUPD_MIRROR_NOW=$far "$M" publish app 2.0 "$in" -C "$R"
run "refresh refuses to touch offline roles" 15 "role 'root' expired on .*refresh --offline" \
    env ZUPD_MIRROR_NOW=$((now + 400 * 86400)) "$M" refresh -C "$R"
run "refresh --offline re-signs them" 0 "re-signed targets" env ZUPD_MIRROR_NOW=$far "$M" refresh --offline -C "$R"
run "verify after the offline refresh" 0 "^ok" env ZUPD_MIRROR_NOW=$far "$M" verify "$R"

# ---------------------------------------------------------------- offline signing
f=$("$M" stage targets -C "$R" 2>&1)
[ -f "$f" ] && ok "stage writes the unsigned role" || bad "stage: $f"
run "import refuses an unsigned role" 14 "targets: 0 of 1 required signatures" "$M" import "$f" -C "$R"
run "sign on the signing machine" 0 "signed" "$M" sign "$f" --key "$tmp/keys/offline/targets.key"
run "sign with a wrong key file name" 1 "usage" "$M" sign "$f"
run "import verifies and installs" 0 "imported" "$M" import "$f" -C "$R"
run "import the same version again" 16 "version" "$M" import "$f" -C "$R"
f=$("$M" stage root -C "$R" 2>&1)
run "sign root with one key" 0 "signed" "$M" sign "$f" --key "$tmp/keys/offline/root-1.key"
run "one signature is under the threshold" 14 "root: 1 of 2 required signatures" "$M" import "$f" -C "$R"
run "a second signer" 0 "signed" "$M" sign "$f" --key "$tmp/keys/offline/root-3.key"
run "import the threshold-signed root" 0 "imported" "$M" import "$f" -C "$R"
run "verify walks the root chain" 0 "^ok" "$M" verify "$R"

# ---------------------------------------------------------------- key rotation
run "rotate the timestamp key" 0 "rotated the keys of 'timestamp' \\(root version" "$M" key rotate timestamp -C "$R"
run "rotate the avdb key" 0 "rotated the keys of 'avdb' \\(targets version" "$M" key rotate avdb -C "$R"
run "rotate the root keys (old and new thresholds)" 0 "rotated the keys of 'root'" \
    "$M" key rotate root --key newroot-1 --key newroot-2 --threshold 2 -C "$R"
run "verify from the first root after rotations" 0 "^ok" "$M" verify "$R"
run "verify pinning the newest root" 0 "^ok" "$M" verify "$R" --root "$R/metadata/root.json"
run "publish with the rotated keys" 0 "published tool 0.2" "$M" publish tool 0.2 "$in/bin/app" --role avdb -C "$R"
run "the old root keys no longer sign alone" 0 "^ok" "$M" verify "$R"

# ---------------------------------------------------------------- prune
before=$(find "$R/blobs" -type f | wc -l)
run "prune --keep 1" 0 "pruned [1-9][0-9]* releases" "$M" prune --keep 1 -C "$R"
after=$(find "$R/blobs" -type f | wc -l)
[ "$after" -le "$before" ] && ok "prune removed blobs ($before -> $after)" || bad "prune blobs $before -> $after"
run "verify after prune (channel's 1.0 kept)" 0 "^ok" "$M" verify "$R"
ls "$R"/targets/products/app/1.0/*.manifest.json >/dev/null 2>&1 && ok "the release a channel names is kept" ||
    bad "channel release pruned"

# ---------------------------------------------------------------- verify catches damage
cp -a "$R" "$tmp/damaged"
b=$(find "$tmp/damaged/blobs" -type f | head -n 1)
printf x >>"$b"
run "verify: a damaged blob" 18 "blobs/sha256/.*: [0-9]+ bytes, the manifest says" "$M" verify "$tmp/damaged"
rm -rf "$tmp/damaged"
cp -a "$R" "$tmp/damaged"
m=$(ls "$tmp"/damaged/targets/products/app/1.0/*.manifest.json)
sed -i 's/"builder":"ci-1"/"builder":"ci-2"/' "$m"
run "verify: a tampered manifest" 17 "targets/products/app/1.0/manifest.json" "$M" verify "$tmp/damaged"
rm -rf "$tmp/damaged"
cp -a "$R" "$tmp/damaged"
b=$(find "$tmp/damaged/blobs" -type f | head -n 1)
rm "$b"
run "verify: a missing blob" 25 "blobs/sha256/.*: missing" "$M" verify "$tmp/damaged"
rm -rf "$tmp/damaged"
cp -a "$R" "$tmp/damaged"
sed -i 's/"version":\([0-9]\)/"version":9\1/g' "$tmp/damaged/metadata/timestamp.json"
run "verify: a timestamp whose signature fails" 14 "metadata/" "$M" verify "$tmp/damaged"
rm -rf "$tmp/damaged"
run "verify: not a repository" 25 "1.root.json" "$M" verify "$tmp/in"

# ---------------------------------------------------------------- hash bins
H=$tmp/bins
run "init with 16 avdb hash bins" 0 "initialized" "$M" init "$H" --same-passphrase --avdb-bins 4 --keys "$tmp/hkeys"
[ "$(ls "$H"/metadata/1.avdb-bin-*.json | wc -l)" = 16 ] && ok "16 bins written" || bad "16 bins written"
run "verify reaches every bin" 0 "ok: 22 roles" "$M" verify "$H"
run "publish into bins" 0 "published 3 releases in 'avdb'" \
    "$M" publish s1 1 "$in/share/f1" s2 1 "$in/share/f2" s3 1 "$in/share/f4" --role avdb -C "$H" --keys "$tmp/hkeys"
n=$(ls "$H"/metadata/2.avdb-bin-*.json 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && [ "$n" -le 3 ] && [ ! -f "$H/metadata/2.avdb.json" ] &&
    ok "only the touched bins were re-signed ($n)" || bad "bins re-signed: $n"
run "publish twice into a bin is refused" 31 "already published" "$M" publish s1 1 "$in/share/f1" --role avdb -C "$H" --keys "$tmp/hkeys"
run "promote in a bin" 0 "now points at 1" "$M" promote s2 1 --channel daily --role avdb -C "$H" --keys "$tmp/hkeys"
run "publish s2 2" 0 "published" "$M" publish s2 2 "$in/share/f3" --role avdb -C "$H" --keys "$tmp/hkeys"
run "promote forward in a bin" 0 "now points at 2" "$M" promote s2 2 --channel daily --role avdb -C "$H" --keys "$tmp/hkeys"
run "prune with bins (s2 1 leaves its bin)" 0 "pruned 1 releases, 1 blobs" "$M" prune --keep 1 -C "$H" --keys "$tmp/hkeys"
run "refresh --force re-signs the bins" 0 "re-signed avdb" "$M" refresh --force -C "$H" --keys "$tmp/hkeys"
[ -f "$H/metadata/2.avdb-bin-0.json" ] && [ -f "$H/metadata/2.avdb-bin-f.json" ] && ok "every bin renewed" || bad "every bin renewed"
run "verify with bins" 0 "ok: 22 roles, 4 targets \\(3 manifests\\)" "$M" verify "$H"
run "rotate the key of a binned avdb" 0 "rotated the keys of 'avdb'" "$M" key rotate avdb -C "$H" --keys "$tmp/hkeys"
[ -f "$H/metadata/3.avdb-bin-0.json" ] && [ -f "$H/metadata/3.avdb-bin-f.json" ] && ok "every bin re-signed with the new key" ||
    bad "every bin re-signed with the new key"
run "verify after rotating the binned key" 0 "ok: 22 roles" "$M" verify "$H"
mv "$tmp/hkeys/online/avdb.key" "$tmp/hkeys/online/avdb.old"
run "publish into a bin with the new key only" 0 "published s4 1" "$M" publish s4 1 "$in/share/f5" --role avdb -C "$H" --keys "$tmp/hkeys"
run "verify" 0 "ok: 22 roles, 5 targets" "$M" verify "$H"

# ---------------------------------------------------------------- delta level
# init --delta-level sets the engine's level for every publish (config.json),
# publish --delta-level for one: the published delta is the one
# `delta create --level L` makes (same bytes, so the same sha256)
D=$tmp/dl
run "init with an overnight delta level" 0 "initialized" "$M" init "$D" --same-passphrase --delta-level 20 --keys "$tmp/dkeys"
grep -q '"delta_level": 20' "$D/.zupd/config.json" && ok "config.json keeps delta_level 20" ||
    bad "config.json keeps delta_level 20"
run "init refuses a delta level out of range" 1 "--delta-level wants 1..22" "$M" init "$tmp/dl2" --delta-level 23
mkdir -p "$tmp/d1" "$tmp/d2" "$tmp/d3"
head -c 200000 /dev/urandom >"$tmp/d1/data"
cp "$tmp/d1/data" "$tmp/d2/data" && printf 'change' | dd of="$tmp/d2/data" bs=1 seek=70000 conv=notrunc 2>/dev/null
cp "$tmp/d2/data" "$tmp/d3/data" && printf 'again' | dd of="$tmp/d3/data" bs=1 seek=150000 conv=notrunc 2>/dev/null
run "publish 1" 0 "published big 1" "$M" publish big 1 "$tmp/d1" -C "$D" --keys "$tmp/dkeys"
run "publish 2 at the configured level" 0 "1 deltas" "$M" publish big 2 "$tmp/d2" -C "$D" --keys "$tmp/dkeys" --deltas 1
run "publish 3 at level 3 for this publish" 0 "1 deltas" \
    "$M" publish big 3 "$tmp/d3" -C "$D" --keys "$tmp/dkeys" --deltas 1 --delta-level 3
delta_sha() { # delta_sha VERSION: the sha256 of the one delta of data in that release
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["files"][0]["deltas"][0]["sha256"])' \
        "$(ls "$D/targets/products/big/$1/"*.manifest.json)"
}
"$M" delta create "$tmp/d1/data" "$tmp/d2/data" "$tmp/p20" --level 20 >/dev/null &&
    "$M" delta create "$tmp/d2/data" "$tmp/d3/data" "$tmp/p3" --level 3 >/dev/null &&
    "$M" delta create "$tmp/d1/data" "$tmp/d2/data" "$tmp/p19" >/dev/null || bad "delta create"
[ "$(delta_sha 2)" = "$(sha256sum <"$tmp/p20" | cut -c1-64)" ] && ok "release 2's delta is the level-20 delta" ||
    bad "release 2's delta is the level-20 delta"
[ "$(delta_sha 3)" = "$(sha256sum <"$tmp/p3" | cut -c1-64)" ] && ok "release 3's delta is the level-3 delta" ||
    bad "release 3's delta is the level-3 delta"
cmp -s "$tmp/p20" "$tmp/p19" && bad "levels 19 and 20 give different deltas here" ||
    ok "levels 19 and 20 give different deltas here (the check above can tell them apart)"

# ---------------------------------------------------------------- deltas without LZMA2
# init --no-delta-lzma keeps every publish's deltas to format version 9 and
# older (config.json "delta_lzma": false), which endpoints with a libzupd
# before 5:1:4 read: the published delta is the one `delta create
# --no-lzma` makes; by default the pair's delta is version 10 or 11
G=$top_srcdir/tests/data/good/delta
grep -q '"delta_lzma": true' "$D/.zupd/config.json" && ok "config.json: delta_lzma true by default" ||
    bad "config.json: delta_lzma true by default"
L=$tmp/nolz
run "init without LZMA2 deltas" 0 "initialized" "$M" init "$L" --same-passphrase --no-delta-lzma --keys "$tmp/lkeys"
grep -q '"delta_lzma": false' "$L/.zupd/config.json" && ok "config.json keeps delta_lzma false" ||
    bad "config.json keeps delta_lzma false"
mkdir -p "$tmp/l1" "$tmp/l2"
cp "$G/lzma.old" "$tmp/l1/data" && cp "$G/lzma.new" "$tmp/l2/data"
run "publish lz 1" 0 "published lz 1" "$M" publish lz 1 "$tmp/l1" -C "$L" --keys "$tmp/lkeys"
run "publish lz 2" 0 "1 deltas" "$M" publish lz 2 "$tmp/l2" -C "$L" --keys "$tmp/lkeys" --deltas 1
"$M" delta create "$tmp/l1/data" "$tmp/l2/data" "$tmp/pnl" --no-lzma >/dev/null &&
    "$M" delta create "$tmp/l1/data" "$tmp/l2/data" "$tmp/plz" >/dev/null || bad "delta create (lzma pair)"
lz_sha=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["files"][0]["deltas"][0]["sha256"])' \
    "$(ls "$L/targets/products/lz/2/"*.manifest.json)")
[ "$lz_sha" = "$(sha256sum <"$tmp/pnl" | cut -c1-64)" ] && ok "the published delta is the --no-lzma one" ||
    bad "the published delta is the --no-lzma one"
[ "$(od -A n -t u1 -j 4 -N 1 "$tmp/pnl" | tr -d ' ')" -le 9 ] && ok "--no-lzma: version 9 at most" ||
    bad "--no-lzma: version 9 at most"
[ "$(od -A n -t u1 -j 4 -N 1 "$tmp/plz" | tr -d ' ')" -ge 10 ] && ok "by default the pair's delta is version 10 or later" ||
    bad "by default the pair's delta is version 10 or later"

run "unknown option" 1 "unknown or incomplete option" "$M" publish --frobnicate -C "$R"
finish
