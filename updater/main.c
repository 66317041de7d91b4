/* SPDX-License-Identifier: Apache-2.0 */
/* updater/main.c -- zupd, the endpoint client: global options, config and
 * dispatch. The commands are in cmd.c; the logic in libzupd. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zupd/zupd.h>

#include "zupd.h"

static void
usage(FILE *f)
{
    fputs("usage: zupd [--config FILE] [--json] [-q|--quiet] [-v|--verbose] [--wait[=SECONDS]]\n"
          "            COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  check                      refresh signed metadata, say what would change\n"
          "  update [COMPONENT...]      install what the channels name\n"
          "  status                     installed and available versions, holds, errors\n"
          "  rollback COMPONENT [--to VERSION]\n"
          "                             switch back to an installed version and hold it\n"
          "  hold COMPONENT             stop updating a component\n"
          "  release COMPONENT          resume updates\n"
          "  verify [COMPONENT...]      re-hash installed trees against their manifests\n"
          "  version                    print the version\n"
          "\n"
          "Options go before or after the command; 'zupd COMMAND --help' lists a\n"
          "command's, --list-commands the commands, --list-exit-codes the exit codes.\n"
          "Exit: 0 ok, 1 usage, 10+code on a refusal (docs/errors.md), 100 update\n"
          "available (check), 101 health check failed and rolled back (update).\n"
          "See zupd(1).\n",
          f);
}

/* --wait=SECONDS: 0 to 31 days */
static int
parse_seconds(const char *s, long *out)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != 0 || v > 31L * 86400)
        return -1;
    *out = v;
    return 0;
}

/* lock: the state directory's lock the command takes (updater/lock.c):
 * exclusive for what writes the state (check records what it saw), shared
 * for what only reads it. */
enum lock_mode { LOCK_SHARED, LOCK_EXCLUSIVE };

enum { G_CONFIG = 256, G_JSON, G_QUIET, G_VERBOSE, G_WAIT, G_TO };
/* the global options, taken before the command or after it */
static const struct zu_opt global_opts[] = {
    {"config", required_argument, G_CONFIG, 0, "FILE",
     "the configuration (default " ZUPD_CONF_DEFAULT ")"},
    {"json", no_argument, G_JSON, 0, NULL,
     "one JSON document on stdout (docs/json-envelope.schema.json)"},
    {"quiet", no_argument, G_QUIET, 'q', NULL, "errors only"},
    {"verbose", no_argument, G_VERBOSE, 'v', NULL, "the library's info and debug lines on stderr"},
    {"wait", optional_argument, G_WAIT, 0, "SECONDS",
     "wait for the state directory's lock (forever without a value)"},
    ZU_OPT_END,
};
static const struct zu_opt rollback_opts[] = {
    {"to", required_argument, G_TO, 0, "VERSION",
     "the installed version to switch to (default the previous)"},
    ZU_OPT_END,
};
#define ZCMD(n, syn, sum, opts)                                                                    \
    {                                                                                              \
        "zupd", n, syn, sum, opts, global_opts, NULL                                               \
    }
static const struct zu_cmd specs[] = {
    ZCMD("check", "[COMPONENT...]",
         "refresh signed metadata, say what would change (exit 100: an update)", NULL),
    ZCMD("update", "[COMPONENT...]", "install what the channels name", NULL),
    ZCMD("status", "[COMPONENT...]", "installed and available versions, holds, errors", NULL),
    ZCMD("rollback", "COMPONENT", "switch back to an installed version and hold it", rollback_opts),
    ZCMD("hold", "COMPONENT", "stop updating a component", NULL),
    ZCMD("release", "COMPONENT", "resume updates", NULL),
    ZCMD("verify", "[COMPONENT...]", "re-hash installed trees against their manifests", NULL),
    ZCMD("version", "", "print the version", NULL),
};
static const struct zu_cmd top = {
    "zupd", "", "COMMAND [ARGS]", "zupd, the endpoint client", NULL, global_opts, NULL};

static const struct {
    const char *name;
    int (*fn)(struct zupd_cli *, int, char **);
    enum lock_mode lock;
} cmds[] = {
    {"check", zupd_cmd_check, LOCK_EXCLUSIVE}, {"update", zupd_cmd_update, LOCK_EXCLUSIVE},
    {"status", zupd_cmd_status, LOCK_SHARED},  {"rollback", zupd_cmd_rollback, LOCK_EXCLUSIVE},
    {"hold", zupd_cmd_hold, LOCK_EXCLUSIVE},   {"release", zupd_cmd_release, LOCK_EXCLUSIVE},
    {"verify", zupd_cmd_verify, LOCK_SHARED},
};

/* One option of the table into cli; returns 0 or the exit code. */
static int
set_opt(struct zupd_cli *cli, const char **conf_path, const struct zu_cmd *spec, int id,
        const char *val)
{
    switch (id) {
    case G_CONFIG:
        *conf_path = val;
        return 0;
    case G_JSON:
        cli->json = true;
        zu_cli_json_set(true);
        return 0;
    case G_QUIET:
        cli->quiet = true;
        return 0;
    case G_VERBOSE:
        cli->verbose = true;
        return 0;
    case G_WAIT:
        if (val == NULL)
            cli->wait = -1;
        else if (parse_seconds(val, &cli->wait) != 0)
            return zupd_fail(ZUPD_OK, "--wait: '%s' is not a number of seconds", val);
        return 0;
    case G_TO:
        cli->to = val;
        return 0;
    case ZU_CLI_HELP:
        zu_cli_help(stdout, spec);
        return EXIT_USAGE;
    default:
        return EXIT_USAGE; /* reported by zu_cli_getopt */
    }
}

/* Parse argv[0..argc) (argv[0] the command or the program) with spec. */
static int
parse(struct zupd_cli *cli, const char **conf_path, const struct zu_cmd *spec, int argc,
      char **argv)
{
    struct zu_cli_parser p;
    const char *val;
    int ch, rc;

    zu_cli_begin(&p, spec);
    while ((ch = zu_cli_getopt(&p, argc, argv, &val)) != -1) {
        rc = set_opt(cli, conf_path, spec, ch, val);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Run args[0] with its operands args[1..n). */
static int
run_cmd(struct zupd_cli *cli, const char *conf_path, int n, char **args)
{
    char err[512];
    int rc;

    if (strcmp(args[0], "version") == 0) {
        if (n != 1)
            return zupd_fail(ZUPD_OK, "version takes no operand");
        if (cli->json)
            zu_cli_json_print(json_pack("{s:s,s:s}", "program", "zupd", "version", zupd_version()));
        else
            printf("zupd %s\n", zupd_version());
        return 0;
    }
    for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
        if (strcmp(args[0], cmds[k].name) != 0)
            continue;
        if (zupd_init() != ZUPD_OK)
            return zupd_fail(ZUPD_E_MISUSE, "cannot initialise the crypto libraries");
        if (zupd_conf_load(&cli->conf, conf_path, err, sizeof(err)) != 0)
            return zupd_fail(ZUPD_OK, "%s%s", err,
                             access(conf_path, R_OK) != 0
                                 ? " (the configuration file; another with --config FILE)"
                                 : "");
        cli->command = cmds[k].name;
        zupd_log_open(cli);
        cli->progress = !cli->quiet && !cli->json && isatty(STDERR_FILENO);
        rc = zupd_lock(cli, cmds[k].lock == LOCK_EXCLUSIVE);
        if (rc == 0)
            rc = cmds[k].fn(cli, n, args);
        zupd_unlock(cli);
        zupd_conf_release(&cli->conf);
        zupd_log_close();
        return rc;
    }
    return zupd_fail(ZUPD_OK, "unknown command '%s'", args[0]);
}

static int
run(int argc, char **argv)
{
    const char *conf_path = ZUPD_CONF_DEFAULT;
    const struct zu_cmd *spec = NULL;
    struct zupd_cli cli;
    char **args = NULL;
    int i, rc, nargs;

    memset(&cli, 0, sizeof(cli));
    cli.lockfd = -1;
    if (argc == 2 && strcmp(argv[1], "--list-exit-codes") == 0) {
        zu_cli_list_exit_codes(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--list-commands") == 0) {
        for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++)
            printf("%s\t%s\n", specs[k].name, specs[k].summary);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("zupd %s\n", zupd_version());
        return 0;
    }
    /* the command: the first operand (the value of --config FILE is none) */
    for (i = 1; i < argc && argv[i][0] == '-'; i++)
        if (strcmp(argv[i], "--config") == 0)
            i++;
    if (i < argc)
        for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++)
            if (strcmp(argv[i], specs[k].name) == 0)
                spec = &specs[k];
    if (zu_cli_wants_help(spec != NULL ? argc - i : (i < argc ? i : argc),
                          spec != NULL ? argv + i : argv)) {
        if (spec != NULL)
            zu_cli_help(stdout, spec);
        else
            usage(stdout);
        return 0;
    }
    /* the global options before the command */
    rc = parse(&cli, &conf_path, &top, i < argc ? i : argc, argv);
    if (rc != 0)
        return rc;
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (spec == NULL) {
        zupd_fail(ZUPD_OK, "unknown command '%s'", argv[i]);
        usage(stderr);
        return EXIT_USAGE;
    }
    /* the command's options, before or after its operands */
    rc = parse(&cli, &conf_path, spec, argc - i, argv + i);
    if (rc != 0)
        return rc;
    if (cli.to != NULL && strcmp(spec->name, "rollback") != 0)
        return zupd_fail(ZUPD_OK, "--to is an option of rollback");
    nargs = argc - i - optind + 1;
    args = calloc((size_t)nargs + 1, sizeof(*args));
    if (args == NULL)
        return zupd_fail(ZUPD_E_NOMEM, "out of memory");
    args[0] = argv[i];
    for (int k = 1; k < nargs; k++)
        args[k] = argv[i + optind + k - 1];
    rc = run_cmd(&cli, conf_path, nargs, args);
    free(args);
    return rc;
}

int
main(int argc, char **argv)
{
    zu_cli_json_scan(argc, argv);
    return zu_cli_json_finish(run(argc, argv));
}
