#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/interop/tlog_go.sh -- the transparency log against an independent
# implementation: Go's golang.org/x/mod/sumdb/note and sumdb/tlog (Debian
# golang-go and golang-golang-x-mod-dev, GOPATH mode, no network).
#
#  1. tlogtool (libzupd) builds a log of 70,000 entries in eight batches
#     (sizes 1, 2, 7, 256, 257, 1000, 65536, 70000: partial and full tiles at
#     levels 0..2), signs its checkpoint and has two witnesses cosign it, and
#     writes the inclusion and consistency proofs it computes from its tiles;
#  2. tlogcheck (Go) checks the checkpoint with note.Open and the
#     cosignatures with crypto/ed25519, reads our tiles through
#     tlog.TileHashReader (which proves each against the root), rebuilds the
#     tree from our entry bundles and compares every tile byte for byte
#     (tlog.ReadTileData), and checks our proofs (tlog.CheckRecord,
#     tlog.CheckTree); it writes the proofs it computes (tlog.ProveRecord,
#     tlog.ProveTree) and a checkpoint it signs (note.Sign) and cosigns;
#  3. tlogtool checks Go's proofs (and that each fails once a byte is
#     flipped) and Go's signed, cosigned checkpoint;
#  4. Go checks the log of a repository zupd-mirror made (init, publish,
#     promote) with two witnesses (zupd-mirror witness serve): its
#     checkpoint with the repository's log/vkey, the two cosignatures the
#     witnesses returned (crypto/ed25519: Go's note package does not know
#     cosignature/v1), its tiles.
#
# Without go or the x/mod sources this test skips, unless
# ZUPD_TESTS_REQUIRE_GO=1 (.ci/run sets it): then it fails.
set -u
: "${top_srcdir:?tlog_go.sh: top_srcdir not set (run through make check)}"
: "${top_builddir:?tlog_go.sh: top_builddir not set (run through make check)}"
. "$top_srcdir/tests/integration/lib.sh"

gopath=${ZUPD_GOPATH:-/usr/share/gocode}
command -v go >/dev/null 2>&1 ||
    skip_or_fail ZUPD_TESTS_REQUIRE_GO "go missing (Debian golang-go)"
[ -f "$gopath/src/golang.org/x/mod/sumdb/tlog/tlog.go" ] ||
    skip_or_fail ZUPD_TESTS_REQUIRE_GO "golang.org/x/mod missing in $gopath (Debian golang-golang-x-mod-dev)"

test_init tlog-go
tool=$top_builddir/tests/interop/tlogtool
check=$work/tlogcheck
log=$work/log

# GOPATH mode: the packages come from Debian's tree, nothing is downloaded
if env GOPATH="$gopath" GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
       GOCACHE="$work/gocache" HOME="$work" \
       go build -o "$check" "$top_srcdir/tests/interop/tlogcheck.go" >"$work/go-build.out" 2>&1; then
    ok "tlogcheck.go builds offline against $gopath"
else
    cat "$work/go-build.out"
    bad "go build tlogcheck.go"
    finish tlog_go
fi

if out=$("$tool" make "$log" 2>&1); then ok "$out"; else echo "$out"; bad "tlogtool make"; finish tlog_go; fi
if out=$("$check" "$log" 2>&1); then ok "$out"; else echo "$out"; bad "Go refuses what libzupd wrote"; finish tlog_go; fi
if out=$("$tool" verify "$log/go.txt" 2>&1); then ok "$out"; else echo "$out"; bad "libzupd refuses Go's proofs"; fi
if out=$("$tool" note "$log/go-vkeys" "$log/go-checkpoint" 2>&1); then ok "$out"; else echo "$out"; bad "libzupd refuses Go's signed checkpoint"; fi

# The log of a real repository: zupd-mirror init, publish, promote; Go
# opens its checkpoint with the repository's log/vkey and checks every tile
# against a tree it builds from the entry bundles
R=$work/repo
mkdir -p "$work/in"
echo one >"$work/in/a"
# two witnesses (tests/integration/tlog_witness.sh tests them further)
witnesses() {
    for i in 1 2; do
        "$MIRROR" witness init --key "$work/w$i.key" --name "witness.go.test/w$i" >"$work/w$i.vkey" || return 1
        _p=$(free_port)
        "$MIRROR" witness serve --key "$work/w$i.key" --name "witness.go.test/w$i" --state "$work/w$i" \
            --listen "127.0.0.1:$_p" --log "$(cat "$R/log/vkey")" 2>"$work/w$i.err" &
        track_pid $!
        wait_port "$_p" $! || return 1
        echo "$(cat "$work/w$i.vkey") http://127.0.0.1:$_p"
    done >"$work/witnesses"
    python3 - "$R/.zupd/config.json" "$work/witnesses" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["witnesses"] = [{"vkey": v, "url": u} for v, u in (l.split() for l in open(sys.argv[2]))]
c["witness_quorum"] = 2
json.dump(c, open(sys.argv[1], "w"))
PY
}
if ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw "$MIRROR" init "$R" --keys "$work/keys" --same-passphrase >"$work/mirror.out" 2>&1 &&
    ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw witnesses >>"$work/mirror.out" 2>&1 &&
    ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw "$MIRROR" publish app 1.0 "$work/in" -C "$R" --keys "$work/keys" >>"$work/mirror.out" 2>&1 &&
    ZUPD_KDF_COST=min ZUPD_PASSPHRASE=pw "$MIRROR" promote app 1.0 --channel stable -C "$R" --keys "$work/keys" >>"$work/mirror.out" 2>&1; then
    cat "$R/log/vkey" "$work/w1.vkey" "$work/w2.vkey" >"$R/log/vkeys"
    : >"$R/log/ours.txt"
    if out=$("$check" "$R/log" 2>&1); then
        case $out in
        *" 2 cosignatures verified"*) ok "zupd-mirror's log and its witnesses' cosignatures: $out" ;;
        *) bad "Go did not check two cosignatures: $out" ;;
        esac
    else
        echo "$out"
        bad "Go refuses zupd-mirror's log or its witnesses' cosignatures"
    fi
else
    cat "$work/mirror.out"
    bad "zupd-mirror init/publish/promote"
fi

# Negative: one flipped byte in one of our tiles, then in an entry bundle:
# Go must notice each
flip() {
    python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[int(sys.argv[2])]^=1; open(p,"wb").write(b)' "$1" "$2"
}
for f in tile/0/100 tile/1/000 tile/entries/200; do
    flip "$log/$f" 100
    if out=$("$check" "$log" 2>&1); then
        bad "Go accepted a log with a flipped byte in $f"
    else
        ok "Go refuses a flipped byte in $f: $out"
    fi
    flip "$log/$f" 100
done
finish tlog_go
