/* xlev-domain-monitor.c: XlevDomainMonitor, domain events as signals
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-domain-monitor.h"
#include "xlev-context-private.h"
#include "xlev-enums.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"

/**
 * XlevDomainMonitor:
 *
 * Lifecycle events of Xen domains: shutdown (with the reason), death,
 * disk eject requests and newly introduced domains.
 *
 * Made with [method@Xlev.Context.monitor_domain] (one domain) or
 * [method@Xlev.Context.monitor_all_domains] (every domain: those that
 * exist when it is made and those introduced to xenstored later, each
 * followed until it dies). Signals are emitted in the main context of the
 * [class@Xlev.Context] the monitor was made from, while that main context
 * is iterated; see the context's documentation for the threading rules.
 *
 * A GUI that shows every domain makes one monitor of all domains, fills
 * its list from [method@Xlev.DomainMonitor.list_domains] (in the thread
 * that iterates the main context, before iterating it again), then adds a
 * row on [signal@Xlev.DomainMonitor::introduced] and removes it on
 * [signal@Xlev.DomainMonitor::died].
 *
 * Shutdown and death need the Xen hypervisor (the core lists domains
 * through libxenctrl when xenstored fires `@releaseDomain`). Without it
 * [method@Xlev.Context.monitor_domain] fails with
 * %XLEV_ERROR_CODE_NO_HYPERVISOR, and a monitor of all domains reports
 * introductions only.
 *
 * The monitor stays enabled until [method@Xlev.DomainMonitor.cancel] is
 * called or its last reference is dropped; after that no signal is
 * emitted. A handler may cancel the monitor or drop its references.
 *
 * Since: 1.0
 */

/*
 * How an event travels: the core's domain generators (core/domain/) find
 * it inside the context's core processing and call the hooks each
 * generator was enabled with (monitor_hooks, with the monitor as their
 * user; core lock dropped, in the thread iterating the main context).
 * monitor_event_occurs turns the event into a typed XlevItem (domid and reason as
 * integers) on the context's delivery queue; emit_domain_event emits it
 * when the core call returns. The core's evdisable waits for an
 * event_occurs of that generator running in another thread, and dispose
 * disables every generator before the memory can go.
 *
 * Queued items point at the monitor itself, with no reference (the rule
 * is at "Naming the target" in xlev-dispatch.c): monitor_event_occurs queues only
 * for a generator of this monitor, deactivate disables them all and then
 * unqueues, and emit_domain_event checks `active`.
 *
 * A failure to produce an event (the core's domain-event disasters) goes
 * to the context's disaster hook, so to XlevContext::disaster: the
 * context's event hooks have no disaster callback of their own.
 *
 * A monitor of all domains follows (one death generator each) the
 * domains of its introduce generator's present set (enabled while it is
 * made) and each domain that generator reports (enabled from inside
 * event_occurs); a domain's generator goes when it dies. The core
 * guarantees a domain is in the present set or reported, never both, so
 * each domain's shutdown and death are emitted once.
 *
 * `domains` is the set list_domains returns: what the emitted signals
 * have told so far (present set, plus introduced, less died). It changes
 * where the signals are emitted (in the main context's thread, in the
 * emit_* functions), so that a caller there sees the list and the signals
 * agree; the lock protects it against list_domains from other threads.
 *
 * States:
 *   Active    - `active` is 1; generators enabled (lock protects the
 *               lists, since event_occurs adds and removes death
 *               generators in all-domains mode).
 *   Cancelled - `active` is 0; no generator, nothing queued. Final.
 * Active -> Cancelled once, by whoever wins the compare-and-exchange
 * (cancel or dispose): it steals the generators under the lock, disables
 * them with the lock dropped (the core may be waiting for an event_occurs
 * that wants the lock), then unqueues.
 */
struct _XlevDomainMonitor {
    GObject parent_instance;

    XlevContext *context; /* strong; keeps the core context alive */
    guint domid;          /* XLEV_DOMAIN_MONITOR_ALL_DOMAINS for all */
    gint active;          /* atomic */

    GMutex lock;
    xlev_evgen_domain_death *death;         /* one domain */
    xlev_evgen_domain_introduce *introduce; /* all domains */
    GHashTable *deaths;     /* all domains: domid -> xlev_evgen_domain_death */
    GPtrArray *ejects;      /* xlev_evgen_disk_eject */
    GHashTable *domains;    /* set of domids as the signals told */
    gboolean no_hypervisor; /* all domains: stop trying to follow */
};

enum { PROP_0, PROP_CONTEXT, PROP_DOMID, PROP_ACTIVE, N_PROPS };

static GParamSpec *properties[N_PROPS];

enum { SHUTDOWN, DIED, DISK_EJECTED, INTRODUCED, N_SIGNALS };

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(XlevDomainMonitor, xlev_domain_monitor, G_TYPE_OBJECT)

static void monitor_event_occurs(void *user, xlev_event *ev);

/* Every generator of a monitor is enabled with these, the monitor as their
 * user: every type to monitor_event_occurs, none to the queue. */
static const xlev_event_hooks monitor_hooks = {
    .event_occurs_mask = XLEV_EVENTMASK_ALL,
    .event_occurs = monitor_event_occurs,
};

/* ------------------------------------------------------------------------ */
/* Delivery: in the main context's thread, no lock held. */

/* Updates the set list_domains returns, just before the signal that
 * tells it is emitted. */
static void
domains_update(XlevDomainMonitor *self, guint domid, gboolean add)
{
    g_mutex_lock(&self->lock);
    if (add)
        g_hash_table_add(self->domains, GUINT_TO_POINTER(domid));
    else
        g_hash_table_remove(self->domains, GUINT_TO_POINTER(domid));
    g_mutex_unlock(&self->lock);
}

static void
emit_domain_event(GObject *target, const XlevItem *item)
{
    XlevDomainMonitor *self = (XlevDomainMonitor *)target;
    guint domid = item->u.domain.domid;

    if (!g_atomic_int_get(&self->active))
        return;
    switch (item->u.domain.type) {
    case XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN:
        g_signal_emit(self, signals[SHUTDOWN], 0, domid,
                      (XlevShutdownReason)item->u.domain.reason);
        break;
    case XLEV_EVENT_TYPE_DOMAIN_DEATH:
        domains_update(self, domid, FALSE);
        g_signal_emit(self, signals[DIED], 0, domid);
        break;
    case XLEV_EVENT_TYPE_DISK_EJECT:
        g_signal_emit(self, signals[DISK_EJECTED], 0, item->text);
        break;
    case XLEV_EVENT_TYPE_DOMAIN_INTRODUCE:
        domains_update(self, domid, TRUE);
        g_signal_emit(self, signals[INTRODUCED], 0, domid);
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* The core's event hooks: core lock dropped, in the thread running the
 * core (the main context's). Queue; never emit. */

/* A domain of a monitor of all domains that will not be followed: its
 * shutdown and death will not be reported, which the application must
 * hear about, as ::disaster. Except when the connection to xenstored is
 * lost: the context raises its own disaster for that, once. */
static void
follow_failed(XlevDomainMonitor *self, guint domid, int rc)
{
    g_autofree char *msg
        = g_strdup_printf("domain %u: not following its shutdown and death: %s",
                          domid, xlev_strerror(rc));

    if (rc == XLEV_ERROR_XENSTORE || rc == XLEV_ERROR_BROKEN) {
        g_debug("%s", msg);
        return;
    }
    xlev_context_report_disaster(self->context,
                                 rc == XLEV_ERROR_NOMEM
                                     ? XLEV_DISASTER_KIND_NOMEM
                                     : XLEV_DISASTER_KIND_XENSTORE,
                                 msg, 0);
}

/* Enables the death generator of one domain of a monitor of all domains.
 * Without the hypervisor the first attempt fails and the monitor stops
 * trying (each attempt would log the same failure again). */
static void
all_domains_follow(XlevDomainMonitor *self, xlev_ctx *core, guint domid)
{
    xlev_evgen_domain_death *gen = NULL;
    int rc = 0;

    g_mutex_lock(&self->lock);
    if (g_atomic_int_get(&self->active) && self->deaths != NULL
        && !self->no_hypervisor
        && !g_hash_table_contains(self->deaths, GUINT_TO_POINTER(domid))) {
        rc = xlev_evenable_domain_death_full(core, domid, 0, &monitor_hooks,
                                             self, &gen);
        if (rc == 0)
            g_hash_table_insert(self->deaths, GUINT_TO_POINTER(domid), gen);
        else if (rc == XLEV_ERROR_NO_HYPERVISOR)
            self->no_hypervisor = TRUE;
    }
    g_mutex_unlock(&self->lock);
    if (rc != 0 && rc != XLEV_ERROR_NO_HYPERVISOR)
        follow_failed(self, domid, rc);
}

static void
all_domains_forget(XlevDomainMonitor *self, xlev_ctx *core, guint domid)
{
    xlev_evgen_domain_death *gen = NULL;

    g_mutex_lock(&self->lock);
    if (self->deaths)
        g_hash_table_steal_extended(self->deaths, GUINT_TO_POINTER(domid), NULL,
                                    (gpointer *)&gen);
    g_mutex_unlock(&self->lock);
    /* Inside its own delivery: returns at once. */
    if (gen)
        xlev_evdisable_domain_death(core, gen);
}

/* Queues the item for @ev. */
static void
queue_event(XlevDomainMonitor *self, const xlev_event *ev)
{
    XlevItem *item = xlev_item_new(
        G_OBJECT(self), emit_domain_event, XLEV_ITEM_DOMAIN,
        ev->type == XLEV_EVENT_TYPE_DISK_EJECT ? ev->u.disk_eject.vdev : NULL);

    item->u.domain.type = ev->type;
    item->u.domain.domid = ev->domid;
    if (ev->type == XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN)
        item->u.domain.reason = ev->u.domain_shutdown.reason;
    xlev_dispatch_queue(xlev_context_get_dispatch(self->context), item);
}

/* The event hook of each of our generators, enabled with these hooks of
 * their own (xlev_evenable_*_full), so the application's context-wide
 * hooks are never touched: core lock dropped, in the thread iterating the
 * main context; owns @ev. */
static void
monitor_event_occurs(void *user, xlev_event *ev)
{
    XlevDomainMonitor *self = user;
    xlev_ctx *core = xlev_context_get_core(self->context);

    queue_event(self, ev);
    if (ev->type == XLEV_EVENT_TYPE_DOMAIN_DEATH
        && self->domid == XLEV_DOMAIN_MONITOR_ALL_DOMAINS)
        all_domains_forget(self, core, ev->domid);
    else if (ev->type == XLEV_EVENT_TYPE_DOMAIN_INTRODUCE)
        all_domains_follow(self, core, ev->domid);
    xlev_event_free(core, ev);
}

/* ------------------------------------------------------------------------ */

/* Active -> Cancelled; TRUE if this call did it. Any thread; not from a
 * core callback of another monitor's generator running in this thread
 * (signal handlers are fine: they run after the core call). */
static gboolean
deactivate(XlevDomainMonitor *self)
{
    xlev_ctx *core;
    xlev_evgen_domain_death *death;
    xlev_evgen_domain_introduce *introduce;
    g_autoptr(GHashTable) deaths = NULL;
    g_autoptr(GPtrArray) ejects = NULL;
    GHashTableIter iter;
    gpointer value;

    if (!g_atomic_int_compare_and_exchange(&self->active, 1, 0))
        return FALSE;

    g_mutex_lock(&self->lock);
    death = g_steal_pointer(&self->death);
    introduce = g_steal_pointer(&self->introduce);
    deaths = g_steal_pointer(&self->deaths);
    ejects = g_steal_pointer(&self->ejects);
    g_mutex_unlock(&self->lock);

    core = xlev_context_get_core(self->context);
    if (introduce)
        xlev_evdisable_domain_introduce(core, introduce);
    if (death)
        xlev_evdisable_domain_death(core, death);
    if (deaths) {
        g_hash_table_iter_init(&iter, deaths);
        while (g_hash_table_iter_next(&iter, NULL, &value))
            xlev_evdisable_domain_death(core, value);
    }
    if (ejects)
        for (guint i = 0; i < ejects->len; i++)
            xlev_evdisable_disk_eject(core, g_ptr_array_index(ejects, i));
    xlev_dispatch_unqueue(xlev_context_get_dispatch(self->context),
                          G_OBJECT(self));
    return TRUE;
}

static void
xlev_domain_monitor_dispose(GObject *object)
{
    XlevDomainMonitor *self = XLEV_DOMAIN_MONITOR(object);

    if (self->context != NULL) {
        deactivate(self);
        g_clear_object(&self->context);
    }

    G_OBJECT_CLASS(xlev_domain_monitor_parent_class)->dispose(object);
}

static void
xlev_domain_monitor_finalize(GObject *object)
{
    XlevDomainMonitor *self = XLEV_DOMAIN_MONITOR(object);

    g_mutex_clear(&self->lock);
    g_hash_table_unref(self->domains);

    G_OBJECT_CLASS(xlev_domain_monitor_parent_class)->finalize(object);
}

static void
xlev_domain_monitor_get_property(GObject *object, guint prop_id, GValue *value,
                                 GParamSpec *pspec)
{
    XlevDomainMonitor *self = XLEV_DOMAIN_MONITOR(object);

    switch (prop_id) {
    case PROP_CONTEXT:
        g_value_set_object(value, self->context);
        break;
    case PROP_DOMID:
        g_value_set_uint(value, self->domid);
        break;
    case PROP_ACTIVE:
        g_value_set_boolean(value, xlev_domain_monitor_get_active(self));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_domain_monitor_class_init(XlevDomainMonitorClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = xlev_domain_monitor_dispose;
    object_class->finalize = xlev_domain_monitor_finalize;
    object_class->get_property = xlev_domain_monitor_get_property;

    /**
     * XlevDomainMonitor:context:
     *
     * The context the monitor was made from.
     *
     * Since: 1.0
     */
    properties[PROP_CONTEXT]
        = g_param_spec_object("context", NULL, NULL, XLEV_TYPE_CONTEXT,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    /**
     * XlevDomainMonitor:domid:
     *
     * The monitored domain, or %XLEV_DOMAIN_MONITOR_ALL_DOMAINS.
     *
     * Since: 1.0
     */
    properties[PROP_DOMID]
        = g_param_spec_uint("domid", NULL, NULL, 0, G_MAXUINT, 0,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    /**
     * XlevDomainMonitor:active:
     *
     * Whether the monitor is enabled; %FALSE once it was cancelled. Its
     * notification is emitted in the context's main context.
     *
     * Since: 1.0
     */
    properties[PROP_ACTIVE] = g_param_spec_boolean(
        "active", NULL, NULL, FALSE,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

    g_object_class_install_properties(object_class, N_PROPS, properties);

    /**
     * XlevDomainMonitor::shutdown:
     * @self: the monitor
     * @domid: the domain
     * @reason: why it shut down (a crash is %XLEV_SHUTDOWN_REASON_CRASH)
     *
     * The domain has shut down. Emitted at most once per domain, before
     * [signal@Xlev.DomainMonitor::died]; a domain destroyed without
     * shutting down first only dies. The domain still exists: the
     * toolstack decides whether to destroy, restart or resume it.
     *
     * Emitted in the main context of the monitor's [class@Xlev.Context].
     *
     * Since: 1.0
     */
    signals[SHUTDOWN] = g_signal_new(
        "shutdown", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
        NULL, G_TYPE_NONE, 2, G_TYPE_UINT, XLEV_TYPE_SHUTDOWN_REASON);

    /**
     * XlevDomainMonitor::died:
     * @self: the monitor
     * @domid: the domain
     *
     * The domain is dying or gone. Emitted once per domain, and last: a
     * monitor of one domain emits nothing more (a new domain that reuses
     * the domid needs a new monitor); a monitor of all domains reports the
     * domid again if it is introduced again.
     *
     * Emitted in the main context of the monitor's [class@Xlev.Context].
     *
     * Since: 1.0
     */
    signals[DIED]
        = g_signal_new("died", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                       NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

    /**
     * XlevDomainMonitor::disk-ejected:
     * @self: the monitor
     * @vdev: the guest device name given to
     *   [method@Xlev.DomainMonitor.watch_disk]
     *
     * The backend of a watched disk asked for its medium to be ejected.
     * The request has been acknowledged (its `eject` node reset to "0");
     * changing the device's media is up to the application.
     *
     * Emitted in the main context of the monitor's [class@Xlev.Context].
     *
     * Since: 1.0
     */
    signals[DISK_EJECTED] = g_signal_new(
        "disk-ejected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
        NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

    /**
     * XlevDomainMonitor::introduced:
     * @self: the monitor
     * @domid: the new domain
     *
     * A domain was introduced to xenstored and has its `/local/domain`
     * directory. Only monitors of all domains emit it, and only for
     * domains that appear after the monitor was made: those that existed
     * then are in [method@Xlev.DomainMonitor.list_domains] instead. The
     * monitor then follows that domain's
     * [signal@Xlev.DomainMonitor::shutdown] and
     * [signal@Xlev.DomainMonitor::died] too (when the hypervisor is
     * available).
     *
     * Emitted in the main context of the monitor's [class@Xlev.Context].
     *
     * Since: 1.0
     */
    signals[INTRODUCED] = g_signal_new("introduced", G_TYPE_FROM_CLASS(klass),
                                       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
xlev_domain_monitor_init(XlevDomainMonitor *self)
{
    g_mutex_init(&self->lock);
    self->ejects = g_ptr_array_new();
    self->domains = g_hash_table_new(NULL, NULL);
}

static XlevDomainMonitor *
monitor_new(XlevContext *context, guint domid)
{
    XlevDomainMonitor *self = g_object_new(XLEV_TYPE_DOMAIN_MONITOR, NULL);

    self->context = g_object_ref(context);
    self->domid = domid;
    /* Active before the core knows: events may come as soon as a
     * generator exists. */
    g_atomic_int_set(&self->active, 1);
    return self;
}

/**
 * xlev_context_monitor_domain:
 * @context: a context
 * @domid: the domain to follow
 * @error: return location for a #GError
 *
 * Starts following domain @domid: [signal@Xlev.DomainMonitor::shutdown]
 * and [signal@Xlev.DomainMonitor::died], and disk ejects once
 * [method@Xlev.DomainMonitor.watch_disk] was called. A domid that does
 * not exist dies at once (in the main context, not from inside this
 * call).
 *
 * Fails with %XLEV_ERROR_CODE_NO_HYPERVISOR when Xen is not running,
 * %XLEV_ERROR_CODE_INVAL for a domid at or above `DOMID_FIRST_RESERVED`
 * (0x7FF0), or the errors of watching `@releaseDomain`.
 *
 * Returns: (transfer full): a new, active monitor, or %NULL with @error
 *   set
 *
 * Since: 1.0
 */
XlevDomainMonitor *
xlev_context_monitor_domain(XlevContext *context, guint domid, GError **error)
{
    g_autoptr(XlevDomainMonitor) self = NULL;
    xlev_evgen_domain_death *gen = NULL;
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(context), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_context_check_ready(context, error))
        return NULL;

    self = monitor_new(context, domid);
    rc = xlev_evenable_domain_death_full(xlev_context_get_core(context), domid,
                                         0, &monitor_hooks, self, &gen);
    if (rc != 0) {
        g_atomic_int_set(&self->active, 0);
        xlev_error_from_core(error, rc, _("Cannot monitor domain %u"), domid);
        return NULL;
    }
    g_mutex_lock(&self->lock);
    self->death = gen;
    g_hash_table_add(self->domains, GUINT_TO_POINTER(domid));
    g_mutex_unlock(&self->lock);
    return g_steal_pointer(&self);
}

/**
 * xlev_context_monitor_all_domains:
 * @context: a context
 * @error: return location for a #GError
 *
 * Starts following every domain: those that exist now and those
 * introduced to xenstored later.
 *
 * The domains that exist now are the ones xenstored knows: each
 * `/local/domain/<domid>` whose domain xenstored says is introduced
 * (`XS_IS_DOMAIN_INTRODUCED`), domain 0 included; this call reads them
 * (one round trip per domain). They are not announced with
 * [signal@Xlev.DomainMonitor::introduced]: get them from
 * [method@Xlev.DomainMonitor.list_domains]. Each domain introduced later
 * gives [signal@Xlev.DomainMonitor::introduced] (once it is introduced
 * and has its `/local/domain` directory). A domain is one or the other,
 * never both. (The same list read from the hypervisor would also hold
 * domains still being built, which are introduced later, so it is not
 * used.)
 *
 * Every one of those domains is then followed until it dies:
 * [signal@Xlev.DomainMonitor::shutdown] and
 * [signal@Xlev.DomainMonitor::died], once each, as
 * [method@Xlev.Context.monitor_domain] reports them (a domain that is
 * already shut down gives its shutdown soon after this call, in the main
 * context). Those need the hypervisor; without it only introductions are
 * reported.
 *
 * Fails with the errors of reading `/local/domain` and watching
 * `@introduceDomain`.
 *
 * Returns: (transfer full): a new, active monitor, or %NULL with @error
 *   set
 *
 * Since: 1.0
 */
XlevDomainMonitor *
xlev_context_monitor_all_domains(XlevContext *context, GError **error)
{
    g_autoptr(XlevDomainMonitor) self = NULL;
    xlev_evgen_domain_introduce *gen = NULL;
    g_autofree uint32_t *present = NULL;
    size_t npresent = 0, i;
    xlev_ctx *core;
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(context), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_context_check_ready(context, error))
        return NULL;

    self = monitor_new(context, XLEV_DOMAIN_MONITOR_ALL_DOMAINS);
    self->deaths = g_hash_table_new(NULL, NULL);
    core = xlev_context_get_core(context);
    rc = xlev_evenable_domain_introduce_full(core, 0, &monitor_hooks, self,
                                             &gen);
    if (rc == 0) {
        g_mutex_lock(&self->lock);
        self->introduce = gen;
        g_mutex_unlock(&self->lock);
        rc = xlev_evgen_domain_introduce_present(core, gen, &present,
                                                 &npresent);
    }
    if (rc != 0) {
        /* Disables the generator, if any: nothing is emitted. */
        deactivate(self);
        xlev_error_from_core(error, rc, _("Cannot monitor domains"));
        return NULL;
    }

    /* In the list before any signal about them can be emitted: their
     * death generators come after. */
    g_mutex_lock(&self->lock);
    for (i = 0; i < npresent; i++)
        g_hash_table_add(self->domains, GUINT_TO_POINTER(present[i]));
    g_mutex_unlock(&self->lock);
    for (i = 0; i < npresent; i++)
        all_domains_follow(self, core, present[i]);
    return g_steal_pointer(&self);
}

/**
 * xlev_context_has_hypervisor:
 * @context: a context
 *
 * Asks whether the Xen hypervisor can be asked about domains from this
 * process: if so, [method@Xlev.Context.monitor_domain] works and a
 * [class@Xlev.DomainList] reports shutdown and death; if not, domain state
 * comes from xenstore alone. Makes no request to xenstored; asks anew at
 * each call. Logs why not at debug level only.
 *
 * Returns: %TRUE if the hypervisor is available; %FALSE if not, or if
 *   @context is not initialised
 *
 * Since: 1.0
 */
gboolean
xlev_context_has_hypervisor(XlevContext *context)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(context), FALSE);

    if (!xlev_context_check_ready(context, NULL))
        return FALSE;
    return xlev_domain_hypervisor_available(xlev_context_get_core(context))
           != 0;
}

/**
 * xlev_domain_monitor_new:
 * @context: a context
 * @domid: the domain to follow
 * @error: return location for a #GError
 *
 * The same as [method@Xlev.Context.monitor_domain].
 *
 * Returns: (transfer full): a new, active monitor, or %NULL with @error
 *   set
 *
 * Since: 1.0
 */
XlevDomainMonitor *
xlev_domain_monitor_new(XlevContext *context, guint domid, GError **error)
{
    return xlev_context_monitor_domain(context, domid, error);
}

/**
 * xlev_domain_monitor_new_all:
 * @context: a context
 * @error: return location for a #GError
 *
 * The same as [method@Xlev.Context.monitor_all_domains].
 *
 * Returns: (transfer full): a new, active monitor, or %NULL with @error
 *   set
 *
 * Since: 1.0
 */
XlevDomainMonitor *
xlev_domain_monitor_new_all(XlevContext *context, GError **error)
{
    return xlev_context_monitor_all_domains(context, error);
}

/**
 * xlev_domain_monitor_watch_disk:
 * @self: a monitor of one domain
 * @vdev: the guest's name for the disk: `xvda`, `hdc`, `sdb`, `d0p1`,
 *   or a device number
 * @error: return location for a #GError
 *
 * Emits [signal@Xlev.DomainMonitor::disk-ejected] with @vdev each time
 * the disk's backend asks for an eject (its `eject` node becomes "1").
 * The backend is found through the frontend's
 * `/local/domain/<domid>/device/vbd/<devid>/backend` node, which must
 * exist. Blocks for the round trips to xenstored.
 *
 * Fails with %XLEV_ERROR_CODE_INVAL for a monitor of all domains, a
 * cancelled monitor or a @vdev that names no disk,
 * %XLEV_ERROR_CODE_NOENT when the domain has no such disk, or the errors
 * of reading and watching xenstore.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
xlev_domain_monitor_watch_disk(XlevDomainMonitor *self, const char *vdev,
                               GError **error)
{
    xlev_evgen_disk_eject *gen = NULL;
    gboolean ok = FALSE;
    int rc;

    g_return_val_if_fail(XLEV_IS_DOMAIN_MONITOR(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (vdev == NULL || !g_utf8_validate(vdev, -1, NULL)
        || xlev_disk_vdev_to_devid(vdev) < 0) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("“%s” is not a guest disk name"),
                    vdev != NULL && g_utf8_validate(vdev, -1, NULL) ? vdev
                                                                    : "?");
        return FALSE;
    }
    if (self->domid == XLEV_DOMAIN_MONITOR_ALL_DOMAINS || self->context == NULL
        || !g_atomic_int_get(&self->active)) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("Disks can only be watched by an active monitor of "
                      "one domain"));
        return FALSE;
    }

    /* Added under the lock: a concurrent cancel either finds this
     * generator in the list or has already taken the list away (then it
     * is disabled here). */
    rc = xlev_evenable_disk_eject_full(xlev_context_get_core(self->context),
                                       self->domid, vdev, 0, &monitor_hooks,
                                       self, &gen);
    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot watch disk %s of domain %u"),
                             vdev, self->domid);
        return FALSE;
    }
    g_mutex_lock(&self->lock);
    if (self->ejects != NULL) {
        g_ptr_array_add(self->ejects, gen);
        gen = NULL;
        ok = TRUE;
    }
    g_mutex_unlock(&self->lock);
    if (gen != NULL) {
        xlev_evdisable_disk_eject(xlev_context_get_core(self->context), gen);
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("Disks can only be watched by an active monitor of "
                      "one domain"));
    }
    return ok;
}

static gint
compare_guint(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;

    return x < y ? -1 : x > y;
}

/**
 * xlev_domain_monitor_list_domains:
 * @self: a monitor
 *
 * Lists the domains @self follows, as its signals have told so far. For a
 * monitor of all domains: the domains that existed when it was made (see
 * [method@Xlev.Context.monitor_all_domains]), plus each domain
 * [signal@Xlev.DomainMonitor::introduced] has announced since, less each
 * domain [signal@Xlev.DomainMonitor::died] has announced since. For a
 * monitor of one domain: that domain until it died.
 *
 * The list changes just before each of those signals is emitted, in the
 * main context of the monitor's [class@Xlev.Context]. Called in the
 * thread that iterates that main context, it therefore agrees with the
 * signals: call it once right after making the monitor to get the initial
 * set, and keep your copy up to date from the signals. (Without the
 * hypervisor no domain is reported dead, so a domain stays listed after
 * it is gone.) After [method@Xlev.DomainMonitor.cancel] the list no longer
 * changes.
 *
 * Returns: (transfer full) (element-type guint): the domids, in
 *   increasing order
 *
 * Since: 1.0
 */
GArray *
xlev_domain_monitor_list_domains(XlevDomainMonitor *self)
{
    GArray *domids;
    GHashTableIter iter;
    gpointer key;

    g_return_val_if_fail(XLEV_IS_DOMAIN_MONITOR(self), NULL);

    g_mutex_lock(&self->lock);
    domids = g_array_sized_new(FALSE, FALSE, sizeof(guint),
                               g_hash_table_size(self->domains));
    g_hash_table_iter_init(&iter, self->domains);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        guint domid = GPOINTER_TO_UINT(key);

        g_array_append_val(domids, domid);
    }
    g_mutex_unlock(&self->lock);
    g_array_sort(domids, compare_guint);
    return domids;
}

/**
 * xlev_domain_monitor_get_context:
 * @self: a monitor
 *
 * Gets the context @self was made from.
 *
 * Returns: (transfer none) (nullable): the context @self was made from
 *   (%NULL only after @self was disposed)
 *
 * Since: 1.0
 */
XlevContext *
xlev_domain_monitor_get_context(XlevDomainMonitor *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN_MONITOR(self), NULL);

    return self->context;
}

/**
 * xlev_domain_monitor_get_domid:
 * @self: a monitor
 *
 * Gets the domain @self monitors.
 *
 * Returns: the monitored domain, or %XLEV_DOMAIN_MONITOR_ALL_DOMAINS
 *
 * Since: 1.0
 */
guint
xlev_domain_monitor_get_domid(XlevDomainMonitor *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN_MONITOR(self), 0);

    return self->domid;
}

/**
 * xlev_domain_monitor_get_active:
 * @self: a monitor
 *
 * Gets whether @self is still monitoring.
 *
 * Returns: %TRUE until @self is cancelled
 *
 * Since: 1.0
 */
gboolean
xlev_domain_monitor_get_active(XlevDomainMonitor *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN_MONITOR(self), FALSE);

    return g_atomic_int_get(&self->active) != 0;
}

/**
 * xlev_domain_monitor_cancel:
 * @self: a monitor
 *
 * Disables the monitor. Idempotent; may be called from any thread,
 * including from a handler of any monitor's signal. When it returns in the
 * thread iterating the context's main context, @self emits no more
 * signals; called from another thread, it waits for a delivery to the core
 * in progress, but a signal already being emitted in the main context may
 * still finish.
 *
 * Since: 1.0
 */
void
xlev_domain_monitor_cancel(XlevDomainMonitor *self)
{
    g_return_if_fail(XLEV_IS_DOMAIN_MONITOR(self));

    if (self->context != NULL && deactivate(self))
        xlev_dispatch_notify(xlev_context_get_dispatch(self->context),
                             G_OBJECT(self), properties[PROP_ACTIVE]);
}
