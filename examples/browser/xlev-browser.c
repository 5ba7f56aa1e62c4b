/* xlev-browser.c: a GTK4 browser and management tool for xenstore and Xen
 * domains
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Left, the domains with a state icon (xb-domains.c); right, the xenstore
 * subtree of the selected domain or of the path typed in the path bar
 * (xb-tree.c) as a GtkTreeListModel in a GtkColumnView, values formatted
 * for people (xb-format.c), leaves without expanders, a missing path as an
 * empty state, Ctrl+F to find names and values. Both panes are kept live
 * by XlevWatch and XlevDomainMonitor signals, and every read is
 * asynchronous: the window never waits for xenstored.
 *
 * What a dom0 administrator does, through xenstore as a toolstack does it,
 * is a window GAction (see "Actions" below): edit a value, add a node,
 * delete one (after a confirmation), ask a domain to power off, reboot or
 * suspend and see whether the guest acknowledged it (xb-control.c), set
 * its balloon target in MiB. The primary menu and the dialogs only collect
 * the actions' arguments. Every action is asynchronous, and its failure
 * shows in the banner with the reason xenstored (or the library) gave.
 *
 * When the connection fails (xenstored gone: the context's `disaster`
 * signal, which comes within about a second even while nothing happens,
 * or a failed read) or a read is refused, a banner says so; "Reconnect"
 * (F5) makes a new XlevContext and reloads both panes.
 *
 * --self-check (with --self-check-action=… and --expect-… options) is for
 * the test suite: it runs actions through the same GActions, proves from
 * the widget tree that what xenstore holds is shown, measures how late a
 * 10 ms timer fires while the panes fill, saves a screenshot
 * (--screenshot) and exits 0 or 1.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include <xlev.h>

#include "xb-control.h"
#include "xb-domains.h"
#include "xb-format.h"
#include "xb-tree.h"

#define APP_ID "org.xenproject.XlevBrowser"
#define DEFAULT_ROOT "/local/domain"

/* --self-check: the timer whose lateness is measured, and how often the
 * widget tree is inspected. */
#define CHECK_TICK_MS 10
#define CHECK_POLL_MS 50
#define CHECK_DEFAULT_TIMEOUT_S 15

typedef struct {
    GtkApplicationWindow *window;
    GtkInfoBar *banner;
    GtkLabel *banner_label;
    GtkWidget *reconnect_button;
    GtkWidget *menu_button;
    GtkEntry *path_entry;
    GtkListView *domain_view;
    GtkSingleSelection *domain_selection;
    GtkColumnView *tree_view;
    GtkStack *tree_stack; /* "tree" or "empty" (the path does not exist) */
    GtkLabel *empty_label;
    GtkSearchBar *search_bar;
    GtkSearchEntry *search_entry;
    GtkLabel *status;

    XlevContext *ctx;
    XbDomains *domains;
    XbControl *control;
    XbTree *tree;
    GtkSelectionModel *tree_selection; /* the tree, as the view shows it */
    GtkSelectionModel *search_selection; /* the matches, while searching */
    char *root_path;

    /* Actions in flight (edits, deletes, requests), and the last one's
     * error, for the self-check. */
    guint pending_ops;
    char *last_op_error;

    GtkWindow *prompt_window; /* the open dialog, if any (weak) */
} Browser;

/* Command line. */
static char *opt_path;
static gboolean opt_self_check;
static char *opt_screenshot;
static char **opt_expect_nodes;
static char **opt_expect_states;
static char **opt_expect_counts;
static char *opt_expect_banner;
static char **opt_actions;
static char **opt_expect_requests;
static char **opt_expect_leaves;
static char **opt_expect_absent;
static gboolean opt_expect_empty;
static int opt_expect_search = -1;
static gboolean opt_expect_menu;
static char **opt_expect_shown;
static char **opt_expect_accels;
static int opt_max_gap_ms;
static int opt_check_timeout = CHECK_DEFAULT_TIMEOUT_S;

static Browser *the_browser;
static int exit_status;

static void browser_connect(Browser *b);
static void sync_domain_selection(Browser *b);
static void update_actions(Browser *b);

/* ------------------------------------------------------------------ */
/* Errors */

/* The banner, with "Reconnect" when @reconnect says it may help. */
static void
show_message(Browser *b, const char *message, gboolean reconnect)
{
    gtk_label_set_text(b->banner_label, message);
    gtk_widget_set_visible(b->reconnect_button, reconnect);
    gtk_info_bar_set_revealed(b->banner, TRUE);
}

/* The connection or a read failed. */
static void
show_error(Browser *b, const char *message)
{
    show_message(b, message, TRUE);
}

static void
hide_error(Browser *b)
{
    gtk_info_bar_set_revealed(b->banner, FALSE);
}

/* An action's failure: what was tried, and the daemon's (or the
 * library's) reason. */
static void
show_action_error(Browser *b, const char *what, const GError *error)
{
    /* TRANSLATORS: what failed (“Cannot delete /a/b”), then why */
    g_autofree char *text = g_strdup_printf(_("%s: %s"), what, error->message);

    show_message(b, text, FALSE);
}

static void
browser_disconnect(Browser *b)
{
    if (b->tree != NULL) {
        xb_tree_stop(b->tree);
        g_clear_object(&b->tree);
    }
    if (b->domains != NULL) {
        g_signal_handlers_disconnect_by_data(xb_domains_get_model(b->domains),
                                             b);
        xb_domains_stop(b->domains);
        g_clear_object(&b->domains);
    }
    if (b->control != NULL) {
        g_signal_handlers_disconnect_by_data(b->control, b);
        xb_control_stop(b->control);
        g_clear_object(&b->control);
    }
    if (b->ctx != NULL) {
        g_signal_handlers_disconnect_by_data(b->ctx, b);
        g_clear_object(&b->ctx);
    }
}

static void
connection_lost(Browser *b, const char *message)
{
    g_autofree char *text =
        /* TRANSLATORS: %s says why */
        g_strdup_printf(_("Lost the connection to xenstored: %s"), message);

    /* The panes keep what they showed, without the live updates. */
    if (b->tree != NULL)
        xb_tree_stop(b->tree);
    if (b->domains != NULL)
        xb_domains_stop(b->domains);
    show_error(b, text);
}

static gboolean
is_connection_error(const GError *error)
{
    return xb_error_is(error, "xenstore") || xb_error_is(error, "broken");
}

static void
disaster_cb(XlevContext *ctx, XlevDisaster kind, const char *message,
            gpointer user_data)
{
    connection_lost(user_data, message);
}

static void
tree_error_cb(XbTree *tree, const GError *error, gpointer user_data)
{
    Browser *b = user_data;

    if (is_connection_error(error))
        connection_lost(b, error->message);
    else
        show_error(b, error->message);
}

/* ------------------------------------------------------------------ */
/* The right pane */

static GListModel *
create_children_cb(gpointer item, gpointer user_data)
{
    XbNode *node = item;
    GListModel *children = xb_node_get_children(node);

    /* A node known to have no children gets no expander. */
    if (xb_node_get_listed(node) && g_list_model_get_n_items(children) == 0)
        return NULL;
    return g_object_ref(children);
}

static gboolean
searching(Browser *b)
{
    return b->search_selection != NULL &&
           gtk_column_view_get_model(b->tree_view) == b->search_selection;
}

static void
update_status(Browser *b)
{
    g_autofree char *text = NULL;
    gboolean missing = b->tree != NULL && xb_tree_get_missing(b->tree);

    gtk_stack_set_visible_child_name(b->tree_stack,
                                     missing && !searching(b) ? "empty"
                                                              : "tree");
    if (missing) {
        g_autofree char *empty = g_strdup_printf(
            /* TRANSLATORS: %s is a xenstore path */
            _("Nothing is stored at %s. It shows here as soon as it is "
              "written."),
            xb_tree_get_root_path(b->tree));

        gtk_label_set_text(b->empty_label, empty);
    }
    if (b->tree == NULL) {
        gtk_label_set_text(b->status, "");
        return;
    }
    if (searching(b)) {
        guint n = g_list_model_get_n_items(G_LIST_MODEL(b->search_selection));

        /* TRANSLATORS: search results */
        text = g_strdup_printf(g_dngettext(NULL, "%u match", "%u matches", n),
                               n);
    } else if (missing) {
        text = g_strdup(_("No such path"));
    } else {
        guint n = xb_tree_get_n_nodes(b->tree);

        text = xb_tree_get_busy(b->tree)
                   /* TRANSLATORS: nodes loaded so far */
                   ? g_strdup_printf(g_dngettext(NULL, "Loading… %u node",
                                                 "Loading… %u nodes", n),
                                     n)
                   : g_strdup_printf(
                         g_dngettext(NULL, "%u node", "%u nodes", n), n);
    }
    gtk_label_set_text(b->status, text);
}

static void
tree_busy_cb(GObject *tree, GParamSpec *pspec, gpointer user_data)
{
    update_status(user_data);
}

static void
browser_show_path(Browser *b, const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GtkTreeListModel) tree_model = NULL;
    g_autoptr(GtkSingleSelection) selection = NULL;
    GtkTreeListRow *row;

    if (path != b->root_path) {
        g_free(b->root_path);
        b->root_path = g_strdup(path);
    }
    gtk_editable_set_text(GTK_EDITABLE(b->path_entry), path);
    if (b->tree != NULL) {
        xb_tree_stop(b->tree);
        g_clear_object(&b->tree);
    }
    gtk_column_view_set_model(b->tree_view, NULL);
    if (b->tree_selection != NULL)
        g_signal_handlers_disconnect_by_data(b->tree_selection, b);
    if (b->search_selection != NULL)
        g_signal_handlers_disconnect_by_data(b->search_selection, b);
    g_clear_object(&b->tree_selection);
    g_clear_object(&b->search_selection);
    gtk_search_bar_set_search_mode(b->search_bar, FALSE);
    if (b->ctx == NULL)
        return;

    b->tree = xb_tree_new(b->ctx, path, &error);
    if (b->tree == NULL) {
        if (is_connection_error(error))
            connection_lost(b, error->message);
        else
            show_error(b, error->message);
        return;
    }
    g_signal_connect(b->tree, "error", G_CALLBACK(tree_error_cb), b);
    g_signal_connect(b->tree, "notify::busy", G_CALLBACK(tree_busy_cb), b);
    g_signal_connect(b->tree, "notify::missing", G_CALLBACK(tree_busy_cb), b);

    tree_model = gtk_tree_list_model_new(
        g_object_ref(xb_tree_get_root_model(b->tree)), FALSE, FALSE,
        create_children_cb, NULL, NULL);
    selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(tree_model)));
    gtk_column_view_set_model(b->tree_view, GTK_SELECTION_MODEL(selection));
    b->tree_selection = GTK_SELECTION_MODEL(g_steal_pointer(&selection));
    g_signal_connect_swapped(b->tree_selection, "notify::selected-item",
                             G_CALLBACK(update_actions), b);
    /* The root open from the start. */
    row = gtk_tree_list_model_get_row(tree_model, 0);
    if (row != NULL) {
        gtk_tree_list_row_set_expanded(row, TRUE);
        g_object_unref(row);
    }
    update_status(b);
    sync_domain_selection(b);
}

static void
path_activate_cb(GtkEntry *entry, gpointer user_data)
{
    Browser *b = user_data;
    const char *path = gtk_editable_get_text(GTK_EDITABLE(entry));

    hide_error(b);
    browser_show_path(b, path);
}

/* Name column: an expander around a label. */
static void
name_setup_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *expander = gtk_tree_expander_new();
    GtkWidget *label = gtk_label_new(NULL);

    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_tree_expander_set_child(GTK_TREE_EXPANDER(expander), label);
    gtk_list_item_set_child(item, expander);
}

static void
name_bind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkTreeListRow *row = gtk_list_item_get_item(item);
    GtkWidget *expander = gtk_list_item_get_child(item);
    XbNode *node = gtk_tree_list_row_get_item(row);
    GtkWidget *label = gtk_tree_expander_get_child(GTK_TREE_EXPANDER(expander));

    gtk_tree_expander_set_list_row(GTK_TREE_EXPANDER(expander), row);
    gtk_label_set_text(GTK_LABEL(label), gtk_tree_list_row_get_depth(row) == 0
                                             ? xb_node_get_path(node)
                                             : xb_node_get_name(node));
    g_object_unref(node);
}

static void
name_unbind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    gtk_tree_expander_set_list_row(
        GTK_TREE_EXPANDER(gtk_list_item_get_child(item)), NULL);
}

/* Value column: a label bound to the node's value, so that a watch event
 * updates the row in place. */
static void
value_setup_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *label = gtk_label_new(NULL);

    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_label_set_selectable(GTK_LABEL(label), FALSE);
    gtk_list_item_set_child(item, label);
}

/* The value as a person reads it (xb-format.c): memory in MiB, device
 * states by name, flags as yes/no, control characters escaped. */
static gboolean
value_to_text(GBinding *binding, const GValue *from, GValue *to,
              gpointer user_data)
{
    XbNode *node = user_data;

    g_value_take_string(
        to, xb_format_value(xb_node_get_path(node), g_value_get_string(from)));
    return TRUE;
}

/* The tooltip: what xenstore holds, when the column says it otherwise. */
static gboolean
value_to_tooltip(GBinding *binding, const GValue *from, GValue *to,
                 gpointer user_data)
{
    XbNode *node = user_data;
    const char *value = g_value_get_string(from);
    g_autofree char *shown = xb_format_value(xb_node_get_path(node), value);
    g_autofree char *raw = value != NULL ? g_strescape(value, NULL) : NULL;

    g_value_take_string(to, raw != NULL && !g_str_equal(raw, shown)
                                /* TRANSLATORS: the value as stored */
                                ? g_strdup_printf(_("Stored as “%s”"), raw)
                                : NULL);
    return TRUE;
}

static void
value_bind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkTreeListRow *row = gtk_list_item_get_item(item);
    g_autoptr(XbNode) node = gtk_tree_list_row_get_item(row);
    GtkWidget *label = gtk_list_item_get_child(item);
    GBinding *binding = g_object_bind_property_full(
        node, "value", label, "label", G_BINDING_SYNC_CREATE, value_to_text,
        NULL, g_object_ref(node), g_object_unref);
    GBinding *tooltip = g_object_bind_property_full(
        node, "value", label, "tooltip-text", G_BINDING_SYNC_CREATE,
        value_to_tooltip, NULL, g_object_ref(node), g_object_unref);

    g_object_set_data_full(G_OBJECT(item), "binding", g_object_ref(binding),
                           g_object_unref);
    g_object_set_data_full(G_OBJECT(item), "tooltip-binding",
                           g_object_ref(tooltip), g_object_unref);
    /* For the self-check: which node this label shows. */
    g_object_set_data_full(G_OBJECT(label), "xb-node", g_object_ref(node),
                           g_object_unref);
}

static void
value_unbind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    const char *const keys[] = {"binding", "tooltip-binding"};

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        GBinding *binding = g_object_get_data(G_OBJECT(item), keys[i]);

        if (binding != NULL)
            g_binding_unbind(binding);
        g_object_set_data(G_OBJECT(item), keys[i], NULL);
    }
    g_object_set_data(G_OBJECT(gtk_list_item_get_child(item)), "xb-node",
                      NULL);
}

/* ------------------------------------------------------------------ */
/* Search: the loaded nodes whose name or value matches, as a flat list of
 * full paths in the same column view. */

static GListModel *
no_children_cb(gpointer item, gpointer user_data)
{
    return NULL;
}

static void
search_changed_cb(GtkSearchEntry *entry, gpointer user_data)
{
    Browser *b = user_data;
    const char *text = gtk_editable_get_text(GTK_EDITABLE(entry));
    GtkTreeListModel *flat;

    if (b->search_selection != NULL)
        g_signal_handlers_disconnect_by_data(b->search_selection, b);
    g_clear_object(&b->search_selection);
    if (b->tree == NULL || text[0] == '\0') {
        gtk_column_view_set_model(b->tree_view, b->tree_selection);
        update_status(b);
        update_actions(b);
        return;
    }
    flat = gtk_tree_list_model_new(xb_tree_search(b->tree, text), FALSE,
                                   FALSE, no_children_cb, NULL, NULL);
    b->search_selection =
        GTK_SELECTION_MODEL(gtk_single_selection_new(G_LIST_MODEL(flat)));
    g_signal_connect_swapped(b->search_selection, "notify::selected-item",
                             G_CALLBACK(update_actions), b);
    gtk_column_view_set_model(b->tree_view, b->search_selection);
    update_status(b);
    update_actions(b);
}

static void
search_mode_cb(GtkSearchBar *bar, GParamSpec *pspec, gpointer user_data)
{
    Browser *b = user_data;

    if (!gtk_search_bar_get_search_mode(bar)) {
        gtk_editable_set_text(GTK_EDITABLE(b->search_entry), "");
        if (b->search_selection != NULL)
            g_signal_handlers_disconnect_by_data(b->search_selection, b);
        g_clear_object(&b->search_selection);
        gtk_column_view_set_model(b->tree_view, b->tree_selection);
        update_status(b);
        update_actions(b);
    }
}

/* ------------------------------------------------------------------ */
/* The left pane */

/* A domain's row: its state icon, then its id and name over its state
 * and, once asked, how the guest answered a shutdown request. */
static void
domain_setup_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *icon = gtk_image_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *title = gtk_label_new(NULL);
    GtkWidget *state = gtk_label_new(NULL);
    GtkWidget *request = gtk_label_new(NULL);

    gtk_label_set_xalign(GTK_LABEL(title), 0);
    gtk_label_set_xalign(GTK_LABEL(state), 0);
    gtk_label_set_xalign(GTK_LABEL(request), 0);
    gtk_widget_add_css_class(state, "dim-label");
    gtk_widget_add_css_class(state, "caption");
    gtk_widget_add_css_class(request, "caption");
    gtk_widget_add_css_class(request, "accent");
    gtk_widget_set_visible(request, FALSE);
    gtk_box_append(GTK_BOX(box), title);
    gtk_box_append(GTK_BOX(box), state);
    gtk_box_append(GTK_BOX(box), request);
    gtk_widget_set_valign(icon, GTK_ALIGN_CENTER);
    gtk_box_append(GTK_BOX(row), icon);
    gtk_box_append(GTK_BOX(row), box);
    gtk_widget_set_margin_top(row, 4);
    gtk_widget_set_margin_bottom(row, 4);
    gtk_list_item_set_child(item, row);
}

static void
domain_refresh(XbDomain *d, GParamSpec *pspec, GtkWidget *row)
{
    GtkWidget *icon = gtk_widget_get_first_child(row);
    GtkWidget *box = gtk_widget_get_next_sibling(icon);
    GtkWidget *title = gtk_widget_get_first_child(box);
    GtkWidget *state = gtk_widget_get_next_sibling(title);
    const char *name = xb_domain_get_name(d);
    g_autofree char *text = name != NULL
        /* TRANSLATORS: a domain in the list: its id and name */
        ? g_strdup_printf(_("%u · %s"), xb_domain_get_domid(d), name)
        : g_strdup_printf("%u", xb_domain_get_domid(d));

    gtk_label_set_text(GTK_LABEL(title), text);
    gtk_label_set_text(GTK_LABEL(state), xb_domain_get_state(d));
    gtk_image_set_from_icon_name(GTK_IMAGE(icon), xb_domain_get_icon_name(d));
    gtk_widget_set_tooltip_text(icon, xb_domain_get_state(d));
}

/* The request line of the row showing @domid, if it shows. */
static void
domain_request_refresh(Browser *b, GtkWidget *row, guint domid)
{
    GtkWidget *box = gtk_widget_get_next_sibling(gtk_widget_get_first_child(row));
    GtkWidget *request = gtk_widget_get_last_child(box);
    g_autofree char *text =
        b->control != NULL ? xb_control_describe(b->control, domid) : NULL;

    gtk_label_set_text(GTK_LABEL(request), text != NULL ? text : "");
    gtk_widget_set_visible(request, text != NULL);
}

static void
control_changed_cb(XbControl *control, guint domid, GtkListItem *item)
{
    XbDomain *d = gtk_list_item_get_item(item);
    Browser *b = g_object_get_data(G_OBJECT(control), "xb-browser");

    if (b != NULL && d != NULL && xb_domain_get_domid(d) == domid)
        domain_request_refresh(b, gtk_list_item_get_child(item), domid);
}

static void
domain_bind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    Browser *b = data;
    XbDomain *d = gtk_list_item_get_item(item);
    GtkWidget *row = gtk_list_item_get_child(item);

    domain_refresh(d, NULL, row);
    g_signal_connect_object(d, "notify", G_CALLBACK(domain_refresh), row, 0);
    domain_request_refresh(b, row, xb_domain_get_domid(d));
    if (b->control != NULL)
        g_signal_connect_object(b->control, "changed",
                                G_CALLBACK(control_changed_cb), item, 0);
}

static void
domain_unbind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    Browser *b = data;

    g_signal_handlers_disconnect_by_func(gtk_list_item_get_item(item),
                                         domain_refresh,
                                         gtk_list_item_get_child(item));
    if (b->control != NULL)
        g_signal_handlers_disconnect_by_func(b->control, control_changed_cb,
                                             item);
}

static XbDomain *
selected_domain(Browser *b)
{
    return gtk_single_selection_get_selected_item(b->domain_selection);
}


static void
domain_selected_cb(GtkSingleSelection *selection, GParamSpec *pspec,
                   gpointer user_data)
{
    Browser *b = user_data;
    XbDomain *d = gtk_single_selection_get_selected_item(selection);
    g_autofree char *path = NULL;

    update_actions(b);
    if (d == NULL)
        return;
    path = g_strdup_printf("/local/domain/%u", xb_domain_get_domid(d));
    /* Already shown (the path given at start, say): keep the tree as the
     * user opened it. */
    if (b->tree != NULL && g_str_equal(xb_tree_get_root_path(b->tree), path))
        return;
    browser_show_path(b, path);
}

/* ------------------------------------------------------------------ */
/* Actions
 *
 * Everything the window does to xenstore is a GAction of the window with
 * its arguments as the parameter: "write" (ss), "add" (ss), "delete" (s),
 * "shutdown" (us), "set-target" (us). Menus and dialogs only collect the
 * arguments and activate these; so does --self-check-action. Each runs
 * asynchronously; a failure shows in the banner with the daemon's reason.
 */

/* One action in flight. It holds the window weakly: the window may close
 * before xenstored answers. */
typedef struct {
    GWeakRef window;
    char *what; /* "Cannot write /a/b", for the banner */
    char *path;
    char *value;
} Op;

static Browser *
browser_of(GtkWidget *window)
{
    return g_object_get_data(G_OBJECT(window), "xb-browser");
}

static Op *
op_begin(Browser *b, char *what /* transfer full */)
{
    Op *op = g_new0(Op, 1);

    g_weak_ref_init(&op->window, b->window);
    op->what = what;
    b->pending_ops++;
    return op;
}

/* Ends @op; returns its browser, or NULL if the window is gone. */
static Browser *
op_end(Op *op, const GError *error)
{
    g_autoptr(GtkWidget) window = g_weak_ref_get(&op->window);
    Browser *b = window != NULL ? browser_of(window) : NULL;

    if (b != NULL) {
        b->pending_ops--;
        g_clear_pointer(&b->last_op_error, g_free);
        if (error != NULL) {
            b->last_op_error = g_strdup_printf("%s: %s", op->what,
                                               error->message);
            if (is_connection_error(error))
                connection_lost(b, error->message);
            else
                show_action_error(b, op->what, error);
        }
    }
    g_weak_ref_clear(&op->window);
    g_free(op->what);
    g_free(op->path);
    g_free(op->value);
    g_free(op);
    return b;
}

/* Fails @op before it reaches xenstored (no connection, bad input). */
static void
op_fail(Op *op, const char *message)
{
    g_autoptr(GError) error =
        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, message);

    op_end(op, error);
}

static gboolean
browser_connected(Browser *b, Op *op)
{
    if (b->ctx != NULL)
        return TRUE;
    op_fail(op, _("Not connected to xenstored"));
    return FALSE;
}

static void
write_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GError) error = NULL;

    xlev_context_write_finish(XLEV_CONTEXT(source), result, &error);
    op_end(user_data, error);
}

static void
write_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    Browser *b = user_data;
    const char *path, *value;
    Op *op;

    g_variant_get(param, "(&s&s)", &path, &value);
    /* TRANSLATORS: %s is a xenstore path */
    op = op_begin(b, g_strdup_printf(_("Cannot write %s"), path));
    if (!browser_connected(b, op))
        return;
    xlev_context_write_async(b->ctx, path, value, NULL, write_done_cb, op);
}

/* "add": the same write, once xenstored says the node is not there yet,
 * so that adding never overwrites a value by mistake. */
static void
add_exists_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Op *op = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GtkWidget) window = g_weak_ref_get(&op->window);
    Browser *b = window != NULL ? browser_of(window) : NULL;
    gboolean exists =
        xlev_context_exists_finish(XLEV_CONTEXT(source), result, &error);

    if (error != NULL || b == NULL || b->ctx == NULL) {
        op_end(op, error);
        return;
    }
    if (exists) {
        /* TRANSLATORS: a node the user tried to add */
        op_fail(op, _("The node already exists"));
        return;
    }
    xlev_context_write_async(b->ctx, op->path, op->value, NULL, write_done_cb,
                             op);
}

static void
add_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    Browser *b = user_data;
    const char *path, *value;
    Op *op;

    g_variant_get(param, "(&s&s)", &path, &value);
    /* TRANSLATORS: %s is a xenstore path */
    op = op_begin(b, g_strdup_printf(_("Cannot add %s"), path));
    if (!browser_connected(b, op))
        return;
    op->path = g_strdup(path);
    op->value = g_strdup(value);
    xlev_context_exists_async(b->ctx, path, NULL, add_exists_cb, op);
}

static void
rm_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GError) error = NULL;

    xlev_context_rm_finish(XLEV_CONTEXT(source), result, &error);
    op_end(user_data, error);
}

static void
delete_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    Browser *b = user_data;
    const char *path = g_variant_get_string(param, NULL);
    /* TRANSLATORS: %s is a xenstore path */
    Op *op = op_begin(b, g_strdup_printf(_("Cannot delete %s"), path));

    if (!browser_connected(b, op))
        return;
    xlev_context_rm_async(b->ctx, path, NULL, rm_done_cb, op);
}

static void
request_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GError) error = NULL;

    xb_control_request_finish(XB_CONTROL(source), result, &error);
    /* The connection went (or came back) meanwhile: not this request's
     * failure. */
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error(&error);
    op_end(user_data, error);
}

static void
shutdown_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    Browser *b = user_data;
    guint domid;
    const char *mode;
    Op *op;

    g_variant_get(param, "(u&s)", &domid, &mode);
    /* TRANSLATORS: %s is poweroff, reboot or suspend; %u a domain id */
    op = op_begin(b, g_strdup_printf(_("Cannot request %s of domain %u"),
                                     mode, domid));
    if (!browser_connected(b, op))
        return;
    xb_control_request_async(b->control, domid, mode, request_done_cb, op);
}

static void
set_target_activated(GSimpleAction *action, GVariant *param,
                     gpointer user_data)
{
    Browser *b = user_data;
    guint domid;
    const char *mib;
    guint64 kib;
    g_autofree char *path = NULL;
    g_autofree char *value = NULL;
    Op *op;

    g_variant_get(param, "(u&s)", &domid, &mib);
    /* TRANSLATORS: %u is a domain id */
    op = op_begin(b, g_strdup_printf(_("Cannot set the memory target of "
                                       "domain %u"),
                                     domid));
    if (!xb_parse_mib(mib, &kib)) {
        g_autofree char *why = g_strdup_printf(
            /* TRANSLATORS: %s is what the user typed */
            _("“%s” is not a size in MiB (a whole number)"), mib);

        op_fail(op, why);
        return;
    }
    if (!browser_connected(b, op))
        return;
    path = g_strdup_printf("/local/domain/%u/memory/target", domid);
    value = g_strdup_printf("%" G_GUINT64_FORMAT, kib);
    xlev_context_write_async(b->ctx, path, value, NULL, write_done_cb, op);
}

/* ------------------------------------------------------------------ */
/* Dialogs: they collect an action's arguments, then activate it. */

typedef void (*PromptDone)(Browser *b, const char *const *values,
                           gpointer data);

typedef struct {
    Browser *b;
    GtkWindow *window;
    GtkWidget *accept; /* the buttons */
    GtkWidget *cancel;
    GPtrArray *entries; /* GtkEntry, not owned */
    PromptDone done;
    gpointer data;
    GDestroyNotify destroy;
} Prompt;

static void
prompt_free(Prompt *p)
{
    if (p->destroy != NULL)
        p->destroy(p->data);
    g_ptr_array_unref(p->entries);
    g_free(p);
}

static void
prompt_accept(Prompt *p)
{
    g_autoptr(GPtrArray) values = g_ptr_array_new();

    for (guint i = 0; i < p->entries->len; i++)
        g_ptr_array_add(values, (gpointer)gtk_editable_get_text(
                                    GTK_EDITABLE(p->entries->pdata[i])));
    g_ptr_array_add(values, NULL);
    p->done(p->b, (const char *const *)values->pdata, p->data);
    gtk_window_destroy(p->window);
}

/* A small modal window: @body, an entry per label (with its initial
 * value), Cancel and @accept. Escape cancels; Enter in an entry accepts. */
static void
prompt(Browser *b, const char *title, const char *body,
       const char *const *labels, const char *const *values,
       const char *accept, gboolean destructive, PromptDone done,
       gpointer data, GDestroyNotify destroy)
{
    Prompt *p = g_new0(Prompt, 1);
    GtkWidget *window = gtk_window_new();
    GtkWidget *grid = gtk_grid_new();
    GtkWidget *label = gtk_label_new(body);
    GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *cancel = gtk_button_new_with_mnemonic(_("_Cancel"));
    GtkWidget *ok = gtk_button_new_with_mnemonic(accept);
    GtkEventController *keys = gtk_shortcut_controller_new();
    guint row = 1;

    p->b = b;
    p->window = GTK_WINDOW(window);
    p->accept = ok;
    p->cancel = cancel;
    if (b->prompt_window != NULL) {
        g_object_remove_weak_pointer(G_OBJECT(b->prompt_window),
                                     (gpointer *)&b->prompt_window);
        gtk_window_destroy(b->prompt_window);
    }
    b->prompt_window = GTK_WINDOW(window);
    g_object_add_weak_pointer(G_OBJECT(window), (gpointer *)&b->prompt_window);
    p->entries = g_ptr_array_new();
    p->done = done;
    p->data = data;
    p->destroy = destroy;
    g_object_set_data_full(G_OBJECT(window), "xb-prompt", p,
                           (GDestroyNotify)prompt_free);

    gtk_window_set_title(GTK_WINDOW(window), title);
    gtk_window_set_transient_for(GTK_WINDOW(window), GTK_WINDOW(b->window));
    gtk_window_set_modal(GTK_WINDOW(window), TRUE);
    gtk_window_set_destroy_with_parent(GTK_WINDOW(window), TRUE);
    gtk_window_set_resizable(GTK_WINDOW(window), FALSE);
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(keys),
        gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_Escape, 0),
                         gtk_named_action_new("window.close")));
    gtk_widget_add_controller(window, keys);

    gtk_grid_set_row_spacing(GTK_GRID(grid), 12);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
    gtk_widget_set_margin_start(grid, 18);
    gtk_widget_set_margin_end(grid, 18);
    gtk_widget_set_margin_top(grid, 18);
    gtk_widget_set_margin_bottom(grid, 18);
    gtk_label_set_wrap(GTK_LABEL(label), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(label), 50);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_grid_attach(GTK_GRID(grid), label, 0, 0, 2, 1);
    for (guint i = 0; labels != NULL && labels[i] != NULL; i++, row++) {
        GtkWidget *caption = gtk_label_new_with_mnemonic(labels[i]);
        GtkWidget *entry = gtk_entry_new();

        gtk_label_set_xalign(GTK_LABEL(caption), 1);
        gtk_label_set_mnemonic_widget(GTK_LABEL(caption), entry);
        gtk_widget_set_hexpand(entry, TRUE);
        gtk_editable_set_width_chars(GTK_EDITABLE(entry), 36);
        if (values != NULL && values[i] != NULL)
            gtk_editable_set_text(GTK_EDITABLE(entry), values[i]);
        g_signal_connect_swapped(entry, "activate", G_CALLBACK(prompt_accept),
                                 p);
        gtk_grid_attach(GTK_GRID(grid), caption, 0, row, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), entry, 1, row, 1, 1);
        g_ptr_array_add(p->entries, entry);
    }

    gtk_widget_set_halign(buttons, GTK_ALIGN_END);
    gtk_widget_add_css_class(ok, destructive ? "destructive-action"
                                             : "suggested-action");
    g_signal_connect_swapped(cancel, "clicked", G_CALLBACK(gtk_window_destroy),
                             window);
    g_signal_connect_swapped(ok, "clicked", G_CALLBACK(prompt_accept), p);
    gtk_box_append(GTK_BOX(buttons), cancel);
    gtk_box_append(GTK_BOX(buttons), ok);
    gtk_grid_attach(GTK_GRID(grid), buttons, 0, row, 2, 1);
    gtk_window_set_child(GTK_WINDOW(window), grid);
    gtk_window_set_default_widget(GTK_WINDOW(window), ok);
    gtk_window_present(GTK_WINDOW(window));
}

/* The node of the selected row of the tree (or of the matches), if any
 * (transfer full). */
static XbNode *
selected_node(Browser *b)
{
    GtkSelectionModel *sel = gtk_column_view_get_model(b->tree_view);
    GtkTreeListRow *row;

    if (sel == NULL)
        return NULL;
    row = gtk_single_selection_get_selected_item(GTK_SINGLE_SELECTION(sel));
    return row != NULL ? gtk_tree_list_row_get_item(row) : NULL;
}

static void
activate_action(Browser *b, const char *name, GVariant *param)
{
    g_action_group_activate_action(G_ACTION_GROUP(b->window), name, param);
}

static void
edit_done(Browser *b, const char *const *values, gpointer data)
{
    activate_action(b, "write", g_variant_new("(ss)", (const char *)data, values[0]));
}

static void
edit_selected_activated(GSimpleAction *action, GVariant *param,
                        gpointer user_data)
{
    Browser *b = user_data;
    g_autoptr(XbNode) node = selected_node(b);
    const char *labels[] = {_("_Value"), NULL};
    const char *values[] = {NULL, NULL};
    g_autofree char *body = NULL;

    if (node == NULL)
        return;
    values[0] = xb_node_get_value(node);
    /* TRANSLATORS: %s is a xenstore path */
    body = g_strdup_printf(_("The new value of %s:"), xb_node_get_path(node));
    prompt(b, _("Edit Value"), body, labels, values, _("_Save"), FALSE,
           edit_done, g_strdup(xb_node_get_path(node)), g_free);
}

static void
add_done(Browser *b, const char *const *values, gpointer data)
{
    activate_action(b, "add", g_variant_new("(ss)", values[0], values[1]));
}

static void
add_selected_activated(GSimpleAction *action, GVariant *param,
                       gpointer user_data)
{
    Browser *b = user_data;
    g_autoptr(XbNode) node = selected_node(b);
    const char *labels[] = {_("_Path"), _("_Value"), NULL};
    const char *parent = node != NULL ? xb_node_get_path(node) : b->root_path;
    g_autofree char *start = g_str_has_suffix(parent, "/")
                                 ? g_strdup(parent)
                                 : g_strconcat(parent, "/", NULL);
    const char *values[] = {start, "", NULL};

    prompt(b, _("Add Node"),
           _("A new node: its full path and its value. Missing parents are "
             "made too."),
           labels, values, _("_Add"), FALSE, add_done, NULL, NULL);
}

static void
delete_done(Browser *b, const char *const *values, gpointer data)
{
    activate_action(b, "delete", g_variant_new_string(data));
}

static void
delete_selected_activated(GSimpleAction *action, GVariant *param,
                          gpointer user_data)
{
    Browser *b = user_data;
    g_autoptr(XbNode) node = selected_node(b);
    g_autofree char *body = NULL;
    guint n;

    if (node == NULL)
        return;
    n = g_list_model_get_n_items(xb_node_get_children(node));
    body = n == 0
               /* TRANSLATORS: %s is a xenstore path */
               ? g_strdup_printf(_("Delete %s from xenstore?"),
                                 xb_node_get_path(node))
               : g_strdup_printf(
                     /* TRANSLATORS: %s is a xenstore path */
                     _("Delete %s and everything below it from xenstore? "
                       "Guests and backends that use it may fail."),
                     xb_node_get_path(node));
    prompt(b, _("Delete Node"), body, NULL, NULL, _("_Delete"), TRUE,
           delete_done, g_strdup(xb_node_get_path(node)), g_free);
}

static void
domain_request_activated(GSimpleAction *action, GVariant *param,
                         gpointer user_data)
{
    Browser *b = user_data;
    XbDomain *d = selected_domain(b);

    if (d != NULL)
        activate_action(b, "shutdown",
                 g_variant_new("(us)", xb_domain_get_domid(d),
                               g_variant_get_string(param, NULL)));
}

static void
target_done(Browser *b, const char *const *values, gpointer data)
{
    activate_action(b, "set-target",
             g_variant_new("(us)", GPOINTER_TO_UINT(data), values[0]));
}

static void
domain_target_activated(GSimpleAction *action, GVariant *param,
                        gpointer user_data)
{
    Browser *b = user_data;
    XbDomain *d = selected_domain(b);
    const char *labels[] = {_("_Target (MiB)"), NULL};
    const char *values[] = {NULL, NULL};
    g_autofree char *path = NULL;
    g_autofree char *current = NULL;
    g_autofree char *body = NULL;
    XbNode *node;
    guint64 kib;

    if (d == NULL)
        return;
    /* The current target, when the tree holds it. */
    path = g_strdup_printf("/local/domain/%u/memory/target",
                           xb_domain_get_domid(d));
    node = b->tree != NULL ? xb_tree_lookup(b->tree, path) : NULL;
    if (node != NULL && xb_node_get_value(node) != NULL) {
        kib = g_ascii_strtoull(xb_node_get_value(node), NULL, 10);
        current = g_strdup_printf("%" G_GUINT64_FORMAT, kib / 1024);
        values[0] = current;
    }
    body = g_strdup_printf(
        /* TRANSLATORS: %u is a domain id */
        _("How much memory the balloon driver of domain %u should aim "
          "for, in MiB:"),
        xb_domain_get_domid(d));
    prompt(b, _("Set Memory Target"), body, labels, values, _("_Set"), FALSE,
           target_done, GUINT_TO_POINTER(xb_domain_get_domid(d)), NULL);
}

static void
reload_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    browser_connect(user_data);
}

static void
search_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    Browser *b = user_data;

    gtk_search_bar_set_search_mode(b->search_bar, TRUE);
    gtk_widget_grab_focus(GTK_WIDGET(b->search_entry));
}

/* Enter or a double click on a row: edit its value. */
static void
tree_activate_cb(GtkColumnView *view, guint position, gpointer user_data)
{
    activate_action(user_data, "edit-selected", NULL);
}

static const GActionEntry window_actions[] = {
    {"write", write_activated, "(ss)", NULL, NULL, {0}},
    {"add", add_activated, "(ss)", NULL, NULL, {0}},
    {"delete", delete_activated, "s", NULL, NULL, {0}},
    {"shutdown", shutdown_activated, "(us)", NULL, NULL, {0}},
    {"set-target", set_target_activated, "(us)", NULL, NULL, {0}},
    {"edit-selected", edit_selected_activated, NULL, NULL, NULL, {0}},
    {"add-selected", add_selected_activated, NULL, NULL, NULL, {0}},
    {"delete-selected", delete_selected_activated, NULL, NULL, NULL, {0}},
    {"domain-request", domain_request_activated, "s", NULL, NULL, {0}},
    {"domain-target", domain_target_activated, NULL, NULL, NULL, {0}},
    {"reload", reload_activated, NULL, NULL, NULL, {0}},
    {"search", search_activated, NULL, NULL, NULL, {0}},
};

static void
set_enabled(Browser *b, const char *name, gboolean enabled)
{
    GAction *action = g_action_map_lookup_action(G_ACTION_MAP(b->window), name);

    g_simple_action_set_enabled(G_SIMPLE_ACTION(action), enabled);
}

/* The domain actions need a selected domain, editing and deleting a
 * selected node. */
static void
update_actions(Browser *b)
{
    gboolean domain = selected_domain(b) != NULL;
    g_autoptr(XbNode) node = selected_node(b);

    set_enabled(b, "domain-request", domain);
    set_enabled(b, "domain-target", domain);
    set_enabled(b, "edit-selected", node != NULL);
    set_enabled(b, "delete-selected", node != NULL);
}

static GMenuModel *
primary_menu(void)
{
    GMenu *menu = g_menu_new();
    g_autoptr(GMenu) view = g_menu_new();
    g_autoptr(GMenu) node = g_menu_new();
    g_autoptr(GMenu) domain = g_menu_new();
    g_autoptr(GMenu) app = g_menu_new();

    g_menu_append(view, _("_Reload"), "win.reload");
    g_menu_append(view, _("_Find…"), "win.search");
    g_menu_append(node, _("_Add Node…"), "win.add-selected");
    g_menu_append(node, _("_Edit Value…"), "win.edit-selected");
    g_menu_append(node, _("_Delete Node…"), "win.delete-selected");
    g_menu_append(domain, _("_Shut Down Domain"),
                  "win.domain-request::poweroff");
    g_menu_append(domain, _("Re_boot Domain"), "win.domain-request::reboot");
    g_menu_append(domain, _("Sus_pend Domain"), "win.domain-request::suspend");
    g_menu_append(domain, _("Set _Memory Target…"), "win.domain-target");
    g_menu_append(app, _("_Quit"), "app.quit");
    g_menu_append_section(menu, NULL, G_MENU_MODEL(view));
    g_menu_append_section(menu, _("Node"), G_MENU_MODEL(node));
    g_menu_append_section(menu, _("Domain"), G_MENU_MODEL(domain));
    g_menu_append_section(menu, NULL, G_MENU_MODEL(app));
    return G_MENU_MODEL(menu);
}

/* The domain whose directory the tree shows is the selected one, also
 * when the path was typed or given on the command line. */
static void
sync_domain_selection(Browser *b)
{
    GListModel *model = gtk_single_selection_get_model(b->domain_selection);
    guint n = model != NULL ? g_list_model_get_n_items(model) : 0;
    const char *rest;
    guint64 domid;

    if (b->root_path == NULL ||
        !g_str_has_prefix(b->root_path, "/local/domain/"))
        return;
    rest = b->root_path + strlen("/local/domain/");
    if (!g_ascii_string_to_unsigned(rest, 10, 0, G_MAXUINT, &domid, NULL))
        return;
    for (guint i = 0; i < n; i++) {
        g_autoptr(XbDomain) d = g_list_model_get_item(model, i);

        if (xb_domain_get_domid(d) != domid)
            continue;
        if (gtk_single_selection_get_selected(b->domain_selection) != i) {
            g_signal_handlers_block_by_func(b->domain_selection,
                                            domain_selected_cb, b);
            gtk_single_selection_set_selected(b->domain_selection, i);
            g_signal_handlers_unblock_by_func(b->domain_selection,
                                              domain_selected_cb, b);
            update_actions(b);
        }
        return;
    }
}

static void
domains_changed_cb(GListModel *model, guint position, guint removed,
                   guint added, gpointer user_data)
{
    sync_domain_selection(user_data);
}

/* ------------------------------------------------------------------ */
/* Connecting */

static void
browser_connect(Browser *b)
{
    g_autoptr(GError) error = NULL;

    browser_disconnect(b);
    b->ctx = xlev_context_new(NULL, NULL, &error);
    if (b->ctx == NULL) {
        show_error(b, error->message);
        gtk_single_selection_set_model(b->domain_selection, NULL);
        gtk_column_view_set_model(b->tree_view, NULL);
        return;
    }
    g_signal_connect(b->ctx, "disaster", G_CALLBACK(disaster_cb), b);
    b->control = xb_control_new(b->ctx);
    g_object_set_data(G_OBJECT(b->control), "xb-browser", b);

    b->domains = xb_domains_new(b->ctx, &error);
    if (b->domains == NULL) {
        show_error(b, error->message);
        return;
    }
    hide_error(b);
    g_signal_handlers_block_by_func(b->domain_selection, domain_selected_cb, b);
    gtk_single_selection_set_model(b->domain_selection,
                                   xb_domains_get_model(b->domains));
    g_signal_connect(xb_domains_get_model(b->domains), "items-changed",
                     G_CALLBACK(domains_changed_cb), b);
    gtk_single_selection_set_selected(b->domain_selection,
                                      GTK_INVALID_LIST_POSITION);
    g_signal_handlers_unblock_by_func(b->domain_selection, domain_selected_cb,
                                      b);
    browser_show_path(b, b->root_path);
}

static void
banner_response_cb(GtkInfoBar *bar, int response, gpointer user_data)
{
    if (response == GTK_RESPONSE_ACCEPT)
        browser_connect(user_data);
    else
        hide_error(user_data);
}

/* ------------------------------------------------------------------ */
/* The window */

static GtkColumnViewColumn *
add_column(GtkColumnView *view, const char *title, GCallback setup,
           GCallback bind, GCallback unbind)
{
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    GtkColumnViewColumn *column;

    g_signal_connect(factory, "setup", setup, NULL);
    g_signal_connect(factory, "bind", bind, NULL);
    g_signal_connect(factory, "unbind", unbind, NULL);
    column = gtk_column_view_column_new(title, factory);
    gtk_column_view_column_set_resizable(column, TRUE);
    gtk_column_view_append_column(view, column);
    g_object_unref(column);
    return column;
}

static Browser *
browser_new(GtkApplication *app)
{
    Browser *b = g_new0(Browser, 1);
    GtkWidget *header, *vbox, *paned, *left, *right, *scroll, *button;
    GtkListItemFactory *factory;
    GtkColumnViewColumn *column;

    b->root_path = g_strdup(opt_path != NULL ? opt_path : DEFAULT_ROOT);
    b->window = GTK_APPLICATION_WINDOW(gtk_application_window_new(app));
    gtk_window_set_title(GTK_WINDOW(b->window), _("Xenstore Browser"));
    gtk_window_set_default_size(GTK_WINDOW(b->window), 960, 660);
    g_object_set_data(G_OBJECT(b->window), "xb-browser", b);
    g_action_map_add_action_entries(G_ACTION_MAP(b->window), window_actions,
                                    G_N_ELEMENTS(window_actions), b);

    header = gtk_header_bar_new();
    button = gtk_button_new_from_icon_name("view-refresh-symbolic");
    gtk_widget_set_tooltip_text(button, _("Reconnect and reload"));
    gtk_actionable_set_action_name(GTK_ACTIONABLE(button), "win.reload");
    gtk_header_bar_pack_start(GTK_HEADER_BAR(header), button);
    {
        g_autoptr(GMenuModel) menu = primary_menu();

        button = b->menu_button = gtk_menu_button_new();
        gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(button),
                                      "open-menu-symbolic");
        gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(button), menu);
        gtk_menu_button_set_primary(GTK_MENU_BUTTON(button), TRUE);
        gtk_widget_set_tooltip_text(button, _("Main Menu"));
        gtk_header_bar_pack_end(GTK_HEADER_BAR(header), button);
    }
    button = gtk_button_new_from_icon_name("edit-find-symbolic");
    gtk_widget_set_tooltip_text(button, _("Find in the tree"));
    gtk_actionable_set_action_name(GTK_ACTIONABLE(button), "win.search");
    gtk_header_bar_pack_end(GTK_HEADER_BAR(header), button);
    gtk_window_set_titlebar(GTK_WINDOW(b->window), header);

    vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gtk_window_set_child(GTK_WINDOW(b->window), vbox);

    /* The error banner. */
    b->banner = GTK_INFO_BAR(gtk_info_bar_new());
    gtk_info_bar_set_message_type(b->banner, GTK_MESSAGE_ERROR);
    b->banner_label = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_wrap(b->banner_label, TRUE);
    gtk_label_set_xalign(b->banner_label, 0);
    gtk_info_bar_add_child(b->banner, GTK_WIDGET(b->banner_label));
    b->reconnect_button = GTK_WIDGET(gtk_info_bar_add_button(
        b->banner, _("_Reconnect"), GTK_RESPONSE_ACCEPT));
    gtk_info_bar_set_show_close_button(b->banner, TRUE);
    gtk_info_bar_set_revealed(b->banner, FALSE);
    g_signal_connect(b->banner, "response", G_CALLBACK(banner_response_cb), b);
    gtk_box_append(GTK_BOX(vbox), GTK_WIDGET(b->banner));

    paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
    gtk_paned_set_position(GTK_PANED(paned), 240);
    gtk_widget_set_vexpand(paned, TRUE);
    gtk_box_append(GTK_BOX(vbox), paned);

    /* Left: domains. */
    left = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    {
        GtkWidget *title = gtk_label_new(_("Domains"));

        gtk_widget_add_css_class(title, "heading");
        gtk_widget_set_margin_top(title, 6);
        gtk_widget_set_margin_bottom(title, 6);
        gtk_box_append(GTK_BOX(left), title);
    }
    b->domain_selection = gtk_single_selection_new(NULL);
    gtk_single_selection_set_autoselect(b->domain_selection, FALSE);
    gtk_single_selection_set_can_unselect(b->domain_selection, TRUE);
    g_signal_connect(b->domain_selection, "notify::selected-item",
                     G_CALLBACK(domain_selected_cb), b);
    factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(domain_setup_cb), b);
    g_signal_connect(factory, "bind", G_CALLBACK(domain_bind_cb), b);
    g_signal_connect(factory, "unbind", G_CALLBACK(domain_unbind_cb), b);
    b->domain_view = GTK_LIST_VIEW(gtk_list_view_new(
        GTK_SELECTION_MODEL(g_object_ref(b->domain_selection)), factory));
    gtk_widget_add_css_class(GTK_WIDGET(b->domain_view), "navigation-sidebar");
    scroll = gtk_scrolled_window_new();
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll),
                                  GTK_WIDGET(b->domain_view));
    gtk_box_append(GTK_BOX(left), scroll);
    gtk_paned_set_start_child(GTK_PANED(paned), left);
    gtk_paned_set_shrink_start_child(GTK_PANED(paned), FALSE);

    /* Right: path bar, tree, status. */
    right = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    b->path_entry = GTK_ENTRY(gtk_entry_new());
    gtk_entry_set_placeholder_text(b->path_entry, _("A xenstore path"));
    gtk_widget_set_margin_start(GTK_WIDGET(b->path_entry), 6);
    gtk_widget_set_margin_end(GTK_WIDGET(b->path_entry), 6);
    gtk_widget_set_margin_top(GTK_WIDGET(b->path_entry), 6);
    g_signal_connect(b->path_entry, "activate", G_CALLBACK(path_activate_cb), b);
    gtk_box_append(GTK_BOX(right), GTK_WIDGET(b->path_entry));

    b->search_entry = GTK_SEARCH_ENTRY(gtk_search_entry_new());
    gtk_editable_set_width_chars(GTK_EDITABLE(b->search_entry), 40);
    g_object_set(b->search_entry, "placeholder-text",
                 _("Find node names and values"), NULL);
    g_signal_connect(b->search_entry, "search-changed",
                     G_CALLBACK(search_changed_cb), b);
    b->search_bar = GTK_SEARCH_BAR(gtk_search_bar_new());
    gtk_search_bar_set_child(b->search_bar, GTK_WIDGET(b->search_entry));
    gtk_search_bar_connect_entry(b->search_bar, GTK_EDITABLE(b->search_entry));
    gtk_search_bar_set_show_close_button(b->search_bar, TRUE);
    g_signal_connect(b->search_bar, "notify::search-mode-enabled",
                     G_CALLBACK(search_mode_cb), b);
    gtk_box_append(GTK_BOX(right), GTK_WIDGET(b->search_bar));

    b->tree_view = GTK_COLUMN_VIEW(gtk_column_view_new(NULL));
    g_signal_connect(b->tree_view, "activate", G_CALLBACK(tree_activate_cb),
                     b);
    gtk_column_view_set_show_row_separators(b->tree_view, FALSE);
    column = add_column(b->tree_view, _("Name"), G_CALLBACK(name_setup_cb),
                        G_CALLBACK(name_bind_cb), G_CALLBACK(name_unbind_cb));
    gtk_column_view_column_set_fixed_width(column, 300);
    column = add_column(b->tree_view, _("Value"), G_CALLBACK(value_setup_cb),
                        G_CALLBACK(value_bind_cb), G_CALLBACK(value_unbind_cb));
    gtk_column_view_column_set_expand(column, TRUE);
    scroll = gtk_scrolled_window_new();
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll),
                                  GTK_WIDGET(b->tree_view));
    b->tree_stack = GTK_STACK(gtk_stack_new());
    gtk_widget_set_vexpand(GTK_WIDGET(b->tree_stack), TRUE);
    gtk_stack_add_named(b->tree_stack, scroll, "tree");
    {
        /* The empty state: the path does not exist. */
        GtkWidget *empty = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
        GtkWidget *icon = gtk_image_new_from_icon_name("edit-find-symbolic");
        GtkWidget *title = gtk_label_new(_("No Such Path"));

        gtk_image_set_pixel_size(GTK_IMAGE(icon), 64);
        gtk_widget_add_css_class(icon, "dim-label");
        gtk_widget_add_css_class(title, "title-2");
        b->empty_label = GTK_LABEL(gtk_label_new(NULL));
        gtk_label_set_wrap(b->empty_label, TRUE);
        gtk_label_set_justify(b->empty_label, GTK_JUSTIFY_CENTER);
        gtk_widget_add_css_class(GTK_WIDGET(b->empty_label), "dim-label");
        gtk_widget_set_valign(empty, GTK_ALIGN_CENTER);
        gtk_box_append(GTK_BOX(empty), icon);
        gtk_box_append(GTK_BOX(empty), title);
        gtk_box_append(GTK_BOX(empty), GTK_WIDGET(b->empty_label));
        gtk_stack_add_named(b->tree_stack, empty, "empty");
    }
    gtk_box_append(GTK_BOX(right), GTK_WIDGET(b->tree_stack));

    b->status = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_xalign(b->status, 0);
    gtk_widget_add_css_class(GTK_WIDGET(b->status), "dim-label");
    gtk_widget_set_margin_start(GTK_WIDGET(b->status), 6);
    gtk_widget_set_margin_bottom(GTK_WIDGET(b->status), 6);
    gtk_box_append(GTK_BOX(right), GTK_WIDGET(b->status));
    gtk_paned_set_end_child(GTK_PANED(paned), right);

    update_actions(b);
    browser_connect(b);
    return b;
}

static void
browser_free(Browser *b)
{
    if (b->prompt_window != NULL) {
        GtkWindow *prompt_window = b->prompt_window;

        g_object_remove_weak_pointer(G_OBJECT(prompt_window),
                                     (gpointer *)&b->prompt_window);
        b->prompt_window = NULL;
        gtk_window_destroy(prompt_window);
    }
    g_object_set_data(G_OBJECT(b->window), "xb-browser", NULL);
    browser_disconnect(b);
    /* The widgets outlive @b for a moment: nothing of theirs may call
     * back into it. */
    g_signal_handlers_disconnect_by_data(b->domain_selection, b);
    if (b->tree_selection != NULL)
        g_signal_handlers_disconnect_by_data(b->tree_selection, b);
    if (b->search_selection != NULL)
        g_signal_handlers_disconnect_by_data(b->search_selection, b);
    g_clear_object(&b->tree_selection);
    g_clear_object(&b->search_selection);
    g_free(b->last_op_error);
    g_free(b->root_path);
    g_free(b);
}

/* ------------------------------------------------------------------ */
/* --self-check: proof from inside the widget tree */

typedef struct {
    Browser *b;
    gint64 last_tick;
    gint64 last_wait;    /* us this thread waited for a CPU, at last_tick */
    gint64 max_gap;      /* us, less the time spent waiting for a CPU */
    gint64 max_wall_gap; /* us, as the clock on the wall saw it */
    gint64 deadline;
    gboolean ready_printed;
    guint tick_id, poll_id;
    GString *failures;
    guint next_action;      /* in opt_actions */
    char *running_action;   /* the one in flight */
    gboolean actions_done;
    GString *bad_actions;   /* specs that could not be run */
} Check;

/* The row of @path in the column view's model (transfer full), expanding
 * its ancestors' rows on the way down: the rows below appear once their
 * children are listed. Only the rows on the path are looked at, so a
 * check costs little even with thousands of rows. */
static GtkTreeListRow *
find_row(Browser *b, const char *path)
{
    GtkSelectionModel *sel = gtk_column_view_get_model(b->tree_view);
    GtkTreeListModel *model;
    GtkTreeListRow *row;

    if (sel == NULL)
        return NULL;
    model = GTK_TREE_LIST_MODEL(
        gtk_single_selection_get_model(GTK_SINGLE_SELECTION(sel)));
    row = gtk_tree_list_model_get_row(model, 0);
    while (row != NULL) {
        g_autoptr(XbNode) node = gtk_tree_list_row_get_item(row);
        GListModel *children = xb_node_get_children(node);
        guint n = g_list_model_get_n_items(children);
        guint i;

        if (g_str_equal(xb_node_get_path(node), path))
            return row;
        gtk_tree_list_row_set_expanded(row, TRUE);
        for (i = 0; i < n; i++) {
            g_autoptr(XbNode) child = g_list_model_get_item(children, i);
            const char *p = xb_node_get_path(child);
            gsize len = strlen(p);

            if (strncmp(path, p, len) == 0 &&
                (path[len] == '\0' || path[len] == '/'))
                break;
        }
        {
            GtkTreeListRow *next =
                i < n ? gtk_tree_list_row_get_child_row(row, i) : NULL;

            g_object_unref(row);
            row = next;
        }
    }
    return NULL;
}

static gboolean
split_expectation(const char *spec, char **key, char **value)
{
    const char *eq = strrchr(spec, '=');

    if (eq == NULL)
        return FALSE;
    *key = g_strndup(spec, eq - spec);
    *value = g_strdup(eq + 1);
    return TRUE;
}

/* Selects the row of @path in the tree, as a click would. */
static gboolean
select_row(Browser *b, const char *path)
{
    g_autoptr(GtkTreeListRow) row = find_row(b, path);

    if (row == NULL || b->tree_selection == NULL)
        return FALSE;
    gtk_single_selection_set_selected(
        GTK_SINGLE_SELECTION(b->tree_selection),
        gtk_tree_list_row_get_position(row));
    return TRUE;
}

static gboolean
select_domain(Browser *b, const char *text)
{
    GListModel *model = gtk_single_selection_get_model(b->domain_selection);
    guint n = model != NULL ? g_list_model_get_n_items(model) : 0;
    guint64 domid;

    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &domid, NULL))
        return FALSE;
    for (guint i = 0; i < n; i++) {
        g_autoptr(XbDomain) d = g_list_model_get_item(model, i);

        if (xb_domain_get_domid(d) == domid) {
            gtk_single_selection_set_selected(b->domain_selection, i);
            return TRUE;
        }
    }
    return FALSE;
}

/* Presses the open dialog's Cancel button. */
static gboolean
cancel_prompt(Browser *b)
{
    Prompt *p = b->prompt_window != NULL
                    ? g_object_get_data(G_OBJECT(b->prompt_window), "xb-prompt")
                    : NULL;

    if (p == NULL)
        return FALSE;
    g_signal_emit_by_name(p->cancel, "clicked");
    return TRUE;
}

/* Fills the open dialog's entries with @values and presses its accept
 * button. */
static gboolean
answer_prompt(Browser *b, const char *const *values)
{
    Prompt *p = b->prompt_window != NULL
                    ? g_object_get_data(G_OBJECT(b->prompt_window), "xb-prompt")
                    : NULL;

    if (p == NULL)
        return FALSE;
    for (guint i = 0; values != NULL && values[i] != NULL; i++) {
        if (i >= p->entries->len)
            return FALSE;
        gtk_editable_set_text(GTK_EDITABLE(p->entries->pdata[i]), values[i]);
    }
    /* A click (gtk_widget_activate() would click only after showing the
     * button pressed for a while). */
    g_signal_emit_by_name(p->accept, "clicked");
    return TRUE;
}

/* The ui-… actions: as a user would, through the selection, the menu's
 * actions and the dialogs. */
static gboolean
run_ui_action(Browser *b, const char *verb, const char *arg)
{
    if (g_str_equal(verb, "ui-edit") || g_str_equal(verb, "ui-add")) {
        g_autofree char *path = NULL;
        const char *eq = strchr(arg, '=');

        if (eq == NULL)
            return FALSE;
        path = g_strndup(arg, eq - arg);
        if (g_str_equal(verb, "ui-edit")) {
            const char *values[] = {eq + 1, NULL};

            if (!select_row(b, path))
                return FALSE;
            activate_action(b, "edit-selected", NULL);
            return answer_prompt(b, values);
        } else {
            const char *values[] = {path, eq + 1, NULL};

            activate_action(b, "add-selected", NULL);
            return answer_prompt(b, values);
        }
    }
    if (g_str_equal(verb, "ui-delete") ||
        g_str_equal(verb, "ui-delete-cancelled")) {
        if (!select_row(b, arg))
            return FALSE;
        activate_action(b, "delete-selected", NULL);
        return g_str_equal(verb, "ui-delete") ? answer_prompt(b, NULL)
                                              : cancel_prompt(b);
    }
    if (g_str_equal(verb, "ui-shutdown") || g_str_equal(verb, "ui-target")) {
        g_auto(GStrv) f = g_strsplit(arg, ":", 2);

        if (f[1] == NULL || !select_domain(b, f[0]))
            return FALSE;
        if (g_str_equal(verb, "ui-shutdown")) {
            activate_action(b, "domain-request", g_variant_new_string(f[1]));
            return TRUE;
        } else {
            const char *values[] = {f[1], NULL};

            activate_action(b, "domain-target", NULL);
            return answer_prompt(b, values);
        }
    }
    return FALSE;
}

/* --self-check-action=SPEC: the same GAction a menu or dialog activates.
 *   edit:PATH=VALUE  add:PATH=VALUE  delete:PATH
 *   shutdown:DOMID:MODE  target:DOMID:MIB  search:TEXT
 * or, with a ui- prefix (ui-edit:PATH=VALUE, ui-add, ui-delete,
 * ui-shutdown, ui-target), through the selection, the menu's actions and
 * the dialogs, as a user would; ui-delete-cancelled:PATH answers the
 * confirmation with Cancel.
 * Returns FALSE for a SPEC it does not understand. */
static gboolean
run_action(Browser *b, const char *spec)
{
    g_auto(GStrv) parts = g_strsplit(spec, ":", 2);
    const char *arg = parts[1];

    if (arg == NULL)
        return FALSE;
    if (g_str_has_prefix(parts[0], "ui-"))
        return run_ui_action(b, parts[0], arg);
    if (g_str_equal(parts[0], "edit") || g_str_equal(parts[0], "add")) {
        g_autofree char *path = NULL, *value = NULL;
        const char *eq = strchr(arg, '=');

        if (eq == NULL)
            return FALSE;
        path = g_strndup(arg, eq - arg);
        value = g_strdup(eq + 1);
        activate_action(b, g_str_equal(parts[0], "edit") ? "write" : "add",
                        g_variant_new("(ss)", path, value));
        return TRUE;
    }
    if (g_str_equal(parts[0], "delete")) {
        activate_action(b, "delete", g_variant_new_string(arg));
        return TRUE;
    }
    if (g_str_equal(parts[0], "shutdown") || g_str_equal(parts[0], "target")) {
        g_auto(GStrv) f = g_strsplit(arg, ":", 2);
        guint64 domid;

        if (f[1] == NULL ||
            !g_ascii_string_to_unsigned(f[0], 10, 0, G_MAXUINT, &domid, NULL))
            return FALSE;
        activate_action(b,
                        g_str_equal(parts[0], "shutdown") ? "shutdown"
                                                          : "set-target",
                        g_variant_new("(us)", (guint)domid, f[1]));
        return TRUE;
    }
    if (g_str_equal(parts[0], "search")) {
        /* As typed: the search bar's entry. */
        activate_action(b, "search", NULL);
        gtk_editable_set_text(GTK_EDITABLE(b->search_entry), arg);
        return TRUE;
    }
    return FALSE;
}

/* Runs the actions one after the other, each once the one before has
 * finished; TRUE once all are done. Prints each one's outcome. */
static gboolean
run_actions(Check *c)
{
    Browser *b = c->b;

    if (c->actions_done)
        return TRUE;
    if (b->pending_ops > 0)
        return FALSE;
    if (c->running_action != NULL) {
        printf("action %s: %s\n", c->running_action,
               b->last_op_error != NULL ? b->last_op_error : "ok");
        fflush(stdout);
        g_clear_pointer(&c->running_action, g_free);
    }
    if (opt_actions != NULL && opt_actions[c->next_action] != NULL) {
        const char *spec = opt_actions[c->next_action++];

        g_clear_pointer(&b->last_op_error, g_free);
        if (!run_action(b, spec)) {
            printf("action %s: not understood or not possible\n", spec);
            fflush(stdout);
            g_string_append_printf(c->bad_actions, "action %s not run; ",
                                   spec);
            return FALSE;
        }
        c->running_action = g_strdup(spec);
        return FALSE;
    }
    c->actions_done = TRUE;
    if (opt_actions != NULL) {
        printf("actions-done\n");
        fflush(stdout);
    }
    return TRUE;
}

/* The GtkTreeExpander showing @row, if its row is on screen. */
static GtkTreeExpander *
find_expander(GtkWidget *widget, GtkTreeListRow *row)
{
    if (GTK_IS_TREE_EXPANDER(widget) &&
        gtk_tree_expander_get_list_row(GTK_TREE_EXPANDER(widget)) == row)
        return GTK_TREE_EXPANDER(widget);
    for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkTreeExpander *found = find_expander(child, row);

        if (found != NULL)
            return found;
    }
    return NULL;
}

/* Whether the expander draws an arrow: GTK gives it an "expander" child
 * for an expandable row, "indent" children otherwise. */
static gboolean
expander_has_arrow(GtkTreeExpander *expander)
{
    for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(expander));
         child != NULL; child = gtk_widget_get_next_sibling(child))
        if (g_str_equal(gtk_widget_get_css_name(child), "expander"))
            return TRUE;
    return FALSE;
}

/* The value column's label showing @node, if its row is on screen. */
static GtkLabel *
find_value_label(GtkWidget *widget, XbNode *node)
{
    if (GTK_IS_LABEL(widget) &&
        g_object_get_data(G_OBJECT(widget), "xb-node") == node)
        return GTK_LABEL(widget);
    for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkLabel *found = find_value_label(child, node);

        if (found != NULL)
            return found;
    }
    return NULL;
}

/* Appends to @failures every item of @menu (and its sections) whose
 * action neither the window nor the application has. */
static void
check_menu(Browser *b, GMenuModel *menu, GString *failures, guint *n_items)
{
    GtkApplication *app = gtk_window_get_application(GTK_WINDOW(b->window));

    for (int i = 0; i < g_menu_model_get_n_items(menu); i++) {
        g_autoptr(GMenuModel) section =
            g_menu_model_get_item_link(menu, i, G_MENU_LINK_SECTION);
        g_autofree char *action = NULL;
        gboolean found = FALSE;

        if (section != NULL) {
            check_menu(b, section, failures, n_items);
            continue;
        }
        if (!g_menu_model_get_item_attribute(menu, i, G_MENU_ATTRIBUTE_ACTION,
                                             "s", &action))
            continue;
        (*n_items)++;
        if (g_str_has_prefix(action, "win."))
            found = g_action_group_has_action(G_ACTION_GROUP(b->window),
                                              action + 4);
        else if (g_str_has_prefix(action, "app."))
            found = g_action_group_has_action(G_ACTION_GROUP(app), action + 4);
        if (!found)
            g_string_append_printf(failures, "the menu's %s is no action; ",
                                   action);
    }
}

static void
check_more_expectations(Check *c, GString *failures)
{
    Browser *b = c->b;

    if (opt_expect_menu) {
        GMenuModel *menu =
            gtk_menu_button_get_menu_model(GTK_MENU_BUTTON(b->menu_button));
        guint n_items = 0;

        if (menu != NULL)
            check_menu(b, menu, failures, &n_items);
        if (n_items == 0)
            g_string_append(failures, "the primary menu is empty; ");
    }

    for (guint i = 0; opt_expect_shown && opt_expect_shown[i]; i++) {
        g_autofree char *path = NULL, *want = NULL;
        g_autoptr(GtkTreeListRow) row = NULL;
        g_autoptr(XbNode) node = NULL;
        GtkLabel *label;

        if (!split_expectation(opt_expect_shown[i], &path, &want))
            continue;
        row = find_row(b, path);
        if (row == NULL) {
            g_string_append_printf(failures, "no row for %s; ", path);
            continue;
        }
        node = gtk_tree_list_row_get_item(row);
        label = find_value_label(GTK_WIDGET(b->tree_view), node);
        if (label == NULL)
            g_string_append_printf(failures, "no label shows %s; ", path);
        else if (!g_str_equal(gtk_label_get_text(label), want))
            g_string_append_printf(failures, "%s shows \"%s\", not \"%s\"; ",
                                   path, gtk_label_get_text(label), want);
    }
    for (guint i = 0; opt_expect_accels && opt_expect_accels[i]; i++) {
        g_autofree char *action = NULL, *want = NULL;
        g_auto(GStrv) accels = NULL;

        if (!split_expectation(opt_expect_accels[i], &action, &want))
            continue;
        accels = gtk_application_get_accels_for_action(
            gtk_window_get_application(GTK_WINDOW(b->window)), action);
        if (!g_strv_contains((const char *const *)accels, want))
            g_string_append_printf(failures, "%s has no accelerator %s; ",
                                   action, want);
    }

    for (guint i = 0; opt_expect_leaves && opt_expect_leaves[i]; i++) {
        const char *path = opt_expect_leaves[i];
        g_autoptr(GtkTreeListRow) row = find_row(b, path);
        GtkTreeExpander *expander;

        if (row == NULL) {
            g_string_append_printf(failures, "no row for %s; ", path);
            continue;
        }
        if (gtk_tree_list_row_is_expandable(row))
            g_string_append_printf(failures, "the leaf %s is expandable; ",
                                   path);
        expander = find_expander(GTK_WIDGET(b->tree_view), row);
        if (expander == NULL)
            g_string_append_printf(failures, "no expander widget shows %s; ",
                                   path);
        else if (expander_has_arrow(expander))
            g_string_append_printf(failures, "the leaf %s has an arrow; ",
                                   path);
    }
    for (guint i = 0; opt_expect_absent && opt_expect_absent[i]; i++) {
        g_autoptr(GtkTreeListRow) row = find_row(b, opt_expect_absent[i]);

        if (row != NULL)
            g_string_append_printf(failures, "%s is still shown; ",
                                   opt_expect_absent[i]);
    }
    for (guint i = 0; opt_expect_requests && opt_expect_requests[i]; i++) {
        g_autofree char *domid = NULL, *want = NULL, *have = NULL;

        if (!split_expectation(opt_expect_requests[i], &domid, &want))
            continue;
        have = b->control != NULL
                   ? xb_control_get_state_id(b->control, (guint)atoi(domid))
                   : g_strdup("none");
        if (!g_str_equal(have, want))
            g_string_append_printf(failures, "domain %s's request is %s, "
                                   "not %s; ", domid, have, want);
    }
    if (opt_expect_empty) {
        const char *page = gtk_stack_get_visible_child_name(b->tree_stack);
        const char *status = gtk_label_get_text(b->status);

        if (g_strcmp0(page, "empty") != 0)
            g_string_append_printf(failures, "the \"%s\" page shows, not "
                                   "the empty state; ", page);
        if (!gtk_widget_get_mapped(GTK_WIDGET(b->empty_label)))
            g_string_append(failures, "the empty state is not mapped; ");
        if (strstr(status, "node") != NULL)
            g_string_append_printf(failures, "the status says \"%s\"; ",
                                   status);
    }
    if (opt_expect_search >= 0) {
        guint n = searching(b) ? g_list_model_get_n_items(
                                     G_LIST_MODEL(b->search_selection))
                               : 0;

        if (!searching(b))
            g_string_append(failures, "no search results shown; ");
        else if (n != (guint)opt_expect_search)
            g_string_append_printf(failures, "%u matches, not %d; ", n,
                                   opt_expect_search);
    }
}

/* Every expectation, checked against the widgets' models. Appends what
 * does not hold yet to @failures. */
static void
check_expectations(Check *c, GString *failures)
{
    Browser *b = c->b;

    for (guint i = 0; opt_expect_nodes && opt_expect_nodes[i]; i++) {
        g_autofree char *path = NULL, *want = NULL;
        GtkTreeListRow *row;

        if (!split_expectation(opt_expect_nodes[i], &path, &want))
            continue;
        row = find_row(b, path);
        if (row == NULL) {
            g_string_append_printf(failures, "no row for %s; ", path);
        } else {
            g_autoptr(XbNode) node = gtk_tree_list_row_get_item(row);

            if (g_strcmp0(xb_node_get_value(node), want) != 0)
                g_string_append_printf(failures, "%s is \"%s\", not \"%s\"; ",
                                       path, xb_node_get_value(node), want);
            g_object_unref(row);
        }
    }
    for (guint i = 0; opt_expect_counts && opt_expect_counts[i]; i++) {
        g_autofree char *path = NULL, *want = NULL;
        GtkTreeListRow *row;

        if (!split_expectation(opt_expect_counts[i], &path, &want))
            continue;
        row = find_row(b, path);
        if (row == NULL) {
            g_string_append_printf(failures, "no row for %s; ", path);
        } else {
            GListModel *children;
            guint n = 0;

            gtk_tree_list_row_set_expanded(row, TRUE);
            children = gtk_tree_list_row_get_children(row);
            if (children != NULL)
                n = g_list_model_get_n_items(children);
            if (n != (guint)atoi(want))
                g_string_append_printf(failures, "%s has %u children, not %s; ",
                                       path, n, want);
            g_object_unref(row);
        }
    }
    for (guint i = 0; opt_expect_states && opt_expect_states[i]; i++) {
        g_autofree char *domid = NULL, *want = NULL;
        GListModel *model = gtk_single_selection_get_model(b->domain_selection);
        guint n = model != NULL ? g_list_model_get_n_items(model) : 0;
        gboolean found = FALSE;

        if (!split_expectation(opt_expect_states[i], &domid, &want))
            continue;
        for (guint j = 0; j < n && !found; j++) {
            g_autoptr(XbDomain) d = g_list_model_get_item(model, j);

            if (xb_domain_get_domid(d) != (guint)atoi(domid))
                continue;
            found = TRUE;
            if (g_strcmp0(xb_domain_get_state_id(d), want) != 0)
                g_string_append_printf(failures, "domain %s is %s, not %s; ",
                                       domid, xb_domain_get_state_id(d), want);
        }
        if (!found)
            g_string_append_printf(failures, "no domain %s in the list; ",
                                   domid);
    }
    if (opt_expect_banner != NULL) {
        const char *text = gtk_label_get_text(b->banner_label);

        if (!gtk_info_bar_get_revealed(b->banner))
            g_string_append(failures, "no banner; ");
        else if (strstr(text, opt_expect_banner) == NULL)
            g_string_append_printf(failures,
                                   "the banner says \"%s\", not \"%s\"; ", text,
                                   opt_expect_banner);
    }
}

/* The window as a PNG: its header bar and contents snapshotted as its own
 * snapshot() would, rendered by the window's renderer. */
static gboolean
save_screenshot(Browser *b, const char *file, GError **error)
{
    GtkWidget *w = GTK_WIDGET(b->window);
    GtkSnapshot *snapshot = gtk_snapshot_new();
    GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(w));
    g_autoptr(GskRenderNode) node = NULL;
    g_autoptr(GdkTexture) texture = NULL;
    graphene_rect_t bounds;

    for (GtkWidget *child = gtk_widget_get_first_child(w); child != NULL;
         child = gtk_widget_get_next_sibling(child))
        gtk_widget_snapshot_child(w, child, snapshot);
    node = gtk_snapshot_free_to_node(snapshot);
    if (node == NULL || renderer == NULL) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "the window drew nothing");
        return FALSE;
    }
    gsk_render_node_get_bounds(node, &bounds);
    {
        /* An opaque background under the widgets. */
        GtkSnapshot *bg = gtk_snapshot_new();
        GdkRGBA white = {1, 1, 1, 1};

        gtk_snapshot_append_color(bg, &white, &bounds);
        gtk_snapshot_append_node(bg, node);
        gsk_render_node_unref(node);
        node = gtk_snapshot_free_to_node(bg);
    }
    texture = gsk_renderer_render_texture(renderer, node, &bounds);
    if (!gdk_texture_save_to_png(texture, file)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s",
                    file);
        return FALSE;
    }
    return TRUE;
}

static void
check_exit(Check *c, gboolean ok, const char *why)
{
    if (ok)
        printf("self-check: PASS\n");
    else
        printf("self-check: FAIL: %s\n", why);
    fflush(stdout);
    exit_status = ok ? EXIT_SUCCESS : EXIT_FAILURE;
    gtk_window_destroy(GTK_WINDOW(c->b->window));
}

/* After a frame was painted, every widget has its allocation: the
 * screenshot shows what the user sees. */
static void
screenshot_after_paint_cb(GdkFrameClock *clock, gpointer user_data)
{
    Check *c = user_data;
    g_autoptr(GError) error = NULL;

    g_signal_handlers_disconnect_by_func(clock, screenshot_after_paint_cb, c);
    if (!save_screenshot(c->b, opt_screenshot, &error)) {
        g_autofree char *why = g_strdup_printf("screenshot: %s", error->message);

        check_exit(c, FALSE, why);
        return;
    }
    printf("screenshot=%s\n", opt_screenshot);
    check_exit(c, TRUE, NULL);
}

static void
check_finish(Check *c, gboolean ok, const char *why)
{
    GdkFrameClock *clock;

    g_clear_handle_id(&c->tick_id, g_source_remove);
    g_clear_handle_id(&c->poll_id, g_source_remove);
    printf("max-gap-ms=%.1f\n", c->max_gap / 1000.0);
    printf("max-wall-gap-ms=%.1f\n", c->max_wall_gap / 1000.0);
    if (c->b->tree != NULL)
        printf("nodes=%u\n", xb_tree_get_n_nodes(c->b->tree));
    clock = gtk_widget_get_frame_clock(GTK_WIDGET(c->b->window));
    if (!ok || opt_screenshot == NULL || clock == NULL) {
        check_exit(c, ok, ok || why != NULL ? why : "no frame clock");
        return;
    }
    g_signal_connect(clock, "after-paint",
                     G_CALLBACK(screenshot_after_paint_cb), c);
    gtk_widget_queue_draw(GTK_WIDGET(c->b->window));
}

/* How long this thread has been runnable but kept off the CPU by the
 * kernel (the second field of schedstat), in us; 0 if unknown. */
static gint64
runqueue_wait_us(void)
{
    g_autofree char *text = NULL;
    guint64 cpu_ns, wait_ns;

    if (!g_file_get_contents("/proc/thread-self/schedstat", &text, NULL,
                             NULL)
        || sscanf(text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &cpu_ns,
                  &wait_ns) != 2)
        return 0;
    return (gint64)(wait_ns / 1000);
}

/* The responsiveness probe: a 10 ms timer. A late tick is the main loop's
 * fault only for the time the thread could run: on a loaded machine the
 * kernel may keep it waiting for a CPU, which no program controls, so that
 * time is taken out of the gap that is checked (both are printed). */
static gboolean
check_tick_cb(gpointer user_data)
{
    Check *c = user_data;
    gint64 now = g_get_monotonic_time();
    gint64 wait = runqueue_wait_us();

    if (c->last_tick != 0) {
        gint64 gap = now - c->last_tick;

        c->max_wall_gap = MAX(c->max_wall_gap, gap);
        c->max_gap = MAX(c->max_gap, gap - (wait - c->last_wait));
    }
    c->last_tick = now;
    c->last_wait = wait;
    return G_SOURCE_CONTINUE;
}

static gboolean
check_poll_cb(gpointer user_data)
{
    Check *c = user_data;
    g_autoptr(GString) failures = g_string_new(NULL);

    if (!c->ready_printed) {
        /* Ready: connected, the first listing done, the window mapped.
         * The test changes xenstore from now on. */
        if (c->b->tree == NULL || xb_tree_get_busy(c->b->tree) ||
            !gtk_widget_get_mapped(GTK_WIDGET(c->b->window)))
            goto not_yet;
        printf("ready\n");
        fflush(stdout);
        c->ready_printed = TRUE;
        c->last_tick = 0;
        c->max_gap = 0;
        c->max_wall_gap = 0;
        c->tick_id = g_timeout_add(CHECK_TICK_MS, check_tick_cb, c);
        return G_SOURCE_CONTINUE;
    }

    if (!run_actions(c))
        goto not_yet;
    g_string_append(failures, c->bad_actions->str);
    check_expectations(c, failures);
    check_more_expectations(c, failures);
    if (failures->len == 0 && !xb_tree_get_busy(c->b->tree)) {
        if (opt_max_gap_ms > 0 && c->max_gap > opt_max_gap_ms * 1000) {
            g_autofree char *why = g_strdup_printf(
                "the main loop stalled: a %d ms timer fired %.1f ms late "
                "(not counting time spent waiting for a CPU)",
                CHECK_TICK_MS, c->max_gap / 1000.0 - CHECK_TICK_MS);
            c->poll_id = 0;
            check_finish(c, FALSE, why);
            return G_SOURCE_REMOVE;
        }
        c->poll_id = 0;
        check_finish(c, TRUE, NULL);
        return G_SOURCE_REMOVE;
    }

not_yet:
    if (g_get_monotonic_time() > c->deadline) {
        c->poll_id = 0;
        check_finish(c, FALSE, failures->len ? failures->str
                                               : "never ready (no connection?)");
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void
check_free(Check *c)
{
    g_free(c->running_action);
    g_string_free(c->bad_actions, TRUE);
    g_free(c);
}

static void
self_check_start(Browser *b)
{
    Check *c = g_new0(Check, 1);

    c->b = b;
    c->bad_actions = g_string_new(NULL);
    c->deadline = g_get_monotonic_time() +
                  (gint64)opt_check_timeout * G_TIME_SPAN_SECOND;
    c->poll_id = g_timeout_add(CHECK_POLL_MS, check_poll_cb, c);
    g_object_set_data_full(G_OBJECT(b->window), "xlev-self-check", c,
                           (GDestroyNotify)check_free);
}

/* ------------------------------------------------------------------ */
/* The application */

static void
window_destroy_cb(GtkWidget *window, gpointer user_data)
{
    Browser *b = user_data;

    if (the_browser == b)
        the_browser = NULL;
    browser_free(b);
}

static void
quit_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    g_application_quit(G_APPLICATION(user_data));
}

static const GActionEntry app_actions[] = {
    {"quit", quit_activated, NULL, NULL, NULL, {0}},
};

/* The keyboard shortcuts: action, then its accelerators. */
static const struct {
    const char *action;
    const char *accels[2];
} shortcuts[] = {
    {"app.quit", {"<Control>q", NULL}},
    {"win.search", {"<Control>f", NULL}},
    {"win.reload", {"F5", NULL}},
};

static void
startup_cb(GtkApplication *app, gpointer user_data)
{
    g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions,
                                    G_N_ELEMENTS(app_actions), app);
    for (guint i = 0; i < G_N_ELEMENTS(shortcuts); i++)
        gtk_application_set_accels_for_action(app, shortcuts[i].action,
                                              shortcuts[i].accels);
}

static void
activate_cb(GtkApplication *app, gpointer user_data)
{
    if (the_browser != NULL) {
        gtk_window_present(GTK_WINDOW(the_browser->window));
        return;
    }
    the_browser = browser_new(app);
    g_signal_connect(the_browser->window, "destroy",
                     G_CALLBACK(window_destroy_cb), the_browser);
    if (opt_self_check)
        self_check_start(the_browser);
    gtk_window_present(GTK_WINDOW(the_browser->window));
}

int
main(int argc, char **argv)
{
    g_autoptr(GtkApplication) app = NULL;
    const GOptionEntry entries[] = {
        {"path", 'p', 0, G_OPTION_ARG_STRING, &opt_path,
         N_("Show this xenstore path at start"), N_("PATH")},
        {"self-check", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE,
         &opt_self_check, "Test mode: check the window, then exit 0 or 1",
         NULL},
        {"screenshot", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME,
         &opt_screenshot, "Self-check: save the window as a PNG", "FILE"},
        {"expect-node", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
         &opt_expect_nodes, "Self-check: a row shows PATH with VALUE",
         "PATH=VALUE"},
        {"expect-children", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
         &opt_expect_counts, "Self-check: PATH's row has N children",
         "PATH=N"},
        {"expect-state", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
         &opt_expect_states, "Self-check: the domain's state id",
         "DOMID=STATE"},
        {"expect-banner", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING,
         &opt_expect_banner, "Self-check: the error banner shows TEXT", "TEXT"},
        {"self-check-action", 0, G_OPTION_FLAG_HIDDEN,
         G_OPTION_ARG_STRING_ARRAY, &opt_actions,
         "Self-check: once ready, run an action (edit:PATH=VALUE, "
         "add:PATH=VALUE, delete:PATH, shutdown:DOMID:MODE, "
         "target:DOMID:MIB, search:TEXT; ui-edit, ui-add, ui-delete, "
         "ui-delete-cancelled, ui-shutdown, ui-target: through the "
         "dialogs)",
         "SPEC"},
        {"expect-request", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
         &opt_expect_requests,
         "Self-check: a shutdown request's state (poweroff:acknowledged)",
         "DOMID=STATE"},
        {"expect-leaf", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
         &opt_expect_leaves, "Self-check: PATH's row has no expander",
         "PATH"},
        {"expect-absent", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
         &opt_expect_absent, "Self-check: no row shows PATH", "PATH"},
        {"expect-shown", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
         &opt_expect_shown, "Self-check: PATH's value column shows TEXT",
         "PATH=TEXT"},
        {"expect-accel", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
         &opt_expect_accels, "Self-check: ACTION has the accelerator ACCEL",
         "ACTION=ACCEL"},
        {"expect-menu", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE,
         &opt_expect_menu,
         "Self-check: every item of the primary menu has its action", NULL},
        {"expect-empty", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE,
         &opt_expect_empty, "Self-check: the empty state shows", NULL},
        {"expect-search", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT,
         &opt_expect_search, "Self-check: the search shows N matches", "N"},
        {"max-gap-ms", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT,
         &opt_max_gap_ms, "Self-check: fail if a 10 ms timer is this late",
         "MS"},
        {"check-timeout", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT,
         &opt_check_timeout, "Self-check: give up after S seconds", "S"},
        G_OPTION_ENTRY_NULL,
    };
    int status;

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    /* NON_UNIQUE under --self-check: a test never hands its window to
     * another instance on the session bus. */
    app = gtk_application_new(APP_ID, G_APPLICATION_DEFAULT_FLAGS);
    g_application_add_main_option_entries(G_APPLICATION(app), entries);
    g_signal_connect(app, "startup", G_CALLBACK(startup_cb), NULL);
    g_signal_connect(app, "activate", G_CALLBACK(activate_cb), NULL);
    for (int i = 1; i < argc; i++)
        if (g_str_equal(argv[i], "--self-check"))
            g_application_set_flags(G_APPLICATION(app),
                                    G_APPLICATION_NON_UNIQUE);
    status = g_application_run(G_APPLICATION(app), argc, argv);
    return status != 0 ? status : exit_status;
}
