/* SPDX-License-Identifier: Apache-2.0 */
/* lib/buf.c -- growing byte buffers with a hard cap. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zu/internal.h"

void
zu_buf_init(struct zu_buf *b, size_t limit)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit == 0 ? SIZE_MAX : limit;
}

void
zu_buf_release(struct zu_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

int
zu_grow_(void *vp, size_t *cap, size_t need, size_t elem, size_t max)
{
    size_t ncap, bytes;
    void *old, *nv;

    zu_assert(elem > 0);
    if (need <= *cap)
        return ZUPD_OK;
    if (max == 0 || max > SIZE_MAX / elem)
        max = SIZE_MAX / elem;
    if (need > max)
        return ZUPD_E_TOOBIG;
    ncap = *cap < 8 ? 8 : *cap;
    while (ncap < need)
        ncap = ncap > max / 2 ? max : ncap * 2;
    if (ncap > max)
        ncap = max;
    bytes = ncap * elem; /* ncap <= SIZE_MAX / elem */
    memcpy(&old, vp, sizeof(old));
    nv = realloc(old, bytes);
    if (nv == NULL)
        return ZUPD_E_NOMEM; /* *vp and *cap unchanged: still valid */
    memcpy(vp, &nv, sizeof(nv));
    *cap = ncap;
    return ZUPD_OK;
}

static int
buf_reserve(struct zu_buf *b, size_t n)
{
    size_t need, ncap;
    uint8_t *np;

    /* one extra byte keeps the content NUL-terminated */
    if (!zu_add_ok(b->len, n, &need) || need > b->limit || need == SIZE_MAX)
        return ZUPD_E_TOOBIG;
    need++;
    if (need <= b->cap)
        return ZUPD_OK;
    ncap = b->cap < 256 ? 256 : b->cap;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    np = realloc(b->p, ncap);
    if (np == NULL)
        return ZUPD_E_NOMEM;
    b->p = np;
    b->cap = ncap;
    return ZUPD_OK;
}

int
zu_buf_add(struct zu_buf *b, const void *src, size_t n)
{
    int rc = buf_reserve(b, n);

    if (rc != ZUPD_OK)
        return rc;
    if (n > 0)
        memcpy(b->p + b->len, src, n);
    b->len += n;
    b->p[b->len] = 0;
    return ZUPD_OK;
}

int
zu_buf_addstr(struct zu_buf *b, const char *s)
{
    return zu_buf_add(b, s, strlen(s));
}

int
zu_buf_addf(struct zu_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ZUPD_E_FORMAT;
    rc = buf_reserve(b, (size_t)n);
    if (rc != ZUPD_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ZUPD_OK;
}

int
zu_buf_detach(struct zu_buf *b, uint8_t **out, size_t *out_len)
{
    int rc;

    *out = NULL;
    *out_len = 0;
    if (b->p == NULL) {
        rc = buf_reserve(b, 0);
        if (rc != ZUPD_OK)
            return rc;
        b->p[0] = 0;
    }
    *out = b->p;
    *out_len = b->len;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    return ZUPD_OK;
}

static void say_v(char *err, size_t cap, const char *fmt, va_list ap) ZU_PRINTF(3, 0);

static void
say_v(char *err, size_t cap, const char *fmt, va_list ap)
{
    if (err != NULL && cap > 0)
        vsnprintf(err, cap, fmt, ap);
}

void
zu_say(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say_v(err, cap, fmt, ap);
    va_end(ap);
}

int
zu_fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say_v(err, cap, fmt, ap);
    va_end(ap);
    return rc;
}
