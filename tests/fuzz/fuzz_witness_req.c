/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_witness_req.c -- the tlog-witness's add-checkpoint on
 * hostile bodies (mirror/witness/witness.c): the request parser, then the
 * whole decision (signed note, checkpoint, the log's signature, sizes,
 * consistency proof, cosignature and durable state) of a witness of the
 * log FUZZ_LOG_ORIGIN whose state is reset before each input to a
 * checkpoint of size 2 (leaves "a" and "b"), so the corpus made by
 * tlogtool seeds reaches the 200, 409, 422 and 403 answers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zupd/hash.h>

#include "fuzz_tlog_keys.h"
#include "keys/notesign.h"
#include "witness/witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct zp_witness *w;
static struct zp_signer *signer;
static char dir[64], state[160];
static struct zu_buf stored; /* the state file of size 2 */

static void
cleanup(void)
{
    zp_witness_free(w);
    zp_signer_free(signer);
    unlink(state);
    rmdir(dir);
    zu_buf_release(&stored);
}

static void
init(void)
{
    struct zu_note_key keys[3];
    uint8_t sks[3][64], la[32], lb[32], h[32];
    struct zu_checkpoint c = {0};
    struct zu_buf text;
    char vkey[512], hex[65], err[256];
    const char *logs[1] = {vkey};
    struct zp_witness_opts o = {dir, "witness.fuzz.example", NULL, logs, 1, 1767225600};
    size_t hl = 0;

    fuzz_tlog_keys(keys, sks);
    snprintf(dir, sizeof(dir), "%s/fuzz_witness.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL || zp_signer_generate(&signer) != ZUPD_OK ||
        zu_note_vkey_format(&keys[0], vkey, sizeof(vkey)) != ZUPD_OK)
        abort();
    o.signer = signer;
    if (zp_witness_new(&o, &w, err, sizeof(err)) != ZUPD_OK)
        abort();
    zu_tlog_leaf_hash((const uint8_t *)"a", 1, la);
    zu_tlog_leaf_hash((const uint8_t *)"b", 1, lb);
    snprintf(c.origin, sizeof(c.origin), "%s", FUZZ_LOG_ORIGIN);
    c.size = 2;
    zu_tlog_node_hash(la, lb, c.root);
    zu_buf_init(&text, 0);
    zu_buf_init(&stored, 0);
    if (zu_checkpoint_format(&c, &text) != ZUPD_OK || zu_buf_add(&stored, text.p, text.len) ||
        zu_buf_add(&stored, "\n", 1) ||
        zp_note_sign(&stored, (const char *)text.p, text.len, &keys[0], sks[0], 0) != ZUPD_OK)
        abort();
    zu_buf_release(&text);
    if (zupd_hash_buf(ZUPD_HASH_SHA256, FUZZ_LOG_ORIGIN, strlen(FUZZ_LOG_ORIGIN), h, 32, &hl) !=
        ZUPD_OK)
        abort();
    zupd_hex_encode(hex, sizeof(hex), h, 32);
    snprintf(state, sizeof(state), "%s/%s", dir, hex);
    atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_wreq q;
    struct zp_wresp resp;
    FILE *f;

    if (w == NULL)
        init();
    if (zp_wreq_parse(data, size, &q) == ZUPD_OK &&
        (q.nproof > ZP_WITNESS_PROOF_MAX || q.note < data || q.note_len == 0 ||
         q.note + q.note_len != data + size))
        abort();
    /* the witness has cosigned size 2 */
    f = fopen(state, "wb");
    if (f == NULL || fwrite(stored.p, 1, stored.len, f) != stored.len || fclose(f) != 0)
        abort();
    zp_wresp_init(&resp);
    if (zp_witness_add(w, data, size, &resp, NULL, 0) != ZUPD_OK)
        abort();
    /* every answer is one of the specification's */
    switch (resp.status) {
    case 200:
    case 400:
    case 403:
    case 404:
    case 409:
    case 413:
    case 422:
        break;
    default:
        abort();
    }
    zp_wresp_release(&resp);
    return 0;
}
