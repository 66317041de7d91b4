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

#endif
