/* SPDX-License-Identifier: Apache-2.0 */
/* tests/integration/fetchtool.c -- drives libzupd's fetcher from the shell
 * tests: one GET, a resumable file download, several GETs on one transport,
 * and a per-GET cost measurement. Prints one "key=value ..." line per fetch.
 *
 *   fetchtool [opts] get PATH            body to --out FILE (default: discarded)
 *   fetchtool [opts] file PATH NAME LEN SHA256HEX   into --dir DIR
 *   fetchtool [opts] multi PATH...       GETs on one transport
 *   fetchtool [opts] bench PATH N        N GETs reusing one handle vs a new one each
 * opts: -m BASE (repeat for mirrors), --max N, --connect-ms N,
 *       --low-speed-limit N, --low-speed-time N, --buffer N, --cacert FILE,
 *       --state FILE, --out FILE,
 *       --dir DIR, --log */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zupd/fetch.h>

#include "zu/fsio.h"
#include "zu/fetch_state.h"

#define MAX_MIRRORS 8

static const char *bases[MAX_MIRRORS];
static size_t n_bases;
static uint64_t max_bytes = 16u << 20;
static struct zupd_curl_opts copts = ZUPD_CURL_OPTS_DEFAULT;
static const char *state_file, *out_file, *dir = ".";

static void
log_stderr(void *opaque, int level, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "fetchtool: [%d] %s\n", level, msg);
}

static uint64_t
num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (*s == '\0' || *end != '\0') {
        fprintf(stderr, "fetchtool: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The transport's counters (zeros if they cannot be read). */
static struct zupd_fetch_stats
stats_of(const struct zupd_transport *t)
{
    struct zupd_fetch_stats st;

    zupd_fetch_stats_init(&st);
    if (zupd_transport_stats(t, &st) != ZUPD_OK)
        zupd_fetch_stats_init(&st);
    return st;
}

static void
report(int rc, const struct zupd_fetch_res *res, const struct zupd_transport *t, size_t len)
{
    struct zupd_fetch_stats st = stats_of(t);

    printf("rc=%s mirror=%zu status=%ld start=%" PRIu64 " bytes=%zu notmod=%d retry_after=%" PRIu32
           " http=%" PRIu32 " recv=%" PRIu64 " requests=%" PRIu64 " conns=%" PRIu64 "\n",
           zupd_errname(rc), res->mirror, res->status, res->start, len, res->not_modified ? 1 : 0,
           res->retry_after, res->http_version, st.bytes, st.requests, st.connections);
}

/* zu_atomic_write() takes a plain name: split path into its directory. */
static int
write_path(const char *path, const void *buf, size_t len, mode_t mode)
{
    const char *slash = strrchr(path, '/');
    char d[4096];
    int dfd, rc;

    if (slash == NULL)
        return zu_atomic_write(AT_FDCWD, path, buf, len, mode);
    snprintf(d, sizeof(d), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ZUPD_E_IO;
    rc = zu_atomic_write(dfd, slash + 1, buf, len, mode);
    close(dfd);
    return rc;
}

static int
load_state(struct zu_fetch_state *st)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    memset(st, 0, sizeof(*st));
    if (state_file == NULL)
        return ZUPD_OK;
    rc = zu_read_capped(AT_FDCWD, state_file, 4096, &buf, &len);
    if (rc == ZUPD_E_NOTFOUND)
        return ZUPD_OK;
    if (rc == ZUPD_OK)
        rc = zu_fetch_state_parse((const char *)buf, len, st);
    free(buf);
    return rc;
}

static int
save_state(const struct zu_fetch_state *st)
{
    char text[1024];
    size_t len;
    int rc;

    if (state_file == NULL)
        return ZUPD_OK;
    rc = zu_fetch_state_format(text, sizeof(text), &len, st);
    if (rc == ZUPD_OK)
        rc = write_path(state_file, text, len, 0600);
    return rc;
}

static int
cmd_get(struct zupd_ctx *ctx, struct zupd_transport *t, const char *path)
{
    struct zu_fetch_state st, before;
    struct zupd_fetch_req req = {
        .bases = bases, .n_bases = n_bases, .path = path, .max_bytes = max_bytes};
    struct zupd_fetch_res res;
    uint8_t *body = NULL;
    size_t len = 0;
    uint64_t wait;
    int rc;

    memset(&res, 0, sizeof(res));
    rc = load_state(&st);
    if (rc != ZUPD_OK)
        goto out;
    wait = zu_fetch_state_wait(&st, (int64_t)time(NULL));
    if (wait > 0) {
        printf("rc=cooldown wait=%" PRIu64 "\n", wait);
        return 0;
    }
    before = st;
    if (state_file != NULL)
        req.cond = &st.timestamp;
    rc = zupd_fetch_mem(ctx, t, &req, &body, &len, &res);
    if (rc == ZUPD_E_BUSY)
        zu_fetch_state_cooldown(&st, (int64_t)time(NULL), res.retry_after);
    if (rc == ZUPD_OK && out_file != NULL && body != NULL)
        rc = write_path(out_file, body, len, 0644);
    /* an idle check (304) writes nothing */
    if ((rc == ZUPD_OK || rc == ZUPD_E_BUSY) && memcmp(&st, &before, sizeof(st)) != 0) {
        int src = save_state(&st);

        if (src != ZUPD_OK)
            rc = src;
    }
out:
    report(rc, &res, t, len);
    free(body);
    return rc == ZUPD_OK ? 0 : 1;
}

static int
cmd_file(struct zupd_ctx *ctx, struct zupd_transport *t, char **argv)
{
    struct zupd_fetch_req req = {.bases = bases, .n_bases = n_bases, .path = argv[0]};
    struct zupd_fetch_res res;
    uint8_t digest[ZUPD_SHA256_LEN];
    int dfd, rc;

    memset(&res, 0, sizeof(res));
    if (zupd_hex_decode(digest, sizeof(digest), argv[3], strlen(argv[3])) != ZUPD_OK) {
        fprintf(stderr, "fetchtool: bad sha256\n");
        return 2;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        perror(dir);
        return 2;
    }
    rc = zupd_fetch_file(ctx, t, &req, dfd, argv[1], num(argv[2]), ZUPD_HASH_SHA256, digest, &res);
    close(dfd);
    report(rc, &res, t, (size_t)res.received);
    return rc == ZUPD_OK ? 0 : 1;
}

static int
cmd_multi(struct zupd_ctx *ctx, struct zupd_transport *t, int argc, char **argv)
{
    int fails = 0;

    for (int i = 0; i < argc; i++) {
        struct zupd_fetch_req req = {
            .bases = bases, .n_bases = n_bases, .path = argv[i], .max_bytes = max_bytes};
        struct zupd_fetch_res res;
        uint8_t *body = NULL;
        size_t len = 0;
        int rc = zupd_fetch_mem(ctx, t, &req, &body, &len, &res);

        report(rc, &res, t, len);
        free(body);
        fails += rc != ZUPD_OK;
    }
    return fails == 0 ? 0 : 1;
}

static int
one_get(struct zupd_transport *t, const char *path)
{
    struct zupd_fetch_req req = {
        .bases = bases, .n_bases = n_bases, .path = path, .max_bytes = max_bytes};
    struct zupd_fetch_res res;
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = zupd_fetch_mem(NULL, t, &req, &body, &len, &res);

    free(body);
    return rc;
}

static int
cmd_bench(struct zupd_transport *t, const char *path, uint64_t n)
{
    struct zupd_transport *fresh = NULL;
    double t0, reused, each;
    uint64_t conns;

    if (n == 0 || one_get(t, path) != ZUPD_OK) /* warm up: DNS, first connection */
        return 1;
    conns = stats_of(t).connections;
    t0 = now_s();
    for (uint64_t i = 0; i < n; i++)
        if (one_get(t, path) != ZUPD_OK)
            return 1;
    reused = (now_s() - t0) / (double)n;
    conns = stats_of(t).connections - conns;
    t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        if (zupd_curl_transport_new(NULL, &copts, &fresh) != ZUPD_OK ||
            one_get(fresh, path) != ZUPD_OK)
            return 1;
        zupd_transport_free(fresh);
        fresh = NULL;
    }
    each = (now_s() - t0) / (double)n;
    printf("gets=%" PRIu64 " reused_us=%.0f reused_conns=%" PRIu64
           " new_handle_us=%.0f ratio=%.2f\n",
           n, reused * 1e6, conns, each * 1e6, each / reused);
    return 0;
}

int
main(int argc, char **argv)
{
    struct zupd_ctx *ctx = zupd_ctx_new();
    struct zupd_transport *t = NULL;
    int i, rc = 2;

    if (ctx == NULL || zupd_init() != ZUPD_OK)
        return 2;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];

        if (strcmp(o, "--log") == 0) {
            zupd_ctx_set_log(ctx, log_stderr, NULL, ZUPD_LOG_DEBUG);
            continue;
        }
        if (i + 1 >= argc)
            goto usage;
        if (strcmp(o, "-m") == 0 && n_bases < MAX_MIRRORS)
            bases[n_bases++] = argv[++i];
        else if (strcmp(o, "--max") == 0)
            max_bytes = num(argv[++i]);
        else if (strcmp(o, "--connect-ms") == 0)
            copts.connect_timeout_ms = (uint32_t)num(argv[++i]);
        else if (strcmp(o, "--low-speed-limit") == 0)
            copts.low_speed_limit = (uint32_t)num(argv[++i]);
        else if (strcmp(o, "--low-speed-time") == 0)
            copts.low_speed_time = (uint32_t)num(argv[++i]);
        else if (strcmp(o, "--cacert") == 0)
            copts.ca_file = argv[++i];
        else if (strcmp(o, "--buffer") == 0)
            copts.buffer_size = (size_t)num(argv[++i]);
        else if (strcmp(o, "--state") == 0)
            state_file = argv[++i];
        else if (strcmp(o, "--out") == 0)
            out_file = argv[++i];
        else if (strcmp(o, "--dir") == 0)
            dir = argv[++i];
        else
            goto usage;
    }
    if (i >= argc || n_bases == 0)
        goto usage;
    if (zupd_curl_transport_new(ctx, &copts, &t) != ZUPD_OK) {
        fprintf(stderr, "fetchtool: no transport\n");
        goto out;
    }
    if (strcmp(argv[i], "get") == 0 && argc - i == 2)
        rc = cmd_get(ctx, t, argv[i + 1]);
    else if (strcmp(argv[i], "file") == 0 && argc - i == 5)
        rc = cmd_file(ctx, t, argv + i + 1);
    else if (strcmp(argv[i], "multi") == 0 && argc - i >= 2)
        rc = cmd_multi(ctx, t, argc - i - 1, argv + i + 1);
    else if (strcmp(argv[i], "bench") == 0 && argc - i == 3)
        rc = cmd_bench(t, argv[i + 1], num(argv[i + 2]));
    else
        goto usage;
    goto out;
usage:
    fprintf(stderr, "usage: fetchtool [-m BASE]... [opts] get PATH | file PATH NAME LEN SHA256 |"
                    " multi PATH... | bench PATH N\n");
out:
    zupd_transport_free(t);
    zupd_ctx_free(ctx);
    return rc;
}
