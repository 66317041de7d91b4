/* SPDX-License-Identifier: Apache-2.0 */
/* lib/update.c -- the endpoint's update engine: state directory, metadata
 * refresh, channel pointers and manifests (installing is lib/install.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zupd/hash.h>
#include <zupd/update.h>

#include "zu/fsio.h"
#include "zu/internal.h"
#include "abi.h"
#include "update_int.h"

#define CHANNEL_MAX_BYTES 65536
#define MANIFEST_MAX_BYTES (64u << 20)
#define FETCH_STATE_MAX 4096
#define TIME_FLOOR_MAX 32

/* An enterprise policy repository: a TUF repository of its own (root in
 * <state>/policy/metadata) that only holds channel pointers. */
struct policy {
    char **meta_urls, **target_urls;
    size_t n;
    int dfd, mdfd;
    struct zu_fetch_state fs;
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
    free(u->ready);
    zu_tlog_conf_free(u->log);
    free(u);
}

struct zupd_client *
zupd_updater_client(struct zupd_updater *u)
{
    return u->client;
}

int
zupd_updater_stats(const struct zupd_updater *u, struct zupd_fetch_stats *st)
{
    if (u == NULL)
        return ZUPD_E_MISUSE;
    return zupd_transport_stats(u->o.transport, st);
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

/* Open (creating) <state>/<sub>/metadata, starting from root_path the first
 * time, and a TUF client on it. */
static int
open_client(struct zupd_updater *u, int dfd, const char *root_path, char **meta_urls, size_t n,
            struct zu_fetch_state *fs, int64_t *floor, int *mdfd, struct zupd_client **client,
            char *err, size_t cap)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = open_sub(dfd, "metadata", mdfd);

    if (rc != ZUPD_OK) {
        return zu_fail(err, cap, rc, "cannot use state directory '%s': %s", u->o.state_dir,
                       zupd_strerror(rc));
    }
    if (fstatat(*mdfd, "root.json", &st, AT_SYMLINK_NOFOLLOW) != 0) {
        /* first run: start from the root shipped with the product */
        if (root_path == NULL)
            return zu_fail(err, cap, ZUPD_E_NOTFOUND, "no trusted root configured");
        /* a regular file (not a FIFO: O_NONBLOCK), not a symlink, that only
         * root or we can write: it decides every key zupd will trust */
        rc = zu_read_file(AT_FDCWD, root_path, ZU_READ_SAFE, u->lim.max_root_bytes, &buf, &len, err,
                          cap);
        if (rc != ZUPD_OK) {
            char why[512];

            snprintf(why, sizeof(why), "%s", err != NULL ? err : "");
            return zu_fail(err, cap, rc == ZUPD_E_NOTFOUND ? ZUPD_E_NOTFOUND : rc,
                           "trusted root: %s", why);
        }
        rc = zupd_client_init_dir(*mdfd, buf, len, err, cap);
        free(buf);
        buf = NULL;
        if (rc != ZUPD_OK)
            return rc;
    }
    if (zu_read_capped(dfd, "fetch-state", FETCH_STATE_MAX, &buf, &len) == ZUPD_OK &&
        zu_fetch_state_parse((const char *)buf, len, fs) != ZUPD_OK)
        memset(fs, 0, sizeof(*fs)); /* a damaged state only costs a full GET */
    free(buf);
    struct zupd_client_opts co = {.size = sizeof(co),
                                  .metadata_urls = (const char *const *)meta_urls,
                                  .n_metadata_urls = n,
                                  .metadata_dirfd = *mdfd,
                                  .transport = u->o.transport,
                                  .ctx = u->o.ctx,
                                  .lim = &u->lim,
                                  .now = u->o.now,
                                  .timestamp_validators = &fs->timestamp,
                                  .time_floor = floor};
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
        return zu_fail(err, cap, rc, "cannot use state directory '%s/policy': %s", o->state_dir,
                       zupd_strerror(rc));
    }
    /* the same floor: either repository's verified time bounds the clock */
    rc = open_client(u, p->dfd, o->policy_root, p->meta_urls, p->n, &p->fs, &u->floor, &p->mdfd,
                     &p->client, why, sizeof(why));
    if (rc != ZUPD_OK)
        zu_say(err, cap, "policy repository: %s", why);
    return rc;
}

/* <state_dir>/time-floor: the newest time a verified signature vouches for
 * (zupd_client_opts.time_floor), decimal seconds. Missing: no floor (a
 * fresh state). Damaged: no floor, with a warning; it is rewritten at the
 * next verified timestamp. */
static void
read_floor(struct zupd_updater *u)
{
    char text[TIME_FLOOR_MAX + 1];
    uint8_t *buf = NULL;
    size_t len = 0;
    char *end;
    long long v;

    u->floor = u->floor_saved = 0;
    if (zu_read_capped(u->sfd, "time-floor", TIME_FLOOR_MAX, &buf, &len) != ZUPD_OK)
        return;
    memcpy(text, buf, len);
    text[len] = 0;
    free(buf);
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || (*end != 0 && strcmp(end, "\n") != 0) || v <= 0 ||
        text[0] < '0' || text[0] > '9') {
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "'%s/time-floor' is damaged: ignored", u->o.state_dir);
        return;
    }
    u->floor = u->floor_saved = (int64_t)v;
}

/* Persist a floor that verified metadata raised (atomically). A failure
 * only loses protection for the next run: a warning, not an error. */
static void
save_floor(struct zupd_updater *u)
{
    char text[TIME_FLOOR_MAX];
    int n, rc;

    if (u->floor <= u->floor_saved)
        return;
    n = snprintf(text, sizeof(text), "%lld\n", (long long)u->floor);
    rc = zu_atomic_write(u->sfd, "time-floor", text, (size_t)n, 0644);
    if (rc != ZUPD_OK) {
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "cannot write '%s/time-floor': %s", u->o.state_dir,
               zupd_strerror(rc));
        return;
    }
    u->floor_saved = u->floor;
}

int
zupd_updater_new(const struct zupd_updater_opts *caller_o, struct zupd_updater **out, char *err,
                 size_t cap)
{
    const size_t opts_v1 = ZU_SIZE_THROUGH(struct zupd_updater_opts, policy_root);
    struct zupd_updater_opts oc;
    const struct zupd_updater_opts *o = &oc;
    struct zupd_updater *u = NULL;
    int rc;

    *out = NULL;
    zu_say(err, cap, "%s", "");
    zupd_updater_opts_init(&oc);
    if (caller_o == NULL || zu_struct_in(&oc, sizeof(oc), caller_o, opts_v1) != ZUPD_OK ||
        o->n_mirrors == 0 || o->state_dir == NULL || o->transport == NULL)
        return ZUPD_E_MISUSE;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return ZUPD_E_NOMEM;
    u->sfd = u->mdfd = u->cfd = -1;
    u->o = *o;
    if (zu_limits_get(&u->lim, o->lim) != ZUPD_OK) {
        free(u);
        return ZUPD_E_MISUSE;
    }
    if (u->o.now == 0)
        u->o.now = (int64_t)time(NULL);
    if (u->o.max_file_size == 0)
        u->o.max_file_size = ZUPD_DEFAULT_MAX_FILE_SIZE;
    if (u->o.max_release_size == 0)
        u->o.max_release_size = ZUPD_DEFAULT_MAX_RELEASE_SIZE;
    if (u->o.max_cache_size == 0)
        u->o.max_cache_size = ZUPD_DEFAULT_MAX_CACHE_SIZE;
    if (u->o.mirror_time_budget == 0)
        u->o.mirror_time_budget = ZUPD_DEFAULT_MIRROR_TIME_BUDGET;
    u->budget.limit_ms = (uint64_t)u->o.mirror_time_budget * 1000u;
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
    read_floor(u);
    rc = open_client(u, u->sfd, o->trusted_root, u->meta_urls, u->n, &u->fs, &u->floor, &u->mdfd,
                     &u->client, err, cap);
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
save_fetch_state(int dfd, const struct zu_fetch_state *fs)
{
    char text[FETCH_STATE_MAX];
    size_t len = 0;
    int rc = zu_fetch_state_format(text, sizeof(text), &len, fs);

    if (rc == ZUPD_OK)
        rc = zu_atomic_write(dfd, "fetch-state", text, len, 0644);
    return rc;
}

/* Refresh one repository's metadata; its fetch state lives in dfd. */
static int
refresh_one(struct zupd_updater *u, struct zupd_client *c, struct zu_fetch_state *fs, int dfd,
            const char *dir, bool *changed, char *err, size_t cap)
{
    uint64_t wait = zu_fetch_state_wait(fs, u->o.now);
    struct zu_fetch_state before;
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
        zu_fetch_state_cooldown(fs, u->o.now, ra);
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
    save_floor(u); /* raised by verified timestamps only, even if a later step failed */
    if (rc != ZUPD_OK || u->pol == NULL)
        return rc;
    /* Fail closed: without a verified policy an endpoint must not fall
     * back to the vendor's channels (that would undo a fleet hold). */
    snprintf(dir, sizeof(dir), "%s/policy", u->o.state_dir);
    rc = refresh_one(u, u->pol->client, &u->pol->fs, u->pol->dfd, dir, &pchanged, why, sizeof(why));
    save_floor(u);
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
    /* no fsync: the copy is checked against the signed hash on every read */
    if (rc == ZUPD_OK && name[0] != 0 && zu_cache_write(u->cfd, name, *out, *len, 0644) != ZUPD_OK)
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "cannot cache '%s'", path);
    return rc;
}

static int
small_target(struct zupd_updater *u, const char *path, size_t max, uint8_t **out, size_t *len,
             char *err, size_t cap)
{
    return small_target_from(u, u->client, u->target_urls, u->n, path, max, out, len, err, cap);
}

int
zu_updater_small_target(struct zupd_updater *u, const char *path, size_t max, uint8_t **out,
                        size_t *len, char *err, size_t cap)
{
    return small_target(u, path, max, out, len, err, cap);
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
        return zu_fail(err, cap, rc, "channel pointer '%s' is malformed", path);
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
        /* the clock, or the signed-time floor if that is later */
        zupd_channel_decide(vendor, policy, u->floor > u->o.now ? u->floor : u->o.now, out);
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
