/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_repo.c -- zupd-mirror init, key, publish, promote, refresh,
 * stage, sign, import, prune, verify, and the table of every repository
 * command (its options, synopsis and what runs it); the options are parsed
 * and the passphrases found by cmd_common.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd_common.h"
#include "cli/cmd_repo.h"
#include "zu/cli.h"
#include "delta/create.h"
#include "keys/passphrase.h"
#include "repo/repo.h"
#include "zu/fsio.h"

/* ------------------------------------------------------------ options */

/* Every option of the repository commands, once; each command's table
 * (below) names the ones it takes. */
#define OPT(n, a, id, sh, arg, help)                                                               \
    {                                                                                              \
        n, a, id, sh, arg, help                                                                    \
    }
#define O_REPO_                                                                                    \
    OPT("repo", required_argument, O_REPO, 'C', "DIR",                                             \
        "the repository (default $ZUPD_MIRROR_REPO, else .)")
#define O_KEYS_                                                                                    \
    OPT("keys", required_argument, O_KEYS, 0, "DIR",                                               \
        "the key directory (default DIR/../keys, $ZUPD_MIRROR_KEYS)")
#define O_PASSFILE_                                                                                \
    OPT("passphrase-file", required_argument, O_PASSFILE, 0, "FILE",                               \
        "read the keys' passphrase from FILE (else $ZUPD_PASSPHRASE, the terminal)")
#define O_JSON_                                                                                    \
    OPT("json", no_argument, O_JSON, 0, NULL,                                                      \
        "one JSON document on stdout (docs/json-envelope.schema.json)")
#define O_ROLE_                                                                                    \
    OPT("role", required_argument, O_ROLE, 0, "ROLE",                                              \
        "products or avdb (default: the component's, else products)")
#define O_CHANNEL_                                                                                 \
    OPT("channel", required_argument, O_CHANNEL, 0, "NAME", "the channel (stable, beta, ...)")
#define O_DELTAS_                                                                                  \
    OPT("deltas", required_argument, O_DELTAS, 0, "K",                                             \
        "deltas from the K previous releases (0..100)")
#define O_DLEVEL_                                                                                  \
    OPT("delta-level", required_argument, O_DLEVEL, 0, "L", "delta compression level 1..22")
#define O_NOLZMA_                                                                                  \
    OPT("no-delta-lzma", no_argument, O_NOLZMA, 0, NULL,                                           \
        "deltas without LZMA2 streams: format version 9 at most (libzupd before 5:1:4 reads "      \
        "them)")
#define O_EXPIRES_                                                                                 \
    OPT("expires", required_argument, O_EXPIRES, 0, "ROLE=DAYS",                                   \
        "expiry of a role's metadata (or ROLE=HOURSh)")
#define O_ROOTKEYS_                                                                                \
    OPT("root-keys", required_argument, O_ROOTKEYS, 0, "N",                                        \
        "number of root keys (1..32, default 1)")
#define O_ROOTTHR_                                                                                 \
    OPT("root-threshold", required_argument, O_ROOTTHR, 0, "K",                                    \
        "root signatures needed (1..32, default 1)")
#define O_KEY_ OPT("key", required_argument, O_KEY, 0, "NAME", "a key (repeat for several)")

#define O_P11MOD_                                                                                  \
    OPT("pkcs11-module", required_argument, O_P11MOD, 0, "PATH",                                   \
        "the PKCS#11 module for token keys (else $ZUPD_PKCS11_MODULE, the config's)")
#define O_PINFILE_                                                                                 \
    OPT("pin-file", required_argument, O_PINFILE, 0, "FILE",                                       \
        "read a token's PIN from FILE (else the URI, $ZUPD_PKCS11_PIN, the terminal)")

static const struct zu_opt repo_common[] = {O_REPO_,   O_KEYS_,    O_PASSFILE_, O_JSON_,
                                            O_P11MOD_, O_PINFILE_, ZU_OPT_END};
static const struct zu_opt init_opts[] = {
    O_ROOTKEYS_,
    O_ROOTTHR_,
    O_EXPIRES_,
    OPT("avdb-bins", required_argument, O_BINS, 0, "B", "hash-bin bit length of avdb (0..12)"),
    O_DELTAS_,
    OPT("zstd-level", required_argument, O_ZSTD, 0, "L", "zstd level of whole files (1..22)"),
    O_DLEVEL_,
    O_NOLZMA_,
    OPT("same-passphrase", no_argument, O_SAMEPASS, 0, NULL,
        "allow one passphrase for the online and the offline keys"),
    OPT("online-kdf", required_argument, O_ONLINEKDF, 0, "LEVEL",
        "Argon2id cost of the online keys: interactive (default), moderate, sensitive"),
    ZU_OPT_END};
static const struct zu_opt key_opts[] = {
    O_KEY_,
    OPT("threshold", required_argument, O_THR, 0, "K", "signatures the role needs (rotate)"),
    OPT("name", required_argument, O_NAME, 0, "NAME",
        "the name of a key someone else holds (add), shown by key list"),
    OPT("pkcs11", required_argument, O_PKCS11, 0, "URI",
        "generate or import the key in a PKCS#11 token (RFC 7512 URI)"),
    OPT("key-type", required_argument, O_KEYTYPE, 0, "TYPE",
        "generate: ed25519 (default) or ecdsa (P-256)"),
    OPT("kdf", required_argument, O_KDF, 0, "LEVEL",
        "generate/rotate: Argon2id cost interactive, moderate or sensitive"),
    ZU_OPT_END};
static const struct zu_opt publish_opts[] = {
    O_ROLE_,
    OPT("source-revision", required_argument, O_SRCREV, 0, "REV", "the source revision built"),
    OPT("builder", required_argument, O_BUILDER, 0, "ID", "who built it"),
    O_DELTAS_,
    O_DLEVEL_,
    O_NOLZMA_,
    OPT("stage", no_argument, O_STAGE, 0, NULL,
        "stage the release for the other keys (the auditor) instead of putting it live"),
    OPT("channel", required_argument, O_CHANNEL, 0, "NAME",
        "with --stage: the channel the staged release moves"),
    OPT("rollback", no_argument, O_ROLLBACK, 0, NULL,
        "with --stage --channel: the channel moves back (a vendor rollback)"),
    ZU_OPT_END};
static const struct zu_opt promote_opts[] = {
    O_CHANNEL_, O_ROLE_,
    OPT("rollback", no_argument, O_ROLLBACK, 0, NULL, "allow pointing at an older version"),
    ZU_OPT_END};
static const struct zu_opt refresh_opts[] = {
    OPT("force", no_argument, O_FORCE, 0, NULL, "re-sign even what is not due"),
    OPT("offline", no_argument, O_OFFLINE, 0, NULL,
        "re-sign the offline roles too (their keys are here)"),
    ZU_OPT_END};
static const struct zu_opt sign_opts[] = {
    OPT("key", required_argument, O_KEY, 0, "KEYFILE", "the key file to sign with"), ZU_OPT_END};
static const struct zu_opt prune_opts[] = {
    OPT("keep", required_argument, O_KEEP, 0, "N", "releases to keep per component (>= 1)"),
    ZU_OPT_END};
static const struct zu_opt verify_opts[] = {
    OPT("root", required_argument, O_ROOT, 0, "ROOT.json",
        "the root to trust (default the tree's 1.root.json)"),
    OPT("policy", required_argument, O_POLICY, 0, "URL|DIR",
        "check that DIR serves every release this policy repository pins"),
    OPT("policy-root", required_argument, O_POLICY_ROOT, 0, "ROOT.json",
        "the policy repository's trusted root (needed with --policy)"),
    OPT("policy-tree", no_argument, O_POLICY_TREE, 0, NULL, "DIR is a policy repository"),
    ZU_OPT_END};
static const struct zu_opt policy_opts[] = {
    O_CHANNEL_,
    O_ROLE_,
    O_EXPIRES_,
    O_ROOTKEYS_,
    O_ROOTTHR_,
    OPT("until", required_argument, O_UNTIL, 0, "TIME",
        "the pin ends at TIME (UTC, 2026-12-31T00:00:00Z)"),
    OPT("for", required_argument, O_FOR, 0, "N{d,h,m}", "the pin ends after this long"),
    OPT("note", required_argument, O_NOTE, 0, "TEXT", "why (shown by zupd status)"),
    OPT("vendor", required_argument, O_VENDOR, 0, "DIR",
        "the vendor's repository, to check the version and its floor"),
    OPT("same-passphrase", no_argument, O_SAMEPASS, 0, NULL,
        "init: allow one passphrase for the online and the offline keys"),
    OPT("online-kdf", required_argument, O_ONLINEKDF, 0, "LEVEL",
        "init: Argon2id cost of the online keys (interactive, moderate, sensitive)"),
    ZU_OPT_END};
static const struct zu_opt floor_opts[] = {O_ROLE_, ZU_OPT_END};
static const struct zu_opt log_opts[] = {
    OPT("vkey", required_argument, O_VKEY, 0, "VKEY",
        "the log's public key (verify, show: default the log's own log/vkey)"),
    OPT("root", required_argument, O_ROOT, 0, "ROOT.json",
        "verify URL: the trusted root of the repository at URL"),
    OPT("ca-file", required_argument, O_CAFILE, 0, "FILE", "CA certificates for an https URL"),
    OPT("from", required_argument, O_FROM, 0, "N", "show: the entries from index N on"),
    OPT("state", required_argument, O_STATE, 0, "FILE",
        "monitor: the last checkpoint verified (written by each run)"),
    OPT("witness", required_argument, O_WITNESS, 0, "VKEY",
        "a witness's cosignature/v1 key (repeat for several)"),
    OPT("quorum", required_argument, O_QUORUM, 0, "N",
        "monitor: how many --witness keys must cosign (default 0); witness: the "
        "repository's witness quorum"),
    OPT("old", required_argument, O_OLD, 0, "SIZE",
        "proof: the consistency proof from this tree size (the endpoint's checkpoint)"),
    OPT("out", required_argument, O_OUT, 0, "FILE", "proof: write the unit to FILE, not stdout"),
    ZU_OPT_END};

static int cmd_init(int argc, char **argv);
static int cmd_key(int argc, char **argv);
static int cmd_publish(int argc, char **argv);
static int cmd_promote(int argc, char **argv);
static int cmd_refresh(int argc, char **argv);
static int cmd_stage(int argc, char **argv);
static int cmd_sign(int argc, char **argv);
static int cmd_import(int argc, char **argv);
static int cmd_prune(int argc, char **argv);
static int cmd_verify(int argc, char **argv);

/* The repository commands: what --help, --list-commands and zp_cmd_parse
 * know of each, and what runs it. */
struct repo_cmd {
    struct zu_cmd spec;
    int (*run)(int argc, char **argv);
};
#define CMD(n, syn, sum, opts, fn)                                                                 \
    {                                                                                              \
        {"zupd-mirror", n, syn, sum, opts, repo_common, NULL}, fn                                  \
    }
static const struct repo_cmd repo_cmds[] = {
    CMD("init", "DIR", "create a repository and its keys", init_opts, cmd_init),
    CMD("key",
        "generate NAME [--pkcs11 URI]\nimport NAME --pkcs11 URI\nlist\nshow NAME\nrotate ROLE "
        "[--key NAME]... [--threshold K]\nadd ROLE "
        "PUBKEYFILE --name NAME\nremove ROLE KEYID|NAME\nthreshold ROLE N",
        "signing keys: make one, list them, show a public key, give a role new keys, add or "
        "remove a key someone else holds, set a role's threshold",
        key_opts, cmd_key),
    CMD("publish", "COMPONENT VERSION PATH [COMPONENT VERSION PATH]...",
        "publish releases (a directory tree each) with their deltas", publish_opts, cmd_publish),
    CMD("promote", "COMPONENT VERSION --channel C", "point a channel at a published version",
        promote_opts, cmd_promote),
    CMD("refresh", "", "re-sign the metadata that expires soon", refresh_opts, cmd_refresh),
    CMD("stage", "ROLE", "write a role unsigned, to sign on an offline machine", NULL, cmd_stage),
    CMD("sign", "ROLE-FILE --key KEYFILE", "sign a staged role file (offline)", sign_opts,
        cmd_sign),
    CMD("import", "ROLE-FILE", "verify and install a role signed offline", NULL, cmd_import),
    CMD("prune", "--keep N", "remove old releases and the blobs only they use", prune_opts,
        cmd_prune),
    CMD("verify", "DIR", "check a repository tree as a client does", verify_opts, cmd_verify),
    CMD("policy",
        "init DIR\npin COMPONENT VERSION --channel C\nrollback COMPONENT VERSION --channel "
        "C\nrelease COMPONENT --channel C\nshow",
        "the enterprise policy repository: pin or roll back the fleet's channels", policy_opts,
        zp_cmd_policy),
    CMD("floor", "COMPONENT VERSION", "the vendor's security floor of a component", floor_opts,
        zp_cmd_floor),
    CMD("log",
        "verify DIR|URL [--vkey VKEY] [--root ROOT.json]\nshow DIR|URL [--from N]\nmonitor "
        "DIR|URL --state FILE --vkey VKEY [--witness VKEY]... [--quorum N]\ncosign DIR\nwitness "
        "add DIR VKEY URL [--quorum N]\nwitness remove DIR NAME [--quorum N]\nwitness list DIR "
        "[--quorum N]\nkey add DIR\nkey retire DIR\nproof DIR TARGET-PATH [--old SIZE] [--out "
        "FILE]",
        "the transparency log: check it against the repository, list its entries, watch it "
        "grow (an alarm on a fork or a rollback); ask its witnesses to cosign, list or change "
        "them; rotate its key; "
        "write a target's offline proof unit",
        log_opts, zp_cmd_log),
    CMD("unstage", "ROLE", "drop the change staged for a role (publish --stage, key add...)", NULL,
        zp_cmd_unstage),
};

static const struct repo_cmd *
find_cmd(const char *name)
{
    for (size_t i = 0; i < sizeof(repo_cmds) / sizeof(repo_cmds[0]); i++)
        if (strcmp(repo_cmds[i].spec.name, name) == 0)
            return &repo_cmds[i];
    return NULL;
}

const struct zu_cmd *
zp_cmd_spec(const char *name)
{
    const struct repo_cmd *c = find_cmd(name);
    return c != NULL ? &c->spec : NULL;
}

int
zp_cmd_is_repo(const char *cmd)
{
    return find_cmd(cmd) != NULL;
}

void
zp_cmd_list(FILE *f)
{
    for (size_t i = 0; i < sizeof(repo_cmds) / sizeof(repo_cmds[0]); i++)
        fprintf(f, "%s\t%s\n", repo_cmds[i].spec.name, repo_cmds[i].spec.summary);
}

static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ commands */

/* ------------------------------------------------------------ init */

/* What `init` made, to remove it all when init fails: the directories it
 * created (parents first), and whether the repository and key directories
 * were there before. */
struct made {
    char *dirs[64];
    size_t n;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove the tree at path (not following symlinks). */
static void
rm_tree(const char *path)
{
    (void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p path, noting in m each directory made (path itself included). */
static int
make_dirs(const char *path, struct made *m, char *err, size_t cap)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf))
        return zu_fail(err, cap, ZUPD_E_MISUSE, "bad directory name '%s'", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) == 0) {
            if (m->n < sizeof(m->dirs) / sizeof(m->dirs[0]))
                m->dirs[m->n++] = strdup(buf);
        } else if (errno != EEXIST) {
            return zu_fail(err, cap, zu_errno_to_err(errno), "cannot create '%s': %s", buf,
                           strerror(errno));
        }
        if (i < len)
            buf[i] = '/';
    }
    return ZUPD_OK;
}

/* After a failure: every directory made, with what init put in it,
 * newest first. */
static void
made_undo(struct made *m)
{
    for (size_t i = m->n; i-- > 0;)
        rm_tree(m->dirs[i]);
}

static void
made_release(struct made *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->dirs[i]);
    m->n = 0;
}

static const char *keys_dir(const struct common *o, char *buf, size_t cap);

/* zupd-mirror init DIR and policy init DIR: the repository and its key
 * directory with their parents made as needed; when init fails, what it
 * made is removed (directories it created, keys it generated in them). */
int
zp_cmd_init(int argc, char **argv, bool policy)
{
    struct common o;
    struct zp_repo_opts ro;
    struct zp_init_opts io;
    struct made m = {{NULL}, 0};
    char err[ERR_CAP] = "", kd[PATH_MAX + 16];
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc)
        return zu_cli_usage(zp_cmd_current(), "init wants one DIR");
    o.repo = argv[optind];
    zp_cmd_repo_opts(&o, &ro);
    memset(&io, 0, sizeof(io));
    io.root_keys = o.root_keys > 0 ? (unsigned)o.root_keys : 1;
    io.root_threshold = o.root_threshold > 0 ? (unsigned)o.root_threshold : 1;
    io.avdb_bins = (unsigned)o.avdb_bins;
    io.config = o.cfg;
    io.config.policy = policy;
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
    io.config.delta_no_lzma = o.no_delta_lzma;
    rc = make_dirs(o.repo, &m, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = make_dirs(keys_dir(&o, kd, sizeof(kd)), &m, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zp_repo_init(&ro, &io, err, sizeof(err));
    if (rc != ZUPD_OK)
        made_undo(&m);
    made_release(&m);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "initialize", o.repo, err);
    if (policy)
        zp_cmd_print(&o,
                     json_pack("{s:s,s:i,s:i,s:b}", "repository", o.repo, "root_threshold",
                               (int)io.root_threshold, "root_keys", (int)io.root_keys, "policy", 1),
                     "initialized policy repository '%s' (its own root: %u of %u keys); "
                     "endpoints trust '%s/metadata/1.root.json' as their policy root\n",
                     o.repo, io.root_threshold, io.root_keys, o.repo);
    else
        zp_cmd_print(&o,
                     json_pack("{s:s,s:i,s:i}", "repository", o.repo, "root_threshold",
                               (int)io.root_threshold, "root_keys", (int)io.root_keys),
                     "initialized repository '%s' (root: %u of %u keys)\n", o.repo,
                     io.root_threshold, io.root_keys);
    if (!o.json)
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

static int
cmd_init(int argc, char **argv)
{
    return zp_cmd_init(argc, argv, false);
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
        return zp_cmd_usage(
            "usage: key generate NAME [--pkcs11 URI] | import NAME --pkcs11 URI | list | show NAME "
            "| "
            "rotate ROLE | add ROLE PUBKEYFILE | remove ROLE KEY | threshold ROLE N");
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
        zp_cmd_print(
            &o,
            json_pack("{s:s,s:s,s:s}", "key", argv[optind + 1], "keyid", k.keyid, "path", k.path),
            "%s %s\n", k.keyid, k.path);
        return 0;
    }
    if (strcmp(sub, "list") == 0) {
        struct zp_keyinfo *v = NULL;
        size_t n = 0;
        rc = zp_keys_list(dir, &v, &n);
        if (rc != ZUPD_OK)
            return zp_cmd_fail(rc, "list keys in", dir, NULL);
        if (o.json) {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "key", v[i].name, "keyid",
                                                     v[i].keyid, "pkcs11_uri", v[i].pkcs11_uri));
            zu_cli_json_print(
                json_pack("{s:o,s:o}", "keys", arr, "roles", zp_cmd_key_table(&o, dir)));
        }
        for (size_t i = 0; i < n && !o.json; i++)
            printf("%-20s %s%s%s\n", v[i].name, v[i].keyid, v[i].pkcs11_uri[0] ? " " : "",
                   v[i].pkcs11_uri);
        free(v);
        if (!o.json)
            (void)zp_cmd_key_table(&o, dir);
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
        zp_cmd_print(&o,
                     json_pack("{s:s,s:s,s:o}", "key", argv[optind + 1], "keyid", k.keyid, "public",
                               json_loads(json, 0, NULL)),
                     "{\"keyid\":\"%s\",\"key\":%s}\n", k.keyid, json);
        return 0;
    }
    if (strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0 || strcmp(sub, "threshold") == 0)
        return zp_cmd_key_change(&o, argc, argv);
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
        if (rc == ZUPD_OK) {
            unsigned long long ver = zupd_meta_version(zp_repo_meta(r, zp_delegator(role)));
            zp_cmd_print(&o,
                         json_pack("{s:s,s:s,s:I}", "role", argv[optind + 1], "signed_by",
                                   zp_role_name(zp_delegator(role)), "metadata_version",
                                   (json_int_t)ver),
                         "rotated the keys of '%s' (%s version %llu)\n", argv[optind + 1],
                         zp_role_name(zp_delegator(role)), ver);
        }
        zp_repo_free(r);
        return rc == ZUPD_OK ? 0 : zp_cmd_fail(rc, "rotate keys of", argv[optind + 1], err);
    }
    return zp_cmd_usage(
        "usage: key generate NAME [--pkcs11 URI] | import NAME --pkcs11 URI | list | show NAME | "
        "rotate ROLE | add ROLE PUBKEYFILE | remove ROLE KEY | threshold ROLE N");
}

static int
stage_publish(struct common *o, struct zp_repo *r, struct zp_publish_opts *p, size_t n,
              const char *subj)
{
    struct zp_stage_opts so = {.channel = o->channel, .rollback = o->rollback};
    struct zp_publish_res res;
    char err[ERR_CAP] = "", dir[4200];
    uint64_t have = 0, thr = 0;
    int rc = zp_publish_stage(r, p, n, &so, &res, dir, sizeof(dir), &have, &thr, err, sizeof(err));

    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "stage", subj, err);
    printf("staged %s in '%s': %zu files, %zu new blobs (%llu bytes), %zu deltas; '%s' version "
           "%llu signed by %llu of the %llu keys it needs; not live until the others sign it "
           "(zupd-mirror audit, then zupd-mirror import)\n",
           subj, dir, res.files, res.new_blobs, (unsigned long long)res.blob_bytes, res.deltas,
           zp_role_name(p[0].role),
           (unsigned long long)zupd_meta_version(zp_repo_meta(r, p[0].role)) + 1,
           (unsigned long long)have, (unsigned long long)thr);
    return 0;
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
                            "[--deltas K] [--delta-level L] [--stage [--channel C [--rollback]]]");
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
        p[i].delta_no_lzma = o.no_delta_lzma;
    }
    if (o.stage) {
        rc = stage_publish(&o, r, p, n, subj);
        zp_repo_free(r);
        free(p);
        return rc;
    }
    if (o.channel != NULL) {
        zp_repo_free(r);
        free(p);
        return zp_cmd_usage("publish --channel goes with --stage (otherwise: promote)");
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
    if (o.json) {
        json_t *rel = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                rel, json_pack("{s:s,s:s}", "component", p[i].component, "version", p[i].version));
        zu_cli_json_print(json_pack(
            "{s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "role", zp_role_name(role), "releases",
            rel, "files", (json_int_t)res.files, "new_blobs", (json_int_t)res.new_blobs,
            "blob_bytes", (json_int_t)res.blob_bytes, "reused_blobs", (json_int_t)res.reused_blobs,
            "deltas", (json_int_t)res.deltas, "manifest_bytes", (json_int_t)res.manifest_bytes,
            "metadata_bytes", (json_int_t)res.meta_bytes, "seconds", t2 - t1));
        free(p);
        return 0;
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
    /* no --role: the one role the version is published in (in both:
     * products, as before) */
    rc = o.role == NULL
             ? zp_component_role(r, argv[optind], argv[optind + 1], &role, err, sizeof(err))
             : ZUPD_OK;
    if (rc == ZUPD_E_MISUSE) {
        role = ZP_R_PRODUCTS;
        rc = ZUPD_OK;
    }
    if (rc == ZUPD_OK)
        rc = zp_promote(r, role, argv[optind], argv[optind + 1], o.channel, o.rollback, err,
                        sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "promote", subj, err);
    zp_cmd_print(
        &o,
        json_pack("{s:s,s:s,s:s,s:s,s:b}", "role", zp_role_name(role), "component", argv[optind],
                  "version", argv[optind + 1], "channel", o.channel, "rollback", o.rollback),
        "channel '%s' of '%s' now points at %s\n", o.channel, argv[optind], argv[optind + 1]);
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
    json_t *resigned = json_array(), *due = json_array();
    for (unsigned i = 0; i < ZP_R__N; i++) {
        if (res.resigned[i]) {
            json_array_append_new(resigned, json_string(zp_role_name((enum zp_role)i)));
            if (!o.json)
                printf("re-signed %s\n", zp_role_name((enum zp_role)i));
            any = true;
        }
        if (res.due_offline[i])
            json_array_append_new(due, json_string(zp_role_name((enum zp_role)i)));
        if (res.due_offline[i])
            fprintf(stderr,
                    "zupd-mirror: warning: role '%s' expires soon; re-sign it with 'zupd-mirror "
                    "refresh --offline' where its keys are\n",
                    zp_role_name((enum zp_role)i));
    }
    if (o.json) {
        zu_cli_json_print(json_pack("{s:o,s:o}", "resigned", resigned, "due_offline", due));
    } else {
        json_decref(resigned);
        json_decref(due);
    }
    if (!any && !o.json)
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
    zp_cmd_print(&o, json_pack("{s:s,s:s}", "role", argv[optind], "staged", out), "%s\n", out);
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
        zp_cmd_print(&o, json_pack("{s:s,s:s}", "file", argv[optind], "key", shown),
                     "signed '%s' with '%s'\n", argv[optind], shown);
    }
    return 0;
}

static int
cmd_import(int argc, char **argv)
{
    struct common o;
    struct zp_import_res res;
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
    rc = zp_import2(r, argv[optind], &res, err, sizeof(err));
    zp_repo_free(r);
    if (rc != ZUPD_OK)
        return zp_cmd_fail(rc, "import", argv[optind], err);
    if (!res.staged)
        zp_cmd_print(&o, json_pack("{s:s}", "file", argv[optind]), "imported '%s'\n", argv[optind]);
    else
        zp_cmd_print(&o,
                     json_pack("{s:s,s:s,s:I,s:I,s:I,s:b}", "file", argv[optind], "role",
                               zp_role_name(res.role), "version", (json_int_t)res.version,
                               "signatures", (json_int_t)res.have, "threshold",
                               (json_int_t)res.threshold, "live", res.live),
                     "imported '%s': '%s' version %llu has %llu of %llu signatures%s\n",
                     argv[optind], zp_role_name(res.role), (unsigned long long)res.version,
                     (unsigned long long)res.have, (unsigned long long)res.threshold,
                     res.live ? " and is live" : "; it stays staged");
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
    zp_cmd_print(&o,
                 json_pack("{s:I,s:I,s:I}", "releases", (json_int_t)res.releases, "blobs",
                           (json_int_t)res.blobs, "bytes", (json_int_t)res.bytes),
                 "pruned %zu releases, %zu blobs (%llu bytes)\n", res.releases, res.blobs,
                 (unsigned long long)res.bytes);
    return 0;
}

/* verify --policy: one line per pin the tree cannot serve */
static void
print_pin(void *opaque, const char *pointer, const char *release, int rc, const char *why)
{
    (void)opaque;
    if (rc != ZUPD_OK)
        fprintf(stderr, "zupd-mirror: pin '%s' -> '%s': cannot be served: %s\n", pointer, release,
                why);
}

static int
cmd_verify(int argc, char **argv)
{
    static const char usage[] = "usage: verify DIR [--root ROOT.json] [--policy-tree]\n"
                                "              [--policy URL|DIR --policy-root ROOT.json]";
    struct common o;
    struct zp_verify_res res;
    struct zp_verify_pins pins = {.on_pin = print_pin};
    char err[ERR_CAP] = "";
    int rc = zp_cmd_parse(argc, argv, &o);

    if (rc != 0)
        return rc;
    if (optind + 1 != argc)
        return zp_cmd_usage(usage);
    if ((o.policy == NULL) != (o.policy_root == NULL))
        return zp_cmd_usage(o.policy != NULL ? "--policy needs the policy repository's trusted "
                                               "root (--policy-root ROOT.json)"
                                             : "--policy-root without --policy");
    pins.policy = o.policy;
    pins.policy_root = o.policy_root;
    rc =
        zp_verify_with_pins(argv[optind], o.root, zp_cmd_now(),
                            o.policy_tree || zp_tree_is_policy(argv[optind]) ? ZP_VERIFY_POLICY : 0,
                            o.policy != NULL ? &pins : NULL, &res, err, sizeof(err));
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: verify '%s' failed: %s\n", argv[optind], err);
        zu_cli_error(zu_cli_exit(rc), "verify '%s' failed: %s", argv[optind], err);
        return zu_cli_exit(rc);
    }
    if (o.json) {
        zu_cli_json_print(json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "repository", argv[optind],
                                    "roles", (json_int_t)res.roles, "targets",
                                    (json_int_t)res.targets, "manifests", (json_int_t)res.manifests,
                                    "blobs", (json_int_t)res.blobs, "blob_bytes",
                                    (json_int_t)res.blob_bytes, "not_mirrored",
                                    (json_int_t)res.not_mirrored, "pins", (json_int_t)res.pins));
        return 0;
    }
    printf("ok: %zu roles, %zu targets (%zu manifests), %zu blobs (%llu bytes)", res.roles,
           res.targets, res.manifests, res.blobs, (unsigned long long)res.blob_bytes);
    if (res.not_mirrored > 0)
        printf("; %zu targets not mirrored (the selection of zupd-mirror sync)", res.not_mirrored);
    if (o.policy != NULL)
        printf("; %zu pins of the policy served", res.pins);
    putchar('\n');
    return 0;
}

int
zp_cmd_repo(int argc, char **argv)
{
    const struct repo_cmd *c = find_cmd(argv[0]);

    if (c == NULL)
        return zp_cmd_usage("unknown command");
    zp_cmd_begin(&c->spec);
    if (zu_cli_wants_help(argc, argv)) {
        zu_cli_help(stdout, &c->spec);
        return 0;
    }
    if (zupd_init() != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: cannot initialise the crypto libraries\n");
        return zu_cli_exit(ZUPD_E_MISUSE);
    }
    return c->run(argc, argv);
}
