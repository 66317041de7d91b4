/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/write.c -- the patch writer: headers, stream codecs and their compression jobs,
 * the extra context, native bsdiff, BSDIFF40 and zstd patches. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bzlib.h>
#include <lzma.h>
#include <zstd.h>

#include <zupd/hash.h>

#include "delta/create_int.h"
#include "zu/delta_exe.h"
#include "zu/delta_format.h"
#include "zu/delta_x86.h"
#include "zu/internal.h"

/* ------------------------------------------------------------------ zstd */

/* Compress src[0..len) with cc (its parameters set) into a new buffer
 * after a copy of head[0..hn): *out, *out_len = hn + the frame. */
static int
zstd_frame(ZSTD_CCtx *cc, const uint8_t *head, size_t hn, const uint8_t *src, size_t len,
           uint8_t **out, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len), r;
    uint8_t *dst = malloc(hn + cap);

    if (dst == NULL)
        return ZUPD_E_NOMEM;
    if (hn > 0)
        memcpy(dst, head, hn);
    r = ZSTD_compress2(cc, dst + hn, cap, src, len);
    if (ZSTD_isError(r)) {
        free(dst);
        return ZUPD_E_NOMEM;
    }
    *out = dst;
    *out_len = hn + r;
    return ZUPD_OK;
}

/* Compress src[0..len) at level into a new buffer after a copy of
 * head[0..hn); prefix: referenced as the frame's prefix with long-distance
 * matching and a window spanning prefix and content, else a window of
 * zstd's choice capped at 24. Empty input gives no frame (an empty stream
 * in the native format): head alone, or no buffer. */
static int
zstd_pack_after(const uint8_t *head, size_t hn, const uint8_t *src, size_t len, int level,
                const uint8_t *prefix, size_t prefix_len, uint8_t **out, size_t *out_len)
{
    ZSTD_CCtx *cc = NULL;
    int rc = ZUPD_E_NOMEM;

    *out = NULL;
    *out_len = 0;
    if (len == 0 && hn == 0)
        return ZUPD_OK;
    if (len == 0) {
        *out = malloc(hn);
        if (*out == NULL)
            return ZUPD_E_NOMEM;
        memcpy(*out, head, hn);
        *out_len = hn;
        return ZUPD_OK;
    }
    cc = ZSTD_createCCtx();
    if (cc == NULL)
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
    rc = zstd_frame(cc, head, hn, src, len, out, out_len);
out:
    ZSTD_freeCCtx(cc);
    return rc;
}

/* zstd_pack_after with no head: a stream of the native format. */
static int
zstd_pack(const uint8_t *src, size_t len, int level, const uint8_t *prefix, size_t prefix_len,
          uint8_t **out, size_t *out_len)
{
    return zstd_pack_after(NULL, 0, src, len, level, prefix, prefix_len, out, out_len);
}

/* ------------------------------------------------------------------ writers */

int
zp_hdr_make(uint8_t *h, size_t *hlen, int method, const uint8_t *old, size_t olen,
            const uint8_t *nw, size_t nlen)
{
    size_t dn, at = 8;
    int rc;

    memset(h, 0, HDR_MAX);
    memcpy(h, ZUPD_DELTA_MAGIC, ZUPD_DELTA_MAGIC_LEN);
    uint8_t d[32];

    h[4] = ZP_VERSION; /* the compact header: every patch has it */
    h[5] = (uint8_t)method;
    at += zu_put_varint(h + at, olen);
    at += zu_put_varint(h + at, nlen);
    /* the first ZU_DIGEST_SHORT bytes of each SHA-256 */
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, old, olen, d, sizeof(d), &dn);
    memcpy(h + at, d, ZU_DIGEST_SHORT);
    if (rc == ZUPD_OK)
        rc = zupd_hash_buf(ZUPD_HASH_SHA256, nw, nlen, d, sizeof(d), &dn);
    memcpy(h + at + ZU_DIGEST_SHORT, d, ZU_DIGEST_SHORT);
    *hlen = at + 2 * ZU_DIGEST_SHORT;
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

/* How many bytes from src[0..n) are zeros, eight at a time: a diff stream
 * is mostly zeros (mdn-bcd-w: 20 MB with 1.6 KB of literals), and its
 * codings below each go over all of it. */
static size_t
zero_len(const uint8_t *src, size_t n)
{
    size_t i = 0;

    while (i + 8 <= n) {
        uint64_t x;
        memcpy(&x, src + i, 8);
        if (x != 0)
            return i + (size_t)(__builtin_ctzll(x) >> 3);
        i += 8;
    }
    while (i < n && src[i] == 0)
        i++;
    return i;
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
        z += zero_len(src + z, len - z);
        l = z;
        while (l < len) {
            if (src[l] == 0 && l + 2 < len && src[l + 1] == 0 && src[l + 2] == 0)
                break;
            if (src[l] == 0 && l + 2 >= len) {
                size_t t = l;
                t += zero_len(src + t, len - t);
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

/* A copy of k into *out, with codec. */
static int
packed_copy(const struct packed *k, int codec, struct packed *out)
{
    out->p = malloc(k->n + 1);
    if (out->p == NULL)
        return ZUPD_E_NOMEM;
    if (k->n > 0)
        memcpy(out->p, k->p, k->n);
    out->n = k->n;
    out->codec = codec;
    return ZUPD_OK;
}

/* The smallest encoding of src[0..len) among codec 0 (*a: zstd, or LZMA2
 * in that family), bzip2 (*b, may be empty), stored and zero-run coded, a
 * copy in *out. */
static int
pick_stream(const uint8_t *src, size_t len, int try_zrle, const struct packed *a,
            const struct packed *b, struct packed *out)
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
    if (b->p != NULL && (a_absent || b->n < a->n))
        rc = packed_copy(b, ZU_CODEC_BZIP2, out);
    else
        rc = packed_copy(a, ZU_CODEC_ZSTD, out);
out:
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
        z += zero_len(src + z, len - z);
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
        z += zero_len(src + z, len - z);
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

/* The split coding's pairs as they are made: z zeros, then l nonzero
 * bytes; a pair ends where a zero follows a nonzero byte, and at the end
 * of the stream. runs and lits NULL: counted only (nr, nl). */
struct split_st {
    size_t z, l;
    uint8_t *runs, *lits;
    size_t nr, nl;
};

static void
split_pair(struct split_st *s)
{
    if (s->runs != NULL) {
        s->nr += zu_put_varint(s->runs + s->nr, s->z);
        s->nr += zu_put_varint(s->runs + s->nr, s->l);
    } else {
        s->nr += zu_varint_len(s->z) + zu_varint_len(s->l);
    }
    s->z = s->l = 0;
}

/* The diff bytes b[i] - a[i], i < n, added to the split coding: a zero
 * diff byte is an equal byte, so the zeros are counted eight at a time. */
static void
split_add(struct split_st *s, const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (s->l == 0) {
            size_t e = zp_same_len(a + i, b + i, n - i);
            s->z += e;
            i += e;
            if (i == n)
                break;
        }
        for (; i < n && a[i] != b[i]; i++) {
            if (s->lits != NULL)
                s->lits[s->nl] = (uint8_t)(b[i] - a[i]);
            s->nl++;
            s->l++;
        }
        if (i < n)
            split_pair(s);
    }
}

/* One pass of the split coding of pl's diff stream, from old and new. */
static int
split_pass(const struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
           struct split_st *s)
{
    size_t np = 0;
    int64_t op = 0;

    for (size_t i = 0; i < pl->n; i++) {
        const struct ctl *c = &pl->c[i];
        /* zp_plan_fill's checks */
        if (op < 0 || (uint64_t)op > olen || c->add > olen - (uint64_t)op || c->add > nlen - np ||
            c->copy > nlen - np - c->add)
            return ZUPD_E_MISUSE;
        split_add(s, old + op, nw + np, c->add);
        np += c->add + c->copy;
        op += (int64_t)c->add + c->seek;
    }
    if (s->z > 0 || s->l > 0)
        split_pair(s);
    return ZUPD_OK;
}

int
zp_plan_split(const struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw,
              size_t nlen, uint8_t **runs, size_t *runs_len, uint8_t **lits, size_t *lits_len)
{
    struct split_st s;
    int rc;

    *runs = *lits = NULL;
    *runs_len = *lits_len = 0;
    memset(&s, 0, sizeof(s));
    rc = split_pass(pl, old, olen, nw, nlen, &s); /* first pass: sizes */
    if (rc != ZUPD_OK)
        return rc;
    *runs = malloc(s.nr + 1);
    *lits = malloc(s.nl + 1);
    if (*runs == NULL || *lits == NULL) {
        free(*runs);
        free(*lits);
        *runs = *lits = NULL;
        return ZUPD_E_NOMEM;
    }
    *runs_len = s.nr;
    *lits_len = s.nl;
    memset(&s, 0, sizeof(s));
    s.runs = *runs;
    s.lits = *lits;
    return split_pass(pl, old, olen, nw, nlen, &s);
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
        z += zero_len(src + z, len - z);
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

/* ------------------------------------------------------------------ LZMA2 */

/* The LZMA2 dictionary size of the property byte that holds at least n
 * bytes (4 KiB to ZU_LZMA_DICT_MAX), exactly as apply decodes it: the
 * encoder and the decoder then take the same bytes of the prefix. */
static uint32_t
lz_dict_for(size_t n, uint8_t *prop)
{
    for (uint8_t p = 0;; p++) {
        uint32_t d = (2u | (p & 1u)) << (p / 2 + 11);
        if (d >= n || d >= ZU_LZMA_DICT_MAX) {
            *prop = p;
            return d;
        }
    }
}

/* Patch-from in LZMA2 (zp_pf_lzma_make) searches matches up to LZMA2's
 * longest, 273 bytes (preset 9 stops at the first of 64), 48 deep in
 * its binary trees (preset 9: 48 too, but 16 + 273 / 2 at that length),
 * and for text with no position bits (text is not aligned as code is).
 * Text that moved leaves many matches of a few hundred bytes, each
 * record or line somewhere else in old: issue 18's tuning half,
 * user-agents 185,969 bytes at preset 9, 158,138 taking matches of 128,
 * 135,614 at 273 in 2.8 times preset 9's time; at depth 24 137,773, at
 * 152 (preset 9's rule for 273) 135,480 in 1.8 times the time of 48. */
#define LZ_PF_NICE 273
#define LZ_PF_DEPTH 48

/* src[0..len) as an LZMA2 stream (ZU_CODEC_LZMA): the property byte,
 * then raw LZMA2 at preset 9 (with pf, as LZ_PF_NICE and LZ_PF_DEPTH
 * say; pf 2: text) with a dictionary of at least dict bytes, the last of
 * prefix[0..prefix_len) that fit preset in it. */
static int
lz_pack(const uint8_t *src, size_t len, const uint8_t *prefix, size_t prefix_len, size_t dict,
        int pf, uint8_t **out, size_t *out_len)
{
    lzma_options_lzma o;
    lzma_filter f[2] = {{LZMA_FILTER_LZMA2, &o}, {LZMA_VLI_UNKNOWN, NULL}};
    size_t cap = lzma_stream_buffer_bound(len), n = 1;
    uint8_t *dst, prop;
    lzma_ret ret;

    *out = NULL;
    *out_len = 0;
    if (lzma_lzma_preset(&o, 9))
        return ZUPD_E_MISUSE;
    if (pf) {
        o.nice_len = LZ_PF_NICE;
        o.depth = LZ_PF_DEPTH;
        if (pf == 2)
            o.pb = 0;
    }
    o.dict_size = lz_dict_for(dict, &prop);
    if (prefix != NULL && prefix_len > 0) {
        size_t keep = prefix_len < o.dict_size ? prefix_len : o.dict_size;
        o.preset_dict = prefix + prefix_len - keep;
        o.preset_dict_size = (uint32_t)keep;
    }
    dst = malloc(cap + 1);
    if (dst == NULL)
        return ZUPD_E_NOMEM;
    dst[0] = prop;
    ret = lzma_raw_buffer_encode(f, NULL, src, len, dst, &n, cap + 1);
    if (ret != LZMA_OK) {
        free(dst);
        return ret == LZMA_MEM_ERROR ? ZUPD_E_NOMEM : ZUPD_E_MISUSE;
    }
    *out = dst;
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
    size_t lz_dict; /* not 0: LZMA2 (lz_pack) with at least this dictionary */
    const uint8_t *prefix;
    size_t prefix_len;
    struct packed out;
    int rc;
    int on; /* 0: not wanted */
#ifdef ZU_DELTA_TRACE
    double secs;
#endif
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
#ifdef ZU_DELTA_TRACE
        j->secs = tr_now();
#endif
        if (j->bz)
            j->rc = bz_pack(j->src, j->len, j->bz, &j->out.p, &j->out.n);
        else if (j->lz_dict > 0)
            j->rc = lz_pack(j->src, j->len, j->prefix, j->prefix_len, j->lz_dict, 0, &j->out.p,
                            &j->out.n);
        else
            j->rc =
                zstd_pack(j->src, j->len, j->level, j->prefix, j->prefix_len, &j->out.p, &j->out.n);
#ifdef ZU_DELTA_TRACE
        j->secs = tr_now() - j->secs;
#endif
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

/* Apply holds an LZMA2 extra stream's dictionary beside old transformed
 * (whole up to ZU_EXE_WHOLE_MAX) and its other buffers (the output ring,
 * 8 MiB; the decoders'): both together at most this, so that apply stays
 * within old + 64 MiB (issue 18). */
#define LZ_APPLY_MAX (48u << 20)
/* The dictionary of an LZMA2 extra stream without old as its prefix:
 * biome-m's 19 MB of extra bytes, 5,853,184 bytes at 16 MiB, 5,860,039 at
 * 8 MiB, 5,919,325 at 4 MiB; the encoder takes about 11.5 times it (93 MiB
 * at 8 MiB), apply once. */
#define LZ_ALONE_DICT (8u << 20)

/* The control and diff streams in LZMA2: 1 MiB of dictionary was as
 * good as more (biome-m: the control stream 833,929 bytes at 1 MiB and
 * at 8, the changed bytes 2,122,147 and 2,121,468, their runs 899,451 and
 * 898,327; 256 KiB: 844,623, 2,130,510, 913,304), and apply holds one for
 * each stream. */
#define LZ_STREAM_DICT (1u << 20)
/* The LZMA2 family is made where the control stream and the split diff
 * stream's two parts have this many bytes or more: enough for a few
 * percent of them to matter. Where it is made, the zstd family is not:
 * on both halves of issue 18's corpus and the public pairs it was smaller
 * than the zstd family on every one of the 25 pairs where both were made
 * (the zstd family 0.5 % larger on lightningcss-wp, oxc-parser-b and
 * lefthook-a, 1.4-2.7 % on the biggest executables, up to 5.8 % on
 * dprint), and the zstd family's jobs were a third of the compressions'
 * CPU (biome-m: 23 of 51 s). Nor is bzip2 of the control and extra
 * streams: on those pairs it never won either (LZMA2 of the control
 * stream in columns and of the extra stream did, everywhere); of bzip2,
 * only the zero-run bytes' are made (they won on the Go executables). */
#define LZ_ALL_MIN (64u << 10)
/* An extra stream this long or longer is made in LZMA2 only (where LZMA2
 * is allowed), not also in zstd: zstd was smaller only on short text
 * streams (mdn-bcd: 19,194 bytes against 19,532 of 404 kB; mdn-bcd-w,
 * mime-db, types-node, all under 40 kB), LZMA2 on every stream of 1 MB or
 * more (0.1 % on the swc pairs' compressed sections, 7.9-36 % on the
 * other executables), where zstd level 19 took 3.4 (esbuild-m) to 16 s
 * (biome-m). */
#define LZ_EXTRA_ONLY (1u << 20)

/* The LZMA2 job of src[0..len) without a prefix, in a dictionary for it
 * of at most max bytes; off for an empty stream. */
static void
lz_alone_set(struct job *j, const uint8_t *src, size_t len, size_t max)
{
    job_set(j, src, len, 0, 0, NULL, 0);
    j->lz_dict = len < max ? len : max;
    j->on = len > 0;
}

/* The LZMA2 job of an extra stream of len bytes: with old[0..olen) as its
 * prefix where prefix asks and a dictionary as long as old fits
 * LZ_APPLY_MAX (returns 1), else alone with a dictionary for the stream,
 * at most LZ_ALONE_DICT (returns 0). Counted as if old were transformed
 * whole whenever it may be. As long as old, not as old and the stream:
 * the stream's first bytes see all of old, its last ones the end of old
 * and the stream before them (esbuild-m: 1,431,207 bytes at 12 MiB for
 * old's 11.1 MB, 1,431,365 at 16 MiB for old and the stream, with 147
 * instead of 185 MiB for the encoder; 1,571,083 at 8 MiB). */
static int
lz_job_set(struct job *j, const uint8_t *src, size_t len, const uint8_t *old, size_t olen,
           int prefix)
{
    size_t held = olen <= ZU_EXE_WHOLE_MAX ? olen : 0, cap = LZ_APPLY_MAX - held;

    if (prefix && olen > 0 && olen <= cap) {
        job_set(j, src, len, 0, 0, old, olen);
        j->lz_dict = olen;
        return 1;
    }
    lz_alone_set(j, src, len, LZ_ALONE_DICT);
    return 0;
}

/* An extra stream of LZ_RANDOM_MIN bytes or more that zstd at level
 * EST_LEVEL cannot make one LZ_RANDOM-th smaller on its own (compressed or
 * encrypted data) is compressed without old as its prefix: what old holds
 * of it the scan matched already, and short matches in random bytes are
 * chance. The prefix is most of the time of the job (LZMA2's binary tree
 * over all of old: 5.4 s of esbuild-m's 10.4, 10 s of swc-a's 12.2). On
 * issue 18's corpus and the public pairs the mostly-new pairs' extra
 * streams estimate at 0.32-0.43 of their bytes (esbuild-m, oxc-parser-b,
 * lightningcss-p, where old as the prefix makes LZMA2 30-37 % smaller),
 * the swc pairs' at 0.9995: old as the prefix saved them 1,917 bytes of
 * 9.8 MB (swc-a). Its dictionary is LZ_RANDOM_DICT at most: the binary
 * tree of a longer one is the time (swc-a's extra stream: 9,787,775 bytes
 * in 7.6 s at 8 MiB, 9,787,801 in 6.6 s at 1 MiB, 9,787,694 in 1.9 s at
 * 64 KiB, 9,787,771 at 4 KiB). */
#define LZ_RANDOM 100
#define LZ_RANDOM_MIN (16u << 10)
#define LZ_RANDOM_DICT (64u << 10)

int
zp_extra_random(const uint8_t *ex, size_t n)
{
    size_t est = 0;

    return n >= LZ_RANDOM_MIN && zp_extra_estimate(ex, n, &est) == ZUPD_OK &&
           est >= n - n / LZ_RANDOM;
}

/* The version a native patch needs for its streams, from header byte 6
 * (codecs) and its flags, before the executable stage marks it: 10 with
 * LZMA2 streams, 8 with rep-coded seeks, else the compact header's (more
 * endpoints read the older ones). */
static uint8_t
streams_version(uint8_t codecs, uint8_t flags)
{
    if ((flags & ZU_FLAG_CTRL_COLS) != 0)
        return ZP_VERSION_15;
    if ((codecs & 0xc0) != 0)
        return ZP_VERSION_10;
    return (flags & ZU_FLAG_CTRL_REP) != 0 ? ZP_VERSION_8 : ZP_VERSION;
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

/* The third varints of a plan's entries, made entry by entry: the zigzag
 * seek, or with rep (ZU_FLAG_CTRL_REP) the smallest of its selectors (0:
 * the seek itself; k: the next alignment against the k-th in the
 * history). */
struct thirds {
    struct zu_rep r;
    int64_t newpos, oldpos;
    int rep;
};

/* The third varint of e, the next entry, into *v; 0 where it is beyond
 * the coding (|m| of 2^61 and more: never from a real plan). */
static int
third_next(struct thirds *t, const struct ctl *e, uint64_t *v)
{
    const int64_t add = (int64_t)e->add, copy = (int64_t)e->copy, seek = e->seek;
    const int64_t next = t->oldpos + add + seek - (t->newpos + add + copy);
    uint64_t best = UINT64_MAX;

    if (!t->rep) {
        *v = zu_zigzag(seek);
        return 1;
    }
    for (unsigned k = 0; k <= t->r.n; k++) {
        int64_t m = k == 0 ? seek : next - t->r.a[k - 1];
        uint64_t z = zu_zigzag(m);
        if (z < (UINT64_C(1) << 61) && (z << 2 | k) < best)
            best = z << 2 | k;
    }
    if (best == UINT64_MAX)
        return 0;
    *v = best;
    zu_rep_push(&t->r, t->oldpos - t->newpos);
    t->oldpos += add + seek;
    t->newpos += add + copy;
    return 1;
}

/* A native control stream of pl into a new buffer (*out NULL where
 * third_next cannot code it): with rep its seeks rep-coded; with cols in
 * blocks of columns (ZU_FLAG_CTRL_COLS: varint m, m adds, m copies, m
 * thirds), else entry by entry (varint add, varint copy, varint third). */
static int
ctrl_code(const struct plan *pl, int rep, int cols, uint8_t **out, size_t *out_len)
{
    struct thirds t = {{{0, 0, 0}, 0}, 0, 0, rep};
    const size_t nv = cols ? (pl->n < ZU_CTRL_BLOCK ? pl->n : ZU_CTRL_BLOCK) : 0;
    uint64_t *v = malloc((nv > 0 ? nv : 1) * sizeof(*v));
    uint8_t *c = malloc(pl->n * 30 + (pl->n / ZU_CTRL_BLOCK + 1) * 10);
    size_t cn = 0;
    int ok = 1;

    *out = NULL;
    *out_len = 0;
    if (v == NULL || c == NULL) {
        free(v);
        free(c);
        return ZUPD_E_NOMEM;
    }
    for (size_t i = 0; i < pl->n && !cols && ok; i++) {
        uint64_t x;
        if (!(ok = third_next(&t, &pl->c[i], &x)))
            break;
        cn += put_varint(c + cn, pl->c[i].add);
        cn += put_varint(c + cn, pl->c[i].copy);
        cn += put_varint(c + cn, x);
    }
    for (size_t b = 0; b < pl->n && cols && ok; b += ZU_CTRL_BLOCK) {
        const size_t m = pl->n - b < ZU_CTRL_BLOCK ? pl->n - b : ZU_CTRL_BLOCK;
        for (size_t i = 0; i < m && ok; i++)
            ok = third_next(&t, &pl->c[b + i], &v[i]);
        cn += put_varint(c + cn, m);
        for (size_t i = b; i < b + m; i++)
            cn += put_varint(c + cn, pl->c[i].add);
        for (size_t i = b; i < b + m; i++)
            cn += put_varint(c + cn, pl->c[i].copy);
        for (size_t i = 0; i < m; i++)
            cn += put_varint(c + cn, v[i]);
    }
    free(v);
    if (!ok) {
        free(c);
        return ZUPD_OK;
    }
    *out = c;
    *out_len = cn;
    return ZUPD_OK;
}

/* A quick estimate of a plan's native size: its control, split diff and
 * extra streams at zstd level EST_LEVEL (ranks plans as level 19 does at
 * a fraction of the time). The split coding is made from the entries
 * (zp_plan_split), not from a diff stream: the estimates are made while
 * the suffix array and the scans' memo are held, and a diff stream is
 * about as long as new (libvips-b: 18 MB of the creation's peak). */
int
zp_plan_estimate(const struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw,
                 size_t nlen, size_t *est)
{
    enum { E_C, E_R, E_L, E_X, E_N };
    struct job jobs[E_N];
    uint8_t *craw = NULL, *runs = NULL, *lits = NULL;
    size_t cn = 0, nruns = 0, nlits = 0;
    int rc;

    memset(jobs, 0, sizeof(jobs));
    *est = SIZE_MAX;
    rc = ctrl_code(pl, 0, 0, &craw, &cn);
    if (rc == ZUPD_OK && pl->diff_len > 0)
        rc = zp_plan_split(pl, old, olen, nw, nlen, &runs, &nruns, &lits, &nlits);
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
            int rc = zu_ctx_add(c, old, NULL, olen, (uint64_t)op, w);
            if (rc != ZUPD_OK)
                return rc;
        }
        op += pl->c[i].seek;
    }
    return ZUPD_OK;
}

/* Where the extra stream of the native patch *patch (made from pl) is
 * smaller with the context as its zstd prefix, rewrite the patch so
 * (ZU_FLAG_EXTRA_CTX, the radius after the stream lengths). A patch with
 * the x86 filter keeps it: its extra bytes are made filtered by the
 * parameters it holds, which go after the radius. Not for a patch with
 * the executable stage's parameters (exe_write tries before it marks). */
int
zp_ctx_try(struct plan *pl, const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen,
           const struct prof *f, uint8_t **patch, size_t *patch_len)
{
    struct zu_ctx ctx = {0};
    struct zu_x86 x86;
    const struct zu_x86 *was = pl->x86;
    uint8_t *ex = NULL, *exl = NULL, *out = NULL, *p = *patch;
    size_t exn = 0, exln = 0, at = 8, body, par, el, n;
    uint64_t v[4] = {0, 0, 0, 0}, w = CTX_W;
    /* the LZMA2 family (ZU_CODECS_LZMA_ALL) has no zstd: its extra
     * stream with the context is LZMA2, as it may be in the other one */
    int lzall = (p[6] & 0xc0) == ZU_CODECS_LZMA_ALL, lz;
    int rc;

    /* the stage's parameters go in after this is tried (exe_write) */
    if (pl->extra_len == 0 || pl->extra_len > CTX_TRY_MAX / 2 || (p[7] & ZU_FLAG_EXE) != 0)
        return ZUPD_OK;
    /* old size, new size, the hashes, ctrl and diff lengths (our header) */
    for (int i = 0; i < 4; i++) {
        if (zu_get_varint(p, *patch_len, &at, &v[i]) != ZUPD_OK)
            return ZUPD_E_MISUSE;
        if (i == 1)
            at += 2 * ZU_DIGEST_SHORT;
    }
    body = par = at;
    /* the x86 filter's parameters p[body, par), which go after the radius;
     * the extra bytes are made filtered, as the patch has them */
    if ((p[7] & ZU_FLAG_EXTRA_X86) != 0) {
        if (zu_x86_params_get(p, *patch_len, &par, v[1], &x86) != ZUPD_OK)
            return ZUPD_E_MISUSE;
        pl->x86 = &x86;
    }
    if (par > *patch_len || v[2] + v[3] > *patch_len - par) {
        pl->x86 = was;
        return ZUPD_E_MISUSE;
    }
    el = *patch_len - par - (size_t)v[2] - (size_t)v[3];
    rc = zp_plan_fill_extra(pl, old, olen, nw, nlen); /* the diff stream is not rewritten */
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
    if (rc == ZUPD_OK && ctx.len > 0 && !lzall)
        rc = zstd_pack(pl->extra, pl->extra_len, f->z_small, ctx.buf, ctx.len, &ex, &exn);
    if (rc == ZUPD_OK && ctx.len > 0 && f->lzma)
        rc = lz_pack(pl->extra, pl->extra_len, ctx.buf, ctx.len, ctx.len + pl->extra_len, 0, &exl,
                     &exln);
    zp_plan_empty(pl);
    pl->x86 = was;
    zu_ctx_free(&ctx);
    lz = exl != NULL && (ex == NULL || exln < exn);
    if (lz) { /* LZMA2 where smaller */
        free(ex);
        ex = exl;
        exn = exln;
    } else {
        free(exl);
    }
    if (rc != ZUPD_OK || ex == NULL || exn + zu_varint_len(w) >= el) {
        free(ex);
        return rc;
    }
    n = par + zu_varint_len(w) + (size_t)v[2] + (size_t)v[3] + exn;
    out = malloc(n);
    if (out == NULL) {
        free(ex);
        return ZUPD_E_NOMEM;
    }
    memcpy(out, p, body);
    out[7] |= ZU_FLAG_EXTRA_CTX;
    if (lzall) /* extra: codec 0, LZMA2 in this family */
        out[6] = (uint8_t)(out[6] & ~0x30);
    else /* extra: zstd, or LZMA2 (bits 6-7 1) */
        out[6] = (uint8_t)((out[6] & 0x0f) | (lz ? ZU_CODECS_EXTRA_LZMA : 0));
    out[4] = streams_version(out[6], out[7]);
    at = body + zu_put_varint(out + body, w);
    memcpy(out + at, p + body, par - body + (size_t)(v[2] + v[3])); /* x86 parameters, streams */
    at += par - body;
    memcpy(out + at + v[2] + v[3], ex, exn);
    free(ex);
    free(*patch);
    *patch = out;
    *patch_len = n;
    return ZUPD_OK;
}

/* Mark the native patch *patch as made with the executable stage: its
 * parameters par[0..pn) inserted after the stream lengths (and the radius),
 * ZU_FLAG_EXE set. */
int
zp_exe_mark(uint8_t **patch, size_t *patch_len, const uint8_t *par, size_t pn)
{
    uint8_t *p = *patch, *out;
    size_t at = 8;
    uint64_t v;
    int nv = (p[7] & ZU_FLAG_EXTRA_CTX) != 0 ? 5 : 4;

    /* old size, new size, the hashes, ctrl and diff lengths, the radius */
    for (int i = 0; i < nv; i++) {
        if (zu_get_varint(p, *patch_len, &at, &v) != ZUPD_OK)
            return ZUPD_E_MISUSE;
        if (i == 1)
            at += 2 * ZU_DIGEST_SHORT;
    }
    if (at > *patch_len)
        return ZUPD_E_MISUSE;
    out = malloc(*patch_len + pn);
    if (out == NULL)
        return ZUPD_E_NOMEM;
    memcpy(out, p, at);
    memcpy(out + at, par, pn);
    memcpy(out + at + pn, p + at, *patch_len - at);
    out[7] |= ZU_FLAG_EXE;
    free(p);
    *patch = out;
    *patch_len += pn;
    return ZUPD_OK;
}

/* The streams of zp_write_bsdiff: raw, then compressed. */
struct wstreams {
    uint8_t *craw, *crep, *c40raw, *runs, *lits, *zr;
    size_t cn, nrep, nruns, nlits, nzr;
    int lzfam;             /* the LZMA2 family is made, not the zstd one */
    uint8_t *ccol, *ccolr; /* the control stream in columns, plain and rep-coded */
    size_t ncol, ncolr;
    struct packed ccz, ccrz, ccl, ccrl; /* those in zstd and LZMA2 */
    struct packed cz, cb, crz, crb, dz, db, ez, eb, c40, ds, dr, dr3;
    struct packed el, cl, crl, dsl; /* LZMA2: extra, control (rep-coded), split diff */
};

static void
wstreams_release(struct wstreams *s)
{
    free(s->craw);
    free(s->crep);
    free(s->ccol);
    free(s->ccolr);
    packed_release(&s->ccz);
    packed_release(&s->ccrz);
    packed_release(&s->ccl);
    packed_release(&s->ccrl);
    free(s->c40raw);
    free(s->runs);
    free(s->lits);
    free(s->zr);
    packed_release(&s->dr);
    packed_release(&s->dr3);
    packed_release(&s->cz);
    packed_release(&s->cb);
    packed_release(&s->crz);
    packed_release(&s->crb);
    packed_release(&s->dz);
    packed_release(&s->db);
    packed_release(&s->ez);
    packed_release(&s->eb);
    packed_release(&s->el);
    packed_release(&s->cl);
    packed_release(&s->crl);
    packed_release(&s->dsl);
    packed_release(&s->c40);
    packed_release(&s->ds);
}

/* The compressions of zp_write_bsdiff, one job each. */
enum {
    J_EL,
    J_LL,
    J_RL,
    J_DB,
    J_DR,
    J_DR3,
    J_RZ,
    J_LZ,
    J_DZ,
    J_EZ,
    J_EB,
    J_CZ,
    J_CB,
    J_CL,
    J_CRZ,
    J_CRB,
    J_CRL,
    J_CCZ,
    J_CCRZ,
    J_CCL,
    J_CCRL,
    J_C40,
    J_N
};

/* bzip2 of the zero-run bytes (the J_DR and J_DR3 jobs) is made only
 * where the diff stream's literals (its nonzero bytes) are at least one
 * in ZRUN_BZ_SPARSE of it. Sparser streams are long runs of zeros between
 * few changed bytes (a data set a week changed in a few places), whose
 * zero-run bytes are mostly run counts: there the split coding was 22-35 %
 * smaller on every pair of issue 18's corpus (mdn-bcd-w: 1,489 bytes
 * against 1,905, literals 0.007 % of the stream; spdx 780 / 974, 0.010 %;
 * tzdata and types-node, zero-run coded), and the bzip2 job was a quarter
 * of mdn-bcd-w's creation CPU. Where it won (Go executables, sentry-cli)
 * the literals are 1.2-4.3 % of the stream; user-agents, 2 %, lost by 5 %. */
#define ZRUN_BZ_SPARSE 1000

int
zp_zrun_bz_wanted(size_t diff_len, size_t nlits)
{
    return diff_len > 0 && nlits >= diff_len / ZRUN_BZ_SPARSE;
}

/* The raw streams: native control, BSDIFF40 control, and the split and
 * zero-run forms of the diff stream. */
static int
raw_streams(const struct plan *pl, int want_native, int want_b40, int lzma, struct wstreams *s)
{
    int rc;

    if (ctrl_code(pl, 0, 0, &s->craw, &s->cn) != ZUPD_OK)
        return ZUPD_E_NOMEM;
    s->c40raw = want_b40 ? malloc(pl->n * 24 + 1) : NULL;
    if (want_b40 && s->c40raw == NULL)
        return ZUPD_E_NOMEM;
    for (size_t i = 0; want_b40 && i < pl->n; i++) {
        zu_offtout(s->c40raw + 24 * i, (int64_t)pl->c[i].add);
        zu_offtout(s->c40raw + 24 * i + 8, (int64_t)pl->c[i].copy);
        zu_offtout(s->c40raw + 24 * i + 16, pl->c[i].seek);
    }
    if (want_native && ctrl_code(pl, 1, 0, &s->crep, &s->nrep) != ZUPD_OK)
        return ZUPD_E_NOMEM;
    /* in columns (version 15): not where the patches are to stay within
     * version 9 (no LZMA2) */
    if (want_native && lzma &&
        (ctrl_code(pl, 0, 1, &s->ccol, &s->ncol) != ZUPD_OK ||
         ctrl_code(pl, 1, 1, &s->ccolr, &s->ncolr) != ZUPD_OK))
        return ZUPD_E_NOMEM;
    if (want_native && pl->diff_len > 0) {
        rc = split_make(pl->diff, pl->diff_len, &s->runs, &s->nruns, &s->lits, &s->nlits);
        if (rc == ZUPD_OK && zp_zrun_bz_wanted(pl->diff_len, s->nlits))
            rc = zrun_make(pl->diff, pl->diff_len, &s->zr, &s->nzr);
        if (rc != ZUPD_OK)
            return rc;
    }
    s->lzfam = want_native && lzma && s->cn + s->nruns + s->nlits >= LZ_ALL_MIN;
    return ZUPD_OK;
}

/* Every compression is a job, the longest first; the bzip2 diff and
 * extra streams serve both writers. */
static void
jobs_plan(struct job *jobs, const struct plan *pl, const struct wstreams *s, const uint8_t *old,
          size_t olen, const struct prof *f, int want_native, int want_b40)
{
    /* bzip2 of the diff stream itself: BSDIFF40's. The native patch
     * takes the zero-run bytes' bzip2 instead: within 0.3 % of it on
     * every pair of issue 18's corpus where either won (lefthook-a:
     * 46,795 against 46,653 bytes), and a third to half the input */
    if (want_b40)
        job_set(&jobs[J_DB], pl->diff, pl->diff_len, 9, 0, NULL, 0);
    if (want_native) {
        /* zero-run bytes that need more than 3 blocks of 100 kB: in
         * 300 kB blocks, which follow an executable's changing parts
         * (esbuild: 125,827 bytes against 127,216) and decode faster
         * (24 against 32 ms); smaller ones, and big ones (turbo:
         * seconds, and the split stream wins by 16 %), in 900 kB
         * blocks. One block size only: where the 300 kB blocks are
         * made they were smaller than 900 kB on every pair of issue
         * 18's corpus where bzip2 won (Go executables) */
        if (s->nzr > 0 && s->nzr <= BIG_STREAM && bz_rle1_len(s->zr, s->nzr) > 300000)
            job_set(&jobs[J_DR3], s->zr, s->nzr, 3, 0, NULL, 0);
        else
            job_set(&jobs[J_DR], s->zr, s->nzr, 9, 0, NULL, 0);
        jobs[J_DR].on = jobs[J_DR].on && s->zr != NULL; /* zp_zrun_bz_wanted */
        /* where LZMA2 has old as its prefix, zstd goes without: with it
         * zstd was larger by 9-13 % on every executable of issue 18's
         * corpus (esbuild-m: 1,635,781 against 1,431,366 bytes) and takes
         * as long, and its 100 MiB beside LZMA2's made creation peak at
         * twice the memory; compressed bytes go without (zp_extra_random,
         * which only LZMA2 or a prefix can heed) */
        int rnd = (f->lzma || f->extra_prefix) && zp_extra_random(pl->extra, pl->extra_len),
            pfx = f->extra_prefix && !rnd, lz_old = 0;
        if (f->lzma && rnd)
            lz_alone_set(&jobs[J_EL], pl->extra, pl->extra_len, LZ_RANDOM_DICT);
        else if (f->lzma && pl->extra_len > 0)
            lz_old = lz_job_set(&jobs[J_EL], pl->extra, pl->extra_len, old, olen, pfx);
        if (!s->lzfam) {
            /* the zstd family, and bzip2 of the control stream */
            if (pl->diff_len > 0) {
                job_set(&jobs[J_RZ], s->runs, s->nruns, 0, f->z_small, NULL, 0);
                job_set(&jobs[J_LZ], s->lits, s->nlits, 0, f->z_small, NULL, 0);
            }
            /* levels up to 19: split coding always won over one zstd
             * stream (turbo 1.58 MB vs 1.86 MB, rollup 115 vs 120 KB,
             * mdn-bcd 5.0 vs 9.0 KB), so skip that one, its time and its
             * memory */
            if (!f->skip)
                job_set(&jobs[J_DZ], pl->diff, pl->diff_len, 0,
                        pl->diff_len > BIG_STREAM ? f->z_big : f->z_small, NULL, 0);
            if (!(f->lzma && pl->extra_len >= LZ_EXTRA_ONLY))
                job_set(&jobs[J_EZ], pl->extra, pl->extra_len, 0, f->z_small,
                        pfx && !lz_old ? old : NULL, olen);
            job_set(&jobs[J_CZ], s->craw, s->cn, 0, f->z_small, NULL, 0);
            if (s->cn > 0)
                job_set(&jobs[J_CB], s->craw, s->cn, 9, 0, NULL, 0);
            if (s->ccol != NULL && s->ncol > 0)
                job_set(&jobs[J_CCZ], s->ccol, s->ncol, 0, f->z_small, NULL, 0);
            if (s->ccolr != NULL && s->ncolr > 0)
                job_set(&jobs[J_CCRZ], s->ccolr, s->ncolr, 0, f->z_small, NULL, 0);
            if (s->crep != NULL)
                job_set(&jobs[J_CRZ], s->crep, s->nrep, 0, f->z_small, NULL, 0);
            if (s->crep != NULL && s->nrep > 0)
                job_set(&jobs[J_CRB], s->crep, s->nrep, 9, 0, NULL, 0);
        } else {
            /* the LZMA2 family (native_make, LZ_ALL_MIN): every stream in
             * LZMA2, in a dictionary of LZ_STREAM_DICT; the control
             * stream in columns only, where they are made: in rows it
             * was larger on every pair where the family was made */
            if (s->ccol == NULL || s->ncol == 0) {
                lz_alone_set(&jobs[J_CL], s->craw, s->cn, LZ_STREAM_DICT);
                if (s->crep != NULL && s->nrep > 0)
                    lz_alone_set(&jobs[J_CRL], s->crep, s->nrep, LZ_STREAM_DICT);
            }
            if (s->ccol != NULL && s->ncol > 0)
                lz_alone_set(&jobs[J_CCL], s->ccol, s->ncol, LZ_STREAM_DICT);
            if (s->ccolr != NULL && s->ncolr > 0)
                lz_alone_set(&jobs[J_CCRL], s->ccolr, s->ncolr, LZ_STREAM_DICT);
            if (pl->diff_len > 0) {
                lz_alone_set(&jobs[J_RL], s->runs, s->nruns, LZ_STREAM_DICT);
                lz_alone_set(&jobs[J_LL], s->lits, s->nlits, LZ_STREAM_DICT);
            }
        }
    }
    /* bzip2 never beats zstd with old as the prefix: BSDIFF40 only */
    if (want_b40 || (!f->extra_prefix && !s->lzfam))
        job_set(&jobs[J_EB], pl->extra, pl->extra_len, 9, 0, NULL, 0);
    if (want_b40)
        job_set(&jobs[J_C40], s->c40raw, pl->n * 24, 9, 0, NULL, 0);
}

/* The jobs' outputs to s (the split stream stays in its two jobs). */
static void
jobs_take(struct job *jobs, struct wstreams *s)
{
    job_take(&jobs[J_DB], &s->db);
    job_take(&jobs[J_EB], &s->eb);
    job_take(&jobs[J_C40], &s->c40);
    job_take(&jobs[J_DZ], &s->dz);
    job_take(&jobs[J_DR], &s->dr);
    job_take(&jobs[J_DR3], &s->dr3);
    if (s->dr3.p != NULL) { /* made instead of J_DR */
        packed_release(&s->dr);
        s->dr = s->dr3;
        memset(&s->dr3, 0, sizeof(s->dr3));
    }
    job_take(&jobs[J_EZ], &s->ez);
    job_take(&jobs[J_EL], &s->el);
    job_take(&jobs[J_CL], &s->cl);
    job_take(&jobs[J_CRL], &s->crl);
    job_take(&jobs[J_CZ], &s->cz);
    job_take(&jobs[J_CB], &s->cb);
    job_take(&jobs[J_CRZ], &s->crz);
    job_take(&jobs[J_CRB], &s->crb);
    job_take(&jobs[J_CCZ], &s->ccz);
    job_take(&jobs[J_CCRZ], &s->ccrz);
    job_take(&jobs[J_CCL], &s->ccl);
    job_take(&jobs[J_CCRL], &s->ccrl);
}

/* The BSDIFF40 patch: header, then the bzip2 control, diff and extra
 * streams (which stay in s). */
static int
b40_make(const struct wstreams *s, size_t nlen, uint8_t **b40, size_t *b40_len)
{
    uint8_t head[32];
    struct packed k[3];

    memcpy(head, "BSDIFF40", 8);
    zu_offtout(head + 8, (int64_t)s->c40.n);
    zu_offtout(head + 16, (int64_t)s->db.n);
    zu_offtout(head + 24, (int64_t)nlen);
    k[0] = s->c40;
    k[1] = s->db;
    k[2] = s->eb;
    *b40 = concat(head, sizeof(head), k, 3, b40_len);
    return *b40 == NULL ? ZUPD_E_NOMEM : ZUPD_OK;
}

/* The smaller of *k and cand (when there is one; tie: cand on a tie) in
 * *k, as codec; *taken says whether cand was. */
static int
take_smaller(struct packed *k, const struct packed *cand, int codec, int tie, int *taken)
{
    struct packed c;
    int rc;

    *taken = 0;
    if (cand->p == NULL || cand->n > k->n || (cand->n == k->n && !tie))
        return ZUPD_OK;
    rc = packed_copy(cand, codec, &c);
    if (rc != ZUPD_OK)
        return rc;
    packed_release(k);
    *k = c;
    *taken = 1;
    return ZUPD_OK;
}

/* The three streams of the native patch in one family of codecs, each in
 * its smallest encoding (copies in k), the diff stream also split or
 * zero-run coded; its flags and header byte 6's bits 6-7 in *flags, *hi.
 * lz 0: codec 0 is zstd, the extra stream LZMA2 where smaller (*hi
 * ZU_CODECS_EXTRA_LZMA); lz 1: codec 0 is LZMA2 in every stream (*hi
 * ZU_CODECS_LZMA_ALL). */
static int
family_pick(const struct plan *pl, const struct wstreams *s, int lz, struct packed k[3],
            uint8_t *flags, uint8_t *hi)
{
    static const struct packed none = {0};
    struct packed r = {0};
    int rc, taken = 0;

    *flags = 0;
    *hi = lz ? ZU_CODECS_LZMA_ALL : 0;
    rc = pick_stream(s->craw, s->cn, 0, lz ? &s->cl : &s->cz, &s->cb, &k[0]);
    if (rc == ZUPD_OK && s->crep != NULL) { /* rep-coded seeks where smaller */
        rc = pick_stream(s->crep, s->nrep, 0, lz ? &s->crl : &s->crz, &s->crb, &r);
        if (rc == ZUPD_OK && r.n < k[0].n) {
            packed_release(&k[0]);
            k[0] = r;
            r.p = NULL;
            *flags |= ZU_FLAG_CTRL_REP;
        }
        packed_release(&r);
    }
    /* in columns where smaller, plain or rep-coded */
    if (rc == ZUPD_OK) {
        rc = take_smaller(&k[0], lz ? &s->ccl : &s->ccz, ZU_CODEC_ZSTD, 0, &taken);
        if (taken)
            *flags = (uint8_t)((*flags & ~ZU_FLAG_CTRL_REP) | ZU_FLAG_CTRL_COLS);
    }
    if (rc == ZUPD_OK) {
        rc = take_smaller(&k[0], lz ? &s->ccrl : &s->ccrz, ZU_CODEC_ZSTD, 0, &taken);
        if (taken)
            *flags |= ZU_FLAG_CTRL_REP | ZU_FLAG_CTRL_COLS;
    }
    if (rc == ZUPD_OK)
        rc = pick_stream(pl->diff, pl->diff_len, 1, lz ? &none : &s->dz, &s->db, &k[1]);
    if (rc == ZUPD_OK) {
        rc = take_smaller(&k[1], lz ? &s->dsl : &s->ds, ZU_CODEC_ZSTD, 0, &taken);
        if (taken)
            *flags |= ZU_FLAG_DIFF_SPLIT;
    }
    /* bzip2 of the zero-run bytes: a tie goes to it, it decodes faster */
    if (rc == ZUPD_OK) {
        rc = take_smaller(&k[1], &s->dr, ZU_CODEC_BZIP2, 1, &taken);
        if (taken)
            *flags = (uint8_t)((*flags & ~ZU_FLAG_DIFF_SPLIT) | ZU_FLAG_DIFF_ZRUN);
    }
    if (rc == ZUPD_OK)
        rc = pick_stream(pl->extra, pl->extra_len, 0, lz ? &s->el : &s->ez, &s->eb, &k[2]);
    /* the zstd family: the extra stream in LZMA2 where smaller */
    if (rc == ZUPD_OK && !lz) {
        rc = take_smaller(&k[2], &s->el, ZU_CODEC_LZMA, 0, &taken);
        if (taken)
            *hi = ZU_CODECS_EXTRA_LZMA;
    }
    return rc;
}

/* The native patch in one family of codecs (family_pick): LZMA2 where its
 * streams were made (LZ_ALL_MIN), else zstd; header flags and version. */
static int
native_make(const struct plan *pl, struct wstreams *s, const uint8_t *hdr, size_t hdr_len,
            uint8_t **native, size_t *native_len)
{
    struct packed k[3];
    uint8_t head[HDR_MAX], flags = 0, hi = 0;
    size_t at = hdr_len;
    int rc;

    memset(k, 0, sizeof(k));
    if (pl->diff_len == 0)
        packed_release(&s->db); /* empty stream: zero bytes of zstd */
    if (pl->extra_len == 0)
        packed_release(&s->eb);
#ifdef ZU_DELTA_TRACE
    fprintf(stderr,
            "delta: streams raw/zstd/bz/lzma: ctrl %zu/%zu/%zu/%zu diff %zu/%zu/%zu split %zu/%zu "
            "extra %zu/%zu/%zu/%zu\n",
            s->cn, s->cz.n, s->cb.n, s->cl.n, pl->diff_len, s->dz.n, s->db.n, s->ds.n, s->dsl.n,
            pl->extra_len, s->ez.n, s->eb.n, s->el.n);
#endif
    rc = family_pick(pl, s, s->lzfam, k, &flags, &hi);
    if (rc != ZUPD_OK)
        goto out;
#ifdef ZU_DELTA_TRACE
    fprintf(stderr, "delta: pick ctrl %d/%zu diff %d/%zu flags %u extra %d/%zu hi %u\n", k[0].codec,
            k[0].n, k[1].codec, k[1].n, flags, k[2].codec, k[2].n, hi);
#endif
    memcpy(head, hdr, hdr_len);
    head[6] = (uint8_t)(k[0].codec | k[1].codec << 2 | hi);
    if (hi != ZU_CODECS_EXTRA_LZMA)
        head[6] = (uint8_t)(head[6] | k[2].codec << 4);
    head[7] = flags;
    head[4] = streams_version(head[6], head[7]); /* LZMA2: older endpoints take the full blob */
    at += zu_put_varint(head + at, k[0].n);
    at += zu_put_varint(head + at, k[1].n);
    *native = concat(head, at, k, 3, native_len);
    if (*native == NULL)
        rc = ZUPD_E_NOMEM;
out:
    for (int j = 0; j < 3; j++)
        packed_release(&k[j]);
    return rc;
}

/* Serialise a plan as a native bsdiff patch (each stream in the smaller of
 * zstd and bzip2) and/or as BSDIFF40 (bzip2 streams). */
int
zp_write_bsdiff(const struct plan *pl, const uint8_t *hdr, size_t hdr_len, const uint8_t *old,
                size_t olen, size_t nlen, const struct prof *f, int want_native, int want_b40,
                uint8_t **native, size_t *native_len, uint8_t **b40, size_t *b40_len)
{
    struct job jobs[J_N];
    struct wstreams s;
    int rc;

    memset(jobs, 0, sizeof(jobs));
    memset(&s, 0, sizeof(s));
    rc = raw_streams(pl, want_native, want_b40, f->lzma, &s);
    if (rc != ZUPD_OK)
        goto out;
    jobs_plan(jobs, pl, &s, old, olen, f, want_native, want_b40);
    TR("streams", rc = jobs_run(jobs, J_N));
    if (rc != ZUPD_OK)
        goto out;
#ifdef ZU_DELTA_TRACE
    {
        static const char *const jn[J_N] = {
            "EL", "LL", "RL", "DB",  "DR",  "DR3", "RZ",  "LZ",   "DZ",  "EZ",   "EB",
            "CZ", "CB", "CL", "CRZ", "CRB", "CRL", "CCZ", "CCRZ", "CCL", "CCRL", "C40"};
        fprintf(stderr, "delta: jobs");
        for (int i = 0; i < J_N; i++)
            if (jobs[i].on)
                fprintf(stderr, " %s=%zu/%zu/%.2fs", jn[i], jobs[i].len, jobs[i].out.n,
                        jobs[i].secs);
        fprintf(stderr, "\n");
    }
#endif
    jobs_take(jobs, &s);
    if (want_native && pl->diff_len > 0) {
        if (jobs[J_RZ].on)
            rc = split_join(&jobs[J_RZ].out, &jobs[J_LZ].out, &s.ds);
        if (rc == ZUPD_OK && jobs[J_RL].on)
            rc = split_join(&jobs[J_RL].out, &jobs[J_LL].out, &s.dsl);
        if (rc != ZUPD_OK)
            goto out;
    }
    if (want_b40) {
        rc = b40_make(&s, nlen, b40, b40_len);
        if (rc != ZUPD_OK)
            goto out;
    }
    if (want_native)
        rc = native_make(pl, &s, hdr, hdr_len, native, native_len);
out:
    for (int i = 0; i < J_N; i++) /* what no packed took over */
        packed_release(&jobs[i].out);
    wstreams_release(&s);
    return rc;
}

/* The patch-from candidate: header and one zstd frame with old as prefix. */
int
zp_pf_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, int level,
           uint8_t **out, size_t *out_len)
{
    uint8_t hdr[HDR_MAX];
    size_t hdr_len = 0;
    int rc = zp_hdr_make(hdr, &hdr_len, ZUPD_DELTA_ZSTD, old, olen, nw, nlen);

    if (rc == ZUPD_OK)
        TR("zstd pf", rc = zstd_pack_after(hdr, hdr_len, nw, nlen, level, old, olen, out, out_len));
    return rc;
}

/* Patch-from in LZMA2 (method 5, version 11): header, then new as one
 * LZMA2 stream with old as its preset dictionary, which holds old and new
 * (up to ZU_LZMA_DICT_MAX); text (looks_text) is coded with no position
 * bits. */
int
zp_pf_lzma_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, int text,
                uint8_t **out, size_t *out_len)
{
    uint8_t hdr[HDR_MAX], *z = NULL;
    size_t hdr_len = 0, zn = 0;
    int rc = zp_hdr_make(hdr, &hdr_len, ZUPD_DELTA_LZMA, old, olen, nw, nlen);

    *out = NULL;
    *out_len = 0;
    if (rc == ZUPD_OK)
        TR("lzma pf", rc = lz_pack(nw, nlen, old, olen, olen + nlen, text ? 2 : 1, &z, &zn));
    if (rc != ZUPD_OK)
        return rc;
    *out = malloc(hdr_len + zn);
    if (*out == NULL) {
        free(z);
        return ZUPD_E_NOMEM;
    }
    memcpy(*out, hdr, hdr_len);
    memcpy(*out + hdr_len, z, zn);
    (*out)[4] = ZP_VERSION_11;
    *out_len = hdr_len + zn;
    free(z);
    return ZUPD_OK;
}

/* Patch-from for text (zp_cand_zstd, new files of PF_SMALL to PF_TEXT_MAX
 * bytes that look like text): level PF_TEXT_LEVEL (lazy2: about 0.1 s a
 * MB, a third of the scans'), with long-distance matches of 256 bytes and
 * more found in buckets of 8 (zstd's default: 64 bytes, buckets of 4) and
 * matches of 6 bytes and more. Text that moved moves in lines and records,
 * longer than 64 bytes: the longer LDM matches cover them, the shorter
 * default ones break them (issue 18's tuning half, user-agents: 178,356
 * bytes at level 12, 143,910 so, 145,922 at 19 in 15x the time). */
int
zp_pf_text_make(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen, uint8_t **out,
                size_t *out_len)
{
    uint8_t hdr[HDR_MAX];
    size_t hdr_len = 0;
    ZSTD_CCtx *cc = NULL;
    int rc = zp_hdr_make(hdr, &hdr_len, ZUPD_DELTA_ZSTD, old, olen, nw, nlen);

    *out = NULL;
    *out_len = 0;
    if (rc != ZUPD_OK)
        return rc;
    rc = ZUPD_E_NOMEM;
    cc = ZSTD_createCCtx();
    if (cc == NULL)
        goto out;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, PF_TEXT_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(
            ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, zu_wlog_for((uint64_t)olen + nlen))) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_ldmMinMatch, 256)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_ldmBucketSizeLog, 8)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_minMatch, 6)) ||
        (olen > 0 && ZSTD_isError(ZSTD_CCtx_refPrefix(cc, old, olen))))
        goto out;
    TR("zstd pf text", rc = zstd_frame(cc, hdr, hdr_len, nw, nlen, out, out_len));
out:
    ZSTD_freeCCtx(cc);
    return rc;
}

/* ------------------------------------------------------------------ x86 filter */

/* The size of ex[0..n) at the estimates' zstd level, alone. */
int
zp_extra_estimate(const uint8_t *ex, size_t n, size_t *est)
{
    uint8_t *out = NULL;
    int rc = zstd_pack(ex, n, EST_LEVEL, NULL, 0, &out, est);

    free(out);
    return rc;
}

/* Mark the native patch *patch (its extra stream filtered: the plan had
 * x86 set) as made with the x86 filter: its parameters after the stream
 * lengths, the radius and the executable stage's parameters,
 * ZU_FLAG_EXTRA_X86 set (the version stays ZP_VERSION, which has it). */
int
zp_x86_mark(uint8_t **patch, size_t *patch_len, const struct zu_x86 *x)
{
    struct zu_elf en;
    uint8_t *p = *patch, *out, par[ZU_X86_PARAMS_MAX];
    size_t at = 8, pn = zu_x86_params_put(par, x);
    uint64_t v;
    int nv = (p[7] & ZU_FLAG_EXTRA_CTX) != 0 ? 5 : 4;

    /* old size, new size, the hashes, ctrl and diff lengths, the radius,
     * the executable stage's parameters (our header) */
    for (int i = 0; i < nv; i++) {
        if (zu_get_varint(p, *patch_len, &at, &v) != ZUPD_OK)
            return ZUPD_E_MISUSE;
        if (i == 1)
            at += 2 * ZU_DIGEST_SHORT;
    }
    if (((p[7] & ZU_FLAG_EXE) != 0 && zu_exe_params_get(p, *patch_len, &at, &en) != ZUPD_OK) ||
        at > *patch_len)
        return ZUPD_E_MISUSE;
    out = malloc(*patch_len + pn);
    if (out == NULL)
        return ZUPD_E_NOMEM;
    memcpy(out, p, at);
    memcpy(out + at, par, pn);
    memcpy(out + at + pn, p + at, *patch_len - at);
    out[7] |= ZU_FLAG_EXTRA_X86;
    free(p);
    *patch = out;
    *patch_len += pn;
    return ZUPD_OK;
}
