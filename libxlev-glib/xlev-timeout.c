/* xlev-timeout.c: XlevTimeout, a monotonic one-shot timer
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-timeout.h"
#include "xlev-context-private.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"

/**
 * XlevTimeout:
 *
 * A one-shot timer on the monotonic clock, kept by the core alongside its
 * xenstore watches.
 *
 * Made with [method@Xlev.Context.timeout] (in milliseconds from now) or
 * [method@Xlev.Context.timeout_at] (a wall-clock time, converted to the
 * monotonic clock once, when the timeout is made: a later change of the
 * system clock neither fires nor delays it). When it is due,
 * [signal@Xlev.Timeout::fired] is emitted once in the main context of the
 * [class@Xlev.Context]; [method@Xlev.Timeout.reschedule] arms it again.
 *
 * It is never early: a deadline less than a millisecond away waits for
 * the next millisecond rather than spinning the main loop.
 *
 * Dropping the last reference cancels it.
 *
 * Since: 1.0
 */

/*
 * `lock` serialises reschedule, cancel and dispose with each other, so
 * that "modify, or register again if it already fired" is one step. It is
 * never taken by timeout_cb (a deregistration waits for a running
 * callback, which would deadlock), and nothing else is taken inside it but
 * the core's lock and the context's queue lock.
 *
 * `ev` is Active while armed and Idle once fired or cancelled (the core
 * makes it Idle just before calling timeout_cb).
 *
 * Queued items point at the timeout itself, with no reference (the rule
 * is at "Naming the target" in xlev-dispatch.c): timeout_cb queues only
 * while `ev` is registered or its callback running; cancel, which dispose
 * calls, deregisters `ev` and then unqueues; emit_fired emits only while
 * `disposed` is 0, which dispose sets before it cancels.
 */
struct _XlevTimeout {
    GObject parent_instance;

    XlevContext *context; /* strong; keeps the core context alive */
    GMutex lock;
    gint disposed; /* atomic */
    xlev_ev_time ev;
};

enum {
    PROP_0,
    PROP_CONTEXT,
    N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
    FIRED,
    N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(XlevTimeout, xlev_timeout, G_TYPE_OBJECT)

/* Delivery, in the main context's thread, no lock held. */
static void
emit_fired(GObject *target, const XlevItem *item)
{
    XlevTimeout *self = (XlevTimeout *)target;

    if (!g_atomic_int_get(&self->disposed))
        g_signal_emit(self, signals[FIRED], 0);
}

/* Core callback: core lock dropped, in the main context's thread. */
static void
timeout_cb(xlev_ctx *core, xlev_ev_time *ev,
           const struct timeval *requested_abs)
{
    XlevTimeout *self =
        (XlevTimeout *)((char *)ev - G_STRUCT_OFFSET(XlevTimeout, ev));

    xlev_dispatch_queue(xlev_context_get_dispatch(self->context),
                        xlev_item_new(G_OBJECT(self), emit_fired,
                                      XLEV_ITEM_TIMEOUT, NULL));
}

static gboolean
check_ms(guint ms, GError **error)
{
    if (ms <= G_MAXINT)
        return TRUE;
    xlev_i18n_init();
    g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                _("A timeout of %u ms is longer than the longest allowed, "
                  "%d ms"),
                ms, G_MAXINT);
    return FALSE;
}

static void
xlev_timeout_dispose(GObject *object)
{
    XlevTimeout *self = XLEV_TIMEOUT(object);

    if (self->context != NULL) {
        g_atomic_int_set(&self->disposed, 1);
        xlev_timeout_cancel(self);
        g_clear_object(&self->context);
    }

    G_OBJECT_CLASS(xlev_timeout_parent_class)->dispose(object);
}

static void
xlev_timeout_finalize(GObject *object)
{
    XlevTimeout *self = XLEV_TIMEOUT(object);

    g_mutex_clear(&self->lock);

    G_OBJECT_CLASS(xlev_timeout_parent_class)->finalize(object);
}

static void
xlev_timeout_get_property(GObject *object, guint prop_id, GValue *value,
                          GParamSpec *pspec)
{
    XlevTimeout *self = XLEV_TIMEOUT(object);

    switch (prop_id) {
    case PROP_CONTEXT:
        g_value_set_object(value, self->context);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_timeout_class_init(XlevTimeoutClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = xlev_timeout_dispose;
    object_class->finalize = xlev_timeout_finalize;
    object_class->get_property = xlev_timeout_get_property;

    /**
     * XlevTimeout:context:
     *
     * The context the timeout was made from.
     *
     * Since: 1.0
     */
    properties[PROP_CONTEXT] =
        g_param_spec_object("context", NULL, NULL, XLEV_TYPE_CONTEXT,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    g_object_class_install_properties(object_class, N_PROPS, properties);

    /**
     * XlevTimeout::fired:
     * @self: the timeout
     *
     * The timeout is due. Emitted once per arming, in the main context of
     * the timeout's [class@Xlev.Context].
     *
     * Since: 1.0
     */
    signals[FIRED] =
        g_signal_new("fired", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                     NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
xlev_timeout_init(XlevTimeout *self)
{
    g_mutex_init(&self->lock);
    xlev_ev_time_init(&self->ev);
}

static XlevTimeout *
timeout_new(XlevContext *context)
{
    XlevTimeout *self = g_object_new(XLEV_TYPE_TIMEOUT, NULL);

    self->context = g_object_ref(context);
    return self;
}

/**
 * xlev_context_timeout:
 * @context: a context
 * @ms: milliseconds from now, at most %G_MAXINT
 * @error: return location for a #GError
 *
 * Makes a timeout that fires @ms milliseconds from now, on the monotonic
 * clock.
 *
 * Returns: (transfer full): a new, armed timeout, or %NULL with @error set
 *
 * Since: 1.0
 */
XlevTimeout *
xlev_context_timeout(XlevContext *context, guint ms, GError **error)
{
    g_autoptr(XlevTimeout) self = NULL;
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(context), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_context_check_ready(context, error) || !check_ms(ms, error))
        return NULL;

    self = timeout_new(context);
    rc = xlev_ev_time_register_rel(xlev_context_get_core(context), &self->ev,
                                   timeout_cb, (int)ms);
    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot set a timeout"));
        return NULL;
    }
    return g_steal_pointer(&self);
}

/**
 * xlev_context_timeout_at:
 * @context: a context
 * @when: a wall-clock time
 * @error: return location for a #GError
 *
 * Makes a timeout that fires at @when. The wall-clock time is converted to
 * the monotonic clock once, now: if the system clock is changed later, the
 * timeout still fires after the same amount of real time. A time in the
 * past fires at the next main context iteration.
 *
 * Returns: (transfer full): a new, armed timeout, or %NULL with @error set
 *
 * Since: 1.0
 */
XlevTimeout *
xlev_context_timeout_at(XlevContext *context, GDateTime *when, GError **error)
{
    g_autoptr(XlevTimeout) self = NULL;
    struct timeval wall;
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(context), NULL);
    g_return_val_if_fail(when != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_context_check_ready(context, error))
        return NULL;

    wall.tv_sec = (time_t)g_date_time_to_unix(when);
    wall.tv_usec = g_date_time_get_microsecond(when);

    self = timeout_new(context);
    rc = xlev_ev_time_register_wall(xlev_context_get_core(context), &self->ev,
                                    timeout_cb, wall);
    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot set a timeout"));
        return NULL;
    }
    return g_steal_pointer(&self);
}

/**
 * xlev_timeout_get_context:
 * @self: a timeout
 *
 * Gets the context @self was made from.
 *
 * Returns: (transfer none) (nullable): the context @self was made from
 *   (%NULL only after @self was disposed)
 *
 * Since: 1.0
 */
XlevContext *
xlev_timeout_get_context(XlevTimeout *self)
{
    g_return_val_if_fail(XLEV_IS_TIMEOUT(self), NULL);

    return self->context;
}

/**
 * xlev_timeout_get_pending:
 * @self: a timeout
 *
 * Gets whether @self is armed.
 *
 * Returns: %TRUE if @self is armed: it has neither fired nor been
 *   cancelled since it was made or last rescheduled
 *
 * Since: 1.0
 */
gboolean
xlev_timeout_get_pending(XlevTimeout *self)
{
    g_return_val_if_fail(XLEV_IS_TIMEOUT(self), FALSE);

    return xlev_ev_time_isregistered(&self->ev) != 0;
}

/**
 * xlev_timeout_reschedule:
 * @self: a timeout
 * @ms: milliseconds from now, at most %G_MAXINT
 * @error: return location for a #GError
 *
 * Arms @self again, to fire @ms milliseconds from now, whether it was
 * pending, had fired or was cancelled. A ::fired of the previous arming
 * that was due but not yet emitted is dropped.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_timeout_reschedule(XlevTimeout *self, guint ms, GError **error)
{
    xlev_ctx *core;
    int rc;

    g_return_val_if_fail(XLEV_IS_TIMEOUT(self), FALSE);
    g_return_val_if_fail(self->context != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!check_ms(ms, error))
        return FALSE;

    core = xlev_context_get_core(self->context);
    g_mutex_lock(&self->lock);
    xlev_dispatch_unqueue(xlev_context_get_dispatch(self->context),
                          G_OBJECT(self));
    rc = xlev_ev_time_modify_rel(core, &self->ev, (int)ms);
    if (rc == XLEV_ERROR_INVAL) /* Idle: fired or cancelled */
        rc = xlev_ev_time_register_rel(core, &self->ev, timeout_cb, (int)ms);
    g_mutex_unlock(&self->lock);

    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot set a timeout"));
        return FALSE;
    }
    return TRUE;
}

/**
 * xlev_timeout_cancel:
 * @self: a timeout
 *
 * Disarms @self: it does not fire until rescheduled. Idempotent; may be
 * called from any thread, and from a ::fired handler.
 *
 * Since: 1.0
 */
void
xlev_timeout_cancel(XlevTimeout *self)
{
    g_return_if_fail(XLEV_IS_TIMEOUT(self));

    if (self->context == NULL)
        return;
    g_mutex_lock(&self->lock);
    xlev_ev_time_deregister(xlev_context_get_core(self->context), &self->ev);
    xlev_dispatch_unqueue(xlev_context_get_dispatch(self->context),
                          G_OBJECT(self));
    g_mutex_unlock(&self->lock);
}
