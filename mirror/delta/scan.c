/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/scan.c -- the bsdiff scan: suffix array and gram filter of old, the match search,
 * and the plans (control entries) it makes. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <divsufsort.h>

#include "delta/create_int.h"
#include "zu/delta_x86.h"
#include "zu/internal.h"

/* ------------------------------------------------------------------ plan */

void
zp_plan_release(struct plan *p)
{
    free(p->c);
    free(p->diff);
    free(p->extra);
    memset(p, 0, sizeof(*p));
}

/* Drop a plan's streams (zp_plan_fill makes them again). */
void
zp_plan_empty(struct plan *p)
{
    free(p->diff);
    free(p->extra);
    p->diff = p->extra = NULL;
}

/* Make the extra stream of p from its control entries, and the diff
 * stream where diff is set. */
static int
plan_fill(struct plan *p, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, int diff)
{
    size_t np = 0, dn = 0, xn = 0;
    int64_t op = 0;

    if (p->extra != NULL && (p->diff != NULL || !diff))
        return ZUPD_OK;
    zp_plan_empty(p);
    p->diff = diff ? malloc(p->diff_len + 1) : NULL;
    p->extra = malloc(p->extra_len + 1);
    if ((diff && p->diff == NULL) || p->extra == NULL) {
        zp_plan_empty(p);
        return ZUPD_E_NOMEM;
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct ctl *c = &p->c[i];
        /* the scan only makes entries inside both files */
        if (op < 0 || (uint64_t)op > olen || c->add > olen - (uint64_t)op || c->add > nlen - np ||
            c->copy > nlen - np - c->add || c->add > p->diff_len - dn ||
            c->copy > p->extra_len - xn) {
            zp_plan_empty(p);
            return ZUPD_E_MISUSE;
        }
        /* through locals (a byte store may alias anything, the entry's
         * add too): the loop is vectorized */
        if (p->diff != NULL) {
            uint8_t *d = p->diff + dn;
            const uint8_t *a = nw + np, *b = old + op;
            const size_t n = (size_t)c->add;
            for (size_t k = 0; k < n; k++)
                d[k] = (uint8_t)(a[k] - b[k]);
        }
        dn += c->add;
        np += c->add;
        op += (int64_t)c->add;
        if (c->copy > 0)
            memcpy(p->extra + xn, nw + np, c->copy);
        if (c->copy > 0 && p->x86 != NULL)
            zu_x86_run(p->extra + xn, c->copy, np, p->x86, 1);
        xn += c->copy;
        np += c->copy;
        op += c->seek;
    }
    return ZUPD_OK;
}

/* Make the diff and extra streams of p from its control entries. */
int
zp_plan_fill(struct plan *p, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen)
{
    return plan_fill(p, old, olen, nw, nlen, 1);
}

/* The extra stream only: what zp_plan_estimate needs (it makes the split
 * coding of the diff stream from the entries). */
int
zp_plan_fill_extra(struct plan *p, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen)
{
    return plan_fill(p, old, olen, nw, nlen, 0);
}

/* Append an entry to p, a plan of at most max entries. */
static int
plan_push(struct plan *p, uint64_t add, uint64_t copy, int64_t seek, size_t max)
{
    int rc;

    if (add == 0 && copy == 0 && p->n > 0) { /* only a seek: the last entry's */
        p->c[p->n - 1].seek += seek;
        return ZUPD_OK;
    }
    rc = ZU_GROW(&p->c, &p->cap, p->n + 1, max);
    if (rc != ZUPD_OK)
        return rc;
    p->c[p->n].add = add;
    p->c[p->n].copy = copy;
    p->c[p->n].seek = seek;
    p->n++;
    return ZUPD_OK;
}

static size_t
matchlen(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return zp_same_len(a, b, alen < blen ? alen : blen);
}

/* Longest match of nw[0..nlen) among the suffixes of old, binary search on
 * the suffix array sa[lo..hi] (inclusive). Each step of the search reads
 * the suffix array and then old at a place of its own, two cache misses
 * one after the other (a third of a scan's time on libvips-b); the next
 * steps' places are known ahead (the two halves' middles, and theirs), so
 * each step asks for the suffix array entries of the two steps after it
 * and for old at the next step's two candidates, whose entries it asked
 * for one step before: the misses of three steps overlap. Prefetches
 * only: the same steps, the same result. */
static size_t
zu_sa_longest(const int32_t *sa, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
              size_t lo, size_t hi, size_t *pos)
{
    size_t llen = matchlen(old + sa[lo], olen - (size_t)sa[lo], nw, nlen);
    size_t hlen = matchlen(old + sa[hi], olen - (size_t)sa[hi], nw, nlen);

    while (hi - lo >= 2) {
        size_t mid = lo + (hi - lo) / 2;
        size_t o = (size_t)sa[mid];
        /* the common prefix of the whole range is at least min(llen, hlen) */
        size_t skip = llen < hlen ? llen : hlen;
        size_t c0 = lo + (mid - lo) / 2, c1 = mid + (hi - mid) / 2; /* the next middle */
        size_t m;

        __builtin_prefetch(&sa[lo + (c0 - lo) / 2]);
        __builtin_prefetch(&sa[c0 + (mid - c0) / 2]);
        __builtin_prefetch(&sa[mid + (c1 - mid) / 2]);
        __builtin_prefetch(&sa[c1 + (hi - c1) / 2]);
        __builtin_prefetch(old + sa[c0] + skip);
        __builtin_prefetch(old + sa[c1] + skip);
        m = skip + matchlen(old + o + skip, olen - o - skip, nw + skip, nlen - skip);
        if (m == nlen) {
            *pos = o;
            return m;
        }
        if (o + m == olen || old[o + m] < nw[m]) {
            lo = mid;
            llen = m;
        } else {
            hi = mid;
            hlen = m;
        }
    }
    if (llen >= hlen) {
        *pos = (size_t)sa[lo];
        return llen;
    }
    *pos = (size_t)sa[hi];
    return hlen;
}

/* Index of the suffix array by the first two bytes of each suffix:
 * suffixes starting with bytes (a, b) are sa[bkt[a*256+b] .. bkt[a*256+b+1]).
 * A suffix of one byte c counts as (c, 0) and sorts first in that bucket. */
#define BKT_N 65536

static void
bkt_build(const uint8_t *old, size_t olen, uint32_t *bkt)
{
    memset(bkt, 0, (BKT_N + 1) * sizeof(*bkt));
    for (size_t i = 0; i < olen; i++) {
        unsigned k = (unsigned)old[i] << 8 | (i + 1 < olen ? old[i + 1] : 0u);
        bkt[k + 1]++;
    }
    for (size_t k = 0; k < BKT_N; k++)
        bkt[k + 1] += bkt[k];
}

/* Longest match of nw[0..nlen) in old (nlen >= 1, olen >= 1). */
static size_t
sa_find(const int32_t *sa, const uint32_t *bkt, const uint8_t *old, size_t olen, const uint8_t *nw,
        size_t nlen, size_t *pos)
{
    size_t lo, hi;

    if (nlen >= 2) {
        unsigned k = (unsigned)nw[0] << 8 | nw[1];
        lo = bkt[k];
        hi = bkt[k + 1];
        if (lo < hi)
            return zu_sa_longest(sa, old, olen, nw, nlen, lo, hi - 1, pos);
    }
    lo = bkt[(unsigned)nw[0] << 8];
    hi = bkt[((unsigned)nw[0] << 8) + 256];
    if (lo < hi)
        return zu_sa_longest(sa, old, olen, nw, nlen, lo, hi - 1, pos);
    *pos = 0;
    return 0;
}

/* Fast path of the scan (levels up to 19). Most suffix searches of a scan
 * land where the current alignment (new[i] = old[i + off]) simply goes on
 * after a changed byte, and each costs about 14 cache misses in the suffix
 * array. When old at off matches at least run bytes from scan, or from
 * scan + 1 after one changed byte, take that alignment as the match (*len,
 * capped at FAST_CAP so that no stretch is compared twice at length) and
 * skip the search: a better alignment is still found at the next mismatch.
 * With the gram filter below: 4.55 M searches -> 0.66 M on turbo. */
#define FAST_CAP 4096
#define FAST_RUN 8

static int
aligned_here(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, size_t scan,
             int64_t off, size_t run, size_t *len, size_t *pos)
{
    int64_t o = (int64_t)scan + off;
    size_t lim, m;

    if (o < 0 || (uint64_t)o >= olen)
        return 0;
    lim = nlen - scan < FAST_CAP ? nlen - scan : FAST_CAP;
    m = matchlen(old + o, olen - (size_t)o, nw + scan, lim);
    if (m >= run || (m == lim && m > 0)) {
        *len = m;
        *pos = (size_t)o;
        return 1;
    }
    if (m == 0 && (uint64_t)o + 1 < olen && lim > run &&
        matchlen(old + o + 1, olen - (size_t)o - 1, nw + scan + 1, run) == run) {
        *len = 0; /* a changed byte: step over it */
        *pos = (size_t)o;
        return 1;
    }
    return 0;
}

/* Which GRAM-byte strings occur in old: one bit per hash, about four bits
 * per byte of old or more (no false negatives, a quarter false positives at most). The
 * scan only moves to a new alignment for a match longer than the current
 * one by 8 bytes, so where new's next GRAM = 9 bytes occur nowhere in old,
 * the suffix search is skipped (most searches of a scan end there: 3 of
 * 4.5 million on turbo). */
#define GRAM 9

static inline uint64_t
gram_hash(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return (x ^ (uint64_t)p[8] << 59 ^ (uint64_t)p[8]) * UINT64_C(0x9E3779B97F4A7C15);
}

static int
gf_build(struct gram_filter *g, const uint8_t *old, size_t olen)
{
    unsigned lg = 16;

    while (lg < 34 && (UINT64_C(1) << lg) < (uint64_t)olen * 2)
        lg++;
    g->shift = 64 - lg;
    g->bits = calloc((size_t)1 << (lg - 6), sizeof(uint64_t));
    if (g->bits == NULL)
        return ZUPD_E_NOMEM;
    for (size_t i = 0; i + GRAM <= olen; i++) {
        uint64_t h = gram_hash(old + i) >> g->shift;
        g->bits[h >> 6] |= UINT64_C(1) << (h & 63);
    }
    return ZUPD_OK;
}

static inline int
gf_has(const struct gram_filter *g, const uint8_t *p)
{
    uint64_t h = gram_hash(p) >> g->shift;
    return (g->bits[h >> 6] >> (h & 63)) & 1;
}

/* gf_has at new position scan, and a prefetch of the filter's word for
 * the position GF_AHEAD steps on: the scan tests the positions in order,
 * and each test is a cache miss otherwise (half the scan loop's own time
 * on libvips-b). Changes no result. */
#define GF_AHEAD 8

static inline int
gf_has_ahead(const struct gram_filter *g, const uint8_t *nw, size_t nlen, size_t scan, size_t step)
{
    size_t at = scan + step * GF_AHEAD;

    if (at < nlen && nlen - at >= GRAM)
        __builtin_prefetch(&g->bits[(gram_hash(nw + at) >> g->shift) >> 6]);
    return gf_has(g, nw + scan);
}

/* The suffix searches of a scan, kept for the next scan of the same new
 * bytes. A search's result (the longest match of new at a position, and
 * where it is in old) does not depend on the threshold, and the ladder
 * scans a file at two to six thresholds, whose searches are at the same
 * positions for the most part (libvips-b: of the second rung's searches
 * 28-70 % were the first's, of the third's 90-93 % were the first two's).
 * Each scan reads the list of the searches before it in the order of new
 * (a scan's positions only grow), notes its own new searches in a second
 * list, and merges that into the first at its end. Changes no result: a
 * search not in the memo is made as before, so a scan without a memo (no
 * memory, too big for 32-bit entries) or with only some of its searches
 * in it (the budget below) makes the same plan. */
struct smemo_ent {
    uint32_t at, pos; /* a search at new[at] found its match at old[pos] */
};

struct smemo {
    const uint8_t *nw; /* the new bytes the entries are of */
    size_t nlen;
    struct smemo_ent *e; /* the searches of the scans before, by at */
    size_t n, cap;
    struct smemo_ent *f; /* this scan's searches that e does not have */
    size_t fn, fcap;
    size_t rd;  /* next entry of e to read */
    size_t max; /* entries in e and f together at most (sindex's memo_max) */
    int off;    /* no memo for this scan */
};

/* The entries are 8 bytes: the length of a search's match is not kept
 * but measured again at its place (one compare where the search made
 * about ten, each a cache miss in the suffix array and one in old). The
 * budget: each memo (one a half of new) holds at most olen / MEMO_SHARE
 * bytes, so both together stay under an eighth of the suffix array the
 * index holds already (4 bytes a byte of old). The ladders of levels up
 * to 19 stay under it: libvips-b's three scans end with 385 k and 273 k
 * entries (5.3 MB; budget 584 k each), esbuild-p's with 118 k and 216 k
 * (2.7 MB; budget 356 k); the exhaustive scans of levels 20-22, which may
 * search everywhere, stop noting at the budget. MEMO_MIN entries at
 * least, for small files. */
#define MEMO_SHARE 4
#define MEMO_MIN 4096

static void
memo_release(struct smemo *m)
{
    free(m->e);
    free(m->f);
    memset(m, 0, sizeof(*m));
}

/* Start a scan of nw[0..nlen) with memo m (NULL: none) of at most max
 * entries. */
static void
memo_begin(struct smemo *m, const uint8_t *nw, size_t nlen, size_t max)
{
    if (m == NULL)
        return;
    if (m->nw != nw || m->nlen != nlen) {
        memo_release(m);
        m->nw = nw;
        m->nlen = nlen;
    }
    m->max = max;
    m->off = nlen > UINT32_MAX; /* entries of 32 bits */
    m->rd = 0;
    m->fn = 0;
}

/* Note a search this scan made: kept while the budget and memory allow
 * (a search left out is made again by the next scan). */
static void
memo_note(struct smemo *m, size_t at, size_t pos)
{
    if (m->n + m->fn >= m->max || ZU_GROW(&m->f, &m->fcap, m->fn + 1, m->max) != ZUPD_OK)
        return;
    m->f[m->fn].at = (uint32_t)at;
    m->f[m->fn].pos = (uint32_t)pos;
    m->fn++;
}

/* End a scan: its new searches merged into the list the next scan reads,
 * from the back, in place (e grows by f's entries; both are by at, and
 * no position is in both). */
static void
memo_end(struct smemo *m)
{
    size_t i, j, k;

    if (m == NULL || m->off || m->fn == 0 ||
        ZU_GROW(&m->e, &m->cap, m->n + m->fn, m->max) != ZUPD_OK)
        goto out;
    i = m->n;
    j = m->fn;
    k = m->n + m->fn;
    while (j > 0) {
        if (i > 0 && m->e[i - 1].at > m->f[j - 1].at)
            m->e[--k] = m->e[--i];
        else
            m->e[--k] = m->f[--j];
    }
    m->n += m->fn;
out:
#ifdef ZU_DELTA_TRACE
    if (m != NULL)
        fprintf(stderr, "delta: memo %zu + %zu of %zu\n", m->n - m->fn, m->fn, m->max);
#endif
    if (m != NULL) { /* f is scratch: the next scan makes its own */
        free(m->f);
        m->f = NULL;
        m->fn = m->fcap = 0;
    }
}

/* sa_find of nw[at..nlen), through the memo m (NULL: none). */
static size_t
memo_find(struct smemo *m, const int32_t *sa, const uint32_t *bkt, const uint8_t *old, size_t olen,
          const uint8_t *nw, size_t nlen, size_t at, size_t *pos)
{
    size_t len;

    if (m == NULL || m->off)
        return sa_find(sa, bkt, old, olen, nw + at, nlen - at, pos);
    while (m->rd < m->n && m->e[m->rd].at < at)
        m->rd++;
    if (m->rd < m->n && m->e[m->rd].at == at) {
        /* sa_find's length is the match at the place it returns */
        *pos = m->e[m->rd++].pos;
        return matchlen(old + *pos, olen - *pos, nw + at, nlen - at);
    }
    len = sa_find(sa, bkt, old, olen, nw + at, nlen - at, pos);
    memo_note(m, at, *pos);
    return len;
}

void
zp_sindex_release(struct sindex *ix)
{
    free(ix->sa);
    free(ix->bkt);
    free(ix->gf.bits);
    if (ix->memo != NULL) {
        memo_release(&ix->memo[0]);
        memo_release(&ix->memo[1]);
        free(ix->memo);
    }
    memset(ix, 0, sizeof(*ix));
}

size_t
zp_sindex_memo_len(const struct sindex *ix)
{
    return ix->memo != NULL ? ix->memo[0].n + ix->memo[1].n : 0;
}

struct gf_arg {
    struct gram_filter *g;
    const uint8_t *old;
    size_t olen;
    int rc;
};

static void *
gf_thread(void *arg)
{
    struct gf_arg *a = arg;
    a->rc = gf_build(a->g, a->old, a->olen);
    return NULL;
}

int
zp_sindex_build(const uint8_t *old, size_t olen, int skip, struct sindex *ix)
{
    struct gf_arg ga = {&ix->gf, old, olen, ZUPD_OK};
    pthread_t th;
    int rc, threaded = 0;

    memset(ix, 0, sizeof(*ix));
    if (olen > (size_t)INT32_MAX - 1)
        return ZUPD_E_TOOBIG;
    if (olen == 0)
        return ZUPD_OK;
    ix->sa = malloc(olen * sizeof(*ix->sa));
    ix->bkt = malloc((BKT_N + 1) * sizeof(*ix->bkt));
    if (ix->sa == NULL || ix->bkt == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    /* the gram filter is built beside the suffix sort */
    if (skip && sysconf(_SC_NPROCESSORS_ONLN) > 1 && pthread_create(&th, NULL, gf_thread, &ga) == 0)
        threaded = 1;
    TR("divsufsort", rc = divsufsort(old, ix->sa, (int32_t)olen) == 0 ? ZUPD_OK : ZUPD_E_NOMEM);
    if (threaded)
        pthread_join(th, NULL);
    else if (skip)
        gf_thread(&ga);
    if (rc == ZUPD_OK)
        rc = ga.rc;
    if (rc != ZUPD_OK)
        goto out;
    bkt_build(old, olen, ix->bkt);
    ix->memo = calloc(2, sizeof(*ix->memo)); /* NULL: the scans search without */
    ix->memo_max = olen / (MEMO_SHARE * sizeof(struct smemo_ent)) + MEMO_MIN;
out:
    if (rc != ZUPD_OK)
        zp_sindex_release(ix);
    return rc;
}

/* The scan's score of the current alignment (create_int.h), eight bytes
 * at a time (the same count as byte by byte; most of it is over stretches
 * that aligned_here has just matched). */
size_t
zp_count_eq(const uint8_t *old, size_t olen, const uint8_t *nw, size_t from, size_t to, int64_t off)
{
    const uint64_t lo7 = UINT64_C(0x7f7f7f7f7f7f7f7f), hi7 = UINT64_C(0x8080808080808080);
    int64_t lo = (int64_t)from, hi = (int64_t)to, i;
    size_t n = 0;

    if (lo < -off)
        lo = -off; /* i + off >= 0 */
    if (hi > (int64_t)olen - off)
        hi = (int64_t)olen - off; /* i + off < olen */
    for (i = lo; i + 8 <= hi; i += 8) {
        uint64_t x, y;
        memcpy(&x, old + (i + off), 8);
        memcpy(&y, nw + i, 8);
        x ^= y; /* a byte of x is nonzero where they differ */
        x = ((x & lo7) + lo7) | x;
        n += 8 - (size_t)(((x & hi7) >> 7) * UINT64_C(0x0101010101010101) >> 56);
    }
    for (; i < hi; i++)
        n += old[i + off] == nw[i] ? 1u : 0u;
    return n;
}

/* How many of the eight bytes at a and b are equal. */
static inline size_t
eq8(const uint8_t *a, const uint8_t *b)
{
    const uint64_t lo7 = UINT64_C(0x7f7f7f7f7f7f7f7f), hi7 = UINT64_C(0x8080808080808080);
    uint64_t x, y;

    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    x ^= y;
    x = ((x & lo7) + lo7) | x; /* the high bit of a byte: set where they differ */
    return 8 - (size_t)(((x & hi7) >> 7) * UINT64_C(0x0101010101010101) >> 56);
}

/* One step of an extension's score (2 * equal - length, the best kept at
 * the first length that reaches it) over eight bytes of which e are
 * equal, where it needs no byte by byte: all eight equal (the score rises
 * at every byte, so the best is the block's end if that beats it), or e
 * too few to lift the score over the best (each byte adds at most one).
 * Returns 0 where the bytes must be read one by one. */
static inline int
ext_block(size_t e, int64_t *s, size_t *i, int64_t *sbest, size_t *lbest)
{
    int64_t best = *sbest * 2 - (int64_t)*lbest;

    if (e == 8) {
        *s += 8;
        *i += 8;
        if (*s * 2 - (int64_t)*i > best) {
            *sbest = *s;
            *lbest = *i;
        }
        return 1;
    }
    if (*s * 2 - (int64_t)*i + (int64_t)e <= best) {
        *s += (int64_t)e;
        *i += 8;
        return 1;
    }
    return 0;
}

/* Where the match before (at lastscan in new, lastpos in old) ends and
 * the new one (at scan, pos) starts: *lenfp bytes of the one before are
 * kept (forward extension), *lenbp bytes before the new one (backward
 * extension), an overlap split where it costs least. The two extensions
 * take eight bytes at a time where ext_block can (4.8 % of libvips-b's
 * creation byte by byte); the result is that of the byte loops
 * (t_delta's test_scan_extend holds them side by side). */
void
zp_scan_extend(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, size_t lastscan,
               size_t lastpos, size_t scan, size_t pos, size_t *lenfp, size_t *lenbp)
{
    size_t lenf = 0, lenb = 0, i;
    int64_t s, sf = 0, sb = 0;

    /* forward extension of the previous match */
    s = 0;
    for (i = 0; lastscan + i < scan && lastpos + i < olen;) {
        if (scan - lastscan - i >= 8 && olen - lastpos - i >= 8 &&
            ext_block(eq8(old + lastpos + i, nw + lastscan + i), &s, &i, &sf, &lenf))
            continue;
        if (old[lastpos + i] == nw[lastscan + i])
            s++;
        i++;
        if (s * 2 - (int64_t)i > sf * 2 - (int64_t)lenf) {
            sf = s;
            lenf = i;
        }
    }
    /* backward extension of the new match: bytes pos - i, scan - i */
    if (scan < nlen) {
        s = 0;
        for (i = 1; scan >= lastscan + i && pos >= i;) {
            /* the block of i .. i + 7 is at pos - i - 7 .. pos - i */
            if (scan - lastscan >= i + 7 && pos >= i + 7) {
                size_t at = i - 1; /* ext_block counts lengths from i - 1 */
                if (ext_block(eq8(old + pos - i - 7, nw + scan - i - 7), &s, &at, &sb, &lenb)) {
                    i = at + 1;
                    continue;
                }
            }
            if (old[pos - i] == nw[scan - i])
                s++;
            if (s * 2 - (int64_t)i > sb * 2 - (int64_t)lenb) {
                sb = s;
                lenb = i;
            }
            i++;
        }
    }
    /* split an overlap where it costs least */
    if (lastscan + lenf > scan - lenb) {
        size_t overlap = (lastscan + lenf) - (scan - lenb);
        size_t lens = 0;
        int64_t ss = 0;
        s = 0;
        for (i = 0; i < overlap; i++) {
            if (nw[lastscan + lenf - overlap + i] == old[lastpos + lenf - overlap + i])
                s++;
            if (nw[scan - lenb + i] == old[pos - lenb + i])
                s--;
            if (s > ss) {
                ss = s;
                lens = i + 1;
            }
        }
        lenf += lens - overlap;
        lenb -= lens;
    }
    *lenfp = lenf;
    *lenbp = lenb;
}

/* The bsdiff scan (Percival's algorithm, our code): find approximate
 * matches, extend them forwards and backwards by the "more equal than not"
 * rule, emit (add, copy, seek) with the diff and extra bytes. A new
 * alignment is taken where its match is longer than what the current one
 * matches by more than thr bytes (Percival: 8). */
static int
plan_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, const struct sindex *ix,
          struct smemo *memo, int skip, size_t thr, size_t pos0, struct plan *p)
{
    const int32_t *sa = ix->sa;
    const uint32_t *bkt = ix->bkt;
    const struct gram_filter gf = ix->gf;
    size_t skip_after = skip ? 16 : SIZE_MAX / 2, skip_max = skip ? 32 : 1;
    size_t fast_run = skip ? FAST_RUN : 0;
    size_t scan = 0, len = 0, pos = 0, lastscan = 0, lastpos = pos0;
    int64_t lastoffset = (int64_t)pos0; /* the alignment new[0] = old[pos0] to start with */
    /* the cap of the entries: each but the first writes at least one byte
     * of new (plan_push folds a seek alone into the entry before) */
    size_t max = nlen + 1;
    int rc = ZUPD_OK;

    memset(p, 0, sizeof(*p));
    if (olen > (size_t)INT32_MAX - 1 || nlen > (size_t)INT64_MAX / 2)
        return ZUPD_E_TOOBIG;
    if (olen == 0) {
        p->extra_len = nlen;
        if (nlen > 0)
            rc = plan_push(p, 0, nlen, 0, max);
        goto out;
    }

    memo_begin(memo, nw, nlen, ix->memo_max);
    while (scan < nlen) {
        size_t oldscore = 0;
        size_t scsc;

        size_t fails = 0, step = 1;

        scan += len;
        for (scsc = scan; scan < nlen; scan += step) {
            if (fast_run > 0 &&
                aligned_here(old, olen, nw, nlen, scan, lastoffset, fast_run, &len, &pos)) {
                /* the current alignment goes on: no suffix search */
            } else if (gf.bits != NULL && nlen - scan >= GRAM &&
                       !gf_has_ahead(&gf, nw, nlen, scan, step)) {
                len = 0; /* no match of GRAM bytes: cannot beat oldscore by 8 */
                pos = 0;
            } else {
                len = memo_find(memo, sa, bkt, old, olen, nw, nlen, scan, &pos);
            }
            oldscore += zp_count_eq(old, olen, nw, scsc, scan + len, lastoffset);
            if (scsc < scan + len)
                scsc = scan + len;
            if ((len == oldscore && len != 0) || len > oldscore + thr)
                break;
            /* Skip ahead in long stretches without a better match: after
             * skip_after failed searches, search every step-th byte only
             * (step grows to skip_max). oldscore keeps counting the bytes
             * of [scan, scsc) that match at lastoffset. */
            fails++;
            step = fails > skip_after ? 1 + (fails - skip_after) / skip_after : 1;
            if (step > skip_max)
                step = skip_max;
            if (step > nlen - scan)
                step = nlen - scan;
            for (size_t q = scan; q < scan + step && q < scsc; q++) {
                int64_t o = (int64_t)q + lastoffset;
                if (o >= 0 && (uint64_t)o < olen && old[o] == nw[q])
                    oldscore--;
            }
            if (scsc < scan + step)
                scsc = scan + step;
        }
        if (len != oldscore || scan == nlen) {
            size_t lenf, lenb;

            zp_scan_extend(old, olen, nw, nlen, lastscan, lastpos, scan, pos, &lenf, &lenb);
            p->diff_len += lenf;
            {
                size_t ex = (scan - lenb) - (lastscan + lenf);
                p->extra_len += ex;
                rc = plan_push(p, lenf, ex, (int64_t)(pos - lenb) - (int64_t)(lastpos + lenf), max);
                if (rc != ZUPD_OK)
                    goto out;
            }
            lastscan = scan - lenb;
            lastpos = pos - lenb;
            lastoffset = (int64_t)pos - (int64_t)scan;
        }
    }
    memo_end(memo);
out:
    if (rc != ZUPD_OK)
        zp_plan_release(p);
    return rc;
}

/* Big new files at levels up to 19 are scanned as two halves, the second
 * on its own thread: the scan is sequential, and on turbo it is a third of
 * the time. The halves' plans are joined: the last seek of the first half
 * brings the old position back to 0, where the second half's plan starts.
 * Always two halves, threads or not, so the patch does not depend on the
 * number of CPUs. */
struct half {
    const uint8_t *old, *nw;
    size_t olen, nlen;
    const struct sindex *ix;
    struct smemo *memo;
    int skip;
    size_t thr;
    struct plan p;
    int rc;
};

static void *
half_run(void *arg)
{
    struct half *h = arg;
    h->rc = plan_make(h->old, h->olen, h->nw, h->nlen, h->ix, h->memo, h->skip, h->thr, 0, &h->p);
    return NULL;
}

/* Append b to a (b is released); max: as for plan_push. */
static int
plan_join(struct plan *a, struct plan *b, size_t max)
{
    int64_t o = 0;
    size_t skip = 0;
    int rc = ZU_GROW(&a->c, &a->cap, a->n + b->n, max);

    if (rc != ZUPD_OK)
        return rc;
    for (size_t i = 0; i < a->n; i++)
        o += (int64_t)a->c[i].add + a->c[i].seek;
    if (a->n > 0)
        a->c[a->n - 1].seek -= o; /* back to old position 0 */
    if (a->n > 0 && b->n > 0 && b->c[0].add == 0 && b->c[0].copy == 0) {
        a->c[a->n - 1].seek += b->c[0].seek; /* b's first entry is only a seek */
        skip = 1;
    }
    if (b->n > skip)
        memcpy(a->c + a->n, b->c + skip, (b->n - skip) * sizeof(*a->c));
    a->n += b->n - skip;
    a->diff_len += b->diff_len;
    a->extra_len += b->extra_len;
    zp_plan_release(b);
    return ZUPD_OK;
}

static int
plan_make_halves(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
                 const struct sindex *ix, int skip, size_t thr, struct plan *p)
{
    struct half h[2];
    size_t mid = nlen / 2;
    pthread_t th;
    int threaded = 0, rc;

    memset(p, 0, sizeof(*p));
    memset(h, 0, sizeof(h));
    for (int i = 0; i < 2; i++) {
        h[i].old = old;
        h[i].olen = olen;
        h[i].ix = ix;
        h[i].memo = ix->memo != NULL ? &ix->memo[i] : NULL;
        h[i].skip = skip;
        h[i].thr = thr;
    }
    h[0].nw = nw;
    h[0].nlen = mid;
    h[1].nw = nw + mid;
    h[1].nlen = nlen - mid;
    if (sysconf(_SC_NPROCESSORS_ONLN) > 1 && pthread_create(&th, NULL, half_run, &h[1]) == 0)
        threaded = 1;
    half_run(&h[0]);
    if (threaded)
        pthread_join(th, NULL);
    else
        half_run(&h[1]);
    rc = h[0].rc != ZUPD_OK ? h[0].rc : h[1].rc;
    if (rc == ZUPD_OK)
        rc = plan_join(&h[0].p, &h[1].p, nlen + 2); /* each half's + 1 */
    if (rc == ZUPD_OK) {
        *p = h[0].p;
        memset(&h[0].p, 0, sizeof(h[0].p));
    }
    zp_plan_release(&h[0].p);
    zp_plan_release(&h[1].p);
    return rc;
}

/* One scan at threshold thr: big new files in two halves at levels up to 19. */
int
zp_plan_scan(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
             const struct sindex *ix, int skip, size_t thr, struct plan *p)
{
    int rc;

    if (skip && nlen > TWO_SCAN_MAX && olen > 0)
        TR("plan", rc = plan_make_halves(old, olen, nw, nlen, ix, skip, thr, p));
    else
        TR("plan", rc = plan_make(old, olen, nw, nlen, ix, ix->memo, skip, thr, 0, p));
    return rc;
}

/* One scan of new[0..nlen) that starts on the alignment new[0] = old[pos0]
 * (block.c: a stretch of new between two covers, from inside the one
 * before): p's old position starts at pos0, not 0. */
int
zp_plan_scan_from(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
                  const struct sindex *ix, int skip, size_t thr, size_t pos0, struct plan *p)
{
    /* no memo: the stretches between covers are each scanned once a rung,
     * one after another (a memo is of one new buffer) */
    return plan_make(old, olen, nw, nlen, ix, NULL, skip, thr, pos0, p);
}
