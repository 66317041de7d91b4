/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_tlog_keys.h -- the fixed keys of the signed-note fuzz
 * targets; tests/interop/tlogtool.c (seeds) derives the same, so that the
 * corpus reaches the paths where signatures verify. */
#ifndef FUZZ_TLOG_KEYS_H
#define FUZZ_TLOG_KEYS_H

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "zu/note.h"

#define FUZZ_LOG_ORIGIN "fuzz.example/log"

/* The key named name of signature type type, from the seed BLAKE2b(tag);
 * sk may be NULL. */
static inline void
fuzz_tlog_key(const char *tag, const char *name, uint8_t type, struct zu_note_key *k,
              uint8_t *sk)
{
    uint8_t seed[32], pk[32], skbuf[64];

    if (sodium_init() < 0)
        abort();
    crypto_generichash(seed, sizeof(seed), (const uint8_t *)tag, strlen(tag), NULL, 0);
    crypto_sign_seed_keypair(pk, skbuf, seed);
    if (zu_note_key_init(k, name, type, pk) != ZUPD_OK)
        abort();
    if (sk != NULL)
        memcpy(sk, skbuf, sizeof(skbuf));
    sodium_memzero(skbuf, sizeof(skbuf));
}

/* keys[0] the log's, keys[1..2] two witnesses'. */
static inline void
fuzz_tlog_keys(struct zu_note_key keys[3], uint8_t sks[3][64])
{
    fuzz_tlog_key("fuzz log key", FUZZ_LOG_ORIGIN, ZU_NOTE_ED25519, &keys[0],
                  sks ? sks[0] : NULL);
    fuzz_tlog_key("fuzz witness 1", "w1.fuzz.example", ZU_NOTE_COSIG_V1, &keys[1],
                  sks ? sks[1] : NULL);
    fuzz_tlog_key("fuzz witness 2", "w2.fuzz.example", ZU_NOTE_COSIG_V1, &keys[2],
                  sks ? sks[2] : NULL);
}

#endif
