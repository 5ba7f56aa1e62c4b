/* log.c: the core's logging (its error strings are in strerror.c)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The core never writes to stderr: every message goes to the context's
 * logger, else to the process-wide default logger, else nowhere. A logger
 * is called with ctx->lock held (or before the context is shared), so it
 * must not call into the context.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "loop-private.h"

/*
 * The process-wide default logger, for contexts without their own and for
 * messages from before a context exists (xlev_ctx_new). Guarded by
 * default_log_lock, which is taken after a ctx->lock, never before one.
 */
static pthread_mutex_t default_log_lock = PTHREAD_MUTEX_INITIALIZER;
static xlev_log_fn *default_log_fn;
static void *default_log_user;

/* The longest message passed to a logger, terminator included; longer
 * ones are cut. */
#define LOG_MSG_MAX 1024

void
xlev_set_default_logger(xlev_log_fn *fn, void *user)
{
    pthread_mutex_lock(&default_log_lock);
    default_log_fn = fn;
    default_log_user = fn ? user : NULL;
    pthread_mutex_unlock(&default_log_lock);
}

void
xlev__log(xlev_ctx *ctx, int level, const char *fmt, ...)
{
    char buf[LOG_MSG_MAX];
    int saved_errno = errno;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (ctx && ctx->log_fn) {
        ctx->log_fn(ctx->log_user, level, buf);
    } else {
        pthread_mutex_lock(&default_log_lock);
        if (default_log_fn)
            default_log_fn(default_log_user, level, buf);
        pthread_mutex_unlock(&default_log_lock);
    }
    errno = saved_errno;
}

void
xlev_ctx_set_logger(xlev_ctx *ctx, xlev_log_fn *fn, void *user)
{
    if (!ctx)
        return;
    XLEV__LOCK(ctx);
    ctx->log_fn = fn;
    ctx->log_user = fn ? user : NULL;
    XLEV__UNLOCK(ctx);
}
