/* SPDX-License-Identifier: Apache-2.0 */
/* lib/json.c -- strict JSON loading through jansson and the canonical JSON
 * encoder (OLPC canonical JSON as securesystemslib and @tufjs/canonical-json
 * write it). */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "zu/json.h"
#include "abi.h"

/* jansson's iteration API takes non-const pointers but does not write */
static json_t *
unconst(const json_t *v)
{
    return (json_t *)(uintptr_t)v;
}

static void
set_err(char *err_text, size_t err_cap, const char *msg)
{
    if (err_text != NULL && err_cap > 0)
        snprintf(err_text, err_cap, "%s", msg);
}

/* Depth and type check of a loaded tree. jansson itself caps nesting at
 * 2048, so this recursion is bounded before it starts. */
static int
json_check(const json_t *v, size_t depth, size_t max_depth, const char **why)
{
    size_t i;
    const char *key;
    json_t *sub;

    switch (json_typeof(v)) {
    case JSON_REAL:
        *why = "non-integer number";
        return ZUPD_E_FORMAT;
    case JSON_OBJECT:
    case JSON_ARRAY:
        if (depth >= max_depth) {
            *why = "nesting too deep";
            return ZUPD_E_TOOBIG;
        }
        break;
    case JSON_STRING:
    case JSON_INTEGER:
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
        return ZUPD_OK;
    }
    if (json_is_array(v)) {
        json_array_foreach (v, i, sub) {
            int rc = json_check(sub, depth + 1, max_depth, why);
            if (rc != ZUPD_OK)
                return rc;
        }
    } else {
        json_object_foreach (unconst(v), key, sub) {
            int rc = json_check(sub, depth + 1, max_depth, why);
            if (rc != ZUPD_OK)
                return rc;
        }
    }
    return ZUPD_OK;
}

int
zu_json_load(const uint8_t *buf, size_t len, const struct zupd_limits *lim, json_t **out,
             char *err_text, size_t err_cap)
{
    json_error_t jerr;
    json_t *v = NULL;
    const char *why = NULL;
    int rc;

    *out = NULL;
    set_err(err_text, err_cap, "");
    if (buf == NULL && len > 0)
        return ZUPD_E_MISUSE;
    if (len > lim->max_json_bytes) {
        set_err(err_text, err_cap, "document too large");
        return ZUPD_E_TOOBIG;
    }
    /* jansson checks UTF-8, refuses \u0000 (no JSON_ALLOW_NUL), trailing
     * data and integers outside int64 */
    v = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        if (err_text != NULL && err_cap > 0)
            snprintf(err_text, err_cap, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return json_error_code(&jerr) == json_error_out_of_memory ? ZUPD_E_NOMEM : ZUPD_E_FORMAT;
    }
    rc = json_check(v, 0, lim->max_json_depth, &why);
    if (rc != ZUPD_OK) {
        set_err(err_text, err_cap, why);
        json_decref(v);
        return rc;
    }
    *out = v;
    return ZUPD_OK;
}

int
zu_json_load_next(const uint8_t *buf, size_t len, const struct zupd_limits *lim, size_t depth,
                  size_t *used, json_t **out, char *err_text, size_t err_cap)
{
    json_error_t jerr;
    json_t *v;
    const char *why = NULL;
    int rc;

    *out = NULL;
    *used = 0;
    set_err(err_text, err_cap, "");
    if (buf == NULL || len == 0) {
        set_err(err_text, err_cap, "unexpected end of document");
        return buf == NULL && len > 0 ? ZUPD_E_MISUSE : ZUPD_E_FORMAT;
    }
    v = json_loadb((const char *)buf, len,
                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);
    if (v == NULL) {
        if (err_text != NULL && err_cap > 0)
            snprintf(err_text, err_cap, "%s", jerr.text);
        return json_error_code(&jerr) == json_error_out_of_memory ? ZUPD_E_NOMEM : ZUPD_E_FORMAT;
    }
    if (jerr.position <= 0 || (size_t)jerr.position > len) {
        json_decref(v);
        set_err(err_text, err_cap, "parser position out of range");
        return ZUPD_E_FORMAT;
    }
    rc = json_check(v, depth, lim->max_json_depth, &why);
    if (rc != ZUPD_OK) {
        set_err(err_text, err_cap, why);
        json_decref(v);
        return rc;
    }
    *used = (size_t)jerr.position;
    *out = v;
    return ZUPD_OK;
}

static int
cjson_string(struct zu_buf *out, const char *s, size_t n)
{
    size_t i, run = 0;
    int rc;

    rc = zu_buf_add(out, "\"", 1);
    for (i = 0; rc == ZUPD_OK && i < n; i++) {
        if (s[i] != '"' && s[i] != '\\')
            continue;
        rc = zu_buf_add(out, s + run, i - run);
        if (rc == ZUPD_OK)
            rc = zu_buf_add(out, "\\", 1);
        run = i;
    }
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, s + run, n - run);
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, "\"", 1);
    return rc;
}

struct ckey {
    const char *k;
    size_t n;
    json_t *v;
};

/* code point order == byte order of UTF-8 */
static int
ckey_cmp(const void *a, const void *b)
{
    const struct ckey *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->k, y->k, n);

    if (c != 0)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

static int
cjson_value(const json_t *v, size_t depth, size_t max_depth, struct zu_buf *out)
{
    struct ckey *keys = NULL;
    size_t i, n;
    int rc = ZUPD_OK;

    switch (json_typeof(v)) {
    case JSON_NULL:
        return zu_buf_addstr(out, "null");
    case JSON_TRUE:
        return zu_buf_addstr(out, "true");
    case JSON_FALSE:
        return zu_buf_addstr(out, "false");
    case JSON_INTEGER:
        return zu_buf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return ZUPD_E_FORMAT;
    case JSON_STRING:
        return cjson_string(out, json_string_value(v), json_string_length(v));
    case JSON_ARRAY:
    case JSON_OBJECT:
        break;
    }
    if (depth >= max_depth)
        return ZUPD_E_TOOBIG;
    if (json_is_array(v)) {
        rc = zu_buf_add(out, "[", 1);
        for (i = 0; rc == ZUPD_OK && i < json_array_size(v); i++) {
            if (i > 0)
                rc = zu_buf_add(out, ",", 1);
            if (rc == ZUPD_OK)
                rc = cjson_value(json_array_get(v, i), depth + 1, max_depth, out);
        }
        if (rc == ZUPD_OK)
            rc = zu_buf_add(out, "]", 1);
        return rc;
    }
    n = json_object_size(v);
    if (n > 0) {
        void *it;
        keys = calloc(n, sizeof(*keys));
        if (keys == NULL)
            return ZUPD_E_NOMEM;
        i = 0;
        for (it = json_object_iter(unconst(v)); it != NULL && i < n;
             it = json_object_iter_next(unconst(v), it), i++) {
            keys[i].k = json_object_iter_key(it);
            keys[i].n = json_object_iter_key_len(it);
            keys[i].v = json_object_iter_value(it);
        }
        n = i;
        qsort(keys, n, sizeof(*keys), ckey_cmp);
    }
    rc = zu_buf_add(out, "{", 1);
    for (i = 0; rc == ZUPD_OK && i < n; i++) {
        if (i > 0)
            rc = zu_buf_add(out, ",", 1);
        if (rc == ZUPD_OK)
            rc = cjson_string(out, keys[i].k, keys[i].n);
        if (rc == ZUPD_OK)
            rc = zu_buf_add(out, ":", 1);
        if (rc == ZUPD_OK)
            rc = cjson_value(keys[i].v, depth + 1, max_depth, out);
    }
    if (rc == ZUPD_OK)
        rc = zu_buf_add(out, "}", 1);
    free(keys);
    return rc;
}

int
zu_cjson_encode(const json_t *v, size_t max_depth, struct zu_buf *out)
{
    if (v == NULL || out == NULL)
        return ZUPD_E_MISUSE;
    return cjson_value(v, 0, max_depth, out);
}

int
zu_cjson_dump(const json_t *v, size_t limit, uint8_t **out, size_t *out_len)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct zu_buf b;
    int rc;

    *out = NULL;
    *out_len = 0;
    zu_buf_init(&b, limit);
    rc = zu_cjson_encode(v, lim.max_json_depth, &b);
    if (rc == ZUPD_OK)
        rc = zu_buf_detach(&b, out, out_len);
    zu_buf_release(&b);
    return rc;
}

int
zupd_cjson_canonicalize(const uint8_t *buf, size_t len, const struct zupd_limits *caller_lim,
                        uint8_t **out, size_t *out_len)
{
    struct zupd_limits l;
    const struct zupd_limits *lim = &l;
    struct zu_buf b;
    json_t *v = NULL;
    int rc;

    if (out == NULL || out_len == NULL)
        return ZUPD_E_MISUSE;
    *out = NULL;
    *out_len = 0;
    if (zu_limits_get(&l, caller_lim) != ZUPD_OK)
        return ZUPD_E_MISUSE;
    zu_buf_init(&b, lim->max_json_bytes);
    rc = zu_json_load(buf, len, lim, &v, NULL, 0);
    if (rc != ZUPD_OK)
        goto out;
    rc = zu_cjson_encode(v, lim->max_json_depth, &b);
    if (rc != ZUPD_OK)
        goto out;
    rc = zu_buf_detach(&b, out, out_len);
out:
    zu_buf_release(&b);
    json_decref(v);
    return rc;
}

int
zu_json_get_str(const json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!json_is_string(v))
        return ZUPD_E_FORMAT;
    *out = json_string_value(v);
    return ZUPD_OK;
}

int
zu_json_get_u64(const json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);

    *out = 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return ZUPD_E_FORMAT;
    *out = (uint64_t)json_integer_value(v);
    return ZUPD_OK;
}

int
zu_json_get_obj(const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!json_is_object(v))
        return ZUPD_E_FORMAT;
    *out = v;
    return ZUPD_OK;
}

int
zu_json_get_arr(const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!json_is_array(v))
        return ZUPD_E_FORMAT;
    *out = v;
    return ZUPD_OK;
}

int
zu_json_get_bool(const json_t *obj, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);

    *out = false;
    if (!json_is_boolean(v))
        return ZUPD_E_FORMAT;
    *out = json_is_true(v);
    return ZUPD_OK;
}

bool
zu_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p != 0) {
        unsigned c = *p, n, i;
        uint32_t cp;

        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        }
        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false; /* also stops at the NUL */
            cp = (cp << 6) | (p[i] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}
