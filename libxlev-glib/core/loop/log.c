/* log.c: the core's logging, and its error strings
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

const char *
xlev_strerror(int rc)
{
    if (rc > 0)
        return "failure reported by an osevent hook";

    switch (rc) {
    case XLEV_SUCCESS:
        return "success";
    case XLEV_ERROR_FAIL:
        return "operation failed";
    case XLEV_ERROR_NOMEM:
        return "out of memory";
    case XLEV_ERROR_INVAL:
        return "invalid argument";
    case XLEV_ERROR_NOT_READY:
        return "not ready";
    case XLEV_ERROR_OSEVENT_REG_FAIL:
        return "osevent hook registration failed";
    case XLEV_ERROR_BUFFERFULL:
        return "buffer too small";
    case XLEV_ERROR_NOENT:
        return "no such xenstore path";
    case XLEV_ERROR_PERM:
        return "xenstore permission denied";
    case XLEV_ERROR_XENSTORE:
        return "xenstore daemon unreachable or connection lost";
    case XLEV_ERROR_NO_HYPERVISOR:
        return "Xen hypervisor not available";
    case XLEV_ERROR_BROKEN:
        return "context broken by an earlier disaster";
    case XLEV_ERROR_EXIST:
        return "already exists";
    case XLEV_ERROR_TOO_BIG:
        return "too long for xenstore, or too many watches or transactions";
    case XLEV_ERROR_NOSPC:
        return "the xenstore daemon's node or size quota is exhausted";
    case XLEV_ERROR_QUOTA:
        return "a xenstore quota is exceeded";
    case XLEV_ERROR_AGAIN:
        return "the transaction conflicted with another change; retry it";
    case XLEV_ERROR_BUSY:
        return "the xenstore daemon is busy";
    case XLEV_ERROR_ISDIR:
        return "the xenstore node has children";
    case XLEV_ERROR_READONLY:
        return "the xenstore connection is read-only";
    case XLEV_ERROR_MFILE:
        return "too many open files";
    case XLEV_ERROR_NOTEMPTY:
        return "the xenstore node is not empty";
    case XLEV_ERROR_NOSYS:
        return "the xenstore daemon does not support the operation";
    case XLEV_ERROR_PROTOCOL:
        return "the xenstore daemon broke the wire protocol";
    case XLEV_ERROR_TIMEDOUT:
        return "the xenstore daemon did not answer in time";
    case XLEV_ERROR_CANCELLED:
        return "cancelled";
    default:
        return "unknown error";
    }
}

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
