/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/delta_create.c -- delta creation: bsdiff-style on a suffix array,
 * zstd patch-from, classic BSDIFF40; auto keeps the smallest. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "delta/create.h"
#include "delta/create_int.h"
#include "zu/delta_format.h"
#include "zu/internal.h"

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
