/* xlev-watch.c: XlevWatch, a xenstore watch whose events are signals
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <string.h>

#include "xlev-watch.h"
#include "xlev-watch-private.h"
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

    /* Rate limiting (see "Rate limiting" below). `rate_limit` is atomic;
     * the rest belongs to the thread iterating the main context. */
    gint rate_limit;        /* ms; 0: off */
    GHashTable *windows;    /* event path -> RateWindow; NULL until needed */
    GSource *window_source; /* ends windows; NULL until needed */
};

/*
 * Rate limiting (the `rate-limit` property, as GFileMonitor's): the first
 * event for a path is emitted at once and, when that emission returns,
 * opens a window of `rate_limit` ms for that path; further events for it
 * until the window ends are merged into one, emitted when it ends (which
 * opens the next window).
 * So the last event for a path is always emitted, at most `rate_limit` ms
 * late, and a path emits at most once per window. Done at emission time,
 * in the main context's thread, so every structure here is that thread's.
 * The window source holds a GWeakRef to the watch (a source may outlive
 * it); cancel and dispose destroy the source.
 */
typedef struct {
    gint64 end;       /* monotonic us */
    gboolean pending; /* an event came inside the window */
} RateWindow;

typedef struct {
    GSource source;
    GWeakRef watch;
} WindowSource;

enum {
    PROP_0,
    PROP_CONTEXT,
    PROP_PATH,
    PROP_FLAGS,
    PROP_ACTIVE,
    PROP_RATE_LIMIT,
    N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
    CHANGED,
    N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(XlevWatch, xlev_watch, G_TYPE_OBJECT)

/* The flags xlev_context_watch() knows; any other bit is refused. */
#define WATCH_FLAGS_KNOWN XLEV_WATCH_FLAGS_SKIP_INITIAL

static void window_source_schedule(XlevWatch *self);
static void window_restart(XlevWatch *self, const char *path);

/* Main context's thread, no lock held. */
static void
emit_path(XlevWatch *self, const char *event_path)
{
    if (g_atomic_int_get(&self->active))
        g_signal_emit(self, signals[CHANGED], 0, event_path);
}

static gboolean
window_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    WindowSource *ws = (WindowSource *)source;
    g_autoptr(XlevWatch) self = g_weak_ref_get(&ws->watch);
    g_autoptr(GPtrArray) due = NULL;
    GHashTableIter iter;
    gpointer key, value;
    gint64 now = g_get_monotonic_time();

    g_source_set_ready_time(source, -1);
    if (self == NULL || !g_atomic_int_get(&self->active)
        || self->windows == NULL)
        return G_SOURCE_CONTINUE;

    /* Collect first: a handler may change the table (or cancel). */
    due = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_iter_init(&iter, self->windows);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        RateWindow *w = value;

        if (w->end > now)
            continue;
        if (!w->pending) {
            g_hash_table_iter_remove(&iter); /* a quiet window: forget */
            continue;
        }
        w->pending = FALSE;
        w->end = G_MAXINT64; /* the merged event opens a window */
        g_ptr_array_add(due, g_strdup(key));
    }
    for (guint i = 0; i < due->len; i++) {
        emit_path(self, g_ptr_array_index(due, i));
        window_restart(self, g_ptr_array_index(due, i));
    }
    if (g_atomic_int_get(&self->active))
        window_source_schedule(self);
    return G_SOURCE_CONTINUE;
}

static void
window_finalize(GSource *source)
{
    g_weak_ref_clear(&((WindowSource *)source)->watch);
}

static GSourceFuncs window_funcs = {
    .dispatch = window_dispatch,
    .finalize = window_finalize,
};

/* Sets the window source to wake at the earliest window's end. */
static void
window_source_schedule(XlevWatch *self)
{
    GHashTableIter iter;
    gpointer value;
    gint64 first = -1;

    if (self->windows == NULL)
        return;
    g_hash_table_iter_init(&iter, self->windows);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        RateWindow *w = value;

        if (first < 0 || w->end < first)
            first = w->end;
    }
    if (first >= 0 && self->window_source == NULL) {
        WindowSource *ws;

        self->window_source = g_source_new(&window_funcs, sizeof(WindowSource));
        ws = (WindowSource *)self->window_source;
        g_weak_ref_init(&ws->watch, self);
        g_source_set_static_name(self->window_source, "[xlev] rate limit");
        g_source_attach(self->window_source,
                        xlev_context_get_main_context(self->context));
    }
    if (self->window_source != NULL)
        g_source_set_ready_time(self->window_source, first);
}

/* An emission for @path has just returned: its window runs from now, so
 * `rate-limit` ms pass between the end of one emission and the start of
 * the next, however long the handlers took. Events that came during the
 * emission (a handler iterating the main context) wait for that window's
 * end: `end` was G_MAXINT64 meanwhile. The entry is looked up again: a
 * nested iteration may have ended and removed it. */
static void
window_restart(XlevWatch *self, const char *path)
{
    RateWindow *w = g_hash_table_lookup(self->windows, path);

    if (w != NULL)
        w->end = g_get_monotonic_time() +
                 (gint64)g_atomic_int_get(&self->rate_limit) * 1000;
}

/* Delivery, in the main context's thread, no lock held. */
static void
emit_changed(GObject *target, const XlevItem *item)
{
    XlevWatch *self = (XlevWatch *)target;
    gint limit_ms = g_atomic_int_get(&self->rate_limit);
    RateWindow *w;
    gint64 now;

    if (!g_atomic_int_get(&self->active))
        return;
    if (limit_ms <= 0
        && (self->windows == NULL || g_hash_table_size(self->windows) == 0)) {
        emit_path(self, item->text);
        return;
    }

    now = g_get_monotonic_time();
    if (self->windows == NULL)
        self->windows
            = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    w = g_hash_table_lookup(self->windows, item->text);
    if (w != NULL && now < w->end && limit_ms > 0) {
        w->pending = TRUE; /* merged: emitted when the window ends */
        return;
    }
    if (w == NULL) {
        w = g_new0(RateWindow, 1);
        g_hash_table_insert(self->windows, g_strdup(item->text), w);
    }
    /* A pending event of an ended window is this one. */
    w->pending = FALSE;
    w->end = G_MAXINT64;
    emit_path(self, item->text);
    window_restart(self, item->text);
    window_source_schedule(self);
}

/* A path that is not UTF-8 (only a hostile or broken peer sends one:
 * both daemons refuse such nodes) cannot be a G_TYPE_STRING signal
 * argument that bindings accept. It is escaped instead: a backslash
 * becomes two, each byte that is not part of a valid UTF-8 sequence
 * becomes `\xNN` (two lower-case hex digits). Valid paths are passed
 * unchanged. */
static char *
escape_path(const char *path)
{
    GString *out = g_string_sized_new(strlen(path) + 16);
    const char *p = path;

    while (*p != '\0') {
        const char *end;

        if (g_utf8_validate(p, -1, &end)) {
            end = p + strlen(p);
        }
        for (; p < end; p++) {
            if (*p == '\\')
                g_string_append(out, "\\\\");
            else
                g_string_append_c(out, *p);
        }
        if (*p != '\0') {
            g_string_append_printf(out, "\\x%02x", (guchar)*p);
            p++;
        }
    }
    return g_string_free(out, FALSE);
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
    /* Paths are nearly always ASCII, which is quicker to tell. */
    if (!g_str_is_ascii(event_path) && !g_utf8_validate(event_path, -1, NULL)) {
        g_autofree char *escaped = escape_path(event_path);

        xlev_dispatch_queue(xlev_context_get_dispatch(self->context),
                            xlev_item_new(G_OBJECT(self), emit_changed,
                                          XLEV_ITEM_WATCH, escaped));
        return;
    }
    xlev_dispatch_queue(xlev_context_get_dispatch(self->context),
                        xlev_item_new(G_OBJECT(self), emit_changed,
                                      XLEV_ITEM_WATCH, event_path));
}

void
xlev_watch_inject_event(XlevWatch *self, const char *event_path)
{
    watch_cb(xlev_context_get_core(self->context), &self->ev, self->path,
             event_path);
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
    /* The source only holds a weak reference: destroying it from any
     * thread is safe; the windows go in finalize. */
    if (self->window_source != NULL)
        g_source_destroy(self->window_source);
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
    if (self->window_source != NULL) {
        g_source_destroy(self->window_source);
        g_source_unref(self->window_source);
    }
    g_clear_pointer(&self->windows, g_hash_table_unref);

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
    case PROP_RATE_LIMIT:
        g_value_set_int(value, xlev_watch_get_rate_limit(self));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_watch_set_property(GObject *object, guint prop_id, const GValue *value,
                        GParamSpec *pspec)
{
    XlevWatch *self = XLEV_WATCH(object);

    switch (prop_id) {
    case PROP_RATE_LIMIT:
        xlev_watch_set_rate_limit(self, g_value_get_int(value));
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
    object_class->set_property = xlev_watch_set_property;

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

    /**
     * XlevWatch:rate-limit:
     *
     * The shortest time, in milliseconds, between two emissions of
     * [signal@Xlev.Watch::changed] for the same event path; 0 (the
     * default) emits every event as it comes.
     *
     * With a limit, the first event for a path is emitted at once; the
     * events for that path that come until `rate-limit` ms after that
     * emission has returned are merged into one, emitted when that time
     * is up (and the next period starts when it has returned). So the
     * last change to a path is always reported (at most `rate-limit` ms
     * after the previous emission), which is all a handler that re-reads
     * the state needs, and a path that changes continuously costs one
     * emission per period, however slow its handlers. Events for
     * different paths are not merged with each other, and may be emitted
     * in another order than they came.
     *
     * May be set from any thread; its notification is emitted in the
     * context's main context.
     *
     * Since: 1.0
     */
    properties[PROP_RATE_LIMIT] = g_param_spec_int(
        "rate-limit", NULL, NULL, 0, G_MAXINT, 0,
        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

    g_object_class_install_properties(object_class, N_PROPS, properties);

    /**
     * XlevWatch::changed:
     * @self: the watch
     * @event_path: the path that changed: [property@Xlev.Watch:path] itself
     *   or a path below it
     *
     * Something at or below the watched path changed, or (first, unless
     * %XLEV_WATCH_FLAGS_SKIP_INITIAL was given) the watch was just
     * registered, or (with @event_path the watched path, after
     * [signal@Xlev.Context::reconnected]) the context's connection was
     * lost and made again, and what changed meanwhile gave no events of
     * its own. Read the state again.
     *
     * No event is dropped for its path: @event_path is always valid
     * UTF-8. Both daemons refuse paths that are not, but a broken or
     * hostile peer may still send one; such a path is escaped: each
     * backslash becomes `\\` and each byte that is not part of a valid
     * UTF-8 sequence becomes `\xNN` (two lower-case hex digits). A path
     * that needed no escaping is passed as it came. See
     * [property@Xlev.Watch:rate-limit] for merging events.
     *
     * Emitted in the main context of the watch's [class@Xlev.Context].
     *
     * Since: 1.0
     */
    /* Static scope: the path lives through the emission, so GObject
     * need not copy it for each handler call. */
    signals[CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass),
                                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                    G_TYPE_NONE, 1,
                                    G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
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
 * not allow) fails with %XLEV_ERROR_CODE_INVAL, as do @flags with a bit
 * that is not one of #XlevWatchFlags.
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

    if (!xlev_context_check_ready(context, error) ||
        !xlev_check_path(path, error))
        return NULL;
    if ((flags & ~WATCH_FLAGS_KNOWN) != 0) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("Unknown watch flags 0x%x"),
                    (guint)(flags & ~WATCH_FLAGS_KNOWN));
        return NULL;
    }

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

/**
 * xlev_watch_get_rate_limit:
 * @self: a watch
 *
 * Gets [property@Xlev.Watch:rate-limit].
 *
 * Returns: the rate limit in milliseconds; 0 when events are not merged
 *
 * Since: 1.0
 */
gint
xlev_watch_get_rate_limit(XlevWatch *self)
{
    g_return_val_if_fail(XLEV_IS_WATCH(self), 0);

    return g_atomic_int_get(&self->rate_limit);
}

/**
 * xlev_watch_set_rate_limit:
 * @self: a watch
 * @limit_ms: the shortest time between two emissions for the same path,
 *   in milliseconds; 0 to emit every event
 *
 * Sets [property@Xlev.Watch:rate-limit]. Events already merged are still
 * emitted when their window ends. May be called from any thread.
 *
 * Since: 1.0
 */
void
xlev_watch_set_rate_limit(XlevWatch *self, gint limit_ms)
{
    g_return_if_fail(XLEV_IS_WATCH(self));
    g_return_if_fail(limit_ms >= 0);

    if (g_atomic_int_exchange(&self->rate_limit, limit_ms) != limit_ms
        && self->context != NULL)
        xlev_dispatch_notify(xlev_context_get_dispatch(self->context),
                             G_OBJECT(self), properties[PROP_RATE_LIMIT]);
}
