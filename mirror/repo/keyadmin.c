/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/keyadmin.c -- a role's keys and threshold from the command line
 * (zupd-mirror key add|remove|threshold): the delegator's next version
 * (targets for products and avdb, root for the top-level roles), signed and
 * committed as zp_rotate does; a delegated role that must be re-signed with
 * keys this repository does not hold is staged (mirror/repo/staged.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "zu/json.h"
#include "zu/meta_names.h"
#include "repo/repo_int.h"

enum edit_kind { EDIT_ADD, EDIT_REMOVE, EDIT_THRESHOLD };

struct edit {
    enum edit_kind kind;
    const uint8_t *pub; /* ADD: canonical TUF key object */
    size_t pub_len;
    const char *want_keyid; /* ADD: the key id the file claims, or NULL */
    const char *name;       /* ADD: its name */
    const char *key;        /* REMOVE: key id, prefix or name */
    uint64_t threshold;     /* THRESHOLD */
    char keyid[65];         /* out: the key added or removed */
};

/* The key id of role in m that key names: a key id, a unique prefix of at
 * least 8 hex digits, or a name. */
static int
resolve_key(const struct zupd_meta *m, const char *role, const char *key, const char *keys_dir,
            char *out, char *err, size_t cap)
{
    size_t nk = 0, hits = 0, klen = strlen(key);
    uint64_t thr = 0;
    struct zp_keyinfo ki;

    if (zupd_meta_role(m, role, &thr, &nk) != ZUPD_OK)
        nk = 0; /* no such role: no key of it to find */
    /* the name of a key file here, for keys the metadata does not name */
    if (keys_dir != NULL && zp_key_by_name(keys_dir, key, &ki) == ZUPD_OK)
        for (size_t i = 0; i < nk; i++)
            if (strcmp(zupd_meta_role_keyid(m, role, i), ki.keyid) == 0) {
                snprintf(out, 65, "%s", ki.keyid);
                return ZUPD_OK;
            }
    for (size_t i = 0; i < nk; i++) {
        const char *id = zupd_meta_role_keyid(m, role, i);
        const char *name = zu_meta_key_name(m, id);
        bool hit = (name != NULL && strcmp(name, key) == 0) ||
                   (klen >= 8 && klen <= 64 && strncmp(id, key, klen) == 0);
        if (hit && hits++ == 0)
            snprintf(out, 65, "%s", id);
    }
    if (hits == 1)
        return ZUPD_OK;
    if (hits > 1)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "'%s' names %zu keys of '%s': give the key id", key,
                       hits, role);
    return zu_fail(err, cap, ZUPD_E_NOTFOUND, "'%s' is no key of '%s' (zupd-mirror key list)", key,
                   role);
}

static int
apply_edit(struct zupd_meta *m, const char *role, struct edit *e, const char *keys_dir, char *err,
           size_t cap)
{
    uint64_t thr = 0;
    size_t nk = 0;
    int rc = zupd_meta_role(m, role, &thr, &nk);

    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "role '%s' is not delegated", role);
    switch (e->kind) {
    case EDIT_ADD:
        rc = zupd_meta_add_key(m, role, e->pub, e->pub_len, e->keyid, sizeof(e->keyid));
        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "not a public key zupd can use: %s", zupd_strerror(rc));
        if (e->want_keyid != NULL && strcmp(e->want_keyid, e->keyid) != 0)
            return zu_fail(err, cap, ZUPD_E_MISMATCH,
                           "the file says key id %.16s..., its key is %.16s...", e->want_keyid,
                           e->keyid);
        for (size_t i = 0; i < nk + 1; i++) {
            const char *id = zupd_meta_role_keyid(m, role, i);
            const char *name = id != NULL ? zu_meta_key_name(m, id) : NULL;
            if (name != NULL && strcmp(name, e->name) == 0 && strcmp(id, e->keyid) != 0)
                return zu_fail(err, cap, ZUPD_E_EXISTS,
                               "key %.16s... of '%s' is named '%s' already", id, role, e->name);
        }
        if (zu_meta_key_name(m, e->keyid) != NULL &&
            strcmp(zu_meta_key_name(m, e->keyid), e->name) == 0)
            return zu_fail(err, cap, ZUPD_E_EXISTS, "'%s' already has key '%s' (%.16s...)", role,
                           e->name, e->keyid);
        rc = zu_meta_set_key_name(m, e->keyid, e->name);
        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "'%s' is not a key name (1..%d of A-Z a-z 0-9 . _ + ~ -)",
                           e->name, ZU_KEY_NAME_MAX);
        return ZUPD_OK;
    case EDIT_REMOVE:
        rc = resolve_key(m, role, e->key, keys_dir, e->keyid, err, cap);
        if (rc != ZUPD_OK)
            return rc;
        if (nk <= 1)
            return zu_fail(err, cap, ZUPD_E_MISUSE,
                           "'%s' is the last key of '%s': add its successor first (key add), or "
                           "use key rotate",
                           e->key, role);
        if (thr > nk - 1)
            return zu_fail(err, cap, ZUPD_E_MISUSE,
                           "'%s' needs %llu signatures: %zu keys would be left; lower the "
                           "threshold first (key threshold %s %zu)",
                           role, (unsigned long long)thr, nk - 1, role, nk - 1);
        rc = zupd_meta_revoke_key(m, role, e->keyid);
        if (rc == ZUPD_OK && !zupd_meta_has_key(m, e->keyid))
            rc = zu_meta_set_key_name(m, e->keyid, NULL);
        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "cannot remove the key: %s", zupd_strerror(rc));
        return ZUPD_OK;
    case EDIT_THRESHOLD:
        if (e->threshold < 1 || e->threshold > nk)
            return zu_fail(err, cap, ZUPD_E_MISUSE,
                           "threshold %llu of '%s' is impossible: it has %zu key(s) (key add "
                           "first)",
                           (unsigned long long)e->threshold, role, nk);
        if (e->threshold == thr)
            return zu_fail(err, cap, ZUPD_E_EXISTS, "'%s' already needs %llu signature(s)", role,
                           (unsigned long long)thr);
        rc = zupd_meta_set_threshold(m, role, e->threshold);
        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "cannot set the threshold: %s", zupd_strerror(rc));
        return ZUPD_OK;
    }
    return ZUPD_E_MISUSE;
}

static int
next_version(struct zp_repo *r, enum zp_role role, struct zupd_meta **out)
{
    int rc = zp_meta_copy(r->m[role], out);

    if (rc == ZUPD_OK)
        rc = zupd_meta_set_version(*out, zupd_meta_version(r->m[role]) + 1);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_expires(*out, r->now + r->cfg.expiry[role]);
    return rc;
}

/* products or avdb: a new targets; the role re-signed when it must be */
static int
change_delegated(struct zp_repo *r, enum zp_role role, struct edit *e, struct zp_keychange_res *res,
                 char *err, size_t cap)
{
    const char *name = zp_role_name(role);
    struct zupd_meta *nt = NULL, *nd = NULL;
    const struct zupd_meta *d[1] = {r->m[ZP_R_ROOT]};
    uint64_t have = 0, thr = 0;
    unsigned mask = 1u << ZP_R_TARGETS;
    int rc;

    if (role == ZP_R_AVDB && r->n_bins > 0)
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "avdb's keys also sign its hash bins: change them with key rotate avdb");
    if (zp_staged_pending(r, role))
        return zu_fail(err, cap, ZUPD_E_EXISTS,
                       "a change of '%s' is staged: import its signatures or unstage it first",
                       name);
    rc = zp_check_offline_live(r, "change keys", err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = next_version(r, ZP_R_TARGETS, &nt);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot build the new targets: %s", zupd_strerror(rc));
        goto out;
    }
    rc = apply_edit(nt, name, e, r->keys_dir, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_sign_as(r, nt, "targets", d, 1, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    res->delegator_version = zupd_meta_version(nt);
    if (zupd_meta_verify_role(nt, name, r->m[role], NULL, 0) != ZUPD_OK) {
        /* the role as signed now does not meet its new keys: re-sign it */
        rc = next_version(r, role, &nd);
        if (rc == ZUPD_OK)
            rc = zp_sign_held(r, nd, name, nt, &have, &thr, err, cap);
        if (rc != ZUPD_OK)
            goto out;
        if (have < thr) {
            res->staged = true;
            rc = zp_staged_put(r, role, nt, nd, NULL, res->staged_dir, sizeof(res->staged_dir), err,
                               cap);
            goto out;
        }
        mask |= 1u << role;
    }
    rc = zp_write_meta(r, ZP_R_TARGETS, nt, NULL, err, cap);
    if (rc == ZUPD_OK && nd != NULL)
        rc = zp_write_meta(r, role, nd, NULL, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    zupd_meta_free(r->m[ZP_R_TARGETS]);
    r->m[ZP_R_TARGETS] = nt;
    nt = NULL;
    if (nd != NULL) {
        zupd_meta_free(r->m[role]);
        r->m[role] = nd;
        nd = NULL;
    }
    rc = zp_commit2(r, 0, mask, NULL, err, cap);
out:
    zupd_meta_free(nt);
    zupd_meta_free(nd);
    return rc;
}

/* root, targets, snapshot, timestamp: a new root signed by the old root's
 * threshold and its own, then the roles it names re-signed when needed */
static int
change_top(struct zp_repo *r, enum zp_role role, struct edit *e, struct zp_keychange_res *res,
           char *err, size_t cap)
{
    const char *name = zp_role_name(role);
    struct zupd_meta *nr = NULL;
    int rc;

    rc = next_version(r, ZP_R_ROOT, &nr);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot build the new root: %s", zupd_strerror(rc));
        goto out;
    }
    rc = apply_edit(nr, name, e, r->keys_dir, err, cap);
    if (rc == ZUPD_OK) {
        const struct zupd_meta *d[2] = {r->m[ZP_R_ROOT], nr};
        rc = zp_sign_as(r, nr, "root", d, 2, err, cap);
    }
    if (rc == ZUPD_OK)
        rc = zp_write_meta(r, ZP_R_ROOT, nr, NULL, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    res->delegator_version = zupd_meta_version(nr);
    zupd_meta_free(r->m[ZP_R_ROOT]);
    r->m[ZP_R_ROOT] = nr;
    nr = NULL;
    if (role == ZP_R_ROOT ||
        zupd_meta_verify_role(r->m[ZP_R_ROOT], name, r->m[role], NULL, 0) == ZUPD_OK)
        rc = zp_commit(r, 0, NULL, err, cap); /* snapshot and timestamp follow the new root */
    else
        rc = zp_commit(r, role == ZP_R_TARGETS ? 1u << ZP_R_TARGETS : 0, NULL, err, cap);
out:
    zupd_meta_free(nr);
    return rc;
}

static int
change(struct zp_repo *r, enum zp_role role, struct edit *e, struct zp_keychange_res *res,
       char *err, size_t cap)
{
    int rc;

    memset(res, 0, sizeof(*res));
    rc = zp_check_vendor(r, "change keys", err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zp_delegator(role) == ZP_R_TARGETS ? change_delegated(r, role, e, res, err, cap)
                                            : change_top(r, role, e, res, err, cap);
    snprintf(res->keyid, sizeof(res->keyid), "%s", e->keyid);
    return rc;
}

int
zp_key_add(struct zp_repo *r, enum zp_role role, const uint8_t *pub, size_t len, const char *name,
           struct zp_keychange_res *res, char *err, size_t cap)
{
    struct edit e = {.kind = EDIT_ADD, .name = name};
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    json_t *doc = NULL, *key;
    uint8_t *canon = NULL;
    int rc;

    memset(res, 0, sizeof(*res));
    if (zu_json_load(pub, len, &lim, &doc, NULL, 0) != ZUPD_OK || !json_is_object(doc))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "not a JSON public key");
    key = json_object_get(doc, "key"); /* as zupd-mirror key show prints it */
    if (json_is_object(key)) {
        e.want_keyid = json_string_value(json_object_get(doc, "keyid"));
    } else {
        key = doc;
    }
    if (json_object_get(key, "keyval") != NULL &&
        json_object_get(json_object_get(key, "keyval"), "private") != NULL) {
        json_decref(doc);
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "the file holds a private key: give the public one");
    }
    rc = zu_cjson_dump(key, 1u << 16, &canon, &e.pub_len);
    if (rc != ZUPD_OK) {
        json_decref(doc);
        return zu_fail(err, cap, rc, "not a public key: %s", zupd_strerror(rc));
    }
    e.pub = canon;
    rc = change(r, role, &e, res, err, cap);
    free(canon);
    json_decref(doc);
    return rc;
}

int
zp_key_remove(struct zp_repo *r, enum zp_role role, const char *key, struct zp_keychange_res *res,
              char *err, size_t cap)
{
    struct edit e = {.kind = EDIT_REMOVE, .key = key};

    return change(r, role, &e, res, err, cap);
}

int
zp_key_threshold(struct zp_repo *r, enum zp_role role, uint64_t threshold,
                 struct zp_keychange_res *res, char *err, size_t cap)
{
    struct edit e = {.kind = EDIT_THRESHOLD, .threshold = threshold};

    return change(r, role, &e, res, err, cap);
}
