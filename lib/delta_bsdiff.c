/* SPDX-License-Identifier: Apache-2.0 */
/* lib/delta_bsdiff.c -- bsdiff-style apply: the control loop of the native bsdiff method and of
 * classic BSDIFF40, their integers, and the extra context. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <zupd/delta.h>

#include "delta_apply_int.h"
#include "zu/delta_exe.h"
#include "zu/delta_format.h"
#include "zu/internal.h"

/* ------------------------------------------------------------------ BSDIFF40 integers */

void
zu_offtout(uint8_t *p, int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    zu_put_le64(p, mag);
    if (v < 0)
        p[7] |= 0x80;
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

/* ------------------------------------------------------------------ extra context */

int
zu_ctx_add(struct zu_ctx *c, const uint8_t *old, struct zu_exe_win *xw, size_t olen, uint64_t op,
           uint64_t w)
{
    uint64_t lo = op > w ? op - w : 0, hi = op < olen && olen - op > w ? op + w : olen;
    size_t n;
    int rc;

    if (c->phi != 0 && lo < c->phi && lo >= c->plo)
        lo = c->phi; /* the part the last piece holds already */
    if (hi <= lo || c->len == ZU_CTX_MAX)
        return ZUPD_OK;
    n = hi - lo < ZU_CTX_MAX - c->len ? (size_t)(hi - lo) : ZU_CTX_MAX - c->len;
    /* capped at ZU_CTX_MAX, the format's bound on the context: n is
     * clipped to it above, so the cap is never what refuses */
    rc = ZU_GROW(&c->buf, &c->cap, c->len + n, ZU_CTX_MAX);
    if (rc != ZUPD_OK)
        return rc;
    if (xw == NULL)
        memcpy(c->buf + c->len, old + lo, n);
    for (size_t at = 0, k; xw != NULL && at < n; at += k) {
        const uint8_t *p;
        k = n - at;
        p = zu_exe_win_at(xw, lo + at, &k);
        memcpy(c->buf + c->len + at, p, k);
    }
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

/* ------------------------------------------------------------------ bsdiff-style */

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

struct bsd_job {
    const uint8_t *old;
    size_t old_len;
    uint64_t new_size;
    int native; /* native: varint control, adds strictly inside old; else BSDIFF40 */
    struct rd ctrl, diff, extra;
    uint64_t busy, idle;  /* control entries read that write bytes, that do not */
    int rep;              /* ZU_FLAG_CTRL_REP: seeks rep-coded (native only) */
    uint64_t *col;        /* ZU_FLAG_CTRL_COLS: a block's entries, 3 * ZU_CTRL_BLOCK; NULL: none */
    size_t col_n, col_at; /* the block's entries, the next one */
    struct zu_rep reps;   /* with rep: the alignments entries started at */
    struct zu_x86_copy *x86; /* ZU_FLAG_EXTRA_X86; NULL: none */
    struct zu_exe_win *xw;   /* the executable stage a piece at a time; NULL: old is whole */
};

/* With cols (ZU_FLAG_CTRL_COLS), the buffer of a block of entries. */
static int
col_alloc(struct bsd_job *j, int cols)
{
    j->col_n = j->col_at = 0;
    j->col = cols ? malloc(3 * ZU_CTRL_BLOCK * sizeof(*j->col)) : NULL;
    return cols && j->col == NULL ? ZUPD_E_NOMEM : ZUPD_OK;
}

static int
read_ctrl(struct bsd_job *j, uint64_t *add, uint64_t *copy, int64_t *seek)
{
    int rc;
    if (j->col != NULL) { /* the next entry of the block, the next block */
        if (j->col_at == j->col_n) {
            uint64_t m;
            rc = zu_rd_varint(&j->ctrl, &m);
            if (rc == ZUPD_OK && (m == 0 || m > ZU_CTRL_BLOCK))
                rc = ZUPD_E_FORMAT;
            for (size_t i = 0; rc == ZUPD_OK && i < 3 * m; i++)
                rc = zu_rd_varint(&j->ctrl, &j->col[(i / m) * ZU_CTRL_BLOCK + i % m]);
            if (rc != ZUPD_OK)
                return rc;
            j->col_n = (size_t)m;
            j->col_at = 0;
        }
        *add = j->col[j->col_at];
        *copy = j->col[ZU_CTRL_BLOCK + j->col_at];
        *seek = j->rep ? (int64_t)j->col[2 * ZU_CTRL_BLOCK + j->col_at]
                       : zu_unzigzag(j->col[2 * ZU_CTRL_BLOCK + j->col_at]);
        j->col_at++;
        return ZUPD_OK;
    }
    if (j->native) {
        uint64_t s;
        rc = zu_rd_varint(&j->ctrl, add);
        if (rc == ZUPD_OK)
            rc = zu_rd_varint(&j->ctrl, copy);
        if (rc == ZUPD_OK)
            rc = zu_rd_varint(&j->ctrl, &s);
        if (rc != ZUPD_OK)
            return rc;
        if (j->rep) { /* the selector stays in *seek's low bits: rep_seek */
            *seek = (int64_t)s;
            return ZUPD_OK;
        }
        *seek = zu_unzigzag(s);
        return ZUPD_OK;
    } else {
        uint8_t b[24];
        int64_t x, y;
        rc = zu_rd_read(&j->ctrl, b, sizeof(b));
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

/* The seek of a rep-coded entry (ZU_FLAG_CTRL_REP) from its third varint
 * v (in *seek), for an entry at newpos, oldpos of add and copy bytes
 * (already checked: within the new size, the add inside old); then the
 * entry's alignment goes into j->reps. Arithmetic that would overflow is
 * ZUPD_E_FORMAT. */
static int
rep_seek(struct bsd_job *j, uint64_t newpos, int64_t oldpos, uint64_t add, uint64_t copy,
         int64_t *seek)
{
    uint64_t v = (uint64_t)*seek, sel = v & 3;
    int64_t m = zu_unzigzag(v >> 2), al, to;

    if (sel > j->reps.n)
        return ZUPD_E_FORMAT;
    if (sel == 0) {
        *seek = m;
    } else if (__builtin_add_overflow(j->reps.a[sel - 1], m, &to) || /* the next alignment */
               __builtin_add_overflow(to, (int64_t)(newpos + add + copy), &to) ||
               __builtin_sub_overflow(to, oldpos + (int64_t)add, seek)) {
        return ZUPD_E_FORMAT;
    }
    if (__builtin_sub_overflow(oldpos, (int64_t)newpos, &al))
        return ZUPD_E_FORMAT;
    zu_rep_push(&j->reps, al);
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
    /* (native only) new sizes are under 2^63, a header varint: newpos +
     * add + copy fits; oldpos + add is at most the old size */
    if (j->rep && (rc = rep_seek(j, newpos, oldpos, *add, *copy, seek)) != ZUPD_OK)
        return rc;
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
            const uint8_t *src = j->old + oldpos;
            if (j->native && j->xw == NULL &&
                (j->diff.codec == ZU_CODEC_SPLIT || j->diff.codec == ZU_CODEC_ZRLE)) {
                rc = zu_rd_zeros(&j->diff, add > OUT_CHUNK ? OUT_CHUNK : (size_t)add, &k);
                if (rc != ZUPD_OK)
                    return rc;
                if (k >= ZERO_RUN_DIRECT) {
                    rc = zu_out_direct(q, j->old + oldpos, k);
                    if (rc != ZUPD_OK)
                        return rc;
                    zu_rd_skip(&j->diff, k);
                    oldpos += (int64_t)k;
                    newpos += k;
                    add -= k;
                    continue;
                }
            }
            rc = zu_out_room(q, &dst, &k);
            if (rc != ZUPD_OK)
                return rc;
            if (k > add)
                k = (size_t)add;
            if (j->xw != NULL) /* old transformed, k bytes or fewer (inside old: native) */
                src = zu_exe_win_at(j->xw, (uint64_t)oldpos, &k);
            if (j->native) { /* old + diff */
                rc = zu_rd_add(&j->diff, dst, src, k, &k);
            } else { /* old (zero outside) into dst, then += diff */
                old_bytes(dst, j->old, j->old_len, oldpos, k);
                rc = zu_rd_add(&j->diff, dst, dst, k, &k);
            }
            if (rc != ZUPD_OK)
                return rc;
            zu_out_commit(q, k);
            oldpos += (int64_t)k;
            newpos += k;
            add -= k;
        }
        if (copy > 0 && j->x86 != NULL) /* unfiltered as copied out */
            rc = zu_x86_copy(j->x86, &j->extra, q, newpos, copy);
        else
            rc = zu_out_from_rd(q, &j->extra, copy);
        if (rc != ZUPD_OK)
            return rc;
        newpos += copy;
        oldpos += seek;
    }
    if (j->native) {
        rc = j->col != NULL && j->col_at != j->col_n ? ZUPD_E_FORMAT : zu_rd_finish(&j->ctrl);
        if (rc == ZUPD_OK)
            rc = zu_rd_finish(&j->diff);
        if (rc == ZUPD_OK)
            rc = zu_rd_finish(&j->extra);
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
    k.rep = j->rep;
    rc = col_alloc(&k, j->col != NULL);
    if (rc == ZUPD_OK)
        rc = zu_rd_init(&k.ctrl, codec, src, len, NULL, 0, 0);
    while (rc == ZUPD_OK && newpos < k.new_size) {
        uint64_t add, copy;
        int64_t seek;
        rc = next_entry(&k, newpos, oldpos, &add, &copy, &seek);
        if (rc != ZUPD_OK)
            break;
        newpos += add + copy;
        oldpos += (int64_t)add;
        if (copy > 0)
            rc = zu_ctx_add(c, k.old, j->xw, k.old_len, (uint64_t)oldpos, w);
        oldpos += seek;
    }
    zu_rd_release(&k.ctrl);
    free(k.col);
    return rc;
}

/* Room for the transformed old file: one mapping, 2 MiB aligned and
 * advised for huge pages (libvips, 19 MB: about 10 page faults instead of
 * 4,600 on the copy). */
static int
xold_map(struct zu_xold *x, size_t len)
{
    const size_t align = 2u << 20;

    if (len > SIZE_MAX - align)
        return ZUPD_E_NOMEM;
    x->region_len = (len > 0 ? len : 1) + align;
    x->region =
        mmap(NULL, x->region_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (x->region == MAP_FAILED) {
        x->region = NULL;
        return ZUPD_E_NOMEM;
    }
    x->p = (uint8_t *)(((uintptr_t)x->region + align - 1) & ~(uintptr_t)(align - 1));
#ifdef MADV_HUGEPAGE
    if (len >= align)
        (void)madvise(x->p, len & ~(align - 1), MADV_HUGEPAGE);
#endif
    return ZUPD_OK;
}

void
zu_xold_release(struct zu_xold *x)
{
    if (x->region != NULL)
        munmap(x->region, x->region_len);
    memset(x, 0, sizeof(*x));
}

/* The executable stage (ZU_FLAG_EXE): old transformed into a new buffer
 * *out with the map of the add regions of the control stream src[0..len)
 * (a first pass, with bsd_run's checks) and the new file's segments nw;
 * where xw is set, into *xw instead, to transform a piece at a time
 * (biome 2.5.15 -> 2.6.2, old 67 MB: apply's peak 182 -> 122 MiB; old +
 * 64 MiB is 127.6). */
static int
exe_build(const struct bsd_job *j, int codec, const uint8_t *src, size_t len,
          const struct zu_elf *nw, struct zu_xold *out, struct zu_exe_win **xw)
{
    struct bsd_job k;
    struct zu_exe_map m = {0};
    struct zu_elf eo;
    uint64_t newpos = 0;
    int64_t oldpos = 0;
    int rc = zu_exe_parse(j->old, j->old_len, &eo);

    memset(&k, 0, sizeof(k));
    k.old = j->old;
    k.old_len = j->old_len;
    k.new_size = j->new_size;
    k.native = 1;
    k.rep = j->rep;
    if (rc == ZUPD_OK)
        rc = col_alloc(&k, j->col != NULL);
    if (rc == ZUPD_OK && eo.id != nw->id)
        rc = ZUPD_E_FORMAT; /* old of another format than the patch's */
    if (rc == ZUPD_OK)
        rc = zu_rd_init(&k.ctrl, codec, src, len, NULL, 0, 0);
    while (rc == ZUPD_OK && newpos < k.new_size) {
        uint64_t add, copy;
        int64_t seek;
        rc = next_entry(&k, newpos, oldpos, &add, &copy, &seek);
        if (rc == ZUPD_OK && add > 0)
            rc = zu_exe_map_add(&m, (uint64_t)oldpos, newpos, add);
        newpos += add + copy;
        oldpos += (int64_t)add + seek;
    }
    zu_rd_release(&k.ctrl);
    free(k.col);
    if (rc == ZUPD_OK && xw != NULL) {
        zu_exe_map_done(&m);
        rc = zu_exe_win_new(xw, j->old, j->old_len, &eo, nw, &m, nw->kinds);
        zu_exe_map_free(&m);
        return rc;
    }
    if (rc == ZUPD_OK)
        rc = xold_map(out, j->old_len);
    if (rc == ZUPD_OK) {
        zu_exe_map_done(&m);
        rc = zu_exe_transform(out->p, j->old, j->old_len, &eo, nw, &m, nw->kinds);
    }
    zu_exe_map_free(&m);
    return rc;
}

int
zu_apply_bsdiff(const uint8_t *old, size_t old_len, const uint8_t *patch, size_t patch_len,
                int native, uint64_t new_size, int low_mem, struct outq *q, struct zu_xold *xold)
{
    struct bsd_job j;
    struct zu_ctx ctx = {0};
    struct zu_elf nw; /* the executable stage: the new file's segments */
    struct zu_x86_copy x86 = {0};
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
        int c[3], extra_old; /* the three streams' codecs */
        rc = zu_native_header(patch, patch_len, &h, &at);
        if (rc == ZUPD_OK)
            (void)zu_codecs(patch[6], c); /* zu_native_header checked them */
        if (rc == ZUPD_OK)
            rc = zu_get_varint(patch, patch_len, &at, &c64);
        if (rc == ZUPD_OK)
            rc = zu_get_varint(patch, patch_len, &at, &d64);
        if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_EXTRA_CTX) != 0) {
            rc = zu_get_varint(patch, patch_len, &at, &w);
            /* the context is the zstd or LZMA2 extra stream's prefix */
            if (rc == ZUPD_OK &&
                (w == 0 || w > ZU_CTX_W_MAX || (c[2] != ZU_CODEC_ZSTD && c[2] != ZU_CODEC_LZMA)))
                rc = ZUPD_E_FORMAT;
        }
        if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_EXE) != 0) {
            rc = zu_exe_params_get(patch, patch_len, &at, &nw);
            if (rc == ZUPD_OK && nw.id == ZU_EXE_PE_X86_64 && patch[4] < ZU_EXE_PE_VERSION)
                rc = ZUPD_E_FORMAT;
            if (rc == ZUPD_OK && (nw.kinds & ZU_EXE_K_JTAB) != 0 && patch[4] < ZU_EXE_JTAB_VERSION)
                rc = ZUPD_E_FORMAT;
            if (rc == ZUPD_OK && (nw.kinds & ZU_EXE_K_EHCIE) != 0 &&
                patch[4] < ZU_EXE_EHCIE_VERSION)
                rc = ZUPD_E_FORMAT;
            if (rc == ZUPD_OK && (nw.kinds & ZU_EXE_K_GOFN) != 0 && patch[4] < ZU_EXE_GOFN_VERSION)
                rc = ZUPD_E_FORMAT;
            if (rc == ZUPD_OK && (nw.kinds & (ZU_EXE_K_EHLSDA | ZU_EXE_K_NEAR)) != 0 &&
                patch[4] < ZU_EXE_EHLSDA_VERSION)
                rc = ZUPD_E_FORMAT;
        }
        if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_EXTRA_X86) != 0) {
            rc = zu_x86_params_get(patch, patch_len, &at, new_size, &x86.x);
            j.x86 = &x86;
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
        j.rep = (patch[7] & ZU_FLAG_CTRL_REP) != 0;
        rc = col_alloc(&j, (patch[7] & ZU_FLAG_CTRL_COLS) != 0);
        if (rc != ZUPD_OK)
            goto out;
        /* the diff stream first: a long bzip2 one decodes on its thread
         * while the executable stage transforms old (lefthook-a: 14 ms of
         * bzip2 beside 16 of transform, instead of after it) */
        if ((patch[7] & ZU_FLAG_DIFF_SPLIT) != 0 && (patch[7] & ZU_FLAG_DIFF_ZRUN) != 0)
            rc = ZUPD_E_FORMAT; /* one or the other */
        else if ((patch[7] & ZU_FLAG_DIFF_SPLIT) != 0)
            rc = zu_rd_init_split(&j.diff, c[1], p + cl, dl);
        else if ((patch[7] & ZU_FLAG_DIFF_ZRUN) != 0)
            rc = zu_rd_init_zrun(&j.diff, c[1], p + cl, dl);
        else
            rc = zu_rd_init(&j.diff, c[1], p + cl, dl, NULL, 0, 0);
        /* no prefix: not with the context, and for zstd and LZMA2 only */
        if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_EXTRA_NOPFX) != 0 &&
            (w > 0 || (c[2] != ZU_CODEC_ZSTD && c[2] != ZU_CODEC_LZMA)))
            rc = ZUPD_E_FORMAT;
        /* a zstd or LZMA2 extra stream copies from its prefix: the
         * context, or old (transformed, with the stage) unless the patch
         * says none */
        extra_old = (c[2] == ZU_CODEC_ZSTD || c[2] == ZU_CODEC_LZMA) && w == 0 &&
                    (patch[7] & ZU_FLAG_EXTRA_NOPFX) == 0;
        if (rc == ZUPD_OK && (patch[7] & ZU_FLAG_EXE) != 0) {
            /* the streams apply to old transformed: whole, or a piece at
             * a time where the extra stream cannot copy from it */
            int win = (low_mem || old_len > ZU_EXE_WHOLE_MAX) && !extra_old;
            rc = exe_build(&j, c[0], p, cl, &nw, xold, win ? &j.xw : NULL);
            if (rc == ZUPD_OK && !win)
                old = j.old = xold->p;
        }
        if (rc == ZUPD_OK)
            rc = zu_rd_init(&j.ctrl, c[0], p, cl, NULL, 0, 0);
        if (rc == ZUPD_OK && w > 0)
            rc = ctx_build(&j, c[0], p, cl, w, &ctx);
        if (rc == ZUPD_OK && w > 0)
            rc = zu_rd_init(&j.extra, c[2], p + cl + dl, el, ctx.len > 0 ? ctx.buf : old, ctx.len,
                            new_size);
        else if (rc == ZUPD_OK)
            rc = zu_rd_init(&j.extra, c[2], p + cl + dl, el, extra_old ? old : NULL,
                            extra_old ? old_len : 0, new_size);
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
        rc = zu_rd_init_bz(&j.ctrl, p, cl);
        if (rc == ZUPD_OK)
            rc = zu_rd_init_bz(&j.diff, p + cl, dl);
        if (rc == ZUPD_OK)
            rc = zu_rd_init_bz(&j.extra, p + cl + dl, el);
    }
    if (rc != ZUPD_OK)
        goto out;
    rc = bsd_run(&j, q);
out:
    free(j.col);
    zu_rd_release(&j.ctrl);
    zu_rd_release(&j.diff);
    zu_rd_release(&j.extra);
    zu_ctx_free(&ctx);
    zu_exe_win_free(j.xw);
    free(x86.buf);
    return rc;
}
