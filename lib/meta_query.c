/* SPDX-License-Identifier: Apache-2.0 */
/* lib/meta_query.c -- accessors of the TUF metadata model, delegation path
 * matching (python-tuf semantics), succinct hash bins, threshold signature
 * verification. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <zupd/manifest.h>

#include "zu/json.h"
#include "zu/meta_names.h"
#include "meta_int.h"

enum zupd_meta_type
zupd_meta_type(const struct zupd_meta *m)
{
    return m->ix.type;
}

uint64_t
zupd_meta_version(const struct zupd_meta *m)
{
    return m->ix.version;
}

int64_t
zupd_meta_expires(const struct zupd_meta *m)
{
    return m->ix.expires;
}

bool
zupd_meta_is_expired(const struct zupd_meta *m, int64_t now)
{
    return now >= m->ix.expires;
}

const char *
zupd_meta_spec_version(const struct zupd_meta *m)
{
    return m->ix.spec_version;
}

bool
zupd_meta_consistent_snapshot(const struct zupd_meta *m)
{
    return m->ix.type == ZUPD_META_ROOT && m->ix.consistent_snapshot;
}

size_t
zupd_meta_signature_count(const struct zupd_meta *m)
{
    return json_array_size(m->sigs);
}

/* ------------------------------------------------------------------ roles, keys */

const struct zu_meta_key *
zu_meta_find_key(const struct zupd_meta *m, const char *keyid)
{
    size_t lo = 0, hi = m->ix.n_keys;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(keyid, m->ix.keys[mid].keyid);
        if (c == 0)
            return &m->ix.keys[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct zu_meta_role *
zu_meta_find_role(const struct zupd_meta *m, const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < m->ix.n_roles; i++)
        if (strcmp(m->ix.roles[i].name, name) == 0)
            return &m->ix.roles[i];
    if (m->ix.has_succinct && zu_succinct_is_bin(m->ix.name_prefix, m->ix.bit_length, name))
        return &m->ix.succinct;
    return NULL;
}

bool
zupd_meta_has_key(const struct zupd_meta *m, const char *keyid)
{
    return keyid != NULL && zu_meta_find_key(m, keyid) != NULL;
}

int
zupd_meta_key_json(const struct zupd_meta *m, const char *keyid, uint8_t **out, size_t *out_len)
{
    json_t *keys = NULL;

    *out = NULL;
    *out_len = 0;
    if (keyid == NULL || zu_meta_find_key(m, keyid) == NULL)
        return ZUPD_E_NOTFOUND;
    if (m->ix.type == ZUPD_META_ROOT)
        keys = json_object_get(m->signed_, "keys");
    else if (m->ix.type == ZUPD_META_TARGETS)
        keys = json_object_get(json_object_get(m->signed_, "delegations"), "keys");
    return zu_cjson_dump(json_object_get(keys, keyid), m->lim.max_json_bytes, out, out_len);
}

int
zupd_meta_role(const struct zupd_meta *m, const char *role, uint64_t *threshold, size_t *n_keyids)
{
    const struct zu_meta_role *r = zu_meta_find_role(m, role);

    if (threshold != NULL)
        *threshold = 0;
    if (n_keyids != NULL)
        *n_keyids = 0;
    if (r == NULL)
        return ZUPD_E_NOTFOUND;
    if (threshold != NULL)
        *threshold = r->threshold;
    if (n_keyids != NULL)
        *n_keyids = json_array_size(r->keyids);
    return ZUPD_OK;
}

const char *
zupd_meta_role_keyid(const struct zupd_meta *m, const char *role, size_t i)
{
    const struct zu_meta_role *r = zu_meta_find_role(m, role);

    if (r == NULL)
        return NULL;
    return json_string_value(json_array_get(r->keyids, i));
}

static bool
role_has_keyid(const struct zu_meta_role *r, const char *keyid)
{
    size_t i;
    json_t *e;

    json_array_foreach (r->keyids, i, e) {
        if (strcmp(json_string_value(e), keyid) == 0)
            return true;
    }
    return false;
}

int
zupd_meta_verify_role(const struct zupd_meta *delegator, const char *role,
                      const struct zupd_meta *sm, char *err, size_t err_cap)
{
    const struct zu_meta_role *r;
    const struct zu_key **counted = NULL;
    uint8_t *msg = NULL;
    size_t len = 0, i, good = 0;
    json_t *s;
    int rc;

    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    if (delegator == NULL || role == NULL || sm == NULL)
        return ZUPD_E_MISUSE;
    if (delegator->ix.type != ZUPD_META_ROOT && delegator->ix.type != ZUPD_META_TARGETS) {
        rc = ZUPD_E_ROLE;
        goto fail;
    }
    r = zu_meta_find_role(delegator, role);
    if (r == NULL) {
        rc = ZUPD_E_ROLE;
        if (err != NULL)
            snprintf(err, err_cap, "%s: not delegated by %s", role,
                     zupd_meta_type_name(delegator->ix.type));
        return rc;
    }
    /* a key trusted for one role never makes another type of document */
    if ((delegator->ix.type == ZUPD_META_ROOT &&
         strcmp(zupd_meta_type_name(sm->ix.type), role) != 0) ||
        (delegator->ix.type == ZUPD_META_TARGETS && sm->ix.type != ZUPD_META_TARGETS)) {
        if (err != NULL)
            snprintf(err, err_cap, "%s: document is %s metadata", role,
                     zupd_meta_type_name(sm->ix.type));
        return ZUPD_E_ROLE;
    }
    /* the parsed object re-encoded, never the bytes as received */
    rc = zu_cjson_dump(sm->signed_, sm->lim.max_json_bytes, &msg, &len);
    if (rc != ZUPD_OK)
        goto fail;
    /* keys already counted: one key listed under several key ids counts once */
    counted = calloc(json_array_size(sm->sigs) + 1, sizeof(*counted));
    if (counted == NULL) {
        rc = ZUPD_E_NOMEM;
        goto fail;
    }
    json_array_foreach (sm->sigs, i, s) {
        const char *keyid = json_string_value(json_object_get(s, "keyid"));
        const char *sig = json_string_value(json_object_get(s, "sig"));
        const struct zu_meta_key *k;
        bool dup = false;

        if (good >= r->threshold)
            break;
        if (keyid == NULL || sig == NULL || !role_has_keyid(r, keyid))
            continue;
        k = zu_meta_find_key(delegator, keyid);
        if (k == NULL || k->key == NULL)
            continue;
        /* key ids are unique in a parsed envelope, keys need not be */
        for (size_t j = 0; j < good && !dup; j++)
            dup = zu_key_equal(counted[j], k->key);
        if (!dup && zu_key_verify(k->key, msg, len, sig) == ZUPD_OK)
            counted[good++] = k->key;
    }
    free(counted);
    rc = good >= r->threshold ? ZUPD_OK : ZUPD_E_THRESHOLD;
    if (rc != ZUPD_OK && err != NULL)
        snprintf(err, err_cap, "%s: %zu of %llu required signatures", role, good,
                 (unsigned long long)r->threshold);
    free(msg);
    return rc;
fail:
    if (err != NULL)
        snprintf(err, err_cap, "%s: %s", role, zupd_strerror(rc));
    free(msg);
    return rc;
}

const char *
zu_meta_key_name(const struct zupd_meta *m, const char *keyid)
{
    const char *name;

    if (m == NULL || keyid == NULL)
        return NULL;
    name = json_string_value(json_object_get(json_object_get(m->signed_, ZU_KEY_NAMES), keyid));
    if (name == NULL || strlen(name) > ZU_KEY_NAME_MAX || !zupd_name_is_safe(name))
        return NULL;
    return name;
}

int
zu_meta_signers(const struct zupd_meta *delegator, const char *role, const struct zupd_meta *sm,
                char (*ids)[65], size_t cap, size_t *n)
{
    const struct zu_meta_role *r;
    const struct zu_key **counted = NULL;
    uint8_t *msg = NULL;
    size_t len = 0, i, good = 0;
    json_t *s;
    int rc;

    *n = 0;
    if (delegator == NULL || role == NULL || sm == NULL || (ids == NULL && cap > 0))
        return ZUPD_E_MISUSE;
    r = zu_meta_find_role(delegator, role);
    if (r == NULL)
        return ZUPD_E_ROLE;
    rc = zu_cjson_dump(sm->signed_, sm->lim.max_json_bytes, &msg, &len);
    if (rc != ZUPD_OK)
        return rc;
    counted = calloc(json_array_size(sm->sigs) + 1, sizeof(*counted));
    if (counted == NULL) {
        free(msg);
        return ZUPD_E_NOMEM;
    }
    /* as zupd_meta_verify_role, without stopping at the threshold */
    json_array_foreach (sm->sigs, i, s) {
        const char *keyid = json_string_value(json_object_get(s, "keyid"));
        const char *sig = json_string_value(json_object_get(s, "sig"));
        const struct zu_meta_key *k;
        bool dup = false;

        if (keyid == NULL || sig == NULL || !role_has_keyid(r, keyid))
            continue;
        k = zu_meta_find_key(delegator, keyid);
        if (k == NULL || k->key == NULL)
            continue;
        for (size_t j = 0; j < good && !dup; j++)
            dup = zu_key_equal(counted[j], k->key);
        if (dup || zu_key_verify(k->key, msg, len, sig) != ZUPD_OK)
            continue;
        if (good < cap)
            snprintf(ids[good], 65, "%s", keyid);
        counted[good++] = k->key;
    }
    *n = good < cap ? good : cap;
    free(counted);
    free(msg);
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ meta, targets */

int
zupd_meta_file(const struct zupd_meta *m, const char *name, struct zupd_meta_file *out)
{
    json_t *e;

    memset(out, 0, sizeof(*out));
    if (m->ix.meta == NULL || name == NULL)
        return ZUPD_E_NOTFOUND;
    e = json_object_get(m->ix.meta, name);
    if (e == NULL)
        return ZUPD_E_NOTFOUND;
    return zu_meta_file_decode(e, out);
}

size_t
zupd_meta_file_count(const struct zupd_meta *m)
{
    return json_object_size(m->ix.meta);
}

int
zupd_meta_file_foreach(const struct zupd_meta *m, zupd_meta_file_fn fn, void *opaque)
{
    const char *name;
    json_t *e;
    struct zupd_meta_file f;

    if (m->ix.meta == NULL)
        return 0;
    json_object_foreach (m->ix.meta, name, e) {
        int r;
        if (zu_meta_file_decode(e, &f) != ZUPD_OK)
            continue; /* validated at parse: never */
        r = fn(opaque, name, &f);
        if (r != 0)
            return r;
    }
    return 0;
}

int
zupd_meta_target(const struct zupd_meta *m, const char *path, struct zupd_target *out)
{
    json_t *e;

    memset(out, 0, sizeof(*out));
    if (m->ix.targets == NULL || path == NULL)
        return ZUPD_E_NOTFOUND;
    e = json_object_get(m->ix.targets, path);
    if (e == NULL)
        return ZUPD_E_NOTFOUND;
    return zu_meta_target_decode(e, out);
}

size_t
zupd_meta_target_count(const struct zupd_meta *m)
{
    return json_object_size(m->ix.targets);
}

int
zupd_meta_target_foreach(const struct zupd_meta *m, zupd_meta_target_fn fn, void *opaque)
{
    const char *path;
    json_t *e;
    struct zupd_target t;

    if (m->ix.targets == NULL)
        return 0;
    json_object_foreach (m->ix.targets, path, e) {
        int r;
        if (zu_meta_target_decode(e, &t) != ZUPD_OK)
            continue;
        r = fn(opaque, path, &t);
        if (r != 0)
            return r;
    }
    return 0;
}

int
zupd_meta_target_custom(const struct zupd_meta *m, const char *path, uint8_t **out, size_t *out_len)
{
    json_t *e, *c;

    *out = NULL;
    *out_len = 0;
    if (m->ix.targets == NULL || path == NULL)
        return ZUPD_E_NOTFOUND;
    e = json_object_get(m->ix.targets, path);
    c = json_object_get(e, "custom");
    if (c == NULL)
        return ZUPD_E_NOTFOUND;
    return zu_cjson_dump(c, m->lim.max_json_bytes, out, out_len);
}

/* ------------------------------------------------------------------ matching */

/* One code point of UTF-8 at s[0..n) (n > 0); invalid bytes count alone. */
static size_t
cp_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len;
    uint32_t c;

    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    if ((u[0] & 0xe0) == 0xc0) {
        len = 2, c = u[0] & 0x1fu;
    } else if ((u[0] & 0xf0) == 0xe0) {
        len = 3, c = u[0] & 0x0fu;
    } else if ((u[0] & 0xf8) == 0xf0) {
        len = 4, c = u[0] & 0x07u;
    } else {
        *cp = u[0];
        return 1;
    }
    if (len > n) {
        *cp = u[0];
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *cp = u[0];
            return 1;
        }
        c = (c << 6) | (u[i] & 0x3fu);
    }
    *cp = c;
    return len;
}

/* A bracket expression at pat[0] == '[' as Python's fnmatch.translate
 * reads it. Returns the length of the expression, 0 when there is no
 * closing ']' (then '[' is an ordinary character). *hit tells whether code
 * point c is in the set. */
static size_t
bracket(const char *pat, size_t n, uint32_t c, bool *hit)
{
    size_t i = 1, j, k;
    bool neg = false, in = false;

    j = i;
    if (j < n && pat[j] == '!')
        j++;
    if (j < n && pat[j] == ']')
        j++;
    while (j < n && pat[j] != ']')
        j++;
    if (j >= n)
        return 0;
    /* the set is pat[i..j), the expression pat[0..j] */
    if (i < j && pat[i] == '!') {
        neg = true;
        i++;
    }
    if (i == j) {
        /* "[]" can't happen (']' first is literal); "[!]" matches anything */
        *hit = neg;
        return j + 1;
    }
    k = i;
    while (k < j) {
        uint32_t lo, hi;
        size_t l1 = cp_next(pat + k, j - k, &lo), l2;

        /* a range lo-hi; a '-' first or last is literal */
        if (k + l1 + 1 < j && pat[k + l1] == '-') {
            l2 = cp_next(pat + k + l1 + 1, j - (k + l1 + 1), &hi);
            if (lo <= c && c <= hi)
                in = true; /* a reversed range is empty */
            k += l1 + 1 + l2;
        } else {
            if (lo == c)
                in = true;
            k += l1;
        }
    }
    *hit = neg ? !in : in;
    return j + 1;
}

bool
zu_fnmatch(const char *pat, size_t pn, const char *s, size_t sn)
{
    size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;

    /* iterative matching with one backtrack point: '*' matches any run */
    while (i < sn) {
        if (p < pn && pat[p] == '*') {
            while (p < pn && pat[p] == '*')
                p++;
            star_p = p;
            star_i = i;
            continue;
        }
        if (p < pn) {
            uint32_t c, pc;
            size_t cl = cp_next(s + i, sn - i, &c), bl;
            bool hit = false;

            if (pat[p] == '?') {
                p++;
                i += cl;
                continue;
            }
            if (pat[p] == '[' && (bl = bracket(pat + p, pn - p, c, &hit)) > 0) {
                if (hit) {
                    p += bl;
                    i += cl;
                    continue;
                }
            } else {
                size_t pl = cp_next(pat + p, pn - p, &pc);
                if (pc == c && pl == cl) {
                    p += pl;
                    i += cl;
                    continue;
                }
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        /* let the last '*' take one more code point */
        {
            uint32_t c;
            star_i += cp_next(s + star_i, sn - star_i, &c);
        }
        i = star_i;
        p = star_p;
    }
    while (p < pn && pat[p] == '*')
        p++;
    return p == pn;
}

bool
zu_meta_path_match(const char *pattern, const char *path)
{
    const char *p = pattern, *t = path;

    for (;;) {
        const char *pe = strchr(p, '/'), *te = strchr(t, '/');
        size_t pl = pe != NULL ? (size_t)(pe - p) : strlen(p);
        size_t tl = te != NULL ? (size_t)(te - t) : strlen(t);

        if ((pe == NULL) != (te == NULL))
            return false; /* not the same number of segments */
        if (!zu_fnmatch(p, pl, t, tl))
            return false;
        if (pe == NULL)
            return true;
        p = pe + 1;
        t = te + 1;
    }
}

/* libsodium for these short inputs: no EVP context or provider lookup,
 * which cost more than the hash itself */
static void
path_sha256(const char *path, uint8_t d[ZUPD_SHA256_LEN])
{
    crypto_hash_sha256(d, (const unsigned char *)path, strlen(path));
}

static void
path_sha256_hex(const char *path, char hex[2 * ZUPD_SHA256_LEN + 1])
{
    zu_sha256_hex(path, strlen(path), hex);
}

/* python-tuf: hexdigest().startswith(prefix) */
static bool
hex_has_prefix(const char *hex, const char *prefix)
{
    size_t n = strlen(prefix);

    return n <= 2 * ZUPD_SHA256_LEN && memcmp(hex, prefix, n) == 0;
}

bool
zu_meta_hash_prefix_match(const char *prefix, const char *path)
{
    char hex[2 * ZUPD_SHA256_LEN + 1];

    path_sha256_hex(path, hex);
    return hex_has_prefix(hex, prefix);
}

uint32_t
zu_succinct_bin_for(const char *path, unsigned bit_length)
{
    uint8_t d[ZUPD_SHA256_LEN];
    uint32_t v;

    zu_assert(bit_length >= 1 && bit_length <= 32);
    path_sha256(path, d);
    v = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    return bit_length == 32 ? v : v >> (32 - bit_length);
}

static unsigned
suffix_len(unsigned bit_length)
{
    return (bit_length + 3) / 4; /* hex digits of 2^bit_length - 1 */
}

int
zu_succinct_bin_name(const char *prefix, unsigned bit_length, uint32_t bin, char *buf, size_t cap)
{
    int n;

    if (bit_length < 1 || bit_length > 32 || (bit_length < 32 && bin >> bit_length != 0))
        return ZUPD_E_MISUSE;
    n = snprintf(buf, cap, "%s-%0*x", prefix, (int)suffix_len(bit_length), (unsigned)bin);
    if (n < 0 || (size_t)n >= cap)
        return ZUPD_E_TOOBIG;
    return ZUPD_OK;
}

bool
zu_succinct_is_bin(const char *prefix, unsigned bit_length, const char *name)
{
    size_t pl = strlen(prefix), sl = suffix_len(bit_length);
    uint64_t v = 0;

    if (strncmp(name, prefix, pl) != 0 || name[pl] != '-' || strlen(name + pl + 1) != sl)
        return false;
    for (const char *p = name + pl + 1; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9')
            v = v * 16 + (uint64_t)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            v = v * 16 + (uint64_t)(*p - 'a' + 10);
        else
            return false; /* python's int(x, 16) is laxer; bins are lower-case */
    }
    return v < (1ull << bit_length);
}

/* hex is the path's sha256, computed by the caller at most once per lookup */
static bool
role_matches(const struct zu_meta_role *r, const char *path, char *hex, bool *have_hex)
{
    size_t i;
    json_t *e;

    if (r->prefixes != NULL) {
        if (json_array_size(r->prefixes) == 0)
            return false;
        if (!*have_hex) {
            path_sha256_hex(path, hex);
            *have_hex = true;
        }
        json_array_foreach (r->prefixes, i, e) {
            if (hex_has_prefix(hex, json_string_value(e)))
                return true;
        }
        return false;
    }
    json_array_foreach (r->paths, i, e) {
        if (zu_meta_path_match(json_string_value(e), path))
            return true;
    }
    return false;
}

bool
zupd_meta_has_delegations(const struct zupd_meta *m)
{
    return m->ix.has_delegations;
}

size_t
zupd_meta_delegation_count(const struct zupd_meta *m)
{
    return m->ix.type == ZUPD_META_TARGETS ? m->ix.n_roles : 0;
}

const char *
zupd_meta_delegation_name(const struct zupd_meta *m, size_t i)
{
    if (m->ix.type != ZUPD_META_TARGETS || i >= m->ix.n_roles)
        return NULL;
    return m->ix.roles[i].name;
}

int
zupd_meta_child_next(const struct zupd_meta *m, const char *path, size_t *cursor,
                     struct zupd_meta_child *out)
{
    char hex[2 * ZUPD_SHA256_LEN + 1];
    bool have_hex = false;

    memset(out, 0, sizeof(*out));
    if (path == NULL || cursor == NULL)
        return ZUPD_E_MISUSE;
    if (m->ix.type != ZUPD_META_TARGETS)
        return ZUPD_E_NOTFOUND;
    if (m->ix.has_succinct) {
        if (*cursor > 0)
            return ZUPD_E_NOTFOUND;
        *cursor = 1;
        out->terminating = true;
        return zu_succinct_bin_name(m->ix.name_prefix, m->ix.bit_length,
                                    zu_succinct_bin_for(path, m->ix.bit_length), out->name,
                                    sizeof(out->name));
    }
    while (*cursor < m->ix.n_roles) {
        const struct zu_meta_role *r = &m->ix.roles[(*cursor)++];

        if (role_matches(r, path, hex, &have_hex)) {
            snprintf(out->name, sizeof(out->name), "%s", r->name); /* length checked at parse */
            out->terminating = r->terminating;
            return ZUPD_OK;
        }
    }
    return ZUPD_E_NOTFOUND;
}

int
zupd_meta_succinct(const struct zupd_meta *m, unsigned *bit_length, const char **name_prefix)
{
    *bit_length = 0;
    *name_prefix = NULL;
    if (!m->ix.has_succinct)
        return ZUPD_E_NOTFOUND;
    *bit_length = m->ix.bit_length;
    *name_prefix = m->ix.name_prefix;
    return ZUPD_OK;
}

int
zupd_meta_succinct_bin_name(const struct zupd_meta *m, uint32_t index, char *buf, size_t cap)
{
    if (!m->ix.has_succinct)
        return ZUPD_E_NOTFOUND;
    return zu_succinct_bin_name(m->ix.name_prefix, m->ix.bit_length, index, buf, cap);
}
