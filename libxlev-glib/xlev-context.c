/* xlev-context.c: XlevContext, a xenstore connection driven by a GLib main
 * context
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-context.h"
#include "xlev-context-private.h"
#include "xlev-enums.h"
#include "xlev-error-private.h"
#include "xlev-hooks-private.h"
#include "xlev-i18n-private.h"
#include "xlev-source.h"

#include <syslog.h>

/**
 * XlevContext:
 *
 * A connection to xenstored whose events are delivered as GObject signals.
 *
 * A context owns the core's `xlev_ctx`, its xenstore connection, and the
 * way it is hooked into a GLib main context (see [enum@Xlev.Integration]).
 * Watches ([method@Xlev.Context.watch]) and timeouts
 * ([method@Xlev.Context.timeout]) are made from it; each holds a reference
 * to the context, so an application may drop its own reference to the
 * context while it keeps watches.
 *
 * ## Threading
 *
 * Every signal of the context and of every object made from it is emitted
 * in the [struct@GLib.MainContext] that was the thread-default when the
 * context was created (or the one given as
 * [property@Xlev.Context:main-context]), and only while that main context
 * is being iterated. Property notifications for properties that change
 * after construction are emitted there too.
 *
 * Methods may be called from any thread. The xenstore operations
 * ([method@Xlev.Context.read] and the others) block for a round trip to
 * xenstored; their `_async` versions run in a worker thread and call back
 * in the thread-default main context of the caller, as GIO does.
 *
 * Since: 1.0
 */

/*
 * The pending queue (see xlev-context-private.h for the path of an event).
 *
 * pending_lock protects `pending` and nothing else. It is taken by core
 * callbacks, which run with the core's lock dropped, and by
 * xlev_context_deliver(), the unqueue functions and dispose/finalize. It is
 * the innermost lock: nothing is called with it held but g_object_ref()
 * and g_weak_ref_get() (which takes GObject's weak-location lock inside
 * it), so the core's lock and the targets' own locks are never taken
 * inside it. (g_object_ref() of an object with a toggle reference, as
 * language bindings make, runs the binding's toggle notification when the
 * count goes from 1 to 2; that only adjusts the binding's own reference
 * and calls nothing of ours.)
 *
 * Lifetime: the core context lives until finalize, never shorter than any
 * object made from the context (each holds a strong reference) nor than any
 * dispatch of our sources (each holds a strong reference for its
 * duration). dispose only stops delivery: it destroys the XlevSource and
 * sets `disposed`, after which queued and newly queued items are dropped
 * unemitted. So a signal handler may dispose the context, cancel any watch
 * or drop the last reference to anything, and the delivery loop notices
 * before the next emission.
 *
 * Targets. An item names the object that will emit it in one of two ways:
 *
 *   object - a plain pointer, no reference (xlev_context_queue_object();
 *            XlevWatch). Costs the object nothing.
 *   weak   - a GWeakRef inside the object (xlev_context_queue();
 *            XlevTimeout, XlevDomainMonitor). GObject 2.74 keeps weak
 *            locations in a list in the object's qdata: 112 bytes of
 *            heap per object (bench/RESULTS.md, memory).
 *
 * Why a plain pointer is safe. The target's class promises:
 *
 *   (Q) it queues items for O only from the callback of a core
 *       registration embedded in O, so only while that registration is
 *       Active or its callback is running;
 *   (D) O's dispose makes that registration Idle (the core's deregister
 *       waits for a callback in flight in another thread to return) and
 *       then calls xlev_context_unqueue_object(O); dispose may run more
 *       than once and is harmless the second time;
 *   (E) its emit function emits only if O is still active, a flag that
 *       cancel and dispose clear (atomically) before they deregister.
 *
 * By (Q) and (D) no item for O is added after dispose's unqueue returns,
 * and that unqueue removes every earlier one; so an item for O is on the
 * queue only between O's construction and the unqueue inside O's dispose.
 * GObject runs dispose from g_object_unref() with the count still at 1
 * and lowers it to 0, and finalizes, only after dispose returned and only
 * if the count was not raised meanwhile ("may have been re-referenced
 * meanwhile" in gobject.c). Hence:
 *
 *   1. While an item for O is on the queue, O's count is at least 1:
 *      xlev_context_deliver() pops the item and calls g_object_ref(O)
 *      under pending_lock, before the unqueue in a concurrent dispose can
 *      take the lock, so the ref is valid and O is not finalized.
 *   2. Once deliver holds its reference, O is not finalized until deliver
 *      drops it: a dispose already running in another thread finishes,
 *      sees the raised count and leaves O alive (disposed) for deliver's
 *      g_object_unref() to dispose again (no-op) and finalize.
 *   3. A handler may drop the last reference of any object: of the one
 *      emitting, deliver's reference keeps it alive until emit returns; of
 *      another target O2, its dispose removes O2's items under the lock
 *      before O2 can go, so deliver never pops one (by 1). Of the context:
 *      the dispatch that calls deliver holds a reference, and deliver
 *      checks `disposed` before every item.
 *   4. Once cancel or dispose (the last unref) has returned in the thread
 *      that delivers, O emits nothing more: nothing runs there between
 *      the pop and the emission, so such a cancel either came first (its
 *      unqueue removed the item) or ran inside the emission itself. From
 *      another thread: the emit function reads O's flag (E) after deliver
 *      popped the item, and cancel and dispose clear it before they
 *      return, so only an emission whose check came just before that may
 *      still be under way when they return, as xlev_watch_cancel()
 *      documents.
 *
 * Items never own a reference to their target: a watch that is only
 * queued, never delivered, is still freed by its owner's last unref.
 */
struct _XlevContext {
    GObject parent_instance;

    char *xenstore_path;        /* construct-only; after init, the actual */
    GMainContext *main_context; /* construct-only, never NULL after that */
    XlevIntegration integration;

    xlev_ctx *core;         /* from init to finalize */
    GSource *source;        /* XLEV_INTEGRATION_SOURCE, until dispose */
    XlevGlibHooks *hooks;   /* XLEV_INTEGRATION_HOOKS, until finalize */

    GMutex pending_lock;
    GQueue pending;         /* of XlevPending, oldest first */
    gint disposed;          /* atomic */
    guint delivering;       /* main context's thread only: see deliver */
};

typedef struct {
    GObject *object;  /* target, no reference held; or NULL and: */
    GWeakRef *weak;   /* target, inside the object that emits */
    XlevEmitFunc emit;
    char *event_path;
} XlevPending;

enum {
    PROP_0,
    PROP_XENSTORE_PATH,
    PROP_MAIN_CONTEXT,
    PROP_INTEGRATION,
    N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
    DISASTER,
    N_SIGNALS
};

static guint signals[N_SIGNALS];

static void xlev_context_initable_iface_init(GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(XlevContext, xlev_context, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(
                                  G_TYPE_INITABLE,
                                  xlev_context_initable_iface_init))

static void
pending_free(XlevPending *p)
{
    g_free(p->event_path);
    g_free(p);
}

/*======================================================================*/
/* Core hooks: logging and disasters */

/* May be called with the core's lock held: it only logs. */
static void
core_log_cb(void *user, int level, const char *msg)
{
    GLogLevelFlags flags;

    /* Warnings would abort programs run with G_DEBUG=fatal-warnings; what
     * the core reports as an error also reaches the caller as a GError or
     * a ::disaster signal, so it is logged as a message. */
    if (level <= LOG_WARNING)
        flags = G_LOG_LEVEL_MESSAGE;
    else if (level <= LOG_INFO)
        flags = G_LOG_LEVEL_INFO;
    else
        flags = G_LOG_LEVEL_DEBUG;
    g_log(G_LOG_DOMAIN, flags, "%s", msg);
}

typedef struct {
    GWeakRef owner;
    XlevDisaster kind;
    char *message;
} XlevDisasterEvent;

static void
disaster_event_free(gpointer data)
{
    XlevDisasterEvent *d = data;

    g_weak_ref_clear(&d->owner);
    g_free(d->message);
    g_free(d);
}

static gboolean
emit_disaster(gpointer data)
{
    XlevDisasterEvent *d = data;
    g_autoptr(XlevContext) self = g_weak_ref_get(&d->owner);

    if (self != NULL && !g_atomic_int_get(&self->disposed))
        g_signal_emit(self, signals[DISASTER], 0, d->kind, d->message);
    return G_SOURCE_REMOVE;
}

void
xlev_context_report_disaster(XlevContext *self, XlevDisaster kind,
                             const char *message, int errnoval)
{
    XlevDisasterEvent *d = g_new0(XlevDisasterEvent, 1);
    GSource *idle;

    g_weak_ref_init(&d->owner, self);
    d->kind = kind;
    if (errnoval != 0)
        d->message = g_strdup_printf("%s: %s", message, g_strerror(errnoval));
    else
        d->message = g_strdup(message);

    idle = g_idle_source_new();
    g_source_set_priority(idle, G_PRIORITY_DEFAULT);
    g_source_set_static_name(idle, "[xlev] disaster");
    g_source_set_callback(idle, emit_disaster, d, disaster_event_free);
    g_source_attach(idle, self->main_context);
    g_source_unref(idle);
}

/* The core calls this from whatever thread hit the failure, with its lock
 * dropped; that thread holds a reference to the context (it is inside one
 * of our calls). The signal is emitted from an idle source in the
 * context's GMainContext, which holds only a weak reference. */
static void
core_disaster_cb(void *user, xlev_disaster_kind kind, const char *msg,
                 int errnoval)
{
    xlev_context_report_disaster(user, (XlevDisaster)kind, msg, errnoval);
}

/*======================================================================*/
/* The pending queue */

xlev_ctx *
xlev_context_get_core(XlevContext *self)
{
    return self->core;
}

/* Takes pending_lock. */
static void
queue_item(XlevContext *self, GObject *object, GWeakRef *weak,
           XlevEmitFunc emit, const char *event_path)
{
    XlevPending *p = g_new(XlevPending, 1);

    p->object = object;
    p->weak = weak;
    p->emit = emit;
    p->event_path = g_strdup(event_path);

    g_mutex_lock(&self->pending_lock);
    g_queue_push_tail(&self->pending, p);
    g_mutex_unlock(&self->pending_lock);
}

/* Takes pending_lock. */
static void
unqueue_items(XlevContext *self, GObject *object, GWeakRef *weak)
{
    GList *l, *next;

    g_mutex_lock(&self->pending_lock);
    for (l = self->pending.head; l != NULL; l = next) {
        XlevPending *p = l->data;

        next = l->next;
        if (p->object == object && p->weak == weak) {
            g_queue_delete_link(&self->pending, l);
            pending_free(p);
        }
    }
    g_mutex_unlock(&self->pending_lock);
}

void
xlev_context_queue(XlevContext *self, GWeakRef *target, XlevEmitFunc emit,
                   const char *event_path)
{
    queue_item(self, NULL, target, emit, event_path);
}

void
xlev_context_unqueue(XlevContext *self, GWeakRef *target)
{
    unqueue_items(self, NULL, target);
}

void
xlev_context_queue_object(XlevContext *self, GObject *target,
                          XlevEmitFunc emit, const char *event_path)
{
    queue_item(self, target, NULL, emit, event_path);
}

void
xlev_context_unqueue_object(XlevContext *self, GObject *target)
{
    unqueue_items(self, target, NULL);
}

static void
unqueue_all(XlevContext *self)
{
    g_mutex_lock(&self->pending_lock);
    g_queue_clear_full(&self->pending, (GDestroyNotify)pending_free);
    g_mutex_unlock(&self->pending_lock);
}

static void
deliver_items(XlevContext *self)
{
    for (;;) {
        XlevPending *p;
        GObject *object = NULL;

        /* A handler may have disposed the context: emit nothing more. */
        if (g_atomic_int_get(&self->disposed))
            return;

        /* The target is referenced under the lock, before a concurrent
         * dispose can remove its items: see "Why a plain pointer is safe"
         * above. (A GWeakRef, likewise, lives inside its object, which
         * removes its items before that memory goes away.) */
        g_mutex_lock(&self->pending_lock);
        p = g_queue_pop_head(&self->pending);
        if (p != NULL) {
            if (p->object != NULL)
                object = g_object_ref(p->object);
            else
                object = g_weak_ref_get(p->weak);
        }
        g_mutex_unlock(&self->pending_lock);

        if (p == NULL)
            return;
        if (object != NULL) {
            p->emit(object, p->event_path);
            g_object_unref(object);
        }
        pending_free(p);
    }
}

/* Not re-entrant: a handler that iterates the main context (a nested
 * loop) may make another source of this context run a core call and queue
 * items; they wait here, in order, until the handler returns and the outer
 * call goes on, as GLib holds back a source that is being dispatched. */
void
xlev_context_deliver(XlevContext *self)
{
    if (self->delivering)
        return;
    self->delivering++;
    deliver_items(self);
    self->delivering--;
}

typedef struct {
    GObject *object;
    GParamSpec *pspec;
} XlevNotify;

static gboolean
emit_notify(gpointer data)
{
    XlevNotify *n = data;

    g_object_notify_by_pspec(n->object, n->pspec);
    return G_SOURCE_REMOVE;
}

static void
notify_free(gpointer data)
{
    XlevNotify *n = data;

    g_object_unref(n->object);
    g_free(n);
}

/* "Here" is the thread iterating the main context, or a thread whose
 * thread-default main context it is (the context's home thread, between
 * iterations). Elsewhere, an idle source carries the notification there. */
void
xlev_context_notify(XlevContext *self, GObject *object, GParamSpec *pspec)
{
    g_autoptr(GMainContext) here = g_main_context_ref_thread_default();
    XlevNotify *n;
    GSource *idle;

    if (here == self->main_context ||
        g_main_context_is_owner(self->main_context)) {
        g_object_notify_by_pspec(object, pspec);
        return;
    }

    n = g_new0(XlevNotify, 1);
    n->object = g_object_ref(object);
    n->pspec = pspec;
    idle = g_idle_source_new();
    g_source_set_priority(idle, G_PRIORITY_DEFAULT);
    g_source_set_static_name(idle, "[xlev] notify");
    g_source_set_callback(idle, emit_notify, n, notify_free);
    g_source_attach(idle, self->main_context);
    g_source_unref(idle);
}

/*======================================================================*/
/* GObject */

static gboolean
xlev_context_initable_init(GInitable *initable, GCancellable *cancellable,
                           GError **error)
{
    XlevContext *self = XLEV_CONTEXT(initable);
    int rc;

    if (self->core != NULL)
        return TRUE;
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
        return FALSE;

    xlev_i18n_init();

    rc = xlev_ctx_new(self->xenstore_path, &self->core);
    if (rc != 0) {
        /* Name the socket libxenstore actually tried. */
        const char *tried = self->xenstore_path;

        if (tried == NULL)
            tried = g_getenv("XENSTORED_PATH");
        if (tried == NULL || *tried == '\0')
            tried = XLEV_XENSTORED_DEFAULT_SOCKET;
        xlev_error_from_core(error, rc, _("Cannot connect to xenstored at %s"),
                             tried);
        return FALSE;
    }

    g_free(self->xenstore_path);
    self->xenstore_path = g_strdup(xlev_ctx_get_xenstore_path(self->core));

    xlev_ctx_set_logger(self->core, core_log_cb, NULL);
    xlev_ctx_set_disaster_hook(self->core, core_disaster_cb, self);

    switch (self->integration) {
    case XLEV_INTEGRATION_HOOKS:
        rc = xlev_glib_hooks_install(self, self->core, self->main_context,
                                     &self->hooks);
        if (rc != 0) {
            xlev_error_from_core(error, rc,
                                 _("Cannot hook into the main context"));
            goto fail;
        }
        break;
    case XLEV_INTEGRATION_SOURCE:
    default:
        self->source = xlev_source_new(self);
        g_source_attach(self->source, self->main_context);
        break;
    }
    return TRUE;

fail:
    xlev_ctx_set_disaster_hook(self->core, NULL, NULL);
    g_clear_pointer(&self->core, xlev_ctx_free);
    return FALSE;
}

static void
xlev_context_initable_iface_init(GInitableIface *iface)
{
    iface->init = xlev_context_initable_init;
}

static void
xlev_context_constructed(GObject *object)
{
    XlevContext *self = XLEV_CONTEXT(object);

    G_OBJECT_CLASS(xlev_context_parent_class)->constructed(object);

    if (self->main_context == NULL)
        self->main_context = g_main_context_ref_thread_default();
}

static void
xlev_context_dispose(GObject *object)
{
    XlevContext *self = XLEV_CONTEXT(object);

    g_atomic_int_set(&self->disposed, 1);

    /* The source goes before the core context does (in finalize); once
     * destroyed it is not dispatched again, and a dispatch running in
     * another thread holds its own reference to us. */
    if (self->source != NULL) {
        g_source_destroy(self->source);
        g_clear_pointer(&self->source, g_source_unref);
    }
    unqueue_all(self);

    G_OBJECT_CLASS(xlev_context_parent_class)->dispose(object);
}

static void
xlev_context_finalize(GObject *object)
{
    XlevContext *self = XLEV_CONTEXT(object);

    if (self->core != NULL) {
        xlev_ctx_set_disaster_hook(self->core, NULL, NULL);
        /* Deregisters the core's own fds and timeouts: in hooks mode this
         * destroys their GLib sources. */
        g_clear_pointer(&self->core, xlev_ctx_free);
    }
    g_clear_pointer(&self->hooks, xlev_glib_hooks_unref);

    unqueue_all(self);
    g_mutex_clear(&self->pending_lock);
    g_clear_pointer(&self->main_context, g_main_context_unref);
    g_free(self->xenstore_path);

    G_OBJECT_CLASS(xlev_context_parent_class)->finalize(object);
}

static void
xlev_context_get_property(GObject *object, guint prop_id, GValue *value,
                          GParamSpec *pspec)
{
    XlevContext *self = XLEV_CONTEXT(object);

    switch (prop_id) {
    case PROP_XENSTORE_PATH:
        g_value_set_string(value, self->xenstore_path);
        break;
    case PROP_MAIN_CONTEXT:
        g_value_set_boxed(value, self->main_context);
        break;
    case PROP_INTEGRATION:
        g_value_set_enum(value, self->integration);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_context_set_property(GObject *object, guint prop_id, const GValue *value,
                          GParamSpec *pspec)
{
    XlevContext *self = XLEV_CONTEXT(object);

    switch (prop_id) {
    case PROP_XENSTORE_PATH:
        g_free(self->xenstore_path);
        self->xenstore_path = g_value_dup_string(value);
        break;
    case PROP_MAIN_CONTEXT:
        g_clear_pointer(&self->main_context, g_main_context_unref);
        self->main_context = g_value_dup_boxed(value);
        break;
    case PROP_INTEGRATION:
        self->integration = g_value_get_enum(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_context_class_init(XlevContextClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->constructed = xlev_context_constructed;
    object_class->dispose = xlev_context_dispose;
    object_class->finalize = xlev_context_finalize;
    object_class->get_property = xlev_context_get_property;
    object_class->set_property = xlev_context_set_property;

    /**
     * XlevContext:xenstore-path:
     *
     * The socket of the xenstore daemon. Given at construction, %NULL means
     * where libxenstore looks (`XENSTORED_PATH`, or its compiled-in
     * default); libxenstore 4.17 cannot be pointed anywhere else, so any
     * other value fails with %XLEV_ERROR_CODE_INVAL. Once constructed, the
     * path actually connected to.
     *
     * Since: 1.0
     */
    properties[PROP_XENSTORE_PATH] = g_param_spec_string(
        "xenstore-path", NULL, NULL, NULL,
        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

    /**
     * XlevContext:main-context:
     *
     * The main context in which every signal of this context, and of the
     * watches and timeouts made from it, is emitted. Defaults to the
     * thread-default main context at construction.
     *
     * Since: 1.0
     */
    properties[PROP_MAIN_CONTEXT] = g_param_spec_boxed(
        "main-context", NULL, NULL, G_TYPE_MAIN_CONTEXT,
        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

    /**
     * XlevContext:integration:
     *
     * How the context hooks into its main context.
     *
     * Since: 1.0
     */
    properties[PROP_INTEGRATION] = g_param_spec_enum(
        "integration", NULL, NULL, XLEV_TYPE_INTEGRATION,
        XLEV_INTEGRATION_SOURCE,
        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

    g_object_class_install_properties(object_class, N_PROPS, properties);

    /**
     * XlevContext::disaster:
     * @self: the context
     * @kind: what failed
     * @message: a description of the failure, for a log
     *
     * Something the context should have delivered could not be, and
     * nobody else could be told: watch events or timeouts may have been
     * lost. The usual answer is to drop the context and make a new one,
     * then re-read the state the watches were about.
     *
     * Emitted in the context's main context, whatever thread the failure
     * happened in.
     *
     * Since: 1.0
     */
    signals[DISASTER] = g_signal_new(
        "disaster", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
        NULL, G_TYPE_NONE, 2, XLEV_TYPE_DISASTER, G_TYPE_STRING);
}

static void
xlev_context_init(XlevContext *self)
{
    g_mutex_init(&self->pending_lock);
    g_queue_init(&self->pending);
}

/**
 * xlev_context_new:
 * @xenstore_path: (nullable): the xenstore daemon's socket, or %NULL for
 *   where libxenstore looks (`XENSTORED_PATH` or its default)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to xenstored and hooks the connection into the thread-default
 * main context with a source from [func@Xlev.source_new]. Blocks for the
 * connection.
 *
 * Returns: (transfer full): a new context, or %NULL with @error set
 *
 * Since: 1.0
 */
XlevContext *
xlev_context_new(const char *xenstore_path, GCancellable *cancellable,
                 GError **error)
{
    return xlev_context_new_full(xenstore_path, XLEV_INTEGRATION_SOURCE, NULL,
                                 cancellable, error);
}

/**
 * xlev_context_new_full:
 * @xenstore_path: (nullable): the xenstore daemon's socket, or %NULL for
 *   where libxenstore looks
 * @integration: how to hook into @main_context
 * @main_context: (nullable): where signals are emitted, or %NULL for the
 *   thread-default main context
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Like [ctor@Xlev.Context.new], choosing the integration and the main
 * context.
 *
 * Returns: (transfer full): a new context, or %NULL with @error set
 *
 * Since: 1.0
 */
XlevContext *
xlev_context_new_full(const char *xenstore_path, XlevIntegration integration,
                      GMainContext *main_context, GCancellable *cancellable,
                      GError **error)
{
    g_return_val_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable),
                         NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    return g_initable_new(XLEV_TYPE_CONTEXT, cancellable, error,
                          "xenstore-path", xenstore_path,
                          "integration", integration,
                          "main-context", main_context,
                          NULL);
}

/**
 * xlev_context_get_xenstore_path:
 * @self: a context
 *
 * Gets the socket of the xenstore daemon @self is connected to.
 *
 * Returns: (transfer none): the socket this context is connected to
 *
 * Since: 1.0
 */
const char *
xlev_context_get_xenstore_path(XlevContext *self)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);

    return self->xenstore_path;
}

/**
 * xlev_context_get_main_context:
 * @self: a context
 *
 * Gets the main context in which @self emits its signals.
 *
 * Returns: (transfer none): the main context signals are emitted in
 *
 * Since: 1.0
 */
GMainContext *
xlev_context_get_main_context(XlevContext *self)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);

    return self->main_context;
}

/**
 * xlev_context_get_integration:
 * @self: a context
 *
 * Gets how @self hooks into its main context.
 *
 * Returns: how @self hooks into its main context
 *
 * Since: 1.0
 */
XlevIntegration
xlev_context_get_integration(XlevContext *self)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), XLEV_INTEGRATION_SOURCE);

    return self->integration;
}
