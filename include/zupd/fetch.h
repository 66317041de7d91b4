/* SPDX-License-Identifier: Apache-2.0 */
/* zupd/fetch.h -- downloads: transport interface, mirror fallback, resumable
 * capped downloads into memory or a file, conditional GET, cool-down state. */
#ifndef ZUPD_FETCH_H
#define ZUPD_FETCH_H

#include <stdbool.h>

#include <zupd/common.h>
#include <zupd/hash.h>

#ifdef __cplusplus
extern "C" {
#endif

/* HTTP cache validators of one document (ETag, Last-Modified), as received.
 * Values are printable ASCII without CR/LF, at most ZUPD_VALIDATOR_MAX - 1
 * bytes; "" means none. The caller keeps them with the document they
 * describe: it sends them only while it holds that document as trusted, and
 * stores new ones only after the new document verified (else a rejected
 * timestamp's ETag would turn every later check into a 304). A 304 is not
 * authenticated: the trusted document's expiry must still be checked. */
#define ZUPD_VALIDATOR_MAX 256
struct zupd_validators {
    char etag[ZUPD_VALIDATOR_MAX];
    char last_modified[ZUPD_VALIDATOR_MAX];
};

/* Where a download goes. begin() is called once per successful response,
 * before any body byte, with the file position the body starts at: the
 * requested offset for a 206, 0 for a 200 (the sink must then drop what it
 * had, e.g. truncate a partial file and restart its hash). write() gets the
 * body in order. Either returns ZUPD_OK or an error that aborts the transfer
 * and is returned by the GET unchanged. */
struct zupd_sink {
    void *opaque;
    int (*begin)(void *opaque, uint64_t start);
    int (*write)(void *opaque, const uint8_t *data, size_t len);
};

/* One GET of one absolute URL: the transport's only primitive. */
struct zupd_get {
    const char *url;
    uint64_t offset;                    /* ask Range bytes=offset-; 0: whole file */
    uint64_t max_bytes;                 /* cap on start + body length (> 0) */
    const struct zupd_validators *cond; /* send If-None-Match/-Modified-Since; NULL: none */
};

struct zupd_get_res {
    long status;                       /* final HTTP status, 0 when none */
    bool not_modified;                 /* 304 to a conditional GET; sink untouched */
    uint32_t retry_after;              /* seconds asked by a 429/503, clamped; 0: none */
    uint32_t new_conns;                /* connections opened for this GET */
    uint32_t http_version;             /* 10, 11, 20, 30; 0 unknown */
    uint64_t start;                    /* position of the first body byte */
    uint64_t received;                 /* body bytes given to the sink */
    struct zupd_validators validators; /* of a 200 response */
};

/* Counters kept by zupd_fetch() and zupd_fetch_files() for a transport,
 * read with zupd_transport_stats(). Growable (docs/api.md): set size with
 * zupd_fetch_stats_init() before asking. */
struct zupd_fetch_stats {
    size_t size;           /* sizeof(struct zupd_fetch_stats) of the caller */
    uint64_t requests;     /* GETs sent */
    uint64_t bytes;        /* body bytes received */
    uint64_t not_modified; /* 304 answers */
    uint64_t connections;  /* connections opened */
};

static inline void
zupd_fetch_stats_init(struct zupd_fetch_stats *st)
{
    *st = (struct zupd_fetch_stats){.size = sizeof(*st)};
}

/* One GET of a batch given to get_many(): g and sink in, res and rc out
 * (what get() would have returned for it). */
struct zupd_get_item {
    struct zupd_get g;
    const struct zupd_sink *sink;
    struct zupd_get_res res;
    int rc;
};

/* What a transport does. get() performs one GET (no mirror fallback, no
 * retry) and returns:
 *   ZUPD_OK          2xx, body given to the sink; or 304 (res->not_modified)
 *   ZUPD_E_NOTFOUND  403 or 404
 *   ZUPD_E_BUSY      429 or 503; res->retry_after is the asked delay
 *   ZUPD_E_TOOBIG    Content-Length or body over max_bytes (stopped at once)
 *   ZUPD_E_TIMEOUT   connect timeout or transfer under the low-speed limit
 *   ZUPD_E_NET       any other network or HTTP failure
 *   or the error the sink returned.
 * get_many() (optional, NULL: the GETs run one after the other through
 * get()) performs items[0..n) with at most `parallel` of them in flight at
 * once, each as get() would, sinks called from the calling thread only.
 * free() (optional) releases opaque. Growable (docs/api.md): start from
 * zupd_transport_ops_init(). */
struct zupd_transport_ops {
    size_t size; /* sizeof(struct zupd_transport_ops) of the caller */
    int (*get)(void *opaque, const struct zupd_get *g, const struct zupd_sink *sink,
               struct zupd_get_res *res);
    void (*get_many)(void *opaque, struct zupd_get_item *items, size_t n, unsigned parallel);
    void (*free)(void *opaque);
};

static inline void
zupd_transport_ops_init(struct zupd_transport_ops *ops)
{
    *ops = (struct zupd_transport_ops){.size = sizeof(*ops)};
}

/* A transport: its operations, their opaque state, and the statistics of
 * the downloads made through it. Opaque. Implementations:
 * zupd_curl_transport_new(), or the caller's own with zupd_transport_new(). */
struct zupd_transport;

/* A transport over the caller's operations (copied; get is required).
 * Ownership: *out new, release with zupd_transport_free(), which calls
 * ops->free(opaque); on error *out is NULL and opaque stays the caller's.
 * Returns ZUPD_OK, ZUPD_E_NOMEM or ZUPD_E_MISUSE. */
ZUPD_API ZUPD_NODISCARD int zupd_transport_new(const struct zupd_transport_ops *ops, void *opaque,
                                               struct zupd_transport **out);

/* Release a transport. NULL ok. */
ZUPD_API void zupd_transport_free(struct zupd_transport *t);

/* The counters of the downloads made through t so far, into *st (whose
 * size the caller set, zupd_fetch_stats_init()). Returns ZUPD_OK or
 * ZUPD_E_MISUSE. */
ZUPD_API ZUPD_NODISCARD int zupd_transport_stats(const struct zupd_transport *t,
                                                 struct zupd_fetch_stats *st);

/* ------------------------------------------------------------ libcurl */

/* Options of the libcurl transport. Growable (docs/api.md): start from
 * zupd_curl_opts_init() or ZUPD_CURL_OPTS_DEFAULT, which set size and the
 * defaults; fields a caller's headers lack take the library's defaults. */
struct zupd_curl_opts {
    size_t size;                 /* sizeof(struct zupd_curl_opts) of the caller */
    uint32_t connect_timeout_ms; /* 0: libcurl's default (300 s) */
    uint32_t low_speed_limit;    /* bytes/s; slower for low_speed_time s aborts */
    uint32_t low_speed_time;     /* seconds; 0 disables the low-speed check */
    uint32_t total_timeout_ms;   /* whole transfer; 0: none */
    uint32_t max_redirs;         /* redirects followed (http/https only) */
    uint32_t max_retry_after;    /* clamp on a server's Retry-After, seconds */
    size_t buffer_size;          /* receive buffer (CURLOPT_BUFFERSIZE) */
    bool http2;                  /* HTTP/2 over TLS when the server offers it */
    const char *ca_file;         /* NULL: the system's trust store; copied */
    const char *user_agent;      /* NULL: "zupd/VERSION"; copied */
    /* added in libzupd.so.1 age 2 (issue 15) */
    const char *ca_path;     /* NULL: none; a directory of hashed CA certificates; copied */
    const char *proxy;       /* NULL: the environment's (https_proxy, ...); "" none; copied */
    uint64_t max_recv_speed; /* bytes/s, all transfers together; 0: none */
};

#define ZUPD_CURL_OPTS_DEFAULT                                                                     \
    {                                                                                              \
        .size = sizeof(struct zupd_curl_opts), .connect_timeout_ms = 10000,                        \
        .low_speed_limit = 1024, .low_speed_time = 30, .total_timeout_ms = 0, .max_redirs = 5,     \
        .max_retry_after = 6 * 3600, .buffer_size = 512u << 10, .http2 = true, .ca_file = NULL,    \
        .user_agent = NULL, .ca_path = NULL, .proxy = NULL, .max_recv_speed = 0                    \
    }

/* The default options, size set. */
static inline void
zupd_curl_opts_init(struct zupd_curl_opts *o)
{
    *o = (struct zupd_curl_opts)ZUPD_CURL_OPTS_DEFAULT;
}

/* A libcurl transport holding ONE easy handle, reused for every GET so
 * connections are kept alive. Only http and https are allowed, also for
 * redirects (https URLs may only redirect to https). The proxy is opts->proxy
 * when set (it wins over the environment), else the usual environment
 * variables (https_proxy, http_proxy, no_proxy). opts NULL: defaults. ctx is borrowed for
 * logging and must outlive the transport (NULL: no logging). Not thread
 * safe: one transport per thread.
 * Ownership: *out is new, release with zupd_transport_free(); NULL on error.
 * Returns ZUPD_OK, ZUPD_E_NOMEM or ZUPD_E_NET (libcurl unusable). */
ZUPD_API ZUPD_NODISCARD int zupd_curl_transport_new(struct zupd_ctx *ctx,
                                                    const struct zupd_curl_opts *opts,
                                                    struct zupd_transport **out);

/* ------------------------------------------------------------ mirrors */

/* A download of path from an ordered list of mirrors. */
struct zupd_fetch_req {
    const char *const *bases; /* mirror base URLs, in order of preference */
    size_t n_bases;
    size_t first;                 /* first mirror to try: 0, or res.mirror + 1 to ask the
                                   * next mirror after the content failed a check */
    const char *path;             /* relative to a base, already percent-encoded */
    uint64_t offset;              /* resume position (the sink holds bytes [0, offset)) */
    uint64_t max_bytes;           /* cap on the whole file: the signed length, or a default */
    struct zupd_validators *cond; /* in/out: sent, then replaced by a 200's (restore them
                                   * before asking the next mirror); NULL: none */
};

struct zupd_fetch_res {
    size_t mirror; /* index of the mirror that answered (or failed last) */
    long status;
    bool not_modified;     /* 304: nothing new; the sink was not called */
    uint32_t retry_after;  /* largest Retry-After among the mirrors, seconds */
    uint32_t http_version; /* of the last answer: 10, 11, 20, 30; 0 unknown */
    uint64_t start;        /* the body began at this position ... */
    uint64_t received;     /* ... and had this many bytes */
};

/* GET path from bases[first], falling back to the next mirror on a server or
 * network failure (NOTFOUND, BUSY, TOOBIG, TIMEOUT, NET); a resumed attempt on
 * the next mirror continues from where the previous one stopped. Errors of
 * the sink or the machine (IO, NOSPACE, NOMEM, HASH...) stop at once. When
 * every mirror failed the error is, by priority, NOTFOUND (a reachable server
 * said the file is not there: ends a root walk), TOOBIG, BUSY, TIMEOUT, NET.
 * Returns ZUPD_OK (see res->not_modified), those errors, or ZUPD_E_MISUSE. */
ZUPD_API ZUPD_NODISCARD int zupd_fetch(struct zupd_ctx *ctx, struct zupd_transport *t,
                                       const struct zupd_fetch_req *req,
                                       const struct zupd_sink *sink, struct zupd_fetch_res *res);

/* zupd_fetch() into memory (req->offset must be 0).
 * Ownership: on ZUPD_OK *out is new (free()), NUL-terminated, *out_len bytes;
 * NULL/0 on error and on 304. */
ZUPD_API ZUPD_NODISCARD int zupd_fetch_mem(struct zupd_ctx *ctx, struct zupd_transport *t,
                                           const struct zupd_fetch_req *req, uint8_t **out,
                                           size_t *out_len, struct zupd_fetch_res *res);

/* Download path into dirfd/name with resume, for the target cache. Bytes go
 * to "<name>.part" (O_NOFOLLOW), hashed while written; an existing partial
 * is hashed first and resumed with Range. More than expected_len bytes are
 * refused (ZUPD_E_TOOBIG). When expected_len bytes hash to digest (alg), the
 * partial is fsynced and renamed to name atomically (and the directory
 * fsynced). A wrong hash deletes the partial and tries the next mirror from
 * scratch, or the same mirror once more from scratch when its bytes were
 * resumed on top of a partial (another mirror's, or an earlier run's: it
 * may be the wrong part); a short file resumes on the next mirror.
 * req->offset, ->cond are ignored; name must be a plain file name. A partial
 * left by a network error is kept for the next run.
 * Returns ZUPD_OK, ZUPD_E_HASH (every mirror's content was wrong; partial
 * removed), ZUPD_E_LENGTH (too short everywhere; partial kept), ZUPD_E_IO,
 * ZUPD_E_NOSPACE, the errors of zupd_fetch(), ZUPD_E_MISUSE. */
ZUPD_API ZUPD_NODISCARD int zupd_fetch_file(struct zupd_ctx *ctx, struct zupd_transport *t,
                                            const struct zupd_fetch_req *req, int dirfd,
                                            const char *name, uint64_t expected_len,
                                            enum zupd_hash_alg alg, const uint8_t *digest,
                                            struct zupd_fetch_res *res);

/* One file of zupd_fetch_files(). */
struct zupd_fetch_file_req {
    const char *path;      /* relative to a base, already percent-encoded */
    const char *name;      /* plain file name in dirfd */
    uint64_t expected_len; /* signed length */
    const uint8_t *digest; /* signed hash (alg) */
    int rc;                /* out: as zupd_fetch_file() would return */
};

/* Flags of zupd_fetch_files(). */
#define ZUPD_FETCH_NOSYNC                                                                          \
    1u /* no fsync of the files nor of dirfd: a cache whose                                        \
        * content is hash-checked again where it is used */

/* zupd_fetch_file() of files[0..n) from the mirrors bases[0..n_bases), with
 * at most `parallel` downloads at once (through the transport's get_many()
 * when it has one). The first attempt of every file goes to bases[0] in
 * parallel (resuming a partial); a file whose attempt fails (network, short,
 * wrong hash) is then fetched alone with zupd_fetch_file()'s mirror
 * fallback, from the next mirror when there is one. Each file's result is
 * in files[i].rc. A file already at name (left by an earlier run) is
 * checked like a whole partial: kept, without a request, when its hash is
 * right. Returns ZUPD_OK when every file is there, else the first
 * file's error, or ZUPD_E_MISUSE / ZUPD_E_NOMEM. */
ZUPD_API ZUPD_NODISCARD int zupd_fetch_files(struct zupd_ctx *ctx, struct zupd_transport *t,
                                             const char *const *bases, size_t n_bases, int dirfd,
                                             enum zupd_hash_alg alg,
                                             struct zupd_fetch_file_req *files, size_t n,
                                             unsigned parallel, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
