/* SPDX-License-Identifier: Apache-2.0 */
/* tests/interop/zupd-interop.c -- the libzupd side of the interoperability
 * tests with tuf-js (tests/interop/tufjs.sh, docs/internals/interop.md):
 *
 *   zupd-interop canon FILE              canonical JSON of FILE to stdout
 *   zupd-interop canon -o DIR FILE...    each to DIR/<basename>.canon
 *   zupd-interop verify DIR              verify a repository (layout below)
 *   zupd-interop make-repo DIR [--expires T]   build and sign a repository
 *
 * Repository layout, shared with the node scripts in tests/interop:
 *   DIR/metadata/N.root.json (every version from 1), timestamp.json,
 *   N.snapshot.json, N.ROLE.json (consistent snapshot; ROLE.json otherwise),
 *   DIR/targets/PATH-DIR/HASH.NAME (each target once per listed hash).
 *
 * Signature checks go through libzupd's key module (zu_key_verify) over the
 * canonical JSON of "signed" (zu_cjson_dump), counting each key id of the
 * delegating role once. The TUF metadata model (include/zupd/meta.h) will
 * replace the envelope handling marked META below: only that section knows
 * how a role is verified. Exit status: 0 on success, 1 on any failure, with
 * one git-style line on stderr naming the file, the role and the reason. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <zupd/hash.h>
#include <zupd/json.h>

#include "json.h"
#include "key.h"
#include "signer.h"

#define PROG "zupd-interop"
#define MAX_FILE_BYTES (64u << 20)
#define MAX_ROLES 4096
#define MAX_BIT_LENGTH 16 /* hash bins this tool enumerates: 65536 */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* ------------------------------------------------------------------ files */

/* Read path, at most cap bytes (more is ZUPD_E_TOOBIG). *out is NUL-terminated. */
static int
read_file(const char *path, size_t cap, uint8_t **out, size_t *out_len)
{
    FILE *f = NULL;
    uint8_t *buf = NULL;
    size_t len = 0, n;
    int rc = ZUPD_E_IO;

    *out = NULL;
    *out_len = 0;
    f = fopen(path, "rb");
    if (f == NULL)
        return ZUPD_E_IO;
    buf = malloc(cap + 1);
    if (buf == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    n = fread(buf, 1, cap + 1, f);
    if (ferror(f))
        goto out;
    if (n > cap) {
        rc = ZUPD_E_TOOBIG;
        goto out;
    }
    len = n;
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    buf = NULL;
    rc = ZUPD_OK;
out:
    free(buf);
    fclose(f);
    return rc;
}

static int
mkdirs(char *path) /* mkdir -p of path's parent directories; path is restored */
{
    char *p;

    for (p = path + 1; *p != 0; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static int
write_file(const char *path, const void *buf, size_t len)
{
    char *tmp = strdup(path);
    FILE *f;
    int ok;

    if (tmp == NULL || mkdirs(tmp) != 0) {
        free(tmp);
        return fail("cannot create the directories of '%s': %s", path, strerror(errno));
    }
    free(tmp);
    f = fopen(path, "wb");
    if (f == NULL)
        return fail("cannot write '%s': %s", path, strerror(errno));
    ok = fwrite(buf, 1, len, f) == len;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : fail("cannot write '%s': %s", path, strerror(errno));
}

static char *
path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* ------------------------------------------------------------------ canon */

static int
canon_one(const char *file, const char *outdir)
{
    uint8_t *in = NULL, *out = NULL;
    size_t inlen = 0, outlen = 0;
    char *dst = NULL;
    const char *base;
    int rc;

    rc = read_file(file, MAX_FILE_BYTES, &in, &inlen);
    if (rc != ZUPD_OK)
        return fail("cannot read '%s': %s", file, zupd_strerror(rc));
    rc = zupd_cjson_canonicalize(in, inlen, NULL, &out, &outlen);
    free(in);
    if (rc != ZUPD_OK)
        return fail("cannot canonicalize '%s': %s", file, zupd_strerror(rc));
    if (outdir == NULL) {
        rc = fwrite(out, 1, outlen, stdout) == outlen && fflush(stdout) == 0 ? 0 : -1;
        free(out);
        return rc == 0 ? 0 : fail("cannot write to stdout");
    }
    base = strrchr(file, '/');
    base = base != NULL ? base + 1 : file;
    dst = malloc(strlen(outdir) + strlen(base) + 8);
    if (dst == NULL) {
        free(out);
        return fail("out of memory");
    }
    snprintf(dst, strlen(outdir) + strlen(base) + 8, "%s/%s.canon", outdir, base);
    rc = write_file(dst, out, outlen);
    free(dst);
    free(out);
    return rc;
}

static int
cmd_canon(int argc, char **argv)
{
    const char *outdir = NULL;
    int i = 0;

    if (argc >= 2 && strcmp(argv[0], "-o") == 0) {
        outdir = argv[1];
        i = 2;
    }
    if (i >= argc || (outdir == NULL && argc != 1))
        return fail("usage: " PROG " canon FILE | canon -o DIR FILE...");
    for (; i < argc; i++)
        if (canon_one(argv[i], outdir) != 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------------ META */
/* One metadata document: the envelope and the checks on it. When the TUF
 * metadata model lands (include/zupd/meta.h), doc_load() becomes
 * zupd_meta_parse() + its validation and doc_verify() the model's delegate
 * verification; the walk in cmd_verify() keeps its shape. */

struct doc {
    char *file;      /* for messages */
    json_t *env;     /* the whole document */
    json_t *signed_; /* borrowed from env */
};

static void
doc_release(struct doc *d)
{
    free(d->file);
    json_decref(d->env);
    memset(d, 0, sizeof(*d));
}

/* RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" as TUF writes it */
static int
parse_expires(const char *s, time_t *out)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    int v[6] = {0}, idx[6][2] = {{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}};
    struct tm tm;
    size_t i;
    int j;

    if (strlen(s) != sizeof(shape) - 1)
        return -1;
    for (i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return -1;
    }
    for (i = 0; i < 6; i++)
        for (j = 0; j < idx[i][1]; j++)
            v[i] = v[i] * 10 + (s[idx[i][0] + j] - '0');
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    *out = timegm(&tm);
    return 0;
}

/* length and hashes of bytes against a meta / target-info object; every
 * hash of a known algorithm must match and at least one must be known */
static int
check_file_info(const json_t *info, const uint8_t *bytes, size_t len, const char *file)
{
    json_t *jlen = json_object_get(info, "length");
    json_t *hashes = json_object_get(info, "hashes");
    const char *alg;
    json_t *hex;
    int known = 0;

    if (jlen != NULL && (!json_is_integer(jlen) || json_integer_value(jlen) < 0 ||
                         (uint64_t)json_integer_value(jlen) != (uint64_t)len))
        return fail("cannot verify '%s': %s (%zu bytes)", file, zupd_strerror(ZUPD_E_LENGTH), len);
    if (hashes == NULL)
        return 0;
    if (!json_is_object(hashes))
        return fail("cannot verify '%s': hashes: %s", file, zupd_strerror(ZUPD_E_FORMAT));
    json_object_foreach((json_t *)hashes, alg, hex)
    {
        enum zupd_hash_alg a;
        uint8_t dig[ZUPD_HASH_MAX_LEN];
        char got[2 * ZUPD_HASH_MAX_LEN + 1];
        size_t dlen = 0;

        if (!json_is_string(hex))
            return fail("cannot verify '%s': hashes: %s", file, zupd_strerror(ZUPD_E_FORMAT));
        if (zupd_hash_alg_from_name(alg, &a) != ZUPD_OK)
            continue;
        if (zupd_hash_buf(a, bytes, len, dig, sizeof(dig), &dlen) != ZUPD_OK)
            return fail("cannot hash '%s'", file);
        zupd_hex_encode(got, sizeof(got), dig, dlen);
        if (strcasecmp(got, json_string_value(hex)) != 0)
            return fail("cannot verify '%s': %s (%s)", file, zupd_strerror(ZUPD_E_HASH), alg);
        known++;
    }
    if (known == 0 && json_object_size(hashes) > 0)
        return fail("cannot verify '%s': no hash of a known algorithm", file);
    return 0;
}

/* Load file as metadata of the given type. meta (may be NULL) is the
 * snapshot/timestamp entry that pins its version, length and hashes. */
static int
doc_load(const char *file, size_t cap, const char *type, const json_t *meta, struct doc *d)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char why[128] = "";
    const char *t, *spec, *exp;
    uint64_t version, want;
    time_t when;
    int rc;

    memset(d, 0, sizeof(*d));
    d->file = strdup(file);
    if (d->file == NULL)
        return fail("out of memory");
    rc = read_file(file, cap, &bytes, &len);
    if (rc != ZUPD_OK)
        return fail("cannot read '%s': %s", file,
                    rc == ZUPD_E_IO ? strerror(errno) : zupd_strerror(rc));
    if (meta != NULL && check_file_info(meta, bytes, len, file) != 0) {
        free(bytes);
        return -1;
    }
    rc = zu_json_load(bytes, len, &lim, &d->env, why, sizeof(why));
    free(bytes);
    if (rc != ZUPD_OK)
        return fail("cannot load '%s': %s: %s", file, zupd_strerror(rc), why);
    if (!json_is_object(d->env) || zu_json_get_obj(d->env, "signed", &d->signed_) != ZUPD_OK ||
        !json_is_array(json_object_get(d->env, "signatures")))
        return fail("cannot load '%s': not a signed metadata envelope", file);
    if (zu_json_get_str(d->signed_, "_type", &t) != ZUPD_OK || strcmp(t, type) != 0)
        return fail("cannot load '%s': _type is not '%s'", file, type);
    if (zu_json_get_str(d->signed_, "spec_version", &spec) != ZUPD_OK ||
        strncmp(spec, "1.", 2) != 0)
        return fail("cannot load '%s': %s", file, zupd_strerror(ZUPD_E_SPEC));
    if (zu_json_get_u64(d->signed_, "version", &version) != ZUPD_OK || version == 0)
        return fail("cannot load '%s': bad version", file);
    if (zu_json_get_str(d->signed_, "expires", &exp) != ZUPD_OK || parse_expires(exp, &when) != 0)
        return fail("cannot load '%s': bad expires", file);
    if (meta != NULL) {
        if (zu_json_get_u64(meta, "version", &want) != ZUPD_OK)
            return fail("cannot load '%s': its meta entry has no version", file);
        if (version != want)
            return fail("cannot verify '%s': %s (version %llu, expected %llu)", file,
                        zupd_strerror(ZUPD_E_MISMATCH), (unsigned long long)version,
                        (unsigned long long)want);
    }
    return 0;
}

static uint64_t
doc_version(const struct doc *d)
{
    return (uint64_t)json_integer_value(json_object_get(d->signed_, "version"));
}

static int
doc_check_expiry(const struct doc *d, const char *role)
{
    time_t when = 0;

    if (parse_expires(json_string_value(json_object_get(d->signed_, "expires")), &when) != 0 ||
        when <= time(NULL))
        return fail("cannot verify '%s': role '%s': %s", d->file, role,
                    zupd_strerror(ZUPD_E_EXPIRED));
    return 0;
}

/* Is d signed by a threshold of the keys role_def ({"keyids","threshold"})
 * names, looked up in keys? Each key id counts once; signatures by other
 * keys, unknown key types and bad signatures are ignored, never fatal. */
static int
doc_verify(const struct doc *d, const json_t *keys, const json_t *role_def, const char *role)
{
    json_t *keyids = NULL, *sigs = json_object_get(d->env, "signatures"), *sig;
    const char **counted = NULL;
    uint8_t *canon = NULL;
    size_t canon_len = 0, i, j, nvalid = 0;
    uint64_t threshold = 0;
    int rc = -1;

    if (!json_is_object(keys) || !json_is_object(role_def) ||
        zu_json_get_arr(role_def, "keyids", &keyids) != ZUPD_OK ||
        zu_json_get_u64(role_def, "threshold", &threshold) != ZUPD_OK || threshold == 0)
        return fail("cannot verify '%s': role '%s': bad keys or role definition in its "
                    "delegator",
                    d->file, role);
    if (zu_cjson_dump(d->signed_, MAX_FILE_BYTES, &canon, &canon_len) != ZUPD_OK)
        return fail("cannot verify '%s': signed part has no canonical form", d->file);
    counted = calloc(json_array_size(sigs) + 1, sizeof(*counted));
    if (counted == NULL)
        goto out;
    json_array_foreach(sigs, i, sig)
    {
        const char *keyid, *sighex;
        struct zu_key *k = NULL;
        bool listed = false, dup = false;
        json_t *kid;
        size_t n;

        if (zu_json_get_str(sig, "keyid", &keyid) != ZUPD_OK ||
            zu_json_get_str(sig, "sig", &sighex) != ZUPD_OK) {
            fail("cannot verify '%s': malformed signature entry", d->file);
            goto out;
        }
        json_array_foreach(keyids, n, kid) if (json_is_string(kid) &&
                                               strcmp(json_string_value(kid), keyid) == 0) listed =
            true;
        for (j = 0; j < nvalid; j++)
            if (strcmp(counted[j], keyid) == 0)
                dup = true;
        if (!listed || dup)
            continue;
        if (zu_key_from_json(json_object_get(keys, keyid), &k) != ZUPD_OK)
            continue;
        if (zu_key_verify(k, canon, canon_len, sighex) == ZUPD_OK)
            counted[nvalid++] = keyid;
        zu_key_free(k);
    }
    if (nvalid < threshold) {
        fail("cannot verify '%s': role '%s': %s (%zu of %llu)", d->file, role,
             zupd_strerror(ZUPD_E_THRESHOLD), nvalid, (unsigned long long)threshold);
        goto out;
    }
    rc = 0;
out:
    free(counted);
    free(canon);
    return rc;
}

/* ------------------------------------------------------------------ verify */

struct walk {
    const char *dir;
    char *metadir;
    bool consistent;
    json_t *snapmeta; /* snapshot's "meta", borrowed */
    char *seen[MAX_ROLES];
    size_t nseen;
    size_t nroles, ntargets;
};

static bool
safe_name(const char *s)
{
    return s[0] != 0 && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static char *
meta_path(const struct walk *w, const char *role, uint64_t version)
{
    char name[512];

    if (w->consistent)
        snprintf(name, sizeof(name), "%llu.%s.json", (unsigned long long)version, role);
    else
        snprintf(name, sizeof(name), "%s.json", role);
    return path_join(w->metadir, name);
}

/* load a targets role at the version the snapshot pins */
static int
load_role(struct walk *w, const char *role, struct doc *d)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    char entry[512];
    json_t *meta;
    uint64_t version = 0;
    char *file;
    int rc;

    memset(d, 0, sizeof(*d));
    if (!safe_name(role) || strlen(role) > 256)
        return fail("refusing role name '%s'", role);
    snprintf(entry, sizeof(entry), "%s.json", role);
    meta = json_object_get(w->snapmeta, entry);
    if (meta == NULL || zu_json_get_u64(meta, "version", &version) != ZUPD_OK)
        return fail("role '%s' is not in the snapshot", role);
    file = meta_path(w, role, version);
    if (file == NULL)
        return fail("out of memory");
    rc = doc_load(file, lim.max_targets_bytes, "targets", meta, d);
    free(file);
    return rc;
}

static int
mark_seen(struct walk *w, const char *role)
{
    if (w->nseen == MAX_ROLES)
        return fail("more than %d roles", MAX_ROLES);
    w->seen[w->nseen] = strdup(role);
    if (w->seen[w->nseen] == NULL)
        return fail("out of memory");
    w->nseen++;
    return 0;
}

static bool
was_seen(const struct walk *w, const char *role)
{
    size_t i;

    for (i = 0; i < w->nseen; i++)
        if (strcmp(w->seen[i], role) == 0)
            return true;
    return false;
}

/* every target of d is in DIR/targets under each of its hashes */
static int
check_targets(struct walk *w, const struct doc *d, const char *role)
{
    json_t *targets = json_object_get(d->signed_, "targets"), *info;
    const char *tpath;

    if (!json_is_object(targets))
        return fail("cannot verify '%s': role '%s' has no targets object", d->file, role);
    json_object_foreach(targets, tpath, info)
    {
        json_t *hashes = json_object_get(info, "hashes"), *hex;
        const char *alg, *slash = strrchr(tpath, '/');
        json_int_t length = json_integer_value(json_object_get(info, "length"));

        if (!json_is_object(info) || !json_is_object(hashes) || json_object_size(hashes) == 0 ||
            !json_is_integer(json_object_get(info, "length")) || length < 0)
            return fail("cannot verify '%s': target '%s': bad target info", d->file, tpath);
        if (tpath[0] == '/' || strstr(tpath, "..") != NULL)
            return fail("cannot verify '%s': refusing target path '%s'", d->file, tpath);
        json_object_foreach(hashes, alg, hex)
        {
            char *rel, *file;
            uint8_t *bytes = NULL;
            size_t len = 0, n = strlen(tpath) + 2 * ZUPD_HASH_MAX_LEN + 16;
            int rc;

            if (!json_is_string(hex) || strchr(json_string_value(hex), '/') != NULL)
                return fail("cannot verify '%s': target '%s': bad hashes", d->file, tpath);
            rel = malloc(n);
            if (rel == NULL)
                return fail("out of memory");
            if (slash != NULL)
                snprintf(rel, n, "targets/%.*s/%s.%s", (int)(slash - tpath), tpath,
                         json_string_value(hex), slash + 1);
            else
                snprintf(rel, n, "targets/%s.%s", json_string_value(hex), tpath);
            file = path_join(w->dir, rel);
            free(rel);
            if (file == NULL)
                return fail("out of memory");
            rc = read_file(file, (size_t)length, &bytes, &len);
            if (rc != ZUPD_OK) {
                fail("target '%s' of role '%s': cannot read '%s': %s", tpath, role, file,
                     rc == ZUPD_E_IO ? strerror(errno) : zupd_strerror(ZUPD_E_LENGTH));
                free(file);
                return -1;
            }
            rc = check_file_info(info, bytes, len, file);
            free(bytes);
            free(file);
            if (rc != 0)
                return -1;
        }
        w->ntargets++;
    }
    return 0;
}

/* names of the roles a delegations object delegates to, in order */
static int
delegated_names(const struct doc *d, const json_t *deleg, char ***out, size_t *n_out)
{
    json_t *roles = json_object_get(deleg, "roles"),
           *succ = json_object_get(deleg, "succinct_roles");
    char **names = NULL;
    size_t i, n = 0;

    *out = NULL;
    *n_out = 0;
    if ((roles == NULL) == (succ == NULL) || !json_is_object(json_object_get(deleg, "keys")))
        return fail("cannot verify '%s': delegations need keys and exactly one of roles, "
                    "succinct_roles",
                    d->file);
    if (roles != NULL) {
        json_t *r;

        if (!json_is_array(roles) || json_array_size(roles) > MAX_ROLES)
            return fail("cannot verify '%s': bad delegations.roles", d->file);
        names = calloc(json_array_size(roles) + 1, sizeof(*names));
        if (names == NULL)
            return fail("out of memory");
        json_array_foreach(roles, i, r)
        {
            const char *name;
            bool term;

            if (zu_json_get_str(r, "name", &name) != ZUPD_OK ||
                zu_json_get_bool(r, "terminating", &term) != ZUPD_OK ||
                (json_object_get(r, "paths") != NULL &&
                 json_object_get(r, "path_hash_prefixes") != NULL))
                goto bad;
            names[n] = strdup(name);
            if (names[n++] == NULL)
                goto bad;
        }
    } else {
        const char *prefix;
        uint64_t bits = 0, bins, b;
        int width;

        if (zu_json_get_str(succ, "name_prefix", &prefix) != ZUPD_OK ||
            zu_json_get_u64(succ, "bit_length", &bits) != ZUPD_OK || bits < 1 ||
            bits > MAX_BIT_LENGTH)
            return fail("cannot verify '%s': bad succinct_roles (bit_length 1..%d here)", d->file,
                        MAX_BIT_LENGTH);
        bins = 1ull << bits;
        width = (int)snprintf(NULL, 0, "%llx", (unsigned long long)(bins - 1));
        names = calloc(bins + 1, sizeof(*names));
        if (names == NULL)
            return fail("out of memory");
        for (b = 0; b < bins; b++) {
            size_t len = strlen(prefix) + 32;

            names[n] = malloc(len);
            if (names[n] == NULL)
                goto bad;
            snprintf(names[n++], len, "%s-%0*llx", prefix, width, (unsigned long long)b);
        }
    }
    *out = names;
    *n_out = n;
    return 0;
bad:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return fail("cannot verify '%s': bad delegated role", d->file);
}

/* the role definition ({"keyids","threshold",...}) that delegates name */
static const json_t *
delegation_of(const json_t *deleg, const char *name)
{
    json_t *roles = json_object_get(deleg, "roles"), *r;
    size_t i;

    if (roles == NULL)
        return json_object_get(deleg, "succinct_roles"); /* names came from it */
    json_array_foreach(
        roles, i, r) if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0) return r;
    return NULL;
}

static int
cmd_verify(int argc, char **argv)
{
    struct zupd_limits lim = ZUPD_LIMITS_DEFAULT;
    struct walk w;
    struct doc root = {0}, next = {0}, ts = {0}, snap = {0};
    struct doc *queue = NULL;
    size_t qhead = 0, qlen = 0, i;
    json_t *snapentry, *v;
    const char *entry;
    char *file = NULL, name[64];
    uint64_t ver;
    int rc = -1;

    if (argc != 1)
        return fail("usage: " PROG " verify DIR");
    memset(&w, 0, sizeof(w));
    w.dir = argv[0];
    w.metadir = path_join(w.dir, "metadata");
    queue = calloc(MAX_ROLES, sizeof(*queue));
    if (w.metadir == NULL || queue == NULL) {
        fail("out of memory");
        goto out;
    }

    /* root chain: each version signed by the previous one's root keys and
     * by its own */
    file = path_join(w.metadir, "1.root.json");
    if (file == NULL || doc_load(file, lim.max_root_bytes, "root", NULL, &root) != 0)
        goto out;
    if (doc_version(&root) != 1) {
        fail("cannot verify '%s': version is not 1", root.file);
        goto out;
    }
    if (doc_verify(&root, json_object_get(root.signed_, "keys"),
                   json_object_get(json_object_get(root.signed_, "roles"), "root"), "root") != 0)
        goto out;
    w.nroles++;
    for (ver = 2; ver <= lim.max_root_rotations + 1; ver++) {
        struct stat st;

        free(file);
        snprintf(name, sizeof(name), "%llu.root.json", (unsigned long long)ver);
        file = path_join(w.metadir, name);
        if (file == NULL || stat(file, &st) != 0)
            break;
        if (doc_load(file, lim.max_root_bytes, "root", NULL, &next) != 0)
            goto out;
        if (doc_version(&next) != ver) {
            fail("cannot verify '%s': %s (version %llu)", file, zupd_strerror(ZUPD_E_MISMATCH),
                 (unsigned long long)doc_version(&next));
            goto out;
        }
        if (doc_verify(&next, json_object_get(root.signed_, "keys"),
                       json_object_get(json_object_get(root.signed_, "roles"), "root"),
                       "root (previous version's keys)") != 0 ||
            doc_verify(&next, json_object_get(next.signed_, "keys"),
                       json_object_get(json_object_get(next.signed_, "roles"), "root"),
                       "root") != 0)
            goto out;
        doc_release(&root);
        root = next;
        memset(&next, 0, sizeof(next));
        w.nroles++;
    }
    if (doc_check_expiry(&root, "root") != 0)
        goto out;
    w.consistent = json_is_true(json_object_get(root.signed_, "consistent_snapshot"));

    /* timestamp, then the snapshot it pins */
    free(file);
    file = path_join(w.metadir, "timestamp.json");
    if (file == NULL || doc_load(file, lim.max_timestamp_bytes, "timestamp", NULL, &ts) != 0 ||
        doc_verify(&ts, json_object_get(root.signed_, "keys"),
                   json_object_get(json_object_get(root.signed_, "roles"), "timestamp"),
                   "timestamp") != 0 ||
        doc_check_expiry(&ts, "timestamp") != 0)
        goto out;
    w.nroles++;
    snapentry = json_object_get(json_object_get(ts.signed_, "meta"), "snapshot.json");
    if (zu_json_get_u64(snapentry, "version", &ver) != ZUPD_OK) {
        fail("cannot verify '%s': no meta for snapshot.json", ts.file);
        goto out;
    }
    free(file);
    file = meta_path(&w, "snapshot", ver);
    if (file == NULL || doc_load(file, lim.max_snapshot_bytes, "snapshot", snapentry, &snap) != 0 ||
        doc_verify(&snap, json_object_get(root.signed_, "keys"),
                   json_object_get(json_object_get(root.signed_, "roles"), "snapshot"),
                   "snapshot") != 0 ||
        doc_check_expiry(&snap, "snapshot") != 0)
        goto out;
    w.nroles++;
    w.snapmeta = json_object_get(snap.signed_, "meta");
    if (!json_is_object(w.snapmeta)) {
        fail("cannot verify '%s': no meta", snap.file);
        goto out;
    }

    /* targets by root, then every delegated role by its delegator, breadth
     * first from the top */
    if (load_role(&w, "targets", &queue[0]) != 0 ||
        doc_verify(&queue[0], json_object_get(root.signed_, "keys"),
                   json_object_get(json_object_get(root.signed_, "roles"), "targets"),
                   "targets") != 0 ||
        doc_check_expiry(&queue[0], "targets") != 0 || mark_seen(&w, "targets") != 0)
        goto out;
    qlen = 1;
    w.nroles++;
    for (qhead = 0; qhead < qlen; qhead++) {
        struct doc *d = &queue[qhead];
        const char *role = w.seen[qhead];
        json_t *deleg = json_object_get(d->signed_, "delegations");
        char **names = NULL;
        size_t n = 0, k;
        int bad = 0;

        if (check_targets(&w, d, role) != 0)
            goto out;
        if (deleg == NULL)
            continue;
        if (delegated_names(d, deleg, &names, &n) != 0)
            goto out;
        for (k = 0; k < n; k++) {
            if (bad || was_seen(&w, names[k]))
                continue;
            if (qlen == MAX_ROLES) {
                bad = fail("more than %d roles", MAX_ROLES);
                continue;
            }
            if (load_role(&w, names[k], &queue[qlen]) != 0 ||
                doc_verify(&queue[qlen], json_object_get(deleg, "keys"),
                           delegation_of(deleg, names[k]), names[k]) != 0 ||
                doc_check_expiry(&queue[qlen], names[k]) != 0 || mark_seen(&w, names[k]) != 0) {
                bad = -1;
                continue;
            }
            qlen++;
            w.nroles++;
        }
        for (k = 0; k < n; k++)
            free(names[k]);
        free(names);
        if (bad)
            goto out;
    }
    json_object_foreach(w.snapmeta, entry, v)
    {
        size_t elen = strlen(entry);
        char role[512];

        if (elen <= 5 || elen - 5 >= sizeof(role) || strcmp(entry + elen - 5, ".json") != 0) {
            fail("cannot verify '%s': odd meta entry '%s'", snap.file, entry);
            goto out;
        }
        memcpy(role, entry, elen - 5);
        role[elen - 5] = 0;
        if (!was_seen(&w, role)) {
            fail("cannot verify '%s': it lists '%s', which no role delegates", snap.file, entry);
            goto out;
        }
    }
    printf(PROG ": verify %s: OK: %zu roles verified, %zu targets\n", w.dir, w.nroles, w.ntargets);
    rc = 0;
out:
    for (i = 0; queue != NULL && i < MAX_ROLES; i++)
        doc_release(&queue[i]); /* also a role that failed half-loaded */
    for (i = 0; i < w.nseen; i++)
        free(w.seen[i]);
    free(queue);
    doc_release(&root);
    doc_release(&next);
    doc_release(&ts);
    doc_release(&snap);
    free(file);
    free(w.metadir);
    return rc;
}

/* ------------------------------------------------------------------ make-repo */
/* Hand-built JSON until the metadata model's serializer lands; signed with
 * the publisher's ed25519 signer (mirror/signer.h). */

struct repo {
    const char *dir;
    char *metadir;
    const char *expires;
    json_t *snapmeta; /* "ROLE.json" -> meta entry */
    json_t *manifest; /* role -> [target paths], for the tests */
};

static json_t *
hashes_of(const uint8_t *b, size_t len, bool sha512)
{
    enum zupd_hash_alg algs[2] = {ZUPD_HASH_SHA256, ZUPD_HASH_SHA512};
    const char *names[2] = {"sha256", "sha512"};
    json_t *h = json_object();
    size_t i;

    for (i = 0; h != NULL && i < (sha512 ? 2u : 1u); i++) {
        uint8_t dig[ZUPD_HASH_MAX_LEN];
        char hex[2 * ZUPD_HASH_MAX_LEN + 1];
        size_t dlen = 0;

        if (zupd_hash_buf(algs[i], b, len, dig, sizeof(dig), &dlen) != ZUPD_OK) {
            json_decref(h);
            return NULL;
        }
        zupd_hex_encode(hex, sizeof(hex), dig, dlen);
        json_object_set_new(h, names[i], json_string(hex));
    }
    return h;
}

/* Add a target to targets (an object) and write its bytes under each hash.
 * custom is stolen (may be NULL). */
static int
add_target(struct repo *r, json_t *targets, const char *role, const char *tpath, const char *data,
           json_t *custom, bool sha512)
{
    size_t len = strlen(data);
    json_t *hashes = hashes_of((const uint8_t *)data, len, sha512), *info, *hex, *list;
    const char *alg, *slash = strrchr(tpath, '/');

    info =
        hashes == NULL ? NULL : json_pack("{s:I,s:o}", "length", (json_int_t)len, "hashes", hashes);
    if (info == NULL) {
        json_decref(custom);
        return fail("out of memory");
    }
    if (custom != NULL)
        json_object_set_new(info, "custom", custom);
    json_object_set_new(targets, tpath, info);
    list = json_object_get(r->manifest, role);
    if (list == NULL) {
        list = json_array();
        json_object_set_new(r->manifest, role, list);
    }
    json_array_append_new(list, json_string(tpath));
    json_object_foreach(json_object_get(info, "hashes"), alg, hex)
    {
        size_t n = strlen(r->dir) + strlen(tpath) + 2 * ZUPD_HASH_MAX_LEN + 16;
        char *file = malloc(n);
        int rc;

        if (file == NULL)
            return fail("out of memory");
        if (slash != NULL)
            snprintf(file, n, "%s/targets/%.*s/%s.%s", r->dir, (int)(slash - tpath), tpath,
                     json_string_value(hex), slash + 1);
        else
            snprintf(file, n, "%s/targets/%s.%s", r->dir, json_string_value(hex), tpath);
        rc = write_file(file, data, len);
        free(file);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void
update_new(json_t *obj, json_t *other) /* json_object_update, stealing other */
{
    if (other != NULL)
        json_object_update(obj, other);
    json_decref(other);
}

static json_t *
signed_new(const struct repo *r, const char *type, uint64_t version)
{
    return json_pack("{s:s,s:s,s:I,s:s}", "_type", type, "spec_version", "1.0.31", "version",
                     (json_int_t)version, "expires", r->expires);
}

static json_t *
role_def(struct zp_signer *const *keys, size_t n, uint64_t threshold)
{
    json_t *ids = json_array();
    size_t i;

    for (i = 0; ids != NULL && i < n; i++)
        json_array_append_new(ids, json_string(zp_signer_keyid(keys[i])));
    return json_pack("{s:o,s:I}", "keyids", ids, "threshold", (json_int_t)threshold);
}

static void
add_keys(json_t *keys, struct zp_signer *const *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        json_object_set_new(keys, zp_signer_keyid(s[i]), zp_signer_pubkey(s[i]));
}

/* Sign signed_ (stolen) with each signer, write metadata/NAME as indented
 * JSON. On success *bytes (if not NULL) is a copy of the file (free()). */
static int
sign_write(struct repo *r, json_t *signed_, struct zp_signer *const *signers, size_t n,
           const char *name, char **bytes, size_t *len)
{
    json_t *sigs = json_array(), *env = NULL;
    uint8_t *canon = NULL;
    size_t canon_len = 0, i;
    char *text = NULL, *file = NULL, sig[ZP_SIG_HEX_LEN + 1];
    int rc = -1;

    if (signed_ == NULL || sigs == NULL ||
        zu_cjson_dump(signed_, MAX_FILE_BYTES, &canon, &canon_len) != ZUPD_OK) {
        fail("cannot encode '%s'", name);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (zp_signer_sign(signers[i], canon, canon_len, sig, sizeof(sig)) != ZUPD_OK) {
            fail("cannot sign '%s'", name);
            goto out;
        }
        json_array_append_new(
            sigs, json_pack("{s:s,s:s}", "keyid", zp_signer_keyid(signers[i]), "sig", sig));
    }
    env = json_pack("{s:O,s:O}", "signatures", sigs, "signed", signed_);
    text = env == NULL ? NULL : json_dumps(env, JSON_INDENT(2));
    file = path_join(r->metadir, name);
    if (text == NULL || file == NULL) {
        fail("out of memory");
        goto out;
    }
    i = strlen(text);
    text[i] = '\n'; /* the NUL's slot holds the final newline while we write */
    rc = write_file(file, text, i + 1);
    text[i] = 0;
    if (rc == 0 && bytes != NULL) {
        *bytes = malloc(i + 1);
        if (*bytes == NULL) {
            rc = fail("out of memory");
            goto out;
        }
        memcpy(*bytes, text, i);
        (*bytes)[i] = '\n';
        *len = i + 1;
    }
out:
    free(text);
    free(file);
    free(canon);
    json_decref(env);
    json_decref(sigs);
    json_decref(signed_);
    return rc;
}

/* sign and write a targets role under its consistent name, record it in
 * the snapshot's meta (with length and hashes for the top-level targets) */
static int
publish_targets(struct repo *r, const char *role, json_t *signed_, struct zp_signer *key)
{
    char name[300], *bytes = NULL;
    uint64_t version = (uint64_t)json_integer_value(json_object_get(signed_, "version"));
    size_t len = 0;
    json_t *meta;

    snprintf(name, sizeof(name), "%llu.%s.json", (unsigned long long)version, role);
    if (sign_write(r, signed_, &key, 1, name, &bytes, &len) != 0)
        return -1;
    meta = json_pack("{s:I}", "version", (json_int_t)version);
    if (strcmp(role, "targets") == 0 && meta != NULL) {
        json_object_set_new(meta, "length", json_integer((json_int_t)len));
        json_object_set_new(meta, "hashes", hashes_of((const uint8_t *)bytes, len, false));
    }
    free(bytes);
    snprintf(name, sizeof(name), "%s.json", role);
    return meta == NULL ? fail("out of memory") : json_object_set_new(r->snapmeta, name, meta);
}

/* the bin of the succinct hash-bin delegation that holds tpath: the
 * leftmost bits of sha256(tpath) (TAP 15) */
static unsigned
bin_of(const char *tpath, unsigned bits)
{
    uint8_t dig[ZUPD_SHA256_LEN];
    size_t dlen = 0;
    uint32_t first;

    if (zupd_hash_buf(ZUPD_HASH_SHA256, tpath, strlen(tpath), dig, sizeof(dig), &dlen) != ZUPD_OK)
        return 0;
    first = (uint32_t)dig[0] << 24 | (uint32_t)dig[1] << 16 | (uint32_t)dig[2] << 8 | dig[3];
    return (unsigned)(first >> (32 - bits));
}

enum {
    K_ROOT1,
    K_ROOT2,
    K_ROOT3,
    K_TARGETS,
    K_SNAPSHOT,
    K_TIMESTAMP,
    K_PRODUCTS,
    K_HASHED,
    K_BINS,
    K_BIN,
    K__N
};

#define BIN_BITS 4
#define BIN_COUNT (1u << BIN_BITS)
#define BIN_FILES 32

/* What it makes (compare tests/interop/make-repo.mjs):
 * - root v1: root keys r1, r2, threshold 2; root v2 rotates r2 out for r3
 *   (threshold 2 of r1, r3), signed by r1, r2 and r3;
 * - targets v2 with custom fields, unicode and nested paths, sha256 and
 *   sha512; delegations to products (paths), hashed (path_hash_prefixes,
 *   terminating) and bins (paths "bins/ANY"), which delegates succinctly to
 *   16 hash bins zbin-0 .. zbin-f;
 * - snapshot v3, timestamp v4; consistent snapshot names. All ed25519. */
static int
cmd_make_repo(int argc, char **argv)
{
    struct zp_signer *k[K__N] = {0};
    struct repo r;
    json_t *s = NULL, *targets = NULL, *keys = NULL, *roles = NULL, *deleg = NULL;
    json_t *bins[BIN_COUNT] = {0};
    char prefix[3], name[64], data[64], *snap = NULL, *text = NULL, *file = NULL;
    size_t snaplen = 0, i;
    uint8_t dig[ZUPD_SHA256_LEN];
    char hex[2 * ZUPD_SHA256_LEN + 1];
    size_t dlen = 0;
    int rc = -1;

    memset(&r, 0, sizeof(r));
    r.expires = "2100-01-01T00:00:00Z";
    for (i = 0; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "--expires") == 0 && i + 1 < (size_t)argc)
            r.expires = argv[++i];
        else if (r.dir == NULL)
            r.dir = argv[i];
        else
            return fail("usage: " PROG " make-repo DIR [--expires RFC3339]");
    }
    if (r.dir == NULL)
        return fail("usage: " PROG " make-repo DIR [--expires RFC3339]");
    r.metadir = path_join(r.dir, "metadata");
    r.snapmeta = json_object();
    r.manifest = json_object();
    if (r.metadir == NULL || r.snapmeta == NULL || r.manifest == NULL) {
        fail("out of memory");
        goto out;
    }
    for (i = 0; i < K__N; i++)
        if (zp_signer_generate(&k[i]) != ZUPD_OK) {
            fail("cannot generate a key");
            goto out;
        }

    /* delegated roles first: their targets, signed */
    targets = json_object();
    if (add_target(&r, targets, "products", "products/gadget/2.0.0/manifest.json",
                   "{\"component\":\"gadget\",\"version\":\"2.0.0\",\"files\":[]}\n",
                   json_pack("{s:s,s:{s:s,s:s}}", "channel", "beta", "provenance", "revision",
                             "def456", "builder", "zupd-interop"),
                   true) != 0)
        goto out;
    s = signed_new(&r, "targets", 1);
    json_object_set_new(s, "targets", targets);
    targets = NULL;
    if (publish_targets(&r, "products", s, k[K_PRODUCTS]) != 0)
        goto out;

    targets = json_object();
    if (add_target(&r, targets, "hashed", "avdb/daily.cvd", "ClamAV-like daily database\n",
                   json_pack("{s:i}", "signatures", 12345), false) != 0)
        goto out;
    s = signed_new(&r, "targets", 1);
    json_object_set_new(s, "targets", targets);
    targets = NULL;
    if (publish_targets(&r, "hashed", s, k[K_HASHED]) != 0)
        goto out;

    for (i = 0; i < BIN_COUNT; i++)
        bins[i] = json_object();
    for (i = 0; i < BIN_FILES; i++) {
        char tpath[64];
        unsigned b;

        snprintf(tpath, sizeof(tpath), "bins/item-%02zu.txt", i);
        snprintf(data, sizeof(data), "item %zu\n", i);
        b = bin_of(tpath, BIN_BITS);
        snprintf(name, sizeof(name), "zbin-%x", b);
        if (add_target(&r, bins[b], name, tpath, data, json_pack("{s:I}", "index", (json_int_t)i),
                       false) != 0)
            goto out;
    }
    for (i = 0; i < BIN_COUNT; i++) {
        s = signed_new(&r, "targets", 1);
        json_object_set_new(s, "targets", bins[i]);
        bins[i] = NULL;
        snprintf(name, sizeof(name), "zbin-%zx", i);
        if (publish_targets(&r, name, s, k[K_BIN]) != 0)
            goto out;
    }
    keys = json_object();
    add_keys(keys, &k[K_BIN], 1);
    deleg = json_pack("{s:o,s:o}", "keys", keys, "succinct_roles", role_def(&k[K_BIN], 1, 1));
    keys = NULL;
    json_object_set_new(json_object_get(deleg, "succinct_roles"), "bit_length",
                        json_integer(BIN_BITS));
    json_object_set_new(json_object_get(deleg, "succinct_roles"), "name_prefix",
                        json_string("zbin"));
    s = signed_new(&r, "targets", 1);
    json_object_set_new(s, "targets", json_object());
    json_object_set_new(s, "delegations", deleg);
    deleg = NULL;
    if (publish_targets(&r, "bins", s, k[K_BINS]) != 0)
        goto out;

    /* top-level targets */
    targets = json_object();
    if (add_target(&r, targets, "targets", "hello-zupd.txt", "hello from libzupd\n",
                   json_pack("{s:s,s:[s,s],s:{s:b,s:n}}", "component", "zupd", "tags", "ä", "😀",
                             "nested", "flag", 1, "nothing"),
                   false) != 0 ||
        add_target(&r, targets, "targets", "docs/ünïcødé/zupd.txt", "Grüße aus Zürich\n", NULL,
                   true) != 0 ||
        add_target(&r, targets, "targets", "emoji/🚀/launch.txt", "🚀\n",
                   json_pack("{s:s}", "𝄞-key", "astral key"), false) != 0)
        goto out;
    if (zupd_hash_buf(ZUPD_HASH_SHA256, "avdb/daily.cvd", 14, dig, sizeof(dig), &dlen) != ZUPD_OK)
        goto out;
    zupd_hex_encode(hex, sizeof(hex), dig, dlen);
    memcpy(prefix, hex, 2);
    prefix[2] = 0;
    keys = json_object();
    add_keys(keys, &k[K_PRODUCTS], 1);
    add_keys(keys, &k[K_HASHED], 1);
    add_keys(keys, &k[K_BINS], 1);
    roles = json_array();
    json_array_append_new(roles, role_def(&k[K_PRODUCTS], 1, 1));
    json_array_append_new(roles, role_def(&k[K_HASHED], 1, 1));
    json_array_append_new(roles, role_def(&k[K_BINS], 1, 1));
    update_new(json_array_get(roles, 0),
               json_pack("{s:s,s:b,s:[s,s]}", "name", "products", "terminating", 0, "paths",
                         "products/*/*/manifest.json", "products/*/channels/*.json"));
    update_new(json_array_get(roles, 1), json_pack("{s:s,s:b,s:[s]}", "name", "hashed",
                                                   "terminating", 1, "path_hash_prefixes", prefix));
    update_new(json_array_get(roles, 2),
               json_pack("{s:s,s:b,s:[s]}", "name", "bins", "terminating", 0, "paths", "bins/*"));
    s = signed_new(&r, "targets", 2);
    json_object_set_new(s, "targets", targets);
    targets = NULL;
    json_object_set_new(s, "delegations", json_pack("{s:o,s:o}", "keys", keys, "roles", roles));
    keys = roles = NULL;
    if (publish_targets(&r, "targets", s, k[K_TARGETS]) != 0)
        goto out;

    /* snapshot and timestamp */
    s = signed_new(&r, "snapshot", 3);
    json_object_set_new(s, "meta", r.snapmeta);
    r.snapmeta = NULL;
    if (sign_write(&r, s, &k[K_SNAPSHOT], 1, "3.snapshot.json", &snap, &snaplen) != 0)
        goto out;
    s = signed_new(&r, "timestamp", 4);
    json_object_set_new(s, "meta",
                        json_pack("{s:{s:i,s:I,s:o}}", "snapshot.json", "version", 3, "length",
                                  (json_int_t)snaplen, "hashes",
                                  hashes_of((const uint8_t *)snap, snaplen, false)));
    if (sign_write(&r, s, &k[K_TIMESTAMP], 1, "timestamp.json", NULL, NULL) != 0)
        goto out;

    /* root v1 (r1, r2) and v2 (r1, r3), both threshold 2 */
    for (i = 1; i <= 2; i++) {
        struct zp_signer *rk[2] = {k[K_ROOT1], k[i == 1 ? K_ROOT2 : K_ROOT3]};
        struct zp_signer *signers[3] = {k[K_ROOT1], k[K_ROOT2], k[K_ROOT3]};

        keys = json_object();
        add_keys(keys, rk, 2);
        add_keys(keys, &k[K_TARGETS], 3); /* targets, snapshot, timestamp */
        roles = json_pack("{s:o,s:o,s:o,s:o}", "root", role_def(rk, 2, 2), "targets",
                          role_def(&k[K_TARGETS], 1, 1), "snapshot", role_def(&k[K_SNAPSHOT], 1, 1),
                          "timestamp", role_def(&k[K_TIMESTAMP], 1, 1));
        s = signed_new(&r, "root", i);
        json_object_set_new(s, "consistent_snapshot", json_true());
        json_object_set_new(s, "keys", keys);
        json_object_set_new(s, "roles", roles);
        keys = roles = NULL;
        snprintf(name, sizeof(name), "%zu.root.json", i);
        if (sign_write(&r, s, signers, i == 1 ? 2 : 3, name, NULL, NULL) != 0)
            goto out;
    }

    text = json_dumps(r.manifest, JSON_INDENT(2));
    file = path_join(r.dir, "manifest.json");
    if (text == NULL || file == NULL || write_file(file, text, strlen(text)) != 0)
        goto out;
    printf(PROG ": make-repo %s: 2 root versions, %zu targets roles, %d targets\n", r.dir,
           (size_t)3 + 1 + BIN_COUNT, 4 + 1 + BIN_FILES);
    rc = 0;
out:
    for (i = 0; i < K__N; i++)
        zp_signer_free(k[i]);
    for (i = 0; i < BIN_COUNT; i++)
        json_decref(bins[i]);
    json_decref(targets);
    json_decref(keys);
    json_decref(roles);
    json_decref(deleg);
    json_decref(r.snapmeta);
    json_decref(r.manifest);
    free(r.metadir);
    free(snap);
    free(text);
    free(file);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    if (zupd_init() != ZUPD_OK)
        return fail("cannot initialise libzupd") != 0;
    if (strcmp(cmd, "canon") == 0)
        return cmd_canon(argc - 2, argv + 2) != 0;
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 2, argv + 2) != 0;
    if (strcmp(cmd, "make-repo") == 0)
        return cmd_make_repo(argc - 2, argv + 2) != 0;
    fail("usage: " PROG " canon|verify|make-repo ...");
    return 2;
}
