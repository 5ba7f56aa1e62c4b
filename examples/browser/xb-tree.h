/* xb-tree.h: a xenstore subtree as GObjects, kept live from one XlevWatch
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * XbNode is one xenstore node: its path, its last read value and a
 * GListStore of its children, sorted by name. XbTree owns the nodes under
 * one root path and keeps them up to date:
 *
 *  - every read (directory and value) goes through the library's async API,
 *    at most XB_TREE_MAX_IN_FLIGHT at a time, so the main loop never waits
 *    for xenstored however large the subtree is;
 *  - one XlevWatch on the root reports every change below it. A node that
 *    appears under a loaded parent is inserted at once (its value follows
 *    when the read returns); a changed node is read again; a node whose
 *    read says "no such node" is removed with its children;
 *  - watch events arrive in bursts (a tool writing thousands of nodes), so
 *    beyond a few per main-loop iteration they wait in a queue that an idle
 *    handler works through with a time budget: the UI stays responsive.
 *
 * Everything happens in the thread-default main context of the thread that
 * made the tree (the GTK main thread).
 */
#pragma once

#include <xlev.h>

G_BEGIN_DECLS

#define XB_TYPE_NODE (xb_node_get_type())
G_DECLARE_FINAL_TYPE(XbNode, xb_node, XB, NODE, GObject)

const char *xb_node_get_path(XbNode *self);
const char *xb_node_get_name(XbNode *self);
/* NULL until read (or when unreadable). */
const char *xb_node_get_value(XbNode *self);
/* The node's children (sorted by name); items are XbNode. */
GListModel *xb_node_get_children(XbNode *self);
/* TRUE once the node's children have been listed. */
gboolean xb_node_get_listed(XbNode *self);

#define XB_TYPE_TREE (xb_tree_get_type())
G_DECLARE_FINAL_TYPE(XbTree, xb_tree, XB, TREE, GObject)

/* A tree of @root_path read through @ctx. Fails if the watch cannot be
 * registered (a bad path, xenstored gone). */
XbTree *xb_tree_new(XlevContext *ctx, const char *root_path, GError **error);

/* Cancels every read and the watch: call before dropping the tree (reads
 * in flight hold a reference until they return). Idempotent. */
void xb_tree_stop(XbTree *self);

const char *xb_tree_get_root_path(XbTree *self);
/* A list holding the root node alone: the root model of a
 * GtkTreeListModel. */
GListModel *xb_tree_get_root_model(XbTree *self);
/* The node at @path, if loaded (transfer none). */
XbNode *xb_tree_lookup(XbTree *self, const char *path);
/* Nodes known. */
guint xb_tree_get_n_nodes(XbTree *self);
/* TRUE while reads are queued or in flight. */
gboolean xb_tree_get_busy(XbTree *self);
/* TRUE when the root path does not exist (the "missing" property): the
 * window shows an empty state. It turns FALSE when the path appears. */
gboolean xb_tree_get_missing(XbTree *self);
/* The root node (transfer none). */
XbNode *xb_tree_get_root(XbTree *self);
/* The loaded nodes whose name or value holds @needle (case-insensitive),
 * sorted by path: a new list (transfer full) of XbNode, not kept up to
 * date (the nodes' values are). */
GListModel *xb_tree_search(XbTree *self, const char *needle);

G_END_DECLS
