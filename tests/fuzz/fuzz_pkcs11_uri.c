/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_pkcs11_uri.c -- the RFC 7512 PKCS#11 URI parser (an operator's
 * argument, and a field of key reference files) on hostile input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/pkcs11.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char uri[ZP_P11_URI_MAX + 16], kept[ZP_P11_URI_MAX + 16], err[256];
    struct zp_p11_uri u;

    if (size >= sizeof(uri))
        return 0;
    memcpy(uri, data, size);
    uri[size] = '\0';
    if (zp_p11_uri_parse(uri, &u, err, sizeof(err)) == ZUPD_OK &&
        zp_p11_uri_strip_pin(uri, kept, sizeof(kept)) == ZUPD_OK) {
        struct zp_p11_uri v;
        /* what is kept parses again, without a PIN */
        if (zp_p11_uri_parse(kept, &v, err, sizeof(err)) != ZUPD_OK || v.pin_value != NULL)
            abort();
        zp_p11_uri_release(&v);
    }
    zp_p11_uri_release(&u);
    return 0;
}
