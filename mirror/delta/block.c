/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/block.c -- block matching (issue 18): long exact copies of old found by hashing
 * old's blocks and rolling over new; where they cover most of new, only the part of old the rest
 * of new can need is suffix-sorted, and only the rest of new is scanned. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "delta/create_int.h"
#include "zu/internal.h"

/* ------------------------------------------------------------------ the matcher */

#define HASH_K UINT64_C(0x9E3779B97F4A7C15)

/* The block hash: a polynomial over bs bytes (rolled in zp_block_match). */
uint64_t
zp_block_hash(const uint8_t *p, size_t bs)
{
    uint64_t h = 0;

    for (size_t i = 0; i < bs; i++)
        h = h * HASH_K + p[i];
    return h;
}

/* The hash of p[1..bs] from h, the hash of p[0..bs), where kpow is
 * HASH_K^(bs - 1): the window one byte on. */
static inline uint64_t
block_roll(uint64_t h, const uint8_t *p, size_t bs, uint64_t kpow)
{
    return (h - p[0] * kpow) * HASH_K + p[bs];
}

/* The bits of hash h that place it: its slot, then its tag. */
static uint64_t
block_mix(uint64_t h)
{
    h ^= h >> 29;
    return h * UINT64_C(0xBF58476D1CE4E5B9);
}

/* The slot of a hash whose mix is m, in a table of 2^bits slots. */
static size_t
mix_slot(uint64_t m, unsigned bits)
{
    return (size_t)(m >> (64 - bits));
}

/* The table slot of hash h in a table of 2^bits slots. */
size_t
zp_block_slot(uint64_t h, unsigned bits)
{
    return mix_slot(block_mix(h), bits);
}

/* The block size and table bits for an old file of olen bytes:
 * ZP_BLOCK_MIN bytes, doubled while old has more than 2^22 blocks (the
 * table then takes 48 MiB at most); two slots a block at least. */
void
zp_block_geometry(size_t olen, size_t *bs, unsigned *bits)
{
    size_t b = ZP_BLOCK_MIN, nb;
    unsigned k = 10;

    while (olen / b > ((size_t)1 << 22))
        b *= 2;
    nb = olen / b;
    while (k < 40 && ((size_t)1 << k) < 2 * nb)
        k++;
    *bs = b;
    *bits = k;
}

static int
cover_push(struct zp_blocks *b, size_t nw, size_t old, size_t len)
{
    int rc = ZU_GROW(&b->cv, &b->cap, b->n + 1, SIZE_MAX / sizeof(*b->cv));

    if (rc != ZUPD_OK)
        return rc;
    b->cv[b->n].nw = nw;
    b->cv[b->n].old = old;
    b->cv[b->n].len = len;
    b->n++;
    b->covered += len;
    if (len >= ZP_BLOCK_LONG)
        b->covered_long += len;
    return ZUPD_OK;
}

/* The table of old's blocks: the head block of each slot, and the next
 * block of the same slot after each (block numbers + 1, 0: none, in the
 * low TAG_SHIFT bits; above them the block's tag, 8 bits of its hash's mix
 * below the slot's). A block whose tag differs from the hash looked up is
 * not that block: it is passed without reading old (random bytes of new
 * found a slot in use at one position in two, and each such read of old
 * was a cache miss: half of biome-m's block matching). */
#define TAG_SHIFT 24
#define IDX_MASK ((UINT32_C(1) << TAG_SHIFT) - 1)

static uint32_t
block_tag(uint64_t mix, unsigned bits)
{
    return (uint32_t)(mix >> (56 - bits)) & 0xff;
}

struct btab {
    uint32_t *head, *next;
    unsigned bits;
    size_t bs;
};

/* Blocks of one slot compared at most: the longest copy among them is
 * taken (data of many alike records: the first block alike is seldom the
 * record that goes on longest). */
#define CHAIN_MAX 16
/* A copy shorter than this is compared with those that start within the
 * next block (the first block alike is seldom the longest). */
#define LOOK_MIN 1024

/* The blocks of old a hash may be (chain_first, then chain_next until 0):
 * those of its slot's first CHAIN_MAX entries whose tag is the hash's. */
struct chain {
    const uint32_t *next;
    uint32_t e, tag;
    size_t n;
};

static inline void
chain_first(struct chain *c, const struct btab *t, uint64_t h)
{
    uint64_t m = block_mix(h);

    c->next = t->next;
    c->e = t->head[mix_slot(m, t->bits)];
    c->tag = block_tag(m, t->bits);
    c->n = 0;
}

/* The next such block: its number in *blk, 0 where there is none. */
static inline int
chain_next(struct chain *c, size_t *blk)
{
    while ((c->e & IDX_MASK) != 0 && c->n < CHAIN_MAX) {
        uint32_t e = c->e;
        c->e = c->next[(e & IDX_MASK) - 1];
        c->n++;
        if (e >> TAG_SHIFT == c->tag) {
            *blk = (e & IDX_MASK) - 1;
            return 1;
        }
    }
    return 0;
}

/* The longest copy at new position i (at least a block) among the
 * table's blocks alike: where in old, how far back (not before new
 * position prev) and forward from i; 0 if none. */
static size_t
chain_best(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, size_t i, size_t prev,
           uint64_t h, const struct btab *t, size_t *o, size_t *bk, size_t *fw)
{
    size_t bs = t->bs, best = 0, blk;
    struct chain c;

    for (chain_first(&c, t, h); chain_next(&c, &blk);) {
        size_t q = blk * bs, back = 0, f;
        if (memcmp(old + q, nw + i, bs) != 0)
            continue;
        while (i - back > prev && q - back > 0 && old[q - back - 1] == nw[i - back - 1])
            back++;
        f = bs + zp_same_len(old + q + bs, nw + i + bs,
                             olen - q - bs < nlen - i - bs ? olen - q - bs : nlen - i - bs);
        if (back + f > best) {
            best = back + f;
            *o = q;
            *bk = back;
            *fw = f;
        }
    }
    return best;
}

/* The current alignment goes on at new position i for a block at least
 * (a changed byte inside a copy): how far. */
static size_t
diag_len(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, size_t i, int64_t diag)
{
    int64_t q = (int64_t)i + diag;

    if (q < 0 || (uint64_t)q >= olen || old[q] != nw[i])
        return 0;
    return zp_same_len(old + q, nw + i, olen - (size_t)q < nlen - i ? olen - (size_t)q : nlen - i);
}

/* Before the walk over new, PROBES places spread evenly over new are each
 * asked whether a copy of old of ZP_BLOCK_LONG bytes or more runs through
 * it. Where the rule holds, ZP_BLOCK_COVER_PCT % of new lies in such
 * copies, and so does that share of the places but those within a block
 * of a copy's end or in slots of more than CHAIN_MAX blocks alike: fewer
 * than PROBE_PASS % found, and the walk would stop (partial) anyway, later
 * (biome-m: after 8 MB of new and 1.2 s; the walk is what the executable
 * pairs spent on block matching). A place in a copy is found from the
 * blocks of new that start up to PROBE_ROLL bytes after it: in data of
 * alike records the first ones' slots are full of other records' blocks
 * (mdn-bcd-w: 178 of 256 places found within a block, 252 within 512). */
#define PROBES 256
#define PROBE_PASS 75
#define PROBE_ROLL 512

/* How many bytes before a and b are equal, up to n, eight at a time. */
static size_t
same_back(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;

    while (i + 8 <= n) {
        uint64_t x, y;
        memcpy(&x, a - i - 8, 8);
        memcpy(&y, b - i - 8, 8);
        if (x != y)
            return i + (size_t)(__builtin_clzll(x ^ y) >> 3);
        i += 8;
    }
    while (i < n && a[-(ptrdiff_t)i - 1] == b[-(ptrdiff_t)i - 1])
        i++;
    return i;
}

/* The alignments a probe tried, new[at] = old[at + d] (an open-addressed
 * set): the blocks of one copy are each found on the same alignment, and
 * in data of many alike records each block is found in many (mdn-bcd-w,
 * user-agents); each alignment is measured at the probe's place once. */
#define PROBE_SEEN 4096

/* A copy of old of ZP_BLOCK_LONG bytes or more runs through new[at]
 * (at + bs <= nlen): an alignment a block at new[at, at + PROBE_ROLL)
 * finds through the table t, measured at at. */
static int
probe_long(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, size_t at,
           const struct btab *t, uint64_t kpow)
{
    size_t bs = t->bs;
    uint64_t h = zp_block_hash(nw + at, bs);
    int64_t seen[PROBE_SEEN];
    size_t nseen = 0;

    for (size_t k = 0; k < PROBE_SEEN; k++)
        seen[k] = INT64_MIN;
    for (size_t j = at; j < at + PROBE_ROLL && j + bs <= nlen; j++) {
        struct chain c;
        size_t blk;
        for (chain_first(&c, t, h); chain_next(&c, &blk);) {
            size_t q = blk * bs, o, fw, lim, s;
            int64_t d = (int64_t)q - (int64_t)j;
            if ((int64_t)at + d < 0)
                continue;
            s = (size_t)((uint64_t)d * UINT64_C(0x9E3779B97F4A7C15) >> 40) % PROBE_SEEN;
            while (seen[s] != INT64_MIN && seen[s] != d)
                s = (s + 1) % PROBE_SEEN;
            if (seen[s] == d)
                continue;
            if (++nseen == PROBE_SEEN / 2)
                return 0; /* as many alignments, none long: a place of short ones */
            seen[s] = d;
            o = (size_t)((int64_t)at + d);
            lim = olen - o < nlen - at ? olen - o : nlen - at;
            fw = zp_same_len(old + o, nw + at, lim < ZP_BLOCK_LONG ? lim : ZP_BLOCK_LONG);
            if (fw == 0)
                continue;
            lim = o < at ? o : at;
            if (fw + same_back(old + o, nw + at,
                               lim < ZP_BLOCK_LONG - fw ? lim : ZP_BLOCK_LONG - fw) >=
                ZP_BLOCK_LONG)
                return 1;
        }
        if (j + bs < nlen)
            h = block_roll(h, nw + j, bs, kpow);
    }
    return 0;
}

/* Fewer than PROBE_PASS % of PROBES places of new in long copies. */
static int
probes_fail(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, const struct btab *t,
            uint64_t kpow)
{
    size_t found = 0, step = (nlen - t->bs) / PROBES;

    if (step == 0)
        return 0;
    for (size_t k = 0; k < PROBES; k++)
        found += (size_t)probe_long(old, olen, nw, nlen, k * step + step / 2, t, kpow);
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: block probes %zu of %d found\n", found, PROBES);
#endif
    return found * 100 < (size_t)PROBES * PROBE_PASS;
}

/* A copy at another place of old is taken where it is longer than what
 * the alignment before matches of it by more than SWITCH_MIN bytes (the
 * scan's rule at its lowest threshold, scan.c): a copy that is also the
 * old alignment with a few bytes changed stays on it, as the scan would,
 * and is a cover with those bytes changed. */
#define SWITCH_MIN 8
/* Where new goes on without a copy, the table slot of the position this
 * far on is asked for ahead (the slot's read was a cache miss at every
 * position). */
#define AHEAD 16
/* The same for the table's build: the slot this many blocks on. */
#define INSERT_AHEAD 16

int
zp_block_match(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, struct zp_blocks *b)
{
    size_t nb, i = 0, prev = 0;
    struct btab t;
    uint64_t h = 0, ha = 0, kpow = 1; /* ha: the hash AHEAD positions after h's */
    int64_t diag = 0;
    int have_diag = 0, hv = 0, rc = ZUPD_OK;

    memset(b, 0, sizeof(*b));
    zp_block_geometry(olen, &t.bs, &t.bits);
    nb = olen / t.bs;
    if (nb == 0 || nlen < t.bs || nb >= IDX_MASK) /* zp_block_geometry: 2^22 at most */
        return ZUPD_OK;
    t.head = calloc((size_t)1 << t.bits, sizeof(*t.head));
    t.next = malloc(nb * sizeof(*t.next));
    if (t.head == NULL || t.next == NULL) {
        free(t.head);
        free(t.next);
        return ZUPD_E_NOMEM;
    }
    /* each block's slot and tag first (in next: 23 + 8 bits at most), then
     * from the last block back, each slot's chain in the order of old, the
     * slot INSERT_AHEAD blocks on asked for ahead (each was a cache miss) */
    for (size_t k = 0; k < nb; k++) {
        uint64_t m = block_mix(zp_block_hash(old + k * t.bs, t.bs));
        t.next[k] = (uint32_t)mix_slot(m, t.bits) | block_tag(m, t.bits) << t.bits;
    }
    for (size_t k = nb; k-- > 0;) {
        uint32_t st = t.next[k], slot_mask = ((uint32_t)1 << t.bits) - 1;
        if (k >= INSERT_AHEAD)
            __builtin_prefetch(&t.head[t.next[k - INSERT_AHEAD] & slot_mask], 1);
        t.next[k] = t.head[st & slot_mask];
        t.head[st & slot_mask] = (uint32_t)(k + 1) | (st >> t.bits) << TAG_SHIFT;
    }
    for (size_t k = 1; k < t.bs; k++)
        kpow *= HASH_K;
    if (probes_fail(old, olen, nw, nlen, &t, kpow))
        b->partial = 1; /* the rule cannot hold: the walk would stop */
    while (!b->partial && i + t.bs <= nlen) {
        size_t o = 0, back = 0, fw = 0, best, end;
        int64_t d;
        if (i - b->covered_long > nlen - nlen / 100 * ZP_BLOCK_COVER_PCT) {
            b->partial = 1; /* the rule cannot hold: no need to go on */
            break;
        }
        if (have_diag && (fw = diag_len(old, olen, nw, nlen, i, diag)) >= t.bs) {
            rc = cover_push(b, i, (size_t)((int64_t)i + diag), fw);
            if (rc != ZUPD_OK)
                break;
            i += fw;
            prev = i;
            hv = 0;
            continue;
        }
        if (!hv) {
            h = zp_block_hash(nw + i, t.bs);
            if (i + AHEAD + t.bs <= nlen)
                ha = zp_block_hash(nw + i + AHEAD, t.bs);
            hv = 1;
        }
        best = chain_best(old, olen, nw, nlen, i, prev, h, &t, &o, &back, &fw);
        if (best == 0) {
            if (i + t.bs < nlen)
                h = block_roll(h, nw + i, t.bs, kpow);
            if (i + AHEAD + t.bs < nlen) { /* the slot AHEAD positions on, asked for */
                ha = block_roll(ha, nw + i + AHEAD, t.bs, kpow);
                __builtin_prefetch(&t.head[mix_slot(block_mix(ha), t.bits)]);
            }
            i++;
            continue;
        }
        /* a longer copy can start within the next block (its first block
         * of old is up to a block on): the longest of them */
        end = i + fw;
        d = (int64_t)o - (int64_t)i;
        for (size_t j = i + 1; best < LOOK_MIN && j < i + t.bs && j + t.bs <= nlen && j < end;
             j++) {
            size_t o2 = 0, b2 = 0, f2 = 0, l2;
            h = block_roll(h, nw + j - 1, t.bs, kpow);
            l2 = chain_best(old, olen, nw, nlen, j, prev, h, &t, &o2, &b2, &f2);
            if (l2 > best) {
                best = l2;
                back = b2;
                i = j;
                fw = f2;
                end = j + f2;
                d = (int64_t)o2 - (int64_t)j;
            }
        }
        /* the alignment before matches it about as well: kept, as the
         * scan would (SWITCH_MIN) */
        if (have_diag && d != diag && (int64_t)(i - back) + diag >= 0 &&
            (int64_t)(i + fw) + diag <= (int64_t)olen &&
            back + fw <= zp_count_eq(old, olen, nw, i - back, i + fw, diag) + SWITCH_MIN)
            d = diag;
        rc = cover_push(b, i - back, (size_t)((int64_t)(i - back) + d), back + fw);
        if (rc != ZUPD_OK)
            break;
        diag = d;
        have_diag = 1;
        i += fw;
        prev = i;
        hv = 0;
    }
    free(t.head);
    free(t.next);
    if (rc != ZUPD_OK)
        zp_block_release(b);
    return rc;
}

void
zp_block_release(struct zp_blocks *b)
{
    free(b->cv);
    free(b->piece);
    memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------ the part of old indexed */

/* The context of a scanned stretch inside each cover it borders, at
 * threshold thr: the scan starts this far back in the cover before (where
 * its first search must find the cover's alignment, a match longer than
 * thr) and ends this far into the cover after (where the search must find
 * that one's, against what the alignment before still matches). */
static size_t
ctx_of(size_t thr)
{
    return 2 * thr + 64;
}
/* How far a stretch scanned goes into the cover after it: where the
 * alignment before (or a copy of it elsewhere) matches as long as that
 * cover's own up to the end of the stretch, the scan cannot tell them
 * apart, and a stretch that ends on another alignment costs an entry. */
#define CTX_IN 4096

/* What of old is indexed (zp_block_reduce): all of it but the inside of
 * each cover a scan can leave out (one of ctx_of(ZP_BLOCK_THR_MAX) + CTX_IN
 * + ZP_BLOCK_SLACK bytes or more): its first ctx_of(ZP_BLOCK_THR_MAX) +
 * ZP_BLOCK_SLACK bytes, where the scan before it finds it, and its last
 * ZP_BLOCK_SLACK are indexed; plus the places gap_finds gives. */
#define ZP_BLOCK_SLACK 64

static int
iv_cmp(const void *a, const void *b)
{
    const struct zp_piece *x = a, *y = b;
    return x->old < y->old ? -1 : x->old > y->old ? 1 : 0;
}

/* Sort pieces by their place in old and join those that overlap or touch. */
static size_t
pieces_join(struct zp_piece *p, size_t n)
{
    size_t m = 0;

    qsort(p, n, sizeof(*p), iv_cmp);
    for (size_t k = 0; k < n; k++) {
        if (m > 0 && p[k].old <= p[m - 1].old + p[m - 1].len) {
            size_t end = p[k].old + p[k].len;
            if (end > p[m - 1].old + p[m - 1].len)
                p[m - 1].len = end - p[m - 1].old;
        } else {
            p[m++] = p[k];
        }
    }
    return m;
}

/* Where in old the bytes of new between the long covers can match (a
 * record inserted is made of pieces of others): each GAP_GRAM bytes of new
 * at a position outside the covers of GAP_COVER bytes or more is looked
 * for at every position of old by a rolling hash; where it occurs at most
 * GAP_RARE times in old, old around each place (GAP_BACK bytes before,
 * GAP_FWD after) is indexed too. The matches the scan moves to there
 * are mostly longer than GAP_GRAM (they beat the alignment before by the
 * threshold, 4 to 256); the frequent pieces (JSON keys) say nothing of
 * where. */
#define GAP_GRAM 16
#define GAP_COVER 256
#define GAP_RARE 8
#define GAP_BACK 512
#define GAP_FWD 128

struct gap_ent {
    uint64_t h; /* 0: an empty slot */
    uint32_t count;
    uint32_t at[GAP_RARE];
};

/* Calls f(b, arg, p) for each position p of new whose gram is looked for. */
static size_t
gap_each(const struct zp_blocks *b, size_t nlen, void (*f)(void *, size_t), void *arg)
{
    size_t prev = 0, count = 0, last = nlen >= GAP_GRAM ? nlen - GAP_GRAM + 1 : 0;

    for (size_t k = 0; k <= b->n; k++) {
        size_t e = k < b->n ? b->cv[k].nw : nlen;
        size_t s = prev > GAP_GRAM ? prev - GAP_GRAM : 0;
        if (k < b->n && b->cv[k].len < GAP_COVER)
            continue; /* looked for with the stretch around it */
        if (e > last)
            e = last;
        for (size_t p = s; p < e; p++) {
            if (f != NULL)
                f(arg, p);
            count++;
        }
        if (k < b->n)
            prev = b->cv[k].nw + b->cv[k].len;
    }
    return count;
}

struct gap_tab {
    struct gap_ent *t;
    uint64_t *bm;
    unsigned bits;
    size_t mask;
    const uint8_t *nw;
};

static void
gap_put(void *arg, size_t p)
{
    struct gap_tab *g = arg;
    uint64_t h = zp_block_hash(g->nw + p, GAP_GRAM) | 1; /* never 0 */
    size_t at = zp_block_slot(h, g->bits), f;

    while (g->t[at].h != 0 && g->t[at].h != h)
        at = (at + 1) & g->mask;
    g->t[at].h = h;
    f = zp_block_slot(h, g->bits + 3);
    g->bm[f >> 6] |= UINT64_C(1) << (f & 63);
}

static int
gap_finds(const struct zp_blocks *b, const uint8_t *old, size_t olen, const uint8_t *nw,
          size_t nlen, struct zp_piece **out, size_t *nout)
{
    struct gap_tab g;
    uint64_t h, kpow = 1;
    size_t count, n = 0;

    *out = NULL;
    *nout = 0;
    count = gap_each(b, nlen, NULL, NULL);
    if (olen < GAP_GRAM || count == 0 || olen > UINT32_MAX)
        return ZUPD_OK;
    memset(&g, 0, sizeof(g));
    g.bits = 8;
    while (((size_t)1 << g.bits) < 2 * count)
        g.bits++;
    g.mask = ((size_t)1 << g.bits) - 1;
    g.nw = nw;
    g.t = calloc(g.mask + 1, sizeof(*g.t));
    g.bm = calloc(((size_t)1 << (g.bits + 3)) / 64, sizeof(*g.bm));
    if (g.t == NULL || g.bm == NULL) {
        free(g.t);
        free(g.bm);
        return ZUPD_E_NOMEM;
    }
    gap_each(b, nlen, gap_put, &g);
    /* roll over old */
    for (size_t k = 1; k < GAP_GRAM; k++)
        kpow *= HASH_K;
    h = zp_block_hash(old, GAP_GRAM);
    for (size_t i = 0;; i++) {
        uint64_t hh = h | 1;
        size_t f = zp_block_slot(hh, g.bits + 3);
        if ((g.bm[f >> 6] >> (f & 63)) & 1) {
            size_t at = zp_block_slot(hh, g.bits);
            while (g.t[at].h != 0 && g.t[at].h != hh)
                at = (at + 1) & g.mask;
            if (g.t[at].h == hh) {
                if (g.t[at].count < GAP_RARE)
                    g.t[at].at[g.t[at].count] = (uint32_t)i;
                if (g.t[at].count <= GAP_RARE)
                    g.t[at].count++;
            }
        }
        if (i + GAP_GRAM >= olen)
            break;
        h = block_roll(h, old + i, GAP_GRAM, kpow);
    }
    free(g.bm);
    for (size_t k = 0; k <= g.mask; k++)
        n += g.t[k].count <= GAP_RARE ? g.t[k].count : 0;
    *out = malloc((n + 1) * sizeof(**out));
    if (*out == NULL) {
        free(g.t);
        return ZUPD_E_NOMEM;
    }
    for (size_t k = 0; k <= g.mask; k++) {
        if (g.t[k].count > GAP_RARE)
            continue;
        for (uint32_t j = 0; j < g.t[k].count; j++) {
            size_t s = g.t[k].at[j] > GAP_BACK ? g.t[k].at[j] - GAP_BACK : 0;
            size_t e = olen - g.t[k].at[j] > GAP_FWD ? g.t[k].at[j] + GAP_FWD : olen;
            (*out)[*nout].old = s;
            (*out)[*nout].len = e - s;
            (*nout)++;
        }
    }
    free(g.t);
    return ZUPD_OK;
}

int
zp_block_reduce(struct zp_blocks *b, const uint8_t *old, size_t olen, const uint8_t *nw,
                size_t nlen)
{
    size_t m = ctx_of(ZP_BLOCK_THR_MAX) + ZP_BLOCK_SLACK, n = 0, at = 0, np = 0;
    struct zp_piece *in, *pc, *gf;
    size_t ngf;
    int rc;

    free(b->piece);
    b->piece = NULL;
    b->npiece = 0;
    b->rlen = 0;
    rc = gap_finds(b, old, olen, nw, nlen, &gf, &ngf);
    if (rc != ZUPD_OK)
        return rc;
    in = malloc((b->n + 1) * sizeof(*in));
    pc = malloc((2 * b->n + ngf + 1) * sizeof(*pc));
    if (in == NULL || pc == NULL) {
        free(in);
        free(pc);
        free(gf);
        return ZUPD_E_NOMEM;
    }
    if (ngf > 0)
        memcpy(pc, gf, ngf * sizeof(*pc));
    np = ngf;
    free(gf);
    /* the insides of the long covers; the short ones (scanned with the
     * stretches around them) whole and a little around, since a cover's
     * old can also be another's */
    for (size_t k = 0; k < b->n; k++) {
        const struct zp_cover *cv = &b->cv[k];
        if (cv->len >= ctx_of(ZP_BLOCK_THR_MAX) + CTX_IN + ZP_BLOCK_SLACK) {
            in[n].old = cv->old + m;
            in[n++].len = cv->len - m - ZP_BLOCK_SLACK;
        } else {
            size_t s = cv->old > ZP_BLOCK_SLACK ? cv->old - ZP_BLOCK_SLACK : 0;
            size_t e = olen - cv->old - cv->len > ZP_BLOCK_SLACK
                           ? cv->old + cv->len + ZP_BLOCK_SLACK
                           : olen;
            pc[np].old = s;
            pc[np++].len = e - s;
        }
    }
    n = pieces_join(in, n);
    /* and all of old outside the insides */
    for (size_t k = 0; k <= n; k++) {
        size_t s = k < n ? in[k].old : olen;
        if (s > at) {
            pc[np].old = at;
            pc[np++].len = s - at;
        }
        if (k < n && in[k].old + in[k].len > at)
            at = in[k].old + in[k].len;
    }
    free(in);
#ifdef ZU_DELTA_TRACE
    if (getenv("ZU_DELTA_BLOCK_ALL") != NULL) { /* development: index all of old */
        pc[0].old = 0;
        pc[0].len = olen;
        np = 1;
    }
#endif
    np = pieces_join(pc, np);
    for (size_t k = 0; k < np; k++) {
        pc[k].r = b->rlen;
        b->rlen += pc[k].len;
    }
    b->piece = pc;
    b->npiece = np;
    return ZUPD_OK;
}

/* The rule (docs/internals/delta.md, "Block matching"): new of
 * ZP_BLOCK_NEW_MIN bytes or more (index_build, candidates.c), at least
 * ZP_BLOCK_COVER_PCT % of it in covers of ZP_BLOCK_LONG bytes or more (the
 * matcher stops where that can no longer hold), and then (once
 * zp_block_reduce has run) at most old / BLOCK_INDEX_SHARE bytes of old
 * to index. */
#define BLOCK_INDEX_SHARE 2

int
zp_block_wanted(const struct zp_blocks *b, size_t olen, size_t nlen)
{
#ifdef ZU_DELTA_TRACE
    const char *env = getenv("ZU_DELTA_BLOCK"); /* development: 0 never, 1 always */
    fprintf(stderr, "delta: block covers %zu covered %.4f long %.4f%s indexed %.4f\n", b->n,
            nlen > 0 ? (double)b->covered / (double)nlen : 0.0,
            nlen > 0 ? (double)b->covered_long / (double)nlen : 0.0, b->partial ? " (stopped)" : "",
            olen > 0 && b->piece != NULL ? (double)b->rlen / (double)olen : 0.0);
    if (env != NULL && *env != '\0')
        return *env == '1' && b->n > 0;
#endif
    if (b->n == 0 || b->partial || nlen < ZP_BLOCK_NEW_MIN ||
        b->covered_long / ZP_BLOCK_COVER_PCT < nlen / 100)
        return 0;
    return b->piece == NULL || b->rlen <= olen / BLOCK_INDEX_SHARE;
}

/* The suffix index of the pieces of old (zp_block_reduce), its positions
 * those of old: the pieces are joined and sorted as one string, whose
 * suffixes that run over a join sort as the joined string says (a match
 * found there is measured in old itself: only which match a search finds
 * can differ, never what a plan copies). */
/* The places of the string indexed are mapped back to old through a table
 * of the piece each 2^MAP_SHIFT-th place is in, then the pieces that start
 * after it up to the place (pieces are over 128 bytes but at old's ends:
 * none or one). A binary search over the pieces for each suffix was an
 * eighth of mdn-bcd-w's creation CPU (a cache miss each step). */
#define MAP_SHIFT 6

int
zp_block_index(const struct zp_blocks *b, const uint8_t *old, size_t olen, int skip,
               struct sindex *ix)
{
    uint32_t *map;
    uint8_t *r;
    size_t nmap, pk = 0;
    int rc;

    memset(ix, 0, sizeof(*ix));
    if (b->rlen == 0 || olen > (size_t)INT32_MAX - 1)
        return ZUPD_OK;
    r = malloc(b->rlen);
    if (r == NULL)
        return ZUPD_E_NOMEM;
    for (size_t k = 0; k < b->npiece; k++)
        memcpy(r + b->piece[k].r, old + b->piece[k].old, b->piece[k].len);
    rc = zp_sindex_build(r, b->rlen, skip, ix);
    free(r);
    if (rc != ZUPD_OK)
        return rc;
    nmap = ((b->rlen - 1) >> MAP_SHIFT) + 1;
    map = malloc(nmap * sizeof(*map));
    if (map == NULL) {
        zp_sindex_release(ix);
        return ZUPD_E_NOMEM;
    }
    for (size_t j = 0; j < nmap; j++) { /* the last piece starting at or before j's place */
        while (pk + 1 < b->npiece && b->piece[pk + 1].r <= j << MAP_SHIFT)
            pk++;
        map[j] = (uint32_t)pk;
    }
    for (size_t i = 0; i < b->rlen; i++) {
        size_t at = (size_t)ix->sa[i];
        pk = map[at >> MAP_SHIFT];
        while (pk + 1 < b->npiece && b->piece[pk + 1].r <= at)
            pk++;
        ix->sa[i] = (int32_t)(b->piece[pk].old + (at - b->piece[pk].r));
    }
    free(map);
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ the plan */

/* A plan made of stretches of new in order: each copied from old at some
 * place (an add) or carried in the extra stream; adds that go on where
 * the one before ended join into one entry. */
struct asm_ {
    struct plan *p;
    uint64_t add, copy; /* the entry being made */
    size_t add_old;     /* where its add starts in old */
    size_t max;
};

static int
asm_flush(struct asm_ *a, size_t next_old)
{
    int rc;

    if (a->add == 0 && a->copy == 0 && a->p->n > 0) {
        a->p->c[a->p->n - 1].seek += (int64_t)next_old - (int64_t)a->add_old;
        return ZUPD_OK;
    }
    rc = ZU_GROW(&a->p->c, &a->p->cap, a->p->n + 1, a->max);
    if (rc != ZUPD_OK)
        return rc;
    a->p->c[a->p->n].add = a->add;
    a->p->c[a->p->n].copy = a->copy;
    a->p->c[a->p->n].seek = (int64_t)next_old - (int64_t)(a->add_old + a->add);
    a->p->n++;
    a->p->diff_len += a->add;
    a->p->extra_len += a->copy;
    return ZUPD_OK;
}

static int
asm_add(struct asm_ *a, size_t old, size_t len)
{
    int rc;

    if (len == 0)
        return ZUPD_OK;
    if (a->copy == 0 && a->add_old + a->add == old) {
        a->add += len;
        return ZUPD_OK;
    }
    rc = asm_flush(a, old);
    a->add = len;
    a->copy = 0;
    a->add_old = old;
    return rc;
}

/* Scan new[from, to) on its own, starting on the alignment new[from] =
 * old[pos0], and add its plan to a. */
static int
asm_scan(struct asm_ *a, const uint8_t *old, size_t olen, const uint8_t *nw, size_t from, size_t to,
         size_t pos0, const struct sindex *ix, int skip, size_t thr)
{
    struct plan sp;
    int64_t op = (int64_t)pos0;
    int rc;

    if (to <= from)
        return ZUPD_OK;
    rc = zp_plan_scan_from(old, olen, nw + from, to - from, ix, skip, thr, pos0, &sp);
    for (size_t i = 0; rc == ZUPD_OK && i < sp.n; i++) {
        rc = asm_add(a, (size_t)op, sp.c[i].add);
        a->copy += sp.c[i].copy;
        op += (int64_t)sp.c[i].add + sp.c[i].seek;
    }
    zp_plan_release(&sp);
    return rc;
}

int
zp_block_scan(const struct zp_blocks *b, const uint8_t *old, size_t olen, const uint8_t *nw,
              size_t nlen, const struct sindex *ix, int skip, size_t thr, struct plan *p)
{
    size_t ctx = ctx_of(thr), ctx_in = CTX_IN, from = 0, pos0 = 0;
    struct asm_ a;

    if (ctx_in < ctx)
        ctx_in = ctx;
    int rc = ZUPD_OK;

    memset(p, 0, sizeof(*p));
    memset(&a, 0, sizeof(a));
    a.p = p;
    a.max = nlen + 1;
    for (size_t k = 0; rc == ZUPD_OK && k < b->n; k++) {
        const struct zp_cover *cv = &b->cv[k];
        if (cv->len < ctx + ctx_in + ZP_BLOCK_SLACK || cv->nw < from)
            continue; /* scanned with the stretch around it */
        rc = asm_scan(&a, old, olen, nw, from, cv->nw + ctx_in, pos0, ix, skip, thr);
        if (rc == ZUPD_OK)
            rc = asm_add(&a, cv->old + ctx_in, cv->len - ctx - ctx_in);
        from = cv->nw + cv->len - ctx;
        pos0 = cv->old + cv->len - ctx;
    }
    if (rc == ZUPD_OK)
        rc = asm_scan(&a, old, olen, nw, from, nlen, pos0, ix, skip, thr);
    if (rc == ZUPD_OK && (a.add > 0 || a.copy > 0))
        rc = asm_flush(&a, a.add_old + a.add);
    if (rc != ZUPD_OK)
        zp_plan_release(p);
    return rc;
}
