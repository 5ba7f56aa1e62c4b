/* event-queue.c: domain events on their way to the application
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The queue of struct xlev__domain (see domain-private.h): what the
 * generators found, xlev_event_check() and xlev_event_wait() that take it
 * from there, and delivery to the event hooks.
 *
 * Delivery. Scans run inside the core's deferred callbacks (the shared
 * watch or timeout, or an eject watch), lock dropped. They take ctx->lock,
 * queue what they found and then call xlev__domain_deliver_and_unlock(),
 * which hands each queued event of a type in the hooks' mask to
 * event_occurs with the lock dropped. While an event of generator G is
 * being delivered, a record {G, this thread} is on `delivering`;
 * evdisable(G) removes G's queued events and waits (on ctx->cond, which
 * deliver broadcasts) until no other thread is delivering for G. That is
 * the "nothing after evdisable" promise, kept also for events that another
 * generator's scan delivers.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain-private.h"

/* A queued event, or a disaster waiting to be reported to the hooks. */
struct xlev__devent {
    xlev_event ev; /* first: xlev_event_free() frees the record */
    const void *gen;
    struct xlev__devent *next, *prev;
    /* disasters only (never seen by xlev_event_check) */
    int is_disaster;
    int errnoval;
    char *msg; /* same allocation */
};

/* A delivery in progress: see "Delivery" above. On the stack of the
 * delivering thread. */
struct xlev__delivering {
    struct xlev__delivering *next;
    const void *gen;
    pthread_t thread;
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
    if (!e->is_disaster && e->ev.type == XLEV_EVENT_TYPE_DISK_EJECT)
        free(e->ev.u.disk_eject.vdev);
    free(e);
}

/* Drops every queued event of gen. */
static void
queue_cancel_locked(struct xlev__domain *ds, const void *gen)
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

static int
delivering_other_thread_locked(struct xlev__domain *ds, const void *gen)
{
    struct xlev__delivering *d;
    pthread_t self = pthread_self();

    for (d = ds->delivering; d; d = d->next)
        if ((!gen || d->gen == gen) && !pthread_equal(d->thread, self))
            return 1;
    return 0;
}

/* Waits until no other thread delivers an event of gen (NULL: of any
 * generator). Lock held; ctx->cond is broadcast after each delivery. */
void
xlev__domain_delivering_wait_locked(struct xlev__domain *ds, const void *gen)
{
    while (delivering_other_thread_locked(ds, gen))
        pthread_cond_wait(&ds->ctx->cond, &ds->ctx->lock);
}

/* Retires gen: see "Delivery" above. Lock held. */
void
xlev__domain_gen_retire_locked(struct xlev__domain *ds, const void *gen)
{
    queue_cancel_locked(ds, gen);
    xlev__domain_delivering_wait_locked(ds, gen);
}

/* Reports a failure to produce an event: to the event hooks' disaster
 * callback when there is one (queued, reported by
 * xlev__domain_deliver_and_unlock), else to the context's disaster hook
 * (the core's queue: we run inside one of its callbacks, so it is reported
 * as soon as we return). */
void
xlev__domain_disaster_locked(struct xlev__domain *ds, xlev_event_type type,
                             int errnoval, const char *fmt, ...)
{
    struct xlev__devent *e;
    char buf[512];
    size_t len;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    if (!ds->hooks || !ds->hooks->disaster) {
        xlev__disaster_locked(ds->ctx,
                              errnoval == ENOMEM ? XLEV_DISASTER_NOMEM
                                                 : XLEV_DISASTER_XENSTORE,
                              errnoval, "domain events: %s", buf);
        return;
    }
    xlev__log(ds->ctx, LOG_ERR, "domain events: %s", buf);
    len = strlen(buf) + 1;
    e = xlev__malloc(sizeof(*e) + len);
    if (!e) {
        fprintf(stderr,
                "libxlev-glib: domain events: %s (not reported to the "
                "application: out of memory)\n",
                buf);
        return;
    }
    memset(e, 0, sizeof(*e));
    e->is_disaster = 1;
    e->ev.type = type;
    e->errnoval = errnoval;
    e->msg = (char *)(e + 1);
    memcpy(e->msg, buf, len);
    queue_append_locked(ds, e);
}

/* Makes and queues an event; the event, or NULL (out of memory: then a
 * disaster is reported and nothing queued). vdev is copied. */
xlev_event *
xlev__domain_queue_event_locked(struct xlev__domain *ds, const void *gen,
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
        ds, type, ENOMEM,
        "out of memory: an event for domain %" PRIu32 " was lost", domid);
    return NULL;
}

/* The first queued item the hooks take, or NULL. */
static struct xlev__devent *
queue_first_for_hooks_locked(struct xlev__domain *ds)
{
    struct xlev__devent *e;

    if (!ds->hooks)
        return NULL;
    for (e = ds->qhead; e; e = e->next) {
        if (e->is_disaster)
            return e;
        if (ds->hooks->event_occurs
            && (ds->hooks->event_occurs_mask & XLEV_EVENTMASK(e->ev.type)))
            return e;
    }
    return NULL;
}

/*
 * Hands what the hooks take to them, one at a time, lock dropped around
 * each call. Lock held on entry, dropped on return.
 */
void
xlev__domain_deliver_and_unlock(struct xlev__domain *ds)
{
    xlev_ctx *ctx = ds->ctx;
    struct xlev__devent *e;

    while ((e = queue_first_for_hooks_locked(ds))) {
        struct xlev__delivering d, **dp;
        void (*occurs)(void *, xlev_event *) = ds->hooks->event_occurs;
        void (*disaster)(void *, xlev_event_type, const char *, int)
            = ds->hooks->disaster;
        void *user = ds->hooks_user;

        queue_remove_locked(ds, e);
        d.gen = e->gen;
        d.thread = pthread_self();
        d.next = ds->delivering;
        ds->delivering = &d;
        XLEV__UNLOCK(ctx);

        if (e->is_disaster) {
            if (disaster)
                disaster(user, e->ev.type, e->msg, e->errnoval);
            else
                fprintf(stderr, "libxlev-glib: domain events: %s\n", e->msg);
            free(e);
        } else {
            occurs(user, &e->ev); /* the event is the application's now */
        }

        XLEV__LOCK(ctx);
        for (dp = &ds->delivering; *dp; dp = &(*dp)->next) {
            if (*dp == &d) {
                *dp = d.next;
                break;
            }
        }
        pthread_cond_broadcast(&ctx->cond);
    }
    XLEV__UNLOCK(ctx);
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
        if (e->is_disaster)
            continue;
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
        xlev__log(ctx, LOG_ERR,
                  "xlev_event_wait: the context runs in hooks style: wait "
                  "in the application's loop (xlev_event_check)");
        rc = XLEV_ERROR_INVAL;
    } else if (ds->waiting) {
        xlev__log(ctx, LOG_ERR,
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
            xlev__log(ctx, LOG_ERR, "xlev_event_wait: poll: %s",
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

/*======================================================================*/
/* Freeing the context */

void
xlev__domain_queue_free_all(struct xlev__domain *ds)
{
    struct xlev__devent *e;

    while ((e = ds->qhead)) {
        queue_remove_locked(ds, e);
        devent_free(e);
    }
}
