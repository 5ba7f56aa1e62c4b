/* domain.c: the domain events' per-context state
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Makes ctx->domain (struct xlev__domain, see domain-private.h) on first
 * use, and frees it, with every generator left, when the context is
 * freed. The generators, the queue and delivery are in their own files.
 */
#include <stdlib.h>

#include "domain-private.h"

/*======================================================================*/
/* Per-context state */

/* Returns the state, making it if needed, or NULL (out of memory). Takes
 * the lock. */
struct xlev__domain *
xlev__domain_get(xlev_ctx *ctx)
{
    struct xlev__domain *ds;

    XLEV__LOCK(ctx);
    ds = ctx->domain;
    if (ds)
        goto out;
    ds = xlev__calloc(1, sizeof(*ds));
    if (!ds)
        goto out;
    if (pthread_mutex_init(&ds->reg_lock, NULL) != 0) {
        free(ds);
        ds = NULL;
        goto out;
    }
    if (pthread_mutex_init(&ds->intro_lock, NULL) != 0) {
        pthread_mutex_destroy(&ds->reg_lock);
        free(ds);
        ds = NULL;
        goto out;
    }
    ds->ctx = ctx;
    xlev_ev_xswatch_init(&ds->release_watch);
    xlev_ev_xswatch_init(&ds->introduce_watch);
    xlev_ev_time_init(&ds->rescan);
    ctx->domain = ds;
out:
    XLEV__UNLOCK(ctx);
    return ds;
}

/*======================================================================*/
/* Freeing the context */

void
xlev__domain_ctx_free(xlev_ctx *ctx)
{
    struct xlev__domain *ds;

    XLEV__LOCK(ctx);
    ds = ctx->domain;
    if (!ds || xlev__inflight_self_locked(ctx)) {
        XLEV__UNLOCK(ctx);
        return;
    }
    XLEV__UNLOCK(ctx);

    /* Through the public API: each waits for its callback if it runs in
     * another thread. */
    xlev_ev_xswatch_deregister(ctx, &ds->release_watch);
    xlev_ev_xswatch_deregister(ctx, &ds->introduce_watch);
    xlev_ev_time_deregister(ctx, &ds->rescan);
    xlev__disk_eject_deregister_all(ds);

    XLEV__LOCK(ctx);
    xlev__domain_delivering_wait_locked(ds, NULL);
    ctx->domain = NULL;
    XLEV__UNLOCK(ctx);

    xlev__domain_queue_free_all(ds);
    xlev__domain_death_free_all(ds);
    xlev__disk_eject_free_all(ds);
    xlev__domain_introduce_free_all(ds);
    pthread_mutex_destroy(&ds->intro_lock);
    pthread_mutex_destroy(&ds->reg_lock);
    free(ds);
}
