/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_common.c -- what every repository command shares
 * (cmd_common.h): its options parsed into struct common, passphrases and
 * PINs found, the repository opened, failures and results printed. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd_common.h"
#include "delta/create.h"
#include "keys/passphrase.h"
#include "repo/repo.h"
#include "zu/cli.h"
#include "zu/fsio.h"

/* the command being run, whose option table zp_cmd_parse uses */
static const struct zu_cmd *current;

void
zp_cmd_begin(const struct zu_cmd *spec)
{
    current = spec;
}

const struct zu_cmd *
zp_cmd_current(void)
{
    return current;
}

/* Why get_pass() found no passphrase, for the message of the command that
 * needed one ("" when it found one). */
static char pass_hint[PATH_MAX + 160];

int
zp_cmd_fail(int rc, const char *what, const char *subject, const char *err)
{
    const char *why = err != NULL && err[0] ? err : zupd_strerror(rc);
    const char *hint = rc == ZUPD_E_PASSPHRASE && pass_hint[0] != '\0' ? pass_hint : NULL;

    fprintf(stderr, "zupd-mirror: cannot %s '%s': %s%s%s\n", what, subject, why,
            hint != NULL ? ": " : "", hint != NULL ? hint : "");
    zu_cli_error(zu_cli_exit(rc), "cannot %s '%s': %s%s%s", what, subject, why,
                 hint != NULL ? ": " : "", hint != NULL ? hint : "");
    return zu_cli_exit(rc);
}

int
zp_cmd_usage(const char *msg)
{
    fprintf(stderr, "zupd-mirror: %s (see zupd-mirror --help)\n", msg);
    zu_cli_error(EXIT_USAGE, "%s", msg);
    return EXIT_USAGE;
}

void
zp_cmd_print(const struct common *o, json_t *fields, const char *fmt, ...)
{
    va_list ap;

    if (o->json) {
        zu_cli_json_print(fields);
        return;
    }
    json_decref(fields);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ passphrases */

/* The passphrase of key (zp_pass_read): a file or credential that cannot be
 * used is said at once; advice on how to give one goes into the message of
 * the command that needed it (pass_hint). */
static int
get_pass(void *opaque, const char *key, bool confirm, char *buf, size_t cap)
{
    const struct pass_src *src = opaque;
    char why[PATH_MAX + 160];
    bool hint = false;
    int rc = zp_pass_read(src->file, key, confirm, buf, cap, why, sizeof(why), &hint);

    if (rc != ZUPD_OK && why[0] != '\0') {
        if (hint)
            snprintf(pass_hint, sizeof(pass_hint), "%s", why);
        else
            fprintf(stderr, "zupd-mirror: %s\n", why);
    }
    return rc;
}

/* The PIN of PKCS#11 token when its URI has none: zp_pin_read() with
 * --pin-file. */
static int
get_pin(void *opaque, const char *token, bool confirm, char *buf, size_t cap)
{
    const struct pass_src *src = opaque;
    char why[PATH_MAX + 160];
    int rc = zp_pin_read(src->pin_file, token, buf, cap, why, sizeof(why));

    (void)confirm;
    if (rc != ZUPD_OK && why[0] != '\0')
        fprintf(stderr, "zupd-mirror: %s\n", why);
    return rc;
}

bool
zp_cmd_num(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* --expires ROLE=DAYS (or ROLE=Nh for hours) */
static bool
expires_opt(struct zp_config *c, const char *s)
{
    const char *eq = strchr(s, '=');
    char role[32];
    enum zp_role r;
    long v;
    size_t l;
    int64_t unit = ZP_DAY;
    char nbuf[32];

    if (eq == NULL || (size_t)(eq - s) >= sizeof(role))
        return false;
    memcpy(role, s, (size_t)(eq - s));
    role[eq - s] = '\0';
    snprintf(nbuf, sizeof(nbuf), "%s", eq + 1);
    l = strlen(nbuf);
    if (l > 1 && (nbuf[l - 1] == 'h' || nbuf[l - 1] == 'd')) {
        unit = nbuf[l - 1] == 'h' ? 3600 : ZP_DAY;
        nbuf[l - 1] = '\0';
    }
    if (zp_role_parse(role, &r) != ZUPD_OK || !zp_cmd_num(nbuf, 1, 100000, &v))
        return false;
    c->expiry[r] = v * unit;
    return true;
}

/* The options that only set a field of struct common: a string, a flag, or
 * a number in a range (the usage message says which). */
enum set_kind { SET_STR, SET_FLAG, SET_NUM };
#define C_OFF(f) offsetof(struct common, f)
static const struct {
    int id;
    enum set_kind kind;
    size_t off;
    long lo, hi;
    const char *usage;
} setters[] = {
    {O_REPO, SET_STR, C_OFF(repo), 0, 0, NULL},
    {O_KEYS, SET_STR, C_OFF(keys), 0, 0, NULL},
    {O_PASSFILE, SET_STR, C_OFF(pass.file), 0, 0, NULL},
    {O_PINFILE, SET_STR, C_OFF(pass.pin_file), 0, 0, NULL},
    {O_ROLE, SET_STR, C_OFF(role), 0, 0, NULL},
    {O_CHANNEL, SET_STR, C_OFF(channel), 0, 0, NULL},
    {O_SRCREV, SET_STR, C_OFF(source_revision), 0, 0, NULL},
    {O_BUILDER, SET_STR, C_OFF(builder), 0, 0, NULL},
    {O_ROOT, SET_STR, C_OFF(root), 0, 0, NULL},
    {O_UNTIL, SET_STR, C_OFF(until), 0, 0, NULL},
    {O_FOR, SET_STR, C_OFF(dur), 0, 0, NULL},
    {O_NOTE, SET_STR, C_OFF(note), 0, 0, NULL},
    {O_VENDOR, SET_STR, C_OFF(vendor), 0, 0, NULL},
    {O_POLICY, SET_STR, C_OFF(policy), 0, 0, NULL},
    {O_POLICY_ROOT, SET_STR, C_OFF(policy_root), 0, 0, NULL},
    {O_NAME, SET_STR, C_OFF(name), 0, 0, NULL},
    {O_VKEY, SET_STR, C_OFF(vkey), 0, 0, NULL},
    {O_OLD, SET_STR, C_OFF(log_old), 0, 0, NULL},
    {O_OUT, SET_STR, C_OFF(log_out), 0, 0, NULL},
    {O_CAFILE, SET_STR, C_OFF(ca_file), 0, 0, NULL},
    {O_STATE, SET_STR, C_OFF(state), 0, 0, NULL},
    {O_P11MOD, SET_STR, C_OFF(pkcs11_module), 0, 0, NULL},
    {O_ROLLBACK, SET_FLAG, C_OFF(rollback), 0, 0, NULL},
    {O_FORCE, SET_FLAG, C_OFF(force), 0, 0, NULL},
    {O_OFFLINE, SET_FLAG, C_OFF(offline), 0, 0, NULL},
    {O_LIST, SET_FLAG, C_OFF(list), 0, 0, NULL},
    {O_POLICY_TREE, SET_FLAG, C_OFF(policy_tree), 0, 0, NULL},
    {O_STAGE, SET_FLAG, C_OFF(stage), 0, 0, NULL},
    {O_NOLZMA, SET_FLAG, C_OFF(no_delta_lzma), 0, 0, NULL},
    {O_SAMEPASS, SET_FLAG, C_OFF(same_passphrase), 0, 0, NULL},
    {O_KEEP, SET_NUM, C_OFF(keep), 1, 1000000, "--keep wants a number >= 1"},
    {O_DELTAS, SET_NUM, C_OFF(deltas), 0, 100, "--deltas wants 0..100"},
    {O_ZSTD, SET_NUM, C_OFF(zstd_level), 1, 22, "--zstd-level wants 1..22"},
    {O_DLEVEL, SET_NUM, C_OFF(delta_level), 1, ZP_DELTA_LEVEL_MAX, "--delta-level wants 1..22"},
    {O_ROOTKEYS, SET_NUM, C_OFF(root_keys), 1, 32, "--root-keys wants 1..32"},
    {O_ROOTTHR, SET_NUM, C_OFF(root_threshold), 1, 32, "--root-threshold wants 1..32"},
    {O_THR, SET_NUM, C_OFF(threshold), 1, 32, "--threshold wants 1..32"},
    {O_BINS, SET_NUM, C_OFF(avdb_bins), 0, 12, "--avdb-bins wants a bit length 0..12"},
    {O_QUORUM, SET_NUM, C_OFF(quorum), 0, 32, "--quorum wants 0..32"},
};

/* Set what option ch says if it is one of setters[]: 1 done, 0 not one of
 * them, -1 a bad value (reported). */
static int
set_simple(struct common *o, int ch, const char *val)
{
    for (size_t i = 0; i < sizeof(setters) / sizeof(setters[0]); i++) {
        char *field = (char *)o + setters[i].off;

        if (setters[i].id != ch)
            continue;
        if (setters[i].kind == SET_STR)
            memcpy(field, &val, sizeof(val));
        else if (setters[i].kind == SET_FLAG)
            *(bool *)(void *)field = true;
        else if (!zp_cmd_num(val, setters[i].lo, setters[i].hi, (long *)(void *)field))
            return zp_cmd_usage(setters[i].usage), -1;
        return 1;
    }
    return 0;
}

/* The options that check their value against more than a range. */
static int
set_special(struct common *o, int ch, const char *val)
{
    struct zp_kdf_cost c;

    switch (ch) {
    case O_KEY:
        if (o->n_key_names == 16)
            return zp_cmd_usage("too many --key");
        o->key_names[o->n_key_names++] = val;
        o->keyfile = val;
        return 0;
    case O_JSON:
        o->json = true;
        zu_cli_json_set(true);
        return 0;
    case O_WITNESS:
        if (o->n_witnesses == sizeof(o->witnesses) / sizeof(o->witnesses[0]))
            return zp_cmd_usage("too many --witness");
        o->witnesses[o->n_witnesses++] = val;
        return 0;
    case O_FROM: {
        long from;
        if (!zp_cmd_num(val, 0, 0x7fffffffL, &from))
            return zp_cmd_usage("--from wants an entry index");
        o->from = (uint64_t)from;
        return 0;
    }
    case O_PKCS11:
        if (!zp_p11_is_uri(val))
            return zp_cmd_usage("--pkcs11 wants a URI pkcs11:token=...;object=...");
        o->pkcs11_uri = val;
        return 0;
    case O_ONLINEKDF:
    case O_KDF:
        if (zp_kdf_cost_for(true, val, &c) != ZUPD_OK)
            return zp_cmd_usage("--kdf and --online-kdf want interactive, moderate or sensitive");
        *(ch == O_KDF ? &o->kdf : &o->online_kdf) = val;
        return 0;
    case O_KEYTYPE:
        if (strcmp(val, "ed25519") != 0 && strcmp(val, "ecdsa") != 0)
            return zp_cmd_usage("--key-type wants ed25519 or ecdsa (P-256)");
        o->key_type = val;
        return 0;
    case O_EXPIRES:
        if (!expires_opt(&o->cfg, val))
            return zp_cmd_usage("--expires wants ROLE=DAYS (or ROLE=HOURSh)");
        return 0;
    case ZU_CLI_HELP: /* zp_cmd_repo answers --help first */
        zu_cli_help(stdout, current);
        return EXIT_USAGE;
    default:
        return EXIT_USAGE; /* zu_cli_getopt reported it */
    }
}

/* Parse options; positional arguments are left in argv[optind..]. */
int
zp_cmd_parse(int argc, char **argv, struct common *o)
{
    struct zu_cli_parser p;
    const char *val;
    int ch, rc;

    memset(o, 0, sizeof(*o));
    o->repo = getenv("ZUPD_MIRROR_REPO") != NULL ? getenv("ZUPD_MIRROR_REPO") : ".";
    o->keys = getenv("ZUPD_MIRROR_KEYS");
    o->pkcs11_module = getenv("ZUPD_PKCS11_MODULE");
    o->keep = -1;
    o->deltas = -1;
    o->zstd_level = -1;
    o->quorum = -1; /* log --quorum: not given */
    zp_config_default(&o->cfg);
    zu_cli_begin(&p, current);
    while ((ch = zu_cli_getopt(&p, argc, argv, &val)) != -1) {
        rc = set_simple(o, ch, val);
        if (rc < 0)
            return EXIT_USAGE;
        if (rc == 0 && (rc = set_special(o, ch, val)) != 0)
            return rc;
    }
    return 0;
}

/* ZUPD_MIRROR_NOW: the time to sign and check at (tests, and re-signing
 * after the clock was wrong); 0: the clock. */
int64_t
zp_cmd_now(void)
{
    const char *s = getenv("ZUPD_MIRROR_NOW");
    long v;

    return s != NULL && zp_cmd_num(s, 1, 0x7fffffffL, &v) ? (int64_t)v : 0;
}

/* A change's warnings (a witness that did not cosign): the change goes on. */
static void
warn_stderr(void *opaque, int level, const char *msg)
{
    (void)opaque;
    (void)level;
    fprintf(stderr, "zupd-mirror: warning: %s\n", msg);
}

void
zp_cmd_repo_opts(struct common *o, struct zp_repo_opts *ro)
{
    memset(ro, 0, sizeof(*ro));
    ro->now = zp_cmd_now();
    ro->dir = o->repo;
    ro->keys_dir = o->keys;
    ro->log_fn = warn_stderr;
    zp_cmd_pass(o, &ro->pass);
}

void
zp_cmd_pass(struct common *o, struct zp_pass *p)
{
    memset(p, 0, sizeof(*p));
    p->fn = get_pass;
    p->opaque = &o->pass;
    p->pin_fn = get_pin;
    p->pkcs11_module = o->pkcs11_module;
}

int
zp_cmd_open(struct common *o, const char *what, struct zp_repo **r)
{
    struct zp_repo_opts ro;
    char err[ERR_CAP] = "";
    int rc;

    zp_cmd_repo_opts(o, &ro);
    rc = zp_repo_open(&ro, r, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zp_repo_lock(*r, err, sizeof(err));
    if (rc != ZUPD_OK) {
        zp_repo_free(*r);
        *r = NULL;
        return zp_cmd_fail(rc, what, o->repo, err);
    }
    return 0;
}

int
zp_cmd_role(const struct common *o, enum zp_role *role)
{
    *role = ZP_R_PRODUCTS;
    if (o->role != NULL && zp_role_parse(o->role, role) != ZUPD_OK)
        return zp_cmd_usage("--role wants products or avdb");
    return 0;
}
