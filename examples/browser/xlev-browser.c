/* xlev-browser.c: a GTK4 browser of xenstore and Xen domains
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Left, the domains (xb-domains.c); right, the xenstore subtree of the
 * selected domain or of the path typed in the path bar (xb-tree.c) as a
 * GtkTreeListModel in a GtkColumnView. Both are kept live by XlevWatch and
 * XlevDomainMonitor signals, and every read is asynchronous: the window
 * never waits for xenstored.
 *
 * When the connection fails (xenstored gone: the context's `disaster`
 * signal, which comes within about a second even while nothing happens,
 * or a failed read) or a read is refused, a banner says so; "Reconnect"
 * makes a new XlevContext and reloads both panes.
 *
 * --self-check (with --expect-… options) is for the test suite: it proves
 * from the widget tree that what xenstore holds is shown, measures how
 * late a 10 ms timer fires while the panes fill, saves a screenshot
 * (--screenshot) and exits 0 or 1.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include <xlev.h>

#include "xb-domains.h"
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
    GtkEntry *path_entry;
    GtkListView *domain_view;
    GtkSingleSelection *domain_selection;
    GtkColumnView *tree_view;
    GtkLabel *status;

    XlevContext *ctx;
    XbDomains *domains;
    XbTree *tree;
    char *root_path;
} Browser;

/* Command line. */
static char *opt_path;
static gboolean opt_self_check;
static char *opt_screenshot;
static char **opt_expect_nodes;
static char **opt_expect_states;
static char **opt_expect_counts;
static char *opt_expect_banner;
static int opt_max_gap_ms;
static int opt_check_timeout = CHECK_DEFAULT_TIMEOUT_S;

static Browser *the_browser;
static int exit_status;

static void browser_connect(Browser *b);

/* ------------------------------------------------------------------ */
/* Errors */

static void
show_error(Browser *b, const char *message)
{
    gtk_label_set_text(b->banner_label, message);
    gtk_info_bar_set_revealed(b->banner, TRUE);
}

static void
hide_error(Browser *b)
{
    gtk_info_bar_set_revealed(b->banner, FALSE);
}

static void
browser_disconnect(Browser *b)
{
    if (b->tree != NULL) {
        xb_tree_stop(b->tree);
        g_clear_object(&b->tree);
    }
    if (b->domains != NULL) {
        xb_domains_stop(b->domains);
        g_clear_object(&b->domains);
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
    return g_error_matches(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE) ||
           g_error_matches(error, XLEV_ERROR, XLEV_ERROR_CODE_BROKEN);
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

static void
update_status(Browser *b)
{
    g_autofree char *text = NULL;

    if (b->tree == NULL) {
        gtk_label_set_text(b->status, "");
        return;
    }
    text = g_strdup_printf(xb_tree_get_busy(b->tree)
                               /* TRANSLATORS: %u nodes loaded so far */
                               ? _("Loading… %u nodes")
                               : _("%u nodes"),
                           xb_tree_get_n_nodes(b->tree));
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

    tree_model = gtk_tree_list_model_new(
        g_object_ref(xb_tree_get_root_model(b->tree)), FALSE, FALSE,
        create_children_cb, NULL, NULL);
    selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(tree_model)));
    gtk_column_view_set_model(b->tree_view, GTK_SELECTION_MODEL(selection));
    /* The root open from the start. */
    row = gtk_tree_list_model_get_row(tree_model, 0);
    if (row != NULL) {
        gtk_tree_list_row_set_expanded(row, TRUE);
        g_object_unref(row);
    }
    update_status(b);
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

static gboolean
value_to_text(GBinding *binding, const GValue *from, GValue *to,
              gpointer user_data)
{
    const char *value = g_value_get_string(from);

    /* Values may hold control characters: show them escaped. */
    g_value_take_string(to, value != NULL ? g_strescape(value, NULL)
                                          : g_strdup(""));
    return TRUE;
}

static void
value_bind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkTreeListRow *row = gtk_list_item_get_item(item);
    g_autoptr(XbNode) node = gtk_tree_list_row_get_item(row);
    GBinding *binding = g_object_bind_property_full(
        node, "value", gtk_list_item_get_child(item), "label",
        G_BINDING_SYNC_CREATE, value_to_text, NULL, NULL, NULL);

    g_object_set_data_full(G_OBJECT(item), "binding", g_object_ref(binding),
                           g_object_unref);
}

static void
value_unbind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GBinding *binding = g_object_get_data(G_OBJECT(item), "binding");

    if (binding != NULL)
        g_binding_unbind(binding);
    g_object_set_data(G_OBJECT(item), "binding", NULL);
}

/* ------------------------------------------------------------------ */
/* The left pane */

static void
domain_setup_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *title = gtk_label_new(NULL);
    GtkWidget *state = gtk_label_new(NULL);

    gtk_label_set_xalign(GTK_LABEL(title), 0);
    gtk_label_set_xalign(GTK_LABEL(state), 0);
    gtk_widget_add_css_class(state, "dim-label");
    gtk_widget_add_css_class(state, "caption");
    gtk_box_append(GTK_BOX(box), title);
    gtk_box_append(GTK_BOX(box), state);
    gtk_widget_set_margin_top(box, 4);
    gtk_widget_set_margin_bottom(box, 4);
    gtk_list_item_set_child(item, box);
}

static void
domain_refresh(XbDomain *d, GParamSpec *pspec, GtkWidget *box)
{
    GtkWidget *title = gtk_widget_get_first_child(box);
    GtkWidget *state = gtk_widget_get_next_sibling(title);
    const char *name = xb_domain_get_name(d);
    g_autofree char *text = name != NULL
        /* TRANSLATORS: a domain in the list: its id and name */
        ? g_strdup_printf(_("%u · %s"), xb_domain_get_domid(d), name)
        : g_strdup_printf("%u", xb_domain_get_domid(d));

    gtk_label_set_text(GTK_LABEL(title), text);
    gtk_label_set_text(GTK_LABEL(state), xb_domain_get_state(d));
}

static void
domain_bind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    XbDomain *d = gtk_list_item_get_item(item);
    GtkWidget *box = gtk_list_item_get_child(item);

    domain_refresh(d, NULL, box);
    g_signal_connect_object(d, "notify", G_CALLBACK(domain_refresh), box, 0);
}

static void
domain_unbind_cb(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    g_signal_handlers_disconnect_by_func(gtk_list_item_get_item(item),
                                         domain_refresh,
                                         gtk_list_item_get_child(item));
}

static void
domain_selected_cb(GtkSingleSelection *selection, GParamSpec *pspec,
                   gpointer user_data)
{
    Browser *b = user_data;
    XbDomain *d = gtk_single_selection_get_selected_item(selection);
    g_autofree char *path = NULL;

    if (d == NULL)
        return;
    path = g_strdup_printf("/local/domain/%u", xb_domain_get_domid(d));
    browser_show_path(b, path);
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

    b->domains = xb_domains_new(b->ctx, &error);
    if (b->domains == NULL) {
        show_error(b, error->message);
        return;
    }
    hide_error(b);
    g_signal_handlers_block_by_func(b->domain_selection, domain_selected_cb, b);
    gtk_single_selection_set_model(b->domain_selection,
                                   xb_domains_get_model(b->domains));
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
    gtk_window_set_default_size(GTK_WINDOW(b->window), 900, 560);

    header = gtk_header_bar_new();
    button = gtk_button_new_from_icon_name("view-refresh-symbolic");
    gtk_widget_set_tooltip_text(button, _("Reconnect and reload"));
    g_signal_connect_swapped(button, "clicked", G_CALLBACK(browser_connect), b);
    gtk_header_bar_pack_start(GTK_HEADER_BAR(header), button);
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
    gtk_info_bar_add_button(b->banner, _("_Reconnect"), GTK_RESPONSE_ACCEPT);
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
    g_signal_connect(factory, "setup", G_CALLBACK(domain_setup_cb), NULL);
    g_signal_connect(factory, "bind", G_CALLBACK(domain_bind_cb), NULL);
    g_signal_connect(factory, "unbind", G_CALLBACK(domain_unbind_cb), NULL);
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

    b->tree_view = GTK_COLUMN_VIEW(gtk_column_view_new(NULL));
    gtk_column_view_set_show_row_separators(b->tree_view, FALSE);
    column = add_column(b->tree_view, _("Name"), G_CALLBACK(name_setup_cb),
                        G_CALLBACK(name_bind_cb), G_CALLBACK(name_unbind_cb));
    gtk_column_view_column_set_fixed_width(column, 300);
    column = add_column(b->tree_view, _("Value"), G_CALLBACK(value_setup_cb),
                        G_CALLBACK(value_bind_cb), G_CALLBACK(value_unbind_cb));
    gtk_column_view_column_set_expand(column, TRUE);
    scroll = gtk_scrolled_window_new();
    gtk_widget_set_vexpand(scroll, TRUE);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll),
                                  GTK_WIDGET(b->tree_view));
    gtk_box_append(GTK_BOX(right), scroll);

    b->status = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_xalign(b->status, 0);
    gtk_widget_add_css_class(GTK_WIDGET(b->status), "dim-label");
    gtk_widget_set_margin_start(GTK_WIDGET(b->status), 6);
    gtk_widget_set_margin_bottom(GTK_WIDGET(b->status), 6);
    gtk_box_append(GTK_BOX(right), GTK_WIDGET(b->status));
    gtk_paned_set_end_child(GTK_PANED(paned), right);

    browser_connect(b);
    return b;
}

static void
browser_free(Browser *b)
{
    browser_disconnect(b);
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

    check_expectations(c, failures);
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
self_check_start(Browser *b)
{
    Check *c = g_new0(Check, 1);

    c->b = b;
    c->deadline = g_get_monotonic_time() +
                  (gint64)opt_check_timeout * G_TIME_SPAN_SECOND;
    c->poll_id = g_timeout_add(CHECK_POLL_MS, check_poll_cb, c);
    g_object_set_data_full(G_OBJECT(b->window), "xlev-self-check", c, g_free);
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
    g_signal_connect(app, "activate", G_CALLBACK(activate_cb), NULL);
    for (int i = 1; i < argc; i++)
        if (g_str_equal(argv[i], "--self-check"))
            g_application_set_flags(G_APPLICATION(app),
                                    G_APPLICATION_NON_UNIQUE);
    status = g_application_run(G_APPLICATION(app), argc, argv);
    return status != 0 ? status : exit_status;
}
