/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/daemon.h -- what the two servers among the commands
 * (`zupd-mirror serve` and `zupd-mirror witness serve`) share: signals
 * taken by sigwait() only, and the library's log lines on stderr. */
#ifndef ZP_CLI_DAEMON_H
#define ZP_CLI_DAEMON_H

#include <signal.h>
#include <stdbool.h>

/* Ignore SIGPIPE, and block SIGINT, SIGTERM and extra (0: none) in this
 * thread, so that the threads the server starts inherit the mask and the
 * signals come to sigwait(set) only. Call before starting the server. */
void zp_daemon_signals(sigset_t *set, int extra);

/* zupd's log callback: "zupd-mirror: MSG" on stderr; after
 * zp_daemon_quiet(true), warnings and errors only. */
void zp_daemon_quiet(bool quiet);
bool zp_daemon_is_quiet(void);
void zp_daemon_log(void *opaque, int level, const char *msg);

#endif
