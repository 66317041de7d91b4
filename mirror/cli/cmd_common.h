/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_common.h -- what zupd-mirror's repository commands share:
 * options, passphrases, opening a repository, messages (cmd_repo.c). */
#ifndef ZP_CMD_COMMON_H
#define ZP_CMD_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "repo/repo.h"
#include "zu/cli.h"

#define EXIT_USAGE ZU_EXIT_USAGE
#define ERR_CAP 1024

struct pass_src {
    const char *file;     /* --passphrase-file */
    const char *pin_file; /* --pin-file: PINs of PKCS#11 tokens */
};

/* The ids of the repository commands' options (cmd_repo.c's tables,
 * cmd_common.c's parser). */
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
    O_NOLZMA,
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
    O_POLICY_ROOT,
    O_POLICY_TREE,
    O_NAME,
    O_STAGE,
    O_VKEY,
    O_P11MOD,
    O_PINFILE,
    O_PKCS11,
    O_KEYTYPE,
    O_SAMEPASS,
    O_ONLINEKDF,
    O_KDF,
    O_OLD,
    O_OUT,
    O_CAFILE,
    O_FROM,
    O_STATE,
    O_WITNESS,
    O_QUORUM
};

struct common {
    const char *repo;
    const char *keys;
    struct pass_src pass;
    const char *role;
    const char *channel;
    const char *source_revision;
    const char *builder;
    const char *root;
    const char *keyfile;
    const char *key_names[16];
    size_t n_key_names;
    long keep;
    long deltas;
    long zstd_level;
    long delta_level;
    bool no_delta_lzma;
    long root_keys;
    long root_threshold;
    long avdb_bins;
    long threshold;
    const char *until, *dur, *note, *vendor;
    const char *name;
    const char *vkey;              /* log --vkey */
    const char *log_old, *log_out; /* log proof --old SIZE --out FILE */
    const char *ca_file;           /* log --ca-file */
    const char *state;             /* log monitor --state */
    const char *witnesses[32];     /* log --witness */
    size_t n_witnesses;
    long quorum;                      /* log --quorum */
    uint64_t from;                    /* log show --from */
    const char *policy, *policy_root; /* verify: the policy repository whose pins to check */
    const char *pkcs11_module;        /* --pkcs11-module, else ZUPD_PKCS11_MODULE */
    const char *pkcs11_uri;           /* key generate/import --pkcs11 URI */
    const char *key_type;             /* key generate --key-type ed25519|ecdsa */
    const char *kdf;                  /* key generate/rotate --kdf LEVEL */
    const char *online_kdf;           /* init --online-kdf LEVEL */
    bool same_passphrase;             /* init --same-passphrase */
    bool rollback, force, offline, list, json, policy_tree, stage;
    struct zp_config cfg;
};

/* The command about to run (zp_cmd_repo): zp_cmd_parse reads its table. */
struct zu_cmd;
void zp_cmd_begin(const struct zu_cmd *spec);
const struct zu_cmd *zp_cmd_current(void);
/* Parse options into o; positional arguments are left in argv[optind..].
 * Returns 0, or the exit code of a usage error (reported). */
int zp_cmd_parse(int argc, char **argv, struct common *o);
/* Open and lock o->repo; reports a failure and returns its exit code. */
int zp_cmd_open(struct common *o, const char *what, struct zp_repo **r);
void zp_cmd_repo_opts(struct common *o, struct zp_repo_opts *ro);
/* After init: the keys, online and offline, and which directory must go
 * offline (stdout). */
void zp_cmd_custody(const struct common *o, unsigned root_keys);
/* The passphrase and PIN sources of o (for commands without a repository). */
void zp_cmd_pass(struct common *o, struct zp_pass *p);
/* --role (default products); reports a bad value. */
int zp_cmd_role(const struct common *o, enum zp_role *role);
/* "zupd-mirror: cannot WHAT 'SUBJECT': ERR" on stderr; returns 10 + rc. */
int zp_cmd_fail(int rc, const char *what, const char *subject, const char *err);
/* A command's result: under --json the envelope with fields (stolen, may
 * be NULL), else the text fmt on stdout (fields released). */
struct json_t;
void zp_cmd_print(const struct common *o, struct json_t *fields, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A usage message on stderr; returns EXIT_USAGE. */
int zp_cmd_usage(const char *msg);
/* Is s a decimal number in [lo, hi]? */
bool zp_cmd_num(const char *s, long lo, long hi, long *out);
/* ZUPD_MIRROR_NOW, or 0 for the clock. */
int64_t zp_cmd_now(void);

/* key add|remove|threshold (argv[optind] is the subcommand), the role key
 * table of key list (printed; under --json returned as an array of roles),
 * and unstage (cmd_keys.c) */
int zp_cmd_key_change(struct common *o, int argc, char **argv);
struct json_t *zp_cmd_key_table(struct common *o, const char *keys_dir);
int zp_cmd_unstage(int argc, char **argv);
/* zupd-mirror init DIR, and policy init DIR when policy (cmd_repo.c) */
int zp_cmd_init(int argc, char **argv, bool policy);

/* zupd-mirror policy ... and floor ... (cmd_policy.c) */
int zp_cmd_policy(int argc, char **argv);
int zp_cmd_floor(int argc, char **argv);
/* zupd-mirror log verify|show|monitor (cmd_log.c) */
int zp_cmd_log(int argc, char **argv);

#endif
