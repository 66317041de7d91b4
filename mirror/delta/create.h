/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta/create.h -- delta creation (publisher side only; apply is in zupd/delta.h). */
#ifndef ZP_DELTA_CREATE_H
#define ZP_DELTA_CREATE_H

#include <zupd/delta.h>

/* What to create. method 0 means auto: the methods that can win are tried
 * and the smallest patch is kept. level 0 is the default (19: fast enough
 * for every publish); 20..ZP_DELTA_LEVEL_MAX search exhaustively and
 * compress harder (the mirror's overnight setting). docs/delta-format.md
 * says what each level does. */
#define ZP_DELTA_AUTO 0
#define ZP_DELTA_LEVEL_DEFAULT 19
#define ZP_DELTA_LEVEL_MAX 22

struct zp_delta_opts {
    int method;  /* ZP_DELTA_AUTO or enum zupd_delta_method */
    int level;   /* 0 (default) or 1..ZP_DELTA_LEVEL_MAX */
    int no_lzma; /* 1: no LZMA2 streams, so no format version 10, nor the
                  * features of versions 11 to 15: the patch stays within
                  * version 9 (endpoints with an older libzupd read it;
                  * apply is faster) */
};

/* Sizes of the candidates auto tried (0: not tried or failed). */
struct zp_delta_report {
    size_t bsdiff;
    size_t zstd;
    size_t bsdiff40;
    size_t lzma;    /* patch-from in LZMA2 */
    size_t indexed; /* bytes of old suffix-sorted (less than old: block matching) */
};

/* Create a patch that turns old[0..old_len) into new_[0..new_len).
 * Ownership: on ZUPD_OK *patch is malloc'ed, the caller frees it; on error
 * *patch is NULL and *patch_len 0. rep may be NULL.
 * The bsdiff methods need old_len < 2 GiB (suffix array of 32-bit indexes);
 * auto then keeps to the zstd method. The publisher compares the result
 * with the full zstd blob and drops a delta that does not beat it.
 * Returns ZUPD_OK, ZUPD_E_MISUSE (bad options), ZUPD_E_TOOBIG or ZUPD_E_NOMEM. */
ZUPD_NODISCARD int zp_delta_create(const uint8_t *old, size_t old_len, const uint8_t *new_,
                                   size_t new_len, const struct zp_delta_opts *opts,
                                   uint8_t **patch, size_t *patch_len, struct zp_delta_report *rep);

/* The method named name ("auto", "bsdiff", "zstd", "bsdiff40", "lzma") into *method;
 * ZUPD_E_NOTFOUND for any other name. */
ZUPD_NODISCARD int zp_delta_method_parse(const char *name, int *method);

#endif
