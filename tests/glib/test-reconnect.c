/* test-reconnect.c: XlevContext:reconnect across a daemon restart
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The fixture's xenstored is killed with SIGKILL and started again at the
 * same socket path, with watches, a domain monitor, pending asynchronous
 * operations, an open transaction and a live XlevTimeout. What the
 * application is told, in its main context, under both integrations:
 * XlevContext:connected goes FALSE then TRUE (one notify each), then
 * ::reconnected once, then each live watch emits ::changed once for its
 * own path, then real events again; a cancelled watch nothing; pending
 * operations fail once with the connection-lost error; the transaction's
 * later operations fail; the timeout keeps firing during the outage; the
 * monitor reports a domain that died during the outage once; never a
 * ::disaster. With the default policy the single disaster stays.
 */
#include <signal.h>
#include <string.h>
#include <sys/types.h>

#include "xlev-test-common.h"

#define DEADLINE_MS 5000
#define TICK_MS 20
#define OUTAGE_MS 300

typedef struct {
    Fixture *f;
    GPtrArray *log; /* what happened, in order: "connected=0", ... */
    guint n_notify;
    guint n_reconnected;
    guint n_disasters;
    guint ticks;
    guint died;
    guint died_domid;
    guint a, b, gone;
    guint a_own, b_own;
    GError *async_error;
    guint async_calls;
} Story;

static void
note(Story *s, const char *what, const char *arg)
{
    g_ptr_array_add(s->log, g_strconcat(what, arg, NULL));
}

static void
on_connected(GObject *obj, GParamSpec *pspec, Story *s)
{
    s->n_notify++;
    note(s, "connected=",
         xlev_context_get_connected(XLEV_CONTEXT(obj)) ? "1" : "0");
}

static void
on_reconnected(XlevContext *ctx, Story *s)
{
    s->n_reconnected++;
    note(s, "reconnected", "");
    /* Connected already: a handler may use the context at once. */
    g_assert_true(xlev_context_get_connected(ctx));
}

static void
on_disaster(XlevContext *ctx, XlevDisaster kind, const char *msg, Story *s)
{
    g_test_message("disaster: %s", msg);
    s->n_disasters++;
}

static void
on_changed(XlevWatch *w, const char *path, Story *s)
{
    const char *wpath = xlev_watch_get_path(w);

    note(s, "changed ", path);
    if (g_str_equal(wpath, "/rc/a")) {
        s->a++;
        s->a_own += g_str_equal(path, wpath);
    } else if (g_str_equal(wpath, "/rc/b")) {
        s->b++;
        s->b_own += g_str_equal(path, wpath);
    } else {
        s->gone++;
    }
}

static void
on_fired(XlevTimeout *t, Story *s)
{
    g_autoptr(GError) error = NULL;

    s->ticks++;
    g_assert_true(xlev_timeout_reschedule(t, TICK_MS, &error));
    g_assert_no_error(error);
}

static void
on_died(XlevDomainMonitor *m, guint domid, Story *s)
{
    s->died++;
    s->died_domid = domid;
}

static void
on_read_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Story *s = data;
    char *v = xlev_context_read_finish(XLEV_CONTEXT(src), res, &s->async_error);

    g_assert_null(v);
    s->async_calls++;
}

static XlevWatch *
watch_settled(Story *s, const char *path)
{
    g_autoptr(GError) error = NULL;
    XlevWatch *w
        = xlev_context_watch(s->f->ctx, path, XLEV_WATCH_FLAGS_NONE, &error);

    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed), s);
    return w;
}

static gssize
log_index(Story *s, const char *entry)
{
    for (guint i = 0; i < s->log->len; i++)
        if (g_str_equal(g_ptr_array_index(s->log, i), entry))
            return i;
    return -1;
}

static void
kill_daemon(Fixture *f)
{
    g_assert_cmpint(kill(f->xs.pid, SIGKILL), ==, 0);
    while (xs_fixture_daemon_alive(&f->xs))
        g_usleep(1000);
}

static void
test_automatic(Fixture *f, gconstpointer data)
{
    Story s = { 0 };
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevWatch) a = NULL, b = NULL, gone = NULL, late = NULL;
    g_autoptr(XlevTimeout) tick = NULL;
    g_autoptr(XlevTransaction) tx = NULL;
    g_autoptr(XlevDomainMonitor) mon = NULL;
    g_autofree char *value = NULL;
    guint ticks_at_loss;
    gssize i_true, i_rec, i_a, i_b;

    s.f = f;
    s.log = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(xlev_context_get_connected(f->ctx));
    g_assert_cmpint(xlev_context_get_reconnect(f->ctx), ==,
                    XLEV_RECONNECT_POLICY_NEVER);
    g_object_set(f->ctx, "reconnect", XLEV_RECONNECT_POLICY_AUTOMATIC, NULL);
    g_assert_cmpint(xlev_context_get_reconnect(f->ctx), ==,
                    XLEV_RECONNECT_POLICY_AUTOMATIC);
    g_signal_connect(f->ctx, "notify::connected", G_CALLBACK(on_connected), &s);
    g_signal_connect(f->ctx, "reconnected", G_CALLBACK(on_reconnected), &s);
    g_signal_connect(f->ctx, "disaster", G_CALLBACK(on_disaster), &s);

    g_assert_true(xlev_context_write(f->ctx, "/rc/a", "1", NULL, &error));
    g_assert_no_error(error);
    a = watch_settled(&s, "/rc/a");
    b = watch_settled(&s, "/rc/b");
    gone = watch_settled(&s, "/rc/gone");
    WAIT_FOR(f->main_context, s.a == 1 && s.b == 1 && s.gone == 1, DEADLINE_MS);
    s.a = s.b = s.gone = s.a_own = s.b_own = 0;
    g_ptr_array_set_size(s.log, 0);

    tx = xlev_context_transaction_start(f->ctx, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_write(tx, "/rc/t", "1", NULL, &error));
    g_assert_no_error(error);

    tick = xlev_context_timeout(f->ctx, TICK_MS, &error);
    g_assert_no_error(error);
    g_signal_connect(tick, "fired", G_CALLBACK(on_fired), &s);

    if (xs_fixture_hypervisor_preloaded()) {
        mon = xlev_context_monitor_domain(f->ctx, 5, &error);
        g_assert_no_error(error);
        g_signal_connect(mon, "died", G_CALLBACK(on_died), &s);
    }

    /* An operation in flight at the loss: sent to a stopped daemon. */
    g_assert_cmpint(kill(f->xs.pid, SIGSTOP), ==, 0);
    xlev_context_read_async(f->ctx, "/rc/a", NULL, on_read_done, &s);
    kill_daemon(f);

    WAIT_FOR(f->main_context, s.n_notify == 1, DEADLINE_MS);
    g_assert_false(xlev_context_get_connected(f->ctx));
    WAIT_FOR(f->main_context, s.async_calls == 1, DEADLINE_MS);
    g_assert_error(s.async_error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
    g_assert_nonnull(strstr(s.async_error->message, "connection was lost"));

    /* While disconnected: everything fails at once, clearly. */
    g_assert_null(xlev_context_read(f->ctx, "/rc/a", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
    g_assert_nonnull(strstr(error->message, "not connected"));
    g_clear_error(&error);
    late
        = xlev_context_watch(f->ctx, "/rc/late", XLEV_WATCH_FLAGS_NONE, &error);
    g_assert_null(late);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
    g_clear_error(&error);

    /* The outage: the timeout keeps firing; a watch is cancelled. */
    xlev_watch_cancel(gone);
    ticks_at_loss = s.ticks;
    spin_for(f->main_context, OUTAGE_MS);
    g_assert_cmpuint(s.ticks - ticks_at_loss, >=, 3);
    g_assert_cmpuint(s.n_notify, ==, 1);

    {
        g_autoptr(GError) restart_error = NULL;

        g_assert_true(xs_fixture_restart(&f->xs, &restart_error));
        g_assert_no_error(restart_error);
    }
    /* Domain 5 dies before this context is back (its loop has not run). */
    if (mon != NULL) {
        g_assert_true(xs_fixture_set_domain(&f->xs, 5, "gone", &error));
        g_assert_no_error(error);
    }

    WAIT_FOR(f->main_context, s.n_reconnected == 1 && s.a == 1 && s.b == 1,
             DEADLINE_MS);
    spin_for(f->main_context, 100);
    g_assert_true(xlev_context_get_connected(f->ctx));
    g_assert_cmpuint(s.n_notify, ==, 2);
    g_assert_cmpuint(s.n_reconnected, ==, 1);
    g_assert_cmpuint(s.a, ==, 1);
    g_assert_cmpuint(s.a_own, ==, 1);
    g_assert_cmpuint(s.b, ==, 1);
    g_assert_cmpuint(s.b_own, ==, 1);
    g_assert_cmpuint(s.gone, ==, 0);
    /* The order the application sees. */
    g_assert_cmpint(log_index(&s, "connected=0"), ==, 0);
    i_true = log_index(&s, "connected=1");
    i_rec = log_index(&s, "reconnected");
    i_a = log_index(&s, "changed /rc/a");
    i_b = log_index(&s, "changed /rc/b");
    g_assert_cmpint(i_true, >, 0);
    g_assert_cmpint(i_rec, ==, i_true + 1);
    g_assert_cmpint(i_a, >, i_rec);
    g_assert_cmpint(i_b, >, i_rec);

    if (mon != NULL) {
        WAIT_FOR(f->main_context, s.died == 1, DEADLINE_MS);
        g_assert_cmpuint(s.died_domid, ==, 5);
    }

    /* Real events again. */
    g_assert_true(xlev_context_write(f->ctx, "/rc/a/x", "2", NULL, &error));
    g_assert_no_error(error);
    WAIT_FOR(f->main_context, s.a == 2, DEADLINE_MS);
    g_assert_cmpstr(g_ptr_array_index(s.log, s.log->len - 1), ==,
                    "changed /rc/a/x");

    /* The transaction of the lost connection stays dead. */
    g_assert_false(xlev_transaction_write(tx, "/rc/t", "2", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
    g_clear_error(&error);
    g_assert_false(xlev_transaction_commit(tx, NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
    g_clear_error(&error);
    value = xlev_context_read(f->ctx, "/rc/t", NULL, &error);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_error(&error);

    spin_for(f->main_context, 100);
    g_assert_cmpuint(s.n_disasters, ==, 0);
    g_assert_cmpuint(s.async_calls, ==, 1);
    if (mon != NULL)
        g_assert_cmpuint(s.died, ==, 1);

    xlev_timeout_cancel(tick);
    g_clear_error(&s.async_error);
    g_ptr_array_unref(s.log);
}

/* The default policy keeps the old single disaster, and says
 * connected FALSE once. */
static void
test_never(Fixture *f, gconstpointer data)
{
    Story s = { 0 };
    g_autoptr(XlevWatch) a = NULL;
    g_autoptr(GError) error = NULL;

    s.f = f;
    s.log = g_ptr_array_new_with_free_func(g_free);
    g_signal_connect(f->ctx, "notify::connected", G_CALLBACK(on_connected), &s);
    g_signal_connect(f->ctx, "reconnected", G_CALLBACK(on_reconnected), &s);
    g_signal_connect(f->ctx, "disaster", G_CALLBACK(on_disaster), &s);
    a = watch_settled(&s, "/rc/a");
    WAIT_FOR(f->main_context, s.a == 1, DEADLINE_MS);
    s.a = 0;
    kill_daemon(f);
    g_assert_true(xs_fixture_restart(&f->xs, &error));
    g_assert_no_error(error);
    WAIT_FOR(f->main_context, s.n_disasters == 1 && s.n_notify == 1,
             DEADLINE_MS);
    spin_for(f->main_context, OUTAGE_MS);
    g_assert_cmpuint(s.n_disasters, ==, 1);
    g_assert_cmpuint(s.n_notify, ==, 1);
    g_assert_cmpuint(s.n_reconnected, ==, 0);
    g_assert_cmpuint(s.a, ==, 0);
    g_assert_false(xlev_context_get_connected(f->ctx));
    g_ptr_array_unref(s.log);
}

/* A context dropped while it is reconnecting goes quietly: no disaster,
 * nothing left behind (ASan, valgrind), no attempt after it is gone. */
static void
test_dropped_while_reconnecting(Fixture *f, gconstpointer data)
{
    Story s = { 0 };
    g_autoptr(XlevWatch) a = NULL;
    GWeakRef ref;

    s.f = f;
    s.log = g_ptr_array_new_with_free_func(g_free);
    xlev_context_set_reconnect(f->ctx, XLEV_RECONNECT_POLICY_AUTOMATIC);
    g_signal_connect(f->ctx, "notify::connected", G_CALLBACK(on_connected), &s);
    g_signal_connect(f->ctx, "disaster", G_CALLBACK(on_disaster), &s);
    a = watch_settled(&s, "/rc/a");
    WAIT_FOR(f->main_context, s.a == 1, DEADLINE_MS);
    kill_daemon(f);
    WAIT_FOR(f->main_context, s.n_notify == 1, DEADLINE_MS);
    spin_for(f->main_context, 120); /* an attempt or two fail */

    g_weak_ref_init(&ref, f->ctx);
    g_clear_object(&a);
    g_clear_object(&f->ctx);
    spin_for(f->main_context, 120);
    g_assert_null(g_weak_ref_get(&ref));
    g_weak_ref_clear(&ref);
    g_assert_cmpuint(s.n_disasters, ==, 0);
    g_assert_cmpuint(s.n_notify, ==, 1);
    g_ptr_array_unref(s.log);
}

/* Properties: defaults, notify on change only, type registered. */
static void
test_properties(Fixture *f, gconstpointer data)
{
    XlevReconnect policy = -1;
    gboolean connected = FALSE;
    guint notified = 0;
    gulong id;

    g_assert_true(G_TYPE_IS_ENUM(XLEV_TYPE_RECONNECT));
    g_object_get(f->ctx, "reconnect", &policy, "connected", &connected, NULL);
    g_assert_cmpint(policy, ==, XLEV_RECONNECT_POLICY_NEVER);
    g_assert_true(connected);
    id = g_signal_connect_swapped(f->ctx, "notify::reconnect",
                                  G_CALLBACK(g_atomic_int_inc), &notified);
    xlev_context_set_reconnect(f->ctx, XLEV_RECONNECT_POLICY_AUTOMATIC);
    xlev_context_set_reconnect(f->ctx, XLEV_RECONNECT_POLICY_AUTOMATIC);
    xlev_context_set_reconnect(f->ctx, XLEV_RECONNECT_POLICY_NEVER);
    g_assert_cmpuint(notified, ==, 2);
    g_signal_handler_disconnect(f->ctx, id);
}

int
main(int argc, char **argv)
{
    xs_fixture_reexec_with_hypervisor(argv);
    g_test_init(&argc, &argv, NULL);
    XLEV_TEST_ADD_BOTH("/reconnect/automatic", test_automatic);
    XLEV_TEST_ADD_BOTH("/reconnect/never", test_never);
    XLEV_TEST_ADD_BOTH("/reconnect/properties", test_properties);
    XLEV_TEST_ADD_BOTH("/reconnect/dropped-while-reconnecting",
                       test_dropped_while_reconnecting);
    return g_test_run();
}
