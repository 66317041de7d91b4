/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/offline.c -- the offline signing flow: stage the next version of a
 * role unsigned on the publishing host, sign it where the keys are (one
 * signature per run, so a threshold collects them one by one), import it
 * back, verified against its delegator before it is installed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zu/fsio.h"
#include "repo/repo_int.h"

int
zp_stage(struct zp_repo *r, enum zp_role role, char *out, size_t out_cap, char *err, size_t cap)
{
    struct zupd_meta *m = NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    char rel[128];
    int rc;

    if (role == ZP_R_SNAPSHOT || role == ZP_R_TIMESTAMP)
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "'%s' is an online role: 'zupd-mirror refresh' signs it",
                       zp_role_name(role));
    rc = zp_meta_copy(r->m[role], &m);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_version(m, zupd_meta_version(r->m[role]) + 1);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_expires(m, r->now + r->cfg.expiry[role]);
    if (rc == ZUPD_OK) {
        zupd_meta_clear_signatures(m);
        rc = zupd_meta_serialize(m, ZUPD_META_PRETTY, &text, &len);
    }
    snprintf(rel, sizeof(rel), ZP_STATE_DIR "/staged/%s.json", zp_role_name(role));
    if (rc == ZUPD_OK)
        rc = zp_put(r->dfd, rel, text, len, 0644, false);
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot stage '%s': %s", zp_role_name(role), zupd_strerror(rc));
    else
        snprintf(out, out_cap, "%s/%s", r->dir, rel);
    free(text);
    zupd_meta_free(m);
    return rc;
}

static int
read_path(const char *path, size_t max, uint8_t **out, size_t *len)
{
    char dir[4096], base[4096];
    int dfd, rc;

    snprintf(dir, sizeof(dir), "%s", path);
    snprintf(base, sizeof(base), "%s", path);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return zu_errno_to_err(errno);
    rc = zu_read_capped(dfd, basename(base), max, out, len);
    close(dfd);
    return rc;
}

/* The signer of key_path: a key file NAME.key (or a token key reference
 * of that name), or a PKCS#11 URI. */
static int
open_key(const char *key_path, const struct zp_pass *p, struct zp_signer **s, char *err, size_t cap)
{
    struct zp_keyinfo k;
    char kdir[4096], kbase[4096], *dot;
    int rc;

    if (zp_p11_is_uri(key_path))
        return zp_key_open_uri(key_path, NULL, p, s, err, cap);
    snprintf(kdir, sizeof(kdir), "%s", key_path);
    snprintf(kbase, sizeof(kbase), "%s", key_path);
    dot = strrchr(basename(kbase), '.');
    if (dot == NULL || strcmp(dot, ".key") != 0)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "'%s': a key file is named NAME.key", key_path);
    *dot = '\0';
    rc = zp_key_by_name(dirname(kdir), basename(kbase), &k);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read key '%s': %s", key_path, zupd_strerror(rc));
    return zp_key_unlock(&k, p, s, err, cap);
}

int
zp_sign_file(const char *path, const char *key_path, const struct zp_pass *p, char *err, size_t cap)
{
    struct zp_signer *s = NULL;
    struct zupd_meta *m = NULL;
    uint8_t *buf = NULL, *msg = NULL, *text = NULL;
    size_t len = 0, mlen = 0, tlen = 0;
    char sig[ZP_SIG_HEX_LEN + 1], why[256] = "";
    int rc, dfd;

    rc = read_path(path, ZP_META_CAP, &buf, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s': %s", path, zupd_strerror(rc));
    rc = zupd_meta_parse(buf, len, NULL, ZUPD_META_ANY, &m, why, sizeof(why));
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "'%s': %s", path, why);
        goto out;
    }
    rc = open_key(key_path, p, &s, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    rc = zupd_meta_signed_bytes(m, &msg, &mlen);
    if (rc == ZUPD_OK)
        rc = zp_signer_sign(s, msg, mlen, sig, sizeof(sig));
    if (rc != ZUPD_OK && s != NULL && zp_signer_error(s)[0] != '\0')
        zu_fail(err, cap, rc, "cannot sign '%s': %s", path, zp_signer_error(s));
    if (rc == ZUPD_OK)
        rc = zupd_meta_add_signature(m, zp_signer_keyid(s), sig);
    if (rc == ZUPD_OK)
        rc = zupd_meta_serialize(m, ZUPD_META_PRETTY, &text, &tlen);
    if (rc == ZUPD_OK) {
        char d[4096], b[4096];
        snprintf(d, sizeof(d), "%s", path);
        snprintf(b, sizeof(b), "%s", path);
        dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = dfd < 0 ? zu_errno_to_err(errno) : zu_atomic_write(dfd, basename(b), text, tlen, 0644);
        if (dfd >= 0)
            close(dfd);
    }
    if (rc != ZUPD_OK && err != NULL && err[0] == '\0')
        zu_fail(err, cap, rc, "cannot sign '%s': %s", path, zupd_strerror(rc));
out:
    free(buf);
    free(msg);
    free(text);
    zupd_meta_free(m);
    zp_signer_free(s);
    return rc;
}

/* The role a staged or metadata file is for: "<role>.json" or
 * "<N>.<role>.json". */
static int
role_of(const char *path, enum zp_role *role)
{
    char b[4096], *name, *dot;

    snprintf(b, sizeof(b), "%s", path);
    name = basename(b);
    while (*name >= '0' && *name <= '9')
        name++;
    if (name != basename(b) && *name == '.')
        name++;
    dot = strrchr(name, '.');
    if (dot == NULL || strcmp(dot, ".json") != 0)
        return ZUPD_E_NOTFOUND;
    *dot = '\0';
    return zp_role_parse(name, role);
}

int
zp_import(struct zp_repo *r, const char *path, char *err, size_t cap)
{
    struct zp_import_res res;

    return zp_import2(r, path, &res, err, cap);
}

int
zp_import2(struct zp_repo *r, const char *path, struct zp_import_res *res, char *err, size_t cap)
{
    struct zupd_meta *m = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    enum zp_role role;
    char why[256] = "";
    const struct zupd_meta *d[2];
    size_t nd = 1;
    int rc;

    memset(res, 0, sizeof(*res));
    rc = read_path(path, ZP_META_CAP, &buf, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s': %s", path, zupd_strerror(rc));
    rc = zp_staged_import(r, buf, len, path, res, err, cap);
    free(buf);
    buf = NULL;
    if (rc != ZUPD_E_NOTFOUND || res->staged)
        return rc;
    rc = role_of(path, &role);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "'%s': cannot tell the role from the name (ROLE.json or N.ROLE.json)", path);
    if (role == ZP_R_SNAPSHOT || role == ZP_R_TIMESTAMP)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "'%s' is an online role", zp_role_name(role));
    rc = read_path(path, ZP_META_CAP, &buf, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s': %s", path, zupd_strerror(rc));
    rc = zupd_meta_parse(buf, len, NULL, role == ZP_R_ROOT ? ZUPD_META_ROOT : ZUPD_META_TARGETS, &m,
                         why, sizeof(why));
    free(buf);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "%s", why);
    if (zupd_meta_version(m) != zupd_meta_version(r->m[role]) + 1) {
        rc = zu_fail(err, cap, ZUPD_E_ROLLBACK, "version %llu, expected %llu",
                     (unsigned long long)zupd_meta_version(m),
                     (unsigned long long)zupd_meta_version(r->m[role]) + 1);
        goto out;
    }
    if (zupd_meta_is_expired(m, r->now)) {
        rc = zu_fail(err, cap, ZUPD_E_EXPIRED, "already expired");
        goto out;
    }
    d[0] = r->m[zp_delegator(role)];
    if (role == ZP_R_ROOT) {
        d[1] = m; /* old and new root thresholds */
        nd = 2;
    }
    for (size_t i = 0; i < nd; i++) {
        rc = zupd_meta_verify_role(d[i], zp_role_name(role), m, why, sizeof(why));
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "%s%s", why, i == 1 ? " (the new root's own keys)" : "");
            goto out;
        }
    }
    rc = zp_write_meta(r, role, m, NULL, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    zupd_meta_free(r->m[role]);
    r->m[role] = m;
    m = NULL;
    /* a new root may name new online keys: snapshot and timestamp follow */
    rc = zp_commit2(r, 0, role == ZP_R_ROOT ? 0 : 1u << role, NULL, err, cap);
out:
    zupd_meta_free(m);
    return rc;
}
