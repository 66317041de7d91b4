/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_note.c -- C2SP signed notes, cosignature/v1 lines and
 * signed checkpoints (lib/note.c) on hostile input: parse, verify against
 * the fixed log and witness keys, open as a checkpoint with a quorum; and
 * the first line as a vkey. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tlog_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct zu_note_key keys[3];
    static int ready;
    struct zu_tlog_trust trust;
    struct zu_checkpoint c;
    struct zu_note_key vk;
    struct zu_note *n = NULL;
    const uint8_t *nl;
    size_t cosigners = 0;
    bool ok[3];
    char err[256];
    int rc = ZUPD_OK;

    if (!ready) {
        fuzz_tlog_keys(keys, NULL);
        ready = 1;
    }
    if (zu_note_parse(data, size, &n) == ZUPD_OK) {
        if (n->text_len == 0 || n->text[n->text_len - 1] != '\n' || n->nsigs == 0 ||
            n->nsigs > ZU_NOTE_MAX_SIGS)
            abort();
        for (size_t i = 0; i < n->nsigs; i++)
            if (!zu_note_name_ok(n->sigs[i].name, strlen(n->sigs[i].name)) ||
                n->sigs[i].sig_len < 1)
                abort();
        rc = zu_note_verify(n, keys, 3, ok, NULL);
        zu_note_free(n);
    }
    trust = (struct zu_tlog_trust){.origin = FUZZ_LOG_ORIGIN,
                                   .log_key = keys[0],
                                   .witnesses = keys + 1,
                                   .nwitnesses = 2,
                                   .quorum = 1 + (size & 1)};
    if (zu_checkpoint_open(data, size, &trust, &c, &cosigners, err, sizeof(err)) == ZUPD_OK) {
        if (cosigners < trust.quorum || strcmp(c.origin, FUZZ_LOG_ORIGIN) != 0)
            abort();
        zu_checkpoint_release(&c);
    }
    /* a key rotation: the log's key listed second, after a key of the same
     * name that never signs; what opens must still meet the quorum */
    trust.more_log_keys[0] = trust.log_key;
    trust.nmore_log_keys = 1;
    trust.log_key.pub[0] ^= 1;
    trust.log_key.id = zu_note_key_id(trust.log_key.name, ZU_NOTE_ED25519, trust.log_key.pub);
    if (zu_checkpoint_open(data, size, &trust, &c, &cosigners, err, sizeof(err)) == ZUPD_OK) {
        if (cosigners < trust.quorum || strcmp(c.origin, FUZZ_LOG_ORIGIN) != 0)
            abort();
        zu_checkpoint_release(&c);
    }
    nl = memchr(data, '\n', size);
    if (zu_note_vkey_parse((const char *)data, nl ? (size_t)(nl - data) : size, &vk) == ZUPD_OK) {
        char back[ZU_NOTE_NAME_MAX + 64];
        if (zu_note_vkey_format(&vk, back, sizeof(back)) != ZUPD_OK)
            abort();
    }
    (void)rc;
    return 0;
}
