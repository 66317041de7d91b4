/* SPDX-License-Identifier: Apache-2.0 */
/* lib/update.c -- the endpoint's update engine: state directory, channel
 * pointers, manifests, and installing a release with the least download. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include <zupd/delta.h>
#include <zupd/hash.h>
#include <zupd/update.h>

#include "fsio.h"
#include "internal.h"

#define CHANNEL_MAX_BYTES 65536
#define MANIFEST_MAX_BYTES (64u << 20)
#define FETCH_STATE_MAX 4096
#define IO_CHUNK (256u << 10)
#define ZSTD_WINDOW_LOG_MAX 27 /* 128 MiB: what a blob may ask of us */

struct zupd_updater {
    struct zupd_updater_opts o;
    struct zupd_limits lim;
    char **meta_urls, **target_urls, **roots;
    size_t n;
    int sfd, mdfd, cfd;
    struct zupd_fetch_state fs;
    struct zupd_client *client;
    struct policy *pol; /* the enterprise policy repository, or NULL */
};

/* An enterprise policy repository: a TUF repository of its own (root in
 * <state>/policy/metadata) that only holds channel pointers. */
struct policy {
    char **meta_urls, **target_urls;
    size_t n;
    int dfd, mdfd;
    struct zupd_fetch_state fs;
    struct zupd_client *client;
};

static char **
url_list(const char *const *roots, size_t n, const char *suffix)
{
    char **v = calloc(n + 1, sizeof(*v));

    for (size_t i = 0; v != NULL && i < n; i++) {
        size_t len = strlen(roots[i]), need = len + strlen(suffix) + 2;
        v[i] = malloc(need);
        if (v[i] == NULL) {
            zupd_strv_free(v, i);
            return NULL;
        }
        snprintf(v[i], need, "%s%s%s", roots[i], len > 0 && roots[i][len - 1] == '/' ? "" : "/",
                 suffix);
    }
    return v;
}

static void
policy_free(struct policy *p)
{
    if (p == NULL)
        return;
    zupd_client_free(p->client);
    zupd_strv_free(p->meta_urls, p->n);
    zupd_strv_free(p->target_urls, p->n);
    if (p->dfd >= 0)
        close(p->dfd);
    if (p->mdfd >= 0)
        close(p->mdfd);
    free(p);
}

void
zupd_updater_free(struct zupd_updater *u)
{
    if (u == NULL)
        return;
    policy_free(u->pol);
    zupd_client_free(u->client);
    zupd_strv_free(u->meta_urls, u->n);
    zupd_strv_free(u->target_urls, u->n);
    zupd_strv_free(u->roots, u->n);
    if (u->sfd >= 0)
        close(u->sfd);
    if (u->mdfd >= 0)
        close(u->mdfd);
    if (u->cfd >= 0)
        close(u->cfd);
    free(u);
}

struct zupd_client *
zupd_updater_client(struct zupd_updater *u)
{
    return u->client;
}

struct zupd_fetch_stats
zupd_updater_stats(const struct zupd_updater *u)
{
    return u->o.transport->stats;
}

int64_t
zupd_updater_expires(const struct zupd_updater *u)
{
    const struct zupd_meta *ts = zupd_trusted_get(zupd_client_trusted(u->client), "timestamp");
    return ts != NULL ? zupd_meta_expires(ts) : 0;
}

static int
open_sub(int dfd, const char *name, int *out)
{
    if (mkdirat(dfd, name, 0755) != 0 && errno != EEXIST)
        return zu_errno_to_err(errno);
    *out = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return *out < 0 ? zu_errno_to_err(errno) : ZUPD_OK;
}

static int
read_path(const char *path, size_t cap, uint8_t **out, size_t *len)
{
    return zu_read_capped(AT_FDCWD, path, cap, out, len);
}

/* Open (creating) <state>/<sub>/metadata, starting from root_path the first
 * time, and a TUF client on it. */
static int
open_client(struct zupd_updater *u, int dfd, const char *root_path, char **meta_urls, size_t n,
            struct zupd_fetch_state *fs, int *mdfd, struct zupd_client **client, char *err,
            size_t cap)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = open_sub(dfd, "metadata", mdfd);

    if (rc != ZUPD_OK) {
        zu_say(err, cap, "cannot use state directory '%s': %s", u->o.state_dir, zupd_strerror(rc));
        return rc;
    }
    if (fstatat(*mdfd, "root.json", &st, AT_SYMLINK_NOFOLLOW) != 0) {
        /* first run: start from the root shipped with the product */
        if (root_path == NULL ||
            read_path(root_path, u->lim.max_root_bytes, &buf, &len) != ZUPD_OK) {
            zu_say(err, cap, "cannot read trusted root '%s'",
                   root_path != NULL ? root_path : "(none configured)");
            return ZUPD_E_NOTFOUND;
        }
        rc = zupd_client_init_dir(*mdfd, buf, len, err, cap);
        free(buf);
        buf = NULL;
        if (rc != ZUPD_OK)
            return rc;
    }
    if (zu_read_capped(dfd, "fetch-state", FETCH_STATE_MAX, &buf, &len) == ZUPD_OK &&
        zupd_fetch_state_parse((const char *)buf, len, fs) != ZUPD_OK)
        memset(fs, 0, sizeof(*fs)); /* a damaged state only costs a full GET */
    free(buf);
    struct zupd_client_opts co = {.metadata_urls = (const char *const *)meta_urls,
                                  .n_metadata_urls = n,
                                  .metadata_dirfd = *mdfd,
                                  .transport = u->o.transport,
                                  .ctx = u->o.ctx,
                                  .lim = &u->lim,
                                  .now = u->o.now,
                                  .timestamp_validators = &fs->timestamp};
    return zupd_client_new(&co, client, err, cap);
}

static int
policy_open(struct zupd_updater *u, char *err, size_t cap)
{
    const struct zupd_updater_opts *o = &u->o;
    struct policy *p = calloc(1, sizeof(*p));
    char why[512] = "";
    int rc;

    if (p == NULL)
        return ZUPD_E_NOMEM;
    u->pol = p;
    p->dfd = p->mdfd = -1;
    p->n = o->n_policy_mirrors;
    p->meta_urls = url_list(o->policy_mirrors, p->n, "metadata/");
    p->target_urls = url_list(o->policy_mirrors, p->n, "targets/");
    if (p->meta_urls == NULL || p->target_urls == NULL)
        return ZUPD_E_NOMEM;
    rc = open_sub(u->sfd, "policy", &p->dfd);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "cannot use state directory '%s/policy': %s", o->state_dir,
               zupd_strerror(rc));
        return rc;
    }
    rc = open_client(u, p->dfd, o->policy_root, p->meta_urls, p->n, &p->fs, &p->mdfd, &p->client,
                     why, sizeof(why));
    if (rc != ZUPD_OK)
        zu_say(err, cap, "policy repository: %s", why);
    return rc;
}

int
zupd_updater_new(const struct zupd_updater_opts *o, struct zupd_updater **out, char *err,
                 size_t cap)
{
    struct zupd_limits dflt = ZUPD_LIMITS_DEFAULT;
    struct zupd_updater *u = NULL;
    int rc;

    *out = NULL;
    zu_say(err, cap, "%s", "");
    if (o == NULL || o->n_mirrors == 0 || o->state_dir == NULL || o->transport == NULL)
        return ZUPD_E_MISUSE;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return ZUPD_E_NOMEM;
    u->sfd = u->mdfd = u->cfd = -1;
    u->o = *o;
    u->lim = o->lim != NULL ? *o->lim : dflt;
    if (u->o.now == 0)
        u->o.now = (int64_t)time(NULL);
    u->n = o->n_mirrors;
    u->meta_urls = url_list(o->mirrors, u->n, "metadata/");
    u->target_urls = url_list(o->mirrors, u->n, "targets/");
    u->roots = url_list(o->mirrors, u->n, "");
    if (u->meta_urls == NULL || u->target_urls == NULL || u->roots == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    rc = zu_mkdir_p(o->state_dir);
    if (rc == ZUPD_OK) {
        u->sfd = open(o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = u->sfd < 0 ? zu_errno_to_err(errno) : ZUPD_OK;
    }
    if (rc == ZUPD_OK)
        rc = open_sub(u->sfd, "cache", &u->cfd);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "cannot use state directory '%s': %s", o->state_dir, zupd_strerror(rc));
        goto out;
    }
    rc = open_client(u, u->sfd, o->trusted_root, u->meta_urls, u->n, &u->fs, &u->mdfd, &u->client,
                     err, cap);
    if (rc == ZUPD_OK && o->n_policy_mirrors > 0)
        rc = policy_open(u, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    *out = u;
    u = NULL;
out:
    zupd_updater_free(u);
    return rc;
}

static int
save_fetch_state(int dfd, const struct zupd_fetch_state *fs)
{
    char text[FETCH_STATE_MAX];
    size_t len = 0;
    int rc = zupd_fetch_state_format(text, sizeof(text), &len, fs);

    if (rc == ZUPD_OK)
        rc = zu_atomic_write(dfd, "fetch-state", text, len, 0644);
    return rc;
}

/* Refresh one repository's metadata; its fetch state lives in dfd. */
static int
refresh_one(struct zupd_updater *u, struct zupd_client *c, struct zupd_fetch_state *fs, int dfd,
            const char *dir, bool *changed, char *err, size_t cap)
{
    uint64_t wait = zupd_fetch_state_wait(fs, u->o.now);
    struct zupd_fetch_state before;
    uint32_t ra;
    int rc, rc2;

    if (wait > 0) {
        zu_say(err, cap, "the repository asked clients to wait; %llu s left",
               (unsigned long long)wait);
        return ZUPD_E_BUSY;
    }
    before = *fs;
    rc = zupd_client_refresh(c, changed, err, cap);
    ra = zupd_client_retry_after(c);
    /* cool down only when no mirror could serve us */
    if (rc == ZUPD_E_BUSY && ra > 0)
        zupd_fetch_state_cooldown(fs, u->o.now, ra);
    /* an idle check changes nothing: no write, no fsync */
    rc2 = memcmp(&before, fs, sizeof(before)) == 0 ? ZUPD_OK : save_fetch_state(dfd, fs);
    if (rc == ZUPD_OK && rc2 != ZUPD_OK) {
        zu_say(err, cap, "cannot write '%s/fetch-state': %s", dir, zupd_strerror(rc2));
        rc = rc2;
    }
    return rc;
}

int
zupd_updater_refresh(struct zupd_updater *u, bool *changed, char *err, size_t cap)
{
    char why[768] = "", dir[4096];
    bool pchanged = false;
    int rc;

    if (changed != NULL)
        *changed = false;
    rc = refresh_one(u, u->client, &u->fs, u->sfd, u->o.state_dir, changed, err, cap);
    if (rc != ZUPD_OK || u->pol == NULL)
        return rc;
    /* Fail closed: without a verified policy an endpoint must not fall
     * back to the vendor's channels (that would undo a fleet hold). */
    snprintf(dir, sizeof(dir), "%s/policy", u->o.state_dir);
    rc = refresh_one(u, u->pol->client, &u->pol->fs, u->pol->dfd, dir, &pchanged, why, sizeof(why));
    if (rc != ZUPD_OK)
        zu_say(err, cap, "policy repository: %s", why);
    if (changed != NULL)
        *changed = *changed || pchanged;
    return rc;
}

/* Find and fetch a small verified target. Verified copies are kept in the
 * cache under their signed sha256, so an unchanged channel pointer or
 * manifest costs no request (an idle check is the timestamp's 304). */
static int
small_target_from(struct zupd_updater *u, struct zupd_client *c, char **target_urls, size_t n,
                  const char *path, size_t max, uint8_t **out, size_t *len, char *err, size_t cap)
{
    struct zupd_target t;
    char name[2 * ZUPD_SHA256_LEN + 8] = "";
    int rc;

    *out = NULL;
    *len = 0;
    rc = zupd_client_find_target(c, path, &t, NULL, 0, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (t.hashes.has_sha256 && t.length <= max) {
        memcpy(name, "t-", 3);
        zupd_hex_encode(name + 2, sizeof(name) - 2, t.hashes.sha256, ZUPD_SHA256_LEN);
        if (zu_read_capped(u->cfd, name, max, out, len) == ZUPD_OK) {
            if (zupd_check_length_hashes(*out, *len, true, t.length, &t.hashes) == ZUPD_OK)
                return ZUPD_OK;
            free(*out); /* damaged: fetch it again */
            *out = NULL;
            *len = 0;
        }
    }
    rc = zupd_client_fetch_target(c, path, &t, (const char *const *)target_urls, n, max, out, len,
                                  err, cap);
    if (rc == ZUPD_OK && name[0] != 0 && zu_atomic_write(u->cfd, name, *out, *len, 0644) != ZUPD_OK)
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "cannot cache '%s'", path);
    return rc;
}

static int
small_target(struct zupd_updater *u, const char *path, size_t max, uint8_t **out, size_t *len,
             char *err, size_t cap)
{
    return small_target_from(u, u->client, u->target_urls, u->n, path, max, out, len, err, cap);
}

/* The verified channel pointer at path in a repository; it must name
 * component and channel. */
static int
load_pointer(struct zupd_updater *u, struct zupd_client *c, char **target_urls, size_t n,
             const char *path, const char *component, const char *channel,
             struct zupd_channel **out, char *err, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = small_target_from(u, c, target_urls, n, path, CHANNEL_MAX_BYTES, &buf, &len, err, cap);

    *out = NULL;
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_channel_parse(buf, len, out);
    free(buf);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "channel pointer '%s' is malformed", path);
        return rc;
    }
    if (strcmp((*out)->component, component) != 0 || strcmp((*out)->channel, channel) != 0) {
        zu_say(err, cap, "channel pointer '%s' names '%s/%s'", path, (*out)->component,
               (*out)->channel);
        zupd_channel_free(*out);
        *out = NULL;
        return ZUPD_E_MISMATCH;
    }
    return ZUPD_OK;
}

int
zupd_updater_resolve(struct zupd_updater *u, const char *role, const char *component,
                     const char *channel, struct zupd_resolved *out, char *err, size_t cap)
{
    struct zupd_channel *vendor = NULL, *policy = NULL;
    char path[3 * ZUPD_NAME_MAX + 32], why[512] = "";
    struct zupd_target t;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!zupd_name_is_safe(role) || !zupd_name_is_safe(component) || !zupd_name_is_safe(channel))
        return ZUPD_E_MISUSE;
    snprintf(path, sizeof(path), "%s/%s/channels/%s.json", role, component, channel);
    rc = load_pointer(u, u->client, u->target_urls, u->n, path, component, channel, &vendor, err,
                      cap);
    if (rc != ZUPD_OK)
        return rc;
    if (u->pol != NULL) {
        rc = zupd_client_find_target(u->pol->client, path, &t, NULL, 0, why, sizeof(why));
        if (rc == ZUPD_OK)
            rc = load_pointer(u, u->pol->client, u->pol->target_urls, u->pol->n, path, component,
                              channel, &policy, why, sizeof(why));
        else if (rc == ZUPD_E_NOTFOUND)
            rc = ZUPD_OK; /* the policy leaves this channel to the vendor */
        if (rc != ZUPD_OK)
            zu_say(err, cap, "policy repository: %s", why);
    }
    if (rc == ZUPD_OK)
        zupd_channel_decide(vendor, policy, u->o.now, out);
    if (rc == ZUPD_OK && out->source == ZUPD_SOURCE_POLICY) {
        /* the policy chooses among the vendor's releases, never beyond */
        snprintf(path, sizeof(path), "%s/%s/%s/manifest.json", role, component, out->version);
        rc = zupd_client_find_target(u->client, path, &t, NULL, 0, why, sizeof(why));
        if (rc == ZUPD_E_NOTFOUND)
            zu_say(err, cap,
                   "the enterprise policy pins %s to %s (channel '%s'), a release the vendor "
                   "never signed; refusing it",
                   component, out->version, channel);
        else if (rc != ZUPD_OK)
            zu_say(err, cap, "%s", why);
    }
    if (rc == ZUPD_OK && out->why[0] != 0)
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "%s: %s", component, out->why);
    zupd_channel_free(vendor);
    zupd_channel_free(policy);
    return rc;
}

int
zupd_updater_channel(struct zupd_updater *u, const char *role, const char *component,
                     const char *channel, char *ver, size_t vcap, char *err, size_t cap)
{
    struct zupd_resolved r;
    int rc;

    if (vcap > 0)
        ver[0] = 0;
    rc = zupd_updater_resolve(u, role, component, channel, &r, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    if (strlen(r.version) >= vcap)
        return ZUPD_E_MISUSE;
    memcpy(ver, r.version, strlen(r.version) + 1);
    return ZUPD_OK;
}

int
zupd_updater_manifest(struct zupd_updater *u, const char *role, const char *component,
                      const char *version, uint8_t **bytes, size_t *blen, struct zupd_manifest **m,
                      char *err, size_t cap)
{
    char path[3 * ZUPD_NAME_MAX + 32], why[256] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    *bytes = NULL;
    *blen = 0;
    *m = NULL;
    if (!zupd_name_is_safe(role) || !zupd_name_is_safe(component) || !zupd_name_is_safe(version))
        return ZUPD_E_MISUSE;
    snprintf(path, sizeof(path), "%s/%s/%s/manifest.json", role, component, version);
    rc = small_target(u, path, MANIFEST_MAX_BYTES, &buf, &len, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_manifest_parse(buf, len, &u->lim, m, why, sizeof(why));
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "manifest '%s': %s", path, why);
        free(buf);
        return rc;
    }
    if (strcmp((*m)->role, role) != 0 || strcmp((*m)->component, component) != 0 ||
        strcmp((*m)->version, version) != 0) {
        zu_say(err, cap, "manifest '%s' describes %s/%s %s", path, (*m)->role, (*m)->component,
               (*m)->version);
        zupd_manifest_free(*m);
        *m = NULL;
        free(buf);
        return ZUPD_E_MISMATCH;
    }
    *bytes = buf;
    *blen = len;
    return ZUPD_OK;
}

/* ------------------------------------------------------------ install */

/* Download blob (sha256, size) into the cache; returns its cache name. */
static int
fetch_blob(struct zupd_updater *u, const uint8_t *sha, uint64_t size, char *name, size_t ncap)
{
    char rel[128];
    struct zupd_fetch_req req;
    struct zupd_fetch_res res;

    zupd_hex_encode(name, ncap, sha, 32);
    snprintf(rel, sizeof(rel), "blobs/sha256/%.2s/%s", name, name);
    memset(&req, 0, sizeof(req));
    req.bases = (const char *const *)u->roots;
    req.n_bases = u->n;
    req.path = rel;
    req.max_bytes = size > 0 ? size : 1;
    return zupd_fetch_file(u->o.ctx, u->o.transport, &req, u->cfd, name, size, ZUPD_HASH_SHA256,
                           sha, &res);
}

/* Map dirfd/name (or a path) read-only; an empty file maps to "". */
struct map {
    uint8_t *p;
    size_t len;
    bool mapped;
};

static int
map_file(int dirfd, const char *name, struct map *m)
{
    struct stat st;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = ZUPD_OK;

    memset(m, 0, sizeof(*m));
    if (fd < 0)
        return zu_errno_to_err(errno);
    if (fstat(fd, &st) != 0) {
        rc = zu_errno_to_err(errno);
    } else if (st.st_size == 0) {
        m->p = (uint8_t *)(uintptr_t) "";
    } else {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = zu_errno_to_err(errno);
        } else {
            m->p = p;
            m->len = (size_t)st.st_size;
            m->mapped = true;
        }
    }
    close(fd);
    return rc;
}

static void
unmap_file(struct map *m)
{
    if (m->mapped)
        munmap(m->p, m->len);
    memset(m, 0, sizeof(*m));
}

struct sink_adapter {
    struct zupd_sink *s;
};

static int
delta_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct zupd_sink *s = opaque;
    return s->write(s->opaque, buf, len);
}

static int
try_delta(struct zupd_updater *u, struct zupd_stage *st, size_t i, struct zupd_install_stats *stats)
{
    const struct zupd_file_entry *e = &zupd_stage_manifest(st)->files[i];
    const struct zupd_delta_ref *best = NULL;
    char old[4096 + ZUPD_PATH_MAX], best_old[4096 + ZUPD_PATH_MAX], name[65];
    struct map om = {0}, pm = {0};
    struct zupd_sink sink;
    int rc;

    for (size_t k = 0; k < e->n_deltas; k++) {
        const struct zupd_delta_ref *d = &e->deltas[k];
        if (d->size >= e->blob_size || (best != NULL && d->size >= best->size))
            continue;
        if (zupd_stage_find_local(st, d->from_sha256, old, sizeof(old)) != ZUPD_OK)
            continue;
        best = d;
        memcpy(best_old, old, sizeof(old));
    }
    if (best == NULL)
        return ZUPD_E_NOTFOUND;
    rc = fetch_blob(u, best->sha256, best->size, name, sizeof(name));
    if (rc == ZUPD_OK)
        rc = map_file(u->cfd, name, &pm);
    if (rc == ZUPD_OK)
        rc = map_file(AT_FDCWD, best_old, &om);
    if (rc == ZUPD_OK)
        rc = zupd_stage_open(st, i, &sink);
    if (rc == ZUPD_OK) {
        struct zupd_delta_sink ds = {.opaque = &sink, .write = delta_write};
        struct zupd_delta_info info;
        int rc2;
        rc = zupd_delta_apply(om.p, om.len, pm.p, pm.len, e->size, &ds, &info);
        rc2 = zupd_stage_close(st); /* checks size and hash; removes a bad file */
        if (rc == ZUPD_OK)
            rc = rc2;
    }
    unmap_file(&om);
    unmap_file(&pm);
    if (rc == ZUPD_OK) {
        (void)unlinkat(u->cfd, name, 0);
        stats->by_delta++;
    } else {
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "delta for '%s' failed (%s): using the full blob", e->path,
               zupd_strerror(rc));
        if (rc == ZUPD_E_HASH || rc == ZUPD_E_LENGTH || rc == ZUPD_E_FORMAT || rc == ZUPD_E_BASE)
            (void)unlinkat(u->cfd, name, 0);
        stats->delta_failed++;
    }
    return rc;
}

static int
decode_blob(struct zupd_updater *u, const struct zupd_file_entry *e, const char *name,
            struct zupd_sink *sink)
{
    ZSTD_DCtx *dctx = NULL;
    uint8_t *in = NULL, *outb = NULL;
    int fd, rc = ZUPD_OK;

    fd = openat(u->cfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return zu_errno_to_err(errno);
    in = malloc(IO_CHUNK);
    outb = malloc(IO_CHUNK);
    if (in == NULL || outb == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    if (e->blob_encoding == ZUPD_ENC_ZSTD) {
        dctx = ZSTD_createDCtx();
        if (dctx == NULL ||
            ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX))) {
            rc = ZUPD_E_NOMEM;
            goto out;
        }
    }
    for (;;) {
        ssize_t n = read(fd, in, IO_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = zu_errno_to_err(errno);
            goto out;
        }
        if (n == 0)
            break;
        if (dctx == NULL) {
            rc = sink->write(sink->opaque, in, (size_t)n);
            if (rc != ZUPD_OK)
                goto out;
            continue;
        }
        ZSTD_inBuffer ib = {in, (size_t)n, 0};
        while (ib.pos < ib.size) {
            ZSTD_outBuffer ob = {outb, IO_CHUNK, 0};
            size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
            if (ZSTD_isError(r)) {
                rc = ZUPD_E_FORMAT;
                goto out;
            }
            rc = sink->write(sink->opaque, outb, ob.pos);
            if (rc != ZUPD_OK)
                goto out;
        }
    }
    if (dctx != NULL) { /* flush what the decoder still holds */
        for (;;) {
            ZSTD_inBuffer ib = {in, 0, 0};
            ZSTD_outBuffer ob = {outb, IO_CHUNK, 0};
            size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
            if (ZSTD_isError(r)) {
                rc = ZUPD_E_FORMAT;
                goto out;
            }
            if (ob.pos > 0) {
                rc = sink->write(sink->opaque, outb, ob.pos);
                if (rc != ZUPD_OK)
                    goto out;
            }
            if (ob.pos < IO_CHUNK)
                break;
        }
    }
out:
    ZSTD_freeDCtx(dctx);
    free(in);
    free(outb);
    close(fd);
    return rc;
}

static int
from_blob(struct zupd_updater *u, struct zupd_stage *st, size_t i, char *err, size_t cap)
{
    const struct zupd_file_entry *e = &zupd_stage_manifest(st)->files[i];
    struct zupd_sink sink;
    char name[65];
    int rc, rc2;

    rc = fetch_blob(u, e->blob_sha256, e->blob_size, name, sizeof(name));
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "cannot download the blob of '%s': %s", e->path, zupd_strerror(rc));
        return rc;
    }
    rc = zupd_stage_open(st, i, &sink);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "cannot stage '%s': %s", e->path, zupd_strerror(rc));
        return rc;
    }
    rc = decode_blob(u, e, name, &sink);
    rc2 = zupd_stage_close(st);
    if (rc == ZUPD_OK)
        rc = rc2;
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "'%s': the blob does not give the signed content: %s", e->path,
               zupd_strerror(rc));
        if (rc != ZUPD_E_NOSPACE && rc != ZUPD_E_IO)
            (void)unlinkat(u->cfd, name, 0);
        return rc;
    }
    (void)unlinkat(u->cfd, name, 0);
    return ZUPD_OK;
}

int
zupd_updater_install(struct zupd_updater *u, struct zupd_store *store, const uint8_t *mbytes,
                     size_t mlen, zupd_progress_fn progress, void *opaque,
                     struct zupd_install_stats *stats, char *err, size_t cap)
{
    struct zupd_install_stats local;
    const struct zupd_manifest *m;
    struct zupd_stage *st = NULL;
    uint64_t before = u->o.transport->stats.bytes;
    int rc;

    if (stats == NULL)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    zu_say(err, cap, "%s", "");
    rc = zupd_stage_begin(store, mbytes, mlen, &st);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "cannot start staging: %s", zupd_strerror(rc));
        return rc;
    }
    m = zupd_stage_manifest(st);
    stats->files = m->n_files;
    for (size_t i = 0; i < m->n_files; i++) {
        const struct zupd_file_entry *e = &m->files[i];
        stats->release_size += e->size;
        rc = zupd_stage_link(st, i);
        if (rc == ZUPD_OK) {
            stats->linked++;
        } else if (rc != ZUPD_E_NOTFOUND) {
            zu_say(err, cap, "cannot stage '%s': %s", e->path, zupd_strerror(rc));
            goto out;
        } else {
            stats->full_size += e->blob_size;
            if (try_delta(u, st, i, stats) != ZUPD_OK) {
                rc = from_blob(u, st, i, err, cap);
                if (rc != ZUPD_OK)
                    goto out;
                stats->by_blob++;
            }
        }
        stats->downloaded = u->o.transport->stats.bytes - before;
        if (progress != NULL)
            progress(opaque, stats);
    }
    rc = zupd_stage_commit(st);
    st = NULL;
    if (rc != ZUPD_OK)
        zu_say(err, cap, "cannot commit the new version: %s", zupd_strerror(rc));
out:
    zupd_stage_abort(st);
    stats->downloaded = u->o.transport->stats.bytes - before;
    return rc;
}
