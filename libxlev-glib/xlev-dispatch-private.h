/* xlev-dispatch-private.h: the GObject layer's one delivery path, from a
 * core callback to a signal in the owner's main context
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The bottom of the GObject layer: it calls the core's public header and
 * GLib, nothing else of ours. Above it, the two integrations (xlev-source.c,
 * xlev-glib-hooks.c) run the core between xlev_dispatch_begin() and
 * xlev_dispatch_end(); above them,
 * XlevContext owns one XlevDispatch; on top, the objects (XlevWatch,
 * XlevTimeout, XlevDomainMonitor) queue XlevItems from their core callbacks
 * and emit them from their emit functions.
 *
 * One event's way (docs/overview.md has it as a list of hops):
 *
 *   1. An integration's dispatch calls xlev_dispatch_begin(), then the
 *      core (afterpoll, occurred_fd, occurred_timeout).
 *   2. Inside that call the core runs the due registrations' callbacks
 *      with its lock dropped; they only build an XlevItem
 *      (xlev_item_new()) and queue it (xlev_dispatch_queue()).
 *   3. When the core call has returned, the integration calls
 *      xlev_dispatch_end(), which delivers: it takes the items one by one,
 *      references each one's target under the queue lock and calls the
 *      item's emit function, which emits the signal with no lock held.
 *
 * Items that do not come from a core call made by an integration (a
 * disaster, a property notification from another thread) are posted
 * (xlev_dispatch_post()): queued the same way, and a GSource of the
 * dispatch attached to the owner's main context delivers them there.
 *
 * Threads: every function may be called from any thread, except
 * xlev_dispatch_begin(), _end() and _is_running(), which belong to the
 * thread iterating the owner's main context.
 */
#pragma once

#include <glib-object.h>

#include "core/xlev-event.h"

G_BEGIN_DECLS

typedef struct _XlevDispatch XlevDispatch;
typedef struct _XlevItem XlevItem;

/* What an item carries. */
typedef enum {
    XLEV_ITEM_WATCH,    /* text: the event path */
    XLEV_ITEM_TIMEOUT,  /* nothing */
    XLEV_ITEM_DOMAIN,   /* u.domain; text: the vdev of a disk eject */
    XLEV_ITEM_DISASTER, /* u.disaster; text: the message */
    XLEV_ITEM_NOTIFY,   /* u.notify */
    XLEV_ITEM_TASK,     /* nothing: the target is a GTask (xlev-xs-ops.c)
                         * whose data holds the answer */
    XLEV_ITEM_CONNECTION, /* u.connection: the connection lost or back */
} XlevItemKind;

/* Emits the signal @item stands for. Called in the thread iterating the
 * owner's main context, no lock held; @target is a strong reference, held
 * for the duration of the call. Must check that @target still wants to
 * emit (it may have been cancelled since the item was queued). */
typedef void (*XlevEmitFunc)(GObject *target, const XlevItem *item);

struct _XlevItem {
    XlevItem *next;  /* the queue's; nobody else touches it */
    GObject *target; /* no reference: see "Naming the target" */
    XlevEmitFunc emit;
    XlevItemKind kind;
    union {
        struct {
            int type; /* xlev_event_type */
            guint domid;
            guint reason; /* xlev_shutdown_reason, DOMAIN_SHUTDOWN only */
        } domain;
        struct {
            int kind; /* xlev_disaster_kind */
        } disaster;
        struct {
            GParamSpec *pspec;
        } notify;
        struct {
            gboolean connected;
        } connection;
    } u;
    char text[]; /* "" when the kind carries none */
};

/* A new item for @target, one allocation with a copy of @text (NULL: ""
 * is stored). The caller fills in `u` and queues or posts it. */
XlevItem *xlev_item_new(GObject *target, XlevEmitFunc emit, XlevItemKind kind,
                        const char *text);

/* @owner: the XlevContext (a weak reference is kept; the dispatch never
 * keeps it alive); @core: its core context, valid while @owner is alive;
 * @main_context: where items are delivered. Reference-counted: the owner
 * keeps one and each integration source one, since a GSource may outlive
 * its owner. */
XlevDispatch *xlev_dispatch_new(GObject *owner, xlev_ctx *core,
                                GMainContext *main_context);
XlevDispatch *xlev_dispatch_ref(XlevDispatch *self);
void xlev_dispatch_unref(XlevDispatch *self);

/* The owner's dispose: queued items are dropped, items queued later are
 * dropped at once, nothing more is delivered. Idempotent. */
void xlev_dispatch_close(XlevDispatch *self);

/* Appends @item (taking it). Called from a core callback (core lock
 * dropped) or by a thread holding a reference to the target. Takes only
 * the queue lock. Delivered by the xlev_dispatch_end() that follows the
 * core call. */
void xlev_dispatch_queue(XlevDispatch *self, XlevItem *item);

/* The same, and makes sure it is delivered in the owner's main context
 * soon even if no core call comes: for items made outside a core call
 * (disasters, notifications from other threads). */
void xlev_dispatch_post(XlevDispatch *self, XlevItem *item);

/* Drops every queued item for @target. The target's dispose calls it once
 * it can queue nothing more (see "Naming the target"). */
void xlev_dispatch_unqueue(XlevDispatch *self, GObject *target);

/* Emits notify::@pspec on @object (which the caller holds a reference
 * to) in the owner's main context: at once if the calling thread owns it
 * (or it is the thread-default main context here), else posted. */
void xlev_dispatch_notify(XlevDispatch *self, GObject *object,
                          GParamSpec *pspec);

/* Integrations. A GSource's dispatch that runs the core is bracketed:
 *
 *     core = xlev_dispatch_begin (d, &owner);
 *     if (core == NULL)
 *         return G_SOURCE_REMOVE;      (the owner is gone)
 *     xlev_osevent_afterpoll (core, ...);   (callbacks queue)
 *     xlev_dispatch_end (d, owner);          (delivers, drops owner)
 *
 * In the thread iterating the owner's main context. begin returns the
 * core and a strong reference to the owner (so the core stays valid), or
 * NULL if the owner is gone; it counts the dispatch as running. end
 * delivers what is queued unless this is a nested iteration inside
 * another dispatch of this dispatch (then the outer one delivers), and
 * releases @owner. */
xlev_ctx *xlev_dispatch_begin(XlevDispatch *self, GObject **owner_out);
void xlev_dispatch_end(XlevDispatch *self, GObject *owner);

/* Whether a dispatch (begin .. end) is under way in the calling thread
 * (which iterates the owner's main context): a prepare or check that finds
 * it so runs in a nested iteration, and polls nothing. */
gboolean xlev_dispatch_is_running(XlevDispatch *self);

/* The core and a strong reference to the owner in *owner_out (unref it),
 * or NULL once the owner is gone; for a prepare or check that needs the
 * core's clock. */
xlev_ctx *xlev_dispatch_hold(XlevDispatch *self, GObject **owner_out);

/* The core's timeval (its monotonic clock) in microseconds, the unit of
 * g_get_monotonic_time() and g_source_set_ready_time(), saturated at
 * G_MAXINT64 / G_MININT64: a deadline near the end of time_t (the core
 * keeps any representable one) is "never", not a signed overflow. */
static inline gint64
xlev_timeval_to_us(const struct timeval *tv)
{
    gint64 us;

    if (__builtin_mul_overflow((gint64)tv->tv_sec, (gint64)G_USEC_PER_SEC, &us)
        || __builtin_add_overflow(us, (gint64)tv->tv_usec, &us))
        return tv->tv_sec < 0 ? G_MININT64 : G_MAXINT64;
    return us;
}

G_END_DECLS
