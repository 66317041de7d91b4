/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/serve/serve.c -- zupd-mirror serve: a static HTTP/1.1 server of the
 * repository tree on libmicrohttpd (thread pool, one epoll per thread).
 *
 * Per request: the path is decoded and checked (serve_http.c), its parent
 * directory is opened beneath the root without following any symlink
 * (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or openat O_NOFOLLOW per
 * component), the file is fstatat'ed without following a symlink and must be
 * a regular file. Small *.json files come from a memory cache keyed by path
 * and checked against the file's identity (dev, inode, size, mtime, ctime) on
 * every request, so a metadata file replaced by rename is served new at
 * once; each entry holds ready 200 and 304 responses shared by all threads.
 * Other files are sent with sendfile from a fresh descriptor.
 *
 * Responses are queued on the second call of the access handler: queued on
 * the first, libmicrohttpd closes the connection (no keep-alive).
 *
 * This file: the requests and the server's setup; the cache and the
 * opening of files are mirror/serve/serve_cache.c (shared: mirror/serve/serve_int.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include <zupd/hash.h>

#include "serve/serve.h"
#include "serve/serve_http.h"
#include "serve/serve_int.h"
#include "serve/serve_net.h"
#include "zu/fsio.h"

/* one request; only allocated when the access log is on */
struct req {
    struct timespec t0;
    unsigned status;
    uint64_t bytes;
    size_t linelen;
    char line[640]; /* "METHOD path VERSION", escaped */
};

static char no_log_req; /* *req_cls when there is no access log */

static void srv_log(const struct zp_server *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
srv_log(const struct zp_server *s, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (s->log_fn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->log_fn(s->log_opaque, level, msg);
}

/* At most LOG_BURST server log lines a second: a flood of malformed requests
 * must not flood the log. What is dropped is counted and reported in one
 * line when the next second begins (or the watcher thread notices). */
#define LOG_BURST 10

static time_t
mono_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Log msg (NULL: only report what was suppressed in an earlier second). */
static void
log_limited(struct zp_server *s, int level, const char *msg)
{
    unsigned long dropped = 0;
    time_t now = mono_sec();
    bool emit = false;

    if (s->log_fn == NULL)
        return;
    pthread_mutex_lock(&s->log_lock);
    if (now != s->log_sec) {
        dropped = s->log_suppressed;
        s->log_suppressed = 0;
        s->log_lines = 0;
        s->log_sec = now;
    }
    if (msg != NULL) {
        emit = s->log_lines < LOG_BURST;
        if (emit)
            s->log_lines++;
        else
            s->log_suppressed++;
    }
    pthread_mutex_unlock(&s->log_lock);
    if (dropped > 0) {
        char sum[128];

        snprintf(sum, sizeof(sum), "suppressed %lu more log line%s (at most %d a second)", dropped,
                 dropped == 1 ? "" : "s", LOG_BURST);
        s->log_fn(s->log_opaque, ZUPD_LOG_WARN, sum);
    }
    if (emit)
        s->log_fn(s->log_opaque, level, msg);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct zp_server *s = cls;
    char msg[512];
    size_t n;

    if (s->log_fn == NULL)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_limited(s, ZUPD_LOG_WARN, msg);
}

/* ------------------------------------------------------------------ request timeout */

static const char *
header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
    struct zp_server *s = cls;
    struct conn *k = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

        *socket_context = NULL;
        if (ci == NULL)
            return;
        k = calloc(1, sizeof(*k));
        if (k == NULL)
            return; /* no request timeout for this one; the idle timeout still holds */
        k->fd = ci->connect_fd;
        k->waiting = true;
        clock_gettime(CLOCK_MONOTONIC, &k->since);
        pthread_mutex_lock(&s->conn_lock);
        k->next = s->conns;
        if (s->conns != NULL)
            s->conns->prev = k;
        s->conns = k;
        pthread_mutex_unlock(&s->conn_lock);
        *socket_context = k;
        return;
    }
    /* closed: libmicrohttpd closes the socket after this returns, so the
     * watcher (which shuts sockets down under conn_lock) never touches a
     * descriptor number that was reused */
    if (k == NULL)
        return;
    pthread_mutex_lock(&s->conn_lock);
    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        s->conns = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    pthread_mutex_unlock(&s->conn_lock);
    free(k);
    *socket_context = NULL;
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

/* libmicrohttpd calls this with the request target as it split the request
 * line (the version already cut off at the last space, the query not yet):
 * its strlen() stops at a NUL byte inside the target, which the access
 * handler can then tell (url + strlen + 1 is not where the version starts).
 * Returns NULL: the access handler's first call still sees *req_cls NULL. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct conn *k = conn_of(c);

    (void)cls;
    if (k != NULL) {
        k->uri_len = strlen(uri);
        k->uri_seen = true;
    }
    return NULL;
}

struct hdr_scan {
    unsigned hosts;
    bool bad_name;
};

static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct hdr_scan *h = cls;

    (void)kind;
    (void)value;
    if (key[0] == '\0' || strpbrk(key, " \t") != NULL)
        h->bad_name = true; /* "Host : x": RFC 9112 5.1, a 400 */
    else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
        h->hosts++;
    return MHD_YES;
}

/* What RFC 9112 and nginx refuse but libmicrohttpd 0.9.75 passes on: 0 or
 * the status to answer (docs/zupd-mirror-serve.md, "Strictness"). */
static unsigned
request_defect(struct MHD_Connection *c, const char *url, const char *version)
{
    struct conn *k = conn_of(c);
    struct hdr_scan h = {0, false};
    const char *te;

    if (k != NULL && k->uri_seen) {
        k->uri_seen = false;
        if (version != url + k->uri_len + 1)
            return MHD_HTTP_BAD_REQUEST; /* a NUL byte in the request target */
    }
    (void)MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &h);
    if (h.bad_name || h.hosts > 1 || (h.hosts == 0 && strcmp(version, "HTTP/1.1") == 0))
        return MHD_HTTP_BAD_REQUEST;
    te = header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te != NULL && header(c, MHD_HTTP_HEADER_CONTENT_LENGTH) != NULL)
        return MHD_HTTP_BAD_REQUEST; /* both: request smuggling */
    if (te != NULL && strcasecmp(te, "chunked") != 0)
        return MHD_HTTP_NOT_IMPLEMENTED;
    return 0;
}

/* The request on c is read (waiting false) or a new one may begin (true). */
static void
request_clock(struct zp_server *s, struct MHD_Connection *c, bool waiting)
{
    struct conn *k;

    if (s->request_timeout_s == 0)
        return;
    k = conn_of(c);
    if (k == NULL)
        return;
    pthread_mutex_lock(&s->conn_lock);
    k->waiting = waiting;
    if (waiting)
        clock_gettime(CLOCK_MONOTONIC, &k->since);
    pthread_mutex_unlock(&s->conn_lock);
}

/* The watcher thread: every quarter second, shut down the sockets whose
 * request is late (libmicrohttpd then sees the end of the stream and closes
 * the connection in its own thread), and report suppressed log lines. */
static void *
watcher(void *arg)
{
    struct zp_server *s = arg;
    struct timespec now, wake;
    unsigned long late;
    struct conn *k;

    pthread_mutex_lock(&s->conn_lock);
    while (!s->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &wake);
        wake.tv_nsec += 250000000L;
        if (wake.tv_nsec >= 1000000000L) {
            wake.tv_sec++;
            wake.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&s->conn_cv, &s->conn_lock, &wake);
        if (s->stopping)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        late = 0;
        for (k = s->conns; k != NULL; k = k->next) {
            int64_t ms = (int64_t)(now.tv_sec - k->since.tv_sec) * 1000 +
                         (now.tv_nsec - k->since.tv_nsec) / 1000000;

            if (!k->waiting || ms < (int64_t)s->request_timeout_s * 1000)
                continue;
            (void)shutdown(k->fd, SHUT_RDWR);
            k->waiting = false; /* once */
            late++;
        }
        pthread_mutex_unlock(&s->conn_lock);
        if (late > 0) {
            char msg[128];

            snprintf(msg, sizeof(msg), "closed %lu connection%s: request not complete after %u s",
                     late, late == 1 ? "" : "s", s->request_timeout_s);
            log_limited(s, ZUPD_LOG_WARN, msg);
        }
        log_limited(s, ZUPD_LOG_WARN, NULL);
        pthread_mutex_lock(&s->conn_lock);
    }
    pthread_mutex_unlock(&s->conn_lock);
    return NULL;
}

/* ------------------------------------------------------------------ requests */

/* RFC 9110 13.2.2: If-None-Match, else If-Modified-Since. */
static bool
not_modified(struct MHD_Connection *c, const char *etag, time_t mtime)
{
    const char *inm = header(c, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *ims;
    time_t t;

    if (inm != NULL)
        return zu_etag_list_match(inm, etag);
    ims = header(c, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    return ims != NULL && zu_http_date_parse(ims, &t) == 0 && mtime <= t;
}

/* Range applies to GET only, and only while If-Range (if any) still holds. */
static enum zu_range
want_range(struct MHD_Connection *c, bool head, const char *etag, const char *lastmod,
           uint64_t size, uint64_t *off, uint64_t *len)
{
    const char *ir;

    *off = *len = 0;
    if (head)
        return ZU_RANGE_NONE;
    ir = header(c, MHD_HTTP_HEADER_IF_RANGE);
    if (ir != NULL && strcmp(ir, etag) != 0 && strcmp(ir, lastmod) != 0)
        return ZU_RANGE_NONE;
    return zu_serve_range(header(c, MHD_HTTP_HEADER_RANGE), size, off, len);
}

static enum MHD_Result
queue(struct MHD_Connection *c, struct req *r, unsigned status, struct MHD_Response *resp,
      uint64_t bytes)
{
    if (r != NULL) {
        r->status = status;
        r->bytes = bytes;
    }
    return MHD_queue_response(c, status, resp);
}

static const char body400[] = "400 bad request\n";
static const char body404[] = "404 not found\n";
static const char body405[] = "405 method not allowed\n";
static const char body414[] = "414 path too long\n";
static const char body500[] = "500 internal server error\n";
static const char body501[] = "501 not implemented\n";
static const char body503[] = "503 service unavailable\n";

static enum MHD_Result
queue_error(struct zp_server *s, struct MHD_Connection *c, struct req *r, unsigned status)
{
    struct MHD_Response *resp;
    size_t len;

    switch (status) {
    case MHD_HTTP_BAD_REQUEST:
        resp = s->r400;
        len = sizeof(body400) - 1;
        break;
    case MHD_HTTP_NOT_FOUND:
        resp = s->r404;
        len = sizeof(body404) - 1;
        break;
    case MHD_HTTP_METHOD_NOT_ALLOWED:
        resp = s->r405;
        len = sizeof(body405) - 1;
        break;
    case MHD_HTTP_URI_TOO_LONG:
        resp = s->r414;
        len = sizeof(body414) - 1;
        break;
    case MHD_HTTP_NOT_IMPLEMENTED:
        resp = s->r501;
        len = sizeof(body501) - 1;
        break;
    case MHD_HTTP_SERVICE_UNAVAILABLE:
        resp = s->r503;
        len = sizeof(body503) - 1;
        break;
    default:
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        resp = s->r500;
        len = sizeof(body500) - 1;
        break;
    }
    return queue(c, r, status, resp, len);
}

static enum MHD_Result
queue_416(struct zp_server *s, struct MHD_Connection *c, struct req *r, uint64_t size)
{
    static const char body[] = "416 range not satisfiable\n";
    struct MHD_Response *resp;
    char cr[48];
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)(uintptr_t)body,
                                           MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return queue_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE);
    snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr) != MHD_YES ||
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain") != MHD_YES) {
        MHD_destroy_response(resp);
        return queue_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE);
    }
    ret = queue(c, r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp, sizeof(body) - 1);
    MHD_destroy_response(resp);
    return ret;
}

static bool
add_content_range(struct MHD_Response *resp, uint64_t off, uint64_t len, uint64_t size)
{
    char cr[80];

    snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1), (unsigned long long)size);
    return MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr) == MHD_YES;
}

static enum MHD_Result
serve_cached(struct zp_server *s, struct MHD_Connection *c, struct req *r, bool head,
             const char *rel, size_t rellen, const struct centry *e)
{
    struct MHD_Response *resp;
    uint64_t off, len;
    enum MHD_Result ret;

    if (not_modified(c, e->etag, e->mtim.tv_sec))
        return queue(c, r, MHD_HTTP_NOT_MODIFIED, e->r304, 0);
    switch (want_range(c, head, e->etag, e->lastmod, e->len, &off, &len)) {
    case ZU_RANGE_NONE:
        break;
    case ZU_RANGE_UNSAT:
        return queue_416(s, c, r, e->len);
    case ZU_RANGE_OK:
        resp = MHD_create_response_from_buffer((size_t)len, (void *)(uintptr_t)(e->data + off),
                                               MHD_RESPMEM_MUST_COPY);
        if (resp == NULL)
            return queue_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE);
        if (!zp_serve_add_headers(resp, e->etag, e->lastmod, e->cc, zu_serve_ctype(rel, rellen)) ||
            !add_content_range(resp, off, len, e->len)) {
            MHD_destroy_response(resp);
            return queue_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE);
        }
        ret = queue(c, r, MHD_HTTP_PARTIAL_CONTENT, resp, len);
        MHD_destroy_response(resp);
        return ret;
    }
    return queue(c, r, MHD_HTTP_OK, e->r200, head ? 0 : e->len);
}

/* Any regular file: validators from its inode, body by sendfile. */
static enum MHD_Result
serve_fd(struct zp_server *s, struct MHD_Connection *c, struct req *r, bool head, int dirfd,
         const char *base, const char *rel, size_t rellen)
{
    struct MHD_Response *resp = NULL;
    char etag[ETAG_MAX], lastmod[DATE_MAX];
    const char *cc = zu_serve_immutable(rel, rellen) ? IMMUTABLE_CC : s->short_cc;
    uint64_t off = 0, len, size, roff, rlen;
    unsigned status = MHD_HTTP_OK;
    enum MHD_Result ret;
    struct stat st;
    int fd, fl;

    fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return queue_error(s, c, r, zp_serve_errno_status(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return queue_error(s, c, r, MHD_HTTP_NOT_FOUND);
    }
    fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK); /* sendfile wants a blocking fd */
    size = (uint64_t)st.st_size;
    len = size;
    zp_serve_file_etag(etag, sizeof(etag), &st);
    zu_http_date(lastmod, sizeof(lastmod), st.st_mtim.tv_sec);
    if (not_modified(c, etag, st.st_mtim.tv_sec)) {
        close(fd);
        resp = zp_serve_response_304(etag, lastmod, cc);
        if (resp == NULL)
            return queue_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE);
        ret = queue(c, r, MHD_HTTP_NOT_MODIFIED, resp, 0);
        MHD_destroy_response(resp);
        return ret;
    }
    switch (want_range(c, head, etag, lastmod, size, &roff, &rlen)) {
    case ZU_RANGE_NONE:
        break;
    case ZU_RANGE_UNSAT:
        close(fd);
        return queue_416(s, c, r, size);
    case ZU_RANGE_OK:
        status = MHD_HTTP_PARTIAL_CONTENT;
        off = roff;
        len = rlen;
        break;
    }
    resp = MHD_create_response_from_fd_at_offset64(len, fd, off); /* owns fd */
    if (resp == NULL) {
        close(fd);
        return queue_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE);
    }
    if (!zp_serve_add_headers(resp, etag, lastmod, cc, zu_serve_ctype(rel, rellen)) ||
        (status == MHD_HTTP_PARTIAL_CONTENT && !add_content_range(resp, off, len, size))) {
        MHD_destroy_response(resp);
        return queue_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE);
    }
    ret = queue(c, r, status, resp, head ? 0 : len);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result
respond(struct zp_server *s, struct MHD_Connection *c, struct req *r, const char *url, bool head)
{
    char rel[ZU_SERVE_PATH_MAX + 1];
    const char *base = rel, *slash;
    size_t rellen;
    struct stat st;
    unsigned status;
    int dirfd;
    enum MHD_Result ret;

    status = (unsigned)zu_serve_path(url, rel, sizeof(rel), &rellen);
    if (status != 0)
        return queue_error(s, c, r, status);
    slash = strrchr(rel, '/');
    dirfd = s->rootfd;
    if (slash != NULL) {
        dirfd = zp_serve_open_dir_beneath(s, rel, (size_t)(slash - rel));
        if (dirfd < 0)
            return queue_error(s, c, r, zp_serve_errno_status(-dirfd));
        base = slash + 1;
    }
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        ret = queue_error(s, c, r, zp_serve_errno_status(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) { /* directories, symlinks, devices, fifos */
        ret = queue_error(s, c, r, MHD_HTTP_NOT_FOUND);
        goto out;
    }
    if ((uint64_t)st.st_size <= s->meta_max && rellen > 5 &&
        memcmp(rel + rellen - 5, ".json", 5) == 0) {
        struct centry *e = zp_cache_get(s, rel, rellen, &st);

        if (e == NULL) {
            status = zp_centry_load(s, dirfd, base, rel, rellen, &e);
            if (status != 0) {
                ret = queue_error(s, c, r, status);
                goto out;
            }
            if (e != NULL)
                zp_cache_put(s, e);
        }
        if (e != NULL) {
            ret = serve_cached(s, c, r, head, rel, rellen, e);
            zp_centry_unref(e);
            goto out;
        }
    }
    ret = serve_fd(s, c, r, head, dirfd, base, rel, rellen);
out:
    if (dirfd != s->rootfd)
        close(dirfd);
    return ret;
}

static bool
has_body(struct MHD_Connection *c)
{
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);

    return header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL ||
           (cl != NULL && strcmp(cl, "0") != 0);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    struct zp_server *s = cls;
    struct req *r = *req_cls == &no_log_req ? NULL : *req_cls;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    bool head = !get && strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    unsigned defect;

    (void)upload_data;
    if (*req_cls == NULL) {
        /* first call: headers only. Queuing now would cost keep-alive. */
        if (s->logfd < 0) {
            *req_cls = &no_log_req;
        } else {
            r = malloc(sizeof(*r));
            if (r == NULL)
                return MHD_NO;
            clock_gettime(CLOCK_MONOTONIC, &r->t0);
            r->status = 0;
            r->bytes = 0;
            r->linelen = 0;
            r->line[0] = '\0';
            zu_log_escape(r->line, sizeof(r->line), &r->linelen, method);
            zu_log_escape(r->line, sizeof(r->line), &r->linelen, " ");
            zu_log_escape(r->line, sizeof(r->line), &r->linelen, url);
            zu_log_escape(r->line, sizeof(r->line), &r->linelen, " ");
            zu_log_escape(r->line, sizeof(r->line), &r->linelen, version);
            *req_cls = r;
        }
        defect = request_defect(c, url, version);
        if (defect != 0) {
            request_clock(s, c, false);
            return queue_error(s, c, r, defect);
        }
        /* another method with a body: refuse before reading it (the
         * connection then closes); without a body, on the next call */
        if (!get && !head && has_body(c)) {
            request_clock(s, c, false);
            return queue_error(s, c, r, MHD_HTTP_METHOD_NOT_ALLOWED);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        /* a GET or HEAD with a body: the body means nothing, drop it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    request_clock(s, c, false); /* all read: the request timeout stops */
    if (!get && !head)
        return queue_error(s, c, r, MHD_HTTP_METHOD_NOT_ALLOWED);
    return respond(s, c, r, url, head);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct zp_server *s = cls;
    struct req *r = *req_cls;
    const union MHD_ConnectionInfo *ci;
    char ip[INET6_ADDRSTRLEN] = "-", when[40], line[900];
    struct timespec t1;
    struct tm tm;
    time_t now;
    double dt;
    int n;

    *req_cls = NULL;
    request_clock(s, c, true); /* the next request's clock starts */
    if (r == NULL || (void *)r == (void *)&no_log_req)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    dt = (double)(t1.tv_sec - r->t0.tv_sec) + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9;
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr != NULL) {
        const struct sockaddr *sa = ci->client_addr;

        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
                      sizeof(ip));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                      sizeof(ip));
    }
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    /* the common log format, then the request time in seconds (nginx $request_time) */
    n = snprintf(line, sizeof(line), "%s - - [%s] \"%s\" %u %llu %.6f%s\n", ip, when, r->line,
                 r->status, (unsigned long long)r->bytes, dt,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    if (n > 0) {
        size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;

        if (write(s->logfd, line, len) < 0) {
            /* nothing sensible to do: the request is served */
        }
    }
    free(r);
}

/* ------------------------------------------------------------------ setup */

void
zp_serve_opts_init(struct zp_serve_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->access_log_fd = -1;
}

static struct MHD_Response *
error_response(unsigned status, const char *body)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return NULL;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain") != MHD_YES ||
        (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
         MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* Leave the raw path as sent: serve_http decodes it once and can then tell
 * an encoded '/' from a real one. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static void
free_server(struct zp_server *s)
{
    if (s == NULL)
        return;
    pthread_rwlock_wrlock(&s->lock);
    zp_cache_flush_locked(s);
    pthread_rwlock_unlock(&s->lock);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->conn_lock);
    pthread_cond_destroy(&s->conn_cv);
    pthread_mutex_destroy(&s->log_lock);
    if (s->r400 != NULL)
        MHD_destroy_response(s->r400);
    if (s->r404 != NULL)
        MHD_destroy_response(s->r404);
    if (s->r405 != NULL)
        MHD_destroy_response(s->r405);
    if (s->r414 != NULL)
        MHD_destroy_response(s->r414);
    if (s->r500 != NULL)
        MHD_destroy_response(s->r500);
    if (s->r501 != NULL)
        MHD_destroy_response(s->r501);
    if (s->r503 != NULL)
        MHD_destroy_response(s->r503);
    if (s->rootfd >= 0)
        close(s->rootfd);
    free(s->tls_cert);
    if (s->tls_key != NULL) {
        explicit_bzero(s->tls_key, s->tls_key_len);
        free(s->tls_key);
    }
    free(s);
}

/* The server's settings from o, defaults filled in: *max_conn connections,
 * *per_ip of them from one address (0: no limit). */
static void
settings(struct zp_server *s, const struct zp_serve_opts *o, unsigned *max_conn, unsigned *per_ip)
{
    *max_conn = o->max_connections != 0 ? o->max_connections : 4096;
    if (o->max_per_ip == ZP_SERVE_UNLIMITED)
        *per_ip = 0; /* libmicrohttpd: no limit */
    else if (o->max_per_ip != 0)
        *per_ip = o->max_per_ip;
    else /* one address never takes more than half of the connections */
        *per_ip = *max_conn / 2 < 64 ? (*max_conn / 2 > 0 ? *max_conn / 2 : 1) : 64;
    s->request_timeout_s = o->request_timeout_s == ZP_SERVE_UNLIMITED ? 0
                           : o->request_timeout_s != 0                ? o->request_timeout_s
                                                                      : 60;
    s->logfd = o->access_log_fd;
    s->log_fn = o->log_fn;
    s->log_opaque = o->log_opaque;
    s->meta_max = o->meta_max_bytes != 0 ? o->meta_max_bytes : (size_t)1 << 20;
    s->cache_cap = o->meta_cache_bytes != 0 ? o->meta_cache_bytes : (size_t)64 << 20;
    snprintf(s->short_cc, sizeof(s->short_cc), "public, max-age=%u",
             o->short_max_age != 0 ? o->short_max_age : 60);
    atomic_init(&s->no_openat2, o->walk_paths != 0);
}

/* The served tree: a directory, opened O_PATH (requests open beneath it). */
static int
open_root(struct zp_server *s, const char *root, char *err, size_t err_cap)
{
    struct stat st;

    s->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->rootfd < 0) {
        snprintf(err, err_cap, "cannot open directory '%s': %s", root, strerror(errno));
        return zu_errno_to_err(errno);
    }
    if (fstat(s->rootfd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_cap, "'%s' is not a directory", root);
        return ZUPD_E_IO;
    }
    return ZUPD_OK;
}

/* The error answers, made once and shared by every connection. */
static int
make_responses(struct zp_server *s)
{
    s->r400 = error_response(MHD_HTTP_BAD_REQUEST, body400);
    s->r404 = error_response(MHD_HTTP_NOT_FOUND, body404);
    s->r405 = error_response(MHD_HTTP_METHOD_NOT_ALLOWED, body405);
    s->r414 = error_response(MHD_HTTP_URI_TOO_LONG, body414);
    s->r500 = error_response(MHD_HTTP_INTERNAL_SERVER_ERROR, body500);
    s->r501 = error_response(MHD_HTTP_NOT_IMPLEMENTED, body501);
    s->r503 = error_response(MHD_HTTP_SERVICE_UNAVAILABLE, body503);
    if (s->r400 == NULL || s->r404 == NULL || s->r405 == NULL || s->r414 == NULL ||
        s->r500 == NULL || s->r501 == NULL || s->r503 == NULL)
        return ZUPD_E_NOMEM;
    return ZUPD_OK;
}

int
zp_serve_start(const struct zp_serve_opts *o, struct zp_server **out, char *err, size_t err_cap)
{
    struct zp_server *s = NULL;
    unsigned threads = o->threads;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    size_t cert_len = 0;
    unsigned max_conn, per_ip;
    int lfd = -1, rc;

    *out = NULL;
    if (err_cap > 0)
        err[0] = '\0';
    if (o->root == NULL) {
        snprintf(err, err_cap, "no directory to serve");
        return ZUPD_E_MISUSE;
    }
    if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
        snprintf(err, err_cap, "TLS needs both a certificate and a key");
        return ZUPD_E_MISUSE;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ZUPD_E_NOMEM;
    s->rootfd = -1;
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->conn_lock, NULL);
    pthread_mutex_init(&s->log_lock, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->conn_cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    settings(s, o, &max_conn, &per_ip);

    rc = open_root(s, o->root, err, err_cap);
    if (rc == ZUPD_OK)
        rc = make_responses(s);
    if (rc != ZUPD_OK)
        goto fail;
    if (o->tls_cert != NULL) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            rc = ZUPD_E_MISUSE;
            snprintf(err, err_cap, "this libmicrohttpd was built without TLS");
            goto fail;
        }
        rc = zu_read_pem(o->tls_cert, &s->tls_cert, &cert_len, err, err_cap);
        if (rc == ZUPD_OK)
            rc = zu_read_pem(o->tls_key, &s->tls_key, &s->tls_key_len, err, err_cap);
        if (rc != ZUPD_OK)
            goto fail;
        flags |= MHD_USE_TLS;
    }
    rc = zu_listen_on(o->listen != NULL ? o->listen : "127.0.0.1:8080", &lfd, s->addr,
                      sizeof(s->addr), err, err_cap);
    if (rc != ZUPD_OK)
        goto fail;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        threads = n > 0 && n < 256 ? (unsigned)n : 1;
    }
    {
        struct MHD_OptionItem opts[] = {
            {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, s},
            {MHD_OPTION_LISTEN_SOCKET, lfd, NULL},
            {MHD_OPTION_CONNECTION_LIMIT, max_conn, NULL},
            {MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, NULL},
            {MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s != 0 ? o->timeout_s : 30, NULL},
            {MHD_OPTION_CONNECTION_MEMORY_LIMIT,
             (intptr_t)(o->max_request_bytes != 0 ? o->max_request_bytes : 16384), NULL},
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
            {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
            {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
            {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)no_unescape, NULL},
            {MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0, NULL},
            {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
            {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key},
            {MHD_OPTION_END, 0, NULL},
        };
        if (s->tls_cert == NULL)
            opts[11].option = MHD_OPTION_END;
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
                                MHD_OPTION_END);
    }
    if (s->d == NULL) {
        rc = ZUPD_E_NET;
        snprintf(err, err_cap, "cannot start the HTTP server on '%s'%s", s->addr,
                 s->tls_cert != NULL ? " (bad TLS certificate or key?)" : "");
        close(lfd);
        goto fail;
    }
    if (s->request_timeout_s != 0) {
        if (pthread_create(&s->watcher, NULL, watcher, s) != 0) {
            MHD_stop_daemon(s->d);
            s->d = NULL;
            rc = ZUPD_E_NOMEM;
            snprintf(err, err_cap, "cannot start the request timeout thread");
            goto fail;
        }
        s->watcher_on = true;
    }
    srv_log(s, ZUPD_LOG_INFO, "serving '%s' on %s://%s with %u thread%s", o->root,
            s->tls_cert != NULL ? "https" : "http", s->addr, threads, threads > 1 ? "s" : "");
    *out = s;
    return ZUPD_OK;
fail:
    free_server(s);
    return rc;
}

const char *
zp_serve_address(const struct zp_server *s)
{
    return s->addr;
}

void
zp_serve_stop(struct zp_server *s)
{
    if (s == NULL)
        return;
    if (s->watcher_on) {
        pthread_mutex_lock(&s->conn_lock);
        s->stopping = true;
        pthread_cond_signal(&s->conn_cv);
        pthread_mutex_unlock(&s->conn_lock);
        pthread_join(s->watcher, NULL);
    }
    if (s->d != NULL)
        MHD_stop_daemon(s->d);
    log_limited(s, ZUPD_LOG_WARN, NULL);
    free_server(s);
}
