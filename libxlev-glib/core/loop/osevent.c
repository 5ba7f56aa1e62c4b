/* osevent.c: beforepoll/afterpoll, hooks, occurred_*
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "Locking" in loop-private.h; what they decide runs through the
 * deferral mechanism (deferred-private.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "loop-private.h"

#define USEC_PER_SEC 1000000
#define USEC_PER_MSEC 1000
#define MSEC_PER_SEC 1000

/*======================================================================*/
/* Poll style */

/* Milliseconds from now until abs, for poll(2): 0 if already due, at least
 * 1 otherwise (a sub-millisecond wait must not become a busy 0), saturated
 * at INT_MAX. Both are valid timevals (tv_usec in [0, 1 s)) but may be
 * anywhere in time_t's range: the seconds are compared before anything is
 * multiplied, so nothing overflows. */
static int
timeout_ms(const struct timeval *abs, struct timeval now)
{
    /* INT_MAX ms is under 2^21 s: a gap of more seconds saturates. */
    const int64_t max_sec = INT_MAX / MSEC_PER_SEC + 1;
    int64_t dsec, rel_us, ms;

    if (abs->tv_sec < now.tv_sec
        || (abs->tv_sec == now.tv_sec && abs->tv_usec <= now.tv_usec))
        return 0;
    /* abs > now: the difference is positive, but may not fit */
    if (__builtin_sub_overflow((int64_t)abs->tv_sec, (int64_t)now.tv_sec, &dsec)
        || dsec > max_sec)
        return INT_MAX;
    rel_us = dsec * USEC_PER_SEC + (abs->tv_usec - now.tv_usec);
    ms = (rel_us + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static int
timeval_valid(struct timeval tv)
{
    return tv.tv_usec >= 0 && tv.tv_usec < USEC_PER_SEC;
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

    if (!ctx || !nfds_io || !timeout_upd || *nfds_io < 0
        || (*nfds_io > 0 && !fds) || !timeval_valid(now))
        return XLEV_ERROR_INVAL;

    XLEV__LOCK(ctx);

    /* In hooks mode every fd is the hooks' business. Poll style gets the
     * wake-up fd too ("Waking a poll" in loop-private.h). */
    needed = ctx->hooks ? 0
                        : ctx->nfdents_active
                              + (ctx->wake_wanted && !ctx->wake_fn ? 1 : 0);

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
        ctx->wake_index = -1;
        if (!ctx->hooks && ctx->wake_wanted && !ctx->wake_fn) {
            fds[i].fd = ctx->wake_fd;
            fds[i].events = POLLIN;
            fds[i].revents = 0;
            ctx->polled[i] = NULL;
            ctx->wake_index = i;
            i++;
        }
        ctx->polled_used = i;
        ctx->wake_polled = ctx->wake_index >= 0
                           || (!ctx->hooks && ctx->wake_wanted && ctx->wake_fn);
    } else {
        /* Nothing to poll, but a poll (or sleep) may follow all the same. */
        ctx->wake_index = -1;
        ctx->wake_polled = !ctx->hooks && ctx->wake_wanted && ctx->wake_fn;
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
        /* Records queued outside the loop (a blocking call that read
         * watch events off the xenstore connection) wait for afterpoll:
         * do not sleep on them. */
        if (!ctx->hooks && ctx->deferred.head)
            *timeout_upd = 0;
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

    if (!ctx || nfds < 0 || (nfds > 0 && !fds) || !timeval_valid(now))
        return XLEV_ERROR_INVAL;

    XLEV__LOCK(ctx);
    if (nfds > ctx->polled_used) {
        xlev__log(ctx, LOG_DEBUG,
                  "xlev_osevent_afterpoll: nfds %d but the last beforepoll "
                  "gave %d",
                  nfds, ctx->polled_used);
        XLEV__UNLOCK(ctx);
        return XLEV_ERROR_INVAL;
    }

    gen = ctx->poll_gen;
    ctx->wake_polled = 0;
    if (ctx->wake_fn)
        ctx->wake_pending = 0; /* nothing to drain */
    for (i = 0; i < nfds; i++) {
        struct xlev__fdent *fdent;

        if (!fds[i].revents)
            continue;
        if (i == ctx->wake_index && fds[i].fd == ctx->wake_fd) {
            xlev__wake_drain_locked(ctx);
            continue;
        }
        fdent = ctx->polled[i];
        if (!fdent || fdent->fd != fds[i].fd)
            continue; /* gone since, or not ours */
        xlev__fdent_deliver_locked(ctx, fdent, fds[i].revents, gen);
    }

    xlev__time_fire_due_locked(ctx, now);

    xlev__deferred_run_and_unlock(ctx);
    return 0;
}

/*======================================================================*/
/* Coming back for a bounded run's rest (deferred-private.h) */

static void
resume_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    /* Nothing: the runner that fired it runs what is queued. */
}

int
xlev__osevent_resume_locked(xlev_ctx *ctx)
{
    const struct xlev__time_reg *ev = XLEV__TIME_C(&ctx->resume);
    int rc;

    if (!ctx->hooks) {
        /* beforepoll returns 0 while records are queued; a poll already
         * under way (another thread) is woken. */
        xlev__wake_locked(ctx);
        return 0;
    }
    if (xlev_ev_time_isregistered(&ctx->resume) && !ev->firing)
        return 0; /* armed, not yet due or not yet reported */
    /* Idle, or fired with its (empty) callback still queued: that record
     * brings nobody back, so arm it afresh. */
    xlev__time_deregister_locked(ctx, &ctx->resume);
    rc = xlev__time_register_rel_locked(ctx, &ctx->resume, resume_cb, 0);
    if (rc)
        xlev__log(ctx, LOG_DEBUG,
                  "cannot register a timeout to resume the deferred "
                  "callbacks (%d): running them all now",
                  rc);
    return rc;
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
    /* Records left by a bounded run in poll style: beforepoll no longer
     * brings the loop back for them. (A failure only leaves them for the
     * next event, as before batches.) */
    if (ctx->deferred.head)
        xlev__osevent_resume_locked(ctx);
    rc = 0;
    goto out;

fail:
    xlev__log(ctx, LOG_DEBUG,
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

static int
fdent_all_stale_ok(const struct xlev__fdent *fdent)
{
    const struct xlev__fd_reg *ev;

    for (ev = fdent->regs; ev; ev = ev->fdent_next)
        if (!ev->stale_ok)
            return 0;
    return fdent->regs != NULL;
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

    /* Registrations that only read and write without blocking take the
     * report as it is: a stale one costs them one EAGAIN. */
    if (fdent_all_stale_ok(fdent)) {
        if (revents)
            xlev__fdent_deliver_locked(ctx, fdent, revents, UINT64_MAX);
        xlev__deferred_run_and_unlock(ctx);
        return;
    }

    /* What the application saw may be stale: ask the kernel now. */
    pfd.fd = fd;
    pfd.events = fdent->events;
    pfd.revents = 0;
    do
        r = poll(&pfd, 1, 0);
    while (r < 0 && errno == EINTR);
    if (r > 0 && pfd.revents)
        xlev__fdent_deliver_locked(ctx, fdent, pfd.revents, UINT64_MAX);

    xlev__deferred_run_and_unlock(ctx);
}

void
xlev_osevent_occurred_timeout(xlev_ctx *ctx, void *for_xlev)
{
    struct xlev__nexus *nexus = for_xlev;
    struct xlev__time_reg *ev;
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

    xlev__deferred_run_and_unlock(ctx);
}
