/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fetch_curl.c -- the libcurl transport: one reused easy handle, byte
 * caps, timeouts against slow retrieval, Range, conditional GET, Retry-After.
 * The only file of libzupd that includes curl/curl.h. */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include <zupd/fetch.h>

#include "fetch_int.h"

/* Bodies of error responses are read and dropped up to this size, so the
 * connection stays reusable (a root walk ends on a 404 every refresh). */
#define ERRBODY_MAX (64u << 10)
/* Response headers of one GET, redirects included. */
#define HEADERS_MAX (64u << 10)

struct curl_tr {
    CURL *h;
    struct zupd_ctx *ctx; /* borrowed */
    struct zupd_curl_opts o;
    char *ca_file;
    char *user_agent;
    char errbuf[CURL_ERROR_SIZE];

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
    bool has_crange;
    uint64_t crange_start;
    char etag[ZUPD_VALIDATOR_MAX];
    char last_modified[ZUPD_VALIDATOR_MAX];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool
is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* "bytes START-END/TOTAL" -> START. */
static bool
parse_content_range(const char *v, uint64_t *start)
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

/* The headers of one response are complete: decide before any body byte. */
static bool
headers_done(struct curl_tr *c)
{
    curl_off_t cl = -1;
    uint64_t start = 0;

    if (c->status < 200 || is_redirect(c->status))
        return true; /* 1xx, or a redirect libcurl follows */
    c->final = true;
    if (c->status != 200 && c->status != 206)
        return true; /* mapped after the transfer */
    if (c->status == 206) {
        if (c->g->offset == 0 || !c->has_crange || c->crange_start != c->g->offset) {
            c->bad_range = true;
            return false;
        }
        start = c->crange_start;
    }
    if (curl_easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0 &&
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
        zu_validator_set(c->res->validators.etag, c->etag, strlen(c->etag));
        zu_validator_set(c->res->validators.last_modified, c->last_modified,
                         strlen(c->last_modified));
    }
    return true;
}

static bool
header_is(const char *line, size_t len, const char *name, const char **val, size_t *vlen)
{
    size_t n = strlen(name);

    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return false;
    *val = line + n + 1;
    *vlen = len - n - 1;
    return true;
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *opaque)
{
    struct curl_tr *c = opaque;
    size_t len = size * nitems;
    const char *v;
    size_t vlen;

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
        c->has_crange = false;
        c->etag[0] = c->last_modified[0] = '\0';
    } else if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        if (!headers_done(c))
            return 0; /* aborts the transfer */
    } else if (header_is(buf, len, "etag", &v, &vlen)) {
        zu_validator_set(c->etag, v, vlen);
    } else if (header_is(buf, len, "last-modified", &v, &vlen)) {
        zu_validator_set(c->last_modified, v, vlen);
    } else if (header_is(buf, len, "content-range", &v, &vlen)) {
        char tmp[ZUPD_VALIDATOR_MAX];

        zu_validator_set(tmp, v, vlen);
        c->has_crange = parse_content_range(tmp, &c->crange_start);
    }
    return len;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct curl_tr *c = opaque;
    size_t len = size * nmemb;

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
    struct curl_tr *c = opaque;

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
    if (c->h != NULL)
        curl_easy_cleanup(c->h);
    free(c->ca_file);
    free(c->user_agent);
    free(c);
}

/* Options set once on the handle; curl_easy_reset() is never called, so the
 * connection cache, TLS sessions and DNS cache of the handle survive. */
static int
setup_handle(struct curl_tr *c)
{
    CURL *h = c->h;
    CURLcode e = CURLE_OK;

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (e == CURLE_OK)                                                                         \
            e = curl_easy_setopt(h, opt, val);                                                     \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, c->o.max_redirs > 0 ? 1L : 0L);
    SET(CURLOPT_MAXREDIRS, (long)c->o.max_redirs);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)c->o.total_timeout_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, (long)c->o.low_speed_limit);
    SET(CURLOPT_LOW_SPEED_TIME, (long)c->o.low_speed_time);
    SET(CURLOPT_BUFFERSIZE, (long)c->o.buffer_size);
    SET(CURLOPT_USERAGENT, c->user_agent);
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
    if (c->ca_file != NULL)
        SET(CURLOPT_CAINFO, c->ca_file);
#undef SET
    /* HTTP/2 needs nghttp2 in libcurl: without it stay on HTTP/1.1 */
    if (e == CURLE_OK && c->o.http2 &&
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) != CURLE_OK)
        zu_log(c->ctx, ZUPD_LOG_INFO, "libcurl without HTTP/2; using HTTP/1.1");
    if (e != CURLE_OK) {
        zu_log(c->ctx, ZUPD_LOG_ERR, "libcurl: %s", curl_easy_strerror(e));
        return e == CURLE_OUT_OF_MEMORY ? ZUPD_E_NOMEM : ZUPD_E_NET;
    }
    return ZUPD_OK;
}

static int curl_get(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
                    struct zupd_get_res *res);

int
zupd_curl_transport_new(struct zupd_ctx *ctx, const struct zupd_curl_opts *opts,
                        struct zupd_transport **out)
{
    const struct zupd_curl_opts def = ZUPD_CURL_OPTS_DEFAULT;
    struct zupd_transport *t = NULL;
    struct curl_tr *c = NULL;
    char ua[64];
    int rc = ZUPD_E_NOMEM;

    *out = NULL;
    if (pthread_once(&global_once, global_init) != 0 || global_rc != CURLE_OK)
        return ZUPD_E_NET;
    t = calloc(1, sizeof(*t));
    c = calloc(1, sizeof(*c));
    if (t == NULL || c == NULL)
        goto out;
    c->ctx = ctx;
    c->o = opts != NULL ? *opts : def;
    if (c->o.buffer_size < 1024 || c->o.buffer_size > CURL_MAX_READ_SIZE)
        c->o.buffer_size = def.buffer_size;
    snprintf(ua, sizeof(ua), "zupd/%s", zupd_version());
    c->user_agent = strdup(c->o.user_agent != NULL ? c->o.user_agent : ua);
    c->ca_file = c->o.ca_file != NULL ? strdup(c->o.ca_file) : NULL;
    c->o.user_agent = c->o.ca_file = NULL; /* the caller's strings are not kept */
    if (c->user_agent == NULL || (opts != NULL && opts->ca_file != NULL && c->ca_file == NULL))
        goto out;
    c->h = curl_easy_init();
    if (c->h == NULL) {
        rc = ZUPD_E_NET;
        goto out;
    }
    rc = setup_handle(c);
    if (rc != ZUPD_OK)
        goto out;
    t->opaque = c;
    t->get = curl_get;
    t->free = curl_free_tr;
    *out = t;
    t = NULL;
    c = NULL;
out:
    curl_free_tr(c);
    free(t);
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

/* One attempt. Returns the transfer's result before HTTP status mapping. */
static int
perform(struct curl_tr *c, const struct zupd_get *g, const struct zupd_sink *sink,
        struct zupd_get_res *res, CURLcode *ce)
{
    struct curl_slist *hdrs = NULL, *tmp;
    char range[48], line[ZUPD_VALIDATOR_MAX + 32];
    curl_off_t ra = 0;
    long conns = 0, ver = 0;
    CURLcode e = CURLE_OK;
    int rc = ZUPD_OK;

    c->g = g;
    c->sink = sink;
    c->res = res;
    c->status = 0;
    c->final = c->began = c->toobig = c->bad_range = c->has_crange = false;
    c->sink_rc = ZUPD_OK;
    c->errbody = 0;
    c->errbody_over = false;
    c->hdrbytes = 0;
    c->errbuf[0] = '\0';
    c->etag[0] = c->last_modified[0] = '\0';
    if (g->cond != NULL && g->cond->etag[0] != '\0') {
        snprintf(line, sizeof(line), "If-None-Match: %s", g->cond->etag);
        tmp = curl_slist_append(hdrs, line);
        if (tmp == NULL)
            goto nomem;
        hdrs = tmp;
    }
    if (g->cond != NULL && g->cond->last_modified[0] != '\0') {
        snprintf(line, sizeof(line), "If-Modified-Since: %s", g->cond->last_modified);
        tmp = curl_slist_append(hdrs, line);
        if (tmp == NULL)
            goto nomem;
        hdrs = tmp;
    }
    if (g->offset > 0)
        snprintf(range, sizeof(range), "%" PRIu64 "-", g->offset);
    e = curl_easy_setopt(c->h, CURLOPT_URL, g->url);
    if (e == CURLE_OK)
        e = curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
    if (e == CURLE_OK)
        e = curl_easy_setopt(c->h, CURLOPT_RANGE, g->offset > 0 ? range : NULL);
    if (e == CURLE_OK)
        e = curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
    /* an https repository never follows a redirect to plain http */
    if (e == CURLE_OK)
        e = curl_easy_setopt(c->h, CURLOPT_REDIR_PROTOCOLS_STR,
                             strncasecmp(g->url, "https://", 8) == 0 ? "https" : "http,https");
    if (e == CURLE_OK)
        e = curl_easy_perform(c->h);
    *ce = e;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &res->status);
    if (curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0)
        res->new_conns += (uint32_t)conns;
    if (curl_easy_getinfo(c->h, CURLINFO_HTTP_VERSION, &ver) == CURLE_OK)
        res->http_version = ver == CURL_HTTP_VERSION_1_0   ? 10
                            : ver == CURL_HTTP_VERSION_1_1 ? 11
                            : ver == CURL_HTTP_VERSION_2_0 ? 20
                            : ver == CURL_HTTP_VERSION_3   ? 30
                                                           : 0;
    if ((res->status == 429 || res->status == 503) &&
        curl_easy_getinfo(c->h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        res->retry_after =
            (uint64_t)ra > c->o.max_retry_after ? c->o.max_retry_after : (uint32_t)ra;
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (c->sink_rc != ZUPD_OK)
        rc = c->sink_rc;
    else if (c->toobig)
        rc = ZUPD_E_TOOBIG;
    else if (c->bad_range)
        rc = ZUPD_E_NET;
    else if (c->errbody_over)
        rc = ZUPD_OK; /* the status decides: a 404 stays a 404 */
    else
        rc = map_curlcode(e);
    return rc;
nomem:
    curl_slist_free_all(hdrs);
    *ce = CURLE_OUT_OF_MEMORY;
    return ZUPD_E_NOMEM;
}

static int
curl_get(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
         struct zupd_get_res *res)
{
    struct curl_tr *c = opaque;
    struct zupd_get again;
    char shown[512];
    CURLcode ce = CURLE_OK;
    int rc;

    memset(res, 0, sizeof(*res));
    if (g == NULL || g->url == NULL || sink == NULL || g->max_bytes == 0 ||
        g->offset > g->max_bytes ||
        (g->cond != NULL &&
         (!zu_validator_ok(g->cond->etag) || !zu_validator_ok(g->cond->last_modified))))
        return ZUPD_E_MISUSE; /* no CR/LF may reach a request header */
    zu_url_redact(shown, sizeof(shown), g->url);
    rc = perform(c, g, sink, res, &ce);
    if (rc == ZUPD_OK && res->status == 416 && g->offset > 0) {
        /* the partial is as long as the file or longer: start over */
        zu_log(c->ctx, ZUPD_LOG_INFO, "'%s': range not satisfiable; fetching it whole", shown);
        again = *g;
        again.offset = 0;
        res->new_conns = 0;
        rc = perform(c, &again, sink, res, &ce);
    }
    if (rc != ZUPD_OK) {
        if (rc == ZUPD_E_TOOBIG)
            zu_log(c->ctx, ZUPD_LOG_WARN, "'%s': more than %" PRIu64 " bytes; stopped", shown,
                   g->max_bytes);
        else if (rc == ZUPD_E_NET || rc == ZUPD_E_TIMEOUT)
            zu_log(c->ctx, ZUPD_LOG_WARN, "'%s': %s", shown,
                   c->bad_range           ? "reply to a range request does not start at the offset"
                   : c->errbuf[0] != '\0' ? c->errbuf
                                          : curl_easy_strerror(ce));
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
        zu_log(c->ctx, ZUPD_LOG_INFO, "'%s': HTTP %ld", shown, res->status);
        return ZUPD_E_NOTFOUND;
    case 429:
    case 503:
        zu_log(c->ctx, ZUPD_LOG_WARN, "'%s': HTTP %ld, retry after %" PRIu32 " s", shown,
               res->status, res->retry_after);
        return ZUPD_E_BUSY;
    default:
        break;
    }
    zu_log(c->ctx, ZUPD_LOG_WARN, "'%s': HTTP %ld", shown, res->status);
    return ZUPD_E_NET;
}
