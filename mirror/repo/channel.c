/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/channel.c -- what a release role lists of a component: its
 * channel pointers (read, written and logged), the vendor's floor, its
 * published versions; for publish, promote, floor and the policy
 * repository. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>

#include "zu/fsio.h"
#include "repo/repo_int.h"

/* Versions of one component: entries of one targets document. */
#define VERSIONS_MAX ((size_t)1 << 20)

/* ------------------------------------------------------------ channels */

/* The channel pointer of component's channel as signed now (parsed);
 * ZUPD_E_NOTFOUND when there is none. */
int
zp_channel_read(struct zp_repo *r, enum zp_role role, const char *component, const char *channel,
                struct zupd_channel **out)
{
    char path[512];
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    snprintf(path, sizeof(path), "%s/%s/channels/%s.json", zp_role_name(role), component, channel);
    if (zupd_meta_target(zp_tdoc(r, role, path), path, &(struct zupd_target){0}) != ZUPD_OK)
        return ZUPD_E_NOTFOUND;
    rc = zp_read_target(r, role, path, &buf, &len, NULL, 0);
    if (rc == ZUPD_OK)
        rc = zupd_channel_parse(buf, len, out);
    free(buf);
    return rc;
}

int
zp_channel_get(struct zp_repo *r, enum zp_role role, const char *component, const char *channel,
               char *version, size_t vcap)
{
    struct zupd_channel *c = NULL;
    int rc = zp_channel_read(r, role, component, channel, &c);

    if (rc == ZUPD_OK)
        rc = (size_t)snprintf(version, vcap, "%s", c->version) < vcap ? ZUPD_OK : ZUPD_E_TOOBIG;
    zupd_channel_free(c);
    return rc;
}

int
zp_channel_put(struct zp_repo *r, enum zp_role role, json_t *doc, unsigned *mask, char *err,
               size_t cap)
{
    char path[512], hex[65], rel[1024], custom[ZP_LOG_CUSTOM_MAX];
    struct zupd_channel *check = NULL;
    struct zupd_hashes h;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    size_t hl, clen = 0;
    int rc;

    if (text == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    rc = zupd_channel_parse((const uint8_t *)text, strlen(text), &check);
    if (rc != ZUPD_OK) {
        free(text);
        return zu_fail(err, cap, rc, "not a valid channel pointer");
    }
    snprintf(path, sizeof(path), "%s/%s/channels/%s.json", zp_role_name(role), check->component,
             check->channel);
    memset(&h, 0, sizeof(h));
    h.count = 1;
    h.has_sha256 = true;
    rc = zupd_hash_buf(ZUPD_HASH_SHA256, text, strlen(text), h.sha256, 32, &hl);
    zupd_hex_encode(hex, sizeof(hex), h.sha256, 32);
    if (rc == ZUPD_OK)
        rc = zp_target_file(rel, sizeof(rel), path, hex);
    if (rc == ZUPD_OK)
        rc = zp_put(r->dfd, rel, text, strlen(text), 0644, true); /* flushed by the commit */
    if (rc == ZUPD_OK)
        rc = zp_log_custom(r, custom, sizeof(custom), &clen, err, cap);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_target(zp_tdoc(r, role, path), path, strlen(text), &h,
                                  clen > 0 ? (const uint8_t *)custom : NULL, clen);
    if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot write channel '%s': %s", path, zupd_strerror(rc));
    else
        zp_tdoc_changed(r, role, path, mask);
    if (rc == ZUPD_OK)
        rc = zp_log_channel(r, role, path, text, strlen(text), check, err, cap);
    zupd_channel_free(check);
    free(text);
    return rc;
}

struct floor_scan {
    const char *prefix; /* "<role>/<component>/channels/" */
    size_t plen;
    struct zp_repo *r;
    enum zp_role role;
    const char *component;
    char floor[ZUPD_NAME_MAX + 1];
};

static int
floor_scan_one(void *opaque, const char *path, const struct zupd_target *t)
{
    struct floor_scan *fs = opaque;
    const char *name = path + fs->plen;
    char channel[ZUPD_NAME_MAX + 1];
    struct zupd_channel *c = NULL;
    size_t n;

    (void)t;
    if (strncmp(path, fs->prefix, fs->plen) != 0 || (n = strlen(name)) <= 5 ||
        n - 5 >= sizeof(channel) || strcmp(name + n - 5, ".json") != 0)
        return 0;
    memcpy(channel, name, n - 5);
    channel[n - 5] = '\0';
    if (zp_channel_read(fs->r, fs->role, fs->component, channel, &c) == ZUPD_OK &&
        c->floor != NULL && (fs->floor[0] == '\0' || zupd_version_cmp(c->floor, fs->floor) > 0))
        snprintf(fs->floor, sizeof(fs->floor), "%s", c->floor);
    zupd_channel_free(c);
    return 0;
}

int
zp_floor_get(struct zp_repo *r, enum zp_role role, const char *component, char *floor, size_t cap)
{
    char prefix[512];
    struct floor_scan fs = {.prefix = prefix, .r = r, .role = role, .component = component};

    snprintf(prefix, sizeof(prefix), "%s/%s/channels/", zp_role_name(role), component);
    fs.plen = strlen(prefix);
    (void)zp_tdoc_foreach(r, role, floor_scan_one, &fs);
    if (fs.floor[0] == '\0')
        return ZUPD_E_NOTFOUND;
    return (size_t)snprintf(floor, cap, "%s", fs.floor) < cap ? ZUPD_OK : ZUPD_E_TOOBIG;
}

int
zp_check_published(struct zp_repo *r, enum zp_role role, const char *component, const char *version,
                   char *err, size_t cap)
{
    char mpath[512];

    snprintf(mpath, sizeof(mpath), "%s/%s/%s/manifest.json", zp_role_name(role), component,
             version);
    if (zupd_meta_target(zp_tdoc(r, role, mpath), mpath, &(struct zupd_target){0}) != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "version %s of '%s' is not published in '%s'",
                       version, component, zp_role_name(role));
    return ZUPD_OK;
}

int
zp_component_role(struct zp_repo *r, const char *component, const char *version, enum zp_role *out,
                  char *err, size_t cap)
{
    static const enum zp_role roles[2] = {ZP_R_PRODUCTS, ZP_R_AVDB};
    char scratch[256];
    size_t n = 0;

    *out = ZP_R_PRODUCTS;
    if (!zupd_name_is_safe(component) || !zupd_name_is_safe(version))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid component or version name");
    for (size_t i = 0; i < 2; i++)
        if (zp_check_published(r, roles[i], component, version, scratch, sizeof(scratch)) ==
            ZUPD_OK) {
            *out = roles[i];
            n++;
        }
    if (n == 0)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND,
                       "version %s of '%s' is not published (neither in 'products' nor in 'avdb')",
                       version, component);
    if (n > 1)
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "'%s' %s is published in both 'products' and 'avdb': say which with --role",
                       component, version);
    return ZUPD_OK;
}

/* ------------------------------------------------------------ releases */

void
zp_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

struct vlist {
    const char *prefix; /* "<role>/<component>/" */
    size_t plen;
    char **v;
    size_t n, cap;
    int rc;
};

static int
collect_version(void *opaque, const char *path, const struct zupd_target *t)
{
    struct vlist *l = opaque;
    const char *ver, *slash;

    (void)t;
    if (strncmp(path, l->prefix, l->plen) != 0)
        return 0;
    ver = path + l->plen;
    slash = strchr(ver, '/');
    if (slash == NULL || strcmp(slash, "/manifest.json") != 0 || slash == ver)
        return 0;
    /* the versions are entries of one targets document */
    l->rc = ZU_GROW(&l->v, &l->cap, l->n + 1, VERSIONS_MAX);
    if (l->rc != ZUPD_OK)
        return 1;
    l->v[l->n] = strndup(ver, (size_t)(slash - ver));
    if (l->v[l->n] == NULL) {
        l->rc = ZUPD_E_NOMEM;
        return 1;
    }
    l->n++;
    return 0;
}

static int
cmp_ver(const void *a, const void *b)
{
    return zupd_version_cmp(*(char *const *)a, *(char *const *)b);
}

int
zp_versions(struct zp_repo *r, enum zp_role role, const char *component, char ***out, size_t *n)
{
    char prefix[512];
    struct vlist l;

    *out = NULL;
    *n = 0;
    memset(&l, 0, sizeof(l));
    snprintf(prefix, sizeof(prefix), "%s/%s/", zp_role_name(role), component);
    l.prefix = prefix;
    l.plen = strlen(prefix);
    (void)zp_tdoc_foreach(r, role, collect_version, &l);
    if (l.rc != ZUPD_OK) {
        zp_strv_free(l.v, l.n);
        return l.rc;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), cmp_ver);
    *out = l.v;
    *n = l.n;
    return ZUPD_OK;
}
