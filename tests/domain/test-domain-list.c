/* test-domain-list.c: XlevDomainList and XlevDomain in a GLib main loop
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Guests introduced to the real xenstored before and after the list is
 * made, renamed, shut down and destroyed through the hypervisor stand-in;
 * the list must show each once, in domid order, with live properties.
 */
#include <string.h>

#include "xlev-test-common.h"
#include "domain-test-util.h"

#define UUID_3 "3f2504e0-4f89-11d3-9a0c-0305e82c3303"

typedef struct {
    GArray *changes; /* guint position, removed, added, interleaved */
} Changes;

static void
on_items_changed(GListModel *model, guint position, guint removed,
                 guint added, Changes *c)
{
    g_array_append_val(c->changes, position);
    g_array_append_val(c->changes, removed);
    g_array_append_val(c->changes, added);
}

static void
xs_put(struct xs_handle *h, const char *path, const char *value)
{
    g_assert_true(xs_write(h, XBT_NULL, path, value, strlen(value)));
}

/* The domids in @list, in model order. */
static GArray *
list_domids(GListModel *list)
{
    GArray *domids = g_array_new(FALSE, FALSE, sizeof(guint));

    g_assert_true(g_list_model_get_item_type(list) == XLEV_TYPE_DOMAIN);
    for (guint i = 0; i < g_list_model_get_n_items(list); i++) {
        g_autoptr(XlevDomain) d = g_list_model_get_item(list, i);
        guint domid = xlev_domain_get_domid(d);

        g_array_append_val(domids, domid);
    }
    g_assert_null(g_list_model_get_item(list, g_list_model_get_n_items(list)));
    return domids;
}

static gboolean
list_has(GListModel *list, guint domid)
{
    g_autoptr(GArray) domids = list_domids(list);

    for (guint i = 0; i < domids->len; i++)
        if (g_array_index(domids, guint, i) == domid)
            return TRUE;
    return FALSE;
}

static void
assert_sorted(GListModel *list)
{
    g_autoptr(GArray) domids = list_domids(list);

    for (guint i = 1; i < domids->len; i++)
        g_assert_cmpuint(g_array_index(domids, guint, i - 1), <,
                         g_array_index(domids, guint, i));
}

static void
test_present_introduced_renamed(Fixture *f, gconstpointer data)
{
    struct xs_handle *h = dom_open_xs();
    g_autoptr(XlevDomainList) list = NULL;
    g_autoptr(XlevDomain) d3 = NULL, d5 = NULL, d7 = NULL;
    g_autoptr(GError) error = NULL;
    Changes c = { g_array_new(FALSE, FALSE, sizeof(guint)) };
    guint n_before;

    xs_put(h, "/local/domain/3/vm", "/vm/" UUID_3);
    dom_introduce(h, 3);
    dom_introduce(h, 7);

    list = xlev_domain_list_new(f->ctx, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_domain_list_get_context(list) == f->ctx);
    /* The domains present are there at once, in order. */
    g_assert_true(list_has(G_LIST_MODEL(list), 3));
    g_assert_true(list_has(G_LIST_MODEL(list), 7));
    g_assert_false(list_has(G_LIST_MODEL(list), 5));
    assert_sorted(G_LIST_MODEL(list));
    g_signal_connect(list, "items-changed", G_CALLBACK(on_items_changed), &c);

    d3 = xlev_domain_list_lookup(list, 3);
    d7 = xlev_domain_list_lookup(list, 7);
    g_assert_nonnull(d3);
    g_assert_null(xlev_domain_list_lookup(list, 5));
    g_assert_cmpint(xlev_domain_get_state(d3), ==, XLEV_DOMAIN_STATE_RUNNING);
    WAIT_FOR(f->main_context,
             g_strcmp0(xlev_domain_get_name(d3), "guest3") == 0 &&
                 g_strcmp0(xlev_domain_get_uuid(d3), UUID_3) == 0 &&
                 g_strcmp0(xlev_domain_get_name(d7), "guest7") == 0,
             DOM_EVENT_TIMEOUT_MS);
    g_assert_null(xlev_domain_get_uuid(d7)); /* no vm node */

    /* A domain introduced later goes in between, once. */
    n_before = g_list_model_get_n_items(G_LIST_MODEL(list));
    dom_introduce(h, 5);
    WAIT_FOR(f->main_context, list_has(G_LIST_MODEL(list), 5),
             DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(list)), ==,
                     n_before + 1);
    assert_sorted(G_LIST_MODEL(list));
    g_assert_cmpuint(c.changes->len, ==, 3);
    {
        g_autoptr(XlevDomain) at = g_list_model_get_item(
            G_LIST_MODEL(list), g_array_index(c.changes, guint, 0));
        g_assert_cmpuint(xlev_domain_get_domid(at), ==, 5);
        g_assert_cmpuint(g_array_index(c.changes, guint, 1), ==, 0);
        g_assert_cmpuint(g_array_index(c.changes, guint, 2), ==, 1);
    }

    /* A rename is seen. */
    d5 = xlev_domain_list_lookup(list, 5);
    WAIT_FOR(f->main_context,
             g_strcmp0(xlev_domain_get_name(d5), "guest5") == 0,
             DOM_EVENT_TIMEOUT_MS);
    xs_put(h, "/local/domain/5/name", "renamed");
    WAIT_FOR(f->main_context,
             g_strcmp0(xlev_domain_get_name(d5), "renamed") == 0,
             DOM_EVENT_TIMEOUT_MS);

    g_signal_handlers_disconnect_by_data(list, &c);
    g_array_unref(c.changes);
    xs_close(h);
}

typedef struct {
    GPtrArray *notified; /* property names, in order */
} Notes;

static void
on_notify(GObject *object, GParamSpec *pspec, Notes *n)
{
    g_ptr_array_add(n->notified, g_strdup(pspec->name));
}

static void
test_shutdown_then_gone(Fixture *f, gconstpointer data)
{
    struct xs_handle *h = dom_open_xs();
    g_autoptr(XlevDomainList) list = NULL;
    g_autoptr(XlevDomain) d = NULL;
    g_autoptr(GError) error = NULL;
    Notes n = { g_ptr_array_new_with_free_func(g_free) };

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(h, 9);
    list = xlev_domain_list_new(f->ctx, &error);
    g_assert_no_error(error);
    d = xlev_domain_list_lookup(list, 9);
    g_assert_nonnull(d);
    g_signal_connect(d, "notify::state", G_CALLBACK(on_notify), &n);
    g_signal_connect(d, "notify::shutdown-reason", G_CALLBACK(on_notify), &n);

    dom_set(&f->xs, 9, "shutdown 1"); /* SHUTDOWN_reboot */
    WAIT_FOR(f->main_context,
             xlev_domain_get_state(d) == XLEV_DOMAIN_STATE_SHUTDOWN,
             DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpint(xlev_domain_get_shutdown_reason(d), ==,
                    XLEV_SHUTDOWN_REASON_REBOOT);
    /* Reason before state, each once. */
    g_assert_cmpuint(n.notified->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(n.notified, 0), ==, "shutdown-reason");
    g_assert_cmpstr(g_ptr_array_index(n.notified, 1), ==, "state");
    g_assert_true(list_has(G_LIST_MODEL(list), 9)); /* still exists */

    dom_set(&f->xs, 9, "dying");
    WAIT_FOR(f->main_context, !list_has(G_LIST_MODEL(list), 9),
             DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpint(xlev_domain_get_state(d), ==, XLEV_DOMAIN_STATE_GONE);
    g_assert_null(xlev_domain_list_lookup(list, 9));
    g_assert_cmpuint(n.notified->len, ==, 3);

    g_signal_handlers_disconnect_by_data(d, &n);
    g_ptr_array_unref(n.notified);
    xs_close(h);
}

/* Dropping the list while reads and watches are under way: nothing is
 * delivered to it afterwards, and the domains handed out stay usable. */
static void
test_drop_while_loading(Fixture *f, gconstpointer data)
{
    struct xs_handle *h = dom_open_xs();
    g_autoptr(XlevDomain) d = NULL;
    g_autoptr(GError) error = NULL;
    XlevDomainList *list;

    dom_introduce(h, 11);
    list = xlev_domain_list_new(f->ctx, &error);
    g_assert_no_error(error);
    d = xlev_domain_list_lookup(list, 11);
    g_object_unref(list);
    spin_for(f->main_context, xs_fixture_scale_ms(100));
    g_assert_cmpuint(xlev_domain_get_domid(d), ==, 11);
    g_assert_cmpint(xlev_domain_get_state(d), ==, XLEV_DOMAIN_STATE_RUNNING);
    xs_close(h);
}

/* Domains already shut down when the list is made show it at once, with
 * the reason, not "running". */
static void
test_shut_down_when_made(Fixture *f, gconstpointer data)
{
    struct xs_handle *h = dom_open_xs();
    g_autoptr(XlevDomainList) list = NULL;
    g_autoptr(XlevDomain) d12 = NULL, d13 = NULL, d15 = NULL;
    g_autoptr(GError) error = NULL;

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(h, 12);
    dom_introduce(h, 13);
    dom_introduce(h, 15);
    dom_set(&f->xs, 12, "shutdown 2"); /* SHUTDOWN_suspend */
    dom_set(&f->xs, 13, "crashed");
    g_assert_true(xlev_context_has_hypervisor(f->ctx));

    list = xlev_domain_list_new(f->ctx, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_domain_list_get_has_hypervisor(list));
    {
        gboolean prop = FALSE;

        g_object_get(list, "has-hypervisor", &prop, NULL);
        g_assert_true(prop);
    }
    d12 = xlev_domain_list_lookup(list, 12);
    d13 = xlev_domain_list_lookup(list, 13);
    d15 = xlev_domain_list_lookup(list, 15);
    g_assert_nonnull(d12);
    g_assert_nonnull(d13);
    g_assert_nonnull(d15);
    /* Before the main context runs: from the list's own question. */
    g_assert_cmpint(xlev_domain_get_state(d12), ==,
                    XLEV_DOMAIN_STATE_SHUTDOWN);
    g_assert_cmpint(xlev_domain_get_shutdown_reason(d12), ==,
                    XLEV_SHUTDOWN_REASON_SUSPEND);
    g_assert_cmpint(xlev_domain_get_state(d13), ==,
                    XLEV_DOMAIN_STATE_SHUTDOWN);
    g_assert_cmpint(xlev_domain_get_shutdown_reason(d13), ==,
                    XLEV_SHUTDOWN_REASON_CRASH);
    g_assert_cmpint(xlev_domain_get_state(d15), ==, XLEV_DOMAIN_STATE_RUNNING);

    /* The monitor's own report of the same shutdowns changes nothing. */
    spin_for(f->main_context, xs_fixture_scale_ms(DOM_QUIET_MS));
    g_assert_cmpint(xlev_domain_get_state(d12), ==,
                    XLEV_DOMAIN_STATE_SHUTDOWN);
    g_assert_cmpint(xlev_domain_get_shutdown_reason(d12), ==,
                    XLEV_SHUTDOWN_REASON_SUSPEND);
    g_assert_cmpint(xlev_domain_get_state(d15), ==, XLEV_DOMAIN_STATE_RUNNING);

    /* And death still removes them. */
    dom_set(&f->xs, 12, "dying");
    WAIT_FOR(f->main_context, !list_has(G_LIST_MODEL(list), 12),
             DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpint(xlev_domain_get_state(d12), ==, XLEV_DOMAIN_STATE_GONE);
    xs_close(h);
}

/* A domain introduced before its /local/domain directory exists appears
 * when the directory does, once, and later writes there add nothing. */
static void
test_directory_after_introduce(Fixture *f, gconstpointer data)
{
    struct xs_handle *h = dom_open_xs();
    g_autoptr(XlevDomainList) list = NULL;
    g_autoptr(XlevDomain) d = NULL;
    g_autoptr(GError) error = NULL;
    Changes c = { g_array_new(FALSE, FALSE, sizeof(guint)) };

    list = xlev_domain_list_new(f->ctx, &error);
    g_assert_no_error(error);
    g_signal_connect(list, "items-changed", G_CALLBACK(on_items_changed), &c);

    g_assert_true(xs_introduce_domain(h, 18, 0, DOM_GUEST_PORT));
    spin_for(f->main_context, xs_fixture_scale_ms(DOM_QUIET_MS));
    g_assert_false(list_has(G_LIST_MODEL(list), 18));
    g_assert_cmpuint(c.changes->len, ==, 0);

    xs_put(h, "/local/domain/18/name", "late");
    WAIT_FOR(f->main_context, list_has(G_LIST_MODEL(list), 18),
             DOM_EVENT_TIMEOUT_MS);
    d = xlev_domain_list_lookup(list, 18);
    WAIT_FOR(f->main_context,
             g_strcmp0(xlev_domain_get_name(d), "late") == 0,
             DOM_EVENT_TIMEOUT_MS);
    xs_put(h, "/local/domain/18/memory", "1");
    spin_for(f->main_context, xs_fixture_scale_ms(DOM_QUIET_MS));
    g_assert_cmpuint(c.changes->len, ==, 3); /* one insertion */
    g_assert_cmpuint(g_array_index(c.changes, guint, 1), ==, 0);
    g_assert_cmpuint(g_array_index(c.changes, guint, 2), ==, 1);

    g_signal_handlers_disconnect_by_data(list, &c);
    g_array_unref(c.changes);
    xs_close(h);
}

/* Run by test_no_hypervisor in a child without the stand-in: the list
 * says its state comes from xenstore alone, and a domain the hypervisor
 * (as the parent sees it) has shut down shows as running. */
static int
no_hypervisor_child(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) ctx = xlev_context_new(NULL, NULL, &error);
    g_autoptr(XlevDomainList) list = NULL;
    g_autoptr(XlevDomain) d = NULL;

    if (ctx == NULL) {
        g_printerr("no context: %s\n", error->message);
        return 1;
    }
    if (xlev_context_has_hypervisor(ctx)) {
        g_printerr("has_hypervisor without the stand-in\n");
        return 2;
    }
    list = xlev_domain_list_new(ctx, &error);
    if (list == NULL) {
        g_printerr("no list: %s\n", error->message);
        return 3;
    }
    if (xlev_domain_list_get_has_hypervisor(list)) {
        g_printerr("the list claims a hypervisor\n");
        return 4;
    }
    d = xlev_domain_list_lookup(list, 16);
    if (d == NULL || xlev_domain_get_state(d) != XLEV_DOMAIN_STATE_RUNNING) {
        g_printerr("domain 16 missing or not running\n");
        return 5;
    }
    return 0;
}

static void
test_no_hypervisor(Fixture *f, gconstpointer data)
{
    struct xs_handle *h = dom_open_xs();

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(h, 16);
    dom_set(&f->xs, 16, "shutdown 0");
    dom_spawn_no_hypervisor_child();
    xs_close(h);
}

int
main(int argc, char **argv)
{
    dom_test_init(&argc, &argv, no_hypervisor_child);
    XLEV_TEST_ADD_BOTH("/domain-list/present-introduced-renamed",
                       test_present_introduced_renamed);
    XLEV_TEST_ADD_BOTH("/domain-list/shutdown-then-gone",
                       test_shutdown_then_gone);
    XLEV_TEST_ADD_BOTH("/domain-list/drop-while-loading",
                       test_drop_while_loading);
    XLEV_TEST_ADD_BOTH("/domain-list/shut-down-when-made",
                       test_shut_down_when_made);
    XLEV_TEST_ADD_BOTH("/domain-list/directory-after-introduce",
                       test_directory_after_introduce);
    XLEV_TEST_ADD_BOTH("/domain-list/no-hypervisor-xenstore-only",
                       test_no_hypervisor);
    return g_test_run();
}
