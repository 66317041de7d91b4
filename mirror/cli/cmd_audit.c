/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_audit.c -- `zupd-mirror audit`: options, the source of the
 * staged release (a directory, or HTTP through libzupd's libcurl transport:
 * this is why audit runs as zupd-mirror-audit, mirror/cli/net_main.c), the
 * passphrase, and the report; the checks are mirror/repo/audit.c. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zupd/fetch.h>

#include "cli/cmd_audit.h"
#include "keys/passphrase.h"
#include "repo/audit.h"
#include "zu/cli.h"
#include "zu/fsio.h"

#define EXIT_USAGE 1

struct src_dir {
    int dfd;
};

static int
dir_get(void *opaque, const char *path, size_t cap, uint8_t **out, size_t *len)
{
    struct src_dir *d = opaque;

    if (path[0] == '/' || strstr(path, "..") != NULL)
        return ZUPD_E_MISUSE;
    return zu_read_capped(d->dfd, path, cap, out, len);
}

struct src_http {
    struct zupd_ctx *ctx;
    struct zupd_transport *t;
    const char *base;
};

static int
http_get(void *opaque, const char *path, size_t cap, uint8_t **out, size_t *len)
{
    struct src_http *h = opaque;
    struct zupd_fetch_req req = {.bases = &h->base, .n_bases = 1, .path = path, .max_bytes = cap};
    struct zupd_fetch_res res;

    return zupd_fetch_mem(h->ctx, h->t, &req, out, len, &res);
}

static const char *pass_file;

/* The auditor key's passphrase as the repository commands find it
 * (zp_pass_read: --passphrase-file, credentials, environment, terminal). */
static int
get_pass(void *opaque, const char *key, bool confirm, char *buf, size_t cap)
{
    char why[PATH_MAX + 160];
    bool hint = false;
    int rc = zp_pass_read(pass_file, key, confirm, buf, cap, why, sizeof(why), &hint);

    (void)opaque;
    if (rc != ZUPD_OK && why[0] != '\0')
        fprintf(stderr, "zupd-mirror: %s\n", why);
    return rc;
}

static const char *pin_file;

/* The PIN of the auditor's token key when its URI has none: zp_pin_read()
 * with --pin-file, as the repository commands ask (cmd_repo.c). */
static int
get_pin(void *opaque, const char *token, bool confirm, char *buf, size_t cap)
{
    char why[PATH_MAX + 160];
    int rc = zp_pin_read(pin_file, token, buf, cap, why, sizeof(why));

    (void)opaque;
    (void)confirm;
    if (rc != ZUPD_OK && why[0] != '\0')
        fprintf(stderr, "zupd-mirror: %s\n", why);
    return rc;
}

enum {
    A_REBUILD = 256,
    A_KEY,
    A_BUILDERS,
    A_REVS,
    A_LAST,
    A_OUT,
    A_ROLE,
    A_PASS,
    A_P11MOD,
    A_PINFILE,
    A_JSON
};

static const struct zu_opt audit_opts[] = {
    {"rebuild", required_argument, A_REBUILD, 0, "DIR",
     "the auditor's own rebuild of the source revision"},
    {"key", required_argument, A_KEY, 0, "AUDITOR.key",
     "the auditor's key file (or token key reference)"},
    {"out", required_argument, A_OUT, 0, "DIR",
     "where the signature and the audit record go (default .)"},
    {"allow-builders", required_argument, A_BUILDERS, 0, "FILE", "builders allowed, one a line"},
    {"allow-revisions", required_argument, A_REVS, 0, "FILE",
     "source revisions allowed, one a line"},
    {"last-signed", required_argument, A_LAST, 0, "ROLE.json",
     "the role file the auditor signed last (else the repository's previous one)"},
    {"role", required_argument, A_ROLE, 0, "ROLE", "products (default) or avdb"},
    {"passphrase-file", required_argument, A_PASS, 0, "FILE",
     "read the key's passphrase from FILE (else $ZUPD_PASSPHRASE, the terminal)"},
    {"pkcs11-module", required_argument, A_P11MOD, 0, "PATH",
     "the PKCS#11 module of a token key (else $ZUPD_PKCS11_MODULE)"},
    {"json", no_argument, A_JSON, 0, NULL,
     "one JSON document on stdout, the checks in it (docs/json-envelope.schema.json)"},
    {"pin-file", required_argument, A_PINFILE, 0, "FILE",
     "read a token's PIN from FILE (else $ZUPD_PKCS11_PIN, the terminal)"},
    ZU_OPT_END,
};
static const struct zu_cmd audit_cmd = {
    "zupd-mirror",
    "audit",
    "STAGED --rebuild DIR --key AUDITOR.key",
    "Check a staged release against the auditor's rebuild; sign it only if every check passes.",
    audit_opts,
    NULL,
    "STAGED: the repository's URL (http://, https://) or its directory. See docs/mirror.md,\n"
    "\"Multi-party signing\"."};

static int
usage(void)
{
    zu_cli_help(stderr, &audit_cmd);
    return EXIT_USAGE;
}

/* The report (one line a check), then the verdict: text, or with --json
 * one envelope holding the checks' lines and what was written. */
static void
print_result(const struct zp_audit_opts *o, const struct zp_audit_res *res,
             const struct zu_buf *rep)
{
    const char *role = o->role != NULL ? o->role : "products";
    json_t *lines = NULL, *subject = NULL, *fields;
    size_t at = 0;

    if (res->failed > 0)
        zu_cli_error(zu_cli_exit(ZUPD_E_MISMATCH),
                     "audit of '%s' version %llu failed: %zu of %zu checks; nothing signed", role,
                     (unsigned long long)res->version, res->failed, res->checks);
    if (!zu_cli_json()) {
        if (rep->len > 0)
            fwrite(rep->p, 1, rep->len, stdout);
        if (res->failed > 0)
            fprintf(stderr,
                    "zupd-mirror: audit of '%s' version %llu FAILED: %zu of %zu checks; nothing "
                    "signed\n",
                    role, (unsigned long long)res->version, res->failed, res->checks);
        else
            printf("audit passed (%zu checks): signature '%s', audit record '%s', signed metadata "
                   "'%s'\n",
                   res->checks, res->sig_path, res->record_path, res->signed_path);
        return;
    }
    lines = json_array();
    while (lines != NULL && at < rep->len) {
        const char *line = (const char *)rep->p + at;
        const char *nl = memchr(line, '\n', rep->len - at);
        size_t l = nl != NULL ? (size_t)(nl - line) : rep->len - at;

        /* the first line says what was audited against what; then a check a line */
        if (at == 0 && strncmp(line, "ok ", 3) != 0 && strncmp(line, "FAIL ", 5) != 0)
            subject = json_stringn(line, l);
        else
            json_array_append_new(lines, json_stringn(line, l));
        at += l + 1;
    }
    fields = json_pack("{s:s,s:I,s:I,s:I,s:o?,s:o?}", "role", role, "metadata_version",
                       (json_int_t)res->version, "checks", (json_int_t)res->checks, "failed",
                       (json_int_t)res->failed, "subject", subject, "report", lines);
    if (fields != NULL && res->failed == 0)
        json_object_update_new(fields,
                               json_pack("{s:s,s:s,s:s}", "signature", res->sig_path, "record",
                                         res->record_path, "signed", res->signed_path));
    zu_cli_json_print(fields);
}

int
cmd_audit(int argc, char **argv)
{
    struct zp_audit_opts o = {.out_dir = "."};
    struct zp_pass pass = {.fn = get_pass, .pin_fn = get_pin, .pkcs11_module = NULL};
    struct zp_audit_res res;
    struct zp_audit_src src;
    struct src_dir sd = {-1};
    struct src_http sh = {NULL, NULL, NULL};
    struct zu_buf rep;
    char err[1024] = "";
    const char *staged;
    const char *now = getenv("ZUPD_MIRROR_NOW");
    struct zu_cli_parser p;
    const char *optval;
    int ch, rc;

    zu_cli_begin(&p, &audit_cmd);
    while ((ch = zu_cli_getopt(&p, argc, argv, &optval)) != -1) {
        switch (ch) {
        case ZU_CLI_HELP:
            zu_cli_help(stdout, &audit_cmd);
            return 0;
        case ZU_CLI_BAD:
            return EXIT_USAGE; /* zu_cli_getopt said why */
        case A_REBUILD:
            o.rebuild = optval;
            break;
        case A_KEY:
            o.key_path = optval;
            break;
        case A_BUILDERS:
            o.allow_builders = optval;
            break;
        case A_REVS:
            o.allow_revisions = optval;
            break;
        case A_LAST:
            o.last_signed = optval;
            break;
        case A_OUT:
            o.out_dir = optval;
            break;
        case A_ROLE:
            o.role = optval;
            break;
        case A_PASS:
            pass_file = optval;
            break;
        case A_P11MOD:
            pass.pkcs11_module = optval;
            break;
        case A_JSON:
            zu_cli_json_set(true); /* net_main.c prints the envelope of a failure */
            break;
        case A_PINFILE:
            pin_file = optval;
            break;
        default:
            return usage();
        }
    }
    if (optind + 1 != argc || o.rebuild == NULL || o.key_path == NULL)
        return usage();
    if (o.role != NULL && strcmp(o.role, "products") != 0 && strcmp(o.role, "avdb") != 0)
        return usage();
    if (zupd_init() != ZUPD_OK)
        return 10 + ZUPD_E_MISUSE;
    if (pass.pkcs11_module == NULL)
        pass.pkcs11_module = getenv("ZUPD_PKCS11_MODULE");
    o.pass = &pass;
    o.now = now != NULL ? strtoll(now, NULL, 10) : 0;
    if (o.now <= 0)
        o.now = (int64_t)time(NULL);
    staged = argv[optind];
    if (strncmp(staged, "http://", 7) == 0 || strncmp(staged, "https://", 8) == 0) {
        sh.ctx = zupd_ctx_new();
        sh.base = staged;
        rc = sh.ctx == NULL ? ZUPD_E_NOMEM : zupd_curl_transport_new(sh.ctx, NULL, &sh.t);
        src.opaque = &sh;
        src.get = http_get;
    } else {
        sd.dfd = open(staged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = sd.dfd < 0 ? ZUPD_E_NOTFOUND : ZUPD_OK;
        src.opaque = &sd;
        src.get = dir_get;
    }
    zu_buf_init(&rep, 1u << 24);
    if (rc == ZUPD_OK)
        rc = zp_audit(&src, &o, &rep, &res, err, sizeof(err));
    if (rc == ZUPD_OK)
        print_result(&o, &res, &rep);
    zu_buf_release(&rep);
    zupd_transport_free(sh.t);
    zupd_ctx_free(sh.ctx);
    if (sd.dfd >= 0)
        close(sd.dfd);
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot audit '%s': %s\n", staged,
                err[0] ? err : zupd_strerror(rc));
        zu_cli_error(zu_cli_exit(rc), "cannot audit '%s': %s", staged,
                     err[0] ? err : zupd_strerror(rc));
        return zu_cli_exit(rc);
    }
    return res.failed > 0 ? zu_cli_exit(ZUPD_E_MISMATCH) : 0;
}
