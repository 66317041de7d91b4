/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/delta_create.c -- delta creation: bsdiff-style on a suffix array,
 * zstd patch-from, classic BSDIFF40; auto keeps the smallest. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bzlib.h>
#include <divsufsort.h>
#include <zstd.h>

#include <zupd/hash.h>

#include "delta/create.h"
#include "zu/delta_format.h"
#include "zu/internal.h"

/* -DZU_DELTA_TRACE prints the time of each phase to stderr (development only). */
#ifdef ZU_DELTA_TRACE
#include <stdio.h>
#include <time.h>
static double
tr_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
#define TR(name, stmt)                                                                             \
    do {                                                                                           \
        double t0_ = tr_now();                                                                     \
        stmt;                                                                                      \
        fprintf(stderr, "delta: %-12s %7.2f s\n", name, tr_now() - t0_);                           \
    } while (0)
#else
#define TR(name, stmt)                                                                             \
    do {                                                                                           \
        stmt;                                                                                      \
    } while (0)
#endif

/* What a level means. Levels up to 19 are for every publish: the suffix
 * search skips ahead in long stretches without a better match (0.8 %
 * larger, 2-3x faster on big executables), diff streams are split
 * (docs/delta-format.md), the extra stream gets the old file as its zstd
 * prefix only where the new file is mostly new bytes, and zstd patch-from
 * is not tried (where it could win, that hybrid won). Levels 20-22 search
 * exhaustively, compress every stream at the level, always give the extra
 * stream the old file as prefix, and also try patch-from. */
struct prof {
    int skip;         /* skip ahead in the suffix search */
    int z_small;      /* zstd level of ctrl/extra streams and of small diff streams */
    int z_big;        /* zstd level of diff streams over BIG_STREAM bytes */
    int extra_prefix; /* extra stream compressed with old as prefix */
    int pf_always;    /* also try zstd patch-from (auto) */
    int pf_level;
};
#define BIG_STREAM (8u << 20)
#define TWO_SCAN_MAX (8u << 20) /* new files up to this size: every threshold of the ladder */
#define LADDER_MAX 6
#define HYBRID_THR 32 /* the one scan of a new file made mostly of new bytes */
#define EST_LEVEL 3   /* zstd level of the estimates that rank plans */

static void
prof_of_level(int level, struct prof *f)
{
    f->skip = level < 20;
    f->z_small = level < 19 ? 19 : level; /* ctrl and extra are small: always high */
    f->z_big = level < 20 ? (level < 12 ? level : 12) : level;
    if (level >= 20)
        f->z_small = level;
    f->extra_prefix = level >= 20;
    f->pf_always = level >= 20;
    f->pf_level = level;
}

/* ------------------------------------------------------------------ plan */

/* One control entry: add `add` bytes (diff + old), copy `copy` bytes of
 * extra, then move the old position by `seek`. */
struct ctl {
    uint64_t add;
    uint64_t copy;
    int64_t seek;
};

/* The bsdiff-style decomposition of new against old: the control entries;
 * the diff and extra streams they imply are only made (plan_fill) for the
 * plans that get compressed, after the suffix array is gone. */
struct plan {
    struct ctl *c;
    size_t n, cap;
    uint8_t *diff; /* sum of adds; NULL until plan_fill */
    size_t diff_len;
    uint8_t *extra; /* sum of copies; NULL until plan_fill */
    size_t extra_len;
};

static void
plan_release(struct plan *p)
{
    free(p->c);
    free(p->diff);
    free(p->extra);
    memset(p, 0, sizeof(*p));
}

/* Drop a plan's streams (plan_fill makes them again). */
static void
plan_empty(struct plan *p)
{
    free(p->diff);
    free(p->extra);
    p->diff = p->extra = NULL;
}

/* Make the diff and extra streams of p from its control entries. */
static int
plan_fill(struct plan *p, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen)
{
    size_t np = 0, dn = 0, xn = 0;
    int64_t op = 0;

    if (p->diff != NULL)
        return ZUPD_OK;
    p->diff = malloc(p->diff_len + 1);
    p->extra = malloc(p->extra_len + 1);
    if (p->diff == NULL || p->extra == NULL) {
        plan_empty(p);
        return ZUPD_E_NOMEM;
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct ctl *c = &p->c[i];
        /* the scan only makes entries inside both files */
        if (op < 0 || c->add > olen - (uint64_t)op || c->add > nlen - np ||
            c->copy > nlen - np - c->add || c->add > p->diff_len - dn ||
            c->copy > p->extra_len - xn) {
            plan_empty(p);
            return ZUPD_E_MISUSE;
        }
        for (size_t k = 0; k < c->add; k++)
            p->diff[dn + k] = (uint8_t)(nw[np + k] - old[(size_t)op + k]);
        dn += c->add;
        np += c->add;
        op += (int64_t)c->add;
        if (c->copy > 0)
            memcpy(p->extra + xn, nw + np, c->copy);
        xn += c->copy;
        np += c->copy;
        op += c->seek;
    }
    return ZUPD_OK;
}

static int
plan_push(struct plan *p, uint64_t add, uint64_t copy, int64_t seek)
{
    if (add == 0 && copy == 0 && p->n > 0) { /* only a seek: the last entry's */
        p->c[p->n - 1].seek += seek;
        return ZUPD_OK;
    }
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 1024;
        struct ctl *c = realloc(p->c, nc * sizeof(*c));
        if (c == NULL)
            return ZUPD_E_NOMEM;
        p->c = c;
        p->cap = nc;
    }
    p->c[p->n].add = add;
    p->c[p->n].copy = copy;
    p->c[p->n].seek = seek;
    p->n++;
    return ZUPD_OK;
}

static size_t
matchlen(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    size_t i = 0;

    while (i + 8 <= n) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return i + (size_t)(__builtin_ctzll(x ^ y) >> 3);
        i += 8;
    }
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* Longest match of nw[0..nlen) among the suffixes of old, binary search on
 * the suffix array sa[lo..hi] (inclusive). */
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
        size_t m = skip + matchlen(old + o + skip, olen - o - skip, nw + skip, nlen - skip);
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

struct gram_filter {
    uint64_t *bits;
    unsigned shift;
};

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

/* The index of old the scan searches: suffix array, its two-byte buckets,
 * and (levels up to 19) the gram filter. Built once for every scan. */
struct sindex {
    int32_t *sa;
    uint32_t *bkt;
    struct gram_filter gf;
};

static void
sindex_release(struct sindex *ix)
{
    free(ix->sa);
    free(ix->bkt);
    free(ix->gf.bits);
    memset(ix, 0, sizeof(*ix));
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

static int
sindex_build(const uint8_t *old, size_t olen, int skip, struct sindex *ix)
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
out:
    if (rc != ZUPD_OK)
        sindex_release(ix);
    return rc;
}

/* The bsdiff scan (Percival's algorithm, our code): find approximate
 * matches, extend them forwards and backwards by the "more equal than not"
 * rule, emit (add, copy, seek) with the diff and extra bytes. A new
 * alignment is taken where its match is longer than what the current one
 * matches by more than thr bytes (Percival: 8). */
static int
plan_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, const struct sindex *ix,
          int skip, size_t thr, struct plan *p)
{
    const int32_t *sa = ix->sa;
    const uint32_t *bkt = ix->bkt;
    const struct gram_filter gf = ix->gf;
    size_t skip_after = skip ? 16 : SIZE_MAX / 2, skip_max = skip ? 32 : 1;
    size_t fast_run = skip ? FAST_RUN : 0;
    size_t scan = 0, len = 0, pos = 0, lastscan = 0, lastpos = 0;
    int64_t lastoffset = 0;
    int rc = ZUPD_OK;

    memset(p, 0, sizeof(*p));
    if (olen > (size_t)INT32_MAX - 1 || nlen > (size_t)INT64_MAX / 2)
        return ZUPD_E_TOOBIG;
    if (olen == 0) {
        p->extra_len = nlen;
        if (nlen > 0)
            rc = plan_push(p, 0, nlen, 0);
        goto out;
    }

    while (scan < nlen) {
        size_t oldscore = 0;
        size_t scsc;

        size_t fails = 0, step = 1;

        scan += len;
        for (scsc = scan; scan < nlen; scan += step) {
            if (fast_run > 0 &&
                aligned_here(old, olen, nw, nlen, scan, lastoffset, fast_run, &len, &pos)) {
                /* the current alignment goes on: no suffix search */
            } else if (gf.bits != NULL && nlen - scan >= GRAM && !gf_has(&gf, nw + scan)) {
                len = 0; /* no match of GRAM bytes: cannot beat oldscore by 8 */
                pos = 0;
            } else {
                len = sa_find(sa, bkt, old, olen, nw + scan, nlen - scan, &pos);
            }
            for (; scsc < scan + len; scsc++) {
                int64_t o = (int64_t)scsc + lastoffset;
                if (o >= 0 && (uint64_t)o < olen && old[o] == nw[scsc])
                    oldscore++;
            }
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
            size_t lenf = 0, lenb = 0, i;
            int64_t s, sf = 0, sb = 0;

            /* forward extension of the previous match */
            s = 0;
            for (i = 0; lastscan + i < scan && lastpos + i < olen;) {
                if (old[lastpos + i] == nw[lastscan + i])
                    s++;
                i++;
                if (s * 2 - (int64_t)i > sf * 2 - (int64_t)lenf) {
                    sf = s;
                    lenf = i;
                }
            }
            /* backward extension of the new match */
            if (scan < nlen) {
                s = 0;
                for (i = 1; scan >= lastscan + i && pos >= i; i++) {
                    if (old[pos - i] == nw[scan - i])
                        s++;
                    if (s * 2 - (int64_t)i > sb * 2 - (int64_t)lenb) {
                        sb = s;
                        lenb = i;
                    }
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
            p->diff_len += lenf;
            {
                size_t ex = (scan - lenb) - (lastscan + lenf);
                p->extra_len += ex;
                rc = plan_push(p, lenf, ex, (int64_t)(pos - lenb) - (int64_t)(lastpos + lenf));
                if (rc != ZUPD_OK)
                    goto out;
            }
            lastscan = scan - lenb;
            lastpos = pos - lenb;
            lastoffset = (int64_t)pos - (int64_t)scan;
        }
    }
out:
    if (rc != ZUPD_OK)
        plan_release(p);
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
    int skip;
    size_t thr;
    struct plan p;
    int rc;
};

static void *
half_run(void *arg)
{
    struct half *h = arg;
    h->rc = plan_make(h->old, h->olen, h->nw, h->nlen, h->ix, h->skip, h->thr, &h->p);
    return NULL;
}

/* Append b to a (b is released). */
static int
plan_join(struct plan *a, struct plan *b)
{
    int64_t o = 0;
    size_t skip = 0;
    struct ctl *c;

    c = realloc(a->c, (a->n + b->n + 1) * sizeof(*c));
    if (c == NULL)
        return ZUPD_E_NOMEM;
    a->c = c;
    a->cap = a->n + b->n + 1;
    for (size_t i = 0; i < a->n; i++)
        o += (int64_t)a->c[i].add + a->c[i].seek;
    if (a->n > 0)
        a->c[a->n - 1].seek -= o; /* back to old position 0 */
    if (a->n > 0 && b->n > 0 && b->c[0].add == 0 && b->c[0].copy == 0) {
        a->c[a->n - 1].seek += b->c[0].seek; /* b's first entry is only a seek */
        skip = 1;
    }
    if (b->n > skip)
        memcpy(a->c + a->n, b->c + skip, (b->n - skip) * sizeof(*c));
    a->n += b->n - skip;
    a->diff_len += b->diff_len;
    a->extra_len += b->extra_len;
    plan_release(b);
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
        rc = plan_join(&h[0].p, &h[1].p);
    if (rc == ZUPD_OK) {
        *p = h[0].p;
        memset(&h[0].p, 0, sizeof(h[0].p));
    }
    plan_release(&h[0].p);
    plan_release(&h[1].p);
    return rc;
}

/* ------------------------------------------------------------------ zstd */

/* Compress src[0..len) into a new buffer at level; wlog 0: zstd's choice
 * capped at 24; prefix: referenced as the frame's prefix with long-distance
 * matching and a window spanning prefix and content. Empty input gives an
 * empty output (an empty stream in the native format). */
static int
zstd_pack(const uint8_t *src, size_t len, int level, const uint8_t *prefix, size_t prefix_len,
          uint8_t **out, size_t *out_len)
{
    ZSTD_CCtx *cc = NULL;
    uint8_t *dst = NULL;
    size_t cap, r;
    int rc = ZUPD_E_NOMEM;

    *out = NULL;
    *out_len = 0;
    if (len == 0)
        return ZUPD_OK;
    cap = ZSTD_compressBound(len);
    dst = malloc(cap);
    cc = ZSTD_createCCtx();
    if (dst == NULL || cc == NULL)
        goto out;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 0)))
        goto out;
    if (prefix != NULL && prefix_len > 0) {
        int w = zu_wlog_for((uint64_t)prefix_len + len);
        if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, w)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, 1)) ||
            ZSTD_isError(ZSTD_CCtx_refPrefix(cc, prefix, prefix_len)))
            goto out;
        /* overnight levels: longer optimal-parser targets find the long
         * copies from old (disposable-email: 155 bytes smaller at 22) */
        if (level >= 20 && ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_targetLength, 4096)))
            goto out;
        /* levels up to 19: tables of the window's size, not the level's
         * (oxc-parser's extra stream: same bytes, 91 -> 46 MB; a chain
         * shorter than the window loses: 0.7 % at one less) */
        if (level <= 19 && w < 24 &&
            (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_chainLog, w)) ||
             ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_hashLog, w - 3))))
            goto out;
    } else {
        /* apply decodes these streams with at most a 16 MiB window */
        int w = zu_wlog_for(len);
        if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, w > 24 ? 24 : w)))
            goto out;
    }
    r = ZSTD_compress2(cc, dst, cap, src, len);
    if (ZSTD_isError(r))
        goto out;
    *out = dst;
    *out_len = r;
    dst = NULL;
    rc = ZUPD_OK;
out:
    ZSTD_freeCCtx(cc);
    free(dst);
    return rc;
}

/* ------------------------------------------------------------------ writers */

/* Longest native header: fixed 8 bytes, two size varints, two hashes, and
 * room for the two stream-length varints of the bsdiff method and the
 * radius of its extra context. */
#define HDR_MAX (8 + 10 + 10 + 64 + 30)

static int
hdr_make(uint8_t *h, size_t *hlen, int method, const uint8_t *old, size_t olen, const uint8_t *nw,
         size_t nlen)
{
    size_t dn, at = 8;
    int rc;

    memset(h, 0, HDR_MAX);
    memcpy(h, ZUPD_DELTA_MAGIC, ZUPD_DELTA_MAGIC_LEN);
    h[4] = 1; /* version 2 only where a version-2 feature is used (write_bsdiff) */
    h[5] = (uint8_t)method;
    at += zu_put_varint(h + at, olen);
    at += zu_put_varint(h + at, nlen);
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, old, olen, h + at, 32, &dn);
    if (rc == ZUPD_OK)
        rc = zupd_hash_buf(ZUPD_HASH_SHA256, nw, nlen, h + at + 32, 32, &dn);
    *hlen = at + 64;
    return rc;
}

#define put_varint zu_put_varint

/* The size of src after bzip2's first step, its run-length coding (a run
 * of 4 to 255 equal bytes: the 4 bytes and a count byte). */
static size_t
bz_rle1_len(const uint8_t *src, size_t len)
{
    size_t n = 0, i = 0;

    while (i < len) {
        size_t r = 1;
        while (i + r < len && r < 255 && src[i + r] == src[i])
            r++;
        n += r < 4 ? r : 5;
        i += r;
    }
    return n;
}

/* bzip2 of src at block size bs (100 kB units: 9 is bzip2 -9). */
static int
bz_pack(const uint8_t *src, size_t len, int bs, uint8_t **out, size_t *out_len)
{
    size_t cap = len + len / 100 + 600;
    unsigned dlen;
    uint8_t *dst;

    *out = NULL;
    *out_len = 0;
    if (len > UINT_MAX / 2)
        return ZUPD_E_TOOBIG;
    dst = malloc(cap);
    if (dst == NULL)
        return ZUPD_E_NOMEM;
    dlen = (unsigned)cap;
    if (BZ2_bzBuffToBuffCompress((char *)dst, &dlen, (char *)(uintptr_t)src, (unsigned)len, bs, 0,
                                 0) != BZ_OK) {
        free(dst);
        return ZUPD_E_NOMEM;
    }
    *out = dst;
    *out_len = dlen;
    return ZUPD_OK;
}

/* A compressed stream. */
struct packed {
    uint8_t *p;
    size_t n;
    int codec; /* ZU_CODEC_* */
};

static void
packed_release(struct packed *k)
{
    free(k->p);
    k->p = NULL;
    k->n = 0;
}

/* Zero-run coding of src: (varint zeros, varint n, n literal bytes)...; a
 * literal run ends at a run of 3 zeros. Gives up (returns 0) once the
 * output would reach limit bytes. */
static size_t
zrle_pack(const uint8_t *src, size_t len, uint8_t *dst, size_t limit)
{
    size_t pos = 0, n = 0;

    while (pos < len) {
        size_t z = pos, l;
        while (z < len && src[z] == 0)
            z++;
        l = z;
        while (l < len) {
            if (src[l] == 0 && l + 2 < len && src[l + 1] == 0 && src[l + 2] == 0)
                break;
            if (src[l] == 0 && l + 2 >= len) {
                size_t t = l;
                while (t < len && src[t] == 0)
                    t++;
                if (t == len)
                    break; /* trailing zeros: their own run */
            }
            l++;
        }
        if (n + 20 + (l - z) >= limit)
            return 0;
        n += zu_put_varint(dst + n, z - pos);
        n += zu_put_varint(dst + n, l - z);
        memcpy(dst + n, src + z, l - z);
        n += l - z;
        pos = l;
    }
    return n;
}

/* The smallest encoding of src[0..len) among zstd (*a), bzip2 (*b, may be
 * empty), stored and zero-run coded moves to *out; a and b are released. */
static int
pick_stream(const uint8_t *src, size_t len, int try_zrle, struct packed *a, struct packed *b,
            struct packed *out)
{
    /* a is absent when not computed (a->p NULL for a non-empty stream) */
    int a_absent = a->p == NULL && len > 0;
    size_t best = a_absent ? SIZE_MAX : a->n;
    int rc = ZUPD_OK;

    memset(out, 0, sizeof(*out));
    if (b->p != NULL && b->n < best)
        best = b->n;
    if (len < best) { /* stored */
        out->p = malloc(len + 1);
        if (out->p == NULL) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
        if (len > 0)
            memcpy(out->p, src, len);
        out->n = len;
        out->codec = ZU_CODEC_RAW;
        best = len;
    }
    if (try_zrle && len > 0 && best > 2) {
        /* bounded: zrle_pack stops before best bytes */
        uint8_t *z = malloc(best + 32);
        size_t zn;
        if (z == NULL) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
        zn = zrle_pack(src, len, z, best);
        if (zn > 0 && zn < best) {
            free(out->p);
            out->p = z;
            out->n = zn;
            out->codec = ZU_CODEC_ZRLE;
            best = zn;
        } else {
            free(z);
        }
    }
    if (out->p != NULL)
        goto out;
    if (b->p != NULL && (a_absent || b->n < a->n)) {
        *out = *b;
        out->codec = ZU_CODEC_BZIP2;
        b->p = NULL;
    } else {
        *out = *a;
        out->codec = ZU_CODEC_ZSTD;
        a->p = NULL;
    }
out:
    packed_release(a);
    packed_release(b);
    return rc;
}

/* Split coding of a diff stream (ZU_FLAG_DIFF_SPLIT): the runs stream
 * (varint zeros, varint n)... and the literals stream (the n bytes, all
 * nonzero), each zstd-compressed, as varint len(runs), runs, literals.
 * Executables' diff streams are mostly zeros with changed bytes scattered
 * in between; apart, positions and values compress better (turbo: 1.85 MB
 * as bzip2, 1.58 MB split at zstd 19). split_make gives the two raw
 * streams (malloc'ed), split_join the stream from their compressed forms. */
static int
split_make(const uint8_t *src, size_t len, uint8_t **runs, size_t *runs_len, uint8_t **lits,
           size_t *lits_len)
{
    size_t nr = 0, nl = 0, pos = 0, i;

    *runs = *lits = NULL;
    for (i = 0; i < len;) { /* first pass: sizes */
        size_t z = i, l;
        while (z < len && src[z] == 0)
            z++;
        l = z;
        while (l < len && src[l] != 0)
            l++;
        nr += zu_varint_len(z - i) + zu_varint_len(l - z);
        nl += l - z;
        i = l;
    }
    *runs = malloc(nr + 1);
    *lits = malloc(nl + 1);
    if (*runs == NULL || *lits == NULL) {
        free(*runs);
        free(*lits);
        *runs = *lits = NULL;
        return ZUPD_E_NOMEM;
    }
    nr = nl = 0;
    while (pos < len) {
        size_t z = pos, l;
        while (z < len && src[z] == 0)
            z++;
        l = z;
        while (l < len && src[l] != 0)
            l++;
        nr += zu_put_varint(*runs + nr, z - pos);
        nr += zu_put_varint(*runs + nr, l - z);
        memcpy(*lits + nl, src + z, l - z);
        nl += l - z;
        pos = l;
    }
    *runs_len = nr;
    *lits_len = nl;
    return ZUPD_OK;
}

static int
split_join(const struct packed *rz, const struct packed *lz, struct packed *out)
{
    memset(out, 0, sizeof(*out));
    out->p = malloc(10 + rz->n + lz->n);
    if (out->p == NULL)
        return ZUPD_E_NOMEM;
    out->n = zu_put_varint(out->p, rz->n);
    if (rz->n > 0)
        memcpy(out->p + out->n, rz->p, rz->n);
    out->n += rz->n;
    if (lz->n > 0)
        memcpy(out->p + out->n, lz->p, lz->n);
    out->n += lz->n;
    out->codec = ZU_CODEC_ZSTD;
    return ZUPD_OK;
}

/* Zero-run bytes of src (ZU_FLAG_DIFF_ZRUN): each run of ZU_ZRUN_MIN zeros
 * is followed by a count (0-255) of further zeros. At most len * 5 / 4 + 1
 * bytes, into a new buffer. */
static int
zrun_make(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len)
{
    uint8_t *d = malloc(len + len / 4 + 1);
    size_t n = 0, i = 0;

    *out = d;
    *out_len = 0;
    if (d == NULL)
        return ZUPD_E_NOMEM;
    while (i < len) {
        size_t z = i;
        if (src[i] != 0) {
            d[n++] = src[i++];
            continue;
        }
        while (z < len && src[z] == 0)
            z++;
        z -= i; /* zeros in this run */
        i += z;
        while (z >= ZU_ZRUN_MIN) {
            size_t c = z - ZU_ZRUN_MIN > 255 ? 255 : z - ZU_ZRUN_MIN;
            memset(d + n, 0, ZU_ZRUN_MIN);
            n += ZU_ZRUN_MIN;
            d[n++] = (uint8_t)c;
            z -= ZU_ZRUN_MIN + c;
        }
        memset(d + n, 0, z);
        n += z;
    }
    *out_len = n;
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ jobs */

/* One compression of the streams: zstd (level, optional prefix) or bzip2. */
struct job {
    const uint8_t *src;
    size_t len;
    int bz; /* bzip2 at this block size (1-9), or 0: zstd at level */
    int level;
    const uint8_t *prefix;
    size_t prefix_len;
    struct packed out;
    int rc;
    int on; /* 0: not wanted */
};

struct pool {
    struct job *jobs;
    size_t n;
    atomic_size_t next;
};

static void *
pool_work(void *arg)
{
    struct pool *pq = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&pq->next, 1);
        struct job *j;
        if (i >= pq->n)
            return NULL;
        j = &pq->jobs[i];
        if (!j->on)
            continue;
        if (j->bz)
            j->rc = bz_pack(j->src, j->len, j->bz, &j->out.p, &j->out.n);
        else
            j->rc =
                zstd_pack(j->src, j->len, j->level, j->prefix, j->prefix_len, &j->out.p, &j->out.n);
    }
}

/* Run jobs[0..n) (list the longest first) on the online CPUs, at most
 * POOL_MAX threads in all; the caller's thread works too. Returns the
 * first job's error, or ZUPD_OK. Compressions are independent and each
 * gives the same bytes whichever thread runs it: the patch does not depend
 * on the number of CPUs. */
#define POOL_MAX 4

static int
jobs_run(struct job *jobs, size_t n)
{
    struct pool pq;
    pthread_t th[POOL_MAX];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nth = 0, want = cpus > 1 ? (size_t)cpus - 1 : 0;

    pq.jobs = jobs;
    pq.n = n;
    atomic_init(&pq.next, 0);
    if (want > POOL_MAX - 1)
        want = POOL_MAX - 1;
    if (want > n)
        want = n;
    for (; nth < want; nth++)
        if (pthread_create(&th[nth], NULL, pool_work, &pq) != 0)
            break; /* fewer threads: the caller does the rest */
    pool_work(&pq);
    for (size_t i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    for (size_t i = 0; i < n; i++)
        if (jobs[i].on && jobs[i].rc != ZUPD_OK)
            return jobs[i].rc;
    return ZUPD_OK;
}

/* Move a job's output to *k. */
static void
job_take(struct job *j, struct packed *k)
{
    *k = j->out;
    memset(&j->out, 0, sizeof(j->out));
}

static void
job_set(struct job *j, const uint8_t *src, size_t len, int bz, int level, const uint8_t *prefix,
        size_t prefix_len)
{
    memset(j, 0, sizeof(*j));
    j->src = src;
    j->len = len;
    j->bz = bz;
    j->level = level;
    j->prefix = prefix;
    j->prefix_len = prefix_len;
    j->on = 1;
}

static uint8_t *
concat(const uint8_t *head, size_t head_len, const struct packed *k, size_t nk, size_t *total)
{
    size_t n = head_len, at;
    uint8_t *out;

    for (size_t i = 0; i < nk; i++)
        n += k[i].n;
    out = malloc(n);
    if (out == NULL)
        return NULL;
    memcpy(out, head, head_len);
    at = head_len;
    for (size_t i = 0; i < nk; i++) {
        if (k[i].n > 0)
            memcpy(out + at, k[i].p, k[i].n);
        at += k[i].n;
    }
    *total = n;
    return out;
}

/* The native control stream of a plan: (varint add, varint copy, varint
 * zigzag seek)... into a new buffer. */
static int
ctrl_make(const struct plan *pl, uint8_t **out, size_t *out_len)
{
    size_t cn = 0;
    uint8_t *c = malloc(pl->n * 30 + 1);

    *out = c;
    *out_len = 0;
    if (c == NULL)
        return ZUPD_E_NOMEM;
    for (size_t i = 0; i < pl->n; i++) {
        int64_t s = pl->c[i].seek;
        uint64_t z = s < 0 ? (((uint64_t)(-(s + 1))) << 1) | 1 : (uint64_t)s << 1;
        cn += put_varint(c + cn, pl->c[i].add);
        cn += put_varint(c + cn, pl->c[i].copy);
        cn += put_varint(c + cn, z);
    }
    *out_len = cn;
    return ZUPD_OK;
}

/* A quick estimate of a plan's native size: its control, split diff and
 * extra streams at zstd level EST_LEVEL (ranks plans as level 19 does at
 * a fraction of the time). */
static int
plan_estimate(const struct plan *pl, size_t *est)
{
    enum { E_C, E_R, E_L, E_X, E_N };
    struct job jobs[E_N];
    uint8_t *craw = NULL, *runs = NULL, *lits = NULL;
    size_t cn = 0, nruns = 0, nlits = 0;
    int rc;

    memset(jobs, 0, sizeof(jobs));
    *est = SIZE_MAX;
    rc = ctrl_make(pl, &craw, &cn);
    if (rc == ZUPD_OK && pl->diff_len > 0)
        rc = split_make(pl->diff, pl->diff_len, &runs, &nruns, &lits, &nlits);
    if (rc == ZUPD_OK) {
        job_set(&jobs[E_X], pl->extra, pl->extra_len, 0, EST_LEVEL, NULL, 0);
        job_set(&jobs[E_R], runs, nruns, 0, EST_LEVEL, NULL, 0);
        job_set(&jobs[E_L], lits, nlits, 0, EST_LEVEL, NULL, 0);
        job_set(&jobs[E_C], craw, cn, 0, EST_LEVEL, NULL, 0);
        rc = jobs_run(jobs, E_N);
    }
    if (rc == ZUPD_OK) {
        *est = 0;
        for (int i = 0; i < E_N; i++)
            *est += jobs[i].out.n;
    }
    for (int i = 0; i < E_N; i++)
        packed_release(&jobs[i].out);
    free(craw);
    free(runs);
    free(lits);
    return rc;
}

/* The extra context of a plan (ZU_FLAG_EXTRA_CTX, include/zu/delta_format.h) at
 * radius w. zstd indexes the context at level 19, in tables of its size:
 * 0.1-0.3 s and up to 9 MB for the 0.4-1.3 MB of context on the corpus.
 * mdn-bcd's extra stream: 19,080 bytes without, 15,533 at radius 128,
 * 14,431 at 256, 13,934 at 512 (twice the time of 256); rollup's 182,556
 * -> 170,873 at 256. The radius is CTX_W, halved (down to CTX_W_MIN)
 * while the context is over CTX_RATIO times the extra stream: many short
 * insertions gain little from more context (parcel-watcher: 32,493 bytes
 * at 128, 32,521 at 256, from 1.3 MB of context). */
#define CTX_W 256
#define CTX_W_MIN 32
#define CTX_RATIO 8
/* Context and extra stream together at most this long (and the extra
 * stream at most half of it): zstd 19 takes 0.3-0.4 s a megabyte here,
 * and the extra stream is compressed a second time. turbo (2 MB of extra,
 * 8 MiB of context) was 2 % smaller for 3.5 s more, past the creation
 * budget; levels 20-22 give the extra stream all of old instead. */
#define CTX_TRY_MAX (2u << 20)

static int
ctx_make(const struct plan *pl, const uint8_t *old, size_t olen, uint64_t w, struct zu_ctx *c)
{
    int64_t op = 0;

    for (size_t i = 0; i < pl->n; i++) {
        op += (int64_t)pl->c[i].add; /* the scan keeps adds inside old */
        if (pl->c[i].copy > 0 && op >= 0 && (uint64_t)op <= olen) {
            int rc = zu_ctx_add(c, old, olen, (uint64_t)op, w);
            if (rc != ZUPD_OK)
                return rc;
        }
        op += pl->c[i].seek;
    }
    return ZUPD_OK;
}

/* Where the extra stream of the native patch *patch (made from pl) is
 * smaller with the context as its zstd prefix, rewrite the patch so
 * (version 4, ZU_FLAG_EXTRA_CTX, the radius after the stream lengths). */
static int
ctx_try(struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
        const struct prof *f, uint8_t **patch, size_t *patch_len)
{
    struct zu_ctx ctx = {0};
    uint8_t *ex = NULL, *out = NULL, *p = *patch;
    size_t exn = 0, at = 8, body, el, n;
    uint64_t v[4] = {0, 0, 0, 0}, w = CTX_W;
    int rc;

    if (pl->extra_len == 0 || pl->extra_len > CTX_TRY_MAX / 2)
        return ZUPD_OK;
    /* old size, new size, the hashes, ctrl and diff lengths (our header) */
    for (int i = 0; i < 4; i++) {
        if (zu_get_varint(p, *patch_len, &at, &v[i]) != ZUPD_OK)
            return ZUPD_E_MISUSE;
        if (i == 1)
            at += 64;
    }
    body = at;
    if (body > *patch_len || v[2] + v[3] > *patch_len - body)
        return ZUPD_E_MISUSE;
    el = *patch_len - body - (size_t)v[2] - (size_t)v[3];
    rc = plan_fill(pl, old, olen, nw, nlen);
    while (rc == ZUPD_OK) {
        rc = ctx_make(pl, old, olen, w, &ctx);
        if (rc != ZUPD_OK || w / 2 < CTX_W_MIN ||
            (ctx.len / CTX_RATIO <= pl->extra_len && ctx.len + pl->extra_len <= CTX_TRY_MAX))
            break;
        zu_ctx_free(&ctx);
        w /= 2;
    }
    if (ctx.len + pl->extra_len > CTX_TRY_MAX)
        zu_ctx_free(&ctx); /* too long for every publish */
    if (rc == ZUPD_OK && ctx.len > 0)
        rc = zstd_pack(pl->extra, pl->extra_len, f->z_small, ctx.buf, ctx.len, &ex, &exn);
    plan_empty(pl);
    zu_ctx_free(&ctx);
    if (rc != ZUPD_OK || ex == NULL || exn + zu_varint_len(w) >= el) {
        free(ex);
        return rc;
    }
    n = body + zu_varint_len(w) + (size_t)v[2] + (size_t)v[3] + exn;
    out = malloc(n);
    if (out == NULL) {
        free(ex);
        return ZUPD_E_NOMEM;
    }
    memcpy(out, p, body);
    out[4] = 4;                        /* the version of the flag */
    out[6] = (uint8_t)(out[6] & 0x0f); /* extra: zstd */
    out[7] |= ZU_FLAG_EXTRA_CTX;
    at = body + zu_put_varint(out + body, w);
    memcpy(out + at, p + body, (size_t)(v[2] + v[3]));
    memcpy(out + at + v[2] + v[3], ex, exn);
    free(ex);
    free(*patch);
    *patch = out;
    *patch_len = n;
    return ZUPD_OK;
}

/* Serialise a plan as a native bsdiff patch (each stream in the smaller of
 * zstd and bzip2) and/or as BSDIFF40 (bzip2 streams). */
static int
write_bsdiff(const struct plan *pl, const uint8_t *hdr, size_t hdr_len, const uint8_t *old,
             size_t olen, size_t nlen, const struct prof *f, int want_native, int want_b40,
             uint8_t **native, size_t *native_len, uint8_t **b40, size_t *b40_len)
{
    enum { J_DB, J_DR, J_DR3, J_RZ, J_LZ, J_DZ, J_EZ, J_EB, J_CZ, J_CB, J_C40, J_N };
    struct job jobs[J_N];
    struct packed cz = {0}, cb = {0}, dz = {0}, db = {0}, ez = {0}, eb = {0}, c40 = {0}, ds = {0},
                  dr = {0}, dr3 = {0};
    uint8_t flags = 0;
    struct packed k[3] = {{0}, {0}, {0}};
    uint8_t *craw = NULL, *c40raw = NULL, *runs = NULL, *lits = NULL, *zr = NULL;
    size_t cn = 0, nruns = 0, nlits = 0, nzr = 0;
    int rc = ZUPD_E_NOMEM;

    memset(jobs, 0, sizeof(jobs));

    if (ctrl_make(pl, &craw, &cn) != ZUPD_OK)
        goto out;
    c40raw = want_b40 ? malloc(pl->n * 24 + 1) : NULL;
    if (want_b40 && c40raw == NULL)
        goto out;
    for (size_t i = 0; want_b40 && i < pl->n; i++) {
        zu_offtout(c40raw + 24 * i, (int64_t)pl->c[i].add);
        zu_offtout(c40raw + 24 * i + 8, (int64_t)pl->c[i].copy);
        zu_offtout(c40raw + 24 * i + 16, pl->c[i].seek);
    }
    if (want_native && pl->diff_len > 0) {
        rc = split_make(pl->diff, pl->diff_len, &runs, &nruns, &lits, &nlits);
        if (rc == ZUPD_OK)
            rc = zrun_make(pl->diff, pl->diff_len, &zr, &nzr);
        if (rc != ZUPD_OK)
            goto out;
    }
    /* every compression is a job, the longest first; the bzip2 diff and
     * extra streams serve both writers */
    job_set(&jobs[J_DB], pl->diff, pl->diff_len, 9, 0, NULL, 0);
    if (want_native) {
        job_set(&jobs[J_DR], zr, nzr, 9, 0, NULL, 0);
        jobs[J_DR].on = pl->diff_len > 0;
        /* zero-run bytes that need more than 3 blocks of 100 kB: also
         * 300 kB blocks, which follow an executable's changing parts
         * (esbuild: 125,827 bytes against 127,216) and decode faster
         * (24 against 32 ms); not for big ones (turbo: seconds, and the
         * split stream wins by 16 %) */
        if (nzr > 0 && nzr <= BIG_STREAM && bz_rle1_len(zr, nzr) > 300000)
            job_set(&jobs[J_DR3], zr, nzr, 3, 0, NULL, 0);
        job_set(&jobs[J_RZ], runs, nruns, 0, f->z_small, NULL, 0);
        job_set(&jobs[J_LZ], lits, nlits, 0, f->z_small, NULL, 0);
        /* levels up to 19: split coding always won over one zstd stream
         * (turbo 1.58 MB vs 1.86 MB, rollup 115 vs 120 KB, mdn-bcd 5.0 vs
         * 9.0 KB), so skip that one, its time and its memory */
        if (!f->skip)
            job_set(&jobs[J_DZ], pl->diff, pl->diff_len, 0,
                    pl->diff_len > BIG_STREAM ? f->z_big : f->z_small, NULL, 0);
        job_set(&jobs[J_EZ], pl->extra, pl->extra_len, 0, f->z_small, f->extra_prefix ? old : NULL,
                olen);
        job_set(&jobs[J_CZ], craw, cn, 0, f->z_small, NULL, 0);
        job_set(&jobs[J_CB], craw, cn, 9, 0, NULL, 0);
        jobs[J_RZ].on = jobs[J_LZ].on = pl->diff_len > 0;
        jobs[J_CB].on = cn > 0;
    }
    /* bzip2 never beats zstd with old as the prefix: BSDIFF40 only */
    if (want_b40 || !f->extra_prefix)
        job_set(&jobs[J_EB], pl->extra, pl->extra_len, 9, 0, NULL, 0);
    if (want_b40)
        job_set(&jobs[J_C40], c40raw, pl->n * 24, 9, 0, NULL, 0);
    TR("streams", rc = jobs_run(jobs, J_N));
    if (rc != ZUPD_OK)
        goto out;
    job_take(&jobs[J_DB], &db);
    job_take(&jobs[J_EB], &eb);
    job_take(&jobs[J_C40], &c40);
    job_take(&jobs[J_DZ], &dz);
    job_take(&jobs[J_DR], &dr);
    job_take(&jobs[J_DR3], &dr3);
    if (dr3.p != NULL && dr3.n <= dr.n) { /* a tie: the smaller blocks decode faster */
        packed_release(&dr);
        dr = dr3;
        memset(&dr3, 0, sizeof(dr3));
    }
    job_take(&jobs[J_EZ], &ez);
    job_take(&jobs[J_CZ], &cz);
    job_take(&jobs[J_CB], &cb);
    if (want_native && pl->diff_len > 0) {
        rc = split_join(&jobs[J_RZ].out, &jobs[J_LZ].out, &ds);
        if (rc != ZUPD_OK)
            goto out;
    }
    if (want_b40) {
        uint8_t head[32];
        memcpy(head, "BSDIFF40", 8);
        zu_offtout(head + 8, (int64_t)c40.n);
        zu_offtout(head + 16, (int64_t)db.n);
        zu_offtout(head + 24, (int64_t)nlen);
        k[0] = c40;
        k[1] = db;
        k[2] = eb;
        *b40 = concat(head, sizeof(head), k, 3, b40_len);
        if (*b40 == NULL) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
        memset(k, 0, sizeof(k));
    }
    if (want_native) {
        uint8_t head[HDR_MAX];
        size_t at = hdr_len;
        if (pl->diff_len == 0)
            packed_release(&db); /* empty stream: zero bytes of zstd */
        if (pl->extra_len == 0)
            packed_release(&eb);
#ifdef ZU_DELTA_TRACE
        fprintf(stderr,
                "delta: streams raw/zstd/bz: ctrl %zu/%zu/%zu diff %zu/%zu/%zu split %zu extra "
                "%zu/%zu/%zu\n",
                cn, cz.n, cb.n, pl->diff_len, dz.n, db.n, ds.n, pl->extra_len, ez.n, eb.n);
#endif
        rc = pick_stream(craw, cn, 0, &cz, &cb, &k[0]);
        if (rc == ZUPD_OK)
            rc = pick_stream(pl->diff, pl->diff_len, 1, &dz, &db, &k[1]);
        if (rc == ZUPD_OK && ds.p != NULL && ds.n < k[1].n) {
            packed_release(&k[1]);
            k[1] = ds;
            ds.p = NULL;
            flags |= ZU_FLAG_DIFF_SPLIT;
        }
        /* bzip2 of the zero-run bytes: a tie goes to it, it decodes faster */
        if (rc == ZUPD_OK && dr.p != NULL && dr.n <= k[1].n) {
            packed_release(&k[1]);
            k[1] = dr;
            k[1].codec = ZU_CODEC_BZIP2;
            dr.p = NULL;
            flags = (uint8_t)((flags & ~ZU_FLAG_DIFF_SPLIT) | ZU_FLAG_DIFF_ZRUN);
        }
        if (rc == ZUPD_OK)
            rc = pick_stream(pl->extra, pl->extra_len, 0, &ez, &eb, &k[2]);
        if (rc != ZUPD_OK)
            goto out;
        memcpy(head, hdr, hdr_len);
        head[6] = (uint8_t)(k[0].codec | k[1].codec << 2 | k[2].codec << 4);
        head[7] = flags;
        if (flags != 0)
            head[4] = flags & ZU_FLAG_DIFF_ZRUN ? 3 : 2; /* the version of the flag */
        at += zu_put_varint(head + at, k[0].n);
        at += zu_put_varint(head + at, k[1].n);
        *native = concat(head, at, k, 3, native_len);
        if (*native == NULL) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
    }
    rc = ZUPD_OK;
out:
    for (int i = 0; i < J_N; i++) /* what no packed took over */
        packed_release(&jobs[i].out);
    free(craw);
    free(c40raw);
    free(runs);
    free(lits);
    free(zr);
    packed_release(&dr);
    packed_release(&dr3);
    packed_release(&cz);
    packed_release(&cb);
    packed_release(&dz);
    packed_release(&db);
    packed_release(&ez);
    packed_release(&eb);
    packed_release(&c40);
    packed_release(&ds);
    for (int i = 0; i < 3; i++)
        packed_release(&k[i]);
    return rc;
}

static int
write_zstd(const uint8_t *hdr, size_t hdr_len, const uint8_t *old, size_t olen, const uint8_t *nw,
           size_t nlen, int level, uint8_t **patch, size_t *patch_len)
{
    uint8_t *z = NULL, *out = NULL;
    size_t zn = 0;
    int rc;

    rc = zstd_pack(nw, nlen, level, old, olen, &z, &zn);
    if (rc != ZUPD_OK)
        return rc;
    out = malloc(hdr_len + zn);
    if (out == NULL) {
        free(z);
        return ZUPD_E_NOMEM;
    }
    memcpy(out, hdr, hdr_len);
    if (zn > 0)
        memcpy(out + hdr_len, z, zn);
    free(z);
    *patch = out;
    *patch_len = hdr_len + zn;
    return ZUPD_OK;
}

/* The patch-from candidate: header and one zstd frame with old as prefix. */
static int
pf_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, int level, uint8_t **out,
        size_t *out_len)
{
    uint8_t hdr[HDR_MAX];
    size_t hdr_len = 0;
    int rc = hdr_make(hdr, &hdr_len, ZUPD_DELTA_ZSTD, old, olen, nw, nlen);

    if (rc == ZUPD_OK)
        TR("zstd pf", rc = write_zstd(hdr, hdr_len, old, olen, nw, nlen, level, out, out_len));
    return rc;
}

/* One scan at threshold thr: big new files in two halves at levels up to 19. */
static int
plan_scan(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, const struct sindex *ix,
          int skip, size_t thr, struct plan *p)
{
    int rc;

    if (skip && nlen > TWO_SCAN_MAX && olen > 0)
        TR("plan", rc = plan_make_halves(old, olen, nw, nlen, ix, skip, thr, p));
    else
        TR("plan", rc = plan_make(old, olen, nw, nlen, ix, skip, thr, p));
    return rc;
}

/* ------------------------------------------------------------------ ladder */

/* The scan's threshold (how much longer than the current alignment a new
 * match must be to move to it) decides between many short control entries
 * and more bytes in the extra stream, and which wins depends on the data:
 * 8 on caniuse-lite (14,264 bytes against 22,519 at 256), 32 on
 * disposable-email, 256 on mdn-bcd (30,485 against 37,389 at 16). New
 * files up to TWO_SCAN_MAX and text files of any size are scanned at
 * every threshold of the ladder, each plan's streams are estimated by a
 * fast zstd level, and the two best plans are compressed for real. Other
 * big files (executables, where a scan costs seconds) are scanned once
 * at 16. */

/* Text: under 1 % of control bytes in 64 samples of 16 KiB over p. */
static int
looks_text(const uint8_t *p, size_t n)
{
    const size_t chunk = 16384, nchunks = 64;
    size_t bad = 0, seen = 0;

    for (size_t c = 0; c < nchunks; c++) {
        size_t at = n > chunk ? (n - chunk) / (nchunks - 1) * c : 0;
        size_t len = n - at < chunk ? n - at : chunk;
        for (size_t i = 0; i < len; i++) {
            uint8_t b = p[at + i];
            if (b < 0x09 || (b > 0x0d && b < 0x20) || b == 0x7f)
                bad++;
        }
        seen += len;
        if (n <= chunk)
            break;
    }
    return seen > 0 && bad * 100 <= seen;
}

static size_t
ladder_of(const uint8_t *nw, size_t nlen, size_t *ladder)
{
    static const size_t full[] = {8, 16, 32, 64, 128, 256}, text_big[] = {16, 64, 256};
    const size_t *l = full;
    size_t n = ZU_ARRAY_LEN(full);

    if (nlen > TWO_SCAN_MAX) {
        if (!looks_text(nw, nlen)) {
            ladder[0] = 16;
            return 1;
        }
        l = text_big;
        n = ZU_ARRAY_LEN(text_big);
    }
    memcpy(ladder, l, n * sizeof(*l));
    return n;
}

/* ------------------------------------------------------------------ create */

int
zupd_delta_method_parse(const char *name, int *method)
{
    static const struct {
        const char *name;
        int method;
    } names[] = {{"auto", ZUPD_DELTA_AUTO},
                 {"bsdiff", ZUPD_DELTA_BSDIFF},
                 {"zstd", ZUPD_DELTA_ZSTD},
                 {"bsdiff40", ZUPD_DELTA_BSDIFF40}};

    for (size_t i = 0; i < ZU_ARRAY_LEN(names); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *method = names[i].method;
            return ZUPD_OK;
        }
    }
    return ZUPD_E_NOTFOUND;
}

/* keep the smaller of *best and cand (freeing the other) */
static void
keep_best(uint8_t **best, size_t *best_len, uint8_t *cand, size_t cand_len)
{
    if (*best == NULL || cand_len < *best_len) {
        free(*best);
        *best = cand;
        *best_len = cand_len;
    } else {
        free(cand);
    }
}

int
zupd_delta_create(const uint8_t *old, size_t old_len, const uint8_t *new_, size_t new_len,
                  const struct zupd_delta_opts *opts, uint8_t **patch, size_t *patch_len,
                  struct zupd_delta_report *rep)
{
    struct plan pl;
    struct sindex ix;
    uint8_t hdr[HDR_MAX];
    uint8_t *best = NULL;
    size_t best_len = 0, hdr_len = 0;
    int method, level, rc;
    int want_bsd, want_zstd, want_b40;
    struct prof f;

    memset(&pl, 0, sizeof(pl));
    memset(&ix, 0, sizeof(ix));
    if (patch == NULL || patch_len == NULL)
        return ZUPD_E_MISUSE;
    *patch = NULL;
    *patch_len = 0;
    if (rep != NULL)
        memset(rep, 0, sizeof(*rep));
    if ((old == NULL && old_len > 0) || (new_ == NULL && new_len > 0))
        return ZUPD_E_MISUSE;
    method = opts != NULL ? opts->method : ZUPD_DELTA_AUTO;
    level = opts != NULL && opts->level != 0 ? opts->level : ZUPD_DELTA_LEVEL_DEFAULT;
    if (level < 1 || level > ZUPD_DELTA_LEVEL_MAX)
        return ZUPD_E_MISUSE;
    if (method != ZUPD_DELTA_AUTO && method != ZUPD_DELTA_BSDIFF && method != ZUPD_DELTA_ZSTD &&
        method != ZUPD_DELTA_BSDIFF40)
        return ZUPD_E_MISUSE;
    want_bsd = method == ZUPD_DELTA_AUTO || method == ZUPD_DELTA_BSDIFF;
    want_b40 = method == ZUPD_DELTA_AUTO || method == ZUPD_DELTA_BSDIFF40;
    want_zstd = method == ZUPD_DELTA_AUTO || method == ZUPD_DELTA_ZSTD;
    if (method == ZUPD_DELTA_AUTO && old_len > (size_t)INT32_MAX - 1)
        want_bsd = want_b40 = 0;
    prof_of_level(level, &f);

    if (want_bsd || want_b40) {
        size_t ladder[LADDER_MAX], nl = 0, extra0 = 0;
        struct plan keep[2];
        size_t keep_est[2] = {SIZE_MAX, SIZE_MAX}, nkeep = 0, worse = 0, best_est = SIZE_MAX;
        int short_ladder = new_len > TWO_SCAN_MAX; /* big text */
        int win = -1; /* the plan of the best patch so far, if native */

        memset(keep, 0, sizeof(keep));
        nl = ladder_of(new_, new_len, ladder);
        rc = sindex_build(old, old_len, f.skip, &ix);
        if (rc == ZUPD_OK)
            rc = hdr_make(hdr, &hdr_len, ZUPD_DELTA_BSDIFF, old, old_len, new_, new_len);
        if (rc == ZUPD_OK)
            rc = plan_scan(old, old_len, new_, new_len, &ix, f.skip, ladder[0], &pl);
        extra0 = pl.extra_len;
        if (rc == ZUPD_OK && extra0 >= new_len / 4 && old_len > 0) {
            /* A new file made mostly of new bytes (a quarter or more not
             * matched in old): one scan at HYBRID_THR and the extra stream
             * compressed with old as its prefix, where zstd finds the
             * shorter matches the scan left (oxc-parser: 908,719 bytes
             * against 913,880 by patch-from alone, in the same time).
             * Patch-from is then left to levels 20-22 (pf_always): levels
             * up to 19 never try it. */
            f.extra_prefix = 1;
            if (method == ZUPD_DELTA_AUTO)
                want_b40 = 0; /* its bzip2 extra stream cannot win here */
            nl = 1;
            if (ladder[0] != HYBRID_THR) {
                ladder[0] = HYBRID_THR;
                plan_release(&pl);
                rc = plan_scan(old, old_len, new_, new_len, &ix, f.skip, HYBRID_THR, &pl);
            }
        }
        if (method == ZUPD_DELTA_AUTO && !f.pf_always)
            want_zstd = 0;
        for (size_t t = 0; rc == ZUPD_OK && t < nl; t++) {
            size_t est = 0;
            if (t > 0)
                rc = plan_scan(old, old_len, new_, new_len, &ix, f.skip, ladder[t], &pl);
            if (rc != ZUPD_OK)
                break;
            if (nl > 2) {
                rc = plan_fill(&pl, old, old_len, new_, new_len);
                if (rc == ZUPD_OK)
                    TR("estimate", rc = plan_estimate(&pl, &est));
                plan_empty(&pl);
                if (rc != ZUPD_OK)
                    break;
#ifdef ZU_DELTA_TRACE
                fprintf(stderr, "delta: thr %zu estimate %zu\n", ladder[t], est);
#endif
            }
            /* the ladder ends after two plans in a row estimated no
             * better than the best so far (on most files the estimates
             * grow with the threshold; text files big enough to reach
             * the short ladder need every rung: mdn-bcd is best at 256) */
            if (nkeep > 0 && est >= best_est) {
                if (++worse == 2 && !short_ladder)
                    nl = t + 1;
            } else {
                worse = 0;
                best_est = est;
            }
            /* keep the two plans of the smallest estimates, the second
             * only while within 3 % of the best */
            if (nkeep < 2) {
                keep[nkeep] = pl;
                keep_est[nkeep++] = est;
            } else {
                size_t w = keep_est[0] >= keep_est[1] ? 0 : 1;
                if (est < keep_est[w]) {
                    plan_release(&keep[w]);
                    keep[w] = pl;
                    keep_est[w] = est;
                } else {
                    plan_release(&pl);
                }
            }
            if (nkeep == 2) {
                size_t g = keep_est[0] <= keep_est[1] ? 0 : 1;
                if (keep_est[1 - g] - keep_est[g] > keep_est[g] / 33) {
                    plan_release(&keep[1 - g]);
                    keep[0] = keep[g];
                    keep_est[0] = keep_est[g];
                    memset(&keep[1], 0, sizeof(keep[1]));
                    nkeep = 1;
                }
            }
            memset(&pl, 0, sizeof(pl));
        }
        sindex_release(&ix); /* before the compressions need memory */
        for (size_t k = 0; rc == ZUPD_OK && k < nkeep; k++) {
            uint8_t *nat = NULL, *b40 = NULL;
            size_t nat_len = 0, b40_len = 0;
            rc = plan_fill(&keep[k], old, old_len, new_, new_len);
            if (rc == ZUPD_OK)
                rc = write_bsdiff(&keep[k], hdr, hdr_len, old, old_len, new_len, &f, want_bsd,
                                  want_b40, &nat, &nat_len, &b40, &b40_len);
            plan_empty(&keep[k]); /* the entries stay for ctx_try */
            if (rc != ZUPD_OK)
                break;
            if (nat != NULL && (best == NULL || nat_len < best_len))
                win = (int)k;
            if (b40 != NULL && (best == NULL || b40_len < best_len) &&
                (nat == NULL || b40_len < nat_len))
                win = -1;
            if (rep != NULL && nat != NULL && (rep->bsdiff == 0 || nat_len < rep->bsdiff))
                rep->bsdiff = nat_len;
            if (rep != NULL && b40 != NULL && (rep->bsdiff40 == 0 || b40_len < rep->bsdiff40))
                rep->bsdiff40 = b40_len;
            if (nat != NULL)
                keep_best(&best, &best_len, nat, nat_len);
            if (b40 != NULL)
                keep_best(&best, &best_len, b40, b40_len);
        }
        /* the extra stream of the plan that won, with its context */
        if (rc == ZUPD_OK && win >= 0 && !f.extra_prefix)
            TR("extra ctx",
               rc = ctx_try(&keep[win], old, old_len, new_, new_len, &f, &best, &best_len));
        for (size_t k = 0; k < 2; k++)
            plan_release(&keep[k]);
        if (rc != ZUPD_OK)
            goto out;
        if (rep != NULL && best != NULL && best[5] == ZUPD_DELTA_BSDIFF &&
            memcmp(best, ZUPD_DELTA_MAGIC, ZUPD_DELTA_MAGIC_LEN) == 0)
            rep->bsdiff = best_len;
    }
    plan_release(&pl);
    if (want_zstd) {
        uint8_t *z = NULL;
        size_t zn = 0;
        rc = pf_make(old, old_len, new_, new_len, f.pf_level, &z, &zn);
        if (rc != ZUPD_OK)
            goto out;
        if (rep != NULL)
            rep->zstd = zn;
        keep_best(&best, &best_len, z, zn);
    }
    *patch = best;
    *patch_len = best_len;
    best = NULL;
    rc = ZUPD_OK;
out:
    plan_release(&pl);
    sindex_release(&ix);
    free(best);
    return rc;
}
