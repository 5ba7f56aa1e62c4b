/* xb-domains.c: the domains xenstored knows, live, with their state
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Two sources, as a toolstack GUI needs both:
 *  - xenstore: /local/domain/<domid> directories (the list) and names;
 *  - the hypervisor, through one XlevDomainMonitor of all domains: it
 *    follows the domains xenstored knows when it is made (listed at once
 *    from xlev_domain_monitor_list_domains(), before the directory
 *    listing answers, so that no signal about them finds no row) and
 *    those introduced later (`introduced`). Its shutdown and died signals
 *    set the state, once per domain.
 * A dead domain stays in the list, marked, until its directory goes.
 */
#include "xb-domains.h"
#include "xb-format.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#define DOMAIN_DIR "/local/domain"

/* ------------------------------------------------------------------ */
/* XbDomain */

struct _XbDomain {
    GObject parent_instance;
    guint domid;
    char *name;
    char *state;
    char *state_id;
};

enum { DOM_PROP_0, DOM_PROP_DOMID, DOM_PROP_NAME, DOM_PROP_STATE,
       DOM_PROP_STATE_ID, DOM_N_PROPS };
static GParamSpec *dom_props[DOM_N_PROPS];

G_DEFINE_FINAL_TYPE(XbDomain, xb_domain, G_TYPE_OBJECT)

static void
xb_domain_finalize(GObject *object)
{
    XbDomain *self = XB_DOMAIN(object);

    g_free(self->name);
    g_free(self->state);
    g_free(self->state_id);
    G_OBJECT_CLASS(xb_domain_parent_class)->finalize(object);
}

static void
xb_domain_get_property(GObject *object, guint prop_id, GValue *value,
                       GParamSpec *pspec)
{
    XbDomain *self = XB_DOMAIN(object);

    switch (prop_id) {
    case DOM_PROP_DOMID:
        g_value_set_uint(value, self->domid);
        break;
    case DOM_PROP_NAME:
        g_value_set_string(value, self->name);
        break;
    case DOM_PROP_STATE:
        g_value_set_string(value, self->state);
        break;
    case DOM_PROP_STATE_ID:
        g_value_set_string(value, self->state_id);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xb_domain_class_init(XbDomainClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GParamFlags flags =
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

    object_class->finalize = xb_domain_finalize;
    object_class->get_property = xb_domain_get_property;
    dom_props[DOM_PROP_DOMID] =
        g_param_spec_uint("domid", NULL, NULL, 0, G_MAXUINT, 0, flags);
    dom_props[DOM_PROP_NAME] =
        g_param_spec_string("name", NULL, NULL, NULL, flags);
    dom_props[DOM_PROP_STATE] =
        g_param_spec_string("state", NULL, NULL, NULL, flags);
    dom_props[DOM_PROP_STATE_ID] =
        g_param_spec_string("state-id", NULL, NULL, NULL, flags);
    g_object_class_install_properties(object_class, DOM_N_PROPS, dom_props);
}

static void
xb_domain_init(XbDomain *self)
{
}

guint
xb_domain_get_domid(XbDomain *self)
{
    return self->domid;
}

const char *
xb_domain_get_name(XbDomain *self)
{
    return self->name;
}

const char *
xb_domain_get_state(XbDomain *self)
{
    return self->state;
}

const char *
xb_domain_get_state_id(XbDomain *self)
{
    return self->state_id;
}

const char *
xb_domain_get_icon_name(XbDomain *self)
{
    const char *id = self->state_id != NULL ? self->state_id : "unknown";

    if (g_str_equal(id, "running"))
        return "emblem-ok-symbolic";
    if (g_str_equal(id, "shutdown:crash"))
        return "computer-fail-symbolic";
    if (g_str_has_prefix(id, "shutdown:"))
        return "system-shutdown-symbolic";
    if (g_str_equal(id, "dead"))
        return "process-stop-symbolic";
    return "dialog-question-symbolic";
}

static void
xb_domain_set_name(XbDomain *self, char *name /* transfer full */)
{
    g_free(self->name);
    self->name = name;
    g_object_notify_by_pspec(G_OBJECT(self), dom_props[DOM_PROP_NAME]);
}

static void
xb_domain_set_state(XbDomain *self, const char *state_id,
                    char *state /* transfer full */)
{
    g_free(self->state_id);
    self->state_id = g_strdup(state_id);
    g_free(self->state);
    self->state = state;
    g_object_notify_by_pspec(G_OBJECT(self), dom_props[DOM_PROP_STATE_ID]);
    g_object_notify_by_pspec(G_OBJECT(self), dom_props[DOM_PROP_STATE]);
}

/* ------------------------------------------------------------------ */
/* XbDomains */

struct _XbDomains {
    GObject parent_instance;
    XlevContext *ctx;
    XlevWatch *watch;
    GListStore *store;             /* XbDomain, by domid */
    XlevDomainMonitor *all;        /* NULL without a hypervisor */
    GCancellable *cancellable;
    gboolean hypervisor;
};

G_DEFINE_FINAL_TYPE(XbDomains, xb_domains, G_TYPE_OBJECT)

static XbDomain *
domains_find(XbDomains *self, guint domid, guint *position)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->store));

    for (guint i = 0; i < n; i++) {
        g_autoptr(XbDomain) d = g_list_model_get_item(G_LIST_MODEL(self->store), i);

        if (d->domid == domid) {
            if (position != NULL)
                *position = i;
            return d; /* the store holds a reference */
        }
    }
    return NULL;
}

static int
compare_domains(gconstpointer a, gconstpointer b, gpointer user_data)
{
    guint da = XB_DOMAIN((gpointer)a)->domid;
    guint db = XB_DOMAIN((gpointer)b)->domid;

    return da < db ? -1 : da > db;
}

static void
set_running(XbDomains *self, XbDomain *d)
{
    if (!self->hypervisor)
        xb_domain_set_state(d, "unknown", g_strdup(_("unknown (no hypervisor)")));
    else
        xb_domain_set_state(d, "running", g_strdup(_("running")));
}

static void
on_shutdown(XlevDomainMonitor *monitor, guint domid, XlevShutdownReason reason,
            gpointer user_data)
{
    XbDomains *self = user_data;
    XbDomain *d = domains_find(self, domid, NULL);
    GEnumClass *klass;
    GEnumValue *v;
    g_autofree char *nick = NULL;
    g_autofree char *id = NULL;

    if (d == NULL)
        return;
    klass = g_type_class_ref(XLEV_TYPE_SHUTDOWN_REASON);
    v = g_enum_get_value(klass, (gint)reason);
    nick = v != NULL ? g_strdup(v->value_nick) : g_strdup_printf("%d", reason);
    g_type_class_unref(klass);
    id = g_strconcat("shutdown:", nick, NULL);
    if (reason == XLEV_SHUTDOWN_REASON_CRASH)
        xb_domain_set_state(d, id, g_strdup(_("crashed")));
    else
        /* TRANSLATORS: a domain's state; %s is why: poweroff, reboot… */
        xb_domain_set_state(d, id, g_strdup_printf(_("shut down (%s)"), nick));
}

static void
on_died(XlevDomainMonitor *monitor, guint domid, gpointer user_data)
{
    XbDomains *self = user_data;
    XbDomain *d = domains_find(self, domid, NULL);

    if (d != NULL)
        xb_domain_set_state(d, "dead", g_strdup(_("dead")));
}

static void
name_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(XbDomain) d = user_data;
    g_autoptr(GError) error = NULL;
    char *name = xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);

    if (name != NULL)
        xb_domain_set_name(d, name);
}

static void
domain_added(XbDomains *self, guint domid)
{
    XbDomain *d = g_object_new(XB_TYPE_DOMAIN, NULL);
    g_autofree char *path = NULL;

    d->domid = domid;
    set_running(self, d);
    g_list_store_insert_sorted(self->store, d, compare_domains, NULL);

    path = g_strdup_printf(DOMAIN_DIR "/%u/name", domid);
    xlev_context_read_async(self->ctx, path, self->cancellable, name_read_cb,
                            d); /* the callback takes our reference */
}

static void
on_introduced(XlevDomainMonitor *monitor, guint domid, gpointer user_data)
{
    XbDomains *self = user_data;
    XbDomain *d = domains_find(self, domid, NULL);

    /* Its directory is there by now; the listing may not have seen it.
     * A row already there is a directory made before the introduction,
     * or one a dead domain of the same domid left behind. */
    if (d == NULL)
        domain_added(self, domid);
    else
        set_running(self, d);
}

static void
list_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    XbDomains *self = user_data;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) names =
        xlev_context_directory_finish(XLEV_CONTEXT(source), result, &error);
    g_autoptr(GHashTable) present = g_hash_table_new(NULL, NULL);
    guint n;

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        goto out;
    for (guint i = 0; names != NULL && names[i] != NULL; i++) {
        char *end;
        guint64 domid = g_ascii_strtoull(names[i], &end, 10);

        if (*end != '\0' || end == names[i] || domid > G_MAXUINT)
            continue;
        g_hash_table_add(present, GUINT_TO_POINTER((guint)domid));
        if (domains_find(self, (guint)domid, NULL) == NULL)
            domain_added(self, (guint)domid);
    }
    n = g_list_model_get_n_items(G_LIST_MODEL(self->store));
    for (guint i = n; i-- > 0;) {
        g_autoptr(XbDomain) d =
            g_list_model_get_item(G_LIST_MODEL(self->store), i);

        if (!g_hash_table_contains(present, GUINT_TO_POINTER(d->domid)))
            g_list_store_remove(self->store, i);
    }
out:
    g_object_unref(self);
}

static void
relist(XbDomains *self)
{
    xlev_context_directory_async(self->ctx, DOMAIN_DIR, self->cancellable,
                                 list_cb, g_object_ref(self));
}

static void
dir_changed_cb(XlevWatch *watch, const char *path, gpointer user_data)
{
    XbDomains *self = user_data;
    const char *rest;
    char *end;
    guint64 domid;

    /* /local/domain itself, a domain's directory, or anything below a
     * domain not listed yet: list again. Writes below known domains (the
     * busy case) cost nothing. A domain's name is read again when its
     * name node changes. */
    if (!g_str_has_prefix(path, DOMAIN_DIR "/")) {
        relist(self);
        return;
    }
    rest = path + strlen(DOMAIN_DIR "/");
    domid = g_ascii_strtoull(rest, &end, 10);
    if (end == rest || (*end != '\0' && *end != '/') ||
        *end == '\0' || domains_find(self, (guint)domid, NULL) == NULL) {
        relist(self);
        return;
    }
    if (g_str_equal(end, "/name")) {
        XbDomain *d = domains_find(self, (guint)domid, NULL);

        xlev_context_read_async(self->ctx, path, self->cancellable,
                                name_read_cb, g_object_ref(d));
    }
}

void
xb_domains_stop(XbDomains *self)
{
    g_cancellable_cancel(self->cancellable);
    if (self->watch != NULL) {
        g_signal_handlers_disconnect_by_data(self->watch, self);
        xlev_watch_cancel(self->watch);
        g_clear_object(&self->watch);
    }
    if (self->all != NULL) {
        g_signal_handlers_disconnect_by_data(self->all, self);
        xlev_domain_monitor_cancel(self->all);
        g_clear_object(&self->all);
    }
}

static void
xb_domains_dispose(GObject *object)
{
    xb_domains_stop(XB_DOMAINS(object));
    G_OBJECT_CLASS(xb_domains_parent_class)->dispose(object);
}

static void
xb_domains_finalize(GObject *object)
{
    XbDomains *self = XB_DOMAINS(object);

    g_clear_object(&self->store);
    g_clear_object(&self->cancellable);
    g_clear_object(&self->ctx);
    G_OBJECT_CLASS(xb_domains_parent_class)->finalize(object);
}

static void
xb_domains_class_init(XbDomainsClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = xb_domains_dispose;
    G_OBJECT_CLASS(klass)->finalize = xb_domains_finalize;
}

static void
xb_domains_init(XbDomains *self)
{
    self->store = g_list_store_new(XB_TYPE_DOMAIN);
    self->cancellable = g_cancellable_new();
}

/* Whether shutdown and death can be told: a monitor of domain 0 (it
 * always exists) is made only when the hypervisor can be asked. (A monitor
 * of all domains is made without it too, and then only reports
 * introductions.) The probe goes at once. */
static gboolean
hypervisor_available(XlevContext *ctx, GError **error)
{
    g_autoptr(GError) local_error = NULL;
    g_autoptr(XlevDomainMonitor) probe =
        xlev_context_monitor_domain(ctx, 0, &local_error);

    if (probe != NULL) {
        xlev_domain_monitor_cancel(probe);
        return TRUE;
    }
    if (!xb_error_is(local_error, "no-hypervisor"))
        g_propagate_error(error, g_steal_pointer(&local_error));
    return FALSE;
}

XbDomains *
xb_domains_new(XlevContext *ctx, GError **error)
{
    g_autoptr(XbDomains) self = g_object_new(XB_TYPE_DOMAINS, NULL);
    g_autoptr(GError) local_error = NULL;

    self->ctx = g_object_ref(ctx);
    self->hypervisor = hypervisor_available(ctx, &local_error);
    if (local_error != NULL) {
        g_propagate_error(error, g_steal_pointer(&local_error));
        return NULL;
    }
    if (self->hypervisor) {
        g_autoptr(GArray) domids = NULL;

        self->all = xlev_context_monitor_all_domains(ctx, error);
        if (self->all == NULL)
            return NULL;
        g_signal_connect(self->all, "shutdown", G_CALLBACK(on_shutdown), self);
        g_signal_connect(self->all, "died", G_CALLBACK(on_died), self);
        g_signal_connect(self->all, "introduced", G_CALLBACK(on_introduced),
                         self);
        /* The domains it follows from the start get no `introduced`: list
         * them now. (One already shut down gives its shutdown soon, in the
         * main context, and finds its row.) */
        domids = xlev_domain_monitor_list_domains(self->all);
        for (guint i = 0; i < domids->len; i++)
            domain_added(self, g_array_index(domids, guint, i));
    }

    self->watch = xlev_context_watch(ctx, DOMAIN_DIR, XLEV_WATCH_FLAGS_NONE,
                                     error);
    if (self->watch == NULL)
        return NULL;
    /* The initial event lists the domains. */
    g_signal_connect(self->watch, "changed", G_CALLBACK(dir_changed_cb), self);
    return g_steal_pointer(&self);
}

GListModel *
xb_domains_get_model(XbDomains *self)
{
    return G_LIST_MODEL(self->store);
}
