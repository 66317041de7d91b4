/* SPDX-License-Identifier: Apache-2.0 */
/* lib/delta_exe.c -- the executable stage of the delta format (ZU_FLAG_EXE): the ELF x86-64
 * program header parser, the alignment map, and the transform of old that predicts the new
 * displacements of rel32 calls/jumps and RIP-relative operands. Used by apply (delta_bsdiff.c)
 * and by creation (mirror/delta/candidates.c). Every input is untrusted: offsets and sizes
 * are checked before use, address arithmetic wraps in uint64_t. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <zupd/common.h>

#include "zu/delta_exe.h"
#include "zu/delta_format.h"
#include "zu/internal.h"

/* ------------------------------------------------------------------ ELF */

static uint16_t
le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* zu_le64, inlined (one load) for the scan of absolute addresses */
static inline uint64_t
le64(const uint8_t *p)
{
    return (uint64_t)zu_le32(p) | (uint64_t)zu_le32(p + 4) << 32;
}

#define EH_SIZE 64
#define PH_SIZE 56
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_GNU_EH_FRAME 0x6474e550u
#define EM_X86_64 62

/* The program header h (not PT_LOAD) of a file of len bytes into s, its
 * file bytes clipped to the file (memsz: filesz). */
static void
ph_note(const uint8_t *h, size_t len, struct zu_seg *s)
{
    s->off = zu_le64(h + 8);
    s->vaddr = zu_le64(h + 16);
    s->filesz = zu_le64(h + 32);
    if (s->off > len)
        s->off = len;
    if (s->filesz > len - s->off)
        s->filesz = len - s->off;
    s->memsz = s->filesz;
}

int
zu_elf_parse(const uint8_t *p, size_t len, struct zu_elf *e)
{
    uint64_t phoff;
    unsigned phnum;

    memset(e, 0, sizeof(*e));
    if (p == NULL || len < EH_SIZE || memcmp(p, "\177ELF", 4) != 0 || p[4] != 2 /* 64-bit */ ||
        p[5] != 1 /* little-endian */ || le16(p + 18) != EM_X86_64 || le16(p + 54) != PH_SIZE)
        return ZUPD_E_FORMAT;
    phoff = zu_le64(p + 32);
    phnum = le16(p + 56);
    if (phnum == 0xffff || phoff > len || (uint64_t)phnum * PH_SIZE > len - phoff)
        return ZUPD_E_FORMAT;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *h = p + phoff + (size_t)i * PH_SIZE;
        struct zu_seg *s;
        if (zu_le32(h) == PT_GNU_EH_FRAME && e->eh.filesz == 0) {
            ph_note(h, len, &e->eh);
            continue;
        }
        if (zu_le32(h) == PT_DYNAMIC && e->dyn.filesz == 0) {
            ph_note(h, len, &e->dyn);
            continue;
        }
        if (zu_le32(h) != PT_LOAD)
            continue;
        if (e->n == ZU_EXE_SEGS_MAX)
            return ZUPD_E_FORMAT;
        s = &e->seg[e->n++];
        s->flags = zu_le32(h + 4);
        s->off = zu_le64(h + 8);
        s->vaddr = zu_le64(h + 16);
        s->filesz = zu_le64(h + 32);
        s->memsz = zu_le64(h + 40);
        /* the file bytes clipped to the file */
        if (s->off > len)
            s->off = len;
        if (s->filesz > len - s->off)
            s->filesz = len - s->off;
        if (s->memsz < s->filesz)
            s->memsz = s->filesz;
    }
    e->id = ZU_EXE_ELF_X86_64;
    return e->n > 0 ? ZUPD_OK : ZUPD_E_FORMAT;
}

#define PE_AMD64 0x8664
#define PE32PLUS 0x20b
#define SCN_MEM_EXECUTE 0x20000000u
#define SCN_MEM_READ 0x40000000u
#define SCN_MEM_WRITE 0x80000000u

int
zu_pe_parse(const uint8_t *p, size_t len, struct zu_elf *e)
{
    size_t lfanew, opt, sect, nsec;
    uint64_t base;

    memset(e, 0, sizeof(*e));
    if (p == NULL || len < 0x40 || p[0] != 'M' || p[1] != 'Z')
        return ZUPD_E_FORMAT;
    lfanew = zu_le32(p + 0x3c);
    /* the signature, the COFF header (20 bytes), the optional header up
     * to its ImageBase (24 + 8 bytes) */
    if (lfanew > len || len - lfanew < 56 || memcmp(p + lfanew, "PE\0\0", 4) != 0 ||
        le16(p + lfanew + 4) != PE_AMD64 || le16(p + lfanew + 24) != PE32PLUS)
        return ZUPD_E_FORMAT;
    nsec = le16(p + lfanew + 6);
    opt = le16(p + lfanew + 20);
    sect = lfanew + 24 + opt;
    if (opt < 32 || nsec == 0 || nsec > ZU_EXE_SEGS_MAX || sect > len || (len - sect) / 40 < nsec)
        return ZUPD_E_FORMAT;
    base = le64(p + lfanew + 24 + 24);
    for (size_t i = 0; i < nsec; i++) {
        const uint8_t *h = p + sect + 40 * i;
        uint32_t ch = zu_le32(h + 36);
        struct zu_seg *s = &e->seg[e->n++];
        uint64_t vsize = zu_le32(h + 8);
        s->flags = ((ch & SCN_MEM_EXECUTE) != 0 ? 1u : 0u) | ((ch & SCN_MEM_WRITE) != 0 ? 2u : 0u) |
                   ((ch & SCN_MEM_READ) != 0 ? 4u : 0u);
        s->vaddr = base + zu_le32(h + 12);
        s->off = zu_le32(h + 20);
        s->filesz = zu_le32(h + 16);
        /* past the virtual size the raw data is the file alignment's
         * padding; a virtual size of 0 means the raw size */
        if (vsize > 0 && vsize < s->filesz)
            s->filesz = vsize;
        if (s->off > len)
            s->off = len;
        if (s->filesz > len - s->off)
            s->filesz = len - s->off;
        s->memsz = vsize > s->filesz ? vsize : s->filesz;
    }
    e->image_base = base;
    /* the exception directory (data directory 3: .pdata) */
    if (opt >= 144 && zu_le32(p + lfanew + 24 + 108) > 3) {
        uint64_t v = base + zu_le32(p + lfanew + 24 + 136), size = zu_le32(p + lfanew + 24 + 140);
        for (size_t i = 0; i < e->n && size > 0; i++) {
            const struct zu_seg *s = &e->seg[i];
            if (v - s->vaddr < s->filesz) {
                e->eh.off = s->off + (v - s->vaddr);
                e->eh.vaddr = v;
                e->eh.filesz =
                    size < s->filesz - (v - s->vaddr) ? size : s->filesz - (v - s->vaddr);
                e->eh.memsz = e->eh.filesz;
                break;
            }
        }
    }
    e->id = ZU_EXE_PE_X86_64;
    return ZUPD_OK;
}

int
zu_exe_parse(const uint8_t *p, size_t len, struct zu_elf *e)
{
    return len >= 2 && p[0] == 'M' && p[1] == 'Z' ? zu_pe_parse(p, len, e)
                                                  : zu_elf_parse(p, len, e);
}

/* ------------------------------------------------------------------ parameters */

size_t
zu_exe_params_put(uint8_t *p, const struct zu_elf *nw)
{
    size_t at = 0;

    at += zu_put_varint(p + at, nw->id == ZU_EXE_PE_X86_64 ? ZU_EXE_PE_X86_64 : ZU_EXE_ELF_X86_64);
    at += zu_put_varint(p + at, nw->kinds);
    at += zu_put_varint(p + at, nw->n);
    for (size_t i = 0; i < nw->n; i++) {
        at += zu_put_varint(p + at, nw->seg[i].off);
        at += zu_put_varint(p + at, nw->seg[i].filesz);
        at += zu_put_varint(p + at, nw->seg[i].vaddr);
    }
    if ((nw->kinds & ZU_EXE_K_GOFN) != 0) {
        const struct zu_gofn *g = &nw->go;
        const uint64_t v[8] = {g->hdr,     g->text_o, g->text_n,   g->names_n,
                               g->pctab_n, g->ftab_n, g->gofunc_o, g->gofunc_n};
        for (size_t i = 0; i < 8; i++)
            at += zu_put_varint(p + at, v[i]);
    }
    return at;
}

int
zu_exe_params_get(const uint8_t *p, size_t len, size_t *at, struct zu_elf *nw)
{
    uint64_t id, kinds, n;
    int rc;

    memset(nw, 0, sizeof(*nw));
    rc = zu_get_varint(p, len, at, &id);
    if (rc == ZUPD_OK)
        rc = zu_get_varint(p, len, at, &kinds);
    if (rc == ZUPD_OK)
        rc = zu_get_varint(p, len, at, &n);
    if (rc != ZUPD_OK)
        return rc;
    if ((id != ZU_EXE_ELF_X86_64 && id != ZU_EXE_PE_X86_64) || kinds == 0 ||
        (kinds & ~(uint64_t)ZU_EXE_K_ALL) != 0 || n == 0 || n > ZU_EXE_SEGS_MAX)
        return ZUPD_E_FORMAT;
    nw->kinds = (unsigned)kinds;
    nw->id = (unsigned)id;
    for (size_t i = 0; i < n; i++) {
        struct zu_seg *s = &nw->seg[i];
        rc = zu_get_varint(p, len, at, &s->off);
        if (rc == ZUPD_OK)
            rc = zu_get_varint(p, len, at, &s->filesz);
        if (rc == ZUPD_OK)
            rc = zu_get_varint(p, len, at, &s->vaddr);
        if (rc != ZUPD_OK)
            return rc;
        s->memsz = s->filesz;
    }
    nw->n = (size_t)n;
    if ((nw->kinds & ZU_EXE_K_GOFN) != 0) {
        struct zu_gofn *g = &nw->go;
        uint64_t *v[8] = {&g->hdr,     &g->text_o, &g->text_n,   &g->names_n,
                          &g->pctab_n, &g->ftab_n, &g->gofunc_o, &g->gofunc_n};
        for (size_t i = 0; rc == ZUPD_OK && i < 8; i++)
            rc = zu_get_varint(p, len, at, v[i]);
    }
    return rc;
}

/* ------------------------------------------------------------------ map */

int
zu_exe_map_add(struct zu_exe_map *m, uint64_t o, uint64_t n, uint64_t len)
{
    int rc;

    if (len < ZU_EXE_SPAN_MIN)
        return ZUPD_OK;
    if (m->n == ZU_EXE_SPANS_MAX)
        return ZUPD_E_FORMAT;
    rc = ZU_GROW(&m->s, &m->cap, m->n + 1, ZU_EXE_SPANS_MAX);
    if (rc != ZUPD_OK)
        return rc;
    m->s[m->n++] = (struct zu_span){o, n, len};
    return ZUPD_OK;
}

static int
span_cmp(const void *a, const void *b)
{
    const struct zu_span *x = a, *y = b;
    if (x->o != y->o)
        return x->o < y->o ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n ? 1 : 0;
}

/* m->s sorted by o then n. The control stream adds spans in increasing
 * n: there a stable sort by o alone gives that order, and a radix sort
 * (8 bits a pass, the passes where every span has the same digit left
 * out) does it in a few passes over the spans; otherwise, and without
 * the memory for it, qsort. Keys (o, n) equal in two spans come only
 * from other callers (tests); which of them comes first is then the
 * sort's. */
static void
spans_sort(struct zu_exe_map *m)
{
    struct zu_span *t, *a = m->s, *b;
    uint64_t all_or = 0, all_and = ~(uint64_t)0;
    size_t i, cnt[256];
    int sorted = 1, n_up = 1;

    for (i = 1; i < m->n; i++) {
        if (span_cmp(&m->s[i - 1], &m->s[i]) > 0)
            sorted = 0;
        if (m->s[i].n < m->s[i - 1].n)
            n_up = 0;
    }
    if (sorted)
        return;
    t = n_up ? malloc(m->n * sizeof(*t)) : NULL;
    if (t == NULL) {
        qsort(m->s, m->n, sizeof(*m->s), span_cmp);
        return;
    }
    for (i = 0; i < m->n; i++) {
        all_or |= m->s[i].o;
        all_and &= m->s[i].o;
    }
    b = t;
    for (unsigned sh = 0; sh < 64; sh += 8) {
        size_t at = 0;
        if (((all_or ^ all_and) >> sh & 0xff) == 0)
            continue; /* the same digit everywhere */
        memset(cnt, 0, sizeof(cnt));
        for (i = 0; i < m->n; i++)
            cnt[a[i].o >> sh & 0xff]++;
        for (unsigned d = 0; d < 256; d++) {
            size_t c = cnt[d];
            cnt[d] = at;
            at += c;
        }
        for (i = 0; i < m->n; i++)
            b[cnt[a[i].o >> sh & 0xff]++] = a[i];
        {
            struct zu_span *x = a;
            a = b;
            b = x;
        }
    }
    if (a != m->s)
        memcpy(m->s, a, m->n * sizeof(*a));
    free(t);
}

void
zu_exe_map_done(struct zu_exe_map *m)
{
    size_t w = 0;
    uint64_t until = 0;

    if (m->n == 0)
        return;
    spans_sort(m);
    for (size_t i = 0; i < m->n; i++) {
        struct zu_span r = m->s[i];
        if (w > 0 && r.o < until) { /* the part an earlier span holds is its */
            uint64_t d = until - r.o;
            if (d >= r.len)
                continue;
            r.o += d;
            r.n += d;
            r.len -= d;
        }
        m->s[w++] = r;
        until = r.o + r.len;
    }
    m->n = w;
}

void
zu_exe_map_free(struct zu_exe_map *m)
{
    free(m->s);
    memset(m, 0, sizeof(*m));
}

/* The map as the transform reads it: the spans, and a page index so that
 * a lookup is a step or two instead of a binary search over all spans
 * (libvips: 1.2 million lookups). page[p] is the number of spans with o
 * below p << PAGE_SHIFT, for p up to npages; without it (no memory), the
 * binary search over all, which gives the same span. */
#define PAGE_SHIFT 8
struct finder {
    const struct zu_span *s;
    size_t n;
    int near; /* ZU_EXE_K_NEAR: target_new takes the nearest span */
    uint32_t *page;
    size_t npages;
};

static void
finder_init(struct finder *f, const struct zu_exe_map *m, size_t olen, unsigned kinds)
{
    size_t k = 0;

    f->s = m->s;
    f->n = m->n;
    f->near = (kinds & ZU_EXE_K_NEAR) != 0;
    f->npages = (olen >> PAGE_SHIFT) + 1;
    f->page = m->n > 0 ? malloc((f->npages + 1) * sizeof(*f->page)) : NULL;
    if (f->page == NULL)
        return;
    for (size_t p = 0; p <= f->npages; p++) {
        uint64_t b = (uint64_t)p << PAGE_SHIFT;
        while (k < f->n && f->s[k].o < b)
            k++;
        f->page[p] = (uint32_t)k; /* at most ZU_EXE_SPANS_MAX */
    }
}

/* The first span that starts after old byte x (f->n: none). */
static inline size_t
span_after(const struct finder *f, uint64_t x)
{
    size_t lo = 0, hi = f->n;

    if (f->page != NULL && (x >> PAGE_SHIFT) < f->npages) {
        /* spans before lo start at most at x, those from hi after it */
        lo = f->page[x >> PAGE_SHIFT];
        hi = f->page[(x >> PAGE_SHIFT) + 1];
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->s[mid].o <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The span holding old bytes [x, x + k), or NULL. */
static inline const struct zu_span *
map_find(const struct finder *f, uint64_t x, uint64_t k)
{
    const size_t lo = span_after(f, x);

    if (lo == 0)
        return NULL;
    {
        const struct zu_span *s = &f->s[lo - 1];
        uint64_t in = x - s->o;
        return in < s->len && k <= s->len - in ? s : NULL;
    }
}

/* ZU_EXE_K_NEAR: for old byte x in no span, the span nearest it within
 * ZU_EXE_NEAR_MAX: the last one before x (at the distance from its last
 * byte) or the first one after (from its first), the one before on a
 * tie; or NULL. A target whose bytes the plan did not find (a function a
 * release changed at its start, its FDE, its LSDA) most often moved as
 * the code around it (biome-m: 57,689 bytes smaller, libvips-b 7,538). */
static const struct zu_span *
map_near(const struct finder *f, uint64_t x)
{
    const size_t lo = span_after(f, x);
    uint64_t da = UINT64_MAX, db = UINT64_MAX;

    if (lo > 0)
        da = x - (f->s[lo - 1].o + f->s[lo - 1].len - 1);
    if (lo < f->n)
        db = f->s[lo].o - x;
    if (da <= db && da <= ZU_EXE_NEAR_MAX)
        return &f->s[lo - 1];
    if (db < da && db <= ZU_EXE_NEAR_MAX)
        return &f->s[lo];
    return NULL;
}

/* ------------------------------------------------------------------ transform */

/* One-byte opcodes with a ModRM operand: 1 + the size of their immediate.
 * No immediate: the ALU r/m forms, test, xchg, mov, lea, movsxd, the FF
 * group; an 8-bit one: 80, 83, C6; a 32-bit one (16 with 66): 81, C7. */
static const uint8_t op1_imm[256] = {
    [0x01] = 1, [0x03] = 1, [0x09] = 1, [0x0b] = 1, [0x11] = 1, [0x13] = 1, [0x19] = 1, [0x1b] = 1,
    [0x21] = 1, [0x23] = 1, [0x29] = 1, [0x2b] = 1, [0x31] = 1, [0x33] = 1, [0x39] = 1, [0x3b] = 1,
    [0x63] = 1, [0x84] = 1, [0x85] = 1, [0x86] = 1, [0x87] = 1, [0x88] = 1, [0x89] = 1, [0x8a] = 1,
    [0x8b] = 1, [0x8d] = 1, [0xff] = 1, [0x80] = 2, [0x83] = 2, [0xc6] = 2, [0x81] = 5, [0xc7] = 5,
};

static int
imm_of(uint8_t op, int opsize16)
{
    int v = op1_imm[op] - 1;
    return v == 4 && opsize16 ? 2 : v;
}

/* Two-byte opcodes (0F xx) with a ModRM operand and no immediate: SSE
 * moves and arithmetic, movzx/movsx, imul, cmov, nop r/m. */
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

/* op2_ok as a bit set, for ref_fast */
static const uint64_t op2_bits[4] = {0x0000ff0080ff0000u, 0xff70fffffffeffffu, 0xc0c0800000000000u,
                                     0x7ffffffffffe0000u};

/* ref_at where at least 16 bytes lie between i and end (every bound check
 * of ref_at holds), without a branch on the kind of instruction: which
 * one comes next in code cannot be guessed, and a wrong guess costs more
 * than computing every kind's answer and picking one. */
static inline int
ref_fast(const uint8_t *p, size_t i, size_t *d, size_t *e, int *branch)
{
    const uint8_t b0 = p[i];
    const int call = (b0 & 0xfe) == 0xe8, jcc = b0 == 0x0f && (p[i + 1] & 0xf0) == 0x80;
    const int o16 = b0 == 0x66, br = call | jcc;
    size_t k = i + (size_t)(o16 | ((b0 & 0xfe) == 0xf2));
    uint8_t op, m;
    int two, ok, imm;

    k += (p[k] & 0xf0) == 0x40; /* REX */
    op = p[k];
    two = op == 0x0f;
    ok = two ? (int)(op2_bits[p[k + 1] >> 6] >> (p[k + 1] & 63) & 1) : op1_imm[op] != 0;
    imm = two ? 0 : imm_of(op, o16);
    k += 1 + (size_t)two;
    m = p[k];
    *branch = br;
    *d = br ? i + 1 + (size_t)jcc : k + 1;
    *e = br ? i + 5 + (size_t)jcc : k + 5 + (size_t)imm;
    return br | (ok & ((m & 0xc7) == 0x05));
}

/* A reference at p[i..end): its displacement at p[*d..*d + 4), the
 * instruction's end *e (what the displacement is relative to); *branch
 * for rel32 calls and jumps (their target is code). 0: none. */
static int
ref_at(const uint8_t *p, size_t i, size_t end, size_t *d, size_t *e, int *branch)
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
        if (!op2_ok(p[k + 1]))
            return 0;
        k += 2;
        imm = 0;
    } else {
        imm = imm_of(op, o16);
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
static inline const struct zu_seg *
seg_of_vaddr(const struct zu_elf *e, uint64_t v)
{
    for (size_t i = 0; i < e->n; i++)
        if (v - e->seg[i].vaddr < e->seg[i].memsz)
            return &e->seg[i];
    return NULL;
}

/* The segment whose file bytes hold offset x (the first), or NULL. */
static inline const struct zu_seg *
seg_of_off(const struct zu_elf *e, uint64_t x)
{
    for (size_t i = 0; i < e->n; i++)
        if (x - e->seg[i].off < e->seg[i].filesz)
            return &e->seg[i];
    return NULL;
}

/* The virtual address of file offset x in e (the first segment holding
 * it); 0 where none does. */
static inline int
vaddr_of_off(const struct zu_elf *e, uint64_t x, uint64_t *v)
{
    const struct zu_seg *s = seg_of_off(e, x);

    if (s == NULL)
        return 0;
    *v = s->vaddr + (x - s->off);
    return 1;
}

/* Where target address t of old goes in new: through the map for file
 * bytes; for zero-filled bytes (.bss), at the same distance from the end
 * of the file bytes of the segment of the same index in new. */
static inline int
target_new(const struct zu_elf *eo, const struct zu_elf *nw, const struct finder *m, uint64_t t,
           int code, uint64_t *tn)
{
    const struct zu_seg *s = seg_of_vaddr(eo, t);
    uint64_t in;

    if (s == NULL || (code && (s->flags & 1) == 0))
        return 0;
    in = t - s->vaddr;
    if (in < s->filesz) {
        const struct zu_span *sp = map_find(m, s->off + in, 1);
        if (sp == NULL && m->near)
            sp = map_near(m, s->off + in);
        return sp != NULL && vaddr_of_off(nw, sp->n + (s->off + in - sp->o), tn);
    }
    {
        size_t k = (size_t)(s - eo->seg);
        if (k >= nw->n)
            return 0;
        *tn = t - (s->vaddr + s->filesz) + (nw->seg[k].vaddr + nw->seg[k].filesz);
        return 1;
    }
}

/* Where the transform writes: the bytes of old [lo, hi) transformed, at
 * p (the whole transform: all of old; or a piece of it), bytes
 * outside [lo, hi) left out; or, with ed set, nothing but a list of the
 * 32-bit writes (the unwind tables', which a piece replays). */
struct edit {
    uint64_t at;
    uint32_t v, seq;
};
struct edits {
    struct edit *e;
    size_t n, cap;
    int rc; /* ZUPD_E_NOMEM where a write could not be kept */
};
struct wout {
    uint8_t *p;
    uint64_t lo, hi;
    struct edits *ed;
};

static void
put_bytes(const struct wout *w, uint64_t at, const uint8_t *b, size_t n)
{
    if (at >= w->lo && at < w->hi && w->hi - at >= n) {
        memcpy(w->p + (at - w->lo), b, n);
        return;
    }
    for (size_t k = 0; k < n; k++)
        if (at + k >= w->lo && at + k < w->hi)
            w->p[at + k - w->lo] = b[k];
}

static void
put32(const struct wout *w, uint64_t at, uint32_t v)
{
    uint8_t b[4];

    if (w->ed != NULL) {
        struct edits *ed = w->ed;
        if (ed->rc == ZUPD_OK && (ed->rc = ZU_GROW(&ed->e, &ed->cap, ed->n + 1,
                                                   SIZE_MAX / 2 / sizeof(*ed->e))) == ZUPD_OK) {
            ed->e[ed->n] = (struct edit){at, v, (uint32_t)ed->n};
            ed->n++;
        }
        return;
    }
    zu_put_le32(b, v);
    put_bytes(w, at, b, 4);
}

/* A 32-bit offset from address `from` to address `to` at at, where it
 * fits in 32 signed bits (else the bytes stay as in old). */
static void
put_rel32(const struct wout *w, uint64_t at, uint64_t to, uint64_t from)
{
    const int64_t d = (int64_t)(to - from);

    if (d >= INT32_MIN && d <= INT32_MAX)
        put32(w, at, (uint32_t)d);
}

static void
put64(const struct wout *w, uint64_t at, uint64_t v)
{
    uint8_t b[8];

    zu_put_le64(b, v);
    put_bytes(w, at, b, 8);
}

/* The displacement of the reference at old[i..e) (displacement at d) as
 * the transform predicts it, into w. */
static void
code_ref(const struct wout *w, const uint8_t *old, const struct zu_seg *s, size_t i, size_t d,
         size_t e, int branch, const struct zu_elf *eo, const struct zu_elf *nw,
         const struct finder *m)
{
    /* the instruction end and target in old (virtual addresses) */
    uint64_t pe = s->vaddr + (e - s->off), t = pe + (uint64_t)(int64_t)(int32_t)zu_le32(old + d);
    uint64_t tn, pen;
    const struct zu_span *sp = map_find(m, i, e - i);

    if (sp != NULL && target_new(eo, nw, m, t, branch, &tn) &&
        vaddr_of_off(nw, sp->n + (e - 1 - sp->o), &pen))
        put_rel32(w, d, tn, pen + 1);
}

/* The candidates: bit j set where a reference may start at p[j], for j
 * below CAND_STEP, from the classes of p[0..64) (a bit per byte each):
 * e E8/E9, f 0F, b 80..8F, x a ModRM byte [rip + disp32] (mod 00, r/m
 * 101), o a one-byte opcode of op1_imm or more (ALU r/m forms, 63, 80..8F,
 * C6/C7, FF), g a prefix (66, F2, F3), r REX (40..4F). ref_at finds a
 * reference only where its byte pattern is a candidate: E8/E9; 0F 8x; or
 * opcode-ModRM after 0 to 2 prefix bytes, 0F and any second byte standing
 * for the opcode. Most bytes of code are no candidate, and ref_at (whose
 * answer a branch cannot guess) is tried at a tenth of them. */
#define CAND_STEP 48
#define CAND_READ 64
struct cls {
    uint64_t e, f, b, x, o, g, r;
};

static uint64_t
candidates(const uint8_t *p)
{
    struct cls c = {0, 0, 0, 0, 0, 0, 0};

#if defined(__SSE2__)
    for (int q = 0; q < 4; q++) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * q));
#define EQ(mask, val)                                                                              \
    _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)(mask))), _mm_set1_epi8((char)(val)))
#define BITS(m) ((uint64_t)(uint32_t)_mm_movemask_epi8(m) << (16 * q))
        const __m128i b = EQ(0xf0, 0x80);
        c.e |= BITS(EQ(0xfe, 0xe8));
        c.f |= BITS(EQ(0xff, 0x0f));
        c.b |= BITS(b);
        c.x |= BITS(EQ(0xc7, 0x05));
        c.o |= BITS(_mm_or_si128(
            _mm_or_si128(EQ(0xc5, 0x01), b),
            _mm_or_si128(_mm_or_si128(EQ(0xff, 0x63), EQ(0xfe, 0xc6)), EQ(0xff, 0xff))));
        c.g |= BITS(_mm_or_si128(EQ(0xff, 0x66), EQ(0xfe, 0xf2)));
        c.r |= BITS(EQ(0xf0, 0x40));
#undef BITS
#undef EQ
    }
#else
    for (unsigned j = 0; j < 64; j++) {
        uint8_t v = p[j];
        c.e |= (uint64_t)((v & 0xfe) == 0xe8) << j;
        c.f |= (uint64_t)(v == 0x0f) << j;
        c.b |= (uint64_t)((v & 0xf0) == 0x80) << j;
        c.x |= (uint64_t)((v & 0xc7) == 0x05) << j;
        c.o |= (uint64_t)((v & 0xc5) == 0x01 || (v & 0xf0) == 0x80 || v == 0x63 ||
                          (v & 0xfe) == 0xc6 || v == 0xff)
               << j;
        c.g |= (uint64_t)(v == 0x66 || (v & 0xfe) == 0xf2) << j;
        c.r |= (uint64_t)((v & 0xf0) == 0x40) << j;
    }
#endif
    {
        const uint64_t pr = c.g | c.r;
        return c.e | (c.f & c.b >> 1) | (c.o & c.x >> 1) |     /* E8, 0F 8x, op ModRM */
               (pr & c.o >> 1 & c.x >> 2) | (c.f & c.x >> 2) | /* 1 prefix; 0F op */
               (c.g & c.r >> 1 & c.o >> 2 & c.x >> 3) |        /* 2 prefixes */
               (pr & c.f >> 1 & c.x >> 3) | (c.g & c.r >> 1 & c.f >> 2 & c.x >> 4);
    }
}

/* Where the scan of code for a piece of old starts (struct sync): the
 * scan of a segment goes from one loop top to the next, each found from
 * the one before alone, so a scan started at any of them finds what the
 * scan of the whole segment finds from there on. For each granule of
 * SYNC_GRAIN bytes, back[c] is how far before the granule's start c <<
 * SYNC_SHIFT the last loop top at or before it lies (a reference that
 * writes into the granule or after it ends past it, and the scan found
 * it from a loop top at or before its start); 0xff: the segment's start
 * (the granule starts before it, or, never on x86, a gap of 255 bytes or
 * more). Loop tops lie at most 76 bytes apart: a loop's candidates start
 * below its top + 64, a reference is at most 13 bytes long. */
#define SYNC_SHIFT 6
#define SYNC_FAR 0xff
struct sync {
    uint8_t *back;
    size_t n, next;
    uint64_t prev;
};

static inline void
sync_note(struct sync *sy, size_t i)
{
    while (sy->next < sy->n && ((uint64_t)sy->next << SYNC_SHIFT) < (uint64_t)i) {
        uint64_t g = (uint64_t)sy->next << SYNC_SHIFT;
        sy->back[sy->next++] =
            g >= sy->prev && g - sy->prev < SYNC_FAR ? (uint8_t)(g - sy->prev) : (uint8_t)SYNC_FAR;
    }
    sy->prev = i;
}

/* ZU_EXE_K_CODE over the executable segment s of old: at each byte in
 * turn, a reference there or not; after one, on at its end. Only the
 * candidates are tried (the same references are found). The scan starts
 * at from (the segment's start, or a loop top of its scan: struct sync)
 * and stops at to; with sy set it writes nothing and notes its loop tops. */
static void
code_refs(const struct wout *w, const uint8_t *old, size_t olen, const struct zu_seg *s,
          const struct zu_elf *eo, const struct zu_elf *nw, const struct finder *m, size_t from,
          size_t to, struct sync *sy)
{
    size_t i = from, end = s->filesz < olen - s->off ? (size_t)(s->off + s->filesz) : olen;

    while (i < end && i < to) {
        size_t base = i;
        uint64_t bits = end - i >= CAND_READ
                            ? candidates(old + i) & (((uint64_t)1 << CAND_STEP) - 1)
                            : ~(uint64_t)0;
        if (sy != NULL)
            sync_note(sy, i);
        while (bits != 0) {
            size_t at = base + (size_t)__builtin_ctzll(bits), d, e;
            int branch;
            if (at >= end)
                break;
            bits &= bits - 1;
            if (!(end - at >= 16 ? ref_fast(old, at, &d, &e, &branch)
                                 : ref_at(old, at, end, &d, &e, &branch)))
                continue;
            if (sy == NULL)
                code_ref(w, old, s, at, d, e, branch, eo, nw, m);
            i = e; /* the candidates before e are passed */
            if (e - base >= 64)
                break;
            bits &= ~(uint64_t)0 << (e - base);
        }
        if (i < base + CAND_STEP)
            i = base + CAND_STEP;
    }
}

/* ZU_EXE_K_ABS64 over the segment s of old (not executable), the values
 * that write into w. */
static void
abs_refs(const struct wout *w, const uint8_t *old, size_t olen, const struct zu_seg *s,
         const struct zu_elf *eo, const struct zu_elf *nw, const struct finder *m)
{
    size_t i = ((size_t)s->off + 7) & ~(size_t)7;
    size_t end = s->filesz < olen - (size_t)s->off ? (size_t)(s->off + s->filesz) : olen;
    /* [lo, hi): the addresses of old's segments from ZU_EXE_ABS_MIN on,
     * where no segment wraps (most values of data lie outside, and are
     * passed at one compare); all: a segment wraps, no bound */
    uint64_t lo = UINT64_MAX, hi = 0;
    int all = 0;

    for (size_t k = 0; k < eo->n; k++) {
        const struct zu_seg *g = &eo->seg[k];
        if (g->memsz == 0)
            continue;
        if (g->vaddr + g->memsz <= g->vaddr)
            all = 1;
        lo = g->vaddr < lo ? g->vaddr : lo;
        hi = g->vaddr + g->memsz > hi ? g->vaddr + g->memsz : hi;
    }
    if (lo < ZU_EXE_ABS_MIN)
        lo = ZU_EXE_ABS_MIN;
    if (hi < lo)
        hi = lo; /* none */
    if (i < (w->lo & ~(uint64_t)7))
        i = (size_t)(w->lo & ~(uint64_t)7); /* 8-aligned as i: the first value into w */
    for (; i < end && end - i >= 8 && i < w->hi; i += 8) {
        uint64_t v = le64(old + i), tn;
        if ((all ? v >= ZU_EXE_ABS_MIN : v - lo < hi - lo) && target_new(eo, nw, m, v, 0, &tn))
            put64(w, i, tn);
    }
}

/* A 32-bit offset at old file offset f, relative to the address of old
 * file offset b (the base: .eh_frame_hdr, or the field itself): replaced
 * by the target's new address less the base's. */
static void
rel_field(const struct wout *w, const uint8_t *old, size_t f, uint64_t b, const struct zu_elf *eo,
          const struct zu_elf *nw, const struct finder *m)
{
    uint64_t bv, t, tn, bn;
    const struct zu_span *sp = map_find(m, b, 1);

    if (sp == NULL || !vaddr_of_off(eo, b, &bv) || !vaddr_of_off(nw, sp->n + (b - sp->o), &bn))
        return;
    t = bv + (uint64_t)(int64_t)(int32_t)zu_le32(old + f);
    if (target_new(eo, nw, m, t, 0, &tn))
        put_rel32(w, f, tn, bn);
}

/* ZU_EXE_K_EHCIE: the CIE pointer of an FDE at old file offset f (its
 * distance back from the field to its CIE): replaced by the distance
 * between where the field goes and where the CIE goes. An FDE inserted
 * or removed before others moves them against their CIE, and each of
 * their CIE pointers changes (canvas: 60,299 of the 74,306 changed bytes
 * of .eh_frame's diff). */
static void
cie_field(const struct wout *w, const uint8_t *old, size_t f, const struct zu_elf *eo,
          const struct zu_elf *nw, const struct finder *m)
{
    uint64_t bv, tn, bn;
    const struct zu_span *sp = map_find(m, f, 1);

    if (sp == NULL || !vaddr_of_off(eo, f, &bv) || !vaddr_of_off(nw, sp->n + (f - sp->o), &bn))
        return;
    if (target_new(eo, nw, m, bv - zu_le32(old + f), 0, &tn))
        put_rel32(w, f, bn, tn);
}

/* A ULEB128 (or SLEB128) value at old[*i..end) stepped over: 0 where it
 * runs past end or past 10 bytes. */
static int
leb_skip(const uint8_t *old, size_t *i, size_t end)
{
    for (size_t k = 0; k < 10 && *i < end; k++)
        if ((old[(*i)++] & 0x80) == 0)
            return 1;
    return 0;
}

/* A ULEB128 value of at most 28 bits at old[*i..end), *i moved past. */
static int
uleb_get(const uint8_t *old, size_t *i, size_t end, uint32_t *v)
{
    *v = 0;
    for (unsigned sh = 0; sh < 28 && *i < end; sh += 7) {
        const uint8_t b = old[(*i)++];
        *v |= (uint32_t)(b & 0x7f) << sh;
        if ((b & 0x80) == 0)
            return 1;
    }
    return 0;
}

/* Whether the record at old file offset c (below end) is a CIE (version
 * 1 or 3) whose augmentation ("z", then of "P", "L", "R", "S", "B" only,
 * with a personality pointer of 2, 4 or 8 bytes) has an LSDA pointer and
 * FDE pointers both encoded 0x1b (pcrel sdata4): its FDEs' augmentation
 * data then start with their LSDA pointer, a 32-bit offset from itself. */
static int
cie_lsda(const uint8_t *old, size_t c, size_t end)
{
    static const uint8_t psize[16] = {8, 0, 2, 4, 8, 0, 0, 0, 0, 0, 2, 4, 8};
    size_t i, rend, aug;
    uint32_t len, alen;
    int lsda = 0, fde = 0;

    if (c >= end || end - c < 9)
        return 0;
    len = zu_le32(old + c);
    if (len < 5 || len > end - c - 4 || zu_le32(old + c + 4) != 0 ||
        (old[c + 8] != 1 && old[c + 8] != 3))
        return 0;
    rend = c + 4 + len;
    aug = c + 9;
    for (i = aug; i < rend && old[i] != 0; i++)
        ;
    if (i >= rend || old[aug] != 'z')
        return 0;
    i++;
    if (!leb_skip(old, &i, rend) || !leb_skip(old, &i, rend)) /* code and data alignment */
        return 0;
    if (old[c + 8] == 1)
        i++; /* the return address register: a byte, or in version 3 a ULEB128 */
    else if (!leb_skip(old, &i, rend))
        return 0;
    if (!uleb_get(old, &i, rend, &alen) || alen > rend - i)
        return 0;
    rend = i + alen; /* the augmentation data */
    for (size_t a = aug + 1; old[a] != 0; a++) {
        if (old[a] == 'S' || old[a] == 'B')
            continue;
        if (i >= rend || (old[a] != 'P' && old[a] != 'L' && old[a] != 'R'))
            return 0;
        if (old[a] == 'P') {
            const uint8_t n = psize[old[i] & 0x0f];
            if (n == 0 || n > rend - i - 1)
                return 0;
            i += 1 + (size_t)n;
            continue;
        }
        if (old[a] == 'L')
            lsda = old[i] == 0x1b;
        else
            fde = old[i] == 0x1b;
        i++;
    }
    return lsda && fde;
}

/* ZU_EXE_K_EHLSDA: the LSDA pointer of the FDE at old file offset at
 * (length len, CIE pointer at at + 4), where its CIE says it has one:
 * after pc_begin and pc_range, the augmentation data's length (ULEB128,
 * at least 4) and the pointer, a 32-bit offset from itself to the FDE's
 * LSDA (.gcc_except_table), rewritten as pc_begin. */
static void
lsda_field(const struct wout *w, const uint8_t *old, size_t at, uint32_t len, size_t end,
           const struct zu_elf *eo, const struct zu_elf *nw, const struct finder *m)
{
    const size_t rend = at + 4 + (size_t)len;
    const uint32_t cp = zu_le32(old + at + 4);
    size_t i = at + 16;
    uint32_t alen;

    if (len < 17 || cp > at + 4 || !cie_lsda(old, at + 4 - cp, end) ||
        !uleb_get(old, &i, rend, &alen) || alen < 4 || rend - i < 4)
        return;
    rel_field(w, old, i, i, eo, nw, m);
}

/* ZU_EXE_K_UNWIND: .eh_frame_hdr (version 1, its table encoded as 32-bit
 * offsets from itself, 0x3b) and the .eh_frame it points to (0x1b): the
 * table's pairs, and the pc_begin of each FDE taken as a 32-bit offset
 * from itself (the encoding compilers emit for x86-64); with
 * ZU_EXE_K_EHCIE in kinds also each FDE's CIE pointer. */
static void
unwind_refs(const struct wout *w, const uint8_t *old, size_t olen, const struct zu_elf *eo,
            const struct zu_elf *nw, const struct finder *m, unsigned kinds)
{
    size_t h = (size_t)eo->eh.off, hend = h + (size_t)eo->eh.filesz, at;
    uint64_t hv = eo->eh.vaddr, fv, cnt;
    const struct zu_seg *fs;

    if (eo->eh.filesz < 12 || old[h] != 1 || old[h + 1] != 0x1b || old[h + 2] != 0x03 ||
        old[h + 3] != 0x3b)
        return;
    cnt = zu_le32(old + h + 8);
    for (uint64_t i = 0; i < cnt && hend - (h + 12) >= (i + 1) * 8; i++) {
        rel_field(w, old, h + 12 + (size_t)i * 8, h, eo, nw, m);
        rel_field(w, old, h + 16 + (size_t)i * 8, h, eo, nw, m);
    }
    /* .eh_frame: the records from where the header points, within the
     * file bytes of the segment that holds it */
    fv = hv + 4 + (uint64_t)(int64_t)(int32_t)zu_le32(old + h + 4);
    fs = seg_of_vaddr(eo, fv);
    if (fs == NULL || fv - fs->vaddr >= fs->filesz)
        return;
    at = (size_t)(fs->off + (fv - fs->vaddr));
    {
        size_t end = (size_t)(fs->off + fs->filesz);
        if (end > olen)
            end = olen;
        while (at < end && end - at >= 12) {
            uint32_t len = zu_le32(old + at);
            if (len == 0 || len == 0xffffffffu || len > end - at - 4)
                break;
            if (zu_le32(old + at + 4) != 0 && len >= 8) { /* an FDE */
                if ((kinds & ZU_EXE_K_EHCIE) != 0)
                    cie_field(w, old, at + 4, eo, nw, m);
                rel_field(w, old, at + 8, at + 8, eo, nw, m);
                if ((kinds & ZU_EXE_K_EHLSDA) != 0)
                    lsda_field(w, old, at, len, end, eo, nw, m);
            }
            at += 4 + (size_t)len;
        }
    }
}

/* ZU_EXE_K_UNWIND of a PE file: the exception directory (.pdata), entries
 * of three 32-bit image offsets (a function's begin and end, its unwind
 * information), each moved by as much as the address it names moved. */
static void
pdata_refs(const struct wout *w, const uint8_t *old, const struct zu_elf *eo,
           const struct zu_elf *nw, const struct finder *m)
{
    const size_t h = (size_t)eo->eh.off, n = (size_t)eo->eh.filesz / 12 * 3;

    for (size_t i = 0; i < n; i++) {
        uint32_t r = zu_le32(old + h + 4 * i);
        uint64_t t = eo->image_base + r, tn;
        int64_t d;
        if (!target_new(eo, nw, m, t, 0, &tn))
            continue;
        d = (int64_t)(tn - t);
        if (d >= INT32_MIN && d <= INT32_MAX)
            put32(w, h + 4 * i, r + (uint32_t)d);
    }
}

/* ZU_EXE_K_JTAB: the jump tables of switch statements, as compilers emit
 * them for x86-64 position-independent code: `lea r, [rip + T]`, then
 * within JT_NEAR bytes of its end `movsxd r', dword [r + 4 * index]` (REX.W
 * 63, ModRM mod 00 r/m 100, SIB scale 4, base r), where T lies in the file
 * bytes of a segment that is not executable. A table's entries are 32-bit
 * offsets e of code from T: from T on, up to the next table, the end of
 * its segment's file bytes or JT_MAX entries, while T + e lies in an
 * executable segment. Each becomes the new address of its target less the
 * new address of T (dprint 0.57.1 -> 0.57.4: 5,300 tables, 75,000
 * entries). */
#define JT_NEAR 24
#define JT_MAX 65536
#define JT_TABLES_MAX (1u << 20)

static int
u64_cmp(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The file offsets of old's jump tables, sorted, each once: *tabs (*n of
 * them; NULL where none), at most JT_TABLES_MAX (the first found). */
static int
jtab_find(const uint8_t *old, size_t olen, const struct zu_elf *eo, uint64_t **tabs, size_t *n)
{
    size_t cap = 0, k = 0;

    *tabs = NULL;
    *n = 0;
    for (size_t g = 0; g < eo->n; g++) {
        const struct zu_seg *s = &eo->seg[g];
        size_t i, end;
        if ((s->flags & 1) == 0 || s->off >= olen)
            continue;
        i = (size_t)s->off;
        end = s->filesz < olen - i ? i + (size_t)s->filesz : olen;
        while (end - i >= 8) {
            const uint8_t *q = memchr(old + i + 1, 0x8d, end - i - 7);
            size_t at, e, lim;
            unsigned reg;
            if (q == NULL)
                break;
            at = (size_t)(q - old) - 1; /* the REX byte */
            i = at + 1;
            if ((old[at] & 0xfa) != 0x48 || (old[at + 2] & 0xc7) != 0x05)
                continue; /* not lea r64, [rip + disp32] */
            reg = ((unsigned)old[at + 2] >> 3 & 7) | ((unsigned)old[at] & 4) << 1;
            e = at + 7;
            lim = end - e > JT_NEAR ? e + JT_NEAR : end;
            for (size_t m = e; m < lim && lim - m >= 4; m++) {
                const uint8_t rex = old[m], sib = old[m + 3];
                uint64_t t, to;
                const struct zu_seg *ts;
                if ((rex & 0xf8) != 0x48 || old[m + 1] != 0x63 || (old[m + 2] & 0xc7) != 0x04 ||
                    (sib >> 6) != 2 || (sib & 7) == 5 ||
                    ((unsigned)(sib & 7) | ((unsigned)rex & 1) << 3) != reg)
                    continue;
                t = s->vaddr + (e - s->off) + (uint64_t)(int64_t)(int32_t)zu_le32(old + at + 3);
                ts = seg_of_vaddr(eo, t);
                if (ts == NULL || (ts->flags & 1) != 0 || t - ts->vaddr >= ts->filesz)
                    break;
                to = ts->off + (t - ts->vaddr);
                if (to >= olen || olen - to < 4 || k == JT_TABLES_MAX)
                    break;
                if (k == cap) {
                    int rc = ZU_GROW(tabs, &cap, k + 1, JT_TABLES_MAX);
                    if (rc != ZUPD_OK) {
                        free(*tabs);
                        *tabs = NULL;
                        return rc;
                    }
                }
                (*tabs)[k++] = to;
                break;
            }
        }
    }
    if (k > 1) {
        size_t u = 1;
        qsort(*tabs, k, sizeof(**tabs), u64_cmp);
        for (size_t j = 1; j < k; j++)
            if ((*tabs)[j] != (*tabs)[u - 1])
                (*tabs)[u++] = (*tabs)[j];
        k = u;
    }
    *n = k;
    return ZUPD_OK;
}

int
zu_exe_jtab_any(const uint8_t *old, size_t olen, const struct zu_elf *eo, int *any)
{
    uint64_t *tabs;
    size_t n;
    int rc = jtab_find(old, olen, eo, &tabs, &n);

    free(tabs);
    *any = rc == ZUPD_OK && n > 0;
    return rc;
}

/* The entries of the n jump tables at tabs (jtab_find), into w. */
static void
jtab_refs(const struct wout *w, const uint8_t *old, size_t olen, const struct zu_elf *eo,
          const struct zu_elf *nw, const struct finder *m, const uint64_t *tabs, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const uint64_t to = tabs[k];
        const struct zu_seg *ts = seg_of_off(eo, to);
        const struct zu_span *sp = map_find(m, to, 1);
        uint64_t t, tn, end;
        if (ts == NULL || sp == NULL || !vaddr_of_off(nw, sp->n + (to - sp->o), &tn))
            continue;
        t = ts->vaddr + (to - ts->off);
        end = ts->off + ts->filesz < olen ? ts->off + ts->filesz : olen;
        if (k + 1 < n && tabs[k + 1] < end)
            end = tabs[k + 1];
        if (end - to > (uint64_t)JT_MAX * 4)
            end = to + (uint64_t)JT_MAX * 4;
        for (uint64_t f = to; f < end && end - f >= 4; f += 4) {
            const uint64_t c = t + (uint64_t)(int64_t)(int32_t)zu_le32(old + f);
            const struct zu_seg *cs = seg_of_vaddr(eo, c);
            uint64_t cn;
            if (cs == NULL || (cs->flags & 1) == 0)
                break;
            if (target_new(eo, nw, m, c, 1, &cn))
                put_rel32(w, f, cn, tn);
        }
    }
}

/* ------------------------------------------------------------------ Go's function table */

/* ZU_EXE_K_GOFN: Go's function table (pclntab, go1.20 and later; the
 * header at old file offset nw->go.hdr: magic 0xfffffff1, 00 00 01 08,
 * then 8-byte words: the number of functions, of files, the text's
 * start, and the offsets from the header of the function names, the
 * compilation units, the file names, the pc-value tables and the
 * function table). The function table's rows (entry offset from the
 * text, record offset from the table) and each record (entry offset,
 * name offset, 4 bytes, 4 bytes, three pc-value table offsets, npcdata,
 * 4 bytes, 4 bytes, 3 bytes, nfuncdata; then npcdata pc-value table
 * offsets and nfuncdata funcdata offsets) hold offsets that change for
 * every function after one a release added; each is replaced by the
 * offset of where its target went, counted from new's base. */
#define GO_HDR 72u
#define GO_FUNC 44u
#define GO_PCDATA_MAX 1024u /* pcdata offsets of one record read at most */

/* The offset at old file offset at, counted from old file offset base:
 * where its target goes, less new's base bn (file offsets). Zero stays. */
static void
go_off(const struct wout *w, const uint8_t *old, uint64_t at, uint64_t base, uint64_t bn,
       const struct finder *m)
{
    const uint32_t v = zu_le32(old + at);
    const struct zu_span *sp;
    uint64_t tn;

    if (v == 0 || (sp = map_find(m, base + v, 1)) == NULL)
        return;
    tn = sp->n + (base + v - sp->o);
    if (tn >= bn && tn - bn <= UINT32_MAX)
        put32(w, at, (uint32_t)(tn - bn));
}

/* The same for an offset counted from virtual address base of old (bn of
 * new); all ones stays (Go's "no funcdata"). */
static void
go_addr(const struct wout *w, const uint8_t *old, uint64_t at, uint64_t base, uint64_t bn, int code,
        const struct zu_elf *eo, const struct zu_elf *nw, const struct finder *m)
{
    const uint32_t v = zu_le32(old + at);
    uint64_t tn;

    if (v != UINT32_MAX && target_new(eo, nw, m, base + v, code, &tn) && tn >= bn &&
        tn - bn <= UINT32_MAX)
        put32(w, at, (uint32_t)(tn - bn));
}

static void
go_refs(const struct wout *w, const uint8_t *old, size_t olen, const struct zu_elf *eo,
        const struct zu_elf *nw, const struct finder *m)
{
    const struct zu_gofn *g = &nw->go;
    const uint64_t h = g->hdr;
    uint64_t nfunc, names, pctab, ftab;

    if (h > olen || olen - h < GO_HDR || zu_le32(old + h) != 0xfffffff1u || old[h + 4] != 0 ||
        old[h + 5] != 0 || old[h + 6] != 1 || old[h + 7] != 8)
        return;
    nfunc = le64(old + h + 8);
    names = h + le64(old + h + 32);
    pctab = h + le64(old + h + 56);
    ftab = h + le64(old + h + 64);
    if (names < h || pctab < h || ftab < h || ftab > olen)
        return; /* wrapped */
    for (uint64_t k = 0; k < nfunc && olen - ftab >= (k + 1) * 8; k++) {
        const uint64_t r = ftab + k * 8, f = ftab + zu_le32(old + r + 4);
        uint64_t npc, nfd, at;
        go_addr(w, old, r, g->text_o, g->text_n, 1, eo, nw, m);
        go_off(w, old, r + 4, ftab, g->ftab_n, m);
        if (f > olen || olen - f < GO_FUNC)
            continue;
        go_addr(w, old, f, g->text_o, g->text_n, 1, eo, nw, m);
        go_off(w, old, f + 4, names, g->names_n, m);
        for (at = f + 16; at < f + 28; at += 4)
            go_off(w, old, at, pctab, g->pctab_n, m);
        npc = zu_le32(old + f + 28);
        nfd = old[f + 43];
        if (npc > GO_PCDATA_MAX)
            continue;
        for (at = f + GO_FUNC; at < f + GO_FUNC + 4 * npc && olen - at >= 4; at += 4)
            go_off(w, old, at, pctab, g->pctab_n, m);
        if (g->gofunc_o == 0)
            continue;
        for (; at < f + GO_FUNC + 4 * (npc + nfd) && olen - at >= 4; at += 4)
            go_addr(w, old, at, g->gofunc_o, g->gofunc_n, 0, eo, nw, m);
    }
}

/* The unwind tables' writes (ZU_EXE_K_UNWIND), into w. */
static void
tables_refs(const struct wout *w, const uint8_t *old, size_t olen, const struct zu_elf *eo,
            const struct zu_elf *nw, const struct finder *m, unsigned kinds)
{
    if (eo->id == ZU_EXE_PE_X86_64)
        pdata_refs(w, old, eo, nw, m);
    else
        unwind_refs(w, old, olen, eo, nw, m, kinds);
}

int
zu_exe_transform(uint8_t *dst, const uint8_t *old, size_t olen, const struct zu_elf *eo,
                 const struct zu_elf *nw, const struct zu_exe_map *m, unsigned kinds)
{
    const struct wout w = {dst, 0, olen, NULL};
    struct finder f;
    uint64_t *tabs = NULL;
    size_t ntabs = 0;
    int rc = ZUPD_OK;

    if (olen > 0)
        memcpy(dst, old, olen);
    finder_init(&f, m, olen, kinds);
    for (size_t k = 0; k < eo->n; k++) {
        const struct zu_seg *s = &eo->seg[k];
        if (s->off >= olen)
            continue;
        if ((s->flags & 1) != 0 && (kinds & ZU_EXE_K_CODE) != 0)
            code_refs(&w, old, olen, s, eo, nw, &f, (size_t)s->off, SIZE_MAX, NULL);
        else if ((s->flags & 1) == 0 && (kinds & ZU_EXE_K_ABS64) != 0)
            abs_refs(&w, old, olen, s, eo, nw, &f);
    }
    if ((kinds & ZU_EXE_K_UNWIND) != 0)
        tables_refs(&w, old, olen, eo, nw, &f, kinds);
    if ((kinds & ZU_EXE_K_JTAB) != 0)
        rc = jtab_find(old, olen, eo, &tabs, &ntabs);
    if (rc == ZUPD_OK)
        jtab_refs(&w, old, olen, eo, nw, &f, tabs, ntabs);
    if (rc == ZUPD_OK && (kinds & ZU_EXE_K_GOFN) != 0)
        go_refs(&w, old, olen, eo, nw, &f);
    free(tabs);
    free(f.page);
    return rc;
}

/* ------------------------------------------------------------------ pieces */

/* Old transformed a piece at a time, into buf. A piece's bytes are those
 * of zu_exe_transform: old's bytes, then each segment's references that
 * write into it (the scan of code from the loop top struct sync noted),
 * then the unwind tables' and jump tables' writes (kept as a list: their
 * records are read in a chain, the tables found from code). */
#define WIN_BUF (64u << 10)
struct zu_exe_win {
    const uint8_t *old;
    size_t olen;
    struct zu_elf eo, nw;
    unsigned kinds;
    struct zu_exe_map m;
    struct finder f;
    uint8_t *back[ZU_EXE_SEGS_MAX]; /* per code segment: struct sync's back */
    struct edits ed;
    int ed_sorted; /* ed by at (no two writes overlap), else in the order written */
    uint8_t buf[WIN_BUF];
};

static int
edit_cmp(const void *a, const void *b)
{
    const struct edit *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}

/* Old transformed [lo, hi) into dst. */
static void
piece_fill(const struct zu_exe_win *w, uint64_t lo, uint64_t hi, uint8_t *dst)
{
    const struct wout o = {dst, lo, hi, NULL};
    size_t i = 0;

    memcpy(dst, w->old + lo, (size_t)(hi - lo));
    for (size_t k = 0; k < w->eo.n; k++) {
        const struct zu_seg *s = &w->eo.seg[k];
        if (s->off >= hi || (s->filesz < w->olen - s->off && s->off + s->filesz <= lo))
            continue; /* writes nothing into the piece */
        if ((s->flags & 1) != 0 && (w->kinds & ZU_EXE_K_CODE) != 0) {
            const size_t c = (size_t)(lo >> SYNC_SHIFT);
            const uint8_t b = w->back[k][c];
            uint64_t from = ((uint64_t)c << SYNC_SHIFT) - b;
            if (b == SYNC_FAR || lo <= s->off || from < s->off)
                from = s->off;
            code_refs(&o, w->old, w->olen, s, &w->eo, &w->nw, &w->f, (size_t)from, (size_t)hi,
                      NULL);
        } else if ((s->flags & 1) == 0 && (w->kinds & ZU_EXE_K_ABS64) != 0) {
            abs_refs(&o, w->old, w->olen, s, &w->eo, &w->nw, &w->f);
        }
    }
    if (w->ed_sorted) { /* from the first write that can reach lo */
        size_t a = 0, b = w->ed.n;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (w->ed.e[mid].at + 4 <= lo)
                a = mid + 1;
            else
                b = mid;
        }
        i = a;
    }
    for (; i < w->ed.n; i++) {
        uint8_t b[4];
        if (w->ed.e[i].at >= hi) {
            if (w->ed_sorted)
                break;
            continue;
        }
        zu_put_le32(b, w->ed.e[i].v);
        put_bytes(&o, w->ed.e[i].at, b, 4);
    }
}

int
zu_exe_win_new(struct zu_exe_win **out, const uint8_t *old, size_t olen, const struct zu_elf *eo,
               const struct zu_elf *nw, struct zu_exe_map *m, unsigned kinds)
{
    struct zu_exe_win *w;
    const size_t ng = (size_t)(olen >> SYNC_SHIFT) + 1;
    int rc = ZUPD_OK;

    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return ZUPD_E_NOMEM;
    w->old = old;
    w->olen = olen;
    w->eo = *eo;
    w->nw = *nw;
    w->kinds = kinds;
    w->m = *m;
    memset(m, 0, sizeof(*m));
    finder_init(&w->f, &w->m, olen, kinds);
    for (size_t k = 0; rc == ZUPD_OK && k < eo->n; k++) {
        const struct zu_seg *s = &eo->seg[k];
        struct sync sy;
        if (s->off >= olen || (s->flags & 1) == 0 || (kinds & ZU_EXE_K_CODE) == 0)
            continue;
        w->back[k] = malloc(ng);
        if (w->back[k] == NULL) {
            rc = ZUPD_E_NOMEM;
            break;
        }
        sy = (struct sync){w->back[k], ng, 0, s->off};
        code_refs(NULL, old, olen, s, eo, nw, &w->f, (size_t)s->off, SIZE_MAX, &sy);
        sync_note(&sy, SIZE_MAX); /* the granules after the scan's last loop top */
    }
    if (rc == ZUPD_OK && (kinds & ZU_EXE_K_UNWIND) != 0) {
        const struct wout rec = {NULL, 0, 0, &w->ed};
        tables_refs(&rec, old, olen, eo, nw, &w->f, kinds);
        rc = w->ed.rc;
    }
    if (rc == ZUPD_OK && (kinds & ZU_EXE_K_JTAB) != 0) { /* after them, as in the whole */
        const struct wout rec = {NULL, 0, 0, &w->ed};
        uint64_t *tabs;
        size_t ntabs;
        rc = jtab_find(old, olen, eo, &tabs, &ntabs);
        if (rc == ZUPD_OK)
            jtab_refs(&rec, old, olen, eo, nw, &w->f, tabs, ntabs);
        free(tabs);
        if (rc == ZUPD_OK)
            rc = w->ed.rc;
    }
    if (rc == ZUPD_OK && (kinds & ZU_EXE_K_GOFN) != 0) { /* after them, as in the whole */
        const struct wout rec = {NULL, 0, 0, &w->ed};
        go_refs(&rec, old, olen, eo, nw, &w->f);
        rc = w->ed.rc;
    }
    if (rc == ZUPD_OK) {
        /* by position, where that replays them as written: no two overlap */
        w->ed_sorted = 1;
        if (w->ed.n > 1)
            qsort(w->ed.e, w->ed.n, sizeof(*w->ed.e), edit_cmp);
        for (size_t i = 1; i < w->ed.n; i++)
            if (w->ed.e[i].at - w->ed.e[i - 1].at < 4)
                w->ed_sorted = 0;
        if (!w->ed_sorted)
            for (size_t i = 0; i < w->ed.n; i++)
                while (w->ed.e[i].seq != i) { /* back in the order written */
                    struct edit t = w->ed.e[w->ed.e[i].seq];
                    w->ed.e[w->ed.e[i].seq] = w->ed.e[i];
                    w->ed.e[i] = t;
                }
    }
    if (rc != ZUPD_OK) {
        zu_exe_win_free(w);
        return rc;
    }
    *out = w;
    return ZUPD_OK;
}

const uint8_t *
zu_exe_win_at(struct zu_exe_win *w, uint64_t pos, size_t *n)
{
    size_t k = *n < WIN_BUF ? *n : WIN_BUF;

    if (k > w->olen - pos)
        k = (size_t)(w->olen - pos);
    if (k == 0)
        k = 1; /* pos is below olen */
    piece_fill(w, pos, pos + k, w->buf);
    *n = k;
    return w->buf;
}

void
zu_exe_win_free(struct zu_exe_win *w)
{
    if (w == NULL)
        return;
    for (size_t k = 0; k < ZU_EXE_SEGS_MAX; k++)
        free(w->back[k]);
    free(w->ed.e);
    free(w->f.page);
    zu_exe_map_free(&w->m);
    free(w);
}
