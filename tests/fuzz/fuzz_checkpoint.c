/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_checkpoint.c -- the checkpoint text parser (lib/note.c) on
 * hostile input; what parses formats back to the same bytes (one encoding
 * per checkpoint: no leading zeros, canonical base64). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zu/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zu_checkpoint c;
    struct zu_buf b;

    if (zu_checkpoint_parse((const char *)data, size, &c) != ZUPD_OK)
        return 0;
    zu_buf_init(&b, 0);
    if (zu_checkpoint_format(&c, &b) != ZUPD_OK || b.len != size || memcmp(b.p, data, size) != 0)
        abort();
    zu_buf_release(&b);
    zu_checkpoint_release(&c);
    return 0;
}
