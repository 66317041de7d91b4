/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/upstream.c -- another TUF repository read the way an endpoint
 * reads it: one client, and every targets role it reaches (upstream.h). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/meta.h>
#include <zupd/trusted.h>

#include "repo/upstream.h"

#define MAX_ROLES 8192
#define MAX_BIN_BITS 12

int
zp_upstream_open(const struct zp_upstream_opts *o, struct zupd_transport **tr,
                 struct zupd_client **c, char *err, size_t cap)
{
    struct zupd_curl_opts copts = ZUPD_CURL_OPTS_DEFAULT;
    struct zupd_client_opts co;
    const char *mb[1] = {o->mbase};
    char why[512] = "";
    int rc;

    copts.ca_file = o->ca_file;
    rc = zupd_curl_transport_new(o->ctx, &copts, tr);
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot set up libcurl");
    zupd_client_opts_init(&co);
    co.metadata_urls = mb;
    co.n_metadata_urls = 1;
    co.metadata_dirfd = o->mfd;
    co.transport = *tr;
    co.ctx = o->ctx;
    co.now = o->now;
    rc = zupd_client_new(&co, c, why, sizeof(why));
    if (rc == ZUPD_OK)
        rc = zupd_client_refresh(*c, NULL, why, sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "%s refused: %s", o->what, why);
    return ZUPD_OK;
}

/* ------------------------------------------------------------ roles */

struct walk {
    struct zupd_client *c;
    const struct zp_upstream_opts *o;
    struct zp_roles *r;
    char *err;
    size_t cap;
};

static bool
have_role(const struct zp_roles *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i], name) == 0)
            return true;
    return false;
}

static int
add_role(struct walk *w, const char *name)
{
    if (w->r->n == MAX_ROLES)
        return zu_fail(w->err, w->cap, ZUPD_E_TOOBIG, "%s: more than %d delegated roles",
                       w->o->what, MAX_ROLES);
    w->r->v[w->r->n] = strdup(name);
    if (w->r->v[w->r->n] == NULL)
        return ZUPD_E_NOMEM;
    w->r->n++;
    return ZUPD_OK;
}

/* Look up a probe path as a client would, which loads the roles on its way;
 * ZUPD_E_NOTFOUND (nothing listed there) is no error. */
static int
probe(struct walk *w, const char *path, const char *role)
{
    struct zupd_target t;
    char why[512] = "";
    int rc = zupd_client_find_target(w->c, path, &t, NULL, 0, why, sizeof(why));

    if (rc != ZUPD_OK && rc != ZUPD_E_NOTFOUND)
        return zu_fail(w->err, w->cap, rc, "%s (role '%s') refused: %s", w->o->what, role, why);
    return ZUPD_OK;
}

/* A succinct hash-bin delegation (TAP 15): a client loads the bin a path
 * hashes to, so look up probe paths until every bin was loaded. */
static int
load_bins(struct walk *w, const char *role, const struct zupd_meta *m)
{
    const struct zupd_trusted *ts = zupd_client_trusted(w->c);
    const char *prefix = NULL;
    unsigned bits = 0;
    size_t n, left, tries = 0;
    bool *seen;
    int rc = ZUPD_OK;

    if (zupd_meta_succinct(m, &bits, &prefix) != ZUPD_OK)
        return ZUPD_OK;
    if (bits > MAX_BIN_BITS)
        return zu_fail(w->err, w->cap, ZUPD_E_TOOBIG,
                       "%s: role '%s' has %u-bit hash bins (at most %d)", w->o->what, role, bits,
                       MAX_BIN_BITS);
    n = (size_t)1 << bits;
    left = n;
    seen = calloc(n, sizeof(*seen));
    if (seen == NULL)
        return ZUPD_E_NOMEM;
    while (rc == ZUPD_OK && left > 0 && tries < 64 * n + 1024) {
        char path[ZUPD_ROLE_NAME_MAX + 64], name[ZUPD_ROLE_NAME_MAX];
        struct zupd_meta_child child;
        size_t cursor = 0, plen = strlen(prefix);
        unsigned long idx;
        char *end = NULL;

        snprintf(path, sizeof(path), "%s/.zupd-%s/probe/%zu", role, w->o->tag, tries++);
        if (zupd_meta_child_next(m, path, &cursor, &child) != ZUPD_OK)
            continue;
        if (strncmp(child.name, prefix, plen) != 0 || child.name[plen] != '-')
            continue;
        idx = strtoul(child.name + plen + 1, &end, 16);
        if (end == child.name + plen + 1 || *end != '\0' || idx >= n || seen[idx] ||
            zupd_meta_succinct_bin_name(m, (uint32_t)idx, name, sizeof(name)) != ZUPD_OK ||
            strcmp(name, child.name) != 0)
            continue;
        rc = probe(w, path, name);
        seen[idx] = true;
        left--;
        if (rc == ZUPD_OK && zupd_trusted_get(ts, name) != NULL && !have_role(w->r, name))
            rc = add_role(w, name);
    }
    if (rc == ZUPD_OK && left > 0)
        rc = zu_fail(w->err, w->cap, ZUPD_E_NOTFOUND,
                     "%s: role '%s': %zu of %zu hash bins not reached", w->o->what, role, left, n);
    free(seen);
    return rc;
}

int
zp_upstream_roles(struct zupd_client *c, const struct zp_upstream_opts *o, struct zp_roles *out,
                  char *err, size_t cap)
{
    const struct zupd_trusted *ts = zupd_client_trusted(c);
    struct walk w = {c, o, out, err, cap};
    int rc;

    out->n = 0;
    out->v = calloc(MAX_ROLES, sizeof(*out->v));
    if (out->v == NULL)
        return ZUPD_E_NOMEM;
    rc = add_role(&w, "targets");
    for (size_t i = 0; rc == ZUPD_OK && i < out->n; i++) {
        const struct zupd_meta *m = zupd_trusted_get(ts, out->v[i]);
        size_t nd = zupd_meta_delegation_count(m);

        for (size_t d = 0; rc == ZUPD_OK && d < nd; d++) {
            const char *name = zupd_meta_delegation_name(m, d);
            char path[ZUPD_ROLE_NAME_MAX + 64];

            if (have_role(out, name))
                continue;
            snprintf(path, sizeof(path), "%s/.zupd-%s/probe/probe", name, o->tag);
            rc = probe(&w, path, name);
            if (rc == ZUPD_OK && zupd_trusted_get(ts, name) != NULL)
                rc = add_role(&w, name); /* else not reachable by a client either */
        }
        if (rc == ZUPD_OK)
            rc = load_bins(&w, out->v[i], m);
    }
    return rc;
}

void
zp_roles_free(struct zp_roles *r)
{
    if (r->v != NULL)
        for (size_t i = 0; i < r->n; i++)
            free(r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}
