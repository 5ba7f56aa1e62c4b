/* xlev-watch.c: XlevWatch, a xenstore watch whose events are signals
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-watch.h"
#include "xlev-context-private.h"
#include "xlev-enums.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"

/**
 * XlevWatch:
 *
 * A xenstore watch on a path and everything below it.
 *
 * Made with [method@Xlev.Context.watch]. Each change at or below
 * [property@Xlev.Watch:path] (or, for special paths such as
 * `@releaseDomain`, each time xenstored fires them) emits
 * [signal@Xlev.Watch::changed] in the main context of the
 * [class@Xlev.Context] the watch was made from; see its documentation for
 * the threading rules.
 *
 * An event means "go and read again", not "one write happened":
 * xenstored may merge events for the same path.
 *
 * The watch stays registered until [method@Xlev.Watch.cancel] is called or
 * its last reference is dropped. Once cancel has returned in the thread
 * iterating the context's main context, no more signals are emitted; a
 * handler may cancel its own watch or any other, and may drop its
 * references to the context.
 *
 * Since: 1.0
 */

/*
 * States, as for the core's registrations:
 *
 *   Active   - `active` is 1 and `ev` is registered with the core: the
 *              core may call watch_cb (in the main context's thread) and
 *              items for this watch may be queued on the context.
 *   Cancelled - `active` is 0, `ev` is Idle and nothing for this watch is
 *              queued. Final.
 *
 * Active -> Cancelled happens once, in whichever thread first wins the
 * compare-and-exchange on `active` (xlev_watch_cancel() or dispose): it
 * deregisters `ev`, which waits for a watch_cb running in another thread
 * to return, and then removes the items that watch_cb queued. An item
 * already taken off the queue by the delivery loop re-checks `active`
 * before emitting.
 *
 * Queued items point at the watch itself, with no reference: that is
 * sound because watch_cb queues only while `ev` is registered, dispose
 * deregisters it and then unqueues, and emit_changed checks `active`; the
 * argument is at "Naming the target" in xlev-dispatch.c. The last unref cannot race a cancel in another
 * thread (that thread holds a reference), so when dispose loses the
 * compare-and-exchange, the Cancelled transition has already completed.
 *
 * `path` is the one copy of the path: the core borrows it
 * (xlev_ev_xswatch_register_borrowed()) while `ev` is registered, and it
 * is freed in finalize, after dispose made `ev` Idle.
 */
struct _XlevWatch {
    GObject parent_instance;

    XlevContext *context; /* strong; keeps the core context alive */
    char *path;            /* lent to the core while `ev` is registered */
    XlevWatchFlags flags;
    gint active;           /* atomic */
    gboolean skip_next;    /* core callback only: initial event pending */
    xlev_ev_xswatch ev;
};

enum {
    PROP_0,
    PROP_CONTEXT,
    PROP_PATH,
    PROP_FLAGS,
    PROP_ACTIVE,
    N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
    CHANGED,
    N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(XlevWatch, xlev_watch, G_TYPE_OBJECT)

/* Delivery, in the main context's thread, no lock held. */
static void
emit_changed(GObject *target, const XlevItem *item)
{
    XlevWatch *self = (XlevWatch *)target;

    if (g_atomic_int_get(&self->active))
        g_signal_emit(self, signals[CHANGED], 0, item->text);
}

/* Core callback: core lock dropped, in the thread that called into the
 * core (the main context's). Queues; never emits. */
static void
watch_cb(xlev_ctx *core, xlev_ev_xswatch *w, const char *watch_path,
         const char *event_path)
{
    XlevWatch *self = (XlevWatch *)((char *)w - G_STRUCT_OFFSET(XlevWatch, ev));

    if (self->skip_next) {
        /* xenstored sends the initial event while handling the watch
         * request, before any later change, so it is the first. */
        self->skip_next = FALSE;
        return;
    }
    xlev_dispatch_queue(xlev_context_get_dispatch(self->context),
                        xlev_item_new(G_OBJECT(self), emit_changed,
                                      XLEV_ITEM_WATCH, event_path));
}

/* Active -> Cancelled; TRUE if this call did it. Any thread; not from
 * inside a core callback. */
static gboolean
deactivate(XlevWatch *self)
{
    if (!g_atomic_int_compare_and_exchange(&self->active, 1, 0))
        return FALSE;
    xlev_ev_xswatch_deregister(xlev_context_get_core(self->context),
                               &self->ev);
    xlev_dispatch_unqueue(xlev_context_get_dispatch(self->context),
                          G_OBJECT(self));
    return TRUE;
}

static void
xlev_watch_dispose(GObject *object)
{
    XlevWatch *self = XLEV_WATCH(object);

    if (self->context != NULL) {
        deactivate(self);
        g_clear_object(&self->context);
    }

    G_OBJECT_CLASS(xlev_watch_parent_class)->dispose(object);
}

static void
xlev_watch_finalize(GObject *object)
{
    XlevWatch *self = XLEV_WATCH(object);

    g_free(self->path);

    G_OBJECT_CLASS(xlev_watch_parent_class)->finalize(object);
}

static void
xlev_watch_get_property(GObject *object, guint prop_id, GValue *value,
                        GParamSpec *pspec)
{
    XlevWatch *self = XLEV_WATCH(object);

    switch (prop_id) {
    case PROP_CONTEXT:
        g_value_set_object(value, self->context);
        break;
    case PROP_PATH:
        g_value_set_string(value, self->path);
        break;
    case PROP_FLAGS:
        g_value_set_flags(value, self->flags);
        break;
    case PROP_ACTIVE:
        g_value_set_boolean(value, xlev_watch_get_active(self));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_watch_class_init(XlevWatchClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = xlev_watch_dispose;
    object_class->finalize = xlev_watch_finalize;
    object_class->get_property = xlev_watch_get_property;

    /**
     * XlevWatch:context:
     *
     * The context the watch was made from.
     *
     * Since: 1.0
     */
    properties[PROP_CONTEXT] =
        g_param_spec_object("context", NULL, NULL, XLEV_TYPE_CONTEXT,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    /**
     * XlevWatch:path:
     *
     * The watched xenstore path.
     *
     * Since: 1.0
     */
    properties[PROP_PATH] = g_param_spec_string(
        "path", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    /**
     * XlevWatch:flags:
     *
     * The flags the watch was made with.
     *
     * Since: 1.0
     */
    properties[PROP_FLAGS] = g_param_spec_flags(
        "flags", NULL, NULL, XLEV_TYPE_WATCH_FLAGS, XLEV_WATCH_FLAGS_NONE,
        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    /**
     * XlevWatch:active:
     *
     * Whether the watch is registered; %FALSE once it was cancelled.
     * Its notification is emitted in the context's main context.
     *
     * Since: 1.0
     */
    properties[PROP_ACTIVE] = g_param_spec_boolean(
        "active", NULL, NULL, FALSE,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

    g_object_class_install_properties(object_class, N_PROPS, properties);

    /**
     * XlevWatch::changed:
     * @self: the watch
     * @event_path: the path that changed: [property@Xlev.Watch:path] itself
     *   or a path below it
     *
     * Something at or below the watched path changed, or (first, unless
     * %XLEV_WATCH_FLAGS_SKIP_INITIAL was given) the watch was just
     * registered. Read the state again.
     *
     * Emitted in the main context of the watch's [class@Xlev.Context].
     *
     * Since: 1.0
     */
    signals[CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass),
                                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                    G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
xlev_watch_init(XlevWatch *self)
{
    xlev_ev_xswatch_init(&self->ev);
}

/**
 * xlev_context_watch:
 * @context: a context
 * @path: the xenstore path to watch: absolute, or a special path such as
 *   `@releaseDomain`
 * @flags: flags
 * @error: return location for a #GError
 *
 * Registers a xenstore watch on @path and everything below it. The watch
 * need not exist yet. Blocks for the round trip to xenstored.
 *
 * An invalid @path (%NULL, empty, relative, longer than
 * `XLEV_XS_PATH_MAX` bytes, not UTF-8, or with characters xenstore does
 * not allow) fails with %XLEV_ERROR_CODE_INVAL.
 *
 * Returns: (transfer full): a new, active watch, or %NULL with @error set
 *
 * Since: 1.0
 */
XlevWatch *
xlev_context_watch(XlevContext *context, const char *path,
                   XlevWatchFlags flags, GError **error)
{
    g_autoptr(XlevWatch) self = NULL;
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(context), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_check_path(path, error))
        return NULL;

    self = g_object_new(XLEV_TYPE_WATCH, NULL);
    self->context = g_object_ref(context);
    self->path = g_strdup(path);
    self->flags = flags;
    self->skip_next = (flags & XLEV_WATCH_FLAGS_SKIP_INITIAL) != 0;

    /* Active before the core knows: watch_cb may run in the main context's
     * thread as soon as the registration exists. */
    g_atomic_int_set(&self->active, 1);
    rc = xlev_ev_xswatch_register_borrowed(xlev_context_get_core(context),
                                           &self->ev, watch_cb, self->path);
    if (rc != 0) {
        g_atomic_int_set(&self->active, 0);
        xlev_error_from_core(error, rc, _("Cannot watch %s"), path);
        return NULL;
    }
    return g_steal_pointer(&self);
}

/**
 * xlev_watch_get_context:
 * @self: a watch
 *
 * Gets the context @self was made from.
 *
 * Returns: (transfer none) (nullable): the context @self was made from
 *   (%NULL only after @self was disposed)
 *
 * Since: 1.0
 */
XlevContext *
xlev_watch_get_context(XlevWatch *self)
{
    g_return_val_if_fail(XLEV_IS_WATCH(self), NULL);

    return self->context;
}

/**
 * xlev_watch_get_path:
 * @self: a watch
 *
 * Gets the watched xenstore path.
 *
 * Returns: (transfer none): the watched path
 *
 * Since: 1.0
 */
const char *
xlev_watch_get_path(XlevWatch *self)
{
    g_return_val_if_fail(XLEV_IS_WATCH(self), NULL);

    return self->path;
}

/**
 * xlev_watch_get_flags:
 * @self: a watch
 *
 * Gets the flags @self was made with.
 *
 * Returns: the flags @self was made with
 *
 * Since: 1.0
 */
XlevWatchFlags
xlev_watch_get_flags(XlevWatch *self)
{
    g_return_val_if_fail(XLEV_IS_WATCH(self), XLEV_WATCH_FLAGS_NONE);

    return self->flags;
}

/**
 * xlev_watch_get_active:
 * @self: a watch
 *
 * Gets whether @self is still registered.
 *
 * Returns: %TRUE until @self is cancelled
 *
 * Since: 1.0
 */
gboolean
xlev_watch_get_active(XlevWatch *self)
{
    g_return_val_if_fail(XLEV_IS_WATCH(self), FALSE);

    return g_atomic_int_get(&self->active) != 0;
}

/**
 * xlev_watch_cancel:
 * @self: a watch
 *
 * Unregisters the watch. Idempotent; may be called from any thread,
 * including from a handler of this or any other watch's
 * [signal@Xlev.Watch::changed]. When it returns in the thread iterating
 * the context's main context, @self emits no more signals; called from
 * another thread, it waits for a delivery to the core in progress, but a
 * signal already being emitted in the main context may still finish.
 *
 * Since: 1.0
 */
void
xlev_watch_cancel(XlevWatch *self)
{
    g_return_if_fail(XLEV_IS_WATCH(self));

    if (self->context != NULL && deactivate(self)) {
        xlev_dispatch_notify(xlev_context_get_dispatch(self->context),
                             G_OBJECT(self), properties[PROP_ACTIVE]);
    }
}
