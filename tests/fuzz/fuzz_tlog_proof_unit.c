/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_tlog_proof_unit.c -- the log proof unit (lib/tlog_proof.c)
 * on hostile input: 32 bytes (the root of the endpoint's stored checkpoint,
 * of the unit's "old" size), then the unit. Parsed, written back (must give
 * the same bytes: one spelling), and checked offline against the fixed log
 * and witness keys (quorum 1) for the entry {"n":<index>,"type":"interop"}
 * (tests/interop/tlogtool seeds makes true units of that shape), without and
 * with the stored checkpoint. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tlog_keys.h"
#include "zu/tlog_proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct zu_note_key keys[3];
    static int ready;
    struct zu_tlog_trust trust;
    struct zu_checkpoint stored = {0}, cp = {0};
    struct zu_tlog_proof *p = NULL;
    struct zu_buf back;
    char entry[64], err[512];
    size_t elen;

    if (!ready) {
        fuzz_tlog_keys(keys, NULL);
        ready = 1;
    }
    if (size < ZU_TLOG_HASH ||
        zu_tlog_proof_parse(data + ZU_TLOG_HASH, size - ZU_TLOG_HASH, &p) != ZUPD_OK)
        return 0;
    zu_buf_init(&back, 0);
    if (zu_tlog_proof_format(p, &back) != ZUPD_OK || back.len != size - ZU_TLOG_HASH ||
        memcmp(back.p, data + ZU_TLOG_HASH, back.len) != 0)
        abort();
    zu_buf_release(&back);
    trust = (struct zu_tlog_trust){.origin = FUZZ_LOG_ORIGIN,
                                   .log_key = keys[0],
                                   .witnesses = keys + 1,
                                   .nwitnesses = 2,
                                   .quorum = 1};
    elen = (size_t)snprintf(entry, sizeof(entry), "{\"n\":%llu,\"type\":\"interop\"}",
                            (unsigned long long)p->index);
    if (zu_tlog_proof_verify(p, &trust, (const uint8_t *)entry, elen, NULL, NULL, &cp, NULL, err,
                             sizeof(err)) == ZUPD_OK) {
        if (p->index >= cp.size || strcmp(cp.origin, FUZZ_LOG_ORIGIN) != 0)
            abort();
        zu_checkpoint_release(&cp);
    }
    snprintf(stored.origin, sizeof(stored.origin), "%s", FUZZ_LOG_ORIGIN);
    stored.size = p->old;
    memcpy(stored.root, data, ZU_TLOG_HASH);
    if (zu_tlog_proof_verify(p, &trust, (const uint8_t *)entry, elen, "entry", &stored, &cp, NULL,
                             err, sizeof(err)) == ZUPD_OK) {
        if (cp.size < stored.size ||
            (cp.size == stored.size && memcmp(cp.root, stored.root, ZU_TLOG_HASH) != 0))
            abort();
        zu_checkpoint_release(&cp);
    }
    zu_tlog_proof_free(p);
    return 0;
}
