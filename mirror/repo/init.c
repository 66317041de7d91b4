/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/repo/init.c -- zupd-mirror init: a new repository, its keys and the
 * first signed version of every role (signed and written through
 * mirror/repo/repo_commit.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zupd/meta.h>

#include "zu/fsio.h"

#include "repo/repo_int.h"

static int
add_role_key(struct zupd_meta *m, const char *role, const struct zp_keyinfo *k)
{
    char json[ZP_PUBJSON_MAX];
    int rc = zp_key_pubjson(k, json, sizeof(json));

    if (rc == ZUPD_OK)
        rc = zupd_meta_add_key(m, role, (const uint8_t *)json, strlen(json), NULL, 0);
    return rc;
}

static int
get_key(struct zp_repo *r, const char *name, struct zp_keyinfo *k, char *err, size_t cap)
{
    int rc = zp_key_by_name(r->keys_dir, name, k);

    return rc == ZUPD_OK ? rc
                         : zu_fail(err, cap, rc, "cannot read key '%s/%s.key': %s", r->keys_dir,
                                   name, zupd_strerror(rc));
}

/* ------------------------------------------------------------ the keys init makes */

#define PASS_CAP 1024

/* A key init needs: in the key directory already (a key file or a token
 * key reference), or to be made in its custody directory. */
struct init_key {
    char name[32];
    bool online;
    char *pass; /* sodium_malloc, PASS_CAP: the passphrase of a key to make */
};

/* a zp_pass that answers with a passphrase asked for earlier */
static int
given_pass(void *opaque, const char *name, bool confirm, char *buf, size_t cap)
{
    const char *p = opaque;
    size_t n = strlen(p);

    (void)name;
    (void)confirm;
    if (n >= cap)
        return ZUPD_E_PASSPHRASE;
    memcpy(buf, p, n + 1);
    return ZUPD_OK;
}

/* One passphrase for an online and an offline key puts the offline keys
 * within reach of whoever gets the online host's passphrase (a service's
 * file or environment): refused unless the operator says so. */
static int
check_passphrases(const struct init_key *v, size_t n, char *err, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; v[i].pass != NULL && v[i].online && j < n; j++)
            if (v[j].pass != NULL && !v[j].online && strlen(v[i].pass) == strlen(v[j].pass) &&
                sodium_memcmp(v[i].pass, v[j].pass, strlen(v[i].pass)) == 0)
                return zu_fail(err, cap, ZUPD_E_PASSPHRASE,
                               "the online key '%s' and the offline key '%s' would have the same "
                               "passphrase: give the online keys (snapshot, timestamp, avdb) "
                               "their own (ZUPD_PASSPHRASE_SNAPSHOT, ..., or at the prompt), or "
                               "say --same-passphrase",
                               v[i].name, v[j].name);
    return ZUPD_OK;
}

/* Make the keys of v that have a passphrase, in KEYDIR/online or
 * KEYDIR/offline, at the cost of their class. */
static int
generate_keys(struct zp_repo *r, const struct zp_init_opts *io, struct init_key *v, size_t n,
              char *err, size_t cap)
{
    int rc = ZUPD_OK;

    if (mkdir(r->keys_dir, 0700) != 0 && errno != EEXIST)
        return zu_fail(err, cap, zu_errno_to_err(errno), "cannot create key directory '%s': %s",
                       r->keys_dir, strerror(errno));
    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        struct zp_pass p = {.fn = given_pass, .opaque = v[i].pass};
        struct zp_kdf_cost cost = v[i].online ? io->online_cost : io->offline_cost;
        struct zp_keyinfo k;
        char dir[4096];

        if (v[i].pass == NULL)
            continue;
        if (cost.opslimit == 0 &&
            zp_kdf_cost_for(v[i].online, NULL, &cost) != ZUPD_OK) /* the class default */
            return ZUPD_E_MISUSE;
        if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", r->keys_dir,
                             v[i].online ? ZP_KEYS_ONLINE : ZP_KEYS_OFFLINE) >= sizeof(dir))
            return ZUPD_E_TOOBIG;
        rc = zp_key_generate(dir, v[i].name, &p, &cost, &k, err, cap);
    }
    return rc;
}

/* Every key init needs, made unless present: the passphrases of all the
 * keys to make are asked for first, so that a refusal (one passphrase for
 * both classes) leaves no key behind. */
static int
make_keys(struct zp_repo *r, const struct zp_init_opts *io, unsigned n_root, char *err, size_t cap)
{
    size_t n = 0;
    struct init_key *v = calloc(n_root + ZP_R__N + 1, sizeof(*v));
    int rc = ZUPD_OK;

    if (v == NULL)
        return ZUPD_E_NOMEM;
    for (unsigned i = 1; i <= n_root; i++)
        snprintf(v[n++].name, sizeof(v[0].name), "root-%u", i);
    for (unsigned i = ZP_R_TARGETS; i < ZP_R__N; i++) {
        v[n].online = zp_role_online((enum zp_role)i);
        snprintf(v[n++].name, sizeof(v[0].name), "%s", zp_role_name((enum zp_role)i));
    }
    /* the transparency log's own key (init_log): signs at every publish,
     * so it is kept with the online keys */
    v[n].online = true;
    snprintf(v[n++].name, sizeof(v[0].name), "%s", "log");
    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        struct zp_keyinfo k;

        rc = zp_key_by_name(r->keys_dir, v[i].name, &k);
        if (rc != ZUPD_E_NOTFOUND) {
            if (rc != ZUPD_OK)
                zu_fail(err, cap, rc, "cannot read key '%s/%s.key': %s", r->keys_dir, v[i].name,
                        zupd_strerror(rc));
            continue;
        }
        v[i].pass = sodium_malloc(PASS_CAP);
        if (v[i].pass == NULL) {
            rc = ZUPD_E_NOMEM;
            break;
        }
        rc = r->pass.fn(r->pass.opaque, v[i].name, true, v[i].pass, PASS_CAP);
        if (rc != ZUPD_OK)
            zu_fail(err, cap, rc, "no passphrase for key '%s': %s", v[i].name, zupd_strerror(rc));
    }
    if (rc == ZUPD_OK && !io->same_passphrase)
        rc = check_passphrases(v, n, err, cap);
    if (rc == ZUPD_OK)
        rc = generate_keys(r, io, v, n, err, cap);
    for (size_t i = 0; i < n; i++)
        sodium_free(v[i].pass);
    free(v);
    return rc;
}

/* avdb delegates to 2^bits hash bins "avdb-bin-<hex>", signed by its key */
static int
make_bins(struct zp_repo *r, unsigned bits, const struct zp_keyinfo *k)
{
    struct zupd_meta *avdb = r->m[ZP_R_AVDB];
    char json[ZP_PUBJSON_MAX];
    size_t n = (size_t)1 << bits;
    int rc;

    rc = zupd_meta_set_succinct(avdb, bits, "avdb-bin");
    if (rc == ZUPD_OK)
        rc = zp_key_pubjson(k, json, sizeof(json));
    if (rc == ZUPD_OK)
        rc = zupd_meta_add_key(avdb, NULL, (const uint8_t *)json, strlen(json), NULL, 0);
    if (rc != ZUPD_OK)
        return rc;
    r->bins = calloc(n, sizeof(*r->bins));
    if (r->bins == NULL)
        return ZUPD_E_NOMEM;
    r->n_bins = n;
    for (size_t i = 0; rc == ZUPD_OK && i < n; i++) {
        rc = zupd_meta_succinct_bin_name(avdb, (uint32_t)i, r->bins[i].name,
                                         sizeof(r->bins[i].name));
        if (rc == ZUPD_OK)
            rc = zupd_meta_new(ZUPD_META_TARGETS, 1, r->now + r->cfg.expiry[ZP_R_AVDB],
                               &r->bins[i].m);
    }
    return rc;
}

/* Create and open r->dir; refuse a directory that already holds a
 * repository. */
static int
init_dir(struct zp_repo *r, char *err, size_t cap)
{
    struct stat st;

    if (mkdir(r->dir, 0755) != 0 && errno != EEXIST)
        return zu_fail(err, cap, zu_errno_to_err(errno), "cannot create '%s': %s", r->dir,
                       strerror(errno));
    r->dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dfd < 0)
        return zu_fail(err, cap, zu_errno_to_err(errno), "cannot open '%s': %s", r->dir,
                       strerror(errno));
    if (fstatat(r->dfd, "metadata", &st, AT_SYMLINK_NOFOLLOW) == 0)
        return zu_fail(err, cap, ZUPD_E_EXISTS, "'%s' already holds a repository", r->dir);
    return ZUPD_OK;
}

/* The unsigned version 1 of every role: n root keys (threshold thr), one
 * key per other role (made unless the key directory has it), the
 * delegations of products and avdb (and avdb's hash bins). */
static int
init_roles(struct zp_repo *r, const struct zp_init_opts *io, unsigned n, unsigned thr, char *err,
           size_t cap)
{
    static const char *const deleg_paths[2] = {"products/*/*/*", "avdb/*/*/*"};
    struct zp_keyinfo k;
    int rc;

    for (unsigned i = 0; i < ZP_R__N; i++) {
        rc = zupd_meta_new(i == ZP_R_ROOT        ? ZUPD_META_ROOT
                           : i == ZP_R_SNAPSHOT  ? ZUPD_META_SNAPSHOT
                           : i == ZP_R_TIMESTAMP ? ZUPD_META_TIMESTAMP
                                                 : ZUPD_META_TARGETS,
                           1, r->now + r->cfg.expiry[i], &r->m[i]);
        if (rc != ZUPD_OK)
            return rc;
    }
    for (unsigned i = 1; i <= n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "root-%u", i);
        rc = get_key(r, name, &k, err, cap);
        if (rc == ZUPD_OK)
            rc = add_role_key(r->m[ZP_R_ROOT], "root", &k);
        if (rc != ZUPD_OK)
            return rc;
    }
    rc = zupd_meta_set_threshold(r->m[ZP_R_ROOT], "root", thr);
    for (unsigned i = ZP_R_TARGETS; rc == ZUPD_OK && i < ZP_R__N; i++) {
        const char *role = zp_role_name((enum zp_role)i);

        rc = get_key(r, role, &k, err, cap);
        if (rc != ZUPD_OK)
            return rc;
        if (i == ZP_R_PRODUCTS || i == ZP_R_AVDB) {
            const char *p = deleg_paths[i - ZP_R_PRODUCTS];
            rc = zupd_meta_add_delegation(r->m[ZP_R_TARGETS], role, true, &p, 1, NULL, 0);
            if (rc == ZUPD_OK)
                rc = add_role_key(r->m[ZP_R_TARGETS], role, &k);
            if (rc == ZUPD_OK && i == ZP_R_AVDB && io->avdb_bins > 0)
                rc = make_bins(r, io->avdb_bins, &k);
        } else {
            rc = add_role_key(r->m[ZP_R_ROOT], role, &k);
        }
    }
    if (rc != ZUPD_OK)
        return zu_fail(err, cap, rc, "cannot build the initial metadata: %s", zupd_strerror(rc));
    return ZUPD_OK;
}

/* Sign doc as name (delegated by delegator), write it, and list it in the
 * snapshot as name.json. */
static int
write_listed(struct zp_repo *r, struct zupd_meta *doc, const char *name,
             const struct zupd_meta *delegator, bool is_bin, char *err, size_t cap)
{
    const struct zupd_meta *d[1] = {delegator};
    struct zupd_meta_file f;
    char fname[96];
    enum zp_role role;
    int rc;

    rc = zp_sign_as(r, doc, name, d, 1, err, cap);
    if (is_bin) {
        if (rc == ZUPD_OK)
            rc = zp_write_doc(r, name, doc, NULL, err, cap);
        if (rc == ZUPD_OK)
            rc = zp_doc_entry(doc, false, &f);
    } else {
        if (rc == ZUPD_OK)
            rc = zp_role_parse(name, &role);
        if (rc == ZUPD_OK)
            rc = zp_write_meta(r, role, doc, NULL, err, cap);
        if (rc == ZUPD_OK)
            rc = zp_meta_entry(r, role, false, &f);
    }
    if (rc == ZUPD_OK) {
        snprintf(fname, sizeof(fname), "%s.json", name);
        rc = zupd_meta_set_file(r->m[ZP_R_SNAPSHOT], fname, &f);
    }
    return rc;
}

/* Version 1 of every role signed and written: root, the targets roles and
 * bins (listed in the snapshot), then snapshot, flushed, then timestamp.
 * The first commit writes version 2 of everything, so 1 is written here. */
static int
write_first(struct zp_repo *r, char *err, size_t cap)
{
    const struct zupd_meta *root[1] = {r->m[ZP_R_ROOT]};
    struct zupd_meta_file f;
    int rc;

    rc = zp_sign_as(r, r->m[ZP_R_ROOT], "root", root, 1, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_write_meta(r, ZP_R_ROOT, r->m[ZP_R_ROOT], NULL, err, cap);
    for (unsigned i = ZP_R_TARGETS; rc == ZUPD_OK && i < ZP_R__N; i++) {
        if (i == ZP_R_SNAPSHOT || i == ZP_R_TIMESTAMP)
            continue;
        rc = write_listed(r, r->m[i], zp_role_name((enum zp_role)i),
                          r->m[zp_delegator((enum zp_role)i)], false, err, cap);
    }
    for (size_t i = 0; rc == ZUPD_OK && i < r->n_bins; i++)
        rc = write_listed(r, r->bins[i].m, r->bins[i].name, r->m[ZP_R_AVDB], true, err, cap);
    if (rc != ZUPD_OK)
        return rc;
    rc = zp_sign_as(r, r->m[ZP_R_SNAPSHOT], "snapshot", root, 1, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_write_meta(r, ZP_R_SNAPSHOT, r->m[ZP_R_SNAPSHOT], NULL, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_meta_entry(r, ZP_R_SNAPSHOT, true, &f);
    if (rc == ZUPD_OK)
        rc = zupd_meta_set_file(r->m[ZP_R_TIMESTAMP], "snapshot.json", &f);
    if (rc == ZUPD_OK)
        rc = zp_flush(r->dfd);
    if (rc == ZUPD_OK)
        rc = zp_sign_as(r, r->m[ZP_R_TIMESTAMP], "timestamp", root, 1, err, cap);
    if (rc == ZUPD_OK)
        rc = zp_write_meta(r, ZP_R_TIMESTAMP, r->m[ZP_R_TIMESTAMP], NULL, err, cap);
    return rc;
}

/* The transparency log: its own key (never a TUF role's) and the signed
 * checkpoint of the empty log; root version 1 is its first entry. */
static int
init_log(struct zp_repo *r, char *err, size_t cap)
{
    struct zp_keyinfo k;
    int rc = get_key(r, "log", &k, err, cap); /* made by make_keys */

    return rc == ZUPD_OK ? zp_log_create(r, err, cap) : rc;
}

int
zp_repo_init(const struct zp_repo_opts *o, const struct zp_init_opts *io, char *err, size_t cap)
{
    struct zp_repo *r = NULL;
    unsigned n = io->root_keys ? io->root_keys : 1;
    unsigned thr = io->root_threshold ? io->root_threshold : 1;
    int rc;

    if (thr > n || n > 32)
        return zu_fail(err, cap, ZUPD_E_MISUSE, "root threshold %u of %u keys is impossible", thr,
                       n);
    rc = zp_repo_alloc(o, &r);
    if (rc != ZUPD_OK)
        return rc;
    r->cfg = io->config;
    rc = init_dir(r, err, cap);
    if (rc == ZUPD_OK)
        rc = make_keys(r, io, n, err, cap);
    if (rc == ZUPD_OK)
        rc = init_roles(r, io, n, thr, err, cap);
    if (rc == ZUPD_OK) {
        rc = zp_config_write(r->dfd, &r->cfg);
        if (rc != ZUPD_OK)
            zu_say(err, cap, "cannot write '%s/" ZP_STATE_DIR "/config.json': %s", r->dir,
                   zupd_strerror(rc));
    }
    if (rc == ZUPD_OK)
        rc = init_log(r, err, cap);
    if (rc == ZUPD_OK)
        rc = write_first(r, err, cap);
    zp_repo_free(r);
    return rc;
}
