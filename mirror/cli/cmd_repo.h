/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_repo.h -- zupd-mirror's repository commands (argument parsing,
 * passphrases, messages; the logic is in repo.h). */
#ifndef ZP_CMD_REPO_H
#define ZP_CMD_REPO_H

/* True when cmd is one of the repository commands. */
int zp_cmd_is_repo(const char *cmd);
/* Run argv[0] (the command) with its arguments; returns the exit code:
 * 0, 1 for usage, 10 + zupd_err when refused. */
int zp_cmd_repo(int argc, char **argv);

/* The command table's entry of a repository command (its options), NULL
 * for another name. */
struct zu_cmd;
const struct zu_cmd *zp_cmd_spec(const char *name);
/* The repository commands, "NAME<TAB>SUMMARY" a line. */
#include <stdio.h>
void zp_cmd_list(FILE *f);

#endif
