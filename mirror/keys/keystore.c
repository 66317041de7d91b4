/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/keystore.c -- key directory: list, find, generate, unlock. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zupd/manifest.h>

#include "zu/fsio.h"
#include "keys/keystore.h"

/* Key files listed from the keys directory: more than any root lists
 * (max_keys, 1024) by far. */
#define KEYS_LIST_MAX ((size_t)1 << 16)

#define KEYFILE_CAP 65536

static int
read_info(const char *dir, const char *name, struct zp_keyinfo *k)
{
    struct zu_map m;
    json_t *doc = NULL;
    json_error_t je;
    const char *id, *pub;
    int dfd, rc;

    memset(k, 0, sizeof(*k));
    if (strlen(name) >= sizeof(k->name) ||
        (size_t)snprintf(k->path, sizeof(k->path), "%s/%s.key", dir, name) >= sizeof(k->path))
        return ZUPD_E_TOOBIG;
    snprintf(k->name, sizeof(k->name), "%s", name);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return zu_errno_to_err(errno);
    {
        char fname[ZP_KEYNAME_MAX + 8];
        snprintf(fname, sizeof(fname), "%s.key", name);
        /* the public half through a symlink too: the key is then found, and
         * unlocking it (zp_signer_load, O_NOFOLLOW) refuses the symlink with
         * the permission error instead of a "missing key" */
        rc = zu_map_file(dfd, fname, ZU_MAP_FOLLOW, &m);
    }
    close(dfd);
    if (rc != ZUPD_OK)
        return rc;
    doc = m.len <= KEYFILE_CAP ? json_loadb((const char *)m.p, m.len, 0, &je) : NULL;
    zu_unmap(&m);
    if (doc == NULL)
        return ZUPD_E_FORMAT;
    id = json_string_value(json_object_get(doc, "keyid"));
    pub = json_string_value(json_object_get(doc, "public"));
    rc = ZUPD_E_FORMAT;
    if (id != NULL && pub != NULL && strlen(id) == 64 && strlen(pub) == 64) {
        memcpy(k->keyid, id, 65);
        memcpy(k->public_hex, pub, 65);
        rc = ZUPD_OK;
    }
    json_decref(doc);
    return rc;
}

static int
cmp_info(const void *a, const void *b)
{
    return strcmp(((const struct zp_keyinfo *)a)->name, ((const struct zp_keyinfo *)b)->name);
}

int
zp_keys_list(const char *dir, struct zp_keyinfo **out, size_t *n)
{
    struct zp_keyinfo *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    DIR *d;
    int rc = ZUPD_OK;

    *out = NULL;
    *n = 0;
    d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? ZUPD_OK : zu_errno_to_err(errno);
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        char name[ZP_KEYNAME_MAX];

        if (l <= 4 || l - 4 >= sizeof(name) || strcmp(de->d_name + l - 4, ".key") != 0)
            continue;
        memcpy(name, de->d_name, l - 4);
        name[l - 4] = '\0';
        if (!zupd_name_is_safe(name))
            continue;
        rc = ZU_GROW(&v, &cap, cnt + 1, KEYS_LIST_MAX);
        if (rc != ZUPD_OK)
            break;
        if (read_info(dir, name, &v[cnt]) == ZUPD_OK)
            cnt++;
    }
    closedir(d);
    if (rc != ZUPD_OK) {
        free(v);
        return rc;
    }
    if (cnt > 0)
        qsort(v, cnt, sizeof(*v), cmp_info);
    *out = v;
    *n = cnt;
    return ZUPD_OK;
}

int
zp_key_find(const char *dir, const char *keyid, struct zp_keyinfo *out)
{
    struct zp_keyinfo *v = NULL;
    size_t n = 0;
    int rc = zp_keys_list(dir, &v, &n);

    if (rc != ZUPD_OK)
        return rc;
    rc = ZUPD_E_NOTFOUND;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].keyid, keyid) == 0) {
            *out = v[i];
            rc = ZUPD_OK;
            break;
        }
    free(v);
    return rc;
}

int
zp_key_by_name(const char *dir, const char *name, struct zp_keyinfo *out)
{
    if (!zupd_name_is_safe(name))
        return ZUPD_E_MISUSE;
    return read_info(dir, name, out);
}

int
zp_key_pubjson(const struct zp_keyinfo *k, char *buf, size_t cap)
{
    int n = snprintf(
        buf, cap, "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"%s\"},\"scheme\":\"ed25519\"}",
        k->public_hex);
    return n > 0 && (size_t)n < cap ? ZUPD_OK : ZUPD_E_TOOBIG;
}

void
zp_kdf_cost_env(struct zp_kdf_cost *out)
{
    const char *e = getenv("ZUPD_KDF_COST");
    struct zp_kdf_cost dflt = ZP_KDF_COST_DEFAULT, min = ZP_KDF_COST_MIN;

    *out = (e != NULL && strcmp(e, "min") == 0) ? min : dflt;
}

int
zp_key_generate(const char *dir, const char *name, const struct zp_pass *p,
                const struct zp_kdf_cost *cost, struct zp_keyinfo *out, char *err, size_t cap)
{
    struct zp_signer *s = NULL;
    char path[4096], *pass = NULL;
    int rc;

    if (!zupd_name_is_safe(name))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid key name '%s'", name);
    if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", dir, name) >= sizeof(path))
        return ZUPD_E_TOOBIG;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return zu_fail(err, cap, zu_errno_to_err(errno), "cannot create key directory '%s': %s",
                       dir, strerror(errno));
    if (access(path, F_OK) == 0)
        return zu_fail(err, cap, ZUPD_E_EXISTS, "key '%s' exists", path);
    pass = sodium_malloc(1024);
    if (pass == NULL)
        return ZUPD_E_NOMEM;
    rc = p->fn(p->opaque, name, true, pass, 1024);
    if (rc != ZUPD_OK) {
        /* the callback found none (or two entries differed): it says why */
        zu_fail(err, cap, rc, "no passphrase for key '%s'%s%s", name,
                rc == ZUPD_E_PASSPHRASE ? "" : ": ",
                rc == ZUPD_E_PASSPHRASE ? "" : zupd_strerror(rc));
        goto out;
    }
    rc = zp_signer_generate(&s);
    if (rc == ZUPD_OK)
        rc = zp_signer_save(s, path, pass, cost);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot write key '%s': %s", path, zupd_strerror(rc));
        goto out;
    }
    rc = read_info(dir, name, out);
out:
    sodium_free(pass);
    zp_signer_free(s);
    return rc;
}

int
zp_key_unlock(const struct zp_keyinfo *k, const struct zp_pass *p, struct zp_signer **out,
              char *err, size_t cap)
{
    char *pass = sodium_malloc(1024);
    int rc;

    *out = NULL;
    if (pass == NULL)
        return ZUPD_E_NOMEM;
    rc = p->fn(p->opaque, k->name, false, pass, 1024);
    if (rc != ZUPD_OK) {
        /* the callback found none (or two entries differed): it says why */
        zu_fail(err, cap, rc, "no passphrase for key '%s'%s%s", k->name,
                rc == ZUPD_E_PASSPHRASE ? "" : ": ",
                rc == ZUPD_E_PASSPHRASE ? "" : zupd_strerror(rc));
        goto out;
    }
    rc = zp_signer_load(k->path, pass, out);
    if (rc == ZUPD_E_PASSPHRASE)
        zu_fail(err, cap, rc, "wrong passphrase for key '%s'", k->name);
    else if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot load key '%s': %s", k->path, zupd_strerror(rc));
out:
    sodium_free(pass);
    return rc;
}
