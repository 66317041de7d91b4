/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/pins.c -- read the channel pointers an enterprise policy
 * repository signs, verified as an endpoint verifies them (lib's TUF client
 * over libcurl, which also answers file:// URLs), for sync and verify. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zupd/client.h>
#include <zupd/fetch.h>
#include <zupd/meta.h>
#include <zupd/trusted.h>

#include "zu/fsio.h"
#include "repo/fsops.h"
#include "repo/pins.h"
#include "repo/select.h"
#include "repo/upstream.h"

#define ROOT_CAP (512u << 10)
#define POINTER_CAP 65536 /* as the endpoint reads a channel pointer */

struct pol {
    const struct zp_pins_opts *o;
    char *err;
    size_t cap;
    char base[PATH_MAX * 3 + 64]; /* ends in '/' */
    char mbase[PATH_MAX * 3 + 80], tbase[PATH_MAX * 3 + 80];
    char tmp[PATH_MAX];
    int mfd;
    struct zupd_transport *tr;
    struct zupd_client *c;
    struct zp_upstream_opts uo;
    char what[PATH_MAX + 32];
    struct zp_roles roles;
    char **paths; /* channel pointer paths the roles list */
    size_t n_paths, cap_paths;
};

/* ------------------------------------------------------------ where */

/* The base URL of the policy repository: a URL as given, a directory as
 * file:// of its real path (percent-encoded but for '/'). */
static int
make_base(struct pol *p)
{
    const char *s = p->o->source;
    char real[PATH_MAX];
    size_t w = 0, l;

    if (strstr(s, "://") != NULL) {
        l = strlen(s);
        if (l + 2 > sizeof(p->base))
            return zu_fail(p->err, p->cap, ZUPD_E_TOOBIG, "policy repository URL too long");
        snprintf(p->base, sizeof(p->base), "%s%s", s, l > 0 && s[l - 1] == '/' ? "" : "/");
        return ZUPD_OK;
    }
    if (realpath(s, real) == NULL)
        return zu_fail(p->err, p->cap, zu_errno_to_err(errno), "policy repository '%s': %s", s,
                       strerror(errno));
    w = (size_t)snprintf(p->base, sizeof(p->base), "file://");
    for (const char *c = real; *c != '\0'; c++) {
        unsigned char u = (unsigned char)*c;
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            strchr("/-._~", u) != NULL)
            p->base[w++] = (char)u;
        else
            w += (size_t)snprintf(p->base + w, sizeof(p->base) - w, "%%%02X", u);
    }
    p->base[w++] = '/';
    p->base[w] = '\0';
    return ZUPD_OK;
}

/* ------------------------------------------------------------ state */

static void
rm_tmp(struct pol *p)
{
    int fd;
    DIR *d;
    struct dirent *e;

    if (p->tmp[0] == '\0')
        return;
    fd = open(p->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL && fd >= 0)
        close(fd);
    while (d != NULL && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            (void)unlinkat(dirfd(d), e->d_name, 0);
    if (d != NULL)
        closedir(d);
    (void)rmdir(p->tmp);
}

/* The client's trusted-metadata directory: the caller's, or a temporary
 * one; started from the policy's root when it has no root.json yet. */
static int
open_state(struct pol *p)
{
    const char *t = getenv("TMPDIR");
    uint8_t *root = NULL;
    size_t rlen = 0;
    char why[512] = "";
    int rc;

    if (p->o->state_dirfd >= 0) {
        p->mfd = dup(p->o->state_dirfd);
        if (p->mfd < 0)
            return zu_fail(p->err, p->cap, ZUPD_E_IO, "policy state: %s", strerror(errno));
    } else {
        if ((size_t)snprintf(p->tmp, sizeof(p->tmp), "%s/zupd-policy.XXXXXX",
                             t != NULL && *t ? t : "/tmp") >= sizeof(p->tmp) ||
            mkdtemp(p->tmp) == NULL) {
            p->tmp[0] = '\0';
            return zu_fail(p->err, p->cap, ZUPD_E_IO, "cannot make a temporary directory");
        }
        p->mfd = open(p->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (p->mfd < 0)
            return zu_fail(p->err, p->cap, ZUPD_E_IO, "%s: %s", p->tmp, strerror(errno));
    }
    if (faccessat(p->mfd, "root.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return ZUPD_OK; /* what an earlier run trusted: replays are rollbacks */
    rc = zp_get(AT_FDCWD, p->o->root_path, ROOT_CAP, &root, &rlen);
    if (rc != ZUPD_OK)
        return zu_fail(p->err, p->cap, rc, "policy root '%s': %s", p->o->root_path,
                       zupd_strerror(rc));
    rc = zupd_client_init_dir(p->mfd, root, rlen, why, sizeof(why));
    free(root);
    if (rc != ZUPD_OK)
        return zu_fail(p->err, p->cap, rc, "policy root '%s': %s", p->o->root_path, why);
    return ZUPD_OK;
}

static int
open_client(struct pol *p)
{
    p->uo = (struct zp_upstream_opts){.mbase = p->mbase,
                                      .mfd = p->mfd,
                                      .ca_file = p->o->ca_file,
                                      .now = p->o->now,
                                      .ctx = p->o->ctx,
                                      .what = p->what,
                                      .tag = "pins"};
    snprintf(p->what, sizeof(p->what), "policy repository '%s'", p->o->source);
    return zp_upstream_open(&p->uo, &p->tr, &p->c, p->err, p->cap);
}

/* ------------------------------------------------------------ pointers */

struct collect {
    struct pol *p;
    int rc;
};

static int
collect_pointer(void *opaque, const char *path, const struct zupd_target *t)
{
    struct collect *cl = opaque;
    struct pol *p = cl->p;
    struct zp_sel sel;

    (void)t;
    zp_sel_classify(&sel, path);
    if (sel.kind != ZP_SEL_CHANNEL)
        return 0;
    cl->rc = ZU_GROW(&p->paths, &p->cap_paths, p->n_paths + 1, ZP_PINS_MAX);
    if (cl->rc != ZUPD_OK)
        return 1;
    p->paths[p->n_paths] = strdup(path);
    if (p->paths[p->n_paths] == NULL) {
        cl->rc = ZUPD_E_NOMEM;
        return 1;
    }
    p->n_paths++;
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The pointer at path: found through the delegations (the role that may
 * sign it), fetched with its signed length and hashes, parsed; it must
 * name the component and channel of its path, as endpoints check. */
static int
read_pointer(struct pol *p, const char *path, struct zp_pins *out)
{
    const char *urls[1] = {p->tbase};
    struct zupd_channel *ch = NULL;
    struct zupd_target t;
    struct zp_pin_ref *r;
    struct zp_sel sel;
    char why[512] = "";
    uint8_t *buf = NULL;
    size_t len = 0, rl;
    int rc;

    zp_sel_classify(&sel, path);
    rc = zupd_client_find_target(p->c, path, &t, NULL, 0, why, sizeof(why));
    if (rc == ZUPD_E_NOTFOUND)
        return ZUPD_OK; /* listed by a role the search does not trust for it */
    if (rc == ZUPD_OK)
        rc = zupd_client_fetch_target(p->c, path, &t, urls, 1, POINTER_CAP, &buf, &len, why,
                                      sizeof(why));
    if (rc != ZUPD_OK)
        return zu_fail(p->err, p->cap, rc, "policy repository '%s': pointer '%s' refused: %s",
                       p->o->source, path, why);
    rc = zupd_channel_parse(buf, len, &ch);
    free(buf);
    if (rc != ZUPD_OK)
        return zu_fail(p->err, p->cap, rc, "policy repository '%s': pointer '%s' is malformed",
                       p->o->source, path);
    rl = strcspn(path, "/");
    if (strcmp(ch->channel, sel.channel) != 0 || strlen(ch->component) != sel.group_len - rl - 1 ||
        memcmp(ch->component, path + rl + 1, sel.group_len - rl - 1) != 0 || rl > ZUPD_NAME_MAX) {
        rc = zu_fail(p->err, p->cap, ZUPD_E_MISMATCH,
                     "policy repository '%s': pointer '%s' names '%s/%s'", p->o->source, path,
                     ch->component, ch->channel);
        goto out;
    }
    rc = ZU_GROW(&out->v, &out->cap, out->n + 1, ZP_PINS_MAX);
    if (rc != ZUPD_OK)
        goto out;
    r = &out->v[out->n++];
    memset(r, 0, sizeof(*r));
    memcpy(r->role, path, rl);
    snprintf(r->component, sizeof(r->component), "%s", ch->component);
    snprintf(r->channel, sizeof(r->channel), "%s", ch->channel);
    snprintf(r->version, sizeof(r->version), "%s", ch->version);
    r->expires = ch->expires;
    snprintf(r->pointer, sizeof(r->pointer), "%s", path);
    snprintf(r->manifest, sizeof(r->manifest), "%s/%s/%s/manifest.json", r->role, r->component,
             r->version);
out:
    zupd_channel_free(ch);
    return rc;
}

/* ------------------------------------------------------------ load */

static void
pol_free(struct pol *p)
{
    zupd_client_free(p->c);
    zupd_transport_free(p->tr);
    zp_roles_free(&p->roles);
    for (size_t i = 0; i < p->n_paths; i++)
        free(p->paths[i]);
    free(p->paths);
    if (p->mfd >= 0)
        close(p->mfd);
    rm_tmp(p);
}

int
zp_pins_load(const struct zp_pins_opts *o, struct zp_pins *out, char *err, size_t cap)
{
    struct pol p;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&p, 0, sizeof(p));
    p.o = o;
    p.err = err;
    p.cap = cap;
    p.mfd = -1;
    if (o->source == NULL || o->root_path == NULL)
        return zu_fail(err, cap, ZUPD_E_MISUSE,
                       "a policy repository needs its trusted root (--policy-root ROOT.json)");
    rc = make_base(&p);
    if (rc == ZUPD_OK) {
        snprintf(p.mbase, sizeof(p.mbase), "%smetadata/", p.base);
        snprintf(p.tbase, sizeof(p.tbase), "%stargets/", p.base);
        rc = open_state(&p);
    }
    if (rc == ZUPD_OK)
        rc = open_client(&p);
    if (rc == ZUPD_OK)
        rc = zp_upstream_roles(p.c, &p.uo, &p.roles, err, cap);
    for (size_t i = 0; rc == ZUPD_OK && i < p.roles.n; i++) {
        struct collect cl = {&p, ZUPD_OK};
        const struct zupd_meta *m = zupd_trusted_get(zupd_client_trusted(p.c), p.roles.v[i]);
        if (zupd_meta_target_foreach(m, collect_pointer, &cl) != 0)
            rc = cl.rc != ZUPD_OK ? cl.rc : ZUPD_E_NOMEM;
    }
    if (rc == ZUPD_OK && p.n_paths > 1)
        qsort(p.paths, p.n_paths, sizeof(*p.paths), cmp_str);
    for (size_t i = 0; rc == ZUPD_OK && i < p.n_paths; i++)
        if (i == 0 || strcmp(p.paths[i - 1], p.paths[i]) != 0)
            rc = read_pointer(&p, p.paths[i], out);
    if (rc != ZUPD_OK) {
        if (err != NULL && cap > 0 && err[0] == '\0')
            zu_fail(err, cap, rc, "policy repository '%s': %s", o->source, zupd_strerror(rc));
        zp_pins_release(out);
    }
    pol_free(&p);
    return rc;
}

void
zp_pins_release(struct zp_pins *p)
{
    if (p == NULL)
        return;
    free(p->v);
    memset(p, 0, sizeof(*p));
}
