/* SPDX-License-Identifier: Apache-2.0 */
/* include/zu/internal.h -- helpers shared by libzupd's modules; never installed. */
#ifndef ZU_INTERNAL_H
#define ZU_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zupd/common.h>

/* Internal symbols (zu_*) are hidden by -fvisibility=hidden: the shared
 * library exports only ZUPD_API. Unit tests link lib/libzupd_core.la, the
 * static library with every internal symbol. */

#define ZU_NODISCARD __attribute__((warn_unused_result))
#define ZU_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ZU_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Programmer errors abort, also in release builds. Bad input never does. */
#define zu_assert(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            zu_assert_fail(#cond, __FILE__, __LINE__);                                             \
    } while (0)
_Noreturn void zu_assert_fail(const char *what, const char *file, int line);

struct zupd_ctx {
    zupd_log_fn log_fn;
    void *log_opaque;
    int log_level;
};

/* Log through the context's callback; the level is checked before any
 * formatting. ctx may be NULL (nothing is logged). */
#define zu_log(ctx, level, ...)                                                                    \
    do {                                                                                           \
        const struct zupd_ctx *zu_log_ctx_ = (ctx);                                                \
        if (zu_log_ctx_ != NULL && zu_log_ctx_->log_fn != NULL &&                                  \
            (level) <= zu_log_ctx_->log_level)                                                     \
            zu_log_emit(zu_log_ctx_, (level), __VA_ARGS__);                                        \
    } while (0)
void zu_log_emit(const struct zupd_ctx *ctx, int level, const char *fmt, ...) ZU_PRINTF(3, 4);

#ifdef ZUPD_DEBUG
#define zu_trace(ctx, ...) zu_log((ctx), ZUPD_LOG_DEBUG, __VA_ARGS__)
#else
#define zu_trace(ctx, ...) ((void)(ctx))
#endif

/* A growing byte buffer with a hard cap. */
struct zu_buf {
    uint8_t *p;
    size_t len;
    size_t cap;   /* allocated */
    size_t limit; /* never grows past this; 0 means SIZE_MAX */
};
void zu_buf_init(struct zu_buf *b, size_t limit);
void zu_buf_release(struct zu_buf *b);
/* Append src[0..n); ZUPD_E_TOOBIG past the limit, ZUPD_E_NOMEM. */
ZU_NODISCARD int zu_buf_add(struct zu_buf *b, const void *src, size_t n);
ZU_NODISCARD int zu_buf_addstr(struct zu_buf *b, const char *s);
ZU_NODISCARD int zu_buf_addf(struct zu_buf *b, const char *fmt, ...) ZU_PRINTF(2, 3);
/* Take ownership of the bytes (NUL-terminated, len excludes the NUL). */
ZU_NODISCARD int zu_buf_detach(struct zu_buf *b, uint8_t **out, size_t *out_len);

/* The one growth helper for arrays: make room for need elements in the
 * array *pp of *capp elements, doubling from 8, never past max elements
 * (0: only the SIZE_MAX bound). *pp and *capp change only on success, so a
 * failed growth leaves the array whole (and still to be freed).
 *   if ((rc = ZU_GROW(&v, &cap, n + 1, ZU_MAX_X)) != ZUPD_OK) goto out;
 * Returns ZUPD_OK, ZUPD_E_TOOBIG (need > max) or ZUPD_E_NOMEM. */
#define ZU_GROW(pp, capp, need, max) zu_grow_((pp), (capp), (need), sizeof(**(pp)), (max))
ZU_NODISCARD int zu_grow_(void *vp, size_t *cap, size_t need, size_t elem, size_t max);

/* The error idiom of lib/ and the mirror: write a one-line reason into
 * err[0..cap) (err NULL or cap 0: nothing) and return rc, so a failure is
 * one statement: return zu_fail(err, cap, ZUPD_E_FORMAT, "'%s': ...", x);
 * zu_say() only writes the reason, for a failure that has cleanup to do
 * before it returns (or to clear err). */
int zu_fail(char *err, size_t cap, int rc, const char *fmt, ...) ZU_PRINTF(4, 5);
void zu_say(char *err, size_t cap, const char *fmt, ...) ZU_PRINTF(3, 4);

/* The lower-case hex SHA-256 of p[0..len) into hex (65 bytes). */
void zu_sha256_hex(const void *p, size_t len, char hex[65]);

/* Overflow-checked arithmetic: return false on overflow. */
static inline bool
zu_add_ok(size_t a, size_t b, size_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}
static inline bool
zu_mul_ok(size_t a, size_t b, size_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

/* zupd_store_open() with flags: ZU_STORE_NO_RECOVER leaves what a crash (or
 * a running update) left in the store alone. The removal of leftovers is
 * only safe under the state directory's exclusive lock (updater/lock.c), so
 * commands that hold the shared lock open stores with it. */
#define ZU_STORE_NO_RECOVER 1u
struct zupd_store;
ZU_NODISCARD int zu_store_open(const char *state_dir, const char *component, unsigned flags,
                               struct zupd_store **out);

#endif
