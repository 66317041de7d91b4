/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fetch.c -- transport-independent downloads: mirror fallback, byte caps,
 * into memory, resumable into a file with hash-while-writing, client state. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zupd/fetch.h>

#include "abi.h"
#include "fetch_int.h"
#include "zu/fetch_state.h"
#include "zu/fsio.h"

/* ------------------------------------------------------------ helpers */

void
zu_validator_set(char *dst, const char *src, size_t len)
{
    dst[0] = '\0';
    while (len > 0 && (src[0] == ' ' || src[0] == '\t')) {
        src++;
        len--;
    }
    while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t' || src[len - 1] == '\r' ||
                       src[len - 1] == '\n'))
        len--;
    if (len >= ZUPD_VALIDATOR_MAX)
        return;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)src[i] < 0x20 || (unsigned char)src[i] > 0x7e)
            return;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

bool
zu_validator_ok(const char *v)
{
    size_t n = strnlen(v, ZUPD_VALIDATOR_MAX);

    if (n >= ZUPD_VALIDATOR_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            return false;
    return true;
}

/* "bytes START-END/TOTAL" -> START (what a 206 says it starts at). */
bool
zu_content_range_start(const char *v, uint64_t *start)
{
    uint64_t s = 0;
    size_t digits = 0;

    if (strncasecmp(v, "bytes ", 6) != 0)
        return false;
    v += 6;
    while (*v >= '0' && *v <= '9' && digits < 19) {
        s = s * 10 + (uint64_t)(*v - '0');
        v++;
        digits++;
    }
    if (digits == 0 || *v != '-')
        return false;
    *start = s;
    return true;
}

void
zu_url_redact(char *dst, size_t dst_cap, const char *url)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end != NULL ? scheme_end + 3 : url;
    size_t hostlen = strcspn(host, "/?#");
    const char *at = memchr(host, '@', hostlen);
    size_t pre = (size_t)(host - url);

    if (at != NULL) {
        hostlen -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(dst, dst_cap, "%.*s%.*s%.*s", (int)pre, url, (int)hostlen, host,
             (int)strcspn(host + hostlen, "?#"), host + hostlen);
}

int
zupd_transport_new(const struct zupd_transport_ops *ops, void *opaque, struct zupd_transport **out)
{
    struct zupd_transport *t;
    int rc;

    if (out == NULL)
        return ZUPD_E_MISUSE;
    *out = NULL;
    if (ops == NULL)
        return ZUPD_E_MISUSE;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ZUPD_E_NOMEM;
    rc = zu_struct_in(&t->ops, sizeof(t->ops), ops,
                      ZU_SIZE_THROUGH(struct zupd_transport_ops, free));
    if (rc != ZUPD_OK || t->ops.get == NULL) {
        free(t);
        return ZUPD_E_MISUSE;
    }
    t->opaque = opaque;
    t->stats.size = sizeof(t->stats);
    *out = t;
    return ZUPD_OK;
}

void
zupd_transport_free(struct zupd_transport *t)
{
    if (t == NULL)
        return;
    if (t->ops.free != NULL)
        t->ops.free(t->opaque);
    free(t);
}

int
zupd_transport_stats(const struct zupd_transport *t, struct zupd_fetch_stats *st)
{
    if (t == NULL || st == NULL)
        return ZUPD_E_MISUSE;
    return zu_struct_out(st, &t->stats, sizeof(t->stats),
                         ZU_SIZE_THROUGH(struct zupd_fetch_stats, connections));
}

/* ------------------------------------------------------------ mirror loop */

/* Sits between the transport and the caller's sink: enforces the cap on
 * the whole file and tracks the position reached. */
struct wrap {
    const struct zupd_sink *user;
    uint64_t pos;
    uint64_t max;
    bool began;
};

static int
wrap_begin(void *opaque, uint64_t start)
{
    struct wrap *w = opaque;
    int rc;

    if (start != 0 && start != w->pos)
        return ZUPD_E_NET; /* the server sent a range we did not ask for */
    rc = w->user->begin(w->user->opaque, start);
    if (rc != ZUPD_OK)
        return rc;
    w->pos = start;
    w->began = true;
    return ZUPD_OK;
}

static int
wrap_write(void *opaque, const uint8_t *data, size_t len)
{
    struct wrap *w = opaque;
    int rc;

    if (!w->began)
        return ZUPD_E_MISUSE;
    if (len > w->max - w->pos)
        return ZUPD_E_TOOBIG;
    rc = w->user->write(w->user->opaque, data, len);
    if (rc != ZUPD_OK)
        return rc;
    w->pos += len;
    return ZUPD_OK;
}

static uint64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Has mirror i used its time budget? Says so once per mirror. */
static bool
budget_gone(struct zupd_ctx *ctx, struct zupd_transport *t, const char *base, size_t i)
{
    struct zu_budget *b = t->budget;
    char shown[512];

    if (b == NULL || i >= ZU_BUDGET_MIRRORS || b->spent_ms[i] < b->limit_ms)
        return false;
    if (!b->said[i]) {
        b->said[i] = true;
        zu_url_redact(shown, sizeof(shown), base);
        zu_log(ctx, ZUPD_LOG_WARN,
               "mirror '%s' used its time budget (%" PRIu64 " s) for this update; the next mirror "
               "is asked instead",
               shown, b->limit_ms / 1000u);
    }
    return true;
}

static void
budget_spend(struct zupd_transport *t, size_t i, uint64_t since)
{
    if (t->budget != NULL && i < ZU_BUDGET_MIRRORS)
        t->budget->spent_ms[i] += mono_ms() - since;
}

/* Errors after which the next mirror is asked, ranked for the final answer. */
static int
fallback_rank(int rc)
{
    switch (rc) {
    case ZUPD_E_NOTFOUND:
        return 5;
    case ZUPD_E_TOOBIG:
        return 4;
    case ZUPD_E_BUSY:
        return 3;
    case ZUPD_E_TIMEOUT:
        return 2;
    case ZUPD_E_NET:
        return 1;
    default:
        return 0;
    }
}

int
zupd_fetch(struct zupd_ctx *ctx, struct zupd_transport *t, const struct zupd_fetch_req *req,
           const struct zupd_sink *sink, struct zupd_fetch_res *res)
{
    struct zu_buf url;
    struct wrap w;
    struct zupd_sink ws = {.opaque = &w, .begin = wrap_begin, .write = wrap_write};
    struct zupd_get g;
    struct zupd_get_res gr;
    char shown[512];
    int rc = ZUPD_E_MISUSE, best = ZUPD_OK;
    size_t best_mirror = 0;
    long best_status = 0;
    uint64_t t0;

    memset(res, 0, sizeof(*res));
    zu_buf_init(&url, 8192);
    if (t == NULL || t->ops.get == NULL || req == NULL || sink == NULL || req->bases == NULL ||
        req->path == NULL || req->first >= req->n_bases || req->max_bytes == 0 ||
        req->offset > req->max_bytes ||
        (req->cond != NULL &&
         (!zu_validator_ok(req->cond->etag) || !zu_validator_ok(req->cond->last_modified))))
        goto out;
    w.user = sink;
    w.max = req->max_bytes;
    w.pos = req->offset;
    for (size_t i = req->first; i < req->n_bases; i++) {
        const char *base = req->bases[i];
        size_t blen = strlen(base);

        url.len = 0;
        rc = zu_buf_addstr(&url, base);
        if (rc == ZUPD_OK && (blen == 0 || base[blen - 1] != '/'))
            rc = zu_buf_addstr(&url, "/");
        if (rc == ZUPD_OK)
            rc = zu_buf_addstr(&url, req->path);
        if (rc != ZUPD_OK)
            goto out;
        if (budget_gone(ctx, t, base, i)) {
            rc = ZUPD_E_TIMEOUT;
            if (fallback_rank(rc) > fallback_rank(best)) {
                best = rc;
                best_mirror = i;
                best_status = 0;
            }
            continue;
        }
        w.began = false;
        g.url = (const char *)url.p;
        g.offset = w.pos;
        g.max_bytes = req->max_bytes;
        g.cond =
            req->cond != NULL && (req->cond->etag[0] != '\0' || req->cond->last_modified[0] != '\0')
                ? req->cond
                : NULL;
        memset(&gr, 0, sizeof(gr));
        t0 = mono_ms();
        rc = t->ops.get(t->opaque, &g, &ws, &gr);
        budget_spend(t, i, t0);
        t->stats.requests++;
        t->stats.bytes += gr.received;
        t->stats.connections += gr.new_conns;
        res->mirror = i;
        res->status = gr.status;
        res->http_version = gr.http_version;
        if (gr.retry_after > res->retry_after)
            res->retry_after = gr.retry_after;
        zu_url_redact(shown, sizeof(shown), g.url);
        if (rc == ZUPD_OK && gr.not_modified && g.cond == NULL) {
            zu_log(ctx, ZUPD_LOG_WARN, "'%s': 304 to an unconditional GET", shown);
            rc = ZUPD_E_NET;
        }
        if (rc == ZUPD_OK && !gr.not_modified && !w.began)
            rc = wrap_begin(&w, gr.start); /* an empty body */
        if (rc == ZUPD_OK) {
            if (gr.not_modified) {
                t->stats.not_modified++;
                res->not_modified = true;
                zu_trace(ctx, "'%s': not modified", shown);
            } else {
                res->start = gr.start;
                res->received = w.pos - gr.start;
                if (req->cond != NULL)
                    *req->cond = gr.validators;
            }
            goto out;
        }
        if (fallback_rank(rc) == 0) {
            zu_log(ctx, ZUPD_LOG_ERR, "cannot fetch '%s': %s", shown, zupd_strerror(rc));
            goto out;
        }
        if (fallback_rank(rc) > fallback_rank(best)) {
            best = rc;
            best_mirror = i;
            best_status = gr.status;
        }
        /* a 404 is how every refresh ends its root walk: not worth a
         * warning on each run; the caller reports a file that is missing */
        zu_log(ctx, rc == ZUPD_E_NOTFOUND ? ZUPD_LOG_INFO : ZUPD_LOG_WARN,
               "cannot fetch '%s': %s (HTTP %ld)%s", shown, zupd_strerror(rc), gr.status,
               i + 1 < req->n_bases ? "; trying the next mirror" : "");
        /* hostile bytes over the cap are not resumed: the next mirror starts over */
        if (rc == ZUPD_E_TOOBIG)
            w.pos = 0;
    }
    rc = best;
    res->mirror = best_mirror;
    res->status = best_status;
out:
    zu_buf_release(&url);
    return rc;
}

/* ------------------------------------------------------------ into memory */

static int
mem_begin(void *opaque, uint64_t start)
{
    struct zu_buf *b = opaque;

    if (start == 0)
        b->len = 0;
    else if (start != b->len)
        return ZUPD_E_MISUSE;
    return ZUPD_OK;
}

static int
mem_write(void *opaque, const uint8_t *data, size_t len)
{
    return zu_buf_add(opaque, data, len);
}

int
zupd_fetch_mem(struct zupd_ctx *ctx, struct zupd_transport *t, const struct zupd_fetch_req *req,
               uint8_t **out, size_t *out_len, struct zupd_fetch_res *res)
{
    struct zu_buf b;
    struct zupd_sink sink = {.opaque = &b, .begin = mem_begin, .write = mem_write};
    int rc;

    *out = NULL;
    *out_len = 0;
    memset(res, 0, sizeof(*res));
    if (req == NULL || req->offset != 0 || req->max_bytes >= SIZE_MAX)
        return ZUPD_E_MISUSE;
    zu_buf_init(&b, (size_t)req->max_bytes);
    rc = zupd_fetch(ctx, t, req, &sink, res);
    if (rc == ZUPD_OK && !res->not_modified)
        rc = zu_buf_detach(&b, out, out_len);
    zu_buf_release(&b);
    return rc;
}

/* ------------------------------------------------------------ into a file */

struct filesink {
    int fd;
    enum zupd_hash_alg alg;
    struct zupd_hash *h;
    uint64_t len;
};

static int
file_restart(struct filesink *f)
{
    zupd_hash_free(f->h);
    f->h = zupd_hash_new(f->alg);
    if (f->h == NULL)
        return ZUPD_E_NOMEM;
    if (ftruncate(f->fd, 0) != 0 || lseek(f->fd, 0, SEEK_SET) != 0)
        return ZUPD_E_IO;
    f->len = 0;
    return ZUPD_OK;
}

static int
file_begin(void *opaque, uint64_t start)
{
    struct filesink *f = opaque;

    if (start == 0 && f->len > 0)
        return file_restart(f);
    return start == f->len ? ZUPD_OK : ZUPD_E_MISUSE;
}

static int
file_write(void *opaque, const uint8_t *data, size_t len)
{
    struct filesink *f = opaque;
    int rc = zu_write_all(f->fd, data, len);

    if (rc == ZUPD_OK)
        rc = zupd_hash_update(f->h, data, len);
    if (rc == ZUPD_OK)
        f->len += len;
    return rc;
}

/* Hash the partial already on disk: it is resumed, not fetched again. */
static int
file_hash_prefix(struct filesink *f)
{
    uint8_t *chunk = malloc(512u << 10);
    ssize_t n;
    int rc = ZUPD_OK;

    if (chunk == NULL)
        return ZUPD_E_NOMEM;
    if (lseek(f->fd, 0, SEEK_SET) != 0) {
        rc = ZUPD_E_IO;
        goto out;
    }
    for (uint64_t done = 0; done < f->len; done += (uint64_t)n) {
        n = read(f->fd, chunk, 512u << 10);
        if (n < 0 && errno == EINTR) {
            n = 0;
            continue;
        }
        if (n <= 0) {
            rc = ZUPD_E_IO;
            goto out;
        }
        rc = zupd_hash_update(f->h, chunk, (size_t)n);
        if (rc != ZUPD_OK)
            goto out;
    }
    if (lseek(f->fd, 0, SEEK_END) < 0)
        rc = ZUPD_E_IO;
out:
    free(chunk);
    return rc;
}

/* Move a verified partial into place: durably, or (a cache whose content
 * is checked again where it is used) without any fsync. */
static int
file_publish(int fd, int dirfd, const char *part, const char *name, bool sync)
{
    int rc = ZUPD_OK;

    if (sync) {
        rc = zu_fsync_fd(fd);
        if (rc == ZUPD_OK)
            rc = zu_rename_durable(dirfd, part, name);
    } else if (renameat(dirfd, part, dirfd, name) != 0) {
        rc = zu_errno_to_err(errno);
    }
    return rc;
}

static bool
machine_error(int rc)
{
    return rc == ZUPD_E_IO || rc == ZUPD_E_NOSPACE || rc == ZUPD_E_NOMEM || rc == ZUPD_E_MISUSE ||
           rc == ZUPD_E_PERM;
}

/* A partial is worth keeping for the next run after a network error only:
 * after a full disk or a write error it would keep the disk full (the
 * cache is on the state disk) for a download that cannot go on. */
static void
drop_partial(struct zupd_ctx *ctx, int dirfd, const char *part, int rc)
{
    if (rc != ZUPD_E_NOSPACE && rc != ZUPD_E_IO)
        return;
    if (unlinkat(dirfd, part, 0) == 0)
        zu_log(ctx, ZUPD_LOG_INFO, "'%s' removed: %s", part, zupd_strerror(rc));
}

/* Say whose bytes failed the hash: the mirror that sent them all, a mirror
 * that resumed a partial (either may be wrong), or the cache alone (a partial
 * left by an earlier run, checked before any mirror was asked). */
static void
blame_mismatch(struct zupd_ctx *ctx, const char *path, const char *const *bases, bool fetched,
               size_t mirror, uint64_t start, uint64_t len)
{
    char shown[512];

    if (!fetched) {
        zu_log(ctx, ZUPD_LOG_WARN,
               "'%s': the partial download in the local cache (%" PRIu64
               " bytes, from an earlier run) does not match its signed hash; discarded, no "
               "mirror blamed",
               path, len);
        return;
    }
    zu_url_redact(shown, sizeof(shown), bases[mirror]);
    if (start == 0)
        zu_log(ctx, ZUPD_LOG_WARN, "'%s': hash mismatch of the bytes mirror '%s' sent; discarded",
               path, shown);
    else
        zu_log(ctx, ZUPD_LOG_WARN,
               "'%s': hash mismatch after mirror '%s' resumed a partial at byte %" PRIu64
               " (the partial or the mirror is wrong); starting over",
               path, shown, start);
}

static int
fetch_file_impl(struct zupd_ctx *ctx, struct zupd_transport *t, const struct zupd_fetch_req *req,
                int dirfd, const char *name, uint64_t expected_len, enum zupd_hash_alg alg,
                const uint8_t *digest, bool sync, struct zupd_fetch_res *res)
{
    struct filesink f = {.fd = -1, .alg = alg, .h = NULL, .len = 0};
    struct zupd_sink sink = {.opaque = &f, .begin = file_begin, .write = file_write};
    struct zupd_fetch_req r;
    uint8_t got[ZUPD_HASH_MAX_LEN];
    char part[256];
    size_t dlen = zupd_hash_len(alg), glen;
    bool fetched;
    int rc = ZUPD_E_MISUSE;

    memset(res, 0, sizeof(*res));
    if (req == NULL || !zu_plain_name(name) || digest == NULL || dlen == 0 ||
        strlen(name) + sizeof(".part") > sizeof(part))
        goto out;
    snprintf(part, sizeof(part), "%s.part", name);
    r = *req;
    r.cond = NULL;
    r.max_bytes = expected_len;
    rc = zu_open_rw(dirfd, part, 0644, &f.fd, &f.len);
    if (rc != ZUPD_OK) {
        zu_log(ctx, ZUPD_LOG_ERR, "cannot open '%s': %s", part, strerror(errno));
        goto out;
    }
    f.h = zupd_hash_new(alg);
    if (f.h == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    rc = f.len > expected_len ? file_restart(&f) : file_hash_prefix(&f);
    if (rc != ZUPD_OK)
        goto out;
    if (f.len > 0)
        zu_log(ctx, ZUPD_LOG_INFO, "resuming '%s' at %" PRIu64 " of %" PRIu64 " bytes", name, f.len,
               expected_len);
    for (;;) {
        fetched = false;
        if (f.len < expected_len) {
            r.offset = f.len;
            rc = zupd_fetch(ctx, t, &r, &sink, res);
            if (rc != ZUPD_OK) {
                drop_partial(ctx, dirfd, part, rc); /* else it stays for the next run */
                goto out;
            }
            fetched = true;
            if (f.len < expected_len) {
                zu_log(ctx, ZUPD_LOG_WARN, "'%s': %" PRIu64 " of %" PRIu64 " bytes from mirror %zu",
                       req->path, f.len, expected_len, res->mirror);
                r.first = res->mirror + 1;
                if (r.first >= r.n_bases) {
                    rc = ZUPD_E_LENGTH;
                    goto out;
                }
                continue;
            }
        }
        rc = zupd_hash_final(f.h, got, sizeof(got), &glen);
        if (rc != ZUPD_OK)
            goto out;
        if (glen == dlen && memcmp(got, digest, dlen) == 0)
            break;
        blame_mismatch(ctx, req->path, req->bases, fetched, res->mirror, res->start, f.len);
        rc = file_restart(&f);
        if (rc != ZUPD_OK)
            goto out;
        /* a mismatch of bytes resumed on top of a partial (of an earlier run
         * or another mirror, maybe hostile) does not blame this mirror: ask
         * it again from scratch; a whole wrong file does */
        if (fetched)
            r.first = res->start == 0 ? res->mirror + 1 : res->mirror;
        if (r.first >= r.n_bases || expected_len == 0) {
            unlinkat(dirfd, part, 0);
            rc = ZUPD_E_HASH;
            goto out;
        }
    }
    rc = file_publish(f.fd, dirfd, part, name, sync);
    if (rc != ZUPD_OK)
        zu_log(ctx, ZUPD_LOG_ERR, "cannot store '%s': %s", name, strerror(errno));
out:
    if (f.fd >= 0)
        close(f.fd);
    zupd_hash_free(f.h);
    return rc;
}

int
zupd_fetch_file(struct zupd_ctx *ctx, struct zupd_transport *t, const struct zupd_fetch_req *req,
                int dirfd, const char *name, uint64_t expected_len, enum zupd_hash_alg alg,
                const uint8_t *digest, struct zupd_fetch_res *res)
{
    return fetch_file_impl(ctx, t, req, dirfd, name, expected_len, alg, digest, true, res);
}

/* ------------------------------------------------------------ several files */

struct slot {
    struct filesink f;
    struct wrap w;
    struct zupd_sink fs, ws;
    char part[256];
    char *url;
    bool asked; /* a GET of the parallel round */
};

/* Open the partial of one file and hash what it holds. */
static int
slot_open(struct slot *s, int dirfd, const struct zupd_fetch_file_req *fr, enum zupd_hash_alg alg)
{
    struct stat sb;
    int rc;

    if (!zu_plain_name(fr->name) || fr->digest == NULL || fr->path == NULL ||
        strlen(fr->name) + sizeof(".part") > sizeof(s->part))
        return ZUPD_E_MISUSE;
    snprintf(s->part, sizeof(s->part), "%s.part", fr->name);
    /* a file left whole by an earlier run is checked like a partial: its
     * hash decides, and it costs no request when it is right */
    if (fstatat(dirfd, s->part, &sb, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT &&
        fstatat(dirfd, fr->name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
        (void)renameat(dirfd, fr->name, dirfd, s->part);
    rc = zu_open_rw(dirfd, s->part, 0644, &s->f.fd, &s->f.len);
    if (rc != ZUPD_OK)
        return rc;
    s->f.alg = alg;
    s->f.h = zupd_hash_new(alg);
    if (s->f.h == NULL)
        return ZUPD_E_NOMEM;
    return s->f.len > fr->expected_len ? file_restart(&s->f) : file_hash_prefix(&s->f);
}

/* After the parallel round: is the file whole and right? Then in place. */
static int
slot_finish(struct slot *s, int dirfd, const struct zupd_fetch_file_req *fr, size_t dlen, bool sync)
{
    uint8_t got[ZUPD_HASH_MAX_LEN];
    size_t glen = 0;
    int rc;

    if (s->f.len != fr->expected_len)
        return ZUPD_E_LENGTH;
    rc = zupd_hash_final(s->f.h, got, sizeof(got), &glen);
    if (rc != ZUPD_OK)
        return rc;
    if (glen != dlen || memcmp(got, fr->digest, dlen) != 0)
        return ZUPD_E_HASH;
    return file_publish(s->f.fd, dirfd, s->part, fr->name, sync);
}

/* The requests of one batch from the mirror base: together when the
 * transport can (each item's rc and result filled in), else one by one;
 * the time counts against the mirror's budget. */
static void
get_items(struct zupd_ctx *ctx, struct zupd_transport *t, const char *base,
          struct zupd_get_item *items, size_t n_items, unsigned parallel)
{
    if (n_items > 1 && parallel > 1 && t->ops.get_many != NULL) {
        uint64_t t0 = mono_ms();
        t->ops.get_many(t->opaque, items, n_items, parallel);
        budget_spend(t, 0, t0);
    } else {
        for (size_t k = 0; k < n_items; k++) {
            uint64_t t0 = mono_ms();
            if (budget_gone(ctx, t, base, 0)) {
                items[k].rc = ZUPD_E_TIMEOUT; /* alone below, from the next mirror */
                continue;
            }
            items[k].rc = t->ops.get(t->opaque, &items[k].g, items[k].sink, &items[k].res);
            budget_spend(t, 0, t0);
        }
    }
}

int
zupd_fetch_files(struct zupd_ctx *ctx, struct zupd_transport *t, const char *const *bases,
                 size_t n_bases, int dirfd, enum zupd_hash_alg alg,
                 struct zupd_fetch_file_req *files, size_t n, unsigned parallel, unsigned flags)
{
    struct slot *sl = NULL;
    struct zupd_get_item *items = NULL;
    size_t n_items = 0, dlen = zupd_hash_len(alg);
    bool sync = (flags & ZUPD_FETCH_NOSYNC) == 0;
    int rc = ZUPD_OK;

    if (t == NULL || t->ops.get == NULL || bases == NULL || n_bases == 0 || dlen == 0 ||
        (files == NULL && n > 0))
        return ZUPD_E_MISUSE;
    if (n == 0)
        return ZUPD_OK;
    sl = calloc(n, sizeof(*sl));
    items = calloc(n, sizeof(*items));
    if (sl == NULL || items == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct slot *s = &sl[i];
        struct zupd_fetch_file_req *fr = &files[i];
        size_t need;

        s->f.fd = -1;
        fr->rc = slot_open(s, dirfd, fr, alg);
        if (fr->rc != ZUPD_OK || s->f.len == fr->expected_len)
            continue; /* an error, or whole already: checked below */
        if (budget_gone(ctx, t, bases[0], 0)) {
            fr->rc = ZUPD_E_TIMEOUT; /* alone below, from the next mirror */
            continue;
        }
        need = strlen(bases[0]) + strlen(fr->path) + 2;
        s->url = malloc(need);
        if (s->url == NULL) {
            fr->rc = ZUPD_E_NOMEM;
            continue;
        }
        snprintf(s->url, need, "%s%s%s", bases[0],
                 bases[0][0] != 0 && bases[0][strlen(bases[0]) - 1] == '/' ? "" : "/", fr->path);
        s->fs = (struct zupd_sink){.opaque = &s->f, .begin = file_begin, .write = file_write};
        s->w = (struct wrap){.user = &s->fs, .pos = s->f.len, .max = fr->expected_len};
        s->ws = (struct zupd_sink){.opaque = &s->w, .begin = wrap_begin, .write = wrap_write};
        items[n_items].g.url = s->url;
        items[n_items].g.offset = s->f.len;
        items[n_items].g.max_bytes = fr->expected_len;
        items[n_items].sink = &s->ws;
        s->asked = true;
        n_items++;
    }
    get_items(ctx, t, bases[0], items, n_items, parallel);
    for (size_t i = 0, k = 0; i < n; i++) {
        struct slot *s = &sl[i];
        struct zupd_fetch_file_req *fr = &files[i];
        struct zupd_fetch_req req;
        struct zupd_fetch_res res;
        uint64_t resumed_at = 0;
        size_t first;

        if (s->asked) {
            struct zupd_get_item *it = &items[k++];
            resumed_at = it->res.start;
            t->stats.requests++;
            t->stats.bytes += it->res.received;
            t->stats.connections += it->res.new_conns;
            fr->rc = it->rc;
            if (fr->rc == ZUPD_OK && !s->w.began)
                fr->rc = wrap_begin(&s->w, it->res.start); /* an empty body */
        }
        if (fr->rc == ZUPD_OK)
            fr->rc = slot_finish(s, dirfd, fr, dlen, sync);
        if (s->f.fd >= 0)
            close(s->f.fd);
        s->f.fd = -1;
        /* after a failure on the first mirror, the next one when there is one */
        first = s->asked && n_bases > 1 ? 1 : 0;
        if (fr->rc == ZUPD_E_HASH) {
            /* blamed here, where it is known who sent the bytes; they go,
             * so the retry below does not check (and blame) them again */
            blame_mismatch(ctx, fr->path, bases, s->asked, 0, s->asked ? resumed_at : 0, s->f.len);
            (void)unlinkat(dirfd, s->part, 0);
            if (!s->asked || resumed_at > 0)
                first = 0; /* no mirror at fault for sure: the first, from scratch */
            else if (n_bases == 1)
                goto next; /* the only mirror sent wrong bytes */
        }
        if (fr->rc != ZUPD_OK && !machine_error(fr->rc)) {
            /* alone now, with the mirror fallback */
            memset(&req, 0, sizeof(req));
            req.bases = bases;
            req.n_bases = n_bases;
            req.first = first;
            req.path = fr->path;
            req.max_bytes = fr->expected_len > 0 ? fr->expected_len : 1;
            zu_log(ctx, ZUPD_LOG_INFO, "'%s': %s; fetching it alone", fr->path,
                   zupd_strerror(fr->rc));
            fr->rc = fetch_file_impl(ctx, t, &req, dirfd, fr->name, fr->expected_len, alg,
                                     fr->digest, sync, &res);
        }
    next:
        if (fr->rc != ZUPD_OK && s->part[0] != '\0')
            drop_partial(ctx, dirfd, s->part, fr->rc);
        if (fr->rc != ZUPD_OK && rc == ZUPD_OK)
            rc = fr->rc;
    }
out:
    for (size_t i = 0; sl != NULL && i < n; i++) {
        if (sl[i].f.fd >= 0)
            close(sl[i].f.fd);
        zupd_hash_free(sl[i].f.h);
        free(sl[i].url);
    }
    free(sl);
    free(items);
    return rc;
}

/* ------------------------------------------------------------ client state */

#define STATE_MAGIC "zupd-fetch-state 1\n"

int
zu_fetch_state_format(char *dst, size_t dst_cap, size_t *out_len, const struct zu_fetch_state *st)
{
    struct zu_buf b;
    int rc;

    *out_len = 0;
    if (dst_cap > 0)
        dst[0] = '\0';
    if (!zu_validator_ok(st->timestamp.etag) || !zu_validator_ok(st->timestamp.last_modified) ||
        st->cooldown_until < 0)
        return ZUPD_E_MISUSE;
    zu_buf_init(&b, 0);
    rc = zu_buf_addstr(&b, STATE_MAGIC);
    if (rc == ZUPD_OK && st->timestamp.etag[0] != '\0')
        rc = zu_buf_addf(&b, "etag %s\n", st->timestamp.etag);
    if (rc == ZUPD_OK && st->timestamp.last_modified[0] != '\0')
        rc = zu_buf_addf(&b, "last-modified %s\n", st->timestamp.last_modified);
    if (rc == ZUPD_OK && st->cooldown_until > 0)
        rc = zu_buf_addf(&b, "cooldown-until %" PRId64 "\n", st->cooldown_until);
    if (rc == ZUPD_OK && b.len >= dst_cap)
        rc = ZUPD_E_TOOBIG;
    if (rc == ZUPD_OK) {
        memcpy(dst, b.p, b.len + 1);
        *out_len = b.len;
    }
    zu_buf_release(&b);
    return rc;
}

int
zu_fetch_state_parse(const char *src, size_t src_len, struct zu_fetch_state *st)
{
    const char *p = src, *end = src + src_len;
    unsigned seen = 0;
    const size_t magic_len = sizeof(STATE_MAGIC) - 1;

    memset(st, 0, sizeof(*st));
    if (src_len > 4096 || src_len < magic_len || memcmp(src, STATE_MAGIC, magic_len) != 0)
        goto bad;
    p += magic_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *sp;
        size_t klen, vlen;

        if (nl == NULL)
            goto bad;
        sp = memchr(p, ' ', (size_t)(nl - p));
        if (sp == NULL)
            goto bad;
        klen = (size_t)(sp - p);
        vlen = (size_t)(nl - sp - 1);
        if (vlen == 0 || vlen >= ZUPD_VALIDATOR_MAX)
            goto bad;
        for (size_t i = 0; i < vlen; i++)
            if ((unsigned char)sp[1 + i] < 0x20 || (unsigned char)sp[1 + i] > 0x7e)
                goto bad;
        if (klen == 4 && memcmp(p, "etag", 4) == 0 && !(seen & 1)) {
            memcpy(st->timestamp.etag, sp + 1, vlen);
            seen |= 1;
        } else if (klen == 13 && memcmp(p, "last-modified", 13) == 0 && !(seen & 2)) {
            memcpy(st->timestamp.last_modified, sp + 1, vlen);
            seen |= 2;
        } else if (klen == 14 && memcmp(p, "cooldown-until", 14) == 0 && !(seen & 4)) {
            int64_t v = 0;

            if (vlen > 18)
                goto bad;
            for (size_t i = 0; i < vlen; i++) {
                if (sp[1 + i] < '0' || sp[1 + i] > '9')
                    goto bad;
                v = v * 10 + (sp[1 + i] - '0');
            }
            st->cooldown_until = v;
            seen |= 4;
        } else {
            goto bad;
        }
        p = nl + 1;
    }
    return ZUPD_OK;
bad:
    memset(st, 0, sizeof(*st));
    return ZUPD_E_FORMAT;
}

void
zu_fetch_state_cooldown(struct zu_fetch_state *st, int64_t now, uint32_t retry_after)
{
    int64_t until = now + (int64_t)retry_after;

    if (until > st->cooldown_until)
        st->cooldown_until = until;
}

uint64_t
zu_fetch_state_wait(const struct zu_fetch_state *st, int64_t now)
{
    return st->cooldown_until > now ? (uint64_t)(st->cooldown_until - now) : 0;
}
