/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/publish_delta.c -- the one place publish asks the delta engine
 * (mirror/delta/, zp_delta_create) for a patch: every method is tried and the
 * smallest kept; publish then drops it unless it beats the full blob. */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>

#include "delta/create.h"
#include "repo/repo.h"

int
zp_make_delta(const uint8_t *old, size_t old_len, const uint8_t *new_, size_t new_len, int level,
              bool no_lzma, uint8_t **patch, size_t *patch_len, char *method, size_t method_cap)
{
    struct zp_delta_opts opts = {.method = ZP_DELTA_AUTO, .level = level, .no_lzma = no_lzma};
    struct zupd_delta_info info;
    int rc;

    *patch = NULL;
    *patch_len = 0;
    if (method_cap > 0)
        method[0] = '\0';
    if (old_len == 0 || new_len == 0)
        return ZUPD_E_NOTFOUND; /* nothing to patch from, or nothing to make */
    rc = zp_delta_create(old, old_len, new_, new_len, &opts, patch, patch_len, NULL);
    if (rc == ZUPD_E_TOOBIG)
        return ZUPD_E_NOTFOUND; /* beyond what the engine handles: full blob only */
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_delta_info(*patch, *patch_len, &info);
    if (rc == ZUPD_OK)
        rc = (size_t)snprintf(method, method_cap, "%s", zupd_delta_method_name(info.method)) <
                     method_cap
                 ? ZUPD_OK
                 : ZUPD_E_TOOBIG;
    if (rc != ZUPD_OK) {
        free(*patch);
        *patch = NULL;
        *patch_len = 0;
    }
    return rc;
}
