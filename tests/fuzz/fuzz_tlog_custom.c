/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_tlog_custom.c -- the log index a target's custom member
 * gives (lib/tlog_client.c, zu_tlog_custom_index) on hostile input: an index
 * is only ever returned below the largest tree size, and is 0 on refusal. */
#include <stdint.h>
#include <stdlib.h>

#include "zu/tlog_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t index = 1;
    int rc = zu_tlog_custom_index(data, size, &index);

    if (rc == ZUPD_OK && index >= ZU_TLOG_SIZE_MAX)
        abort();
    if (rc != ZUPD_OK && index != 0)
        abort();
    return 0;
}
