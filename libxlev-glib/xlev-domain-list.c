/* xlev-domain-list.c: XlevDomainList, the domains as a live GListModel
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <string.h>

#include "xlev-domain-list.h"
#include "xlev-context-private.h"
#include "xlev-domain-private.h"
#include "xlev-watch.h"

#include <stdlib.h>

/**
 * XlevDomainList:
 *
 * Every domain xenstored knows, as a [iface@Gio.ListModel] of
 * [class@Xlev.Domain] sorted by domid, kept live: a domain introduced to
 * xenstored is inserted, one that shuts down changes its
 * [property@Xlev.Domain:state], one that dies is removed. A GTK4
 * `GtkListView` binds to it directly.
 *
 * It is built on an [class@Xlev.DomainMonitor] of all domains, so what it
 * knows comes from the same events: the domains present when it is made,
 * `@introduceDomain`, and (when the Xen hypervisor is available) shutdown
 * and death. With the hypervisor ([property@Xlev.DomainList:has-hypervisor])
 * the domains present when the list is made start in the state the
 * hypervisor gives (a domain already shut down shows
 * [enum@Xlev.DomainState.SHUTDOWN], one being destroyed
 * [enum@Xlev.DomainState.DYING] until it is dropped); without it xenstore
 * alone cannot tell, and every domain shows
 * [enum@Xlev.DomainState.RUNNING] until it is dropped. Each domain's name is read from `/local/domain/<domid>/name`
 * and followed by a watch; its UUID from the `vm` node beside it.
 *
 * Items change, `items-changed` and every domain's `notify` are emitted in
 * the main context of the [class@Xlev.Context] (as its other objects'
 * signals are). Dropping the last reference stops it; the domains already
 * handed out stay valid but are no longer updated.
 *
 * ```python
 * domains = Xlev.DomainList.new(ctx)
 * if not domains.props.has_hypervisor:
 *     print("no hypervisor: states come from xenstore alone")
 * for domain in domains:
 *     print(domain.props.domid, domain.props.name, domain.props.state)
 * domains.connect("items-changed", on_changed)
 * ```
 *
 * In C, a GTK 4 drop-down of the domains by name:
 *
 * ```c
 * g_autoptr (XlevDomainList) domains = xlev_domain_list_new (ctx, &error);
 * GtkExpression *name =
 *   gtk_property_expression_new (XLEV_TYPE_DOMAIN, NULL, "name");
 * GtkWidget *view = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (domains)),
 *                                      name);
 * ```
 *
 * Since: 1.0
 */

/* What the list keeps for each domain it shows. Owned by `tracks`; the
 * async reads hold a reference to the domain and fail with
 * G_IO_ERROR_CANCELLED once the track is gone (its cancellable is
 * cancelled first), so they never touch a freed track. */
typedef struct {
    XlevDomain *domain;
    XlevWatch *name_watch;
    GCancellable *cancellable;
} Track;

struct _XlevDomainList {
    GObject parent_instance;

    XlevContext *context;
    XlevDomainMonitor *monitor;
    GPtrArray *domains;  /* XlevDomain *, sorted by domid: the model */
    GHashTable *tracks;  /* domid -> Track * */
    gboolean has_hypervisor; /* fixed when made */
};

static void xlev_domain_list_model_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(XlevDomainList, xlev_domain_list, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(
                                  G_TYPE_LIST_MODEL,
                                  xlev_domain_list_model_init))

enum { PROP_0, PROP_CONTEXT, PROP_N_ITEMS, PROP_HAS_HYPERVISOR, N_PROPS };

static GParamSpec *properties[N_PROPS];

/*======================================================================*/
/* GListModel */

static GType
model_get_item_type(GListModel *model)
{
    return XLEV_TYPE_DOMAIN;
}

static guint
model_get_n_items(GListModel *model)
{
    return XLEV_DOMAIN_LIST(model)->domains->len;
}

static gpointer
model_get_item(GListModel *model, guint position)
{
    XlevDomainList *self = XLEV_DOMAIN_LIST(model);

    if (position >= self->domains->len)
        return NULL;
    return g_object_ref(g_ptr_array_index(self->domains, position));
}

static void
xlev_domain_list_model_init(GListModelInterface *iface)
{
    iface->get_item_type = model_get_item_type;
    iface->get_n_items = model_get_n_items;
    iface->get_item = model_get_item;
}

/* Where a domain with @domid is, or would be inserted. */
static guint
position_of(XlevDomainList *self, guint domid, gboolean *found)
{
    guint lo = 0, hi = self->domains->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        guint d = xlev_domain_get_domid(g_ptr_array_index(self->domains, mid));

        if (d == domid) {
            *found = TRUE;
            return mid;
        }
        if (d < domid)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = FALSE;
    return lo;
}

static void
items_changed(XlevDomainList *self, guint position, guint removed,
              guint added)
{
    g_list_model_items_changed(G_LIST_MODEL(self), position, removed, added);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_N_ITEMS]);
}

/*======================================================================*/
/* Name and uuid, read asynchronously */

static char *
domain_path(XlevDomain *domain, const char *leaf)
{
    return g_strdup_printf("/local/domain/%u/%s", xlev_domain_get_domid(domain),
                           leaf);
}

static void
name_read_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(XlevDomain) domain = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *name =
        xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    /* No name node (or one that cannot be read) is "no name". */
    xlev_domain_set_name(domain, name);
}

static void
name_changed(XlevWatch *watch, const char *path, Track *track)
{
    xlev_context_read_async(xlev_watch_get_context(watch), path,
                            track->cancellable, name_read_done,
                            g_object_ref(track->domain));
}

/* "/vm/<uuid>" (what toolstacks write) or a bare UUID -> the UUID, or
 * NULL if @vm holds neither. */
static const char *
uuid_from_vm(const char *vm)
{
    const char *slash = strrchr(vm, '/');
    const char *uuid = slash ? slash + 1 : vm;

    return g_uuid_string_is_valid(uuid) ? uuid : NULL;
}

static void
vm_read_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(XlevDomain) domain = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *vm =
        xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);

    if (vm != NULL)
        xlev_domain_set_uuid(domain, uuid_from_vm(vm));
}

static void
track_free(gpointer data)
{
    Track *track = data;

    g_cancellable_cancel(track->cancellable);
    if (track->name_watch != NULL) {
        g_signal_handlers_disconnect_by_data(track->name_watch, track);
        xlev_watch_cancel(track->name_watch);
        g_object_unref(track->name_watch);
    }
    g_object_unref(track->cancellable);
    g_object_unref(track->domain);
    g_free(track);
}

/*======================================================================*/
/* Following the monitor */

static void
add_domain(XlevDomainList *self, guint domid)
{
    g_autofree char *name_path = NULL;
    g_autofree char *vm_path = NULL;
    g_autoptr(GError) error = NULL;
    gboolean found;
    guint pos = position_of(self, domid, &found);
    Track *track;

    if (found)
        return;
    track = g_new0(Track, 1);
    track->domain = xlev_domain_new(domid);
    track->cancellable = g_cancellable_new();
    g_hash_table_insert(self->tracks, GUINT_TO_POINTER(domid), track);
    g_ptr_array_insert(self->domains, (gint)pos, track->domain);

    /* The watch's first event (xenstored sends one on registration) reads
     * the name; a watch that cannot be made (the connection is gone: the
     * context reports that as its disaster) leaves the name unknown. */
    name_path = domain_path(track->domain, "name");
    track->name_watch = xlev_context_watch(self->context, name_path,
                                           XLEV_WATCH_FLAGS_NONE, &error);
    if (track->name_watch != NULL)
        g_signal_connect(track->name_watch, "changed",
                         G_CALLBACK(name_changed), track);
    vm_path = domain_path(track->domain, "vm");
    xlev_context_read_async(self->context, vm_path, track->cancellable,
                            vm_read_done, g_object_ref(track->domain));

    items_changed(self, pos, 0, 1);
}

static void
on_introduced(XlevDomainMonitor *monitor, guint domid, XlevDomainList *self)
{
    add_domain(self, domid);
}

static void
on_shutdown(XlevDomainMonitor *monitor, guint domid,
            XlevShutdownReason reason, XlevDomainList *self)
{
    Track *track = g_hash_table_lookup(self->tracks, GUINT_TO_POINTER(domid));

    if (track != NULL)
        xlev_domain_set_shutdown(track->domain, reason);
}

static void
on_died(XlevDomainMonitor *monitor, guint domid, XlevDomainList *self)
{
    g_autoptr(XlevDomain) domain = NULL;
    gboolean found;
    guint pos = position_of(self, domid, &found);
    Track *track = g_hash_table_lookup(self->tracks, GUINT_TO_POINTER(domid));

    if (!found || track == NULL)
        return;
    domain = g_object_ref(track->domain);
    g_hash_table_remove(self->tracks, GUINT_TO_POINTER(domid));
    g_ptr_array_remove_index(self->domains, pos);
    /* The state first, so that a row bound to it sees "gone" before the
     * row goes. */
    xlev_domain_set_gone(domain);
    items_changed(self, pos, 1, 0);
}

/* The domains present when the list is made start in the state the
 * hypervisor gives them; what happens after is the monitor's to report
 * (its death generators see the same state, so a shutdown or death
 * already shown here is reported again and changes nothing). A failure
 * leaves them running, as without a hypervisor: the monitor's generators
 * report the same failure as the context's disaster. */
static void
apply_hypervisor_state(XlevDomainList *self)
{
    xlev_dominfo *infos = NULL;
    size_t n = 0;

    if (xlev_domain_list_info(xlev_context_get_core(self->context), &infos,
                              &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        Track *track = g_hash_table_lookup(self->tracks,
                                           GUINT_TO_POINTER(infos[i].domid));

        if (track == NULL)
            continue;
        if (infos[i].shutdown)
            xlev_domain_set_shutdown(
                track->domain, (XlevShutdownReason)infos[i].shutdown_reason);
        if (infos[i].dying)
            xlev_domain_set_dying(track->domain);
    }
    free(infos);
}

/*======================================================================*/
/* GObject */

static void
xlev_domain_list_dispose(GObject *object)
{
    XlevDomainList *self = XLEV_DOMAIN_LIST(object);

    if (self->monitor != NULL) {
        g_signal_handlers_disconnect_by_data(self->monitor, self);
        xlev_domain_monitor_cancel(self->monitor);
        g_clear_object(&self->monitor);
    }
    g_hash_table_remove_all(self->tracks);
    g_ptr_array_set_size(self->domains, 0);
    g_clear_object(&self->context);
    G_OBJECT_CLASS(xlev_domain_list_parent_class)->dispose(object);
}

static void
xlev_domain_list_finalize(GObject *object)
{
    XlevDomainList *self = XLEV_DOMAIN_LIST(object);

    g_hash_table_unref(self->tracks);
    g_ptr_array_unref(self->domains);
    G_OBJECT_CLASS(xlev_domain_list_parent_class)->finalize(object);
}

static void
xlev_domain_list_get_property(GObject *object, guint prop_id, GValue *value,
                              GParamSpec *pspec)
{
    XlevDomainList *self = XLEV_DOMAIN_LIST(object);

    switch (prop_id) {
    case PROP_CONTEXT:
        g_value_set_object(value, self->context);
        break;
    case PROP_N_ITEMS:
        g_value_set_uint(value, self->domains->len);
        break;
    case PROP_HAS_HYPERVISOR:
        g_value_set_boolean(value, self->has_hypervisor);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xlev_domain_list_class_init(XlevDomainListClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = xlev_domain_list_dispose;
    object_class->finalize = xlev_domain_list_finalize;
    object_class->get_property = xlev_domain_list_get_property;

    /**
     * XlevDomainList:context:
     *
     * The context whose xenstore connection the list follows.
     *
     * Since: 1.0
     */
    properties[PROP_CONTEXT] =
        g_param_spec_object("context", NULL, NULL, XLEV_TYPE_CONTEXT,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    /**
     * XlevDomainList:n-items:
     *
     * The number of domains in the list (as
     * [method@Gio.ListModel.get_n_items]).
     *
     * Since: 1.0
     */
    properties[PROP_N_ITEMS] =
        g_param_spec_uint("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                              G_PARAM_STATIC_STRINGS);

    /**
     * XlevDomainList:has-hypervisor:
     *
     * Whether the domains' state comes from the Xen hypervisor (%TRUE:
     * shutdown, its reason and death are reported) or from xenstore alone
     * (%FALSE: domains appear when introduced and go when xenstored
     * drops them, and are [enum@Xlev.DomainState.RUNNING] meanwhile).
     * Fixed when the list is made; see also
     * [method@Xlev.Context.has_hypervisor].
     *
     * Since: 1.0
     */
    properties[PROP_HAS_HYPERVISOR] =
        g_param_spec_boolean("has-hypervisor", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
xlev_domain_list_init(XlevDomainList *self)
{
    self->domains = g_ptr_array_new();
    self->tracks = g_hash_table_new_full(NULL, NULL, NULL, track_free);
}

/**
 * xlev_domain_list_new:
 * @context: a context
 * @error: return location for a #GError
 *
 * Makes a live list of every domain xenstored knows, starting with those
 * present now (already in the list when this returns; their names and
 * UUIDs arrive as `notify` once read).
 *
 * Returns: (transfer full): a new list, or %NULL with @error set (the
 *   context's connection is gone)
 *
 * Since: 1.0
 */
XlevDomainList *
xlev_domain_list_new(XlevContext *context, GError **error)
{
    g_autoptr(XlevDomainList) self = NULL;
    g_autoptr(GArray) present = NULL;

    g_return_val_if_fail(XLEV_IS_CONTEXT(context), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    self = g_object_new(XLEV_TYPE_DOMAIN_LIST, NULL);
    self->context = g_object_ref(context);
    self->monitor = xlev_context_monitor_all_domains(context, error);
    if (self->monitor == NULL)
        return NULL;
    g_signal_connect(self->monitor, "introduced", G_CALLBACK(on_introduced),
                     self);
    g_signal_connect(self->monitor, "shutdown", G_CALLBACK(on_shutdown), self);
    g_signal_connect(self->monitor, "died", G_CALLBACK(on_died), self);

    present = xlev_domain_monitor_list_domains(self->monitor);
    for (guint i = 0; i < present->len; i++)
        add_domain(self, g_array_index(present, guint, i));

    self->has_hypervisor =
        xlev_domain_hypervisor_available(xlev_context_get_core(context));
    if (self->has_hypervisor)
        apply_hypervisor_state(self);
    return g_steal_pointer(&self);
}

/**
 * xlev_domain_list_get_context:
 * @self: a domain list
 *
 * Gets the context whose connection the list follows.
 *
 * Returns: (transfer none): the list's context
 *
 * Since: 1.0
 */
XlevContext *
xlev_domain_list_get_context(XlevDomainList *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN_LIST(self), NULL);
    return self->context;
}

/**
 * xlev_domain_list_get_has_hypervisor:
 * @self: a domain list
 *
 * Gets [property@Xlev.DomainList:has-hypervisor]: whether the domains'
 * state comes from the hypervisor or from xenstore alone.
 *
 * Returns: %TRUE if the hypervisor reports the domains' state
 *
 * Since: 1.0
 */
gboolean
xlev_domain_list_get_has_hypervisor(XlevDomainList *self)
{
    g_return_val_if_fail(XLEV_IS_DOMAIN_LIST(self), FALSE);
    return self->has_hypervisor;
}

/**
 * xlev_domain_list_lookup:
 * @self: a domain list
 * @domid: a domain id
 *
 * Finds a domain in the list by its id.
 *
 * Returns: (transfer full) (nullable): the domain, or %NULL if the list
 *   has none with @domid
 *
 * Since: 1.0
 */
XlevDomain *
xlev_domain_list_lookup(XlevDomainList *self, guint domid)
{
    Track *track;

    g_return_val_if_fail(XLEV_IS_DOMAIN_LIST(self), NULL);
    track = g_hash_table_lookup(self->tracks, GUINT_TO_POINTER(domid));
    return track != NULL ? g_object_ref(track->domain) : NULL;
}
