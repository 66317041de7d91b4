/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_manifest.c -- release manifest and channel pointer parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/manifest.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zupd_manifest *m = NULL;
    struct zupd_channel *c = NULL;
    char err[256];

    lim.max_json_bytes = 1u << 20;
    if (zupd_manifest_parse(data, size, &lim, &m, err, sizeof(err)) == ZUPD_OK) {
        for (size_t i = 0; i < m->n_files; i++)
            if (zupd_manifest_find(m, m->files[i].path) != &m->files[i] ||
                !zupd_path_is_safe(m->files[i].path, strlen(m->files[i].path)))
                abort();
        zupd_manifest_free(m);
    }
    if (zupd_channel_parse(data, size, &c) == ZUPD_OK)
        zupd_channel_free(c);
    return 0;
}
