/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_tlog_proof.c -- RFC 9162 proof verification (lib/tlog.c)
 * on hostile proofs: 8-byte index or old size, 8-byte size, then hashes
 * (old root, new root or leaf, root, proof). Never crashes, never accepts
 * a proof of more than ZU_TLOG_PROOF_MAX hashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zu/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t h[2][ZU_TLOG_HASH];
    uint8_t(*proof)[ZU_TLOG_HASH] = NULL;
    uint64_t x, y;
    size_t n;

    if (size < 16 + 2 * ZU_TLOG_HASH)
        return 0;
    x = be64(data);
    y = be64(data + 8);
    memcpy(h[0], data + 16, ZU_TLOG_HASH);
    memcpy(h[1], data + 16 + ZU_TLOG_HASH, ZU_TLOG_HASH);
    n = (size - 16 - 2 * ZU_TLOG_HASH) / ZU_TLOG_HASH;
    proof = malloc(n > 0 ? n * ZU_TLOG_HASH : 1);
    if (proof == NULL)
        return 0;
    if (n > 0)
        memcpy(proof, data + 16 + 2 * ZU_TLOG_HASH, n * ZU_TLOG_HASH);
    if (zu_tlog_verify_inclusion(x, y, h[0], (const uint8_t(*)[ZU_TLOG_HASH])proof, n, h[1]) ==
            ZUPD_OK &&
        (n > ZU_TLOG_PROOF_MAX || x >= y))
        abort();
    if (zu_tlog_verify_consistency(x, h[0], y, h[1], (const uint8_t(*)[ZU_TLOG_HASH])proof, n) ==
            ZUPD_OK &&
        (n > ZU_TLOG_PROOF_MAX || x > y))
        abort();
    free(proof);
    return 0;
}
