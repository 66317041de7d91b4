/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_keys.c -- zupd-mirror key add|remove|threshold, the role key
 * table of key list, and unstage: arguments and messages; the logic is
 * mirror/repo/keyadmin.c and mirror/repo/staged.c. */
#include "config.h"

#include <jansson.h>

#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zu/fsio.h"
#include "zu/meta_names.h"
#include "cli/cmd_common.h"

#define PUBKEY_CAP (64u << 10)

static int
read_pub(const char *path, uint8_t **buf, size_t *len)
{
    char d[4096], b[4096];
    int dfd, rc;

    snprintf(d, sizeof(d), "%s", path);
    snprintf(b, sizeof(b), "%s", path);
    dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ZUPD_E_NOTFOUND;
    rc = zu_read_capped(dfd, basename(b), PUBKEY_CAP, buf, len);
    close(dfd);
    return rc;
}

/* The default name of a public key file: its base name without extension. */
static void
default_name(const char *path, char *out, size_t cap)
{
    char b[4096], *dot;

    snprintf(b, sizeof(b), "%s", path);
    snprintf(out, cap, "%s", basename(b));
    dot = strchr(out, '.');
    if (dot != NULL && dot != out)
        *dot = '\0';
}

static void
report(const char *what, const char *role, const struct zp_keychange_res *res,
       const struct zp_repo *r)
{
    enum zp_role ro;
    bool top = zp_role_parse(role, &ro) == ZUPD_OK && zp_delegator(ro) == ZP_R_ROOT;

    if (res->staged) {
        printf("%s; '%s' must be re-signed with keys this repository does not hold: the change is "
               "staged in '%s' (targets version %llu) until they sign it (zupd-mirror import)\n",
               what, role, res->staged_dir, (unsigned long long)res->delegator_version);
        return;
    }
    printf("%s (%s version %llu)\n", what, top ? "root" : "targets",
           (unsigned long long)res->delegator_version);
    (void)r;
}

int
zp_cmd_key_change(struct common *o, int argc, char **argv)
{
    const char *sub = argv[optind];
    struct zp_keychange_res res;
    struct zp_repo *r = NULL;
    char err[ERR_CAP] = "", what[512], subj[256];
    enum zp_role role;
    int rc;

    if (optind + 1 >= argc || zp_role_parse(argv[optind + 1], &role) != ZUPD_OK)
        return zp_cmd_usage("usage: key add ROLE PUBKEYFILE [--name NAME] | key remove ROLE "
                            "KEYID|NAME | key threshold ROLE N");
    snprintf(subj, sizeof(subj), "%s", argv[optind + 1]);
    if (strcmp(sub, "add") == 0) {
        uint8_t *pub = NULL;
        size_t len = 0;
        char name[ZU_KEY_NAME_MAX + 1];
        if (optind + 3 != argc)
            return zp_cmd_usage("usage: key add ROLE PUBKEYFILE [--name NAME]");
        if (o->name != NULL)
            snprintf(name, sizeof(name), "%s", o->name);
        else
            default_name(argv[optind + 2], name, sizeof(name));
        rc = read_pub(argv[optind + 2], &pub, &len);
        if (rc != ZUPD_OK)
            return zp_cmd_fail(rc, "read public key", argv[optind + 2], NULL);
        rc = zp_cmd_open(o, "change keys of", &r);
        if (rc == 0)
            rc = zp_key_add(r, role, pub, len, name, &res, err, sizeof(err));
        free(pub);
        if (r == NULL)
            return rc;
        snprintf(what, sizeof(what), "added key '%s' (%.16s...) to '%s'", name, res.keyid, subj);
    } else if (strcmp(sub, "remove") == 0) {
        if (optind + 3 != argc)
            return zp_cmd_usage("usage: key remove ROLE KEYID|NAME");
        rc = zp_cmd_open(o, "change keys of", &r);
        if (rc != 0)
            return rc;
        rc = zp_key_remove(r, role, argv[optind + 2], &res, err, sizeof(err));
        snprintf(what, sizeof(what), "removed key %.16s... from '%s'", res.keyid, subj);
    } else {
        long n;
        if (optind + 3 != argc || !zp_cmd_num(argv[optind + 2], 1, 1024, &n))
            return zp_cmd_usage("usage: key threshold ROLE N (N >= 1)");
        rc = zp_cmd_open(o, "change keys of", &r);
        if (rc != 0)
            return rc;
        rc = zp_key_threshold(r, role, (uint64_t)n, &res, err, sizeof(err));
        snprintf(what, sizeof(what), "'%s' now needs %ld signature(s)", subj, n);
    }
    if (rc == ZUPD_OK)
        report(what, subj, &res, r);
    zp_repo_free(r);
    return rc == ZUPD_OK ? 0 : zp_cmd_fail(rc, "change keys of", subj, err);
}

/* key list: the keys each role trusts, with their names, after the key
 * files (when the repository opens). */
json_t *
zp_cmd_key_table(struct common *o, const char *keys_dir)
{
    struct zp_repo_opts ro;
    struct zp_repo *r = NULL;
    json_t *roles = o->json ? json_array() : NULL;

    zp_cmd_repo_opts(o, &ro);
    if (zp_repo_open(&ro, &r, NULL, 0) != ZUPD_OK)
        return roles;
    for (unsigned i = 0; i < ZP_R__N; i++) {
        enum zp_role role = (enum zp_role)i;
        const struct zupd_meta *d = zp_repo_meta(r, zp_delegator(role));
        uint64_t thr = 0;
        size_t nk = 0;
        json_t *keys = o->json ? json_array() : NULL;

        if (zupd_meta_role(d, zp_role_name(role), &thr, &nk) != ZUPD_OK) {
            json_decref(keys);
            continue;
        }
        if (!o->json)
            printf("role %s: %llu of %zu key(s)%s\n", zp_role_name(role), (unsigned long long)thr,
                   nk, zp_staged_pending(r, role) ? " (a change is staged)" : "");
        for (size_t k = 0; k < nk; k++) {
            const char *id = zupd_meta_role_keyid(d, zp_role_name(role), k);
            const char *name = zu_meta_key_name(d, id);
            struct zp_keyinfo ki;
            bool here = zp_key_find(keys_dir, id, &ki) == ZUPD_OK;
            const char *shown = name != NULL ? name : here ? ki.name : "-";

            if (o->json)
                json_array_append_new(keys, json_pack("{s:s,s:s,s:b}", "name", shown, "keyid", id,
                                                      "held_here", here));
            else
                printf("  %-20s %s%s\n", shown, id, here ? "" : "  (held elsewhere)");
        }
        if (o->json)
            json_array_append_new(roles, json_pack("{s:s,s:I,s:o,s:b}", "role", zp_role_name(role),
                                                   "threshold", (json_int_t)thr, "keys", keys,
                                                   "staged", zp_staged_pending(r, role)));
    }
    zp_repo_free(r);
    return roles;
}

int
zp_cmd_unstage(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    char err[ERR_CAP] = "";
    enum zp_role role;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc || zp_role_parse(argv[optind], &role) != ZUPD_OK)
        return zp_cmd_usage("usage: unstage ROLE");
    rc = zp_cmd_open(&o, "unstage", &r);
    if (rc != 0)
        return rc;
    rc = zp_unstage(r, role, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "unstage", argv[optind], err);
    printf("dropped the staged change of '%s'\n", argv[optind]);
    return 0;
}
