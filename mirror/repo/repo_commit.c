/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/repo_commit.c -- changing a repository: unlocking keys, signing,
 * writing metadata, the commit order (delegated roles, snapshot,
 * timestamp). The repository state is mirror/repo/repo.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/hash.h>

#include "zu/fsio.h"

#include "repo/repo_int.h"

/* Signing keys unlocked in one run: at most the keys root lists (max_keys). */
#define ZP_UNLOCKED_MAX ((size_t)1024)

/* ------------------------------------------------------------ keys, signing */

static int
unlock_keyid(struct zp_repo *r, const char *keyid, struct zp_signer **s, char *err, size_t cap)
{
    struct zp_keyinfo k;
    size_t cap_keys;
    int rc;

    *s = NULL;
    for (size_t i = 0; i < r->n_keys; i++)
        if (strcmp(r->keys[i].keyid, keyid) == 0) {
            *s = r->keys[i].s;
            return ZUPD_OK;
        }
    rc = zp_key_find(r->keys_dir, keyid, &k);
    if (rc != ZUPD_OK)
        return rc;        /* NOTFOUND: the caller tells which role lacks it */
    cap_keys = r->n_keys; /* the capacity is not kept: grown on each unlock */
    rc = ZU_GROW(&r->keys, &cap_keys, r->n_keys + 1, ZP_UNLOCKED_MAX);
    if (rc != ZUPD_OK)
        return rc;
    if (k.pkcs11_uri[0] != '\0' && r->cfg.pkcs11_module[0] != '\0')
        snprintf(k.pkcs11_module, sizeof(k.pkcs11_module), "%s", r->cfg.pkcs11_module);
    rc = zp_key_unlock(&k, &r->pass, s, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    snprintf(r->keys[r->n_keys].keyid, 65, "%s", keyid);
    r->keys[r->n_keys].s = *s;
    r->n_keys++;
    return ZUPD_OK;
}

/* Sign with keys of role as d lists it until its threshold is met; keys in
 * done[0..*n_done) already signed. */
static int
sign_for(struct zp_repo *r, struct zupd_meta *doc, const uint8_t *msg, size_t len, const char *role,
         const struct zupd_meta *d, char (*done)[65], size_t *n_done, size_t done_cap,
         uint64_t *got, char *err, size_t cap)
{
    uint64_t thr = 0, have = 0;
    size_t nk = 0;
    int rc;

    rc = zupd_meta_role(d, role, &thr, &nk);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "role '%s' is not delegated", role);
    for (size_t i = 0; i < nk; i++) {
        const char *id = zupd_meta_role_keyid(d, role, i);
        for (size_t j = 0; id != NULL && j < *n_done; j++)
            if (strcmp(done[j], id) == 0)
                have++;
    }
    for (size_t i = 0; i < nk && have < thr; i++) {
        const char *id = zupd_meta_role_keyid(d, role, i);
        char sig[ZP_SIG_HEX_LEN + 1];
        struct zp_signer *s = NULL;
        bool signed_already = false;

        for (size_t j = 0; j < *n_done; j++)
            if (strcmp(done[j], id) == 0)
                signed_already = true;
        if (signed_already)
            continue;
        rc = unlock_keyid(r, id, &s, err, cap);
        if (rc == ZUPD_E_NOTFOUND)
            continue;
        if (rc != ZUPD_OK)
            return rc;
        rc = zp_signer_sign(s, msg, len, sig, sizeof(sig));
        if (rc != ZUPD_OK && zp_signer_error(s)[0] != '\0')
            return zu_fail(err, cap, rc, "cannot sign '%s': %s", role, zp_signer_error(s));
        if (rc == ZUPD_OK)
            rc = zupd_meta_add_signature(doc, id, sig);
        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "cannot sign '%s': %s", role, zupd_strerror(rc));
        if (*n_done < done_cap)
            snprintf(done[(*n_done)++], 65, "%s", id);
        have++;
    }
    if (got != NULL) { /* partial: as many as there are keys here */
        *got = have;
        return ZUPD_OK;
    }
    if (have < thr)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND,
                       "missing key: role '%s' needs %llu signatures, %llu key(s) of it in '%s'",
                       role, (unsigned long long)thr, (unsigned long long)have, r->keys_dir);
    return ZUPD_OK;
}

int
zp_sign_as(struct zp_repo *r, struct zupd_meta *doc, const char *role,
           const struct zupd_meta *const *delegators, size_t n_delegators, char *err, size_t cap)
{
    char done[64][65];
    size_t n_done = 0;
    uint8_t *msg = NULL;
    size_t len = 0;
    char why[256] = "";
    int rc;

    zupd_meta_clear_signatures(doc);
    rc = zupd_meta_signed_bytes(doc, &msg, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot serialize '%s': %s", role, zupd_strerror(rc));
    for (size_t i = 0; rc == ZUPD_OK && i < n_delegators; i++)
        rc = sign_for(r, doc, msg, len, role, delegators[i], done, &n_done, ZU_ARRAY_LEN(done),
                      NULL, err, cap);
    for (size_t i = 0; rc == ZUPD_OK && i < n_delegators; i++) {
        rc = zupd_meta_verify_role(delegators[i], role, doc, why, sizeof(why));
        if (rc != ZUPD_OK)
            zu_fail(err, cap, rc, "signed '%s' does not verify: %s", role, why);
    }
    free(msg);
    return rc;
}

int
zp_sign_held(struct zp_repo *r, struct zupd_meta *doc, const char *role,
             const struct zupd_meta *delegator, uint64_t *have, uint64_t *threshold, char *err,
             size_t cap)
{
    char done[64][65];
    size_t n_done = 0, nk = 0;
    uint8_t *msg = NULL;
    size_t len = 0;
    int rc;

    *have = 0;
    rc = zupd_meta_role(delegator, role, threshold, &nk);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "role '%s' is not delegated", role);
    zupd_meta_clear_signatures(doc);
    rc = zupd_meta_signed_bytes(doc, &msg, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot serialize '%s': %s", role, zupd_strerror(rc));
    rc = sign_for(r, doc, msg, len, role, delegator, done, &n_done, ZU_ARRAY_LEN(done), have, err,
                  cap);
    free(msg);
    return rc;
}

int
zp_repo_unlock(struct zp_repo *r, const enum zp_role *roles, size_t n, char *err, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        const struct zupd_meta *d = r->m[zp_delegator(roles[i])];
        const char *role = zp_role_name(roles[i]);
        uint64_t thr = 0, have = 0;
        size_t nk = 0;
        int rc = zupd_meta_role(d, role, &thr, &nk);

        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "role '%s' is not delegated", role);
        for (size_t j = 0; j < nk && have < thr; j++) {
            struct zp_signer *s;
            rc = unlock_keyid(r, zupd_meta_role_keyid(d, role, j), &s, err, cap);
            if (rc == ZUPD_E_NOTFOUND)
                continue;
            if (rc != ZUPD_OK)
                return rc;
            have++;
        }
        if (have < thr)
            return zu_fail(err, cap, ZUPD_E_NOTFOUND,
                           "missing key: role '%s' needs %llu signatures, %llu key(s) of it in "
                           "'%s'",
                           role, (unsigned long long)thr, (unsigned long long)have, r->keys_dir);
    }
    return ZUPD_OK;
}

/* ------------------------------------------------------------ writing */

/* metadata/<version>.<name>.json, deferred (see zp_commit) */
int
zp_write_doc(struct zp_repo *r, const char *name, const struct zupd_meta *doc, uint64_t *bytes,
             char *err, size_t cap)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char rel[ZUPD_ROLE_NAME_MAX + 64];
    int rc;

    rc = zupd_meta_serialize(doc, 0, &text, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot serialize '%s': %s", name, zupd_strerror(rc));
    snprintf(rel, sizeof(rel), "metadata/%llu.%s.json", (unsigned long long)zupd_meta_version(doc),
             name);
    rc = zp_put(r->dfd, rel, text, len, 0644, true);
    free(text);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    if (bytes != NULL)
        *bytes += len;
    return ZUPD_OK;
}

int
zp_write_meta(struct zp_repo *r, enum zp_role role, const struct zupd_meta *doc, uint64_t *bytes,
              char *err, size_t cap)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char rel[256];
    int rc;

    if (role != ZP_R_ROOT && role != ZP_R_TIMESTAMP)
        return zp_write_doc(r, zp_role_name(role), doc, bytes, err, cap);
    rc = zupd_meta_serialize(doc, 0, &text, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot serialize '%s': %s", zp_role_name(role),
                       zupd_strerror(rc));
    if (role == ZP_R_TIMESTAMP)
        snprintf(rel, sizeof(rel), "metadata/timestamp.json");
    else
        snprintf(rel, sizeof(rel), "metadata/%llu.%s.json",
                 (unsigned long long)zupd_meta_version(doc), zp_role_name(role));
    /* a new root is reachable as soon as it is written: log it first */
    if (role == ZP_R_ROOT) {
        rc = zp_log_root(r, zupd_meta_version(doc), text, len, err, cap);
        if (rc == ZUPD_OK)
            rc = zp_log_commit(r, err, cap);
        if (rc != ZUPD_OK) {
            free(text);
            return rc;
        }
    }
    /* root and timestamp are durable at once; the other roles wait for the
     * flush before the timestamp (zp_write_doc) */
    rc = zp_put(r->dfd, rel, text, len, 0644, false);
    if (rc == ZUPD_OK && role == ZP_R_ROOT)
        rc = zp_put(r->dfd, "metadata/root.json", text, len, 0644, false);
    free(text);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    if (bytes != NULL)
        *bytes += len;
    return ZUPD_OK;
}

int
zp_renew(struct zp_repo *r, enum zp_role role, uint64_t *bytes, char *err, size_t cap)
{
    struct zupd_meta *doc = r->m[role];
    const struct zupd_meta *d[1];
    int rc;

    rc = zupd_meta_set_version(doc, zupd_meta_version(doc) + 1);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_expires(doc, r->now + r->cfg.expiry[role]);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot renew '%s': %s", zp_role_name(role),
                       zupd_strerror(rc));
    d[0] = r->m[zp_delegator(role)];
    rc = zp_sign_as(r, doc, zp_role_name(role), d, 1, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_write_meta(r, role, doc, bytes, err, cap);
    return rc;
}

int
zp_doc_entry(const struct zupd_meta *doc, bool hashes, struct zupd_meta_file *f)
{
    uint8_t *text = NULL;
    size_t len = 0, hl = 0;
    int rc;

    memset(f, 0, sizeof(*f));
    rc = zupd_meta_serialize(doc, 0, &text, &len);
    if (rc != ZUPD_OK)
        return rc;
    f->version = zupd_meta_version(doc);
    f->has_length = true;
    f->length = len;
    if (hashes) {
        f->has_hashes = true;
        f->hashes.count = 1;
        f->hashes.has_sha256 = true;
        rc = zupd_hash_buf(ZUPD_HASH_SHA256, text, len, f->hashes.sha256, ZUPD_SHA256_LEN, &hl);
    }
    free(text);
    return rc;
}

int
zp_meta_entry(struct zp_repo *r, enum zp_role role, bool hashes, struct zupd_meta_file *f)
{
    return zp_doc_entry(r->m[role], hashes, f);
}

int
zp_commit(struct zp_repo *r, unsigned mask, uint64_t *bytes, char *err, size_t cap)
{
    return zp_commit2(r, mask, mask, bytes, err, cap);
}

int
zp_commit2(struct zp_repo *r, unsigned renew_mask, unsigned list_mask, uint64_t *bytes, char *err,
           size_t cap)
{
    static const enum zp_role order[] = {ZP_R_PRODUCTS, ZP_R_AVDB, ZP_R_TARGETS};
    struct zupd_meta_file f;
    char fname[96];
    int rc;

    /* what this change signs is in the log before any metadata names it */
    rc = zp_log_commit(r, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    for (size_t i = 0; i < ZU_ARRAY_LEN(order); i++) {
        if (((renew_mask | list_mask) & (1u << order[i])) == 0)
            continue;
        if ((renew_mask & (1u << order[i])) != 0)
            rc = zp_renew(r, order[i], bytes, err, cap);
        if (rc == ZUPD_OK)
            rc = zp_meta_entry(r, order[i], false, &f);
        if (rc == ZUPD_OK) {
            snprintf(fname, sizeof(fname), "%s.json", zp_role_name(order[i]));
            rc = zupd_meta_set_file(r->m[ZP_R_SNAPSHOT], fname, &f);
        }
        if (rc != ZUPD_OK)
            return rc;
    }
    for (size_t i = 0; i < r->n_bins; i++) {
        struct zp_bin *b = &r->bins[i];
        const struct zupd_meta *d[1] = {r->m[ZP_R_AVDB]};
        if (!b->dirty)
            continue;
        rc = zupd_meta_set_version(b->m, zupd_meta_version(b->m) + 1);
        if (rc == ZUPD_OK)
            rc = zupd_meta_set_expires(b->m, r->now + r->cfg.expiry[ZP_R_AVDB]);
        if (rc == ZUPD_OK)
            rc = zp_sign_as(r, b->m, b->name, d, 1, err, cap);
        if (rc == ZUPD_OK)
            rc = zp_write_doc(r, b->name, b->m, bytes, err, cap);
        if (rc == ZUPD_OK)
            rc = zp_doc_entry(b->m, false, &f);
        if (rc == ZUPD_OK) {
            snprintf(fname, sizeof(fname), "%s.json", b->name);
            rc = zupd_meta_set_file(r->m[ZP_R_SNAPSHOT], fname, &f);
        }
        if (rc != ZUPD_OK)
            return rc;
        b->dirty = false;
    }
    rc = zp_renew(r, ZP_R_SNAPSHOT, bytes, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_meta_entry(r, ZP_R_SNAPSHOT, true, &f);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_file(r->m[ZP_R_TIMESTAMP], "snapshot.json", &f);
    /* every blob, target, role and snapshot of this change in place and
     * durable before the timestamp names them */
    if (rc == ZUPD_OK) {
        rc = zp_flush(r->dfd);
        if (rc != ZUPD_OK)
            zu_fail(err, cap, rc, "cannot put the new files of '%s' in place: %s", r->dir,
                    zupd_strerror(rc));
    }
    if (rc == ZUPD_OK)
        rc = zp_renew(r, ZP_R_TIMESTAMP, bytes, err, cap);
    return rc;
}
