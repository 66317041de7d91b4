/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/delta_hook.c -- the one place publish asks the delta engine for a
 * patch. Until the engine (mirror/delta_create.c) is linked, there is no
 * delta and publish stores full blobs only. */
#include "config.h"

#include "repo.h"

int
zp_make_delta(const uint8_t *old, size_t old_len, const uint8_t *new_, size_t new_len,
              uint8_t **patch, size_t *patch_len, char *method, size_t method_cap)
{
    (void)old;
    (void)old_len;
    (void)new_;
    (void)new_len;
    *patch = NULL;
    *patch_len = 0;
    if (method_cap > 0)
        method[0] = '\0';
    return ZUPD_E_NOTFOUND;
}
