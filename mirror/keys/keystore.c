/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/keystore.c -- key directory: list, find, generate, unlock; key
 * files and references to PKCS#11 token keys. */
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
#include "keys/passphrase.h"

/* Key files listed from the keys directory: more than any root lists
 * (max_keys, 1024) by far. */
#define KEYS_LIST_MAX ((size_t)1 << 16)

#define KEYFILE_CAP 65536

/* the public members of a key file or token key reference */
static int
info_from_json(const json_t *doc, struct zp_keyinfo *k)
{
    const char *id, *pub, *type, *uri = NULL, *module = NULL;
    const json_t *p11 = json_object_get(doc, "pkcs11");
    size_t pl;

    id = json_string_value(json_object_get(doc, "keyid"));
    pub = json_string_value(json_object_get(doc, "public"));
    type = json_string_value(json_object_get(doc, "keytype"));
    if (type == NULL)
        type = "ed25519"; /* the first key files did not say */
    if (id == NULL || pub == NULL || strlen(id) != 64)
        return ZUPD_E_FORMAT;
    pl = strlen(pub);
    if (!(strcmp(type, "ed25519") == 0 && pl == 64) &&
        !(strcmp(type, "ecdsa") == 0 && pl < sizeof(k->public_key) && p11 != NULL))
        return ZUPD_E_FORMAT;
    if (p11 != NULL) {
        uri = json_string_value(json_object_get(p11, "uri"));
        module = json_string_value(json_object_get(p11, "module"));
        if (uri == NULL || strlen(uri) >= sizeof(k->pkcs11_uri) ||
            (module != NULL && strlen(module) >= sizeof(k->pkcs11_module)))
            return ZUPD_E_FORMAT;
        snprintf(k->pkcs11_uri, sizeof(k->pkcs11_uri), "%s", uri);
        snprintf(k->pkcs11_module, sizeof(k->pkcs11_module), "%s", module != NULL ? module : "");
    }
    memcpy(k->keyid, id, 65);
    snprintf(k->keytype, sizeof(k->keytype), "%s", type);
    memcpy(k->public_key, pub, pl + 1);
    return ZUPD_OK;
}

static int
read_info(const char *dir, const char *name, struct zp_keyinfo *k)
{
    struct zu_map m;
    json_t *doc = NULL;
    json_error_t je;
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
    rc = info_from_json(doc, k);
    json_decref(doc);
    return rc;
}

static int
cmp_info(const void *a, const void *b)
{
    return strcmp(((const struct zp_keyinfo *)a)->name, ((const struct zp_keyinfo *)b)->name);
}

/* the key files of one directory appended to v[0..*cnt) */
static int
list_dir(const char *dir, struct zp_keyinfo **v, size_t *cnt, size_t *cap)
{
    struct dirent *de;
    DIR *d;
    int rc = ZUPD_OK;

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
        rc = ZU_GROW(v, cap, *cnt + 1, KEYS_LIST_MAX);
        if (rc != ZUPD_OK)
            break;
        if (read_info(dir, name, &(*v)[*cnt]) == ZUPD_OK)
            (*cnt)++;
    }
    closedir(d);
    return rc;
}

int
zp_keys_list(const char *dir, struct zp_keyinfo **out, size_t *n)
{
    static const char *const sub[] = {"", "/" ZP_KEYS_ONLINE, "/" ZP_KEYS_OFFLINE};
    struct zp_keyinfo *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = ZUPD_OK;

    *out = NULL;
    *n = 0;
    for (size_t i = 0; rc == ZUPD_OK && i < sizeof(sub) / sizeof(sub[0]); i++) {
        char d[4096];
        if ((size_t)snprintf(d, sizeof(d), "%s%s", dir, sub[i]) >= sizeof(d))
            rc = ZUPD_E_TOOBIG;
        else
            rc = list_dir(d, &v, &cnt, &cap);
    }
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
    static const char *const sub[] = {ZP_KEYS_ONLINE, ZP_KEYS_OFFLINE};
    int rc;

    if (!zupd_name_is_safe(name))
        return ZUPD_E_MISUSE;
    rc = read_info(dir, name, out);
    for (size_t i = 0; rc == ZUPD_E_NOTFOUND && i < sizeof(sub) / sizeof(sub[0]); i++) {
        char d[4096];
        if ((size_t)snprintf(d, sizeof(d), "%s/%s", dir, sub[i]) >= sizeof(d))
            return ZUPD_E_TOOBIG;
        rc = read_info(d, name, out);
    }
    return rc;
}

static json_t *
info_pubkey(const struct zp_keyinfo *k)
{
    bool ec = strcmp(k->keytype, "ecdsa") == 0;

    return json_pack("{s:s,s:s,s:{s:s}}", "keytype", ec ? "ecdsa" : "ed25519", "scheme",
                     ec ? "ecdsa-sha2-nistp256" : "ed25519", "keyval", "public", k->public_key);
}

int
zp_key_pubjson(const struct zp_keyinfo *k, char *buf, size_t cap)
{
    json_t *pub = info_pubkey(k);
    char *text;
    int rc = ZUPD_OK;

    /* plain JSON (a PEM's line ends escaped), which zupd_meta_add_key
     * parses; the key id is of its canonical form */
    text = pub != NULL ? json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(pub);
    if (text == NULL)
        return ZUPD_E_NOMEM;
    if (strlen(text) >= cap)
        rc = ZUPD_E_TOOBIG;
    else
        memcpy(buf, text, strlen(text) + 1);
    free(text);
    return rc;
}

void
zp_kdf_cost_env(struct zp_kdf_cost *out)
{
    const char *e = getenv("ZUPD_KDF_COST");
    struct zp_kdf_cost dflt = ZP_KDF_COST_DEFAULT, min = ZP_KDF_COST_MIN;

    *out = (e != NULL && strcmp(e, "min") == 0) ? min : dflt;
}

int
zp_kdf_cost_for(bool online, const char *level, struct zp_kdf_cost *out)
{
    static const struct {
        const char *name;
        struct zp_kdf_cost cost;
    } levels[] = {
        {"interactive", {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE}},
        {"moderate", {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE}},
        {"sensitive", {crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE}},
    };
    const char *e = getenv("ZUPD_KDF_COST");
    struct zp_kdf_cost min = ZP_KDF_COST_MIN;

    if (level == NULL)
        level = online ? "interactive" : "moderate";
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(level, levels[i].name) == 0) {
            *out = (e != NULL && strcmp(e, "min") == 0) ? min : levels[i].cost;
            return ZUPD_OK;
        }
    return ZUPD_E_MISUSE;
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

/* ------------------------------------------------------------ PKCS#11 keys */

#define PIN_CAP 256

/* The PIN for u: pin-value, else the pin-source file, else p->pin_fn; none
 * (*pin stays "") when there is no way to ask. pin: PIN_CAP bytes. */
static int
uri_pin(const struct zp_p11_uri *u, const struct zp_pass *p, char *pin, char *err, size_t cap)
{
    char why[4400];
    int rc;

    pin[0] = '\0';
    if (u->pin_value != NULL) {
        if (strlen(u->pin_value) >= PIN_CAP)
            return zu_fail(err, cap, ZUPD_E_PASSPHRASE, "PKCS#11 URI: pin-value too long");
        memcpy(pin, u->pin_value, strlen(u->pin_value) + 1);
        return ZUPD_OK;
    }
    if (u->pin_source[0] != '\0') {
        rc = zp_pass_file_read(u->pin_source, pin, PIN_CAP, why, sizeof(why));
        return rc == ZUPD_OK ? rc : zu_fail(err, cap, rc, "%s", why);
    }
    if (p == NULL || p->pin_fn == NULL)
        return ZUPD_OK;
    rc = p->pin_fn(p->opaque, u->token[0] ? u->token : u->object, false, pin, PIN_CAP);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "no PIN for PKCS#11 token '%s'", u->token);
    return ZUPD_OK;
}

/* which module: the override, the URI's, the recorded one, the environment */
static const char *
pick_module(const struct zp_pass *p, const struct zp_p11_uri *u, const char *dflt)
{
    if (p != NULL && p->pkcs11_module != NULL && p->pkcs11_module[0] != '\0')
        return p->pkcs11_module;
    if (u->module_path[0] != '\0')
        return u->module_path;
    if (dflt != NULL && dflt[0] != '\0')
        return dflt;
    return getenv("ZUPD_PKCS11_MODULE");
}

int
zp_key_open_uri(const char *uri, const char *dflt_module, const struct zp_pass *p,
                struct zp_signer **out, char *err, size_t cap)
{
    struct zp_p11_uri u;
    struct zp_p11_key *k = NULL;
    char *pin = NULL;
    int rc;

    *out = NULL;
    rc = zp_p11_uri_parse(uri, &u, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    pin = sodium_malloc(PIN_CAP);
    if (pin == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    rc = uri_pin(&u, p, pin, err, cap);
    if (rc == ZUPD_OK && pin[0] == '\0')
        rc = zu_fail(err, cap, ZUPD_E_PASSPHRASE, "no PIN for PKCS#11 token '%s'", u.token);
    if (rc == ZUPD_OK)
        rc = zp_p11_key_open(pick_module(p, &u, dflt_module), &u, pin, &k, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_signer_from_pkcs11(k, out);
out:
    sodium_free(pin);
    zp_p11_uri_release(&u);
    return rc;
}

/* dir/fname holds text[0..len) (mode 0600), or ZUPD_E_EXISTS */
static int
write_new(const char *dir, const char *fname, const char *text, size_t len)
{
    struct zu_atomic a = {.fd = -1};
    int dfd, rc;

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return zu_errno_to_err(errno);
    rc = zu_atomic_begin(&a, dfd, fname, 0600);
    if (rc == ZUPD_OK)
        rc = zu_write_all(a.fd, text, len);
    if (rc == ZUPD_OK)
        rc = zu_atomic_commit_noreplace(&a);
    zu_atomic_abort(&a);
    close(dfd);
    return rc;
}

int
zp_key_pkcs11(const char *dir, const char *name, const char *uri, const char *module, bool generate,
              enum zp_p11_kind kind, const struct zp_pass *p, struct zp_keyinfo *out, char *err,
              size_t cap)
{
    struct zp_p11_uri u;
    struct zp_p11_key *k = NULL;
    struct zp_signer *s = NULL;
    char fname[ZP_KEYNAME_MAX + 8], path[4096], kept[ZP_P11_URI_MAX], *pin = NULL, *text = NULL;
    const char *mod;
    json_t *pub = NULL, *doc = NULL;
    int rc;

    if (!zupd_name_is_safe(name))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid key name '%s'", name);
    snprintf(fname, sizeof(fname), "%s.key", name);
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, fname) >= sizeof(path))
        return ZUPD_E_TOOBIG;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return zu_fail(err, cap, zu_errno_to_err(errno), "cannot create key directory '%s': %s",
                       dir, strerror(errno));
    if (access(path, F_OK) == 0)
        return zu_fail(err, cap, ZUPD_E_EXISTS, "key '%s' exists", path);
    rc = zp_p11_uri_parse(uri, &u, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_p11_uri_strip_pin(uri, kept, sizeof(kept));
    if (rc != ZUPD_OK)
        goto out;
    mod = pick_module(p, &u, module);
    pin = sodium_malloc(PIN_CAP);
    if (pin == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    rc = uri_pin(&u, p, pin, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    if (generate)
        rc = zp_p11_key_generate(mod, &u, pin[0] ? pin : NULL, kind, &k, err, cap);
    else
        rc = zp_p11_key_open(mod, &u, pin[0] ? pin : NULL, &k, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_signer_from_pkcs11(k, &s);
    if (rc != ZUPD_OK)
        goto out;
    pub = zp_signer_pubkey(s);
    doc = json_pack("{s:i,s:O,s:O,s:s,s:{s:s,s:s}}", "zupd_key", 1, "keytype",
                    json_object_get(pub, "keytype"), "public",
                    json_object_get(json_object_get(pub, "keyval"), "public"), "keyid",
                    zp_signer_keyid(s), "pkcs11", "uri", kept, "module", mod);
    text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    if (text == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    rc = write_new(dir, fname, text, strlen(text));
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot write key '%s': %s", path, zupd_strerror(rc));
        goto out;
    }
    rc = read_info(dir, name, out);
out:
    free(text);
    json_decref(doc);
    json_decref(pub);
    zp_signer_free(s);
    sodium_free(pin);
    zp_p11_uri_release(&u);
    return rc;
}

int
zp_key_unlock(const struct zp_keyinfo *k, const struct zp_pass *p, struct zp_signer **out,
              char *err, size_t cap)
{
    char *pass;
    int rc;

    *out = NULL;
    if (k->pkcs11_uri[0] != '\0') {
        rc = zp_key_open_uri(k->pkcs11_uri, k->pkcs11_module, p, out, err, cap);
        /* the reference is there, its token, object or module is not: an
         * error to report, not a key the caller may skip as absent */
        if (rc == ZUPD_E_NOTFOUND)
            rc = ZUPD_E_MISMATCH;
        if (rc == ZUPD_OK && strcmp(zp_signer_keyid(*out), k->keyid) != 0) {
            zp_signer_free(*out);
            *out = NULL;
            rc = zu_fail(err, cap, ZUPD_E_MISMATCH,
                         "key '%s': the token's key '%s' is not the one recorded (key id %.16s)",
                         k->name, k->pkcs11_uri, k->keyid);
        }
        return rc;
    }
    pass = sodium_malloc(1024);
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
