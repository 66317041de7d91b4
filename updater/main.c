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
          "Exit: 0 ok, 1 usage, 10+code on a refusal (docs/errors.md), 100 update\n"
          "available (check), 101 health check failed and rolled back (update).\n"
          "See zupd(1).\n",
          f);
}

int
zupd_fail(int rc, const char *fmt, ...)
{
    int code = rc == ZUPD_OK ? EXIT_USAGE : zu_cli_exit(rc);
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "zupd: %s\n", msg);
    zu_cli_error(code, "%s", msg);
    return code;
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

static int
run(int argc, char **argv)
{
    const char *conf_path = ZUPD_CONF_DEFAULT;
    struct zupd_cli cli;
    char err[512];
    int i, rc;

    memset(&cli, 0, sizeof(cli));
    cli.lockfd = -1;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            conf_path = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            cli.json = true;
            zu_cli_json_set(true);
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            cli.quiet = true;
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            cli.verbose = true;
        } else if (strcmp(argv[i], "--wait") == 0) {
            cli.wait = -1;
        } else if (strncmp(argv[i], "--wait=", 7) == 0) {
            if (parse_seconds(argv[i] + 7, &cli.wait) != 0)
                return zupd_fail(ZUPD_OK, "--wait: '%s' is not a number of seconds", argv[i] + 7);
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--list-exit-codes") == 0) {
            zu_cli_list_exit_codes(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("zupd %s\n", zupd_version());
            return 0;
        } else {
            zupd_fail(ZUPD_OK, "unknown option '%s'", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[i], "version") == 0) {
        if (cli.json)
            zu_cli_json_print(json_pack("{s:s,s:s}", "program", "zupd", "version", zupd_version()));
        else
            printf("zupd %s\n", zupd_version());
        return 0;
    }
    for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
        if (strcmp(argv[i], cmds[k].name) != 0)
            continue;
        if (zupd_init() != ZUPD_OK)
            return zupd_fail(ZUPD_E_MISUSE, "cannot initialise the crypto libraries");
        if (zupd_conf_load(&cli.conf, conf_path, err, sizeof(err)) != 0)
            return zupd_fail(ZUPD_OK, "%s", err);
        cli.command = cmds[k].name;
        zupd_log_open(&cli);
        cli.progress = !cli.quiet && !cli.json && isatty(STDERR_FILENO);
        rc = zupd_lock(&cli, cmds[k].lock == LOCK_EXCLUSIVE);
        if (rc == 0)
            rc = cmds[k].fn(&cli, argc - i, argv + i);
        zupd_unlock(&cli);
        zupd_conf_release(&cli.conf);
        zupd_log_close();
        return rc;
    }
    zupd_fail(ZUPD_OK, "unknown command '%s'", argv[i]);
    usage(stderr);
    return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
    /* --json anywhere: even a usage error is answered in the envelope */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            zu_cli_json_set(true);
    return zu_cli_json_finish(run(argc, argv));
}
