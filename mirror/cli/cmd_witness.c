/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_witness.c -- `zupd-mirror witness init|serve`: a C2SP
 * tlog-witness run by an independent party (options, key file, signals);
 * the witness itself is mirror/witness/. Runs as zupd-mirror-witness
 * (net_main.c): only it loads libmicrohttpd. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cmd_witness.h"
#include "cli/daemon.h"
#include "keys/keystore.h"
#include "keys/passphrase.h"
#include "witness/witness.h"
#include "zu/cli.h"
#include "zu/fsio.h"

#define PASS_MAX 1024
#define LOGS_MAX 256 /* --log options */

static const struct zu_opt key_opts[] = {
    {"key", required_argument, 'k', 0, "FILE", "the witness's key file (a zupd key file, 0600)"},
    {"name", required_argument, 'n', 0, "NAME",
     "the witness's name, e.g. witness.example.com/w1 (its vkey's)"},
    {"passphrase-file", required_argument, 'P', 0, "FILE",
     "the key's passphrase (else the credential passphrase-witness, ZUPD_PASSPHRASE_WITNESS, "
     "ZUPD_PASSPHRASE, the terminal)"},
    {"json", no_argument, 'j', 0, NULL, "print the result as JSON"},
    ZU_OPT_END,
};
static const struct zu_opt serve_opts[] = {
    {"state", required_argument, 's', 0, "DIR",
     "the latest cosigned checkpoint of each log (made if missing)"},
    {"listen", required_argument, 'l', 0, "ADDR:PORT",
     "address to listen on (default 127.0.0.1:8081; port 0 picks one)"},
    {"log", required_argument, 'L', 0, "VKEY",
     "a log to witness: its Ed25519 vkey, whose name is the log's origin (repeat for more)"},
    {"quiet", no_argument, 'q', 0, NULL, "log refused requests only"},
    ZU_OPT_END,
};
static const struct zu_cmd init_cmd = {
    "zupd-mirror",
    "witness init",
    "--key FILE --name NAME",
    "Make a witness key (Ed25519, in a passphrase-sealed key file) and print its "
    "cosignature/v1 vkey.",
    key_opts,
    NULL,
    "Give the vkey to the publishers whose logs this witness cosigns "
    "(docs/transparency.md)."};
static const struct zu_cmd serve_cmd = {
    "zupd-mirror",
    "witness serve",
    "--key FILE --name NAME --state DIR --log VKEY [--log VKEY...]",
    "Run a C2SP tlog-witness: POST /add-checkpoint, GET /<origin sha256>/checkpoint.",
    serve_opts,
    key_opts,
    "Stops cleanly on SIGINT or SIGTERM. Every cosigned checkpoint is durable before "
    "its answer."};

struct wargs {
    const char *key, *name, *pass_file, *state, *listen;
    const char *logs[LOGS_MAX];
    size_t nlogs;
    bool json, quiet;
};

static int
wparse(const struct zu_cmd *cmd, int argc, char **argv, struct wargs *a, bool *done)
{
    struct zu_cli_parser ps;
    const char *val;
    int ch;

    *done = false;
    zu_cli_begin(&ps, cmd);
    while ((ch = zu_cli_getopt(&ps, argc, argv, &val)) != -1) {
        switch (ch) {
        case 'k':
            a->key = val;
            break;
        case 'n':
            a->name = val;
            break;
        case 'P':
            a->pass_file = val;
            break;
        case 'j':
            a->json = true;
            break;
        case 's':
            a->state = val;
            break;
        case 'l':
            a->listen = val;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'L':
            if (a->nlogs == LOGS_MAX)
                return zu_cli_usage(cmd, "at most %d --log", LOGS_MAX);
            a->logs[a->nlogs++] = val;
            break;
        case ZU_CLI_HELP:
            zu_cli_help(stdout, cmd);
            *done = true;
            return 0;
        default:
            return ZU_EXIT_USAGE;
        }
    }
    if (optind != argc)
        return zu_cli_usage(cmd, "unexpected operand '%s'", argv[optind]);
    if (a->key == NULL || a->name == NULL)
        return zu_cli_usage(cmd, "--key and --name are required");
    if (strlen(a->name) > ZU_NOTE_NAME_MAX || !zu_note_name_ok(a->name, strlen(a->name)))
        return zu_cli_usage(cmd, "bad --name '%s' (a key name: no spaces, no '+')", a->name);
    return 0;
}

static int
fail(int rc, const char *what, const char *subject, const char *err)
{
    fprintf(stderr, "zupd-mirror: cannot %s '%s': %s\n", what, subject, err);
    zu_cli_error(zu_cli_exit(rc), "cannot %s '%s': %s", what, subject, err);
    return zu_cli_exit(rc);
}

/* The key's passphrase (sodium memory of PASS_MAX), as every key's
 * (zp_pass_read): --passphrase-file, the systemd credential
 * passphrase-witness or passphrase, ZUPD_PASSPHRASE_WITNESS,
 * ZUPD_PASSPHRASE, the terminal (twice for a new key). */
static int
passphrase(const struct wargs *a, bool confirm, char *pass, char *why, size_t cap)
{
    bool hint = false;

    return zp_pass_read(a->pass_file, "witness", confirm, pass, PASS_MAX, why, cap, &hint);
}

/* The key file's directory, made (private: 0700) when it is missing, as
 * init makes a repository's. */
static int
make_key_dir(const char *key)
{
    char dir[PATH_MAX];
    char *slash;
    int rc;

    if ((size_t)snprintf(dir, sizeof(dir), "%s", key) >= sizeof(dir))
        return ZUPD_E_TOOBIG;
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return ZUPD_OK;
    *slash = '\0';
    if (access(dir, F_OK) == 0)
        return ZUPD_OK;
    rc = zu_mkdir_p(dir);
    if (rc == ZUPD_OK && chmod(dir, 0700) != 0)
        rc = zu_errno_to_err(errno);
    return rc;
}

static int
witness_init(int argc, char **argv)
{
    struct wargs a = {0};
    struct zp_signer *s = NULL;
    struct zp_kdf_cost cost;
    char *pass = NULL, why[512] = "", vkey[ZU_NOTE_NAME_MAX + 80];
    bool done;
    int rc;

    rc = wparse(&init_cmd, argc, argv, &a, &done);
    if (rc != 0 || done)
        return rc;
    pass = sodium_malloc(PASS_MAX);
    if (pass == NULL)
        return fail(ZUPD_E_NOMEM, "make", a.key, "out of memory");
    rc = passphrase(&a, true, pass, why, sizeof(why));
    if (rc != ZUPD_OK) {
        rc = fail(rc, "read the passphrase of", a.key, why[0] ? why : zupd_strerror(rc));
        goto out;
    }
    zp_kdf_cost_env(&cost);
    rc = make_key_dir(a.key);
    if (rc == ZUPD_OK)
        rc = zp_signer_generate(&s);
    if (rc == ZUPD_OK)
        rc = zp_signer_save(s, a.key, pass, &cost);
    if (rc != ZUPD_OK) {
        rc = fail(rc, "make the witness key", a.key, zupd_strerror(rc));
        goto out;
    }
    rc = zp_witness_key_vkey(s, a.name, vkey, sizeof(vkey));
    if (rc != ZUPD_OK) {
        remove(a.key);
        rc = fail(rc, "make the witness key", a.key, zupd_strerror(rc));
        goto out;
    }
    if (a.json || zu_cli_json())
        zu_cli_json_print(json_pack("{s:s,s:s,s:s}", "key", a.key, "name", a.name, "vkey", vkey));
    else
        printf("%s\n", vkey);
    rc = 0;
out:
    zp_signer_free(s);
    sodium_free(pass);
    return rc;
}

static int
witness_serve(int argc, char **argv)
{
    struct wargs a = {0};
    struct zp_signer *s = NULL;
    struct zp_witness_opts wo = {0};
    struct zp_witness *w = NULL;
    struct zp_witness_server *srv = NULL;
    char *pass = NULL, why[512] = "";
    sigset_t set;
    bool done;
    int rc, sig;

    rc = wparse(&serve_cmd, argc, argv, &a, &done);
    if (rc != 0 || done)
        return rc;
    if (a.state == NULL || a.nlogs == 0)
        return zu_cli_usage(&serve_cmd, "--state and at least one --log are required");
    zp_daemon_quiet(a.quiet);
    pass = sodium_malloc(PASS_MAX);
    if (pass == NULL)
        return fail(ZUPD_E_NOMEM, "open", a.key, "out of memory");
    rc = passphrase(&a, false, pass, why, sizeof(why));
    if (rc == ZUPD_OK)
        rc = zp_signer_load(a.key, pass, &s);
    sodium_free(pass);
    if (rc != ZUPD_OK) {
        rc = fail(rc, "open the witness key", a.key, why[0] ? why : zupd_strerror(rc));
        goto out;
    }
    wo.state_dir = a.state;
    wo.name = a.name;
    wo.signer = s;
    wo.log_vkeys = a.logs;
    wo.n_log_vkeys = a.nlogs;
    rc = zp_witness_new(&wo, &w, why, sizeof(why));
    if (rc != ZUPD_OK) {
        rc = fail(rc, "start the witness", a.name, why);
        goto out;
    }
    zp_daemon_signals(&set, 0);
    rc = zp_witness_serve(w, a.listen, zp_daemon_log, NULL, &srv, why, sizeof(why));
    if (rc != ZUPD_OK) {
        rc = fail(rc, "serve the witness on", a.listen != NULL ? a.listen : "127.0.0.1:8081", why);
        goto out;
    }
    fprintf(stderr, "zupd-mirror: witness %s of %zu log key%s on http://%s (state '%s')\n",
            zp_witness_vkey(w), a.nlogs, a.nlogs > 1 ? "s" : "", zp_witness_server_address(srv),
            a.state);
    while (sigwait(&set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
        ;
    rc = 0;
out:
    zp_witness_server_stop(srv);
    zp_witness_free(w);
    zp_signer_free(s);
    return rc;
}

int
cmd_witness(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "init") == 0)
        return witness_init(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return witness_serve(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        zu_cli_help(stdout, &init_cmd);
        fputc('\n', stdout);
        zu_cli_help(stdout, &serve_cmd);
        return 0;
    }
    fprintf(stderr, "usage: zupd-mirror witness init|serve ... (see zupd-mirror witness --help)\n");
    zu_cli_error(ZU_EXIT_USAGE, "usage: zupd-mirror witness init|serve");
    return ZU_EXIT_USAGE;
}
