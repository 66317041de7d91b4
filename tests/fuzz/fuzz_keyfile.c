/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_keyfile.c -- the encrypted key file parser on hostile input. */
#include <stdint.h>
#include <stdlib.h>

#include "keys/signer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct zp_kdf_cost max = ZP_KDF_COST_MIN;
    struct zp_signer *s = NULL;

    if (zp_signer_decode_capped(data, size, "fuzz", &max, &s) == ZUPD_OK)
        zp_signer_free(s);
    return 0;
}
