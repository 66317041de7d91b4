/* SPDX-License-Identifier: Apache-2.0 */
/* lib/delta_stream.c -- delta apply's stream readers: zstd, bzip2 (long streams on a thread),
 * stored, zero-run, split and zero-run-coded diff streams. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bzlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "delta_apply_int.h"
#include "zu/delta_format.h"
#include "zu/internal.h"

#define STREAM_WLOG_MAX 24       /* ctrl and diff frames: 16 MiB window at most */
#define BZ_FEED_MAX (1u << 30)   /* bzip2 counts input in unsigned int */
#define RD_DIRECT_MIN (4u << 10) /* reads from which zstd and bzip2 decode in place */
#define AQ_MIN (32u << 10)       /* bzip2 and LZMA2 streams from this size decode on a thread */
#define AQ_N 16                  /* its buffers of OUT_CHUNK bytes (at most 32) */
#define AQ_N_LZMA 4              /* an LZMA2 stream's: its dictionary is memory enough */

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

/* One lzma_code call, as bz_step. */
static int
lz_step(lzma_stream *z, const uint8_t *src, size_t len, size_t *pos, uint8_t *dst, size_t cap,
        size_t *got, int *end)
{
    lzma_ret ret;

    z->next_in = src + *pos;
    z->avail_in = len - *pos;
    z->next_out = dst;
    z->avail_out = cap;
    ret = lzma_code(z, LZMA_RUN);
    *got = cap - z->avail_out;
    if (ret == LZMA_MEM_ERROR)
        return ZUPD_E_NOMEM;
    if (ret != LZMA_OK && ret != LZMA_STREAM_END)
        return ZUPD_E_FORMAT;
    if (ret == LZMA_OK && *got == 0 && z->next_in == src + *pos)
        return ZUPD_E_FORMAT; /* no progress: truncated */
    *pos = (size_t)(z->next_in - src);
    *end = ret == LZMA_STREAM_END;
    return ZUPD_OK;
}

/* bzip2 decodes at 30-40 MB/s, a tenth of the speed of everything else
 * apply does (esbuild: half of its time), LZMA2 at 50-100 MB/s. A long
 * bzip2 or LZMA2 stream is decoded on a thread of its own, up to AQ_N
 * (LZMA2: AQ_N_LZMA) buffers ahead of apply, which takes them in order.
 * The diff stream's thread starts before the executable stage's
 * transform, and decodes up to 4 MiB meanwhile (sentry-cli's zero-run bytes: 1.8 MB); an LZMA2
 * extra stream's after it (its preset dictionary is old transformed).
 * Each buffer filled is the lowest one free, so that a queue apply keeps
 * up with touches one or two buffers, not all. The thread owns the
 * decoder's state and src_pos until it ends. */
struct aq {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int lzma; /* 1: lz, else b */
    bz_stream b;
    lzma_stream lz;
    const uint8_t *src;
    size_t src_len;
    size_t src_pos;
    unsigned n;           /* buffers: AQ_N, or AQ_N_LZMA */
    uint8_t *mem;         /* n buffers of OUT_CHUNK bytes */
    size_t blen[AQ_N];    /* bytes decoded into each */
    uint8_t fifo[AQ_N];   /* the buffer of filled buffer k, at k % AQ_N */
    uint32_t busy;        /* buffers filled and not given back: a bit each */
    uint64_t made, taken; /* buffers filled; buffers given back by apply */
    int holding;          /* apply reads buffer fifo[taken % AQ_N] */
    int end;              /* the thread is done: stream end, or rc */
    int rc;
    int stop; /* apply gives up */
};
_Static_assert(AQ_N <= 32, "struct aq: busy has a bit per buffer");

static void
aq_release(struct aq *q)
{
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->th, NULL);
    if (q->lzma)
        lzma_end(&q->lz);
    else
        BZ2_bzDecompressEnd(&q->b);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q->mem);
    free(q);
}

/* The decoding thread: fill the next free buffer, hand it over; the same
 * checks as zu_rd_decode (corrupt, truncated: ZUPD_E_FORMAT). */
static void *
aq_run(void *arg)
{
    struct aq *q = arg;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        unsigned slot;
        size_t got = 0;
        int rc = ZUPD_OK, done = 0;
        while (!q->stop && q->made - q->taken >= q->n)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->stop)
            break;
        slot = (unsigned)__builtin_ctz(~q->busy); /* at most n - 1 busy */
        pthread_mutex_unlock(&q->mu);
        while (got < OUT_CHUNK && rc == ZUPD_OK && !done) {
            size_t k;
            uint8_t *dst = q->mem + (size_t)slot * OUT_CHUNK + got;
            if (q->lzma)
                rc = lz_step(&q->lz, q->src, q->src_len, &q->src_pos, dst, OUT_CHUNK - got, &k,
                             &done);
            else
                rc = bz_step(&q->b, q->src, q->src_len, &q->src_pos, dst, OUT_CHUNK - got, &k,
                             &done);
            got += k;
        }
        pthread_mutex_lock(&q->mu);
        q->blen[slot] = got;
        if (got > 0) {
            q->fifo[q->made % AQ_N] = (uint8_t)slot;
            q->busy |= (uint32_t)1 << slot;
            q->made++;
        }
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

/* Start the thread for r's stream, where it is AQ_MIN bytes or more and
 * a second CPU is online: bzip2, or LZMA2 when r holds its decoder (which
 * the thread then takes over); ZUPD_OK without it where it cannot start
 * (r then decodes in line). */
static int
aq_start(struct rd *r)
{
    struct aq *q;

    if (r->src_len < AQ_MIN || sysconf(_SC_NPROCESSORS_ONLN) <= 1)
        return ZUPD_OK;
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return ZUPD_E_NOMEM;
    q->src = r->src;
    q->src_len = r->src_len;
    q->src_pos = r->src_pos;
    q->lzma = r->lz_live;
    q->n = q->lzma ? AQ_N_LZMA : AQ_N;
    q->mem = malloc((size_t)q->n * OUT_CHUNK);
    if (q->mem == NULL || (!q->lzma && BZ2_bzDecompressInit(&q->b, 0, 0) != BZ_OK)) {
        free(q->mem);
        free(q);
        return ZUPD_E_NOMEM;
    }
    if (q->lzma)
        q->lz = r->lz;
    if (pthread_mutex_init(&q->mu, NULL) == 0) {
        if (pthread_cond_init(&q->cv, NULL) == 0) {
            if (pthread_create(&q->th, NULL, aq_run, q) == 0) {
                r->aq = q;
                r->lz_live = 0; /* the thread's now */
                return ZUPD_OK;
            }
            pthread_cond_destroy(&q->cv);
        }
        pthread_mutex_destroy(&q->mu);
    }
    if (!q->lzma)
        BZ2_bzDecompressEnd(&q->b);
    free(q->mem);
    free(q);
    return ZUPD_OK;
}

/* The next buffer the thread decoded (rd_fill). */
static int
aq_fill(struct rd *r)
{
    struct aq *q = r->aq;
    int rc = ZUPD_OK;

    pthread_mutex_lock(&q->mu);
    if (q->holding) {
        q->busy &= ~((uint32_t)1 << q->fifo[q->taken % AQ_N]);
        q->taken++;
        q->holding = 0;
        pthread_cond_broadcast(&q->cv);
    }
    while (q->made == q->taken && !q->end)
        pthread_cond_wait(&q->cv, &q->mu);
    if (q->made > q->taken) {
        unsigned slot = q->fifo[q->taken % AQ_N];
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

void
zu_rd_release(struct rd *r)
{
    if (r->sub != NULL) {
        zu_rd_release(&r->sub[0]);
        zu_rd_release(&r->sub[1]);
        free(r->sub);
    }
    if (r->aq != NULL)
        aq_release(r->aq);
    ZSTD_freeDCtx(r->z);
    if (r->bz_live)
        BZ2_bzDecompressEnd(&r->b);
    if (r->lz_live)
        lzma_end(&r->lz);
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
int
zu_rd_init_zstd(struct rd *r, const uint8_t *src, size_t len, const uint8_t *prefix,
                size_t prefix_len, uint64_t max_content)
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

int
zu_rd_init_bz(struct rd *r, const uint8_t *src, size_t len)
{
    int rc;

    rd_start(r, ZU_CODEC_BZIP2, src, len);
    r->bz = 1;
    if (len == 0) {
        r->done = 1;
        return ZUPD_OK;
    }
    rc = aq_start(r);
    if (rc != ZUPD_OK || r->aq != NULL)
        return rc;
    r->buf = malloc(OUT_CHUNK);
    if (r->buf == NULL)
        return ZUPD_E_NOMEM;
    if (BZ2_bzDecompressInit(&r->b, 0, 0) != BZ_OK)
        return ZUPD_E_NOMEM;
    r->bz_live = 1;
    return ZUPD_OK;
}

/* An LZMA2 reader (ZU_CODEC_LZMA, the streams of version 10): src[0]
 * is LZMA2's dictionary size property, at most ZU_LZMA_DICT_MAX, then raw
 * LZMA2 to its end marker. The decoder allocates the dictionary and
 * starts it with the last bytes of prefix[0..prefix_len) that fit. An
 * empty slice is an empty stream. */
int
zu_rd_init_lzma(struct rd *r, const uint8_t *src, size_t len, const uint8_t *prefix,
                size_t prefix_len)
{
    lzma_filter f[2] = {{LZMA_FILTER_LZMA2, NULL}, {LZMA_VLI_UNKNOWN, NULL}};
    lzma_options_lzma *o;
    lzma_ret ret;
    int rc;

    rd_start(r, ZU_CODEC_LZMA, src, len);
    if (len == 0) {
        r->done = 1;
        return ZUPD_OK;
    }
    if (lzma_properties_decode(&f[0], NULL, src, 1) != LZMA_OK)
        return ZUPD_E_FORMAT;
    o = f[0].options;
    if (o->dict_size > ZU_LZMA_DICT_MAX) {
        free(o);
        return ZUPD_E_FORMAT;
    }
    if (prefix != NULL && prefix_len > 0) {
        size_t keep = prefix_len < o->dict_size ? prefix_len : o->dict_size;
        o->preset_dict = prefix + prefix_len - keep;
        o->preset_dict_size = (uint32_t)keep;
    }
    r->src_pos = 1;
    ret = lzma_raw_decoder(&r->lz, f);
    free(o); /* the decoder keeps what it needs */
    if (ret != LZMA_OK)
        return ret == LZMA_MEM_ERROR ? ZUPD_E_NOMEM : ZUPD_E_FORMAT;
    r->lz_live = 1;
    rc = aq_start(r);
    if (rc != ZUPD_OK || r->aq != NULL)
        return rc;
    r->buf = malloc(OUT_CHUNK);
    return r->buf == NULL ? ZUPD_E_NOMEM : ZUPD_OK;
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

int
zu_rd_init(struct rd *r, int codec, const uint8_t *src, size_t len, const uint8_t *prefix,
           size_t prefix_len, uint64_t max_content)
{
    switch (codec) {
    case ZU_CODEC_ZSTD:
        return zu_rd_init_zstd(r, src, len, prefix, prefix_len, max_content);
    case ZU_CODEC_BZIP2:
        return zu_rd_init_bz(r, src, len);
    case ZU_CODEC_LZMA:
        return zu_rd_init_lzma(r, src, len, prefix, prefix_len);
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
int
zu_rd_init_split(struct rd *r, int codec, const uint8_t *src, size_t len)
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
    rc = zu_rd_init(&r->sub[0], codec, src + at, (size_t)m, NULL, 0, 0);
    if (rc == ZUPD_OK)
        rc = zu_rd_init(&r->sub[1], codec, src + at + m, len - at - (size_t)m, NULL, 0, 0);
    r->src_pos = len; /* the sub-streams check that they are used up */
    return rc;
}

/* A zero-run diff stream (flag ZU_FLAG_DIFF_ZRUN): bzip2 in sub[0]. */
int
zu_rd_init_zrun(struct rd *r, int codec, const uint8_t *src, size_t len)
{
    rd_start(r, ZU_CODEC_ZRUN, src, len);
    r->src_pos = len; /* the sub-stream checks that it is used up */
    if (codec != ZU_CODEC_BZIP2)
        return ZUPD_E_FORMAT;
    r->buf = calloc(1, OUT_CHUNK); /* zeros, never written */
    r->sub = calloc(2, sizeof(*r->sub));
    if (r->buf == NULL || r->sub == NULL)
        return ZUPD_E_NOMEM;
    return zu_rd_init_bz(&r->sub[0], src, len);
}

static int rd_fill(struct rd *r);

/* The zeros that the groups (ZU_ZRUN_MIN zeros, count) at p[0..n) add,
 * whole groups only, while each count is 255 (a longer run goes on in the
 * next group); *used: the bytes they take. A run of executable's diff
 * bytes is a group per 259 zeros (lefthook-a: 54,000 of them), each a
 * piece of its own otherwise. */
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
        rc = zu_rd_varint(&r->sub[0], &r->zeros);
        if (rc == ZUPD_OK)
            rc = zu_rd_varint(&r->sub[0], &r->lits);
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
int
zu_rd_decode(struct rd *r, uint8_t *dst, size_t cap, size_t *got)
{
    *got = 0;
    while (*got == 0 && !r->done) {
        if (r->bz) {
            int rc = bz_step(&r->b, r->src, r->src_len, &r->src_pos, dst, cap, got, &r->done);
            if (rc != ZUPD_OK)
                return rc;
        } else if (r->lz_live) {
            int rc = lz_step(&r->lz, r->src, r->src_len, &r->src_pos, dst, cap, got, &r->done);
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
        return r->done ? ZUPD_OK : aq_fill(r);
    return zu_rd_decode(r, r->buf, OUT_CHUNK, &r->len);
}

/* Copy exactly n decompressed bytes to dst. */
int
zu_rd_read(struct rd *r, uint8_t *dst, size_t n)
{
    while (n > 0) {
        size_t k;
        if (r->pos == r->len && n >= RD_DIRECT_MIN && r->aq == NULL &&
            (r->codec == ZU_CODEC_ZSTD || r->codec == ZU_CODEC_BZIP2 ||
             r->codec == ZU_CODEC_LZMA)) {
            /* a long read: decompressed straight into dst */
            int rc = zu_rd_decode(r, dst, n, &k);
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
int
zu_rd_finish(struct rd *r)
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
        int rc = zu_rd_finish(&r->sub[0]);
        if (rc == ZUPD_OK && r->codec == ZU_CODEC_SPLIT)
            rc = zu_rd_finish(&r->sub[1]);
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
int
zu_rd_varint_slow(struct rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t c;
        int rc = zu_rd_read(r, &c, 1);
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

/* zu_rd_add of a split stream, pair by pair: zero runs copy, literals add. */
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
            /* next pair; at the end of the runs stream zu_rd_varint fails:
             * fewer diff bytes than the control says */
            rc = zu_rd_varint(runs, &zeros);
            if (rc == ZUPD_OK)
                rc = zu_rd_varint(runs, &lits);
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
int
zu_rd_add(struct rd *r, uint8_t *dst, const uint8_t *old, size_t n, size_t *done)
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
 * zero-run or split stream; 0 for other codecs). Skip them with zu_rd_skip. */
int
zu_rd_zeros(struct rd *r, size_t max, size_t *n)
{
    *n = 0;
    if (r->codec == ZU_CODEC_SPLIT && r->pos == r->len) {
        if (r->zeros == 0 && r->lits == 0) {
            int end, rc = rd_at_end(&r->sub[0], &end);
            if (rc != ZUPD_OK || end) /* at the end: zu_rd_add tells */
                return rc;
            rc = zu_rd_varint(&r->sub[0], &r->zeros);
            if (rc == ZUPD_OK)
                rc = zu_rd_varint(&r->sub[0], &r->lits);
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

/* Skip n zeros that zu_rd_zeros reported. */
void
zu_rd_skip(struct rd *r, size_t n)
{
    if (r->codec == ZU_CODEC_SPLIT)
        r->zeros -= n;
    else
        r->pos += n;
}
