/* nexus.c: calling the application's osevent hooks, and the hook nexi
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "Hook nexi" in loop-private.h. Everything here runs with
 * ctx->lock held.
 */
#include <stdlib.h>

#include "loop-private.h"

static void
hook_enter(xlev_ctx *ctx)
{
    ctx->in_hook++;
    __atomic_store_n(&ctx->hook_thread, pthread_self(), __ATOMIC_RELAXED);
    __atomic_store_n(&ctx->hook_thread_set, 1, __ATOMIC_RELEASE);
}

static void
hook_leave(xlev_ctx *ctx)
{
    __atomic_store_n(&ctx->hook_thread_set, 0, __ATOMIC_RELEASE);
    ctx->in_hook--;
}

/* Without the lock: only "is it me?" matters, and only this thread can
 * make that true or false. */
int
xlev__in_hook_self(xlev_ctx *ctx)
{
    return __atomic_load_n(&ctx->hook_thread_set, __ATOMIC_ACQUIRE) &&
           pthread_equal(__atomic_load_n(&ctx->hook_thread, __ATOMIC_RELAXED),
                         pthread_self());
}

/*
 * Hook calls. Each returns exactly what the hook returned (the seed's
 * OSEVENT_HOOK macro returned its in-hook counter instead). ctx->in_hook
 * lets occurred_* notice being called from inside a hook.
 */

int
xlev__hook_fd_register(xlev_ctx *ctx, int fd, void **for_app_out,
                       short events, void *for_xlev)
{
    int rc;

    *for_app_out = NULL;
    if (!ctx->hooks)
        return 0;
    hook_enter(ctx);
    rc = ctx->hooks->fd_register(ctx->hooks_user, fd, for_app_out, events,
                                 for_xlev);
    hook_leave(ctx);
    return rc;
}

int
xlev__hook_fd_modify(xlev_ctx *ctx, int fd, void **for_app_io, short events)
{
    int rc;

    if (!ctx->hooks)
        return 0;
    hook_enter(ctx);
    rc = ctx->hooks->fd_modify(ctx->hooks_user, fd, for_app_io, events);
    hook_leave(ctx);
    return rc;
}

void
xlev__hook_fd_deregister(xlev_ctx *ctx, int fd, void *for_app)
{
    if (!ctx->hooks)
        return;
    hook_enter(ctx);
    ctx->hooks->fd_deregister(ctx->hooks_user, fd, for_app);
    hook_leave(ctx);
}

int
xlev__hook_timeout_register(xlev_ctx *ctx, void **for_app_out,
                            struct timeval abs, void *for_xlev)
{
    int rc;

    *for_app_out = NULL;
    if (!ctx->hooks)
        return 0;
    hook_enter(ctx);
    rc = ctx->hooks->timeout_register(ctx->hooks_user, for_app_out, abs,
                                      for_xlev);
    hook_leave(ctx);
    return rc;
}

int
xlev__hook_timeout_modify(xlev_ctx *ctx, void **for_app_io,
                          struct timeval abs)
{
    int rc;

    if (!ctx->hooks)
        return 0;
    hook_enter(ctx);
    rc = ctx->hooks->timeout_modify(ctx->hooks_user, for_app_io, abs);
    hook_leave(ctx);
    return rc;
}

void
xlev__hook_timeout_deregister(xlev_ctx *ctx, void *for_app)
{
    if (!ctx->hooks)
        return;
    hook_enter(ctx);
    ctx->hooks->timeout_deregister(ctx->hooks_user, for_app);
    hook_leave(ctx);
}

/*
 * Nexi
 */

struct xlev__nexus *
xlev__nexus_get_locked(xlev_ctx *ctx, enum xlev__nexus_kind kind)
{
    struct xlev__nexus *nexus = ctx->nexus_free;

    if (nexus) {
        ctx->nexus_free = nexus->next_free;
    } else {
        nexus = xlev__calloc(1, sizeof(*nexus));
        if (!nexus)
            return NULL;
        nexus->next_all = ctx->nexus_all;
        ctx->nexus_all = nexus;
    }
    nexus->next_free = NULL;
    nexus->kind = kind;
    nexus->fdent = NULL;
    nexus->time = NULL;
    return nexus;
}

void
xlev__nexus_put_locked(xlev_ctx *ctx, struct xlev__nexus *nexus)
{
    if (!nexus)
        return;
    nexus->kind = XLEV__NEXUS_FREE;
    nexus->fdent = NULL;
    nexus->time = NULL;
    nexus->next_free = ctx->nexus_free;
    ctx->nexus_free = nexus;
}

void
xlev__nexus_free_all(xlev_ctx *ctx)
{
    struct xlev__nexus *nexus, *next;

    for (nexus = ctx->nexus_all; nexus; nexus = next) {
        next = nexus->next_all;
        free(nexus);
    }
    ctx->nexus_all = NULL;
    ctx->nexus_free = NULL;
}
