/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_log.c -- zupd-mirror log verify|show|monitor: a
 * transparency log read from a repository tree or over HTTP, checked
 * against its checkpoint and, for verify, cross-checked with the TUF
 * repository (docs/transparency.md). The checks are mirror/repo/logaudit.c
 * and mirror/sync/sync_log.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <zupd/common.h>

#include "cli/cmd_common.h"
#include "repo/logaudit.h"
#include "sync/sync.h"
#include "zu/cli.h"

static int
fail(int rc, const char *what, const char *subject, const char *err)
{
    const char *why = err != NULL && err[0] ? err : zupd_strerror(rc);
    const char *alarm = rc == ZUPD_E_ROLLBACK || rc == ZUPD_E_MISMATCH ? "ALARM: " : "";

    fprintf(stderr, "zupd-mirror: %scannot %s '%s': %s\n", alarm, what, subject, why);
    zu_cli_error(zu_cli_exit(rc), "%scannot %s '%s': %s", alarm, what, subject, why);
    return zu_cli_exit(rc);
}

static void
b64(const uint8_t h[32], char out[64])
{
    sodium_bin2base64(out, 64, h, 32, sodium_base64_VARIANT_ORIGINAL);
}

static int
log_verify(const struct common *o, const char *where)
{
    struct zp_log_res res;
    char err[1024] = "", root[64];
    int rc;

    if (zp_is_url(where)) {
        struct zp_sync_opts so;

        if (o->root == NULL)
            return zp_cmd_usage("log verify URL needs --root ROOT.json");
        memset(&so, 0, sizeof(so));
        so.upstream = where;
        so.root_path = o->root;
        so.ca_file = o->ca_file;
        so.now = zp_cmd_now();
        rc = zp_log_verify_url(&so, o->vkey, &res, err, sizeof(err));
    } else {
        struct zp_repo_opts ro;

        memset(&ro, 0, sizeof(ro));
        ro.dir = where;
        ro.now = zp_cmd_now();
        rc = zp_log_verify(&ro, o->vkey, &res, err, sizeof(err));
    }
    if (rc != ZUPD_OK)
        return fail(rc, "verify the log of", where, err);
    b64(res.root, root);
    if (o->json) {
        zu_cli_json_print(
            json_pack("{s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "origin", res.origin, "size",
                      (json_int_t)res.size, "root_hash", root, "releases", (json_int_t)res.releases,
                      "channels", (json_int_t)res.channels, "roots", (json_int_t)res.roots, "other",
                      (json_int_t)res.other, "targets", (json_int_t)res.targets, "matched",
                      (json_int_t)res.matched, "not_current", (json_int_t)res.not_current));
        return 0;
    }
    printf("ok: log '%s' of %llu entries, root %s%s\n"
           "ok: %zu releases, %zu channel changes, %zu root versions, %zu other entries\n"
           "ok: %zu targets and every root version logged (%zu matched); %zu entries no "
           "longer signed (superseded or pruned)\n",
           res.origin, (unsigned long long)res.size, root,
           o->vkey == NULL ? " (key: the log's own log/vkey)" : "", res.releases, res.channels,
           res.roots, res.other, res.targets, res.matched, res.not_current);
    return 0;
}

static void
print_cp(const struct zp_log_cp *cp)
{
    char root[64];
    bool any = false;

    b64(cp->c.root, root);
    printf("log %s\nsize %llu\nroot %s\nsigned by", cp->c.origin, (unsigned long long)cp->c.size,
           root);
    for (size_t i = 0; i < cp->nkeys; i++)
        if (cp->ok[i]) {
            printf("%s %s", any ? "," : "", cp->keys[i].name);
            any = true;
        }
    printf("%s\n", any ? "" : " (none)");
}

static void
print_entries(const json_t *entries)
{
    size_t i;
    const json_t *e;

    json_array_foreach (entries, i, e) {
        char line[1024];
        zp_log_entry_line(e, line, sizeof(line));
        printf("%s\n", line);
    }
}

static int
open_src(const struct common *o, const char *where, struct zp_logsrc **src, struct zupd_ctx **ctx)
{
    char err[1024] = "";
    int rc;

    *ctx = NULL;
    if (zp_is_url(where)) {
        *ctx = zupd_ctx_new();
        if (*ctx == NULL)
            return fail(ZUPD_E_NOMEM, "read the log of", where, NULL);
    }
    rc = zp_logsrc_open(where, o->ca_file, *ctx, src, err, sizeof(err));
    return rc != ZUPD_OK ? fail(rc, "read the log of", where, err) : 0;
}

static void
trust_of(const struct common *o, struct zp_log_trust *t)
{
    t->vkey = o->vkey;
    t->witnesses = o->witnesses;
    t->n_witnesses = o->n_witnesses;
    t->quorum = (size_t)o->quorum;
}

static int
log_show(const struct common *o, const char *where)
{
    struct zp_logsrc *src = NULL;
    struct zupd_ctx *ctx = NULL;
    struct zp_log_trust t;
    struct zp_log_cp cp;
    json_t *entries = NULL;
    char err[1024] = "";
    int rc, ex;

    memset(&cp, 0, sizeof(cp));
    trust_of(o, &t);
    ex = open_src(o, where, &src, &ctx);
    if (ex != 0)
        goto out;
    rc = zp_log_cp_read(src, &t, &cp, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc =
            zp_log_entries(zp_logsrc_reader(src), &cp.c, o->from, true, &entries, err, sizeof(err));
    if (rc != ZUPD_OK) {
        ex = fail(rc, "show the log of", where, err);
        goto out;
    }
    if (o->json) {
        zu_cli_json_print(
            json_pack("{s:o,s:O}", "checkpoint", zp_log_cp_json(&cp), "entries", entries));
    } else {
        print_cp(&cp);
        printf("\n");
        print_entries(entries);
    }
out:
    json_decref(entries);
    zp_log_cp_release(&cp);
    zp_logsrc_free(src);
    zupd_ctx_free(ctx);
    return ex;
}

static int
log_monitor(const struct common *o, const char *where)
{
    struct zp_logsrc *src = NULL;
    struct zupd_ctx *ctx = NULL;
    struct zp_log_trust t;
    struct zp_log_cp cp;
    json_t *entries = NULL;
    uint64_t prev = 0;
    bool first = false;
    char err[1024] = "";
    int rc, ex;

    memset(&cp, 0, sizeof(cp));
    if (o->state == NULL || o->vkey == NULL)
        return zp_cmd_usage("log monitor needs --state FILE and --vkey VKEY");
    trust_of(o, &t);
    ex = open_src(o, where, &src, &ctx);
    if (ex != 0)
        goto out;
    rc = zp_log_monitor(src, &t, o->state, &cp, &prev, &first, &entries, err, sizeof(err));
    if (rc != ZUPD_OK) {
        ex = fail(rc, "monitor the log of", where, err);
        goto out;
    }
    /* reported, then remembered: a crash in between reports them again */
    if (o->json) {
        json_t *doc = json_pack("{s:o,s:b,s:I,s:O,s:I}", "checkpoint", zp_log_cp_json(&cp),
                                "first_run", first, "previous_size", (json_int_t)prev, "entries",
                                entries, "requests", (json_int_t)zp_logsrc_requests(src));
        zu_cli_json_print(doc);
    } else {
        print_cp(&cp);
        if (first)
            printf("first run: %zu entries\n", json_array_size(entries));
        else
            printf("%zu new entries since size %llu\n", json_array_size(entries),
                   (unsigned long long)prev);
        print_entries(entries);
    }
    fflush(stdout);
    rc = zp_log_monitor_store(o->state, &cp, err, sizeof(err));
    if (rc != ZUPD_OK)
        ex = fail(rc, "remember the checkpoint in", o->state, err);
out:
    json_decref(entries);
    zp_log_cp_release(&cp);
    zp_logsrc_free(src);
    zupd_ctx_free(ctx);
    return ex;
}

/* log cosign DIR: ask the witnesses that have not cosigned log/checkpoint */
static int
log_cosign(struct common *o, const char *dir)
{
    struct zp_repo *r = NULL;
    struct zp_cosign_res res;
    char err[ERR_CAP] = "";
    int rc;

    o->repo = dir;
    rc = zp_cmd_open(o, "cosign the log of", &r);
    if (rc != 0)
        return rc;
    rc = zp_log_cosign(r, &res, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "cosign the log of", dir, err);
    if (res.witnesses == 0)
        return zp_cmd_fail(ZUPD_E_NOTFOUND, "cosign the log of", dir,
                           "no witnesses in its configuration (.zupd/config.json)");
    /* below the quorum: the error first, so --json reports it with the fields */
    if (res.cosigned < res.quorum)
        rc = zp_cmd_fail(ZUPD_E_THRESHOLD, "cosign the log of", dir,
                         "fewer cosignatures than the quorum");
    zp_cmd_print(o,
                 json_pack("{s:I,s:I,s:I,s:I,s:I}", "size", (json_int_t)res.size, "witnesses",
                           (json_int_t)res.witnesses, "cosigned", (json_int_t)res.cosigned, "added",
                           (json_int_t)res.added, "quorum", (json_int_t)res.quorum),
                 "%s: log/checkpoint of size %llu has %zu of %zu witnesses' cosignatures (%zu "
                 "new, quorum %u)\n",
                 res.cosigned >= res.quorum ? "ok" : "not enough", (unsigned long long)res.size,
                 res.cosigned, res.witnesses, res.added, res.quorum);
    return rc;
}

int
zp_cmd_log(int argc, char **argv)
{
    struct common o;
    const char *sub, *where;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 2 != argc)
        return zp_cmd_usage(
            "usage: log verify|show|monitor DIR|URL, log cosign DIR (see zupd-mirror log --help)");
    if (o.quorum > (long)o.n_witnesses)
        return zp_cmd_usage("--quorum is more than the --witness keys given");
    sub = argv[optind];
    where = argv[optind + 1];
    if (strcmp(sub, "verify") == 0)
        return log_verify(&o, where);
    if (strcmp(sub, "show") == 0)
        return log_show(&o, where);
    if (strcmp(sub, "monitor") == 0)
        return log_monitor(&o, where);
    if (strcmp(sub, "cosign") == 0)
        return log_cosign(&o, where);
    return zp_cmd_usage("log wants verify, show, monitor or cosign");
}
