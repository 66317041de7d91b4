#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/gen_trusted_corpus.sh -- remake the seed corpus of fuzz_trusted
# (tests/fuzz/corpus/fuzz_trusted/) from repositories zupd-mirror makes at a
# fixed time, in the record format tests/fuzz/fuzz_trusted.c reads. Keys are
# new on every run, so the bytes differ; the sequences do not.
#   tests/fuzz/gen_trusted_corpus.sh BUILD_DIR
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
M=${1:?usage: gen_trusted_corpus.sh BUILD_DIR}/mirror/zupd-mirror
out=$top/tests/fuzz/corpus/fuzz_trusted
NOW=1767225600 # 2026-01-01; the sequences are checked an hour later
ZUPD_KDF_COST=min ZUPD_PASSPHRASE=fuzz ZUPD_MIRROR_NOW=$NOW
export ZUPD_KDF_COST ZUPD_PASSPHRASE ZUPD_MIRROR_NOW
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

# seq FILE RECORD...: RECORD is HEADER=PATH (PATH relative to $w)
seq() {
    f=$1
    shift
    first=1
    for r in "$@"; do
        if [ $first = 1 ]; then first=0; else printf '\n---zupd---\n'; fi
        printf '%s\n' "${r%%=*}"
        cat "$w/${r#*=}"
    done >"$out/$f"
}

# snap: the snapshot the current timestamp names, relative to $w
snap() {
    v=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["signed"]["meta"]["snapshot.json"]["version"])' "$w/$md/timestamp.json")
    echo "$md/$v.snapshot.json"
}

mkdir -p "$w/in"
echo one >"$w/in/a"
"$M" init "$w/r" --keys "$w/k" --same-passphrase --avdb-bins 1 >/dev/null
md=r/metadata
seq init.seq "$((NOW + 3600))=$md/1.root.json" "timestamp=$md/timestamp.json" \
    "snapshot=$md/1.snapshot.json" "targets targets root=$md/1.targets.json" \
    "targets products targets=$md/1.products.json" "targets avdb targets=$md/1.avdb.json" \
    "targets avdb-bin-0 avdb=$md/1.avdb-bin-0.json" "targets avdb-bin-1 avdb=$md/1.avdb-bin-1.json"
# the same a week later: timestamp and snapshot expired (a freeze attack)
sed "1s/.*/$((NOW + 7 * 86400))/" "$out/init.seq" >"$out/expired.seq"
cp "$w/$md/timestamp.json" "$w/ts1.json"
# a publish: a second timestamp that replaces the first before snapshot
"$M" publish app 1.0 "$w/in" -C "$w/r" --keys "$w/k" >/dev/null
seq two-timestamps.seq "$((NOW + 3600))=$md/1.root.json" "timestamp=ts1.json" \
    "timestamp=$md/timestamp.json" "snapshot=$(snap)" \
    "targets targets root=$md/1.targets.json" "targets products targets=$md/2.products.json"
# a cached snapshot older than timestamp names (kept, not final), then a
# top-level role asked for as a delegated one: told as a misuse all the same
seq snapshot-mismatch-misuse.seq "$((NOW + 3600))=$md/1.root.json" "timestamp=$md/timestamp.json" \
    "snapshot cache=$md/1.snapshot.json" "targets root targets=$md/1.targets.json"
seq snapshot-cache.seq "$((NOW + 3600))=$md/1.root.json" "timestamp=$md/timestamp.json" \
    "snapshot cache=$md/2.snapshot.json" "targets products targets=$md/2.products.json" \
    "targets targets root=$md/1.targets.json" "targets products targets=$md/2.products.json"
# a key rotation: root 1 -> 2, then the rest signed with the new timestamp key
"$M" key rotate timestamp -C "$w/r" --keys "$w/k" >/dev/null
seq root-rotation.seq "$((NOW + 3600))=$md/1.root.json" "root=$md/2.root.json" \
    "timestamp=$md/timestamp.json" "snapshot=$(snap)" \
    "targets targets root=$md/1.targets.json"
ls -l "$out"
