/* SPDX-License-Identifier: Apache-2.0 */
/* updater/events.c -- what an update did, refused or failed, one line per
 * event, to syslog (journald reads it), as well as to the terminal; and
 * the error line of a command that fails (zupd_fail). */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <zupd/zupd.h>

#include "zupd.h"

static enum { TO_NONE, TO_SYSLOG, TO_SOCKET } log_to = TO_NONE;
static int log_fd = -1;

void
zupd_log_open(const struct zupd_cli *cli)
{
    const char *path = getenv("ZUPD_SYSLOG_SOCKET");
    struct sockaddr_un sa;

    if (!cli->conf.log_syslog)
        return;
    if (path == NULL || path[0] == 0) {
        openlog("zupd", LOG_PID, LOG_DAEMON);
        log_to = TO_SYSLOG;
        return;
    }
    /* for tests: the lines syslog(3) would send to /dev/log, sent to a
     * socket the test reads, so that no syslog daemon is needed */
    if (strlen(path) >= sizeof(sa.sun_path))
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (log_fd < 0)
        return;
    if (connect(log_fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(log_fd);
        log_fd = -1;
        return;
    }
    log_to = TO_SOCKET;
}

void
zupd_log_event(int priority, const char *fmt, ...)
{
    char msg[1024], line[1200];
    va_list ap;
    int n;

    if (log_to == TO_NONE)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *p = msg; *p != 0; p++) /* one line per event, whatever a reason holds */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (log_to == TO_SYSLOG) {
        syslog(priority, "%s", msg);
        return;
    }
    n = snprintf(line, sizeof(line), "<%d>zupd[%ld]: %s", LOG_DAEMON | priority, (long)getpid(),
                 msg);
    if (n > 0)
        (void)!send(log_fd, line, strlen(line), 0);
}

void
zupd_log_close(void)
{
    if (log_to == TO_SYSLOG)
        closelog();
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    log_to = TO_NONE;
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
