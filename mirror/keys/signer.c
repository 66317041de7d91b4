/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/keys/signer.c -- signing keys: ed25519 keys in passphrase-encrypted key
 * files, and keys in a PKCS#11 token (mirror/keys/pkcs11.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zupd/hash.h>

#include "zu/fsio.h"
#include "zu/json.h"
#include "zu/key.h"
#include "keys/signer.h"

#define KEYFILE_FORMAT 1
#define KEYFILE_MAX_BYTES 65536
/* caps on what a key file may ask of the KDF (libsodium's SENSITIVE level) */
#define KDF_MAX_OPS crypto_pwhash_OPSLIMIT_SENSITIVE
#define KDF_MAX_MEM crypto_pwhash_MEMLIMIT_SENSITIVE

struct zp_signer {
    uint8_t *sk; /* crypto_sign_SECRETKEYBYTES, sodium_malloc; NULL for a token key */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    char keyid[2 * ZUPD_SHA256_LEN + 1];
    struct zp_p11_key *hsm; /* a token key */
    json_t *pub;            /* its public key object */
    char *err;              /* what the token said last, ERR_MAX bytes */
};

#define ERR_MAX 512

void
zp_signer_free(struct zp_signer *s)
{
    if (s == NULL)
        return;
    sodium_free(s->sk); /* wipes */
    zp_p11_key_free(s->hsm);
    json_decref(s->pub);
    free(s->err);
    free(s);
}

bool
zp_signer_is_pkcs11(const struct zp_signer *s)
{
    return s->hsm != NULL;
}

const char *
zp_signer_error(const struct zp_signer *s)
{
    return s->err != NULL ? s->err : "";
}

int
zp_signer_from_pkcs11(struct zp_p11_key *k, struct zp_signer **out)
{
    struct zp_signer *s;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        zp_p11_key_free(k);
        return ZUPD_E_NOMEM;
    }
    s->hsm = k;
    s->pub = zp_p11_key_pubjson(k);
    s->err = calloc(1, ERR_MAX);
    rc = s->pub == NULL || s->err == NULL ? ZUPD_E_NOMEM
                                          : zu_keyid_compute(s->pub, s->keyid, sizeof(s->keyid));
    if (rc != ZUPD_OK) {
        zp_signer_free(s);
        return rc;
    }
    *out = s;
    return ZUPD_OK;
}

json_t *
zp_signer_pubkey(const struct zp_signer *s)
{
    char hex[2 * crypto_sign_PUBLICKEYBYTES + 1];

    if (s->hsm != NULL)
        return json_incref(s->pub);
    zupd_hex_encode(hex, sizeof(hex), s->pk, sizeof(s->pk));
    return json_pack("{s:s,s:s,s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
                     "public", hex);
}

const char *
zp_signer_keyid(const struct zp_signer *s)
{
    return s->keyid;
}

static int
signer_alloc(struct zp_signer **out)
{
    struct zp_signer *s;

    *out = NULL;
    if (zupd_init() != ZUPD_OK)
        return ZUPD_E_MISUSE;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ZUPD_E_NOMEM;
    s->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (s->sk == NULL) {
        free(s);
        return ZUPD_E_NOMEM;
    }
    *out = s;
    return ZUPD_OK;
}

/* derive pk and key id from a 32-byte seed */
static int
signer_from_seed(struct zp_signer *s, const uint8_t *seed)
{
    json_t *pub;
    int rc;

    if (crypto_sign_seed_keypair(s->pk, s->sk, seed) != 0)
        return ZUPD_E_MISUSE;
    pub = zp_signer_pubkey(s);
    if (pub == NULL)
        return ZUPD_E_NOMEM;
    rc = zu_keyid_compute(pub, s->keyid, sizeof(s->keyid));
    json_decref(pub);
    return rc;
}

int
zp_signer_generate(struct zp_signer **out)
{
    struct zp_signer *s = NULL;
    uint8_t *seed = NULL;
    int rc;

    *out = NULL;
    rc = signer_alloc(&s);
    if (rc != ZUPD_OK)
        return rc;
    seed = sodium_malloc(crypto_sign_SEEDBYTES);
    if (seed == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    randombytes_buf(seed, crypto_sign_SEEDBYTES);
    rc = signer_from_seed(s, seed);
    if (rc != ZUPD_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    sodium_free(seed);
    zp_signer_free(s);
    return rc;
}

int
zp_signer_sign(const struct zp_signer *s, const uint8_t *msg, size_t len, char *sig_hex,
               size_t sig_cap)
{
    uint8_t sig[ZP_SIG_HEX_LEN / 2];
    size_t sig_len = 0;
    int rc;

    if (sig_cap < ZP_SIG_HEX_LEN + 1)
        return ZUPD_E_MISUSE;
    sig_hex[0] = 0;
    if (s->hsm != NULL) {
        s->err[0] = '\0';
        rc = zp_p11_key_sign(s->hsm, msg, len, sig, sizeof(sig), &sig_len, s->err, ERR_MAX);
        if (rc == ZUPD_OK)
            zupd_hex_encode(sig_hex, sig_cap, sig, sig_len);
        return rc;
    }
    if (crypto_sign_detached(sig, NULL, msg, len, s->sk) != 0)
        return ZUPD_E_MISUSE;
    zupd_hex_encode(sig_hex, sig_cap, sig, crypto_sign_BYTES);
    return ZUPD_OK;
}

/* key = Argon2id(passphrase, salt) into sodium_malloc memory */
static int
derive(uint8_t *key, const char *passphrase, const uint8_t *salt, unsigned long long ops,
       size_t mem)
{
    if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase, strlen(passphrase), salt, ops,
                      mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ZUPD_E_NOMEM; /* libsodium fails only when it can not allocate */
    return ZUPD_OK;
}

int
zp_signer_encode(const struct zp_signer *s, const char *passphrase, const struct zp_kdf_cost *cost,
                 uint8_t **out, size_t *out_len)
{
    struct zp_kdf_cost dflt = ZP_KDF_COST_DEFAULT;
    uint8_t salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
    uint8_t box[crypto_secretbox_MACBYTES + crypto_sign_SEEDBYTES];
    char salt_hex[2 * sizeof(salt) + 1], nonce_hex[2 * sizeof(nonce) + 1];
    char box_hex[2 * sizeof(box) + 1], pk_hex[2 * crypto_sign_PUBLICKEYBYTES + 1];
    uint8_t *key = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (passphrase == NULL || passphrase[0] == 0 || s->hsm != NULL)
        return ZUPD_E_MISUSE;
    if (cost == NULL)
        cost = &dflt;
    key = sodium_malloc(crypto_secretbox_KEYBYTES);
    if (key == NULL)
        return ZUPD_E_NOMEM;
    randombytes_buf(salt, sizeof(salt));
    randombytes_buf(nonce, sizeof(nonce));
    rc = derive(key, passphrase, salt, cost->opslimit, cost->memlimit);
    if (rc != ZUPD_OK)
        goto out;
    /* the first 32 bytes of libsodium's secret key are the seed */
    crypto_secretbox_easy(box, s->sk, crypto_sign_SEEDBYTES, nonce, key);
    zupd_hex_encode(salt_hex, sizeof(salt_hex), salt, sizeof(salt));
    zupd_hex_encode(nonce_hex, sizeof(nonce_hex), nonce, sizeof(nonce));
    zupd_hex_encode(box_hex, sizeof(box_hex), box, sizeof(box));
    zupd_hex_encode(pk_hex, sizeof(pk_hex), s->pk, sizeof(s->pk));
    doc = json_pack("{s:i,s:s,s:s,s:s,s:s,s:{s:s,s:I,s:I,s:s},s:{s:s,s:s,s:s}}", "zupd_key",
                    KEYFILE_FORMAT, "keytype", "ed25519", "scheme", "ed25519", "public", pk_hex,
                    "keyid", s->keyid, "kdf", "alg", "argon2id13", "opslimit",
                    (json_int_t)cost->opslimit, "memlimit", (json_int_t)cost->memlimit, "salt",
                    salt_hex, "cipher", "alg", "xsalsa20poly1305", "nonce", nonce_hex,
                    "sealed_seed", box_hex);
    if (doc == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    *out_len = strlen(text);
    *out = (uint8_t *)text;
    text = NULL;
out:
    sodium_free(key);
    json_decref(doc);
    free(text);
    return rc;
}

static int
get_hex(const json_t *obj, const char *name, uint8_t *bin, size_t n)
{
    const char *hex;

    if (zu_json_get_str(obj, name, &hex) != ZUPD_OK)
        return ZUPD_E_FORMAT;
    return zupd_hex_decode(bin, n, hex, strlen(hex));
}

int
zp_signer_decode(const uint8_t *buf, size_t len, const char *passphrase, struct zp_signer **out)
{
    const struct zp_kdf_cost max = {KDF_MAX_OPS, KDF_MAX_MEM};

    return zp_signer_decode_capped(buf, len, passphrase, &max, out);
}

int
zp_signer_decode_capped(const uint8_t *buf, size_t len, const char *passphrase,
                        const struct zp_kdf_cost *max, struct zp_signer **out)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    uint8_t salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
    uint8_t box[crypto_secretbox_MACBYTES + crypto_sign_SEEDBYTES];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t *key = NULL, *seed = NULL;
    struct zp_signer *s = NULL;
    const char *alg, *keyid;
    uint64_t fmt, ops, mem;
    json_t *doc = NULL, *kdf, *cipher;
    int rc;

    *out = NULL;
    if (passphrase == NULL)
        return ZUPD_E_MISUSE;
    lim.max_json_bytes = KEYFILE_MAX_BYTES;
    rc = zu_json_load(buf, len, &lim, &doc, NULL, 0);
    if (rc != ZUPD_OK)
        return rc == ZUPD_E_TOOBIG ? ZUPD_E_FORMAT : rc;
    rc = ZUPD_E_FORMAT;
    if (!json_is_object(doc) || zu_json_get_u64(doc, "zupd_key", &fmt) != ZUPD_OK ||
        fmt != KEYFILE_FORMAT || zu_json_get_str(doc, "keytype", &alg) != ZUPD_OK ||
        strcmp(alg, "ed25519") != 0 || zu_json_get_str(doc, "keyid", &keyid) != ZUPD_OK ||
        get_hex(doc, "public", pk, sizeof(pk)) != ZUPD_OK ||
        zu_json_get_obj(doc, "kdf", &kdf) != ZUPD_OK ||
        zu_json_get_obj(doc, "cipher", &cipher) != ZUPD_OK)
        goto out;
    if (zu_json_get_str(kdf, "alg", &alg) != ZUPD_OK || strcmp(alg, "argon2id13") != 0 ||
        zu_json_get_u64(kdf, "opslimit", &ops) != ZUPD_OK ||
        zu_json_get_u64(kdf, "memlimit", &mem) != ZUPD_OK ||
        get_hex(kdf, "salt", salt, sizeof(salt)) != ZUPD_OK)
        goto out;
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > max->opslimit ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > max->memlimit)
        goto out;
    if (zu_json_get_str(cipher, "alg", &alg) != ZUPD_OK || strcmp(alg, "xsalsa20poly1305") != 0 ||
        get_hex(cipher, "nonce", nonce, sizeof(nonce)) != ZUPD_OK ||
        get_hex(cipher, "sealed_seed", box, sizeof(box)) != ZUPD_OK)
        goto out;
    rc = signer_alloc(&s);
    if (rc != ZUPD_OK)
        goto out;
    key = sodium_malloc(crypto_secretbox_KEYBYTES);
    seed = sodium_malloc(crypto_sign_SEEDBYTES);
    if (key == NULL || seed == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    rc = derive(key, passphrase, salt, ops, (size_t)mem);
    if (rc != ZUPD_OK)
        goto out;
    if (crypto_secretbox_open_easy(seed, box, sizeof(box), nonce, key) != 0) {
        rc = ZUPD_E_PASSPHRASE;
        goto out;
    }
    rc = signer_from_seed(s, seed);
    if (rc != ZUPD_OK)
        goto out;
    if (sodium_memcmp(pk, s->pk, sizeof(pk)) != 0 || strcmp(keyid, s->keyid) != 0) {
        rc = ZUPD_E_MISMATCH;
        goto out;
    }
    *out = s;
    s = NULL;
out:
    sodium_free(key);
    sodium_free(seed);
    zp_signer_free(s);
    json_decref(doc);
    return rc;
}

int
zp_signer_save(const struct zp_signer *s, const char *path, const char *passphrase,
               const struct zp_kdf_cost *cost)
{
    struct zu_atomic a = {.fd = -1};
    uint8_t *text = NULL;
    size_t len = 0;
    char base[4096], dir[4096];
    int dfd = -1, rc, e;

    rc = zp_signer_encode(s, passphrase, cost, &text, &len);
    if (rc != ZUPD_OK)
        return rc;
    if ((size_t)snprintf(base, sizeof(base), "%s", path) >= sizeof(base) ||
        (size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir)) {
        rc = ZUPD_E_MISUSE;
        goto out;
    }
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = zu_errno_map(errno, ZU_ERRNO_NO_NOTFOUND);
        goto out;
    }
    rc = zu_atomic_begin(&a, dfd, basename(base), 0600);
    if (rc == ZUPD_OK)
        rc = zu_write_all(a.fd, text, len);
    /* linked, not renamed: an existing key is never replaced (ZUPD_E_EXISTS) */
    if (rc == ZUPD_OK)
        rc = zu_atomic_commit_noreplace(&a);
out:
    e = errno;
    zu_atomic_abort(&a);
    if (dfd >= 0)
        close(dfd);
    free(text);
    errno = e;
    return rc;
}

int
zp_signer_load(const char *path, const char *passphrase, struct zp_signer **out)
{
    uint8_t *buf = NULL;
    struct stat st;
    size_t off = 0;
    int fd, rc;

    *out = NULL;
    /* O_NONBLOCK: a FIFO in place of a key file must not block the
     * publisher (which may hold the repository lock) */
    rc = zu_open_regular(AT_FDCWD, path, 0, UINT64_MAX, &fd, &st, NULL, 0);
    if (rc != ZUPD_OK)
        return errno == EINVAL ? ZUPD_E_PERM : zu_errno_map(errno, ZU_ERRNO_LOOP_PERM);
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        rc = ZUPD_E_PERM;
        goto out;
    }
    if (st.st_size > KEYFILE_MAX_BYTES) {
        rc = ZUPD_E_FORMAT;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    while (off < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = ZUPD_E_IO;
            goto out;
        }
        off += (size_t)n;
    }
    rc = zp_signer_decode(buf, off, passphrase, out);
out:
    close(fd);
    free(buf);
    return rc;
}
