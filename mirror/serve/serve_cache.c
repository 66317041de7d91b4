/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/serve/serve_cache.c -- zupd-mirror serve: the metadata cache (entries
 * keyed by path, checked against the file's identity on every request,
 * each with ready 200 and 304 responses) and the opening of files beneath
 * the root without following any symlink. The requests are mirror/serve/serve.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__linux__) && defined(SYS_openat2) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define ZU_HAVE_OPENAT2 1
#endif

#include <microhttpd.h>

#include <zupd/hash.h>

#include "serve/serve.h"
#include "serve/serve_http.h"
#include "serve/serve_int.h"

/* ------------------------------------------------------------------ cache */

static uint64_t
fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static bool
same_file(const struct centry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtim.tv_sec == st->st_mtim.tv_sec && e->mtim.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctim.tv_sec == st->st_ctim.tv_sec && e->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

void
zp_centry_unref(struct centry *e)
{
    if (e == NULL || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    if (e->r200 != NULL)
        MHD_destroy_response(e->r200);
    if (e->r304 != NULL)
        MHD_destroy_response(e->r304);
    free(e->key);
    free(e);
}

/* A referenced entry for key that is still the file st describes, or NULL. */
struct centry *
zp_cache_get(struct zp_server *s, const char *key, size_t keylen, const struct stat *st)
{
    uint64_t h = fnv1a(key, keylen);
    struct centry *e, *found = NULL;

    pthread_rwlock_rdlock(&s->lock);
    for (e = s->bucket[h % CACHE_BUCKETS]; e != NULL; e = e->next) {
        if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
            if (same_file(e, st)) {
                atomic_fetch_add(&e->refs, 1);
                found = e;
            }
            break;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return found;
}

void
zp_cache_flush_locked(struct zp_server *s)
{
    size_t i;

    for (i = 0; i < CACHE_BUCKETS; i++) {
        struct centry *e = s->bucket[i], *next;

        for (; e != NULL; e = next) {
            next = e->next;
            zp_centry_unref(e);
        }
        s->bucket[i] = NULL;
    }
    s->cache_bytes = 0;
}

/* Insert e (the cache takes one reference), replacing the entry of the same
 * key. When the cache would pass its cap it is emptied first: stale entries
 * of replaced versions go, the hot ones come back on their next request. */
void
zp_cache_put(struct zp_server *s, struct centry *e)
{
    struct centry **pp;

    if (e->len > s->cache_cap)
        return;
    atomic_fetch_add(&e->refs, 1);
    pthread_rwlock_wrlock(&s->lock);
    for (pp = &s->bucket[e->hash % CACHE_BUCKETS]; *pp != NULL; pp = &(*pp)->next) {
        struct centry *old = *pp;

        if (old->hash == e->hash && old->keylen == e->keylen &&
            memcmp(old->key, e->key, e->keylen) == 0) {
            *pp = old->next;
            s->cache_bytes -= old->len;
            zp_centry_unref(old);
            break;
        }
    }
    if (s->cache_bytes + e->len > s->cache_cap)
        zp_cache_flush_locked(s);
    pp = &s->bucket[e->hash % CACHE_BUCKETS];
    e->next = *pp;
    *pp = e;
    s->cache_bytes += e->len;
    pthread_rwlock_unlock(&s->lock);
}

/* ------------------------------------------------------------------ files */

/* Open the directory part of rel (rel[0..dirlen)) beneath the root without
 * following symlinks, as an O_PATH descriptor. Returns the fd or -errno. */
int
zp_serve_open_dir_beneath(struct zp_server *s, const char *rel, size_t dirlen)
{
    char path[ZU_SERVE_PATH_MAX + 1];
    int fd, e;
    size_t i, start;

    if (dirlen > ZU_SERVE_PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(path, rel, dirlen);
    path[dirlen] = '\0';
#ifdef ZU_HAVE_OPENAT2
    if (!atomic_load_explicit(&s->no_openat2, memory_order_relaxed)) {
        struct open_how how;

        memset(&how, 0, sizeof(how));
        how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        fd = (int)syscall(SYS_openat2, s->rootfd, path, &how, sizeof(how));
        if (fd >= 0)
            return fd;
        e = errno;
        if (e != ENOSYS && e != EPERM && e != EINVAL)
            return -e;
        atomic_store(&s->no_openat2, true); /* old kernel or a filter: walk */
    }
#endif
    /* one component at a time; serve_http refused "." and ".." already */
    fd = s->rootfd;
    start = 0;
    for (i = 0; i <= dirlen; i++) {
        int next;

        if (i < dirlen && path[i] != '/')
            continue;
        path[i] = '\0';
        next = openat(fd, path + start, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        e = errno;
        if (fd != s->rootfd)
            close(fd);
        if (next < 0)
            return -e;
        fd = next;
        start = i + 1;
    }
    {
        struct stat st;

        if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
            close(fd);
            return -ENOTDIR;
        }
    }
    return fd;
}

unsigned
zp_serve_errno_status(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case EXDEV:
    case EACCES:
    case EPERM:
    case ENAMETOOLONG:
        return MHD_HTTP_NOT_FOUND;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

void
zp_serve_file_etag(char *out, size_t cap, const struct stat *st)
{
    snprintf(out, cap, "\"%llx-%llx-%llx.%lx\"", (unsigned long long)st->st_ino,
             (unsigned long long)st->st_size, (unsigned long long)st->st_mtim.tv_sec,
             (unsigned long)st->st_mtim.tv_nsec);
}

bool
zp_serve_add_headers(struct MHD_Response *r, const char *etag, const char *lastmod, const char *cc,
                     const char *ctype)
{
    bool ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) == MHD_YES &&
              MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod) == MHD_YES &&
              MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cc) == MHD_YES;

    if (ok && ctype != NULL)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) == MHD_YES &&
             MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes") == MHD_YES &&
             MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
    return ok;
}

/* A 304: no body, the validators and caching of the 200. libmicrohttpd
 * 0.9.75 adds "Content-Length: 0" to it (and refuses a second one); clients
 * and caches ignore a 304's length (RFC 9111 4.3.4). */
struct MHD_Response *
zp_serve_response_304(const char *etag, const char *lastmod, const char *cc)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

    if (r != NULL && !zp_serve_add_headers(r, etag, lastmod, cc, NULL)) {
        MHD_destroy_response(r);
        r = NULL;
    }
    return r;
}

/* Read dirfd/base (a regular file of at most meta_max bytes) into a new
 * cache entry with its responses. Returns 0 or an HTTP status. */
unsigned
zp_centry_load(struct zp_server *s, int dirfd, const char *base, const char *rel, size_t rellen,
               struct centry **out)
{
    struct centry *e = NULL;
    uint8_t *data = NULL, md[ZUPD_SHA256_LEN];
    size_t got = 0, mdlen = 0;
    struct stat st;
    unsigned status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    int fd;

    *out = NULL;
    fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return zp_serve_errno_status(errno);
    if (fstat(fd, &st) != 0) {
        status = zp_serve_errno_status(errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        status = MHD_HTTP_NOT_FOUND;
        goto out;
    }
    if ((uint64_t)st.st_size > s->meta_max) {
        status = 0; /* grew past the limit: caller serves it from the fd path */
        goto out;
    }
    data = malloc((size_t)st.st_size + 1);
    e = calloc(1, sizeof(*e));
    /* counted from birth: every failure below releases it with
     * zp_centry_unref(), which frees only at the last reference */
    if (e != NULL)
        atomic_init(&e->refs, 1);
    if (data == NULL || e == NULL) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, data + got, (size_t)st.st_size - got, (off_t)got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            status = zp_serve_errno_status(errno);
            goto out;
        }
        if (n == 0)
            break; /* truncated under us: serve what is there */
        got += (size_t)n;
    }
    if (zupd_hash_buf(ZUPD_HASH_SHA256, data, got, md, sizeof(md), &mdlen) != ZUPD_OK)
        goto out;
    e->key = malloc(rellen + 1);
    if (e->key == NULL) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        goto out;
    }
    memcpy(e->key, rel, rellen + 1);
    e->keylen = rellen;
    e->hash = fnv1a(rel, rellen);
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    e->size = st.st_size;
    e->mtim = st.st_mtim;
    e->ctim = st.st_ctim;
    e->data = data;
    e->len = got;
    {
        char hex[2 * ZUPD_SHA256_LEN + 1];

        zupd_hex_encode(hex, sizeof(hex), md, 16);
        snprintf(e->etag, sizeof(e->etag), "\"%s\"", hex);
    }
    zu_http_date(e->lastmod, sizeof(e->lastmod), st.st_mtim.tv_sec);
    e->cc = zu_serve_immutable(rel, rellen) ? IMMUTABLE_CC : s->short_cc;
    e->r200 = MHD_create_response_from_buffer_with_free_callback(got, data, free);
    if (e->r200 == NULL)
        goto out;
    data = NULL; /* owned by r200 now */
    e->r304 = zp_serve_response_304(e->etag, e->lastmod, e->cc);
    if (e->r304 == NULL ||
        !zp_serve_add_headers(e->r200, e->etag, e->lastmod, e->cc, zu_serve_ctype(rel, rellen)))
        goto out;
    *out = e;
    e = NULL;
    status = 0;
out:
    zp_centry_unref(e);
    free(data);
    close(fd);
    return status;
}
