/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/witness/witness_http.c -- the witness's HTTP server
 * (libmicrohttpd): POST /add-checkpoint and GET /<origin hash>/checkpoint,
 * bodies capped, one line logged per request. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "serve/serve_net.h"
#include "witness/witness.h"

struct zp_witness_server {
    struct zp_witness *w;
    struct MHD_Daemon *d;
    zupd_log_fn log_fn;
    void *log_opaque;
    char addr[96];
};

/* One request's body, read in pieces. */
struct wbody {
    struct zu_buf b;
    bool toobig;
};

static void srv_log(const struct zp_witness_server *s, int level, const char *fmt, ...)
    ZU_PRINTF(3, 4);
static void
srv_log(const struct zp_witness_server *s, int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (s->log_fn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    s->log_fn(s->log_opaque, level, line);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap) ZU_PRINTF(2, 0);
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    const struct zp_witness_server *s = cls;
    char line[512];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    srv_log(s, ZUPD_LOG_WARN, "witness: %s", line);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *type, const void *body, size_t len)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return reply(conn, status, "text/plain; charset=utf-8", text, strlen(text));
}

static enum MHD_Result
answer_wresp(struct zp_witness_server *s, struct MHD_Connection *conn, struct zp_wresp *resp)
{
    return reply(conn, resp->status, resp->content_type,
                 resp->body.p == NULL ? (const void *)"" : (const void *)resp->body.p,
                 resp->body.len);
}

static enum MHD_Result
on_get(struct zp_witness_server *s, struct MHD_Connection *conn, const char *url)
{
    struct zp_wresp resp;
    char hex[65];
    size_t n = strlen(url);
    enum MHD_Result ret;

    /* "/<64 hex>/checkpoint" */
    if (n != 1 + 64 + 11 || strcmp(url + 65, "/checkpoint") != 0)
        return reply_text(conn, 404, "not found\n");
    memcpy(hex, url + 1, 64);
    hex[64] = '\0';
    zp_wresp_init(&resp);
    if (zp_witness_get(s->w, hex, &resp) != ZUPD_OK) {
        zp_wresp_release(&resp);
        return reply_text(conn, 500, "out of memory\n");
    }
    ret = answer_wresp(s, conn, &resp);
    zp_wresp_release(&resp);
    return ret;
}

static enum MHD_Result
on_add(struct zp_witness_server *s, struct MHD_Connection *conn, struct wbody *wb)
{
    struct zp_wresp resp;
    char why[512] = "";
    enum MHD_Result ret;

    if (wb->toobig) {
        srv_log(s, ZUPD_LOG_INFO, "add-checkpoint: 413 body over %zu bytes",
                (size_t)ZP_WITNESS_BODY_MAX);
        return reply_text(conn, 413, "request body too large\n");
    }
    zp_wresp_init(&resp);
    if (zp_witness_add(s->w, wb->b.p == NULL ? (const uint8_t *)"" : wb->b.p, wb->b.len, &resp, why,
                       sizeof(why)) != ZUPD_OK) {
        zp_wresp_release(&resp);
        return reply_text(conn, 500, "out of memory\n");
    }
    srv_log(s, resp.status == 200 ? ZUPD_LOG_INFO : ZUPD_LOG_WARN, "add-checkpoint: %u %s",
            resp.status, why);
    ret = answer_wresp(s, conn, &resp);
    zp_wresp_release(&resp);
    return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct zp_witness_server *s = cls;
    struct wbody *wb = *con_cls;

    (void)version;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return on_get(s, conn, url);
    if (strcmp(url, "/add-checkpoint") != 0)
        return reply_text(conn, 404, "not found\n");
    if (strcmp(method, "POST") != 0) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret;

        if (r == NULL)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
        ret = MHD_queue_response(conn, 405, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (wb == NULL) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

        /* refused before a byte of the body is read */
        if (cl != NULL && (strlen(cl) > 9 || strtoul(cl, NULL, 10) > ZP_WITNESS_BODY_MAX))
            return reply_text(conn, 413, "request body too large\n");
        wb = calloc(1, sizeof(*wb));
        if (wb == NULL)
            return MHD_NO;
        zu_buf_init(&wb->b, ZP_WITNESS_BODY_MAX);
        *con_cls = wb;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!wb->toobig && zu_buf_add(&wb->b, upload_data, *upload_data_size) != ZUPD_OK)
            wb->toobig = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return on_add(s, conn, wb);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct wbody *wb = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (wb != NULL) {
        zu_buf_release(&wb->b);
        free(wb);
        *con_cls = NULL;
    }
}

int
zp_witness_serve(struct zp_witness *w, const char *listen, zupd_log_fn log_fn, void *log_opaque,
                 struct zp_witness_server **out, char *err, size_t cap)
{
    struct zp_witness_server *s;
    int lfd = -1, rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return zu_fail(err, cap, ZUPD_E_NOMEM, "out of memory");
    s->w = w;
    s->log_fn = log_fn;
    s->log_opaque = log_opaque;
    rc = zu_listen_on(listen != NULL ? listen : "127.0.0.1:8081", &lfd, s->addr, sizeof(s->addr),
                      err, cap);
    if (rc != ZUPD_OK) {
        free(s);
        return rc;
    }
    {
        struct MHD_OptionItem opts[] = {
            {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, s},
            {MHD_OPTION_LISTEN_SOCKET, lfd, NULL},
            {MHD_OPTION_CONNECTION_LIMIT, 256, NULL},
            {MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64, NULL},
            {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
            {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32768, NULL},
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
            {MHD_OPTION_THREAD_POOL_SIZE, 2, NULL},
            {MHD_OPTION_END, 0, NULL},
        };
        s->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                on_request, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    }
    if (s->d == NULL) {
        close(lfd);
        free(s);
        return zu_fail(err, cap, ZUPD_E_NET, "cannot start the HTTP server on '%s'",
                       listen != NULL ? listen : "127.0.0.1:8081");
    }
    *out = s;
    return ZUPD_OK;
}

const char *
zp_witness_server_address(const struct zp_witness_server *s)
{
    return s->addr;
}

void
zp_witness_server_stop(struct zp_witness_server *s)
{
    if (s == NULL)
        return;
    if (s->d != NULL)
        MHD_stop_daemon(s->d);
    free(s);
}
