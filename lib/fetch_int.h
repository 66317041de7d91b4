/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fetch_int.h -- helpers shared by the fetch modules. Never installed. */
#ifndef ZU_FETCH_INT_H
#define ZU_FETCH_INT_H

#include <zupd/fetch.h>

#include "zu/internal.h"

/* Copy an untrusted header value into dst[ZUPD_VALIDATOR_MAX], trimming
 * blanks; dst becomes "" when it is too long or holds a byte outside
 * 0x20..0x7e (no CR/LF may ever reach a request header). */
void zu_validator_set(char *dst, const char *src, size_t len);
/* True when v is "" or a value zu_validator_set() could have stored. */
bool zu_validator_ok(const char *v);

/* The start of the range a Content-Range value ("bytes START-END/TOTAL",
 * an untrusted header) names: false when it names none (at most 19 digits:
 * no overflow). */
bool zu_content_range_start(const char *v, uint64_t *start);

/* url without user info, query or fragment, for messages (never secrets). */
void zu_url_redact(char *dst, size_t dst_cap, const char *url);

#endif
