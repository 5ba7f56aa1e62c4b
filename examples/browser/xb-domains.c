/* xb-domains.c: the domains xenstored knows, live, with their state
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The library's XlevDomainList does the work: which domains exist (present
 * and introduced), their names, and their state from the hypervisor. Each
 * of its XlevDomain items is shown through an XbDomain that follows its
 * `notify` and turns the state into the window's words and icons. What
 * the browser adds is its habit of keeping a dead domain in view: when
 * the list drops a domain (its state becomes GONE first), the row stays,
 * marked dead, until the domain's /local/domain directory goes (a watch on
 * that directory, and an exists check on each of its events).
 */
#include "xb-domains.h"
#include "xb-format.h"

#include <glib/gi18n.h>

#define DOMAIN_DIR "/local/domain"

/* ------------------------------------------------------------------ */
/* XbDomain */

struct _XbDomain {
    GObject parent_instance;
    XlevDomain *domain; /* followed until it is gone */
    gboolean hypervisor;
    char *state;
    char *state_id;
    XlevWatch *dir_watch; /* once dead: its directory */
};

enum { DOM_PROP_0, DOM_PROP_DOMID, DOM_PROP_NAME, DOM_PROP_STATE,
       DOM_PROP_STATE_ID, DOM_N_PROPS };
static GParamSpec *dom_props[DOM_N_PROPS];

G_DEFINE_FINAL_TYPE(XbDomain, xb_domain, G_TYPE_OBJECT)

static void
xb_domain_stop_watching(XbDomain *self)
{
    if (self->dir_watch != NULL) {
        g_signal_handlers_disconnect_matched(self->dir_watch,
                                             G_SIGNAL_MATCH_DATA, 0, 0, NULL,
                                             NULL, self);
        xlev_watch_cancel(self->dir_watch);
        g_clear_object(&self->dir_watch);
    }
}

static void
xb_domain_dispose(GObject *object)
{
    XbDomain *self = XB_DOMAIN(object);

    xb_domain_stop_watching(self);
    if (self->domain != NULL)
        g_signal_handlers_disconnect_by_data(self->domain, self);
    G_OBJECT_CLASS(xb_domain_parent_class)->dispose(object);
}

static void
xb_domain_finalize(GObject *object)
{
    XbDomain *self = XB_DOMAIN(object);

    g_clear_object(&self->domain);
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
        g_value_set_uint(value, xb_domain_get_domid(self));
        break;
    case DOM_PROP_NAME:
        g_value_set_string(value, xb_domain_get_name(self));
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

    object_class->dispose = xb_domain_dispose;
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
    return xlev_domain_get_domid(self->domain);
}

const char *
xb_domain_get_name(XbDomain *self)
{
    return xlev_domain_get_name(self->domain);
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
xb_domain_set_state(XbDomain *self, const char *state_id,
                    char *state /* transfer full */)
{
    if (g_strcmp0(self->state_id, state_id) == 0 &&
        g_strcmp0(self->state, state) == 0) {
        g_free(state);
        return;
    }
    g_free(self->state_id);
    self->state_id = g_strdup(state_id);
    g_free(self->state);
    self->state = state;
    g_object_notify_by_pspec(G_OBJECT(self), dom_props[DOM_PROP_STATE_ID]);
    g_object_notify_by_pspec(G_OBJECT(self), dom_props[DOM_PROP_STATE]);
}

/* The window's words for XlevDomain:state (and shutdown-reason). */
static void
xb_domain_update_state(XbDomain *self)
{
    XlevShutdownReason reason;
    GEnumClass *klass;
    GEnumValue *v;
    g_autofree char *nick = NULL;
    g_autofree char *id = NULL;

    switch (xlev_domain_get_state(self->domain)) {
    case XLEV_DOMAIN_STATE_RUNNING:
        if (!self->hypervisor)
            xb_domain_set_state(self, "unknown",
                                g_strdup(_("unknown (no hypervisor)")));
        else
            xb_domain_set_state(self, "running", g_strdup(_("running")));
        return;
    case XLEV_DOMAIN_STATE_SHUTDOWN:
        break;
    case XLEV_DOMAIN_STATE_DYING:
    case XLEV_DOMAIN_STATE_GONE:
    default:
        xb_domain_set_state(self, "dead", g_strdup(_("dead")));
        return;
    }

    reason = xlev_domain_get_shutdown_reason(self->domain);
    klass = g_type_class_ref(XLEV_TYPE_SHUTDOWN_REASON);
    v = g_enum_get_value(klass, (gint)reason);
    nick = v != NULL ? g_strdup(v->value_nick) : g_strdup_printf("%d", reason);
    g_type_class_unref(klass);
    id = g_strconcat("shutdown:", nick, NULL);
    if (reason == XLEV_SHUTDOWN_REASON_CRASH)
        xb_domain_set_state(self, id, g_strdup(_("crashed")));
    else
        /* TRANSLATORS: a domain's state; %s is why: poweroff, reboot… */
        xb_domain_set_state(self, id, g_strdup_printf(_("shut down (%s)"), nick));
}

static void
domain_notify_cb(XlevDomain *domain, GParamSpec *pspec, XbDomain *self)
{
    if (g_str_equal(pspec->name, "name"))
        g_object_notify_by_pspec(G_OBJECT(self), dom_props[DOM_PROP_NAME]);
    else
        xb_domain_update_state(self);
}

static XbDomain *
xb_domain_new(XlevDomain *domain, gboolean hypervisor)
{
    XbDomain *self = g_object_new(XB_TYPE_DOMAIN, NULL);

    self->domain = g_object_ref(domain);
    self->hypervisor = hypervisor;
    xb_domain_update_state(self);
    g_signal_connect(domain, "notify", G_CALLBACK(domain_notify_cb), self);
    return self;
}

/* ------------------------------------------------------------------ */
/* XbDomains */

struct _XbDomains {
    GObject parent_instance;
    XlevContext *ctx;
    XlevDomainList *list;  /* the library's; NULL once stopped */
    GListStore *store;     /* XbDomain, by domid: the live and the dead */
    GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE(XbDomains, xb_domains, G_TYPE_OBJECT)

static XbDomain *
domains_find(XbDomains *self, guint domid, guint *position)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->store));

    for (guint i = 0; i < n; i++) {
        g_autoptr(XbDomain) d = g_list_model_get_item(G_LIST_MODEL(self->store), i);

        if (xb_domain_get_domid(d) == domid) {
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
    guint da = xb_domain_get_domid(XB_DOMAIN((gpointer)a));
    guint db = xb_domain_get_domid(XB_DOMAIN((gpointer)b));

    return da < db ? -1 : da > db;
}

static void
row_remove(XbDomains *self, XbDomain *d)
{
    guint position;

    xb_domain_stop_watching(d);
    if (domains_find(self, xb_domain_get_domid(d), &position) == d)
        g_list_store_remove(self->store, position);
}

static void
dir_exists_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(XbDomain) d = user_data;
    g_autoptr(GError) error = NULL;
    XbDomains *self = g_object_get_data(G_OBJECT(d), "xb-domains");
    gboolean exists =
        xlev_context_exists_finish(XLEV_CONTEXT(source), result, &error);

    if (error != NULL || self == NULL || exists)
        return;
    row_remove(self, d);
}

static void
dir_changed_cb(XlevWatch *watch, const char *path, XbDomain *d)
{
    XbDomains *self = g_object_get_data(G_OBJECT(d), "xb-domains");
    g_autofree char *dir =
        g_strdup_printf(DOMAIN_DIR "/%u", xb_domain_get_domid(d));

    if (self == NULL)
        return;
    xlev_context_exists_async(self->ctx, dir, self->cancellable,
                              dir_exists_cb, g_object_ref(d));
}

/* The list dropped @d's domain: the row stays, dead, until the
 * directory goes (the watch's first event checks at once). */
static void
row_keep_dead(XbDomains *self, XbDomain *d)
{
    g_autofree char *dir =
        g_strdup_printf(DOMAIN_DIR "/%u", xb_domain_get_domid(d));
    g_autoptr(GError) error = NULL;

    xb_domain_update_state(d);
    if (d->dir_watch != NULL)
        return;
    d->dir_watch = xlev_context_watch(self->ctx, dir, XLEV_WATCH_FLAGS_NONE,
                                      &error);
    if (d->dir_watch == NULL) {
        row_remove(self, d); /* cannot tell when it goes: now */
        return;
    }
    g_signal_connect(d->dir_watch, "changed", G_CALLBACK(dir_changed_cb), d);
}

/* Brings the rows in line with the list: a row for each of its domains
 * (a new domain with the domid of a dead row replaces it), and the rows
 * whose domain it dropped kept as dead. */
static void
list_changed_cb(GListModel *list, guint position, guint removed, guint added,
                XbDomains *self)
{
    g_autoptr(GHashTable) live = g_hash_table_new(NULL, NULL);
    gboolean hypervisor = xlev_domain_list_get_has_hypervisor(self->list);
    guint n = g_list_model_get_n_items(list);

    for (guint i = 0; i < n; i++) {
        g_autoptr(XlevDomain) domain = g_list_model_get_item(list, i);
        guint domid = xlev_domain_get_domid(domain);
        XbDomain *row = domains_find(self, domid, NULL);

        g_hash_table_add(live, domain);
        if (row != NULL && row->domain == domain)
            continue;
        if (row != NULL)
            row_remove(self, row);
        row = xb_domain_new(domain, hypervisor);
        g_object_set_data(G_OBJECT(row), "xb-domains", self);
        g_list_store_insert_sorted(self->store, row, compare_domains, NULL);
        g_object_unref(row);
    }
    n = g_list_model_get_n_items(G_LIST_MODEL(self->store));
    for (guint i = n; i-- > 0;) {
        g_autoptr(XbDomain) d =
            g_list_model_get_item(G_LIST_MODEL(self->store), i);

        if (!g_hash_table_contains(live, d->domain))
            row_keep_dead(self, d);
    }
}

void
xb_domains_stop(XbDomains *self)
{
    guint n;

    g_cancellable_cancel(self->cancellable);
    if (self->list != NULL) {
        g_signal_handlers_disconnect_by_data(self->list, self);
        g_clear_object(&self->list);
    }
    n = g_list_model_get_n_items(G_LIST_MODEL(self->store));
    for (guint i = 0; i < n; i++) {
        g_autoptr(XbDomain) d =
            g_list_model_get_item(G_LIST_MODEL(self->store), i);

        xb_domain_stop_watching(d);
        g_object_set_data(G_OBJECT(d), "xb-domains", NULL);
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

XbDomains *
xb_domains_new(XlevContext *ctx, GError **error)
{
    g_autoptr(XbDomains) self = g_object_new(XB_TYPE_DOMAINS, NULL);

    self->ctx = g_object_ref(ctx);
    self->list = xlev_domain_list_new(ctx, error);
    if (self->list == NULL)
        return NULL;
    g_signal_connect(self->list, "items-changed", G_CALLBACK(list_changed_cb),
                     self);
    list_changed_cb(G_LIST_MODEL(self->list), 0, 0, 0, self);
    return g_steal_pointer(&self);
}

GListModel *
xb_domains_get_model(XbDomains *self)
{
    return G_LIST_MODEL(self->store);
}
