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
#include "xlev-log-private.h"
#include "xlev-source-private.h"

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
 * xenstored; their `_async` versions start no thread (the request is sent
 * from the calling thread, the answer completes the task in the context's
 * main context) and call back in the thread-default main context of the
 * caller, as GIO does. Cancelled, they complete at once with
 * %G_IO_ERROR_CANCELLED; the request was sent, and its answer is dropped.
 *
 * Since: 1.0
 */

/*
 * The context owns the core context (from init to finalize), the way it
 * is driven (an XlevSource until dispose, or the GLib-native hooks until
 * finalize) and the delivery module (xlev-dispatch.c) every object made
 * from it queues its events on. Delivery itself is not here: the
 * integrations run the core through the XlevDispatch and deliver there.
 *
 * Lifetime: the core context lives until finalize, never shorter than any
 * object made from the context (each holds a strong reference) nor than
 * any dispatch of our sources (each holds a strong reference for its
 * duration, through the XlevDispatch's weak one). dispose only stops
 * delivery: it destroys the XlevSource and closes the XlevDispatch, after
 * which queued and newly queued items are dropped unemitted. So a signal
 * handler may dispose the context, cancel any watch or drop the last
 * reference to anything, and the delivery loop notices before the next
 * emission.
 */
struct _XlevContext {
    GObject parent_instance;

    char *xenstore_path;        /* construct-only; after init, the actual */
    GMainContext *main_context; /* construct-only, never NULL after that */
    XlevIntegration integration;
    guint timeout_ms; /* the core keeps it from init on */
    gint reconnect;   /* XlevReconnect; the core keeps it from init on */
    gboolean connected; /* as last emitted, in the main context */

    xlev_ctx *core;          /* from init to finalize */
    XlevDispatch *dispatch;  /* from init to finalize */
    GSource *source;         /* XLEV_INTEGRATION_SOURCE, until dispose */
    XlevGlibHooks *hooks;    /* XLEV_INTEGRATION_HOOKS, until finalize */
};

enum {
    PROP_0,
    PROP_XENSTORE_PATH,
    PROP_MAIN_CONTEXT,
    PROP_INTEGRATION,
    PROP_TRANSPORT,
    PROP_TIMEOUT,
    PROP_RECONNECT,
    PROP_CONNECTED,
    N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
    DISASTER,
    RECONNECTED,
    N_SIGNALS
};

static guint signals[N_SIGNALS];

static void xlev_context_initable_iface_init(GInitableIface *iface);
static void xlev_context_async_initable_iface_init(GAsyncInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(XlevContext, xlev_context, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(
                                  G_TYPE_INITABLE,
                                  xlev_context_initable_iface_init)
                              G_IMPLEMENT_INTERFACE(
                                  G_TYPE_ASYNC_INITABLE,
                                  xlev_context_async_initable_iface_init))

/*======================================================================*/
/* Disasters */

static void
emit_disaster(GObject *target, const XlevItem *item)
{
    g_signal_emit(target, signals[DISASTER], 0,
                  (XlevDisaster)item->u.disaster.kind, item->text);
}

void
xlev_context_report_disaster(XlevContext *self, XlevDisaster kind,
                             const char *message, int errnoval)
{
    g_autofree char *text = NULL;
    XlevItem *item;

    if (self->dispatch == NULL)
        return;
    if (errnoval != 0)
        text = g_strdup_printf("%s: %s", message, g_strerror(errnoval));
    item = xlev_item_new(G_OBJECT(self), emit_disaster, XLEV_ITEM_DISASTER,
                         text != NULL ? text : message);
    item->u.disaster.kind = kind;
    xlev_dispatch_post(self->dispatch, item);
}

/* The core calls this from whatever thread hit the failure, with its lock
 * dropped; that thread holds a reference to the context (it is inside one
 * of our calls). The signal is emitted in the context's GMainContext:
 * posted on the delivery queue, whose target rule the context keeps by
 * closing the queue in dispose. Domain-event failures come here too: the
 * core has one disaster path. */
static void
core_disaster_cb(void *user, xlev_disaster_kind kind, const char *msg,
                 int errnoval)
{
    XlevDisaster what;

    /* XlevDisaster has the core's values; a kind the GObject layer does
     * not know yet is reported as the catch-all rather than as a value
     * outside the enum. */
    switch (kind) {
    case XLEV_DISASTER_NOMEM:
        what = XLEV_DISASTER_KIND_NOMEM;
        break;
    case XLEV_DISASTER_OSEVENT:
        what = XLEV_DISASTER_KIND_OSEVENT;
        break;
    case XLEV_DISASTER_EVENTS:
        what = XLEV_DISASTER_KIND_EVENTS;
        break;
    case XLEV_DISASTER_XENSTORE:
    default:
        what = XLEV_DISASTER_KIND_XENSTORE;
        break;
    }
    xlev_context_report_disaster(user, what, msg, errnoval);
}

/*======================================================================*/
/* The connection lost and back */

/* In the main context: the property as the core last said, then
 * ::reconnected when it came back. */
static void
emit_connection(GObject *target, const XlevItem *item)
{
    XlevContext *self = XLEV_CONTEXT(target);
    gboolean connected = item->u.connection.connected;

    if (self->connected == connected)
        return;
    g_atomic_int_set(&self->connected, connected);
    g_object_notify_by_pspec(target, properties[PROP_CONNECTED]);
    if (connected)
        g_signal_emit(target, signals[RECONNECTED], 0);
}

/* The core's hook: lock dropped, in the thread running the loop (inside
 * an integration's core call, or a blocking caller that ran the queue),
 * which holds a reference to the context. Posted, so that it is emitted
 * in the main context in the order the core told it: before the watch
 * events that follow a reconnect. */
static void
core_connection_changed(void *user, int connected)
{
    XlevContext *self = user;
    XlevItem *item;

    if (self->dispatch == NULL)
        return;
    item = xlev_item_new(G_OBJECT(self), emit_connection,
                         XLEV_ITEM_CONNECTION, NULL);
    item->u.connection.connected = connected != 0;
    xlev_dispatch_post(self->dispatch, item);
}

static const xlev_reconnect_hooks core_reconnect_hooks = {
    .connection_changed = core_connection_changed,
};

/* Hands the policy to the core (from init on). */
static void
apply_reconnect(XlevContext *self)
{
    int rc = xlev_ctx_set_reconnect(self->core,
                                    (xlev_reconnect_policy)self->reconnect,
                                    &core_reconnect_hooks, self);

    if (rc == XLEV_ERROR_NOSYS) {
        /* The xenbus transport: NEVER it stays (documented). */
        g_debug("xenstore at %s: the xenbus transport does not reconnect",
                self->xenstore_path);
        xlev_ctx_set_reconnect(self->core, XLEV_RECONNECT_NEVER,
                               &core_reconnect_hooks, self);
    }
}

xlev_ctx *
xlev_context_get_core(XlevContext *self)
{
    return self->core;
}

XlevDispatch *
xlev_context_get_dispatch(XlevContext *self)
{
    return self->dispatch;
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
    /* Messages written while connecting go to GLib's log too. */
    xlev_log_bridge_install();

    rc = xlev_ctx_new(self->xenstore_path, &self->core);
    if (rc == 0)
        xlev_ctx_set_timeout(self->core, (int)self->timeout_ms);
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

    xlev_ctx_set_logger(self->core, xlev_log_bridge, NULL);
    self->dispatch =
        xlev_dispatch_new(G_OBJECT(self), self->core, self->main_context);
    xlev_ctx_set_disaster_hook(self->core, core_disaster_cb, self);
    g_atomic_int_set(&self->connected, TRUE);
    apply_reconnect(self);

    switch (self->integration) {
    case XLEV_INTEGRATION_HOOKS:
        rc = xlev_glib_hooks_install(self->dispatch, self->core,
                                     self->main_context, &self->hooks);
        if (rc != 0) {
            xlev_error_from_core(error, rc,
                                 _("Cannot hook into the main context"));
            goto fail;
        }
        break;
    case XLEV_INTEGRATION_SOURCE:
    default:
        self->source = xlev_source_new_for_dispatch(self->dispatch);
        g_source_attach(self->source, self->main_context);
        break;
    }
    return TRUE;

fail:
    xlev_ctx_set_disaster_hook(self->core, NULL, NULL);
    xlev_ctx_set_reconnect(self->core, xlev_ctx_get_reconnect(self->core),
                           NULL, NULL);
    g_atomic_int_set(&self->connected, FALSE);
    g_clear_pointer(&self->core, xlev_ctx_free);
    xlev_dispatch_close(self->dispatch);
    g_clear_pointer(&self->dispatch, xlev_dispatch_unref);
    return FALSE;
}

static void
xlev_context_initable_iface_init(GInitableIface *iface)
{
    iface->init = xlev_context_initable_init;
}

/* GAsyncInitable's default init_async runs our GInitable's init in a
 * worker thread and completes in the caller's thread-default main
 * context: connecting is the one blocking step, and everything init does
 * after it (attaching sources to self->main_context, which was fixed at
 * construction in the caller's thread) is safe from another thread. */
static void
xlev_context_async_initable_iface_init(GAsyncInitableIface *iface)
{
}

gboolean
xlev_context_check_ready(XlevContext *self, GError **error)
{
    if (self->core != NULL)
        return TRUE;
    xlev_i18n_init();
    g_set_error_literal(
        error, XLEV_ERROR, XLEV_ERROR_CODE_NOT_INITIALIZED,
        _("The xenstore context is not connected: it was never initialised "
          "(use Xlev.Context.new() or call init() after constructing it) "
          "or its initialisation failed"));
    return FALSE;
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

    /* Nothing is emitted from now on. */
    if (self->dispatch != NULL)
        xlev_dispatch_close(self->dispatch);

    /* The source goes before the core context does (in finalize); once
     * destroyed it is not dispatched again, and a dispatch running in
     * another thread holds its own reference to us. */
    if (self->source != NULL) {
        g_source_destroy(self->source);
        g_clear_pointer(&self->source, g_source_unref);
    }

    G_OBJECT_CLASS(xlev_context_parent_class)->dispose(object);
}

static void
xlev_context_finalize(GObject *object)
{
    XlevContext *self = XLEV_CONTEXT(object);

    if (self->core != NULL) {
        xlev_ctx_set_disaster_hook(self->core, NULL, NULL);
        /* The hook goes; the policy stays (NEVER now would raise a
         * disaster for a context that is reconnecting). */
        xlev_ctx_set_reconnect(self->core, xlev_ctx_get_reconnect(self->core),
                               NULL, NULL);
        /* Deregisters the core's own fds and timeouts: in hooks mode this
         * destroys their GLib sources. */
        g_clear_pointer(&self->core, xlev_ctx_free);
    }
    g_clear_pointer(&self->hooks, xlev_glib_hooks_unref);
    if (self->dispatch != NULL) {
        xlev_dispatch_close(self->dispatch);
        g_clear_pointer(&self->dispatch, xlev_dispatch_unref);
    }

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
    case PROP_TRANSPORT:
        g_value_set_enum(value, xlev_context_get_transport(self));
        break;
    case PROP_TIMEOUT:
        g_value_set_uint(value, xlev_context_get_timeout(self));
        break;
    case PROP_RECONNECT:
        g_value_set_enum(value, xlev_context_get_reconnect(self));
        break;
    case PROP_CONNECTED:
        g_value_set_boolean(value, xlev_context_get_connected(self));
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
    case PROP_TIMEOUT:
        xlev_context_set_timeout(self, g_value_get_uint(value));
        break;
    case PROP_RECONNECT:
        xlev_context_set_reconnect(self, g_value_get_enum(value));
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
     * The socket of the xenstore daemon (or the xenbus device). Given at
     * construction and used as it is; %NULL means `$XENSTORED_PATH`, else
     * the default socket, else the xenbus device. A path that is neither
     * a socket nor a character device (a FIFO, a regular file) fails with
     * %XLEV_ERROR_CODE_INVAL; nothing there, with
     * %XLEV_ERROR_CODE_XENSTORE. Once constructed, the path actually
     * connected to.
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

    /**
     * XlevContext:transport:
     *
     * How the context reaches xenstored, chosen when it connects (see
     * [enum@Xlev.Transport]). %XLEV_TRANSPORT_SOCKET before that.
     *
     * Since: 1.0
     */
    properties[PROP_TRANSPORT] = g_param_spec_enum(
        "transport", NULL, NULL, XLEV_TYPE_TRANSPORT, XLEV_TRANSPORT_SOCKET,
        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    /**
     * XlevContext:timeout:
     *
     * How long, in milliseconds, a blocking operation (a read, a write,
     * making a watch ...) waits for xenstored's answer before it fails
     * with %XLEV_ERROR_CODE_TIMED_OUT; 0 waits for ever. The request was
     * sent; its late answer is dropped and the context stays usable.
     * Asynchronous operations have no timeout: cancel them. Ignored with
     * the xenbus transport (libxenstore has none). At most a day.
     *
     * Since: 1.0
     */
    properties[PROP_TIMEOUT] = g_param_spec_uint(
        "timeout", NULL, NULL, 0, XLEV_XS_TIMEOUT_MAX_MS,
        XLEV_CONTEXT_TIMEOUT_DEFAULT,
        G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
            G_PARAM_STATIC_STRINGS);

    /**
     * XlevContext:reconnect:
     *
     * What the context does when its connection to xenstored is lost (see
     * [enum@Xlev.Reconnect]). Writable at any time: set to
     * %XLEV_RECONNECT_POLICY_AUTOMATIC after a loss, the context starts
     * reconnecting; set to %XLEV_RECONNECT_POLICY_NEVER while it is
     * reconnecting, it stops, with the [signal@Xlev.Context::disaster]
     * that policy gives.
     *
     * With %XLEV_RECONNECT_POLICY_AUTOMATIC a loss is no disaster. Every
     * operation in flight at that moment fails with
     * %XLEV_ERROR_CODE_XENSTORE, once (an asynchronous one's callback is
     * called with it), and so does every operation started while
     * [property@Xlev.Context:connected] is %FALSE (making a watch
     * included): nothing is retried behind the caller's back. A
     * [class@Xlev.Transaction] started before the loss stays dead: its
     * operations and its commit fail with %XLEV_ERROR_CODE_XENSTORE.
     * When the daemon is back, in the context's main context and in this
     * order: [property@Xlev.Context:connected] becomes %TRUE (notify), then
     * [signal@Xlev.Context::reconnected], then every
     * [class@Xlev.Watch] still live emits [signal@Xlev.Watch::changed]
     * once with its own path, so that its handler reads the state again:
     * changes made while the daemon was away gave no events of their own
     * (they are lost), and the new daemon's tree may be a fresh one. A
     * watch cancelled meanwhile emits nothing. A
     * [class@Xlev.DomainMonitor] looks at its domains again the same way:
     * one that died while the daemon was down is reported once.
     *
     * Only the socket transport reconnects: with
     * %XLEV_TRANSPORT_XENBUS the context behaves as with
     * %XLEV_RECONNECT_POLICY_NEVER whatever this says.
     *
     * Since: 1.0
     */
    properties[PROP_RECONNECT] = g_param_spec_enum(
        "reconnect", NULL, NULL, XLEV_TYPE_RECONNECT,
        XLEV_RECONNECT_POLICY_NEVER,
        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

    /**
     * XlevContext:connected:
     *
     * Whether the context's connection to xenstored is up: %TRUE from
     * initialisation until the connection is found lost, then %FALSE
     * until it is made again (see [property@Xlev.Context:reconnect]), for
     * good with %XLEV_RECONNECT_POLICY_NEVER. Changes are notified in the
     * context's main context, once each way; the value is the one last
     * notified there.
     *
     * Since: 1.0
     */
    properties[PROP_CONNECTED] = g_param_spec_boolean(
        "connected", NULL, NULL, FALSE,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

    g_object_class_install_properties(object_class, N_PROPS, properties);

    /**
     * XlevContext::reconnected:
     * @self: the context
     *
     * The connection to xenstored was lost and is back (with
     * %XLEV_RECONNECT_POLICY_AUTOMATIC). Emitted after the watches have
     * been registered with the daemon again and
     * [property@Xlev.Context:connected] has become %TRUE, and before the
     * one [signal@Xlev.Watch::changed] each of them then emits for its own
     * path: a handler may read and write at once, and learns from the
     * watches which state to read again. Operations and transactions
     * started before the loss have failed.
     *
     * Emitted in the context's main context.
     *
     * Since: 1.0
     */
    signals[RECONNECTED] = g_signal_new(
        "reconnected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
        NULL, NULL, G_TYPE_NONE, 0);

    /**
     * XlevContext::disaster:
     * @self: the context
     * @kind: what failed
     * @message: a description of the failure, for a log
     *
     * Something the context should have delivered could not be, and
     * nobody else could be told: watch events, timeouts or the domain
     * events of a [class@Xlev.DomainMonitor] may have been lost. The usual answer is to drop the context and make a new one,
     * then re-read the state the watches were about; for a lost
     * connection, [property@Xlev.Context:reconnect] does that by itself
     * (and then this signal is not emitted for it).
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
}

/**
 * xlev_context_new:
 * @xenstore_path: (nullable): the xenstore daemon's socket, or %NULL for
 *   `$XENSTORED_PATH` or the default (see
 *   [property@Xlev.Context:xenstore-path])
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
 *   `$XENSTORED_PATH` or the default
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
 * xlev_context_new_async:
 * @xenstore_path: (nullable): the xenstore daemon's socket, or %NULL for
 *   where libxenstore looks
 * @integration: how to hook into @main_context
 * @main_context: (nullable): where signals are emitted, or %NULL for the
 *   thread-default main context of the caller
 * @io_priority: the I/O priority of the connection attempt
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the context is connected (or
 *   could not be)
 * @user_data: data for @callback
 *
 * Like [ctor@Xlev.Context.new_full], without blocking: the connection is
 * made in a worker thread and @callback is called in the thread-default
 * main context of the caller. Finish with
 * [ctor@Xlev.Context.new_finish].
 *
 * ```python
 * def on_ready(source, result):
 *     ctx = Xlev.Context.new_finish(result)
 *     print(ctx.read("/local/domain/0/name"))
 *
 * Xlev.Context.new_async(None, Xlev.Integration.SOURCE, None,
 *                        GLib.PRIORITY_DEFAULT, None, on_ready)
 * ```
 *
 * Since: 1.0
 */
void
xlev_context_new_async(const char *xenstore_path, XlevIntegration integration,
                       GMainContext *main_context, int io_priority,
                       GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
    g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

    g_async_initable_new_async(XLEV_TYPE_CONTEXT, io_priority, cancellable,
                               callback, user_data,
                               "xenstore-path", xenstore_path,
                               "integration", integration,
                               "main-context", main_context,
                               NULL);
}

/**
 * xlev_context_new_finish:
 * @result: the result given to the callback of
 *   [func@Xlev.Context.new_async]
 * @error: return location for a #GError
 *
 * Finishes [func@Xlev.Context.new_async].
 *
 * Returns: (transfer full): a new, connected context, or %NULL with
 *   @error set
 *
 * Since: 1.0
 */
XlevContext *
xlev_context_new_finish(GAsyncResult *result, GError **error)
{
    g_autoptr(GObject) source = NULL;
    GObject *object;

    g_return_val_if_fail(G_IS_ASYNC_RESULT(result), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    source = g_async_result_get_source_object(result);
    object = g_async_initable_new_finish(G_ASYNC_INITABLE(source), result,
                                         error);
    return object != NULL ? XLEV_CONTEXT(object) : NULL;
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

/**
 * xlev_context_get_transport:
 * @self: a context
 *
 * Gets how @self reaches xenstored.
 *
 * Returns: the [property@Xlev.Context:transport]
 *
 * Since: 1.0
 */
XlevTransport
xlev_context_get_transport(XlevContext *self)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), XLEV_TRANSPORT_SOCKET);

    if (self->core != NULL &&
        xlev_ctx_get_transport(self->core) == XLEV_XS_TRANSPORT_XENBUS)
        return XLEV_TRANSPORT_XENBUS;
    return XLEV_TRANSPORT_SOCKET;
}

/**
 * xlev_context_get_timeout:
 * @self: a context
 *
 * Gets the [property@Xlev.Context:timeout] of blocking operations.
 *
 * Returns: milliseconds; 0 for none
 *
 * Since: 1.0
 */
guint
xlev_context_get_timeout(XlevContext *self)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), 0);

    return g_atomic_int_get(&self->timeout_ms);
}

/**
 * xlev_context_set_timeout:
 * @self: a context
 * @timeout_ms: milliseconds, 0 for none, at most a day
 *
 * Sets the [property@Xlev.Context:timeout] of blocking operations, from
 * any thread; operations already waiting keep the one they started with.
 *
 * Since: 1.0
 */
void
xlev_context_set_timeout(XlevContext *self, guint timeout_ms)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));
    g_return_if_fail(timeout_ms <= XLEV_XS_TIMEOUT_MAX_MS);

    if ((guint)g_atomic_int_get(&self->timeout_ms) == timeout_ms)
        return;
    g_atomic_int_set(&self->timeout_ms, timeout_ms);
    if (self->core != NULL)
        xlev_ctx_set_timeout(self->core, (int)timeout_ms);
    if (self->dispatch != NULL)
        xlev_dispatch_notify(self->dispatch, G_OBJECT(self),
                             properties[PROP_TIMEOUT]);
    else
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_TIMEOUT]);
}

/**
 * xlev_source_new:
 * @context: the context to drive
 *
 * Creates the [struct@GLib.Source] that runs @context's
 * beforepoll/afterpoll cycle: it polls the core's file descriptors, wakes
 * up for the core's next timeout, and on dispatch lets the core handle what
 * happened and emits the resulting signals.
 *
 * A context made with %XLEV_INTEGRATION_SOURCE makes one with this
 * function and attaches it to its main context itself; applications do not
 * need to. At most one such source may drive a context at a time (the core
 * keeps one set of poll bookkeeping per context).
 *
 * The source holds only a weak reference to @context and does nothing
 * once @context is gone.
 *
 * Returns: (transfer full): a new, unattached source
 *
 * Since: 1.0
 */
GSource *
xlev_source_new(XlevContext *context)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(context), NULL);
    g_return_val_if_fail(context->dispatch != NULL, NULL);

    return xlev_source_new_for_dispatch(context->dispatch);
}

/**
 * xlev_context_get_reconnect:
 * @self: a context
 *
 * Gets the [property@Xlev.Context:reconnect] policy.
 *
 * Returns: what @self does when its connection is lost
 *
 * Since: 1.0
 */
XlevReconnect
xlev_context_get_reconnect(XlevContext *self)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), XLEV_RECONNECT_POLICY_NEVER);

    return (XlevReconnect)g_atomic_int_get(&self->reconnect);
}

/**
 * xlev_context_set_reconnect:
 * @self: a context
 * @policy: what to do when the connection is lost
 *
 * Sets the [property@Xlev.Context:reconnect] policy, from any thread, at
 * any time.
 *
 * Since: 1.0
 */
void
xlev_context_set_reconnect(XlevContext *self, XlevReconnect policy)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));
    g_return_if_fail(policy == XLEV_RECONNECT_POLICY_NEVER ||
                     policy == XLEV_RECONNECT_POLICY_AUTOMATIC);

    if (g_atomic_int_get(&self->reconnect) == (gint)policy)
        return;
    g_atomic_int_set(&self->reconnect, (gint)policy);
    if (self->core != NULL)
        apply_reconnect(self);
    if (self->dispatch != NULL)
        xlev_dispatch_notify(self->dispatch, G_OBJECT(self),
                             properties[PROP_RECONNECT]);
    else
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_RECONNECT]);
}

/**
 * xlev_context_get_connected:
 * @self: a context
 *
 * Gets whether the connection to xenstored is up, as last notified in
 * the context's main context (see [property@Xlev.Context:connected]).
 *
 * Returns: %TRUE while connected
 *
 * Since: 1.0
 */
gboolean
xlev_context_get_connected(XlevContext *self)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);

    return g_atomic_int_get(&self->connected);
}
