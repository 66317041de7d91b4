/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/maint.c -- promote (a channel pointer moved), refresh before
 * expiry, prune, key rotation. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <zupd/hash.h>
#include <zupd/manifest.h>

#include "zu/fsio.h"
#include "repo/repo_int.h"

/* Live blob hashes (32 bytes each: 512 MiB at the cap) and names listed
 * from one targets document (its max_entries). */
#define LIVE_MAX ((size_t)1 << 24)
#define LIST_MAX ((size_t)1 << 20)

/* ------------------------------------------------------------ promote */

int
zp_promote(struct zp_repo *r, enum zp_role role, const char *component, const char *version,
           const char *channel, bool rollback, char *err, size_t cap)
{
    char cur[ZUPD_NAME_MAX + 1], floor[ZUPD_NAME_MAX + 1];
    unsigned mask = 0;
    json_t *doc;
    int rc;

    if (role != ZP_R_PRODUCTS && role != ZP_R_AVDB)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "role must be 'products' or 'avdb'");
    if (!zupd_name_is_safe(component) || !zupd_name_is_safe(version) || !zupd_name_is_safe(channel))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "invalid component, version or channel name");
    rc = zp_check_vendor(r, "promote", err, cap);
    if (rc == ZUPD_OK)
        rc = zp_check_offline_live(r, "promote", err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zp_check_published(r, role, component, version, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zp_channel_get(r, role, component, channel, cur, sizeof(cur));
    if (rc == ZUPD_OK) {
        int c = zupd_version_cmp(version, cur);
        if (c == 0)
            return zu_fail(err, cap, ZUPD_E_EXISTS, "channel '%s' already points at %s", channel,
                           cur);
        if (c < 0 && !rollback)
            return zu_fail(err, cap, ZUPD_E_ROLLBACK,
                           "version %s sorts lower than %s, the current version of channel "
                           "'%s'; moving it back needs --rollback",
                           version, cur, channel);
    } else if (rc != ZUPD_E_NOTFOUND) {
        return zu_fail(err, cap, rc, "cannot read channel '%s': %s", channel, zupd_strerror(rc));
    }
    doc = json_pack("{s:i,s:s,s:s,s:s}", "zupd_channel", 1, "component", component, "channel",
                    channel, "version", version);
    /* the component's security floor rides on every channel pointer */
    if (doc != NULL && zp_floor_get(r, role, component, floor, sizeof(floor)) == ZUPD_OK)
        json_object_set_new(doc, "floor", json_string(floor));
    rc = doc != NULL ? zp_channel_put(r, role, doc, &mask, err, cap)
                     : zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    json_decref(doc);
    if (rc == ZUPD_OK)
        rc = zp_commit(r, mask, NULL, err, cap);
    return rc;
}

/* ------------------------------------------------------------ refresh */

static bool
due(struct zp_repo *r, enum zp_role role)
{
    return zupd_meta_expires(r->m[role]) - r->now < r->cfg.expiry[role] / 2;
}

int
zp_refresh(struct zp_repo *r, bool force, bool offline, struct zp_refresh_res *res, char *err,
           size_t cap)
{
    static const enum zp_role offl[] = {ZP_R_ROOT, ZP_R_TARGETS, ZP_R_PRODUCTS};
    unsigned mask = 0;
    bool snap = false;
    int rc;

    memset(res, 0, sizeof(*res));
    for (size_t i = 0; i < ZU_ARRAY_LEN(offl); i++) {
        enum zp_role ro = offl[i];
        if (!due(r, ro) && !(offline && force))
            continue;
        res->due_offline[ro] = true;
        if (!offline && zupd_meta_is_expired(r->m[ro], r->now)) {
            char when[32] = "?";
            if (zupd_time_format(zupd_meta_expires(r->m[ro]), when, sizeof(when)) != ZUPD_OK)
                when[0] = '\0';
            return zu_fail(err, cap, ZUPD_E_EXPIRED,
                           "role '%s' expired on %s; it is signed with offline keys: run "
                           "'zupd-mirror refresh --offline' where they are",
                           zp_role_name(ro), when);
        }
        if (offline && ro == ZP_R_ROOT) {
            const struct zupd_meta *d[1];
            rc = zupd_meta_set_version(r->m[ZP_R_ROOT], zupd_meta_version(r->m[ZP_R_ROOT]) + 1);
            if (rc == ZUPD_OK)
                rc = zupd_meta_set_expires(r->m[ZP_R_ROOT], r->now + r->cfg.expiry[ZP_R_ROOT]);
            d[0] = r->m[ZP_R_ROOT];
            if (rc == ZUPD_OK)
                rc = zp_sign_as(r, r->m[ZP_R_ROOT], "root", d, 1, err, cap);
            if (rc == ZUPD_OK)
                rc = zp_write_meta(r, ZP_R_ROOT, r->m[ZP_R_ROOT], NULL, err, cap);
            if (rc != ZUPD_OK)
                return rc;
            res->resigned[ZP_R_ROOT] = true;
        } else if (offline) {
            mask |= 1u << ro;
        }
    }
    if (force || due(r, ZP_R_AVDB))
        mask |= 1u << ZP_R_AVDB;
    for (size_t i = 0; i < r->n_bins; i++) {
        /* a bin is renewed when touched: each has its own expiry */
        if (force || zupd_meta_expires(r->bins[i].m) - r->now < r->cfg.expiry[ZP_R_AVDB] / 2) {
            r->bins[i].dirty = true;
            mask |= 1u << ZP_R_AVDB; /* reported as avdb */
        }
    }
    snap = mask != 0 || force || due(r, ZP_R_SNAPSHOT);
    if (snap) {
        rc = zp_commit(r, mask, NULL, err, cap);
        if (rc != ZUPD_OK)
            return rc;
        for (unsigned i = 0; i < ZP_R__N; i++)
            if (mask & (1u << i))
                res->resigned[i] = true;
        res->resigned[ZP_R_SNAPSHOT] = res->resigned[ZP_R_TIMESTAMP] = true;
    } else if (due(r, ZP_R_TIMESTAMP)) {
        rc = zp_renew(r, ZP_R_TIMESTAMP, NULL, err, cap);
        if (rc != ZUPD_OK)
            return rc;
        res->resigned[ZP_R_TIMESTAMP] = true;
    }
    for (size_t i = 0; i < ZU_ARRAY_LEN(offl); i++)
        if (res->resigned[offl[i]])
            res->due_offline[offl[i]] = false;
    return ZUPD_OK;
}

/* ------------------------------------------------------------ prune */

struct hashset {
    uint8_t (*v)[32];
    size_t n, cap;
};

static int
hs_add(struct hashset *s, const uint8_t h[32])
{
    int rc = ZU_GROW(&s->v, &s->cap, s->n + 1, LIVE_MAX);

    if (rc != ZUPD_OK)
        return rc;
    memcpy(s->v[s->n++], h, 32);
    return ZUPD_OK;
}

static int
cmp32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static bool
hs_has(const struct hashset *s, const uint8_t h[32])
{
    return s->n > 0 && bsearch(h, s->v, s->n, 32, cmp32) != NULL;
}

struct comp_list {
    char **v;
    size_t n, cap;
    const char *prefix;
    size_t plen;
};

static int
collect_comp(void *opaque, const char *path, const struct zupd_target *t)
{
    struct comp_list *l = opaque;
    const char *c = path + l->plen, *slash;

    (void)t;
    if (strncmp(path, l->prefix, l->plen) != 0 || (slash = strchr(c, '/')) == NULL)
        return 0;
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == (size_t)(slash - c) && strncmp(l->v[i], c, (size_t)(slash - c)) == 0)
            return 0;
    /* components are named by entries of one targets document */
    if (ZU_GROW(&l->v, &l->cap, l->n + 1, LIST_MAX) != ZUPD_OK)
        return 1;
    l->v[l->n] = strndup(c, (size_t)(slash - c));
    if (l->v[l->n] == NULL)
        return 1;
    l->n++;
    return 0;
}

struct chan_list {
    const char *prefix; /* "<role>/<comp>/channels/" */
    size_t plen;
    char names[64][ZUPD_NAME_MAX + 1];
    size_t n;
};

static int
collect_chan(void *opaque, const char *path, const struct zupd_target *t)
{
    struct chan_list *l = opaque;
    const char *c = path + l->plen;
    size_t len;

    (void)t;
    if (strncmp(path, l->prefix, l->plen) != 0 || l->n == ZU_ARRAY_LEN(l->names))
        return 0;
    len = strlen(c);
    if (len <= 5 || len - 5 > ZUPD_NAME_MAX || strcmp(c + len - 5, ".json") != 0)
        return 0;
    memcpy(l->names[l->n], c, len - 5);
    l->names[l->n][len - 5] = '\0';
    l->n++;
    return 0;
}

/* Add every blob and delta of the manifests role lists to live. */
static int
live_blobs(struct zp_repo *r, enum zp_role role, const char *const *comps, size_t n_comps,
           struct hashset *live, char *err, size_t cap)
{
    for (size_t c = 0; c < n_comps; c++) {
        char **vers = NULL;
        size_t nv = 0;
        int rc = zp_versions(r, role, comps[c], &vers, &nv);

        for (size_t i = 0; rc == ZUPD_OK && i < nv; i++) {
            char path[512], why[256] = "";
            uint8_t *buf = NULL;
            size_t len = 0;
            struct zupd_manifest *m = NULL;

            snprintf(path, sizeof(path), "%s/%s/%s/manifest.json", zp_role_name(role), comps[c],
                     vers[i]);
            rc = zp_read_target(r, role, path, &buf, &len, err, cap);
            if (rc == ZUPD_OK) {
                rc = zupd_manifest_parse(buf, len, NULL, &m, why, sizeof(why));
                if (rc != ZUPD_OK)
                    zu_fail(err, cap, rc, "'%s': %s", path, why);
            }
            for (size_t f = 0; rc == ZUPD_OK && f < m->n_files; f++) {
                rc = hs_add(live, m->files[f].blob_sha256);
                for (size_t d = 0; rc == ZUPD_OK && d < m->files[f].n_deltas; d++)
                    rc = hs_add(live, m->files[f].deltas[d].sha256);
            }
            zupd_manifest_free(m);
            free(buf);
        }
        zp_strv_free(vers, nv);
        if (rc != ZUPD_OK)
            return rc;
    }
    return ZUPD_OK;
}

static int
sweep_blobs(struct zp_repo *r, const struct hashset *live, struct zp_prune_res *res)
{
    for (unsigned hi = 0; hi < 256; hi++) {
        char dir[64];
        struct dirent *de;
        DIR *d;
        int fd;

        snprintf(dir, sizeof(dir), "blobs/sha256/%02x", hi);
        fd = openat(r->dfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        d = fdopendir(fd);
        if (d == NULL) {
            close(fd);
            return ZUPD_E_IO;
        }
        while ((de = readdir(d)) != NULL) {
            uint8_t h[32];
            char rel[160];
            struct stat st;

            if (strlen(de->d_name) != 64 || zupd_hex_decode(h, 32, de->d_name, 64) != ZUPD_OK ||
                hs_has(live, h))
                continue;
            snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name);
            if (fstatat(r->dfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
                res->bytes += (uint64_t)st.st_size;
            if (zp_remove(r->dfd, rel) == ZUPD_OK)
                res->blobs++;
        }
        closedir(d);
    }
    return ZUPD_OK;
}

int
zp_prune(struct zp_repo *r, unsigned keep, struct zp_prune_res *res, char *err, size_t cap)
{
    static const enum zp_role roles[] = {ZP_R_PRODUCTS, ZP_R_AVDB};
    struct hashset live = {0};
    struct comp_list comps[2];
    char **dropped = NULL;
    size_t n_dropped = 0, cap_dropped = 0;
    unsigned mask = 0;
    int rc = ZUPD_OK;

    memset(res, 0, sizeof(*res));
    memset(comps, 0, sizeof(comps));
    if (keep == 0)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "--keep must be at least 1");
    rc = zp_check_offline_live(r, "prune", err, cap);
    /* a staged change names blobs and deltas no live metadata names yet:
     * pruning now would take them from the release its import puts live */
    for (size_t ri = 0; rc == ZUPD_OK && ri < ZU_ARRAY_LEN(roles); ri++)
        if (zp_staged_pending(r, roles[ri]))
            rc = zu_fail(err, cap, ZUPD_E_MISUSE,
                         "a change of '%s' is staged (publish --stage, key add, remove or "
                         "threshold): import or unstage it before pruning",
                         zp_role_name(roles[ri]));
    for (size_t ri = 0; rc == ZUPD_OK && ri < ZU_ARRAY_LEN(roles); ri++) {
        enum zp_role role = roles[ri];
        char prefix[64];

        snprintf(prefix, sizeof(prefix), "%s/", zp_role_name(role));
        comps[ri].prefix = prefix;
        comps[ri].plen = strlen(prefix);
        if (zp_tdoc_foreach(r, role, collect_comp, &comps[ri]) != 0) {
            rc = ZUPD_E_NOMEM;
            break;
        }
        for (size_t c = 0; rc == ZUPD_OK && c < comps[ri].n; c++) {
            const char *comp = comps[ri].v[c];
            char cprefix[512], **vers = NULL;
            struct chan_list *cl = calloc(1, sizeof(*cl));
            size_t nv = 0;

            if (cl == NULL) {
                rc = ZUPD_E_NOMEM;
                break;
            }
            snprintf(cprefix, sizeof(cprefix), "%s/%s/channels/", zp_role_name(role), comp);
            cl->prefix = cprefix;
            cl->plen = strlen(cprefix);
            (void)zp_tdoc_foreach(r, role, collect_chan, cl);
            rc = zp_versions(r, role, comp, &vers, &nv);
            for (size_t i = 0; rc == ZUPD_OK && i + keep < nv; i++) {
                char path[512], cur[ZUPD_NAME_MAX + 1], hex[65], rel[1024];
                struct zupd_target t;
                bool named = false;

                for (size_t k = 0; k < cl->n; k++)
                    if (zp_channel_get(r, role, comp, cl->names[k], cur, sizeof(cur)) == ZUPD_OK &&
                        strcmp(cur, vers[i]) == 0)
                        named = true;
                if (named)
                    continue; /* a channel still points at it: live */
                snprintf(path, sizeof(path), "%s/%s/%s/manifest.json", zp_role_name(role), comp,
                         vers[i]);
                if (zupd_meta_target(zp_tdoc(r, role, path), path, &t) != ZUPD_OK)
                    continue;
                zupd_hex_encode(hex, sizeof(hex), t.hashes.sha256, 32);
                rc = zp_target_file(rel, sizeof(rel), path, hex);
                if (rc == ZUPD_OK)
                    rc = zupd_meta_remove_target(zp_tdoc(r, role, path), path);
                if (rc == ZUPD_OK) /* releases removed from one targets document */
                    rc = ZU_GROW(&dropped, &cap_dropped, n_dropped + 1, LIST_MAX);
                if (rc != ZUPD_OK)
                    break;
                dropped[n_dropped] = strdup(rel);
                if (dropped[n_dropped] == NULL) {
                    rc = ZUPD_E_NOMEM;
                    break;
                }
                n_dropped++;
                res->releases++;
                zp_tdoc_changed(r, role, path, &mask);
            }
            zp_strv_free(vers, nv);
            free(cl);
        }
    }
    /* the metadata stops naming the releases before their files go */
    if (rc == ZUPD_OK && res->releases > 0)
        rc = zp_commit(r, mask, NULL, err, cap);
    for (size_t ri = 0; rc == ZUPD_OK && ri < ZU_ARRAY_LEN(roles); ri++)
        rc = live_blobs(r, roles[ri], (const char *const *)comps[ri].v, comps[ri].n, &live, err,
                        cap);
    if (rc == ZUPD_OK) {
        if (live.n > 1)
            qsort(live.v, live.n, 32, cmp32);
        rc = sweep_blobs(r, &live, res);
    }
    for (size_t i = 0; rc == ZUPD_OK && i < n_dropped; i++)
        rc = zp_remove(r->dfd, dropped[i]);
    zp_strv_free(dropped, n_dropped);
    for (size_t ri = 0; ri < ZU_ARRAY_LEN(roles); ri++)
        zp_strv_free(comps[ri].v, comps[ri].n);
    free(live.v);
    if (rc != ZUPD_OK && err != NULL && err[0] == '\0')
        zu_fail(err, cap, rc, "%s", zupd_strerror(rc));
    return rc;
}

/* ------------------------------------------------------------ rotation */

/* Replace the keys of role (as query names it: a role, or a bin of a
 * succinct delegation) by keys[0..n); edit is the role name the builders
 * take (NULL: the succinct roles). */
static int
replace_keys(struct zupd_meta *m, const char *query, const char *edit,
             const struct zp_keyinfo *keys, size_t n, uint64_t threshold)
{
    uint64_t thr = 0;
    size_t nk = 0;
    int rc = zupd_meta_role(m, query, &thr, &nk);
    char ids[64][65];

    if (rc != ZUPD_OK)
        return rc;
    if (nk > ZU_ARRAY_LEN(ids))
        return ZUPD_E_TOOBIG;
    for (size_t i = 0; i < nk; i++)
        snprintf(ids[i], sizeof(ids[i]), "%s", zupd_meta_role_keyid(m, query, i));
    for (size_t i = 0; i < n && rc == ZUPD_OK; i++) {
        char json[ZP_PUBJSON_MAX];
        rc = zp_key_pubjson(&keys[i], json, sizeof(json));
        if (rc == ZUPD_OK)
            rc = zupd_meta_add_key(m, edit, (const uint8_t *)json, strlen(json), NULL, 0);
    }
    for (size_t i = 0; i < nk && rc == ZUPD_OK; i++) {
        bool kept = false;
        for (size_t j = 0; j < n; j++)
            kept = kept || strcmp(keys[j].keyid, ids[i]) == 0;
        if (!kept)
            rc = zupd_meta_revoke_key(m, edit, ids[i]);
    }
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_threshold(m, edit, threshold ? threshold : (thr <= n ? thr : n));
    return rc;
}

int
zp_rotate(struct zp_repo *r, enum zp_role role, const char *const *new_keys, size_t n,
          uint64_t threshold, const struct zp_kdf_cost *cost, char *err, size_t cap)
{
    struct zp_keyinfo *keys = NULL;
    struct zupd_meta *nroot = NULL;
    enum zp_role owner = zp_delegator(role);
    char dflt[ZP_KEYNAME_MAX], kdir[4096];
    const char *one[1];
    struct stat st;
    int rc = ZUPD_OK;

    if (n == 0) {
        snprintf(dflt, sizeof(dflt), "%s-%llu", zp_role_name(role),
                 (unsigned long long)zupd_meta_version(r->m[owner]) + 1);
        one[0] = dflt;
        new_keys = one;
        n = 1;
    }
    if (threshold > n)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "threshold %llu of %zu keys is impossible",
                       (unsigned long long)threshold, n);
    keys = calloc(n, sizeof(*keys));
    if (keys == NULL)
        return ZUPD_E_NOMEM;
    /* new keys go where init put the keys of their class (KEYDIR/online or
     * KEYDIR/offline), or into KEYDIR itself in the flat layout */
    snprintf(kdir, sizeof(kdir), "%s/%s", r->keys_dir,
             zp_role_online(role) ? ZP_KEYS_ONLINE : ZP_KEYS_OFFLINE);
    if (stat(kdir, &st) != 0 || !S_ISDIR(st.st_mode))
        snprintf(kdir, sizeof(kdir), "%s", r->keys_dir);
    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        rc = zp_key_by_name(r->keys_dir, new_keys[i], &keys[i]);
        if (rc == ZUPD_E_NOTFOUND)
            rc = zp_key_generate(kdir, new_keys[i], &r->pass, cost, &keys[i], err, cap);
        else if (rc != ZUPD_OK)
            zu_fail(err, cap, rc, "cannot read key '%s': %s", new_keys[i], zupd_strerror(rc));
    }
    if (rc != ZUPD_OK)
        goto out;
    if (owner == ZP_R_TARGETS) {
        rc = zp_check_offline_live(r, "rotate keys", err, cap);
        if (rc == ZUPD_OK)
            rc = replace_keys(r->m[ZP_R_TARGETS], zp_role_name(role), zp_role_name(role), keys, n,
                              threshold);
        /* avdb's hash bins are signed by the same keys: the succinct
         * delegation changes with them, and every bin is re-signed */
        if (rc == ZUPD_OK && role == ZP_R_AVDB && r->n_bins > 0)
            rc = replace_keys(r->m[ZP_R_AVDB], r->bins[0].name, NULL, keys, n, threshold);
        for (size_t i = 0; rc == ZUPD_OK && role == ZP_R_AVDB && i < r->n_bins; i++)
            r->bins[i].dirty = true;
        if (rc != ZUPD_OK) {
            zu_fail(err, cap, rc, "cannot replace the keys of '%s': %s", zp_role_name(role),
                    zupd_strerror(rc));
            goto out;
        }
        rc = zp_commit(r, (1u << ZP_R_TARGETS) | (1u << role), NULL, err, cap);
        goto out;
    }
    rc = zp_meta_copy(r->m[ZP_R_ROOT], &nroot);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_version(nroot, zupd_meta_version(r->m[ZP_R_ROOT]) + 1);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_expires(nroot, r->now + r->cfg.expiry[ZP_R_ROOT]);
    if (rc == ZUPD_OK)
        rc = replace_keys(nroot, zp_role_name(role), zp_role_name(role), keys, n, threshold);
    if (rc != ZUPD_OK) {
        zu_fail(err, cap, rc, "cannot build the new root: %s", zupd_strerror(rc));
        goto out;
    }
    {
        /* the new root is signed by the old root's threshold and its own */
        const struct zupd_meta *d[2] = {r->m[ZP_R_ROOT], nroot};
        rc = zp_sign_as(r, nroot, "root", d, 2, err, cap);
    }
    if (rc == ZUPD_OK)
        rc = zp_write_meta(r, ZP_R_ROOT, nroot, NULL, err, cap);
    if (rc != ZUPD_OK)
        goto out;
    zupd_meta_free(r->m[ZP_R_ROOT]);
    r->m[ZP_R_ROOT] = nroot;
    nroot = NULL;
    if (role == ZP_R_TARGETS)
        rc = zp_commit(r, 1u << ZP_R_TARGETS, NULL, err, cap);
    else if (role == ZP_R_SNAPSHOT || role == ZP_R_TIMESTAMP)
        rc = zp_commit(r, 0, NULL, err, cap);
out:
    zupd_meta_free(nroot);
    free(keys);
    return rc;
}
