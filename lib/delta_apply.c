/* SPDX-License-Identifier: Apache-2.0 */
/* lib/delta_apply.c -- streaming, bounds-checked apply of zupd and BSDIFF40 deltas. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bzlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <zupd/delta.h>
#include <zupd/hash.h>

#include "zu/delta_format.h"
#include "zu/internal.h"

#define OUT_CHUNK (256u << 10)   /* output piece and decompression buffer */
#define STREAM_WLOG_MAX 24       /* ctrl and diff frames: 16 MiB window at most */
#define BZ_FEED_MAX (1u << 30)   /* bzip2 counts input in unsigned int */
#define RD_DIRECT_MIN (4u << 10) /* reads from which zstd and bzip2 decode in place */
#define BZQ_MIN (32u << 10)      /* bzip2 streams from this size decode on a thread */
#define BZQ_N 4                  /* its buffers of OUT_CHUNK bytes */

/* ------------------------------------------------------------------ header */

uint64_t
zu_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void
zu_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

void
zu_offtout(uint8_t *p, int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    zu_put_le64(p, mag);
    if (v < 0)
        p[7] |= 0x80;
}

const char *
zupd_delta_method_name(int method)
{
    switch (method) {
    case ZUPD_DELTA_BSDIFF:
        return "bsdiff";
    case ZUPD_DELTA_ZSTD:
        return "zstd";
    case ZUPD_DELTA_BSDIFF40:
        return "bsdiff40";
    default:
        return "unknown";
    }
}

/* BSDIFF40 integers: 8 bytes little-endian magnitude, sign in the top bit.
 * "Negative zero" and magnitudes over INT64_MAX are refused. */
int
zu_offtin(const uint8_t *p, int64_t *out)
{
    uint64_t v = zu_le64(p);
    uint64_t mag = v & ~(UINT64_C(1) << 63);

    if ((v >> 63) != 0) {
        if (mag == 0)
            return ZUPD_E_FORMAT;
        *out = -(int64_t)mag;
    } else {
        *out = (int64_t)mag;
    }
    return ZUPD_OK;
}

int
zu_get_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 63; shift += 7) {
        uint8_t c;
        if (*at >= len)
            return ZUPD_E_FORMAT;
        c = p[(*at)++];
        if (shift == 56 && c > 0x7f)
            return ZUPD_E_FORMAT; /* more than 63 bits */
        v |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0) {
            *out = v;
            return ZUPD_OK;
        }
    }
    return ZUPD_E_FORMAT;
}

/* Parse a native header; *body is the offset of the method's body. */
static int
native_header(const uint8_t *patch, size_t patch_len, struct zupd_delta_info *info, size_t *body)
{
    size_t at = 8;
    unsigned allowed = 0;
    int rc;

    if (patch_len < 8 || memcmp(patch, ZUPD_DELTA_MAGIC, ZUPD_DELTA_MAGIC_LEN) != 0)
        return ZUPD_E_FORMAT;
    if (patch[4] < 1 || patch[4] > ZUPD_DELTA_VERSION)
        return ZUPD_E_SPEC;
    if (patch[5] != ZUPD_DELTA_BSDIFF && patch[5] != ZUPD_DELTA_ZSTD)
        return ZUPD_E_FORMAT;
    /* byte 6: stream codecs of the bsdiff method, 2 bits each (ctrl, diff,
     * extra; ZU_CODEC_*), the top two bits zero; byte 7: reserved, zero */
    if (patch[5] == ZUPD_DELTA_BSDIFF) {
        if ((patch[6] & 0xc0) != 0)
            return ZUPD_E_FORMAT;
    } else if (patch[6] != 0) {
        return ZUPD_E_FORMAT;
    }
    /* byte 7: flags of the bsdiff method: version 2 defines
     * ZU_FLAG_DIFF_SPLIT, version 3 also ZU_FLAG_DIFF_ZRUN, version 4 also
     * ZU_FLAG_EXTRA_CTX; version 1 none */
    if (patch[5] == ZUPD_DELTA_BSDIFF && patch[4] >= 2)
        allowed = ZU_FLAG_DIFF_SPLIT | (patch[4] >= 3 ? ZU_FLAG_DIFF_ZRUN : 0) |
                  (patch[4] >= 4 ? ZU_FLAG_EXTRA_CTX : 0);
    if ((patch[7] & ~allowed) != 0)
        return ZUPD_E_FORMAT;
    rc = zu_get_varint(patch, patch_len, &at, &info->old_size);
    if (rc == ZUPD_OK)
        rc = zu_get_varint(patch, patch_len, &at, &info->new_size);
    if (rc != ZUPD_OK)
        return rc;
    if (patch_len - at < 64)
        return ZUPD_E_FORMAT;
    memcpy(info->old_sha256, patch + at, 32);
    memcpy(info->new_sha256, patch + at + 32, 32);
    info->method = patch[5];
    info->version = patch[4];
    info->has_hashes = 1;
    *body = at + 64;
    return ZUPD_OK;
}

int
zupd_delta_info(const uint8_t *patch, size_t patch_len, struct zupd_delta_info *info)
{
    size_t body;
    int rc;

    if (info == NULL || (patch == NULL && patch_len > 0))
        return ZUPD_E_MISUSE;
    memset(info, 0, sizeof(*info));
    if (patch_len >= 8 && memcmp(patch, "BSDIFF40", 8) == 0) {
        int64_t cl, dl, ns;
        if (patch_len < 32)
            return ZUPD_E_FORMAT;
        if (zu_offtin(patch + 8, &cl) != ZUPD_OK || zu_offtin(patch + 16, &dl) != ZUPD_OK ||
            zu_offtin(patch + 24, &ns) != ZUPD_OK || cl < 0 || dl < 0 || ns < 0)
            return ZUPD_E_FORMAT;
        if ((uint64_t)cl > patch_len - 32 || (uint64_t)dl > patch_len - 32 - (uint64_t)cl)
            return ZUPD_E_FORMAT;
        info->method = ZUPD_DELTA_BSDIFF40;
        info->new_size = (uint64_t)ns;
        return ZUPD_OK;
    }
    rc = native_header(patch, patch_len, info, &body);
    if (rc != ZUPD_OK) {
        int keep = rc;
        memset(info, 0, sizeof(*info));
        return keep;
    }
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ extra context */

int
zu_ctx_add(struct zu_ctx *c, const uint8_t *old, size_t olen, uint64_t op, uint64_t w)
{
    uint64_t lo = op > w ? op - w : 0, hi = op < olen && olen - op > w ? op + w : olen;
    size_t n;

    if (c->phi != 0 && lo < c->phi && lo >= c->plo)
        lo = c->phi; /* the part the last piece holds already */
    if (hi <= lo || c->len == ZU_CTX_MAX)
        return ZUPD_OK;
    n = hi - lo < ZU_CTX_MAX - c->len ? (size_t)(hi - lo) : ZU_CTX_MAX - c->len;
    if (c->len + n > c->cap) {
        size_t nc = c->cap ? c->cap : 64u << 10;
        uint8_t *b;
        while (nc < c->len + n)
            nc *= 2;
        if (nc > ZU_CTX_MAX)
            nc = ZU_CTX_MAX;
        b = realloc(c->buf, nc);
        if (b == NULL)
            return ZUPD_E_NOMEM;
        c->buf = b;
        c->cap = nc;
    }
    memcpy(c->buf + c->len, old + lo, n);
    c->len += n;
    c->plo = lo;
    c->phi = lo + n;
    return ZUPD_OK;
}

void
zu_ctx_free(struct zu_ctx *c)
{
    free(c->buf);
    memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ readers */

/* One BZ2_bzDecompress call from src[*pos..len) into dst[0..cap): *got
 * bytes out, *end set at the end of the stream; ZUPD_E_FORMAT where the
 * stream is corrupt, or truncated (no progress). */
static int
bz_step(bz_stream *b, const uint8_t *src, size_t len, size_t *pos, uint8_t *dst, size_t cap,
        size_t *got, int *end)
{
    size_t feed = len - *pos;
    unsigned in0, out0;
    int ret;

    if (feed > BZ_FEED_MAX)
        feed = BZ_FEED_MAX;
    if (cap > BZ_FEED_MAX)
        cap = BZ_FEED_MAX;
    b->next_in = (char *)(uintptr_t)(src + *pos);
    b->avail_in = in0 = (unsigned)feed;
    b->next_out = (char *)dst;
    b->avail_out = out0 = (unsigned)cap;
    ret = BZ2_bzDecompress(b);
    *pos += in0 - b->avail_in;
    *got = out0 - b->avail_out;
    if (ret == BZ_STREAM_END) {
        *end = 1;
        return ZUPD_OK;
    }
    if (ret != BZ_OK || (*got == 0 && in0 == b->avail_in))
        return ZUPD_E_FORMAT;
    return ZUPD_OK;
}

/* bzip2 decodes at 30-40 MB/s, a tenth of the speed of everything else
 * apply does (esbuild: half of its time). A long bzip2 stream is decoded
 * on a thread of its own, BZQ_N buffers ahead of apply, which takes them
 * in order. The thread owns the bzip2 state and src_pos until it ends. */
struct bzq {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bz_stream b;
    const uint8_t *src;
    size_t src_len;
    size_t src_pos;
    uint8_t *mem;         /* BZQ_N buffers of OUT_CHUNK bytes */
    size_t blen[BZQ_N];   /* bytes decoded into each */
    uint64_t made, taken; /* buffers filled; buffers given back by apply */
    int holding;          /* apply reads buffer `taken` */
    int end;              /* the thread is done: stream end, or rc */
    int rc;
    int stop; /* apply gives up */
};

/* A decompressing reader over one slice of the patch. */
struct rd {
    int codec;   /* ZU_CODEC_* */
    int bz;      /* 1: bzip2 (BSDIFF40 or codec 1) */
    int done;    /* the compressed stream ended */
    int bz_live; /* bz stream initialised */
    ZSTD_DCtx *z;
    bz_stream b;
    const uint8_t *src; /* compressed slice */
    size_t src_len;
    size_t src_pos;
    uint8_t *buf;        /* decompression buffer */
    const uint8_t *view; /* decoded bytes [pos, len) not yet consumed */
    size_t len;
    size_t pos;
    uint64_t zeros; /* zero-run, split, zrun: zeros and literals still to produce */
    uint64_t lits;
    unsigned run;   /* zrun: zero bytes in a row just passed */
    struct rd *sub; /* split: sub[0] runs (varint zeros, varint n)..., sub[1] literals */
    struct bzq *aq; /* bzip2 decoded on a thread (then bz_live is 0) */
};

static void
bzq_release(struct bzq *q)
{
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->th, NULL);
    BZ2_bzDecompressEnd(&q->b);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q->mem);
    free(q);
}

/* The decoding thread: fill the next free buffer, hand it over; the same
 * checks as rd_decode (corrupt, truncated: ZUPD_E_FORMAT). */
static void *
bzq_run(void *arg)
{
    struct bzq *q = arg;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        unsigned slot;
        size_t got = 0;
        int rc = ZUPD_OK, done = 0;
        while (!q->stop && q->made - q->taken >= BZQ_N)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->stop)
            break;
        slot = (unsigned)(q->made % BZQ_N);
        pthread_mutex_unlock(&q->mu);
        while (got < OUT_CHUNK && rc == ZUPD_OK && !done) {
            size_t k;
            rc = bz_step(&q->b, q->src, q->src_len, &q->src_pos,
                         q->mem + (size_t)slot * OUT_CHUNK + got, OUT_CHUNK - got, &k, &done);
            got += k;
        }
        pthread_mutex_lock(&q->mu);
        q->blen[slot] = got;
        if (got > 0)
            q->made++;
        if (done || rc != ZUPD_OK) {
            q->end = 1;
            q->rc = rc;
        }
        pthread_cond_broadcast(&q->cv);
        if (q->end)
            break;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Start the thread for r's stream; ZUPD_OK without it where it cannot
 * start (r then decodes in line). */
static int
bzq_start(struct rd *r)
{
    struct bzq *q = calloc(1, sizeof(*q));

    if (q == NULL)
        return ZUPD_E_NOMEM;
    q->src = r->src;
    q->src_len = r->src_len;
    q->mem = malloc((size_t)BZQ_N * OUT_CHUNK);
    if (q->mem == NULL || BZ2_bzDecompressInit(&q->b, 0, 0) != BZ_OK) {
        free(q->mem);
        free(q);
        return ZUPD_E_NOMEM;
    }
    if (pthread_mutex_init(&q->mu, NULL) == 0) {
        if (pthread_cond_init(&q->cv, NULL) == 0) {
            if (pthread_create(&q->th, NULL, bzq_run, q) == 0) {
                r->aq = q;
                return ZUPD_OK;
            }
            pthread_cond_destroy(&q->cv);
        }
        pthread_mutex_destroy(&q->mu);
    }
    BZ2_bzDecompressEnd(&q->b);
    free(q->mem);
    free(q);
    return ZUPD_OK;
}

/* The next buffer the thread decoded (rd_fill). */
static int
bzq_fill(struct rd *r)
{
    struct bzq *q = r->aq;
    int rc = ZUPD_OK;

    pthread_mutex_lock(&q->mu);
    if (q->holding) {
        q->taken++;
        q->holding = 0;
        pthread_cond_broadcast(&q->cv);
    }
    while (q->made == q->taken && !q->end)
        pthread_cond_wait(&q->cv, &q->mu);
    if (q->made > q->taken) {
        unsigned slot = (unsigned)(q->taken % BZQ_N);
        r->view = q->mem + (size_t)slot * OUT_CHUNK;
        r->len = q->blen[slot];
        q->holding = 1;
    } else {
        rc = q->rc;
        r->src_pos = q->src_pos;
        r->done = rc == ZUPD_OK;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static void
rd_release(struct rd *r)
{
    if (r->sub != NULL) {
        rd_release(&r->sub[0]);
        rd_release(&r->sub[1]);
        free(r->sub);
    }
    if (r->aq != NULL)
        bzq_release(r->aq);
    ZSTD_freeDCtx(r->z);
    if (r->bz_live)
        BZ2_bzDecompressEnd(&r->b);
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

/* r, emptied, reads src[0..len) as codec. */
static void
rd_start(struct rd *r, int codec, const uint8_t *src, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->codec = codec;
    r->src = src;
    r->src_len = len;
}

/* A zstd reader. An empty slice is an empty stream. When prefix is not NULL
 * the frame references prefix[0..prefix_len) and must declare its content
 * size, at most max_content; the window may then span prefix and content. */
static int
rd_init_zstd(struct rd *r, const uint8_t *src, size_t len, const uint8_t *prefix, size_t prefix_len,
             uint64_t max_content)
{
    int wlog = STREAM_WLOG_MAX;

    rd_start(r, ZU_CODEC_ZSTD, src, len);
    if (len == 0) {
        r->done = 1;
        return ZUPD_OK;
    }
    if (prefix != NULL) {
        /* the decoder's buffer is min(window, content size): both bounded */
        unsigned long long fcs = ZSTD_getFrameContentSize(src, len);
        uint64_t span;
        if (fcs == ZSTD_CONTENTSIZE_UNKNOWN || fcs == ZSTD_CONTENTSIZE_ERROR || fcs > max_content)
            return ZUPD_E_FORMAT;
        if (__builtin_add_overflow((uint64_t)prefix_len, (uint64_t)fcs, &span))
            return ZUPD_E_FORMAT;
        wlog = zu_wlog_for(span);
    }
    r->buf = malloc(OUT_CHUNK);
    r->z = ZSTD_createDCtx();
    if (r->buf == NULL || r->z == NULL)
        return ZUPD_E_NOMEM;
    if (ZSTD_isError(ZSTD_DCtx_setParameter(r->z, ZSTD_d_windowLogMax, wlog)))
        return ZUPD_E_NOMEM;
    if (prefix != NULL && prefix_len > 0 &&
        ZSTD_isError(ZSTD_DCtx_refPrefix(r->z, prefix, prefix_len)))
        return ZUPD_E_NOMEM;
    return ZUPD_OK;
}

static int
rd_init_bz(struct rd *r, const uint8_t *src, size_t len)
{
    rd_start(r, ZU_CODEC_BZIP2, src, len);
    r->bz = 1;
    if (len == 0) {
        r->done = 1;
        return ZUPD_OK;
    }
    if (len >= BZQ_MIN && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
        int rc = bzq_start(r);
        if (rc != ZUPD_OK || r->aq != NULL)
            return rc;
    }
    r->buf = malloc(OUT_CHUNK);
    if (r->buf == NULL)
        return ZUPD_E_NOMEM;
    if (BZ2_bzDecompressInit(&r->b, 0, 0) != BZ_OK)
        return ZUPD_E_NOMEM;
    r->bz_live = 1;
    return ZUPD_OK;
}

/* Stored (codec 2) and zero-run (codec 3) streams decode straight from the
 * patch: no buffer for stored; a buffer of zeros for zero-run. */
static int
rd_init_plain(struct rd *r, int codec, const uint8_t *src, size_t len)
{
    rd_start(r, codec, src, len);
    if (codec == ZU_CODEC_ZRLE) {
        r->buf = calloc(1, OUT_CHUNK);
        if (r->buf == NULL)
            return ZUPD_E_NOMEM;
    }
    return ZUPD_OK;
}

static int
rd_init(struct rd *r, int codec, const uint8_t *src, size_t len, const uint8_t *prefix,
        size_t prefix_len, uint64_t max_content)
{
    switch (codec) {
    case ZU_CODEC_ZSTD:
        return rd_init_zstd(r, src, len, prefix, prefix_len, max_content);
    case ZU_CODEC_BZIP2:
        return rd_init_bz(r, src, len);
    case ZU_CODEC_RAW:
    case ZU_CODEC_ZRLE:
        return rd_init_plain(r, codec, src, len);
    default:
        return ZUPD_E_FORMAT;
    }
}

/* Next piece of a stored or zero-run stream. */
static int
rd_fill_plain(struct rd *r)
{
    size_t left = r->src_len - r->src_pos;

    if (r->codec == ZU_CODEC_RAW) {
        r->view = r->src + r->src_pos;
        r->len = left > OUT_CHUNK ? OUT_CHUNK : left;
        r->src_pos += r->len;
        if (r->src_pos == r->src_len)
            r->done = 1;
        return ZUPD_OK;
    }
    /* zero-run: (varint zeros, varint literal count, literals)... */
    while (r->zeros == 0 && r->lits == 0) {
        size_t at = r->src_pos;
        int rc;
        if (at == r->src_len) {
            r->done = 1;
            return ZUPD_OK;
        }
        rc = zu_get_varint(r->src, r->src_len, &at, &r->zeros);
        if (rc == ZUPD_OK)
            rc = zu_get_varint(r->src, r->src_len, &at, &r->lits);
        if (rc != ZUPD_OK)
            return rc;
        if (r->lits > r->src_len - at)
            return ZUPD_E_FORMAT;
        r->src_pos = at;
    }
    if (r->zeros > 0) {
        r->view = r->buf; /* all zero, never written */
        r->len = r->zeros > OUT_CHUNK ? OUT_CHUNK : (size_t)r->zeros;
        r->zeros -= r->len;
    } else {
        r->view = r->src + r->src_pos;
        r->len = r->lits > OUT_CHUNK ? OUT_CHUNK : (size_t)r->lits;
        r->lits -= r->len;
        r->src_pos += r->len;
    }
    return ZUPD_OK;
}

/* A split stream (flag ZU_FLAG_DIFF_SPLIT): src[0..len) holds varint m,
 * then the runs stream (m bytes) and the literals stream (the rest), both
 * in codec. Decodes to: for each (varint zeros, varint n) of runs, zeros
 * zero bytes then the next n bytes of literals. */
static int
rd_init_split(struct rd *r, int codec, const uint8_t *src, size_t len)
{
    uint64_t m;
    size_t at = 0;
    int rc;

    rd_start(r, ZU_CODEC_SPLIT, src, len);
    if (len == 0) { /* an empty stream, as for every codec: no sub-streams */
        r->codec = ZU_CODEC_RAW;
        r->done = 1;
        return ZUPD_OK;
    }
    if (codec == ZU_CODEC_ZRLE)
        return ZUPD_E_FORMAT;
    rc = zu_get_varint(src, len, &at, &m);
    if (rc != ZUPD_OK)
        return rc;
    if (m > len - at)
        return ZUPD_E_FORMAT;
    r->buf = calloc(1, OUT_CHUNK); /* zeros, never written */
    r->sub = calloc(2, sizeof(*r->sub));
    if (r->buf == NULL || r->sub == NULL)
        return ZUPD_E_NOMEM;
    rc = rd_init(&r->sub[0], codec, src + at, (size_t)m, NULL, 0, 0);
    if (rc == ZUPD_OK)
        rc = rd_init(&r->sub[1], codec, src + at + m, len - at - (size_t)m, NULL, 0, 0);
    r->src_pos = len; /* the sub-streams check that they are used up */
    return rc;
}

/* A zero-run diff stream (flag ZU_FLAG_DIFF_ZRUN): bzip2 in sub[0]. */
static int
rd_init_zrun(struct rd *r, int codec, const uint8_t *src, size_t len)
{
    rd_start(r, ZU_CODEC_ZRUN, src, len);
    r->src_pos = len; /* the sub-stream checks that it is used up */
    if (codec != ZU_CODEC_BZIP2)
        return ZUPD_E_FORMAT;
    r->buf = calloc(1, OUT_CHUNK); /* zeros, never written */
    r->sub = calloc(2, sizeof(*r->sub));
    if (r->buf == NULL || r->sub == NULL)
        return ZUPD_E_NOMEM;
    return rd_init_bz(&r->sub[0], src, len);
}

static int rd_fill(struct rd *r);

/* Next piece of a zero-run stream: bytes of the bzip2 stream up to and
 * including ZU_ZRUN_MIN zeros in a row, or the zeros their count adds. */
static int
rd_fill_zrun(struct rd *r)
{
    struct rd *s = &r->sub[0];

    for (;;) {
        const uint8_t *p;
        size_t n, i;
        unsigned run = r->run;
        if (r->zeros > 0) {
            r->view = r->buf;
            r->len = r->zeros > OUT_CHUNK ? OUT_CHUNK : (size_t)r->zeros;
            r->zeros -= r->len;
            return ZUPD_OK;
        }
        if (s->pos == s->len) {
            int rc = rd_fill(s);
            if (rc != ZUPD_OK)
                return rc;
            if (s->len == 0) {
                if (run == ZU_ZRUN_MIN)
                    return ZUPD_E_FORMAT; /* the count of a run is missing */
                r->done = 1;
                return ZUPD_OK;
            }
        }
        p = s->view + s->pos;
        n = s->len - s->pos;
        if (run == ZU_ZRUN_MIN) { /* p[0] counts more zeros */
            r->zeros = p[0];
            r->run = 0;
            s->pos++;
            continue;
        }
        for (i = 0; i < n && run < ZU_ZRUN_MIN; i++)
            run = p[i] == 0 ? run + 1 : 0;
        r->run = run;
        r->view = p;
        r->len = i;
        s->pos += i;
        return ZUPD_OK;
    }
}

/* Whether r has no decoded byte left (filling it if needed). */
static int
rd_at_end(struct rd *r, int *end)
{
    *end = 0;
    if (r->pos < r->len)
        return ZUPD_OK;
    if (!r->done) {
        int rc = rd_fill(r);
        if (rc != ZUPD_OK)
            return rc;
    }
    *end = r->pos == r->len && r->done;
    return ZUPD_OK;
}

static int rd_varint(struct rd *r, uint64_t *out);

/* Next piece of a split stream. The counts need no cap: zeros are produced
 * lazily, literals past the end of their stream are ZUPD_E_FORMAT, and the
 * consumer takes at most the new size. */
static int
rd_fill_split(struct rd *r)
{
    struct rd *l = &r->sub[1];
    size_t k;
    int rc;

    while (r->zeros == 0 && r->lits == 0) {
        int end;
        rc = rd_at_end(&r->sub[0], &end);
        if (rc != ZUPD_OK)
            return rc;
        if (end) {
            r->done = 1;
            return ZUPD_OK;
        }
        rc = rd_varint(&r->sub[0], &r->zeros);
        if (rc == ZUPD_OK)
            rc = rd_varint(&r->sub[0], &r->lits);
        if (rc != ZUPD_OK)
            return rc;
        if (r->zeros == 0 && r->lits == 0)
            return ZUPD_E_FORMAT; /* every pair yields a byte: no empty loops */
    }
    if (r->zeros > 0) {
        r->view = r->buf;
        r->len = r->zeros > OUT_CHUNK ? OUT_CHUNK : (size_t)r->zeros;
        r->zeros -= r->len;
        return ZUPD_OK;
    }
    if (l->pos == l->len) {
        rc = rd_fill(l);
        if (rc != ZUPD_OK)
            return rc;
        if (l->len == 0)
            return ZUPD_E_FORMAT; /* fewer literals than the runs say */
    }
    k = l->len - l->pos;
    if (k > r->lits)
        k = (size_t)r->lits;
    r->view = l->view + l->pos;
    r->len = k;
    l->pos += k;
    r->lits -= k;
    return ZUPD_OK;
}

/* Decompress (zstd, bzip2) into dst[0..cap): ZUPD_OK with *got > 0, or
 * with r->done set at the end of the stream; ZUPD_E_FORMAT on corrupt or
 * truncated input. */
static int
rd_decode(struct rd *r, uint8_t *dst, size_t cap, size_t *got)
{
    *got = 0;
    while (*got == 0 && !r->done) {
        if (r->bz) {
            int rc = bz_step(&r->b, r->src, r->src_len, &r->src_pos, dst, cap, got, &r->done);
            if (rc != ZUPD_OK)
                return rc;
        } else {
            ZSTD_inBuffer in = {r->src, r->src_len, r->src_pos};
            ZSTD_outBuffer o = {dst, cap, 0};
            size_t ret = ZSTD_decompressStream(r->z, &o, &in);
            if (ZSTD_isError(ret)) {
                if (ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
                    return ZUPD_E_NOMEM;
                return ZUPD_E_FORMAT;
            }
            *got = o.pos;
            if (ret == 0) {
                r->done = 1;
            } else if (o.pos == 0 && in.pos == r->src_pos) {
                return ZUPD_E_FORMAT; /* no progress: truncated */
            }
            r->src_pos = in.pos;
        }
    }
    return ZUPD_OK;
}

/* Decompress more into r->buf. ZUPD_OK with r->len > 0, or with r->done set
 * at the end of the stream; ZUPD_E_FORMAT on corrupt or truncated input. */
static int
rd_fill(struct rd *r)
{
    r->pos = 0;
    r->len = 0;
    r->view = r->buf;
    if (r->codec == ZU_CODEC_RAW || r->codec == ZU_CODEC_ZRLE)
        return r->done ? ZUPD_OK : rd_fill_plain(r);
    if (r->codec == ZU_CODEC_SPLIT)
        return r->done ? ZUPD_OK : rd_fill_split(r);
    if (r->codec == ZU_CODEC_ZRUN)
        return r->done ? ZUPD_OK : rd_fill_zrun(r);
    if (r->aq != NULL)
        return r->done ? ZUPD_OK : bzq_fill(r);
    return rd_decode(r, r->buf, OUT_CHUNK, &r->len);
}

/* Copy exactly n decompressed bytes to dst. */
static int
rd_read(struct rd *r, uint8_t *dst, size_t n)
{
    while (n > 0) {
        size_t k;
        if (r->pos == r->len && n >= RD_DIRECT_MIN && r->aq == NULL &&
            (r->codec == ZU_CODEC_ZSTD || r->codec == ZU_CODEC_BZIP2)) {
            /* a long read: decompressed straight into dst */
            int rc = rd_decode(r, dst, n, &k);
            if (rc != ZUPD_OK)
                return rc;
            if (k == 0)
                return ZUPD_E_FORMAT; /* stream shorter than the control says */
            dst += k;
            n -= k;
            continue;
        }
        if (r->pos == r->len) {
            int rc = rd_fill(r);
            if (rc != ZUPD_OK)
                return rc;
            if (r->len == 0)
                return ZUPD_E_FORMAT; /* stream shorter than the control says */
        }
        k = r->len - r->pos;
        if (k > n)
            k = n;
        memcpy(dst, r->view + r->pos, k);
        r->pos += k;
        dst += k;
        n -= k;
    }
    return ZUPD_OK;
}

/* dst[i] = a[i] + b[i] for i < n, mod 256 (a may be dst): eight bytes at a
 * time without a carry between them (the compiler does not vectorize the
 * byte loop at -O2). */
static inline void
add_bytes(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    const uint64_t lo = 0x7f7f7f7f7f7f7f7fULL, hi = 0x8080808080808080ULL;
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        uint64_t x, y, r;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        r = ((x & lo) + (y & lo)) ^ ((x ^ y) & hi);
        memcpy(dst + i, &r, 8);
    }
    for (; i < n; i++)
        dst[i] = (uint8_t)(a[i] + b[i]);
}

/* dst[0..n) = old[0..n), old may be dst */
static inline void
copy_old(uint8_t *dst, const uint8_t *old, size_t n)
{
    if (dst != old)
        memcpy(dst, old, n);
}

/* The stream is used up exactly: no byte left, frame complete, no trailing input. */
static int
rd_finish(struct rd *r)
{
    if (r->pos != r->len)
        return ZUPD_E_FORMAT;
    if ((r->codec == ZU_CODEC_SPLIT || r->codec == ZU_CODEC_ZRUN) && !r->done) {
        int rc = rd_fill(r);
        if (rc != ZUPD_OK)
            return rc;
        if (r->len != 0 || !r->done)
            return ZUPD_E_FORMAT;
    }
    if (r->sub != NULL) {
        int rc = rd_finish(&r->sub[0]);
        if (rc == ZUPD_OK && r->codec == ZU_CODEC_SPLIT)
            rc = rd_finish(&r->sub[1]);
        if (rc != ZUPD_OK)
            return rc;
    }
    if (!r->done) {
        int rc = rd_fill(r);
        if (rc != ZUPD_OK)
            return rc;
        if (r->len != 0 || !r->done)
            return ZUPD_E_FORMAT;
    }
    return r->src_pos == r->src_len ? ZUPD_OK : ZUPD_E_FORMAT;
}

/* Read a LEB128 varint of at most 64 bits (ten bytes, the last one 0 or 1). */
static int
rd_varint_slow(struct rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t c;
        int rc = rd_read(r, &c, 1);
        if (rc != ZUPD_OK)
            return rc;
        if (shift == 63 && c > 1)
            return ZUPD_E_FORMAT;
        v |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0) {
            *out = v;
            return ZUPD_OK;
        }
    }
    return ZUPD_E_FORMAT;
}

/* rd_varint_slow, decoded in place when ten bytes are at hand. */
static inline int
rd_varint(struct rd *r, uint64_t *out)
{
    const uint8_t *p;
    uint64_t v = 0;

    if (r->len - r->pos < 10)
        return rd_varint_slow(r, out);
    p = r->view + r->pos;
    for (unsigned i = 0; i < 10; i++) {
        uint8_t c = p[i];
        if (i == 9 && c > 1)
            return ZUPD_E_FORMAT;
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if ((c & 0x80) == 0) {
            r->pos += i + 1;
            *out = v;
            return ZUPD_OK;
        }
    }
    return ZUPD_E_FORMAT;
}

/* Zero runs of at least this many bytes go out straight from the old file;
 * shorter ones are gathered with their neighbours into one write. */
#define ZERO_RUN_DIRECT (16u << 10)

/* rd_add of a split stream, pair by pair: zero runs copy, literals add. */
static int
split_add(struct rd *r, uint8_t *dst, const uint8_t *old, size_t n, size_t *done)
{
    struct rd *runs = &r->sub[0], *l = &r->sub[1];
    uint64_t zeros = r->zeros, lits = r->lits;
    size_t at = 0;
    int rc = ZUPD_OK;

    while (at < n) {
        size_t m;
        if (zeros == 0 && lits == 0) {
            /* next pair; at the end of the runs stream rd_varint fails:
             * fewer diff bytes than the control says */
            rc = rd_varint(runs, &zeros);
            if (rc == ZUPD_OK)
                rc = rd_varint(runs, &lits);
            if (rc != ZUPD_OK)
                break;
            if (zeros == 0 && lits == 0) {
                rc = ZUPD_E_FORMAT; /* every pair yields a byte: no empty loops */
                break;
            }
        }
        if (zeros > 0) {
            if (zeros >= ZERO_RUN_DIRECT && at > 0)
                break; /* a long zero run ahead: it goes out from old */
            m = zeros < n - at ? (size_t)zeros : n - at;
            copy_old(dst + at, old + at, m);
            at += m;
            zeros -= m;
            continue;
        }
        if (l->pos == l->len) {
            rc = rd_fill(l);
            if (rc != ZUPD_OK)
                break;
            if (l->len == 0) {
                rc = ZUPD_E_FORMAT; /* fewer literals than the runs say */
                break;
            }
        }
        m = l->len - l->pos;
        if (m > n - at)
            m = n - at;
        if (m > lits)
            m = (size_t)lits;
        add_bytes(dst + at, old + at, l->view + l->pos, m);
        l->pos += m;
        lits -= m;
        at += m;
    }
    r->zeros = zeros;
    r->lits = lits;
    *done = at;
    return rc;
}

/* dst[i] = old[i] + the next bytes of r (mod 256) for i < *done: n, or
 * fewer (at least one) where a long zero run of a zero-run or split stream
 * follows. old may be dst. */
static int
rd_add(struct rd *r, uint8_t *dst, const uint8_t *old, size_t n, size_t *done)
{
    size_t at = 0;

    if (r->codec == ZU_CODEC_SPLIT && r->pos == r->len)
        return split_add(r, dst, old, n, done);
    *done = 0;
    while (at < n) {
        size_t k;
        if (r->pos == r->len) {
            int rc = rd_fill(r);
            if (rc != ZUPD_OK)
                return rc;
            if (r->len == 0)
                return ZUPD_E_FORMAT; /* stream shorter than the control says */
        }
        k = r->len - r->pos;
        if (k > n - at)
            k = n - at;
        if ((r->codec == ZU_CODEC_ZRLE || r->codec == ZU_CODEC_ZRUN) &&
            r->view == r->buf) { /* the zero buffer */
            if (k >= ZERO_RUN_DIRECT && at > 0)
                break;
            copy_old(dst + at, old + at, k);
        } else {
            add_bytes(dst + at, old + at, r->view + r->pos, k);
        }
        r->pos += k;
        at += k;
    }
    *done = at;
    return ZUPD_OK;
}

/* How many of the next diff bytes, at most max, are a known zero run (of a
 * zero-run or split stream; 0 for other codecs). Skip them with rd_skip. */
static int
rd_zeros(struct rd *r, size_t max, size_t *n)
{
    *n = 0;
    if (r->codec == ZU_CODEC_SPLIT && r->pos == r->len) {
        if (r->zeros == 0 && r->lits == 0) {
            int end, rc = rd_at_end(&r->sub[0], &end);
            if (rc != ZUPD_OK || end) /* at the end: rd_add tells */
                return rc;
            rc = rd_varint(&r->sub[0], &r->zeros);
            if (rc == ZUPD_OK)
                rc = rd_varint(&r->sub[0], &r->lits);
            if (rc != ZUPD_OK)
                return rc;
            if (r->zeros == 0 && r->lits == 0)
                return ZUPD_E_FORMAT; /* every pair yields a byte: no empty loops */
        }
        *n = r->zeros < max ? (size_t)r->zeros : max;
    } else if (r->codec == ZU_CODEC_ZRLE || r->codec == ZU_CODEC_ZRUN) {
        if (r->pos == r->len) {
            int rc = rd_fill(r);
            if (rc != ZUPD_OK)
                return rc;
        }
        if (r->view == r->buf && r->pos < r->len) /* the zero buffer: a zero run */
            *n = r->len - r->pos < max ? r->len - r->pos : max;
    }
    return ZUPD_OK;
}

/* Skip n zeros that rd_zeros reported. */
static void
rd_skip(struct rd *r, size_t n)
{
    if (r->codec == ZU_CODEC_SPLIT)
        r->zeros -= n;
    else
        r->pos += n;
}

/* ------------------------------------------------------------------ output */

/* The output: pieces of at most OUT_CHUNK bytes, gathered in buffers so
 * that the sink gets few large writes however small the control entries
 * (turbo: 120,000 write calls before, 132 now); apply decodes straight into
 * the buffer. Long unchanged stretches go out as pieces of old itself.
 *
 * With the hashes on a large file, the SHA-256 passes run on two threads:
 * a second thread hashes the old file while apply decodes the first RING
 * buffers and, once they are full, hashes them itself (nothing is written
 * before the old file's hash is checked); then the output is hashed in
 * order by whichever thread is free, while apply writes it. Buffers are
 * reused once written and hashed. Without the thread: the old file is
 * hashed first, each piece hashed as it is written, one buffer. */
#define RING 64               /* output buffers (16 MiB) with the hash thread */
#define PIECES (2 * RING)     /* pieces in flight: buffers and pieces of old */
#define THREAD_MIN (4u << 20) /* old + new size from which the thread pays */
#define KEEP_ROOM (32u << 10) /* a flushed buffer with this much room left is filled on */

struct piece {
    const uint8_t *p;
    size_t n;
};

enum { V_PENDING, V_OK, V_BAD };

struct outq {
    const struct zupd_delta_sink *sink;
    struct zupd_hash *h; /* NULL: no hash (BSDIFF40, ZUPD_DELTA_NO_HASHES) */
    uint64_t written;    /* bytes accepted, buffered ones included */
    uint8_t *buf;        /* the buffer being filled (OUT_CHUNK bytes) */
    size_t start;        /* buf[start..fill) is not queued yet */
    size_t fill;
    unsigned nring;      /* buffers: 1, or RING with the thread */
    unsigned cur;        /* ring[cur] is buf */
    uint8_t *ring[RING]; /* with the thread: in region */
    uint8_t *one;        /* the buffer without the thread */
    void *region;        /* the ring's mapping (huge pages where possible) */
    size_t region_len;
    uint64_t last[RING]; /* 1 + the last piece that used each buffer (0: none) */
    struct piece pc[PIECES];
    uint64_t produced; /* pieces queued */
    uint64_t sent;     /* pieces written to the sink (this thread only) */
    /* the thread */
    int threaded;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_hash; /* to the hash thread: a piece, or stop */
    pthread_cond_t cv_main; /* to apply: verdict, piece hashed */
    const uint8_t *old;
    size_t old_len;
    const uint8_t *old_sha256;
    uint64_t hashed; /* pieces hashed */
    int hashing;     /* a thread is hashing piece `hashed` */
    int verdict;     /* V_*; V_BAD with hrc set on a hash error */
    int hrc;
    int stop; /* 1: no more pieces, all hashed; 2: apply failed, give up */
};

/* Hash the next piece; called and returns with q->mu held, by either
 * thread, whichever is free (one at a time, in order). */
static void
hash_next(struct outq *q)
{
    struct piece pc = q->pc[q->hashed % PIECES];
    int rc;

    q->hashing = 1;
    pthread_mutex_unlock(&q->mu);
    rc = zupd_hash_update(q->h, pc.p, pc.n);
    pthread_mutex_lock(&q->mu);
    if (rc != ZUPD_OK && q->hrc == ZUPD_OK)
        q->hrc = rc;
    q->hashed++;
    q->hashing = 0;
    pthread_cond_broadcast(&q->cv_main);
    pthread_cond_broadcast(&q->cv_hash);
}

static void *
hash_thread(void *arg)
{
    struct outq *q = arg;
    uint8_t d[ZUPD_SHA256_LEN];
    size_t dn;
    int rc = zupd_hash_buf(ZUPD_HASH_SHA256, q->old, q->old_len, d, sizeof(d), &dn);

    pthread_mutex_lock(&q->mu);
    if (rc != ZUPD_OK)
        q->hrc = rc;
    q->verdict = rc == ZUPD_OK && memcmp(d, q->old_sha256, sizeof(d)) == 0 ? V_OK : V_BAD;
    pthread_cond_broadcast(&q->cv_main);
    while (q->verdict == V_OK && q->hrc == ZUPD_OK) {
        while (q->stop == 0 && (q->hashed == q->produced || q->hashing))
            pthread_cond_wait(&q->cv_hash, &q->mu);
        if (q->stop != 0)
            break; /* all hashed, or apply failed */
        hash_next(q);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Write the pieces queued (once the old file is known good), then wait
 * until pieces [0, need) are written and hashed, hashing them here if the
 * hash thread is busy (with the old file). */
static int
out_wait(struct outq *q, uint64_t need)
{
    int rc = ZUPD_OK;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->hrc != ZUPD_OK) {
            rc = q->hrc;
            break;
        }
        if (q->verdict == V_BAD) {
            rc = ZUPD_E_BASE;
            break;
        }
        if (q->verdict == V_OK && q->sent < q->produced) {
            pthread_mutex_unlock(&q->mu);
            while (rc == ZUPD_OK && q->sent < q->produced) {
                struct piece *pc = &q->pc[q->sent % PIECES];
                rc = q->sink->write(q->sink->opaque, pc->p, pc->n);
                q->sent++;
            }
            if (rc != ZUPD_OK)
                return rc;
            pthread_mutex_lock(&q->mu);
            continue;
        }
        if (q->sent >= need && q->hashed >= need)
            break;
        if (!q->hashing && q->hashed < q->produced)
            hash_next(q);
        else
            pthread_cond_wait(&q->cv_main, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* Queue p[0..n) (a buffer or a piece of old) for the sink and the hash. */
static int
out_piece(struct outq *q, const uint8_t *p, size_t n)
{
    int rc;

    if (!q->threaded) {
        if (q->h != NULL) {
            rc = zupd_hash_update(q->h, p, n);
            if (rc != ZUPD_OK)
                return rc;
        }
        return q->sink->write(q->sink->opaque, p, n);
    }
    if (q->produced >= PIECES) { /* room for one more */
        rc = out_wait(q, q->produced - PIECES + 1);
        if (rc != ZUPD_OK)
            return rc;
    }
    pthread_mutex_lock(&q->mu);
    q->pc[q->produced % PIECES] = (struct piece){p, n};
    q->produced++;
    pthread_cond_signal(&q->cv_hash);
    pthread_mutex_unlock(&q->mu);
    /* written at once if the old file is known good, else later */
    return out_wait(q, 0);
}

/* The buffer goes out; the next one is made ready. */
static int
out_flush(struct outq *q)
{
    int rc;

    if (q->fill == q->start)
        return ZUPD_OK;
    rc = out_piece(q, q->buf + q->start, q->fill - q->start);
    if (rc != ZUPD_OK || q->nring == 1) {
        q->fill = q->start = 0;
        return rc;
    }
    q->last[q->cur] = q->produced;
    /* the rest of the buffer is free: fill it on (a ring buffer per
     * piece touched the whole 16 MiB ring for mdn-bcd's 1 MiB of pieces) */
    if (OUT_CHUNK - q->fill >= KEEP_ROOM) {
        q->start = q->fill;
        return ZUPD_OK;
    }
    q->fill = q->start = 0;
    q->cur = (q->cur + 1) % q->nring;
    if (q->last[q->cur] != 0) {
        rc = out_wait(q, q->last[q->cur]); /* its last piece out and hashed */
        if (rc != ZUPD_OK)
            return rc;
    }
    q->buf = q->ring[q->cur];
    return ZUPD_OK;
}

/* Room for the next bytes of output: *dst, *room >= 1 bytes. */
static int
out_room(struct outq *q, uint8_t **dst, size_t *room)
{
    if (q->fill == OUT_CHUNK) {
        int rc = out_flush(q);
        if (rc != ZUPD_OK)
            return rc;
    }
    *dst = q->buf + q->fill;
    *room = OUT_CHUNK - q->fill;
    return ZUPD_OK;
}

/* The next n bytes of output are in place (n <= the room given). */
static void
out_commit(struct outq *q, size_t n)
{
    q->fill += n;
    q->written += n;
}

/* A long piece that already lies in memory for good (unchanged bytes of
 * old, n <= OUT_CHUNK): what is gathered goes first, then the piece itself,
 * uncopied. */
static int
out_direct(struct outq *q, const uint8_t *p, size_t n)
{
    int rc = out_flush(q);

    if (rc != ZUPD_OK)
        return rc;
    q->written += n;
    return out_piece(q, p, n);
}

/* The ring: one mapping, 2 MiB aligned and advised for huge pages (8 page
 * faults for 16 MiB instead of 4096: turbo 20 ms less CPU); pages are
 * touched as used. */
static int
ring_map(struct outq *q)
{
    const size_t align = 2u << 20, len = (size_t)RING * OUT_CHUNK;
    uint8_t *p;

    q->region_len = len + align;
    q->region =
        mmap(NULL, q->region_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q->region == MAP_FAILED) {
        q->region = NULL;
        return ZUPD_E_NOMEM;
    }
    p = (uint8_t *)(((uintptr_t)q->region + align - 1) & ~(uintptr_t)(align - 1));
#ifdef MADV_HUGEPAGE
    (void)madvise(p, len, MADV_HUGEPAGE);
#endif
    for (unsigned i = 0; i < RING; i++)
        q->ring[i] = p + (size_t)i * OUT_CHUNK;
    return ZUPD_OK;
}

/* Set up q: one buffer, or the ring and the hash thread (which checks the
 * old file). Without the thread, the old file is checked here. */
static int
out_init(struct outq *q, const struct zupd_delta_sink *sink, const uint8_t *old, size_t old_len,
         const struct zupd_delta_info *hdr, bool hashes)
{
    memset(q, 0, sizeof(*q));
    q->sink = sink;
    q->nring = 1;
    if (hashes) {
        q->h = zupd_hash_new(ZUPD_HASH_SHA256);
        if (q->h == NULL)
            return ZUPD_E_NOMEM;
    }
    q->one = q->buf = malloc(OUT_CHUNK);
    if (q->buf == NULL)
        return ZUPD_E_NOMEM;
    if (hashes && (uint64_t)old_len + hdr->new_size >= THREAD_MIN &&
        sysconf(_SC_NPROCESSORS_ONLN) > 1) {
        q->old = old;
        q->old_len = old_len;
        q->old_sha256 = hdr->old_sha256;
        if (pthread_mutex_init(&q->mu, NULL) == 0) {
            if (pthread_cond_init(&q->cv_hash, NULL) == 0) {
                if (pthread_cond_init(&q->cv_main, NULL) == 0) {
                    if (ring_map(q) == ZUPD_OK &&
                        pthread_create(&q->th, NULL, hash_thread, q) == 0) {
                        q->threaded = 1;
                        q->nring = RING;
                        q->buf = q->ring[0];
                        return ZUPD_OK;
                    }
                    pthread_cond_destroy(&q->cv_main);
                }
                pthread_cond_destroy(&q->cv_hash);
            }
            pthread_mutex_destroy(&q->mu);
        }
    }
    if (hashes) { /* no thread: the old file first */
        uint8_t d[ZUPD_SHA256_LEN];
        size_t dn;
        int rc = zupd_hash_buf(ZUPD_HASH_SHA256, old, old_len, d, sizeof(d), &dn);
        if (rc != ZUPD_OK)
            return rc;
        if (memcmp(d, hdr->old_sha256, sizeof(d)) != 0)
            return ZUPD_E_BASE;
    }
    return ZUPD_OK;
}

/* Flush (rc ZUPD_OK), or give up; stop the thread. Returns rc, or
 * ZUPD_E_BASE when the old file turned out wrong (as if checked first). */
static int
out_end(struct outq *q, int rc)
{
    if (rc == ZUPD_OK)
        rc = out_flush(q);
    if (q->threaded) {
        if (rc == ZUPD_OK)
            rc = out_wait(q, q->produced);
        pthread_mutex_lock(&q->mu);
        q->stop = rc == ZUPD_OK ? 1 : 2;
        pthread_cond_signal(&q->cv_hash);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->th, NULL);
        if (q->verdict == V_BAD && q->hrc == ZUPD_OK)
            rc = ZUPD_E_BASE;
        else if (rc == ZUPD_OK)
            rc = q->hrc;
        pthread_cond_destroy(&q->cv_main);
        pthread_cond_destroy(&q->cv_hash);
        pthread_mutex_destroy(&q->mu);
        q->threaded = 0;
    }
    return rc;
}

static void
out_release(struct outq *q)
{
    if (q->region != NULL)
        munmap(q->region, q->region_len);
    free(q->one);
    zupd_hash_free(q->h);
}

/* dst[0..n) = old[pos..pos+n), bytes outside old read as zero (BSDIFF40). */
static void
old_bytes(uint8_t *dst, const uint8_t *old, size_t old_len, int64_t pos, size_t n)
{
    size_t skip = 0, m;

    if (pos < 0) {
        skip = (uint64_t)(-pos) < n ? (size_t)(-pos) : n;
        memset(dst, 0, skip);
        pos = 0;
    }
    if ((uint64_t)pos >= old_len) {
        memset(dst + skip, 0, n - skip);
        return;
    }
    m = old_len - (size_t)pos < n - skip ? old_len - (size_t)pos : n - skip;
    memcpy(dst + skip, old + pos, m);
    memset(dst + skip + m, 0, n - skip - m);
}

/* ------------------------------------------------------------------ bsdiff-style */

struct bsd_job {
    const uint8_t *old;
    size_t old_len;
    uint64_t new_size;
    int native; /* native: varint control, adds strictly inside old; else BSDIFF40 */
    struct rd ctrl, diff, extra;
    uint64_t busy, idle; /* control entries read that write bytes, that do not */
};

static int
read_ctrl(struct bsd_job *j, uint64_t *add, uint64_t *copy, int64_t *seek)
{
    int rc;
    if (j->native) {
        uint64_t s;
        rc = rd_varint(&j->ctrl, add);
        if (rc == ZUPD_OK)
            rc = rd_varint(&j->ctrl, copy);
        if (rc == ZUPD_OK)
            rc = rd_varint(&j->ctrl, &s);
        if (rc != ZUPD_OK)
            return rc;
        /* zigzag */
        *seek = (s & 1) ? -(int64_t)(s >> 1) - 1 : (int64_t)(s >> 1);
        return ZUPD_OK;
    } else {
        uint8_t b[24];
        int64_t x, y;
        rc = rd_read(&j->ctrl, b, sizeof(b));
        if (rc == ZUPD_OK)
            rc = zu_offtin(b, &x);
        if (rc == ZUPD_OK)
            rc = zu_offtin(b + 8, &y);
        if (rc == ZUPD_OK)
            rc = zu_offtin(b + 16, seek);
        if (rc != ZUPD_OK)
            return rc;
        if (x < 0 || y < 0)
            return ZUPD_E_FORMAT;
        *add = (uint64_t)x;
        *copy = (uint64_t)y;
        return ZUPD_OK;
    }
}

/* Positions in old and add lengths stay within +-2^61: no sum can overflow. */
#define OLDPOS_LIMIT (INT64_C(1) << 61)

/* Control entries that write nothing (only a seek) may not outnumber the
 * others by more than IDLE_SLACK: a few compressed bytes of zeros decode to
 * millions of them, which would loop without end in sight (found by
 * fuzz_delta_apply). Creators write at most one between two others. */
#define IDLE_SLACK 16

static int
idle_check(uint64_t add, uint64_t copy, uint64_t *busy, uint64_t *idle)
{
    if (add != 0 || copy != 0)
        (*busy)++;
    else if (++*idle > *busy + IDLE_SLACK)
        return ZUPD_E_FORMAT;
    return ZUPD_OK;
}

/* The next control entry of j, checked against the positions before it:
 * add and copy within the new size, the add inside old (native) or at most
 * 2^61 (BSDIFF40), |seek| and the old position after the entry at most
 * 2^61, and idle_check. Every value is checked before any is used. */
static int
next_entry(struct bsd_job *j, uint64_t newpos, int64_t oldpos, uint64_t *add, uint64_t *copy,
           int64_t *seek)
{
    int64_t o;
    int rc = read_ctrl(j, add, copy, seek);

    if (rc == ZUPD_OK)
        rc = idle_check(*add, *copy, &j->busy, &j->idle);
    if (rc != ZUPD_OK)
        return rc;
    if (*add > j->new_size - newpos || *copy > j->new_size - newpos - *add)
        return ZUPD_E_FORMAT;
    if (j->native) { /* the add region lies inside old */
        if (oldpos < 0 || (uint64_t)oldpos > j->old_len || *add > j->old_len - (uint64_t)oldpos)
            return ZUPD_E_FORMAT;
    } else if (*add > (uint64_t)OLDPOS_LIMIT) {
        return ZUPD_E_FORMAT;
    }
    if (*seek > OLDPOS_LIMIT || *seek < -OLDPOS_LIMIT)
        return ZUPD_E_FORMAT;
    o = oldpos + (int64_t)*add +
        *seek; /* old position + add: at most the old size (mapped, under 2^62) or 2^62 */
    return o > OLDPOS_LIMIT || o < -OLDPOS_LIMIT ? ZUPD_E_FORMAT : ZUPD_OK;
}

static int
bsd_run(struct bsd_job *j, struct outq *q)
{
    uint64_t newpos = 0;
    int64_t oldpos = 0;
    int rc = ZUPD_OK;

    while (newpos < j->new_size) {
        uint64_t add, copy;
        int64_t seek;

        rc = next_entry(j, newpos, oldpos, &add, &copy, &seek);
        if (rc != ZUPD_OK)
            return rc;
        /* the old bytes straight into the output, the diff added on them;
         * long unchanged stretches go out from old itself, uncopied */
        while (add > 0) {
            uint8_t *dst;
            size_t k;
            if (j->native && (j->diff.codec == ZU_CODEC_SPLIT || j->diff.codec == ZU_CODEC_ZRLE)) {
                rc = rd_zeros(&j->diff, add > OUT_CHUNK ? OUT_CHUNK : (size_t)add, &k);
                if (rc != ZUPD_OK)
                    return rc;
                if (k >= ZERO_RUN_DIRECT) {
                    rc = out_direct(q, j->old + oldpos, k);
                    if (rc != ZUPD_OK)
                        return rc;
                    rd_skip(&j->diff, k);
                    oldpos += (int64_t)k;
                    newpos += k;
                    add -= k;
                    continue;
                }
            }
            rc = out_room(q, &dst, &k);
            if (rc != ZUPD_OK)
                return rc;
            if (k > add)
                k = (size_t)add;
            if (j->native) { /* old + diff */
                rc = rd_add(&j->diff, dst, j->old + oldpos, k, &k);
            } else { /* old (zero outside) into dst, then += diff */
                old_bytes(dst, j->old, j->old_len, oldpos, k);
                rc = rd_add(&j->diff, dst, dst, k, &k);
            }
            if (rc != ZUPD_OK)
                return rc;
            out_commit(q, k);
            oldpos += (int64_t)k;
            newpos += k;
            add -= k;
        }
        while (copy > 0) {
            uint8_t *dst;
            size_t k;
            rc = out_room(q, &dst, &k);
            if (rc != ZUPD_OK)
                return rc;
            if (k > copy)
                k = (size_t)copy;
            rc = rd_read(&j->extra, dst, k);
            if (rc != ZUPD_OK)
                return rc;
            out_commit(q, k);
            newpos += k;
            copy -= k;
        }
        oldpos += seek;
    }
    if (j->native) {
        rc = rd_finish(&j->ctrl);
        if (rc == ZUPD_OK)
            rc = rd_finish(&j->diff);
        if (rc == ZUPD_OK)
            rc = rd_finish(&j->extra);
    }
    return rc;
}

/* The extra context (ZU_FLAG_EXTRA_CTX) from a first pass over the control
 * stream src[0..len), with bsd_run's checks of the entries (next_entry). */
static int
ctx_build(const struct bsd_job *j, int codec, const uint8_t *src, size_t len, uint64_t w,
          struct zu_ctx *c)
{
    struct bsd_job k;
    uint64_t newpos = 0;
    int64_t oldpos = 0;
    int rc;

    memset(&k, 0, sizeof(k));
    k.old = j->old;
    k.old_len = j->old_len;
    k.new_size = j->new_size;
    k.native = 1;
    rc = rd_init(&k.ctrl, codec, src, len, NULL, 0, 0);
    while (rc == ZUPD_OK && newpos < k.new_size) {
        uint64_t add, copy;
        int64_t seek;
        rc = next_entry(&k, newpos, oldpos, &add, &copy, &seek);
        if (rc != ZUPD_OK)
            break;
        newpos += add + copy;
        oldpos += (int64_t)add;
        if (copy > 0)
            rc = zu_ctx_add(c, k.old, k.old_len, (uint64_t)oldpos, w);
        oldpos += seek;
    }
    rd_release(&k.ctrl);
    return rc;
}

/* ------------------------------------------------------------------ apply */

static int
apply_zstd(const uint8_t *old, size_t old_len, const uint8_t *body, size_t body_len,
           uint64_t new_size, struct outq *q)
{
    struct rd r;
    int rc;

    rc = rd_init_zstd(&r, body, body_len, old, old_len, new_size);
    if (rc != ZUPD_OK)
        goto out;
    if (body_len == 0) {
        rc = new_size == 0 ? ZUPD_OK : ZUPD_E_FORMAT;
        goto out;
    }
    {
        if (ZSTD_getFrameContentSize(body, body_len) != new_size) {
            rc = ZUPD_E_FORMAT;
            goto out;
        }
    }
    for (;;) { /* decoded straight into the output buffer */
        uint8_t *dst;
        size_t room, got;
        rc = out_room(q, &dst, &room);
        if (rc == ZUPD_OK)
            rc = rd_decode(&r, dst, room, &got);
        if (rc != ZUPD_OK)
            goto out;
        if (got == 0)
            break;
        if (got > new_size - q->written) {
            rc = ZUPD_E_FORMAT;
            goto out;
        }
        out_commit(q, got);
    }
    r.pos = r.len;
    rc = rd_finish(&r);
out:
    rd_release(&r);
    return rc;
}

static int
apply_bsdiff(const uint8_t *old, size_t old_len, const uint8_t *patch, size_t patch_len, int native,
             uint64_t new_size, struct outq *q)
{
    struct bsd_job j;
    struct zu_ctx ctx = {0};
    const uint8_t *p;
    size_t left, cl, dl, el;
    uint64_t w = 0; /* radius of the extra context; 0: none */
    int rc;

    memset(&j, 0, sizeof(j));
    j.old = old;
    j.old_len = old_len;
    j.new_size = new_size;
    j.native = native;
    if (native) {
        struct zupd_delta_info h;
        size_t at;
        uint64_t c64, d64;
        int codecs;
        rc = native_header(patch, patch_len, &h, &at);
        if (rc == ZUPD_OK)
            rc = zu_get_varint(patch, patch_len, &at, &c64);
        if (rc == ZUPD_OK)
            rc = zu_get_varint(patch, patch_len, &at, &d64);
        if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_EXTRA_CTX) != 0) {
            rc = zu_get_varint(patch, patch_len, &at, &w);
            /* the context is the zstd extra stream's prefix */
            if (rc == ZUPD_OK && (w == 0 || w > ZU_CTX_W_MAX || ((patch[6] >> 4) & 3) != 0))
                rc = ZUPD_E_FORMAT;
        }
        if (rc != ZUPD_OK)
            goto out;
        p = patch + at;
        left = patch_len - at;
        if (c64 > left || d64 > left - c64) {
            rc = ZUPD_E_FORMAT;
            goto out;
        }
        cl = (size_t)c64;
        dl = (size_t)d64;
        el = left - cl - dl;
        codecs = patch[6];
        rc = rd_init(&j.ctrl, codecs & 3, p, cl, NULL, 0, 0);
        if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_DIFF_SPLIT) != 0 &&
            (patch[7] & ZU_FLAG_DIFF_ZRUN) != 0)
            rc = ZUPD_E_FORMAT; /* one or the other */
        else if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_DIFF_SPLIT) != 0)
            rc = rd_init_split(&j.diff, (codecs >> 2) & 3, p + cl, dl);
        else if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_DIFF_ZRUN) != 0)
            rc = rd_init_zrun(&j.diff, (codecs >> 2) & 3, p + cl, dl);
        else if (rc == ZUPD_OK)
            rc = rd_init(&j.diff, (codecs >> 2) & 3, p + cl, dl, NULL, 0, 0);
        if (rc == ZUPD_OK && w > 0)
            rc = ctx_build(&j, codecs & 3, p, cl, w, &ctx);
        /* a zstd extra stream may copy from its prefix: old, or the context */
        if (rc == ZUPD_OK && w > 0)
            rc = rd_init(&j.extra, ZU_CODEC_ZSTD, p + cl + dl, el, ctx.len > 0 ? ctx.buf : old,
                         ctx.len, new_size);
        else if (rc == ZUPD_OK)
            rc = rd_init(&j.extra, (codecs >> 4) & 3, p + cl + dl, el, old, old_len, new_size);
    } else {
        int64_t c64 = 0, d64 = 0;
        /* zupd_delta_info checked the header and the two lengths; checked
         * again so that no path uses them unset (gcc -Wmaybe-uninitialized) */
        if (zu_offtin(patch + 8, &c64) != ZUPD_OK || zu_offtin(patch + 16, &d64) != ZUPD_OK ||
            c64 < 0 || d64 < 0) {
            rc = ZUPD_E_FORMAT;
            goto out;
        }
        p = patch + 32;
        cl = (size_t)c64;
        dl = (size_t)d64;
        el = patch_len - 32 - cl - dl;
        rc = rd_init_bz(&j.ctrl, p, cl);
        if (rc == ZUPD_OK)
            rc = rd_init_bz(&j.diff, p + cl, dl);
        if (rc == ZUPD_OK)
            rc = rd_init_bz(&j.extra, p + cl + dl, el);
    }
    if (rc != ZUPD_OK)
        goto out;
    rc = bsd_run(&j, q);
out:
    rd_release(&j.ctrl);
    rd_release(&j.diff);
    rd_release(&j.extra);
    zu_ctx_free(&ctx);
    return rc;
}

int
zupd_delta_apply(const uint8_t *old, size_t old_len, const uint8_t *patch, size_t patch_len,
                 uint64_t max_new_size, const struct zupd_delta_sink *out,
                 struct zupd_delta_info *info)
{
    return zupd_delta_apply_flags(old, old_len, patch, patch_len, max_new_size, 0, out, info);
}

int
zupd_delta_apply_flags(const uint8_t *old, size_t old_len, const uint8_t *patch, size_t patch_len,
                       uint64_t max_new_size, unsigned flags, const struct zupd_delta_sink *out,
                       struct zupd_delta_info *info)
{
    struct zupd_delta_info hdr;
    struct outq q;
    bool hashes;
    int rc;

    if (info != NULL)
        memset(info, 0, sizeof(*info));
    if ((old == NULL && old_len > 0) || (patch == NULL && patch_len > 0) || out == NULL ||
        out->write == NULL || (flags & ~(unsigned)ZUPD_DELTA_NO_HASHES) != 0)
        return ZUPD_E_MISUSE;
    rc = zupd_delta_info(patch, patch_len, &hdr);
    if (rc != ZUPD_OK)
        return rc;
    if (info != NULL)
        *info = hdr;
    if (max_new_size != 0 && hdr.new_size > max_new_size)
        return ZUPD_E_TOOBIG;
    if (hdr.has_hashes && hdr.old_size != (uint64_t)old_len)
        return ZUPD_E_BASE;
    hashes = hdr.has_hashes && (flags & ZUPD_DELTA_NO_HASHES) == 0;
    /* checks the old file's hash before the first write */
    rc = out_init(&q, out, old, old_len, &hdr, hashes);
    if (rc != ZUPD_OK) {
        out_release(&q);
        return rc;
    }
    if (hdr.method == ZUPD_DELTA_ZSTD) {
        size_t body = 0;
        struct zupd_delta_info h;
        rc = native_header(patch, patch_len, &h, &body);
        if (rc == ZUPD_OK)
            rc = apply_zstd(old, old_len, patch + body, patch_len - body, hdr.new_size, &q);
    } else
        rc = apply_bsdiff(old, old_len, patch, patch_len, hdr.method == ZUPD_DELTA_BSDIFF,
                          hdr.new_size, &q);
    if (rc == ZUPD_OK && q.written != hdr.new_size)
        rc = ZUPD_E_FORMAT;
    rc = out_end(&q, rc);
    if (rc == ZUPD_OK && q.h != NULL) {
        uint8_t d[ZUPD_SHA256_LEN];
        size_t dn;
        rc = zupd_hash_final(q.h, d, sizeof(d), &dn);
        if (rc == ZUPD_OK && memcmp(d, hdr.new_sha256, sizeof(d)) != 0)
            rc = ZUPD_E_HASH;
    }
    out_release(&q);
    return rc;
}
