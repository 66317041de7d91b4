// SPDX-License-Identifier: Apache-2.0
// tests/interop/tlogcheck.go -- the independent side of tests/interop/tlog_go.sh:
// Go's reference code (golang.org/x/mod/sumdb/note and sumdb/tlog, Debian's
// golang-golang-x-mod-dev; crypto/ed25519 for cosignatures) checks a log that
// libzupd wrote, and writes proofs and a signed checkpoint for libzupd to check.
//
//	tlogcheck DIR
//
// reads DIR/checkpoint, DIR/vkeys (log key, then witness keys), DIR/tile/...,
// DIR/ours.txt; writes DIR/go.txt (proofs), DIR/go-checkpoint, DIR/go-vkeys.
package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var dir string

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(1)
}

// tilePath maps Go's tile (always height 8 here) to the C2SP tlog-tiles
// path, which has no height element: tile/<L>/<N>[.p/<W>].
func tilePath(t tlog.Tile) string {
	return strings.Replace(t.Path(), "tile/8/", "tile/", 1)
}

type diskTiles struct{}

func (diskTiles) Height() int { return 8 }
func (diskTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(filepath.Join(dir, tilePath(t)))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (diskTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// memHashes is a tree Go builds itself from the entries, not from our tiles.
type memHashes []tlog.Hash

func (m *memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(*m)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

// cosigner parses a vkey of signature type 0x04 (cosignature/v1), which
// note.NewVerifier does not know.
type cosigner struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

func parseCosigner(vkey string) cosigner {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		die("bad witness vkey %q", vkey)
	}
	id, err := strconv.ParseUint(parts[1], 16, 32)
	key, err2 := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || err2 != nil || len(key) != 33 || key[0] != 0x04 {
		die("bad witness vkey %q", vkey)
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), key...))
	if binary.BigEndian.Uint32(h[:4]) != uint32(id) {
		die("witness vkey %q: key id does not match", vkey)
	}
	return cosigner{parts[0], uint32(id), ed25519.PublicKey(key[1:])}
}

// checkCosignature finds w's cosignature/v1 line in msg and verifies it.
func checkCosignature(msg []byte, text string, w cosigner) {
	for _, line := range strings.Split(string(msg), "\n") {
		if !strings.HasPrefix(line, "— "+w.name+" ") {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, "— "+w.name+" "))
		if err != nil || len(sig) != 4+8+64 || binary.BigEndian.Uint32(sig) != w.id {
			continue
		}
		t := binary.BigEndian.Uint64(sig[4:12])
		m := fmt.Sprintf("cosignature/v1\ntime %d\n%s", t, text)
		if !ed25519.Verify(w.pub, []byte(m), sig[12:]) {
			die("cosignature of %s does not verify", w.name)
		}
		return
	}
	die("no cosignature of %s", w.name)
}

func b64hash(s string) tlog.Hash {
	h, err := tlog.ParseHash(s)
	if err != nil {
		die("bad hash %q", s)
	}
	return h
}

func main() {
	if len(os.Args) != 2 {
		die("usage: tlogcheck DIR")
	}
	dir = os.Args[1]
	vkeysRaw, err := os.ReadFile(filepath.Join(dir, "vkeys"))
	if err != nil {
		die("%v", err)
	}
	vkeys := strings.Fields(string(vkeysRaw))
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		die("%v", err)
	}

	// 1. the checkpoint: note.Open with the log's vkey, and each witness's
	// cosignature with crypto/ed25519
	v, err := note.NewVerifier(vkeys[0])
	if err != nil {
		die("log vkey: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		die("note.Open: %v", err)
	}
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != len(vkeys)-1 {
		die("note.Open: %d verified, %d unknown signatures", len(n.Sigs), len(n.UnverifiedSigs))
	}
	for _, vk := range vkeys[1:] {
		checkCosignature(msg, n.Text, parseCosigner(vk))
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != v.Name() || lines[3] != "" {
		die("checkpoint text %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		die("checkpoint size %q", lines[1])
	}
	tree := tlog.Tree{N: size, Hash: b64hash(lines[2])}

	// 2. our tiles, read through tlog.TileHashReader, which proves every
	// tile it reads against the checkpoint's root
	hr := tlog.TileHashReader(tree, diskTiles{})
	th, err := tlog.TreeHash(size, hr)
	if err != nil || th != tree.Hash {
		die("TreeHash from our tiles: %v", err)
	}

	// 3. Go's own tree from our entry bundles; every tile of ours must be
	// byte for byte the tile Go computes (tlog.ReadTileData)
	var mem memHashes
	var entries [][]byte
	for i := int64(0); i < size; i += 256 {
		w := size - i
		if w > 256 {
			w = 256
		}
		p := tilePath(tlog.Tile{H: 8, L: 0, N: i / 256, W: int(w)})
		p = strings.Replace(p, "tile/0/", "tile/entries/", 1)
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			die("%v", err)
		}
		for k := int64(0); k < w; k++ {
			if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
				die("%s: short bundle", p)
			}
			l := int(binary.BigEndian.Uint16(b))
			e := b[2 : 2+l]
			b = b[2+l:]
			hs, err := tlog.StoredHashes(int64(len(entries)), e, &mem)
			if err != nil {
				die("StoredHashes: %v", err)
			}
			mem = append(mem, hs...)
			entries = append(entries, e)
		}
		if len(b) != 0 {
			die("%s: trailing bytes", p)
		}
	}
	gh, err := tlog.TreeHash(size, &mem)
	if err != nil || gh != tree.Hash {
		die("Go's tree of our entries has root %v, the checkpoint says %v", gh, tree.Hash)
	}
	// (this NewTiles lists every partial width up to the final one; a log
	// keeps the partial tiles of the sizes it signed, so check the final ones)
	var tiles []tlog.Tile
	for _, t := range tlog.NewTiles(8, 0, size) {
		if t.W == 256 || int64(t.W) == size>>(8*t.L)-t.N*256 {
			tiles = append(tiles, t)
		}
	}
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, &mem)
		if err != nil {
			die("ReadTileData %v: %v", t, err)
		}
		got, err := os.ReadFile(filepath.Join(dir, tilePath(t)))
		if err != nil || !bytes.Equal(got, want) {
			die("tile %s differs from Go's (%v)", tilePath(t), err)
		}
	}

	// 4. the proofs libzupd computed: tlog.CheckRecord, tlog.CheckTree, and
	// every root against Go's tree
	f, err := os.Open(filepath.Join(dir, "ours.txt"))
	if err != nil {
		die("%v", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var incl, cons int
	type pair struct{ m, n int64 }
	var pairs []pair
	sizes := map[int64]tlog.Hash{}
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		x, _ := strconv.ParseInt(fl[1], 10, 64)
		y, _ := strconv.ParseInt(fl[2], 10, 64)
		cnt, _ := strconv.Atoi(fl[5])
		if len(fl) != 6+cnt {
			die("bad line %q", sc.Text())
		}
		var p []tlog.Hash
		for _, s := range fl[6:] {
			p = append(p, b64hash(s))
		}
		switch fl[0] {
		case "incl":
			leaf, root := b64hash(fl[3]), b64hash(fl[4])
			if leaf != tlog.RecordHash(entries[x]) {
				die("incl %d: leaf hash is not Go's RecordHash of the entry", x)
			}
			if err := tlog.CheckRecord(tlog.RecordProof(p), y, root, x, leaf); err != nil {
				die("CheckRecord(%d in %d): %v", x, y, err)
			}
			sizes[y] = root
			incl++
		case "cons":
			rm, rn := b64hash(fl[3]), b64hash(fl[4])
			if err := tlog.CheckTree(tlog.TreeProof(p), y, rn, x, rm); err != nil {
				die("CheckTree(%d -> %d): %v", x, y, err)
			}
			pairs = append(pairs, pair{x, y})
			cons++
		default:
			die("bad line %q", sc.Text())
		}
	}
	for s, r := range sizes {
		if h, err := tlog.TreeHash(s, &mem); err != nil || h != r {
			die("root of size %d differs from Go's", s)
		}
	}

	// 5. proofs Go computes, for libzupd to check (tlogtool verify)
	out := &bytes.Buffer{}
	for s, r := range sizes {
		for i := int64(0); i < s; i = i*3 + 1 {
			p, err := tlog.ProveRecord(s, i, &mem)
			if err != nil {
				die("ProveRecord: %v", err)
			}
			fmt.Fprintf(out, "incl %d %d %v %v %d", i, s, tlog.RecordHash(entries[i]), r, len(p))
			for _, h := range p {
				fmt.Fprintf(out, " %v", h)
			}
			fmt.Fprintln(out)
		}
	}
	for _, pr := range pairs {
		p, err := tlog.ProveTree(pr.n, pr.m, &mem)
		if err != nil {
			die("ProveTree: %v", err)
		}
		fmt.Fprintf(out, "cons %d %d %v %v %d", pr.m, pr.n, sizes[pr.m], sizes[pr.n], len(p))
		for _, h := range p {
			fmt.Fprintf(out, " %v", h)
		}
		fmt.Fprintln(out)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.txt"), out.Bytes(), 0o644); err != nil {
		die("%v", err)
	}

	// 6. a checkpoint Go signs (note.Sign) and cosigns (crypto/ed25519)
	skey, vkey, err := note.GenerateKey(rand.Reader, "go.example/log")
	if err != nil {
		die("%v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		die("%v", err)
	}
	text := fmt.Sprintf("go.example/log\n%d\n%v\n", size, tree.Hash)
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		die("note.Sign: %v", err)
	}
	wpub, wpriv, _ := ed25519.GenerateKey(rand.Reader)
	wkey := append([]byte{0x04}, wpub...)
	wh := sha256.Sum256(append([]byte("witness.go.example\n"), wkey...))
	sig := make([]byte, 12, 76)
	copy(sig, wh[:4])
	binary.BigEndian.PutUint64(sig[4:], 1767225600)
	sig = append(sig, ed25519.Sign(wpriv, []byte("cosignature/v1\ntime 1767225600\n"+text))...)
	signed = append(signed, []byte("— witness.go.example "+base64.StdEncoding.EncodeToString(sig)+"\n")...)
	wvkey := fmt.Sprintf("witness.go.example+%s+%s", hex.EncodeToString(wh[:4]), base64.StdEncoding.EncodeToString(wkey))
	if err := os.WriteFile(filepath.Join(dir, "go-checkpoint"), signed, 0o644); err != nil {
		die("%v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go-vkeys"), []byte(vkey+"\n"+wvkey+"\n"), 0o644); err != nil {
		die("%v", err)
	}
	fmt.Printf("tlogcheck: checkpoint (size %d) and %d cosignatures verified; %d tiles equal Go's; %d inclusion and %d consistency proofs of libzupd hold in Go\n",
		size, len(vkeys)-1, len(tiles), incl, cons)
}
