/* SPDX-License-Identifier: Apache-2.0 */
/* lib/meta_build.c -- build and change TUF metadata (the mirror side): new
 * documents, keys, roles, delegations, meta and target entries, signatures,
 * and serialization. Every change keeps the model valid or changes nothing. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/manifest.h>

#include "zu/json.h"
#include "zu/meta_names.h"
#include "meta_int.h"

#define ZU_INT_MAX ((uint64_t)INT64_MAX) /* JSON integers are int64 */

static json_t *
role_new(void)
{
    return json_pack("{s:[],s:i}", "keyids", "threshold", 1);
}

int
zupd_meta_new(enum zupd_meta_type t, uint64_t version, int64_t expires, struct zupd_meta **out)
{
    char when[32];
    json_t *s = NULL, *doc = NULL;
    int rc;

    if (out == NULL)
        return ZUPD_E_MISUSE;
    *out = NULL;
    if (version < 1 || version > ZU_INT_MAX || zupd_time_format(expires, when, sizeof(when)))
        return ZUPD_E_MISUSE;
    s = json_pack("{s:s,s:s,s:I,s:s}", "_type", zupd_meta_type_name(t), "spec_version",
                  ZU_SPEC_VERSION, "version", (json_int_t)version, "expires", when);
    if (s == NULL)
        return ZUPD_E_NOMEM;
    switch (t) {
    case ZUPD_META_ROOT:
        rc = json_object_set_new(s, "consistent_snapshot", json_true()) |
             json_object_set_new(s, "keys", json_object()) |
             json_object_set_new(s, "roles",
                                 json_pack("{s:o,s:o,s:o,s:o}", "root", role_new(), "snapshot",
                                           role_new(), "targets", role_new(), "timestamp",
                                           role_new()));
        break;
    case ZUPD_META_TIMESTAMP:
        rc = json_object_set_new(s, "meta", json_pack("{s:{s:i}}", "snapshot.json", "version", 1));
        break;
    case ZUPD_META_SNAPSHOT:
        rc = json_object_set_new(s, "meta", json_pack("{s:{s:i}}", "targets.json", "version", 1));
        break;
    case ZUPD_META_TARGETS:
        rc = json_object_set_new(s, "targets", json_object());
        break;
    case ZUPD_META_ANY:
    default:
        json_decref(s);
        return ZUPD_E_MISUSE;
    }
    if (rc != 0) {
        json_decref(s);
        return ZUPD_E_NOMEM;
    }
    doc = json_pack("{s:[],s:o}", "signatures", "signed", s);
    if (doc == NULL)
        return ZUPD_E_NOMEM;
    return zu_meta_from_json(doc, NULL, t, out, NULL, 0);
}

/* ------------------------------------------------------------------ changes */

/* Changes to keys and roles are made on a copy of "signed" that replaces
 * the original only when it validates. */
static int
begin(const struct zupd_meta *m, json_t **copy)
{
    *copy = json_deep_copy(m->signed_);
    return *copy != NULL ? ZUPD_OK : ZUPD_E_NOMEM;
}

static int
commit(struct zupd_meta *m, json_t *copy, int rc)
{
    struct zu_meta_index ix;

    if (rc == ZUPD_OK)
        rc = zu_meta_index_build(copy, &m->lim, &ix, NULL, 0);
    if (rc == ZUPD_OK && ix.type != m->ix.type) {
        zu_meta_index_release(&ix);
        rc = ZUPD_E_MISUSE;
    }
    if (rc == ZUPD_OK && json_object_set(m->doc, "signed", copy) != 0) {
        zu_meta_index_release(&ix);
        rc = ZUPD_E_NOMEM;
    }
    if (rc != ZUPD_OK) {
        json_decref(copy);
        return rc == ZUPD_E_FORMAT ? ZUPD_E_MISUSE : rc;
    }
    zu_meta_index_release(&m->ix);
    m->ix = ix;
    m->signed_ = copy;
    json_decref(copy); /* the envelope holds it */
    return ZUPD_OK;
}

static int
set_field(struct zupd_meta *m, const char *key, json_t *v)
{
    json_t *copy;
    int rc;

    if (v == NULL)
        return ZUPD_E_NOMEM;
    rc = begin(m, &copy);
    if (rc != ZUPD_OK) {
        json_decref(v);
        return rc;
    }
    rc = json_object_set_new(copy, key, v) == 0 ? ZUPD_OK : ZUPD_E_NOMEM;
    return commit(m, copy, rc);
}

int
zupd_meta_set_version(struct zupd_meta *m, uint64_t version)
{
    if (version < 1 || version > ZU_INT_MAX)
        return ZUPD_E_MISUSE;
    return set_field(m, "version", json_integer((json_int_t)version));
}

int
zupd_meta_set_expires(struct zupd_meta *m, int64_t expires)
{
    char when[32];

    if (zupd_time_format(expires, when, sizeof(when)) != ZUPD_OK)
        return ZUPD_E_MISUSE;
    return set_field(m, "expires", json_string(when));
}

int
zupd_meta_set_consistent_snapshot(struct zupd_meta *m, bool on)
{
    if (m->ix.type != ZUPD_META_ROOT)
        return ZUPD_E_ROLE;
    return set_field(m, "consistent_snapshot", json_boolean(on));
}

/* The keys dictionary and the role object (NULL role: succinct roles) in
 * the copy s of a root or targets "signed". */
static int
find_in(json_t *s, enum zupd_meta_type t, const char *role, json_t **keys, json_t **r)
{
    json_t *d, *roles, *e;
    size_t i;

    *keys = NULL;
    *r = NULL;
    if (t == ZUPD_META_ROOT) {
        *keys = json_object_get(s, "keys");
        *r = role != NULL ? json_object_get(json_object_get(s, "roles"), role) : NULL;
    } else if (t == ZUPD_META_TARGETS) {
        d = json_object_get(s, "delegations");
        *keys = json_object_get(d, "keys");
        if (role == NULL) {
            *r = json_object_get(d, "succinct_roles");
        } else {
            roles = json_object_get(d, "roles");
            json_array_foreach (roles, i, e) {
                if (json_is_string(json_object_get(e, "name")) &&
                    strcmp(json_string_value(json_object_get(e, "name")), role) == 0)
                    *r = e;
            }
        }
    } else {
        return ZUPD_E_ROLE;
    }
    return *keys != NULL && *r != NULL ? ZUPD_OK : ZUPD_E_NOTFOUND;
}

static bool
arr_has(const json_t *a, const char *s)
{
    size_t i;
    json_t *e;

    json_array_foreach (a, i, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
            return true;
    }
    return false;
}

int
zupd_meta_add_key(struct zupd_meta *m, const char *role, const uint8_t *key_json, size_t len,
                  char *keyid, size_t keyid_cap)
{
    json_t *key = NULL, *copy = NULL, *keys, *r, *ids;
    struct zu_key *zk = NULL;
    char id[ZU_KEYID_HEX_LEN + 1];
    int rc;

    if (keyid != NULL && keyid_cap > 0)
        keyid[0] = '\0';
    if (keyid != NULL && keyid_cap < sizeof(id))
        return ZUPD_E_MISUSE;
    rc = zu_json_load(key_json, len, &m->lim, &key, NULL, 0);
    if (rc != ZUPD_OK)
        return rc == ZUPD_E_NOMEM ? rc : ZUPD_E_MISUSE;
    rc = zu_key_from_json(key, &zk);
    if (rc != ZUPD_OK)
        goto out;
    rc = zu_keyid_compute(key, id, sizeof(id));
    if (rc != ZUPD_OK)
        goto out;
    rc = begin(m, &copy);
    if (rc != ZUPD_OK)
        goto out;
    rc = find_in(copy, m->ix.type, role, &keys, &r);
    if (rc != ZUPD_OK) {
        json_decref(copy);
        goto out;
    }
    ids = json_object_get(r, "keyids");
    rc = ZUPD_OK;
    if (json_object_get(keys, id) == NULL && json_object_set(keys, id, key) != 0)
        rc = ZUPD_E_NOMEM;
    if (rc == ZUPD_OK && !arr_has(ids, id) && json_array_append_new(ids, json_string(id)) != 0)
        rc = ZUPD_E_NOMEM;
    rc = commit(m, copy, rc);
    if (rc == ZUPD_OK && keyid != NULL)
        memcpy(keyid, id, sizeof(id));
out:
    zu_key_free(zk);
    json_decref(key);
    return rc;
}

/* whether any role in the copy s still names keyid */
static bool
key_in_use(json_t *s, enum zupd_meta_type t, const char *keyid)
{
    const char *name;
    json_t *r, *d;
    size_t i;

    if (t == ZUPD_META_ROOT) {
        json_object_foreach (json_object_get(s, "roles"), name, r) {
            if (arr_has(json_object_get(r, "keyids"), keyid))
                return true;
        }
        return false;
    }
    d = json_object_get(s, "delegations");
    if (arr_has(json_object_get(json_object_get(d, "succinct_roles"), "keyids"), keyid))
        return true;
    json_array_foreach (json_object_get(d, "roles"), i, r) {
        if (arr_has(json_object_get(r, "keyids"), keyid))
            return true;
    }
    return false;
}

int
zupd_meta_revoke_key(struct zupd_meta *m, const char *role, const char *keyid)
{
    json_t *copy, *keys, *r, *ids, *e;
    size_t i;
    int rc;

    if (keyid == NULL)
        return ZUPD_E_MISUSE;
    rc = begin(m, &copy);
    if (rc != ZUPD_OK)
        return rc;
    rc = find_in(copy, m->ix.type, role, &keys, &r);
    if (rc != ZUPD_OK) {
        json_decref(copy);
        return rc;
    }
    ids = json_object_get(r, "keyids");
    rc = ZUPD_E_NOTFOUND;
    json_array_foreach (ids, i, e) {
        if (strcmp(json_string_value(e), keyid) == 0) {
            rc = json_array_remove(ids, i) == 0 ? ZUPD_OK : ZUPD_E_NOMEM;
            break;
        }
    }
    if (rc == ZUPD_OK && !key_in_use(copy, m->ix.type, keyid))
        json_object_del(keys, keyid);
    if (rc == ZUPD_E_NOTFOUND) {
        json_decref(copy);
        return rc;
    }
    return commit(m, copy, rc);
}

int
zupd_meta_set_threshold(struct zupd_meta *m, const char *role, uint64_t threshold)
{
    json_t *copy, *keys, *r;
    int rc;

    if (threshold < 1 || threshold > ZU_INT_MAX)
        return ZUPD_E_MISUSE;
    rc = begin(m, &copy);
    if (rc != ZUPD_OK)
        return rc;
    rc = find_in(copy, m->ix.type, role, &keys, &r);
    if (rc == ZUPD_E_NOTFOUND && r != NULL)
        rc = ZUPD_OK; /* a role of a targets without keys yet */
    if (rc != ZUPD_OK) {
        json_decref(copy);
        return rc;
    }
    rc = json_object_set_new(r, "threshold", json_integer((json_int_t)threshold)) == 0
             ? ZUPD_OK
             : ZUPD_E_NOMEM;
    return commit(m, copy, rc);
}

static json_t *
str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++) {
        if (v[i] == NULL || json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int
delegations_of(json_t *copy, json_t **d)
{
    *d = json_object_get(copy, "delegations");
    if (*d != NULL)
        return ZUPD_OK;
    *d = json_pack("{s:{}}", "keys");
    if (*d == NULL || json_object_set_new(copy, "delegations", *d) != 0)
        return ZUPD_E_NOMEM;
    return ZUPD_OK;
}

int
zupd_meta_add_delegation(struct zupd_meta *m, const char *name, bool terminating,
                         const char *const *paths, size_t n_paths,
                         const char *const *path_hash_prefixes, size_t n_prefixes)
{
    json_t *copy = NULL, *d, *roles, *r = NULL, *list;
    int rc;

    if (m->ix.type != ZUPD_META_TARGETS)
        return ZUPD_E_ROLE;
    if (name == NULL || (paths == NULL) == (path_hash_prefixes == NULL) || m->ix.has_succinct)
        return ZUPD_E_MISUSE;
    for (size_t i = 0; i < (paths != NULL ? n_paths : n_prefixes); i++)
        if ((paths != NULL ? paths[i] : path_hash_prefixes[i]) == NULL)
            return ZUPD_E_MISUSE;
    list = paths != NULL ? str_array(paths, n_paths) : str_array(path_hash_prefixes, n_prefixes);
    r = json_pack("{s:s,s:[],s:i,s:b}", "name", name, "keyids", "threshold", 1, "terminating",
                  terminating);
    if (list == NULL || r == NULL) {
        json_decref(list);
        json_decref(r);
        return ZUPD_E_NOMEM;
    }
    if (json_object_set_new(r, paths != NULL ? "paths" : "path_hash_prefixes", list) != 0) {
        json_decref(r); /* set_new took list, also on failure */
        return ZUPD_E_NOMEM;
    }
    rc = begin(m, &copy);
    if (rc == ZUPD_OK)
        rc = delegations_of(copy, &d);
    if (rc != ZUPD_OK) {
        json_decref(copy);
        json_decref(r);
        return rc;
    }
    roles = json_object_get(d, "roles");
    if (roles == NULL) {
        roles = json_array();
        if (roles == NULL || json_object_set_new(d, "roles", roles) != 0)
            rc = ZUPD_E_NOMEM;
    }
    if (rc == ZUPD_OK && json_array_append(roles, r) != 0)
        rc = ZUPD_E_NOMEM;
    json_decref(r);
    return commit(m, copy, rc);
}

int
zupd_meta_remove_delegation(struct zupd_meta *m, const char *name)
{
    json_t *copy = NULL, *d, *roles, *e, *ids, *keys;
    size_t i, k;
    int rc;

    if (m->ix.type != ZUPD_META_TARGETS)
        return ZUPD_E_ROLE;
    if (name == NULL)
        return ZUPD_E_MISUSE;
    rc = begin(m, &copy);
    if (rc != ZUPD_OK)
        return rc;
    d = json_object_get(copy, "delegations");
    roles = json_object_get(d, "roles");
    keys = json_object_get(d, "keys");
    json_array_foreach (roles, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            break;
    }
    if (i >= json_array_size(roles)) {
        json_decref(copy);
        return ZUPD_E_NOTFOUND;
    }
    ids = json_incref(json_object_get(json_array_get(roles, i), "keyids"));
    rc = json_array_remove(roles, i) == 0 ? ZUPD_OK : ZUPD_E_NOMEM;
    for (k = 0; rc == ZUPD_OK && k < json_array_size(ids); k++) {
        const char *keyid = json_string_value(json_array_get(ids, k));

        if (!key_in_use(copy, m->ix.type, keyid))
            json_object_del(keys, keyid);
    }
    json_decref(ids);
    return commit(m, copy, rc);
}

int
zupd_meta_set_succinct(struct zupd_meta *m, unsigned bit_length, const char *name_prefix)
{
    json_t *copy = NULL, *d, *sr;
    int rc;

    if (m->ix.type != ZUPD_META_TARGETS)
        return ZUPD_E_ROLE;
    if (name_prefix == NULL || bit_length < 1 || bit_length > 32 || m->ix.n_roles > 0)
        return ZUPD_E_MISUSE;
    rc = begin(m, &copy);
    if (rc == ZUPD_OK)
        rc = delegations_of(copy, &d);
    if (rc != ZUPD_OK) {
        json_decref(copy);
        return rc;
    }
    json_object_del(d, "roles");
    sr = json_pack("{s:[],s:i,s:i,s:s}", "keyids", "threshold", 1, "bit_length", (int)bit_length,
                   "name_prefix", name_prefix);
    if (sr == NULL || json_object_set_new(d, "succinct_roles", sr) != 0)
        rc = ZUPD_E_NOMEM;
    return commit(m, copy, rc);
}

/* ------------------------------------------------------------------ entries */

static json_t *
hashes_json(const struct zupd_hashes *h)
{
    char hex[2 * ZUPD_SHA512_LEN + 1];
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    if (h->has_sha256) {
        zupd_hex_encode(hex, sizeof(hex), h->sha256, ZUPD_SHA256_LEN);
        if (json_object_set_new(o, "sha256", json_string(hex)) != 0)
            goto fail;
    }
    if (h->has_sha512) {
        zupd_hex_encode(hex, sizeof(hex), h->sha512, ZUPD_SHA512_LEN);
        if (json_object_set_new(o, "sha512", json_string(hex)) != 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

int
zupd_meta_set_file(struct zupd_meta *m, const char *name, const struct zupd_meta_file *f)
{
    json_t *e, *h;

    if (m->ix.type != ZUPD_META_TIMESTAMP && m->ix.type != ZUPD_META_SNAPSHOT)
        return ZUPD_E_ROLE;
    if (name == NULL || f == NULL || f->version < 1 || f->version > ZU_INT_MAX ||
        (f->has_length && f->length > ZU_INT_MAX) ||
        (f->has_hashes && !f->hashes.has_sha256 && !f->hashes.has_sha512))
        return ZUPD_E_MISUSE;
    if (m->ix.type == ZUPD_META_TIMESTAMP && strcmp(name, "snapshot.json") != 0)
        return ZUPD_E_MISUSE;
    if (json_object_get(m->ix.meta, name) == NULL &&
        json_object_size(m->ix.meta) >= m->lim.max_entries)
        return ZUPD_E_TOOBIG;
    e = json_pack("{s:I}", "version", (json_int_t)f->version);
    if (e == NULL)
        return ZUPD_E_NOMEM;
    if (f->has_length && json_object_set_new(e, "length", json_integer((json_int_t)f->length)))
        goto nomem;
    if (f->has_hashes) {
        h = hashes_json(&f->hashes);
        if (h == NULL || json_object_set_new(e, "hashes", h) != 0)
            goto nomem;
    }
    /* the index borrows the meta object itself, not its entries */
    if (json_object_set_new(m->ix.meta, name, e) != 0)
        return ZUPD_E_NOMEM;
    return ZUPD_OK;
nomem:
    json_decref(e);
    return ZUPD_E_NOMEM;
}

int
zupd_meta_remove_file(struct zupd_meta *m, const char *name)
{
    if (m->ix.type != ZUPD_META_SNAPSHOT)
        return ZUPD_E_ROLE;
    if (name == NULL)
        return ZUPD_E_MISUSE;
    return json_object_del(m->ix.meta, name) == 0 ? ZUPD_OK : ZUPD_E_NOTFOUND;
}

int
zupd_meta_set_target(struct zupd_meta *m, const char *path, uint64_t length,
                     const struct zupd_hashes *h, const uint8_t *custom, size_t custom_len)
{
    json_t *e = NULL, *hj, *c = NULL;
    int rc;

    if (m->ix.type != ZUPD_META_TARGETS)
        return ZUPD_E_ROLE;
    if (path == NULL || h == NULL || (!h->has_sha256 && !h->has_sha512) || length > ZU_INT_MAX)
        return ZUPD_E_MISUSE;
    if (json_object_get(m->ix.targets, path) == NULL &&
        json_object_size(m->ix.targets) >= m->lim.max_entries)
        return ZUPD_E_TOOBIG;
    if (custom != NULL) {
        rc = zu_json_load(custom, custom_len, &m->lim, &c, NULL, 0);
        if (rc != ZUPD_OK)
            return rc == ZUPD_E_NOMEM ? rc : ZUPD_E_MISUSE;
    }
    hj = hashes_json(h);
    if (hj == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    e = json_pack("{s:I,s:o}", "length", (json_int_t)length, "hashes", hj);
    if (e == NULL || (c != NULL && json_object_set(e, "custom", c) != 0)) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    rc = json_object_set(m->ix.targets, path, e) == 0 ? ZUPD_OK : ZUPD_E_NOMEM;
out:
    json_decref(e);
    json_decref(c);
    return rc;
}

int
zupd_meta_remove_target(struct zupd_meta *m, const char *path)
{
    if (m->ix.type != ZUPD_META_TARGETS)
        return ZUPD_E_ROLE;
    if (path == NULL)
        return ZUPD_E_MISUSE;
    return json_object_del(m->ix.targets, path) == 0 ? ZUPD_OK : ZUPD_E_NOTFOUND;
}

/* ------------------------------------------------------------------ signing, output */

int
zupd_meta_signed_bytes(const struct zupd_meta *m, uint8_t **out, size_t *out_len)
{
    if (out == NULL || out_len == NULL)
        return ZUPD_E_MISUSE;
    return zu_cjson_dump(m->signed_, m->lim.max_json_bytes, out, out_len);
}

int
zupd_meta_add_signature(struct zupd_meta *m, const char *keyid, const char *sig_hex)
{
    json_t *s, *e;
    size_t i;

    if (keyid == NULL || sig_hex == NULL)
        return ZUPD_E_MISUSE;
    json_array_foreach (m->sigs, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "keyid")), keyid) == 0)
            return json_object_set_new(e, "sig", json_string(sig_hex)) == 0 ? ZUPD_OK
                                                                            : ZUPD_E_MISUSE;
    }
    if (json_array_size(m->sigs) >= m->lim.max_signatures)
        return ZUPD_E_TOOBIG;
    s = json_pack("{s:s,s:s}", "keyid", keyid, "sig", sig_hex);
    if (s == NULL)
        return ZUPD_E_MISUSE; /* not UTF-8, or no memory */
    return json_array_append_new(m->sigs, s) == 0 ? ZUPD_OK : ZUPD_E_NOMEM;
}

void
zupd_meta_clear_signatures(struct zupd_meta *m)
{
    if (m != NULL)
        json_array_clear(m->sigs);
}

int
zupd_meta_serialize(const struct zupd_meta *m, unsigned flags, uint8_t **out, size_t *out_len)
{
    size_t fl = JSON_SORT_KEYS;
    char *s;

    if (out == NULL || out_len == NULL)
        return ZUPD_E_MISUSE;
    *out = NULL;
    *out_len = 0;
    fl |= (flags & ZUPD_META_PRETTY) != 0 ? JSON_INDENT(1) : JSON_COMPACT;
    s = json_dumps(m->doc, fl);
    if (s == NULL)
        return ZUPD_E_NOMEM;
    *out = (uint8_t *)s;
    *out_len = strlen(s);
    return ZUPD_OK;
}

int
zu_meta_set_key_name(struct zupd_meta *m, const char *keyid, const char *name)
{
    json_t *copy = NULL, *names;
    int rc;

    if (m == NULL || keyid == NULL || strlen(keyid) != 64 ||
        (m->ix.type != ZUPD_META_ROOT && m->ix.type != ZUPD_META_TARGETS))
        return ZUPD_E_MISUSE;
    if (name != NULL && (strlen(name) > ZU_KEY_NAME_MAX || !zupd_name_is_safe(name)))
        return ZUPD_E_MISUSE;
    rc = begin(m, &copy);
    if (rc != ZUPD_OK)
        return rc;
    names = json_object_get(copy, ZU_KEY_NAMES);
    if (!json_is_object(names)) {
        names = json_object();
        if (names == NULL || json_object_set_new(copy, ZU_KEY_NAMES, names) != 0)
            rc = ZUPD_E_NOMEM;
    }
    if (rc == ZUPD_OK && name != NULL && json_object_set_new(names, keyid, json_string(name)) != 0)
        rc = ZUPD_E_NOMEM;
    if (rc == ZUPD_OK && name == NULL)
        (void)json_object_del(names, keyid);
    if (rc == ZUPD_OK && json_object_size(names) == 0)
        (void)json_object_del(copy, ZU_KEY_NAMES);
    return commit(m, copy, rc);
}
