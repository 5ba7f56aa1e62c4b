/* deferred.c: the deferral mechanism, and disasters as its records
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See deferred-private.h for the record states, the in-flight protocol and
 * the lock discipline. Every function here expects ctx->lock held, except
 * where it says otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop-private.h"

/*======================================================================*/
/* The queue */

/* Takes d off; link is the field that points at it (&q->head or the
 * previous record's next). */
static void
queue_unlink_locked(xlev_ctx *ctx, struct xlev__deferred **link,
                    struct xlev__deferred *d)
{
    struct xlev__deferred_queue *q = &ctx->deferred;

    *link = d->next;
    if (!d->next)
        q->tailp = link;
    d->next = NULL;
}

static void
dispose_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    if (d->ops->dispose_locked)
        d->ops->dispose_locked(ctx, d);
    else
        free(d);
}

void
xlev__deferred_queue_locked(xlev_ctx *ctx, struct xlev__deferred *d,
                            const struct xlev__deferred_ops *ops,
                            const void *target)
{
    struct xlev__deferred_queue *q = &ctx->deferred;

    d->ops = ops;
    d->target = target;
    d->next = NULL;
    if (!q->tailp)
        q->tailp = &q->head;
    *q->tailp = d;
    q->tailp = &d->next;
    xlev__wake_locked(ctx);
}

int
xlev__deferred_cancel_locked(xlev_ctx *ctx, const void *target)
{
    struct xlev__deferred **link = &ctx->deferred.head, *d;
    int n = 0;

    while ((d = *link)) {
        if (d->target != target) {
            link = &d->next;
            continue;
        }
        queue_unlink_locked(ctx, link, d);
        dispose_locked(ctx, d);
        n++;
    }
    return n;
}

void
xlev__deferred_cancel_ops_locked(xlev_ctx *ctx,
                                 const struct xlev__deferred_ops *ops)
{
    struct xlev__deferred **link = &ctx->deferred.head, *d;

    while ((d = *link)) {
        if (d->ops != ops) {
            link = &d->next;
            continue;
        }
        queue_unlink_locked(ctx, link, d);
        dispose_locked(ctx, d);
    }
}

void
xlev__deferred_free_all_locked(xlev_ctx *ctx)
{
    struct xlev__deferred *d;

    while ((d = ctx->deferred.head)) {
        queue_unlink_locked(ctx, &ctx->deferred.head, d);
        dispose_locked(ctx, d);
    }
}

int
xlev__test_npending(xlev_ctx *ctx)
{
    struct xlev__deferred *d;
    int n = 0;

    XLEV__LOCK(ctx);
    for (d = ctx->deferred.head; d; d = d->next)
        n++;
    XLEV__UNLOCK(ctx);
    return n;
}

/*======================================================================*/
/* Callbacks in flight */

/* target NULL: any target. */
static int
inflight_other_thread(xlev_ctx *ctx, const void *target)
{
    struct xlev__inflight *f;
    pthread_t self = pthread_self();

    for (f = ctx->deferred.inflight; f; f = f->next)
        if ((!target || f->target == target) && !pthread_equal(f->thread, self))
            return 1;
    return 0;
}

void
xlev__deferred_wait_locked(xlev_ctx *ctx, const void *target)
{
    while (inflight_other_thread(ctx, target))
        pthread_cond_wait(&ctx->cond, &ctx->lock);
}

int
xlev__deferred_in_callback_locked(xlev_ctx *ctx)
{
    struct xlev__inflight *f;
    pthread_t self = pthread_self();

    for (f = ctx->deferred.inflight; f; f = f->next)
        if (pthread_equal(f->thread, self))
            return 1;
    return 0;
}

static int
inflight_any(xlev_ctx *ctx, const void *target)
{
    struct xlev__inflight *f;

    for (f = ctx->deferred.inflight; f; f = f->next)
        if (f->target == target)
            return 1;
    return 0;
}

/* The link to the first record that may run now, or NULL: the callbacks
 * of one target never run concurrently; the thread running one picks up
 * the next. */
static struct xlev__deferred **
next_runnable_locked(xlev_ctx *ctx)
{
    struct xlev__deferred **link;

    for (link = &ctx->deferred.head; *link; link = &(*link)->next)
        if (!(*link)->target || !ctx->deferred.inflight
            || !inflight_any(ctx, (*link)->target))
            return link;
    return NULL;
}

/* 1 if a run that has called n callbacks since start_us must stop, the
 * loop having promised to come back; 0 to go on. Once the loop cannot
 * promise, *bounded is cleared and the run goes on to the end. */
static int
batch_spent_locked(xlev_ctx *ctx, int n, int64_t start_us, int *bounded)
{
    if (!*bounded || n == 0)
        return 0;
    if (n < XLEV__DEFERRED_BATCH
        && xlev__real_mono_us() - start_us < XLEV__DEFERRED_BUDGET_US)
        return 0;
    if (ctx->deferred.resume_locked && ctx->deferred.resume_locked(ctx) == 0)
        return 1;
    *bounded = 0;
    return 0;
}

void
xlev__deferred_run_and_unlock(xlev_ctx *ctx)
{
    struct xlev__deferred **link;
    int64_t start_us = xlev__real_mono_us();
    int n = 0, bounded = ctx->deferred.resume_locked != NULL;

    while ((link = next_runnable_locked(ctx))) {
        struct xlev__deferred *d = *link;
        struct xlev__inflight inflight, **fp;

        if (batch_spent_locked(ctx, n, start_us, &bounded))
            break;
        queue_unlink_locked(ctx, link, d);
        if (d->ops->prepare_locked && !d->ops->prepare_locked(ctx, d))
            continue;

        inflight.target = d->target;
        inflight.thread = pthread_self();
        inflight.next = ctx->deferred.inflight;
        ctx->deferred.inflight = &inflight;
        XLEV__UNLOCK(ctx);

        d->ops->run(ctx, d); /* d is no longer ours */
        n++;

        XLEV__LOCK(ctx);
        /* By address: the target may be freed by now. */
        for (fp = &ctx->deferred.inflight; *fp; fp = &(*fp)->next) {
            if (*fp == &inflight) {
                *fp = inflight.next;
                break;
            }
        }
        pthread_cond_broadcast(&ctx->cond);
    }
    XLEV__UNLOCK(ctx);
}

/*======================================================================*/
/* Disasters */

/* The longest disaster message, terminator included; longer ones are cut. */
#define DISASTER_MSG_MAX 512

struct disaster_rec {
    struct xlev__deferred d;
    xlev_disaster_kind kind;
    int errnoval;
    xlev_disaster_fn *fn; /* prepare_locked: the hook at report time */
    void *user;
    char msg[]; /* NUL-terminated */
};

static int
disaster_prepare_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct disaster_rec *r = XLEV__CONTAINER_OF(d, struct disaster_rec, d);

    r->fn = ctx->disaster_fn;
    r->user = ctx->disaster_user;
    return 1;
}

static void
disaster_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct disaster_rec *r = XLEV__CONTAINER_OF(d, struct disaster_rec, d);

    /* Without a hook the LOG_CRIT message at the time it was found is all
     * there is: the core never writes to stderr. */
    if (r->fn)
        r->fn(r->user, r->kind, r->msg, r->errnoval);
    free(r);
}

static const struct xlev__deferred_ops disaster_ops = {
    .prepare_locked = disaster_prepare_locked,
    .run = disaster_run,
};

/* The preallocated record for a disaster that could not get its own. Its
 * report is made of constants and the hook read under the lock, so it may
 * be queued again while an earlier report of it is still running. */
#define OOM_DISASTER_MSG                                                       \
    "out of memory: a disaster could not be recorded (see the log)"

static int
oom_disaster_prepare_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    ctx->oom_disaster.queued = 0;
    return 1;
}

static void
oom_disaster_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    xlev_disaster_fn *fn;
    void *user;

    XLEV__LOCK(ctx);
    fn = ctx->disaster_fn;
    user = ctx->disaster_user;
    XLEV__UNLOCK(ctx);
    if (fn)
        fn(user, XLEV_DISASTER_NOMEM, OOM_DISASTER_MSG, ENOMEM);
}

static void
oom_disaster_dispose_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    ctx->oom_disaster.queued = 0;
}

static const struct xlev__deferred_ops oom_disaster_ops = {
    .prepare_locked = oom_disaster_prepare_locked,
    .run = oom_disaster_run,
    .dispose_locked = oom_disaster_dispose_locked,
};

void
xlev__disaster_locked(xlev_ctx *ctx, xlev_disaster_kind kind, int errnoval,
                      const char *fmt, ...)
{
    char buf[DISASTER_MSG_MAX];
    struct disaster_rec *r;
    size_t len;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    xlev__log(ctx, LOG_CRIT, "DISASTER in event loop: %s (errno %d: %s)", buf,
              errnoval, errnoval ? strerror(errnoval) : "none");

    len = strlen(buf) + 1;
    r = xlev__malloc(sizeof(*r) + len);
    if (!r) {
        if (!ctx->oom_disaster.queued) {
            ctx->oom_disaster.queued = 1;
            xlev__deferred_queue_locked(ctx, &ctx->oom_disaster.d,
                                        &oom_disaster_ops, NULL);
        }
        return;
    }
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->errnoval = errnoval;
    memcpy(r->msg, buf, len);
    xlev__deferred_queue_locked(ctx, &r->d, &disaster_ops, NULL);
}

/* Any thread; takes the lock. */
void
xlev_ctx_set_disaster_hook(xlev_ctx *ctx, xlev_disaster_fn *fn, void *user)
{
    if (!ctx)
        return;
    XLEV__LOCK(ctx);
    ctx->disaster_fn = fn;
    ctx->disaster_user = fn ? user : NULL;
    XLEV__UNLOCK(ctx);
}
