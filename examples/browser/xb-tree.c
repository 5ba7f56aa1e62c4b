/* xb-tree.c: a xenstore subtree as GObjects, kept live from one XlevWatch
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See xb-tree.h for what it does. How a node gets into the tree:
 *
 *   parent listed (directory_async) ──► child XbNode made, value unknown
 *        │                                 ├─ READ queued  ──► value set
 *        │                                 └─ LIST queued  ──► children
 *   watch event below a listed node ──► node (and missing parents) made at
 *        once, READ queued first in line; "no such node" ──► removed
 *
 * Requests wait in one queue and at most XB_TREE_MAX_IN_FLIGHT run at a
 * time (each a GTask whose request is pipelined on the context's
 * connection; the library starts no thread for them).
 */
#include "xb-tree.h"

#include <string.h>

#include "xb-format.h"

/* Requests to xenstored in flight at once: enough to hide a round trip,
 * few enough that a watch event's read is not queued behind a whole
 * subtree's. */
#define XB_TREE_MAX_IN_FLIGHT 8

/* Watch events handled straight away per burst window; the rest wait for
 * the idle handler. */
#define XB_TREE_IMMEDIATE_EVENTS 8
#define XB_TREE_BURST_WINDOW_US (10 * G_TIME_SPAN_MILLISECOND)

/* How long the idle handler works through queued events per main-loop
 * iteration: well under one frame (16 ms at 60 Hz). */
#define XB_TREE_IDLE_BUDGET_US (3 * G_TIME_SPAN_MILLISECOND)

/* ------------------------------------------------------------------ */
/* XbNode */

struct _XbNode {
    GObject parent_instance;
    char *path;
    const char *name; /* points into path */
    char *value;
    gboolean listed;
    GListStore *children;
};

enum { NODE_PROP_0, NODE_PROP_PATH, NODE_PROP_NAME, NODE_PROP_VALUE,
       NODE_PROP_LISTED, NODE_N_PROPS };
static GParamSpec *node_props[NODE_N_PROPS];

G_DEFINE_FINAL_TYPE(XbNode, xb_node, G_TYPE_OBJECT)

static void
xb_node_finalize(GObject *object)
{
    XbNode *self = XB_NODE(object);

    g_free(self->path);
    g_free(self->value);
    g_clear_object(&self->children);
    G_OBJECT_CLASS(xb_node_parent_class)->finalize(object);
}

static void
xb_node_get_property(GObject *object, guint prop_id, GValue *value,
                     GParamSpec *pspec)
{
    XbNode *self = XB_NODE(object);

    switch (prop_id) {
    case NODE_PROP_PATH:
        g_value_set_string(value, self->path);
        break;
    case NODE_PROP_NAME:
        g_value_set_string(value, self->name);
        break;
    case NODE_PROP_VALUE:
        g_value_set_string(value, self->value);
        break;
    case NODE_PROP_LISTED:
        g_value_set_boolean(value, self->listed);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xb_node_class_init(XbNodeClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = xb_node_finalize;
    object_class->get_property = xb_node_get_property;
    node_props[NODE_PROP_PATH] = g_param_spec_string(
        "path", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    node_props[NODE_PROP_NAME] = g_param_spec_string(
        "name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    node_props[NODE_PROP_VALUE] = g_param_spec_string(
        "value", NULL, NULL, NULL,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    node_props[NODE_PROP_LISTED] = g_param_spec_boolean(
        "listed", NULL, NULL, FALSE,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, NODE_N_PROPS, node_props);
}

static void
xb_node_init(XbNode *self)
{
    self->children = g_list_store_new(XB_TYPE_NODE);
}

static XbNode *
xb_node_new(const char *path)
{
    XbNode *self = g_object_new(XB_TYPE_NODE, NULL);
    const char *slash;

    self->path = g_strdup(path);
    slash = strrchr(self->path, '/');
    self->name = (slash != NULL && slash[1] != '\0') ? slash + 1 : self->path;
    return self;
}

const char *
xb_node_get_path(XbNode *self)
{
    return self->path;
}

const char *
xb_node_get_name(XbNode *self)
{
    return self->name;
}

const char *
xb_node_get_value(XbNode *self)
{
    return self->value;
}

GListModel *
xb_node_get_children(XbNode *self)
{
    return G_LIST_MODEL(self->children);
}

gboolean
xb_node_get_listed(XbNode *self)
{
    return self->listed;
}

static void
xb_node_set_value(XbNode *self, char *value /* transfer full */)
{
    if (g_strcmp0(self->value, value) == 0) {
        g_free(value);
        return;
    }
    g_free(self->value);
    self->value = value;
    g_object_notify_by_pspec(G_OBJECT(self), node_props[NODE_PROP_VALUE]);
}

static void
xb_node_set_listed(XbNode *self)
{
    if (self->listed)
        return;
    self->listed = TRUE;
    g_object_notify_by_pspec(G_OBJECT(self), node_props[NODE_PROP_LISTED]);
}

/* Domain ids and other numbers in numeric order, the rest by byte. */
static int
compare_names(const char *a, const char *b)
{
    gboolean a_num = a[0] != '\0' && strspn(a, "0123456789") == strlen(a);
    gboolean b_num = b[0] != '\0' && strspn(b, "0123456789") == strlen(b);

    if (a_num && b_num && strlen(a) != strlen(b))
        return strlen(a) < strlen(b) ? -1 : 1;
    if (a_num != b_num)
        return a_num ? -1 : 1;
    return strcmp(a, b);
}

static int
compare_nodes(gconstpointer a, gconstpointer b, gpointer user_data)
{
    return compare_names(XB_NODE((gpointer)a)->name,
                         XB_NODE((gpointer)b)->name);
}

static int
compare_node_ptrs(gconstpointer a, gconstpointer b)
{
    return compare_nodes(*(XbNode *const *)a, *(XbNode *const *)b, NULL);
}

/* ------------------------------------------------------------------ */
/* XbTree */

typedef enum { REQUEST_LIST, REQUEST_READ } RequestKind;

typedef struct {
    XbTree *tree; /* strong once started: a request in flight keeps the
                   * tree; one still queued does not */
    gboolean started;
    RequestKind kind;
    char *path;
} Request;

struct _XbTree {
    GObject parent_instance;
    XlevContext *ctx;
    char *root_path;
    XbNode *root;
    GListStore *root_model;
    gboolean missing;  /* the root path does not exist (yet) */
    GHashTable *nodes; /* path -> XbNode (strong) */
    XlevWatch *watch;
    GCancellable *cancellable;

    GQueue requests; /* Request, next first */
    guint in_flight;

    GQueue events; /* char *path, oldest first */
    guint events_idle;
    gint64 burst_start;
    guint burst_count;
};

enum { TREE_PROP_0, TREE_PROP_BUSY, TREE_PROP_MISSING, TREE_N_PROPS };
static GParamSpec *tree_props[TREE_N_PROPS];

enum { TREE_ERROR, TREE_N_SIGNALS };
static guint tree_signals[TREE_N_SIGNALS];

G_DEFINE_FINAL_TYPE(XbTree, xb_tree, G_TYPE_OBJECT)

static void tree_pump(XbTree *self);

static void
request_free(Request *req)
{
    if (req->started)
        g_object_unref(req->tree);
    g_free(req->path);
    g_free(req);
}

static void
tree_queue(XbTree *self, RequestKind kind, const char *path, gboolean urgent)
{
    Request *req = g_new0(Request, 1);
    gboolean was_busy = xb_tree_get_busy(self);

    req->tree = self;
    req->kind = kind;
    req->path = g_strdup(path);
    if (urgent)
        g_queue_push_head(&self->requests, req);
    else
        g_queue_push_tail(&self->requests, req);
    if (!was_busy)
        g_object_notify_by_pspec(G_OBJECT(self), tree_props[TREE_PROP_BUSY]);
    tree_pump(self);
}

static char *
child_path(const char *parent, const char *name)
{
    if (g_str_equal(parent, "/"))
        return g_strconcat("/", name, NULL);
    return g_strconcat(parent, "/", name, NULL);
}

/* A new node, known to the tree; the caller gets a reference too. */
static XbNode *
tree_add_node(XbTree *self, const char *path)
{
    XbNode *node = xb_node_new(path);

    g_hash_table_insert(self->nodes, node->path, g_object_ref(node));
    return node;
}

/* Forgets @node and everything below it (the caller removes it from its
 * parent's store). */
static void
tree_forget(XbTree *self, XbNode *node)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(node->children));

    for (guint i = 0; i < n; i++) {
        g_autoptr(XbNode) child =
            g_list_model_get_item(G_LIST_MODEL(node->children), i);

        tree_forget(self, child);
    }
    g_list_store_remove_all(node->children);
    g_hash_table_remove(self->nodes, node->path);
}

static XbNode *
tree_parent_of(XbTree *self, const char *path)
{
    g_autofree char *parent = g_path_get_dirname(path);

    return g_hash_table_lookup(self->nodes, parent);
}

/* The position of @node in @store, sorted by compare_nodes: a binary
 * search, as a directory may hold thousands of nodes. */
static gboolean
store_find_sorted(GListStore *store, XbNode *node, guint *position)
{
    guint lo = 0, hi = g_list_model_get_n_items(G_LIST_MODEL(store));

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        g_autoptr(XbNode) item = g_list_model_get_item(G_LIST_MODEL(store), mid);
        int cmp = compare_nodes(item, node, NULL);

        if (cmp == 0) {
            *position = mid;
            return item == node;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return FALSE;
}

/* A GtkTreeListModel asks once per row whether it can be expanded (its
 * create function gives a model or NULL) and never again while the row
 * lives. When a node turns out to be a leaf, or a leaf gets a child, its
 * row is made again: the node replaces itself in its parent's list, one
 * items-changed. The root keeps its row (and the expansion the window
 * gave it). */
static void
tree_refresh_row(XbTree *self, XbNode *node)
{
    XbNode *parent;
    guint pos;

    if (node == self->root)
        return;
    parent = tree_parent_of(self, node->path);
    if (parent != NULL && store_find_sorted(parent->children, node, &pos))
        g_list_store_splice(parent->children, pos, 1, (gpointer *)&node, 1);
}

static void
tree_set_missing(XbTree *self, gboolean missing)
{
    if (self->missing == missing)
        return;
    self->missing = missing;
    g_object_notify_by_pspec(G_OBJECT(self), tree_props[TREE_PROP_MISSING]);
}

/* Inserts @child below @parent; a parent that was a leaf gets its
 * expander. */
static void
tree_insert_child(XbTree *self, XbNode *parent, XbNode *child)
{
    gboolean was_leaf =
        parent->listed &&
        g_list_model_get_n_items(G_LIST_MODEL(parent->children)) == 0;

    g_list_store_insert_sorted(parent->children, child, compare_nodes, NULL);
    if (parent == self->root)
        tree_set_missing(self, FALSE);
    else if (was_leaf)
        tree_refresh_row(self, parent);
}

static void
tree_remove(XbTree *self, XbNode *node)
{
    XbNode *parent;
    guint pos;

    if (node == self->root) {
        /* The root stays, empty: what is written below it later shows. */
        xb_node_set_value(node, NULL);
        xb_node_set_listed(node);
        for (guint n; (n = g_list_model_get_n_items(
                           G_LIST_MODEL(node->children))) > 0;) {
            g_autoptr(XbNode) child =
                g_list_model_get_item(G_LIST_MODEL(node->children), n - 1);

            tree_forget(self, child);
            g_list_store_remove(node->children, n - 1);
        }
        return;
    }
    parent = tree_parent_of(self, node->path);
    g_object_ref(node);
    if (parent != NULL && store_find_sorted(parent->children, node, &pos)) {
        g_list_store_remove(parent->children, pos);
        if (g_list_model_get_n_items(G_LIST_MODEL(parent->children)) == 0)
            tree_refresh_row(self, parent); /* a leaf now */
    }
    tree_forget(self, node);
    g_object_unref(node);
}

static void
tree_emit_error(XbTree *self, const GError *error)
{
    g_signal_emit(self, tree_signals[TREE_ERROR], 0, error);
}

static void
list_done(XbTree *self, XbNode *node, char **names)
{
    guint n_names = g_strv_length(names);

    if (!node->listed) {
        /* First listing: every child at once, one items-changed. */
        g_autoptr(GPtrArray) fresh = g_ptr_array_new_with_free_func(NULL);

        for (guint i = 0; i < n_names; i++) {
            g_autofree char *path = child_path(node->path, names[i]);

            if (g_hash_table_contains(self->nodes, path))
                continue; /* made by a watch event meanwhile */
            g_ptr_array_add(fresh, tree_add_node(self, path)); /* ours */
        }
        g_ptr_array_sort(fresh, compare_node_ptrs);
        if (g_list_model_get_n_items(G_LIST_MODEL(node->children)) == 0) {
            g_list_store_splice(node->children, 0, 0, fresh->pdata,
                                fresh->len);
        } else {
            for (guint i = 0; i < fresh->len; i++)
                g_list_store_insert_sorted(node->children, fresh->pdata[i],
                                           compare_nodes, NULL);
        }
        for (guint i = 0; i < fresh->len; i++) {
            XbNode *child = fresh->pdata[i];

            tree_queue(self, REQUEST_READ, child->path, FALSE);
            tree_queue(self, REQUEST_LIST, child->path, FALSE);
            g_object_unref(child); /* the hash table and store hold it */
        }
        xb_node_set_listed(node);
        if (fresh->len > 0 && node == self->root)
            tree_set_missing(self, FALSE);
        if (g_list_model_get_n_items(G_LIST_MODEL(node->children)) == 0)
            tree_refresh_row(self, node); /* a leaf: no expander */
        return;
    }

    /* Listed again: add what is new; what is missing is read once more,
     * and removed if the read confirms it is gone (a listing may predate
     * a watch event already handled). */
    {
        g_autoptr(GHashTable) present =
            g_hash_table_new(g_str_hash, g_str_equal);
        guint n = g_list_model_get_n_items(G_LIST_MODEL(node->children));

        for (guint i = 0; i < n_names; i++) {
            g_autofree char *path = child_path(node->path, names[i]);

            g_hash_table_add(present, names[i]);
            if (!g_hash_table_contains(self->nodes, path)) {
                XbNode *child = tree_add_node(self, path);

                tree_insert_child(self, node, child);
                tree_queue(self, REQUEST_READ, path, FALSE);
                tree_queue(self, REQUEST_LIST, path, FALSE);
                g_object_unref(child);
            }
        }
        for (guint i = 0; i < n; i++) {
            g_autoptr(XbNode) child =
                g_list_model_get_item(G_LIST_MODEL(node->children), i);

            if (!g_hash_table_contains(present, child->name))
                tree_queue(self, REQUEST_READ, child->path, TRUE);
        }
    }
}

static void
request_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Request *req = user_data;
    XbTree *self = req->tree;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) names = NULL;
    char *value = NULL;
    XbNode *node;

    if (req->kind == REQUEST_LIST)
        names = xlev_context_directory_finish(XLEV_CONTEXT(source), result,
                                              &error);
    else
        value = xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        request_free(req);
        return;
    }
    self->in_flight--;

    node = g_hash_table_lookup(self->nodes, req->path);
    if (node != NULL && node == self->root)
        tree_set_missing(self, xb_error_is(error, "noent") &&
                                   g_list_model_get_n_items(G_LIST_MODEL(
                                       node->children)) == 0);
    if (node != NULL) {
        if (xb_error_is(error, "noent"))
            tree_remove(self, node);
        else if (error != NULL)
            tree_emit_error(self, error);
        else if (req->kind == REQUEST_LIST)
            list_done(self, node, names);
        else
            xb_node_set_value(node, value);
    } else {
        g_free(value);
    }
    request_free(req);
    tree_pump(self);
    if (!xb_tree_get_busy(self))
        g_object_notify_by_pspec(G_OBJECT(self), tree_props[TREE_PROP_BUSY]);
}

static void
tree_pump(XbTree *self)
{
    while (self->in_flight < XB_TREE_MAX_IN_FLIGHT &&
           !g_queue_is_empty(&self->requests)) {
        Request *req = g_queue_pop_head(&self->requests);

        if (!g_hash_table_contains(self->nodes, req->path)) {
            request_free(req); /* removed meanwhile */
            continue;
        }
        self->in_flight++;
        req->started = TRUE;
        g_object_ref(self);
        if (req->kind == REQUEST_LIST)
            xlev_context_directory_async(self->ctx, req->path,
                                         self->cancellable, request_done_cb,
                                         req);
        else
            xlev_context_read_async(self->ctx, req->path, self->cancellable,
                                    request_done_cb, req);
    }
}

/* One watch event: see the file comment. */
static void
tree_handle_event(XbTree *self, const char *path)
{
    XbNode *node = g_hash_table_lookup(self->nodes, path);
    g_autoptr(GPtrArray) missing = NULL;
    XbNode *ancestor;
    char *p;

    if (node != NULL) {
        tree_queue(self, REQUEST_READ, path, TRUE);
        return;
    }

    /* The deepest known ancestor, and the paths missing below it. */
    missing = g_ptr_array_new_with_free_func(g_free);
    p = g_strdup(path);
    for (;;) {
        char *parent = g_path_get_dirname(p);

        g_ptr_array_insert(missing, 0, p);
        ancestor = g_hash_table_lookup(self->nodes, parent);
        if (ancestor != NULL || g_str_equal(parent, "/") ||
            g_str_equal(parent, ".")) {
            g_free(parent);
            break;
        }
        p = parent;
    }
    if (ancestor == NULL || !ancestor->listed)
        return; /* its parent's listing will bring it */

    for (guint i = 0; i < missing->len; i++) {
        const char *mpath = missing->pdata[i];
        gboolean leaf = i + 1 == missing->len;
        XbNode *child = tree_add_node(self, mpath);

        if (leaf)
            xb_node_set_listed(child); /* new: no children yet */
        tree_insert_child(self, ancestor, child);
        tree_queue(self, REQUEST_READ, mpath, TRUE);
        if (!leaf)
            tree_queue(self, REQUEST_LIST, mpath, FALSE);
        ancestor = child;
        g_object_unref(child);
    }
}

static gboolean
events_idle_cb(gpointer user_data)
{
    XbTree *self = user_data;
    gint64 deadline = g_get_monotonic_time() + XB_TREE_IDLE_BUDGET_US;
    char *path;

    while (g_get_monotonic_time() < deadline &&
           (path = g_queue_pop_head(&self->events)) != NULL) {
        tree_handle_event(self, path);
        g_free(path);
    }
    if (!g_queue_is_empty(&self->events))
        return G_SOURCE_CONTINUE;
    self->events_idle = 0;
    return G_SOURCE_REMOVE;
}

static void
watch_changed_cb(XlevWatch *watch, const char *path, gpointer user_data)
{
    XbTree *self = user_data;
    gint64 now = g_get_monotonic_time();

    if (now - self->burst_start > XB_TREE_BURST_WINDOW_US) {
        self->burst_start = now;
        self->burst_count = 0;
    }
    if (g_queue_is_empty(&self->events) &&
        self->burst_count < XB_TREE_IMMEDIATE_EVENTS) {
        self->burst_count++;
        tree_handle_event(self, path);
        return;
    }
    g_queue_push_tail(&self->events, g_strdup(path));
    if (self->events_idle == 0)
        self->events_idle = g_idle_add(events_idle_cb, self);
}

void
xb_tree_stop(XbTree *self)
{
    g_cancellable_cancel(self->cancellable);
    if (self->watch != NULL) {
        g_signal_handlers_disconnect_by_data(self->watch, self);
        xlev_watch_cancel(self->watch);
        g_clear_object(&self->watch);
    }
    g_clear_handle_id(&self->events_idle, g_source_remove);
    g_queue_clear_full(&self->events, g_free);
    g_queue_clear_full(&self->requests, (GDestroyNotify)request_free);
}

static void
xb_tree_dispose(GObject *object)
{
    xb_tree_stop(XB_TREE(object));
    G_OBJECT_CLASS(xb_tree_parent_class)->dispose(object);
}

static void
xb_tree_finalize(GObject *object)
{
    XbTree *self = XB_TREE(object);

    g_clear_pointer(&self->nodes, g_hash_table_unref);
    g_clear_object(&self->root);
    g_clear_object(&self->root_model);
    g_clear_object(&self->cancellable);
    g_clear_object(&self->ctx);
    g_free(self->root_path);
    G_OBJECT_CLASS(xb_tree_parent_class)->finalize(object);
}

static void
xb_tree_get_property(GObject *object, guint prop_id, GValue *value,
                     GParamSpec *pspec)
{
    switch (prop_id) {
    case TREE_PROP_BUSY:
        g_value_set_boolean(value, xb_tree_get_busy(XB_TREE(object)));
        break;
    case TREE_PROP_MISSING:
        g_value_set_boolean(value, XB_TREE(object)->missing);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
xb_tree_class_init(XbTreeClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = xb_tree_dispose;
    object_class->finalize = xb_tree_finalize;
    object_class->get_property = xb_tree_get_property;

    tree_props[TREE_PROP_BUSY] = g_param_spec_boolean(
        "busy", NULL, NULL, FALSE,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    tree_props[TREE_PROP_MISSING] = g_param_spec_boolean(
        "missing", NULL, NULL, FALSE,
        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, TREE_N_PROPS, tree_props);

    /* XbTree::error: a read failed for another reason than "no such node"
     * (permission denied, xenstored gone). */
    tree_signals[TREE_ERROR] =
        g_signal_new("error", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                     NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
xb_tree_init(XbTree *self)
{
    self->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                        g_object_unref);
    self->root_model = g_list_store_new(XB_TYPE_NODE);
    self->cancellable = g_cancellable_new();
    g_queue_init(&self->requests);
    g_queue_init(&self->events);
}

XbTree *
xb_tree_new(XlevContext *ctx, const char *root_path, GError **error)
{
    g_autoptr(XbTree) self = g_object_new(XB_TYPE_TREE, NULL);
    g_autofree char *root = NULL;
    gsize len;

    /* "/local/domain/3/" means "/local/domain/3". */
    root = g_strdup(root_path);
    len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        root[--len] = '\0';

    self->ctx = g_object_ref(ctx);
    self->root_path = g_steal_pointer(&root);
    self->watch = xlev_context_watch(ctx, self->root_path,
                                     XLEV_WATCH_FLAGS_SKIP_INITIAL, error);
    if (self->watch == NULL)
        return NULL;
    g_signal_connect(self->watch, "changed", G_CALLBACK(watch_changed_cb),
                     self);

    self->root = tree_add_node(self, self->root_path);
    g_list_store_append(self->root_model, self->root);
    tree_queue(self, REQUEST_READ, self->root_path, FALSE);
    tree_queue(self, REQUEST_LIST, self->root_path, FALSE);
    return g_steal_pointer(&self);
}

const char *
xb_tree_get_root_path(XbTree *self)
{
    return self->root_path;
}

GListModel *
xb_tree_get_root_model(XbTree *self)
{
    return G_LIST_MODEL(self->root_model);
}

XbNode *
xb_tree_lookup(XbTree *self, const char *path)
{
    return g_hash_table_lookup(self->nodes, path);
}

guint
xb_tree_get_n_nodes(XbTree *self)
{
    return g_hash_table_size(self->nodes);
}

gboolean
xb_tree_get_busy(XbTree *self)
{
    return self->in_flight > 0 || !g_queue_is_empty(&self->requests) ||
           !g_queue_is_empty(&self->events);
}

gboolean
xb_tree_get_missing(XbTree *self)
{
    return self->missing;
}

XbNode *
xb_tree_get_root(XbTree *self)
{
    return self->root;
}

/* For g_ptr_array_sort_with_data: pointers to XbNode pointers. */
static int
compare_hit_paths(gconstpointer a, gconstpointer b, gpointer user_data)
{
    return strcmp((*(XbNode *const *)a)->path, (*(XbNode *const *)b)->path);
}

static gboolean
matches(const char *text, const char *folded_needle)
{
    g_autofree char *folded = NULL;

    if (text == NULL)
        return FALSE;
    folded = g_utf8_casefold(text, -1);
    return strstr(folded, folded_needle) != NULL;
}

GListModel *
xb_tree_search(XbTree *self, const char *needle)
{
    GListStore *found = g_list_store_new(XB_TYPE_NODE);
    g_autofree char *folded = g_utf8_casefold(needle, -1);
    g_autoptr(GPtrArray) hits = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;

    if (folded[0] == '\0')
        return G_LIST_MODEL(found);
    g_hash_table_iter_init(&iter, self->nodes);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        XbNode *node = value;

        if (matches(node->name, folded) || matches(node->value, folded))
            g_ptr_array_add(hits, node);
    }
    g_ptr_array_sort_with_data(hits, compare_hit_paths,
                               NULL);
    g_list_store_splice(found, 0, 0, hits->pdata, hits->len);
    return G_LIST_MODEL(found);
}
