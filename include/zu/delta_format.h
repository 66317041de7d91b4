/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/delta_format.h -- helpers shared by delta apply (lib) and creation (mirror). */
#ifndef ZU_DELTA_INT_H
#define ZU_DELTA_INT_H

#include <stddef.h>
#include <stdint.h>

/* Stream codecs of the native bsdiff method (header byte 6, 2 bits each). */
#define ZU_CODEC_ZSTD 0
#define ZU_CODEC_BZIP2 1
#define ZU_CODEC_RAW 2   /* stored */
#define ZU_CODEC_ZRLE 3  /* zero runs: (varint zeros, varint n, n bytes)... */
#define ZU_CODEC_SPLIT 4 /* apply only: a split diff stream (ZU_FLAG_DIFF_SPLIT) */
#define ZU_CODEC_ZRUN 5  /* apply only: bzip2, then zero runs (ZU_FLAG_DIFF_ZRUN) */

/* Header byte 7 (flags), format version 2: the diff stream of the bsdiff
 * method is split into a runs stream (varint zeros, varint n)... and a
 * literals stream, each in the diff stream's codec. */
#define ZU_FLAG_DIFF_SPLIT 0x01
/* Flag: the diff stream, in bzip2, decodes to zero-run bytes: every run of
 * ZU_ZRUN_MIN zero bytes is followed by a count (one byte) of further zeros.
 * bzip2 compresses the raw diff as well (esbuild: 127,216 vs 127,585
 * bytes) but its decoder then emits a tenth of the bytes. */
#define ZU_FLAG_DIFF_ZRUN 0x02
#define ZU_ZRUN_MIN 4
/* Flag (version 4): the extra stream (zstd) is compressed with the extra
 * context as its prefix: the old bytes around each place new bytes are
 * inserted. A varint W, the context's radius, follows the two stream
 * lengths of the header. New bytes resemble the old ones beside them
 * (mdn-bcd's extra stream: 19,080 -> 13,961 bytes at W 512). */
#define ZU_FLAG_EXTRA_CTX 0x04
/* Flag (version 5): the executable stage (include/zu/delta_exe.h). The
 * stage's parameters follow the stream lengths (and the radius); the old
 * file the streams apply to is old transformed (zu_exe_transform) with the
 * map of the control stream's add regions. */
#define ZU_FLAG_EXE 0x08
/* Bytes of each SHA-256 digest in a version 7 header (a prefix of it). */
#define ZU_DIGEST_SHORT 8
/* Flag (version 6): the extra stream is x86-filtered (include/zu/delta_x86.h):
 * in the new file's executable ranges, the displacements of calls, jumps
 * and RIP-relative operands are relative to the new file's start instead
 * of to the instruction. The filter's parameters follow the executable
 * stage's (or the radius, or the stream lengths). */
#define ZU_FLAG_EXTRA_X86 0x10
/* The control stream's signed values as varints: 2s for s >= 0, -2s-1
 * for s < 0 (zigzag), and back. */
static inline uint64_t
zu_zigzag(int64_t s)
{
    return s < 0 ? ((uint64_t)(-(s + 1)) << 1) | 1 : (uint64_t)s << 1;
}

static inline int64_t
zu_unzigzag(uint64_t z)
{
    return (z & 1) ? -(int64_t)(z >> 1) - 1 : (int64_t)(z >> 1);
}

/* Flag (version 8): rep-coded seeks. The third varint of a control entry
 * is v: its low two bits select, v >> 2 is a zigzag value m. Selector 0:
 * the seek is m, as without the flag. Selector k (1 to 3): the next entry
 * starts at alignment (old position less new position) rep[k - 1] + m,
 * where rep holds the alignments at which the entries before started, the
 * most recent first, each once (struct zu_rep); k may not exceed how many
 * it holds. A database edited in place makes plans that jump to a similar
 * record and back: the jump back is a small m (mdn-bcd-w: the control
 * stream 5,712 -> 5,243 bytes). */
#define ZU_FLAG_CTRL_REP 0x20
#define ZU_REP_N 3
struct zu_rep {
    int64_t a[ZU_REP_N];
    unsigned n;
};

/* After an entry that started at alignment al: al first in r, once. */
static inline void
zu_rep_push(struct zu_rep *r, int64_t al)
{
    unsigned i = 0;

    while (i < r->n && r->a[i] != al)
        i++;
    if (i == r->n) {
        if (r->n < ZU_REP_N)
            r->n++;
        i = r->n - 1;
    }
    for (; i > 0; i--)
        r->a[i] = r->a[i - 1];
    r->a[0] = al;
}

/* Flag (version 9): the extra stream (zstd, without the extra context)
 * is decoded without the old file as its prefix. Apply can then take the
 * executable stage's old file a piece at a time (zu_exe_win): an old
 * file over ZU_EXE_WHOLE_MAX is transformed whole only where the extra
 * stream may copy from it. */
#define ZU_FLAG_EXTRA_NOPFX 0x40
#define ZU_EXE_WHOLE_MAX (36u << 20)

/* Flag (version 15): the control stream in columns. The entries come in
 * blocks: varint m (1 to ZU_CTRL_BLOCK), then the m entries' first
 * varints, then their second ones, then their third ones. An executable's
 * plan is many short entries (turbo-b: 279,643 for 34 MB), whose lengths
 * and seeks compress better apart (its control stream 1,238,182 ->
 * 1,158,504 bytes in LZMA2). */
#define ZU_FLAG_CTRL_COLS 0x80
#define ZU_CTRL_BLOCK 16384u

/* Header byte 6, bits 6-7 (version 10): LZMA2 streams (ZU_CODEC_LZMA):
 * one byte, LZMA2's dictionary size property, then raw LZMA2 chunks up to
 * their end marker. 1 (ZU_CODECS_EXTRA_LZMA) says that the extra stream,
 * whose codec bits 4-5 are then zero, is LZMA2; 2 (ZU_CODECS_LZMA_ALL)
 * that codec 0 means LZMA2 instead of zstd in every stream (control, diff
 * or both parts of a split one, extra); 3 is refused. An LZMA2 extra
 * stream has the prefix a zstd one would have (old, old transformed or
 * the extra context; none with ZU_FLAG_EXTRA_NOPFX) as its preset
 * dictionary: the last dictionary-size bytes of it. New code packs 8-15 %
 * smaller than at zstd level 19 (esbuild-m: 1,635,781 -> 1,431,366 bytes
 * with old as prefix), the changed bytes of a big executable's diff
 * stream 8 % (biome-m: 2,308,433 -> 2,122,147). */
#define ZU_CODECS_EXTRA_LZMA 0x40
#define ZU_CODECS_LZMA_ALL 0x80
#define ZU_CODEC_LZMA 6
#define ZU_LZMA_VERSION 10
/* The largest dictionary apply allocates (the property byte 28). */
#define ZU_LZMA_DICT_MAX (64u << 20)

/* The codecs (ZU_CODEC_*) of the control, diff and extra streams from
 * header byte 6 into c; -1 when bits 6-7 say nothing this reader knows
 * (the version check is the header's). */
static inline int
zu_codecs(uint8_t b, int c[3])
{
    for (int i = 0; i < 3; i++)
        c[i] = (b >> (2 * i)) & 3;
    switch (b & 0xc0) {
    case 0:
        return 0;
    case ZU_CODECS_EXTRA_LZMA:
        if (c[2] != ZU_CODEC_ZSTD)
            return -1;
        c[2] = ZU_CODEC_LZMA;
        return 0;
    case ZU_CODECS_LZMA_ALL:
        for (int i = 0; i < 3; i++)
            if (c[i] == ZU_CODEC_ZSTD)
                c[i] = ZU_CODEC_LZMA;
        return 0;
    default:
        return -1;
    }
}

#define ZU_CTX_W_MAX 65536u   /* largest radius */
#define ZU_CTX_MAX (8u << 20) /* largest context */

/* The extra context, built entry by entry in control order: for an entry
 * that copies extra bytes, with old position op after its add (0 <= op <=
 * olen), old[op - W, op + W) clipped to old, less what overlaps the piece
 * appended before (where it starts inside that piece); at most ZU_CTX_MAX
 * bytes in all, the rest is left out. */
struct zu_ctx {
    uint8_t *buf;
    size_t len, cap;
    uint64_t plo, phi; /* the piece appended last (phi 0: none) */
};

/* Append the piece of the entry at op (op <= olen); ZUPD_E_NOMEM. The old
 * bytes come from old, or where xw is set from its windows (old transformed:
 * include/zu/delta_exe.h). */
struct zu_exe_win;
int zu_ctx_add(struct zu_ctx *c, const uint8_t *old, struct zu_exe_win *xw, size_t olen,
               uint64_t op, uint64_t w);
void zu_ctx_free(struct zu_ctx *c);

/* Little-endian 64-bit integers of the delta headers. */
uint64_t zu_le64(const uint8_t *p);
void zu_put_le64(uint8_t *p, uint64_t v);
/* A little-endian 32-bit value into p[0..4) (the executable stage's and
 * the x86 filter's displacements: inline, on their hot paths). */
static inline void
zu_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
/* A little-endian 32-bit value at p. */
static inline uint32_t
zu_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
/* BSDIFF40 sign-magnitude integer; ZUPD_E_FORMAT for negative zero. */
int zu_offtin(const uint8_t *p, int64_t *out);
void zu_offtout(uint8_t *p, int64_t v);
/* A LEB128 varint of at most 63 bits from p[*at..len), *at moved past it;
 * ZUPD_E_FORMAT where it is cut or longer. */
int zu_get_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *out);

/* Window log that covers n bytes, clamped to [10, 31]. */
static inline int
zu_wlog_for(uint64_t n)
{
    int w = 10;
    while (w < 31 && (UINT64_C(1) << w) < n)
        w++;
    return w;
}

/* Length of the LEB128 varint of v. */
static inline size_t
zu_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* LEB128 varint into p (at most 10 bytes); returns its length. */
static inline size_t
zu_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

#endif
