/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_log.c -- zupd-mirror log verify|show|monitor: a
 * transparency log read from a repository tree or over HTTP, checked
 * against its checkpoint and, for verify, cross-checked with the TUF
 * repository (the checks are mirror/repo/logaudit.c and
 * mirror/sync/sync_log.c); log cosign; log key add|retire, the log key's
 * rotation; log proof, a target's offline proof unit (docs/transparency.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <zupd/common.h>

#include "cli/cmd_common.h"
#include "repo/logaudit.h"
#include "sync/sync.h"
#include "zu/cli.h"
#include "zu/fsio.h"
#include "zu/tlog_proof.h"

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
    t->quorum = o->quorum > 0 ? (size_t)o->quorum : 0;
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

/* log witness add DIR VKEY URL | remove DIR NAME | list DIR [--quorum N]:
 * the witnesses the publisher asks (DIR/.zupd/config.json) */
static int
log_witness(struct common *o, char **args, int n)
{
    const char *what = args[0], *dir = args[1];
    bool list = strcmp(what, "list") == 0;
    const struct zp_config *c;
    struct zp_repo *r = NULL;
    char err[ERR_CAP] = "";
    json_t *ws;
    int rc;

    if ((strcmp(what, "add") == 0 && n != 4) || (strcmp(what, "remove") == 0 && n != 3) ||
        (list && n != 2))
        return zp_cmd_usage("usage: log witness add DIR VKEY URL | log witness remove DIR NAME | "
                            "log witness list DIR [--quorum N]");
    o->repo = dir;
    rc = zp_cmd_open(o, "change the witnesses of", &r);
    if (rc != 0)
        return rc;
    if (strcmp(what, "add") == 0)
        rc = zp_log_witness_add(r, args[2], args[3], o->quorum, err, sizeof(err));
    else if (!list)
        rc = zp_log_witness_remove(r, args[2], o->quorum, err, sizeof(err));
    else if (o->quorum >= 0)
        rc = zp_log_witness_quorum(r, o->quorum, err, sizeof(err));
    if (rc != ZUPD_OK) {
        zp_repo_free(r);
        return zp_cmd_fail(rc, "change the witnesses of", dir, err);
    }
    c = zp_repo_config(r);
    ws = json_array();
    for (size_t i = 0; ws != NULL && i < c->n_witnesses; i++)
        json_array_append_new(
            ws, json_pack("{s:s,s:s}", "vkey", c->witnesses[i].vkey, "url", c->witnesses[i].url));
    if (!o->json) {
        for (size_t i = 0; i < c->n_witnesses; i++)
            printf("%s %s\n", c->witnesses[i].vkey, c->witnesses[i].url);
    }
    zp_cmd_print(o,
                 json_pack("{s:o?,s:I}", "witnesses", ws, "quorum", (json_int_t)c->witness_quorum),
                 "%zu witness%s, quorum %u\n", c->n_witnesses, c->n_witnesses == 1 ? "" : "es",
                 c->witness_quorum);
    zp_repo_free(r);
    return 0;
}

/* log key add|retire DIR: rotate the log key (docs/transparency.md) */
static int
log_key(struct common *o, const char *what, const char *dir)
{
    bool add = strcmp(what, "add") == 0;
    const char *doing = add ? "add a log key to" : "retire the old log key of";
    struct zp_repo *r = NULL;
    struct zp_log_rot res;
    char err[ERR_CAP] = "";
    int rc;

    o->repo = dir;
    rc = zp_cmd_open(o, doing, &r);
    if (rc != 0)
        return rc;
    rc = add ? zp_log_key_add(r, &res, err, sizeof(err))
             : zp_log_key_retire(r, &res, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, doing, dir, err);
    if (add)
        zp_cmd_print(o,
                     json_pack("{s:s,s:s,s:s,s:s,s:b}", "origin", res.origin, "old_vkey",
                               res.old_vkey, "new_vkey", res.new_vkey, "key_file", res.key_file,
                               "under_way", res.under_way),
                     "ok: log '%s' is signed by two keys%s (log/vkey lists both)\n"
                     "old: %s\nnew: %s (%s)\n"
                     "next: give the new vkey to the endpoints (zupd.conf log.keys) and the "
                     "witnesses (--log), then 'log key retire'\n",
                     res.origin, res.under_way ? " (the rotation was under way)" : "", res.old_vkey,
                     res.new_vkey, res.key_file);
    else
        zp_cmd_print(o,
                     json_pack("{s:s,s:s,s:s,s:b}", "origin", res.origin, "vkey", res.new_vkey,
                               "key_file", res.key_file, "under_way", res.under_way),
                     "ok: log '%s' is signed by the new key alone%s\nvkey: %s (%s)\n"
                     "endpoints that list only the old key now refuse its checkpoints\n",
                     res.origin, res.under_way ? " (an interrupted retire finished)" : "",
                     res.new_vkey, res.key_file);
    return 0;
}

/* Write unit to file (atomic, fsynced) or, file NULL, to stdout. */
static int
put_unit(const char *file, const struct zu_buf *unit)
{
    char dir[PATH_MAX];
    const char *slash = file != NULL ? strrchr(file, '/') : NULL;
    int dfd, rc;

    if (file == NULL)
        return fwrite(unit->p, 1, unit->len, stdout) == unit->len && fflush(stdout) == 0
                   ? ZUPD_OK
                   : ZUPD_E_IO;
    if (slash != NULL && (size_t)(slash - file) + 1 >= sizeof(dir))
        return ZUPD_E_TOOBIG;
    snprintf(dir, sizeof(dir), "%.*s",
             slash == NULL   ? 1
             : slash == file ? 1
                             : (int)(slash - file),
             slash == NULL ? "." : file);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return zu_errno_to_err(errno);
    rc = zu_atomic_write(dfd, slash != NULL ? slash + 1 : file, unit->p, unit->len, 0644);
    close(dfd);
    return rc;
}

/* log proof DIR TARGET-PATH [--old SIZE] [--out FILE]: the offline proof unit */
static int
log_proof(struct common *o, const char *dir, const char *path)
{
    struct zp_repo_opts ro = {0};
    struct zp_log_proof_res res;
    struct zu_buf unit;
    char err[ERR_CAP] = "";
    long old = 0;
    int rc;

    if (o->log_old != NULL && !zp_cmd_num(o->log_old, 0, LONG_MAX, &old))
        return zp_cmd_usage("--old wants a tree size (0 or more)");
    ro.dir = dir;
    ro.now = zp_cmd_now();
    zu_buf_init(&unit, ZU_TLOG_PROOF_UNIT_MAX);
    rc = zp_log_proof(&ro, path, (uint64_t)old, &unit, &res, err, sizeof(err));
    if (rc == ZUPD_OK && (o->log_out != NULL || !o->json)) {
        rc = put_unit(o->log_out, &unit);
        if (rc != ZUPD_OK)
            snprintf(err, sizeof(err), "cannot write '%s': %s",
                     o->log_out != NULL ? o->log_out : "(stdout)", zupd_strerror(rc));
    }
    if (rc != ZUPD_OK) {
        zu_buf_release(&unit);
        return zp_cmd_fail(rc, "write the log proof of", path, err);
    }
    /* the unit alone on stdout stays a clean document: no summary then */
    if (o->log_out != NULL || o->json) {
        json_t *f = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:s?}", "origin", res.origin,
                              "path", path, "size", (json_int_t)res.size, "index",
                              (json_int_t)res.index, "old", (json_int_t)res.old, "inclusion",
                              (json_int_t)res.inclusion, "consistency", (json_int_t)res.consistency,
                              "cosignatures", (json_int_t)res.cosignatures, "out", o->log_out);
        if (f != NULL && o->log_out == NULL)
            json_object_set_new(f, "unit", json_stringn((const char *)unit.p, unit.len));
        zp_cmd_print(o, f,
                     "ok: '%s' is entry %llu of log '%s' of %llu entries (%zu cosignatures); "
                     "consistency from size %llu; proof unit written to '%s'\n",
                     path, (unsigned long long)res.index, res.origin, (unsigned long long)res.size,
                     res.cosignatures, (unsigned long long)res.old, o->log_out);
    }
    zu_buf_release(&unit);
    return 0;
}

int
zp_cmd_log(int argc, char **argv)
{
    struct common o;
    const char *sub, *where;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if ((o.log_old != NULL || o.log_out != NULL) &&
        (optind >= argc || strcmp(argv[optind], "proof") != 0))
        return zp_cmd_usage("--old and --out are options of log proof");
    if (optind + 3 == argc && strcmp(argv[optind], "key") == 0 &&
        (strcmp(argv[optind + 1], "add") == 0 || strcmp(argv[optind + 1], "retire") == 0))
        return log_key(&o, argv[optind + 1], argv[optind + 2]);
    if (optind + 3 == argc && strcmp(argv[optind], "proof") == 0)
        return log_proof(&o, argv[optind + 1], argv[optind + 2]);
    if (optind + 3 <= argc && strcmp(argv[optind], "witness") == 0)
        return log_witness(&o, argv + optind + 1, argc - optind - 1);
    if (optind + 2 != argc)
        return zp_cmd_usage("usage: log verify|show|monitor DIR|URL, log cosign DIR, log key "
                            "add|retire DIR, log proof DIR TARGET-PATH (see zupd-mirror log "
                            "--help)");
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
    return zp_cmd_usage("log wants verify, show, monitor, cosign, key add|retire or proof");
}
