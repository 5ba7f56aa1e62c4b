/* clock.c: the context's clocks
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Every deadline is kept on the monotonic clock; the wall clock is only
 * read to convert a wall-clock deadline once (time.c). Tests may inject
 * both (xlev_ctx_set_clock).
 */
#include <time.h>

#include "loop-private.h"

#define USEC_PER_SEC 1000000

static void
default_clock_now(clockid_t id, struct timeval *now_out)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC and CLOCK_REALTIME cannot fail on Linux with a valid
     * pointer; keep a defined value anyway. */
    if (clock_gettime(id, &ts) != 0) {
        ts.tv_sec = 0;
        ts.tv_nsec = 0;
    }
    now_out->tv_sec = ts.tv_sec;
    now_out->tv_usec = ts.tv_nsec / 1000;
}

void
xlev__now_locked(xlev_ctx *ctx, struct timeval *now_out)
{
    if (ctx->clock && ctx->clock->monotonic)
        ctx->clock->monotonic(ctx->clock_user, now_out);
    else
        default_clock_now(CLOCK_MONOTONIC, now_out);
}

void
xlev__wall_now_locked(xlev_ctx *ctx, struct timeval *now_out)
{
    if (ctx->clock && ctx->clock->realtime)
        ctx->clock->realtime(ctx->clock_user, now_out);
    else
        default_clock_now(CLOCK_REALTIME, now_out);
}

int64_t
xlev__real_mono_us(void)
{
    struct timeval now;

    default_clock_now(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * USEC_PER_SEC + now.tv_usec;
}

void
xlev_ctx_set_clock(xlev_ctx *ctx, const xlev_clock *clock, void *user)
{
    if (!ctx)
        return;
    XLEV__LOCK(ctx);
    ctx->clock = clock;
    ctx->clock_user = clock ? user : NULL;
    XLEV__UNLOCK(ctx);
}

void
xlev_osevent_now(xlev_ctx *ctx, struct timeval *now_out)
{
    if (!now_out)
        return;
    if (!ctx) {
        default_clock_now(CLOCK_MONOTONIC, now_out);
        return;
    }
    XLEV__LOCK(ctx);
    xlev__now_locked(ctx, now_out);
    XLEV__UNLOCK(ctx);
}
