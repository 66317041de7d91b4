/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/staged.c -- a change of a delegated role waiting for its other
 * key holders (docs/mirror.md, "Multi-party signing"): the next version of
 * the role signed by the keys this repository holds (and the next targets
 * when the change is one of the role's keys), in DIR/staged/<role>/, served
 * but named by no snapshot; signatures imported one by one; the change goes
 * live through the ordinary commit once the threshold is met. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zupd/hash.h>

#include "zu/json.h"
#include "zu/key.h"
#include "zu/meta_names.h"
#include "repo/repo_int.h"

static void
staged_rel(char *dst, size_t cap, enum zp_role role, const char *name)
{
    snprintf(dst, cap, ZP_STAGED_DIR "/%s/%s", zp_role_name(role), name);
}

bool
zp_staged_pending(struct zp_repo *r, enum zp_role role)
{
    char rel[256];

    staged_rel(rel, sizeof(rel), role, "release.json");
    return faccessat(r->dfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
put_doc(struct zp_repo *r, enum zp_role role, const char *name, const struct zupd_meta *doc,
        char *fname, size_t fcap)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char rel[256];
    int rc;

    snprintf(fname, fcap, "%llu.%s.json", (unsigned long long)zupd_meta_version(doc), name);
    staged_rel(rel, sizeof(rel), role, fname);
    rc = zupd_meta_serialize(doc, ZUPD_META_PRETTY, &text, &len);
    if (rc == ZUPD_OK)
        rc = zp_put(r->dfd, rel, text, len, 0644, false);
    free(text);
    return rc;
}

int
zp_staged_put(struct zp_repo *r, enum zp_role role, const struct zupd_meta *targets,
              const struct zupd_meta *doc, json_t *releases, char *out, size_t out_cap, char *err,
              size_t cap)
{
    char fdoc[128], ftargets[128] = "", rel[256], when[32];
    json_t *desc = NULL;
    char *text = NULL;
    int rc;

    if (zp_staged_pending(r, role))
        return zu_fail(err, cap, ZUPD_E_EXISTS,
                       "a change of '%s' is already staged in '%s/" ZP_STAGED_DIR
                       "/%s': import its signatures, or drop it (zupd-mirror unstage %s)",
                       zp_role_name(role), r->dir, zp_role_name(role), zp_role_name(role));
    /* every blob and manifest the staged metadata names is durable first */
    rc = zp_flush(r->dfd);
    if (rc == ZUPD_OK && targets != NULL)
        rc = put_doc(r, role, "targets", targets, ftargets, sizeof(ftargets));
    if (rc == ZUPD_OK)
        rc = put_doc(r, role, zp_role_name(role), doc, fdoc, sizeof(fdoc));
    if (rc == ZUPD_OK)
        rc = zupd_time_format(r->now, when, sizeof(when));
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot stage '%s': %s", zp_role_name(role),
                       zupd_strerror(rc));
    desc = json_pack("{s:i,s:s,s:I,s:s,s:s,s:O}", "zupd_staged", 1, "role", zp_role_name(role),
                     "version", (json_int_t)zupd_meta_version(doc), "metadata", fdoc, "staged",
                     when, "releases", releases != NULL ? releases : json_array());
    if (desc != NULL && releases == NULL)
        json_decref(json_object_get(desc, "releases")); /* the O above took a new reference */
    if (desc != NULL && targets != NULL)
        json_object_set_new(desc, "targets", json_string(ftargets));
    text = desc != NULL ? json_dumps(desc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(desc);
    if (text == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    /* the descriptor last: its presence marks a whole staged change */
    staged_rel(rel, sizeof(rel), role, "release.json");
    rc = zp_put(r->dfd, rel, text, strlen(text), 0644, false);
    free(text);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    snprintf(out, out_cap, "%s/" ZP_STAGED_DIR "/%s", r->dir, zp_role_name(role));
    return ZUPD_OK;
}

/* The pending change of role: its descriptor and documents. */
struct staged {
    json_t *desc;
    struct zupd_meta *doc;
    struct zupd_meta *targets; /* NULL: the live targets delegate */
};

static void
staged_release(struct staged *s)
{
    json_decref(s->desc);
    zupd_meta_free(s->doc);
    zupd_meta_free(s->targets);
    memset(s, 0, sizeof(*s));
}

static int
load_doc(struct zp_repo *r, enum zp_role role, const char *name, enum zupd_meta_type t,
         struct zupd_meta **out, char *err, size_t cap)
{
    char rel[256], why[256] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (strchr(name, '/') != NULL || name[0] == '.')
        return zu_fail(err, cap, ZUPD_E_FORMAT, "bad file name '%s' in the staged change", name);
    staged_rel(rel, sizeof(rel), role, name);
    rc = zp_get(r->dfd, rel, ZP_META_CAP, &buf, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    rc = zupd_meta_parse(buf, len, NULL, t, out, why, sizeof(why));
    free(buf);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "'%s/%s': %s", r->dir, rel, why);
    return ZUPD_OK;
}

static int
staged_load(struct zp_repo *r, enum zp_role role, struct staged *s, char *err, size_t cap)
{
    char rel[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *f = NULL;
    int rc;

    memset(s, 0, sizeof(*s));
    staged_rel(rel, sizeof(rel), role, "release.json");
    rc = zp_get(r->dfd, rel, 1u << 20, &buf, &len);
    if (rc == ZUPD_E_NOTFOUND)
        return zu_fail(err, cap, rc, "no change of '%s' is staged in '%s'", zp_role_name(role),
                       r->dir);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    s->desc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    if (!json_is_object(s->desc) || zu_json_get_str(s->desc, "metadata", &f) != ZUPD_OK) {
        staged_release(s);
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'%s/%s': not a staged change", r->dir, rel);
    }
    rc = load_doc(r, role, f, ZUPD_META_TARGETS, &s->doc, err, cap);
    if (rc == ZUPD_OK && zu_json_get_str(s->desc, "targets", &f) == ZUPD_OK)
        rc = load_doc(r, role, f, ZUPD_META_TARGETS, &s->targets, err, cap);
    if (rc != ZUPD_OK)
        staged_release(s);
    return rc;
}

int
zp_unstage(struct zp_repo *r, enum zp_role role, char *err, size_t cap)
{
    struct staged s;
    const char *f = NULL;
    char rel[256];
    int rc = staged_load(r, role, &s, err, cap);

    if (rc != ZUPD_OK)
        return rc;
    /* the descriptor first: a half-removed change is no change */
    staged_rel(rel, sizeof(rel), role, "release.json");
    rc = zp_remove(r->dfd, rel);
    if (rc == ZUPD_OK && zu_json_get_str(s.desc, "metadata", &f) == ZUPD_OK &&
        strchr(f, '/') == NULL) {
        staged_rel(rel, sizeof(rel), role, f);
        rc = zp_remove(r->dfd, rel);
    }
    if (rc == ZUPD_OK && zu_json_get_str(s.desc, "targets", &f) == ZUPD_OK &&
        strchr(f, '/') == NULL) {
        staged_rel(rel, sizeof(rel), role, f);
        rc = zp_remove(r->dfd, rel);
    }
    staged_release(&s);
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot remove the staged change of '%s': %s", zp_role_name(role),
                zupd_strerror(rc));
    return rc;
}

/* Check the staged targets (if any) against root, then the threshold of
 * the staged role, and put both live: metadata, snapshot, timestamp. */
static int
go_live(struct zp_repo *r, enum zp_role role, struct staged *s, struct zp_import_res *res,
        char *err, size_t cap)
{
    const struct zupd_meta *d = s->targets != NULL ? s->targets : r->m[ZP_R_TARGETS];
    unsigned mask = 1u << role;
    char why[256] = "";
    size_t nk = 0;
    int rc;

    rc = zupd_meta_role(d, zp_role_name(role), &res->threshold, &nk);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "role '%s' is not delegated", zp_role_name(role));
    {
        char ids[64][65];
        rc = zu_meta_signers(d, zp_role_name(role), s->doc, ids, ZU_ARRAY_LEN(ids), &nk);
        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "cannot check the signatures: %s", zupd_strerror(rc));
        res->have = nk;
    }
    if (res->have < res->threshold)
        return ZUPD_OK; /* waits for more signatures */
    if (zupd_meta_version(s->doc) != zupd_meta_version(r->m[role]) + 1)
        return zu_fail(err, cap, ZUPD_E_ROLLBACK,
                       "the staged '%s' is version %llu, but version %llu is live: the change is "
                       "stale (zupd-mirror unstage %s, then stage it again)",
                       zp_role_name(role), (unsigned long long)zupd_meta_version(s->doc),
                       (unsigned long long)zupd_meta_version(r->m[role]), zp_role_name(role));
    if (zupd_meta_is_expired(s->doc, r->now))
        return zu_fail(err, cap, ZUPD_E_EXPIRED, "the staged '%s' has expired", zp_role_name(role));
    if (s->targets != NULL) {
        if (zupd_meta_version(s->targets) != zupd_meta_version(r->m[ZP_R_TARGETS]) + 1)
            return zu_fail(err, cap, ZUPD_E_ROLLBACK,
                           "the staged targets is version %llu, but version %llu is live",
                           (unsigned long long)zupd_meta_version(s->targets),
                           (unsigned long long)zupd_meta_version(r->m[ZP_R_TARGETS]));
        rc = zupd_meta_verify_role(r->m[ZP_R_ROOT], "targets", s->targets, why, sizeof(why));
        if (rc != ZUPD_OK)
            return zu_fail(err, cap, rc, "the staged targets: %s", why);
        mask |= 1u << ZP_R_TARGETS;
    }
    rc = zupd_meta_verify_role(d, zp_role_name(role), s->doc, why, sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "%s", why);
    if (s->targets != NULL) {
        rc = zp_write_meta(r, ZP_R_TARGETS, s->targets, NULL, err, cap);
        if (rc != ZUPD_OK)
            return rc;
        zupd_meta_free(r->m[ZP_R_TARGETS]);
        r->m[ZP_R_TARGETS] = s->targets;
        s->targets = NULL;
    }
    rc = zp_write_meta(r, role, s->doc, NULL, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    zupd_meta_free(r->m[role]);
    r->m[role] = s->doc;
    s->doc = NULL;
    rc = zp_commit2(r, 0, mask, NULL, err, cap);
    if (rc == ZUPD_OK)
        res->live = true;
    return rc;
}

/* A signature file made by zupd-mirror audit:
 * {"zupd_signature":1,"role":R,"version":N,"signed_sha256":H,"keyid":K,"sig":S} */
static int
add_signature_file(struct zp_repo *r, json_t *j, const char *path, enum zp_role *role,
                   struct staged *s, struct zp_import_res *res, char *err, size_t cap)
{
    const char *rname = NULL, *hex = NULL, *keyid = NULL, *sig = NULL;
    uint64_t version = 0;
    uint8_t *msg = NULL, *kj = NULL, h[32];
    size_t mlen = 0, kl = 0, hl = 0;
    char have_hex[65];
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    const struct zupd_meta *d;
    struct zu_key *key = NULL;
    json_t *kobj = NULL;
    int rc;

    if (zu_json_get_str(j, "role", &rname) != ZUPD_OK ||
        zu_json_get_u64(j, "version", &version) != ZUPD_OK ||
        zu_json_get_str(j, "signed_sha256", &hex) != ZUPD_OK ||
        zu_json_get_str(j, "keyid", &keyid) != ZUPD_OK ||
        zu_json_get_str(j, "sig", &sig) != ZUPD_OK || zp_role_parse(rname, role) != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_FORMAT,
                       "'%s': a signature file needs role, version, signed_sha256, keyid, sig",
                       path);
    rc = staged_load(r, *role, s, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (version != zupd_meta_version(s->doc))
        return zu_fail(err, cap, ZUPD_E_MISMATCH,
                       "'%s' signs version %llu of '%s', but version %llu is staged", path,
                       (unsigned long long)version, rname,
                       (unsigned long long)zupd_meta_version(s->doc));
    rc = zupd_meta_signed_bytes(s->doc, &msg, &mlen);
    if (rc == ZUPD_OK)
        rc = zupd_hash_buf(ZUPD_HASH_SHA256, msg, mlen, h, sizeof(h), &hl);
    if (rc != ZUPD_OK)
        goto out;
    zupd_hex_encode(have_hex, sizeof(have_hex), h, 32);
    if (strcmp(have_hex, hex) != 0) {
        rc = zu_fail(err, cap, ZUPD_E_MISMATCH,
                     "'%s' signs other content than the staged '%s' version %llu (sha256 %.16s..., "
                     "staged %.16s...)",
                     path, rname, (unsigned long long)version, hex, have_hex);
        goto out;
    }
    d = s->targets != NULL ? s->targets : r->m[zp_delegator(*role)];
    if (zupd_meta_role_keyid(d, rname, 0) == NULL ||
        zupd_meta_key_json(d, keyid, &kj, &kl) != ZUPD_OK) {
        rc = zu_fail(err, cap, ZUPD_E_SIG, "'%s': key %.16s... is no key of '%s'", path, keyid,
                     rname);
        goto out;
    }
    rc = zu_json_load(kj, kl, &lim, &kobj, NULL, 0);
    if (rc == ZUPD_OK)
        rc = zu_key_from_json(kobj, &key);
    if (rc == ZUPD_OK)
        rc = zu_key_verify(key, msg, mlen, sig);
    if (rc != ZUPD_OK) {
        rc = zu_fail(err, cap, ZUPD_E_SIG,
                     "'%s': the signature of key %.16s... does not verify over the staged '%s' "
                     "version %llu",
                     path, keyid, rname, (unsigned long long)version);
        goto out;
    }
    rc = zupd_meta_add_signature(s->doc, keyid, sig);
    if (rc == ZUPD_OK)
        snprintf(res->keyid, sizeof(res->keyid), "%s", keyid);
out:
    zu_key_free(key);
    json_decref(kobj);
    free(kj);
    free(msg);
    return rc;
}

/* A role file signed with zupd-mirror sign: its signatures over the same
 * signed content join the staged one's. */
static int
add_signed_doc(struct zp_repo *r, const uint8_t *buf, size_t len, const char *path,
               enum zp_role *role, struct staged *s, bool *matched, char *err, size_t cap)
{
    struct zupd_meta *m = NULL;
    uint8_t *a = NULL, *b = NULL, *text = NULL;
    size_t al = 0, bl = 0, tl = 0;
    json_t *doc = NULL, *sigs, *e;
    size_t i;
    int rc = ZUPD_OK;

    *matched = false;
    if (zupd_meta_parse(buf, len, NULL, ZUPD_META_TARGETS, &m, NULL, 0) != ZUPD_OK)
        return ZUPD_OK;
    for (unsigned k = ZP_R_PRODUCTS; k < ZP_R__N && !*matched; k++) {
        if (!zp_staged_pending(r, (enum zp_role)k))
            continue;
        staged_release(s);
        if (staged_load(r, (enum zp_role)k, s, NULL, 0) != ZUPD_OK)
            continue;
        free(a);
        a = NULL;
        if (zupd_meta_signed_bytes(m, &a, &al) == ZUPD_OK &&
            zupd_meta_signed_bytes(s->doc, &b, &bl) == ZUPD_OK && al == bl &&
            memcmp(a, b, al) == 0) {
            *matched = true;
            *role = (enum zp_role)k;
        }
        free(b);
        b = NULL;
    }
    if (!*matched) {
        staged_release(s);
        goto out;
    }
    /* every signature of the file joins; the threshold check counts only
     * the valid ones of the role's keys */
    rc = zupd_meta_serialize(m, 0, &text, &tl);
    if (rc == ZUPD_OK)
        doc = json_loadb((const char *)text, tl, 0, NULL);
    sigs = json_object_get(doc, "signatures");
    json_array_foreach (sigs, i, e) {
        const char *k = json_string_value(json_object_get(e, "keyid"));
        const char *sg = json_string_value(json_object_get(e, "sig"));
        if (k != NULL && sg != NULL && zupd_meta_add_signature(s->doc, k, sg) != ZUPD_OK) {
            rc = zu_fail(err, cap, ZUPD_E_FORMAT, "'%s': bad signature entry", path);
            break;
        }
    }
out:
    json_decref(doc);
    free(text);
    free(a);
    zupd_meta_free(m);
    return rc;
}

static int
save_staged(struct zp_repo *r, enum zp_role role, struct staged *s, char *err, size_t cap)
{
    const char *f = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    char rel[256];
    int rc;

    rc = zu_json_get_str(s->desc, "metadata", &f);
    if (rc == ZUPD_OK)
        rc = zupd_meta_serialize(s->doc, ZUPD_META_PRETTY, &text, &len);
    staged_rel(rel, sizeof(rel), role, f != NULL ? f : "?");
    if (rc == ZUPD_OK)
        rc = zp_put(r->dfd, rel, text, len, 0644, false);
    free(text);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot write '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    return ZUPD_OK;
}

int
zp_staged_import(struct zp_repo *r, const uint8_t *buf, size_t len, const char *path,
                 struct zp_import_res *res, char *err, size_t cap)
{
    struct staged s;
    enum zp_role role = ZP_R_PRODUCTS;
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
    bool matched = true;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    if (json_is_object(j) && json_object_get(j, "zupd_signature") != NULL) {
        res->staged = true;
        rc = add_signature_file(r, j, path, &role, &s, res, err, cap);
    } else
        rc = add_signed_doc(r, buf, len, path, &role, &s, &matched, err, cap);
    json_decref(j);
    if (rc == ZUPD_OK && !matched) {
        rc = ZUPD_E_NOTFOUND; /* not for a staged change: the caller imports it whole */
        goto out;
    }
    res->staged = true;
    res->role = role;
    if (rc != ZUPD_OK)
        goto out;
    res->version = zupd_meta_version(s.doc);
    if (rc == ZUPD_OK)
        rc = zp_check_offline_live(r, "import", err, cap);
    if (rc == ZUPD_OK)
        rc = save_staged(r, role, &s, err, cap);
    if (rc == ZUPD_OK)
        rc = go_live(r, role, &s, res, err, cap);
    if (rc == ZUPD_OK && res->live)
        rc = zp_unstage(r, role, err, cap);
out:
    staged_release(&s);
    return rc;
}
