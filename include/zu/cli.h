/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/cli.h -- what zupd and zupd-mirror share on the command line:
 * the one exit-code table (docs/errors.md). Compiled into each program
 * (common/cli.c), never into libzupd: it prints and decides exit codes. */
#ifndef ZU_CLI_H
#define ZU_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes of both programs (docs/errors.md): 0 success, 1 usage or
 * configuration error, 10 + enum zupd_err when the library refused
 * something, 100 from `zupd check` when an update is available, 101 from
 * `zupd update|rollback` when a health check failed and the previous
 * version was restored. The numbers never change. */
#define ZU_EXIT_OK 0
#define ZU_EXIT_USAGE 1
#define ZU_EXIT_ERR_BASE 10
#define ZU_EXIT_AVAILABLE 100
#define ZU_EXIT_UNHEALTHY 101

/* The exit code for a library code (ZUPD_OK: 0). */
int zu_cli_exit(int zupd_rc);
/* The stable name ("usage", "rollback", "available") and one-line message
 * of an exit code; "unknown" and "unknown exit code" for a number not in
 * the table. */
const char *zu_cli_exit_name(int code);
const char *zu_cli_exit_message(int code);
/* Print the table, one "CODE<TAB>NAME<TAB>MESSAGE" line each, ascending
 * (--list-exit-codes; tests/integration/cli_exit.sh compares it with
 * docs/errors.md). */
void zu_cli_list_exit_codes(FILE *f);

/* --json: one envelope for every command of both programs
 * (docs/json-envelope.schema.json). Success prints {"ok":true, FIELDS...};
 * a failure {"ok":false,"error":{"code":EXIT,"name":NAME,"message":TEXT}}
 * (with whatever FIELDS the command still reports), on stdout. */
void zu_cli_json_set(bool on);
bool zu_cli_json(void);
/* Turn --json on when it stands anywhere in argv before "--": even a usage
 * error found before a command parses its options is answered in the
 * envelope. Call first in main(). */
void zu_cli_json_scan(int argc, char **argv);
/* Note a failure: the first one noted is the envelope's error (code is the
 * exit status, message the line printed on stderr without the program's
 * name). Prints nothing. */
void zu_cli_error(int exit_code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print fields (a JSON object, reference stolen; NULL: none) inside the
 * envelope on stdout, with "ok" and the noted error if any. */
struct json_t;
void zu_cli_json_print(struct json_t *fields);
/* The end of a command: under --json, when nothing was printed yet, print
 * the envelope for exit_code (its noted error, else the table's message).
 * Returns exit_code. */
int zu_cli_json_finish(int exit_code);

/* ------------------------------------------------------------ options
 * One getopt_long parser for both programs, with a table of options per
 * command: options before or after operands, --opt=value and --opt value,
 * and an option a command does not take is a usage error. To add a command:
 * a struct zu_cmd with its options (and the shared ones in .common), a line
 * in the program's command table, and its entry in the man page (the test
 * tests/integration/cli_help.sh checks that every option is there). */
#include <getopt.h>

struct zu_opt {
    const char *name; /* the long name, without "--" */
    int has_arg;      /* no_argument, required_argument, optional_argument */
    int id;           /* what zu_cli_getopt returns for it */
    int short_name;   /* 'C', or 0 */
    const char *arg;  /* the value's name in the help ("DIR"), or NULL */
    const char *help; /* one line */
};
#define ZU_OPT_END                                                                                 \
    {                                                                                              \
        NULL, 0, 0, 0, NULL, NULL                                                                  \
    }

struct zu_cmd {
    const char *prog;            /* "zupd-mirror" */
    const char *name;            /* "init" */
    const char *synopsis;        /* operands, one form a line ("DIR", "generate NAME\nlist") */
    const char *summary;         /* one line */
    const struct zu_opt *opts;   /* this command's, ended by ZU_OPT_END; NULL none */
    const struct zu_opt *common; /* shared by several commands; NULL none */
    const char *more;            /* text after the options, or NULL */
};

#define ZU_CLI_MAX_OPTS 64
struct zu_cli_parser {
    const struct zu_cmd *cmd;
    struct option lo[ZU_CLI_MAX_OPTS + 2];
    int ids[ZU_CLI_MAX_OPTS + 2];
    char shorts[2 * ZU_CLI_MAX_OPTS + 4];
};

/* Values zu_cli_getopt returns besides an option's id. */
#define ZU_CLI_HELP (-2) /* --help or -h: print zu_cli_help(), exit 0 */
#define ZU_CLI_BAD (-3)  /* an unknown option or a missing value (reported) */

/* Start parsing argv (argv[0] is the command's name) for cmd. */
void zu_cli_begin(struct zu_cli_parser *p, const struct zu_cmd *cmd);
/* The next option: its id with its value in *arg (NULL when it has none),
 * ZU_CLI_HELP, ZU_CLI_BAD after a message on stderr (noted for --json), or
 * -1 at the end; the operands are then argv[optind..argc). */
int zu_cli_getopt(struct zu_cli_parser *p, int argc, char **argv, const char **arg);
/* Whether argv asks for help (--help or -h before "--"). */
bool zu_cli_wants_help(int argc, char **argv);
/* "usage: PROG NAME SYNOPSIS [OPTIONS]", the summary and every option. */
void zu_cli_help(FILE *f, const struct zu_cmd *cmd);
/* A usage error: "PROG: MSG (see PROG NAME --help)" on stderr, noted for
 * --json. Returns ZU_EXIT_USAGE. */
int zu_cli_usage(const struct zu_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
