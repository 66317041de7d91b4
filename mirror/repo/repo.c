/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/repo.c -- repository state: configuration, open, lock, the
 * targets documents (hash bins), the policy/vendor checks, reading targets.
 * Role names and paths are mirror/repo/layout.c; creating a repository is
 * mirror/repo/init.c; signing, writing metadata and the commit order are
 * mirror/repo/repo_commit.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>
#include <zupd/trusted.h>

#include "delta/create.h"
#include "zu/fsio.h"
#include "zu/note.h"

#include "repo/repo_int.h"

void
zp_config_default(struct zp_config *c)
{
    memset(c, 0, sizeof(*c));
    c->expiry[ZP_R_ROOT] = 365 * (int64_t)ZP_DAY;
    c->expiry[ZP_R_TARGETS] = 90 * (int64_t)ZP_DAY;
    c->expiry[ZP_R_SNAPSHOT] = 7 * (int64_t)ZP_DAY;
    c->expiry[ZP_R_TIMESTAMP] = 1 * (int64_t)ZP_DAY;
    c->expiry[ZP_R_PRODUCTS] = 90 * (int64_t)ZP_DAY;
    c->expiry[ZP_R_AVDB] = 7 * (int64_t)ZP_DAY;
    c->deltas = 5;
    c->zstd_level = 19;
}

int
zp_config_write(int dfd, const struct zp_config *c)
{
    json_t *doc, *ex = json_object();
    char *text;
    int rc;

    for (unsigned i = 0; ex != NULL && i < ZP_R__N; i++)
        json_object_set_new(ex, zp_role_name((enum zp_role)i), json_integer(c->expiry[i]));
    doc =
        json_pack("{s:i,s:o,s:i,s:i,s:i,s:b,s:s}", "zupd_mirror_config", 1, "expires", ex, "deltas",
                  (int)c->deltas, "zstd_level", c->zstd_level, "delta_level", c->delta_level,
                  "delta_lzma", !c->delta_no_lzma, "kind", c->policy ? "policy" : "vendor");
    if (doc != NULL && c->pkcs11_module[0] != '\0' &&
        json_object_set_new(doc, "pkcs11_module", json_string(c->pkcs11_module)) != 0) {
        json_decref(doc);
        doc = NULL;
    }
    if (doc != NULL && c->n_witnesses > 0) {
        json_t *ws = json_array();

        for (size_t i = 0; ws != NULL && i < c->n_witnesses; i++)
            if (json_array_append_new(ws, json_pack("{s:s,s:s}", "vkey", c->witnesses[i].vkey,
                                                    "url", c->witnesses[i].url)) != 0) {
                json_decref(ws);
                ws = NULL;
            }
        if (ws == NULL || json_object_set_new(doc, "witnesses", ws) != 0 ||
            json_object_set_new(doc, "witness_quorum", json_integer(c->witness_quorum)) != 0) {
            json_decref(doc);
            doc = NULL;
        }
    }
    if (doc == NULL)
        return ZUPD_E_NOMEM;
    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    if (text == NULL)
        return ZUPD_E_NOMEM;
    rc = zp_put(dfd, ZP_STATE_DIR "/config.json", text, strlen(text), 0644, false);
    free(text);
    return rc;
}

/* One integer member of config.json: present, an integer, in min..max. */
static int
config_int(json_t *v, const char *key, int64_t min, int64_t max, int64_t *out, char *err,
           size_t cap)
{
    if (!json_is_integer(v))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'%s' must be an integer", key);
    if (json_integer_value(v) < min || json_integer_value(v) > max)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'%s' must be %lld..%lld", key, (long long)min,
                       (long long)max);
    *out = (int64_t)json_integer_value(v);
    return ZUPD_OK;
}

int
zp_witness_cfg_check(const char *vkey, const char *url, char *err, size_t cap)
{
    struct zu_note_key k;

    if (strlen(vkey) >= ZP_WITNESS_VKEY_MAX ||
        zu_note_vkey_parse(vkey, strlen(vkey), &k) != ZUPD_OK || k.type != ZU_NOTE_COSIG_V1)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'%.80s' is not a cosignature/v1 vkey", vkey);
    if (strlen(url) >= ZP_WITNESS_URL_MAX ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'%.80s' is not an http:// or https:// URL", url);
    return ZUPD_OK;
}

/* "witnesses": [{"vkey": cosignature/v1 vkey, "url": "http(s)://..."}] */
static int
config_witnesses(json_t *v, struct zp_config *c, char *err, size_t cap)
{
    size_t i;
    json_t *w;

    if (!json_is_array(v) || json_array_size(v) > ZP_WITNESSES_MAX)
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'witnesses' must be an array of at most %d",
                       ZP_WITNESSES_MAX);
    json_array_foreach (v, i, w) {
        const char *vkey = NULL, *url = NULL;
        char why[256];

        if (json_unpack(w, "{s:s,s:s!}", "vkey", &vkey, "url", &url) != 0)
            return zu_fail(err, cap, ZUPD_E_FORMAT,
                           "'witnesses[%zu]' must be {\"vkey\": ..., \"url\": ...}", i);
        if (zp_witness_cfg_check(vkey, url, why, sizeof(why)) != ZUPD_OK)
            return zu_fail(err, cap, ZUPD_E_FORMAT, "'witnesses[%zu]': %s", i, why);
        snprintf(c->witnesses[i].vkey, sizeof(c->witnesses[i].vkey), "%s", vkey);
        snprintf(c->witnesses[i].url, sizeof(c->witnesses[i].url), "%s", url);
    }
    c->n_witnesses = json_array_size(v);
    return ZUPD_OK;
}

/* DIR/.zupd/config.json, strictly: a member that is not known, of the wrong
 * type or out of range is an error naming it (never silently a default). A
 * missing file is the defaults; a missing member keeps its default. */
static int
config_read(int dfd, struct zp_config *c, char *err, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *doc, *v;
    const char *key, *rk;
    int64_t n = 0;
    int rc = ZUPD_OK;

    zp_config_default(c);
    rc = zp_get(dfd, ZP_STATE_DIR "/config.json", 1u << 16, &buf, &len);
    if (rc == ZUPD_E_NOTFOUND)
        return ZUPD_OK;
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
    doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return zu_fail(err, cap, ZUPD_E_FORMAT, "%s", "not a JSON object");
    }
    json_object_foreach (doc, key, v) {
        if (strcmp(key, "zupd_mirror_config") == 0) {
            rc = config_int(v, key, 1, 1, &n, err, cap);
        } else if (strcmp(key, "expires") == 0) {
            json_t *e;
            if (!json_is_object(v)) {
                rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s", "'expires' must be an object");
                break;
            }
            json_object_foreach (v, rk, e) {
                unsigned i = 0;
                char name[96];
                while (i < ZP_R__N && strcmp(zp_role_name((enum zp_role)i), rk) != 0)
                    i++;
                snprintf(name, sizeof(name), "expires.%s", rk);
                if (i == ZP_R__N) {
                    rc = zu_fail(err, cap, ZUPD_E_FORMAT, "unknown setting '%s'", name);
                    break;
                }
                /* seconds, at most 100 years: now + period cannot overflow */
                rc = config_int(e, name, 1, 100 * 366 * (int64_t)ZP_DAY, &c->expiry[i], err, cap);
                if (rc != ZUPD_OK)
                    break;
            }
        } else if (strcmp(key, "deltas") == 0) {
            rc = config_int(v, key, 0, 999, &n, err, cap);
            c->deltas = (unsigned)n;
        } else if (strcmp(key, "zstd_level") == 0) {
            rc = config_int(v, key, 1, 22, &n, err, cap);
            c->zstd_level = (int)n;
        } else if (strcmp(key, "delta_level") == 0) {
            rc = config_int(v, key, 0, ZP_DELTA_LEVEL_MAX, &n, err, cap);
            c->delta_level = (int)n;
        } else if (strcmp(key, "kind") == 0) {
            if (!json_is_string(v) || (strcmp(json_string_value(v), "policy") != 0 &&
                                       strcmp(json_string_value(v), "vendor") != 0))
                rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s",
                             "'kind' must be \"vendor\" or \"policy\"");
            else
                c->policy = strcmp(json_string_value(v), "policy") == 0;
        } else if (strcmp(key, "delta_lzma") == 0) {
            if (!json_is_boolean(v))
                rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s", "'delta_lzma' must be true or false");
            else
                c->delta_no_lzma = !json_is_true(v);
        } else if (strcmp(key, "pkcs11_module") == 0) {
            const char *m = json_string_value(v);
            if (m == NULL || m[0] != '/' || strlen(m) >= sizeof(c->pkcs11_module))
                rc = zu_fail(err, cap, ZUPD_E_FORMAT, "%s",
                             "'pkcs11_module' must be an absolute file name");
            else
                snprintf(c->pkcs11_module, sizeof(c->pkcs11_module), "%s", m);
        } else if (strcmp(key, "witnesses") == 0) {
            rc = config_witnesses(v, c, err, cap);
        } else if (strcmp(key, "witness_quorum") == 0) {
            rc = config_int(v, key, 0, ZP_WITNESSES_MAX, &n, err, cap);
            c->witness_quorum = (unsigned)n;
        } else {
            rc = zu_fail(err, cap, ZUPD_E_FORMAT, "unknown setting '%s'", key);
        }
        if (rc != ZUPD_OK)
            break;
    }
    if (rc == ZUPD_OK && c->witness_quorum > c->n_witnesses)
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "'witness_quorum' %u is more than the %zu witnesses",
                     c->witness_quorum, c->n_witnesses);
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

/* The log entries a change queued and did not commit (translog.c). */
void
zp_log_queue_clear(struct zp_repo *r)
{
    for (size_t i = 0; i < r->n_logq; i++)
        free(r->logq[i].p);
    free(r->logq);
    r->logq = NULL;
    r->n_logq = r->cap_logq = 0;
}

void
zp_repo_free(struct zp_repo *r)
{
    if (r == NULL)
        return;
    for (unsigned i = 0; i < ZP_R__N; i++)
        zupd_meta_free(r->m[i]);
    for (size_t i = 0; i < r->n_keys; i++)
        zp_signer_free(r->keys[i].s);
    free(r->keys);
    for (size_t i = 0; i < r->n_bins; i++)
        zupd_meta_free(r->bins[i].m);
    free(r->bins);
    zp_log_queue_clear(r);
    if (r->dfd >= 0) {
        zp_discard(r->dfd); /* what a failed change left unflushed */
        close(r->dfd);
    }
    if (r->lockfd >= 0)
        close(r->lockfd);
    free(r->dir);
    free(r->keys_dir);
    free(r);
}

int
zp_repo_alloc(const struct zp_repo_opts *o, struct zp_repo **out)
{
    struct zp_repo *r = calloc(1, sizeof(*r));
    size_t len;

    *out = NULL;
    if (r == NULL)
        return ZUPD_E_NOMEM;
    r->dfd = -1;
    r->lockfd = -1;
    r->pass = o->pass;
    r->log_fn = o->log_fn;
    r->log_opaque = o->log_opaque;
    r->now = o->now != 0 ? o->now : (int64_t)time(NULL);
    r->dir = strdup(o->dir);
    if (o->keys_dir != NULL) {
        r->keys_dir = strdup(o->keys_dir);
    } else {
        len = strlen(o->dir) + 16;
        r->keys_dir = malloc(len);
        if (r->keys_dir != NULL)
            snprintf(r->keys_dir, len, "%s/../keys", o->dir);
    }
    if (r->dir == NULL || r->keys_dir == NULL) {
        zp_repo_free(r);
        return ZUPD_E_NOMEM;
    }
    *out = r;
    return ZUPD_OK;
}

const struct zupd_meta *
zp_repo_meta(const struct zp_repo *r, enum zp_role role)
{
    return r->m[role];
}

const struct zp_config *
zp_repo_config(const struct zp_repo *r)
{
    return &r->cfg;
}

int64_t
zp_repo_now(const struct zp_repo *r)
{
    return r->now;
}

int
zp_repo_dfd(const struct zp_repo *r)
{
    return r->dfd;
}

const char *
zp_repo_keys_dir(const struct zp_repo *r)
{
    return r->keys_dir;
}

static int
load_meta(struct zp_repo *r, const char *rel, enum zupd_meta_type type, struct zupd_meta **out,
          char *err, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char why[256] = "";
    int rc;

    rc = zp_get(r->dfd, rel, ZP_META_CAP, &buf, &len);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    rc = zupd_meta_parse(buf, len, NULL, type, out, why, sizeof(why));
    free(buf);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "'%s/%s': %s", r->dir, rel, why);
    return ZUPD_OK;
}

/* avdb's hash bins (when it delegates succinctly), as snapshot lists them */
static int
load_bins(struct zp_repo *r, char *err, size_t cap)
{
    const char *prefix = NULL;
    unsigned bits = 0;
    size_t n;
    int rc;

    if (zupd_meta_succinct(r->m[ZP_R_AVDB], &bits, &prefix) != ZUPD_OK)
        return ZUPD_OK;
    if (bits > 12)
        return zu_fail(err, cap, ZUPD_E_TOOBIG,
                       "avdb: %u-bit hash bins are more than zupd-mirror "
                       "handles",
                       bits);
    n = (size_t)1 << bits;
    r->bins = calloc(n, sizeof(*r->bins));
    if (r->bins == NULL)
        return ZUPD_E_NOMEM;
    r->n_bins = n;
    for (size_t i = 0; i < n; i++) {
        struct zupd_meta_file f;
        char fname[80], rel[128];

        rc = zupd_meta_succinct_bin_name(r->m[ZP_R_AVDB], (uint32_t)i, r->bins[i].name,
                                         sizeof(r->bins[i].name));
        if (rc != ZUPD_OK)
            return rc;
        snprintf(fname, sizeof(fname), "%s.json", r->bins[i].name);
        if (zupd_meta_file(r->m[ZP_R_SNAPSHOT], fname, &f) != ZUPD_OK)
            return zu_fail(err, cap, ZUPD_E_FORMAT, "snapshot does not list '%s'", fname);
        snprintf(rel, sizeof(rel), "metadata/%llu.%s", (unsigned long long)f.version, fname);
        rc = load_meta(r, rel, ZUPD_META_TARGETS, &r->bins[i].m, err, cap);
        if (rc != ZUPD_OK)
            return rc;
    }
    return ZUPD_OK;
}

static struct zp_bin *
bin_of(struct zp_repo *r, enum zp_role role, const char *path)
{
    struct zupd_meta_child child;
    size_t cursor = 0;

    if (role != ZP_R_AVDB || r->n_bins == 0 ||
        zupd_meta_child_next(r->m[ZP_R_AVDB], path, &cursor, &child) != ZUPD_OK)
        return NULL;
    for (size_t i = 0; i < r->n_bins; i++)
        if (strcmp(r->bins[i].name, child.name) == 0)
            return &r->bins[i];
    return NULL;
}

struct zupd_meta *
zp_tdoc(struct zp_repo *r, enum zp_role role, const char *path)
{
    struct zp_bin *b = bin_of(r, role, path);

    return b != NULL ? b->m : r->m[role];
}

void
zp_tdoc_changed(struct zp_repo *r, enum zp_role role, const char *path, unsigned *mask)
{
    struct zp_bin *b = bin_of(r, role, path);

    if (b != NULL)
        b->dirty = true;
    else
        *mask |= 1u << role;
}

int
zp_tdoc_foreach(struct zp_repo *r, enum zp_role role, zupd_meta_target_fn fn, void *opaque)
{
    int rc = zupd_meta_target_foreach(r->m[role], fn, opaque);

    for (size_t i = 0; rc == 0 && role == ZP_R_AVDB && i < r->n_bins; i++)
        rc = zupd_meta_target_foreach(r->bins[i].m, fn, opaque);
    return rc;
}

int
zp_repo_open(const struct zp_repo_opts *o, struct zp_repo **out, char *err, size_t cap)
{
    struct zp_repo *r = NULL;
    struct zupd_meta_file f;
    char rel[256], why[256] = "";
    int rc;

    *out = NULL;
    rc = zp_repo_alloc(o, &r);
    if (rc != ZUPD_OK)
        return rc;
    r->dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dfd < 0) {
        rc = zu_fail(err, cap, zu_errno_to_err(errno), "cannot open repository '%s': %s", r->dir,
                     strerror(errno));
        goto out;
    }
    rc = config_read(r->dfd, &r->cfg, why, sizeof(why));
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot read '%s/" ZP_STATE_DIR "/config.json': %s", r->dir, why);
        goto out;
    }
    rc = load_meta(r, "metadata/root.json", ZUPD_META_ROOT, &r->m[ZP_R_ROOT], err, cap);
    if (rc == ZUPD_OK)
        rc = load_meta(r, "metadata/timestamp.json", ZUPD_META_TIMESTAMP, &r->m[ZP_R_TIMESTAMP],
                       err, cap);
    if (rc != ZUPD_OK)
        goto out;
    if (zupd_meta_file(r->m[ZP_R_TIMESTAMP], "snapshot.json", &f) != ZUPD_OK) {
        rc = zu_fail(err, cap, ZUPD_E_FORMAT, "'%s/metadata/timestamp.json': no snapshot.json",
                     r->dir);
        goto out;
    }
    snprintf(rel, sizeof(rel), "metadata/%llu.snapshot.json", (unsigned long long)f.version);
    rc = load_meta(r, rel, ZUPD_META_SNAPSHOT, &r->m[ZP_R_SNAPSHOT], err, cap);
    for (unsigned i = ZP_R_TARGETS; rc == ZUPD_OK && i < ZP_R__N; i++) {
        char fname[64];
        if (i == ZP_R_SNAPSHOT || i == ZP_R_TIMESTAMP)
            continue;
        snprintf(fname, sizeof(fname), "%s.json", zp_role_name((enum zp_role)i));
        if (zupd_meta_file(r->m[ZP_R_SNAPSHOT], fname, &f) != ZUPD_OK) {
            rc = zu_fail(err, cap, ZUPD_E_FORMAT, "snapshot does not list '%s'", fname);
            break;
        }
        snprintf(rel, sizeof(rel), "metadata/%llu.%s", (unsigned long long)f.version, fname);
        rc = load_meta(r, rel, ZUPD_META_TARGETS, &r->m[i], err, cap);
    }
    if (rc == ZUPD_OK)
        rc = load_bins(r, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    *out = r;
    r = NULL;
out:
    zp_repo_free(r);
    return rc;
}

/* ------------------------------------------------------------ checks */

bool
zp_tree_is_policy(const char *dir)
{
    struct zp_config c;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool yes = dfd >= 0 && config_read(dfd, &c, NULL, 0) == ZUPD_OK && c.policy;

    if (dfd >= 0)
        close(dfd);
    return yes;
}

int
zp_check_vendor(struct zp_repo *r, const char *what, char *err, size_t cap)
{
    if (!r->cfg.policy)
        return ZUPD_OK;
    return zu_fail(err, cap, ZUPD_E_MISUSE,
                   "cannot %s: '%s' is an enterprise policy repository, which holds channel "
                   "pointers only (see zupd-mirror policy)",
                   what, r->dir);
}

int
zp_check_policy(struct zp_repo *r, const char *what, char *err, size_t cap)
{
    if (r->cfg.policy)
        return ZUPD_OK;
    return zu_fail(err, cap, ZUPD_E_MISUSE,
                   "cannot %s: '%s' is a vendor repository; create a policy repository with "
                   "zupd-mirror policy init",
                   what, r->dir);
}

int
zp_check_offline_live(struct zp_repo *r, const char *what, char *err, size_t cap)
{
    static const enum zp_role offline[] = {ZP_R_ROOT, ZP_R_TARGETS};

    for (size_t i = 0; i < ZU_ARRAY_LEN(offline); i++) {
        const struct zupd_meta *m = r->m[offline[i]];
        char when[32] = "?";
        if (!zupd_meta_is_expired(m, r->now))
            continue;
        if (zupd_time_format(zupd_meta_expires(m), when, sizeof(when)) != ZUPD_OK)
            snprintf(when, sizeof(when), "?");
        return zu_fail(err, cap, ZUPD_E_EXPIRED,
                       "cannot %s: role '%s' (version %llu) expired on %s; re-sign it first "
                       "(zupd-mirror refresh --offline)",
                       what, zp_role_name(offline[i]), (unsigned long long)zupd_meta_version(m),
                       when);
    }
    return ZUPD_OK;
}

int
zp_read_target(struct zp_repo *r, enum zp_role role, const char *path, uint8_t **out,
               size_t *out_len, char *err, size_t cap)
{
    struct zupd_target t;
    char hex[65], rel[4200];
    int rc;

    *out = NULL;
    *out_len = 0;
    rc = zupd_meta_target(zp_tdoc(r, role, path), path, &t);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "'%s' is not a target of '%s'", path, zp_role_name(role));
    if (!t.hashes.has_sha256)
        return zu_fail(err, cap, ZUPD_E_HASH, "'%s': no sha256", path);
    zupd_hex_encode(hex, sizeof(hex), t.hashes.sha256, 32);
    rc = zp_target_file(rel, sizeof(rel), path, hex);
    if (rc == ZUPD_OK)
        rc = zp_get(r->dfd, rel, (size_t)(t.length < ZP_META_CAP ? t.length : ZP_META_CAP), out,
                    out_len);
    if (rc == ZUPD_OK)
        rc = zupd_check_length_hashes(*out, *out_len, true, t.length, &t.hashes);
    if (rc != ZUPD_OK) {
        free(*out);
        *out = NULL;
        *out_len = 0;
        return zu_fail(err, cap, rc, "cannot read '%s/%s': %s", r->dir, rel, zupd_strerror(rc));
    }
    return ZUPD_OK;
}

int
zp_meta_copy(const struct zupd_meta *m, struct zupd_meta **out)
{
    uint8_t *text = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = zupd_meta_serialize(m, 0, &text, &len);
    if (rc == ZUPD_OK)
        rc = zupd_meta_parse(text, len, NULL, zupd_meta_type(m), out, NULL, 0);
    free(text);
    return rc;
}

int
zp_repo_lock(struct zp_repo *r, char *err, size_t cap)
{
    int fd;

    if (zp_mkdirs(r->dfd, ZP_STATE_DIR "/lock") != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_IO, "cannot create '%s/" ZP_STATE_DIR "'", r->dir);
    fd = openat(r->dfd, ZP_STATE_DIR "/lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return zu_fail(err, cap, zu_errno_to_err(errno),
                       "cannot open '%s/" ZP_STATE_DIR "/lock': %s", r->dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return zu_fail(err, cap, ZUPD_E_BUSY,
                       "another zupd-mirror is changing '%s' (lock '%s/" ZP_STATE_DIR "/lock')",
                       r->dir, r->dir);
    }
    r->lockfd = fd; /* held until zp_repo_free() */
    return ZUPD_OK;
}
