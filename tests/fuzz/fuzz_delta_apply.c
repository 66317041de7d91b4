/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_delta_apply.c -- zupd_delta_apply on hostile patches (native
 * bsdiff and zstd methods, BSDIFF40). The input is a patch; the old file is a
 * fixed buffer, unless the input starts with "OLD:" + 2-byte length, in which
 * case that many following bytes are the old file (lets the fuzzer pass the
 * base hash check of native patches). Where the streams apply, they apply
 * again with ZUPD_DELTA_LOW_MEMORY (the executable stage's old file a
 * piece at a time): the same result, the same bytes out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/delta.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
    uint64_t n;
    uint64_t sum; /* FNV-1a of the bytes out */
};

static int
sink_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct count *c = opaque;
    volatile uint8_t x = 0;
    /* touch the bytes so ASan checks them */
    for (size_t i = 0; i < len; i += 4096)
        x ^= buf[i];
    if (len > 0)
        x ^= buf[len - 1];
    (void)x;
    for (size_t i = 0; i < len; i++)
        c->sum = (c->sum ^ buf[i]) * 0x100000001b3u;
    c->n += len;
    return c->n > (64u << 20) ? ZUPD_E_TOOBIG : ZUPD_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t fixed[64] = "0123456789abcdef0123456789abcdef0123456789abcdef012345678";
    const uint8_t *old = fixed;
    size_t old_len = sizeof(fixed);
    struct count c = {0};
    struct zupd_delta_sink sink = {&c, sink_write};
    struct zupd_delta_info info;
    uint8_t *copy;
    int rc;

    if (size >= 6 && memcmp(data, "OLD:", 4) == 0) {
        size_t n = (size_t)data[4] | ((size_t)data[5] << 8);
        if (n > size - 6)
            return 0;
        old = data + 6;
        old_len = n;
        data += 6 + n;
        size -= 6 + n;
    }
    /* exact-size copy so that reads past the end of the patch are caught */
    copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    rc = zupd_delta_apply(old, old_len, copy, size, 64u << 20, &sink, &info);
    if (rc == ZUPD_OK && c.n != info.new_size)
        abort(); /* success must mean the declared size was written */
    if (rc == ZUPD_E_BASE || rc == ZUPD_E_HASH) {
        /* the streams behind a wrong base hash, as zupd applies them */
        c.n = 0;
        c.sum = 0;
        rc = zupd_delta_apply_flags(old, old_len, copy, size, 64u << 20, ZUPD_DELTA_NO_HASHES,
                                    &sink, &info);
        if (rc == ZUPD_OK && c.n != info.new_size)
            abort();
    }
    if (rc == ZUPD_OK) {
        struct count w = {0};
        struct zupd_delta_sink ws = {&w, sink_write};
        int wrc = zupd_delta_apply_flags(old, old_len, copy, size, 64u << 20,
                                         ZUPD_DELTA_NO_HASHES | ZUPD_DELTA_LOW_MEMORY, &ws, NULL);
        if (wrc != ZUPD_OK || w.n != c.n || w.sum != c.sum)
            abort();
    }
    free(copy);
    return 0;
}
