/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/json.h -- strict JSON loading and canonical JSON (OLPC, as used by TUF). */
#ifndef ZUPD_JSON_H
#define ZUPD_JSON_H

#include <zupd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Re-encode the JSON document buf[0..len) as canonical JSON, the form TUF
 * signs: object keys sorted by code point, no whitespace, only '"' and '\'
 * escaped in strings, other bytes (non-ASCII, control characters) written
 * raw, integers only (a number with a fraction or exponent is refused).
 * The input is loaded strictly (see zu_json_load in include/zu/json.h).
 * Ownership: on ZUPD_OK *out is a new NUL-terminated buffer of *out_len
 * bytes, release with free(); on error *out is NULL and *out_len 0.
 * Returns ZUPD_OK, ZUPD_E_FORMAT, ZUPD_E_TOOBIG or ZUPD_E_NOMEM. */
ZUPD_API ZUPD_NODISCARD int zupd_cjson_canonicalize(const uint8_t *buf, size_t len,
                                                    const struct zupd_limits *lim, uint8_t **out,
                                                    size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
