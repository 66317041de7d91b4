/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_cjson.c -- strict loader + canonical encoder: no crash, and
 * the canonical form of any accepted input is a fixed point. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* canonical JSON writes control characters raw: no longer JSON */
static int
has_ctl(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20)
            return 1;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;

    lim.max_json_bytes = 1u << 20;
    if (zupd_cjson_canonicalize(data, size, &lim, &a, &alen) == ZUPD_OK && !has_ctl(a, alen)) {
        if (zupd_cjson_canonicalize(a, alen, &lim, &b, &blen) != ZUPD_OK || alen != blen ||
            memcmp(a, b, alen) != 0)
            abort();
    }
    free(a);
    free(b);
    return 0;
}
