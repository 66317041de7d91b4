/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fetch_curl.c -- the libcurl transport: one reused easy handle, byte
 * caps, timeouts against slow retrieval, Range, conditional GET, Retry-After.
 * And one POST (zu_http_post, include/zu/http_post.h). The only file of
 * libzupd that includes curl/curl.h. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include <zupd/fetch.h>

#include "zu/http_post.h"

#include "abi.h"
#include "fetch_int.h"

/* Bodies of error responses are read and dropped up to this size, so the
 * connection stays reusable (a root walk ends on a 404 every refresh). */
#define ERRBODY_MAX (64u << 10)
/* Response headers of one GET, redirects included. */
#define HEADERS_MAX (64u << 10)

/* One transfer: an easy handle and the state of the GET it carries. */
struct xfer {
    CURL *h;
    struct curl_tr *c;
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hdrs;
    struct zupd_get_item *item; /* of get_many(); NULL when idle */

    /* per GET */
    const struct zupd_get *g;
    const struct zupd_sink *sink;
    struct zupd_get_res *res;
    long status; /* of the response being received */
    bool final;  /* its headers are complete and it is not a redirect */
    bool began;
    bool toobig;
    bool bad_range;
    int sink_rc;
    size_t errbody;
    bool errbody_over; /* an error body was cut: map by the status anyway */
    size_t hdrbytes;
};

struct curl_tr {
    struct zupd_ctx *ctx; /* borrowed */
    struct zupd_curl_opts o;
    char *ca_file;
    char *ca_path;
    char *proxy;
    char *user_agent;
    /* the receive cap (o.max_recv_speed) for all transfers together: bytes
     * paced since pace_t0 (ns, CLOCK_MONOTONIC) */
    uint64_t pace_bytes;
    uint64_t pace_t0;
    CURLSH *share; /* one connection cache, DNS cache and TLS sessions for all handles */
    struct xfer main;
    CURLM *multi; /* get_many(), made on first use */
    /* get_many()'s handles, kept for the next batch; each xfer allocated on
     * its own: libcurl holds its address (PRIVATE, HEADERDATA, WRITEDATA),
     * so growing the pool must never move one */
    struct xfer **pool;
    size_t n_pool, cap_pool;
};

/* libcurl is opened on the first transport (dlopen), not linked: it and
 * the libraries it loads (TLS, Kerberos, LDAP, SSH, IDN: 29 of the 38 a
 * program linked with it maps) took 7.5 of the 8.8 ms a program's start
 * took, and most runs of zupd-mirror (publish, sign, delta) and of the
 * client (status, hold, verify) never fetch (docs/design.md, "Measured
 * costs"). CURL_SONAME is the ABI of the headers built against; its
 * functions are called through cu. */
#define CURL_SONAME "libcurl.so.4"
#define CURL_OPEN_ERR "cannot open libcurl (" CURL_SONAME ", Debian package libcurl4): "

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLcode (*easy_perform)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLHcode (*easy_header)(CURL *, const char *, size_t, unsigned int, int,
                             struct curl_header **);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
    CURLSHcode (*share_cleanup)(CURLSH *);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
} cu;

#define CU_FN(f)                                                                                   \
    {                                                                                              \
        "curl_" #f, (void **)(void *)&cu.f                                                         \
    }
static const struct {
    const char *name;
    void **fn;
} cu_fns[] = {
    CU_FN(global_init),         CU_FN(easy_init),     CU_FN(easy_setopt),
    CU_FN(easy_getinfo),        CU_FN(easy_perform),  CU_FN(easy_cleanup),
    CU_FN(easy_strerror),       CU_FN(easy_header),   CU_FN(slist_append),
    CU_FN(slist_free_all),      CU_FN(share_init),    CU_FN(share_setopt),
    CU_FN(share_cleanup),       CU_FN(multi_init),    CU_FN(multi_add_handle),
    CU_FN(multi_remove_handle), CU_FN(multi_perform), CU_FN(multi_poll),
    CU_FN(multi_info_read),     CU_FN(multi_cleanup),
};
#undef CU_FN

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;
/* why libcurl cannot be used, the whole message */
static char global_err[320] = "libcurl: not initialized";

/* Open libcurl, take its functions, initialize it; once a process (it is
 * never closed). */
static void
global_init(void)
{
    void *dl = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);

    if (dl == NULL) {
        snprintf(global_err, sizeof(global_err), CURL_OPEN_ERR "%s", dlerror());
        return;
    }
    for (size_t i = 0; i < ZU_ARRAY_LEN(cu_fns); i++) {
        *cu_fns[i].fn = dlsym(dl, cu_fns[i].name);
        if (*cu_fns[i].fn == NULL) {
            snprintf(global_err, sizeof(global_err), CURL_OPEN_ERR "no %s", cu_fns[i].name);
            return;
        }
    }
    global_rc = cu.global_init(CURL_GLOBAL_DEFAULT);
    if (global_rc != CURLE_OK)
        snprintf(global_err, sizeof(global_err), CURL_OPEN_ERR "curl_global_init: %s",
                 cu.easy_strerror(global_rc));
}

/* libcurl opened and initialized (once a process); else global_err says
 * why. */
static bool
curl_ready(void)
{
    return pthread_once(&global_once, global_init) == 0 && global_rc == CURLE_OK;
}

static bool
is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The last value of header name (Etag, Last-Modified, Content-Range) in the
 * response being received, the last of redirects and 1xx (request -1: the
 * latest; CURLH_HEADER: not a 1xx's, a CONNECT's or a trailer). Borrowed
 * from libcurl until the next call. NULL when it has none. */
static const char *
last_header(struct xfer *c, const char *name)
{
    struct curl_header *h = NULL;

    if (cu.easy_header(c->h, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return NULL;
    if (h->amount > 1 &&
        cu.easy_header(c->h, name, h->amount - 1, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return NULL;
    return h->value;
}

/* The start the response's Content-Range names; false when it names none. */
static bool
content_range_start(struct xfer *c, uint64_t *start)
{
    const char *v = last_header(c, "Content-Range");
    char tmp[ZUPD_VALIDATOR_MAX];

    if (v == NULL)
        return false;
    zu_validator_set(tmp, v, strlen(v));
    return zu_content_range_start(tmp, start);
}

/* The validator header name of the response into dst ("" when none). */
static void
validator_of(struct xfer *c, const char *name, char *dst)
{
    const char *v = last_header(c, name);

    zu_validator_set(dst, v != NULL ? v : "", v != NULL ? strlen(v) : 0);
}

/* The headers of one response are complete: decide before any body byte. */
static bool
headers_done(struct xfer *c)
{
    curl_off_t cl = -1;
    uint64_t start = 0;

    if (c->status < 200 || is_redirect(c->status))
        return true; /* 1xx, or a redirect libcurl follows */
    c->final = true;
    if (c->status != 200 && c->status != 206)
        return true; /* mapped after the transfer */
    if (c->status == 206) {
        if (c->g->offset == 0 || !content_range_start(c, &start) || start != c->g->offset) {
            c->bad_range = true;
            return false;
        }
    }
    if (cu.easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0 &&
        (uint64_t)cl > c->g->max_bytes - start) {
        c->toobig = true; /* refused before reading the body */
        return false;
    }
    c->res->start = start;
    c->sink_rc = c->sink->begin(c->sink->opaque, start);
    if (c->sink_rc != ZUPD_OK)
        return false;
    c->began = true;
    if (c->status == 200) {
        validator_of(c, "ETag", c->res->validators.etag);
        validator_of(c, "Last-Modified", c->res->validators.last_modified);
    }
    return true;
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *opaque)
{
    struct xfer *c = opaque;
    size_t len = size * nitems;

    if (len > HEADERS_MAX - c->hdrbytes) {
        c->toobig = true;
        return 0;
    }
    c->hdrbytes += len;
    if (c->final)
        return len; /* trailers after the body: never a second begin() */
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 100): forget the last one */
        const char *sp = memchr(buf, ' ', len);

        c->status = 0;
        if (sp != NULL)
            for (sp++; sp < buf + len && *sp >= '0' && *sp <= '9' && c->status < 1000; sp++)
                c->status = c->status * 10 + (*sp - '0');
    } else if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        /* libcurl has stored this response's headers by now: headers_done()
         * reads the ones it needs with curl_easy_header() */
        if (!headers_done(c))
            return 0; /* aborts the transfer */
    }
    return len;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Hold the transport to o.max_recv_speed: sleep until len more bytes are
 * due. CURLOPT_MAX_RECV_SPEED_LARGE alone is not enough: libcurl (7.88)
 * checks it only between rounds of reads, and a round drains a fast socket,
 * so a file of a few MB on a LAN came through at full speed. Sleeping here
 * stops reading, TCP's window then slows the sender; it also makes the cap
 * one for all parallel transfers. Idle time earns at most 1 s of credit. */
static void
pace(struct curl_tr *tr, size_t len)
{
    uint64_t rate = tr->o.max_recv_speed, now, due;

    if (rate == 0)
        return;
    now = now_ns();
    if (tr->pace_t0 == 0 || now - tr->pace_t0 > tr->pace_bytes / rate * 1000000000u + 1000000000u) {
        tr->pace_t0 = now - 1000000000u; /* a fresh start with 1 s of credit */
        tr->pace_bytes = rate;
    }
    tr->pace_bytes += len;
    /* whole seconds and the rest apart: bytes * 1e9 overflows past 18 GB */
    due = tr->pace_t0 + tr->pace_bytes / rate * 1000000000u +
          tr->pace_bytes % rate * 1000000000u / rate;
    if (due > now) {
        struct timespec ts = {.tv_sec = (time_t)((due - now) / 1000000000u),
                              .tv_nsec = (long)((due - now) % 1000000000u)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct xfer *c = opaque;
    size_t len = size * nmemb;

    pace(c->c, len);

    if (!c->began) {
        /* an error page or a redirect's body: drop it, but not endlessly */
        if (len > ERRBODY_MAX - c->errbody) {
            c->errbody_over = c->final;
            return 0;
        }
        c->errbody += len;
        return len;
    }
    if (len > c->g->max_bytes - c->res->start - c->res->received) {
        c->toobig = true;
        return 0;
    }
    c->sink_rc = c->sink->write(c->sink->opaque, (const uint8_t *)data, len);
    if (c->sink_rc != ZUPD_OK)
        return 0;
    c->res->received += len;
    return len;
}

/* Every byte on the wire counts, also bodies libcurl reads and drops itself
 * (a redirect's): the write callback never sees those. */
static int
on_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
    struct xfer *c = opaque;

    (void)dltotal;
    (void)ultotal;
    (void)ulnow;
    if (dlnow > (curl_off_t)ERRBODY_MAX && (uint64_t)dlnow - ERRBODY_MAX > c->g->max_bytes) {
        c->toobig = true;
        return 1;
    }
    return 0;
}

static void
curl_free_tr(void *opaque)
{
    struct curl_tr *c = opaque;

    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_pool; i++) {
        if (c->pool[i]->h != NULL)
            cu.easy_cleanup(c->pool[i]->h);
        free(c->pool[i]);
    }
    free(c->pool);
    if (c->multi != NULL)
        cu.multi_cleanup(c->multi);
    if (c->main.h != NULL)
        cu.easy_cleanup(c->main.h);
    if (c->share != NULL)
        cu.share_cleanup(c->share);
    free(c->ca_file);
    free(c->ca_path);
    free(c->proxy);
    free(c->user_agent);
    free(c);
}

/* Options set once on the handle; curl_easy_reset() is never called, so the
 * connection cache, TLS sessions and DNS cache of the handle survive. */
static int
setup_handle(struct curl_tr *tr, struct xfer *c)
{
    CURL *h;
    CURLcode e = CURLE_OK;

    c->c = tr;
    c->h = h = cu.easy_init();
    if (h == NULL)
        return ZUPD_E_NET;

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (e == CURLE_OK)                                                                         \
            e = cu.easy_setopt(h, opt, val);                                                       \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, tr->o.max_redirs > 0 ? 1L : 0L);
    SET(CURLOPT_MAXREDIRS, (long)tr->o.max_redirs);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)tr->o.connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)tr->o.total_timeout_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, (long)tr->o.low_speed_limit);
    SET(CURLOPT_LOW_SPEED_TIME, (long)tr->o.low_speed_time);
    SET(CURLOPT_BUFFERSIZE, (long)tr->o.buffer_size);
    SET(CURLOPT_USERAGENT, tr->user_agent);
    SET(CURLOPT_SHARE, tr->share);
    SET(CURLOPT_PRIVATE, (void *)c);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, c);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, c);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    /* a proxy's "200 Connection established" must not look like our answer */
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (tr->ca_file != NULL)
        SET(CURLOPT_CAINFO, tr->ca_file);
    if (tr->ca_path != NULL)
        SET(CURLOPT_CAPATH, tr->ca_path);
    /* set, it wins over https_proxy and the other variables libcurl reads */
    if (tr->proxy != NULL)
        SET(CURLOPT_PROXY, tr->proxy);
    if (tr->o.max_recv_speed > 0)
        SET(CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)tr->o.max_recv_speed);
#undef SET
    /* HTTP/2 needs nghttp2 in libcurl: without it stay on HTTP/1.1 */
    if (e == CURLE_OK && tr->o.http2 &&
        cu.easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) != CURLE_OK)
        zu_log(tr->ctx, ZUPD_LOG_INFO, "libcurl without HTTP/2; using HTTP/1.1");
    if (e != CURLE_OK) {
        zu_log(tr->ctx, ZUPD_LOG_ERR, "libcurl: %s", cu.easy_strerror(e));
        return e == CURLE_OUT_OF_MEMORY ? ZUPD_E_NOMEM : ZUPD_E_NET;
    }
    return ZUPD_OK;
}

static int curl_get(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
                    struct zupd_get_res *res);
static void curl_get_many(void *opaque, struct zupd_get_item *items, size_t n, unsigned parallel);

int
zupd_curl_transport_new(struct zupd_ctx *ctx, const struct zupd_curl_opts *opts,
                        struct zupd_transport **out)
{
    const struct zupd_curl_opts def = ZUPD_CURL_OPTS_DEFAULT;
    struct zupd_transport_ops ops;
    struct curl_tr *c = NULL;
    char ua[64];
    int rc = ZUPD_E_NOMEM;

    *out = NULL;
    if (!curl_ready()) {
        zu_log(ctx, ZUPD_LOG_ERR, "%s", global_err);
        return ZUPD_E_NET;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto out;
    c->ctx = ctx;
    c->o = def;
    if (opts != NULL &&
        zu_struct_in(&c->o, sizeof(c->o), opts,
                     ZU_SIZE_THROUGH(struct zupd_curl_opts, user_agent)) != ZUPD_OK) {
        rc = ZUPD_E_MISUSE;
        goto out;
    }
    if (c->o.buffer_size < 1024 || c->o.buffer_size > CURL_MAX_READ_SIZE)
        c->o.buffer_size = def.buffer_size;
    snprintf(ua, sizeof(ua), "zupd/%s", zupd_version());
    c->user_agent = strdup(c->o.user_agent != NULL ? c->o.user_agent : ua);
    c->ca_file = c->o.ca_file != NULL ? strdup(c->o.ca_file) : NULL;
    c->ca_path = c->o.ca_path != NULL ? strdup(c->o.ca_path) : NULL;
    c->proxy = c->o.proxy != NULL ? strdup(c->o.proxy) : NULL;
    if (c->o.max_recv_speed > INT64_MAX)
        c->o.max_recv_speed = 0;
    /* libcurl checks the rate between reads, and one read fills the whole
     * buffer from a fast socket: a buffer above the rate lets a file through
     * at full speed (the curl tool shrinks its buffer the same way) */
    if (c->o.max_recv_speed > 0 && c->o.buffer_size > c->o.max_recv_speed)
        c->o.buffer_size = c->o.max_recv_speed < 1024 ? 1024 : (size_t)c->o.max_recv_speed;
    /* the caller's strings are not kept */
    if (c->user_agent == NULL || (c->o.ca_file != NULL && c->ca_file == NULL) ||
        (c->o.ca_path != NULL && c->ca_path == NULL) || (c->o.proxy != NULL && c->proxy == NULL))
        goto out;
    c->o.user_agent = c->o.ca_file = c->o.ca_path = c->o.proxy = NULL;
    c->share = cu.share_init();
    if (c->share == NULL ||
        cu.share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
        cu.share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        cu.share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        rc = ZUPD_E_NET;
        goto out;
    }
    rc = setup_handle(c, &c->main);
    if (rc != ZUPD_OK)
        goto out;
    zupd_transport_ops_init(&ops);
    ops.get = curl_get;
    ops.get_many = curl_get_many;
    ops.free = curl_free_tr;
    rc = zupd_transport_new(&ops, c, out);
    if (rc == ZUPD_OK)
        c = NULL;
out:
    curl_free_tr(c);
    return rc;
}

static int
map_curlcode(CURLcode e)
{
    if (e == CURLE_OK)
        return ZUPD_OK;
    if (e == CURLE_OPERATION_TIMEDOUT)
        return ZUPD_E_TIMEOUT;
    if (e == CURLE_FILESIZE_EXCEEDED)
        return ZUPD_E_TOOBIG;
    if (e == CURLE_OUT_OF_MEMORY)
        return ZUPD_E_NOMEM;
    return ZUPD_E_NET;
}

/* Set up x for one GET (headers, range, URL). The request headers live in
 * x->hdrs until finish(). */
static CURLcode
prepare(struct xfer *c, const struct zupd_get *g, const struct zupd_sink *sink,
        struct zupd_get_res *res)
{
    struct curl_slist *tmp;
    char range[48], line[ZUPD_VALIDATOR_MAX + 32];
    CURLcode e;

    c->g = g;
    c->sink = sink;
    c->res = res;
    c->status = 0;
    c->final = c->began = c->toobig = c->bad_range = false;
    c->sink_rc = ZUPD_OK;
    c->errbody = 0;
    c->errbody_over = false;
    c->hdrbytes = 0;
    c->errbuf[0] = '\0';
    c->hdrs = NULL;
    if (g->cond != NULL && g->cond->etag[0] != '\0') {
        snprintf(line, sizeof(line), "If-None-Match: %s", g->cond->etag);
        tmp = cu.slist_append(c->hdrs, line);
        if (tmp == NULL)
            return CURLE_OUT_OF_MEMORY;
        c->hdrs = tmp;
    }
    if (g->cond != NULL && g->cond->last_modified[0] != '\0') {
        snprintf(line, sizeof(line), "If-Modified-Since: %s", g->cond->last_modified);
        tmp = cu.slist_append(c->hdrs, line);
        if (tmp == NULL)
            return CURLE_OUT_OF_MEMORY;
        c->hdrs = tmp;
    }
    if (g->offset > 0)
        snprintf(range, sizeof(range), "%" PRIu64 "-", g->offset);
    e = cu.easy_setopt(c->h, CURLOPT_URL, g->url);
    if (e == CURLE_OK)
        e = cu.easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
    if (e == CURLE_OK) /* copied by libcurl */
        e = cu.easy_setopt(c->h, CURLOPT_RANGE, g->offset > 0 ? range : NULL);
    if (e == CURLE_OK)
        e = cu.easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
    /* an https repository never follows a redirect to plain http */
    if (e == CURLE_OK)
        e = cu.easy_setopt(c->h, CURLOPT_REDIR_PROTOCOLS_STR,
                           strncasecmp(g->url, "https://", 8) == 0 ? "https" : "http,https");
    return e;
}

/* The transfer of x ended with e: its result before HTTP status mapping. */
static int
finish(struct xfer *c, CURLcode e)
{
    struct zupd_get_res *res = c->res;
    curl_off_t ra = 0;
    long conns = 0, ver = 0;

    cu.easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &res->status);
    if (cu.easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0)
        res->new_conns += (uint32_t)conns;
    if (cu.easy_getinfo(c->h, CURLINFO_HTTP_VERSION, &ver) == CURLE_OK)
        res->http_version = ver == CURL_HTTP_VERSION_1_0   ? 10
                            : ver == CURL_HTTP_VERSION_1_1 ? 11
                            : ver == CURL_HTTP_VERSION_2_0 ? 20
                            : ver == CURL_HTTP_VERSION_3   ? 30
                                                           : 0;
    if ((res->status == 429 || res->status == 503) &&
        cu.easy_getinfo(c->h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        res->retry_after =
            (uint64_t)ra > c->c->o.max_retry_after ? c->c->o.max_retry_after : (uint32_t)ra;
    cu.easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
    cu.slist_free_all(c->hdrs);
    c->hdrs = NULL;
    if (c->sink_rc != ZUPD_OK)
        return c->sink_rc;
    if (c->toobig)
        return ZUPD_E_TOOBIG;
    if (c->bad_range)
        return ZUPD_E_NET;
    if (c->errbody_over)
        return ZUPD_OK; /* the status decides: a 404 stays a 404 */
    return map_curlcode(e);
}

/* One attempt on x, blocking. */
static int
perform(struct xfer *c, const struct zupd_get *g, const struct zupd_sink *sink,
        struct zupd_get_res *res, CURLcode *ce)
{
    CURLcode e = prepare(c, g, sink, res);

    if (e == CURLE_OK)
        e = cu.easy_perform(c->h);
    *ce = e;
    return finish(c, e);
}

static bool
get_ok(const struct zupd_get *g, const struct zupd_sink *sink)
{
    /* no CR/LF may reach a request header */
    return g != NULL && g->url != NULL && sink != NULL && g->max_bytes > 0 &&
           g->offset <= g->max_bytes &&
           (g->cond == NULL ||
            (zu_validator_ok(g->cond->etag) && zu_validator_ok(g->cond->last_modified)));
}

/* After the first attempt of a GET on x (result rc, libcurl's ce): the
 * retry of a 416 from the start, then the mapping of the HTTP status. */
static int
conclude(struct xfer *c, const struct zupd_get *g, const struct zupd_sink *sink,
         struct zupd_get_res *res, int rc, CURLcode ce)
{
    struct curl_tr *tr = c->c;
    struct zupd_get again;
    char shown[512];

    zu_url_redact(shown, sizeof(shown), g->url);
    if (rc == ZUPD_OK && res->status == 416 && g->offset > 0) {
        /* the partial is as long as the file or longer: start over */
        zu_log(tr->ctx, ZUPD_LOG_INFO, "'%s': range not satisfiable; fetching it whole", shown);
        again = *g;
        again.offset = 0;
        res->new_conns = 0;
        rc = perform(c, &again, sink, res, &ce);
    }
    if (rc != ZUPD_OK) {
        if (rc == ZUPD_E_TOOBIG)
            zu_log(tr->ctx, ZUPD_LOG_WARN, "'%s': more than %" PRIu64 " bytes; stopped", shown,
                   g->max_bytes);
        else if (rc == ZUPD_E_NET || rc == ZUPD_E_TIMEOUT)
            zu_log(tr->ctx, ZUPD_LOG_WARN, "'%s': %s", shown,
                   c->bad_range           ? "reply to a range request does not start at the offset"
                   : c->errbuf[0] != '\0' ? c->errbuf
                                          : cu.easy_strerror(ce));
        return rc;
    }
    switch (res->status) {
    case 200:
    case 206:
        return ZUPD_OK;
    case 304:
        if (g->cond == NULL)
            break;
        res->not_modified = true;
        return ZUPD_OK;
    case 403:
    case 404:
        zu_log(tr->ctx, ZUPD_LOG_INFO, "'%s': HTTP %ld", shown, res->status);
        return ZUPD_E_NOTFOUND;
    case 429:
    case 503:
        zu_log(tr->ctx, ZUPD_LOG_WARN, "'%s': HTTP %ld, retry after %" PRIu32 " s", shown,
               res->status, res->retry_after);
        return ZUPD_E_BUSY;
    default:
        break;
    }
    zu_log(tr->ctx, ZUPD_LOG_WARN, "'%s': HTTP %ld", shown, res->status);
    return ZUPD_E_NET;
}

static int
curl_get(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
         struct zupd_get_res *res)
{
    struct curl_tr *c = opaque;
    CURLcode ce = CURLE_OK;
    int rc;

    memset(res, 0, sizeof(*res));
    if (!get_ok(g, sink))
        return ZUPD_E_MISUSE;
    if (zu_is_file_url(g->url))
        return zu_file_get(c->ctx, g, sink, res);
    rc = perform(&c->main, g, sink, res, &ce);
    return conclude(&c->main, g, sink, res, rc, ce);
}

/* Up to `parallel` GETs at once on a multi handle; the handles (and, through
 * the share, the connections) are kept for the next batch. */
static void
curl_get_many(void *opaque, struct zupd_get_item *items, size_t n, unsigned parallel)
{
    struct curl_tr *c = opaque;
    size_t want = parallel < n ? parallel : n, next = 0, active = 0;

    if (want == 0)
        want = 1;
    if (c->multi == NULL)
        c->multi = cu.multi_init();
    /* want <= parallel, an unsigned: that is the cap */
    if (c->n_pool < want && c->multi != NULL) {
        if (ZU_GROW(&c->pool, &c->cap_pool, want, UINT_MAX) == ZUPD_OK) {
            for (; c->n_pool < want; c->n_pool++) {
                struct xfer *x = calloc(1, sizeof(*x));
                if (x == NULL)
                    break;
                if (setup_handle(c, x) != ZUPD_OK) {
                    if (x->h != NULL)
                        cu.easy_cleanup(x->h);
                    free(x);
                    break;
                }
                c->pool[c->n_pool] = x;
            }
        }
    }
    if (c->multi == NULL || c->n_pool == 0) { /* no memory for more: one by one */
        for (size_t i = 0; i < n; i++)
            items[i].rc = curl_get(c, &items[i].g, items[i].sink, &items[i].res);
        return;
    }
    if (want > c->n_pool)
        want = c->n_pool;
    while (next < n || active > 0) {
        CURLMsg *msg;
        int still = 0, left = 0;

        /* start GETs on the idle handles */
        for (size_t k = 0; k < want && next < n; k++) {
            struct xfer *x = c->pool[k];
            struct zupd_get_item *it;
            CURLcode e;

            if (x->item != NULL)
                continue;
            it = &items[next++];
            memset(&it->res, 0, sizeof(it->res));
            if (!get_ok(&it->g, it->sink)) {
                it->rc = ZUPD_E_MISUSE;
                continue;
            }
            if (zu_is_file_url(it->g.url)) { /* read at once, in this thread */
                it->rc = zu_file_get(c->ctx, &it->g, it->sink, &it->res);
                continue;
            }
            e = prepare(x, &it->g, it->sink, &it->res);
            if (e == CURLE_OK && cu.multi_add_handle(c->multi, x->h) != CURLM_OK)
                e = CURLE_FAILED_INIT;
            if (e != CURLE_OK) {
                it->rc = conclude(x, &it->g, it->sink, &it->res, finish(x, e), e);
                continue;
            }
            x->item = it;
            active++;
        }
        if (cu.multi_perform(c->multi, &still) != CURLM_OK)
            still = 0;
        while ((msg = cu.multi_info_read(c->multi, &left)) != NULL) {
            struct xfer *x = NULL;
            struct zupd_get_item *it;
            CURLcode e;

            if (msg->msg != CURLMSG_DONE)
                continue;
            e = msg->data.result;
            cu.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            cu.multi_remove_handle(c->multi, msg->easy_handle);
            if (x == NULL || x->item == NULL)
                continue;
            it = x->item;
            it->rc = conclude(x, &it->g, it->sink, &it->res, finish(x, e), e);
            x->item = NULL;
            active--;
        }
        if (active > 0 && cu.multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK)
            break;
    }
    /* only after a failure of the multi handle itself */
    for (size_t k = 0; k < c->n_pool; k++) {
        struct xfer *x = c->pool[k];
        if (x->item == NULL)
            continue;
        cu.multi_remove_handle(c->multi, x->h);
        x->item->rc = conclude(x, &x->item->g, x->item->sink, &x->item->res,
                               finish(x, CURLE_FAILED_INIT), CURLE_FAILED_INIT);
        x->item = NULL;
    }
    for (; next < n; next++)
        items[next].rc = ZUPD_E_NET;
}

/* ------------------------------------------------------------ POST */

struct post_sink {
    struct zu_buf b;
};

static size_t
post_body(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct post_sink *ps = opaque;
    size_t len = size * nmemb;

    return zu_buf_add(&ps->b, data, len) == ZUPD_OK ? len : 0;
}

void
zu_http_answer_release(struct zu_http_answer *a)
{
    free(a->body);
    a->body = NULL;
    a->len = 0;
}

int
zu_http_post(const struct zu_http_post *p, struct zu_http_answer *a, char *err, size_t err_cap)
{
    struct post_sink ps;
    struct curl_slist *hdrs = NULL, *tmp;
    char errbuf[CURL_ERROR_SIZE] = "", ua[64], line[160];
    const char *ct = NULL;
    CURLcode e = CURLE_OK;
    CURL *h = NULL;
    int rc;

    memset(a, 0, sizeof(*a));
    if (p->url == NULL || p->max_answer == 0 || p->body_len > (size_t)LONG_MAX)
        return ZUPD_E_MISUSE;
    if (!curl_ready())
        return zu_fail(err, err_cap, ZUPD_E_NET, "%s", global_err);
    zu_buf_init(&ps.b, p->max_answer);
    h = cu.easy_init();
    if (h == NULL) {
        rc = zu_fail(err, err_cap, ZUPD_E_NOMEM, "out of memory");
        goto out;
    }
    snprintf(ua, sizeof(ua), "zupd/%s", zupd_version());
    /* no "Expect: 100-continue" round trip for a small body */
    hdrs = cu.slist_append(NULL, "Expect:");
    if (hdrs != NULL && p->content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", p->content_type);
        tmp = cu.slist_append(hdrs, line);
        if (tmp == NULL) {
            cu.slist_free_all(hdrs);
            hdrs = NULL;
        } else {
            hdrs = tmp;
        }
    }
    if (hdrs == NULL) {
        rc = zu_fail(err, err_cap, ZUPD_E_NOMEM, "out of memory");
        goto out;
    }
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (e == CURLE_OK)                                                                         \
            e = cu.easy_setopt(h, opt, val);                                                       \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_URL, p->url);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, p->body);
    SET(CURLOPT_POSTFIELDSIZE, (long)p->body_len);
    SET(CURLOPT_HTTPHEADER, hdrs);
    SET(CURLOPT_USERAGENT, ua);
    SET(CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    SET(CURLOPT_TIMEOUT_MS, (long)(p->timeout_ms != 0 ? p->timeout_ms : 30000));
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_WRITEFUNCTION, post_body);
    SET(CURLOPT_WRITEDATA, &ps);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->max_answer);
#undef SET
    if (e == CURLE_OK)
        e = cu.easy_perform(h);
    if (e != CURLE_OK) {
        rc = e == CURLE_WRITE_ERROR || e == CURLE_FILESIZE_EXCEEDED ? ZUPD_E_TOOBIG
                                                                    : map_curlcode(e);
        zu_say(err, err_cap, "%s",
               rc == ZUPD_E_TOOBIG ? "answer too big"
                                   : (errbuf[0] != '\0' ? errbuf : cu.easy_strerror(e)));
        goto out;
    }
    cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    if (cu.easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
        snprintf(a->content_type, sizeof(a->content_type), "%s", ct);
    rc = zu_buf_detach(&ps.b, &a->body, &a->len);
    if (rc != ZUPD_OK)
        zu_say(err, err_cap, "%s", zupd_strerror(rc));
out:
    zu_buf_release(&ps.b);
    cu.slist_free_all(hdrs);
    if (h != NULL)
        cu.easy_cleanup(h);
    return rc;
}
