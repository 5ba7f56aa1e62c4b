/* osevent.c: beforepoll/afterpoll, hooks, occurred_*, deferred callbacks
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "Deferred callbacks" and "Locking" in xlev-event-private.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlev-event-private.h"

#define USEC_PER_SEC 1000000
#define USEC_PER_MSEC 1000

/*======================================================================*/
/* The pending queue and the in-flight list; lock held */

void
xlev__pending_append_locked(xlev_ctx *ctx, struct xlev__pending *p)
{
    p->next = NULL;
    p->prev = ctx->pending_tail;
    if (ctx->pending_tail)
        ctx->pending_tail->next = p;
    else
        ctx->pending_head = p;
    ctx->pending_tail = p;
}

void
xlev__pending_remove_locked(xlev_ctx *ctx, struct xlev__pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        ctx->pending_head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        ctx->pending_tail = p->prev;
    p->next = p->prev = NULL;
}

int
xlev__pending_cancel_locked(xlev_ctx *ctx, const void *ev)
{
    struct xlev__pending *p, *next;
    int n = 0;

    for (p = ctx->pending_head; p; p = next) {
        next = p->next;
        if (p->ev != ev)
            continue;
        xlev__pending_remove_locked(ctx, p);
        free(p);
        n++;
    }
    return n;
}

static int
inflight_other_thread(xlev_ctx *ctx, const void *ev)
{
    struct xlev__inflight *f;
    pthread_t self = pthread_self();

    for (f = ctx->inflight; f; f = f->next)
        if (f->ev == ev && !pthread_equal(f->thread, self))
            return 1;
    return 0;
}

void
xlev__inflight_wait_locked(xlev_ctx *ctx, const void *ev)
{
    while (inflight_other_thread(ctx, ev))
        pthread_cond_wait(&ctx->cond, &ctx->lock);
}

int
xlev__inflight_self_locked(xlev_ctx *ctx)
{
    struct xlev__inflight *f;
    pthread_t self = pthread_self();

    for (f = ctx->inflight; f; f = f->next)
        if (pthread_equal(f->thread, self))
            return 1;
    return 0;
}

static int
inflight_any(xlev_ctx *ctx, const void *ev)
{
    struct xlev__inflight *f;

    for (f = ctx->inflight; f; f = f->next)
        if (f->ev == ev)
            return 1;
    return 0;
}

/* The first record that may run now: callbacks of one registration never
 * run concurrently; the thread running one picks up the next. */
static struct xlev__pending *
pending_next_runnable(xlev_ctx *ctx)
{
    struct xlev__pending *p;

    for (p = ctx->pending_head; p; p = p->next)
        if (!p->ev || !ctx->inflight || !inflight_any(ctx, p->ev))
            return p;
    return NULL;
}

static void
report_disaster_unlocked(xlev_ctx *ctx, xlev_disaster_fn *fn, void *user,
                         const struct xlev__pending *p)
{
    if (fn) {
        fn(user, p->u.disaster.kind, p->u.disaster.msg,
           p->u.disaster.errnoval);
        return;
    }
    fprintf(stderr,
            "libxlev-glib: DISASTER in event loop (kind %d): %s (%s); no "
            "disaster hook is set, carrying on\n",
            (int)p->u.disaster.kind, p->u.disaster.msg,
            p->u.disaster.errnoval ? strerror(p->u.disaster.errnoval)
                                   : "no errno");
}

/*
 * Runs the queue; lock held on entry, dropped on return. Each record is
 * decided on again as it is popped, under the lock: the registration may
 * have changed since it was queued.
 */
void
xlev__run_pending_and_unlock(xlev_ctx *ctx)
{
    struct xlev__pending *p;

    while ((p = pending_next_runnable(ctx))) {
        struct xlev__inflight inflight;
        xlev_ev_fd_callback *fd_func = NULL;
        xlev_ev_time_callback *time_func = NULL;
        xlev_ev_xswatch_callback *xs_func = NULL;
        xlev_disaster_fn *disaster_fn = NULL;
        void *disaster_user = NULL;
        short fd_events = 0, fd_revents = 0;
        int fd = -1;

        xlev__pending_remove_locked(ctx, p);

        switch (p->kind) {
        case XLEV__PENDING_FD: {
            xlev_ev_fd *ev = p->ev;

            ev->npending--;
            if (!xlev_ev_fd_isregistered(ev))
                break;
            fd_revents = xlev__reg_revents(ev->events, p->u.fd.revents);
            if (!fd_revents)
                break; /* modified since: no longer interested */
            fd_func = ev->func;
            fd = ev->fd;
            fd_events = ev->events;
            break;
        }
        case XLEV__PENDING_TIME: {
            xlev_ev_time *ev = p->ev;

            /* Idle before the callback: it may register ev again. */
            ev->firing = 0;
            time_func = ev->func;
            ev->func = NULL;
            break;
        }
        case XLEV__PENDING_XSWATCH: {
            xlev_ev_xswatch *w = p->ev;

            w->npending--;
            if (w->slotnum != p->u.xs.slotnum ||
                w->counterval != p->u.xs.counterval)
                break;
            xs_func = w->callback;
            break;
        }
        case XLEV__PENDING_DISASTER:
            disaster_fn = ctx->disaster_fn;
            disaster_user = ctx->disaster_user;
            break;
        }

        if (!fd_func && !time_func && !xs_func &&
            p->kind != XLEV__PENDING_DISASTER) {
            free(p);
            continue;
        }

        inflight.ev = p->ev;
        inflight.thread = pthread_self();
        inflight.next = ctx->inflight;
        ctx->inflight = &inflight;
        XLEV__UNLOCK(ctx);

        switch (p->kind) {
        case XLEV__PENDING_FD:
            fd_func(ctx, p->ev, fd, fd_events, fd_revents);
            break;
        case XLEV__PENDING_TIME:
            time_func(ctx, p->ev, &p->u.time.abs);
            break;
        case XLEV__PENDING_XSWATCH:
            xs_func(ctx, p->ev, p->u.xs.wpath, p->u.xs.epath);
            break;
        case XLEV__PENDING_DISASTER:
            report_disaster_unlocked(ctx, disaster_fn, disaster_user, p);
            break;
        }
        free(p);

        XLEV__LOCK(ctx);
        {
            struct xlev__inflight **fp;

            /* Compare addresses only: p->ev may be freed by now. */
            for (fp = &ctx->inflight; *fp; fp = &(*fp)->next) {
                if (*fp == &inflight) {
                    *fp = inflight.next;
                    break;
                }
            }
        }
        pthread_cond_broadcast(&ctx->cond);
    }
    XLEV__UNLOCK(ctx);
}

int
xlev__test_npending(xlev_ctx *ctx)
{
    struct xlev__pending *p;
    int n = 0;

    XLEV__LOCK(ctx);
    for (p = ctx->pending_head; p; p = p->next)
        n++;
    XLEV__UNLOCK(ctx);
    return n;
}

/*======================================================================*/
/* Poll style */

/* Milliseconds from now until abs, for poll(2): 0 if already due, at least
 * 1 otherwise (a sub-millisecond wait must not become a busy 0), saturated
 * at INT_MAX. */
static int
timeout_ms(const struct timeval *abs, struct timeval now)
{
    int64_t rel_us;
    int64_t ms;

    rel_us = ((int64_t)abs->tv_sec - now.tv_sec) * USEC_PER_SEC +
             (abs->tv_usec - now.tv_usec);
    if (rel_us <= 0)
        return 0;
    ms = (rel_us + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * beforepoll: takes the lock. Never returns with it held (the seed kept it
 * on its ERROR_NOMEM path), and never leaves the shadow array describing
 * more entries than it holds (the seed did when *nfds_io was too small).
 */
int
xlev_osevent_beforepoll(xlev_ctx *ctx, int *nfds_io, struct pollfd *fds,
                        int *timeout_upd, struct timeval now)
{
    const struct timeval *next;
    struct xlev__fdent *fdent;
    int needed, i, rc;

    if (!ctx || !nfds_io || !timeout_upd || *nfds_io < 0 ||
        (*nfds_io > 0 && !fds))
        return XLEV_ERROR_INVAL;

    XLEV__LOCK(ctx);

    /* In hooks mode every fd is the hooks' business. */
    needed = ctx->hooks ? 0 : ctx->nfdents_active;

    if (needed > *nfds_io) {
        *nfds_io = needed;
        rc = XLEV_ERROR_BUFFERFULL;
        goto out;
    }

    if (*nfds_io > 0 || needed > 0) {
        if (ctx->polled_allocd < needed) {
            struct xlev__fdent **newarray;

            newarray = xlev__realloc_array(ctx->polled, needed,
                                           sizeof(*newarray));
            if (!newarray) {
                rc = XLEV_ERROR_NOMEM;
                goto out;
            }
            ctx->polled = newarray;
            ctx->polled_allocd = needed;
        }

        for (i = 0; i < ctx->polled_used; i++)
            if (ctx->polled[i])
                ctx->polled[i]->poll_index = -1;
        ctx->polled_used = 0;
        ctx->poll_gen++;

        i = 0;
        if (!ctx->hooks) {
            for (fdent = ctx->fdents; fdent; fdent = fdent->next) {
                if (!fdent->events)
                    continue;
                fds[i].fd = fdent->fd;
                fds[i].events = fdent->events;
                fds[i].revents = 0;
                ctx->polled[i] = fdent;
                fdent->poll_index = i;
                i++;
            }
        }
        ctx->polled_used = i;
    }
    *nfds_io = needed;
    rc = 0;

out:
    if (rc == 0 || rc == XLEV_ERROR_BUFFERFULL) {
        next = ctx->hooks ? NULL : xlev__time_next_locked(ctx);
        if (next) {
            int ms = timeout_ms(next, now);

            if (*timeout_upd < 0 || ms < *timeout_upd)
                *timeout_upd = ms;
        }
    }
    XLEV__UNLOCK(ctx);
    return rc;
}

/*
 * afterpoll: takes the lock, decides, queues, then runs the queue with the
 * lock dropped around each callback.
 */
int
xlev_osevent_afterpoll(xlev_ctx *ctx, int nfds, const struct pollfd *fds,
                       struct timeval now)
{
    uint64_t gen;
    int i;

    if (!ctx || nfds < 0 || (nfds > 0 && !fds))
        return XLEV_ERROR_INVAL;

    XLEV__LOCK(ctx);
    if (nfds > ctx->polled_used) {
        xlev__log(ctx, LOG_ERR,
                  "xlev_osevent_afterpoll: nfds %d but the last beforepoll "
                  "gave %d",
                  nfds, ctx->polled_used);
        XLEV__UNLOCK(ctx);
        return XLEV_ERROR_INVAL;
    }

    gen = ctx->poll_gen;
    for (i = 0; i < nfds; i++) {
        struct xlev__fdent *fdent;

        if (!fds[i].revents)
            continue;
        fdent = ctx->polled[i];
        if (!fdent || fdent->fd != fds[i].fd)
            continue; /* gone since, or not ours */
        xlev__fdent_deliver_locked(ctx, fdent, fds[i].revents, gen);
    }

    xlev__time_fire_due_locked(ctx, now);

    xlev__run_pending_and_unlock(ctx);
    return 0;
}

/*======================================================================*/
/* Hooks style */

static void
hooks_undo_locked(xlev_ctx *ctx)
{
    struct xlev__fdent *fdent;
    int i;

    for (fdent = ctx->fdents; fdent; fdent = fdent->next)
        xlev__fdent_hook_deregister_locked(ctx, fdent);
    for (i = 0; i < ctx->theap_used; i++)
        xlev__time_hook_deregister_locked(ctx, ctx->theap[i]);
}

int
xlev_osevent_register_hooks(xlev_ctx *ctx, const xlev_osevent_hooks *hooks,
                            void *user)
{
    struct xlev__fdent *fdent;
    int i, rc;

    if (!ctx || !hooks || !hooks->fd_register || !hooks->fd_modify ||
        !hooks->fd_deregister || !hooks->timeout_register ||
        !hooks->timeout_modify || !hooks->timeout_deregister)
        return XLEV_ERROR_INVAL;

    XLEV__LOCK(ctx);
    if (ctx->hooks) {
        rc = XLEV_ERROR_INVAL;
        goto out;
    }
    ctx->hooks = hooks;
    ctx->hooks_user = user;

    /* Hand over what exists. A failure undoes it all: the seed left the
     * context half registered. */
    for (fdent = ctx->fdents; fdent; fdent = fdent->next) {
        rc = xlev__fdent_hook_register_locked(ctx, fdent);
        if (rc)
            goto fail;
    }
    for (i = 0; i < ctx->theap_used; i++) {
        rc = xlev__time_hook_register_locked(ctx, ctx->theap[i]);
        if (rc)
            goto fail;
    }
    rc = 0;
    goto out;

fail:
    xlev__log(ctx, LOG_ERR,
              "an osevent hook failed (%d) while registering the hooks; "
              "staying in poll style",
              rc);
    hooks_undo_locked(ctx);
    ctx->hooks = NULL;
    ctx->hooks_user = NULL;
out:
    XLEV__UNLOCK(ctx);
    return rc;
}

void
xlev_osevent_occurred_fd(xlev_ctx *ctx, void *for_xlev, int fd, short events,
                         short revents)
{
    struct xlev__nexus *nexus = for_xlev;
    struct xlev__fdent *fdent;
    struct pollfd pfd;
    int r;

    if (!ctx || !nexus)
        return;

    if (xlev__in_hook_self(ctx)) {
        /* We hold the lock in this very thread: locking would deadlock. */
        xlev__log(ctx, LOG_ERR,
                  "xlev_osevent_occurred_fd called from inside a hook: "
                  "ignored");
        return;
    }
    XLEV__LOCK(ctx);
    if (nexus->kind != XLEV__NEXUS_FD || !nexus->fdent ||
        nexus->fdent->fd != fd) {
        /* Late (deregistered since) or stale: nothing to do. */
        XLEV__UNLOCK(ctx);
        return;
    }
    fdent = nexus->fdent;

    /* What the application saw may be stale: ask the kernel now. */
    pfd.fd = fd;
    pfd.events = fdent->events;
    pfd.revents = 0;
    do
        r = poll(&pfd, 1, 0);
    while (r < 0 && errno == EINTR);
    if (r > 0 && pfd.revents)
        xlev__fdent_deliver_locked(ctx, fdent, pfd.revents, UINT64_MAX);

    xlev__run_pending_and_unlock(ctx);
}

void
xlev_osevent_occurred_timeout(xlev_ctx *ctx, void *for_xlev)
{
    struct xlev__nexus *nexus = for_xlev;
    xlev_ev_time *ev;
    struct timeval now;

    if (!ctx || !nexus)
        return;

    if (xlev__in_hook_self(ctx)) {
        /* We hold the lock in this very thread: locking would deadlock. */
        xlev__log(ctx, LOG_ERR,
                  "xlev_osevent_occurred_timeout called from inside a hook: "
                  "ignored");
        return;
    }
    XLEV__LOCK(ctx);
    if (nexus->kind != XLEV__NEXUS_TIME || !nexus->time ||
        nexus->time->nexus != nexus) {
        XLEV__UNLOCK(ctx);
        return;
    }
    ev = nexus->time;

    xlev__now_locked(ctx, &now);
    if (ev->abs.tv_sec > now.tv_sec ||
        (ev->abs.tv_sec == now.tv_sec && ev->abs.tv_usec > now.tv_usec)) {
        int rc;

        /* Early (an application timer with coarser resolution, or a late
         * report for a recycled nexus): its registration is used up; ask
         * again for the rest of the time. */
        xlev__nexus_put_locked(ctx, ev->nexus);
        ev->nexus = NULL;
        ev->for_app_reg = NULL;
        rc = xlev__time_hook_register_locked(ctx, ev);
        if (rc)
            xlev__disaster_locked(ctx, XLEV_DISASTER_OSEVENT, 0,
                                  "timeout_register hook failed (%d) while "
                                  "re-registering an early timeout",
                                  rc);
    } else {
        xlev__time_fire_locked(ctx, ev);
    }

    xlev__run_pending_and_unlock(ctx);
}
