/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/serve/serve.h -- the HTTP/1.1 server of a repository tree (libmicrohttpd):
 * GET and HEAD of plain files beneath one root, keep-alive, ETag and
 * Last-Modified with 304, single Range (206/416), sendfile for files, small
 * metadata from memory, immutable caching of content-addressed names, an
 * access log, optional TLS. Never installed. */
#ifndef ZUPD_SERVE_H
#define ZUPD_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include <zupd/common.h>

#define ZP_SERVE_UNLIMITED 0xffffffffu

struct zp_serve_opts {
    const char *root;   /* the tree to serve (required) */
    const char *listen; /* "ADDR:PORT" or "[ADDR6]:PORT"; NULL: 127.0.0.1:8080; port 0 picks one */
    unsigned threads;   /* worker threads, each with its own epoll; 0: number of CPUs */
    unsigned max_connections;   /* 0: 4096 */
    unsigned max_per_ip;        /* connections per client address; 0: 64, at most half of
                                   max_connections (one address cannot take them all);
                                   ZP_SERVE_UNLIMITED: no limit */
    unsigned timeout_s;         /* idle connection timeout; 0: 30 s */
    unsigned request_timeout_s; /* a request (line, headers, body) not complete this long
                                   after it began closes the connection, however slowly
                                   its bytes trickle in (nginx client_header_timeout);
                                   0: 60 s; ZP_SERVE_UNLIMITED: none */
    size_t max_request_bytes;   /* per-connection memory: request line + headers; 0: 16 KiB */
    size_t meta_max_bytes;      /* *.json up to this size served from memory; 0: 1 MiB */
    size_t meta_cache_bytes;    /* memory cache cap; 0: 64 MiB */
    unsigned short_max_age;     /* max-age of mutable names (timestamp.json ...); 0: 60 s */
    int access_log_fd;          /* one line per request written here; -1: no log */
    const char *tls_cert;       /* PEM certificate file, with tls_key: HTTPS */
    const char *tls_key;        /* PEM private key file */
    int walk_paths;             /* resolve by one openat(O_NOFOLLOW) per component even where
                                   openat2(RESOLVE_BENEATH) exists (tests the fallback) */
    zupd_log_fn log_fn;         /* errors of the server (not the access log); may be NULL */
    void *log_opaque;
};

/* Fill o with the defaults above (root NULL, access_log_fd -1). */
void zp_serve_opts_init(struct zp_serve_opts *o);

struct zp_server;

/* Open the root, bind and listen, start the worker threads. Returns at once;
 * the server runs until zp_serve_stop().
 * Ownership: on ZUPD_OK *out is new, release with zp_serve_stop(); o and
 * its strings are not retained (files are read, fds dup'ed are not: the
 * access log fd must stay open until stop). On error *out is NULL and err
 * holds a one-line reason naming the address or file.
 * Returns ZUPD_OK, ZUPD_E_MISUSE (bad option or address), ZUPD_E_NOTFOUND
 * (root missing), ZUPD_E_IO (root not a directory, cannot bind/listen, TLS
 * files unreadable), ZUPD_E_NOMEM, ZUPD_E_NET (the HTTP library refused to
 * start). */
ZUPD_NODISCARD int zp_serve_start(const struct zp_serve_opts *o, struct zp_server **out, char *err,
                                  size_t err_cap);

/* The address actually listened on, e.g. "127.0.0.1:41234". */
const char *zp_serve_address(const struct zp_server *s);

/* Stop accepting, close every connection, join the threads, free all. NULL ok. */
void zp_serve_stop(struct zp_server *s);

#endif
