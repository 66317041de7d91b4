#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/data/gen-delta.sh ZUPD_MIRROR -- regenerate the delta golden files in
# tests/data/{good,bad}/delta/ (committed; run by hand when the format changes).
# Needs python3, zstd, bsdiff.
# base.zpd, base-zstd.zpd, exe.zpd and the bad .zpd files were made by the
# creators of format versions 1 to 5 and are kept as they are (apply must
# read every version): a creator now writes version 7, so they are only
# made where missing; base-v7.zpd, same-v7.zpd and wrong-base-v7.zpd are
# version 7's, rep-v8.zpd version 8's, lzma-v10.zpd version 10's,
# base-lzma-v11.zpd version 11's, eh-v12.zpd version 12's, go-v13.zpd version 13's,
# lsda-v14.zpd version 14's, cols-v15.zpd version 15's (base-v7.zpd
# too is kept: its extra stream is LZMA2 now).
set -eu
M=$1
d=$(cd "$(dirname "$0")" && pwd)
g=$d/good/delta
b=$d/bad/delta
mkdir -p "$g" "$b"
python3 - "$g" <<'PY'
import sys, random
g = sys.argv[1]
r = random.Random(4)
old = bytearray()
for i in range(3000):
    old += b"sym_%05d:" % i + bytes(r.randrange(0, 40) for _ in range(4))
new = bytearray(old)
new[100:100] = b"inserted text " * 20
for i in range(2000, len(new), 397):
    new[i] = (new[i] + 1) & 0xff
del new[20000:20300]
open(g + "/base.old", "wb").write(old)
open(g + "/base.new", "wb").write(new)
other = bytearray(old); other[5000] ^= 1
open(g + "/other.old", "wb").write(other)
PY
[ -e "$g/base.zpd" ] ||
    "$M" delta create "$g/base.old" "$g/base.new" "$g/base.zpd" --method bsdiff --level 3
[ -e "$g/base-zstd.zpd" ] ||
    "$M" delta create "$g/base.old" "$g/base.new" "$g/base-zstd.zpd" --method zstd --level 3
bsdiff "$g/base.old" "$g/base.new" "$g/base.bsdiff40"      # Debian's bsdiff 4.3
[ -e "$b/wrong-base.zpd" ] ||
    "$M" delta create "$g/other.old" "$g/base.new" "$b/wrong-base.zpd" --method bsdiff --level 3
# version 7: the compact header, and the copy method (new == old)
[ -e "$g/base-v7.zpd" ] ||
    "$M" delta create "$g/base.old" "$g/base.new" "$g/base-v7.zpd" --method bsdiff --level 3
"$M" delta create "$g/base.old" "$g/base.old" "$g/same-v7.zpd"
"$M" delta create "$g/other.old" "$g/other.old" "$b/wrong-base-v7.zpd"
rm -f "$g/other.old"
python3 - "$g" "$b" <<'PY'
import sys, struct, bz2, subprocess, hashlib
g, b = sys.argv[1], sys.argv[2]
p = open(g + "/base.zpd", "rb").read()
old = open(g + "/base.old", "rb").read()
def w(name, data): open(b + "/" + name, "wb").write(data)
w("truncated-delta.zpd", p[:-10])
w("truncated-header.zpd", p[:50])
def hdr_end(p):                               # offset after the two hashes
    at = 8
    for _ in range(2):
        while p[at] & 0x80: at += 1
        at += 1
    return at + 64
e = hdr_end(p)
c = bytearray(p); c[e - 1] ^= 1               # last byte of the expected new sha256
w("wrong-new-hash.zpd", bytes(c))
c = bytearray(p); c[4] = 16
w("unknown-version.zpd", bytes(c))
def varint(v):
    o = b""
    while v >= 0x80:
        o += bytes([(v & 0x7f) | 0x80]); v >>= 7
    return o + bytes([v])
def zst(data):
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, stdout=subprocess.PIPE, check=True).stdout
def native(ctrl, diff, extra, newlen, newhash):
    # magic, version 1, method 1 (bsdiff), codecs 0 (zstd x3), flags 0
    h = b"ZDLT" + bytes([1, 1, 0, 0]) + varint(len(old)) + varint(newlen)
    h += hashlib.sha256(old).digest() + newhash
    cz, dz, ez = zst(ctrl), zst(diff), zst(extra)
    return h + varint(len(cz)) + varint(len(dz)) + cz + dz + ez
nh = hashlib.sha256(b"x" * 64).digest()
cs = bytearray(native(varint(0) + varint(64) + varint(0), b"", b"x" * 64, 64, nh))
cs[-len(zst(b"x" * 64))] ^= 0xff              # magic of the extra stream's zstd frame
w("corrupt-stream.zpd", bytes(cs))
# add 64 bytes starting past the end of old
w("ctrl-add-past-old.zpd", native(varint(0) + varint(0) + varint(2 * len(old)) + varint(64) + varint(0) + varint(0), bytes(64), b"", 64, nh))
# copy more bytes than the new file has
w("ctrl-copy-past-new.zpd", native(varint(0) + varint(65) + varint(0), b"", b"x" * 65, 64, nh))
q = open(g + "/base.bsdiff40", "rb").read()
w("truncated-delta.bsdiff40", q[:len(q) // 2])
def off(v):
    return struct.pack("<Q", v) if v >= 0 else struct.pack("<Q", (-v) | (1 << 63))
def b40(ctrl, diff, extra, newlen):
    c, d, e = bz2.compress(ctrl), bz2.compress(diff), bz2.compress(extra)
    return b"BSDIFF40" + off(len(c)) + off(len(d)) + off(newlen) + c + d + e
w("negative-add.bsdiff40", b40(off(-8) + off(16) + off(0), b"", b"y" * 16, 8))
w("seek-overflow.bsdiff40", b40(off(1) + off(0) + off((1 << 63) - 1) + off(1) + off(0) + off((1 << 63) - 1) + off(6) + off(0) + off(0), bytes(8), b"", 8))
PY
# The executable stage (version 5): a synthetic ELF x86-64 release pair,
# the second with a function inserted and one grown (code, data and the
# unwind tables move).
python3 - "$g" <<'PY'
import sys, random, struct
g = sys.argv[1]
def elf(grow, many=0):
    NF, CODE, BASE = 120, 0x1000, 0x400000
    ids = []
    for k in range(NF):
        if grow and k == 40: ids += [1000 + j for j in range(max(1, many))]
        ids.append(k)
    start, size, at = {}, {}, CODE
    for i in ids:
        r = random.Random(77 + i)
        size[i] = 40 + r.randrange(80) + (9 if grow and i == 90 else 0)
        start[i] = at
        at += size[i]
    data = (at + 0xfff) & ~0xfff
    img = bytearray(data + 0x1000)
    for i in ids:
        r = random.Random(77 + i); r.randrange(80)
        c, end = start[i], start[i] + size[i]
        while end - c >= 8:
            k, pc = r.randrange(8), BASE + c
            if k < 2:
                # new functions (many) call a few old ones, the others any
                t = r.randrange(8) if i >= 1000 and many else r.randrange(NF)
                img[c:c + 5] = b"\xe8" + struct.pack("<i", start[t] - c - 5); c += 5
            elif k == 2:
                d = data + r.randrange(512) * 8
                img[c:c + 7] = b"\x48\x8d\x05" + struct.pack("<i", d - c - 7); c += 7
            elif k == 3:
                img[c:c + 6] = b"\x0f\x84" + struct.pack("<i", r.randrange(16)); c += 6
            else:
                img[c:c + 3] = bytes([0x48, 0x89, 0xc0 | r.randrange(64)]); c += 3
        img[c:end] = b"\x90" * (end - c)
    for k in range(0, 0x1000, 8):
        img[data + k:data + k + 8] = struct.pack("<Q", BASE + start[(k // 8) % NF])
    # unwind tables after the pointers: .eh_frame_hdr (offsets from itself)
    # and .eh_frame (a CIE, then an FDE per function, pc_begin from itself)
    img += bytes(0x1000)
    h = data + 0x1000
    fr = h + 12 + 8 * len(ids)
    img[fr:fr + 12] = struct.pack("<III", 8, 0, 0)
    hdr = struct.pack("<BBBBiI", 1, 0x1b, 0x03, 0x3b, fr - (h + 4), len(ids))
    for n, i in enumerate(ids):
        f = fr + 12 + 16 * n
        img[f:f + 16] = struct.pack("<IIiI", 12, f + 4 - fr, start[i] - (f + 8), size[i])
        hdr += struct.pack("<ii", start[i] - h, f - h)
    img[h:h + len(hdr)] = hdr
    ehlen = fr + 12 + 16 * len(ids) - h
    eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 64, 0, 0, 64, 56, 3, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, at, at, 0x1000)
    ph += struct.pack("<IIQQQQQQ", 1, 6, data, BASE + data, BASE + data, 0x2000, 0x3000, 0x1000)
    ph += struct.pack("<IIQQQQQQ", 0x6474e550, 4, h, BASE + h, BASE + h, 12 + 8 * len(ids), 12 + 8 * len(ids), 4)
    img[0:len(eh) + len(ph)] = eh + ph
    return bytes(img)
open(g + "/exe.old", "wb").write(elf(False))
open(g + "/exe.new", "wb").write(elf(True))
open(g + "/exe-x86.new", "wb").write(elf(True, 60))
PY
[ -e "$g/exe.zpd" ] ||
    "$M" delta create "$g/exe.old" "$g/exe.new" "$g/exe.zpd" --method bsdiff --level 19
# The x86 filter (version 6): sixty new functions whose calls go to a few
# old ones, against exe.old.
[ -e "$g/exe-x86.zpd" ] ||
    "$M" delta create "$g/exe.old" "$g/exe-x86.new" "$g/exe-x86.zpd" --method bsdiff --level 19
# Rep-coded seeks (version 8): a record list edited in place, every third
# record taking the value of the record 37 further on.
python3 - "$g" <<'PY'
import sys, random
g = sys.argv[1]
r = random.Random(8)
val = ["".join(r.choice("0123456789abcdef") for _ in range(40)) for _ in range(600)]
rec = '{"id":%d,"name":"n%d","value":"%s"},\n'
old = "".join(rec % (i, i * 7919 % 997, val[i]) for i in range(600))
new = "".join(rec % (i, i * 7919 % 997, val[i + 37 if i % 3 == 0 and i + 37 < 600 else i])
              for i in range(600))
open(g + "/rep.old", "w").write(old)
open(g + "/rep.new", "w").write(new)
PY
[ -e "$g/rep-v8.zpd" ] ||
    "$M" delta create "$g/rep.old" "$g/rep.new" "$g/rep-v8.zpd" --method bsdiff
# version 10: an LZMA2 extra stream, for a new file with a table of new
# binary records (16 bytes: offsets, sizes, kinds; LZMA2 codes their
# fields by position, 23 KB against zstd's 38 and bzip2's 33)
python3 - "$g" <<'PY'
import sys, random, struct
g = sys.argv[1]
r = random.Random(10)
def recs(n, base):
    o = bytearray()
    for i in range(n):
        o += struct.pack("<IIHHI", base + i * 24, r.randrange(0, 1 << 12) * 16,
                         r.choice([1, 2, 3, 7]), r.choice([0, 0x100, 0x8000]),
                         r.choice([0x401000, 0x402340, 0x40a000]) + r.randrange(0, 64) * 8)
    return bytes(o)
old = recs(3000, 0x1000)
new = old[:len(old) // 2] + recs(6000, 0x90000) + old[len(old) // 2:]
open(g + "/lzma.old", "wb").write(old)
open(g + "/lzma.new", "wb").write(new)
PY
[ -e "$g/lzma-v10.zpd" ] ||
    "$M" delta create "$g/lzma.old" "$g/lzma.new" "$g/lzma-v10.zpd" --method bsdiff
# version 11: patch-from in LZMA2 (method 5)
[ -e "$g/base-lzma-v11.zpd" ] ||
    "$M" delta create "$g/base.old" "$g/base.new" "$g/base-lzma-v11.zpd" --method lzma
# version 12: the executable stage's CIE pointers (t_delta's make_eh_elf:
# 300 functions, a new one after every tenth, each with its FDE)
python3 - "$g" <<'PY'
import sys, struct
g = sys.argv[1]
def put32(p, o, v): struct.pack_into("<I", p, o, v & 0xffffffff)
def elf(nf, ins):
    BASE, EHH, EH, CODE, FDE = 0x400000, 0x200, 0x240, 0x8000, 24
    n = nf + (nf // 10 if ins else 0)
    end = CODE + n * 48
    p = bytearray(end)
    p[0:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HH", p, 16, 2, 62)
    struct.pack_into("<Q", p, 32, 64)
    struct.pack_into("<HHH", p, 52, 64, 56, 2)
    for i, (t, f, o, v, fs) in enumerate([(1, 5, 0, BASE, end), (0x6474e550, 4, EHH, BASE + EHH, 12)]):
        struct.pack_into("<IIQQQQQ", p, 64 + i * 56, t, f, o, v, 0, fs, fs)
    p[EHH:EHH + 4] = bytes([1, 0x1b, 3, 0x3b])
    put32(p, EHH + 4, EH - (EHH + 4))
    put32(p, EH, FDE - 4)
    p[EH + 8:EH + 23] = b"\x01zR\x00\x01\x78\x10\x01\x1b\x0c\x07\x08\x90\x01"
    c, nxt = CODE, 0
    for i in range(n):
        if ins and i % 11 == 10:
            fid = 1000 + i
        else:
            fid, nxt = nxt, nxt + 1
        f, ln = EH + (i + 1) * FDE, 16 + (fid * 13) % 48
        put32(p, f, FDE - 4); put32(p, f + 4, f + 4 - EH); put32(p, f + 8, c - (f + 8)); put32(p, f + 12, ln)
        for k in range(17, FDE): p[f + k] = (fid * 7 + k) & 0xff
        for k in range(ln): p[c + k] = (fid * 31 + k * 5 + 1) & 0xff
        c += ln
    return bytes(p)
open(g + "/eh.old", "wb").write(elf(300, False))
open(g + "/eh.new", "wb").write(elf(300, True))
PY
[ -e "$g/eh-v12.zpd" ] ||
    "$M" delta create "$g/eh.old" "$g/eh.new" "$g/eh-v12.zpd"
# version 13: the executable stage's Go function table (t_delta's
# make_go_elf: 200 functions, a new one after every tenth)
python3 - "$g" <<'PY'
import sys, struct
g = sys.argv[1]
def go_elf(nf, ins):
    BASE, TEXT, FN, REC = 0x400000, 0x1000, 48, 56
    n = nf + (nf // 10 if ins else 0)
    ro = (TEXT + n * FN + 0xfff) & ~0xfff
    names = ro + 72; pctab = names + 8 * n + 12; ftab = pctab + 8 + 8 * n
    recs = ftab + 8 * (n + 1); gofunc = recs + REC * n
    rw = (gofunc + 8 * n + 0xfff) & ~0xfff; end = rw + 512
    p = bytearray(end)
    p[0:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HH", p, 16, 2, 62)
    struct.pack_into("<Q", p, 32, 64)
    struct.pack_into("<HHH", p, 52, 64, 56, 3)
    for i, (f, o, sz) in enumerate([(5, 0, ro), (4, ro, rw - ro), (6, rw, end - rw)]):
        struct.pack_into("<IIQQQQQ", p, 64 + i * 56, 1, f, o, BASE + o, 0, sz, sz)
    p[ro:ro + 8] = b"\xf1\xff\xff\xff\x00\x00\x01\x08"
    struct.pack_into("<QQQQQQQQ", p, ro + 8, n, 1, 0, names - ro, names + 8 * n - ro,
                     names + 8 * n + 4 - ro, pctab - ro, ftab - ro)
    p[names + 8 * n + 4:names + 8 * n + 8] = b"a.go"
    nxt = 0
    for i in range(n):
        if ins and i % 11 == 10:
            fid = 1000 + i
        else:
            fid, nxt = nxt, nxt + 1
        p[names + 8 * i:names + 8 * i + 8] = b"f%06u\0" % fid
        for k in range(8): p[pctab + 8 + 8 * i + k] = (fid * 11 + k + 1) & 0xff
        for k in range(FN): p[TEXT + i * FN + k] = (fid * 31 + k * 5 + 1) & 0xff
        struct.pack_into("<II", p, ftab + 8 * i, i * FN, recs - ftab + REC * i)
        struct.pack_into("<IIIIIIIIIIBBBBIII", p, recs + REC * i, i * FN, 8 * i, fid % 5 * 8, 0,
                         8 + 8 * i, 8 + 8 * i + 2, 8 + 8 * i + 4, 2, 0, fid, 0, 0, 0, 1,
                         8 + 8 * i + 6, 0, 8 * i)
        struct.pack_into("<II", p, gofunc + 8 * i, 1, fid % 8 + 1)
    struct.pack_into("<I", p, ftab + 8 * n, n * FN)
    struct.pack_into("<QQ", p, rw, BASE + ro, BASE + names)
    struct.pack_into("<Q", p, rw + 160, BASE + TEXT)
    struct.pack_into("<Q", p, rw + 176, BASE + TEXT)
    struct.pack_into("<Q", p, rw + 328, BASE + gofunc)
    return bytes(p)
open(g + "/go.old", "wb").write(go_elf(200, False))
open(g + "/go.new", "wb").write(go_elf(200, True))
PY
[ -e "$g/go-v13.zpd" ] ||
    "$M" delta create "$g/go.old" "$g/go.new" "$g/go-v13.zpd"
# version 14: the executable stage's LSDA pointers and nearest span
# (as t_delta's make_lsda_elf, with functions and LSDAs of sizes and bytes
# by id: 300 functions, a new one after every tenth)
python3 - "$g" <<'PY'
import sys, struct, random
g = sys.argv[1]
def put32(p, o, v): struct.pack_into("<I", p, o, v & 0xffffffff)
def elf(nf, ins):
    BASE, EHH, EH, FDE, LS, CODE = 0x400000, 0x200, 0x240, 32, 0x3000, 0x8000
    n = nf + (nf // 10 if ins else 0)
    ids, nxt = [], 0
    for i in range(n):
        if ins and i % 11 == 10:
            ids.append(1000 + i)
        else:
            ids.append(nxt); nxt += 1
    end = CODE + sum(16 + (fid * 13) % 48 for fid in ids)
    LS = EH + (n + 1) * FDE
    CODE = (LS + sum(8 + fid % 16 for fid in ids) + 0xfff) & ~0xfff
    end = CODE + sum(16 + (fid * 13) % 48 for fid in ids)
    p = bytearray(end)
    p[0:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HH", p, 16, 2, 62)
    struct.pack_into("<Q", p, 32, 64)
    struct.pack_into("<HHH", p, 52, 64, 56, 2)
    for i, (t, f, o, v, fs) in enumerate([(1, 5, 0, BASE, end), (0x6474e550, 4, EHH, BASE + EHH, 12)]):
        struct.pack_into("<IIQQQQQ", p, 64 + i * 56, t, f, o, v, 0, fs, fs)
    p[EHH:EHH + 4] = bytes([1, 0x1b, 3, 0x3b])
    put32(p, EHH + 4, EH - (EHH + 4))
    put32(p, EH, FDE - 4)
    cie = bytes([1, ord("z"), ord("P"), ord("L"), ord("R"), 0, 1, 0x78, 0x10, 7, 0x9b, 0, 0, 0, 0,
                 0x1b, 0x1b, 0x0c, 7, 8])
    p[EH + 8:EH + 8 + len(cie)] = cie
    c, l = CODE, LS
    for i, fid in enumerate(ids):
        fn, ln = 16 + (fid * 13) % 48, 8 + fid % 16
        f = EH + (i + 1) * FDE
        put32(p, f, FDE - 4); put32(p, f + 4, f + 4 - EH); put32(p, f + 8, c - (f + 8)); put32(p, f + 12, fn)
        p[f + 16] = 4
        put32(p, f + 17, l - (f + 17))
        r = random.Random(fid)
        p[f + 21:f + 32] = bytes(r.randrange(256) for _ in range(11))
        p[l:l + ln] = bytes(r.randrange(256) for _ in range(ln))
        p[c:c + fn] = bytes(r.randrange(256) for _ in range(fn))
        c += fn; l += ln
    return bytes(p)
open(g + "/lsda.old", "wb").write(elf(300, False))
open(g + "/lsda.new", "wb").write(elf(300, True))
PY
[ -e "$g/lsda-v14.zpd" ] ||
    "$M" delta create "$g/lsda.old" "$g/lsda.new" "$g/lsda-v14.zpd"
# version 15: the control stream in columns (the pair of rep-v8.zpd, whose
# control stream is now smaller in columns, rep-coded)
[ -e "$g/cols-v15.zpd" ] ||
    "$M" delta create "$g/rep.old" "$g/rep.new" "$g/cols-v15.zpd"
echo "gen-delta: golden files written"
