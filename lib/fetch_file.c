/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fetch_file.c -- file:// mirrors (issue 15: a mounted share or a
 * removable medium). The libcurl transport hands every file:// URL here, so
 * a file mirror goes through the same zupd_fetch() path as an HTTP one:
 * the same caps, the same sinks, the same hash checks above. It answers as
 * an HTTP server would: 200 (or 206 from an offset), 404 for a path that
 * is missing, not a regular file or not readable, and never a 304 (reading
 * a local file again costs no more than asking whether it changed). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fetch_int.h"
#include "zu/fsio.h"

#define CHUNK (256u << 10)

bool
zu_is_file_url(const char *url)
{
    return strncasecmp(url, "file://", 7) == 0;
}

int
zu_file_url_path(const char *url, char *dst, size_t cap)
{
    const char *p;
    size_t n = 0;

    if (!zu_is_file_url(url))
        return ZUPD_E_MISUSE;
    p = url + 7;
    /* RFC 8089: file:///path, or file://localhost/path; no other host */
    if (strncasecmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/')
        return ZUPD_E_FORMAT;
    for (; *p != '\0' && *p != '?' && *p != '#'; p++) {
        int c = (unsigned char)*p;

        if (c == '%') {
            unsigned char b = 0;
            size_t one = 0;

            /* two hex digits (as zu_serve_path reads them): p[2] is
             * readable when p[1] is not the end of the string */
            if (p[1] == '\0' || sodium_hex2bin(&b, 1, p + 1, 2, NULL, &one, NULL) != 0 ||
                one != 1 || b == 0)
                return ZUPD_E_FORMAT;
            c = b;
            p += 2;
        }
        if (n + 1 >= cap)
            return ZUPD_E_TOOBIG;
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    return ZUPD_OK;
}

int
zu_file_get(struct zupd_ctx *ctx, const struct zupd_get *g, const struct zupd_sink *sink,
            struct zupd_get_res *res)
{
    char path[4096], err[512], shown[512];
    uint8_t *buf = NULL;
    struct stat st;
    uint64_t pos, size;
    int fd = -1, rc;

    memset(res, 0, sizeof(*res));
    zu_url_redact(shown, sizeof(shown), g->url);
    rc = zu_file_url_path(g->url, path, sizeof(path));
    if (rc != ZUPD_OK) {
        zu_log(ctx, ZUPD_LOG_WARN, "'%s': not a local file:// URL", shown);
        return ZUPD_E_NET;
    }
    rc = zu_open_regular(AT_FDCWD, path, ZU_READ_FOLLOW, g->max_bytes, &fd, &st, err, sizeof(err));
    if (rc == ZUPD_E_TOOBIG) {
        zu_log(ctx, ZUPD_LOG_WARN, "'%s': more than %" PRIu64 " bytes; not read", shown,
               g->max_bytes);
        return rc;
    }
    if (rc != ZUPD_OK) {
        /* what an HTTP server answers 403 or 404 to */
        if (rc == ZUPD_E_NOTFOUND || rc == ZUPD_E_PERM || (rc == ZUPD_E_IO && errno == EINVAL)) {
            res->status = 404;
            zu_log(ctx, ZUPD_LOG_INFO, "'%s': %s", shown, err);
            return ZUPD_E_NOTFOUND;
        }
        zu_log(ctx, ZUPD_LOG_WARN, "'%s': %s", shown, err);
        return ZUPD_E_NET;
    }
    size = (uint64_t)st.st_size;
    /* an offset inside the file resumes there; at or past its end (a
     * partial as long as the file or longer) the file is read whole */
    pos = g->offset < size ? g->offset : 0;
    res->status = pos > 0 ? 206 : 200;
    res->start = pos;
    rc = sink->begin(sink->opaque, pos);
    if (rc != ZUPD_OK)
        goto out;
    buf = malloc(CHUNK);
    if (buf == NULL) {
        rc = ZUPD_E_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t got = pread(fd, buf, CHUNK, (off_t)pos);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            zu_log(ctx, ZUPD_LOG_WARN, "'%s': read: %s", shown, strerror(errno));
            rc = ZUPD_E_NET;
            goto out;
        }
        if (got == 0)
            break;
        /* a file that grew since fstat: the cap holds all the same */
        if (pos + (uint64_t)got > g->max_bytes) {
            zu_log(ctx, ZUPD_LOG_WARN, "'%s': more than %" PRIu64 " bytes; stopped", shown,
                   g->max_bytes);
            rc = ZUPD_E_TOOBIG;
            goto out;
        }
        rc = sink->write(sink->opaque, buf, (size_t)got);
        if (rc != ZUPD_OK)
            goto out;
        pos += (uint64_t)got;
        res->received += (uint64_t)got;
    }
    rc = ZUPD_OK;
out:
    free(buf);
    close(fd);
    return rc;
}
