/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/cli/cmd_serve.c -- `zupd-mirror serve`: options, signals, access log
 * file; the server itself is mirror/serve/serve.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cmd_serve.h"
#include "cli/daemon.h"
#include "serve/serve.h"
#include "zu/cli.h"

#define EXIT_USAGE ZU_EXIT_USAGE

static const struct zu_opt serve_opts[] = {
    {"listen", required_argument, 'l', 0, "ADDR:PORT",
     "address to listen on (default 127.0.0.1:8080; [ADDR6]:PORT; port 0 picks one)"},
    {"threads", required_argument, 't', 0, "N", "worker threads, one epoll each (default: CPUs)"},
    {"max-connections", required_argument, 'c', 0, "N", "connections in all (default 4096)"},
    {"max-per-ip", required_argument, 'p', 0, "N",
     "connections per client address (default 64; 0: no limit)"},
    {"timeout", required_argument, 'T', 0, "SECONDS", "idle connection timeout (default 30)"},
    {"request-timeout", required_argument, 'R', 0, "SECONDS",
     "a request not read whole this long closes its connection (default 60; 0: none)"},
    {"max-request-bytes", required_argument, 'r', 0, "N",
     "request line and headers, per connection (default 16384)"},
    {"max-age", required_argument, 'a', 0, "SECONDS",
     "Cache-Control max-age of timestamp.json and other mutable names (default 60)"},
    {"access-log", required_argument, 'L', 0, "FILE|-",
     "one line per request (reopened on SIGHUP)"},
    {"tls-cert", required_argument, 'C', 0, "FILE", "serve HTTPS with this certificate (PEM)"},
    {"tls-key", required_argument, 'K', 0, "FILE", "and this key (PEM)"},
    {"quiet", no_argument, 'q', 0, NULL, "no startup line"},
    ZU_OPT_END,
};
static const struct zu_cmd serve_cmd = {
    "zupd-mirror",
    "serve",
    "DIR",
    "Serve the repository tree DIR over HTTP/1.1 (GET and HEAD).",
    serve_opts,
    NULL,
    "Stops cleanly on SIGINT or SIGTERM. See docs/zupd-mirror-serve.md."};

static void
serve_usage(FILE *f)
{
    zu_cli_help(f, &serve_cmd);
}

static int
parse_uint(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || errno != 0 || end == s || *end != '\0' || v > max) {
        fprintf(stderr, "zupd-mirror serve: bad value '%s' for %s\n", s, opt);
        return -1;
    }
    *out = v;
    return 0;
}

static int
open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

/* zupd-mirror serve's options into o and *log_path. Returns true to go on;
 * false when the command ends here with exit status *code (--help, usage). */
static bool
serve_args(int argc, char **argv, struct zp_serve_opts *o, const char **log_path, int *code)
{
    unsigned long v;
    int ch;

    struct zu_cli_parser ps;
    const char *val;

    zu_cli_begin(&ps, &serve_cmd);
    while ((ch = zu_cli_getopt(&ps, argc, argv, &val)) != -1) {
        switch (ch) {
        case 'l':
            o->listen = optarg;
            break;
        case 't':
            if (parse_uint("--threads", optarg, 1024, &v) != 0) {
                *code = EXIT_USAGE;
                return false;
            }
            o->threads = (unsigned)v;
            break;
        case 'c':
            if (parse_uint("--max-connections", optarg, 1000000, &v) != 0) {
                *code = EXIT_USAGE;
                return false;
            }
            o->max_connections = (unsigned)v;
            break;
        case 'p':
            if (parse_uint("--max-per-ip", optarg, 1000000, &v) != 0) {
                *code = EXIT_USAGE;
                return false;
            }
            o->max_per_ip = v == 0 ? ZP_SERVE_UNLIMITED : (unsigned)v;
            break;
        case 'T':
            if (parse_uint("--timeout", optarg, 86400, &v) != 0) {
                *code = EXIT_USAGE;
                return false;
            }
            o->timeout_s = (unsigned)v;
            break;
        case 'R':
            if (parse_uint("--request-timeout", optarg, 86400, &v) != 0) {
                *code = EXIT_USAGE;
                return false;
            }
            o->request_timeout_s = v == 0 ? ZP_SERVE_UNLIMITED : (unsigned)v;
            break;
        case 'r':
            if (parse_uint("--max-request-bytes", optarg, 1u << 20, &v) != 0 || v < 1024) {
                fprintf(stderr, "zupd-mirror serve: --max-request-bytes is 1024..1048576\n");
                *code = EXIT_USAGE;
                return false;
            }
            o->max_request_bytes = v;
            break;
        case 'a':
            if (parse_uint("--max-age", optarg, 31536000, &v) != 0) {
                *code = EXIT_USAGE;
                return false;
            }
            o->short_max_age = (unsigned)v;
            break;
        case 'L':
            *log_path = optarg;
            break;
        case 'C':
            o->tls_cert = optarg;
            break;
        case 'K':
            o->tls_key = optarg;
            break;
        case 'q':
            zp_daemon_quiet(true);
            break;
        case ZU_CLI_HELP:
            serve_usage(stdout);
            *code = 0;
            return false;
        default: /* reported */
            *code = EXIT_USAGE;
            return false;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "zupd-mirror serve: %s\n", optind >= argc ? "missing DIR" : "one DIR only");
        serve_usage(stderr);
        *code = EXIT_USAGE;
        return false;
    }
    o->root = argv[optind];
    return true;
}

/* Until SIGINT or SIGTERM: SIGHUP reopens the access log (rotation). */
static void
wait_signals(const sigset_t *set, const struct zp_serve_opts *o, const char *log_path)
{
    int sig;

    for (;;) {
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGHUP && log_path != NULL && o->access_log_fd != STDOUT_FILENO) {
            /* log rotation: the server keeps writing to the same fd number */
            int fd = open_log(log_path);

            if (fd < 0) {
                fprintf(stderr, "zupd-mirror: cannot reopen access log '%s': %s\n", log_path,
                        strerror(errno));
                continue;
            }
            if (dup3(fd, o->access_log_fd, O_CLOEXEC) < 0)
                fprintf(stderr, "zupd-mirror: cannot reopen access log '%s': %s\n", log_path,
                        strerror(errno));
            close(fd);
            continue;
        }
        if (sig == SIGINT || sig == SIGTERM)
            break;
    }
}

int
cmd_serve(int argc, char **argv)
{
    struct zp_serve_opts o;
    struct zp_server *srv = NULL;
    const char *log_path = NULL;
    char err[512];
    struct rlimit rl;
    sigset_t set;
    int code, rc;

    zp_serve_opts_init(&o);
    o.log_fn = zp_daemon_log;
    if (!serve_args(argc, argv, &o, &log_path, &code))
        return code;
    /* tests: exercise the path walk of kernels without openat2 */
    if (getenv("ZUPD_SERVE_WALK_PATHS") != NULL)
        o.walk_paths = 1;

    if (log_path != NULL && strcmp(log_path, "-") == 0) {
        o.access_log_fd = STDOUT_FILENO;
    } else if (log_path != NULL) {
        o.access_log_fd = open_log(log_path);
        if (o.access_log_fd < 0) {
            fprintf(stderr, "zupd-mirror: cannot open access log '%s': %s\n", log_path,
                    strerror(errno));
            return zu_cli_exit(ZUPD_E_IO);
        }
    }
    /* one descriptor per connection: use all the process may have */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    zp_daemon_signals(&set, SIGHUP); /* SIGHUP: the access log is reopened */

    rc = zp_serve_start(&o, &srv, err, sizeof(err));
    if (rc != ZUPD_OK) {
        fprintf(stderr, "zupd-mirror: %s\n", err[0] != '\0' ? err : zupd_strerror(rc));
        if (o.access_log_fd > STDOUT_FILENO)
            close(o.access_log_fd);
        return zu_cli_exit(rc);
    }
    wait_signals(&set, &o, log_path);
    zp_serve_stop(srv);
    if (!zp_daemon_is_quiet())
        fprintf(stderr, "zupd-mirror: stopped\n");
    if (o.access_log_fd > STDOUT_FILENO)
        close(o.access_log_fd);
    return 0;
}
