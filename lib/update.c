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

#include "fsio.h"
#include "internal.h"
#include "update_int.h"

#define CHANNEL_MAX_BYTES 65536
#define MANIFEST_MAX_BYTES (64u << 20)
#define FETCH_STATE_MAX 4096

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

void
zupd_updater_free(struct zupd_updater *u)
{
    if (u == NULL)
        return;
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

int
zupd_updater_new(const struct zupd_updater_opts *o, struct zupd_updater **out, char *err,
                 size_t cap)
{
    struct zupd_limits dflt = ZUPD_LIMITS_DEFAULT;
    struct zupd_updater *u = NULL;
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
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
        rc = open_sub(u->sfd, "metadata", &u->mdfd);
    if (rc == ZUPD_OK)
        rc = open_sub(u->sfd, "cache", &u->cfd);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "cannot use state directory '%s': %s", o->state_dir, zupd_strerror(rc));
        goto out;
    }
    if (fstatat(u->mdfd, "root.json", &st, AT_SYMLINK_NOFOLLOW) != 0) {
        /* first run: start from the root shipped with the product */
        if (o->trusted_root == NULL ||
            read_path(o->trusted_root, u->lim.max_root_bytes, &buf, &len) != ZUPD_OK) {
            rc = ZUPD_E_NOTFOUND;
            zu_say(err, cap, "cannot read trusted root '%s'",
                   o->trusted_root != NULL ? o->trusted_root : "(none configured)");
            goto out;
        }
        rc = zupd_client_init_dir(u->mdfd, buf, len, err, cap);
        if (rc != ZUPD_OK)
            goto out;
    }
    free(buf);
    buf = NULL;
    if (zu_read_capped(u->sfd, "fetch-state", FETCH_STATE_MAX, &buf, &len) == ZUPD_OK &&
        zupd_fetch_state_parse((const char *)buf, len, &u->fs) != ZUPD_OK)
        memset(&u->fs, 0, sizeof(u->fs)); /* a damaged state only costs a full GET */
    {
        struct zupd_client_opts co = {.metadata_urls = (const char *const *)u->meta_urls,
                                      .n_metadata_urls = u->n,
                                      .metadata_dirfd = u->mdfd,
                                      .transport = o->transport,
                                      .ctx = o->ctx,
                                      .lim = &u->lim,
                                      .now = u->o.now,
                                      .timestamp_validators = &u->fs.timestamp};
        rc = zupd_client_new(&co, &u->client, err, cap);
    }
    if (rc != ZUPD_OK)
        goto out;
    *out = u;
    u = NULL;
out:
    free(buf);
    zupd_updater_free(u);
    return rc;
}

static int
save_fetch_state(struct zupd_updater *u)
{
    char text[FETCH_STATE_MAX];
    size_t len = 0;
    int rc = zupd_fetch_state_format(text, sizeof(text), &len, &u->fs);

    if (rc == ZUPD_OK)
        rc = zu_atomic_write(u->sfd, "fetch-state", text, len, 0644);
    return rc;
}

int
zupd_updater_refresh(struct zupd_updater *u, bool *changed, char *err, size_t cap)
{
    uint64_t wait = zupd_fetch_state_wait(&u->fs, u->o.now);
    struct zupd_fetch_state before;
    uint32_t ra;
    int rc, rc2;

    if (changed != NULL)
        *changed = false;
    if (wait > 0) {
        zu_say(err, cap, "the repository asked clients to wait; %llu s left",
               (unsigned long long)wait);
        return ZUPD_E_BUSY;
    }
    before = u->fs;
    rc = zupd_client_refresh(u->client, changed, err, cap);
    ra = zupd_client_retry_after(u->client);
    /* cool down only when no mirror could serve us */
    if (rc == ZUPD_E_BUSY && ra > 0)
        zupd_fetch_state_cooldown(&u->fs, u->o.now, ra);
    /* an idle check changes nothing: no write, no fsync */
    rc2 = memcmp(&before, &u->fs, sizeof(before)) == 0 ? ZUPD_OK : save_fetch_state(u);
    if (rc == ZUPD_OK && rc2 != ZUPD_OK) {
        zu_say(err, cap, "cannot write '%s/fetch-state': %s", u->o.state_dir, zupd_strerror(rc2));
        rc = rc2;
    }
    return rc;
}

/* Find and fetch a small verified target. Verified copies are kept in the
 * cache under their signed sha256, so an unchanged channel pointer or
 * manifest costs no request (an idle check is the timestamp's 304). */
static int
small_target(struct zupd_updater *u, const char *path, size_t max, uint8_t **out, size_t *len,
             char *err, size_t cap)
{
    struct zupd_target t;
    char name[2 * ZUPD_SHA256_LEN + 8] = "";
    int rc;

    *out = NULL;
    *len = 0;
    rc = zupd_client_find_target(u->client, path, &t, NULL, 0, err, cap);
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
    rc = zupd_client_fetch_target(u->client, path, &t, (const char *const *)u->target_urls, u->n,
                                  max, out, len, err, cap);
    /* no fsync: the copy is checked against the signed hash on every read */
    if (rc == ZUPD_OK && name[0] != 0 && zu_cache_write(u->cfd, name, *out, *len, 0644) != ZUPD_OK)
        zu_log(u->o.ctx, ZUPD_LOG_WARN, "cannot cache '%s'", path);
    return rc;
}

int
zupd_updater_channel(struct zupd_updater *u, const char *role, const char *component,
                     const char *channel, char *ver, size_t vcap, char *err, size_t cap)
{
    struct zupd_channel *ch = NULL;
    char path[3 * ZUPD_NAME_MAX + 32];
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (vcap > 0)
        ver[0] = 0;
    if (!zupd_name_is_safe(role) || !zupd_name_is_safe(component) || !zupd_name_is_safe(channel))
        return ZUPD_E_MISUSE;
    snprintf(path, sizeof(path), "%s/%s/channels/%s.json", role, component, channel);
    rc = small_target(u, path, CHANNEL_MAX_BYTES, &buf, &len, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zupd_channel_parse(buf, len, &ch);
    free(buf);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "channel pointer '%s' is malformed", path);
        return rc;
    }
    if (strcmp(ch->component, component) != 0 || strcmp(ch->channel, channel) != 0) {
        zu_say(err, cap, "channel pointer '%s' names '%s/%s'", path, ch->component, ch->channel);
        rc = ZUPD_E_MISMATCH;
    } else if (strlen(ch->version) >= vcap) {
        rc = ZUPD_E_MISUSE;
    } else {
        memcpy(ver, ch->version, strlen(ch->version) + 1);
    }
    zupd_channel_free(ch);
    return rc;
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
