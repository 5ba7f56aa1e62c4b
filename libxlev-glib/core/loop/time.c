/* time.c: timeouts, kept in a binary min-heap on the monotonic clock
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "Timeouts" in loop-private.h for the states. Insert, remove and
 * modify are O(log n) (the seed kept a sorted list: O(n) inserts).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "loop-private.h"

#define USEC_PER_SEC 1000000
#define USEC_PER_MSEC 1000
#define MSEC_PER_SEC 1000
#define THEAP_MIN_SIZE 16

/* The latest second a struct timeval holds (time_t is a long on every
 * Linux ABI, x32's included). */
_Static_assert(sizeof(time_t) == sizeof(long), "time_t is a long");
#define TIME_T_MAX ((time_t)LONG_MAX)

static const struct timeval time_infinite = {XLEV__TIME_INFINITE_SEC, 0};

static void
time_reg_init(struct xlev__time_reg *ev)
{
    ev->func = NULL;
    ev->infinite = 0;
    ev->heap_index = -1;
    ev->firing = 0;
    ev->abs.tv_sec = 0;
    ev->abs.tv_usec = 0;
    ev->seq = 0;
    ev->nexus = NULL;
    ev->for_app_reg = NULL;
}

static int
time_reg_active(const struct xlev__time_reg *ev)
{
    return ev->func != NULL;
}

void
xlev_ev_time_init(xlev_ev_time *pub)
{
    if (pub)
        time_reg_init(XLEV__TIME(pub));
}

int
xlev_ev_time_isregistered(const xlev_ev_time *pub)
{
    return pub && time_reg_active(XLEV__TIME_C(pub));
}

static int
timeval_valid(struct timeval tv)
{
    return tv.tv_usec >= 0 && tv.tv_usec < USEC_PER_SEC;
}

/* a + ms (ms >= 0), saturating at the latest representable time instead
 * of overflowing (only an injected clock comes near it). */
static struct timeval
timeval_add_ms(struct timeval a, int ms)
{
    struct timeval r;

    if (ms < 0)
        ms = 0; /* "no deadline": the caller ignores the value */
    if (__builtin_add_overflow(a.tv_sec, (time_t)(ms / MSEC_PER_SEC),
                               &r.tv_sec))
        goto saturate;
    r.tv_usec = a.tv_usec + (ms % MSEC_PER_SEC) * USEC_PER_MSEC;
    if (r.tv_usec >= USEC_PER_SEC) {
        if (__builtin_add_overflow(r.tv_sec, (time_t)1, &r.tv_sec))
            goto saturate;
        r.tv_usec -= USEC_PER_SEC;
    }
    return r;

saturate:
    r.tv_sec = TIME_T_MAX;
    r.tv_usec = USEC_PER_SEC - 1;
    return r;
}

/*
 * The heap. Lock held throughout.
 */

static int
heap_less(const struct xlev__time_reg *a, const struct xlev__time_reg *b)
{
    if (a->abs.tv_sec != b->abs.tv_sec)
        return a->abs.tv_sec < b->abs.tv_sec;
    if (a->abs.tv_usec != b->abs.tv_usec)
        return a->abs.tv_usec < b->abs.tv_usec;
    return a->seq < b->seq;
}

static void
heap_set(xlev_ctx *ctx, int i, struct xlev__time_reg *ev)
{
    ctx->theap[i] = ev;
    ev->heap_index = i;
}

static void
heap_sift_up(xlev_ctx *ctx, int i)
{
    struct xlev__time_reg *ev = ctx->theap[i];

    while (i > 0) {
        int parent = (i - 1) / 2;

        if (!heap_less(ev, ctx->theap[parent]))
            break;
        heap_set(ctx, i, ctx->theap[parent]);
        i = parent;
    }
    heap_set(ctx, i, ev);
}

static void
heap_sift_down(xlev_ctx *ctx, int i)
{
    struct xlev__time_reg *ev = ctx->theap[i];
    int n = ctx->theap_used;

    for (;;) {
        int child = 2 * i + 1;

        if (child >= n)
            break;
        if (child + 1 < n && heap_less(ctx->theap[child + 1], ctx->theap[child]))
            child++;
        if (!heap_less(ctx->theap[child], ev))
            break;
        heap_set(ctx, i, ctx->theap[child]);
        i = child;
    }
    heap_set(ctx, i, ev);
}

static int
heap_reserve(xlev_ctx *ctx)
{
    struct xlev__time_reg **newheap;
    int newsize;

    if (ctx->theap_used < ctx->theap_allocd)
        return 0;
    if (ctx->theap_allocd > INT_MAX / 2)
        return XLEV_ERROR_NOMEM;
    newsize = ctx->theap_allocd ? ctx->theap_allocd * 2 : THEAP_MIN_SIZE;
    newheap = xlev__realloc_array(ctx->theap, newsize, sizeof(*newheap));
    if (!newheap)
        return XLEV_ERROR_NOMEM;
    ctx->theap = newheap;
    ctx->theap_allocd = newsize;
    return 0;
}

/* heap_reserve() must have succeeded. */
static void
heap_insert(xlev_ctx *ctx, struct xlev__time_reg *ev)
{
    ev->seq = ctx->time_seq++;
    heap_set(ctx, ctx->theap_used++, ev);
    heap_sift_up(ctx, ev->heap_index);
    if (ev->heap_index == 0)
        xlev__wake_locked(ctx);
}

static void
heap_remove(xlev_ctx *ctx, struct xlev__time_reg *ev)
{
    int i = ev->heap_index;
    struct xlev__time_reg *last;

    if (i < 0)
        return;
    ev->heap_index = -1;
    last = ctx->theap[--ctx->theap_used];
    if (last == ev)
        return;
    heap_set(ctx, i, last);
    if (i > 0 && heap_less(last, ctx->theap[(i - 1) / 2]))
        heap_sift_up(ctx, i);
    else
        heap_sift_down(ctx, i);
}

/* After ev->abs changed. A modified timeout goes behind others due at the
 * same instant, as a new registration would. */
static void
heap_update(xlev_ctx *ctx, struct xlev__time_reg *ev)
{
    ev->seq = ctx->time_seq++;
    heap_sift_up(ctx, ev->heap_index);
    heap_sift_down(ctx, ev->heap_index);
    if (ev->heap_index == 0)
        xlev__wake_locked(ctx);
}

const struct timeval *
xlev__time_next_locked(xlev_ctx *ctx)
{
    if (!ctx->theap_used || ctx->theap[0]->infinite)
        return NULL;
    return &ctx->theap[0]->abs;
}

/*
 * Hooks side. Only waiting timeouts with a deadline are registered with the
 * hooks.
 */

int
xlev__time_hook_register_locked(xlev_ctx *ctx, struct xlev__time_reg *ev)
{
    struct xlev__nexus *nexus;
    void *for_app = NULL;
    int rc;

    if (!ctx->hooks || ev->infinite || ev->nexus)
        return 0;
    nexus = xlev__nexus_get_locked(ctx, XLEV__NEXUS_TIME);
    if (!nexus)
        return XLEV_ERROR_NOMEM;
    rc = xlev__hook_timeout_register(ctx, &for_app, ev->abs, nexus);
    if (rc) {
        xlev__nexus_put_locked(ctx, nexus);
        return rc;
    }
    nexus->time = ev;
    ev->nexus = nexus;
    ev->for_app_reg = for_app;
    return 0;
}

/* The application's registration is gone (it reported the timeout): forget
 * it without calling timeout_deregister. */
static void
time_hook_forget_locked(xlev_ctx *ctx, struct xlev__time_reg *ev)
{
    xlev__nexus_put_locked(ctx, ev->nexus);
    ev->nexus = NULL;
    ev->for_app_reg = NULL;
}

void
xlev__time_hook_deregister_locked(xlev_ctx *ctx, struct xlev__time_reg *ev)
{
    if (!ev->nexus)
        return;
    xlev__hook_timeout_deregister(ctx, ev->for_app_reg);
    time_hook_forget_locked(ctx, ev);
}

/*
 * Registration
 */

static int
time_register_locked(xlev_ctx *ctx, struct xlev__time_reg *ev,
                     xlev_ev_time_callback *func, int infinite,
                     struct timeval abs)
{
    int rc;

    time_reg_init(ev);
    rc = heap_reserve(ctx);
    if (rc)
        return rc;
    ev->infinite = infinite;
    ev->abs = infinite ? time_infinite : abs;
    rc = xlev__time_hook_register_locked(ctx, ev);
    if (rc) {
        time_reg_init(ev);
        return rc;
    }
    heap_insert(ctx, ev);
    ev->func = func;
    return 0;
}

int
xlev_ev_time_register_abs(xlev_ctx *ctx, xlev_ev_time *pub,
                          xlev_ev_time_callback *func, struct timeval abs)
{
    struct xlev__time_reg *ev = XLEV__TIME(pub);

    int rc;

    if (!ctx || !ev || !func || !timeval_valid(abs))
        return XLEV_ERROR_INVAL;
    XLEV__LOCK(ctx);
    rc = time_register_locked(ctx, ev, func, 0, abs);
    XLEV__UNLOCK(ctx);
    return rc;
}

int
xlev__time_register_rel_locked(xlev_ctx *ctx, xlev_ev_time *pub,
                               xlev_ev_time_callback *func, int milliseconds)
{
    struct xlev__time_reg *ev = XLEV__TIME(pub);

    struct timeval now;

    xlev__now_locked(ctx, &now);
    return time_register_locked(ctx, ev, func, milliseconds < 0,
                                timeval_add_ms(now, milliseconds));
}

int
xlev_ev_time_register_rel(xlev_ctx *ctx, xlev_ev_time *pub,
                          xlev_ev_time_callback *func, int milliseconds)
{
    struct xlev__time_reg *ev = XLEV__TIME(pub);

    int rc;

    if (!ctx || !ev || !func)
        return XLEV_ERROR_INVAL;
    XLEV__LOCK(ctx);
    rc = xlev__time_register_rel_locked(ctx, pub, func, milliseconds);
    XLEV__UNLOCK(ctx);
    return rc; /* the seed returned 0 here whatever happened */
}

int
xlev_ev_time_register_wall(xlev_ctx *ctx, xlev_ev_time *pub,
                           xlev_ev_time_callback *func, struct timeval wall)
{
    struct xlev__time_reg *ev = XLEV__TIME(pub);

    struct timeval mono, real, abs;
    time_t delta_sec;
    long usec;
    int carry, rc;

    if (!ctx || !ev || !func || !timeval_valid(wall))
        return XLEV_ERROR_INVAL;
    XLEV__LOCK(ctx);
    /* The wall clock first: a pause between the two reads then makes the
     * deadline late by that gap, never early (a timeout never fires
     * before its time). */
    xlev__wall_now_locked(ctx, &real);
    xlev__now_locked(ctx, &mono);
    /* abs = mono + (wall - real), refused if it cannot be represented
     * (a deadline near the end of time_t, either way). */
    usec = mono.tv_usec + (wall.tv_usec - real.tv_usec); /* (-1 s, 2 s) */
    carry = usec < 0 ? -1 : usec >= USEC_PER_SEC ? 1 : 0;
    if (__builtin_sub_overflow(wall.tv_sec, real.tv_sec, &delta_sec)
        || __builtin_add_overflow(mono.tv_sec, delta_sec, &abs.tv_sec)
        || __builtin_add_overflow(abs.tv_sec, carry, &abs.tv_sec)) {
        xlev__log(ctx, LOG_DEBUG,
                  "xlev_ev_time_register_wall: deadline %lld s is out of "
                  "range of the monotonic clock",
                  (long long)wall.tv_sec);
        XLEV__UNLOCK(ctx);
        return XLEV_ERROR_INVAL;
    }
    abs.tv_usec = usec - carry * USEC_PER_SEC;
    rc = time_register_locked(ctx, ev, func, 0, abs);
    XLEV__UNLOCK(ctx);
    return rc;
}

/*
 * Modification. ev is Active: waiting (in the heap) or fired and queued.
 * The hooks are told first, so a failing hook changes nothing.
 */
static int
time_modify_locked(xlev_ctx *ctx, struct xlev__time_reg *ev, int infinite,
                   struct timeval abs)
{
    struct timeval newabs = infinite ? time_infinite : abs;
    int rc;

    if (ev->firing) {
        /* Fired but its callback has not run: cancel that, wait again. */
        struct timeval oldabs = ev->abs;
        int oldinf = ev->infinite;

        rc = heap_reserve(ctx);
        if (rc)
            return rc;
        ev->infinite = infinite;
        ev->abs = newabs;
        rc = xlev__time_hook_register_locked(ctx, ev);
        if (rc) {
            ev->abs = oldabs;
            ev->infinite = oldinf;
            return rc;
        }
        {
            xlev_ev_time_callback *func = ev->func;

            /* disposing of the record makes ev Idle: it stays Active */
            xlev__deferred_cancel_locked(ctx, ev);
            ev->func = func;
        }
        heap_insert(ctx, ev);
        return 0;
    }

    if (infinite) {
        xlev__time_hook_deregister_locked(ctx, ev);
    } else if (ev->nexus) {
        rc = xlev__hook_timeout_modify(ctx, &ev->for_app_reg, newabs);
        if (rc)
            return rc;
    } else if (ctx->hooks) {
        struct timeval oldabs = ev->abs;
        int oldinf = ev->infinite;

        ev->abs = newabs;
        ev->infinite = 0;
        rc = xlev__time_hook_register_locked(ctx, ev);
        if (rc) {
            ev->abs = oldabs;
            ev->infinite = oldinf;
            return rc;
        }
    }
    ev->infinite = infinite;
    ev->abs = newabs;
    heap_update(ctx, ev);
    return 0;
}

int
xlev_ev_time_modify_abs(xlev_ctx *ctx, xlev_ev_time *pub, struct timeval abs)
{
    struct xlev__time_reg *ev = XLEV__TIME(pub);

    int rc;

    if (!ctx || !ev || !timeval_valid(abs))
        return XLEV_ERROR_INVAL;
    XLEV__LOCK(ctx);
    if (!time_reg_active(ev))
        rc = XLEV_ERROR_INVAL;
    else
        rc = time_modify_locked(ctx, ev, 0, abs);
    XLEV__UNLOCK(ctx);
    return rc;
}

int
xlev_ev_time_modify_rel(xlev_ctx *ctx, xlev_ev_time *pub, int milliseconds)
{
    struct xlev__time_reg *ev = XLEV__TIME(pub);

    struct timeval now;
    int rc;

    if (!ctx || !ev)
        return XLEV_ERROR_INVAL;
    XLEV__LOCK(ctx);
    if (!time_reg_active(ev)) {
        rc = XLEV_ERROR_INVAL;
    } else {
        xlev__now_locked(ctx, &now);
        rc = time_modify_locked(ctx, ev, milliseconds < 0,
                                timeval_add_ms(now, milliseconds));
    }
    XLEV__UNLOCK(ctx);
    return rc; /* the seed returned 0 here whatever happened */
}

void
xlev__time_deregister_locked(xlev_ctx *ctx, xlev_ev_time *pub)
{
    struct xlev__time_reg *ev = XLEV__TIME(pub);

    if (!time_reg_active(ev))
        return;
    if (ev->firing) {
        xlev__deferred_cancel_locked(ctx, ev); /* makes it Idle */
    } else {
        xlev__time_hook_deregister_locked(ctx, ev);
        heap_remove(ctx, ev);
    }
    ev->func = NULL;
}

void
xlev_ev_time_deregister(xlev_ctx *ctx, xlev_ev_time *pub)
{
    struct xlev__time_reg *ev = XLEV__TIME(pub);

    if (!ctx || !ev)
        return;
    XLEV__LOCK(ctx);
    xlev__time_deregister_locked(ctx, pub);
    xlev__deferred_wait_locked(ctx, ev);
    XLEV__UNLOCK(ctx);
}

/*
 * Firing: the timeout leaves the heap and becomes one deferred record
 * (target: the registration), Active, fired, queued until it runs. It is
 * Idle just before its callback is called, which may register it again;
 * disposing of the record (deregister, modify, xlev_ctx_free) makes it
 * Idle too.
 */
struct time_rec {
    struct xlev__deferred d;
    struct xlev__time_reg *ev;
    struct timeval abs;
    xlev_ev_time_callback *func; /* prepare_locked */
};

static int
time_rec_prepare_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct time_rec *r = XLEV__CONTAINER_OF(d, struct time_rec, d);

    r->ev->firing = 0;
    r->func = r->ev->func;
    r->ev->func = NULL;
    return 1;
}

static void
time_rec_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct time_rec *r = XLEV__CONTAINER_OF(d, struct time_rec, d);

    r->func(ctx, XLEV__TIME_PUB(r->ev), &r->abs);
    free(r);
}

static void
time_rec_dispose_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct time_rec *r = XLEV__CONTAINER_OF(d, struct time_rec, d);

    r->ev->firing = 0;
    r->ev->func = NULL;
    free(r);
}

static const struct xlev__deferred_ops time_rec_ops = {
    .prepare_locked = time_rec_prepare_locked,
    .run = time_rec_run,
    .dispose_locked = time_rec_dispose_locked,
};

/* `hook_gone`: the application reported it (occurred_timeout), so its
 * registration no longer exists and timeout_deregister is not called. */
static int
time_fire_locked(xlev_ctx *ctx, struct xlev__time_reg *ev, int hook_gone)
{
    struct time_rec *r;

    r = xlev__calloc(1, sizeof(*r));
    if (!r) {
        xlev__disaster_locked(ctx, XLEV_DISASTER_NOMEM, ENOMEM,
                              "cannot queue a timeout's callback");
        return XLEV_ERROR_NOMEM;
    }
    if (hook_gone)
        time_hook_forget_locked(ctx, ev);
    else
        xlev__time_hook_deregister_locked(ctx, ev);
    heap_remove(ctx, ev);
    ev->firing = 1;
    r->ev = ev;
    r->abs = ev->abs;
    xlev__deferred_queue_locked(ctx, &r->d, &time_rec_ops, ev);
    return 0;
}

int
xlev__time_fire_locked(xlev_ctx *ctx, struct xlev__time_reg *ev)
{
    return time_fire_locked(ctx, ev, 1);
}

static int
timeval_le(const struct timeval *a, const struct timeval *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_usec <= b->tv_usec);
}

void
xlev__time_fire_due_locked(xlev_ctx *ctx, struct timeval now)
{
    while (ctx->theap_used) {
        struct xlev__time_reg *ev = ctx->theap[0];

        if (ev->infinite || !timeval_le(&ev->abs, &now))
            break;
        if (time_fire_locked(ctx, ev, 0))
            break;
    }
}

/* ctx_free: every waiting timeout goes Idle, the hooks are told. Fired
 * ones go Idle when the caller disposes of the queue. */
void
xlev__time_free_all_locked(xlev_ctx *ctx)
{
    while (ctx->theap_used) {
        struct xlev__time_reg *ev = ctx->theap[0];

        xlev__time_hook_deregister_locked(ctx, ev);
        heap_remove(ctx, ev);
        ev->func = NULL;
    }
}

int
xlev__test_time_heap_ok(xlev_ctx *ctx)
{
    int i, ok = 1;

    XLEV__LOCK(ctx);
    for (i = 0; i < ctx->theap_used; i++) {
        if (ctx->theap[i]->heap_index != i)
            ok = 0;
        if (i > 0 && heap_less(ctx->theap[i], ctx->theap[(i - 1) / 2]))
            ok = 0;
    }
    XLEV__UNLOCK(ctx);
    return ok;
}

int
xlev__test_time_is_infinite(const xlev_ev_time *pub)
{
    const struct xlev__time_reg *ev = XLEV__TIME_C(pub);

    return time_reg_active(ev) && ev->infinite;
}
