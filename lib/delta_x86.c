/* SPDX-License-Identifier: Apache-2.0 */
/* lib/delta_x86.c -- the x86 filter of the extra stream (ZU_FLAG_EXTRA_X86, format version 6):
 * the 32-bit displacements of rel32 calls/jumps and RIP-relative operands in the new bytes of
 * an executable, made absolute (relative to the start of the new file) so that the repeated
 * targets of new code repeat in the extra stream. The creator filters (mirror/delta/), apply
 * unfilters as it copies the extra bytes out (zu_x86_copy). docs/delta-format.md defines it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zupd/common.h>

#include "delta_apply_int.h"
#include "zu/delta_format.h"
#include "zu/delta_x86.h"

/* ------------------------------------------------------------------ parameters */

size_t
zu_x86_params_put(uint8_t *p, const struct zu_x86 *x)
{
    size_t at = zu_put_varint(p, x->n);

    for (size_t i = 0; i < x->n; i++) {
        at += zu_put_varint(p + at, x->off[i]);
        at += zu_put_varint(p + at, x->len[i]);
    }
    return at;
}

int
zu_x86_params_get(const uint8_t *p, size_t len, size_t *at, uint64_t new_size, struct zu_x86 *x)
{
    uint64_t n, end = 0;
    int rc;

    memset(x, 0, sizeof(*x));
    rc = zu_get_varint(p, len, at, &n);
    if (rc != ZUPD_OK)
        return rc;
    if (n == 0 || n > ZU_X86_RANGES_MAX)
        return ZUPD_E_FORMAT;
    for (size_t i = 0; i < n; i++) {
        rc = zu_get_varint(p, len, at, &x->off[i]);
        if (rc == ZUPD_OK)
            rc = zu_get_varint(p, len, at, &x->len[i]);
        if (rc != ZUPD_OK)
            return rc;
        /* varints are below 2^63: the sum cannot wrap */
        if (x->len[i] == 0 || x->off[i] < end || x->off[i] + x->len[i] > new_size)
            return ZUPD_E_FORMAT;
        end = x->off[i] + x->len[i];
    }
    x->n = (size_t)n;
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ the filter */

/* The filter's own opcode lists (part of format version 6; the
 * executable stage of lib/delta_exe.c has its own). One-byte opcodes
 * with a ModRM operand: 1 + the size of their immediate (0: none). */
static const uint8_t op1_imm[256] = {
    [0x01] = 1, [0x03] = 1, [0x09] = 1, [0x0b] = 1, [0x11] = 1, [0x13] = 1, [0x19] = 1, [0x1b] = 1,
    [0x21] = 1, [0x23] = 1, [0x29] = 1, [0x2b] = 1, [0x31] = 1, [0x33] = 1, [0x39] = 1, [0x3b] = 1,
    [0x63] = 1, [0x84] = 1, [0x85] = 1, [0x86] = 1, [0x87] = 1, [0x88] = 1, [0x89] = 1, [0x8a] = 1,
    [0x8b] = 1, [0x8d] = 1, [0xff] = 1, [0x80] = 2, [0x83] = 2, [0xc6] = 2, [0x81] = 5, [0xc7] = 5,
};

/* Two-byte opcodes (0F xx) with a ModRM operand and no immediate. */
static int
op2_ok(uint8_t op)
{
    return (op >= 0x10 && op <= 0x17) || op == 0x1f || (op >= 0x28 && op <= 0x2f) ||
           (op >= 0x40 && op <= 0x4f) ||
           (op >= 0x51 && op <= 0x7f && op != 0x70 && op != 0x71 && op != 0x72 && op != 0x73 &&
            op != 0x77) ||
           op == 0xaf || op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf ||
           (op >= 0xd1 && op <= 0xfe);
}

/* A reference at p[i..end): its displacement p[*d..*d + 4) and the
 * instruction's end *e; 0: none. *r is the last byte it read (i at
 * least); it reads nothing at or past end, nor past i + 4. */
static int
x86_ref(const uint8_t *p, size_t i, size_t end, size_t *d, size_t *e, size_t *r)
{
    size_t k = i;
    int o16 = 0, imm;
    uint8_t op;

    *r = i;
    if (end - i < 5)
        return 0;
    if (p[i] == 0xe8 || p[i] == 0xe9) {
        *d = i + 1;
        *e = i + 5;
        return 1;
    }
    if (p[i] == 0x0f) {
        *r = i + 1;
        if ((p[i + 1] & 0xf0) == 0x80) {
            *d = i + 2;
            *e = i + 6;
            return end - i >= 6;
        }
    }
    if (p[i] == 0x66 || p[i] == 0xf2 || p[i] == 0xf3) {
        o16 = p[i] == 0x66;
        k++;
    }
    if (k > *r)
        *r = k;
    if ((p[k] & 0xf0) == 0x40) /* REX */
        k++;
    if (end - k < 6)
        return 0;
    *r = k;
    op = p[k];
    if (op == 0x0f) {
        *r = k + 1;
        if (!op2_ok(p[k + 1]))
            return 0;
        k += 2;
        imm = 0;
    } else {
        imm = op1_imm[op] - 1;
        if (imm == 4 && o16)
            imm = 2;
        if (imm < 0)
            return 0;
        k++;
    }
    *r = k;
    if ((p[k] & 0xc7) != 0x05) /* mod 00, r/m 101: [rip + disp32] */
        return 0;
    *d = k + 1;
    *e = k + 5 + (size_t)imm;
    return *e <= end;
}

/* Bytes a step may look at past its start (x86_ref, then the test byte
 * at d + 3 <= i + 8), and its end (e <= i + 13), with room. */
#define X86_LOOK 16

/* One step of the filter at p[i] of a piece p[0..end) whose p[0] stands
 * at new offset pos: *w1 is one past the last byte any step before read
 * (0: none). Returns where the next step starts. A displacement whose
 * high byte is 00 or FF (a 25-bit signed value), at or after *w1, becomes
 * (disp + dir * (pos + e)) mod 2^25, sign-extended from bit 24; the high
 * byte stays 00 or FF, so unfiltering sees the same instructions. */
static size_t
x86_step(uint8_t *p, size_t i, size_t end, uint64_t pos, int dir, size_t *w1)
{
    size_t d, e, r;
    uint32_t v, a;

    /* a byte that starts nothing x86_ref knows (no opcode, prefix, REX
     * or 0F): it reads that byte alone, as below */
    if (op1_imm[p[i]] == 0 && p[i] != 0xe8 && p[i] != 0xe9 && p[i] != 0x0f && p[i] != 0x66 &&
        p[i] != 0xf2 && p[i] != 0xf3 && (p[i] & 0xf0) != 0x40) {
        if (i + 1 > *w1)
            *w1 = i + 1;
        return i + 1;
    }
    if (!x86_ref(p, i, end, &d, &e, &r)) {
        if (r + 1 > *w1)
            *w1 = r + 1;
        return i + 1;
    }
    if ((p[d + 3] != 0x00 && p[d + 3] != 0xff) || d < *w1) {
        if (d + 4 > *w1)
            *w1 = d + 4;
        return i + 1;
    }
    v = (uint32_t)p[d] | (uint32_t)p[d + 1] << 8 | (uint32_t)p[d + 2] << 16 |
        (uint32_t)p[d + 3] << 24;
    a = (uint32_t)(pos + e);
    v = (dir > 0 ? v + a : v - a) & 0x1ffffffu;
    if ((v & 0x1000000u) != 0)
        v |= 0xfe000000u;
    zu_put_le32(p + d, v);
    *w1 = e;
    return e;
}

void
zu_x86_piece(uint8_t *b, size_t len, uint64_t pos, int dir)
{
    size_t i = 0, w1 = 0;

    while (i < len)
        i = x86_step(b, i, len, pos, dir, &w1);
}

void
zu_x86_run(uint8_t *b, size_t n, uint64_t pos, const struct zu_x86 *x, int dir)
{
    for (size_t k = 0; k < x->n; k++) {
        uint64_t lo = x->off[k] > pos ? x->off[k] : pos;
        uint64_t hi = x->off[k] + x->len[k] < pos + n ? x->off[k] + x->len[k] : pos + n;
        if (lo < hi)
            zu_x86_piece(b + (lo - pos), (size_t)(hi - lo), lo, dir);
    }
}

/* ------------------------------------------------------------------ apply */

static int
out_bytes(struct outq *q, const uint8_t *src, size_t n)
{
    while (n > 0) {
        uint8_t *dst;
        size_t k;
        int rc = zu_out_room(q, &dst, &k);
        if (rc != ZUPD_OK)
            return rc;
        if (k > n)
            k = n;
        memcpy(dst, src, k);
        zu_out_commit(q, k);
        src += k;
        n -= k;
    }
    return ZUPD_OK;
}

/* A piece of len bytes at new offset pos, unfiltered through s->buf: the
 * bytes before the next step are final; a step runs once X86_LOOK bytes
 * past it (or the piece's end) are in the buffer. */
static int
piece_copy(struct zu_x86_copy *s, struct rd *extra, struct outq *q, uint64_t pos, uint64_t len)
{
    uint64_t base = 0; /* the piece offset of buf[0] */
    size_t h = 0, i = 0, w1 = 0;

    while (base < len) {
        size_t want = ZU_X86_BUF - h, out, end;
        int all, rc;
        if (want > len - base - h)
            want = (size_t)(len - base - h);
        rc = zu_rd_read(extra, s->buf + h, want);
        if (rc != ZUPD_OK)
            return rc;
        h += want;
        all = base + h == len;
        end = len - base > SIZE_MAX ? SIZE_MAX : (size_t)(len - base);
        while (i < h && (all || h - i >= X86_LOOK))
            i = x86_step(s->buf, i, end, pos + base, -1, &w1);
        out = all ? h : i;
        rc = out_bytes(q, s->buf, out);
        if (rc != ZUPD_OK)
            return rc;
        memmove(s->buf, s->buf + out, h - out);
        base += out;
        h -= out;
        i -= out;
        w1 = w1 > out ? w1 - out : 0;
    }
    return ZUPD_OK;
}

int
zu_x86_copy(struct zu_x86_copy *s, struct rd *extra, struct outq *q, uint64_t pos, uint64_t n)
{
    const struct zu_x86 *x = &s->x;

    if (s->buf == NULL) {
        s->buf = malloc(ZU_X86_BUF);
        if (s->buf == NULL)
            return ZUPD_E_NOMEM;
    }
    while (n > 0) {
        uint64_t lo, hi;
        int rc;
        while (s->r < x->n && x->off[s->r] + x->len[s->r] <= pos)
            s->r++; /* copies come in increasing new offsets */
        if (s->r == x->n || x->off[s->r] >= pos + n)
            return zu_out_from_rd(q, extra, n);
        lo = x->off[s->r] > pos ? x->off[s->r] : pos;
        hi = x->off[s->r] + x->len[s->r] < pos + n ? x->off[s->r] + x->len[s->r] : pos + n;
        rc = zu_out_from_rd(q, extra, lo - pos);
        if (rc == ZUPD_OK)
            rc = piece_copy(s, extra, q, lo, hi - lo);
        if (rc != ZUPD_OK)
            return rc;
        n -= hi - pos;
        pos = hi;
    }
    return ZUPD_OK;
}
