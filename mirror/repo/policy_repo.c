/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/policy_repo.c -- the enterprise policy repository (pins, fleet
 * rollbacks, releases) and the vendor's security floor: channel pointers
 * written into a zupd repository (docs/mirror.md, "Enterprise policy"). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>

#include "zu/json.h"
#include "repo/change.h"
#include "repo/fsops.h"
#include "repo/select.h"

/* Channel pointers and floors: entries of one targets document. */
#define POLICY_LIST_MAX ((size_t)1 << 20)

static bool
release_role(enum zp_role role)
{
    return role == ZP_R_PRODUCTS || role == ZP_R_AVDB;
}

/* Is version published (a signed manifest) in the vendor tree dir? */
static int
vendor_has(const char *dir, enum zp_role role, const char *component, const char *version,
           char *err, size_t cap)
{
    struct zp_repo_opts o = {.dir = dir};
    struct zp_repo *v = NULL;
    struct zp_sel_set sel;
    char mpath[512], why[512] = "";
    int rc = zp_repo_open(&o, &v, why, sizeof(why));

    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot read the vendor repository '%s': %s", dir, why);
    snprintf(mpath, sizeof(mpath), "%s/%s/%s/manifest.json", zp_role_name(role), component,
             version);
    if (zupd_meta_target(zp_tdoc(v, role, mpath), mpath, &(struct zupd_target){0}) != ZUPD_OK)
        rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                     "the vendor repository '%s' has no signed release %s of '%s' in '%s'", dir,
                     version, component, zp_role_name(role));
    /* a filtered sync serves only its selection: endpoints could not get
     * a release it dropped */
    if (rc == ZUPD_OK && zp_sel_set_load(zp_repo_dfd(v), &sel) == ZUPD_OK) {
        if (!zp_sel_set_has(&sel, mpath))
            rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                         "release %s of '%s' is signed by the vendor but not mirrored in '%s' "
                         "(its sync --channel/--keep dropped it)",
                         version, component, dir);
        zp_sel_set_release(&sel);
    }
    zp_repo_free(v);
    return rc;
}

int
zp_policy_pin(struct zp_repo *r, const struct zp_pin *p, const char *vendor_dir, char *err,
              size_t cap)
{
    struct zupd_channel *cur = NULL;
    char when[32];
    unsigned mask = 0;
    json_t *doc;
    int rc;

    if (!release_role(p->role))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "role must be 'products' or 'avdb'");
    if (!zupd_name_is_safe(p->component) || !zupd_name_is_safe(p->version) ||
        !zupd_name_is_safe(p->channel))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid component, version or channel name");
    if (p->note != NULL && !zu_utf8_valid(p->note))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "--note is not valid UTF-8");
    if (p->note != NULL && strlen(p->note) > ZUPD_CHANNEL_NOTE_MAX)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "the note is longer than %d bytes",
                       ZUPD_CHANNEL_NOTE_MAX);
    if (p->expires != 0 && p->expires <= zp_repo_now(r))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "the pin would expire before it is published");
    rc = zp_check_policy(r, p->rollback ? "roll back" : "pin", err, cap);
    if (rc == ZUPD_OK)
        rc = zp_check_offline_live(r, p->rollback ? "roll back" : "pin", err, cap);
    if (rc == ZUPD_OK && vendor_dir != NULL)
        rc = vendor_has(vendor_dir, p->role, p->component, p->version, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zp_channel_read(r, p->role, p->component, p->channel, &cur);
    if (rc == ZUPD_OK && !p->rollback && zupd_version_cmp(p->version, cur->version) < 0 &&
        (cur->expires == 0 || cur->expires > zp_repo_now(r)))
        rc = zu_fail(err, cap, ZUPD_E_ROLLBACK,
                     "'%s' is pinned to %s on channel '%s'; moving the fleet back to %s is a "
                     "rollback (zupd-mirror policy rollback)",
                     p->component, cur->version, p->channel, p->version);
    else if (rc == ZUPD_E_NOTFOUND)
        rc = ZUPD_OK;
    else if (rc != ZUPD_OK)
        zu_fail(err, cap, rc, "cannot read the pin of '%s': %s", p->component, zupd_strerror(rc));
    zupd_channel_free(cur);
    if (rc != ZUPD_OK)
        return rc;
    doc = json_pack("{s:i,s:s,s:s,s:s}", "zupd_channel", 1, "component", p->component, "channel",
                    p->channel, "version", p->version);
    if (doc != NULL && p->rollback)
        json_object_set_new(doc, "rollback", json_true());
    if (doc != NULL && p->note != NULL && p->note[0] != '\0')
        json_object_set_new(doc, "note", json_string(p->note));
    if (doc != NULL && p->expires != 0) {
        rc = zupd_time_format(p->expires, when, sizeof(when));
        if (rc == ZUPD_OK)
            json_object_set_new(doc, "expires", json_string(when));
    }
    if (doc == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    if (rc == ZUPD_OK)
        rc = zp_channel_put(r, p->role, doc, &mask, err, cap);
    json_decref(doc);
    if (rc == ZUPD_OK)
        rc = zp_commit(r, mask, NULL, err, cap);
    return rc;
}

int
zp_policy_release(struct zp_repo *r, enum zp_role role, const char *component, const char *channel,
                  char *err, size_t cap)
{
    char path[512], hex[65], rel[1024];
    struct zupd_target t;
    unsigned mask = 0;
    int rc;

    if (!release_role(role))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "role must be 'products' or 'avdb'");
    if (!zupd_name_is_safe(component) || !zupd_name_is_safe(channel))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid component or channel name");
    rc = zp_check_policy(r, "release", err, cap);
    if (rc == ZUPD_OK)
        rc = zp_check_offline_live(r, "release", err, cap);
    if (rc != ZUPD_OK)
        return rc;
    snprintf(path, sizeof(path), "%s/%s/channels/%s.json", zp_role_name(role), component, channel);
    if (zupd_meta_target(zp_tdoc(r, role, path), path, &t) != ZUPD_OK)
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "the policy holds no pin of '%s' on channel '%s'",
                       component, channel);
    zupd_hex_encode(hex, sizeof(hex), t.hashes.sha256, 32);
    rc = zp_target_file(rel, sizeof(rel), path, hex);
    if (rc == ZUPD_OK)
        rc = zupd_meta_remove_target(zp_tdoc(r, role, path), path);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot drop '%s': %s", path, zupd_strerror(rc));
    zp_tdoc_changed(r, role, path, &mask);
    rc = zp_commit(r, mask, NULL, err, cap);
    /* the file goes once no new metadata names it; a reader of the old
     * snapshot that misses it retries with the new one */
    if (rc == ZUPD_OK)
        (void)unlinkat(zp_repo_dfd(r), rel, 0);
    return rc;
}

struct pin_scan {
    struct zp_repo *r;
    enum zp_role role;
    struct zp_pin_entry *v;
    size_t n, cap;
    int rc;
};

static int
pin_scan_one(void *opaque, const char *path, const struct zupd_target *t)
{
    struct pin_scan *ps = opaque;
    uint8_t *buf = NULL;
    size_t len = 0;
    struct zupd_channel *c = NULL;

    (void)t;
    if (strstr(path, "/channels/") == NULL)
        return 0;
    ps->rc = zp_read_target(ps->r, ps->role, path, &buf, &len, NULL, 0);
    if (ps->rc == ZUPD_OK)
        ps->rc = zupd_channel_parse(buf, len, &c);
    free(buf);
    if (ps->rc != ZUPD_OK)
        return 1;
    /* channel pointers: entries of one targets document */
    ps->rc = ZU_GROW(&ps->v, &ps->cap, ps->n + 1, POLICY_LIST_MAX);
    if (ps->rc != ZUPD_OK) {
        zupd_channel_free(c);
        return 1;
    }
    ps->v[ps->n].role = ps->role;
    ps->v[ps->n].ch = c;
    ps->n++;
    return 0;
}

int
zp_check_policy_repo(struct zp_repo *r, char *err, size_t cap)
{
    return zp_check_policy(r, "show pins", err, cap);
}

int
zp_policy_list(struct zp_repo *r, struct zp_pin_entry **out, size_t *n)
{
    static const enum zp_role roles[] = {ZP_R_PRODUCTS, ZP_R_AVDB};
    struct pin_scan ps = {.r = r};

    for (size_t i = 0; ps.rc == ZUPD_OK && i < ZU_ARRAY_LEN(roles); i++) {
        ps.role = roles[i];
        (void)zp_tdoc_foreach(r, roles[i], pin_scan_one, &ps);
    }
    if (ps.rc != ZUPD_OK) {
        zp_pins_free(ps.v, ps.n);
        ps.v = NULL;
        ps.n = 0;
    }
    *out = ps.v;
    *n = ps.n;
    return ps.rc;
}

void
zp_pins_free(struct zp_pin_entry *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        zupd_channel_free(v[i].ch);
    free(v);
}

/* ------------------------------------------------------------ vendor floor */

struct floor_set {
    const char *prefix;
    size_t plen;
    char **paths;
    size_t n, cap;
    int rc;
};

static int
floor_collect(void *opaque, const char *path, const struct zupd_target *t)
{
    struct floor_set *fs = opaque;

    (void)t;
    if (strncmp(path, fs->prefix, fs->plen) != 0 || strchr(path + fs->plen, '/') != NULL)
        return 0;
    fs->rc = ZU_GROW(&fs->paths, &fs->cap, fs->n + 1, POLICY_LIST_MAX);
    if (fs->rc != ZUPD_OK)
        return 1;
    fs->paths[fs->n] = strdup(path);
    if (fs->paths[fs->n] == NULL) {
        fs->rc = ZUPD_E_NOMEM;
        return 1;
    }
    fs->n++;
    return 0;
}

static int
floor_put(struct zp_repo *r, enum zp_role role, const char *path, const char *version,
          unsigned *mask, char *err, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    json_t *doc;
    int rc = zp_read_target(r, role, path, &buf, &len, err, cap);

    if (rc != ZUPD_OK)
        return rc;
    doc = json_loadb((const char *)buf, len, 0, NULL);
    free(buf);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return zu_fail(err, cap, ZUPD_E_FORMAT, "'%s' is not a channel pointer", path);
    }
    json_object_set_new(doc, "floor", json_string(version));
    rc = zp_channel_put(r, role, doc, mask, err, cap);
    json_decref(doc);
    return rc;
}

int
zp_floor_set(struct zp_repo *r, enum zp_role role, const char *component, const char *version,
             size_t *channels, char *err, size_t cap)
{
    char prefix[512];
    struct floor_set fs = {.prefix = prefix};
    unsigned mask = 0;
    int rc;

    *channels = 0;
    if (!release_role(role))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "role must be 'products' or 'avdb'");
    if (!zupd_name_is_safe(component) || !zupd_name_is_safe(version))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid component or version name");
    rc = zp_check_vendor(r, "set a floor", err, cap);
    if (rc == ZUPD_OK)
        rc = zp_check_offline_live(r, "set a floor", err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zp_check_published(r, role, component, version, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    snprintf(prefix, sizeof(prefix), "%s/%s/channels/", zp_role_name(role), component);
    fs.plen = strlen(prefix);
    (void)zp_tdoc_foreach(r, role, floor_collect, &fs);
    rc = fs.rc;
    if (rc == ZUPD_OK && fs.n == 0)
        rc = zu_fail(err, cap, ZUPD_E_NOTFOUND,
                     "'%s' has no channel to carry the floor; promote a release first", component);
    for (size_t i = 0; rc == ZUPD_OK && i < fs.n; i++)
        rc = floor_put(r, role, fs.paths[i], version, &mask, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_commit(r, mask, NULL, err, cap);
    else
        zp_discard(zp_repo_dfd(r));
    if (rc == ZUPD_OK)
        *channels = fs.n;
    zp_strv_free(fs.paths, fs.n);
    return rc;
}
