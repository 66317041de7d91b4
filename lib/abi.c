/* SPDX-License-Identifier: Apache-2.0 */
/* lib/abi.c -- growable public structs: copy what the caller's version of a
 * struct holds, default the rest (the rule of Linux's copy_struct_from_user). */
#include "config.h"

#include <string.h>

#include "abi.h"

static size_t
size_of(const void *s)
{
    size_t n;

    memcpy(&n, s, sizeof(n));
    return n;
}

int
zu_struct_in(void *dst, size_t dst_size, const void *src, size_t min_size)
{
    size_t n;

    zu_assert(dst != NULL && src != NULL && min_size >= sizeof(size_t) && dst_size >= min_size);
    n = size_of(src);
    if (n < min_size)
        return ZUPD_E_MISUSE;
    for (size_t i = dst_size; i < n; i++)
        if (((const unsigned char *)src)[i] != 0)
            return ZUPD_E_MISUSE;
    memcpy(dst, src, n < dst_size ? n : dst_size);
    memcpy(dst, &dst_size, sizeof(dst_size));
    return ZUPD_OK;
}

int
zu_struct_out(void *dst, const void *src, size_t src_size, size_t min_size)
{
    size_t n;

    zu_assert(dst != NULL && src != NULL && min_size >= sizeof(size_t) && src_size >= min_size);
    n = size_of(dst);
    if (n < min_size)
        return ZUPD_E_MISUSE;
    if (n > src_size)
        memset((unsigned char *)dst + src_size, 0, n - src_size);
    memcpy((unsigned char *)dst + sizeof(size_t), (const unsigned char *)src + sizeof(size_t),
           (n < src_size ? n : src_size) - sizeof(size_t));
    return ZUPD_OK;
}

int
zu_limits_get(struct zupd_limits *dst, const struct zupd_limits *src)
{
    const struct zupd_limits dflt = ZUPD_LIMITS_DEFAULT;
    int rc;

    *dst = dflt;
    if (src == NULL)
        return ZUPD_OK;
    rc = zu_struct_in(dst, sizeof(*dst), src, ZU_SIZE_THROUGH(struct zupd_limits, max_paths));
    if (rc != ZUPD_OK) {
        *dst = dflt;
        return rc;
    }
    /* callers that built their limits before these fields existed */
    if (dst->max_roles == 0)
        dst->max_roles = dflt.max_roles;
    if (dst->max_entries == 0)
        dst->max_entries = dflt.max_entries;
    if (dst->max_paths == 0)
        dst->max_paths = dflt.max_paths;
    return ZUPD_OK;
}
