/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/realign.c -- the executable stage's plan realigned over an
 * ELF file's relocation tables, row by row, against old transformed. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zupd/common.h>

#include "delta/create_int.h"
#include "zu/delta_exe.h"
#include "zu/delta_format.h"
#include "zu/internal.h"

/* A shared library or a position-independent executable carries its
 * relocations in RELA tables (.rela.dyn, .rela.plt): rows of 24 bytes,
 * r_offset (the address patched), r_info (type and symbol), r_addend
 * (for R_X86_64_RELATIVE the address written there), sorted by r_offset.
 * The executable stage rewrites both addresses of every row of old to
 * where they went in new (ZU_EXE_K_ABS64), so a row of old transformed
 * equals its row of new. But the plan was found on old as it is, where a
 * release that added data shifted the rows against each other: the scan
 * aligned row i of new with row i of old, not with the row it became,
 * and the diff stream has most bytes of every row (libvips-b: 161,817
 * changed bytes of 888,624, 35,666 of 37,026 rows touched; its diff
 * stream 311,280 bytes, 218,350 with those bytes zero). Here each row of
 * new finds its row of old transformed (an exact match of 24 bytes, or
 * else the row after the one before) and the plan's entries over the
 * table are replaced by those spans (where a row has none, the plan's
 * pieces stay). The table's bytes are only data to
 * the transform: the map's spans over it change no address the transform
 * writes elsewhere but the table's own (DT_RELA in .dynamic). */

#define ROW 24u

struct rtab {
    uint64_t off, len; /* file bytes, len a multiple of ROW */
};

/* The file offset of n bytes at address a of an ELF file (segments e):
 * inside one PT_LOAD's file bytes. */
static int
off_of(const struct zu_elf *e, uint64_t a, uint64_t n, uint64_t *off)
{
    for (size_t i = 0; i < e->n; i++) {
        const struct zu_seg *s = &e->seg[i];
        if (a - s->vaddr < s->filesz && n <= s->filesz - (a - s->vaddr)) {
            *off = s->off + (a - s->vaddr);
            return 1;
        }
    }
    return 0;
}

/* The RELA tables of p (ELF x86-64, segments and PT_DYNAMIC e: DT_RELA
 * and DT_RELASZ, DT_JMPREL and DT_PLTRELSZ where DT_PLTREL is DT_RELA),
 * in t by file offset, at most two, none that overlap. */
static size_t
rela_tables(const uint8_t *p, const struct zu_elf *e, struct rtab t[2])
{
    uint64_t d[24] = {0};
    size_t n = 0;

    for (uint64_t at = e->dyn.off; e->dyn.filesz - (at - e->dyn.off) >= 16; at += 16) {
        uint64_t tag = zu_le64(p + at);
        if (tag == 0) /* DT_NULL */
            break;
        if (tag < ZU_ARRAY_LEN(d))
            d[tag] = zu_le64(p + at + 8);
    }
    /* DT_RELA 7, DT_RELASZ 8, DT_RELAENT 9; DT_JMPREL 23, DT_PLTRELSZ 2, DT_PLTREL 20 */
    if (d[7] != 0 && (d[9] == 0 || d[9] == ROW) && d[8] >= ROW &&
        off_of(e, d[7], d[8] / ROW * ROW, &t[n].off))
        t[n++].len = d[8] / ROW * ROW;
    if (d[23] != 0 && d[20] == 7 && d[2] >= ROW && off_of(e, d[23], d[2] / ROW * ROW, &t[n].off)) {
        t[n].len = d[2] / ROW * ROW;
        if (n == 0 || t[n].off >= t[0].off + t[0].len || t[0].off >= t[n].off + t[n].len)
            n++;
    }
    if (n == 2 && t[1].off < t[0].off) {
        struct rtab s = t[0];
        t[0] = t[1];
        t[1] = s;
    }
    return n;
}

/* A piece of new: len bytes at n, from old at o (an add), or o < 0: from
 * the extra stream. */
struct seg {
    uint64_t n, len;
    int64_t o;
};

struct segs {
    struct seg *s;
    size_t n, cap;
};

static int
seg_push(struct segs *v, uint64_t n, uint64_t len, int64_t o)
{
    if (len == 0)
        return ZUPD_OK;
    if (v->n > 0) { /* one piece where it goes on */
        struct seg *l = &v->s[v->n - 1];
        if (l->n + l->len == n &&
            ((o < 0 && l->o < 0) || (o >= 0 && l->o >= 0 && l->o + (int64_t)l->len == o))) {
            l->len += len;
            return ZUPD_OK;
        }
    }
    if (ZU_GROW(&v->s, &v->cap, v->n + 1, SIZE_MAX / sizeof(*v->s)) != ZUPD_OK)
        return ZUPD_E_NOMEM;
    v->s[v->n++] = (struct seg){n, len, o};
    return ZUPD_OK;
}

/* The pieces of pl's entries, in new's order. */
static int
segs_of_plan(const struct plan *pl, struct segs *v)
{
    uint64_t np = 0;
    int64_t op = 0;
    int rc = ZUPD_OK;

    for (size_t i = 0; rc == ZUPD_OK && i < pl->n; i++) {
        rc = seg_push(v, np, pl->c[i].add, op);
        np += pl->c[i].add;
        op += (int64_t)pl->c[i].add;
        if (rc == ZUPD_OK)
            rc = seg_push(v, np, pl->c[i].copy, -1);
        np += pl->c[i].copy;
        op += pl->c[i].seek;
    }
    return rc;
}

/* The entries of pieces v into the plan *out (no streams; its x86
 * filter x86): an entry per piece from old, with the extra bytes after
 * it; a first entry that only seeks where the first piece from old is not
 * at 0, or only copies where new starts with extra bytes. */
static int
plan_of_segs(const struct segs *v, const struct zu_x86 *x86, struct plan *out)
{
    struct plan q;
    int64_t op = 0;
    int open = 0;

    memset(&q, 0, sizeof(q));
    for (size_t i = 0; i < v->n; i++) {
        const struct seg *s = &v->s[i];
        if (s->o < 0) {
            if (!open) {
                if (ZU_GROW(&q.c, &q.cap, q.n + 1, SIZE_MAX / sizeof(*q.c)) != ZUPD_OK)
                    goto nomem;
                q.c[q.n++] = (struct ctl){0, 0, 0};
                open = 1;
            }
            q.c[q.n - 1].copy += s->len;
            q.extra_len += s->len;
            continue;
        }
        if (open)
            q.c[q.n - 1].seek = s->o - op;
        else if (s->o != 0) { /* the first piece from old is not at 0 */
            if (ZU_GROW(&q.c, &q.cap, q.n + 1, SIZE_MAX / sizeof(*q.c)) != ZUPD_OK)
                goto nomem;
            q.c[q.n++] = (struct ctl){0, 0, s->o};
        }
        if (ZU_GROW(&q.c, &q.cap, q.n + 1, SIZE_MAX / sizeof(*q.c)) != ZUPD_OK)
            goto nomem;
        q.c[q.n++] = (struct ctl){s->len, 0, 0};
        q.diff_len += s->len;
        op = s->o + (int64_t)s->len;
        open = 1;
    }
    q.x86 = x86;
    *out = q;
    return ZUPD_OK;
nomem:
    free(q.c);
    return ZUPD_E_NOMEM;
}

/* Old rows by their 24 bytes (of old transformed): open addressing, row
 * index + 1 (0: empty), the first of equal rows. A probe stops after
 * PROBES slots (the row is then left out, or not found): rows made to
 * collide cost at most that much each. */
#define PROBES 64
struct rows {
    uint32_t *slot;
    size_t mask;
    const uint8_t *base; /* the old table's first row */
};

static uint64_t
row_hash(const uint8_t *r)
{
    uint64_t h = zu_le64(r) * 0x9e3779b97f4a7c15u ^ zu_le64(r + 8) * 0xc2b2ae3d27d4eb4fu ^
                 zu_le64(r + 16) * 0x165667b19e3779f9u;
    return h ^ h >> 29;
}

static int
rows_build(struct rows *h, const uint8_t *base, size_t nrows)
{
    size_t cap = 16;

    while (cap < nrows * 2)
        cap *= 2;
    h->slot = calloc(cap, sizeof(*h->slot));
    if (h->slot == NULL)
        return ZUPD_E_NOMEM;
    h->mask = cap - 1;
    h->base = base;
    for (size_t j = 0; j < nrows; j++) {
        size_t k = (size_t)row_hash(base + j * ROW) & h->mask, p = 0;
        while (p < PROBES && h->slot[k] != 0 &&
               memcmp(base + (h->slot[k] - 1) * (size_t)ROW, base + j * ROW, ROW) != 0) {
            k = (k + 1) & h->mask;
            p++;
        }
        if (p < PROBES && h->slot[k] == 0)
            h->slot[k] = (uint32_t)(j + 1);
    }
    return ZUPD_OK;
}

/* The old row equal to r, or -1. */
static int64_t
rows_find(const struct rows *h, const uint8_t *r)
{
    size_t k = (size_t)row_hash(r) & h->mask;

    for (size_t p = 0; p < PROBES && h->slot[k] != 0; p++, k = (k + 1) & h->mask)
        if (memcmp(h->base + (h->slot[k] - 1) * (size_t)ROW, r, ROW) == 0)
            return (int64_t)h->slot[k] - 1;
    return -1;
}

/* For each row i of new's table tn, in j[i], the row of old's table to
 * (rows of old transformed xo) it comes from: its equal row, else the row
 * after the one before it; before the first row found -1 (the plan's own
 * pieces stay there). Rows not found are rows a release added, or rows
 * whose addresses the map does not hold (libvips-b: 24,036 of its 37,026
 * rows found); the row after the one before is then the best guess
 * (predicting 8 rows after the last one found, and the plan's pieces
 * after those: libvips-b's patch 1,159 bytes larger, canvas's 12,086). */
static int
table_rows(const uint8_t *xo, const uint8_t *nw, const struct rtab *to, const struct rtab *tn,
           int64_t *j)
{
    struct rows h;
    size_t ro = (size_t)(to->len / ROW), rn = (size_t)(tn->len / ROW);
    int rc = rows_build(&h, xo + to->off, ro);
#ifdef ZU_DELTA_TRACE
    size_t found = 0;
#endif

    for (size_t i = 0; rc == ZUPD_OK && i < rn; i++) {
        const uint8_t *r = nw + tn->off + i * ROW;
        int64_t p = i > 0 && j[i - 1] >= 0 && (size_t)j[i - 1] + 1 < ro ? j[i - 1] + 1 : -1;
        if (p >= 0 && memcmp(xo + to->off + (size_t)p * ROW, r, ROW) == 0)
            j[i] = p;
        else
            j[i] = rows_find(&h, r);
#ifdef ZU_DELTA_TRACE
        found += j[i] >= 0;
#endif
        if (j[i] < 0)
            j[i] = p;
    }
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: realign table %zu rows of %zu found in %zu\n", found, rn, ro);
#endif
    free(h.slot);
    return rc;
}

/* Into *out, pl with its entries over new's RELA tables realigned against
 * old transformed xo (the tables of old and new taken in order, where
 * both have as many); *changed: whether *out was made. */
int
zp_rela_realign(const struct plan *pl, const uint8_t *old, const uint8_t *xo,
                const struct zu_elf *eo, const uint8_t *nw, const struct zu_elf *en,
                struct plan *out, int *changed)
{
    struct rtab to[2], tn[2];
    size_t nto = rela_tables(old, eo, to), ntn = rela_tables(nw, en, tn), k = 0;
    struct segs v, pieces;
    int64_t *j = NULL;
    int rc;

    *changed = 0;
    if (nto == 0 || nto != ntn)
        return ZUPD_OK;
    memset(&v, 0, sizeof(v));
    memset(&pieces, 0, sizeof(pieces));
    rc = segs_of_plan(pl, &v);
    /* every piece, those over a table cut at its ends and, row by row,
     * from old's row where the row has one */
    for (size_t i = 0; rc == ZUPD_OK && i < v.n; i++) {
        struct seg s = v.s[i];
        while (rc == ZUPD_OK && s.len > 0) {
            uint64_t end = s.n + s.len, cut = end;
            while (k < ntn && tn[k].off + tn[k].len <= s.n)
                k++;
            if (k < ntn && s.n >= tn[k].off) { /* inside table k */
                uint64_t tend = tn[k].off + tn[k].len;
                if (s.n == tn[k].off) { /* pieces before were cut there */
                    free(j);
                    j = malloc((size_t)(tn[k].len / ROW) * sizeof(*j));
                    rc = j == NULL ? ZUPD_E_NOMEM : table_rows(xo, nw, &to[k], &tn[k], j);
                }
                cut = end < tend ? end : tend;
                for (uint64_t p = s.n; rc == ZUPD_OK && p < cut;) {
                    uint64_t row = (p - tn[k].off) / ROW, rs = tn[k].off + row * ROW;
                    uint64_t re = rs + ROW < cut ? rs + ROW : cut;
                    int64_t o = j[row] >= 0
                                    ? (int64_t)(to[k].off + (uint64_t)j[row] * ROW + (p - rs))
                                : s.o < 0 ? -1
                                          : s.o + (int64_t)(p - s.n);
                    rc = seg_push(&pieces, p, re - p, o);
                    p = re;
                }
            } else {
                if (k < ntn && tn[k].off < end)
                    cut = tn[k].off;
                rc = seg_push(&pieces, s.n, cut - s.n, s.o < 0 ? -1 : s.o);
            }
            if (s.o >= 0)
                s.o += (int64_t)(cut - s.n);
            s.len = end - cut;
            s.n = cut;
        }
    }
    if (rc == ZUPD_OK) {
        rc = plan_of_segs(&pieces, pl->x86, out);
        *changed = rc == ZUPD_OK;
    }
    free(j);
    free(v.s);
    free(pieces.s);
    return rc;
}
