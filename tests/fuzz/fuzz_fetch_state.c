/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_fetch_state.c -- the client state file parser (untrusted
 * file on disk), the header-value filter and the Content-Range start of a
 * 206: no crash, and whatever parses formats back to something that parses
 * to the same value. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/fetch.h>

#include "fetch_int.h"
#include "zu/fetch_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zu_fetch_state st, back;
    char text[2048], v[ZUPD_VALIDATOR_MAX], shown[128];
    char *url;
    size_t n;

    if (zu_fetch_state_parse((const char *)data, size, &st) == ZUPD_OK) {
        if (zu_fetch_state_format(text, sizeof(text), &n, &st) != ZUPD_OK ||
            zu_fetch_state_parse(text, n, &back) != ZUPD_OK || memcmp(&st, &back, sizeof(st)) != 0)
            abort();
    }
    zu_validator_set(v, (const char *)data, size);
    if (!zu_validator_ok(v) || strchr(v, '\r') != NULL || strchr(v, '\n') != NULL)
        abort();
    url = malloc(size + 1);
    if (url != NULL) {
        uint64_t start, again;
        char cr[64];

        memcpy(url, data, size);
        url[size] = '\0';
        zu_url_redact(shown, sizeof(shown), url);
        /* a Content-Range start reads back from the header it would be in */
        if (zu_content_range_start(url, &start)) {
            snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/*", start, start);
            if (start >= UINT64_C(10000000000000000000) || !zu_content_range_start(cr, &again) ||
                again != start)
                abort();
        }
        free(url);
    }
    return 0;
}
