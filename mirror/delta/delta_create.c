/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/delta_create.c -- delta creation's entry points: options and levels; the
 * candidates are in candidates.c, the scan in scan.c, the writer in write.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zupd/hash.h>

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

/* ------------------------------------------------------------------ create */

/* new == old: the copy method, the header alone (magic, version, method,
 * two zero bytes, the old size, the first bytes of old's SHA-256): 19
 * bytes for a file of 16 KiB to 2 MiB, where a native patch of any other
 * method is 80 and more, and hdiffz's smallest 34. */
static int
copy_make(const uint8_t *old, size_t olen, uint8_t **patch, size_t *patch_len)
{
    uint8_t d[32], *p = malloc(8 + 10 + ZU_DIGEST_SHORT);
    size_t at = 8, dn;
    int rc;

    if (p == NULL)
        return ZUPD_E_NOMEM;
    memcpy(p, ZUPD_DELTA_MAGIC, ZUPD_DELTA_MAGIC_LEN);
    p[4] = ZP_VERSION;
    p[5] = ZUPD_DELTA_COPY;
    p[6] = p[7] = 0;
    at += zu_put_varint(p + at, olen);
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, old, olen, d, sizeof(d), &dn);
    if (rc != ZUPD_OK) {
        free(p);
        return rc;
    }
    memcpy(p + at, d, ZU_DIGEST_SHORT);
    *patch = p;
    *patch_len = at + ZU_DIGEST_SHORT;
    return ZUPD_OK;
}

int
zp_delta_method_parse(const char *name, int *method)
{
    static const struct {
        const char *name;
        int method;
    } names[] = {{"auto", ZP_DELTA_AUTO},
                 {"bsdiff", ZUPD_DELTA_BSDIFF},
                 {"zstd", ZUPD_DELTA_ZSTD},
                 {"bsdiff40", ZUPD_DELTA_BSDIFF40},
                 {"lzma", ZUPD_DELTA_LZMA}};

    for (size_t i = 0; i < ZU_ARRAY_LEN(names); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *method = names[i].method;
            return ZUPD_OK;
        }
    }
    return ZUPD_E_NOTFOUND;
}

int
zp_delta_create(const uint8_t *old, size_t old_len, const uint8_t *new_, size_t new_len,
                const struct zp_delta_opts *opts, uint8_t **patch, size_t *patch_len,
                struct zp_delta_report *rep)
{
    struct cand c;
    int level, rc = ZUPD_OK;

    if (patch == NULL || patch_len == NULL)
        return ZUPD_E_MISUSE;
    *patch = NULL;
    *patch_len = 0;
    if (rep != NULL)
        memset(rep, 0, sizeof(*rep));
    if ((old == NULL && old_len > 0) || (new_ == NULL && new_len > 0))
        return ZUPD_E_MISUSE;
    memset(&c, 0, sizeof(c));
    c.old = old;
    c.old_len = old_len;
    c.new_ = new_;
    c.new_len = new_len;
    c.rep = rep;
    c.method = opts != NULL ? opts->method : ZP_DELTA_AUTO;
    level = opts != NULL && opts->level != 0 ? opts->level : ZP_DELTA_LEVEL_DEFAULT;
    if (level < 1 || level > ZP_DELTA_LEVEL_MAX)
        return ZUPD_E_MISUSE;
    if (c.method != ZP_DELTA_AUTO && c.method != ZUPD_DELTA_BSDIFF && c.method != ZUPD_DELTA_ZSTD &&
        c.method != ZUPD_DELTA_BSDIFF40 && c.method != ZUPD_DELTA_LZMA)
        return ZUPD_E_MISUSE;
    if (c.method == ZUPD_DELTA_LZMA && opts->no_lzma)
        return ZUPD_E_MISUSE;
    c.want_bsd = c.method == ZP_DELTA_AUTO || c.method == ZUPD_DELTA_BSDIFF;
    c.want_b40 = c.method == ZP_DELTA_AUTO || c.method == ZUPD_DELTA_BSDIFF40;
    c.want_zstd = c.method == ZP_DELTA_AUTO || c.method == ZUPD_DELTA_ZSTD;
    c.want_lzma = c.method == ZP_DELTA_AUTO || c.method == ZUPD_DELTA_LZMA;
    c.pf_moved = 1; /* until a first plan says otherwise */
    if (c.method == ZP_DELTA_AUTO && old_len > (size_t)INT32_MAX - 1)
        c.want_bsd = c.want_b40 = 0;
    prof_of_level(level, &c.f);
    c.f.lzma = opts == NULL || !opts->no_lzma;
    if (c.method == ZP_DELTA_AUTO && old_len == new_len &&
        (old_len == 0 || memcmp(old, new_, old_len) == 0))
        return copy_make(old, old_len, patch, patch_len);

    if (c.want_bsd || c.want_b40)
        rc = zp_cand_bsdiff(&c);
    if (rc == ZUPD_OK && c.want_zstd)
        rc = zp_cand_zstd(&c);
    if (rc == ZUPD_OK && c.want_lzma) /* last: it is tried where the best so far is large */
        rc = zp_cand_lzma(&c);
#ifdef ZU_DELTA_TRACE
    if (rc == ZUPD_OK && c.best != NULL)
        fprintf(stderr, "delta: final %zu method %u version %u flags %u codecs %u\n", c.best_len,
                c.best_len > 7 ? c.best[5] : 0, c.best_len > 7 ? c.best[4] : 0,
                c.best_len > 7 ? c.best[7] : 0, c.best_len > 7 ? c.best[6] : 0);
#endif
    if (rc == ZUPD_OK) {
        *patch = c.best;
        *patch_len = c.best_len;
        c.best = NULL;
    }
    free(c.best);
    return rc;
}
