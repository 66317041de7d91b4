#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/gen_audit_corpus.sh BUILDDIR -- seeds of fuzz_audit: a staged
# release 2.0 (with deltas from 1.0) of a two-file product, packed as the
# target's records, with its matching rebuild (passes every check; signing
# then fails: no key) and with one rebuild byte changed.
set -eu
b=$1
out=$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_audit
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
export ZUPD_PASSPHRASE=fuzz ZUPD_KDF_COST=min ZUPD_MIRROR_NOW=1790000000
M="$b/mirror/zupd-mirror"
$M init "$w/repo" --keys "$w/keys" --same-passphrase >/dev/null
mkdir -p "$w/v1" "$w/v2"
head -c 16384 /dev/urandom >"$w/v1/a"
echo one >"$w/v1/b"
cp "$w/v1/a" "$w/v2/a"
printf 'patch' | dd of="$w/v2/a" bs=1 seek=9000 conv=notrunc 2>/dev/null
echo two >"$w/v2/b"
$M publish p 1.0 "$w/v1" -C "$w/repo" --keys "$w/keys" >/dev/null
$M promote p 1.0 --channel stable -C "$w/repo" --keys "$w/keys" >/dev/null
$M publish p 2.0 "$w/v2" --stage --channel stable --source-revision r2 --builder ci \
    -C "$w/repo" --keys "$w/keys" >/dev/null
python3 - "$w/repo" "$w/v2" "$out" <<'PY'
import glob, json, os, struct, sys
repo, rebuild, out = sys.argv[1:]
recs = []
def add(path, data):
    recs.append(struct.pack(">H", len(path)) + path.encode() + struct.pack(">I", len(data)) + data)
rel = "staged/products/release.json"
d = json.load(open(os.path.join(repo, rel)))
for f in [rel, "staged/products/" + d["metadata"], "metadata/%d.products.json" % (d["version"] - 1)]:
    add(f, open(os.path.join(repo, f), "rb").read())
for f in glob.glob(repo + "/targets/products/**/*.json", recursive=True):
    add(os.path.relpath(f, repo), open(f, "rb").read())
for f in glob.glob(repo + "/blobs/sha256/*/*"):
    add(os.path.relpath(f, repo), open(f, "rb").read())
base = list(recs)
for name in sorted(os.listdir(rebuild)):
    add("rebuild/" + name, open(os.path.join(rebuild, name), "rb").read())
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "staged-release-match.bin"), "wb").write(b"".join(recs))
recs = list(base)
for name in sorted(os.listdir(rebuild)):
    data = bytearray(open(os.path.join(rebuild, name), "rb").read())
    data[0] ^= 1
    add("rebuild/" + name, bytes(data))
open(os.path.join(out, "staged-release-byte-off.bin"), "wb").write(b"".join(recs))
open(os.path.join(out, "release-json-only.bin"), "wb").write(base[0])
PY
