/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/pkcs11.c -- PKCS#11 keys: RFC 7512 URIs, modules loaded with
 * dlopen, Ed25519 and ECDSA P-256 signing inside the token. */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include <zupd/hash.h>

#include "keys/pkcs11.h"

#define PIN_MAX 256
#define MODULES_MAX 8   /* distinct modules one run loads */
#define OBJECTS_MAX 16  /* objects a search may return before it is ambiguous */
#define SLOTS_MAX 256   /* slots listed per module */
#define EC_POINT_MAX 80 /* DER OCTET STRING of an uncompressed P-256 point: 67 */

/* DER of the curve OIDs (CKA_EC_PARAMS) */
static const uint8_t OID_ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
/* some tokens name the curve with a PrintableString */
static const uint8_t STR_ED25519[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
                                      'd',  's',  '2', '5', '5', '1', '9'};
/* SubjectPublicKeyInfo of a P-256 key up to the 65-byte uncompressed point */
static const uint8_t SPKI_P256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

/* ------------------------------------------------------------ URIs */

bool
zp_p11_is_uri(const char *s)
{
    return s != NULL && strncmp(s, "pkcs11:", 7) == 0;
}

void
zp_p11_uri_release(struct zp_p11_uri *u)
{
    if (u == NULL)
        return;
    sodium_free(u->pin_value);
    u->pin_value = NULL;
}

/* percent-decode v[0..n) into out[0..cap); *out_len the bytes written (a
 * NUL follows them) */
static bool
pct_decode(const char *v, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (c == '%') {
            unsigned char b = 0;
            size_t one = 0;
            if (n - i < 3 || sodium_hex2bin(&b, 1, v + i + 1, 2, NULL, &one, NULL) != 0 || one != 1)
                return false;
            c = b;
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = (uint8_t)c;
    }
    out[o] = 0;
    *out_len = o;
    return true;
}

static bool
attr_is(const char *a, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(a, name, n) == 0;
}

/* one attribute a[0..an) = v[0..vn) of the path (query false) or the query */
static int
uri_attr(struct zp_p11_uri *u, bool query, const char *a, size_t an, const char *v, size_t vn,
         char *err, size_t cap)
{
    uint8_t buf[4096];
    size_t len = 0;
    char *dst = NULL;
    size_t dst_cap = 0;

    if (!pct_decode(v, vn, buf, sizeof(buf), &len))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "PKCS#11 URI: bad or too long value of '%.*s'",
                       (int)an, a);
    if (!query && attr_is(a, an, "token")) {
        dst = u->token;
        dst_cap = sizeof(u->token);
    } else if (!query && attr_is(a, an, "manufacturer")) {
        dst = u->manufacturer;
        dst_cap = sizeof(u->manufacturer);
    } else if (!query && attr_is(a, an, "model")) {
        dst = u->model;
        dst_cap = sizeof(u->model);
    } else if (!query && attr_is(a, an, "serial")) {
        dst = u->serial;
        dst_cap = sizeof(u->serial);
    } else if (!query && attr_is(a, an, "object")) {
        dst = u->object;
        dst_cap = sizeof(u->object);
    } else if (!query && attr_is(a, an, "id")) {
        if (len == 0 || len > sizeof(u->id))
            return zu_fail(err, cap, ZUPD_E_MISUSE, "PKCS#11 URI: id of %zu bytes", len);
        memcpy(u->id, buf, len);
        u->id_len = len;
        return ZUPD_OK;
    } else if (!query && attr_is(a, an, "type")) {
        if (strcmp((char *)buf, "private") != 0 && strcmp((char *)buf, "public") != 0)
            return zu_fail(err, cap, ZUPD_E_MISUSE,
                           "PKCS#11 URI: type '%s' (a signing key is type=private)", buf);
        return ZUPD_OK;
    } else if (!query && ((an > 8 && memcmp(a, "library-", 8) == 0) ||
                          (an > 5 && memcmp(a, "slot-", 5) == 0))) {
        return ZUPD_OK; /* tokens are found by their labels */
    } else if (query && attr_is(a, an, "module-path")) {
        dst = u->module_path;
        dst_cap = sizeof(u->module_path);
    } else if (query && attr_is(a, an, "pin-source")) {
        const char *p = (const char *)buf;
        if (strncmp(p, "file:", 5) == 0)
            p += 5;
        if (p[0] != '/')
            return zu_fail(err, cap, ZUPD_E_MISUSE,
                           "PKCS#11 URI: pin-source wants an absolute file name");
        snprintf(u->pin_source, sizeof(u->pin_source), "%s", p);
        return ZUPD_OK;
    } else if (query && attr_is(a, an, "pin-value")) {
        sodium_free(u->pin_value);
        u->pin_value = sodium_malloc(len + 1);
        if (u->pin_value == NULL)
            return ZUPD_E_NOMEM;
        memcpy(u->pin_value, buf, len + 1);
        sodium_memzero(buf, sizeof(buf));
        return ZUPD_OK;
    } else {
        return zu_fail(err, cap, ZUPD_E_MISUSE, "PKCS#11 URI: unsupported attribute '%.*s'",
                       (int)an, a);
    }
    if (len >= dst_cap || memchr(buf, 0, len) != NULL)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "PKCS#11 URI: value of '%.*s' too long", (int)an,
                       a);
    memcpy(dst, buf, len + 1);
    return ZUPD_OK;
}

int
zp_p11_uri_parse(const char *uri, struct zp_p11_uri *u, char *err, size_t cap)
{
    const char *p, *end;
    bool query = false;
    int rc;

    memset(u, 0, sizeof(*u));
    if (sodium_init() < 0) /* before sodium_malloc (the PIN) */
        return zu_fail(err, cap, ZUPD_E_MISUSE, "cannot initialise libsodium");
    if (!zp_p11_is_uri(uri) || strlen(uri) >= ZP_P11_URI_MAX)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "not a PKCS#11 URI (pkcs11:token=...;object=...)");
    p = uri + 7;
    while (*p != '\0') {
        const char *eq;
        end = p + strcspn(p, query ? "&" : ";?");
        eq = memchr(p, '=', (size_t)(end - p));
        if (end > p) {
            if (eq == NULL || eq == p)
                return zu_fail(err, cap, ZUPD_E_MISUSE, "PKCS#11 URI: '%.*s' is not NAME=VALUE",
                               (int)(end - p), p);
            rc = uri_attr(u, query, p, (size_t)(eq - p), eq + 1, (size_t)(end - eq - 1), err, cap);
            if (rc != ZUPD_OK)
                return rc;
        }
        if (*end == '?') {
            if (query)
                return zu_fail(err, cap, ZUPD_E_MISUSE, "PKCS#11 URI: two '?'");
            query = true;
        }
        p = *end != '\0' ? end + 1 : end;
    }
    if (u->object[0] == '\0' && u->id_len == 0)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "PKCS#11 URI names no object (object=LABEL)");
    return ZUPD_OK;
}

int
zp_p11_uri_strip_pin(const char *uri, char *out, size_t out_cap)
{
    const char *q = strchr(uri, '?');
    bool first = true;
    size_t o;

    if (strlen(uri) >= out_cap)
        return ZUPD_E_TOOBIG;
    if (q == NULL) {
        memcpy(out, uri, strlen(uri) + 1);
        return ZUPD_OK;
    }
    o = (size_t)(q - uri);
    memcpy(out, uri, o);
    out[o] = '\0';
    for (const char *p = q + 1; *p != '\0';) {
        size_t n = strcspn(p, "&");
        if (n > 0 && strncmp(p, "pin-value=", 10) != 0) {
            out[o++] = first ? '?' : '&';
            first = false;
            memcpy(out + o, p, n);
            o += n;
            out[o] = '\0';
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return ZUPD_OK;
}

/* ------------------------------------------------------------ modules */

/* Modules stay mapped until exit: a module (SoftHSM, through OpenSSL)
 * registers atexit handlers that would run into unmapped code after a
 * dlclose. C_Finalize is called when the last key of a module is freed. */
struct module {
    char path[4096];
    void *dl;
    CK_FUNCTION_LIST_PTR f;
    unsigned users;
};
static struct module modules[MODULES_MAX];

static const char *
ckr_text(CK_RV rv)
{
    switch (rv) {
    case CKR_PIN_INCORRECT:
        return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED:
        return "CKR_PIN_LOCKED";
    case CKR_PIN_EXPIRED:
        return "CKR_PIN_EXPIRED";
    case CKR_PIN_LEN_RANGE:
        return "CKR_PIN_LEN_RANGE";
    case CKR_USER_NOT_LOGGED_IN:
        return "CKR_USER_NOT_LOGGED_IN";
    case CKR_MECHANISM_INVALID:
        return "CKR_MECHANISM_INVALID";
    case CKR_KEY_TYPE_INCONSISTENT:
        return "CKR_KEY_TYPE_INCONSISTENT";
    case CKR_TOKEN_NOT_PRESENT:
        return "CKR_TOKEN_NOT_PRESENT";
    case CKR_DEVICE_ERROR:
        return "CKR_DEVICE_ERROR";
    case CKR_ATTRIBUTE_VALUE_INVALID:
        return "CKR_ATTRIBUTE_VALUE_INVALID";
    case CKR_TEMPLATE_INCONSISTENT:
        return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_DOMAIN_PARAMS_INVALID:
        return "CKR_DOMAIN_PARAMS_INVALID";
    case CKR_GENERAL_ERROR:
        return "CKR_GENERAL_ERROR";
    case CKR_ARGUMENTS_BAD:
        return "CKR_ARGUMENTS_BAD";
    case CKR_FUNCTION_FAILED:
        return "CKR_FUNCTION_FAILED";
    default:
        return "a PKCS#11 error";
    }
}

static int
module_get(const char *path, struct module **out, char *err, size_t cap)
{
    CK_C_GetFunctionList gfl;
    struct module *m = NULL;
    CK_RV rv;

    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "no PKCS#11 module: give --pkcs11-module PATH, ZUPD_PKCS11_MODULE or "
                       "module-path= in the URI");
    for (size_t i = 0; i < MODULES_MAX; i++)
        if (modules[i].dl != NULL && strcmp(modules[i].path, path) == 0)
            m = &modules[i];
    if (m == NULL) {
        for (size_t i = 0; m == NULL && i < MODULES_MAX; i++)
            if (modules[i].dl == NULL)
                m = &modules[i];
        if (m == NULL || strlen(path) >= sizeof(m->path))
            return zu_fail(err, cap, ZUPD_E_TOOBIG, "cannot load PKCS#11 module '%s': too many",
                           path);
        m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (m->dl == NULL)
            return zu_fail(err, cap, ZUPD_E_NOTFOUND, "cannot load PKCS#11 module '%s': %s", path,
                           dlerror());
        snprintf(m->path, sizeof(m->path), "%s", path);
        *(void **)&gfl = dlsym(m->dl, "C_GetFunctionList");
        if (gfl == NULL || gfl(&m->f) != CKR_OK || m->f == NULL) {
            m->f = NULL;
            return zu_fail(err, cap, ZUPD_E_NOTFOUND,
                           "cannot load PKCS#11 module '%s': no C_GetFunctionList", path);
        }
    }
    if (m->f == NULL)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND,
                       "cannot load PKCS#11 module '%s': no C_GetFunctionList", path);
    if (m->users == 0) {
        rv = m->f->C_Initialize(NULL);
        if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
            return zu_fail(err, cap, ZUPD_E_IO, "PKCS#11 module '%s': C_Initialize: %s (0x%lx)",
                           path, ckr_text(rv), (unsigned long)rv);
    }
    m->users++;
    *out = m;
    return ZUPD_OK;
}

static void
module_put(struct module *m)
{
    if (m == NULL || m->users == 0)
        return;
    if (--m->users == 0)
        (void)m->f->C_Finalize(NULL);
}

/* ------------------------------------------------------------ tokens, objects */

struct zp_p11_key {
    struct module *m;
    CK_SESSION_HANDLE session;
    bool has_session;
    CK_OBJECT_HANDLE priv;
    bool has_priv;
    enum zp_p11_kind kind;
    uint8_t point[65]; /* ed25519: 32 bytes; P-256: 04 || X || Y */
    char token[ZP_P11_LABEL_MAX];
    char object[ZP_P11_LABEL_MAX];
};

/* a space-padded fixed-size field as a C string */
static void
padded(char *out, size_t cap, const CK_UTF8CHAR *f, size_t n)
{
    while (n > 0 && f[n - 1] == ' ')
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, f, n);
    out[n] = '\0';
}

static bool
matches(const char *want, const CK_UTF8CHAR *f, size_t n)
{
    char have[ZP_P11_LABEL_MAX];

    if (want[0] == '\0')
        return true;
    padded(have, sizeof(have), f, n);
    return strcmp(want, have) == 0;
}

/* The slot of the token u names; the labels seen into seen[] for the
 * message when none matches. */
static int
find_slot(struct zp_p11_key *k, const struct zp_p11_uri *u, CK_SLOT_ID *slot, char *err, size_t cap)
{
    CK_SLOT_ID slots[SLOTS_MAX];
    CK_ULONG n = SLOTS_MAX;
    char seen[512] = "";
    size_t found = 0;
    CK_RV rv;

    rv = k->m->f->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK)
        return zu_fail(err, cap, ZUPD_E_IO, "PKCS#11 module '%s': C_GetSlotList: %s", k->m->path,
                       ckr_text(rv));
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        char label[ZP_P11_LABEL_MAX];
        size_t l = strlen(seen);

        if (k->m->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        padded(label, sizeof(label), ti.label, sizeof(ti.label));
        if (l + strlen(label) + 4 < sizeof(seen))
            snprintf(seen + l, sizeof(seen) - l, "%s'%s'", l > 0 ? ", " : "", label);
        if (!matches(u->token, ti.label, sizeof(ti.label)) ||
            !matches(u->manufacturer, ti.manufacturerID, sizeof(ti.manufacturerID)) ||
            !matches(u->model, ti.model, sizeof(ti.model)) ||
            !matches(u->serial, ti.serialNumber, sizeof(ti.serialNumber)))
            continue;
        if (found++ == 0) {
            *slot = slots[i];
            snprintf(k->token, sizeof(k->token), "%s", label);
        }
    }
    if (found == 0)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND,
                       "PKCS#11 token '%s' not found in module '%s' (tokens: %s)", u->token,
                       k->m->path, seen[0] ? seen : "none");
    if (found > 1)
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "PKCS#11 URI matches %zu tokens of module '%s' (%s): name one with token=",
                       found, k->m->path, seen);
    return ZUPD_OK;
}

/* The one object of class cls that u names; ZUPD_E_NOTFOUND when none. */
static int
find_object(struct zp_p11_key *k, const struct zp_p11_uri *u, CK_OBJECT_CLASS cls,
            CK_OBJECT_HANDLE *obj, char *err, size_t cap)
{
    CK_ATTRIBUTE tmpl[3];
    CK_OBJECT_HANDLE found[OBJECTS_MAX];
    CK_ULONG nt = 0, n = 0;
    CK_RV rv;

    tmpl[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    if (u->object[0] != '\0')
        tmpl[nt++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)(uintptr_t)u->object, strlen(u->object)};
    if (u->id_len > 0)
        tmpl[nt++] = (CK_ATTRIBUTE){CKA_ID, (void *)(uintptr_t)u->id, u->id_len};
    rv = k->m->f->C_FindObjectsInit(k->session, tmpl, nt);
    if (rv == CKR_OK) {
        rv = k->m->f->C_FindObjects(k->session, found, OBJECTS_MAX, &n);
        (void)k->m->f->C_FindObjectsFinal(k->session);
    }
    if (rv != CKR_OK)
        return zu_fail(err, cap, ZUPD_E_IO, "PKCS#11 token '%s': C_FindObjects: %s", k->token,
                       ckr_text(rv));
    if (n == 0)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "PKCS#11 token '%s' has no %s key object '%s'",
                       k->token, cls == CKO_PRIVATE_KEY ? "private" : "public", u->object);
    if (n > 1)
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "PKCS#11 token '%s' has %lu %s key objects '%s': add id= to the URI",
                       k->token, (unsigned long)n, cls == CKO_PRIVATE_KEY ? "private" : "public",
                       u->object);
    *obj = found[0];
    return ZUPD_OK;
}

/* key type and public point from the public key object */
static int
read_public(struct zp_p11_key *k, CK_OBJECT_HANDLE pub, char *err, size_t cap)
{
    CK_KEY_TYPE kt = 0;
    uint8_t params[64], point[EC_POINT_MAX];
    CK_ATTRIBUTE a[3] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},
                         {CKA_EC_PARAMS, params, sizeof(params)},
                         {CKA_EC_POINT, point, sizeof(point)}};
    const uint8_t *p = point;
    size_t pl;
    CK_RV rv;

    rv = k->m->f->C_GetAttributeValue(k->session, pub, a, 3);
    if (rv != CKR_OK)
        return zu_fail(err, cap, ZUPD_E_KEYTYPE,
                       "PKCS#11 key '%s' of token '%s': not an EC or Edwards key (%s)", k->object,
                       k->token, ckr_text(rv));
    pl = a[2].ulValueLen;
    if (kt == CKK_EC_EDWARDS && ((a[1].ulValueLen == sizeof(OID_ED25519) &&
                                  memcmp(params, OID_ED25519, sizeof(OID_ED25519)) == 0) ||
                                 (a[1].ulValueLen == sizeof(STR_ED25519) &&
                                  memcmp(params, STR_ED25519, sizeof(STR_ED25519)) == 0))) {
        k->kind = ZP_P11_ED25519;
        if (pl == 34 && point[0] == 0x04 && point[1] == 32) /* DER OCTET STRING */
            p += 2, pl -= 2;
        if (pl != 32)
            return zu_fail(err, cap, ZUPD_E_FORMAT, "PKCS#11 key '%s': Ed25519 point of %zu bytes",
                           k->object, pl);
    } else if (kt == CKK_EC && a[1].ulValueLen == sizeof(OID_P256) &&
               memcmp(params, OID_P256, sizeof(OID_P256)) == 0) {
        k->kind = ZP_P11_P256;
        if (pl == 67 && point[0] == 0x04 && point[1] == 65)
            p += 2, pl -= 2;
        if (pl != 65 || p[0] != 0x04)
            return zu_fail(err, cap, ZUPD_E_FORMAT,
                           "PKCS#11 key '%s': not an uncompressed P-256 point", k->object);
    } else {
        return zu_fail(err, cap, ZUPD_E_KEYTYPE,
                       "PKCS#11 key '%s' of token '%s': unsupported key type or curve (zupd signs "
                       "with Ed25519 and ECDSA P-256)",
                       k->object, k->token);
    }
    memcpy(k->point, p, pl);
    return ZUPD_OK;
}

static int
check_mechanism(struct zp_p11_key *k, CK_SLOT_ID slot, char *err, size_t cap)
{
    CK_MECHANISM_TYPE mech = k->kind == ZP_P11_ED25519 ? CKM_EDDSA : CKM_ECDSA;
    CK_MECHANISM_INFO mi;
    CK_RV rv = k->m->f->C_GetMechanismInfo(slot, mech, &mi);

    if (rv != CKR_OK || (mi.flags & CKF_SIGN) == 0)
        return zu_fail(err, cap, ZUPD_E_KEYTYPE,
                       "PKCS#11 token '%s' (module '%s') does not sign with %s", k->token,
                       k->m->path, k->kind == ZP_P11_ED25519 ? "CKM_EDDSA" : "CKM_ECDSA");
    return ZUPD_OK;
}

static int
login(struct zp_p11_key *k, const char *pin, char *err, size_t cap)
{
    CK_RV rv = k->m->f->C_Login(k->session, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin));

    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return ZUPD_OK;
    if (rv == CKR_PIN_INCORRECT)
        return zu_fail(err, cap, ZUPD_E_PASSPHRASE, "wrong PIN for PKCS#11 token '%s' (%s)",
                       k->token, ckr_text(rv));
    if (rv == CKR_PIN_LOCKED)
        return zu_fail(err, cap, ZUPD_E_PERM, "the PIN of PKCS#11 token '%s' is locked (%s)",
                       k->token, ckr_text(rv));
    return zu_fail(err, cap, ZUPD_E_PASSPHRASE, "cannot log in to PKCS#11 token '%s': %s (0x%lx)",
                   k->token, ckr_text(rv), (unsigned long)rv);
}

/* module loaded, token found, session open, logged in when pin is given */
static int
key_start(const char *module, const struct zp_p11_uri *u, const char *pin, bool rw,
          struct zp_p11_key **out, CK_SLOT_ID *slot, char *err, size_t cap)
{
    struct zp_p11_key *k;
    CK_RV rv;
    int rc;

    *out = NULL;
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return ZUPD_E_NOMEM;
    snprintf(k->object, sizeof(k->object), "%s", u->object);
    rc = module_get(module, &k->m, err, cap);
    if (rc == ZUPD_OK)
        rc = find_slot(k, u, slot, err, cap);
    if (rc == ZUPD_OK) {
        rv = k->m->f->C_OpenSession(*slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL,
                                    NULL, &k->session);
        if (rv != CKR_OK)
            rc = zu_fail(err, cap, ZUPD_E_IO, "PKCS#11 token '%s': C_OpenSession: %s", k->token,
                         ckr_text(rv));
        else
            k->has_session = true;
    }
    if (rc == ZUPD_OK && pin != NULL)
        rc = login(k, pin, err, cap);
    if (rc != ZUPD_OK) {
        zp_p11_key_free(k);
        return rc;
    }
    *out = k;
    return ZUPD_OK;
}

void
zp_p11_key_free(struct zp_p11_key *k)
{
    if (k == NULL)
        return;
    if (k->has_session)
        (void)k->m->f->C_CloseSession(k->session);
    module_put(k->m);
    free(k);
}

/* public object read, private object found (when logged in), mechanism
 * checked */
static int
key_finish(struct zp_p11_key *k, const struct zp_p11_uri *u, CK_SLOT_ID slot, bool priv, char *err,
           size_t cap)
{
    CK_OBJECT_HANDLE pub;
    int rc;

    rc = find_object(k, u, CKO_PUBLIC_KEY, &pub, err, cap);
    if (rc == ZUPD_OK)
        rc = read_public(k, pub, err, cap);
    if (rc == ZUPD_OK)
        rc = check_mechanism(k, slot, err, cap);
    if (rc == ZUPD_OK && priv) {
        rc = find_object(k, u, CKO_PRIVATE_KEY, &k->priv, err, cap);
        k->has_priv = rc == ZUPD_OK;
    }
    return rc;
}

int
zp_p11_key_open(const char *module, const struct zp_p11_uri *u, const char *pin,
                struct zp_p11_key **out, char *err, size_t cap)
{
    struct zp_p11_key *k = NULL;
    CK_SLOT_ID slot = 0;
    int rc;

    *out = NULL;
    rc = key_start(module, u, pin, false, &k, &slot, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = key_finish(k, u, slot, pin != NULL, err, cap);
    if (rc != ZUPD_OK) {
        zp_p11_key_free(k);
        return rc;
    }
    *out = k;
    return ZUPD_OK;
}

int
zp_p11_key_generate(const char *module, const struct zp_p11_uri *u, const char *pin,
                    enum zp_p11_kind kind, struct zp_p11_key **out, char *err, size_t cap)
{
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM mech = {kind == ZP_P11_ED25519 ? CKM_EC_EDWARDS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN,
                         NULL, 0};
    const uint8_t *oid = kind == ZP_P11_ED25519 ? OID_ED25519 : OID_P256;
    size_t oid_len = kind == ZP_P11_ED25519 ? sizeof(OID_ED25519) : sizeof(OID_P256);
    uint8_t id[64];
    size_t id_len;
    CK_ATTRIBUTE pub_t[6], priv_t[8];
    CK_ULONG np = 0, nq = 0;
    CK_OBJECT_HANDLE hpub, hpriv, old;
    struct zp_p11_key *k = NULL;
    CK_SLOT_ID slot = 0;
    CK_RV rv;
    int rc;

    *out = NULL;
    if (u->object[0] == '\0')
        return zu_fail(err, cap, ZUPD_E_MISUSE, "a new PKCS#11 key needs object=LABEL in the URI");
    if (pin == NULL)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "a new PKCS#11 key needs the token's PIN");
    /* CKA_ID: as given, else a random one, so that the pair is linked */
    id_len = u->id_len;
    if (id_len > 0)
        memcpy(id, u->id, id_len);
    else {
        id_len = 16;
        randombytes_buf(id, id_len);
    }
    rc = key_start(module, u, pin, true, &k, &slot, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (find_object(k, u, CKO_PRIVATE_KEY, &old, NULL, 0) != ZUPD_E_NOTFOUND ||
        find_object(k, u, CKO_PUBLIC_KEY, &old, NULL, 0) != ZUPD_E_NOTFOUND) {
        rc = zu_fail(err, cap, ZUPD_E_EXISTS, "PKCS#11 token '%s' already has a key '%s'", k->token,
                     u->object);
        goto out;
    }
    pub_t[np++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
    pub_t[np++] = (CK_ATTRIBUTE){CKA_VERIFY, &yes, sizeof(yes)};
    pub_t[np++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)(uintptr_t)oid, oid_len};
    pub_t[np++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)(uintptr_t)u->object, strlen(u->object)};
    pub_t[np++] = (CK_ATTRIBUTE){CKA_ID, id, id_len};
    priv_t[nq++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
    priv_t[nq++] = (CK_ATTRIBUTE){CKA_PRIVATE, &yes, sizeof(yes)};
    priv_t[nq++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &yes, sizeof(yes)};
    priv_t[nq++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &no, sizeof(no)};
    priv_t[nq++] = (CK_ATTRIBUTE){CKA_SIGN, &yes, sizeof(yes)};
    priv_t[nq++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)(uintptr_t)u->object, strlen(u->object)};
    priv_t[nq++] = (CK_ATTRIBUTE){CKA_ID, id, id_len};
    rv = k->m->f->C_GenerateKeyPair(k->session, &mech, pub_t, np, priv_t, nq, &hpub, &hpriv);
    if (rv == CKR_MECHANISM_INVALID) {
        rc = zu_fail(err, cap, ZUPD_E_KEYTYPE, "PKCS#11 token '%s' does not make %s keys (%s)",
                     k->token, kind == ZP_P11_ED25519 ? "Ed25519" : "P-256", ckr_text(rv));
        goto out;
    }
    if (rv != CKR_OK) {
        rc = zu_fail(err, cap, ZUPD_E_IO, "PKCS#11 token '%s': C_GenerateKeyPair: %s (0x%lx)",
                     k->token, ckr_text(rv), (unsigned long)rv);
        goto out;
    }
    rc = key_finish(k, u, slot, true, err, cap);
out:
    if (rc != ZUPD_OK) {
        zp_p11_key_free(k);
        return rc;
    }
    *out = k;
    return ZUPD_OK;
}

enum zp_p11_kind
zp_p11_key_kind(const struct zp_p11_key *k)
{
    return k->kind;
}

const char *
zp_p11_key_token(const struct zp_p11_key *k)
{
    return k->token;
}

const char *
zp_p11_key_object(const struct zp_p11_key *k)
{
    return k->object;
}

/* ------------------------------------------------------------ public keys, signatures */

json_t *
zp_p11_key_pubjson(const struct zp_p11_key *k)
{
    uint8_t der[sizeof(SPKI_P256) + 65];
    char b64[sodium_base64_ENCODED_LEN(sizeof(der), sodium_base64_VARIANT_ORIGINAL)];
    char pem[300], hex[65];
    size_t bl, o;

    if (k->kind == ZP_P11_ED25519) {
        zupd_hex_encode(hex, sizeof(hex), k->point, 32);
        return json_pack("{s:s,s:s,s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
                         "public", hex);
    }
    memcpy(der, SPKI_P256, sizeof(SPKI_P256));
    memcpy(der + sizeof(SPKI_P256), k->point, 65);
    sodium_bin2base64(b64, sizeof(b64), der, sizeof(der), sodium_base64_VARIANT_ORIGINAL);
    bl = strlen(b64);
    /* PEM as OpenSSL writes it: 64 characters a line */
    o = (size_t)snprintf(pem, sizeof(pem), "-----BEGIN PUBLIC KEY-----\n");
    for (size_t i = 0; i < bl; i += 64) {
        size_t n = bl - i < 64 ? bl - i : 64;
        memcpy(pem + o, b64 + i, n);
        o += n;
        pem[o++] = '\n';
    }
    snprintf(pem + o, sizeof(pem) - o, "-----END PUBLIC KEY-----\n");
    return json_pack("{s:s,s:s,s:{s:s}}", "keytype", "ecdsa", "scheme", "ecdsa-sha2-nistp256",
                     "keyval", "public", pem);
}

/* one DER INTEGER of the unsigned big-endian v[0..32) at out; its length */
static size_t
der_int(uint8_t *out, const uint8_t *v)
{
    size_t i = 0, n;

    while (i < 31 && v[i] == 0)
        i++;
    n = 32 - i;
    out[0] = 0x02;
    if (v[i] & 0x80) {
        out[1] = (uint8_t)(n + 1);
        out[2] = 0;
        memcpy(out + 3, v + i, n);
        return n + 3;
    }
    out[1] = (uint8_t)n;
    memcpy(out + 2, v + i, n);
    return n + 2;
}

int
zp_p11_key_sign(struct zp_p11_key *k, const uint8_t *msg, size_t len, uint8_t *sig, size_t sig_cap,
                size_t *sig_len, char *err, size_t cap)
{
    CK_MECHANISM mech = {k->kind == ZP_P11_ED25519 ? CKM_EDDSA : CKM_ECDSA, NULL, 0};
    uint8_t digest[ZUPD_SHA256_LEN], raw[64], body[70];
    const uint8_t *in = msg;
    CK_ULONG in_len = len, raw_len = sizeof(raw);
    size_t dlen = 0, bl;
    CK_RV rv;

    *sig_len = 0;
    if (!k->has_priv || sig_cap < 72)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "PKCS#11 key '%s' is not open for signing",
                       k->object);
    if (k->kind == ZP_P11_P256) {
        if (zupd_hash_buf(ZUPD_HASH_SHA256, msg, len, digest, sizeof(digest), &dlen) != ZUPD_OK)
            return ZUPD_E_MISUSE;
        in = digest;
        in_len = dlen;
    }
    rv = k->m->f->C_SignInit(k->session, &mech, k->priv);
    if (rv == CKR_OK)
        rv = k->m->f->C_Sign(k->session, (CK_BYTE_PTR)(uintptr_t)in, in_len, raw, &raw_len);
    if (rv != CKR_OK)
        return zu_fail(err, cap, rv == CKR_MECHANISM_INVALID ? ZUPD_E_KEYTYPE : ZUPD_E_IO,
                       "PKCS#11 key '%s' of token '%s' cannot sign: %s (0x%lx)", k->object,
                       k->token, ckr_text(rv), (unsigned long)rv);
    if (raw_len != 64)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "PKCS#11 key '%s': a signature of %lu bytes",
                       k->object, (unsigned long)raw_len);
    if (k->kind == ZP_P11_ED25519) {
        memcpy(sig, raw, 64);
        *sig_len = 64;
        return ZUPD_OK;
    }
    /* CKM_ECDSA gives r || s; TUF's ecdsa-sha2-nistp256 (and OpenSSL's
     * verifier, lib/key.c) wants the DER SEQUENCE { INTEGER r, INTEGER s } */
    bl = der_int(body, raw);
    bl += der_int(body + bl, raw + 32);
    sig[0] = 0x30;
    sig[1] = (uint8_t)bl;
    memcpy(sig + 2, body, bl);
    *sig_len = bl + 2;
    return ZUPD_OK;
}
