/* SPDX-License-Identifier: Apache-2.0 */
/* lib/delta_apply_int.h -- what the delta apply files share (delta_apply.c, delta_stream.c,
 * delta_bsdiff.c); private to lib/. */
#ifndef ZU_DELTA_APPLY_INT_H
#define ZU_DELTA_APPLY_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <bzlib.h>
#include <lzma.h>
#include <zstd.h>

#include <zupd/delta.h>
#include <zupd/hash.h>

#include "zu/delta_format.h"
#include "zu/internal.h"

#define OUT_CHUNK (256u << 10) /* output piece and decompression buffer */

/* ------------------------------------------------------------------ readers (delta_stream.c) */

struct aq; /* a bzip2 or LZMA2 stream decoded on a thread (delta_stream.c) */

/* A decompressing reader over one slice of the patch. */
struct rd {
    int codec;   /* ZU_CODEC_* */
    int bz;      /* 1: bzip2 (BSDIFF40 or codec 1) */
    int done;    /* the compressed stream ended */
    int bz_live; /* bz stream initialised */
    int lz_live; /* lz stream initialised (ZU_CODEC_LZMA) */
    ZSTD_DCtx *z;
    bz_stream b;
    lzma_stream lz;
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
    struct aq *aq;  /* bzip2 or LZMA2 decoded on a thread (then bz_live, lz_live 0) */
};

int zu_rd_init(struct rd *r, int codec, const uint8_t *src, size_t len, const uint8_t *prefix,
               size_t prefix_len, uint64_t max_content);
int zu_rd_init_zstd(struct rd *r, const uint8_t *src, size_t len, const uint8_t *prefix,
                    size_t prefix_len, uint64_t max_content);
int zu_rd_init_bz(struct rd *r, const uint8_t *src, size_t len);
int zu_rd_init_lzma(struct rd *r, const uint8_t *src, size_t len, const uint8_t *prefix,
                    size_t prefix_len);
int zu_rd_init_split(struct rd *r, int codec, const uint8_t *src, size_t len);
int zu_rd_init_zrun(struct rd *r, int codec, const uint8_t *src, size_t len);
void zu_rd_release(struct rd *r);
int zu_rd_decode(struct rd *r, uint8_t *dst, size_t cap, size_t *got);
int zu_rd_read(struct rd *r, uint8_t *dst, size_t n);
int zu_rd_finish(struct rd *r);
int zu_rd_varint_slow(struct rd *r, uint64_t *out);
int zu_rd_add(struct rd *r, uint8_t *dst, const uint8_t *old, size_t n, size_t *done);
int zu_rd_zeros(struct rd *r, size_t max, size_t *n);
void zu_rd_skip(struct rd *r, size_t n);

/* zu_rd_varint_slow, decoded in place when ten bytes are at hand. */
static inline int
zu_rd_varint(struct rd *r, uint64_t *out)
{
    const uint8_t *p;
    uint64_t v = 0;

    if (r->len - r->pos < 10)
        return zu_rd_varint_slow(r, out);
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

/* ------------------------------------------------------------------ output (delta_apply.c) */

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
/* 8 MiB: 16 kept biome-m's apply (84 MB, no executable stage) 2.6 MiB
 * over old + 64 MiB (133.2 MB peak against 130.6); 8 gives 125.3 MB at the
 * same wall time (median ratio 1.01 over 7 alternated runs; libvips-b 0.96) */
#define RING 32           /* output buffers (8 MiB) with the hash thread */
#define PIECES (2 * RING) /* pieces in flight: buffers and pieces of old */

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
    size_t digest;   /* bytes of old_sha256 the header holds */
    uint64_t hashed; /* pieces hashed */
    int hashing;     /* a thread is hashing piece `hashed` */
    int verdict;     /* V_*; V_BAD with hrc set on a hash error */
    int hrc;
    int stop; /* 1: no more pieces, all hashed; 2: apply failed, give up */
};

int zu_out_flush(struct outq *q);
int zu_out_direct(struct outq *q, const uint8_t *p, size_t n);

/* Room for the next bytes of output: *dst, *room >= 1 bytes. */
static inline int
zu_out_room(struct outq *q, uint8_t **dst, size_t *room)
{
    if (q->fill == OUT_CHUNK) {
        int rc = zu_out_flush(q);
        if (rc != ZUPD_OK)
            return rc;
    }
    *dst = q->buf + q->fill;
    *room = OUT_CHUNK - q->fill;
    return ZUPD_OK;
}

/* The next n bytes of output are in place (n <= the room given). */
static inline void
zu_out_commit(struct outq *q, size_t n)
{
    q->fill += n;
    q->written += n;
}

/* The next n bytes of the stream r (the extra stream) straight to the
 * output. */
static inline int
zu_out_from_rd(struct outq *q, struct rd *r, uint64_t n)
{
    while (n > 0) {
        uint8_t *dst;
        size_t k;
        int rc = zu_out_room(q, &dst, &k);
        if (rc != ZUPD_OK)
            return rc;
        if (k > n)
            k = (size_t)n;
        rc = zu_rd_read(r, dst, k);
        if (rc != ZUPD_OK)
            return rc;
        zu_out_commit(q, k);
        n -= k;
    }
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ x86 filter (delta_x86.c) */

#include "zu/delta_x86.h"

#define ZU_X86_BUF (64u << 10) /* the unfilter's buffer */

/* The x86 filter of the extra stream as apply copies it out
 * (ZU_FLAG_EXTRA_X86): its ranges, the first one not yet passed, and a
 * buffer (ZU_X86_BUF bytes, allocated at the first copy). */
struct zu_x86_copy {
    struct zu_x86 x;
    size_t r;
    uint8_t *buf;
};

/* The n extra bytes of one control entry, for new offset pos (after the
 * offsets of the calls before), unfiltered where they meet a range. */
int zu_x86_copy(struct zu_x86_copy *s, struct rd *extra, struct outq *q, uint64_t pos, uint64_t n);

/* ------------------------------------------------------------------ formats */

/* delta_apply.c */
int zu_native_header(const uint8_t *patch, size_t patch_len, struct zupd_delta_info *info,
                     size_t *body);
/* delta_bsdiff.c */
/* The executable stage's old file, transformed: a mapping of its own
 * (region NULL: none). */
struct zu_xold {
    void *region;
    size_t region_len;
    uint8_t *p;
};
void zu_xold_release(struct zu_xold *x);
/* *xold: with the executable stage, the transformed old file the output
 * may still point into; the caller releases it after out_end. low_mem
 * (ZUPD_DELTA_LOW_MEMORY): old transformed a piece at a time wherever
 * the patch allows, not only over ZU_EXE_WHOLE_MAX. */
int zu_apply_bsdiff(const uint8_t *old, size_t old_len, const uint8_t *patch, size_t patch_len,
                    int native, uint64_t new_size, int low_mem, struct outq *q,
                    struct zu_xold *xold);

#endif
