/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/serve/serve_http.c -- pure HTTP helpers of zupd-mirror serve (no I/O). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "zu/internal.h"
#include "serve/serve_http.h"

int
zu_serve_path(const char *raw, char *out, size_t out_cap, size_t *out_len)
{
    size_t n = 0, comp = 0, rawlen;
    const char *p;

    *out_len = 0;
    if (out_cap > 0)
        out[0] = '\0';
    if (raw == NULL || raw[0] != '/')
        return 400;
    rawlen = strlen(raw);
    if (rawlen > ZU_SERVE_RAW_PATH_MAX)
        return 414;
    for (p = raw + 1; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '%') {
            size_t one = 0;

            /* two hex digits, either case: p[2] is readable when p[1] is
             * not the end of the string */
            if (p[1] == '\0' || sodium_hex2bin(&c, 1, p + 1, 2, NULL, &one, NULL) != 0 || one != 1)
                return 400;
            p += 2;
            /* an encoded separator or NUL is never a file name byte here */
            if (c == '/' || c == '\\' || c == '\0')
                return 400;
        } else if (c == '\\') {
            return 400;
        }
        if (c < 0x20 || c == 0x7f)
            return 400;
        if (c == '/') {
            if (comp == 0)
                return 400; /* "//" */
            comp = 0;
        } else {
            comp++;
            if (comp > ZU_SERVE_NAME_MAX)
                return 414;
        }
        if (n + 1 >= out_cap || n >= ZU_SERVE_PATH_MAX)
            return 414;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    /* components: "." and ".." refused, other dot names hidden */
    {
        size_t i = 0;

        while (i < n) {
            size_t j = i;

            while (j < n && out[j] != '/')
                j++;
            if (out[i] == '.') {
                if (j - i == 1 || (j - i == 2 && out[i + 1] == '.'))
                    return 400;
                return 404;
            }
            i = j + 1;
        }
    }
    if (n == 0 || out[n - 1] == '/')
        return 404; /* the root or a directory: no listings */
    *out_len = n;
    return 0;
}

/* Parse decimal digits at *s, saturating at UINT64_MAX. Returns the number
 * of digits read (0 when none). */
static size_t
parse_u64(const char **s, uint64_t *v)
{
    size_t nd = 0;

    *v = 0;
    while (**s >= '0' && **s <= '9') {
        uint64_t d = (uint64_t)(**s - '0');

        if (*v > (UINT64_MAX - d) / 10)
            *v = UINT64_MAX;
        else
            *v = *v * 10 + d;
        (*s)++;
        nd++;
    }
    return nd;
}

static const char *
skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

enum zu_range
zu_serve_range(const char *hdr, uint64_t size, uint64_t *off, uint64_t *len)
{
    const char *s;
    uint64_t a = 0, b = 0;
    size_t na, nb;

    *off = 0;
    *len = 0;
    if (hdr == NULL)
        return ZU_RANGE_NONE;
    s = skip_ows(hdr);
    if (strncasecmp(s, "bytes", 5) != 0)
        return ZU_RANGE_NONE;
    s = skip_ows(s + 5);
    if (*s != '=')
        return ZU_RANGE_NONE;
    s = skip_ows(s + 1);
    na = parse_u64(&s, &a);
    s = skip_ows(s);
    if (*s != '-')
        return ZU_RANGE_NONE;
    s = skip_ows(s + 1);
    nb = parse_u64(&s, &b);
    s = skip_ows(s);
    if (*s != '\0')
        return ZU_RANGE_NONE; /* a list, or trailing garbage: send it all */
    if (na == 0 && nb == 0)
        return ZU_RANGE_NONE;
    if (na == 0) { /* suffix: the last b bytes */
        if (b == 0 || size == 0)
            return ZU_RANGE_UNSAT;
        if (b > size)
            b = size;
        *off = size - b;
        *len = b;
        return ZU_RANGE_OK;
    }
    if (nb > 0 && b < a)
        return ZU_RANGE_NONE; /* invalid: ignored */
    if (a >= size)
        return ZU_RANGE_UNSAT;
    if (nb == 0 || b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return ZU_RANGE_OK;
}

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void
zu_http_date(char *out, size_t cap, time_t t)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
        tm.tm_mon > 11) {
        snprintf(out, cap, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
digits(const char *s, size_t n, int *v)
{
    size_t i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

/* Days in month mon (0-11) of year (e.g. 2024). */
static int
days_in(int mon, int year)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return days[mon] + (mon == 1 && leap ? 1 : 0);
}

int
zu_http_date_parse(const char *s, time_t *out)
{
    /* "Sun, 06 Nov 1994 08:49:37 GMT": 29 bytes, fixed positions */
    struct tm tm;
    int mon = -1, i;

    *out = 0;
    if (s == NULL || strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return -1;
    for (i = 0; i < 12; i++)
        if (memcmp(s + 8, months[i], 3) == 0)
            mon = i;
    if (mon < 0)
        return -1;
    memset(&tm, 0, sizeof(tm));
    if (digits(s + 5, 2, &tm.tm_mday) || digits(s + 12, 4, &tm.tm_year) ||
        digits(s + 17, 2, &tm.tm_hour) || digits(s + 20, 2, &tm.tm_min) ||
        digits(s + 23, 2, &tm.tm_sec))
        return -1;
    if (tm.tm_mday < 1 || tm.tm_mday > days_in(mon, tm.tm_year) || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
        return -1; /* "31 Sep" is no date (timegm would make it 1 Oct) */
    tm.tm_year -= 1900;
    tm.tm_mon = mon;
    *out = timegm(&tm);
    return 0;
}

bool
zu_etag_list_match(const char *list, const char *etag)
{
    size_t elen = strlen(etag);
    const char *s = list;

    if (s == NULL)
        return false;
    for (;;) {
        const char *q;

        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (*s == '\0')
            return false;
        if (*s == '*')
            return true;
        if (s[0] == 'W' && s[1] == '/')
            s += 2;
        if (*s != '"')
            return false;
        q = strchr(s + 1, '"');
        if (q == NULL)
            return false;
        if ((size_t)(q + 1 - s) == elen && memcmp(s, etag, elen) == 0)
            return true;
        s = q + 1;
    }
}

static bool
is_hex_prefix(const char *s, size_t len, size_t n)
{
    size_t i;

    if (len <= n || s[n] != '.')
        return false;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool
zu_serve_immutable(const char *rel, size_t len)
{
    const char *base = rel;
    size_t blen, i;

    if (len >= 6 && memcmp(rel, "blobs/", 6) == 0)
        return true;
    /* the transparency log's tiles and entry bundles (C2SP tlog-tiles: a
     * partial tile has its width in its name) */
    if (len > 9 && memcmp(rel, "log/tile/", 9) == 0)
        return true;
    for (i = 0; i < len; i++)
        if (rel[i] == '/')
            base = rel + i + 1;
    blen = len - (size_t)(base - rel);
    if (is_hex_prefix(base, blen, 64) || is_hex_prefix(base, blen, 128))
        return true;
    /* N.name.json */
    for (i = 0; i < blen && base[i] >= '0' && base[i] <= '9'; i++)
        ;
    return i > 0 && i + 1 < blen && base[i] == '.' && blen >= i + 1 + 5 + 1 &&
           memcmp(base + blen - 5, ".json", 5) == 0;
}

const char *
zu_serve_ctype(const char *rel, size_t len)
{
    if (len >= 5 && memcmp(rel + len - 5, ".json", 5) == 0)
        return "application/json";
    if (len == 14 && memcmp(rel, "log/checkpoint", 14) == 0)
        return "text/plain; charset=utf-8"; /* C2SP tlog-tiles */
    return "application/octet-stream";
}

void
zu_log_escape(char *out, size_t cap, size_t *pos, const char *s)
{
    size_t p = *pos;

    if (p >= cap)
        return;
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        size_t need = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? 4 : 1;

        if (p + need + 4 >= cap) { /* keep room for "..." and the NUL */
            if (p + 4 <= cap) {
                memcpy(out + p, "...", 3);
                p += 3;
            }
            break;
        }
        if (need == 4) {
            out[p++] = '\\';
            out[p++] = 'x';
            (void)sodium_bin2hex(out + p, 3, &c, 1); /* room checked above */
            p += 2;
        } else {
            out[p++] = (char)c;
        }
    }
    out[p] = '\0';
    *pos = p;
}
