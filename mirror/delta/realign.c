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
    uint64_t off, len; /* file bytes, len a multiple of row */
    size_t row;        /* a row's bytes: ROW (RELA), EH_ROW (.eh_frame_hdr) */
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
        off_of(e, d[7], d[8] / ROW * ROW, &t[n].off)) {
        t[n].row = ROW;
        t[n++].len = d[8] / ROW * ROW;
    }
    if (d[23] != 0 && d[20] == 7 && d[2] >= ROW && off_of(e, d[23], d[2] / ROW * ROW, &t[n].off)) {
        t[n].len = d[2] / ROW * ROW;
        t[n].row = ROW;
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
    size_t row;          /* its bytes, a multiple of 8 */
};

static uint64_t
row_hash(const uint8_t *r, size_t row)
{
    uint64_t h = 0;

    for (size_t k = 0; k < row; k += 8)
        h = (h ^ zu_le64(r + k)) * 0x9e3779b97f4a7c15u;
    return h ^ h >> 29;
}

static int
rows_build(struct rows *h, const uint8_t *base, size_t nrows, size_t row)
{
    size_t cap = 16;

    while (cap < nrows * 2)
        cap *= 2;
    h->slot = calloc(cap, sizeof(*h->slot));
    if (h->slot == NULL)
        return ZUPD_E_NOMEM;
    h->mask = cap - 1;
    h->base = base;
    h->row = row;
    for (size_t j = 0; j < nrows; j++) {
        size_t k = (size_t)row_hash(base + j * row, row) & h->mask, p = 0;
        while (p < PROBES && h->slot[k] != 0 &&
               memcmp(base + (h->slot[k] - 1) * row, base + j * row, row) != 0) {
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
    size_t k = (size_t)row_hash(r, h->row) & h->mask;

    for (size_t p = 0; p < PROBES && h->slot[k] != 0; p++, k = (k + 1) & h->mask)
        if (memcmp(h->base + (h->slot[k] - 1) * h->row, r, h->row) == 0)
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
    const size_t row = tn->row, ro = (size_t)(to->len / row), rn = (size_t)(tn->len / row);
    int rc = rows_build(&h, xo + to->off, ro, row);
#ifdef ZU_DELTA_TRACE
    size_t found = 0;
#endif

    for (size_t i = 0; rc == ZUPD_OK && i < rn; i++) {
        const uint8_t *r = nw + tn->off + i * row;
        int64_t p = i > 0 && j[i - 1] >= 0 && (size_t)j[i - 1] + 1 < ro ? j[i - 1] + 1 : -1;
        if (p >= 0 && memcmp(xo + to->off + (size_t)p * row, r, row) == 0)
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

static int
piece_cmp(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* The pieces of plan pl with those of ov (sorted by new offset, none
 * overlapping) put over them, into *out. */
static int
overlay(const struct plan *pl, const struct segs *ov, struct plan *out)
{
    struct segs v, pieces;
    size_t k = 0;
    int rc;

    memset(&v, 0, sizeof(v));
    memset(&pieces, 0, sizeof(pieces));
    rc = segs_of_plan(pl, &v);
    for (size_t i = 0; rc == ZUPD_OK && i < v.n; i++) {
        struct seg s = v.s[i];
        while (rc == ZUPD_OK && s.len > 0) {
            uint64_t end = s.n + s.len, cut = end;
            while (k < ov->n && ov->s[k].n + ov->s[k].len <= s.n)
                k++;
            if (k < ov->n && s.n >= ov->s[k].n) { /* inside piece k */
                const struct seg *o = &ov->s[k];
                uint64_t oend = o->n + o->len;
                cut = end < oend ? end : oend;
                rc = seg_push(&pieces, s.n, cut - s.n, o->o + (int64_t)(s.n - o->n));
            } else {
                if (k < ov->n && ov->s[k].n < end)
                    cut = ov->s[k].n;
                rc = seg_push(&pieces, s.n, cut - s.n, s.o < 0 ? -1 : s.o);
            }
            if (s.o >= 0)
                s.o += (int64_t)(cut - s.n);
            s.len = end - cut;
            s.n = cut;
        }
    }
    if (rc == ZUPD_OK)
        rc = plan_of_segs(&pieces, pl->x86, out);
    free(v.s);
    free(pieces.s);
    return rc;
}

/* Into ov, the rows of new's tables tn (n of them) from their rows of
 * old's to (rows of old transformed xo), where a row has one (else the
 * plan's pieces stay there). */
static int
tables_over(const uint8_t *xo, const uint8_t *nw, const struct rtab *to, const struct rtab *tn,
            size_t n, struct segs *ov)
{
    int64_t *j = NULL;
    int rc = ZUPD_OK;

    for (size_t k = 0; rc == ZUPD_OK && k < n; k++) {
        const size_t row = tn[k].row, rn = (size_t)(tn[k].len / row);
        free(j);
        j = malloc((rn > 0 ? rn : 1) * sizeof(*j));
        rc = j == NULL ? ZUPD_E_NOMEM : table_rows(xo, nw, &to[k], &tn[k], j);
        for (size_t r = 0; rc == ZUPD_OK && r < rn; r++)
            if (j[r] >= 0)
                rc = seg_push(ov, tn[k].off + r * row, row,
                              (int64_t)(to[k].off + (uint64_t)j[r] * row));
    }
    free(j);
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
    size_t nto = rela_tables(old, eo, to), ntn = rela_tables(nw, en, tn);
    struct segs ov;
    int rc;

    *changed = 0;
    if (nto == 0 || nto != ntn)
        return ZUPD_OK;
    memset(&ov, 0, sizeof(ov));
    rc = tables_over(xo, nw, to, tn, ntn, &ov);
    if (rc == ZUPD_OK) {
        rc = overlay(pl, &ov, out);
        *changed = rc == ZUPD_OK;
    }
    free(ov.s);
    return rc;
}

/* .eh_frame_hdr (PT_GNU_EH_FRAME: version 1, its count 0x03, its rows
 * 0x3b): a sorted table of a row per function, the function's address
 * and its FDE's, each a 32-bit offset from the header. The executable
 * stage rewrites both offsets of old's rows (ZU_EXE_K_UNWIND), but where
 * a release added functions the scan found none of the rows in old (the
 * whole table in the extra stream: biome-m 550,419 bytes, canvas
 * 253,694); where the header itself is not mapped, the rows are not even
 * rewritten. */
#define EH_HDR 12u
#define EH_ROW 8u

static int
eh_table(const uint8_t *p, const struct zu_elf *e, struct rtab *t)
{
    const uint64_t h = e->eh.off;
    uint64_t n;

    if (e->eh.filesz < EH_HDR || p[h] != 1 || p[h + 2] != 0x03 || p[h + 3] != 0x3b)
        return 0;
    n = zu_le32(p + h + 8);
    if (n > (e->eh.filesz - EH_HDR) / EH_ROW)
        n = (e->eh.filesz - EH_HDR) / EH_ROW;
    t->off = h + EH_HDR;
    t->len = n * EH_ROW;
    t->row = EH_ROW;
    return n > 0;
}

int
zp_eh_realign(const struct plan *pl, const uint8_t *old, const uint8_t *xo, const struct zu_elf *eo,
              const uint8_t *nw, const struct zu_elf *en, struct plan *out, int *changed)
{
    struct rtab to, tn;
    struct segs ov;
    int rc;

    *changed = 0;
    if (!eh_table(old, eo, &to) || !eh_table(nw, en, &tn))
        return ZUPD_OK;
    memset(&ov, 0, sizeof(ov));
    rc = seg_push(&ov, en->eh.off, EH_HDR, (int64_t)eo->eh.off); /* the header */
    if (rc == ZUPD_OK && xo != NULL)
        rc = tables_over(xo, nw, &to, &tn, 1, &ov);
    if (rc == ZUPD_OK) {
        rc = overlay(pl, &ov, out);
        *changed = rc == ZUPD_OK;
    }
    free(ov.s);
    return rc;
}

/* ------------------------------------------------------------------ Go's function table */

/* A Go executable (go1.20 and later) describes its functions in its
 * pclntab: a header (magic 0xfffffff1, then the offsets of its parts
 * from the header), the function names, the file tables, the pc-value
 * tables, and the function table proper: rows of (entry offset from the
 * text, offset of the function's _func record), then the records, 44
 * bytes and a 32-bit offset for each of its pcdata and funcdata. The
 * records hold offsets into the parts before them (name, pc-value
 * tables) and into the text, which change for every function after one
 * that a release added or changed: the scan finds none of them in old
 * (esbuild-m: all 777,888 bytes of its records and 71,776 of its rows in
 * the extra stream). Here each function of new takes its record and
 * its row from old's function of the same name. */

#define GO_HDR 72u  /* the header: magic, 4 bytes, then 8 words */
#define GO_FUNC 44u /* a _func record without its pcdata and funcdata */

struct gotab {
    uint64_t hdr;              /* the header */
    uint64_t names, names_end; /* the function names (funcnametab) */
    uint64_t ftab;             /* the rows, then the records (pclntable) */
    uint64_t nfunc;
};

static const uint8_t go_magic[8] = {0xf1, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x08};

/* The pclntab of p, where its header is whole and its parts in order
 * inside the file (the first header found). */
static int
gotab_find(const uint8_t *p, size_t len, struct gotab *g)
{
    for (const uint8_t *q = p; len - (size_t)(q - p) >= GO_HDR;) {
        uint64_t h, o[6];
        q = memchr(q, go_magic[0], len - (size_t)(q - p) - GO_HDR + 1);
        if (q == NULL)
            return 0;
        h = (uint64_t)(q - p);
        if (memcmp(q, go_magic, sizeof(go_magic)) != 0) {
            q++;
            continue;
        }
        g->hdr = h;
        g->nfunc = zu_le64(q + 8);
        for (size_t k = 0; k < 6; k++) /* text start, names, cutab, filetab, pctab, pclntable */
            o[k] = zu_le64(q + 24 + 8 * k);
        g->names = h + o[1];
        g->names_end = h + o[2];
        g->ftab = h + o[5];
        if (o[1] >= GO_HDR && o[1] <= o[2] && o[2] <= o[3] && o[3] <= o[4] && o[4] <= o[5] &&
            o[5] < len - h && g->nfunc > 0 && g->nfunc < (len - h - o[5]) / 8)
            return 1;
        q++;
    }
    return 0;
}

/* Function k's record [*at, *at + *len) and name [*nm, *nm + *nlen) (no
 * NUL), where they lie in the file and the name in the names. */
static int
gofunc_at(const uint8_t *p, size_t len, const struct gotab *g, uint64_t k, uint64_t *at,
          uint64_t *rlen, const uint8_t **nm, size_t *nlen)
{
    uint64_t r = g->ftab + k * 8, fo = g->ftab + zu_le32(p + r + 4), no, n;
    const uint8_t *z;

    if (fo > len || len - fo < GO_FUNC)
        return 0;
    n = GO_FUNC + 4 * ((uint64_t)zu_le32(p + fo + 28) + p[fo + 43]);
    no = g->names + zu_le32(p + fo + 4);
    if (n > len - fo || no >= g->names_end || g->names_end > len)
        return 0;
    z = memchr(p + no, 0, (size_t)(g->names_end - no));
    if (z == NULL)
        return 0;
    *at = fo;
    *rlen = n;
    *nm = p + no;
    *nlen = (size_t)(z - (p + no));
    return 1;
}

static uint64_t
name_hash(const uint8_t *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3u;
    return h ^ h >> 31;
}

/* Old's functions by name: open addressing, function index + 1 (0:
 * empty), the first of each name; next[j]: the next function of the same
 * name after j (+ 1), so that functions of one name (closures, generic
 * instances) pair in order. */
struct gonames {
    uint32_t *slot, *next;
    uint8_t *used;
    size_t mask;
};

int
zp_go_realign(const struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw,
              size_t nlen, struct plan *out, int *changed)
{
    struct gotab go, gn;
    struct gonames h;
    struct segs ov;
    size_t cap = 16;
    int rc = ZUPD_OK;
#ifdef ZU_DELTA_TRACE
    size_t found = 0;
#endif

    *changed = 0;
    if (!gotab_find(old, olen, &go) || !gotab_find(nw, nlen, &gn) || go.nfunc > UINT32_MAX - 1)
        return ZUPD_OK;
    while (cap < go.nfunc * 2)
        cap *= 2;
    memset(&ov, 0, sizeof(ov));
    h.slot = calloc(cap, sizeof(*h.slot));
    h.next = calloc((size_t)go.nfunc, sizeof(*h.next));
    h.used = calloc((size_t)go.nfunc, 1);
    h.mask = cap - 1;
    if (h.slot == NULL || h.next == NULL || h.used == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    /* old's functions, the later of a name chained after the earlier */
    for (uint64_t j = go.nfunc; j-- > 0;) {
        uint64_t at, n;
        const uint8_t *nm;
        size_t nl, s, p = 0;
        if (!gofunc_at(old, olen, &go, j, &at, &n, &nm, &nl))
            continue;
        s = (size_t)name_hash(nm, nl) & h.mask;
        while (p < PROBES && h.slot[s] != 0) {
            uint64_t a2, n2;
            const uint8_t *nm2;
            size_t nl2;
            gofunc_at(old, olen, &go, h.slot[s] - 1, &a2, &n2, &nm2, &nl2);
            if (nl2 == nl && memcmp(nm2, nm, nl) == 0)
                break;
            s = (s + 1) & h.mask;
            p++;
        }
        if (p == PROBES)
            continue;
        h.next[j] = h.slot[s]; /* the earlier ones come first */
        h.slot[s] = (uint32_t)(j + 1);
    }
    for (uint64_t k = 0; rc == ZUPD_OK && k < gn.nfunc; k++) {
        uint64_t at, n, ao = 0, no = 0;
        const uint8_t *nm;
        size_t nl, s, p = 0;
        uint32_t j = 0;
        if (!gofunc_at(nw, nlen, &gn, k, &at, &n, &nm, &nl))
            continue;
        s = (size_t)name_hash(nm, nl) & h.mask;
        for (; p < PROBES && h.slot[s] != 0; p++, s = (s + 1) & h.mask) {
            const uint8_t *nm2;
            size_t nl2;
            gofunc_at(old, olen, &go, h.slot[s] - 1, &ao, &no, &nm2, &nl2);
            if (nl2 == nl && memcmp(nm2, nm, nl) == 0)
                break;
        }
        if (p == PROBES || h.slot[s] == 0)
            continue;
        /* the first unused function of the name (at most PROBES on) */
        j = h.slot[s];
        for (p = 0; j != 0 && h.used[j - 1] && p < PROBES; p++)
            j = h.next[j - 1];
        if (j == 0 || h.used[j - 1])
            continue;
        h.used[j - 1] = 1;
        gofunc_at(old, olen, &go, j - 1, &ao, &no, &nm, &nl);
#ifdef ZU_DELTA_TRACE
        found++;
#endif
        if (ZU_GROW(&ov.s, &ov.cap, ov.n + 2, SIZE_MAX / sizeof(*ov.s)) != ZUPD_OK) {
            rc = ZUPD_E_NOMEM;
            break;
        }
        ov.s[ov.n++] = (struct seg){gn.ftab + k * 8, 8, (int64_t)(go.ftab + (j - 1) * (uint64_t)8)};
        ov.s[ov.n++] = (struct seg){at, n < no ? n : no, (int64_t)ao};
    }
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: go realign %zu functions of %llu found in %llu\n", found,
            (unsigned long long)gn.nfunc, (unsigned long long)go.nfunc);
#endif
    if (rc == ZUPD_OK && ov.n > 0) {
        size_t w = 0;
        qsort(ov.s, ov.n, sizeof(*ov.s), piece_cmp);
        for (size_t i = 0; i < ov.n; i++) /* none that overlaps the one before */
            if (w == 0 || ov.s[i].n >= ov.s[w - 1].n + ov.s[w - 1].len)
                ov.s[w++] = ov.s[i];
        ov.n = w;
        rc = overlay(pl, &ov, out);
        *changed = rc == ZUPD_OK;
    }
out:
    free(h.slot);
    free(h.next);
    free(h.used);
    free(ov.s);
    return rc;
}

/* The virtual address of file offset x of e (the first segment whose file
 * bytes hold it). */
static int
vaddr_at(const struct zu_elf *e, uint64_t x, uint64_t *v)
{
    for (size_t i = 0; i < e->n; i++)
        if (x - e->seg[i].off < e->seg[i].filesz) {
            *v = e->seg[i].vaddr + (x - e->seg[i].off);
            return 1;
        }
    return 0;
}

static int
in_image(const struct zu_elf *e, uint64_t v)
{
    for (size_t i = 0; i < e->n; i++)
        if (v - e->seg[i].vaddr < e->seg[i].memsz)
            return 1;
    return 0;
}

/* Whether v is the base of the funcdata offsets of p's pclntab g: for
 * the first GO_PROBE functions with funcdata, their first funcdata (the
 * argument pointer maps: a count and a width in bits, each of 32 bits)
 * lies in the file, its count from 1 and its width at most 2^16. */
#define GO_PROBE 256
static int
gofunc_ok(const uint8_t *p, size_t len, const struct zu_elf *e, const struct gotab *g, uint64_t v)
{
    size_t seen = 0;

    for (uint64_t k = 0; k < g->nfunc && seen < GO_PROBE; k++) {
        uint64_t f = g->ftab + zu_le32(p + g->ftab + k * 8 + 4), at, o, x;
        if (f > len || len - f < GO_FUNC || p[f + 43] == 0)
            continue;
        at = f + GO_FUNC + 4 * (uint64_t)zu_le32(p + f + 28);
        if (at > len || len - at < 4)
            return 0;
        if ((o = zu_le32(p + at)) == UINT32_MAX)
            continue;
        if (!off_of(e, v + o, 8, &x) || zu_le32(p + x) == 0 || zu_le32(p + x) > 65536 ||
            zu_le32(p + x + 4) > 65536)
            return 0;
        seen++;
    }
    return seen > 0;
}

/* Go's module data (runtime.moduledata, go1.20 and later), which names
 * the pclntab g (its first word, then the names' slice): from it the
 * text's start (minpc and text, which must agree) and gofunc, the base of
 * the funcdata offsets, the first of its later words that gofunc_ok takes
 * (its place moves: go1.25 320 bytes in, go1.26 336, go1.27 360); 0 where
 * none is. */
#define MD_MINPC 160u
#define MD_TEXT 176u
#define MD_END 400u /* the words read */
static int
moduledata(const uint8_t *p, size_t len, const struct zu_elf *e, const struct gotab *g,
           uint64_t *text, uint64_t *gofunc)
{
    uint64_t hv;

    if (!vaddr_at(e, g->hdr, &hv))
        return 0;
    for (size_t i = 0; i < e->n; i++) {
        const struct zu_seg *s = &e->seg[i];
        uint64_t end = s->off + s->filesz < len ? s->off + s->filesz : len;
        if ((s->flags & 1) != 0)
            continue;
        for (uint64_t at = (s->off + 7) & ~(uint64_t)7; at < end && end - at >= MD_END; at += 8) {
            if (zu_le64(p + at) != hv || zu_le64(p + at + 8) != hv + (g->names - g->hdr) ||
                zu_le64(p + at + MD_MINPC) != zu_le64(p + at + MD_TEXT) ||
                !in_image(e, zu_le64(p + at + MD_TEXT)))
                continue;
            *text = zu_le64(p + at + MD_TEXT);
            *gofunc = 0;
            for (uint64_t k = MD_TEXT + 16; k < MD_END && *gofunc == 0; k += 8)
                if (gofunc_ok(p, len, e, g, zu_le64(p + at + k)))
                    *gofunc = zu_le64(p + at + k);
            return 1;
        }
    }
    return 0;
}

int
zp_go_params(const uint8_t *old, size_t olen, const struct zu_elf *eo, const uint8_t *nw,
             size_t nlen, const struct zu_elf *en, struct zu_gofn *g)
{
    struct gotab go, gn;
    uint64_t fo = 0, fn = 0;

    memset(g, 0, sizeof(*g));
    if (!gotab_find(old, olen, &go) || !gotab_find(nw, nlen, &gn) ||
        !moduledata(old, olen, eo, &go, &g->text_o, &fo) ||
        !moduledata(nw, nlen, en, &gn, &g->text_n, &fn))
        return 0;
    g->hdr = go.hdr;
    g->names_n = gn.names;
    g->pctab_n = gn.hdr + zu_le64(nw + gn.hdr + 56);
    g->ftab_n = gn.ftab;
    if (fo != 0 && fn != 0) {
        g->gofunc_o = fo;
        g->gofunc_n = fn;
    }
    return 1;
}
