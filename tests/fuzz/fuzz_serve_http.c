/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_serve_http.c -- what zupd-mirror serve parses of a
 * request (mirror/serve/serve_http.c): the request path, the Range header, the
 * If-Modified-Since date, the If-None-Match list, and the escaping of the
 * request line for the access log. The input is one header value or path.
 * No crash, and: a decoded path is a safe relative path that decodes to
 * itself once re-encoded; a range lies in the file and reads back from the
 * Content-Range it is answered with; an accepted date is the date the
 * server writes for that instant; the log text is printable and unescapes
 * to (a prefix of) the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "zu/internal.h"
#include "serve/serve_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static void
check_path(const char *s)
{
    char out[ZU_SERVE_PATH_MAX + 1], again[ZU_SERVE_PATH_MAX + 1];
    char raw[3 * ZU_SERVE_PATH_MAX + 2];
    size_t len = 7, len2, r = 0;
    int st = zu_serve_path(s, out, sizeof(out), &len);

    check(st == 0 || st == 400 || st == 404 || st == 414);
    if (st != 0) {
        check(len == 0);
        return;
    }
    check(len > 0 && len <= ZU_SERVE_PATH_MAX && strlen(out) == len);
    check(out[0] != '/' && out[0] != '.' && out[len - 1] != '/' && strstr(out, "//") == NULL &&
          strstr(out, "/.") == NULL && strchr(out, '\\') == NULL);
    for (size_t i = 0; i < len; i++)
        check((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
    /* re-encoded ('%' as %25), it decodes to itself */
    raw[r++] = '/';
    for (size_t i = 0; i < len; i++) {
        if (out[i] == '%') {
            memcpy(raw + r, "%25", 3);
            r += 3;
        } else {
            raw[r++] = out[i];
        }
    }
    raw[r] = '\0';
    check(zu_serve_path(raw, again, sizeof(again), &len2) == 0 && len2 == len &&
          memcmp(out, again, len) == 0);
}

static void
check_range(const char *s)
{
    static const uint64_t sizes[] = {0, 1, 2, 1000, UINT64_MAX - 1, UINT64_MAX};

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t size = sizes[k], off = 7, len = 7, off2, len2;
        enum zu_range r = zu_serve_range(s, size, &off, &len);
        char cr[80];

        if (r != ZU_RANGE_OK) {
            check((r == ZU_RANGE_NONE || r == ZU_RANGE_UNSAT) && off == 0 && len == 0);
            continue;
        }
        check(len > 0 && off < size && len <= size - off);
        /* the range the 206 names, asked for again: the same bytes */
        snprintf(cr, sizeof(cr), "bytes=%llu-%llu", (unsigned long long)off,
                 (unsigned long long)(off + len - 1));
        check(zu_serve_range(cr, size, &off2, &len2) == ZU_RANGE_OK && off2 == off && len2 == len);
    }
}

static void
check_date(const char *s)
{
    char back[64], leap[30];
    time_t t, t2;

    if (zu_http_date_parse(s, &t) != 0) {
        check(t == 0);
        return;
    }
    check(t >= 0);
    if (memcmp(s + 23, "60", 2) == 0) { /* a leap second: the second after :59 */
        memcpy(leap, s, 30);
        memcpy(leap + 23, "59", 2);
        check(zu_http_date_parse(leap, &t2) == 0 && t == t2 + 1);
        return;
    }
    /* the date the server writes for that instant, weekday aside */
    zu_http_date(back, sizeof(back), t);
    check(strlen(back) == 29 && memcmp(back + 3, s + 3, 26) == 0);
    check(zu_http_date_parse(back, &t2) == 0 && t2 == t);
}

static void
check_etag(const char *s)
{
    static const char etag[] = "\"5f3a9c-1d2e\"";
    int m = zu_etag_list_match(s, etag);

    /* a match is "*" or the tag itself, weak or not */
    check(!m || strchr(s, '*') != NULL || strstr(s, etag) != NULL);
    if (strcmp(s, "*") == 0 || strcmp(s, etag) == 0)
        check(m);
}

/* Unescape the log text into dst; returns its length. */
static size_t
unescape(char *dst, const char *src)
{
    size_t n = 0;

    while (*src != '\0') {
        if (src[0] == '\\') {
            unsigned char b = 0;
            size_t one = 0;

            check(src[1] == 'x' && src[2] != '\0' &&
                  sodium_hex2bin(&b, 1, src + 2, 2, NULL, &one, NULL) == 0 && one == 1);
            dst[n++] = (char)b;
            src += 4;
        } else {
            dst[n++] = *src++;
        }
    }
    return n;
}

static void
check_log(const char *s, size_t slen)
{
    static const size_t caps[] = {1, 2, 5, 8, 64, 600};
    char out[600], plain[600];

    for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
        size_t cap = caps[k], pos = 0, n;
        int cut;

        zu_log_escape(out, cap, &pos, s);
        check(pos < cap && strlen(out) == pos);
        for (size_t i = 0; i < pos; i++)
            check(out[i] >= 0x20 && out[i] < 0x7f && out[i] != '"');
        cut = pos >= 3 && memcmp(out + pos - 3, "...", 3) == 0 && slen > 0;
        n = unescape(plain, out);
        if (n <= slen && memcmp(plain, s, n) == 0)
            continue; /* all of it, or a prefix */
        /* cut: the prefix before "..." */
        check(cut && n - 3 <= slen && memcmp(plain, s, n - 3) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    size_t len;

    /* a header value or a path is a C string: up to the first NUL */
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    len = strlen(s);
    check_path(s);
    check_range(s);
    check_date(s);
    check_etag(s);
    check_log(s, len);
    if (len >= 6 && memcmp(s, "blobs/", 6) == 0)
        check(zu_serve_immutable(s, len));
    /* JSON, bytes, or the transparency log's checkpoint (C2SP tlog-tiles:
     * text) for that one path alone */
    check(strcmp(zu_serve_ctype(s, len), "application/json") == 0 ||
          strcmp(zu_serve_ctype(s, len), "application/octet-stream") == 0 ||
          (strcmp(zu_serve_ctype(s, len), "text/plain; charset=utf-8") == 0 &&
           strcmp(s, "log/checkpoint") == 0));
    free(s);
    return 0;
}
