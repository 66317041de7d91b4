/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/json.h -- strict JSON loading (jansson) and the canonical JSON encoder. */
#ifndef ZU_JSON_H
#define ZU_JSON_H

#include <jansson.h>

#include <zupd/json.h>

#include "zu/internal.h"

/* Load one JSON document from buf[0..len) strictly: duplicate object keys
 * refused, the whole input must be one value (no trailing data), size capped
 * by lim->max_json_bytes and nesting by lim->max_json_depth, strings must be
 * valid UTF-8 without NUL. Numbers with a fraction or exponent ("reals") are
 * refused anywhere: TUF metadata has integers only and canonical JSON can not
 * encode reals. Integers outside int64 are refused.
 * Ownership: on ZUPD_OK *out is a new reference (json_decref); on error NULL.
 * If err_text is not NULL it receives a short reason (at most err_cap bytes).
 * Returns ZUPD_OK, ZUPD_E_FORMAT, ZUPD_E_TOOBIG or ZUPD_E_NOMEM. */
ZU_NODISCARD int zu_json_load(const uint8_t *buf, size_t len, const struct zupd_limits *lim,
                              json_t **out, char *err_text, size_t err_cap);

/* One JSON value at the start of buf[0..len) (leading blanks allowed), with
 * the checks of zu_json_load() as if it sat depth levels deep, and *used
 * the bytes it took: what follows is the caller's to read. For documents
 * read a member or an element at a time (lib/manifest.c), so that a big
 * array is never one tree. */
ZU_NODISCARD int zu_json_load_next(const uint8_t *buf, size_t len, const struct zupd_limits *lim,
                                   size_t depth, size_t *used, json_t **out, char *err_text,
                                   size_t err_cap);

/* Append the canonical JSON encoding of v to out. Refuses reals
 * (ZUPD_E_FORMAT) and nesting deeper than max_depth (ZUPD_E_TOOBIG); the
 * buffer's own cap gives ZUPD_E_TOOBIG. */
ZU_NODISCARD int zu_cjson_encode(const json_t *v, size_t max_depth, struct zu_buf *out);

/* Canonical JSON of v as a new NUL-terminated buffer (free()), capped at
 * limit bytes (0: no cap). On error *out is NULL. */
ZU_NODISCARD int zu_cjson_dump(const json_t *v, size_t limit, uint8_t **out, size_t *out_len);

/* Typed accessors for validation. Each returns ZUPD_E_FORMAT when the member
 * is missing or has the wrong type; the views are borrowed from obj. */
ZU_NODISCARD int zu_json_get_str(const json_t *obj, const char *key, const char **out);
ZU_NODISCARD int zu_json_get_u64(const json_t *obj, const char *key, uint64_t *out);
ZU_NODISCARD int zu_json_get_obj(const json_t *obj, const char *key, json_t **out);
ZU_NODISCARD int zu_json_get_arr(const json_t *obj, const char *key, json_t **out);
ZU_NODISCARD int zu_json_get_bool(const json_t *obj, const char *key, bool *out);

/* Whether the NUL-terminated s is valid UTF-8 (RFC 3629: shortest forms
 * only, no surrogates, nothing above U+10FFFF): what jansson accepts as a
 * string. Check what an operator gives before it goes into a document:
 * json_string() returns NULL for anything else, which reads as out of
 * memory or, unchecked, drops the member. */
bool zu_utf8_valid(const char *s);

#endif
