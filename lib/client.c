/* SPDX-License-Identifier: Apache-2.0 */
/* lib/client.c -- the TUF client workflow (TUF 1.0 section 5, as python-tuf's
 * Updater does it) over a transport and a directory of trusted metadata. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zupd/client.h>
#include <zupd/hash.h>
#include <zupd/store.h>

#include "zu/fsio.h"
#include "zu/internal.h"
#include "abi.h"
#include "trusted_int.h"

struct zupd_client {
    struct zupd_client_opts o;
    struct zupd_limits lim;
    char **bases; /* metadata base URLs, each ending in '/' */
    size_t n_bases;
    struct zupd_trusted *t;
    bool refreshed;
    uint32_t retry_after; /* largest Retry-After a server asked for */
};

int
zupd_url_quote(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-' || ch == '~';
        if (o + (keep ? 1 : 3) >= cap)
            return ZUPD_E_TOOBIG;
        if (keep) {
            dst[o++] = (char)ch;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[ch >> 4];
            dst[o++] = hex[ch & 15];
        }
    }
    if (cap == 0)
        return ZUPD_E_TOOBIG;
    dst[o] = 0;
    return ZUPD_OK;
}

/* "<quoted role>.json" */
static int
role_file(char *dst, size_t cap, const char *role)
{
    size_t n;
    int rc = zupd_url_quote(dst, cap, role);

    if (rc != ZUPD_OK)
        return rc;
    n = strlen(dst);
    if (n + 6 > cap)
        return ZUPD_E_TOOBIG;
    memcpy(dst + n, ".json", 6);
    return ZUPD_OK;
}

void
zupd_client_free(struct zupd_client *c)
{
    if (c == NULL)
        return;
    zupd_strv_free(c->bases, c->n_bases);
    zupd_trusted_free(c->t);
    free(c);
}

const struct zupd_trusted *
zupd_client_trusted(const struct zupd_client *c)
{
    return c->t;
}

uint32_t
zupd_client_retry_after(const struct zupd_client *c)
{
    return c->retry_after;
}

static char **
copy_bases(const char *const *urls, size_t n)
{
    char **v = calloc(n + 1, sizeof(*v));

    for (size_t i = 0; v != NULL && i < n; i++) {
        size_t len = strlen(urls[i]);
        v[i] = malloc(len + 2);
        if (v[i] == NULL) {
            zupd_strv_free(v, i);
            return NULL;
        }
        memcpy(v[i], urls[i], len + 1);
        if (len == 0 || urls[i][len - 1] != '/')
            memcpy(v[i] + len, "/", 2);
    }
    return v;
}

int
zupd_client_init_dir(int dirfd, const uint8_t *root, size_t len, char *err, size_t cap)
{
    struct zupd_trusted *t = NULL;
    int rc;

    rc = zupd_trusted_new(root, len, (int64_t)time(NULL), NULL, &t, err, cap);
    zupd_trusted_free(t);
    if (rc != ZUPD_OK)
        return rc;
    rc = zu_atomic_write(dirfd, "root.json", root, len, 0644);
    if (rc != ZUPD_OK)
        zu_say(err, cap, "cannot write 'root.json': %s", zupd_strerror(rc));
    return rc;
}

/* The signed-time floor (zupd_client_opts.time_floor): never check expiry
 * at a time earlier than one a verified signature vouches for. signed_time
 * comes from verified metadata only, or from the caller's floor. */
static void
raise_now(struct zupd_client *c, int64_t signed_time, const char *what)
{
    char clock[32] = "?", signed_s[32] = "?";

    if (c->o.time_floor == NULL)
        return;
    if (signed_time > *c->o.time_floor)
        *c->o.time_floor = signed_time;
    if (signed_time <= c->o.now)
        return;
    if (zupd_time_format(c->o.now, clock, sizeof(clock)) != ZUPD_OK ||
        zupd_time_format(signed_time, signed_s, sizeof(signed_s)) != ZUPD_OK)
        snprintf(signed_s, sizeof(signed_s), "%lld", (long long)signed_time);
    zu_log(c->o.ctx, ZUPD_LOG_WARN,
           "the clock (%s) is behind %s (%s): expiry is checked at the latter", clock, what,
           signed_s);
    c->o.now = signed_time;
    if (c->t != NULL)
        zu_trusted_raise_now(c->t, signed_time);
}

/* A timestamp was verified: it cannot have been signed before its expiry
 * minus ZUPD_TIMESTAMP_LIFETIME_MAX. */
static void
timestamp_floor(struct zupd_client *c)
{
    const struct zupd_meta *ts = zupd_trusted_get(c->t, "timestamp");
    int64_t e = ts != NULL ? zupd_meta_expires(ts) : 0;

    if (e > ZUPD_TIMESTAMP_LIFETIME_MAX)
        raise_now(c, e - ZUPD_TIMESTAMP_LIFETIME_MAX,
                  "the newest verified timestamp's signing time");
}

int
zupd_client_new(const struct zupd_client_opts *caller_o, struct zupd_client **out, char *err,
                size_t cap)
{
    const size_t opts_v1 = ZU_SIZE_THROUGH(struct zupd_client_opts, timestamp_validators);
    struct zupd_client_opts oc;
    const struct zupd_client_opts *o = &oc;
    struct zupd_client *c = NULL;
    uint8_t *root = NULL;
    size_t len = 0;
    char why[512] = "";
    int rc;

    *out = NULL;
    zu_say(err, cap, "%s", "");
    zupd_client_opts_init(&oc);
    if (caller_o == NULL || zu_struct_in(&oc, sizeof(oc), caller_o, opts_v1) != ZUPD_OK ||
        o->transport == NULL || o->n_metadata_urls == 0 || o->metadata_dirfd < 0)
        return ZUPD_E_MISUSE;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ZUPD_E_NOMEM;
    c->o = *o;
    if (zu_limits_get(&c->lim, o->lim) != ZUPD_OK) {
        free(c);
        return ZUPD_E_MISUSE;
    }
    c->o.lim = &c->lim;
    if (c->o.now == 0)
        c->o.now = (int64_t)time(NULL);
    if (c->o.time_floor != NULL)
        raise_now(c, *c->o.time_floor, "the signed-time floor");
    c->bases = copy_bases(o->metadata_urls, o->n_metadata_urls);
    if (c->bases == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    c->n_bases = o->n_metadata_urls;
    rc = zu_read_capped(o->metadata_dirfd, "root.json", c->lim.max_root_bytes, &root, &len);
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "cannot read trusted 'root.json': %s", zupd_strerror(rc));
        goto out;
    }
    rc = zupd_trusted_new(root, len, c->o.now, &c->lim, &c->t, why, sizeof(why));
    if (rc != ZUPD_OK) {
        zu_say(err, cap, "trusted 'root.json' refused: %s", why);
        goto out;
    }
    *out = c;
    c = NULL;
out:
    free(root);
    zupd_client_free(c);
    return rc;
}

typedef int (*accept_fn)(struct zupd_client *c, void *arg, const uint8_t *buf, size_t len,
                         char *err, size_t cap);

/* Download rel from the mirrors and hand it to accept; a mirror whose file
 * is refused is followed by the next one. Returns accept's ZUPD_OK (or
 * ZUPD_E_EXISTS), the last refusal, or the download error. */
static int
fetch_meta(struct zupd_client *c, const char *rel, uint64_t max_bytes, accept_fn accept, void *arg,
           struct zupd_validators *cond, bool *not_modified, char *err, size_t cap)
{
    struct zupd_fetch_res res;
    struct zupd_validators trusted;
    int last = ZUPD_OK;
    size_t first = 0;

    if (not_modified != NULL)
        *not_modified = false;
    if (cond != NULL)
        trusted = *cond;
    while (first < c->n_bases) {
        struct zupd_fetch_req req = {.bases = (const char *const *)c->bases,
                                     .n_bases = c->n_bases,
                                     .first = first,
                                     .path = rel,
                                     .offset = 0,
                                     .max_bytes = max_bytes,
                                     .cond = cond};
        uint8_t *buf = NULL;
        size_t len = 0;
        int rc;

        rc = zupd_fetch_mem(c->o.ctx, c->o.transport, &req, &buf, &len, &res);
        /* a cool-down only when every mirror said busy: one hostile mirror
         * asking to wait must not keep the client from the others */
        if (rc == ZUPD_E_BUSY && res.retry_after > c->retry_after)
            c->retry_after = res.retry_after;
        if (rc != ZUPD_OK) {
            if (last != ZUPD_OK)
                return last; /* the refusal says more than the fallback's failure */
            return zu_fail(err, cap, rc, "cannot download '%s%s': %s",
                           c->bases[res.mirror < c->n_bases ? res.mirror : 0], rel,
                           zupd_strerror(rc));
        }
        if (res.not_modified) {
            if (not_modified != NULL)
                *not_modified = true;
            return ZUPD_OK;
        }
        rc = accept(c, arg, buf, len, err, cap);
        free(buf);
        if (rc == ZUPD_OK || rc == ZUPD_E_EXISTS)
            return rc;
        zu_log(c->o.ctx, ZUPD_LOG_WARN, "'%s%s' refused: %s", c->bases[res.mirror], rel,
               err != NULL ? err : zupd_strerror(rc));
        /* the next mirror gets the validators of what we trust, never those
         * of the refused response: a 304 to them would say nothing of ours */
        if (cond != NULL)
            *cond = trusted;
        last = rc;
        first = res.mirror + 1;
    }
    return last;
}

static int
persist(struct zupd_client *c, const char *role, const uint8_t *buf, size_t len, char *err,
        size_t cap)
{
    char name[ZUPD_ROLE_NAME_MAX * 3 + 8];
    int rc = role_file(name, sizeof(name), role);

    if (rc == ZUPD_OK)
        rc = zu_atomic_write(c->o.metadata_dirfd, name, buf, len, 0644);
    if (rc != ZUPD_OK)
        zu_say(err, cap, "cannot write '%s': %s", name, zupd_strerror(rc));
    return rc;
}

static int
accept_root(struct zupd_client *c, void *arg, const uint8_t *buf, size_t len, char *err, size_t cap)
{
    int rc;

    (void)arg;
    rc = zupd_trusted_update_root(c->t, buf, len, err, cap);
    if (rc == ZUPD_OK)
        rc = persist(c, "root", buf, len, err, cap);
    return rc;
}

static int
accept_timestamp(struct zupd_client *c, void *arg, const uint8_t *buf, size_t len, char *err,
                 size_t cap)
{
    int rc;

    (void)arg;
    rc = zupd_trusted_update_timestamp(c->t, buf, len, err, cap);
    if (rc == ZUPD_OK)
        rc = persist(c, "timestamp", buf, len, err, cap);
    return rc;
}

static int
accept_snapshot(struct zupd_client *c, void *arg, const uint8_t *buf, size_t len, char *err,
                size_t cap)
{
    int rc;

    (void)arg;
    rc = zupd_trusted_update_snapshot(c->t, buf, len, false, err, cap);
    if (rc == ZUPD_OK)
        rc = persist(c, "snapshot", buf, len, err, cap);
    return rc;
}

struct targets_arg {
    const char *role;
    const char *parent;
};

static int
accept_targets(struct zupd_client *c, void *arg, const uint8_t *buf, size_t len, char *err,
               size_t cap)
{
    const struct targets_arg *a = arg;
    int rc;

    rc = zupd_trusted_update_targets(c->t, a->role, a->parent, buf, len, err, cap);
    if (rc == ZUPD_OK)
        rc = persist(c, a->role, buf, len, err, cap);
    return rc;
}

/* Read a local metadata file; NULL when missing or unreadable. */
static uint8_t *
read_local(struct zupd_client *c, const char *role, size_t max, size_t *len)
{
    char name[ZUPD_ROLE_NAME_MAX * 3 + 8];
    uint8_t *buf = NULL;

    *len = 0;
    if (role_file(name, sizeof(name), role) != ZUPD_OK ||
        zu_read_capped(c->o.metadata_dirfd, name, max, &buf, len) != ZUPD_OK)
        return NULL;
    return buf;
}

static int
load_root(struct zupd_client *c, char *err, size_t cap)
{
    uint64_t v = zupd_meta_version(zupd_trusted_get(c->t, "root"));

    for (uint64_t i = 0; i < c->lim.max_root_rotations; i++) {
        char rel[64];
        int rc;

        snprintf(rel, sizeof(rel), "%llu.root.json", (unsigned long long)(v + 1 + i));
        rc = fetch_meta(c, rel, c->lim.max_root_bytes, accept_root, NULL, NULL, NULL, err, cap);
        if (rc == ZUPD_E_NOTFOUND) {
            zu_say(err, cap, "%s", "");
            return ZUPD_OK; /* the trusted root is the newest */
        }
        if (rc != ZUPD_OK)
            return rc;
        zu_log(c->o.ctx, ZUPD_LOG_INFO, "root: rotated to version %llu",
               (unsigned long long)(v + 1 + i));
    }
    return ZUPD_OK;
}

static int
load_timestamp(struct zupd_client *c, bool *changed, char *err, size_t cap)
{
    struct zupd_validators v;
    struct zupd_validators *cond = NULL;
    bool local_ok = false, not_modified = false;
    uint8_t *buf;
    size_t len;
    int rc;

    *changed = false;
    buf = read_local(c, "timestamp", c->lim.max_timestamp_bytes, &len);
    if (buf != NULL) {
        /* an invalid local timestamp (new keys, expired) is just not used;
         * an expired root refuses it before loading it: then there is no
         * trusted timestamp, and no conditional GET that a 304 could answer */
        rc = zupd_trusted_update_timestamp(c->t, buf, len, NULL, 0);
        local_ok =
            (rc == ZUPD_OK || rc == ZUPD_E_EXPIRED) && zupd_trusted_get(c->t, "timestamp") != NULL;
        free(buf);
        if (local_ok)
            timestamp_floor(c);
    }
    if (c->o.timestamp_validators != NULL) {
        memset(&v, 0, sizeof(v));
        if (local_ok)
            v = *c->o.timestamp_validators;
        cond = &v;
    }
    rc = fetch_meta(c, "timestamp.json", c->lim.max_timestamp_bytes, accept_timestamp, NULL, cond,
                    &not_modified, err, cap);
    if (rc == ZUPD_OK && not_modified && !local_ok) {
        return zu_fail(err, cap, ZUPD_E_NET, "%s", "timestamp: 304 without a trusted timestamp");
    }
    if (rc == ZUPD_E_EXISTS)
        rc = ZUPD_OK; /* the same version: keep the trusted one */
    else if (rc == ZUPD_OK && !not_modified)
        *changed = true;
    if (rc == ZUPD_OK)
        timestamp_floor(c);
    if (rc == ZUPD_OK && cond != NULL)
        *c->o.timestamp_validators = v;
    if (rc == ZUPD_OK && not_modified) {
        /* nothing new, but the trusted timestamp must still be valid */
        rc = zupd_meta_is_expired(zupd_trusted_get(c->t, "timestamp"), c->o.now) ? ZUPD_E_EXPIRED
                                                                                 : ZUPD_OK;
        if (rc != ZUPD_OK)
            zu_say(err, cap, "%s", "timestamp: expired (and the server has nothing newer)");
    }
    return rc;
}

static int
load_snapshot(struct zupd_client *c, char *err, size_t cap)
{
    const struct zupd_meta *ts = zupd_trusted_get(c->t, "timestamp");
    struct zupd_meta_file f;
    uint8_t *buf;
    size_t len;
    char rel[64];
    int rc;

    buf = read_local(c, "snapshot", c->lim.max_snapshot_bytes, &len);
    if (buf != NULL) {
        rc = zupd_trusted_update_snapshot(c->t, buf, len, true, NULL, 0);
        free(buf);
        if (rc == ZUPD_OK)
            return ZUPD_OK; /* still the one timestamp names */
    }
    if (zupd_meta_file(ts, "snapshot.json", &f) != ZUPD_OK)
        return ZUPD_E_FORMAT;
    if (zupd_meta_consistent_snapshot(zupd_trusted_get(c->t, "root")))
        snprintf(rel, sizeof(rel), "%llu.snapshot.json", (unsigned long long)f.version);
    else
        snprintf(rel, sizeof(rel), "snapshot.json");
    return fetch_meta(c, rel, f.has_length ? f.length : c->lim.max_snapshot_bytes, accept_snapshot,
                      NULL, NULL, NULL, err, cap);
}

static int
load_targets(struct zupd_client *c, const char *role, const char *parent, char *err, size_t cap)
{
    struct targets_arg a = {role, parent};
    struct zupd_meta_file f;
    char fname[ZUPD_ROLE_NAME_MAX + 8], rel[ZUPD_ROLE_NAME_MAX * 3 + 32], q[ZUPD_ROLE_NAME_MAX * 3];
    uint8_t *buf;
    size_t len;
    int rc;

    if (zupd_trusted_get(c->t, role) != NULL) {
        /* loaded once per update, but a role reached through another
         * delegator must be signed by that delegator's keys too */
        char why[256] = "";
        rc = zupd_meta_verify_role(zupd_trusted_get(c->t, parent), role,
                                   zupd_trusted_get(c->t, role), why, sizeof(why));
        if (rc != ZUPD_OK)
            zu_say(err, cap, "%s (as delegated by %s): %s", role, parent, why);
        return rc;
    }
    buf = read_local(c, role, c->lim.max_targets_bytes, &len);
    if (buf != NULL) {
        rc = zupd_trusted_update_targets(c->t, role, parent, buf, len, NULL, 0);
        free(buf);
        if (rc == ZUPD_OK)
            return ZUPD_OK;
    }
    if ((size_t)snprintf(fname, sizeof(fname), "%s.json", role) >= sizeof(fname) ||
        zupd_url_quote(q, sizeof(q), role) != ZUPD_OK)
        return ZUPD_E_TOOBIG;
    if (zupd_meta_file(zupd_trusted_get(c->t, "snapshot"), fname, &f) != ZUPD_OK) {
        return zu_fail(err, cap, ZUPD_E_NOTFOUND, "%s: delegated but not listed in snapshot", role);
    }
    if (zupd_meta_consistent_snapshot(zupd_trusted_get(c->t, "root")))
        snprintf(rel, sizeof(rel), "%llu.%s.json", (unsigned long long)f.version, q);
    else
        snprintf(rel, sizeof(rel), "%s.json", q);
    rc = fetch_meta(c, rel, f.has_length ? f.length : c->lim.max_targets_bytes, accept_targets, &a,
                    NULL, NULL, err, cap);
    /* a file every mirror lacks is a broken repository, not "no target" */
    return rc == ZUPD_E_NOTFOUND ? ZUPD_E_NET : rc;
}

int
zupd_client_refresh(struct zupd_client *c, bool *changed, char *err, size_t cap)
{
    bool ch = false;
    int rc;

    zu_say(err, cap, "%s", "");
    if (changed != NULL)
        *changed = false;
    if (c->refreshed)
        return ZUPD_E_MISUSE; /* one refresh per client: the set only moves forward */
    c->refreshed = true;
    if (c->o.time_floor != NULL) /* another client on the same floor may have raised it */
        raise_now(c, *c->o.time_floor, "the signed-time floor");
    rc = load_root(c, err, cap);
    if (rc == ZUPD_OK)
        rc = load_timestamp(c, &ch, err, cap);
    if (rc == ZUPD_OK)
        rc = load_snapshot(c, err, cap);
    if (rc == ZUPD_OK)
        rc = load_targets(c, "targets", "root", err, cap);
    if (changed != NULL)
        *changed = ch;
    return rc;
}

struct visit {
    char role[ZUPD_ROLE_NAME_MAX];
    char parent[ZUPD_ROLE_NAME_MAX];
};

int
zupd_client_find_target(struct zupd_client *c, const char *path, struct zupd_target *out,
                        char *role_out, size_t role_cap, char *err, size_t cap)
{
    struct visit *stack = NULL, *visited = NULL;
    size_t n_stack = 0, n_visited = 0, max = c->lim.max_delegations;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!c->refreshed) {
        rc = zupd_client_refresh(c, NULL, err, cap);
        if (rc != ZUPD_OK)
            return rc;
    }
    stack = calloc(max + 2, sizeof(*stack));
    visited = calloc(max + 2, sizeof(*visited));
    if (stack == NULL || visited == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    snprintf(stack[0].role, sizeof(stack[0].role), "targets");
    snprintf(stack[0].parent, sizeof(stack[0].parent), "root");
    n_stack = 1;
    rc = ZUPD_E_NOTFOUND;
    while (n_visited <= max && n_stack > 0) {
        struct visit cur = stack[--n_stack];
        const struct zupd_meta *m;
        struct visit children[64];
        size_t n_children = 0, cursor = 0;
        struct zupd_meta_child child;
        bool seen = false;

        for (size_t i = 0; i < n_visited; i++)
            if (strcmp(visited[i].role, cur.role) == 0)
                seen = true;
        if (seen)
            continue;
        rc = load_targets(c, cur.role, cur.parent, err, cap);
        if (rc != ZUPD_OK)
            goto out;
        m = zupd_trusted_get(c->t, cur.role);
        if (zupd_meta_target(m, path, out) == ZUPD_OK) {
            if (role_out != NULL)
                snprintf(role_out, role_cap, "%s", cur.role);
            rc = ZUPD_OK;
            goto out;
        }
        if (n_visited < max + 1)
            visited[n_visited++] = cur;
        rc = ZUPD_E_NOTFOUND;
        while (n_children < ZU_ARRAY_LEN(children) &&
               zupd_meta_child_next(m, path, &cursor, &child) == ZUPD_OK) {
            snprintf(children[n_children].role, sizeof(children[0].role), "%s", child.name);
            snprintf(children[n_children].parent, sizeof(children[0].parent), "%s", cur.role);
            n_children++;
            if (child.terminating) {
                n_stack = 0; /* no backtracking past a terminating role */
                break;
            }
        }
        /* push in reverse so the first delegation is visited first */
        for (size_t i = n_children; i-- > 0;) {
            if (n_stack >= max + 1)
                break;
            stack[n_stack++] = children[i];
        }
    }
    zu_say(err, cap, "'%s': no trusted role lists this target", path);
    rc = ZUPD_E_NOTFOUND;
out:
    free(stack);
    free(visited);
    return rc;
}

/* The path to ask mirrors for: "<dir>/<hash>.<basename>" with consistent
 * snapshots (any listed hash is accepted by repositories). */
static int
target_rel(struct zupd_client *c, const char *path, const struct zupd_target *t, char *rel,
           size_t cap)
{
    char hex[2 * ZUPD_HASH_MAX_LEN + 1];
    const char *slash;

    if (!zupd_meta_consistent_snapshot(zupd_trusted_get(c->t, "root")))
        return (size_t)snprintf(rel, cap, "%s", path) < cap ? ZUPD_OK : ZUPD_E_TOOBIG;
    if (t->hashes.has_sha256)
        zupd_hex_encode(hex, sizeof(hex), t->hashes.sha256, ZUPD_SHA256_LEN);
    else if (t->hashes.has_sha512)
        zupd_hex_encode(hex, sizeof(hex), t->hashes.sha512, ZUPD_SHA512_LEN);
    else
        return ZUPD_E_HASH;
    slash = strrchr(path, '/');
    if (slash == NULL)
        return (size_t)snprintf(rel, cap, "%s.%s", hex, path) < cap ? ZUPD_OK : ZUPD_E_TOOBIG;
    return (size_t)snprintf(rel, cap, "%.*s/%s.%s", (int)(slash - path), path, hex, slash + 1) < cap
               ? ZUPD_OK
               : ZUPD_E_TOOBIG;
}

static bool
usable_hashes(const struct zupd_target *t)
{
    size_t known = (t->hashes.has_sha256 ? 1u : 0u) + (t->hashes.has_sha512 ? 1u : 0u);
    return !t->hashes.malformed && known > 0 && known == t->hashes.count;
}

int
zupd_client_fetch_target(struct zupd_client *c, const char *path, const struct zupd_target *t,
                         const char *const *urls, size_t n_urls, size_t max_len, uint8_t **out,
                         size_t *out_len, char *err, size_t cap)
{
    char rel[ZUPD_ROLE_NAME_MAX * 4];
    struct zupd_fetch_res res;
    size_t first = 0;
    int rc, last = ZUPD_OK;

    *out = NULL;
    *out_len = 0;
    if (!usable_hashes(t)) {
        return zu_fail(err, cap, ZUPD_E_HASH, "'%s': no hash algorithm zupd can check", path);
    }
    if (t->length > max_len) {
        return zu_fail(err, cap, ZUPD_E_TOOBIG, "'%s': %llu bytes, more than the %zu allowed", path,
                       (unsigned long long)t->length, max_len);
    }
    rc = target_rel(c, path, t, rel, sizeof(rel));
    if (rc != ZUPD_OK)
        return rc;
    while (first < n_urls) {
        struct zupd_fetch_req req = {
            .bases = urls, .n_bases = n_urls, .first = first, .path = rel, .max_bytes = t->length};
        uint8_t *buf = NULL;
        size_t len = 0;

        rc = zupd_fetch_mem(c->o.ctx, c->o.transport, &req, &buf, &len, &res);
        if (rc != ZUPD_OK) {
            if (last != ZUPD_OK)
                return last;
            return zu_fail(err, cap, rc, "cannot download target '%s': %s", path,
                           zupd_strerror(rc));
        }
        rc = zupd_check_length_hashes(buf, len, true, t->length, &t->hashes);
        if (rc == ZUPD_OK) {
            *out = buf;
            *out_len = len;
            return ZUPD_OK;
        }
        free(buf);
        zu_say(err, cap, "target '%s': %s", path, zupd_strerror(rc));
        last = rc;
        first = res.mirror + 1;
    }
    return last;
}

/* Is dirfd/name already the target? */
static bool
cached_ok(int dirfd, const char *name, const struct zupd_target *t)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    bool ok;

    if (t->length > (64u << 20) ||
        zu_read_capped(dirfd, name, (size_t)t->length, &buf, &len) != ZUPD_OK)
        return false;
    ok = zupd_check_length_hashes(buf, len, true, t->length, &t->hashes) == ZUPD_OK;
    free(buf);
    return ok;
}

int
zupd_client_download_target(struct zupd_client *c, const char *path, const struct zupd_target *t,
                            const char *const *urls, size_t n_urls, int dirfd, const char *name,
                            bool *cached, char *err, size_t cap)
{
    char rel[ZUPD_ROLE_NAME_MAX * 4];
    struct zupd_fetch_res res;
    struct zupd_fetch_req req;
    enum zupd_hash_alg alg;
    const uint8_t *digest;
    int rc;

    if (cached != NULL)
        *cached = false;
    if (!usable_hashes(t)) {
        return zu_fail(err, cap, ZUPD_E_HASH, "'%s': no hash algorithm zupd can check", path);
    }
    if (!zu_plain_name(name))
        return ZUPD_E_MISUSE;
    if (cached_ok(dirfd, name, t)) {
        if (cached != NULL)
            *cached = true;
        return ZUPD_OK;
    }
    rc = target_rel(c, path, t, rel, sizeof(rel));
    if (rc != ZUPD_OK)
        return rc;
    alg = t->hashes.has_sha256 ? ZUPD_HASH_SHA256 : ZUPD_HASH_SHA512;
    digest = t->hashes.has_sha256 ? t->hashes.sha256 : t->hashes.sha512;
    memset(&req, 0, sizeof(req));
    req.bases = urls;
    req.n_bases = n_urls;
    req.path = rel;
    req.max_bytes = t->length;
    rc = zupd_fetch_file(c->o.ctx, c->o.transport, &req, dirfd, name, t->length, alg, digest, &res);
    if (rc != ZUPD_OK && rc != ZUPD_E_NET && rc != ZUPD_E_TIMEOUT && rc != ZUPD_E_BUSY) {
        /* only a transfer cut short is worth resuming; anything else the
         * server sent is not the target */
        char part[4096];
        if ((size_t)snprintf(part, sizeof(part), "%s.part", name) < sizeof(part))
            (void)unlinkat(dirfd, part, 0);
    }
    if (rc == ZUPD_OK && t->hashes.has_sha256 && t->hashes.has_sha512 &&
        !cached_ok(dirfd, name, t)) {
        (void)unlinkat(dirfd, name, 0);
        rc = ZUPD_E_HASH; /* sha256 matched, sha512 did not: refuse */
    }
    if (rc != ZUPD_OK)
        zu_say(err, cap, "cannot download target '%s': %s", path, zupd_strerror(rc));
    return rc;
}
