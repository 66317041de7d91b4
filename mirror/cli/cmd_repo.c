/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_repo.c -- zupd-mirror init, key, publish, promote, refresh,
 * stage, sign, import, prune, verify: arguments, passphrases, output. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd_common.h"
#include "cli/cmd_repo.h"
#include "delta/create.h"
#include "keys/passphrase.h"
#include "repo/repo.h"

static const char *const commands[] = {"init", "key",    "publish", "promote", "refresh", "stage",
                                       "sign", "import", "prune",   "verify",  "policy",  "floor"};

int
zp_cmd_is_repo(const char *cmd)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(cmd, commands[i]) == 0)
            return 1;
    return 0;
}

int
zp_cmd_fail(int rc, const char *what, const char *subject, const char *err)
{
    fprintf(stderr, "zupd-mirror: cannot %s '%s': %s\n", what, subject,
            err != NULL && err[0] ? err : zupd_strerror(rc));
    return 10 + rc;
}

int
zp_cmd_usage(const char *msg)
{
    fprintf(stderr, "zupd-mirror: %s (see zupd-mirror --help)\n", msg);
    return EXIT_USAGE;
}

/* ------------------------------------------------------------ passphrases */

/* The passphrase of key: --passphrase-file, else the systemd credential
 * passphrase-<KEY> or passphrase ($CREDENTIALS_DIRECTORY), else
 * ZUPD_PASSPHRASE_<KEY>, else ZUPD_PASSPHRASE (both taken out of the
 * environment at startup by zp_pass_env_take()), else the terminal. buf is
 * sodium_malloc memory. */
static int
get_pass(void *opaque, const char *key, bool confirm, char *buf, size_t cap)
{
    const struct pass_src *src = opaque;
    char var[ZP_KEYNAME_MAX + 32], prompt[ZP_KEYNAME_MAX + 64], why[PATH_MAX + 160];
    const char *v;
    size_t n;
    int rc;

    buf[0] = '\0';
    if (src->file != NULL) {
        rc = zp_pass_file_read(src->file, buf, cap, why, sizeof(why));
        if (rc != ZUPD_OK)
            fprintf(stderr, "zupd-mirror: %s\n", why);
        return rc;
    }
    /* systemd credentials (LoadCredential=): passphrase-<KEY>, then passphrase */
    snprintf(var, sizeof(var), "passphrase-%s", key);
    rc = zp_pass_cred_read(var, buf, cap, why, sizeof(why));
    if (rc == ZUPD_E_NOTFOUND)
        rc = zp_pass_cred_read("passphrase", buf, cap, why, sizeof(why));
    if (rc != ZUPD_E_NOTFOUND) {
        if (rc != ZUPD_OK)
            fprintf(stderr, "zupd-mirror: %s\n", why);
        return rc;
    }
    n = (size_t)snprintf(var, sizeof(var), "ZUPD_PASSPHRASE_%s", key);
    for (size_t i = 16; i < n && i < sizeof(var); i++)
        var[i] = isalnum((unsigned char)var[i]) ? (char)toupper((unsigned char)var[i]) : '_';
    v = zp_pass_env(var);
    if (v == NULL)
        v = zp_pass_env("ZUPD_PASSPHRASE");
    if (v != NULL) {
        if (*v == '\0' || strlen(v) >= cap)
            return ZUPD_E_PASSPHRASE;
        memcpy(buf, v, strlen(v) + 1);
        return ZUPD_OK;
    }
    snprintf(prompt, sizeof(prompt), "passphrase for key '%s': ", key);
    rc = zp_pass_tty_read(prompt, buf, cap);
    if (rc == ZUPD_OK && confirm) {
        char *again = sodium_malloc(cap);
        if (again == NULL)
            return ZUPD_E_NOMEM;
        snprintf(prompt, sizeof(prompt), "passphrase for key '%s' (again): ", key);
        rc = zp_pass_tty_read(prompt, again, cap);
        if (rc == ZUPD_OK && strcmp(again, buf) != 0)
            rc = ZUPD_E_PASSPHRASE;
        sodium_free(again);
    }
    return rc;
}

/* The PIN of PKCS#11 token (when its URI has none): --pin-file, else the
 * systemd credential pkcs11-pin, else ZUPD_PKCS11_PIN (taken out of the
 * environment at startup), else the terminal. */
static int
get_pin(void *opaque, const char *token, bool confirm, char *buf, size_t cap)
{
    const struct pass_src *src = opaque;
    char prompt[ZP_P11_LABEL_MAX + 64], why[PATH_MAX + 160];
    const char *v;
    int rc;

    (void)confirm;
    buf[0] = '\0';
    if (src->pin_file != NULL) {
        rc = zp_pass_file_read(src->pin_file, buf, cap, why, sizeof(why));
        if (rc != ZUPD_OK)
            fprintf(stderr, "zupd-mirror: %s\n", why);
        return rc;
    }
    rc = zp_pass_cred_read("pkcs11-pin", buf, cap, why, sizeof(why));
    if (rc != ZUPD_E_NOTFOUND) {
        if (rc != ZUPD_OK)
            fprintf(stderr, "zupd-mirror: %s\n", why);
        return rc;
    }
    v = zp_pass_env("ZUPD_PKCS11_PIN");
    if (v != NULL) {
        if (*v == '\0' || strlen(v) >= cap)
            return ZUPD_E_PASSPHRASE;
        memcpy(buf, v, strlen(v) + 1);
        return ZUPD_OK;
    }
    snprintf(prompt, sizeof(prompt), "PIN for PKCS#11 token '%s': ", token);
    return zp_pass_tty_read(prompt, buf, cap);
}

/* ------------------------------------------------------------ common options */

enum {
    O_REPO = 256,
    O_KEYS,
    O_PASSFILE,
    O_ROLE,
    O_CHANNEL,
    O_SRCREV,
    O_BUILDER,
    O_ROOT,
    O_KEY,
    O_KEEP,
    O_DELTAS,
    O_ZSTD,
    O_DLEVEL,
    O_ROOTKEYS,
    O_ROOTTHR,
    O_THR,
    O_ROLLBACK,
    O_FORCE,
    O_OFFLINE,
    O_LIST,
    O_EXPIRES,
    O_BINS,
    O_UNTIL,
    O_FOR,
    O_NOTE,
    O_VENDOR,
    O_JSON,
    O_POLICY,
    O_P11MOD,
    O_PINFILE,
    O_PKCS11,
    O_KEYTYPE,
    O_SAMEPASS,
    O_ONLINEKDF,
    O_KDF
};

static const struct option longopts[] = {{"repo", required_argument, NULL, O_REPO},
                                         {"keys", required_argument, NULL, O_KEYS},
                                         {"passphrase-file", required_argument, NULL, O_PASSFILE},
                                         {"role", required_argument, NULL, O_ROLE},
                                         {"channel", required_argument, NULL, O_CHANNEL},
                                         {"source-revision", required_argument, NULL, O_SRCREV},
                                         {"builder", required_argument, NULL, O_BUILDER},
                                         {"root", required_argument, NULL, O_ROOT},
                                         {"key", required_argument, NULL, O_KEY},
                                         {"keep", required_argument, NULL, O_KEEP},
                                         {"deltas", required_argument, NULL, O_DELTAS},
                                         {"zstd-level", required_argument, NULL, O_ZSTD},
                                         {"delta-level", required_argument, NULL, O_DLEVEL},
                                         {"root-keys", required_argument, NULL, O_ROOTKEYS},
                                         {"root-threshold", required_argument, NULL, O_ROOTTHR},
                                         {"threshold", required_argument, NULL, O_THR},
                                         {"rollback", no_argument, NULL, O_ROLLBACK},
                                         {"force", no_argument, NULL, O_FORCE},
                                         {"offline", no_argument, NULL, O_OFFLINE},
                                         {"list", no_argument, NULL, O_LIST},
                                         {"expires", required_argument, NULL, O_EXPIRES},
                                         {"avdb-bins", required_argument, NULL, O_BINS},
                                         {"until", required_argument, NULL, O_UNTIL},
                                         {"for", required_argument, NULL, O_FOR},
                                         {"note", required_argument, NULL, O_NOTE},
                                         {"vendor", required_argument, NULL, O_VENDOR},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"policy", no_argument, NULL, O_POLICY},
                                         {"pkcs11-module", required_argument, NULL, O_P11MOD},
                                         {"pin-file", required_argument, NULL, O_PINFILE},
                                         {"pkcs11", required_argument, NULL, O_PKCS11},
                                         {"key-type", required_argument, NULL, O_KEYTYPE},
                                         {"same-passphrase", no_argument, NULL, O_SAMEPASS},
                                         {"online-kdf", required_argument, NULL, O_ONLINEKDF},
                                         {"kdf", required_argument, NULL, O_KDF},
                                         {NULL, 0, NULL, 0}};

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

/* Parse options; positional arguments are left in argv[optind..]. Long (about
 * 120 lines) because it is one case per option of every repository command,
 * each a line or two: a table to read down, with nothing to split out. */
int
zp_cmd_parse(int argc, char **argv, struct common *o)
{
    int ch;

    memset(o, 0, sizeof(*o));
    o->repo = getenv("ZUPD_MIRROR_REPO") != NULL ? getenv("ZUPD_MIRROR_REPO") : ".";
    o->keys = getenv("ZUPD_MIRROR_KEYS");
    o->pkcs11_module = getenv("ZUPD_PKCS11_MODULE");
    o->keep = -1;
    o->deltas = -1;
    o->zstd_level = -1;
    zp_config_default(&o->cfg);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "C:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'C':
        case O_REPO:
            o->repo = optarg;
            break;
        case O_KEYS:
            o->keys = optarg;
            break;
        case O_PASSFILE:
            o->pass.file = optarg;
            break;
        case O_ROLE:
            o->role = optarg;
            break;
        case O_CHANNEL:
            o->channel = optarg;
            break;
        case O_SRCREV:
            o->source_revision = optarg;
            break;
        case O_BUILDER:
            o->builder = optarg;
            break;
        case O_ROOT:
            o->root = optarg;
            break;
        case O_KEY:
            if (o->n_key_names == 16)
                return zp_cmd_usage("too many --key");
            o->key_names[o->n_key_names++] = optarg;
            o->keyfile = optarg;
            break;
        case O_KEEP:
            if (!zp_cmd_num(optarg, 1, 1000000, &o->keep))
                return zp_cmd_usage("--keep wants a number >= 1");
            break;
        case O_DELTAS:
            if (!zp_cmd_num(optarg, 0, 100, &o->deltas))
                return zp_cmd_usage("--deltas wants 0..100");
            break;
        case O_ZSTD:
            if (!zp_cmd_num(optarg, 1, 22, &o->zstd_level))
                return zp_cmd_usage("--zstd-level wants 1..22");
            break;
        case O_DLEVEL:
            if (!zp_cmd_num(optarg, 1, ZP_DELTA_LEVEL_MAX, &o->delta_level))
                return zp_cmd_usage("--delta-level wants 1..22");
            break;
        case O_ROOTKEYS:
            if (!zp_cmd_num(optarg, 1, 32, &o->root_keys))
                return zp_cmd_usage("--root-keys wants 1..32");
            break;
        case O_ROOTTHR:
            if (!zp_cmd_num(optarg, 1, 32, &o->root_threshold))
                return zp_cmd_usage("--root-threshold wants 1..32");
            break;
        case O_THR:
            if (!zp_cmd_num(optarg, 1, 32, &o->threshold))
                return zp_cmd_usage("--threshold wants 1..32");
            break;
        case O_ROLLBACK:
            o->rollback = true;
            break;
        case O_FORCE:
            o->force = true;
            break;
        case O_OFFLINE:
            o->offline = true;
            break;
        case O_LIST:
            o->list = true;
            break;
        case O_BINS:
            if (!zp_cmd_num(optarg, 0, 12, &o->avdb_bins))
                return zp_cmd_usage("--avdb-bins wants a bit length 0..12");
            break;
        case O_UNTIL:
            o->until = optarg;
            break;
        case O_FOR:
            o->dur = optarg;
            break;
        case O_NOTE:
            o->note = optarg;
            break;
        case O_VENDOR:
            o->vendor = optarg;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_POLICY:
            o->policy = true;
            break;
        case O_P11MOD:
            o->pkcs11_module = optarg;
            break;
        case O_PINFILE:
            o->pass.pin_file = optarg;
            break;
        case O_PKCS11:
            if (!zp_p11_is_uri(optarg))
                return zp_cmd_usage("--pkcs11 wants a URI pkcs11:token=...;object=...");
            o->pkcs11_uri = optarg;
            break;
        case O_SAMEPASS:
            o->same_passphrase = true;
            break;
        case O_ONLINEKDF:
        case O_KDF: {
            struct zp_kdf_cost c;
            if (zp_kdf_cost_for(true, optarg, &c) != ZUPD_OK)
                return zp_cmd_usage("--kdf and --online-kdf want interactive, moderate or "
                                    "sensitive");
            if (ch == O_KDF)
                o->kdf = optarg;
            else
                o->online_kdf = optarg;
            break;
        }
        case O_KEYTYPE:
            if (strcmp(optarg, "ed25519") != 0 && strcmp(optarg, "ecdsa") != 0)
                return zp_cmd_usage("--key-type wants ed25519 or ecdsa (P-256)");
            o->key_type = optarg;
            break;
        case O_EXPIRES:
            if (!expires_opt(&o->cfg, optarg))
                return zp_cmd_usage("--expires wants ROLE=DAYS (or ROLE=HOURSh)");
            break;
        default: {
            char msg[128];
            snprintf(msg, sizeof(msg), "unknown or incomplete option '%s'",
                     argv[optind - 1] != NULL ? argv[optind - 1] : "?");
            return zp_cmd_usage(msg);
        }
        }
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

void
zp_cmd_repo_opts(struct common *o, struct zp_repo_opts *ro)
{
    memset(ro, 0, sizeof(*ro));
    ro->now = zp_cmd_now();
    ro->dir = o->repo;
    ro->keys_dir = o->keys;
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

static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ commands */

static int
cmd_init(int argc, char **argv)
{
    struct common o;
    struct zp_repo_opts ro;
    struct zp_init_opts io;
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc)
        return zp_cmd_usage(
            "usage: init DIR [--keys KEYDIR] [--root-keys N] [--root-threshold K] "
            "[--expires ROLE=DAYS]... [--avdb-bins B] [--deltas K] [--zstd-level L] "
            "[--delta-level L] [--same-passphrase] [--online-kdf LEVEL]");
    o.repo = argv[optind];
    zp_cmd_repo_opts(&o, &ro);
    memset(&io, 0, sizeof(io));
    io.root_keys = o.root_keys > 0 ? (unsigned)o.root_keys : 1;
    io.root_threshold = o.root_threshold > 0 ? (unsigned)o.root_threshold : 1;
    io.avdb_bins = (unsigned)o.avdb_bins;
    io.config = o.cfg;
    if (o.pkcs11_module != NULL && o.pkcs11_module[0] != '/')
        return zp_cmd_usage("--pkcs11-module wants an absolute file name");
    if (o.pkcs11_module != NULL) /* the repository's module from now on (config.json) */
        snprintf(io.config.pkcs11_module, sizeof(io.config.pkcs11_module), "%s", o.pkcs11_module);
    io.same_passphrase = o.same_passphrase;
    if (zp_kdf_cost_for(true, o.online_kdf, &io.online_cost) != ZUPD_OK ||
        zp_kdf_cost_for(false, NULL, &io.offline_cost) != ZUPD_OK)
        return zp_cmd_usage("--online-kdf wants interactive, moderate or sensitive");
    if (o.deltas >= 0)
        io.config.deltas = (unsigned)o.deltas;
    if (o.zstd_level > 0)
        io.config.zstd_level = (int)o.zstd_level;
    if (o.delta_level > 0)
        io.config.delta_level = (int)o.delta_level;
    rc = zp_repo_init(&ro, &io, err, sizeof(err));
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "initialize", o.repo, err);
    printf("initialized repository '%s' (root: %u of %u keys)\n", o.repo, io.root_threshold,
           io.root_keys);
    zp_cmd_custody(&o, io.root_keys);
    return 0;
}

/* one line of zp_cmd_custody; *in_off: a key file under off */
static void
custody_line(const char *dir, const char *name, const char *off, bool *in_off)
{
    struct zp_keyinfo k;

    if (zp_key_by_name(dir, name, &k) != ZUPD_OK)
        return;
    printf("  %-12s %s\n", name, k.pkcs11_uri[0] ? k.pkcs11_uri : k.path);
    if (k.pkcs11_uri[0] == '\0' && strncmp(k.path, off, strlen(off)) == 0)
        *in_off = true;
}

/* After init: where each key is, and which must go offline. */
void
zp_cmd_custody(const struct common *o, unsigned root_keys)
{
    static const enum zp_role roles[] = {ZP_R_TARGETS, ZP_R_PRODUCTS, ZP_R_SNAPSHOT, ZP_R_TIMESTAMP,
                                         ZP_R_AVDB};
    char kd[4096], name[32], off[4200];
    const char *dir = o->keys;
    bool in_off = false, ignored = false;

    if (dir == NULL) {
        snprintf(kd, sizeof(kd), "%s/../keys", o->repo);
        dir = kd;
    }
    snprintf(off, sizeof(off), "%s/" ZP_KEYS_OFFLINE "/", dir);
    printf("offline keys (root, targets, products):\n");
    for (unsigned i = 1; i <= root_keys; i++) {
        snprintf(name, sizeof(name), "root-%u", i);
        custody_line(dir, name, off, &in_off);
    }
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (!zp_role_online(roles[i]))
            custody_line(dir, zp_role_name(roles[i]), off, &in_off);
    printf("online keys (snapshot, timestamp, avdb: unlocked unattended on this host by "
           "publish, promote and refresh):\n");
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (zp_role_online(roles[i]))
            custody_line(dir, zp_role_name(roles[i]), off, &ignored);
    if (in_off)
        printf("move '%s' to offline storage now: publish and refresh need only the online "
               "keys; root, targets and products are signed where the offline keys are "
               "(zupd-mirror stage, sign, import; refresh --offline)\n",
               off);
}

static const char *
keys_dir(const struct common *o, char *buf, size_t cap)
{
    if (o->keys != NULL)
        return o->keys;
    snprintf(buf, cap, "%s/../keys", o->repo);
    return buf;
}

static int
cmd_key(int argc, char **argv)
{
    struct common o;
    char kd[4096], err[ERR_CAP] = "";
    const char *dir, *sub;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind >= argc)
        return zp_cmd_usage("usage: key generate NAME | import NAME --pkcs11 URI | list | show "
                            "NAME | rotate ROLE");
    sub = argv[optind];
    dir = keys_dir(&o, kd, sizeof(kd));
    if (strcmp(sub, "generate") == 0 || strcmp(sub, "import") == 0) {
        bool gen = strcmp(sub, "generate") == 0;
        struct zp_kdf_cost cost;
        struct zp_keyinfo k;
        struct zp_pass p;
        if (optind + 2 != argc || (!gen && o.pkcs11_uri == NULL))
            return zp_cmd_usage("usage: key generate NAME [--pkcs11 URI [--key-type "
                                "ed25519|ecdsa]] | key import NAME --pkcs11 URI");
        zp_cmd_pass(&o, &p);
        if (zp_kdf_cost_for(false, o.kdf, &cost) != ZUPD_OK)
            return zp_cmd_usage("--kdf wants interactive, moderate or sensitive");
        if (o.pkcs11_uri != NULL)
            rc = zp_key_pkcs11(dir, argv[optind + 1], o.pkcs11_uri, NULL, gen,
                               o.key_type != NULL && strcmp(o.key_type, "ecdsa") == 0
                                   ? ZP_P11_P256
                                   : ZP_P11_ED25519,
                               &p, &k, err, sizeof(err));
        else
            rc = zp_key_generate(dir, argv[optind + 1], &p, &cost, &k, err, sizeof(err));
        if (rc != ZUPD_OK)
            return zp_cmd_fail(rc, gen ? "generate key" : "import key", argv[optind + 1], err);
        printf("%s %s\n", k.keyid, k.path);
        return 0;
    }
    if (strcmp(sub, "list") == 0) {
        struct zp_keyinfo *v = NULL;
        size_t n = 0;
        rc = zp_keys_list(dir, &v, &n);
        if (rc != ZUPD_OK)
            return zp_cmd_fail(rc, "list keys in", dir, NULL);
        for (size_t i = 0; i < n; i++)
            printf("%-20s %s%s%s\n", v[i].name, v[i].keyid, v[i].pkcs11_uri[0] ? " " : "",
                   v[i].pkcs11_uri);
        free(v);
        return 0;
    }
    if (strcmp(sub, "show") == 0) {
        struct zp_keyinfo k;
        char json[ZP_PUBJSON_MAX];
        if (optind + 2 != argc)
            return zp_cmd_usage("usage: key show NAME");
        rc = zp_key_by_name(dir, argv[optind + 1], &k);
        if (rc == ZUPD_OK)
            rc = zp_key_pubjson(&k, json, sizeof(json));
        if (rc != ZUPD_OK)
            return zp_cmd_fail(rc, "show key", argv[optind + 1], "no such key");
        printf("{\"keyid\":\"%s\",\"key\":%s}\n", k.keyid, json);
        return 0;
    }
    if (strcmp(sub, "rotate") == 0) {
        struct zp_repo *r = NULL;
        struct zp_kdf_cost cost;
        enum zp_role role;
        if (optind + 2 != argc || zp_role_parse(argv[optind + 1], &role) != ZUPD_OK)
            return zp_cmd_usage("usage: key rotate ROLE [--key NAME]... [--threshold K]");
        rc = zp_cmd_open(&o, "rotate keys of", &r);
        if (rc != 0)
            return rc;
        if (zp_kdf_cost_for(zp_role_online(role), o.kdf, &cost) != ZUPD_OK) {
            zp_repo_free(r);
            return zp_cmd_usage("--kdf wants interactive, moderate or sensitive");
        }
        rc = zp_rotate(r, role, o.key_names, o.n_key_names, (uint64_t)o.threshold, &cost, err,
                       sizeof(err));
        if (rc == ZUPD_OK)
            printf("rotated the keys of '%s' (%s version %llu)\n", argv[optind + 1],
                   zp_role_name(zp_delegator(role)),
                   (unsigned long long)zupd_meta_version(zp_repo_meta(r, zp_delegator(role))));
        zp_repo_free(r);
        return rc == ZUPD_OK ? 0 : zp_cmd_fail(rc, "rotate keys of", argv[optind + 1], err);
    }
    return zp_cmd_usage("usage: key generate NAME | import NAME --pkcs11 URI | list | show NAME | "
                        "rotate ROLE");
}

static int
cmd_publish(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    struct zp_publish_opts *p = NULL;
    struct zp_publish_res res;
    char err[ERR_CAP] = "", subj[300];
    enum zp_role role, need[3];
    size_t n;
    double t0, t1, t2;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    n = (size_t)(argc - optind) / 3;
    if (optind >= argc || (argc - optind) % 3 != 0)
        return zp_cmd_usage("usage: publish COMPONENT VERSION PATH [COMPONENT VERSION PATH]... "
                            "[--role products|avdb] [--source-revision REV] [--builder ID] "
                            "[--deltas K] [--delta-level L]");
    rc = zp_cmd_role(&o, &role);
    if (rc != 0)
        return rc;
    if (n == 1)
        snprintf(subj, sizeof(subj), "%s %s", argv[optind], argv[optind + 1]);
    else
        snprintf(subj, sizeof(subj), "%zu releases", n);
    p = calloc(n, sizeof(*p));
    if (p == NULL)
        return zp_cmd_fail(ZUPD_E_NOMEM, "publish", subj, NULL);
    rc = zp_cmd_open(&o, "publish", &r);
    if (rc != 0) {
        free(p);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].component = argv[optind + 3 * (int)i];
        p[i].version = argv[optind + 3 * (int)i + 1];
        p[i].path = argv[optind + 3 * (int)i + 2];
        p[i].role = role;
        p[i].source_revision = o.source_revision;
        p[i].builder = o.builder;
        p[i].deltas = (int)o.deltas;
        p[i].delta_level = (int)o.delta_level;
    }
    t0 = mono();
    need[0] = role;
    need[1] = ZP_R_SNAPSHOT;
    need[2] = ZP_R_TIMESTAMP;
    rc = role == ZP_R_PRODUCTS || role == ZP_R_AVDB ? zp_repo_unlock(r, need, 3, err, sizeof(err))
                                                    : ZUPD_OK;
    t1 = mono();
    if (rc == ZUPD_OK)
        rc = zp_publish_many(r, p, n, &res, err, sizeof(err));
    t2 = mono();
    zp_repo_free(r);
    if (rc != ZUPD_OK) {
        free(p);
        return zp_cmd_fail(rc, "publish", subj, err);
    }
    if (n == 1)
        printf("published %s %s in '%s': ", p[0].component, p[0].version, zp_role_name(role));
    else
        printf("published %zu releases in '%s': ", n, zp_role_name(role));
    printf("%zu files, %zu new blobs (%llu bytes), %zu reused, %zu deltas; manifest %llu bytes, "
           "new metadata %llu bytes; %.3f s (delta work %.3f s, keys unlocked in %.3f s)\n",
           res.files, res.new_blobs, (unsigned long long)res.blob_bytes, res.reused_blobs,
           res.deltas, (unsigned long long)res.manifest_bytes, (unsigned long long)res.meta_bytes,
           t2 - t1, res.delta_seconds, t1 - t0);
    free(p);
    return 0;
}

static int
cmd_promote(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    char err[ERR_CAP] = "", subj[300];
    enum zp_role role;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 2 != argc || o.channel == NULL)
        return zp_cmd_usage("usage: promote COMPONENT VERSION --channel C [--rollback] [--role R]");
    rc = zp_cmd_role(&o, &role);
    if (rc != 0)
        return rc;
    snprintf(subj, sizeof(subj), "%s %s", argv[optind], argv[optind + 1]);
    rc = zp_cmd_open(&o, "promote", &r);
    if (rc != 0)
        return rc;
    rc = zp_promote(r, role, argv[optind], argv[optind + 1], o.channel, o.rollback, err,
                    sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "promote", subj, err);
    printf("channel '%s' of '%s' now points at %s\n", o.channel, argv[optind], argv[optind + 1]);
    return 0;
}

static int
cmd_refresh(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    struct zp_refresh_res res;
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);
    bool any = false;

    if (rc != 0)
        return rc;
    if (optind != argc)
        return zp_cmd_usage("usage: refresh [--force] [--offline]");
    rc = zp_cmd_open(&o, "refresh", &r);
    if (rc != 0)
        return rc;
    rc = zp_refresh(r, o.force, o.offline, &res, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "refresh", o.repo, err);
    for (unsigned i = 0; i < ZP_R__N; i++) {
        if (res.resigned[i]) {
            printf("re-signed %s\n", zp_role_name((enum zp_role)i));
            any = true;
        }
        if (res.due_offline[i])
            fprintf(stderr,
                    "zupd-mirror: warning: role '%s' expires soon; re-sign it with 'zupd-mirror "
                    "refresh --offline' where its keys are\n",
                    zp_role_name((enum zp_role)i));
    }
    if (!any)
        printf("nothing due\n");
    return 0;
}

static int
cmd_stage(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    char err[ERR_CAP] = "", out[4200];
    enum zp_role role;
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc || zp_role_parse(argv[optind], &role) != ZUPD_OK)
        return zp_cmd_usage("usage: stage ROLE (root, targets, products or avdb)");
    rc = zp_cmd_open(&o, "stage", &r);
    if (rc != 0)
        return rc;
    rc = zp_stage(r, role, out, sizeof(out), err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "stage", argv[optind], err);
    printf("%s\n", out);
    return 0;
}

static int
cmd_sign(int argc, char **argv)
{
    struct common o;
    struct zp_pass p;
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc || o.keyfile == NULL)
        return zp_cmd_usage("usage: sign ROLE-FILE --key KEYFILE|PKCS11-URI");
    zp_cmd_pass(&o, &p);
    rc = zp_sign_file(argv[optind], o.keyfile, &p, err, sizeof(err));
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "sign", argv[optind], err);
    {
        char shown[ZP_P11_URI_MAX]; /* a URI's pin-value is not printed */
        if (zp_p11_uri_strip_pin(o.keyfile, shown, sizeof(shown)) != ZUPD_OK)
            snprintf(shown, sizeof(shown), "%s", "the key");
        printf("signed '%s' with '%s'\n", argv[optind], shown);
    }
    return 0;
}

static int
cmd_import(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc)
        return zp_cmd_usage("usage: import ROLE-FILE");
    rc = zp_cmd_open(&o, "import", &r);
    if (rc != 0)
        return rc;
    rc = zp_import(r, argv[optind], err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "import", argv[optind], err);
    printf("imported '%s'\n", argv[optind]);
    return 0;
}

static int
cmd_prune(int argc, char **argv)
{
    struct common o;
    struct zp_repo *r = NULL;
    struct zp_prune_res res;
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind != argc || o.keep < 1)
        return zp_cmd_usage("usage: prune --keep N");
    rc = zp_cmd_open(&o, "prune", &r);
    if (rc != 0)
        return rc;
    rc = zp_prune(r, (unsigned)o.keep, &res, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "prune", o.repo, err);
    printf("pruned %zu releases, %zu blobs (%llu bytes)\n", res.releases, res.blobs,
           (unsigned long long)res.bytes);
    return 0;
}

static int
cmd_verify(int argc, char **argv)
{
    struct common o;
    struct zp_verify_res res;
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc)
        return zp_cmd_usage("usage: verify DIR [--root ROOT.json] [--policy]");
    rc = zp_verify(argv[optind], o.root, zp_cmd_now(),
                   o.policy || zp_tree_is_policy(argv[optind]) ? ZP_VERIFY_POLICY : 0, &res, err,
                   sizeof(err));
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: verify '%s' failed: %s\n", argv[optind], err);
        return 10 + rc;
    }
    printf("ok: %zu roles, %zu targets (%zu manifests), %zu blobs (%llu bytes)", res.roles,
           res.targets, res.manifests, res.blobs, (unsigned long long)res.blob_bytes);
    if (res.not_mirrored > 0)
        printf("; %zu targets not mirrored (the selection of zupd-mirror sync)", res.not_mirrored);
    putchar('\n');
    return 0;
}

int
zp_cmd_repo(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } tab[] = {{"init", cmd_init},       {"key", cmd_key},          {"publish", cmd_publish},
               {"promote", cmd_promote}, {"refresh", cmd_refresh},  {"stage", cmd_stage},
               {"sign", cmd_sign},       {"import", cmd_import},    {"prune", cmd_prune},
               {"verify", cmd_verify},   {"policy", zp_cmd_policy}, {"floor", zp_cmd_floor}};

    if (zupd_init() != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot initialise the crypto libraries\n");
        return 10 + ZUPD_E_MISUSE;
    }
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(argv[0], tab[i].name) == 0)
            return tab[i].fn(argc, argv);
    return zp_cmd_usage("unknown command");
}
