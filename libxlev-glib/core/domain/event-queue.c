/* event-queue.c: the domain room's state, and domain events on their way
 * to the application
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The per-context state (struct xlev__domain, see domain-private.h): made
 * on first use, freed by the one teardown it registers with the context.
 * The queue: what the generators found, xlev_event_check() and
 * xlev_event_wait() that take it from there, and delivery to event hooks.
 *
 * Delivery. Scans run inside the core's deferred callbacks (a shared
 * watch or timeout, or an eject watch), lock dropped. They take ctx->lock,
 * queue what they found and call xlev__domain_flush_locked(), which takes
 * each queued event that hooks take (its generator's own hooks when it has
 * them, else the context's: see receiver_locked) off the queue and hands it
 * to the core's deferral mechanism as a record whose target is its
 * generator. When the scan's callback returns, the same runner calls
 * event_occurs with the lock dropped. evdisable(G) retires G as a
 * deregistration retires a registration: its events still queued (here and
 * in the deferral mechanism) go, and it waits until no other thread is
 * delivering one of them. That is the "nothing after evdisable" promise,
 * kept also for events that another generator's scan delivers.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain-private.h"

/* A queued event. */
struct xlev__devent {
    xlev_event ev; /* first: xlev_event_free() frees the record */
    struct xlev__gen *gen;
    struct xlev__devent *next, *prev; /* ds's queue */
    /* on its way to hooks: its record, and (prepare_locked) the receiver */
    struct xlev__deferred d;
    void (*occurs)(void *user, xlev_event *event);
    void *occurs_user;
};

/*======================================================================*/
/* The queue; lock held */

static void
queue_append_locked(struct xlev__domain *ds, struct xlev__devent *e)
{
    e->next = NULL;
    e->prev = ds->qtail;
    if (ds->qtail)
        ds->qtail->next = e;
    else
        ds->qhead = e;
    ds->qtail = e;
}

static void
queue_remove_locked(struct xlev__domain *ds, struct xlev__devent *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        ds->qhead = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        ds->qtail = e->prev;
    e->next = e->prev = NULL;
}

static void
devent_free(struct xlev__devent *e)
{
    if (!e)
        return;
    if (e->ev.type == XLEV_EVENT_TYPE_DISK_EJECT)
        free(e->ev.u.disk_eject.vdev);
    free(e);
}

/* Drops every queued event of gen. */
static void
queue_cancel_locked(struct xlev__domain *ds, const struct xlev__gen *gen)
{
    struct xlev__devent *e, *next;

    for (e = ds->qhead; e; e = next) {
        next = e->next;
        if (e->gen == gen) {
            queue_remove_locked(ds, e);
            devent_free(e);
        }
    }
}

/*======================================================================*/
/* Delivery; lock held unless said otherwise */

/* The hooks that take e now, or NULL (it stays on, or goes back to, the
 * queue). A generator with hooks of its own never reaches the context's. */
static const xlev_event_hooks *
receiver_locked(struct xlev__domain *ds, const struct xlev__devent *e,
                void **user_out)
{
    const xlev_event_hooks *hooks = ds->hooks;

    *user_out = ds->hooks_user;
    if (e->gen && e->gen->hooks) {
        hooks = e->gen->hooks;
        *user_out = e->gen->hooks_user;
    }
    if (!hooks || !hooks->event_occurs
        || !(hooks->event_occurs_mask & XLEV_EVENTMASK(e->ev.type)))
        return NULL;
    return hooks;
}

static int
devent_prepare_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct xlev__devent *e = CONTAINER_OF(d, struct xlev__devent, d);
    const xlev_event_hooks *hooks;

    /* The hooks may have changed since the flush. */
    hooks = receiver_locked(ctx->domain, e, &e->occurs_user);
    if (!hooks) {
        queue_append_locked(ctx->domain, e);
        return 0;
    }
    e->occurs = hooks->event_occurs;
    return 1;
}

static void
devent_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct xlev__devent *e = CONTAINER_OF(d, struct xlev__devent, d);

    e->occurs(e->occurs_user, &e->ev); /* the event is the application's */
}

static void
devent_dispose_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    devent_free(CONTAINER_OF(d, struct xlev__devent, d));
}

static const struct xlev__deferred_ops devent_ops = {
    .prepare_locked = devent_prepare_locked,
    .run = devent_run,
    .dispose_locked = devent_dispose_locked,
};

void
xlev__domain_flush_locked(struct xlev__domain *ds)
{
    struct xlev__devent *e, *next;
    void *user;

    for (e = ds->qhead; e; e = next) {
        next = e->next;
        if (!receiver_locked(ds, e, &user))
            continue;
        queue_remove_locked(ds, e);
        xlev__deferred_queue_locked(ds->ctx, &e->d, &devent_ops, e->gen);
    }
}

void
xlev__domain_gen_retire_locked(struct xlev__domain *ds, struct xlev__gen *gen)
{
    queue_cancel_locked(ds, gen);
    xlev__deferred_cancel_locked(ds->ctx, gen);
    xlev__deferred_wait_locked(ds->ctx, gen);
}

int
xlev__domain_gen_hooks_check(const xlev_event_hooks *hooks)
{
    if (hooks && hooks->event_occurs_mask && !hooks->event_occurs)
        return XLEV_ERROR_INVAL;
    return 0;
}

void
xlev__domain_disaster_locked(struct xlev__domain *ds, int errnoval,
                             const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    xlev__disaster_locked(ds->ctx,
                          errnoval == ENOMEM ? XLEV_DISASTER_NOMEM
                                             : XLEV_DISASTER_EVENTS,
                          errnoval, "domain events: %s", buf);
}

xlev_event *
xlev__domain_queue_event_locked(struct xlev__domain *ds, struct xlev__gen *gen,
                                xlev_event_type type, uint32_t domid,
                                uint64_t user, const uint8_t *uuid,
                                const char *vdev)
{
    struct xlev__devent *e;

    e = xlev__calloc(1, sizeof(*e));
    if (!e)
        goto nomem;
    e->gen = gen;
    e->ev.type = type;
    e->ev.domid = domid;
    e->ev.for_user = user;
    if (uuid) {
        e->ev.domuuid_known = 1;
        memcpy(e->ev.domuuid, uuid, XLEV_DOMUUID_LEN);
    }
    if (vdev) {
        e->ev.u.disk_eject.vdev = xlev__strdup(vdev);
        if (!e->ev.u.disk_eject.vdev) {
            free(e);
            goto nomem;
        }
    }
    queue_append_locked(ds, e);
    return &e->ev;

nomem:
    xlev__domain_disaster_locked(
        ds, ENOMEM, "out of memory: an event for domain %" PRIu32 " was lost",
        domid);
    return NULL;
}

/*======================================================================*/
/* The state and its teardown */

/* Lock dropped: every part stops (deregistering what it registered), the
 * events on their way go, then every part frees its memory. */
static void
domain_teardown(xlev_ctx *ctx, struct xlev__teardown *td)
{
    struct xlev__domain *ds = CONTAINER_OF(td, struct xlev__domain, teardown);
    struct xlev__domain_part *part;
    struct xlev__devent *e;

    for (part = ds->parts; part; part = part->next)
        part->stop(ds);

    XLEV__LOCK(ctx);
    xlev__deferred_cancel_ops_locked(ctx, &devent_ops);
    xlev__deferred_wait_locked(ctx, NULL);
    ctx->domain = NULL;
    XLEV__UNLOCK(ctx);

    for (part = ds->parts; part; part = part->next)
        part->free(ds);
    while ((e = ds->qhead)) {
        queue_remove_locked(ds, e);
        devent_free(e);
    }
    pthread_mutex_destroy(&ds->intro_lock);
    pthread_mutex_destroy(&ds->reg_lock);
    free(ds);
}

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
    xlev_ev_xswatch_init(&ds->local_watch);
    xlev_ev_time_init(&ds->rescan);
    ctx->domain = ds;
    xlev__ctx_add_teardown_locked(ctx, &ds->teardown, domain_teardown);
out:
    XLEV__UNLOCK(ctx);
    return ds;
}

void
xlev__domain_add_part_locked(struct xlev__domain *ds,
                             struct xlev__domain_part *part,
                             void (*stop)(struct xlev__domain *ds),
                             void (*free_fn)(struct xlev__domain *ds))
{
    if (part->added)
        return;
    part->stop = stop;
    part->free = free_fn;
    part->next = ds->parts;
    ds->parts = part;
    part->added = 1;
}

/*======================================================================*/
/* Receiving events */

void
xlev_event_free(xlev_ctx *ctx, xlev_event *event)
{
    (void)ctx;
    devent_free((struct xlev__devent *)event);
}

void
xlev_event_register_callbacks(xlev_ctx *ctx, const xlev_event_hooks *hooks,
                              void *user)
{
    struct xlev__domain *ds;

    if (!ctx)
        return;
    ds = xlev__domain_get(ctx);
    if (!ds) {
        xlev__log(ctx, LOG_ERR,
                  "xlev_event_register_callbacks: out of memory (hooks not "
                  "installed)");
        return;
    }
    XLEV__LOCK(ctx);
    ds->hooks = hooks;
    ds->hooks_user = hooks ? user : NULL;
    XLEV__UNLOCK(ctx);
}

/* Lock held. */
static struct xlev__devent *
queue_take_locked(struct xlev__domain *ds, uint64_t typemask,
                  xlev_event_predicate *predicate, void *predicate_user)
{
    struct xlev__devent *e;

    for (e = ds->qhead; e; e = e->next) {
        if (!(typemask & XLEV_EVENTMASK(e->ev.type)))
            continue;
        if (predicate && !predicate(&e->ev, predicate_user))
            continue;
        queue_remove_locked(ds, e);
        return e;
    }
    return NULL;
}

int
xlev_event_check(xlev_ctx *ctx, xlev_event **event_r, uint64_t typemask,
                 xlev_event_predicate *predicate, void *predicate_user)
{
    struct xlev__devent *e = NULL;

    if (!ctx || !event_r)
        return XLEV_ERROR_INVAL;
    *event_r = NULL;
    XLEV__LOCK(ctx);
    if (ctx->domain)
        e = queue_take_locked(ctx->domain, typemask, predicate, predicate_user);
    XLEV__UNLOCK(ctx);
    if (!e)
        return XLEV_ERROR_NOT_READY;
    *event_r = &e->ev;
    return 0;
}

int
xlev_event_wait(xlev_ctx *ctx, xlev_event **event_r, uint64_t typemask,
                xlev_event_predicate *predicate, void *predicate_user)
{
    struct xlev__domain *ds;
    struct pollfd *fds = NULL;
    int nfds_allocd = 0;
    int rc;

    if (!ctx || !event_r)
        return XLEV_ERROR_INVAL;
    *event_r = NULL;
    ds = xlev__domain_get(ctx);
    if (!ds)
        return XLEV_ERROR_NOMEM;

    XLEV__LOCK(ctx);
    if (ctx->hooks) {
        xlev__log(ctx, LOG_DEBUG,
                  "xlev_event_wait: the context runs in hooks style: wait "
                  "in the application's loop (xlev_event_check)");
        rc = XLEV_ERROR_INVAL;
    } else if (ds->waiting) {
        xlev__log(ctx, LOG_DEBUG,
                  "xlev_event_wait: another thread is already waiting on "
                  "this context");
        rc = XLEV_ERROR_INVAL;
    } else {
        ds->waiting = 1;
        rc = 0;
    }
    XLEV__UNLOCK(ctx);
    if (rc)
        return rc;

    for (;;) {
        struct timeval now;
        int nfds = nfds_allocd, timeout = -1;

        rc = xlev_event_check(ctx, event_r, typemask, predicate,
                              predicate_user);
        if (rc != XLEV_ERROR_NOT_READY)
            break;

        xlev_osevent_now(ctx, &now);
        rc = xlev_osevent_beforepoll(ctx, &nfds, fds, &timeout, now);
        if (rc == XLEV_ERROR_BUFFERFULL) {
            struct pollfd *newfds
                = xlev__realloc_array(fds, nfds, sizeof(*fds));

            if (!newfds) {
                rc = XLEV_ERROR_NOMEM;
                break;
            }
            fds = newfds;
            nfds_allocd = nfds;
            continue;
        }
        if (rc)
            break;
        if (poll(fds, nfds, timeout) < 0) {
            if (errno == EINTR)
                continue;
            xlev__log(ctx, LOG_DEBUG, "xlev_event_wait: poll: %s",
                      strerror(errno));
            rc = XLEV_ERROR_FAIL;
            break;
        }
        xlev_osevent_now(ctx, &now);
        rc = xlev_osevent_afterpoll(ctx, nfds, fds, now);
        if (rc)
            break;
    }

    free(fds);
    XLEV__LOCK(ctx);
    ds->waiting = 0;
    XLEV__UNLOCK(ctx);
    return rc;
}
