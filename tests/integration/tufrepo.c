/* SPDX-License-Identifier: Apache-2.0 */
/* tests/integration/tufrepo.c -- a test tool (never installed) that builds
 * and mutates a TUF repository in the zupd layout, with the metadata builders
 * of libzupd and the ed25519 keys of libzupdpub, so that attack tests can
 * stage every attack of the TUF specification against the real client.
 *
 * State kept in DIR: keys/<keyid>.key (key files, minimum KDF cost),
 * cur/<role>.json (the current document of each role), dirty (roles changed
 * since the last publish), hashes (present: timestamp and snapshot list
 * lengths and hashes), saved/<name>/ (copies for replays), and repo/ (what
 * is served: metadata/ with consistent snapshots, targets/ hash-prefixed).
 *
 *   tufrepo init DIR [--hashes] [--threshold ROLE N]...
 *   tufrepo add-target DIR ROLE PATH FILE
 *   tufrepo expire DIR ROLE SECONDS          (negative: already expired)
 *   tufrepo publish DIR [--no-snapshot] [--version ROLE V] [--sign ROLE MODE [KEYID]]
 *   tufrepo sign-with DIR ROLE MODE [KEYID]  (mark ROLE changed, publish with MODE)
 *   tufrepo rotate DIR ROLE [--keys N] [--revoke KEYID | --revoke-all]
 *                  [--threshold T] [--sign both|old|new] [--version V] [--expires S]
 *   tufrepo dup-key DIR ROLE                 (root lists ROLE's key twice, threshold 2)
 *   tufrepo keyids DIR ROLE
 *   tufrepo save DIR NAME | restore DIR NAME [ROLE]
 *   tufrepo show FILE                        ("<type> <version>")
 *   tufrepo bench-repo DIR N_TARGETS BIN_BITS (products in 2^BIN_BITS hash bins)
 *
 * Signing MODEs: good (every key of the role), threshold-missing (one key
 * fewer than the threshold), duplicate-signature (one key's signature listed
 * twice), copied-signature (one key's signature also under another key id of
 * the role), unknown-key (a key the delegator does not list), key (only
 * KEYID, e.g. a revoked one), none, tampered (signed, then changed). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <zupd/zupd.h>

#include "keys/signer.h"

#define PASS "tufrepo-test-passphrase"
#define MAXK 16
#define DAY (24 * 3600)

static const char *dir;
static const struct zp_kdf_cost fast = ZP_KDF_COST_MIN;
static const char *const troles[] = {"products", "avdb", "targets"}; /* publish order */

enum mode { M_GOOD, M_MISSING, M_DUP, M_COPIED, M_UNKNOWN, M_KEY, M_NONE, M_TAMPERED };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
    va_list ap;

    fputs("tufrepo: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(NULL);
    _exit(2);
}

#define CK(expr)                                                                    \
    do {                                                                            \
        int rc_ = (expr);                                                           \
        if (rc_ != ZUPD_OK)                                                         \
            die("%s:%d: %s: %s", __FILE__, __LINE__, #expr, zupd_strerror(rc_));    \
    } while (0)

static void pathf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
pathf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        die("path too long");
}

static int
read_file(const char *p, uint8_t **out, size_t *len)
{
    FILE *f = fopen(p, "rb");
    long n;

    *out = NULL;
    *len = 0;
    if (f == NULL)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    *out = malloc((size_t)n + 1);
    if (*out == NULL || fread(*out, 1, (size_t)n, f) != (size_t)n) {
        free(*out);
        *out = NULL;
        fclose(f);
        return -1;
    }
    (*out)[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return 0;
}

static void
write_file(const char *p, const void *buf, size_t len)
{
    char tmp[4200];
    FILE *f;

    pathf(tmp, sizeof(tmp), "%s.tmp", p);
    f = fopen(tmp, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
        die("cannot write '%s': %s", p, strerror(errno));
    if (rename(tmp, p) != 0)
        die("cannot rename to '%s': %s", p, strerror(errno));
}

static void
mkdirs(const char *p)
{
    char b[4096];
    size_t n = strlen(p);

    if (n >= sizeof(b))
        die("path too long");
    memcpy(b, p, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (b[i] != '/' && b[i] != 0)
            continue;
        b[i] = 0;
        if (mkdir(b, 0755) != 0 && errno != EEXIST)
            die("cannot create '%s': %s", b, strerror(errno));
        b[i] = p[i];
    }
}

static void
run(const char *const *argv)
{
    pid_t pid = fork();
    int st;

    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("%s failed", argv[0]);
}

static bool
is_top(const char *role)
{
    return strcmp(role, "root") == 0 || strcmp(role, "timestamp") == 0 ||
           strcmp(role, "snapshot") == 0 || strcmp(role, "targets") == 0;
}

static bool
known_role(const char *role)
{
    return is_top(role) || strcmp(role, "products") == 0 || strcmp(role, "avdb") == 0;
}

/* ------------------------------------------------------------ documents */

static struct zupd_meta *
load_doc(const char *role)
{
    struct zupd_meta *m = NULL;
    char p[4096], why[256] = "";
    uint8_t *buf;
    size_t len;

    pathf(p, sizeof(p), "%s/cur/%s.json", dir, role);
    if (read_file(p, &buf, &len) != 0)
        die("cannot read '%s'", p);
    if (zupd_meta_parse(buf, len, NULL, ZUPD_META_ANY, &m, why, sizeof(why)) != ZUPD_OK)
        die("'%s': %s", p, why);
    free(buf);
    return m;
}

static void
save_doc(const char *role, const struct zupd_meta *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char p[4096];

    CK(zupd_meta_serialize(m, 0, &buf, &len));
    pathf(p, sizeof(p), "%s/cur/%s.json", dir, role);
    write_file(p, buf, len);
    free(buf);
}

static bool
is_dirty(const char *role)
{
    char p[4096], *line;
    uint8_t *buf;
    size_t len;
    bool found = false;

    pathf(p, sizeof(p), "%s/dirty", dir);
    if (read_file(p, &buf, &len) != 0)
        return false;
    for (line = (char *)buf; *line;) {
        size_t n = strcspn(line, "\n");
        if (n == strlen(role) && strncmp(line, role, n) == 0)
            found = true;
        line += n + (line[n] ? 1 : 0);
    }
    free(buf);
    return found;
}

static void
mark_dirty(const char *role)
{
    char p[4096];
    FILE *f;

    if (is_dirty(role))
        return;
    pathf(p, sizeof(p), "%s/dirty", dir);
    f = fopen(p, "a");
    if (f == NULL || fprintf(f, "%s\n", role) < 0 || fclose(f) != 0)
        die("cannot write '%s'", p);
}

static bool
hashes_on(void)
{
    char p[4096];
    struct stat st;

    pathf(p, sizeof(p), "%s/hashes", dir);
    return stat(p, &st) == 0;
}

/* ------------------------------------------------------------ keys */

static struct zp_signer *
load_key(const char *keyid)
{
    struct zp_signer *s = NULL;
    char p[4096];
    uint8_t *alias;
    size_t len;

    pathf(p, sizeof(p), "%s/keys/%s.alias", dir, keyid);
    if (read_file(p, &alias, &len) == 0) {
        /* the same key listed under another key id (dup-key) */
        pathf(p, sizeof(p), "%s/keys/%.64s.key", dir, (const char *)alias);
        free(alias);
    } else {
        pathf(p, sizeof(p), "%s/keys/%s.key", dir, keyid);
    }
    if (zp_signer_load(p, PASS, &s) != ZUPD_OK)
        return NULL;
    return s;
}

/* A new key, saved, added to role of m; its key id into keyid[65]. */
static void
add_new_key(struct zupd_meta *m, const char *role, char *keyid)
{
    struct zp_signer *s = NULL;
    json_t *pub;
    char *text, p[4096];

    CK(zp_signer_generate(&s));
    pub = zp_signer_pubkey(s);
    text = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(pub);
    if (text == NULL)
        die("out of memory");
    CK(zupd_meta_add_key(m, role, (const uint8_t *)text, strlen(text), keyid, 65));
    free(text);
    pathf(p, sizeof(p), "%s/keys/%s.key", dir, keyid);
    CK(zp_signer_save(s, p, PASS, &fast));
    zp_signer_free(s);
}

/* The key ids delegator gives to role (at most MAXK), and its threshold. */
static size_t
role_keyids(const struct zupd_meta *delegator, const char *role, char ids[][65], uint64_t *thr)
{
    size_t n = 0;

    CK(zupd_meta_role(delegator, role, thr, &n));
    if (n > MAXK)
        die("too many keys");
    for (size_t i = 0; i < n; i++)
        snprintf(ids[i], 65, "%s", zupd_meta_role_keyid(delegator, role, i));
    return n;
}

/* Sign m with the keys ids[0..n) (each once, missing key files skipped). */
static void
sign_ids(struct zupd_meta *m, char ids[][65], size_t n)
{
    uint8_t *msg = NULL;
    size_t len = 0;

    zupd_meta_clear_signatures(m);
    CK(zupd_meta_signed_bytes(m, &msg, &len));
    for (size_t i = 0; i < n; i++) {
        char sig[ZP_SIG_HEX_LEN + 1];
        struct zp_signer *s = load_key(ids[i]);
        bool seen = false;

        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(ids[j], ids[i]) == 0;
        if (s == NULL || seen) {
            zp_signer_free(s);
            continue;
        }
        CK(zp_signer_sign(s, msg, len, sig, sizeof(sig)));
        CK(zupd_meta_add_signature(m, ids[i], sig));
        zp_signer_free(s);
    }
    free(msg);
}

/* Serialize m signed for role (delegated by delegator) as mode says. */
static void
sign_doc(struct zupd_meta *m, const struct zupd_meta *delegator, const char *role, enum mode mode,
         const char *keyid, uint8_t **out, size_t *out_len)
{
    char ids[MAXK][65];
    uint64_t thr = 1;
    size_t n = role_keyids(delegator, role, ids, &thr);

    switch (mode) {
    case M_GOOD:
    case M_TAMPERED:
        sign_ids(m, ids, n);
        break;
    case M_MISSING:
        if (thr < 1 || thr - 1 > n)
            die("bad threshold");
        sign_ids(m, ids, (size_t)thr - 1);
        break;
    case M_DUP:
    case M_COPIED:
        sign_ids(m, ids, 1);
        break;
    case M_KEY:
        snprintf(ids[0], sizeof(ids[0]), "%s", keyid);
        sign_ids(m, ids, 1);
        break;
    case M_UNKNOWN: {
        struct zp_signer *s = NULL;
        uint8_t *msg = NULL;
        size_t len = 0;
        char sig[ZP_SIG_HEX_LEN + 1];

        zupd_meta_clear_signatures(m);
        CK(zp_signer_generate(&s));
        CK(zupd_meta_signed_bytes(m, &msg, &len));
        CK(zp_signer_sign(s, msg, len, sig, sizeof(sig)));
        CK(zupd_meta_add_signature(m, zp_signer_keyid(s), sig));
        zp_signer_free(s);
        free(msg);
        break;
    }
    case M_NONE:
        zupd_meta_clear_signatures(m);
        break;
    }
    if (mode == M_TAMPERED)
        CK(zupd_meta_set_expires(m, zupd_meta_expires(m) + 1)); /* signatures kept */
    CK(zupd_meta_serialize(m, 0, out, out_len));
    if (mode == M_DUP || mode == M_COPIED) {
        /* an envelope the builders refuse to make: edit the JSON */
        json_t *doc = json_loadb((const char *)*out, *out_len, 0, NULL), *sigs, *copy;
        char *text;

        sigs = json_object_get(doc, "signatures");
        if (doc == NULL || json_array_size(sigs) != 1 || (mode == M_COPIED && n < 2))
            die("cannot duplicate a signature of %s", role);
        copy = json_deep_copy(json_array_get(sigs, 0));
        if (mode == M_COPIED)
            json_object_set_new(copy, "keyid", json_string(ids[1]));
        json_array_append_new(sigs, copy);
        text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(doc);
        if (text == NULL)
            die("out of memory");
        free(*out);
        *out = (uint8_t *)text;
        *out_len = strlen(text);
    }
}

static enum mode
parse_mode(const char *s)
{
    static const struct {
        const char *name;
        enum mode m;
    } t[] = {{"good", M_GOOD},          {"threshold-missing", M_MISSING},
             {"duplicate-signature", M_DUP}, {"copied-signature", M_COPIED},
             {"unknown-key", M_UNKNOWN}, {"key", M_KEY},
             {"none", M_NONE},           {"tampered", M_TAMPERED}};

    if (strncmp(s, "--", 2) == 0)
        s += 2;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(s, t[i].name) == 0)
            return t[i].m;
    die("unknown signing mode '%s'", s);
}

/* ------------------------------------------------------------ publishing */

static void
hash_file_entry(const uint8_t *buf, size_t len, uint64_t version, struct zupd_meta_file *f)
{
    size_t dl;

    memset(f, 0, sizeof(*f));
    f->version = version;
    if (!hashes_on())
        return;
    f->has_length = true;
    f->length = len;
    f->has_hashes = true;
    f->hashes.count = 1;
    f->hashes.has_sha256 = true;
    CK(zupd_hash_buf(ZUPD_HASH_SHA256, buf, len, f->hashes.sha256, sizeof(f->hashes.sha256), &dl));
}

/* The bytes served for role at its current version. */
static int
served(const char *role, uint64_t version, uint8_t **buf, size_t *len)
{
    char p[4096];

    if (strcmp(role, "timestamp") == 0)
        pathf(p, sizeof(p), "%s/repo/metadata/timestamp.json", dir);
    else
        pathf(p, sizeof(p), "%s/repo/metadata/%llu.%s.json", dir, (unsigned long long)version,
              role);
    return read_file(p, buf, len);
}

static void
write_served(const char *role, uint64_t version, const uint8_t *buf, size_t len)
{
    char p[4096];

    if (strcmp(role, "timestamp") != 0) {
        pathf(p, sizeof(p), "%s/repo/metadata/%llu.%s.json", dir, (unsigned long long)version,
              role);
        write_file(p, buf, len);
    }
    if (strcmp(role, "timestamp") == 0 || strcmp(role, "root") == 0) {
        pathf(p, sizeof(p), "%s/repo/metadata/%s.json", dir, role);
        write_file(p, buf, len);
    }
}

/* Re-sign role (bumped unless bump is false; version > 0 forces it). */
static void
publish_role(const char *role, bool bump, uint64_t version, enum mode mode, const char *keyid)
{
    struct zupd_meta *m = load_doc(role), *deleg;
    struct zupd_meta_file f;
    uint8_t *buf = NULL, *child = NULL;
    size_t len = 0, clen = 0;

    if (version > 0)
        CK(zupd_meta_set_version(m, version));
    else if (bump)
        CK(zupd_meta_set_version(m, zupd_meta_version(m) + 1));
    if (strcmp(role, "snapshot") == 0) {
        for (size_t i = 0; i < sizeof(troles) / sizeof(troles[0]); i++) {
            struct zupd_meta *t = load_doc(troles[i]);
            char name[64];
            if (served(troles[i], zupd_meta_version(t), &child, &clen) != 0)
                die("%s version %llu was never published", troles[i],
                    (unsigned long long)zupd_meta_version(t));
            hash_file_entry(child, clen, zupd_meta_version(t), &f);
            snprintf(name, sizeof(name), "%s.json", troles[i]);
            CK(zupd_meta_set_file(m, name, &f));
            free(child);
            zupd_meta_free(t);
        }
    } else if (strcmp(role, "timestamp") == 0) {
        struct zupd_meta *s = load_doc("snapshot");
        if (served("snapshot", zupd_meta_version(s), &child, &clen) != 0)
            die("snapshot version %llu was never published",
                (unsigned long long)zupd_meta_version(s));
        hash_file_entry(child, clen, zupd_meta_version(s), &f);
        CK(zupd_meta_set_file(m, "snapshot.json", &f));
        free(child);
        zupd_meta_free(s);
    }
    deleg = strcmp(role, "root") == 0 ? NULL : load_doc(is_top(role) ? "root" : "targets");
    sign_doc(m, deleg != NULL ? deleg : m, role, mode, keyid, &buf, &len);
    save_doc(role, m);
    write_served(role, zupd_meta_version(m), buf, len);
    free(buf);
    zupd_meta_free(deleg);
    zupd_meta_free(m);
}

struct pubopts {
    bool no_snapshot;
    const char *sign_role;
    enum mode mode;
    const char *keyid;
    const char *ver_role;
    uint64_t version;
};

static void
publish(const struct pubopts *o)
{
    char p[4096];

    for (size_t i = 0; i < sizeof(troles) / sizeof(troles[0]); i++) {
        const char *r = troles[i];
        bool forced = (o->ver_role != NULL && strcmp(o->ver_role, r) == 0) ||
                      (o->sign_role != NULL && strcmp(o->sign_role, r) == 0);
        if (is_dirty(r) || forced)
            publish_role(r, true, o->ver_role && strcmp(o->ver_role, r) == 0 ? o->version : 0,
                         o->sign_role && strcmp(o->sign_role, r) == 0 ? o->mode : M_GOOD,
                         o->keyid);
    }
    for (int k = 0; k < 2; k++) {
        const char *r = k == 0 ? "snapshot" : "timestamp";
        if (k == 0 && o->no_snapshot)
            continue;
        publish_role(r, true, o->ver_role && strcmp(o->ver_role, r) == 0 ? o->version : 0,
                     o->sign_role && strcmp(o->sign_role, r) == 0 ? o->mode : M_GOOD, o->keyid);
    }
    pathf(p, sizeof(p), "%s/dirty", dir);
    if (unlink(p) != 0 && errno != ENOENT)
        die("cannot remove '%s'", p);
}

/* ------------------------------------------------------------ commands */

static int
cmd_init(int argc, char **argv)
{
    int64_t exp = (int64_t)time(NULL) + 30 * DAY;
    const char *top[] = {"root", "timestamp", "snapshot", "targets"};
    const char *dl[] = {"products", "avdb"};
    struct zupd_meta *root = NULL, *m = NULL;
    uint64_t thr[6] = {1, 1, 1, 1, 1, 1};
    char p[4096], kid[65];

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--hashes") == 0) {
            pathf(p, sizeof(p), "%s/hashes", dir);
            mkdirs(dir);
            write_file(p, "1\n", 2);
        } else if (strcmp(argv[i], "--threshold") == 0 && i + 2 < argc) {
            const char *names[] = {"root", "timestamp", "snapshot", "targets", "products", "avdb"};
            size_t k = 0;
            while (k < 6 && strcmp(names[k], argv[i + 1]) != 0)
                k++;
            if (k == 6)
                die("unknown role '%s'", argv[i + 1]);
            thr[k] = strtoull(argv[i + 2], NULL, 10);
            if (thr[k] < 1 || thr[k] > MAXK)
                die("bad threshold");
            i += 2;
        } else {
            die("init: unknown option '%s'", argv[i]);
        }
    }
    pathf(p, sizeof(p), "%s/keys", dir);
    mkdirs(p);
    if (chmod(p, 0700) != 0)
        die("chmod");
    pathf(p, sizeof(p), "%s/cur", dir);
    mkdirs(p);
    pathf(p, sizeof(p), "%s/repo/metadata", dir);
    mkdirs(p);
    pathf(p, sizeof(p), "%s/repo/targets", dir);
    mkdirs(p);

    CK(zupd_meta_new(ZUPD_META_ROOT, 1, exp, &root));
    for (size_t r = 0; r < 4; r++) {
        for (uint64_t k = 0; k < thr[r]; k++)
            add_new_key(root, top[r], kid);
        CK(zupd_meta_set_threshold(root, top[r], thr[r]));
    }
    save_doc("root", root);
    publish_role("root", false, 0, M_GOOD, NULL);

    CK(zupd_meta_new(ZUPD_META_TARGETS, 1, exp, &m));
    for (size_t r = 0; r < 2; r++) {
        char pat[64];
        const char *pp = pat;
        snprintf(pat, sizeof(pat), "%s/*/*/*", dl[r]); /* <component>/<x>/<file> */
        CK(zupd_meta_add_delegation(m, dl[r], false, &pp, 1, NULL, 0));
        for (uint64_t k = 0; k < thr[4 + r]; k++)
            add_new_key(m, dl[r], kid);
        CK(zupd_meta_set_threshold(m, dl[r], thr[4 + r]));
    }
    save_doc("targets", m);
    zupd_meta_free(m);
    for (size_t r = 0; r < 2; r++) {
        CK(zupd_meta_new(ZUPD_META_TARGETS, 1, exp, &m));
        save_doc(dl[r], m);
        zupd_meta_free(m);
        publish_role(dl[r], false, 0, M_GOOD, NULL);
    }
    publish_role("targets", false, 0, M_GOOD, NULL);
    CK(zupd_meta_new(ZUPD_META_SNAPSHOT, 1, exp, &m));
    save_doc("snapshot", m);
    zupd_meta_free(m);
    publish_role("snapshot", false, 0, M_GOOD, NULL);
    CK(zupd_meta_new(ZUPD_META_TIMESTAMP, 1, exp, &m));
    save_doc("timestamp", m);
    zupd_meta_free(m);
    publish_role("timestamp", false, 0, M_GOOD, NULL);
    zupd_meta_free(root);
    return 0;
}

static int
cmd_add_target(int argc, char **argv)
{
    struct zupd_meta *m;
    struct zupd_hashes h;
    char hex[65], p[4096];
    const char *path, *slash;
    uint8_t *buf;
    size_t len, dl;

    if (argc != 3 || !known_role(argv[0]) || is_top(argv[0]) == (strcmp(argv[0], "targets") != 0))
        die("usage: tufrepo add-target DIR ROLE PATH FILE (ROLE: targets, products, avdb)");
    path = argv[1];
    if (read_file(argv[2], &buf, &len) != 0)
        die("cannot read '%s'", argv[2]);
    memset(&h, 0, sizeof(h));
    h.count = 1;
    h.has_sha256 = true;
    CK(zupd_hash_buf(ZUPD_HASH_SHA256, buf, len, h.sha256, sizeof(h.sha256), &dl));
    zupd_hex_encode(hex, sizeof(hex), h.sha256, sizeof(h.sha256));
    m = load_doc(argv[0]);
    CK(zupd_meta_set_target(m, path, len, &h, NULL, 0));
    save_doc(argv[0], m);
    zupd_meta_free(m);
    mark_dirty(argv[0]);
    slash = strrchr(path, '/');
    if (slash != NULL) {
        pathf(p, sizeof(p), "%s/repo/targets/%.*s", dir, (int)(slash - path), path);
        mkdirs(p);
        pathf(p, sizeof(p), "%s/repo/targets/%.*s/%s.%s", dir, (int)(slash - path), path, hex,
              slash + 1);
    } else {
        pathf(p, sizeof(p), "%s/repo/targets/%s.%s", dir, hex, path);
    }
    write_file(p, buf, len);
    free(buf);
    return 0;
}

static int
cmd_expire(int argc, char **argv)
{
    struct zupd_meta *m;

    if (argc != 2 || !known_role(argv[0]))
        die("usage: tufrepo expire DIR ROLE SECONDS");
    m = load_doc(argv[0]);
    CK(zupd_meta_set_expires(m, (int64_t)time(NULL) + strtoll(argv[1], NULL, 10)));
    save_doc(argv[0], m);
    zupd_meta_free(m);
    if (strcmp(argv[0], "root") == 0)
        publish_role("root", true, 0, M_GOOD, NULL); /* a root is published at once */
    else
        mark_dirty(argv[0]);
    return 0;
}

static int
parse_pubopts(int argc, char **argv, struct pubopts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-snapshot") == 0) {
            o->no_snapshot = true;
        } else if (strcmp(argv[i], "--version") == 0 && i + 2 < argc) {
            o->ver_role = argv[i + 1];
            o->version = strtoull(argv[i + 2], NULL, 10);
            i += 2;
        } else if (strcmp(argv[i], "--sign") == 0 && i + 2 < argc) {
            o->sign_role = argv[i + 1];
            o->mode = parse_mode(argv[i + 2]);
            i += 2;
            if (o->mode == M_KEY) {
                if (i + 1 >= argc)
                    die("--sign ROLE key needs a KEYID");
                o->keyid = argv[++i];
            }
        } else {
            die("publish: unknown option '%s'", argv[i]);
        }
    }
    if ((o->sign_role != NULL && (!known_role(o->sign_role) || strcmp(o->sign_role, "root") == 0)) ||
        (o->ver_role != NULL && (!known_role(o->ver_role) || strcmp(o->ver_role, "root") == 0)))
        die("publish: root is published by rotate");
    return 0;
}

static int
cmd_publish(int argc, char **argv)
{
    struct pubopts o;

    parse_pubopts(argc, argv, &o);
    publish(&o);
    return 0;
}

static int
cmd_sign_with(int argc, char **argv)
{
    struct pubopts o;

    if (argc < 2)
        die("usage: tufrepo sign-with DIR ROLE MODE [KEYID]");
    memset(&o, 0, sizeof(o));
    o.sign_role = argv[0];
    o.mode = parse_mode(argv[1]);
    if (o.mode == M_KEY) {
        if (argc != 3)
            die("sign-with ROLE key needs a KEYID");
        o.keyid = argv[2];
    }
    if (!known_role(o.sign_role) || strcmp(o.sign_role, "root") == 0)
        die("sign-with: ROLE must be a role other than root (see rotate --sign)");
    publish(&o);
    return 0;
}

static int
cmd_rotate(int argc, char **argv)
{
    const char *role, *revoke = NULL, *sign = "both";
    bool revoke_all = false, deleg;
    long keys = -1;
    uint64_t thr = 0, version = 0;
    int64_t expires = 0;
    struct zupd_meta *m, *old;
    char ids[2 * MAXK][65], kid[65];
    uint64_t t;
    size_t n = 0;

    if (argc < 1 || !known_role(argv[0]))
        die("usage: tufrepo rotate DIR ROLE [options]");
    role = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--revoke-all") == 0)
            revoke_all = true;
        else if (strcmp(argv[i], "--revoke") == 0 && v != NULL)
            revoke = argv[++i];
        else if (strcmp(argv[i], "--keys") == 0 && v != NULL)
            keys = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--threshold") == 0 && v != NULL)
            thr = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--sign") == 0 && v != NULL)
            sign = argv[++i];
        else if (strcmp(argv[i], "--version") == 0 && v != NULL)
            version = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--expires") == 0 && v != NULL)
            expires = (int64_t)time(NULL) + strtoll(argv[++i], NULL, 10);
        else
            die("rotate: unknown option '%s'", argv[i]);
    }
    if (keys < 0)
        keys = thr > 0 && !revoke_all && revoke == NULL ? 0 : 1;
    deleg = !is_top(role);
    old = load_doc(deleg ? "targets" : "root");
    m = load_doc(deleg ? "targets" : "root");
    if (revoke_all) {
        char cur[MAXK][65];
        size_t nc = role_keyids(m, role, cur, &t);
        for (size_t i = 0; i < nc; i++)
            CK(zupd_meta_revoke_key(m, role, cur[i]));
    }
    if (revoke != NULL)
        CK(zupd_meta_revoke_key(m, role, revoke));
    for (long k = 0; k < keys; k++) {
        add_new_key(m, role, kid);
        printf("%s\n", kid);
    }
    if (thr > 0)
        CK(zupd_meta_set_threshold(m, role, thr));
    if (deleg) {
        save_doc("targets", m);
        mark_dirty("targets");
        zupd_meta_free(m);
        zupd_meta_free(old);
        return 0;
    }
    CK(zupd_meta_set_version(m, version > 0 ? version : zupd_meta_version(old) + 1));
    if (expires != 0)
        CK(zupd_meta_set_expires(m, expires));
    /* a new root is signed by a threshold of the old root keys and of the new */
    if (strcmp(sign, "both") == 0 || strcmp(sign, "old") == 0)
        n += role_keyids(old, "root", ids + n, &t);
    if (strcmp(sign, "both") == 0 || strcmp(sign, "new") == 0)
        n += role_keyids(m, "root", ids + n, &t);
    if (n == 0 && strcmp(sign, "none") != 0)
        die("rotate: --sign both|old|new|none");
    sign_ids(m, ids, n);
    {
        uint8_t *buf = NULL;
        size_t len = 0;
        CK(zupd_meta_serialize(m, 0, &buf, &len));
        write_served("root", zupd_meta_version(m), buf, len);
        free(buf);
    }
    save_doc("root", m);
    if (strcmp(role, "targets") == 0)
        mark_dirty("targets"); /* re-signed with its new keys at the next publish */
    zupd_meta_free(m);
    zupd_meta_free(old);
    return 0;
}

/* The root lists the first key of role a second time under another key id
 * and asks for a threshold of 2: one key must still count once. */
static int
cmd_dup_key(int argc, char **argv)
{
    struct zupd_meta *m, *nm = NULL;
    uint8_t *sb = NULL;
    size_t sl = 0;
    json_t *signed_, *keys, *roles, *r, *env;
    char ids[MAXK][65], alias[65], p[4096], why[256] = "", *text;
    uint8_t dg[32];
    uint64_t t;
    size_t dl;

    if (argc != 1 || !is_top(argv[0]) || strcmp(argv[0], "root") == 0)
        die("usage: tufrepo dup-key DIR ROLE (timestamp, snapshot, targets)");
    m = load_doc("root");
    if (role_keyids(m, argv[0], ids, &t) < 1)
        die("no key");
    CK(zupd_hash_buf(ZUPD_HASH_SHA256, "alias", 5, dg, sizeof(dg), &dl));
    CK(zupd_hash_buf(ZUPD_HASH_SHA256, ids[0], 64, dg, sizeof(dg), &dl));
    zupd_hex_encode(alias, sizeof(alias), dg, sizeof(dg));
    CK(zupd_meta_signed_bytes(m, &sb, &sl));
    signed_ = json_loadb((const char *)sb, sl, 0, NULL);
    free(sb);
    keys = json_object_get(signed_, "keys");
    roles = json_object_get(signed_, "roles");
    r = json_object_get(roles, argv[0]);
    if (signed_ == NULL || keys == NULL || r == NULL)
        die("unexpected root");
    json_object_set_new(keys, alias, json_deep_copy(json_object_get(keys, ids[0])));
    json_array_append_new(json_object_get(r, "keyids"), json_string(alias));
    json_object_set_new(r, "threshold", json_integer(2));
    json_object_set_new(signed_, "version", json_integer((json_int_t)zupd_meta_version(m) + 1));
    env = json_pack("{s:o,s:[]}", "signed", signed_, "signatures");
    text = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(env);
    if (text == NULL || zupd_meta_parse((const uint8_t *)text, strlen(text), NULL, ZUPD_META_ROOT,
                                        &nm, why, sizeof(why)) != ZUPD_OK)
        die("dup-key: %s", why);
    free(text);
    pathf(p, sizeof(p), "%s/keys/%s.alias", dir, alias);
    write_file(p, ids[0], 64);
    {
        char rid[MAXK][65];
        size_t n = role_keyids(m, "root", rid, &t);
        uint8_t *buf = NULL;
        size_t len = 0;
        sign_ids(nm, rid, n);
        CK(zupd_meta_serialize(nm, 0, &buf, &len));
        write_served("root", zupd_meta_version(nm), buf, len);
        free(buf);
    }
    save_doc("root", nm);
    printf("%s\n", alias);
    zupd_meta_free(nm);
    zupd_meta_free(m);
    return 0;
}

static int
cmd_keyids(int argc, char **argv)
{
    struct zupd_meta *m;
    char ids[MAXK][65];
    uint64_t t;
    size_t n;

    if (argc != 1 || !known_role(argv[0]))
        die("usage: tufrepo keyids DIR ROLE");
    m = load_doc(is_top(argv[0]) ? "root" : "targets");
    n = role_keyids(m, argv[0], ids, &t);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", ids[i]);
    zupd_meta_free(m);
    return 0;
}

static int
cmd_save(int argc, char **argv)
{
    char dst[4096], src[4096];

    if (argc != 1 || strchr(argv[0], '/') != NULL)
        die("usage: tufrepo save DIR NAME");
    pathf(dst, sizeof(dst), "%s/saved/%s", dir, argv[0]);
    mkdirs(dst);
    for (int k = 0; k < 2; k++) {
        pathf(src, sizeof(src), "%s/%s", dir, k == 0 ? "cur" : "repo");
        {
            const char *cp[] = {"cp", "-a", src, dst, NULL};
            run(cp);
        }
    }
    return 0;
}

static int
cmd_restore(int argc, char **argv)
{
    char src[4096], dst[4096];

    if (argc < 1 || argc > 2 || strchr(argv[0], '/') != NULL)
        die("usage: tufrepo restore DIR NAME [ROLE]");
    if (argc == 2) {
        /* one role's document only: the next publish re-signs old content */
        uint8_t *buf;
        size_t len;
        if (!known_role(argv[1]))
            die("unknown role '%s'", argv[1]);
        pathf(src, sizeof(src), "%s/saved/%s/cur/%s.json", dir, argv[0], argv[1]);
        pathf(dst, sizeof(dst), "%s/cur/%s.json", dir, argv[1]);
        if (read_file(src, &buf, &len) != 0)
            die("cannot read '%s'", src);
        write_file(dst, buf, len);
        free(buf);
        return 0;
    }
    for (int k = 0; k < 2; k++) {
        const char *sub = k == 0 ? "cur" : "repo";
        pathf(dst, sizeof(dst), "%s/%s", dir, sub);
        {
            const char *rm[] = {"rm", "-rf", dst, NULL};
            run(rm);
        }
        pathf(src, sizeof(src), "%s/saved/%s/%s", dir, argv[0], sub);
        {
            const char *cp[] = {"cp", "-a", src, dst, NULL};
            run(cp);
        }
    }
    pathf(dst, sizeof(dst), "%s/dirty", dir);
    if (unlink(dst) != 0 && errno != ENOENT)
        die("cannot remove '%s'", dst);
    return 0;
}

static int
cmd_show(const char *file)
{
    struct zupd_meta *m = NULL;
    uint8_t *buf;
    size_t len;
    char why[256] = "";

    if (read_file(file, &buf, &len) != 0)
        die("cannot read '%s'", file);
    if (zupd_meta_parse(buf, len, NULL, ZUPD_META_ANY, &m, why, sizeof(why)) != ZUPD_OK)
        die("'%s': %s", file, why);
    printf("%s %llu\n", zupd_meta_type_name(zupd_meta_type(m)),
           (unsigned long long)zupd_meta_version(m));
    zupd_meta_free(m);
    free(buf);
    return 0;
}

/* A repository for the benchmark, all version 1: products delegates to
 * 2^bits succinct hash bins that list n_targets targets between them, and
 * the channel pointer products/product/channels/stable.json (-> 1.0). */
static int
cmd_bench_repo(int argc, char **argv)
{
    int64_t exp = (int64_t)time(NULL) + 30 * DAY;
    unsigned long n_targets, bits;
    struct zupd_meta *prod, **bins, *m;
    size_t n_bins;
    char kid[65], name[ZUPD_ROLE_NAME_MAX], p[4096];
    const char *ptr = "{\"zupd_channel\":1,\"component\":\"product\",\"channel\":\"stable\","
                      "\"version\":\"1.0\"}";

    if (argc != 2)
        die("usage: tufrepo bench-repo DIR N_TARGETS BIN_BITS");
    n_targets = strtoul(argv[0], NULL, 10);
    bits = strtoul(argv[1], NULL, 10);
    if (bits < 1 || bits > 12)
        die("BIN_BITS: 1..12");
    n_bins = (size_t)1 << bits;
    if (cmd_init(0, NULL) != 0)
        die("init");
    prod = load_doc("products");
    CK(zupd_meta_set_succinct(prod, (unsigned)bits, "bins"));
    add_new_key(prod, NULL, kid);
    bins = calloc(n_bins, sizeof(*bins));
    if (bins == NULL)
        die("out of memory");
    for (size_t i = 0; i < n_bins; i++)
        CK(zupd_meta_new(ZUPD_META_TARGETS, 1, exp, &bins[i]));
    for (unsigned long i = 0; i <= n_targets; i++) {
        struct zupd_hashes h;
        uint8_t dg[32];
        size_t dl, len;
        char path[128], body[64];
        const char *content = body;

        if (i < n_targets) {
            snprintf(path, sizeof(path), "products/bench/1.0/file-%06lu.bin", i);
            snprintf(body, sizeof(body), "content of file %lu\n", i);
        } else {
            snprintf(path, sizeof(path), "products/product/channels/stable.json");
            content = ptr;
        }
        len = strlen(content);
        memset(&h, 0, sizeof(h));
        h.count = 1;
        h.has_sha256 = true;
        CK(zupd_hash_buf(ZUPD_HASH_SHA256, content, len, h.sha256, sizeof(h.sha256), &dl));
        CK(zupd_hash_buf(ZUPD_HASH_SHA256, path, strlen(path), dg, sizeof(dg), &dl));
        {
            uint32_t idx = ((uint32_t)dg[0] << 8 | dg[1]) >> (16 - bits);
            CK(zupd_meta_set_target(bins[idx], path, len, &h, NULL, 0));
        }
        if (i == n_targets) {
            char hex[65];
            zupd_hex_encode(hex, sizeof(hex), h.sha256, sizeof(h.sha256));
            pathf(p, sizeof(p), "%s/repo/targets/products/product/channels", dir);
            mkdirs(p);
            pathf(p, sizeof(p), "%s/repo/targets/products/product/channels/%s.stable.json", dir,
                  hex);
            write_file(p, content, len);
        }
    }
    save_doc("products", prod);
    publish_role("products", true, 0, M_GOOD, NULL);
    {
        struct zupd_meta *snap = load_doc("snapshot");
        struct zupd_meta_file f;
        memset(&f, 0, sizeof(f));
        for (size_t i = 0; i < n_bins; i++) {
            uint8_t *buf = NULL;
            size_t len = 0;
            char fname[ZUPD_ROLE_NAME_MAX + 8];
            CK(zupd_meta_succinct_bin_name(prod, (uint32_t)i, name, sizeof(name)));
            sign_doc(bins[i], prod, name, M_GOOD, NULL, &buf, &len);
            write_served(name, 1, buf, len);
            free(buf);
            f.version = 1;
            snprintf(fname, sizeof(fname), "%s.json", name);
            CK(zupd_meta_set_file(snap, fname, &f));
            zupd_meta_free(bins[i]);
        }
        save_doc("snapshot", snap);
        zupd_meta_free(snap);
    }
    free(bins);
    zupd_meta_free(prod);
    /* snapshot keeps the bins (publish_role only sets the named roles) */
    publish_role("snapshot", true, 0, M_GOOD, NULL);
    publish_role("timestamp", true, 0, M_GOOD, NULL);
    m = load_doc("timestamp");
    printf("timestamp %llu, %zu bins, %lu targets\n", (unsigned long long)zupd_meta_version(m),
           n_bins, n_targets);
    zupd_meta_free(m);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"init", cmd_init},         {"add-target", cmd_add_target},
                {"expire", cmd_expire},     {"publish", cmd_publish},
                {"sign-with", cmd_sign_with}, {"rotate", cmd_rotate},
                {"dup-key", cmd_dup_key},   {"keyids", cmd_keyids},
                {"save", cmd_save},         {"restore", cmd_restore},
                {"bench-repo", cmd_bench_repo}};

    if (zupd_init() != ZUPD_OK)
        die("cannot initialise libzupd");
    if (argc == 3 && strcmp(argv[1], "show") == 0)
        return cmd_show(argv[2]);
    if (argc < 3)
        die("usage: tufrepo COMMAND DIR [ARGS] (see the comment at the top of tufrepo.c)");
    dir = argv[2];
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 3, argv + 3);
    die("unknown command '%s'", argv[1]);
}
