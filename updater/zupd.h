/* SPDX-License-Identifier: Apache-2.0 */
/* updater/zupd.h -- what the zupd program's files share. */
#ifndef ZUPD_UPDATER_ZUPD_H
#define ZUPD_UPDATER_ZUPD_H

#include <stdbool.h>
#include <jansson.h>

#include "conf.h"
#include "zu/cli.h"

/* Exit codes (include/zu/cli.h, docs/errors.md): 0 success, 1 usage or configuration error,
 * 10 + enum zupd_err when the library refused something, 100 from `check`
 * when an update is available, 101 from `update` when a health check failed
 * and the previous version was restored. */
#define EXIT_USAGE ZU_EXIT_USAGE
#define EXIT_ERR_BASE ZU_EXIT_ERR_BASE
#define EXIT_AVAILABLE ZU_EXIT_AVAILABLE
#define EXIT_UNHEALTHY ZU_EXIT_UNHEALTHY

struct zupd_cli {
    struct zupd_opts conf;
    bool json;
    bool quiet;
    bool verbose;        /* -v: the library's info and debug lines on stderr */
    const char *to;      /* rollback --to VERSION, or NULL */
    long wait;           /* --wait: seconds to wait for the lock, -1 forever, 0 not */
    const char *command; /* the command's name, for the lock and the log */
    bool progress;       /* a terminal: show a progress bar */
    int lockfd;          /* the state directory's lock (updater/lock.c), -1 none */
    bool exclusive;      /* it is held exclusively: leftovers may be removed */
};

int zupd_cmd_check(struct zupd_cli *cli, int argc, char **argv);
int zupd_cmd_update(struct zupd_cli *cli, int argc, char **argv);
int zupd_cmd_status(struct zupd_cli *cli, int argc, char **argv);
int zupd_cmd_rollback(struct zupd_cli *cli, int argc, char **argv);
int zupd_cmd_hold(struct zupd_cli *cli, int argc, char **argv);
int zupd_cmd_release(struct zupd_cli *cli, int argc, char **argv);
int zupd_cmd_verify(struct zupd_cli *cli, int argc, char **argv);

/* Take the state directory's lock, shared or exclusive, waiting cli->wait
 * seconds for it (-1 forever, 0 not at all); checks the state directory
 * first (not a symlink, owned by root or us, not writable by group or
 * others). The exclusive holder writes "pid N: zupd COMMAND" into the lock
 * so that the runs it blocks can name it. Returns 0, or the exit code after
 * printing why (10 + ZUPD_E_BUSY when another zupd holds it). */
int zupd_lock(struct zupd_cli *cli, bool exclusive);
void zupd_unlock(struct zupd_cli *cli);
/* Open a component's store as the lock allows: leftovers of a crash are
 * removed only under the exclusive lock. */
struct zupd_store;
int zupd_store_open_locked(const struct zupd_cli *cli, const char *component,
                           struct zupd_store **out);

/* The log (updater/events.c): one line per event of an update (installed,
 * up to date, held, refused, failed, rolled back) to syslog (LOG_DAEMON,
 * ident "zupd"), or to the datagram socket $ZUPD_SYSLOG_SOCKET (tests).
 * Nothing when zupd.conf says log_syslog = false. */
void zupd_log_open(const struct zupd_cli *cli);
void zupd_log_event(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void zupd_log_close(void);

/* One git-style error line on stderr ("zupd: ..."), kept for the --json
 * envelope, and the exit code for a library error (updater/events.c). */
int zupd_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Which keys signed what is installed (updater/signers.c). Record, for
 * version of st, the keys whose signatures on the trusted metadata of role
 * verify, with their names from the targets key table; kept in the
 * component's signed-by.json. */
struct zupd_updater;
struct zupd_store;
int zupd_signers_record(struct zupd_updater *u, struct zupd_store *st, const char *role,
                        const char *version);
/* The signers recorded for version: a new JSON array of {"keyid","name"}
 * (empty when unknown). */
json_t *zupd_signers_get(struct zupd_store *st, const char *version);
/* "  signed by: NAME (KEYID...), ..." */
void zupd_signers_print(json_t *list);

#endif
