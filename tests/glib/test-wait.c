/* test-wait.c: xlev_context_wait_async() and its kin against a real
 * xenstored
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <string.h>

#include "xlev-test-common.h"

typedef struct {
    gboolean done;
    char *value;
    GError *error;
    gboolean ok;
} Result;

static void
result_clear(Result *r)
{
    g_clear_pointer(&r->value, g_free);
    g_clear_error(&r->error);
    r->done = FALSE;
    r->ok = FALSE;
}

static void
wait_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Result *r = data;

    r->value = xlev_context_wait_finish(XLEV_CONTEXT(source), res, &r->error);
    r->done = TRUE;
}

static void
wait_for_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Result *r = data;

    r->value
        = xlev_context_wait_for_finish(XLEV_CONTEXT(source), res, &r->error);
    r->done = TRUE;
}

static void
device_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Result *r = data;

    r->ok = xlev_context_wait_device_state_finish(XLEV_CONTEXT(source), res,
                                                  &r->error);
    r->done = TRUE;
}

static void
write_or_die(Fixture *f, const char *path, const char *value)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(xlev_context_write(f->ctx, path, value, NULL, &error));
    g_assert_no_error(error);
}

/* Lets the wait see the current state (its first read) and a little more:
 * it must still be waiting afterwards. */
static void
settle(Fixture *f, Result *r)
{
    spin_for(f->main_context, 100);
    g_assert_false(r->done);
}

static void
test_already_there(Fixture *f, gconstpointer data)
{
    Result r = { 0 };

    write_or_die(f, "/w/node", "ready");
    xlev_context_wait_async(f->ctx, "/w/node", "ready", 5000, NULL, wait_done,
                            &r);
    /* Never from inside the call. */
    g_assert_false(r.done);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_cmpstr(r.value, ==, "ready");
    result_clear(&r);
}

static void
test_becomes(Fixture *f, gconstpointer data)
{
    Result r = { 0 };

    xlev_context_wait_async(f->ctx, "/w/node", "ready", -1, NULL, wait_done,
                            &r);
    settle(f, &r);
    write_or_die(f, "/w/node", "busy");
    settle(f, &r);
    /* A node created below it fires an event too: still not ready. */
    write_or_die(f, "/w/node/child", "x");
    settle(f, &r);
    write_or_die(f, "/w/node", "ready");
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_cmpstr(r.value, ==, "ready");
    result_clear(&r);
}

/* The node appears implicitly, as the parent of a node written below it:
 * the event names the child, the wait still sees it. */
static void
test_created_as_parent(Fixture *f, gconstpointer data)
{
    Result r = { 0 };

    xlev_context_wait_async(f->ctx, "/w/dir", "", 5000, NULL, wait_done, &r);
    settle(f, &r);
    write_or_die(f, "/w/dir/leaf", "1");
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_cmpstr(r.value, ==, "");
    result_clear(&r);
}

static void
test_absent(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    Result r = { 0 };

    write_or_die(f, "/w/node", "here");
    xlev_context_wait_async(f->ctx, "/w/node", NULL, 5000, NULL, wait_done, &r);
    settle(f, &r);
    g_assert_true(xlev_context_rm(f->ctx, "/w/node", NULL, &error));
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_null(r.value);
    result_clear(&r);
}

static void
test_timeout(Fixture *f, gconstpointer data)
{
    Result r = { 0 };
    gint64 start = g_get_monotonic_time();

    write_or_die(f, "/w/node", "busy");
    xlev_context_wait_async(f->ctx, "/w/node", "ready", 200, NULL, wait_done,
                            &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_TIMED_OUT);
    g_assert_null(r.value);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 200 * 1000);
    result_clear(&r);

    /* A write after the timeout reaches nothing. */
    write_or_die(f, "/w/node", "ready");
    spin_for(f->main_context, 100);
    g_assert_false(r.done);
}

static void
test_zero_timeout(Fixture *f, gconstpointer data)
{
    Result r = { 0 };

    write_or_die(f, "/w/node", "busy");
    xlev_context_wait_async(f->ctx, "/w/node", "ready", 0, NULL, wait_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_TIMED_OUT);
    result_clear(&r);

    xlev_context_wait_async(f->ctx, "/w/node", "busy", 0, NULL, wait_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_cmpstr(r.value, ==, "busy");
    result_clear(&r);
}

static void
cancel_cb(gpointer data)
{
    g_cancellable_cancel(data);
}

static void
test_cancel(Fixture *f, gconstpointer data)
{
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(GCancellable) cancelled = g_cancellable_new();
    Result r = { 0 };

    xlev_context_wait_async(f->ctx, "/w/node", "ready", -1, cancellable,
                            wait_done, &r);
    settle(f, &r);
    g_idle_add_once(cancel_cb, cancellable);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    result_clear(&r);

    /* Cancelled before it starts. */
    g_cancellable_cancel(cancelled);
    xlev_context_wait_async(f->ctx, "/w/node", "ready", -1, cancelled,
                            wait_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    result_clear(&r);

    /* Cancelled from another thread while waiting. */
    g_cancellable_reset(cancellable);
    xlev_context_wait_async(f->ctx, "/w/node", "ready", -1, cancellable,
                            wait_done, &r);
    settle(f, &r);
    g_thread_join(g_thread_new(
        "canceller", (GThreadFunc)(void (*)(void))g_cancellable_cancel,
        cancellable));
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    result_clear(&r);

    /* Writing the value afterwards completes nothing twice. */
    write_or_die(f, "/w/node", "ready");
    spin_for(f->main_context, 100);
    g_assert_false(r.done);
}

static void
test_bad_path(Fixture *f, gconstpointer data)
{
    const char *bad[] = { "relative/path", "", "/w//double", "/w/bad char",
                          "@introduceDomain" };
    Result r = { 0 };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        xlev_context_wait_async(f->ctx, bad[i], "x", 1000, NULL, wait_done, &r);
        WAIT_FOR(f->main_context, r.done, 5000);
        g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        result_clear(&r);
    }
    xlev_context_wait_async(f->ctx, NULL, "x", 1000, NULL, wait_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    result_clear(&r);
}

typedef struct {
    guint calls;
    guint destroyed;
    guint at_least;
} PredicateData;

static gboolean
at_least(const char *path, const char *value, gpointer data)
{
    PredicateData *p = data;

    p->calls++;
    g_assert_cmpstr(path, ==, "/w/count");
    return value != NULL && g_ascii_strtoull(value, NULL, 10) >= p->at_least;
}

static void
predicate_destroy(gpointer data)
{
    ((PredicateData *)data)->destroyed++;
}

static void
test_predicate(Fixture *f, gconstpointer data)
{
    PredicateData p = { 0, 0, 3 };
    Result r = { 0 };

    xlev_context_wait_for_async(f->ctx, "/w/count", at_least, &p,
                                predicate_destroy, 5000, NULL, wait_for_done,
                                &r);
    settle(f, &r);
    /* Checked at the start, on the absent node. */
    g_assert_cmpuint(p.calls, >=, 1);
    write_or_die(f, "/w/count", "1");
    settle(f, &r);
    write_or_die(f, "/w/count", "7");
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_cmpstr(r.value, ==, "7");
    result_clear(&r);
    /* The data is released once the wait is over. */
    WAIT_FOR(f->main_context, p.destroyed == 1, 5000);

    /* On a failure too. */
    p = (PredicateData){ 0, 0, 3 };
    xlev_context_wait_for_async(f->ctx, "/w/bad//path", at_least, &p,
                                predicate_destroy, 5000, NULL, wait_for_done,
                                &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    result_clear(&r);
    WAIT_FOR(f->main_context, p.destroyed == 1, 5000);
    g_assert_cmpuint(p.calls, ==, 0);
}

static gboolean
closure_is_y(const char *path, const char *value, gpointer data)
{
    g_assert_cmpstr(path, ==, "/w/c");
    (*(guint *)data)++;
    return g_strcmp0(value, "y") == 0;
}

static void
closure_gone(gpointer data, GClosure *closure)
{
    (*(guint *)data) += 100;
}

/* What bindings call wait_for_async: a GClosure, invoked with the path
 * and value, unreferenced when the wait is over. */
static void
test_closure(Fixture *f, gconstpointer data)
{
    guint calls = 0;
    GClosure *closure = g_cclosure_new(G_CALLBACK(closure_is_y), &calls, NULL);
    Result r = { 0 };

    g_closure_add_finalize_notifier(closure, &calls, closure_gone);
    xlev_context_wait_for_closure_async(f->ctx, "/w/c", closure, 5000, NULL,
                                        wait_for_done, &r);
    settle(f, &r);
    write_or_die(f, "/w/c", "n");
    settle(f, &r);
    write_or_die(f, "/w/c", "y");
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_cmpstr(r.value, ==, "y");
    result_clear(&r);
    WAIT_FOR(f->main_context, calls >= 100, 5000);
    g_assert_cmpuint(calls, ==, 103);
}

#define BACKEND "/local/domain/0/backend/vbd/5/51712"

static void
test_device_state(Fixture *f, gconstpointer data)
{
    Result r = { 0 };

    write_or_die(f, BACKEND "/state", "1");
    xlev_context_wait_device_state_async(f->ctx, BACKEND,
                                         XLEV_XENBUS_STATE_CONNECTED, 5000,
                                         NULL, device_done, &r);
    settle(f, &r);
    write_or_die(f, BACKEND "/state", "2");
    settle(f, &r);
    /* Not a number: not a state, waited past. */
    write_or_die(f, BACKEND "/state", "4x");
    settle(f, &r);
    write_or_die(f, BACKEND "/state", "4");
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_true(r.ok);
    result_clear(&r);

    /* Already there. */
    xlev_context_wait_device_state_async(f->ctx, BACKEND,
                                         XLEV_XENBUS_STATE_CONNECTED, 5000,
                                         NULL, device_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_true(r.ok);
    result_clear(&r);

    /* A directory path with a trailing slash is no xenstore path. */
    xlev_context_wait_device_state_async(f->ctx, BACKEND "/",
                                         XLEV_XENBUS_STATE_CONNECTED, 5000,
                                         NULL, device_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    result_clear(&r);

    xlev_context_wait_device_state_async(
        f->ctx, BACKEND, XLEV_XENBUS_STATE_CLOSED, 150, NULL, device_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_TIMED_OUT);
    g_assert_false(r.ok);
    result_clear(&r);

    xlev_context_wait_device_state_async(f->ctx, BACKEND, (XlevXenbusState)99,
                                         5000, NULL, device_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    result_clear(&r);

    xlev_context_wait_device_state_async(f->ctx, "backend/vbd",
                                         XLEV_XENBUS_STATE_CONNECTED, 5000,
                                         NULL, device_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    result_clear(&r);
}

/* Many waits at once, most ended early: the context is still finalized
 * at teardown (fixture_teardown asserts it), so no wait kept it. */
static void
test_many(Fixture *f, gconstpointer data)
{
    enum { N = 50 };
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    Result r[N] = { 0 };
    guint done;

    for (guint i = 0; i < N; i++) {
        g_autofree char *path = g_strdup_printf("/w/many/%u", i);

        /* Every third is written (no timeout, nothing to cancel it);
         * the others time out or are cancelled. */
        xlev_context_wait_async(f->ctx, path, "go", i % 3 && i % 2 ? 100 : -1,
                                i % 3 ? cancellable : NULL, wait_done, &r[i]);
    }
    for (guint i = 0; i < N; i += 3) {
        g_autofree char *path = g_strdup_printf("/w/many/%u", i);

        write_or_die(f, path, "go");
    }
    g_cancellable_cancel(cancellable);
    do {
        g_main_context_iteration(f->main_context, TRUE);
        done = 0;
        for (guint i = 0; i < N; i++)
            done += r[i].done;
    } while (done < N);
    for (guint i = 0; i < N; i++) {
        if (i % 3 == 0)
            g_assert_no_error(r[i].error);
        else
            g_assert_nonnull(r[i].error);
        result_clear(&r[i]);
    }
}

/* The daemon dies during a wait with no timeout: the context's disaster
 * ends it, with the reason, rather than leaving it waiting for ever. */
static void
test_daemon_lost(Fixture *f, gconstpointer data)
{
    Result r = { 0 };

    xlev_context_wait_async(f->ctx, "/w/node", "ready", -1, NULL, wait_done,
                            &r);
    settle(f, &r);
    xs_fixture_stop(&f->xs);
    WAIT_FOR(f->main_context, r.done, 10000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
    g_assert_nonnull(strstr(r.error->message, "/w/node"));
    result_clear(&r);
}

static void
test_not_initialized(void)
{
    g_autoptr(XlevContext) ctx = g_object_new(XLEV_TYPE_CONTEXT, NULL);
    g_autoptr(GMainContext) mc = g_main_context_ref_thread_default();
    Result r = { 0 };

    xlev_context_wait_async(ctx, "/w/node", "x", 100, NULL, wait_done, &r);
    WAIT_FOR(mc, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_NOT_INITIALIZED);
    result_clear(&r);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    XLEV_TEST_ADD_BOTH("/wait/already-there", test_already_there);
    XLEV_TEST_ADD_BOTH("/wait/becomes-expected", test_becomes);
    XLEV_TEST_ADD_BOTH("/wait/created-as-parent", test_created_as_parent);
    XLEV_TEST_ADD_BOTH("/wait/until-absent", test_absent);
    XLEV_TEST_ADD_BOTH("/wait/times-out", test_timeout);
    XLEV_TEST_ADD_BOTH("/wait/zero-timeout-checks-once", test_zero_timeout);
    XLEV_TEST_ADD_BOTH("/wait/cancelled", test_cancel);
    XLEV_TEST_ADD_BOTH("/wait/malformed-path", test_bad_path);
    XLEV_TEST_ADD_BOTH("/wait/predicate", test_predicate);
    XLEV_TEST_ADD_BOTH("/wait/closure", test_closure);
    XLEV_TEST_ADD_BOTH("/wait/device-state", test_device_state);
    XLEV_TEST_ADD_BOTH("/wait/many-ended-early", test_many);
    XLEV_TEST_ADD_BOTH("/wait/daemon-lost", test_daemon_lost);
    g_test_add_func("/xlev/wait/context-not-initialized", test_not_initialized);

    return g_test_run();
}
