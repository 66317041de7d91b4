/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/exe_ref.h -- the executable stage's transform written plainly, as
 * docs/delta-format.md states it: byte by byte through old's code, a binary search of the map
 * for every lookup. lib/delta_exe.c's transform (which tries only the candidate bytes and looks
 * spans up through a page index) must give the same bytes: fuzz_delta_exe and t_delta compare
 * the two. Test code only. */
#ifndef ZU_TEST_EXE_REF_H
#define ZU_TEST_EXE_REF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zu/delta_exe.h"
#include "zu/delta_format.h"

static uint32_t
ref_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The span holding old bytes [x, x + k), or NULL. */
static const struct zu_span *
ref_map_find(const struct zu_exe_map *m, uint64_t x, uint64_t k)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) { /* first span with o > x */
        size_t mid = lo + (hi - lo) / 2;
        if (m->s[mid].o <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    {
        const struct zu_span *s = &m->s[lo - 1];
        uint64_t in = x - s->o;
        return in < s->len && k <= s->len - in ? s : NULL;
    }
}

/* ------------------------------------------------------------------ transform */

/* One-byte opcodes with a ModRM operand: 1 + the size of their immediate.
 * No immediate: the ALU r/m forms, test, xchg, mov, lea, movsxd, the FF
 * group; an 8-bit one: 80, 83, C6; a 32-bit one (16 with 66): 81, C7. */
static const uint8_t ref_op1_imm[256] = {
    [0x01] = 1, [0x03] = 1, [0x09] = 1, [0x0b] = 1, [0x11] = 1, [0x13] = 1, [0x19] = 1, [0x1b] = 1,
    [0x21] = 1, [0x23] = 1, [0x29] = 1, [0x2b] = 1, [0x31] = 1, [0x33] = 1, [0x39] = 1, [0x3b] = 1,
    [0x63] = 1, [0x84] = 1, [0x85] = 1, [0x86] = 1, [0x87] = 1, [0x88] = 1, [0x89] = 1, [0x8a] = 1,
    [0x8b] = 1, [0x8d] = 1, [0xff] = 1, [0x80] = 2, [0x83] = 2, [0xc6] = 2, [0x81] = 5, [0xc7] = 5,
};

static int
ref_imm_of(uint8_t op, int opsize16)
{
    int v = ref_op1_imm[op] - 1;
    return v == 4 && opsize16 ? 2 : v;
}

/* Two-byte opcodes (0F xx) with a ModRM operand and no immediate: SSE
 * moves and arithmetic, movzx/movsx, imul, cmov, nop r/m. */
static int
ref_op2_ok(uint8_t op)
{
    return (op >= 0x10 && op <= 0x17) || op == 0x1f || (op >= 0x28 && op <= 0x2f) ||
           (op >= 0x40 && op <= 0x4f) ||
           (op >= 0x51 && op <= 0x7f && op != 0x70 && op != 0x71 && op != 0x72 && op != 0x73 &&
            op != 0x77) ||
           op == 0xaf || op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf ||
           (op >= 0xd1 && op <= 0xfe);
}

/* A reference at p[i..end): its displacement at p[*d..*d + 4), the
 * instruction's end *e (what the displacement is relative to); *branch
 * for rel32 calls and jumps (their target is code). 0: none. */
static int
ref_at_plain(const uint8_t *p, size_t i, size_t end, size_t *d, size_t *e, int *branch)
{
    size_t k = i;
    int o16 = 0, imm;
    uint8_t op;

    if (end - i < 5)
        return 0;
    *branch = 1;
    if (p[i] == 0xe8 || p[i] == 0xe9) {
        *d = i + 1;
        *e = i + 5;
        return 1;
    }
    if (p[i] == 0x0f && (p[i + 1] & 0xf0) == 0x80) {
        *d = i + 2;
        *e = i + 6;
        return end - i >= 6;
    }
    *branch = 0;
    if (p[i] == 0x66 || p[i] == 0xf2 || p[i] == 0xf3) {
        o16 = p[i] == 0x66;
        k++;
    }
    if ((p[k] & 0xf0) == 0x40) /* REX */
        k++;
    if (end - k < 6)
        return 0;
    op = p[k];
    if (op == 0x0f) {
        if (!ref_op2_ok(p[k + 1]))
            return 0;
        k += 2;
        imm = 0;
    } else {
        imm = ref_imm_of(op, o16);
        if (imm < 0)
            return 0;
        k++;
    }
    if ((p[k] & 0xc7) != 0x05) /* mod 00, r/m 101: [rip + disp32] */
        return 0;
    *d = k + 1;
    *e = k + 5 + (size_t)imm;
    return *e <= end;
}

/* The segment holding virtual address v (memory image), or NULL. */
static const struct zu_seg *
ref_seg_of_vaddr(const struct zu_elf *e, uint64_t v)
{
    for (size_t i = 0; i < e->n; i++)
        if (v - e->seg[i].vaddr < e->seg[i].memsz)
            return &e->seg[i];
    return NULL;
}

/* The virtual address of file offset x in e (the first segment holding
 * it); 0 where none does. */
static int
ref_vaddr_of_off(const struct zu_elf *e, uint64_t x, uint64_t *v)
{
    for (size_t i = 0; i < e->n; i++)
        if (x - e->seg[i].off < e->seg[i].filesz) {
            *v = e->seg[i].vaddr + (x - e->seg[i].off);
            return 1;
        }
    return 0;
}

/* ZU_EXE_K_NEAR in the kinds of the transform under way (ref_transform). */
static int ref_near;

/* For old byte x in no span: of the spans that end before x and those
 * that start after it, the nearest, within ZU_EXE_NEAR_MAX (the one
 * before on a tie); or NULL. */
static const struct zu_span *
ref_map_near(const struct zu_exe_map *m, uint64_t x)
{
    const struct zu_span *best = NULL;
    uint64_t bd = UINT64_MAX;

    for (size_t i = 0; i < m->n; i++) {
        const struct zu_span *s = &m->s[i];
        uint64_t d;
        if (s->o <= x)
            d = x - (s->o + s->len - 1);
        else
            d = s->o - x;
        if (d <= ZU_EXE_NEAR_MAX && (d < bd || (d == bd && s->o <= x)))
            best = s, bd = d;
    }
    return best;
}

/* Where target address t of old goes in new: through the map for file
 * bytes; for zero-filled bytes (.bss), at the same distance from the end
 * of the file bytes of the segment of the same index in new. */
static int
ref_target_new(const struct zu_elf *eo, const struct zu_elf *nw, const struct zu_exe_map *m,
               uint64_t t, int code, uint64_t *tn)
{
    const struct zu_seg *s = ref_seg_of_vaddr(eo, t);
    uint64_t in;

    if (s == NULL || (code && (s->flags & 1) == 0))
        return 0;
    in = t - s->vaddr;
    if (in < s->filesz) {
        const struct zu_span *sp = ref_map_find(m, s->off + in, 1);
        if (sp == NULL && ref_near)
            sp = ref_map_near(m, s->off + in);
        return sp != NULL && ref_vaddr_of_off(nw, sp->n + (s->off + in - sp->o), tn);
    }
    {
        size_t k = (size_t)(s - eo->seg);
        if (k >= nw->n)
            return 0;
        *tn = t - (s->vaddr + s->filesz) + (nw->seg[k].vaddr + nw->seg[k].filesz);
        return 1;
    }
}

/* ZU_EXE_K_CODE over the executable segment s of old. */
static void
ref_code_refs(uint8_t *dst, const uint8_t *old, size_t olen, const struct zu_seg *s,
              const struct zu_elf *eo, const struct zu_elf *nw, const struct zu_exe_map *m)
{
    size_t i = (size_t)s->off, end = s->filesz < olen - i ? i + (size_t)s->filesz : olen;

    while (i < end) {
        size_t d, e;
        int branch;
        uint64_t pe, t, tn, pen;
        const struct zu_span *sp;
        if (!ref_at_plain(old, i, end, &d, &e, &branch)) {
            i++;
            continue;
        }
        /* the instruction end and target in old (virtual addresses) */
        pe = s->vaddr + (e - s->off);
        t = pe + (uint64_t)(int64_t)(int32_t)ref_le32(old + d);
        sp = ref_map_find(m, i, e - i);
        if (sp != NULL && ref_target_new(eo, nw, m, t, branch, &tn) &&
            ref_vaddr_of_off(nw, sp->n + (e - 1 - sp->o), &pen)) {
            int64_t pred = (int64_t)(tn - (pen + 1));
            if (pred >= INT32_MIN && pred <= INT32_MAX) {
                uint32_t u = (uint32_t)pred;
                for (int b = 0; b < 4; b++)
                    dst[d + (size_t)b] = (uint8_t)(u >> (8 * b));
            }
        }
        i = e;
    }
}

/* ZU_EXE_K_ABS64 over the segment s of old (not executable). */
static void
ref_abs_refs(uint8_t *dst, const uint8_t *old, size_t olen, const struct zu_seg *s,
             const struct zu_elf *eo, const struct zu_elf *nw, const struct zu_exe_map *m)
{
    size_t i = ((size_t)s->off + 7) & ~(size_t)7;
    size_t end = s->filesz < olen - (size_t)s->off ? (size_t)(s->off + s->filesz) : olen;

    for (; i < end && end - i >= 8; i += 8) {
        uint64_t v = zu_le64(old + i), tn;
        if (v >= ZU_EXE_ABS_MIN && ref_target_new(eo, nw, m, v, 0, &tn))
            zu_put_le64(dst + i, tn);
    }
}

/* A 32-bit offset at old file offset f, relative to the address of old
 * file offset b (the base: .eh_frame_hdr, or the field itself): replaced
 * by the target's new address less the base's. */
static void
ref_rel_field(uint8_t *dst, const uint8_t *old, size_t f, uint64_t b, const struct zu_elf *eo,
              const struct zu_elf *nw, const struct zu_exe_map *m)
{
    uint64_t bv, t, tn, bn;
    const struct zu_span *sp = ref_map_find(m, b, 1);
    int64_t pred;

    if (sp == NULL || !ref_vaddr_of_off(eo, b, &bv) ||
        !ref_vaddr_of_off(nw, sp->n + (b - sp->o), &bn))
        return;
    t = bv + (uint64_t)(int64_t)(int32_t)ref_le32(old + f);
    if (!ref_target_new(eo, nw, m, t, 0, &tn))
        return;
    pred = (int64_t)(tn - bn);
    if (pred >= INT32_MIN && pred <= INT32_MAX)
        for (int k = 0; k < 4; k++)
            dst[f + (size_t)k] = (uint8_t)((uint32_t)pred >> (8 * k));
}

/* ZU_EXE_K_EHCIE: an FDE's CIE pointer at old file offset f, the
 * distance back from the field to its CIE: replaced by the distance from
 * where the CIE goes to where the field goes. */
static void
ref_cie_field(uint8_t *dst, const uint8_t *old, size_t f, const struct zu_elf *eo,
              const struct zu_elf *nw, const struct zu_exe_map *m)
{
    uint64_t bv, tn, bn;
    const struct zu_span *sp = ref_map_find(m, f, 1);
    int64_t pred;

    if (sp == NULL || !ref_vaddr_of_off(eo, f, &bv) ||
        !ref_vaddr_of_off(nw, sp->n + (f - sp->o), &bn))
        return;
    if (!ref_target_new(eo, nw, m, bv - ref_le32(old + f), 0, &tn))
        return;
    pred = (int64_t)(bn - tn);
    if (pred >= INT32_MIN && pred <= INT32_MAX)
        for (int k = 0; k < 4; k++)
            dst[f + (size_t)k] = (uint8_t)((uint32_t)pred >> (8 * k));
}

/* ZU_EXE_K_UNWIND: .eh_frame_hdr (version 1, its table encoded as 32-bit
 * offsets from itself, 0x3b) and the .eh_frame it points to (0x1b): the
 * table's pairs, and the pc_begin of each FDE taken as a 32-bit offset
 * from itself (the encoding compilers emit for x86-64); with
 * ZU_EXE_K_EHCIE each FDE's CIE pointer too. */
/* A ULEB128 at p[*i..end) (at most 10 bytes; its value up to 28 bits
 * kept), *i past it; 0 where it does not end there. */
static int
ref_uleb(const uint8_t *p, size_t *i, size_t end, uint32_t *v, size_t vbits)
{
    uint64_t r = 0;

    for (size_t n = 0; n < 10; n++) {
        uint8_t b;
        if (*i >= end || n * 7 >= vbits)
            return 0;
        b = p[(*i)++];
        r |= (uint64_t)(b & 0x7f) << (n * 7);
        if (!(b & 0x80)) {
            if (v != NULL)
                *v = (uint32_t)r;
            return 1;
        }
    }
    return 0;
}

/* Whether old's record at c (before end) is a CIE, version 1 or 3,
 * augmentation "z" and then P, L, R, S, B only (P's pointer 2, 4 or 8
 * bytes by its encoding), with L and R both 0x1b. */
static int
ref_cie_lsda(const uint8_t *old, size_t c, size_t end)
{
    size_t i, e, a;
    uint32_t len, alen;
    uint8_t L = 0, R = 0;

    if (c + 9 > end)
        return 0;
    len = ref_le32(old + c);
    if (len < 5 || (uint64_t)c + 4 + len > end || ref_le32(old + c + 4) != 0)
        return 0;
    if (old[c + 8] != 1 && old[c + 8] != 3)
        return 0;
    e = c + 4 + len;
    a = c + 9;
    i = a;
    while (i < e && old[i] != 0)
        i++;
    if (i == e || old[a] != 'z')
        return 0;
    i++;
    if (!ref_uleb(old, &i, e, NULL, 70) || !ref_uleb(old, &i, e, NULL, 70))
        return 0;
    if (old[c + 8] == 3) {
        if (!ref_uleb(old, &i, e, NULL, 70))
            return 0;
    } else {
        i++;
    }
    if (!ref_uleb(old, &i, e, &alen, 28) || i + alen > e)
        return 0;
    e = i + alen;
    for (a = a + 1; old[a] != 0; a++) {
        uint8_t enc;
        if (old[a] == 'S' || old[a] == 'B')
            continue;
        if (old[a] != 'P' && old[a] != 'L' && old[a] != 'R')
            return 0;
        if (i >= e)
            return 0;
        enc = old[i++];
        if (old[a] == 'L')
            L = enc;
        else if (old[a] == 'R')
            R = enc;
        else {
            size_t n;
            switch (enc & 0x0f) {
            case 0x0:
            case 0x4:
            case 0xc:
                n = 8;
                break;
            case 0x3:
            case 0xb:
                n = 4;
                break;
            case 0x2:
            case 0xa:
                n = 2;
                break;
            default:
                return 0;
            }
            if (i + n > e)
                return 0;
            i += n;
        }
    }
    return L == 0x1b && R == 0x1b;
}

static void
ref_unwind_refs(uint8_t *dst, const uint8_t *old, size_t olen, const struct zu_elf *eo,
                const struct zu_elf *nw, const struct zu_exe_map *m, unsigned kinds)
{
    size_t h = (size_t)eo->eh.off, hend = h + (size_t)eo->eh.filesz, at;
    uint64_t hv = eo->eh.vaddr, fv, cnt;
    const struct zu_seg *fs;

    if (eo->eh.filesz < 12 || old[h] != 1 || old[h + 1] != 0x1b || old[h + 2] != 0x03 ||
        old[h + 3] != 0x3b)
        return;
    cnt = ref_le32(old + h + 8);
    for (uint64_t i = 0; i < cnt && hend - (h + 12) >= (i + 1) * 8; i++) {
        ref_rel_field(dst, old, h + 12 + (size_t)i * 8, h, eo, nw, m);
        ref_rel_field(dst, old, h + 16 + (size_t)i * 8, h, eo, nw, m);
    }
    /* .eh_frame: the records from where the header points, within the
     * file bytes of the segment that holds it */
    fv = hv + 4 + (uint64_t)(int64_t)(int32_t)ref_le32(old + h + 4);
    fs = ref_seg_of_vaddr(eo, fv);
    if (fs == NULL || fv - fs->vaddr >= fs->filesz)
        return;
    at = (size_t)(fs->off + (fv - fs->vaddr));
    {
        size_t end = (size_t)(fs->off + fs->filesz);
        if (end > olen)
            end = olen;
        while (at < end && end - at >= 12) {
            uint32_t len = ref_le32(old + at);
            if (len == 0 || len == 0xffffffffu || len > end - at - 4)
                break;
            if (ref_le32(old + at + 4) != 0 && len >= 8) { /* an FDE */
                if ((kinds & ZU_EXE_K_EHCIE) != 0)
                    ref_cie_field(dst, old, at + 4, eo, nw, m);
                ref_rel_field(dst, old, at + 8, at + 8, eo, nw, m);
                if ((kinds & ZU_EXE_K_EHLSDA) != 0 && len >= 17) {
                    /* the LSDA pointer after the augmentation data's length */
                    const uint32_t cp = ref_le32(old + at + 4);
                    size_t i = at + 16;
                    uint32_t alen;
                    if (cp <= at + 4 && ref_cie_lsda(old, at + 4 - cp, end) &&
                        ref_uleb(old, &i, at + 4 + len, &alen, 28) && alen >= 4 &&
                        i + 4 <= at + 4 + len)
                        ref_rel_field(dst, old, i, i, eo, nw, m);
                }
            }
            at += 4 + (size_t)len;
        }
    }
}

/* ZU_EXE_K_UNWIND of a PE file: each 32-bit image offset of the exception
 * directory (.pdata) moved by as much as the address it names. */
static void
ref_pdata_refs(uint8_t *dst, const uint8_t *old, const struct zu_elf *eo, const struct zu_elf *nw,
               const struct zu_exe_map *m)
{
    for (size_t i = 0; i + 4 <= eo->eh.filesz / 12 * 12; i += 4) {
        size_t f = (size_t)eo->eh.off + i;
        uint32_t r = ref_le32(old + f);
        uint64_t t = eo->image_base + r, tn;
        if (ref_target_new(eo, nw, m, t, 0, &tn) && (int64_t)(tn - t) >= INT32_MIN &&
            (int64_t)(tn - t) <= INT32_MAX) {
            uint32_t u = r + (uint32_t)(tn - t);
            dst[f] = (uint8_t)u;
            dst[f + 1] = (uint8_t)(u >> 8);
            dst[f + 2] = (uint8_t)(u >> 16);
            dst[f + 3] = (uint8_t)(u >> 24);
        }
    }
}

static int
ref_u64_cmp(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ZU_EXE_K_JTAB: at every byte of old's executable segments, `lea r,
 * [rip + T]` (REX.W, R or not, 8D, ModRM mod 00 r/m 101), then at the
 * first of the next 24 bytes (the 4 bytes within the segment) where
 * `movsxd r', dword [r + 4 * index]` starts (REX.W, 63, ModRM mod 00 r/m
 * 100, SIB scale 4 with base r, not 101): a table at T where T lies in
 * the file bytes of a segment that is not executable (none where it does
 * not). The tables, sorted, once each (at most 1 Mi, the first found):
 * their entries from T while T + entry lies in an executable segment, up
 * to the next table, the end of T's segment's file bytes (the first
 * segment holding T's offset) and 65536 entries; each replaced by its
 * target's new address less T's (T's through the span holding its first
 * byte). */
static void
ref_jtab_refs(uint8_t *dst, const uint8_t *old, size_t olen, const struct zu_elf *eo,
              const struct zu_elf *nw, const struct zu_exe_map *m)
{
    uint64_t *tab = NULL;
    size_t n = 0, cap = 0;

    for (size_t g = 0; g < eo->n; g++) {
        const struct zu_seg *s = &eo->seg[g];
        size_t end;
        if ((s->flags & 1) == 0 || s->off >= olen)
            continue;
        end = s->filesz < olen - s->off ? (size_t)(s->off + s->filesz) : olen;
        for (size_t at = (size_t)s->off; at + 8 <= end; at++) {
            unsigned reg;
            size_t e = at + 7;
            if ((old[at] != 0x48 && old[at] != 0x49 && old[at] != 0x4c && old[at] != 0x4d) ||
                old[at + 1] != 0x8d || (old[at + 2] & 0xc7) != 0x05)
                continue;
            reg = (old[at + 2] >> 3 & 7u) + (old[at] >= 0x4c ? 8u : 0u);
            for (size_t k = e; k < e + 24 && k + 4 <= end; k++) {
                unsigned base = (old[k + 3] & 7u) + (old[k] & 1u ? 8u : 0u);
                uint64_t t;
                const struct zu_seg *ts;
                if (old[k] < 0x48 || old[k] > 0x4f || old[k + 1] != 0x63 ||
                    (old[k + 2] & 0xc7) != 0x04 || old[k + 3] >> 6 != 2 || (old[k + 3] & 7) == 5 ||
                    base != reg)
                    continue;
                t = s->vaddr + (e - s->off) + (uint64_t)(int64_t)(int32_t)ref_le32(old + at + 3);
                ts = ref_seg_of_vaddr(eo, t);
                if (ts != NULL && (ts->flags & 1) == 0 && t - ts->vaddr < ts->filesz &&
                    ts->off + (t - ts->vaddr) < olen && olen - (ts->off + (t - ts->vaddr)) >= 4 &&
                    n < (1u << 20)) {
                    if (n == cap) {
                        uint64_t *q = realloc(tab, (cap = cap * 2 + 16) * sizeof(*tab));
                        if (q == NULL) {
                            free(tab);
                            return;
                        }
                        tab = q;
                    }
                    tab[n++] = ts->off + (t - ts->vaddr);
                }
                break;
            }
        }
    }
    if (n > 1)
        qsort(tab, n, sizeof(*tab), ref_u64_cmp);
    for (size_t k = 0; k < n; k++) {
        uint64_t to = tab[k], t = 0, tn, end = 0;
        const struct zu_span *sp = ref_map_find(m, to, 1);
        int have = 0;
        if (k > 0 && tab[k - 1] == to)
            continue; /* once */
        for (size_t i = 0; i < eo->n && !have; i++)
            if (to - eo->seg[i].off < eo->seg[i].filesz) {
                t = eo->seg[i].vaddr + (to - eo->seg[i].off);
                end = eo->seg[i].off + eo->seg[i].filesz;
                have = 1;
            }
        if (!have || sp == NULL || !ref_vaddr_of_off(nw, sp->n + (to - sp->o), &tn))
            continue;
        if (end > olen)
            end = olen;
        for (size_t j = k + 1; j < n; j++)
            if (tab[j] != to) {
                if (tab[j] < end)
                    end = tab[j];
                break;
            }
        for (uint64_t i = 0; i < 65536 && to + 4 * i + 4 <= end; i++) {
            uint64_t f = to + 4 * i, c = t + (uint64_t)(int64_t)(int32_t)ref_le32(old + f), cn;
            const struct zu_seg *cs = ref_seg_of_vaddr(eo, c);
            if (cs == NULL || (cs->flags & 1) == 0)
                break;
            if (ref_target_new(eo, nw, m, c, 1, &cn) && (int64_t)(cn - tn) >= INT32_MIN &&
                (int64_t)(cn - tn) <= INT32_MAX) {
                uint32_t u = (uint32_t)(cn - tn);
                for (int b = 0; b < 4; b++)
                    dst[f + (size_t)b] = (uint8_t)(u >> (8 * b));
            }
        }
    }
    free(tab);
}

/* ZU_EXE_K_GOFN: an offset from old file offset base at old file offset
 * at (a 32-bit field): where its target went, less new's base bn. Zero
 * stays. */
static void
ref_go_off(uint8_t *dst, const uint8_t *old, uint64_t at, uint64_t base, uint64_t bn,
           const struct zu_exe_map *m)
{
    const uint32_t v = ref_le32(old + at);
    const struct zu_span *sp = v != 0 ? ref_map_find(m, base + v, 1) : NULL;
    uint64_t tn;

    if (sp == NULL)
        return;
    tn = sp->n + (base + v - sp->o);
    if (tn >= bn && tn - bn <= UINT32_MAX)
        zu_put_le32(dst + at, (uint32_t)(tn - bn));
}

/* An offset from virtual address base of old (bn of new); all ones stays. */
static void
ref_go_addr(uint8_t *dst, const uint8_t *old, uint64_t at, uint64_t base, uint64_t bn, int code,
            const struct zu_elf *eo, const struct zu_elf *nw, const struct zu_exe_map *m)
{
    const uint32_t v = ref_le32(old + at);
    uint64_t tn;

    if (v != UINT32_MAX && ref_target_new(eo, nw, m, base + v, code, &tn) && tn >= bn &&
        tn - bn <= UINT32_MAX)
        zu_put_le32(dst + at, (uint32_t)(tn - bn));
}

static uint64_t
ref_le64(const uint8_t *p)
{
    return (uint64_t)ref_le32(p) | (uint64_t)ref_le32(p + 4) << 32;
}

/* Go's function table: row k (8 bytes at ftab + 8k, while it lies in
 * old) is its entry (from the text) and its record's offset (from
 * ftab); the record (44 bytes and its pcdata and funcdata, each field
 * while it lies in old; no more than 1024 pcdata) its entry, its name (from the names),
 * three pc-value tables and its pcdata (from pctab), its funcdata (from
 * gofunc, where the parameters give it). */
static void
ref_go_refs(uint8_t *dst, const uint8_t *old, size_t olen, const struct zu_elf *eo,
            const struct zu_elf *nw, const struct zu_exe_map *m)
{
    const struct zu_gofn *g = &nw->go;
    const uint64_t h = g->hdr;
    static const uint8_t magic[8] = {0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8};
    uint64_t nfunc, names, pctab, ftab;

    if (h > olen || olen - h < 72 || memcmp(old + h, magic, 8) != 0)
        return;
    nfunc = ref_le64(old + h + 8);
    names = h + ref_le64(old + h + 32);
    pctab = h + ref_le64(old + h + 56);
    ftab = h + ref_le64(old + h + 64);
    if (names < h || pctab < h || ftab < h || ftab > olen)
        return;
    for (uint64_t k = 0; k < nfunc; k++) {
        const uint64_t r = ftab + 8 * k;
        uint64_t f, npc, nfd;
        if (r + 8 > olen)
            break;
        ref_go_addr(dst, old, r, g->text_o, g->text_n, 1, eo, nw, m);
        ref_go_off(dst, old, r + 4, ftab, g->ftab_n, m);
        f = ftab + ref_le32(old + r + 4);
        if (f + 44 > olen)
            continue;
        ref_go_addr(dst, old, f, g->text_o, g->text_n, 1, eo, nw, m);
        ref_go_off(dst, old, f + 4, names, g->names_n, m);
        ref_go_off(dst, old, f + 16, pctab, g->pctab_n, m);
        ref_go_off(dst, old, f + 20, pctab, g->pctab_n, m);
        ref_go_off(dst, old, f + 24, pctab, g->pctab_n, m);
        npc = ref_le32(old + f + 28);
        nfd = old[f + 43];
        if (npc > 1024)
            continue;
        for (uint64_t i = 0; i < npc && f + 48 + 4 * i <= olen; i++)
            ref_go_off(dst, old, f + 44 + 4 * i, pctab, g->pctab_n, m);
        for (uint64_t i = 0; g->gofunc_o != 0 && i < nfd && f + 48 + 4 * (npc + i) <= olen; i++)
            ref_go_addr(dst, old, f + 44 + 4 * (npc + i), g->gofunc_o, g->gofunc_n, 0, eo, nw, m);
    }
}

static void
ref_transform(uint8_t *dst, const uint8_t *old, size_t olen, const struct zu_elf *eo,
              const struct zu_elf *nw, const struct zu_exe_map *m, unsigned kinds)
{
    ref_near = (kinds & ZU_EXE_K_NEAR) != 0;
    if (olen > 0)
        memcpy(dst, old, olen);
    for (size_t k = 0; k < eo->n; k++) {
        const struct zu_seg *s = &eo->seg[k];
        if (s->off >= olen)
            continue;
        if ((s->flags & 1) != 0 && (kinds & ZU_EXE_K_CODE) != 0)
            ref_code_refs(dst, old, olen, s, eo, nw, m);
        else if ((s->flags & 1) == 0 && (kinds & ZU_EXE_K_ABS64) != 0)
            ref_abs_refs(dst, old, olen, s, eo, nw, m);
    }
    if ((kinds & ZU_EXE_K_UNWIND) != 0 && eo->id == ZU_EXE_PE_X86_64)
        ref_pdata_refs(dst, old, eo, nw, m);
    else if ((kinds & ZU_EXE_K_UNWIND) != 0)
        ref_unwind_refs(dst, old, olen, eo, nw, m, kinds);
    if ((kinds & ZU_EXE_K_JTAB) != 0)
        ref_jtab_refs(dst, old, olen, eo, nw, m);
    if ((kinds & ZU_EXE_K_GOFN) != 0)
        ref_go_refs(dst, old, olen, eo, nw, m);
}

/* Whether zu_exe_win's pieces give x (zu_exe_transform's bytes, olen of
 * them) byte for byte: old read forwards and backwards in pieces of sizes
 * from seed, and at positions and sizes from seed.
 * 1: they do; 0: they differ, or no memory. */
static int
ref_win_same(const uint8_t *x, const uint8_t *old, size_t olen, const struct zu_elf *eo,
             const struct zu_elf *nw, const struct zu_exe_map *m, unsigned kinds, uint32_t seed)
{
    struct zu_exe_map c = {0};
    struct zu_exe_win *w = NULL;
    const uint8_t *p;
    int same = 1;

    if (olen == 0)
        return 1;
    c.s = malloc((m->n > 0 ? m->n : 1) * sizeof(*c.s));
    if (c.s == NULL)
        return 0;
    if (m->n > 0)
        memcpy(c.s, m->s, m->n * sizeof(*c.s));
    c.n = c.cap = m->n;
    if (zu_exe_win_new(&w, old, olen, eo, nw, &c, kinds) != ZUPD_OK) {
        zu_exe_map_free(&c);
        return 0;
    }
    for (size_t pos = 0; same && pos < olen;) { /* forwards */
        size_t n = 1 + (seed = seed * 1103515245u + 12345u) % 300, ask = n;
        p = zu_exe_win_at(w, pos, &n);
        same = n >= 1 && n <= ask && n <= olen - pos && memcmp(p, x + pos, n) == 0;
        pos += n;
    }
    for (size_t end = olen; same && end > 0;) { /* backwards, pieces of 1 to 64 bytes */
        size_t n = 1 + (seed = seed * 1103515245u + 12345u) % 64, pos;
        if (n > end)
            n = end;
        pos = end - n;
        p = zu_exe_win_at(w, pos, &n); /* n set before memcmp reads it */
        same = memcmp(p, x + pos, n) == 0;
        end = pos;
    }
    for (unsigned k = 0; same && k < 64; k++) { /* anywhere, up to 128 KiB */
        size_t pos, n;
        seed = seed * 1103515245u + 12345u;
        pos = (size_t)(seed >> 8) % olen;
        n = 1 + (size_t)(seed * 7u) % (128u << 10);
        p = zu_exe_win_at(w, pos, &n);
        same = memcmp(p, x + pos, n) == 0;
    }
    zu_exe_win_free(w);
    return same;
}

#endif
