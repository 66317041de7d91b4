/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/serve/serve_int.h -- what the parts of zupd-mirror serve share (serve.c:
 * requests and setup; serve_cache.c: the metadata cache and opening files
 * beneath the root); never used by programs. */
#ifndef ZP_SERVE_INT_H
#define ZP_SERVE_INT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "serve/serve.h"

#define CACHE_BUCKETS 1024
#define IMMUTABLE_CC "public, max-age=31536000, immutable"
#define ETAG_MAX 80
#define DATE_MAX 32

struct centry {
    struct centry *next;
    atomic_uint refs;
    uint64_t hash;
    char *key;
    size_t keylen;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
    const uint8_t *data; /* owned by r200 (freed with it) */
    size_t len;
    struct MHD_Response *r200, *r304;
    char etag[ETAG_MAX];
    char lastmod[DATE_MAX];
    const char *cc;
};

/* one connection, for the request timeout (serve.c); linked in
 * zp_server.conns while libmicrohttpd holds its socket open */
struct conn {
    struct conn *prev, *next;
    int fd;
    bool waiting;          /* a request is being read: the clock runs */
    struct timespec since; /* when that request began */
    bool uri_seen;         /* uri_len is the current request's */
    size_t uri_len;        /* strlen() of its target as libmicrohttpd split it: shorter than
                              the target when the target holds a NUL byte */
};

struct zp_server {
    struct MHD_Daemon *d;
    int rootfd;
    int logfd;
    char addr[INET6_ADDRSTRLEN + 16];
    size_t meta_max;
    char short_cc[48];
    zupd_log_fn log_fn;
    void *log_opaque;
    char *tls_cert, *tls_key;
    size_t tls_key_len;
    /* static error responses */
    struct MHD_Response *r400, *r404, *r405, *r414, *r500, *r501, *r503;
    /* metadata cache */
    pthread_rwlock_t lock;
    struct centry *bucket[CACHE_BUCKETS];
    size_t cache_bytes, cache_cap;
    atomic_bool no_openat2;
    /* request timeout: a watcher thread shuts down connections whose
     * request is not complete in time (libmicrohttpd's own timeout is an
     * idle one, reset by every byte) */
    pthread_mutex_t conn_lock;
    pthread_cond_t conn_cv;
    struct conn *conns;
    unsigned request_timeout_s;
    bool watcher_on, stopping;
    pthread_t watcher;
    /* server log lines (malformed requests ...), at most LOG_BURST a second */
    pthread_mutex_t log_lock;
    time_t log_sec;
    unsigned log_lines;
    unsigned long log_suppressed;
};

/* Drop a reference to e; the last one frees it. NULL ok. */
void zp_centry_unref(struct centry *e);

/* A referenced entry for key that is still the file st describes, or NULL. */
struct centry *zp_cache_get(struct zp_server *s, const char *key, size_t keylen,
                            const struct stat *st);

/* Empty the cache; the caller holds s->lock for writing (or is alone). */
void zp_cache_flush_locked(struct zp_server *s);

/* Insert e (the cache takes one reference), replacing the entry of the same
 * key; the cache is emptied first when it would pass its cap. */
void zp_cache_put(struct zp_server *s, struct centry *e);

/* Open the directory part of rel (rel[0..dirlen)) beneath the root without
 * following symlinks, as an O_PATH descriptor. Returns the fd or -errno. */
int zp_serve_open_dir_beneath(struct zp_server *s, const char *rel, size_t dirlen);

/* The HTTP status for a failed open or read with errno e. */
unsigned zp_serve_errno_status(int e);

/* The ETag of a file served from a descriptor (inode, size, mtime). */
void zp_serve_file_etag(char *out, size_t cap, const struct stat *st);

/* Add ETag, Last-Modified, Cache-Control and, with ctype, Content-Type,
 * Accept-Ranges and nosniff to r; false when libmicrohttpd refuses one. */
bool zp_serve_add_headers(struct MHD_Response *r, const char *etag, const char *lastmod,
                          const char *cc, const char *ctype);

/* A 304 with the validators and caching of the 200; NULL on failure. */
struct MHD_Response *zp_serve_response_304(const char *etag, const char *lastmod, const char *cc);

/* Read dirfd/base (a regular file of at most meta_max bytes) into a new
 * cache entry with its responses. Returns 0 or an HTTP status (0 with *out
 * NULL: grown past meta_max, serve it from a descriptor). Ownership: *out
 * holds one reference, release with zp_centry_unref(). */
unsigned zp_centry_load(struct zp_server *s, int dirfd, const char *base, const char *rel,
                        size_t rellen, struct centry **out);

#endif
