/* SPDX-License-Identifier: Apache-2.0 */
/* updater/cmd.c -- zupd's commands: output, hooks, health checks. The work
 * is done by libzupd (update.h, store.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <zupd/zupd.h>

#include "zu/fsio.h"
#include "zu/tlog_client.h"
#include "zupd.h"

static void
log_stderr(void *opaque, int level, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "zupd: %s%s\n", level == ZUPD_LOG_WARN ? "warning: " : "", msg);
}

/* Print a command's report for --json inside the envelope (common/cli.c),
 * then release it. */
static void
print_json(json_t *doc)
{
    zu_cli_json_print(doc);
}

struct session {
    struct zupd_ctx *ctx;
    struct zupd_transport *tr;
    struct zupd_updater *u;
};

static void
session_close(struct session *s)
{
    zupd_updater_free(s->u);
    zupd_transport_free(s->tr);
    zupd_ctx_free(s->ctx);
    memset(s, 0, sizeof(*s));
}

/* The receive cap for this run, bytes/s for all downloads together (0:
 * none): max_download_rate, unless the local time now is in
 * full_speed_window. Decided when the run starts. */
static uint64_t
download_rate(const struct zupd_opts *o)
{
    time_t now = time(NULL);
    struct tm tm;

    if (o->has_full_speed_window && localtime_r(&now, &tm) != NULL &&
        zupd_window_contains(&o->full_speed_window, (unsigned)(tm.tm_hour * 60 + tm.tm_min)))
        return 0;
    return o->max_download_rate;
}

/* What zupd.conf's log group says to trust. */
static void
log_trust(const struct zupd_opts *o, struct zu_tlog_trust *t)
{
    memset(t, 0, sizeof(*t));
    t->origin = o->log_origin;
    t->log_key = o->log_key;
    t->witnesses = o->log_witnesses;
    t->nwitnesses = o->n_log_witnesses;
    t->quorum = o->log_quorum;
}

static int
session_open(struct zupd_cli *cli, struct session *s, char *err, size_t cap)
{
    struct zupd_curl_opts co = ZUPD_CURL_OPTS_DEFAULT;
    struct zupd_updater_opts uo;
    int rc;

    memset(s, 0, sizeof(*s));
    s->ctx = zupd_ctx_new();
    if (s->ctx == NULL)
        return ZUPD_E_NOMEM;
    zupd_ctx_set_log(s->ctx, log_stderr, NULL,
                     cli->quiet     ? ZUPD_LOG_ERR
                     : cli->verbose ? ZUPD_LOG_DEBUG
                                    : ZUPD_LOG_WARN);
    co.connect_timeout_ms = (uint32_t)cli->conf.connect_timeout * 1000u;
    co.low_speed_time = (uint32_t)cli->conf.low_speed_time;
    co.low_speed_limit = (uint32_t)cli->conf.low_speed_limit;
    co.ca_file = cli->conf.ca_file;
    co.ca_path = cli->conf.ca_path;
    co.proxy = cli->conf.proxy;
    co.max_recv_speed = download_rate(&cli->conf);
    rc = zupd_curl_transport_new(s->ctx, &co, &s->tr);
    if (rc != ZUPD_OK) {
        snprintf(err, cap, "cannot set up libcurl");
        return rc;
    }
    zupd_updater_opts_init(&uo);
    uo.mirrors = (const char *const *)cli->conf.mirrors;
    uo.n_mirrors = cli->conf.n_mirrors;
    uo.state_dir = cli->conf.state_dir;
    uo.trusted_root = cli->conf.trusted_root;
    uo.transport = s->tr;
    uo.ctx = s->ctx;
    uo.parallel = cli->conf.parallel;
    uo.max_file_size = cli->conf.max_file_size;
    uo.max_release_size = cli->conf.max_release_size;
    uo.max_cache_size = cli->conf.max_cache_size;
    uo.mirror_time_budget = (uint32_t)cli->conf.mirror_time_budget;
    if (cli->conf.policy_url != NULL) {
        uo.policy_mirrors = (const char *const *)&cli->conf.policy_url;
        uo.n_policy_mirrors = 1;
        uo.policy_root = cli->conf.policy_root;
    }
    rc = zupd_updater_new(&uo, &s->u, err, cap);
    if (rc == ZUPD_OK && cli->conf.has_log) {
        struct zu_tlog_trust t;
        log_trust(&cli->conf, &t);
        rc = zu_updater_set_log(s->u, &t);
        if (rc != ZUPD_OK)
            snprintf(err, cap, "cannot use the configured transparency log: %s", zupd_strerror(rc));
    }
    return rc;
}

/* Components named on the command line, or all of them. */
static int
selected(const struct zupd_cli *cli, int argc, char **argv, const struct zupd_component_conf **out,
         size_t *n)
{
    *n = 0;
    if (argc <= 1) {
        for (size_t i = 0; i < cli->conf.n_components; i++)
            out[(*n)++] = &cli->conf.components[i];
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        const struct zupd_component_conf *c = zupd_conf_component(&cli->conf, argv[i]);
        if (c == NULL) {
            zupd_fail(ZUPD_OK, "no component '%s' in the configuration", argv[i]);
            return -1;
        }
        out[(*n)++] = c;
    }
    return 0;
}

/* Requests and bytes of the session's transport (zeros if unreadable). */
static struct zupd_fetch_stats
updater_stats(const struct zupd_updater *u)
{
    struct zupd_fetch_stats fs;

    zupd_fetch_stats_init(&fs);
    if (zupd_updater_stats(u, &fs) != ZUPD_OK)
        zupd_fetch_stats_init(&fs);
    return fs;
}

static void
fmt_time(int64_t t, char *buf, size_t cap)
{
    if (t == 0 || zupd_time_format(t, buf, cap) != ZUPD_OK)
        snprintf(buf, cap, "never");
}

static void
note_result(const struct zupd_cli *cli, const char *comp, const char *available, const char *error)
{
    struct zupd_store *st = NULL;
    struct zupd_store_state s;

    if (zupd_store_open_locked(cli, comp, &st) != ZUPD_OK)
        return;
    if (zupd_store_state_load(st, &s) == ZUPD_OK) {
        if (available != NULL)
            snprintf(s.available, sizeof(s.available), "%s", available);
        snprintf(s.last_error, sizeof(s.last_error), "%s", error != NULL ? error : "");
        if (error == NULL)
            s.last_check = (int64_t)time(NULL);
        if (zupd_store_state_save(st, &s) != ZUPD_OK)
            fprintf(stderr, "zupd: warning: cannot save the state of '%s'\n", comp);
        zupd_store_state_release(&s);
    }
    zupd_store_free(st);
}

/* What the enterprise policy says of a component, for --json (null: the
 * policy has no pointer for it, or there is no policy). */
static json_t *
policy_json(const struct zupd_resolved *r)
{
    char when[32] = "";
    json_t *p;

    if (r->policy_version[0] == 0)
        return json_null();
    p = json_pack("{s:s,s:s,s:b}", "version", r->policy_version, "kind",
                  r->policy_rollback ? "rollback" : "pin", "followed",
                  r->source == ZUPD_SOURCE_POLICY);
    if (p != NULL && r->policy_expires != 0) {
        fmt_time(r->policy_expires, when, sizeof(when));
        json_object_set_new(p, "expires", json_string(when));
    }
    if (p != NULL && r->note[0] != 0)
        json_object_set_new(p, "note", json_string(r->note));
    if (p != NULL && r->why[0] != 0)
        json_object_set_new(p, "ignored_because", json_string(r->why));
    return p;
}

/* " (enterprise policy: ...)" when a policy pointer decided or was ignored. */
static void
describe_source(const struct zupd_resolved *r, char *buf, size_t cap)
{
    buf[0] = 0;
    if (r->policy_version[0] == 0)
        return;
    if (r->source == ZUPD_SOURCE_POLICY)
        snprintf(buf, cap, " (enterprise policy: %s %s; vendor's channel: %s%s%s)",
                 r->policy_rollback ? "rolled back to" : "pinned to", r->policy_version,
                 r->vendor_version, r->note[0] ? "; note: " : "", r->note);
    else
        snprintf(buf, cap, " (enterprise pin to %s not followed: %s)", r->policy_version, r->why);
}

int
zupd_cmd_check(struct zupd_cli *cli, int argc, char **argv)
{
    const struct zupd_component_conf *sel[ZUPD_CONF_MAX_COMPONENTS];
    struct session s;
    char err[1024] = "";
    json_t *out = json_array();
    size_t n = 0;
    int rc, exit_code = 0;
    bool changed = false;

    if (selected(cli, argc, argv, sel, &n) != 0) {
        json_decref(out);
        return EXIT_USAGE;
    }
    rc = session_open(cli, &s, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zupd_updater_refresh(s.u, &changed, err, sizeof(err));
    if (rc != ZUPD_OK) {
        for (size_t i = 0; i < n; i++)
            note_result(cli, sel[i]->name, NULL, err);
        session_close(&s);
        json_decref(out);
        return zupd_fail(rc, "cannot check: %s", err);
    }
    for (size_t i = 0; i < n; i++) {
        const struct zupd_component_conf *c = sel[i];
        char ver[ZUPD_NAME_MAX + 1] = "", cur[ZUPD_NAME_MAX + 1] = "", how[1024];
        struct zupd_store *st = NULL;
        struct zupd_store_state state;
        struct zupd_resolved res;
        bool avail = false, held = false, bad = false;

        rc = zupd_updater_resolve(s.u, c->role, c->name, c->channel, &res, err, sizeof(err));
        if (rc != ZUPD_OK) {
            note_result(cli, c->name, NULL, err);
            exit_code = zupd_fail(rc, "cannot check '%s': %s", c->name, err);
            continue;
        }
        snprintf(ver, sizeof(ver), "%s", res.version);
        if (zupd_store_open_locked(cli, c->name, &st) == ZUPD_OK) {
            if (zupd_store_current(st, cur, sizeof(cur)) != ZUPD_OK)
                cur[0] = 0;
            if (zupd_store_state_load(st, &state) == ZUPD_OK) {
                held = state.held;
                bad = zupd_store_state_is_bad(&state, ver);
                zupd_store_state_release(&state);
            }
            zupd_store_free(st);
        }
        note_result(cli, c->name, ver, NULL);
        avail = strcmp(ver, cur) != 0 && !held && !bad;
        if (avail && exit_code == 0)
            exit_code = EXIT_AVAILABLE;
        if (cli->json) {
            json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:s,s:s}", "component", c->name,
                                  "channel", c->channel, "installed", cur, "available", ver,
                                  "update", avail, "held", held, "bad", bad, "source",
                                  res.source == ZUPD_SOURCE_POLICY ? "policy" : "vendor",
                                  "vendor_version", res.vendor_version);
            if (e != NULL)
                json_object_set_new(e, "policy", policy_json(&res));
            json_array_append_new(out, e);
        } else if (!cli->quiet) {
            describe_source(&res, how, sizeof(how));
            printf("%s: installed %s, channel '%s' names %s%s%s\n", c->name, cur[0] ? cur : "none",
                   c->channel, ver, how,
                   held    ? " (held)"
                   : bad   ? " (marked bad: not retried)"
                   : avail ? ": update available"
                           : ": up to date");
        }
    }
    if (cli->json) {
        struct zupd_fetch_stats fs = updater_stats(s.u);
        char exp[32];
        fmt_time(zupd_updater_expires(s.u), exp, sizeof(exp));
        json_t *doc = json_pack("{s:o,s:b,s:I,s:I,s:s}", "components", out, "metadata_changed",
                                changed, "requests", (json_int_t)fs.requests, "bytes",
                                (json_int_t)fs.bytes, "timestamp_expires", exp);
        print_json(doc);
    } else {
        json_decref(out);
    }
    session_close(&s);
    return exit_code;
}

/* How long what a hook leaves behind, or a hook past its timeout, has
 * between SIGTERM and SIGKILL; and how long its output is read after that
 * (a process that left the group may hold the pipe open for ever). */
#define HOOK_GRACE_MS 3000
#define HOOK_DRAIN_MS 1000
#define HOOK_LINE_MAX 1024

enum hook_result { HOOK_OK, HOOK_FAILED, HOOK_TIMED_OUT };

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line of a hook's output to stderr, never stdout (--json), as
 * "zupd: COMPONENT HOOK: line"; control characters become '?' so a hook
 * cannot forge log lines or move the terminal's cursor. */
static void
hook_line(const char *comp, const char *what, char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = line[i] == '\t' ? ' ' : '?';
    fprintf(stderr, "zupd: %s %s: %.*s\n", comp, what, (int)len, line);
}

/* Run hook `what` (cmd, with sh -c) of comp in a process group of its own,
 * stdin /dev/null, stdout and stderr copied line by line to our stderr.
 * After timeout_s seconds (0: none) the group gets SIGTERM, then SIGKILL
 * HOOK_GRACE_MS later; so does what the hook leaves running when it exits.
 * HOOK_OK when cmd is NULL or it exits 0. */
static enum hook_result
run_hook(const char *what, const char *cmd, unsigned timeout_s, const char *comp,
         const char *version, const char *previous)
{
    char line[HOOK_LINE_MAX];
    size_t len = 0;
    int pfd[2] = {-1, -1}, status = 0;
    int64_t deadline, term_at = -1;
    bool reaped = false, killed = false, timed_out = false;
    pid_t pid;

    if (cmd == NULL)
        return HOOK_OK;
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        fprintf(stderr, "zupd: cannot run %s of '%s': %s\n", what, comp, strerror(errno));
        return HOOK_FAILED;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "zupd: cannot run %s of '%s': %s\n", what, comp, strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return HOOK_FAILED;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        (void)setpgid(0, 0);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        setenv("ZUPD_COMPONENT", comp, 1);
        setenv("ZUPD_VERSION", version, 1);
        setenv("ZUPD_PREVIOUS_VERSION", previous, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    (void)setpgid(pid, pid); /* as the child does: whichever runs first */
    close(pfd[1]);
    deadline = timeout_s > 0 ? now_ms() + (int64_t)timeout_s * 1000 : INT64_MAX;
    for (;;) {
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int64_t now;
        ssize_t n;

        if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
            reaped = true;
            if (term_at < 0) { /* what it left behind in its group */
                (void)kill(-pid, SIGTERM);
                term_at = now_ms();
            }
        }
        if (reaped && pfd[0] < 0)
            break;
        now = now_ms();
        if (!reaped && term_at < 0 && now >= deadline) {
            timed_out = true;
            (void)kill(-pid, SIGTERM);
            term_at = now;
        }
        if (term_at >= 0 && !killed && now >= term_at + HOOK_GRACE_MS) {
            (void)kill(-pid, SIGKILL);
            killed = true;
        }
        if (killed && reaped && now >= term_at + HOOK_GRACE_MS + HOOK_DRAIN_MS)
            break;
        /* 100 ms: waitpid() has no descriptor to poll for the hook's exit */
        if (poll(&p, pfd[0] >= 0 ? 1 : 0, 100) <= 0 || pfd[0] < 0)
            continue;
        n = read(pfd[0], line + len, sizeof(line) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(pfd[0]);
            pfd[0] = -1;
            continue;
        }
        len += (size_t)n;
        for (char *nl; (nl = memchr(line, '\n', len)) != NULL;) {
            size_t k = (size_t)(nl - line);
            hook_line(comp, what, line, k);
            memmove(line, nl + 1, len - k - 1);
            len -= k + 1;
        }
        if (len == sizeof(line)) { /* a line too long: in pieces */
            hook_line(comp, what, line, len);
            len = 0;
        }
    }
    if (len > 0)
        hook_line(comp, what, line, len);
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (!reaped)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    if (timed_out) {
        fprintf(stderr, "zupd: %s of '%s' timed out after %u s: killed\n", what, comp, timeout_s);
        return HOOK_TIMED_OUT;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? HOOK_OK : HOOK_FAILED;
}

static void
progress_bar(void *opaque, const struct zupd_install_stats *st)
{
    const char *name = opaque;
    size_t done = st->linked + st->by_delta + st->by_chain + st->by_blob, w = 30;
    size_t fill = st->files > 0 ? done * w / st->files : w;
    char bar[64];

    for (size_t i = 0; i < w; i++)
        bar[i] = i < fill ? '=' : ' ';
    bar[w] = 0;
    fprintf(stderr, "\r%s [%s] %zu/%zu files, %" PRIu64 " KiB", name, bar, done, st->files,
            st->downloaded / 1024);
    if (done == st->files)
        fputc('\n', stderr);
}

/* Switch comp to version, run the hooks and the health check; on a failed
 * health check switch back and mark the version bad. */
static int
switch_checked(struct zupd_cli *cli, const struct zupd_component_conf *c, struct zupd_store *st,
               const char *version, const char *previous, char *err, size_t cap)
{
    struct zupd_store_state state;
    enum hook_result hc;
    int rc;

    hc = run_hook("pre_switch", c->pre_switch, c->hook_timeout, c->name, version, previous);
    if (hc != HOOK_OK) {
        snprintf(err, cap, "pre_switch hook %s: not switching to %s",
                 hc == HOOK_TIMED_OUT ? "timed out" : "failed", version);
        return ZUPD_E_MISUSE;
    }
    rc = zupd_store_switch(st, version, c->install_path);
    if (rc == ZUPD_E_EXISTS) {
        snprintf(
            err, cap,
            "cannot switch to %s: install_path '%s' exists and is not a symlink to '%s/current'",
            version, c->install_path, zupd_store_dir(st));
        return rc;
    }
    if (rc != ZUPD_OK) {
        snprintf(err, cap, "cannot switch to %s: %s", version, zupd_strerror(rc));
        return rc;
    }
    hc = run_hook("health_check", c->health_check, c->health_check_timeout, c->name, version,
                  previous);
    if (hc == HOOK_OK) {
        if (run_hook("post_switch", c->post_switch, c->hook_timeout, c->name, version, previous) !=
            HOOK_OK)
            fprintf(stderr, "zupd: warning: post_switch hook of '%s' failed\n", c->name);
        return ZUPD_OK;
    }
    /* unhealthy: back at once, and never again until the channel moves */
    if (previous[0] != 0 && zupd_store_switch(st, previous, c->install_path) != ZUPD_OK)
        fprintf(stderr, "zupd: cannot switch '%s' back to %s\n", c->name, previous);
    if (zupd_store_state_load(st, &state) == ZUPD_OK) {
        if (zupd_store_state_mark_bad(&state, version) != ZUPD_OK ||
            zupd_store_state_save(st, &state) != ZUPD_OK)
            fprintf(stderr, "zupd: warning: cannot mark %s bad\n", version);
        zupd_store_state_release(&state);
    }
    snprintf(err, cap, "health check %s on %s: back on %s, %s marked bad",
             hc == HOOK_TIMED_OUT ? "timed out" : "failed", version,
             previous[0] ? previous : "nothing", version);
    (void)cli;
    return -1;
}

/* A refusal is a security decision on what the mirror sent; a failure is
 * trouble on the way (network, disk, configuration). */
static const char *
failure_kind(int rc)
{
    switch (rc) {
    case ZUPD_E_FORMAT:
    case ZUPD_E_TOOBIG:
    case ZUPD_E_SIG:
    case ZUPD_E_THRESHOLD:
    case ZUPD_E_EXPIRED:
    case ZUPD_E_ROLLBACK:
    case ZUPD_E_HASH:
    case ZUPD_E_LENGTH:
    case ZUPD_E_KEYTYPE:
    case ZUPD_E_SPEC:
    case ZUPD_E_ROLE:
    case ZUPD_E_MISMATCH:
        return "refused";
    default:
        return "failed";
    }
}

/* One line per event of update_one (docs/zupd.1, LOGGING): key=value, the
 * reason last, to the end of the line. */
static void
log_update(const char *comp, const char *action, int rc, const char *from, const char *to,
           uint64_t bytes, const char *reason)
{
    from = from[0] ? from : "none";
    to = to[0] ? to : "none";
    if (strcmp(action, "installed") == 0)
        zupd_log_event(LOG_NOTICE, "component=%s action=installed from=%s to=%s bytes=%" PRIu64,
                       comp, from, to, bytes);
    else if (strcmp(action, "up-to-date") == 0 || strcmp(action, "held") == 0)
        zupd_log_event(LOG_INFO, "component=%s action=%s version=%s", comp, action, from);
    else if (strcmp(action, "bad") == 0)
        zupd_log_event(LOG_WARNING,
                       "component=%s action=refused from=%s to=%s reason=%s is marked bad (a "
                       "health check failed on it)",
                       comp, from, to, to);
    else if (strcmp(action, "rolled-back") == 0)
        zupd_log_event(LOG_ERR, "component=%s action=rolled-back from=%s to=%s reason=%s", comp,
                       from, to, reason);
    else
        zupd_log_event(LOG_ERR, "component=%s action=%s from=%s to=%s reason=%s (%s)", comp,
                       failure_kind(rc), from, to, reason[0] ? reason : "-", zupd_strerror(rc));
}

static int
update_one(struct zupd_cli *cli, struct session *s, const struct zupd_component_conf *c,
           json_t *report)
{
    char ver[ZUPD_NAME_MAX + 1] = "", cur[ZUPD_NAME_MAX + 1] = "", err[1024] = "";
    struct zupd_install_stats stats;
    struct zupd_store_state state;
    struct zupd_store *st = NULL;
    struct zupd_manifest *m = NULL;
    uint8_t *mbytes = NULL;
    size_t mlen = 0;
    const char *action = "none";
    struct zupd_resolved res;
    bool fresh = false;
    int rc, exit_code = 0;

    zupd_install_stats_init(&stats);
    memset(&state, 0, sizeof(state));
    memset(&res, 0, sizeof(res));
    rc = zupd_store_open_locked(cli, c->name, &st);
    if (rc == ZUPD_OK)
        rc = zupd_store_state_load(st, &state);
    if (rc != ZUPD_OK) {
        snprintf(err, sizeof(err), "cannot open the state of '%s'", c->name);
        action = "failed";
        exit_code = zupd_fail(rc, "cannot open the state of '%s'", c->name);
        goto out;
    }
    if (zupd_store_current(st, cur, sizeof(cur)) != ZUPD_OK)
        cur[0] = 0;
    if (state.held) {
        action = "held";
        goto out;
    }
    rc = zupd_updater_resolve(s->u, c->role, c->name, c->channel, &res, err, sizeof(err));
    if (rc != ZUPD_OK)
        goto fail;
    snprintf(ver, sizeof(ver), "%s", res.version);
    if (strcmp(ver, cur) == 0) {
        action = "up-to-date";
        goto done;
    }
    if (zupd_store_state_is_bad(&state, ver)) {
        action = "bad";
        goto done;
    }
    /* in the vendor's transparency log, whether new or installed before,
     * and so is the vendor's pointer to it */
    rc = zu_updater_log_check(s->u, c->role, c->name, ver,
                              res.source == ZUPD_SOURCE_VENDOR ? c->channel : NULL, err,
                              sizeof(err));
    if (rc != ZUPD_OK)
        goto fail;
    fresh = !zupd_store_has(st, ver);
    if (fresh) {
        rc = zupd_updater_manifest(s->u, c->role, c->name, ver, &mbytes, &mlen, &m, err,
                                   sizeof(err));
        if (rc != ZUPD_OK)
            goto fail;
        rc = zupd_updater_install(s->u, st, mbytes, mlen, cli->progress ? progress_bar : NULL,
                                  c->name, &stats, err, sizeof(err));
        if (rc != ZUPD_OK)
            goto fail;
    }
    rc = switch_checked(cli, c, st, ver, cur, err, sizeof(err));
    if (rc == -1) {
        action = "rolled-back";
        exit_code = EXIT_UNHEALTHY;
        fprintf(stderr, "zupd: %s: %s\n", c->name, err);
        zu_cli_error(EXIT_UNHEALTHY, "%s: %s", c->name, err);
        goto done;
    }
    if (rc != ZUPD_OK)
        goto fail;
    action = "installed";
    if (zupd_signers_record(s->u, st, c->role, ver) != ZUPD_OK)
        fprintf(stderr, "zupd: warning: cannot record which keys signed %s %s\n", c->name, ver);
    if (!cli->json && !cli->quiet && res.source == ZUPD_SOURCE_POLICY)
        printf("%s: following the enterprise policy: %s %s (vendor's channel: %s)%s%s\n", c->name,
               res.policy_rollback ? "rolled back to" : "pinned to", res.version,
               res.vendor_version, res.note[0] ? "; note: " : "", res.note);
    if (zupd_store_prune(st, c->keep) != ZUPD_OK)
        fprintf(stderr, "zupd: warning: cannot remove old versions of '%s'\n", c->name);
    if (!cli->json && !cli->quiet && !fresh)
        printf("%s: %s -> %s: switched to the installed version (no download)\n", c->name,
               cur[0] ? cur : "none", ver);
    else if (!cli->json && !cli->quiet)
        printf("%s: %s -> %s: %zu files (%zu unchanged, %zu by delta, %zu by delta chain, "
               "%zu whole), downloaded %" PRIu64 " of %" PRIu64 " bytes (%.2f%%)\n",
               c->name, cur[0] ? cur : "none", ver, stats.files, stats.linked, stats.by_delta,
               stats.by_chain, stats.by_blob, stats.downloaded, stats.full_size,
               stats.full_size ? 100.0 * (double)stats.downloaded / (double)stats.full_size : 0.0);
done:
    note_result(cli, c->name, ver, exit_code == 0 ? NULL : err);
    goto out;
fail:
    note_result(cli, c->name, ver[0] ? ver : NULL, err);
    exit_code = zupd_fail(rc, "cannot update '%s': %s", c->name, err);
    action = "failed";
out:
    log_update(c->name, action, rc, cur, ver, stats.downloaded, err);
    if (!cli->json && !cli->quiet &&
        (strcmp(action, "up-to-date") == 0 || strcmp(action, "held") == 0 ||
         strcmp(action, "bad") == 0))
        printf("%s: %s%s%s%s\n", c->name, action, cur[0] ? " on " : "", cur,
               res.source == ZUPD_SOURCE_POLICY ? " (as the enterprise policy says)" : "");
    json_array_append_new(
        report,
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:o}", "component", c->name,
                  "action", action, "from", cur, "to", ver, "files", (json_int_t)stats.files,
                  "unchanged", (json_int_t)stats.linked, "by_delta", (json_int_t)stats.by_delta,
                  "by_chain", (json_int_t)stats.by_chain, "whole", (json_int_t)stats.by_blob,
                  "delta_failed", (json_int_t)stats.delta_failed, "downloaded",
                  (json_int_t)stats.downloaded, "full_size", (json_int_t)stats.full_size, "source",
                  res.source == ZUPD_SOURCE_POLICY ? "policy" : "vendor", "policy",
                  policy_json(&res)));
    zupd_manifest_free(m);
    free(mbytes);
    zupd_store_state_release(&state);
    zupd_store_free(st);
    return exit_code;
}

int
zupd_cmd_update(struct zupd_cli *cli, int argc, char **argv)
{
    const struct zupd_component_conf *sel[ZUPD_CONF_MAX_COMPONENTS];
    struct session s;
    char err[1024] = "";
    json_t *report = json_array();
    size_t n = 0;
    int rc, exit_code = 0;

    if (selected(cli, argc, argv, sel, &n) != 0) {
        json_decref(report);
        return EXIT_USAGE;
    }
    rc = session_open(cli, &s, err, sizeof(err));
    if (rc == ZUPD_OK)
        rc = zupd_updater_refresh(s.u, NULL, err, sizeof(err));
    if (rc != ZUPD_OK) {
        for (size_t i = 0; i < n; i++) {
            note_result(cli, sel[i]->name, NULL, err);
            log_update(sel[i]->name, "failed", rc, "", "", 0, err);
        }
        session_close(&s);
        json_decref(report);
        return zupd_fail(rc, "cannot update: %s", err);
    }
    for (size_t i = 0; i < n; i++) {
        int r = update_one(cli, &s, sel[i], report);
        if (r != 0 && exit_code == 0)
            exit_code = r;
    }
    if (cli->json) {
        struct zupd_fetch_stats fs = updater_stats(s.u);
        json_t *doc = json_pack("{s:o,s:I,s:I,s:I}", "components", report, "requests",
                                (json_int_t)fs.requests, "bytes", (json_int_t)fs.bytes,
                                "connections", (json_int_t)fs.connections);
        print_json(doc);
    } else {
        json_decref(report);
    }
    session_close(&s);
    return exit_code;
}

/* Expiry of the locally trusted timestamp, without network. */
static int64_t
local_expiry(const char *state_dir)
{
    char path[4096];
    struct zupd_meta *m = NULL;
    uint8_t *buf = NULL;
    size_t n = 0;
    int64_t t = 0;

    snprintf(path, sizeof(path), "%s/metadata/timestamp.json", state_dir);
    if (zu_read_file(AT_FDCWD, path, 0, 65536, &buf, &n, NULL, 0) == ZUPD_OK &&
        zupd_meta_parse(buf, n, NULL, ZUPD_META_TIMESTAMP, &m, NULL, 0) == ZUPD_OK)
        t = zupd_meta_expires(m);
    zupd_meta_free(m);
    free(buf);
    return t;
}

/* The checkpoint this endpoint trusts, printed (text mode) and returned as
 * the "log" member of status --json. */
static json_t *
log_status(const struct zupd_cli *cli)
{
    struct zu_tlog_trust t;
    struct zu_checkpoint cp;
    struct zu_buf root;
    char names[1024];
    size_t n = 0;
    json_t *doc;
    int rc;

    log_trust(&cli->conf, &t);
    rc = zu_tlog_trusted(cli->conf.state_dir, &t, &cp, &n, names, sizeof(names));
    zu_buf_init(&root, 64);
    if (rc == ZUPD_OK && (zu_b64_encode(&root, cp.root, sizeof(cp.root)) != ZUPD_OK ||
                          zu_buf_add(&root, "", 1) != ZUPD_OK))
        rc = ZUPD_E_NOMEM;
    if (rc == ZUPD_OK) {
        json_t *cos = json_array();
        for (char *p = names, *e; *p != '\0'; p = *e ? e + 1 : e) {
            e = p + strcspn(p, ",");
            json_array_append_new(cos, json_stringn(p, (size_t)(e - p)));
        }
        doc = json_pack("{s:s,s:I,s:s,s:o,s:I}", "origin", cp.origin, "size", (json_int_t)cp.size,
                        "root", (const char *)root.p, "cosigners", cos, "quorum",
                        (json_int_t)t.quorum);
        if (!cli->json)
            printf("log: %s, checkpoint size %llu, root %s, cosigned by %zu of quorum %zu%s%s\n",
                   cp.origin, (unsigned long long)cp.size, (const char *)root.p, n, t.quorum,
                   n > 0 ? ": " : "", names);
    } else {
        doc = json_pack("{s:s,s:n,s:n,s:[],s:I}", "origin", t.origin, "size", "root", "cosigners",
                        "quorum", (json_int_t)t.quorum);
        if (!cli->json)
            printf("log: %s, %s\n", t.origin,
                   rc == ZUPD_E_NOTFOUND ? "no checkpoint trusted yet"
                                         : "the stored checkpoint does not verify");
    }
    zu_buf_release(&root);
    zu_checkpoint_release(&cp);
    return doc;
}

int
zupd_cmd_status(struct zupd_cli *cli, int argc, char **argv)
{
    const struct zupd_component_conf *sel[ZUPD_CONF_MAX_COMPONENTS];
    json_t *arr = json_array();
    int64_t exp = local_expiry(cli->conf.state_dir), now = (int64_t)time(NULL);
    char exps[32];
    size_t n = 0;

    if (selected(cli, argc, argv, sel, &n) != 0) {
        json_decref(arr);
        return EXIT_USAGE;
    }
    fmt_time(exp, exps, sizeof(exps));
    for (size_t i = 0; i < n; i++) {
        struct zupd_store *st = NULL;
        struct zupd_store_state s;
        char cur[ZUPD_NAME_MAX + 1] = "", last[32];
        char **vers = NULL;
        size_t nv = 0;
        json_t *inst = json_array(), *bad = json_array(), *signers;

        if (zupd_store_open_locked(cli, sel[i]->name, &st) != ZUPD_OK ||
            zupd_store_state_load(st, &s) != ZUPD_OK) {
            zupd_store_free(st);
            json_decref(arr);
            json_decref(inst);
            json_decref(bad);
            return zupd_fail(ZUPD_E_IO, "cannot read the state of '%s'", sel[i]->name);
        }
        if (zupd_store_current(st, cur, sizeof(cur)) != ZUPD_OK)
            cur[0] = 0;
        if (zupd_store_list(st, &vers, &nv) != ZUPD_OK)
            nv = 0;
        for (size_t k = 0; k < nv; k++)
            json_array_append_new(inst, json_string(vers[k]));
        for (size_t k = 0; k < s.n_bad; k++)
            json_array_append_new(bad, json_string(s.bad[k]));
        fmt_time(s.last_check, last, sizeof(last));
        signers = zupd_signers_get(st, cur);
        if (!cli->json) {
            printf("%s (%s, channel %s)\n  current:   %s\n  installed:", sel[i]->name, sel[i]->role,
                   sel[i]->channel, cur[0] ? cur : "none");
            for (size_t k = 0; k < nv; k++)
                printf(" %s", vers[k]);
            printf("\n  available: %s\n  held:      %s%s%s\n",
                   s.available[0] ? s.available : "unknown", s.held ? "yes" : "no",
                   s.held && s.held_version[0] ? " on " : "", s.held ? s.held_version : "");
            if (s.n_bad > 0) {
                printf("  bad:      ");
                for (size_t k = 0; k < s.n_bad; k++)
                    printf(" %s", s.bad[k]);
                printf("\n");
            }
            if (cur[0])
                zupd_signers_print(signers);
            printf("  last check: %s\n  last error: %s\n", last,
                   s.last_error[0] ? s.last_error : "none");
        }
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:s,s:b,s:s,s:o,s:s,s:s,s:o}",
                                             "component", sel[i]->name, "channel", sel[i]->channel,
                                             "current", cur, "installed", inst, "available",
                                             s.available, "held", s.held, "held_version",
                                             s.held_version, "bad", bad, "last_check", last,
                                             "last_error", s.last_error, "signed_by", signers));
        zupd_strv_free(vers, nv);
        zupd_store_state_release(&s);
        zupd_store_free(st);
    }
    if (cli->json) {
        json_t *doc = json_pack("{s:o,s:s,s:I}", "components", arr, "metadata_expires", exps,
                                "metadata_expires_in", (json_int_t)(exp ? exp - now : 0));
        if (cli->conf.has_log)
            json_object_set_new(doc, "log", log_status(cli));
        print_json(doc);
    } else {
        if (exp != 0)
            printf("metadata: timestamp expires %s (in %lld s)\n", exps, (long long)(exp - now));
        else
            printf("metadata: never refreshed\n");
        if (cli->conf.has_log)
            json_decref(log_status(cli));
        json_decref(arr);
    }
    return 0;
}

static int
set_hold(struct zupd_cli *cli, const char *name, bool held, const char *version)
{
    struct zupd_store *st = NULL;
    struct zupd_store_state s;
    int rc;

    if (zupd_conf_component(&cli->conf, name) == NULL)
        return zupd_fail(ZUPD_OK, "no component '%s' in the configuration", name);
    rc = zupd_store_open_locked(cli, name, &st);
    if (rc == ZUPD_OK)
        rc = zupd_store_state_load(st, &s);
    if (rc == ZUPD_OK) {
        s.held = held;
        snprintf(s.held_version, sizeof(s.held_version), "%s", held ? version : "");
        rc = zupd_store_state_save(st, &s);
        zupd_store_state_release(&s);
    }
    zupd_store_free(st);
    if (rc != ZUPD_OK)
        return zupd_fail(rc, "cannot change the hold of '%s': %s", name, zupd_strerror(rc));
    /* rollback reports its own result (it holds, then says what it did) */
    if (cli->json && strcmp(cli->command, "rollback") != 0)
        print_json(json_pack("{s:s,s:b,s:s}", "component", name, "held", held, "version",
                             held ? version : ""));
    return 0;
}

int
zupd_cmd_rollback(struct zupd_cli *cli, int argc, char **argv)
{
    const struct zupd_component_conf *c;
    struct zupd_store *st = NULL;
    struct zupd_store_state s;
    char cur[ZUPD_NAME_MAX + 1] = "", to[ZUPD_NAME_MAX + 1] = "", err[512];
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: zupd rollback COMPONENT [--to VERSION]\n");
        return EXIT_USAGE;
    }
    c = zupd_conf_component(&cli->conf, argv[1]);
    if (c == NULL)
        return zupd_fail(ZUPD_OK, "no component '%s' in the configuration", argv[1]);
    rc = zupd_store_open_locked(cli, c->name, &st);
    if (rc == ZUPD_OK)
        rc = zupd_store_state_load(st, &s);
    if (rc != ZUPD_OK) {
        zupd_store_free(st);
        return zupd_fail(rc, "cannot open the state of '%s'", c->name);
    }
    if (zupd_store_current(st, cur, sizeof(cur)) != ZUPD_OK)
        cur[0] = 0;
    if (cli->to != NULL) {
        snprintf(to, sizeof(to), "%s", cli->to);
    } else {
        /* the most recent version before the current one that is still installed */
        for (size_t k = s.n_history; k-- > 0;)
            if (strcmp(s.history[k], cur) != 0 && !zupd_store_state_is_bad(&s, s.history[k]) &&
                zupd_store_has(st, s.history[k])) {
                snprintf(to, sizeof(to), "%s", s.history[k]);
                break;
            }
    }
    zupd_store_state_release(&s);
    if (to[0] == 0 || !zupd_store_has(st, to)) {
        zupd_store_free(st);
        if (to[0] == 0)
            return zupd_fail(ZUPD_E_NOTFOUND,
                             "cannot roll back '%s': no earlier version of it is installed",
                             c->name);
        return zupd_fail(ZUPD_E_NOTFOUND, "cannot roll back '%s': %s is not installed", c->name,
                         to);
    }
    if (cli->conf.has_log) {
        /* an installed version too: it must be in the log as it is now */
        struct session ss;
        rc = session_open(cli, &ss, err, sizeof(err));
        if (rc == ZUPD_OK)
            rc = zu_updater_log_check(ss.u, c->role, c->name, to, NULL, err, sizeof(err));
        session_close(&ss);
        if (rc != ZUPD_OK) {
            zupd_store_free(st);
            return zupd_fail(rc, "cannot roll back '%s' to %s: %s", c->name, to, err);
        }
    }
    rc = switch_checked(cli, c, st, to, cur, err, sizeof(err));
    zupd_store_free(st);
    if (rc != ZUPD_OK)
        return rc == -1 ? (fprintf(stderr, "zupd: %s\n", err),
                           zu_cli_error(EXIT_UNHEALTHY, "%s", err), EXIT_UNHEALTHY)
                        : zupd_fail(rc, "cannot roll back '%s': %s", c->name, err);
    rc = set_hold(cli, c->name, true, to);
    if (rc == 0 && cli->json)
        print_json(
            json_pack("{s:s,s:s,s:s,s:b}", "component", c->name, "from", cur, "to", to, "held", 1));
    else if (rc == 0 && !cli->quiet)
        printf("%s: rolled back %s -> %s and held (zupd release %s to resume updates)\n", c->name,
               cur[0] ? cur : "none", to, c->name);
    return rc;
}

int
zupd_cmd_hold(struct zupd_cli *cli, int argc, char **argv)
{
    char cur[ZUPD_NAME_MAX + 1] = "";
    struct zupd_store *st = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: zupd hold COMPONENT\n");
        return EXIT_USAGE;
    }
    if (zupd_store_open_locked(cli, argv[1], &st) == ZUPD_OK &&
        zupd_store_current(st, cur, sizeof(cur)) != ZUPD_OK)
        cur[0] = 0;
    zupd_store_free(st);
    return set_hold(cli, argv[1], true, cur);
}

int
zupd_cmd_release(struct zupd_cli *cli, int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: zupd release COMPONENT\n");
        return EXIT_USAGE;
    }
    return set_hold(cli, argv[1], false, "");
}

int
zupd_cmd_verify(struct zupd_cli *cli, int argc, char **argv)
{
    const struct zupd_component_conf *sel[ZUPD_CONF_MAX_COMPONENTS];
    size_t n = 0;
    int exit_code = 0;

    json_t *report = json_array();

    if (selected(cli, argc, argv, sel, &n) != 0) {
        json_decref(report);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        char cur[ZUPD_NAME_MAX + 1] = "", bad[4096] = "";
        struct zupd_store *st = NULL;
        int rc = zupd_store_open_locked(cli, sel[i]->name, &st);

        if (rc == ZUPD_OK && zupd_store_current(st, cur, sizeof(cur)) != ZUPD_OK) {
            json_array_append_new(report, json_pack("{s:s,s:n,s:s}", "component", sel[i]->name,
                                                    "version", "result", "nothing installed"));
            if (!cli->quiet && !cli->json)
                printf("%s: nothing installed\n", sel[i]->name);
            zupd_store_free(st);
            continue;
        }
        if (rc == ZUPD_OK) {
            /* its manifest first: a failure there names no file */
            struct zupd_manifest *m = NULL;

            rc = zupd_store_manifest(st, cur, &m);
            zupd_manifest_free(m);
            if (rc != ZUPD_OK) {
                exit_code = zupd_fail(rc, "%s %s: cannot read its signed manifest: %s",
                                      sel[i]->name, cur, zupd_strerror(rc));
                json_array_append_new(report,
                                      json_pack("{s:s,s:s,s:s}", "component", sel[i]->name,
                                                "version", cur, "result", zupd_errname(rc)));
                zupd_store_free(st);
                continue;
            }
            rc = zupd_store_verify(st, cur, bad, sizeof(bad));
        }
        zupd_store_free(st);
        if (rc != ZUPD_OK) {
            exit_code = zupd_fail(rc, "%s %s: '%s' does not match its manifest: %s", sel[i]->name,
                                  cur, bad, zupd_strerror(rc));
            json_array_append_new(report, json_pack("{s:s,s:s,s:s,s:s}", "component", sel[i]->name,
                                                    "version", cur, "result", zupd_errname(rc),
                                                    "file", bad));
        } else {
            json_array_append_new(report, json_pack("{s:s,s:s,s:s}", "component", sel[i]->name,
                                                    "version", cur, "result", "ok"));
            if (!cli->quiet && !cli->json)
                printf("%s %s: every file matches its signed manifest\n", sel[i]->name, cur);
        }
    }
    if (cli->json)
        print_json(json_pack("{s:o}", "components", report));
    else
        json_decref(report);
    return exit_code;
}
