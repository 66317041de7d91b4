/* SPDX-License-Identifier: Apache-2.0 */
/* lib/meta.c -- parse and validate signed TUF 1.0 metadata (root, timestamp,
 * snapshot, targets with delegations) into the model of meta_int.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zu/json.h"
#include "abi.h"
#include "meta_int.h"

static const char *const top_roles[] = {"root", "snapshot", "targets", "timestamp"};

const char *
zupd_meta_type_name(enum zupd_meta_type t)
{
    switch (t) {
    case ZUPD_META_ROOT:
        return "root";
    case ZUPD_META_TIMESTAMP:
        return "timestamp";
    case ZUPD_META_SNAPSHOT:
        return "snapshot";
    case ZUPD_META_TARGETS:
        return "targets";
    case ZUPD_META_ANY:
        break;
    }
    return "unknown";
}

/* ------------------------------------------------------------------ time */

/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant) */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool
digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

int
zupd_time_parse(const char *s, size_t len, int64_t *out)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, sec, dim;

    *out = 0;
    if (s == NULL || len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return ZUPD_E_FORMAT;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return ZUPD_E_FORMAT;
    if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
        return ZUPD_E_FORMAT;
    dim = mdays[mo - 1];
    if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        dim = 29;
    if (d < 1 || d > dim)
        return ZUPD_E_FORMAT;
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec;
    return ZUPD_OK;
}

int
zupd_time_format(int64_t t, char *buf, size_t cap)
{
    int64_t days, z, era, y;
    unsigned doe, yoe, doy, mp, d, m, secs;

    /* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
    if (buf == NULL || cap < 21 || t < -62135596800LL || t > 253402300799LL)
        return ZUPD_E_MISUSE;
    days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    secs = (unsigned)(t - days * 86400);
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(buf, cap, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)y, m, d, secs / 3600, secs / 60 % 60,
             secs % 60);
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ pieces */

static int
strptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(((const struct zu_meta_key *)a)->keyid, ((const struct zu_meta_key *)b)->keyid);
}

/* An array of strings, at most max of them, optionally unique. */
static int
check_str_array(const json_t *a, size_t max, bool unique, const char *role, const char *field,
                char *err, size_t cap)
{
    const char **v = NULL;
    size_t i, n;
    json_t *e;
    int rc = ZUPD_OK;

    if (!json_is_array(a))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: '%s' must be a list of strings", role, field);
    n = json_array_size(a);
    if (n > max)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "%s: '%s' has %zu entries, more than %zu", role,
                       field, n, max);
    json_array_foreach (a, i, e) {
        if (!json_is_string(e))
            return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: '%s' must be a list of strings", role,
                           field);
    }
    if (!unique || n < 2)
        return ZUPD_OK;
    v = malloc(n * sizeof(*v));
    if (v == NULL)
        return ZUPD_E_NOMEM;
    json_array_foreach (a, i, e)
        v[i] = json_string_value(e);
    qsort(v, n, sizeof(*v), strptr_cmp);
    for (i = 1; i < n; i++)
        if (strcmp(v[i - 1], v[i]) == 0) {
            rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s: '%s' lists '%s' twice", role, field, v[i]);
            break;
        }
    free(v);
    return rc;
}

static int
check_threshold(const json_t *obj, const char *role, uint64_t *out, char *err, size_t cap)
{
    json_t *t = json_object_get(obj, "threshold");

    if (!json_is_integer(t) || json_integer_value(t) < 1)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'threshold' must be an integer >= 1", role);
    *out = (uint64_t)json_integer_value(t);
    return ZUPD_OK;
}

/* keyids + threshold, common to every kind of role */
static int
check_role_base(json_t *r, const char *role, const struct zupd_limits *lim,
                struct zu_meta_role *out, char *err, size_t cap)
{
    int rc;

    if (!json_is_object(r))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: a role must be an object", role);
    out->obj = r;
    out->keyids = json_object_get(r, "keyids");
    if (out->keyids == NULL)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: missing 'keyids'", role);
    rc = check_str_array(out->keyids, lim->max_keys, true, role, "keyids", err, cap);
    if (rc != ZUPD_OK)
        return rc;
    return check_threshold(r, role, &out->threshold, err, cap);
}

static bool
is_top_role(const char *name)
{
    for (size_t i = 0; i < ZU_ARRAY_LEN(top_roles); i++)
        if (strcmp(name, top_roles[i]) == 0)
            return true;
    return false;
}

static int
check_keys(json_t *keys, const char *role, const struct zupd_limits *lim, struct zu_meta_index *ix,
           char *err, size_t cap)
{
    const char *keyid;
    json_t *k;
    size_t n;
    int rc;

    if (!json_is_object(keys))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'keys' must be an object", role);
    n = json_object_size(keys);
    if (n > lim->max_keys)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "%s: %zu keys, more than %zu", role, n,
                       lim->max_keys);
    ix->keys = calloc(n > 0 ? n : 1, sizeof(*ix->keys));
    if (ix->keys == NULL)
        return ZUPD_E_NOMEM;
    json_object_foreach (keys, keyid, k) {
        const char *s;
        json_t *kv;
        struct zu_key *zk = NULL;

        if (!json_is_object(k) || zu_json_get_str(k, "keytype", &s) != ZUPD_OK ||
            zu_json_get_str(k, "scheme", &s) != ZUPD_OK ||
            zu_json_get_obj(k, "keyval", &kv) != ZUPD_OK)
            return zu_fail(err, cap, ZUPD_E_FORMAT,
                           "%s: key '%s' must have string 'keytype', 'scheme' and object 'keyval'",
                           role, keyid);
        rc = zu_key_from_json(k, &zk);
        if (rc == ZUPD_E_NOMEM)
            return rc;
        /* a supported type whose public key does not decode is kept as
         * unusable: like python-tuf, the document parses and that key
         * never verifies */
        ix->keys[ix->n_keys].keyid = keyid;
        ix->keys[ix->n_keys].key = rc == ZUPD_OK ? zk : NULL;
        ix->n_keys++;
    }
    qsort(ix->keys, ix->n_keys, sizeof(*ix->keys), key_cmp);
    return ZUPD_OK;
}

static int
check_hashes(const json_t *h, struct zupd_hashes *out)
{
    const char *alg;
    json_t *v;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(h) || json_object_size(h) == 0)
        return ZUPD_E_FORMAT;
    json_object_foreach ((json_t *)(uintptr_t)h, alg, v) {
        const char *hex;
        size_t n;
        uint8_t *dst = NULL;
        size_t dlen = 0;
        bool *flag = NULL;

        if (!json_is_string(v))
            return ZUPD_E_FORMAT;
        out->count++;
        if (strcmp(alg, "sha256") == 0) {
            dst = out->sha256, dlen = ZUPD_SHA256_LEN, flag = &out->has_sha256;
        } else if (strcmp(alg, "sha512") == 0) {
            dst = out->sha512, dlen = ZUPD_SHA512_LEN, flag = &out->has_sha512;
        } else {
            continue;
        }
        hex = json_string_value(v);
        n = json_string_length(v);
        *flag = true;
        /* python-tuf compares the lower-case hexdigest as a string */
        for (size_t i = 0; i < n; i++)
            if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
                out->malformed = true;
        if (out->malformed || n != 2 * dlen || zupd_hex_decode(dst, dlen, hex, n) != ZUPD_OK)
            out->malformed = true;
    }
    return ZUPD_OK;
}

static int
get_len(const json_t *o, const char *key, bool *has, uint64_t *out)
{
    json_t *v = json_object_get(o, key);

    *has = v != NULL;
    *out = 0;
    if (v == NULL)
        return ZUPD_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return ZUPD_E_FORMAT;
    *out = (uint64_t)json_integer_value(v);
    return ZUPD_OK;
}

int
zu_meta_file_decode(const json_t *o, struct zupd_meta_file *out)
{
    json_t *v, *h;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(o))
        return ZUPD_E_FORMAT;
    v = json_object_get(o, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return ZUPD_E_FORMAT;
    out->version = (uint64_t)json_integer_value(v);
    if (get_len(o, "length", &out->has_length, &out->length) != ZUPD_OK)
        return ZUPD_E_FORMAT;
    h = json_object_get(o, "hashes");
    out->has_hashes = h != NULL;
    if (h != NULL && check_hashes(h, &out->hashes) != ZUPD_OK)
        return ZUPD_E_FORMAT;
    return ZUPD_OK;
}

int
zu_meta_target_decode(const json_t *o, struct zupd_target *out)
{
    bool has;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(o))
        return ZUPD_E_FORMAT;
    if (get_len(o, "length", &has, &out->length) != ZUPD_OK || !has)
        return ZUPD_E_FORMAT;
    if (check_hashes(json_object_get(o, "hashes"), &out->hashes) != ZUPD_OK)
        return ZUPD_E_FORMAT;
    out->has_custom = json_object_get(o, "custom") != NULL;
    return ZUPD_OK;
}

static int
check_meta_dict(json_t *meta, const char *role, const struct zupd_limits *lim, char *err,
                size_t cap)
{
    const char *name;
    json_t *e;
    struct zupd_meta_file f;

    if (!json_is_object(meta))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'meta' must be an object", role);
    if (json_object_size(meta) > lim->max_entries)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "%s: 'meta' has more than %zu entries", role,
                       lim->max_entries);
    json_object_foreach (meta, name, e) {
        if (zu_meta_file_decode(e, &f) != ZUPD_OK)
            return zu_fail(err, cap, ZUPD_E_FORMAT,
                           "%s: meta '%s' needs an integer 'version' >= 1, an optional integer "
                           "'length' >= 0 and optional non-empty string 'hashes'",
                           role, name);
    }
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ per type */

static int
check_root(json_t *s, const struct zupd_limits *lim, struct zu_meta_index *ix, char *err,
           size_t cap)
{
    json_t *v, *roles, *r;
    const char *name;
    int rc;

    v = json_object_get(s, "consistent_snapshot");
    if (v != NULL) {
        if (!json_is_boolean(v))
            return zu_fail(err, cap, ZUPD_E_FORMAT,
                           "root: 'consistent_snapshot' must be a boolean");
        ix->consistent_snapshot = json_is_true(v);
    }
    v = json_object_get(s, "keys");
    if (v == NULL)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "root: missing 'keys'");
    rc = check_keys(v, "root", lim, ix, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    roles = json_object_get(s, "roles");
    if (!json_is_object(roles))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "root: 'roles' must be an object");
    if (json_object_size(roles) != ZU_ARRAY_LEN(top_roles))
        return zu_fail(err, cap, ZUPD_E_FORMAT,
                       "root: 'roles' must be exactly root, snapshot, targets and timestamp");
    ix->roles = calloc(ZU_ARRAY_LEN(top_roles), sizeof(*ix->roles));
    if (ix->roles == NULL)
        return ZUPD_E_NOMEM;
    for (size_t i = 0; i < ZU_ARRAY_LEN(top_roles); i++) {
        char where[64];

        name = top_roles[i];
        r = json_object_get(roles, name);
        if (r == NULL)
            return zu_fail(err, cap, ZUPD_E_FORMAT, "root: 'roles' has no '%s'", name);
        snprintf(where, sizeof(where), "root: role '%s'", name);
        rc = check_role_base(r, where, lim, &ix->roles[i], err, cap);
        if (rc != ZUPD_OK)
            return rc;
        ix->roles[i].name = name;
        ix->n_roles++;
    }
    return ZUPD_OK;
}

static int
check_delegated(json_t *r, size_t idx, const struct zupd_limits *lim, struct zu_meta_role *out,
                char *err, size_t cap)
{
    char where[ZUPD_ROLE_NAME_MAX + 64];
    json_t *name, *term;
    int rc;

    if (!json_is_object(r))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "targets: delegated role %zu must be an object",
                       idx);
    name = json_object_get(r, "name");
    if (!json_is_string(name) || json_string_length(name) == 0)
        return zu_fail(err, cap, ZUPD_E_FORMAT,
                       "targets: delegated role %zu needs a non-empty string 'name'", idx);
    if (json_string_length(name) >= ZUPD_ROLE_NAME_MAX)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "targets: delegated role %zu: name too long", idx);
    out->name = json_string_value(name);
    if (is_top_role(out->name))
        return zu_fail(err, cap, ZUPD_E_FORMAT,
                       "targets: a delegated role can not be named '%s' (a top-level role)",
                       out->name);
    snprintf(where, sizeof(where), "targets: delegated role '%s'", out->name);
    rc = check_role_base(r, where, lim, out, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    term = json_object_get(r, "terminating");
    if (!json_is_boolean(term))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'terminating' must be a boolean", where);
    out->terminating = json_is_true(term);
    out->paths = json_object_get(r, "paths");
    out->prefixes = json_object_get(r, "path_hash_prefixes");
    if ((out->paths == NULL) == (out->prefixes == NULL))
        return zu_fail(err, cap, ZUPD_E_FORMAT,
                       "%s: exactly one of 'paths' and 'path_hash_prefixes' must be set", where);
    if (out->paths != NULL)
        return check_str_array(out->paths, lim->max_paths, false, where, "paths", err, cap);
    return check_str_array(out->prefixes, lim->max_paths, false, where, "path_hash_prefixes", err,
                           cap);
}

static int
check_succinct(json_t *sr, const struct zupd_limits *lim, struct zu_meta_index *ix, char *err,
               size_t cap)
{
    const char *where = "targets: 'succinct_roles'";
    json_t *bl, *np;
    int rc;

    rc = check_role_base(sr, where, lim, &ix->succinct, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    ix->succinct.terminating = true; /* TAP 15: every bin terminates */
    bl = json_object_get(sr, "bit_length");
    if (!json_is_integer(bl) || json_integer_value(bl) < 1 || json_integer_value(bl) > 32)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'bit_length' must be an integer 1..32", where);
    np = json_object_get(sr, "name_prefix");
    if (!json_is_string(np))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'name_prefix' must be a string", where);
    /* prefix, '-', at most 8 hex digits, NUL */
    if (json_string_length(np) + 10 > ZUPD_ROLE_NAME_MAX)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "%s: 'name_prefix' too long", where);
    ix->bit_length = (unsigned)json_integer_value(bl);
    ix->name_prefix = json_string_value(np);
    ix->has_succinct = true;
    return ZUPD_OK;
}

static int
check_delegations(json_t *d, const struct zupd_limits *lim, struct zu_meta_index *ix, char *err,
                  size_t cap)
{
    json_t *keys, *roles, *sr, *r;
    const char **names = NULL;
    size_t i, n;
    int rc;

    if (!json_is_object(d))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "targets: 'delegations' must be an object");
    ix->has_delegations = true;
    keys = json_object_get(d, "keys");
    if (keys == NULL)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "targets: 'delegations' has no 'keys'");
    rc = check_keys(keys, "targets: delegations", lim, ix, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    roles = json_object_get(d, "roles");
    sr = json_object_get(d, "succinct_roles");
    if ((roles == NULL) == (sr == NULL))
        return zu_fail(err, cap, ZUPD_E_FORMAT,
                       "targets: exactly one of 'roles' and 'succinct_roles' must be set");
    if (sr != NULL)
        return check_succinct(sr, lim, ix, err, cap);
    if (!json_is_array(roles))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "targets: delegations 'roles' must be a list");
    n = json_array_size(roles);
    if (n > lim->max_roles)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "targets: %zu delegated roles, more than %zu", n,
                       lim->max_roles);
    ix->roles = calloc(n > 0 ? n : 1, sizeof(*ix->roles));
    names = calloc(n > 0 ? n : 1, sizeof(*names));
    if (ix->roles == NULL || names == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    json_array_foreach (roles, i, r) {
        rc = check_delegated(r, i, lim, &ix->roles[i], err, cap);
        if (rc != ZUPD_OK)
            goto out;
        ix->n_roles++;
        names[i] = ix->roles[i].name;
    }
    qsort(names, n, sizeof(*names), strptr_cmp);
    for (i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            rc = zu_fail(err, cap, ZUPD_E_FORMAT, "targets: delegated role '%s' listed twice",
                         names[i]);
            goto out;
        }
    rc = ZUPD_OK;
out:
    free(names);
    return rc;
}

static int
check_targets(json_t *s, const struct zupd_limits *lim, struct zu_meta_index *ix, char *err,
              size_t cap)
{
    json_t *t, *d;
    const char *path;
    struct zupd_target info;

    t = json_object_get(s, "targets");
    if (!json_is_object(t))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "targets: 'targets' must be an object");
    if (json_object_size(t) > lim->max_entries)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "targets: more than %zu targets", lim->max_entries);
    json_object_foreach (t, path, d) {
        if (zu_meta_target_decode(d, &info) != ZUPD_OK)
            return zu_fail(err, cap, ZUPD_E_FORMAT,
                           "targets: target '%s' needs an integer 'length' >= 0 and non-empty "
                           "string 'hashes'",
                           path);
    }
    ix->targets = t;
    d = json_object_get(s, "delegations");
    if (d == NULL)
        return ZUPD_OK;
    return check_delegations(d, lim, ix, err, cap);
}

/* spec_version "X.Y" or "X.Y.Z" of digits, major 1 (python-tuf) */
static int
check_spec(const char *sv, char *err, size_t cap)
{
    size_t parts = 1, run = 0;
    const char *p;

    for (p = sv; *p != '\0'; p++) {
        if (*p == '.') {
            if (run == 0)
                break;
            parts++;
            run = 0;
        } else if (*p >= '0' && *p <= '9') {
            run++;
        } else {
            break;
        }
    }
    if (*p != '\0' || run == 0 || parts < 2 || parts > 3)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'spec_version' '%s' is not X.Y or X.Y.Z", sv);
    if (strncmp(sv, "1.", 2) != 0)
        return zu_fail(err, cap, ZUPD_E_SPEC, "unsupported spec_version '%s' (need 1.x)", sv);
    return ZUPD_OK;
}

void
zu_meta_index_release(struct zu_meta_index *ix)
{
    for (size_t i = 0; i < ix->n_keys; i++)
        zu_key_free(ix->keys[i].key);
    free(ix->keys);
    free(ix->roles);
    memset(ix, 0, sizeof(*ix));
}

int
zu_meta_index_build(json_t *s, const struct zupd_limits *lim, struct zu_meta_index *ix, char *err,
                    size_t cap)
{
    const char *type;
    json_t *v;
    int rc;

    memset(ix, 0, sizeof(*ix));
    if (!json_is_object(s))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'signed' must be an object");
    if (zu_json_get_str(s, "_type", &type) != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'signed' has no string '_type'");
    for (int t = ZUPD_META_ROOT; t <= ZUPD_META_TARGETS; t++)
        if (strcmp(type, zupd_meta_type_name((enum zupd_meta_type)t)) == 0)
            ix->type = (enum zupd_meta_type)t;
    if (ix->type == ZUPD_META_ANY)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "unknown metadata type '%s'", type);
    type = zupd_meta_type_name(ix->type);
    if (zu_json_get_str(s, "spec_version", &ix->spec_version) != ZUPD_OK) {
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'spec_version' must be a string", type);
        goto out;
    }
    rc = check_spec(ix->spec_version, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    v = json_object_get(s, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'version' must be an integer >= 1", type);
        goto out;
    }
    ix->version = (uint64_t)json_integer_value(v);
    v = json_object_get(s, "expires");
    if (!json_is_string(v) ||
        zupd_time_parse(json_string_value(v), json_string_length(v), &ix->expires) != ZUPD_OK) {
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'expires' must be a time YYYY-MM-DDTHH:MM:SSZ",
                     type);
        goto out;
    }
    switch (ix->type) {
    case ZUPD_META_ROOT:
        rc = check_root(s, lim, ix, err, cap);
        break;
    case ZUPD_META_TIMESTAMP:
        ix->meta = json_object_get(s, "meta");
        rc = check_meta_dict(ix->meta, type, lim, err, cap);
        if (rc == ZUPD_OK && json_object_get(ix->meta, "snapshot.json") == NULL)
            rc = zu_fail(err, cap, ZUPD_E_FORMAT, "timestamp: 'meta' has no 'snapshot.json'");
        break;
    case ZUPD_META_SNAPSHOT:
        ix->meta = json_object_get(s, "meta");
        rc = check_meta_dict(ix->meta, type, lim, err, cap);
        break;
    case ZUPD_META_TARGETS:
        rc = check_targets(s, lim, ix, err, cap);
        break;
    case ZUPD_META_ANY:
        rc = ZUPD_E_FORMAT;
        break;
    }
out:
    if (rc != ZUPD_OK)
        zu_meta_index_release(ix);
    return rc;
}

int
zu_meta_reindex(struct zupd_meta *m)
{
    struct zu_meta_index ix;
    int rc;

    rc = zu_meta_index_build(m->signed_, &m->lim, &ix, NULL, 0);
    if (rc != ZUPD_OK)
        return rc;
    zu_meta_index_release(&m->ix);
    m->ix = ix;
    return ZUPD_OK;
}

/* ------------------------------------------------------------------ envelope */

static int
check_signatures(json_t *sigs, const struct zupd_limits *lim, const char *type, char *err,
                 size_t cap)
{
    const char **ids = NULL;
    size_t i, n;
    json_t *s;
    int rc = ZUPD_OK;

    if (!json_is_array(sigs))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s: 'signatures' must be a list", type);
    n = json_array_size(sigs);
    if (n > lim->max_signatures)
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "%s: %zu signatures, more than %zu", type, n,
                       lim->max_signatures);
    ids = calloc(n > 0 ? n : 1, sizeof(*ids));
    if (ids == NULL)
        return ZUPD_E_NOMEM;
    json_array_foreach (sigs, i, s) {
        const char *sig;

        if (!json_is_object(s) || zu_json_get_str(s, "keyid", &ids[i]) != ZUPD_OK ||
            zu_json_get_str(s, "sig", &sig) != ZUPD_OK) {
            rc = zu_fail(err, cap, ZUPD_E_FORMAT,
                         "%s: signature %zu needs string 'keyid' and 'sig'", type, i);
            goto out;
        }
    }
    /* python-tuf refuses metadata with several signatures by one key id */
    qsort(ids, n, sizeof(*ids), strptr_cmp);
    for (i = 1; i < n; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s: several signatures by key id '%s'", type,
                         ids[i]);
            goto out;
        }
out:
    free(ids);
    return rc;
}

int
zu_meta_from_json(json_t *doc, const struct zupd_limits *lim, enum zupd_meta_type expect,
                  struct zupd_meta **out, char *err, size_t cap)
{
    struct zupd_meta *m = NULL;
    int rc;

    *out = NULL;
    if (!json_is_object(doc)) {
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "metadata must be an object");
        goto out;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    m->doc = doc;
    doc = NULL;
    rc = zu_limits_get(&m->lim, lim);
    if (rc != ZUPD_OK)
        goto out;
    m->signed_ = json_object_get(m->doc, "signed");
    m->sigs = json_object_get(m->doc, "signatures");
    if (m->signed_ == NULL) {
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "metadata has no 'signed' object");
        goto out;
    }
    rc = zu_meta_index_build(m->signed_, &m->lim, &m->ix, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = check_signatures(m->sigs, &m->lim, zupd_meta_type_name(m->ix.type), err, cap);
    if (rc != ZUPD_OK)
        goto out;
    if (expect != ZUPD_META_ANY && expect != m->ix.type) {
        rc = zu_fail(err, cap, ZUPD_E_ROLE, "expected %s metadata, got %s",
                     zupd_meta_type_name(expect), zupd_meta_type_name(m->ix.type));
        goto out;
    }
    *out = m;
    m = NULL;
out:
    json_decref(doc);
    zupd_meta_free(m);
    return rc;
}

int
zupd_meta_parse(const uint8_t *buf, size_t len, const struct zupd_limits *lim,
                enum zupd_meta_type expect, struct zupd_meta **out, char *err, size_t err_cap)
{
    struct zupd_limits l;
    json_t *doc = NULL;
    char why[160];
    int rc;

    if (out == NULL)
        return ZUPD_E_MISUSE;
    *out = NULL;
    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    if (zu_limits_get(&l, lim) != ZUPD_OK)
        return zu_fail(err, err_cap, ZUPD_E_MISUSE, "limits without a size");
    rc = zu_json_load(buf, len, &l, &doc, why, sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(err, err_cap, rc, "invalid JSON: %s", why);
    return zu_meta_from_json(doc, &l, expect, out, err, err_cap);
}

void
zupd_meta_free(struct zupd_meta *m)
{
    if (m == NULL)
        return;
    zu_meta_index_release(&m->ix);
    json_decref(m->doc);
    free(m);
}
