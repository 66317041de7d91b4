/* SPDX-License-Identifier: Apache-2.0 */
/* lib/trusted.c -- the TUF trusted metadata set (TUF 1.0 section 5; the
 * decisions follow python-tuf's TrustedMetadataSet). Pure: bytes in,
 * decisions out. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <zupd/hash.h>
#include <zupd/trusted.h>

#include "zu/internal.h"
#include "abi.h"
#include "trusted_int.h"

struct role_slot {
    char *name;
    struct zupd_meta *meta;
};

struct zupd_trusted {
    int64_t now;
    struct zupd_limits lim;
    struct zupd_meta *root;
    struct zupd_meta *timestamp;
    struct zupd_meta *snapshot;
    struct role_slot *targets; /* "targets" and delegated roles, in load order */
    size_t n_targets, cap_targets;
};

void
zupd_trusted_free(struct zupd_trusted *t)
{
    if (t == NULL)
        return;
    zupd_meta_free(t->root);
    zupd_meta_free(t->timestamp);
    zupd_meta_free(t->snapshot);
    for (size_t i = 0; i < t->n_targets; i++) {
        free(t->targets[i].name);
        zupd_meta_free(t->targets[i].meta);
    }
    free(t->targets);
    free(t);
}

int64_t
zupd_trusted_now(const struct zupd_trusted *t)
{
    return t->now;
}

void
zu_trusted_raise_now(struct zupd_trusted *t, int64_t now)
{
    if (now > t->now)
        t->now = now;
}

const struct zupd_meta *
zupd_trusted_get(const struct zupd_trusted *t, const char *role)
{
    if (strcmp(role, "root") == 0)
        return t->root;
    if (strcmp(role, "timestamp") == 0)
        return t->timestamp;
    if (strcmp(role, "snapshot") == 0)
        return t->snapshot;
    for (size_t i = 0; i < t->n_targets; i++)
        if (strcmp(t->targets[i].name, role) == 0)
            return t->targets[i].meta;
    return NULL;
}

/* Parse buf as a document of type want for role and verify it against
 * delegator's keys for role. */
static int
load_verified(struct zupd_trusted *t, const uint8_t *buf, size_t len, enum zupd_meta_type want,
              const struct zupd_meta *delegator, const char *role, struct zupd_meta **out,
              char *err, size_t cap)
{
    struct zupd_meta *m = NULL;
    char why[256] = "";
    int rc;

    *out = NULL;
    rc = zupd_meta_parse(buf, len, &t->lim, want, &m, why, sizeof(why));
    if (rc != ZUPD_OK) {
        return zu_fail(err, cap, rc, "%s: %s", role, why[0] ? why : zupd_strerror(rc));
    }
    rc = zupd_meta_verify_role(delegator, role, m, why, sizeof(why));
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "%s: %s", role, why[0] ? why : zupd_strerror(rc));
        zupd_meta_free(m);
        return rc;
    }
    *out = m;
    return ZUPD_OK;
}

int
zupd_trusted_new(const uint8_t *root, size_t len, int64_t now, const struct zupd_limits *lim,
                 struct zupd_trusted **out, char *err, size_t cap)
{
    struct zupd_trusted *t;
    struct zupd_meta *m = NULL;
    char why[256] = "";
    int rc;

    *out = NULL;
    zu_say(err, cap, "%s", "");
    rc = zupd_init();
    if (rc != ZUPD_OK)
        return rc;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ZUPD_E_NOMEM;
    t->now = now;
    if (zu_limits_get(&t->lim, lim) != ZUPD_OK) {
        free(t);
        return zu_fail(err, cap, ZUPD_E_MISUSE, "limits without a size");
    }
    if (len > t->lim.max_root_bytes) {
        zu_say(err, cap, "%s", "root: larger than the root size limit");
        rc = ZUPD_E_TOOBIG;
        goto out;
    }
    rc = zupd_meta_parse(root, len, &t->lim, ZUPD_META_ROOT, &m, why, sizeof(why));
    if (rc == ZUPD_OK)
        rc = zupd_meta_verify_role(m, "root", m, why, sizeof(why));
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "trusted root: %s", why[0] ? why : zupd_strerror(rc));
        goto out;
    }
    t->root = m;
    m = NULL;
    *out = t;
    t = NULL;
out:
    zupd_meta_free(m);
    zupd_trusted_free(t);
    return rc;
}

int
zupd_trusted_update_root(struct zupd_trusted *t, const uint8_t *buf, size_t len, char *err,
                         size_t cap)
{
    struct zupd_meta *m = NULL;
    uint64_t want;
    int rc;

    zu_say(err, cap, "%s", "");
    if (t->timestamp != NULL)
        return ZUPD_E_MISUSE;
    if (len > t->lim.max_root_bytes) {
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "%s", "root: larger than the root size limit");
    }
    /* signed by the trusted root's root keys ... */
    rc = load_verified(t, buf, len, ZUPD_META_ROOT, t->root, "root", &m, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    want = zupd_meta_version(t->root) + 1;
    if (zupd_meta_version(m) != want) {
        zu_say(err, cap, "root: version %llu where %llu was expected",
               (unsigned long long)zupd_meta_version(m), (unsigned long long)want);
        zupd_meta_free(m);
        return ZUPD_E_ROLLBACK;
    }
    /* ... and by its own */
    rc = zupd_meta_verify_role(m, "root", m, NULL, 0);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "root: version %llu is not signed by a threshold of its own root keys",
               (unsigned long long)want);
        zupd_meta_free(m);
        return rc;
    }
    zupd_meta_free(t->root);
    t->root = m;
    return ZUPD_OK;
}

static int
final_timestamp(const struct zupd_trusted *t, char *err, size_t cap)
{
    if (zupd_meta_is_expired(t->timestamp, t->now)) {
        return zu_fail(err, cap, ZUPD_E_EXPIRED, "%s", "timestamp: expired");
    }
    return ZUPD_OK;
}

int
zupd_trusted_update_timestamp(struct zupd_trusted *t, const uint8_t *buf, size_t len, char *err,
                              size_t cap)
{
    struct zupd_meta_file oldf, newf;
    struct zupd_meta *m = NULL;
    int rc;

    zu_say(err, cap, "%s", "");
    if (t->snapshot != NULL)
        return ZUPD_E_MISUSE;
    if (zupd_meta_is_expired(t->root, t->now)) {
        return zu_fail(err, cap, ZUPD_E_EXPIRED, "root: version %llu expired",
                       (unsigned long long)zupd_meta_version(t->root));
    }
    if (len > t->lim.max_timestamp_bytes) {
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "%s",
                       "timestamp: larger than the timestamp size limit");
    }
    rc = load_verified(t, buf, len, ZUPD_META_TIMESTAMP, t->root, "timestamp", &m, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_meta_file(m, "snapshot.json", &newf);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "%s", "timestamp: no snapshot.json entry");
        zupd_meta_free(m);
        return ZUPD_E_FORMAT;
    }
    if (t->timestamp != NULL) {
        uint64_t ov = zupd_meta_version(t->timestamp), nv = zupd_meta_version(m);
        if (nv < ov) {
            zu_say(err, cap, "timestamp: version %llu is older than the trusted %llu",
                   (unsigned long long)nv, (unsigned long long)ov);
            zupd_meta_free(m);
            return ZUPD_E_ROLLBACK;
        }
        if (nv == ov) {
            zupd_meta_free(m);
            return ZUPD_E_EXISTS; /* nothing new: keep the trusted one */
        }
        if (zupd_meta_file(t->timestamp, "snapshot.json", &oldf) == ZUPD_OK &&
            newf.version < oldf.version) {
            zu_say(err, cap, "timestamp: snapshot version %llu is older than the trusted %llu",
                   (unsigned long long)newf.version, (unsigned long long)oldf.version);
            zupd_meta_free(m);
            return ZUPD_E_ROLLBACK;
        }
    }
    /* trusted even if expired: it still guards against rollback */
    zupd_meta_free(t->timestamp);
    t->timestamp = m;
    return final_timestamp(t, err, cap);
}

int
zupd_check_length_hashes(const uint8_t *data, size_t len, bool has_length, uint64_t length,
                         const struct zupd_hashes *h)
{
    uint8_t dg[ZUPD_HASH_MAX_LEN];
    size_t known = 0, n;

    if (has_length && (uint64_t)len != length)
        return ZUPD_E_LENGTH;
    if (h == NULL)
        return ZUPD_OK;
    if (h->malformed)
        return ZUPD_E_HASH;
    if (h->has_sha256) {
        known++;
        if (zupd_hash_buf(ZUPD_HASH_SHA256, data, len, dg, sizeof(dg), &n) != ZUPD_OK ||
            sodium_memcmp(dg, h->sha256, ZUPD_SHA256_LEN) != 0)
            return ZUPD_E_HASH;
    }
    if (h->has_sha512) {
        known++;
        if (zupd_hash_buf(ZUPD_HASH_SHA512, data, len, dg, sizeof(dg), &n) != ZUPD_OK ||
            sodium_memcmp(dg, h->sha512, ZUPD_SHA512_LEN) != 0)
            return ZUPD_E_HASH;
    }
    /* an algorithm we do not know can not be checked: refuse, as python-tuf */
    return known == h->count ? ZUPD_OK : ZUPD_E_HASH;
}

struct rollback_ctx {
    const struct zupd_meta *newer;
    char *err;
    size_t cap;
};

static int
check_no_rollback(void *opaque, const char *name, const struct zupd_meta_file *old)
{
    struct rollback_ctx *c = opaque;
    struct zupd_meta_file nf;

    if (zupd_meta_file(c->newer, name, &nf) != ZUPD_OK) {
        return zu_fail(c->err, c->cap, ZUPD_E_ROLLBACK, "snapshot: '%s' was removed", name);
    }
    if (nf.version < old->version) {
        return zu_fail(c->err, c->cap, ZUPD_E_ROLLBACK,
                       "snapshot: '%s' version %llu is older than the trusted %llu", name,
                       (unsigned long long)nf.version, (unsigned long long)old->version);
    }
    return 0;
}

static int
final_snapshot(const struct zupd_trusted *t, char *err, size_t cap)
{
    struct zupd_meta_file f;

    if (zupd_meta_is_expired(t->snapshot, t->now)) {
        return zu_fail(err, cap, ZUPD_E_EXPIRED, "%s", "snapshot: expired");
    }
    if (zupd_meta_file(t->timestamp, "snapshot.json", &f) != ZUPD_OK ||
        zupd_meta_version(t->snapshot) != f.version) {
        return zu_fail(
            err, cap, ZUPD_E_MISMATCH, "snapshot: version %llu, but timestamp names %llu",
            (unsigned long long)zupd_meta_version(t->snapshot), (unsigned long long)f.version);
    }
    return ZUPD_OK;
}

int
zupd_trusted_update_snapshot(struct zupd_trusted *t, const uint8_t *buf, size_t len,
                             bool from_cache, char *err, size_t cap)
{
    struct zupd_meta_file f;
    struct zupd_meta *m = NULL;
    int rc;

    zu_say(err, cap, "%s", "");
    if (t->timestamp == NULL || t->n_targets > 0)
        return ZUPD_E_MISUSE;
    rc = final_timestamp(t, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_meta_file(t->timestamp, "snapshot.json", &f);
    if (rc != ZUPD_OK)
        return ZUPD_E_FORMAT;
    if (!from_cache) {
        rc = zupd_check_length_hashes(buf, len, f.has_length, f.length,
                                      f.has_hashes ? &f.hashes : NULL);
        if (rc != ZUPD_OK) {
            return zu_fail(err, cap, rc, "snapshot: %s against timestamp", zupd_strerror(rc));
        }
    }
    rc = load_verified(t, buf, len, ZUPD_META_SNAPSHOT, t->root, "snapshot", &m, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (t->snapshot != NULL) {
        struct rollback_ctx c = {m, err, cap};
        rc = zupd_meta_file_foreach(t->snapshot, check_no_rollback, &c);
        if (rc != 0) {
            zupd_meta_free(m);
            return rc;
        }
    }
    zupd_meta_free(t->snapshot);
    t->snapshot = m;
    return final_snapshot(t, err, cap);
}

int
zupd_trusted_update_targets(struct zupd_trusted *t, const char *role, const char *delegator,
                            const uint8_t *buf, size_t len, char *err, size_t cap)
{
    const struct zupd_meta *parent;
    struct zupd_meta_file f;
    struct zupd_meta *m = NULL;
    char fname[ZUPD_ROLE_NAME_MAX + 8];
    size_t i;
    int rc;

    zu_say(err, cap, "%s", "");
    /* "targets" is delegated by root alone, every other targets role by a
     * targets role: never a top-level role named as, or made, a delegated
     * one (a timestamp-signed document would else verify as root's). A
     * misuse is told as one whatever state the snapshot is in. */
    if ((strcmp(role, "targets") == 0) != (strcmp(delegator, "root") == 0) ||
        strcmp(role, "root") == 0 || strcmp(role, "snapshot") == 0 ||
        strcmp(role, "timestamp") == 0 || strcmp(delegator, "snapshot") == 0 ||
        strcmp(delegator, "timestamp") == 0)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "%s: cannot be delegated by %s", role, delegator);
    if (t->snapshot == NULL)
        return ZUPD_E_MISUSE;
    rc = final_snapshot(t, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    parent = zupd_trusted_get(t, delegator);
    if (parent == NULL)
        return ZUPD_E_MISUSE;
    if ((size_t)snprintf(fname, sizeof(fname), "%s.json", role) >= sizeof(fname))
        return ZUPD_E_TOOBIG;
    if (zupd_meta_file(t->snapshot, fname, &f) != ZUPD_OK) {
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "%s: not listed in snapshot", role);
    }
    rc =
        zupd_check_length_hashes(buf, len, f.has_length, f.length, f.has_hashes ? &f.hashes : NULL);
    if (rc != ZUPD_OK) {
        return zu_fail(err, cap, rc, "%s: %s against snapshot", role, zupd_strerror(rc));
    }
    rc = load_verified(t, buf, len, ZUPD_META_TARGETS, parent, role, &m, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (zupd_meta_version(m) != f.version) {
        zu_say(err, cap, "%s: version %llu, but snapshot names %llu", role,
               (unsigned long long)zupd_meta_version(m), (unsigned long long)f.version);
        zupd_meta_free(m);
        return ZUPD_E_MISMATCH;
    }
    if (zupd_meta_is_expired(m, t->now)) {
        zu_say(err, cap, "%s: expired", role);
        zupd_meta_free(m);
        return ZUPD_E_EXPIRED;
    }
    for (i = 0; i < t->n_targets; i++)
        if (strcmp(t->targets[i].name, role) == 0) {
            zupd_meta_free(t->targets[i].meta);
            t->targets[i].meta = m;
            return ZUPD_OK;
        }
    /* snapshot lists each role once, in at most max_entries entries */
    rc = ZU_GROW(&t->targets, &t->cap_targets, t->n_targets + 1, t->lim.max_entries);
    if (rc != ZUPD_OK) {
        zupd_meta_free(m);
        return rc;
    }
    t->targets[t->n_targets].name = strdup(role);
    if (t->targets[t->n_targets].name == NULL) {
        zupd_meta_free(m);
        return ZUPD_E_NOMEM;
    }
    t->targets[t->n_targets].meta = m;
    t->n_targets++;
    return ZUPD_OK;
}
