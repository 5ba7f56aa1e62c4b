/* ctx.c: making and freeing contexts
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The loop's part of a context: its lock, and its teardown. The public
 * constructor, which also connects to xenstored, is the xenstore room's
 * (../xs/connect.c); the rooms above free their state through the teardown
 * hooks they register (see "Teardown of the rooms above" in
 * loop-private.h).
 */
#include <pthread.h>
#include <stdlib.h>

#include "loop-private.h"

int
xlev__ctx_alloc(xlev_ctx **ctx_out)
{
    xlev_ctx *ctx;
    int rc;

    *ctx_out = NULL;
    ctx = xlev__calloc(1, sizeof(*ctx));
    if (!ctx)
        return XLEV_ERROR_NOMEM;
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        free(ctx);
        return XLEV_ERROR_FAIL;
    }
    if (pthread_cond_init(&ctx->cond, NULL) != 0) {
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        return XLEV_ERROR_FAIL;
    }
    rc = xlev__wake_init(ctx);
    if (rc) {
        pthread_cond_destroy(&ctx->cond);
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        return rc;
    }
    xlev_ev_time_init(&ctx->resume);
    ctx->deferred.resume_locked = xlev__osevent_resume_locked;
    *ctx_out = ctx;
    return 0;
}

void
xlev__ctx_add_teardown_locked(xlev_ctx *ctx, struct xlev__teardown *td,
                              void (*fn)(xlev_ctx *ctx,
                                         struct xlev__teardown *td))
{
    td->fn = fn;
    td->next = ctx->teardowns;
    ctx->teardowns = td;
}

/*
 * xlev_ctx_free: refused from inside one of this context's callbacks (the
 * thread running the callback would come back to freed memory). Otherwise
 * the rooms above go first, through their teardown hooks, lock dropped
 * (they deregister what they registered, waiting for their callbacks);
 * then, lock held, every registration left goes Idle (the hooks are told)
 * and the queue is discarded.
 */
void
xlev_ctx_free(xlev_ctx *ctx)
{
    struct xlev__teardown *td;

    if (!ctx)
        return;

    XLEV__LOCK(ctx);
    if (xlev__deferred_in_callback_locked(ctx)) {
        xlev__log(ctx, LOG_ERR,
                  "xlev_ctx_free called from inside a callback of the same "
                  "context: refused (the context is not freed)");
        XLEV__UNLOCK(ctx);
        return;
    }
    while ((td = ctx->teardowns)) {
        ctx->teardowns = td->next;
        XLEV__UNLOCK(ctx);
        td->fn(ctx, td);
        XLEV__LOCK(ctx);
    }

    /* Callbacks running in other threads are the caller's mistake, but do
     * not free the memory under them. */
    xlev__deferred_wait_locked(ctx, NULL);

    xlev__fd_free_all_locked(ctx);
    xlev__time_free_all_locked(ctx);
    xlev__deferred_free_all_locked(ctx);
    free(ctx->polled);
    ctx->polled = NULL;
    free(ctx->fdtab);
    free(ctx->theap);
    xlev__nexus_free_all(ctx);
    XLEV__UNLOCK(ctx);

    xlev__wake_free(ctx);
    pthread_cond_destroy(&ctx->cond);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

int
xlev__test_lock_is_free(xlev_ctx *ctx)
{
    if (pthread_mutex_trylock(&ctx->lock) != 0)
        return 0;
    pthread_mutex_unlock(&ctx->lock);
    return 1;
}
