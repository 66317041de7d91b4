/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fetch_int.h -- helpers shared by the fetch modules. Never installed. */
#ifndef ZU_FETCH_INT_H
#define ZU_FETCH_INT_H

#include <zupd/fetch.h>

#include "zu/internal.h"

/* A transport (opaque in zupd/fetch.h): the caller's operations, copied
 * whole (slots the caller's version lacks are NULL), and the counters
 * zupd_fetch() and zupd_fetch_files() keep. */
struct zupd_transport {
    struct zupd_transport_ops ops;
    void *opaque;
    struct zupd_fetch_stats stats;
    struct zu_budget *budget; /* borrowed; NULL: no per-mirror time budget */
};

/* The time each mirror may cost one update (issue 14: a slow mirror cost
 * up to files x low_speed_time). While a transport has one (the updater
 * sets it for an install, over bases given in the same mirror order),
 * zupd_fetch() and zupd_fetch_files() add the time of every GET to its
 * mirror, and skip a mirror that has used its budget (ZUPD_E_TIMEOUT, then
 * the next mirror). A GET in flight is not cut short: it ends as the
 * transport's own timeouts say. */
#define ZU_BUDGET_MIRRORS 64
struct zu_budget {
    uint64_t limit_ms;
    uint64_t spent_ms[ZU_BUDGET_MIRRORS];
    bool said[ZU_BUDGET_MIRRORS]; /* the skip was logged */
};

/* Copy an untrusted header value into dst[ZUPD_VALIDATOR_MAX], trimming
 * blanks; dst becomes "" when it is too long or holds a byte outside
 * 0x20..0x7e (no CR/LF may ever reach a request header). */
void zu_validator_set(char *dst, const char *src, size_t len);
/* True when v is "" or a value zu_validator_set() could have stored. */
bool zu_validator_ok(const char *v);

/* The start of the range a Content-Range value ("bytes START-END/TOTAL",
 * an untrusted header) names: false when it names none (at most 19 digits:
 * no overflow). */
bool zu_content_range_start(const char *v, uint64_t *start);

/* url without user info, query or fragment, for messages (never secrets). */
void zu_url_redact(char *dst, size_t dst_cap, const char *url);

/* file:// URLs (lib/fetch_file.c), which the libcurl transport hands to
 * zu_file_get(): true when url is one (scheme compared without case). */
bool zu_is_file_url(const char *url);
/* The local path of a file:// URL (file:///p or file://localhost/p,
 * percent-decoded, query and fragment dropped) into dst[0..cap).
 * ZUPD_E_FORMAT for another host, a bad or NUL escape; ZUPD_E_TOOBIG. */
ZU_NODISCARD int zu_file_url_path(const char *url, char *dst, size_t cap);
/* One GET of a file:// URL, answered as an HTTP server would (200, 206
 * from an offset inside the file, NOTFOUND with status 404 for a path
 * missing, unreadable or not a regular file); the return values of
 * zupd_transport_ops.get(). */
ZU_NODISCARD int zu_file_get(struct zupd_ctx *ctx, const struct zupd_get *g,
                             const struct zupd_sink *sink, struct zupd_get_res *res);

/* A transport serving URL -> bytes from memory, for tests of the layers
 * above the network. Missing URLs answer 404. It honours Range (206),
 * answers 304 to If-None-Match with the entry's ETag ("\"<n>\"", n counting
 * puts), and delivers bodies in 4 KiB pieces.
 * Ownership: *out is new, release with zupd_transport_free(). */
ZU_NODISCARD int zu_mem_transport_new(struct zupd_transport **out);
/* Serve a copy of data[0..len) at url (replacing any entry). */
ZU_NODISCARD int zu_mem_transport_put(struct zupd_transport *t, const char *url, const void *data,
                                      size_t len);
/* Make GETs of url fail with err (ZUPD_E_NET, _TIMEOUT, _BUSY with
 * retry_after, ...); ZUPD_OK serves the entry again. */
ZU_NODISCARD int zu_mem_transport_fail(struct zupd_transport *t, const char *url, int err,
                                       uint32_t retry_after);
/* Make GETs of url stop with ZUPD_E_NET after delivering the body up to
 * file position after (a cut connection; resume tests). UINT64_MAX: never. */
ZU_NODISCARD int zu_mem_transport_cut(struct zupd_transport *t, const char *url, uint64_t after);
/* Number of GETs of url so far (also of missing or failing URLs). */
uint64_t zu_mem_transport_count(const struct zupd_transport *t, const char *url);

#endif
