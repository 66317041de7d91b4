/* SPDX-License-Identifier: Apache-2.0 */
/* lib/delta_apply.c -- delta apply: the headers, the output queue and its hash thread, the zstd
 * method and the entry points (streams: delta_stream.c; bsdiff-style: delta_bsdiff.c). */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zupd/delta.h>
#include <zupd/hash.h>

#include "delta_apply_int.h"
#include "zu/delta_format.h"
#include "zu/internal.h"

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
    case ZUPD_DELTA_COPY:
        return "copy";
    case ZUPD_DELTA_LZMA:
        return "lzma";
    default:
        return "unknown";
    }
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

/* What each native format version defines (docs/delta-format.md): the
 * flags of the bsdiff method (header byte 7), the bytes of each SHA-256
 * digest the header holds (a prefix of it), the methods (header byte 5,
 * a bit each: M_*) and whether header byte 6's bits 6-7 may be set
 * (LZMA2 streams). A version added: one row. Version 8 also allows the
 * executable stage over PE32+ files (its transform id: ZU_EXE_PE_VERSION,
 * checked in lib/delta_bsdiff.c). */
#define M_BASE ((1u << ZUPD_DELTA_BSDIFF) | (1u << ZUPD_DELTA_ZSTD))
#define M_COPY (M_BASE | (1u << ZUPD_DELTA_COPY))
#define M_LZMA (M_COPY | (1u << ZUPD_DELTA_LZMA))
#define F_V4 (ZU_FLAG_DIFF_SPLIT | ZU_FLAG_DIFF_ZRUN | ZU_FLAG_EXTRA_CTX)
#define F_V6 (F_V4 | ZU_FLAG_EXE | ZU_FLAG_EXTRA_X86)
#define F_V9 (F_V6 | ZU_FLAG_CTRL_REP | ZU_FLAG_EXTRA_NOPFX)
static const struct zu_version {
    uint8_t flags;
    uint8_t digest;
    uint8_t methods;
    uint8_t lzma; /* header byte 6, bits 6-7 may be set (LZMA2 streams) */
} versions[ZUPD_DELTA_VERSION + 1] = {
    [1] = {0, 32, M_BASE, 0},
    [2] = {ZU_FLAG_DIFF_SPLIT, 32, M_BASE, 0},
    [3] = {ZU_FLAG_DIFF_SPLIT | ZU_FLAG_DIFF_ZRUN, 32, M_BASE, 0},
    [4] = {F_V4, 32, M_BASE, 0},
    [5] = {F_V4 | ZU_FLAG_EXE, 32, M_BASE, 0},
    [6] = {F_V6, 32, M_BASE, 0},
    [7] = {F_V6, ZU_DIGEST_SHORT, M_COPY, 0},
    [8] = {F_V6 | ZU_FLAG_CTRL_REP, ZU_DIGEST_SHORT, M_COPY, 0},
    [9] = {F_V9, ZU_DIGEST_SHORT, M_COPY, 0},
    [10] = {F_V9, ZU_DIGEST_SHORT, M_COPY, 1},
    [11] = {F_V9, ZU_DIGEST_SHORT, M_LZMA, 1},
    [12] = {F_V9, ZU_DIGEST_SHORT, M_LZMA, 1}, /* and ZU_EXE_K_EHCIE (lib/delta_bsdiff.c) */
    [13] = {F_V9, ZU_DIGEST_SHORT, M_LZMA, 1}, /* and ZU_EXE_K_GOFN */
    [14] = {F_V9, ZU_DIGEST_SHORT, M_LZMA, 1}, /* and ZU_EXE_K_EHLSDA, ZU_EXE_K_NEAR */
    [15] = {F_V9 | ZU_FLAG_CTRL_COLS, ZU_DIGEST_SHORT, M_LZMA, 1},
};

size_t
zupd_delta_digest_len(const struct zupd_delta_info *info)
{
    if (info == NULL || !info->has_hashes || info->version < 1 ||
        info->version > ZUPD_DELTA_VERSION)
        return 0;
    return versions[info->version].digest;
}

/* Parse a native header; *body is the offset of the method's body. */
int
zu_native_header(const uint8_t *patch, size_t patch_len, struct zupd_delta_info *info, size_t *body)
{
    const struct zu_version *v;
    size_t at = 8, dn;
    int rc;

    if (patch_len < 8 || memcmp(patch, ZUPD_DELTA_MAGIC, ZUPD_DELTA_MAGIC_LEN) != 0)
        return ZUPD_E_FORMAT;
    if (patch[4] < 1 || patch[4] > ZUPD_DELTA_VERSION)
        return ZUPD_E_SPEC;
    v = &versions[patch[4]];
    if (patch[5] >= 8 || (v->methods & (1u << patch[5])) == 0)
        return ZUPD_E_FORMAT;
    /* byte 6: stream codecs of the bsdiff method, 2 bits each (ctrl, diff,
     * extra; ZU_CODEC_*), the top two bits zero or, from version 10, which
     * streams are LZMA2 (zu_codecs), else zero; byte 7: the bsdiff
     * method's flags of this version, else zero */
    if (patch[5] == ZUPD_DELTA_BSDIFF) {
        int c[3];
        if (((patch[6] & 0xc0) != 0 && !v->lzma) || zu_codecs(patch[6], c) != 0 ||
            (patch[7] & ~v->flags) != 0)
            return ZUPD_E_FORMAT;
    } else if (patch[6] != 0 || patch[7] != 0) {
        return ZUPD_E_FORMAT;
    }
    dn = v->digest;
    rc = zu_get_varint(patch, patch_len, &at, &info->old_size);
    if (rc != ZUPD_OK)
        return rc;
    if (patch[5] == ZUPD_DELTA_COPY) {
        /* the copy method: old size and digest only, nothing after them */
        if (patch_len - at != dn)
            return ZUPD_E_FORMAT;
        info->new_size = info->old_size;
        memcpy(info->old_sha256, patch + at, dn);
        memcpy(info->new_sha256, patch + at, dn);
        at += dn;
    } else {
        rc = zu_get_varint(patch, patch_len, &at, &info->new_size);
        if (rc != ZUPD_OK)
            return rc;
        if (patch_len - at < 2 * dn)
            return ZUPD_E_FORMAT;
        memcpy(info->old_sha256, patch + at, dn);
        memcpy(info->new_sha256, patch + at + dn, dn);
        at += 2 * dn;
    }
    info->method = patch[5];
    info->version = patch[4];
    info->has_hashes = 1;
    *body = at;
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
    rc = zu_native_header(patch, patch_len, info, &body);
    if (rc != ZUPD_OK) {
        int keep = rc;
        memset(info, 0, sizeof(*info));
        return keep;
    }
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ output */

/* The output's design, struct outq and the inline zu_out_room() and
 * zu_out_commit() are in delta_apply_int.h. */
#define THREAD_MIN (4u << 20) /* old + new size from which the thread pays */
#define KEEP_ROOM (32u << 10) /* a flushed buffer with this much room left is filled on */

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
    q->verdict = rc == ZUPD_OK && memcmp(d, q->old_sha256, q->digest) == 0 ? V_OK : V_BAD;
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

/* The buffer after cur; the first one again when every piece but the one
 * just queued (in cur) is written and hashed: the ring then stays as deep
 * as the pipeline needs instead of going round all of it (the executable
 * stage's output goes out at once, the old file's hash known by then:
 * libvips touched the whole 16 MiB for 19 MB of output). */
static unsigned
ring_next(struct outq *q)
{
    int idle;

    if (q->cur == 0)
        return 1 % q->nring;
    pthread_mutex_lock(&q->mu);
    idle = q->sent + 1 >= q->produced && q->hashed + 1 >= q->produced;
    pthread_mutex_unlock(&q->mu);
    return idle ? 0 : (q->cur + 1) % q->nring;
}

/* The buffer goes out; the next one is made ready. */
int
zu_out_flush(struct outq *q)
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
    q->cur = ring_next(q);
    if (q->last[q->cur] != 0) {
        rc = out_wait(q, q->last[q->cur]); /* its last piece out and hashed */
        if (rc != ZUPD_OK)
            return rc;
    }
    q->buf = q->ring[q->cur];
    return ZUPD_OK;
}

/* A long piece that already lies in memory for good (unchanged bytes of
 * old, n <= OUT_CHUNK): what is gathered goes first, then the piece itself,
 * uncopied. */
int
zu_out_direct(struct outq *q, const uint8_t *p, size_t n)
{
    int rc = zu_out_flush(q);

    if (rc != ZUPD_OK)
        return rc;
    q->written += n;
    return out_piece(q, p, n);
}

/* The ring: one mapping, 2 MiB aligned and advised for huge pages (8 page
 * faults for the ring instead of 4096: turbo 20 ms less CPU); pages are
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
        q->digest = zupd_delta_digest_len(hdr);
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
        if (memcmp(d, hdr->old_sha256, zupd_delta_digest_len(hdr)) != 0)
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
        rc = zu_out_flush(q);
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

/* ------------------------------------------------------------------ apply */

/* Methods 2 and 5: new is the one stream of the body, zstd or LZMA2,
 * with old as its prefix (preset dictionary); it decodes to exactly
 * new_size bytes and ends with the body. */
static int
apply_pf(const uint8_t *old, size_t old_len, const uint8_t *body, size_t body_len, int method,
         uint64_t new_size, struct outq *q)
{
    struct rd r;
    int rc;

    if (method == ZUPD_DELTA_LZMA) {
        rc = zu_rd_init_lzma(&r, body, body_len, old, old_len);
    } else {
        rc = zu_rd_init_zstd(&r, body, body_len, old, old_len, new_size);
        if (rc == ZUPD_OK && body_len > 0 && ZSTD_getFrameContentSize(body, body_len) != new_size)
            rc = ZUPD_E_FORMAT;
    }
    while (rc == ZUPD_OK && q->written < new_size) { /* decoded straight into the output */
        uint8_t *dst;
        size_t room;
        rc = zu_out_room(q, &dst, &room);
        if (rc != ZUPD_OK)
            break;
        if (room > new_size - q->written)
            room = (size_t)(new_size - q->written);
        rc = zu_rd_read(&r, dst, room);
        if (rc == ZUPD_OK)
            zu_out_commit(q, room);
    }
    if (rc == ZUPD_OK)
        rc = zu_rd_finish(&r);
    zu_rd_release(&r);
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
    struct zu_xold xold = {NULL, 0, NULL}; /* the executable stage's old file */
    bool hashes;
    int rc;

    if (info != NULL)
        memset(info, 0, sizeof(*info));
    if ((old == NULL && old_len > 0) || (patch == NULL && patch_len > 0) || out == NULL ||
        out->write == NULL ||
        (flags & ~(unsigned)(ZUPD_DELTA_NO_HASHES | ZUPD_DELTA_LOW_MEMORY)) != 0)
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
    if (hdr.method == ZUPD_DELTA_COPY) {
        /* new == old: old goes out as it is */
        for (size_t at = 0; rc == ZUPD_OK && at < old_len; at += OUT_CHUNK)
            rc = zu_out_direct(&q, old + at, old_len - at < OUT_CHUNK ? old_len - at : OUT_CHUNK);
    } else if (hdr.method == ZUPD_DELTA_ZSTD || hdr.method == ZUPD_DELTA_LZMA) {
        size_t body = 0;
        struct zupd_delta_info h;
        rc = zu_native_header(patch, patch_len, &h, &body);
        if (rc == ZUPD_OK)
            rc = apply_pf(old, old_len, patch + body, patch_len - body, hdr.method, hdr.new_size,
                          &q);
    } else
        rc = zu_apply_bsdiff(old, old_len, patch, patch_len, hdr.method == ZUPD_DELTA_BSDIFF,
                             hdr.new_size, (flags & ZUPD_DELTA_LOW_MEMORY) != 0, &q, &xold);
    if (rc == ZUPD_OK && q.written != hdr.new_size)
        rc = ZUPD_E_FORMAT;
    rc = out_end(&q, rc);
    zu_xold_release(&xold); /* the output pieces are out */
    if (rc == ZUPD_OK && q.h != NULL) {
        uint8_t d[ZUPD_SHA256_LEN];
        size_t dn;
        rc = zupd_hash_final(q.h, d, sizeof(d), &dn);
        if (rc == ZUPD_OK && memcmp(d, hdr.new_sha256, zupd_delta_digest_len(&hdr)) != 0)
            rc = ZUPD_E_HASH;
    }
    out_release(&q);
    return rc;
}
