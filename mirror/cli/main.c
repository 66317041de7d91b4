/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/main.c -- zupd-mirror: repository tools and server, dispatch only. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd_common.h"
#include "cli/cmd_repo.h"
#include "keys/passphrase.h"
#include "pub.h"
#include "zu/cli.h"

static void
usage(FILE *f)
{
    fputs(
        "usage: zupd-mirror COMMAND [ARGS]\n"
        "\n"
        "commands:\n"
        "  version     print the version\n"
        "  init DIR    a new repository; key generate|import|list|show|rotate: keys\n"
        "  publish COMPONENT VERSION PATH, promote COMPONENT VERSION --channel C\n"
        "  refresh, prune --keep N, stage ROLE, sign FILE --key K|PKCS11-URI, import FILE\n"
        "  key add|remove|threshold ROLE ...   a role's keys (another's public key, a threshold)\n"
        "  publish --stage [--channel C]   a release waiting for the auditor; unstage ROLE\n"
        "  audit STAGED --rebuild DIR --key K   check a staged release, sign it if it passes\n"
        "  verify DIR  check a repository as a client does (see docs/mirror.md)\n"
        "  log verify|show|monitor DIR|URL   the transparency log: check it against the\n"
        "              repository, list its entries, watch it for new ones and forks\n"
        "  log cosign DIR   ask the log's witnesses to cosign its checkpoint\n"
        "  log proof DIR PATH [--old SIZE] [--out FILE]   a target's offline proof unit\n"
        "  floor COMPONENT VERSION   the vendor's security floor of a component\n"
        "  policy init|pin|rollback|release|show   the enterprise policy repository\n"
        "  delta       create or apply a binary delta (delta --help)\n"
        "  serve       serve the repository tree over HTTP\n"
        "  witness init|serve   a C2SP tlog-witness that cosigns logs' checkpoints\n"
        "  sync URL DIR --root ROOT.json   mirror a repository, verified\n"
        "\n"
        "'zupd-mirror COMMAND --help' prints a command's usage and options;\n"
        "--list-commands the commands, --list-exit-codes the exit codes (docs/errors.md).\n"
        "See zupd-mirror(1).\n",
        f);
}

/* `sync` and `serve` are programs of their own, zupd-mirror-sync and
 * zupd-mirror-serve (mirror/cli/net_main.c: only they load the network
 * libraries), run from beside this program (the build tree), else from the
 * package's libexec directory. Returns only on failure. */
static int
run_net(const char *cmd, char **argv)
{
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(path, sizeof(path), "%s/zupd-mirror-%s", self, cmd);
            if (access(path, X_OK) == 0)
                execv(path, argv);
        }
    }
    snprintf(path, sizeof(path), "%s/zupd-mirror-%s", ZU_PKGLIBEXECDIR, cmd);
    execv(path, argv);
    return zp_cmd_fail(ZUPD_E_IO, "run", path, strerror(errno));
}

static int
run(int argc, char **argv)
{
    /* passphrases out of the environment before anything else: no command
     * (and no program it runs, such as the long-running serve or sync)
     * keeps them there); audit needs the auditor's and witness the witness
     * key's, and take them themselves (zupd-mirror-audit and
     * zupd-mirror-witness, net_main.c) */
    if (argc >= 2 && (strcmp(argv[1], "audit") == 0 || strcmp(argv[1], "witness") == 0))
        return run_net(argv[1], argv);
    zp_pass_env_take();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--list-commands") == 0) {
        zp_cmd_list(stdout);
        printf("audit\tcheck a staged release against a rebuild, sign it if it passes\n"
               "delta\tcreate or apply a binary delta\n"
               "serve\tserve the repository tree over HTTP\n"
               "sync\tmirror a repository, verified\n"
               "version\tprint the version\n"
               "witness\ta C2SP tlog-witness: witness init|serve\n");
        return 0;
    }
    if (strcmp(argv[1], "--list-exit-codes") == 0) {
        zu_cli_list_exit_codes(stdout);
        return 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--json") != 0)
                return zp_cmd_usage("version takes no operand and no option but --json");
        if (zu_cli_json())
            zu_cli_json_print(
                json_pack("{s:s,s:s}", "program", "zupd-mirror", "version", zp_pub_version()));
        else
            printf("zupd-mirror %s\n", zp_pub_version());
        return 0;
    }
    if (zp_cmd_is_repo(argv[1]))
        return zp_cmd_repo(argc - 1, argv + 1);
    if (strcmp(argv[1], "delta") == 0)
        return zu_cmd_delta(argc - 1, argv + 1);
    if (strcmp(argv[1], "serve") == 0 || strcmp(argv[1], "sync") == 0)
        return run_net(argv[1], argv);
    zp_cmd_usage("unknown command");
    fprintf(stderr, "zupd-mirror: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
    zu_cli_json_scan(argc, argv);
    return zu_cli_json_finish(run(argc, argv));
}
