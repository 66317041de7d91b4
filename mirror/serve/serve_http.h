/* SPDX-License-Identifier: Apache-2.0 */
/* mirror/serve/serve_http.h -- pure HTTP helpers of zupd-mirror serve: request
 * paths, Range, HTTP dates, ETag lists, caching class. No I/O; unit-tested
 * in tests/unit/t_serve_http.c. Never installed. */
#ifndef ZU_SERVE_HTTP_H
#define ZU_SERVE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Longest request path accepted, raw (as sent) and decoded. */
#define ZU_SERVE_RAW_PATH_MAX 4096
#define ZU_SERVE_PATH_MAX 1024
/* Longest path component (NAME_MAX). */
#define ZU_SERVE_NAME_MAX 255

/* Decode the raw request path (as sent, without the query) into out: the
 * path relative to the tree root, without its leading '/'. Percent escapes
 * are decoded once; refused are: a path not starting with '/', bad escapes,
 * encoded '/', '\' or NUL (%2F %5C %00), any '\', control bytes, empty
 * components ("a//b"), "." and ".." components (400); components starting
 * with '.' (hidden files, temp files of atomic writes) and paths ending in
 * '/' (directories: no listings) (404); paths longer than
 * ZU_SERVE_RAW_PATH_MAX raw or ZU_SERVE_PATH_MAX decoded, components longer
 * than ZU_SERVE_NAME_MAX (414).
 * Returns 0 with out NUL-terminated and *out_len set, or the HTTP status to
 * answer (400, 404, 414). out_cap must be at least ZU_SERVE_PATH_MAX + 1. */
int zu_serve_path(const char *raw, char *out, size_t out_cap, size_t *out_len);

/* Outcome of a Range header against a representation of size bytes. */
enum zu_range {
    ZU_RANGE_NONE = 0, /* absent, malformed or several ranges: send all (200) */
    ZU_RANGE_OK = 1,   /* one satisfiable range: *off, *len (206) */
    ZU_RANGE_UNSAT = 2 /* no byte of the range exists (416) */
};

/* Parse a Range header value (may be NULL): "bytes=a-b", "bytes=a-",
 * "bytes=-n". Only a single range is honoured; a list is ignored (the whole
 * file is a valid answer). On ZU_RANGE_OK [*off, *off + *len) lies within
 * [0, size) and *len > 0. */
enum zu_range zu_serve_range(const char *hdr, uint64_t size, uint64_t *off, uint64_t *len);

/* IMF-fixdate of t ("Sun, 06 Nov 1994 08:49:37 GMT") into out (cap >= 30). */
void zu_http_date(char *out, size_t cap, time_t t);

/* Parse an IMF-fixdate (the only form this server emits). Returns 0 and
 * sets *out, or -1 when s is not one. */
int zu_http_date_parse(const char *s, time_t *out);

/* True when the If-None-Match value list ("*", or comma-separated entity
 * tags, weak or strong) matches etag (a quoted strong tag) by the weak
 * comparison. A malformed list matches nothing from the bad entry on. */
bool zu_etag_list_match(const char *list, const char *etag);

/* True when the path (relative, decoded) names content that never changes
 * at that name: content-addressed blobs ("blobs/..."), version-prefixed
 * metadata ("N.role.json"), hash-prefixed targets ("<64 or 128 hex>.x")
 * and the transparency log's tiles ("log/tile/..."). */
bool zu_serve_immutable(const char *rel, size_t len);

/* Content-Type for a path: application/json for ".json", text/plain (UTF-8)
 * for the log's checkpoint, otherwise application/octet-stream. */
const char *zu_serve_ctype(const char *rel, size_t len);

/* Append s to out[*pos..cap) escaped for a log line (quotes, backslash,
 * control and non-ASCII bytes as \xHH); truncates with "..." when full.
 * out stays NUL-terminated. */
void zu_log_escape(char *out, size_t cap, size_t *pos, const char *s);

#endif
