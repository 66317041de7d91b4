/* SPDX-License-Identifier: Apache-2.0 */
/* lib/log.c -- library context and the logging callback. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "zu/internal.h"

struct zupd_ctx *
zupd_ctx_new(void)
{
    struct zupd_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx != NULL)
        ctx->log_level = ZUPD_LOG_WARN;
    return ctx;
}

void
zupd_ctx_free(struct zupd_ctx *ctx)
{
    free(ctx);
}

void
zupd_ctx_set_log(struct zupd_ctx *ctx, zupd_log_fn fn, void *opaque, int level)
{
    zu_assert(ctx != NULL);
    ctx->log_fn = fn;
    ctx->log_opaque = opaque;
    ctx->log_level = level;
}

void
zu_log_emit(const struct zupd_ctx *ctx, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_opaque, level, msg);
}
