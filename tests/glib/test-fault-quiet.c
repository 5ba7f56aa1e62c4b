/* test-fault-quiet.c: the library prints nothing itself when xenstored is
 * SIGKILLed with everything live at once — watches, domain monitors, a
 * timeout and asynchronous operations in flight — and tells the
 * application instead; both integrations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Each case runs in a subprocess (g_test_trap_subprocess()) whose stderr
 * the parent captures whole and requires empty. The child runs with the
 * default log writer and no G_MESSAGES_DEBUG: anything the library logs
 * at message level or above would reach stderr, and the library's
 * diagnostics at debug level must not. What the application is told, and
 * checked in the child:
 *   - exactly one ::disaster (kind XENSTORE) for the lost connection;
 *   - every asynchronous operation in flight completes exactly once,
 *     with a GError in XLEV_ERROR's domain;
 *   - a later synchronous read fails with a GError, at once;
 *   - the XlevTimeout made before still fires, on time: the main loop
 *     keeps running;
 *   - nothing is emitted by a watch after it is cancelled.
 */
#include "xlev-test-common.h"

#include <signal.h>

/* Operations started while the daemon is stopped, so still in flight when
 * it is killed. */
#define N_ASYNC 6
#define TIMEOUT_MS 300

typedef struct {
    guint completed;
    guint failed_in_domain;
} Ops;

static void
op_done(GObject *source, GAsyncResult *result, gpointer data)
{
    Ops *ops = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;

    if (g_task_get_source_tag(G_TASK(result))
        == (gpointer)xlev_context_read_async) {
        value = xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);
    } else {
        xlev_context_write_finish(XLEV_CONTEXT(source), result, &error);
    }
    ops->completed++;
    if (error != NULL && error->domain == XLEV_ERROR)
        ops->failed_in_domain++;
}

static void
on_disaster(XlevContext *ctx, XlevDisaster kind, const char *message,
            gpointer data)
{
    guint *count = data;

    g_assert_cmpint(kind, ==, XLEV_DISASTER_KIND_XENSTORE);
    g_assert_nonnull(message);
    (*count)++;
}

static void
on_timeout_fired(XlevTimeout *timeout, gpointer data)
{
    *(gint64 *)data = g_get_monotonic_time();
}

static void
on_changed_after_cancel(XlevWatch *watch, const char *path, gpointer data)
{
    g_assert_true(xlev_watch_get_active(watch));
}

static void
fault_child(XlevIntegration integration)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainContext) mc = g_main_context_ref_thread_default();
    g_autoptr(XlevContext) ctx = NULL;
    g_autoptr(XlevWatch) watch = NULL;
    g_autoptr(XlevWatch) limited = NULL;
    g_autoptr(XlevDomainMonitor) all = NULL;
    g_autoptr(XlevDomainMonitor) dom0 = NULL;
    g_autoptr(XlevTimeout) timeout = NULL;
    XsFixture xs = { 0 };
    Ops ops = { 0 };
    guint disasters = 0;
    gint64 armed, fired = 0;

    xs_fixture_setup(&xs, NULL);
    ctx = xlev_context_new_full(NULL, integration, NULL, NULL, &error);
    g_assert_no_error(error);
    g_signal_connect(ctx, "disaster", G_CALLBACK(on_disaster), &disasters);

    watch = xlev_context_watch(ctx, "/q", XLEV_WATCH_FLAGS_NONE, &error);
    g_assert_no_error(error);
    limited = xlev_context_watch(ctx, "/q/l", XLEV_WATCH_FLAGS_NONE, &error);
    g_assert_no_error(error);
    xlev_watch_set_rate_limit(limited, 100);
    g_signal_connect(limited, "changed", G_CALLBACK(on_changed_after_cancel),
                     NULL);
    all = xlev_context_monitor_all_domains(ctx, &error);
    g_assert_no_error(error);
    if (xs_fixture_hypervisor_preloaded()) {
        dom0 = xlev_context_monitor_domain(ctx, 0, &error);
        g_assert_no_error(error);
    }
    g_assert_true(xlev_context_write(ctx, "/q/l/x", "1", NULL, &error));
    g_assert_no_error(error);
    spin_for(mc, 50);

    /* Operations in flight: the daemon does not answer them yet. */
    g_assert_cmpint(kill(xs.pid, SIGSTOP), ==, 0);
    for (guint i = 0; i < N_ASYNC; i++) {
        if (i % 2)
            xlev_context_read_async(ctx, "/q/l/x", NULL, op_done, &ops);
        else
            xlev_context_write_async(ctx, "/q/l/y", "2", NULL, op_done, &ops);
    }
    timeout = xlev_context_timeout(ctx, TIMEOUT_MS, &error);
    g_assert_no_error(error);
    g_signal_connect(timeout, "fired", G_CALLBACK(on_timeout_fired), &fired);
    armed = g_get_monotonic_time();
    spin_for(mc, 20);

    /* SIGKILL works on a stopped process; the fixture reaps it. */
    xs_fixture_stop(&xs);

    WAIT_FOR(mc, disasters > 0 && ops.completed == N_ASYNC, 10000);
    WAIT_FOR(mc, fired != 0, 5000);
    spin_for(mc, 200); /* anything louder would come now */
    g_assert_cmpuint(disasters, ==, 1);
    g_assert_cmpuint(ops.completed, ==, N_ASYNC);
    g_assert_cmpuint(ops.failed_in_domain, ==, N_ASYNC);
    g_assert_cmpint(fired - armed, >=, (gint64)TIMEOUT_MS * 1000);

    g_assert_null(xlev_context_read(ctx, "/q/l/x", NULL, &error));
    g_assert_nonnull(error);
    g_assert_true(error->domain == XLEV_ERROR);
    g_clear_error(&error);

    xlev_watch_cancel(limited);
    xlev_watch_cancel(watch);
    xlev_domain_monitor_cancel(all);
    if (dom0 != NULL)
        xlev_domain_monitor_cancel(dom0);
    spin_for(mc, 150); /* past the rate limit's window */
    g_clear_object(&timeout);
    g_clear_object(&limited);
    g_clear_object(&watch);
    g_clear_object(&all);
    g_clear_object(&dom0);
    g_clear_object(&ctx);
    while (g_main_context_iteration(mc, FALSE))
        ;
    xs_fixture_teardown(&xs, NULL);
}

static void
test_sigkill_everything_live(gconstpointer data)
{
    XlevIntegration integration = (XlevIntegration)GPOINTER_TO_INT(data);

    if (g_test_subprocess()) {
        fault_child(integration);
        return;
    }
    /* The default writer, and no debug messages let through. */
    g_unsetenv("G_MESSAGES_DEBUG");
    g_test_trap_subprocess(NULL, xs_fixture_scale_ms(60000) * 1000ULL,
                           G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_data_func("/xlev/source/fault/sigkill-everything-live-quiet",
                         GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE),
                         test_sigkill_everything_live);
    g_test_add_data_func("/xlev/hooks/fault/sigkill-everything-live-quiet",
                         GINT_TO_POINTER(XLEV_INTEGRATION_HOOKS),
                         test_sigkill_everything_live);
    return g_test_run();
}
