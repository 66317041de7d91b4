/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fetch_mem.c -- an in-memory transport (URL -> bytes) for tests of the
 * layers above the network: Range, ETag/304, injected failures, counters. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zupd/fetch.h>

#include "fetch_int.h"

struct mem_entry {
    char *url;
    uint8_t *data; /* NULL: no content (404 unless err is set) */
    size_t len;
    char etag[32];
    int err;
    uint32_t retry_after;
    uint64_t cut_after; /* deliver up to this position, then fail */
    uint64_t gets;
    struct mem_entry *next;
};

struct mem_tr {
    struct mem_entry *head;
    uint64_t puts;
};

static int mem_get(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
                   struct zupd_get_res *res);

static void
mem_free(void *opaque)
{
    struct mem_tr *m = opaque;
    struct mem_entry *e, *n;

    if (m == NULL)
        return;
    for (e = m->head; e != NULL; e = n) {
        n = e->next;
        free(e->url);
        free(e->data);
        free(e);
    }
    free(m);
}

int
zu_mem_transport_new(struct zupd_transport **out)
{
    struct zupd_transport_ops ops;
    struct mem_tr *m;
    int rc;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return ZUPD_E_NOMEM;
    zupd_transport_ops_init(&ops);
    ops.get = mem_get;
    ops.free = mem_free;
    rc = zupd_transport_new(&ops, m, out);
    if (rc != ZUPD_OK)
        mem_free(m);
    return rc;
}

static struct mem_tr *
mem_of(const struct zupd_transport *t)
{
    zu_assert(t != NULL && t->ops.get == mem_get);
    return t->opaque;
}

static struct mem_entry *
mem_find(struct mem_tr *m, const char *url, bool create)
{
    struct mem_entry *e;

    for (e = m->head; e != NULL; e = e->next)
        if (strcmp(e->url, url) == 0)
            return e;
    if (!create)
        return NULL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->cut_after = UINT64_MAX;
    e->url = strdup(url);
    if (e->url == NULL) {
        free(e);
        return NULL;
    }
    e->next = m->head;
    m->head = e;
    return e;
}

int
zu_mem_transport_put(struct zupd_transport *t, const char *url, const void *data, size_t len)
{
    struct mem_tr *m = mem_of(t);
    struct mem_entry *e;
    uint8_t *copy;

    if (url == NULL || (data == NULL && len > 0))
        return ZUPD_E_MISUSE;
    copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return ZUPD_E_NOMEM;
    if (len > 0)
        memcpy(copy, data, len);
    e = mem_find(m, url, true);
    if (e == NULL) {
        free(copy);
        return ZUPD_E_NOMEM;
    }
    free(e->data);
    e->data = copy;
    e->len = len;
    snprintf(e->etag, sizeof(e->etag), "\"%llu\"", (unsigned long long)++m->puts);
    return ZUPD_OK;
}

int
zu_mem_transport_fail(struct zupd_transport *t, const char *url, int err, uint32_t retry_after)
{
    struct mem_entry *e;

    if (url == NULL || err < 0 || err >= ZUPD_E__MAX)
        return ZUPD_E_MISUSE;
    e = mem_find(mem_of(t), url, true);
    if (e == NULL)
        return ZUPD_E_NOMEM;
    e->err = err;
    e->retry_after = retry_after;
    return ZUPD_OK;
}

int
zu_mem_transport_cut(struct zupd_transport *t, const char *url, uint64_t after)
{
    struct mem_entry *e;

    if (url == NULL)
        return ZUPD_E_MISUSE;
    e = mem_find(mem_of(t), url, true);
    if (e == NULL)
        return ZUPD_E_NOMEM;
    e->cut_after = after;
    return ZUPD_OK;
}

uint64_t
zu_mem_transport_count(const struct zupd_transport *t, const char *url)
{
    struct mem_entry *e = mem_find(mem_of(t), url, false);

    return e != NULL ? e->gets : 0;
}

static int
mem_get(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
        struct zupd_get_res *res)
{
    struct mem_tr *m = opaque;
    struct mem_entry *e = mem_find(m, g->url, true);
    uint64_t start = 0;
    int rc;

    memset(res, 0, sizeof(*res));
    if (e == NULL)
        return ZUPD_E_NOMEM;
    e->gets++;
    res->http_version = 11;
    if (e->err != ZUPD_OK) {
        res->status = e->err == ZUPD_E_BUSY ? 503 : e->err == ZUPD_E_NOTFOUND ? 404 : 500;
        res->retry_after = e->retry_after;
        return e->err;
    }
    if (e->data == NULL) {
        res->status = 404;
        return ZUPD_E_NOTFOUND;
    }
    if (g->cond != NULL && g->cond->etag[0] != '\0' && strcmp(g->cond->etag, e->etag) == 0) {
        res->status = 304;
        res->not_modified = true;
        return ZUPD_OK;
    }
    if (g->offset > 0 && g->offset < e->len)
        start = g->offset;
    res->status = start > 0 ? 206 : 200;
    res->start = start;
    if (e->len > g->max_bytes) /* as a Content-Length over the cap */
        return ZUPD_E_TOOBIG;
    zu_validator_set(res->validators.etag, e->etag, strlen(e->etag));
    rc = sink->begin(sink->opaque, start);
    for (size_t off = (size_t)start; rc == ZUPD_OK && off < e->len;) {
        size_t n = e->len - off < 4096 ? e->len - off : 4096;

        if (off >= e->cut_after)
            return ZUPD_E_NET;
        if (n > e->cut_after - off)
            n = (size_t)(e->cut_after - off);

        rc = sink->write(sink->opaque, e->data + off, n);
        if (rc == ZUPD_OK)
            res->received += n;
        off += n;
    }
    return rc;
}
