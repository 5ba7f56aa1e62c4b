/* fd.c: fd registrations and the per-fd records that merge them
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "Per-fd records" in loop-private.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>

#include "loop-private.h"

/* The fd table: an open-addressing hash of the fdents by fd number
 * (linear probing, a power-of-two size, at most half full), so its size
 * follows the number of fds registered, not their values: fd 2^28 or
 * INT_MAX costs one slot, as fd 3 does. Lock held throughout. */
#define FDTAB_MIN_SIZE 64

static void
fd_reg_init(struct xlev__fd_reg *ev)
{
    ev->fd = -1;
    ev->events = 0;
    ev->func = NULL;
    ev->fdent = NULL;
    ev->fdent_next = NULL;
    ev->reg_seq = 0;
    ev->pending = NULL;
}

static int
fd_reg_active(const struct xlev__fd_reg *ev)
{
    return ev->fd >= 0;
}

void
xlev_ev_fd_init(xlev_ev_fd *pub)
{
    if (pub)
        fd_reg_init(XLEV__FD(pub));
}

int
xlev_ev_fd_isregistered(const xlev_ev_fd *pub)
{
    return pub && fd_reg_active(XLEV__FD_C(pub));
}

static unsigned
fdtab_slot(const xlev_ctx *ctx, int fd)
{
    /* Fibonacci hashing (the product's top bits): fds that differ in any
     * bits spread; fd is never negative here, fdtab_size is 2^1..2^30. */
    unsigned bits = (unsigned)__builtin_ctz((unsigned)ctx->fdtab_size);

    return ((unsigned)fd * 2654435769u) >> (32 - bits);
}

static struct xlev__fdent *
fdtab_lookup(xlev_ctx *ctx, int fd)
{
    unsigned i, mask = (unsigned)ctx->fdtab_size - 1;

    if (fd < 0 || !ctx->fdtab_size)
        return NULL;
    for (i = fdtab_slot(ctx, fd); ctx->fdtab[i]; i = (i + 1) & mask)
        if (ctx->fdtab[i]->fd == fd)
            return ctx->fdtab[i];
    return NULL;
}

/* Puts fdent in a table with room (no entry for its fd yet). */
static void
fdtab_put(xlev_ctx *ctx, struct xlev__fdent *fdent)
{
    unsigned i, mask = (unsigned)ctx->fdtab_size - 1;

    for (i = fdtab_slot(ctx, fdent->fd); ctx->fdtab[i]; i = (i + 1) & mask)
        ;
    ctx->fdtab[i] = fdent;
    ctx->fdtab_used++;
}

/* Makes room for one more entry: keeps the table at most half full. */
static int
fdtab_reserve(xlev_ctx *ctx)
{
    struct xlev__fdent **old = ctx->fdtab, **newtab;
    int oldsize = ctx->fdtab_size, newsize, i;

    if (ctx->fdtab_used + 1 <= oldsize / 2)
        return 0;
    if (oldsize > INT_MAX / 2)
        return XLEV_ERROR_NOMEM;
    newsize = oldsize ? oldsize * 2 : FDTAB_MIN_SIZE;
    newtab = xlev__calloc((size_t)newsize, sizeof(*newtab));
    if (!newtab)
        return XLEV_ERROR_NOMEM;
    ctx->fdtab = newtab;
    ctx->fdtab_size = newsize;
    ctx->fdtab_used = 0;
    for (i = 0; i < oldsize; i++)
        if (old[i])
            fdtab_put(ctx, old[i]);
    free(old);
    return 0;
}

/* Removes fdent (which is in the table), shifting back the entries of
 * its probe run so that every lookup still finds them. */
static void
fdtab_remove(xlev_ctx *ctx, struct xlev__fdent *fdent)
{
    unsigned i, j, mask = (unsigned)ctx->fdtab_size - 1;

    for (i = fdtab_slot(ctx, fdent->fd); ctx->fdtab[i] != fdent;
         i = (i + 1) & mask)
        ;
    ctx->fdtab[i] = NULL;
    ctx->fdtab_used--;
    for (j = (i + 1) & mask; ctx->fdtab[j]; j = (j + 1) & mask) {
        struct xlev__fdent *e = ctx->fdtab[j];
        unsigned home = fdtab_slot(ctx, e->fd);

        /* e may move to the hole at i unless its home lies cyclically
         * in (i, j]. */
        if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
            continue;
        ctx->fdtab[i] = e;
        ctx->fdtab[j] = NULL;
        i = j;
    }
}

static short
fdent_merged_events(const struct xlev__fdent *fdent, const struct xlev__fd_reg *skip)
{
    const struct xlev__fd_reg *ev;
    short events = 0;

    for (ev = fdent->regs; ev; ev = ev->fdent_next)
        if (ev != skip)
            events |= ev->events;
    return events;
}

/*
 * Hooks side of one fdent. Lock held.
 */

int
xlev__fdent_hook_register_locked(xlev_ctx *ctx, struct xlev__fdent *fdent)
{
    struct xlev__nexus *nexus;
    void *for_app = NULL;
    int rc;

    if (!ctx->hooks || !fdent->events || fdent->hook_events)
        return 0;
    nexus = xlev__nexus_get_locked(ctx, XLEV__NEXUS_FD);
    if (!nexus)
        return XLEV_ERROR_NOMEM;
    rc = xlev__hook_fd_register(ctx, fdent->fd, &for_app, fdent->events,
                                nexus);
    if (rc) {
        xlev__nexus_put_locked(ctx, nexus);
        return rc;
    }
    nexus->fdent = fdent;
    fdent->nexus = nexus;
    fdent->for_app_reg = for_app;
    fdent->hook_events = fdent->events;
    return 0;
}

void
xlev__fdent_hook_deregister_locked(xlev_ctx *ctx, struct xlev__fdent *fdent)
{
    if (!fdent->hook_events)
        return;
    xlev__hook_fd_deregister(ctx, fdent->fd, fdent->for_app_reg);
    xlev__nexus_put_locked(ctx, fdent->nexus);
    fdent->nexus = NULL;
    fdent->for_app_reg = NULL;
    fdent->hook_events = 0;
}

/*
 * Changes an fdent's merged events to `events`, telling the hooks. On
 * failure nothing changed and the hook's value is returned. `may_fail` 0
 * (removing a registration) means the caller cannot report a failure: a
 * failing fd_modify then leaves the hooks with a superset of the events,
 * which is harmless.
 */
static int
fdent_set_events_locked(xlev_ctx *ctx, struct xlev__fdent *fdent,
                        short events, int may_fail)
{
    int rc = 0;

    if (ctx->hooks) {
        if (!events) {
            xlev__fdent_hook_deregister_locked(ctx, fdent);
        } else if (!fdent->hook_events) {
            short old = fdent->events;

            fdent->events = events;
            rc = xlev__fdent_hook_register_locked(ctx, fdent);
            fdent->events = old;
        } else if (events != fdent->hook_events) {
            rc = xlev__hook_fd_modify(ctx, fdent->fd, &fdent->for_app_reg,
                                      events);
            if (!rc)
                fdent->hook_events = events;
        }
        if (rc) {
            if (may_fail)
                return rc;
            xlev__log(ctx, LOG_WARNING,
                      "fd_modify hook for fd %d failed (%d) while removing a "
                      "registration; keeping the wider registration",
                      fdent->fd, rc);
            rc = 0;
        }
    }

    if (!fdent->events && events)
        ctx->nfdents_active++;
    else if (fdent->events && !events)
        ctx->nfdents_active--;
    if (events & ~fdent->events)
        xlev__wake_locked(ctx);
    fdent->events = events;
    return 0;
}

static int
fdent_new_locked(xlev_ctx *ctx, int fd, struct xlev__fdent **fdent_out)
{
    struct xlev__fdent *fdent;
    int rc;

    rc = fdtab_reserve(ctx);
    if (rc)
        return rc;
    fdent = xlev__calloc(1, sizeof(*fdent));
    if (!fdent)
        return XLEV_ERROR_NOMEM;
    fdent->fd = fd;
    fdent->poll_index = -1;
    fdent->next = ctx->fdents;
    if (ctx->fdents)
        ctx->fdents->prev = fdent;
    ctx->fdents = fdent;
    fdtab_put(ctx, fdent);
    *fdent_out = fdent;
    return 0;
}

/* Frees an fdent with no registrations left. */
static void
fdent_free_locked(xlev_ctx *ctx, struct xlev__fdent *fdent)
{
    xlev__fdent_hook_deregister_locked(ctx, fdent);
    if (fdent->events)
        ctx->nfdents_active--;
    /* The last beforepoll's shadow must not point at freed memory. */
    if (fdent->poll_index >= 0 && fdent->poll_index < ctx->polled_used &&
        ctx->polled[fdent->poll_index] == fdent)
        ctx->polled[fdent->poll_index] = NULL;
    if (fdent->prev)
        fdent->prev->next = fdent->next;
    else
        ctx->fdents = fdent->next;
    if (fdent->next)
        fdent->next->prev = fdent->prev;
    fdtab_remove(ctx, fdent);
    free(fdent);
}

int
xlev__fd_register_locked(xlev_ctx *ctx, xlev_ev_fd *pub,
                         xlev_ev_fd_callback *func, int fd, short events)
{
    struct xlev__fd_reg *ev = XLEV__FD(pub);

    struct xlev__fdent *fdent;
    int created = 0;
    int rc;

    fdent = fdtab_lookup(ctx, fd);
    if (!fdent) {
        rc = fdent_new_locked(ctx, fd, &fdent);
        if (rc)
            return rc;
        created = 1;
    }

    rc = fdent_set_events_locked(ctx, fdent, fdent->events | events, 1);
    if (rc) {
        if (created)
            fdent_free_locked(ctx, fdent);
        return rc;
    }

    ev->fd = fd;
    ev->events = events;
    ev->func = func;
    ev->fdent = fdent;
    ev->fdent_next = fdent->regs;
    fdent->regs = ev;
    ev->reg_seq = ctx->poll_gen;
    ev->pending = NULL;
    ev->stale_ok = 0;
    return 0;
}

void
xlev__fd_set_stale_ok_locked(xlev_ev_fd *pub)
{
    XLEV__FD(pub)->stale_ok = 1;
}

int
xlev_ev_fd_register(xlev_ctx *ctx, xlev_ev_fd *pub, xlev_ev_fd_callback *func,
                    int fd, short events)
{
    struct xlev__fd_reg *ev = XLEV__FD(pub);

    int rc;

    if (!ctx || !ev || !func || fd < 0)
        return XLEV_ERROR_INVAL;

    XLEV__LOCK(ctx);
    rc = xlev__fd_register_locked(ctx, pub, func, fd, events);
    if (rc)
        fd_reg_init(ev);
    XLEV__UNLOCK(ctx);
    return rc;
}

int
xlev__fd_modify_locked(xlev_ctx *ctx, xlev_ev_fd *pub, short events)
{
    struct xlev__fd_reg *ev = XLEV__FD(pub);
    int rc;

    if (!fd_reg_active(ev) || !ev->fdent)
        return XLEV_ERROR_INVAL;
    rc = fdent_set_events_locked(
        ctx, ev->fdent, fdent_merged_events(ev->fdent, ev) | events, 1);
    if (rc)
        return rc;
    ev->events = events;
    return 0;
}

int
xlev_ev_fd_modify(xlev_ctx *ctx, xlev_ev_fd *pub, short events)
{
    int rc;

    if (!ctx || !pub)
        return XLEV_ERROR_INVAL;

    XLEV__LOCK(ctx);
    rc = xlev__fd_modify_locked(ctx, pub, events);
    XLEV__UNLOCK(ctx);
    return rc;
}

void
xlev__fd_deregister_locked(xlev_ctx *ctx, xlev_ev_fd *pub)
{
    struct xlev__fd_reg *ev = XLEV__FD(pub);

    struct xlev__fdent *fdent = ev->fdent;
    struct xlev__fd_reg **pp;

    if (!fd_reg_active(ev))
        return;

    if (ev->pending)
        xlev__deferred_cancel_locked(ctx, ev);

    if (fdent) {
        for (pp = &fdent->regs; *pp; pp = &(*pp)->fdent_next) {
            if (*pp == ev) {
                *pp = ev->fdent_next;
                break;
            }
        }
        if (fdent->regs)
            fdent_set_events_locked(ctx, fdent,
                                    fdent_merged_events(fdent, NULL), 0);
        else
            fdent_free_locked(ctx, fdent);
    }

    ev->fd = -1;
    ev->events = 0;
    ev->func = NULL;
    ev->fdent = NULL;
    ev->fdent_next = NULL;
    ev->pending = NULL;
}

void
xlev_ev_fd_deregister(xlev_ctx *ctx, xlev_ev_fd *pub)
{
    struct xlev__fd_reg *ev = XLEV__FD(pub);

    if (!ctx || !ev)
        return;

    XLEV__LOCK(ctx);
    xlev__fd_deregister_locked(ctx, pub);
    xlev__deferred_wait_locked(ctx, ev);
    XLEV__UNLOCK(ctx);
}

/*
 * Delivery: revents for an fdent, from afterpoll (poll_gen of the
 * beforepoll they came from) or occurred_fd (UINT64_MAX), become one
 * deferred record per interested registration (target: the registration).
 * Each is decided on again when it runs: the registration may have been
 * modified since. Lock held.
 *
 * A registration has at most one record queued (ev->pending): revents
 * found while it waits are added to it. The deferred runner works in
 * bounded batches, so a record may wait behind others for several loop
 * iterations, during which poll keeps reporting the fd (level-triggered):
 * one callback per iteration would pile up, and the xenstore socket's
 * callback, run that often, would read a flood faster than a slow
 * application consumes it, into memory. Merged, the fd is read again only
 * once what was read before it has been delivered, and the daemon sees the
 * back-pressure of a full socket, as it did before batches.
 */
struct fd_rec {
    struct xlev__deferred d;
    struct xlev__fd_reg *ev;
    short revents; /* what poll said, masked when queued */
    /* prepare_locked: the registration as it is when the callback runs */
    xlev_ev_fd_callback *func;
    int fd;
    short events;
};

static int
fd_rec_prepare_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct fd_rec *r = XLEV__CONTAINER_OF(d, struct fd_rec, d);
    struct xlev__fd_reg *ev = r->ev;

    ev->pending = NULL;
    r->revents = xlev__reg_revents(ev->events, r->revents);
    if (!fd_reg_active(ev) || !r->revents) {
        free(r); /* modified since: no longer interested */
        return 0;
    }
    r->func = ev->func;
    r->fd = ev->fd;
    r->events = ev->events;
    return 1;
}

static void
fd_rec_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct fd_rec *r = XLEV__CONTAINER_OF(d, struct fd_rec, d);

    r->func(ctx, XLEV__FD_PUB(r->ev), r->fd, r->events, r->revents);
    free(r);
}

static const struct xlev__deferred_ops fd_rec_ops = {
    .prepare_locked = fd_rec_prepare_locked,
    .run = fd_rec_run,
};

void
xlev__fdent_deliver_locked(xlev_ctx *ctx, struct xlev__fdent *fdent,
                           short revents, uint64_t poll_gen)
{
    struct xlev__fd_reg *ev;

    for (ev = fdent->regs; ev; ev = ev->fdent_next) {
        struct fd_rec *r;
        short masked;

        if (ev->reg_seq >= poll_gen)
            continue; /* registered after that poll: not its news */
        masked = xlev__reg_revents(ev->events, revents);
        if (!masked)
            continue;
        if (ev->pending) {
            r = XLEV__CONTAINER_OF(ev->pending, struct fd_rec, d);
            r->revents |= masked;
            continue;
        }

        r = xlev__calloc(1, sizeof(*r));
        if (!r) {
            xlev__disaster_locked(ctx, XLEV_DISASTER_NOMEM, ENOMEM,
                                  "cannot queue the callback for fd %d",
                                  ev->fd);
            continue;
        }
        r->ev = ev;
        r->revents = masked;
        ev->pending = &r->d;
        xlev__deferred_queue_locked(ctx, &r->d, &fd_rec_ops, ev);
    }
}

/* ctx_free: every registration goes Idle, the hooks are told. */
void
xlev__fd_free_all_locked(xlev_ctx *ctx)
{
    while (ctx->fdents) {
        struct xlev__fdent *fdent = ctx->fdents;

        while (fdent->regs) {
            struct xlev__fd_reg *ev = fdent->regs;

            fdent->regs = ev->fdent_next;
            ev->fd = -1;
            ev->events = 0;
            ev->func = NULL;
            ev->fdent = NULL;
            ev->fdent_next = NULL;
            ev->pending = NULL;
        }
        fdent_free_locked(ctx, fdent);
    }
}

/*
 * Close-on-exec, for fds the rooms above get from libraries that may or may
 * not have set it (libxenstore 4.17 sets it on its socket and watch pipe
 * where the build allowed; the xenstore room checks rather than trusts).
 */
void
xlev__fd_ensure_cloexec(xlev_ctx *ctx, int fd)
{
    int flags;

    if (fd < 0)
        return;
    flags = fcntl(fd, F_GETFD);
    if (flags < 0) {
        xlev__log(ctx, LOG_WARNING, "fcntl(%d, F_GETFD) failed: %s", fd,
                  strerror(errno));
        return;
    }
    if (flags & FD_CLOEXEC)
        return;
    if (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        xlev__log(ctx, LOG_WARNING, "cannot set FD_CLOEXEC on fd %d: %s", fd,
                  strerror(errno));
}

short
xlev__test_fd_events(const xlev_ev_fd *pub)
{
    const struct xlev__fd_reg *ev = XLEV__FD_C(pub);

    return fd_reg_active(ev) ? ev->events : 0;
}
