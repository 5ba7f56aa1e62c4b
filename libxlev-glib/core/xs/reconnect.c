/* reconnect.c: a context that survives a daemon restart
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "Reconnecting" in xs-private.h for the state machine and its locks,
 * and xlev_ctx_set_reconnect() in xlev-event.h for the contract. This file
 * sits above the connection (conn.c) and the watches (watch.c): conn.c
 * reaches it only through the upcall xs->lost_locked, which connect.c
 * points here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs-private.h"

/*======================================================================*/
/* The hook: one deferred record per change, target &xs->hook_target */

struct hook_rec {
    struct xlev__deferred d;
    int connected;
    void (*fn)(void *user, int connected);
    void *user;
};

static int
hook_rec_prepare_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct hook_rec *r = XLEV__CONTAINER_OF(d, struct hook_rec, d);

    /* The hook as it is now: it may have been replaced meanwhile. */
    r->fn = ctx->xs ? ctx->xs->connection_changed : NULL;
    r->user = ctx->xs ? ctx->xs->hook_user : NULL;
    if (!r->fn) {
        free(r);
        return 0;
    }
    return 1;
}

static void
hook_rec_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct hook_rec *r = XLEV__CONTAINER_OF(d, struct hook_rec, d);

    r->fn(r->user, r->connected);
    free(r);
}

static const struct xlev__deferred_ops hook_rec_ops = {
    .prepare_locked = hook_rec_prepare_locked,
    .run = hook_rec_run,
};

/* Tells the hook, unless it was told that already. Lock held. */
static void
announce_locked(xlev_ctx *ctx, int connected)
{
    struct xlev__xs *xs = ctx->xs;
    struct hook_rec *r;

    if (xs->announced == connected)
        return;
    xs->announced = connected;
    if (!xs->connection_changed)
        return;
    r = xlev__calloc(1, sizeof(*r));
    if (!r) {
        xlev__disaster_locked(ctx, XLEV_DISASTER_NOMEM, ENOMEM,
                              "cannot tell the application that the "
                              "xenstore connection is %s",
                              connected ? "back" : "lost");
        return;
    }
    r->connected = connected;
    xlev__deferred_queue_locked(ctx, &r->d, &hook_rec_ops, &xs->hook_target);
    /* Found outside the loop (a blocking call in another thread): make
     * the loop come round to run it (a loss under NEVER has armed the
     * liveness timeout for that already). */
    if (ctx->hooks && xs->policy != XLEV_RECONNECT_NEVER
        && !xlev__deferred_in_callback_locked(ctx))
        xlev__osevent_resume_locked(ctx);
}

/*======================================================================*/
/* WAITING -> CONNECTING -> REREGISTERING -> CONNECTED */

static void reconnect_cb(xlev_ctx *ctx, xlev_ev_time *ev,
                         const struct timeval *abs);

/* Arms the timeout for the next attempt, in @ms. Lock held. */
static void
wait_locked(xlev_ctx *ctx, int ms)
{
    struct xlev__xs *xs = ctx->xs;
    int rc;

    xs->state = XLEV__XS_WAITING;
    xlev__time_deregister_locked(ctx, &xs->reconnect);
    rc = xlev__time_register_rel_locked(ctx, &xs->reconnect, reconnect_cb, ms);
    if (rc) {
        /* Nothing would ever try again: as good as NEVER. */
        xs->state = XLEV__XS_DEAD;
        xlev__disaster_locked(ctx, XLEV_DISASTER_XENSTORE, 0,
                              "the xenstore connection was lost and no "
                              "timeout could be armed to reconnect (%d)",
                              rc);
    }
}

/* The next attempt's delay: doubled, up to the cap. Lock held. */
static int
backoff_next_locked(struct xlev__xs *xs)
{
    int ms = xs->backoff_ms;

    xs->backoff_ms = ms >= XLEV_RECONNECT_BACKOFF_MAX_MS / 2
                         ? XLEV_RECONNECT_BACKOFF_MAX_MS
                         : ms * 2;
    return ms;
}

/* What a re-registration's answer carries. */
struct rereg {
    unsigned int gen;
    int slotnum;
    uint32_t counterval;
};

/* REREGISTERING -> CONNECTED: hook(1), then the watches' one event each.
 * Lock held. */
static void
connected_locked(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;
    int i;

    xs->state = XLEV__XS_CONNECTED;
    xs->backoff_ms = XLEV_RECONNECT_BACKOFF_MIN_MS;
    __atomic_store_n(&xs->accepting, 1, __ATOMIC_RELEASE);
    xlev__log(ctx, LOG_INFO, "reconnected to xenstored at %s", xs->path);
    announce_locked(ctx, 1);
    for (i = 0; i < xs->nslots; i++) {
        if (xs->slots[i].w && xs->slots[i].synthetic) {
            xs->slots[i].synthetic = 0;
            xlev__xs_watch_synthetic_locked(ctx, i);
        }
    }
}

/* A re-registration's answer (an asynchronous reply: lock dropped). */
static void
rereg_done(xlev_ctx *ctx, void *user, int rc, const char *value,
           unsigned int len)
{
    struct rereg *rr = user;
    struct xlev__xs *xs;

    if (rc == XLEV_ERROR_CANCELLED) {
        free(rr); /* the context is being freed */
        return;
    }
    XLEV__LOCK(ctx);
    xs = ctx->xs;
    if (xs && rr->gen == xs->gen && xs->state == XLEV__XS_REREGISTERING) {
        struct xlev__watch_slot *slot
            = rr->slotnum < xs->nslots ? &xs->slots[rr->slotnum] : NULL;
        int same = slot && slot->w && slot->w->counterval == rr->counterval;

        if (rc && same) {
            /* It stays registered with us, never with the daemon: say so.
             * Its one event still comes, so its owner looks again. */
            /* Nobody else is told: a warning. */
            xlev__log(ctx, LOG_WARNING,
                      "xenstored refused to watch %s again after "
                      "reconnecting: %s; the watch gets no more events",
                      slot->w->path, xlev_strerror(rc));
            slot->drop_initial = 0;
        }
        if (--xs->rereg_outstanding == 0)
            connected_locked(ctx);
    }
    XLEV__UNLOCK(ctx);
    free(rr);
}

/* CONNECTING, a new socket installed: every live watch again, same token.
 * Lock held. */
static void
reregister_locked(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;
    int i;

    xs->state = XLEV__XS_REREGISTERING;
    xs->rereg_outstanding = 1; /* until every request is sent */
    for (i = 0; i < xs->nslots && !xs->broken; i++) {
        struct xlev__watch_slot *slot = &xs->slots[i];
        char token[XLEV__XS_TOKEN_MAX];
        struct rereg *rr;
        int rc;

        if (!slot->w)
            continue;
        slot->synthetic = 1;
        rr = xlev__malloc(sizeof(*rr));
        if (!rr) {
            xlev__log(ctx, LOG_WARNING,
                      "out of memory registering the watch on %s again",
                      slot->w->path);
            continue;
        }
        rr->gen = xs->gen;
        rr->slotnum = i;
        rr->counterval = slot->w->counterval;
        xlev__xs_watch_token_locked(ctx, i, token);
        slot->drop_initial = 1;
        rc = xlev__xs_conn_watch_async_locked(ctx, slot->w->path, token,
                                              rereg_done, rr);
        if (rc) {
            slot->drop_initial = 0;
            free(rr);
            if (!xs->broken)
                xlev__log(ctx, LOG_WARNING,
                          "cannot register the watch on %s again: %s",
                          slot->w->path, xlev_strerror(rc));
            continue;
        }
        xs->rereg_outstanding++;
    }
    /* Lost again while sending: the upcall went back to WAITING. */
    if (xs->state != XLEV__XS_REREGISTERING)
        return;
    if (--xs->rereg_outstanding == 0)
        connected_locked(ctx);
}

/* The reconnect timeout: one attempt. Lock dropped on entry. */
static void
reconnect_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    struct xlev__xs *xs;
    int fd = -1, rc;

    XLEV__LOCK(ctx);
    xs = ctx->xs;
    if (!xs || xs->state != XLEV__XS_WAITING
        || xlev_ev_time_isregistered(&xs->reconnect)) {
        XLEV__UNLOCK(ctx);
        return;
    }
    xs->state = XLEV__XS_CONNECTING;
    XLEV__UNLOCK(ctx);

    rc = xlev__xs_conn_connect(ctx, &fd);

    XLEV__LOCK(ctx);
    if (xs->state != XLEV__XS_CONNECTING) {
        /* The policy became NEVER meanwhile. */
        if (fd >= 0)
            close(fd);
        XLEV__UNLOCK(ctx);
        return;
    }
    if (!rc) {
        rc = xlev__xs_conn_install_locked(ctx, fd);
        if (rc == XLEV_ERROR_BUSY) {
            /* A blocking caller is leaving the old socket: soon. */
            close(fd);
            wait_locked(ctx, XLEV_RECONNECT_BACKOFF_MIN_MS);
            XLEV__UNLOCK(ctx);
            return;
        }
    }
    if (rc) {
        int ms = backoff_next_locked(xs);

        xlev__log(ctx, LOG_DEBUG,
                  "cannot reconnect to xenstored at %s (%s): next attempt "
                  "in %d ms",
                  xs->path, xlev_strerror(rc), ms);
        wait_locked(ctx, ms);
        XLEV__UNLOCK(ctx);
        return;
    }
    xs->gen++;
    __atomic_store_n(&xs->broken, 0, __ATOMIC_RELEASE);
    reregister_locked(ctx);
    XLEV__UNLOCK(ctx);
}

/*======================================================================*/
/* Losing the connection, the policy */

void
xlev__xs_reconnect_lost_locked(xlev_ctx *ctx, int errnoval, const char *what)
{
    struct xlev__xs *xs = ctx->xs;

    if (xs->broken)
        return;
    if (xs->policy == XLEV_RECONNECT_NEVER) {
        xlev__xs_lost_locked(ctx, errnoval, what);
        announce_locked(ctx, 0);
        return;
    }
    __atomic_store_n(&xs->broken, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&xs->accepting, 0, __ATOMIC_RELEASE);
    /* The application is told (the hook): not a warning. */
    xlev__log(ctx, LOG_NOTICE, "%s (%s): reconnecting to %s", what,
              errnoval ? strerror(errnoval) : "no errno", xs->path);
    announce_locked(ctx, 0);
    xs->backoff_ms = XLEV_RECONNECT_BACKOFF_MIN_MS;
    wait_locked(ctx, backoff_next_locked(xs));
}

int
xlev_ctx_set_reconnect(xlev_ctx *ctx, xlev_reconnect_policy policy,
                       const xlev_reconnect_hooks *hooks, void *user)
{
    struct xlev__xs *xs;

    if (!ctx || !ctx->xs
        || (policy != XLEV_RECONNECT_NEVER
            && policy != XLEV_RECONNECT_AUTOMATIC))
        return XLEV_ERROR_INVAL;
    xs = ctx->xs;
    if (xs->transport == XLEV_XS_TRANSPORT_NONE)
        return XLEV_ERROR_INVAL;
    if (policy == XLEV_RECONNECT_AUTOMATIC
        && xs->transport != XLEV_XS_TRANSPORT_SOCKET)
        return XLEV_ERROR_NOSYS;

    XLEV__LOCK(ctx);
    xs->connection_changed = hooks ? hooks->connection_changed : NULL;
    xs->hook_user = hooks ? user : NULL;
    xs->policy = policy;
    if (policy == XLEV_RECONNECT_AUTOMATIC && xs->state == XLEV__XS_DEAD) {
        /* Lost before, under NEVER (its disaster told already): try now. */
        xs->backoff_ms = XLEV_RECONNECT_BACKOFF_MIN_MS;
        wait_locked(ctx, 0);
    } else if (policy == XLEV_RECONNECT_NEVER && xs->state != XLEV__XS_CONNECTED
               && xs->state != XLEV__XS_DEAD) {
        /* Stop trying: what NEVER would have said at the loss. A
         * connection that was being registered again is lost too. */
        xlev__time_deregister_locked(ctx, &xs->reconnect);
        if (xs->state == XLEV__XS_REREGISTERING) {
            __atomic_store_n(&xs->broken, 0, __ATOMIC_RELEASE);
            xlev__xs_conn_lost_locked(ctx, 0,
                                      "reconnecting was stopped while the "
                                      "watches were registered again");
        } else {
            xs->state = XLEV__XS_CONNECTED; /* so that lost_locked acts */
            __atomic_store_n(&xs->broken, 0, __ATOMIC_RELEASE);
            xlev__xs_lost_locked(ctx, 0,
                                 "the xenstore connection was lost and "
                                 "reconnecting was stopped");
        }
    }
    XLEV__UNLOCK(ctx);
    return 0;
}

xlev_reconnect_policy
xlev_ctx_get_reconnect(xlev_ctx *ctx)
{
    xlev_reconnect_policy p;

    if (!ctx || !ctx->xs)
        return XLEV_RECONNECT_NEVER;
    XLEV__LOCK(ctx);
    p = ctx->xs->policy;
    XLEV__UNLOCK(ctx);
    return p;
}

int
xlev_ctx_is_connected(xlev_ctx *ctx)
{
    if (!ctx || !ctx->xs || ctx->xs->transport == XLEV_XS_TRANSPORT_NONE)
        return 0;
    return !__atomic_load_n(&ctx->xs->broken, __ATOMIC_ACQUIRE)
           && xlev__xs_is_accepting(ctx);
}

void
xlev__xs_reconnect_free_locked(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;

    xlev__time_deregister_locked(ctx, &xs->reconnect);
    xlev__deferred_cancel_locked(ctx, &xs->hook_target);
    free(xs->txs);
    xs->txs = NULL;
    xs->n_txs = xs->txs_allocd = 0;
}
