/* wake.c: the wake-up fd of poll style
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "Waking a poll" in loop-private.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop-private.h"

int
xlev__wake_init(xlev_ctx *ctx)
{
    ctx->wake_index = -1;
    ctx->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ctx->wake_fd < 0) {
        int e = errno;

        xlev__log(NULL, LOG_DEBUG, "cannot make the wake-up eventfd: %s",
                  strerror(e));
        return e == EMFILE || e == ENFILE ? XLEV_ERROR_MFILE
                                          : XLEV_ERROR_NOMEM;
    }
    return 0;
}

void
xlev__wake_free(xlev_ctx *ctx)
{
    if (ctx->wake_fd >= 0)
        close(ctx->wake_fd);
    ctx->wake_fd = -1;
}

void
xlev__wake_locked(xlev_ctx *ctx)
{
    uint64_t one = 1;
    ssize_t r;

    if (!ctx->wake_polled || ctx->wake_pending)
        return;
    ctx->wake_pending = 1;
    if (ctx->wake_fn) {
        ctx->wake_fn(ctx->wake_user);
        return;
    }
    do
        r = write(ctx->wake_fd, &one, sizeof(one));
    while (r < 0 && errno == EINTR);
    /* EAGAIN: the counter is full, so the fd is readable anyway. */
}

void
xlev_ctx_set_wake_callback(xlev_ctx *ctx, xlev_wake_fn *wake, void *user)
{
    if (!ctx)
        return;
    XLEV__LOCK(ctx);
    ctx->wake_fn = wake;
    ctx->wake_user = wake ? user : NULL;
    /* A wake-up pending in the old way is of no use to the new one. */
    if (ctx->wake_fd >= 0)
        xlev__wake_drain_locked(ctx);
    ctx->wake_pending = 0;
    XLEV__UNLOCK(ctx);
}

void
xlev__wake_drain_locked(xlev_ctx *ctx)
{
    uint64_t v;
    ssize_t r;

    do
        r = read(ctx->wake_fd, &v, sizeof(v));
    while (r < 0 && errno == EINTR);
    ctx->wake_pending = 0;
}
