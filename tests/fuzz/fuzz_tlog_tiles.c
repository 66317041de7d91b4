/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_tlog_tiles.c -- tiles and entry bundles (lib/tlog.c) from
 * a hostile server: the input is a tree size (2 bytes, up to 65535 leaves,
 * enough for two tile levels) and a root (32 bytes), then the answers to
 * the reads in order, each a 2-byte big-endian length and its bytes; a read
 * past the end is "not found". Over that: the whole-tree check, the
 * appender's right edge, and inclusion and consistency proofs, which must
 * verify only against the root the tiles give. Also the bundle parser on the
 * raw input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zu/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stream {
    const uint8_t *p;
    size_t left;
};

static int
s_read(void *opaque, const char *path, size_t max, uint8_t **data, size_t *len, char *err,
       size_t cap)
{
    struct stream *s = opaque;
    size_t n;

    (void)path;
    *data = NULL;
    *len = 0;
    if (s->left < 2)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "no more answers");
    n = (size_t)s->p[0] << 8 | s->p[1];
    s->p += 2;
    s->left -= 2;
    if (n > s->left)
        n = s->left;
    if (n > max)
        return ZUPD_E_TOOBIG;
    *data = malloc(n + 1);
    if (*data == NULL)
        return ZUPD_E_NOMEM;
    if (n > 0)
        memcpy(*data, s->p, n);
    *len = n;
    s->p += n;
    s->left -= n;
    return ZUPD_OK;
}

static int
s_write(void *opaque, const char *path, const uint8_t *data, size_t len, char *err, size_t cap)
{
    (void)opaque;
    (void)path;
    (void)data;
    (void)len;
    (void)err;
    (void)cap;
    return ZUPD_OK;
}

static int
count_entry(void *opaque, uint64_t index, const uint8_t *entry, size_t len)
{
    (void)index;
    (void)entry;
    if (len > ZU_TLOG_ENTRY_MAX)
        abort();
    ++*(size_t *)opaque;
    return ZUPD_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t proof[ZU_TLOG_PROOF_MAX][ZU_TLOG_HASH], root[ZU_TLOG_HASH], leaf[ZU_TLOG_HASH];
    struct zu_tlog_tiles *t = NULL;
    struct zu_tlog_appender *a = NULL;
    struct zu_tlog_writer wr = {NULL, s_write};
    struct stream s;
    struct zu_tlog_reader rd = {&s, s_read};
    uint64_t n, got_size;
    size_t entries = 0, len = 0;
    char err[256];
    int rc = ZUPD_OK;

    if (size > 0)
        rc = zu_tlog_bundle_parse(data + 1, size - 1, (unsigned)data[0] + 1, 0, count_entry,
                                   &entries);
    if (size < 2 + ZU_TLOG_HASH)
        return 0;
    n = (uint64_t)data[0] << 8 | data[1];
    memcpy(root, data + 2, ZU_TLOG_HASH);
    s = (struct stream){data + 2 + ZU_TLOG_HASH, size - 2 - ZU_TLOG_HASH};
    rc = zu_tlog_verify_tree(n, root, &rd, count_entry, &entries, err, sizeof(err));

    s = (struct stream){data + 2 + ZU_TLOG_HASH, size - 2 - ZU_TLOG_HASH};
    if (zu_tlog_appender_new(n, root, &rd, &wr, &a, err, sizeof(err)) == ZUPD_OK) {
        if (zu_tlog_append(a, data, size > 100 ? 100 : size, NULL, err, sizeof(err)) == ZUPD_OK)
            rc = zu_tlog_appender_finish(a, &got_size, leaf, err, sizeof(err));
        zu_tlog_appender_free(a);
    }

    s = (struct stream){data + 2 + ZU_TLOG_HASH, size - 2 - ZU_TLOG_HASH};
    if (n > 0 && zu_tlog_tiles_new(n, &rd, &t) == ZUPD_OK) {
        uint64_t i = (uint64_t)data[2] * 251 % n, m = (uint64_t)data[3] * 257 % (n + 1);
        if (zu_tlog_tree_hash(t, n, root, err, sizeof(err)) == ZUPD_OK &&
            zu_tlog_prove_inclusion(t, i, n, proof, &len, err, sizeof(err)) == ZUPD_OK) {
            /* a proof read from these tiles verifies against their root only
             * if the leaf hash is the tiles' own: check with a fresh leaf */
            memcpy(leaf, data + 4, ZU_TLOG_HASH - 2);
            rc = zu_tlog_verify_inclusion(i, n, leaf, proof, len, root);
        }
        if (zu_tlog_prove_consistency(t, m, n, proof, &len, err, sizeof(err)) == ZUPD_OK &&
            len > ZU_TLOG_PROOF_MAX)
            abort();
        zu_tlog_tiles_free(t);
    }
    (void)rc;
    return 0;
}
