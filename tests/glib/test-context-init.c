/* test-context-init.c: XlevContext's GInitable and GAsyncInitable
 * construction, and a context used without either
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-test-common.h"

typedef struct {
    gboolean done;
    XlevContext *ctx;
    GError *error;
} NewResult;

static void
new_done(GObject *source, GAsyncResult *res, gpointer data)
{
    NewResult *r = data;

    r->ctx = xlev_context_new_finish(res, &r->error);
    r->done = TRUE;
}

static void
test_new_async(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;
    NewResult r = { 0 };

    xlev_context_new_async(NULL, f->integration, NULL, G_PRIORITY_DEFAULT, NULL,
                           new_done, &r);
    g_assert_false(r.done);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_true(XLEV_IS_CONTEXT(r.ctx));
    g_assert_cmpstr(xlev_context_get_xenstore_path(r.ctx), ==,
                    f->xs.socket_path);
    g_assert_cmpint(xlev_context_get_integration(r.ctx), ==, f->integration);
    g_assert_true(xlev_context_get_main_context(r.ctx) == f->main_context);

    f->ctx = r.ctx;
    g_assert_true(xlev_context_write(f->ctx, "/init/a", "1", NULL, &error));
    value = xlev_context_read(f->ctx, "/init/a", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "1");
}

static void
test_new_async_fails(Fixture *f, gconstpointer data)
{
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    NewResult r = { 0 };

    /* A socket path that does not exist: the daemon cannot be reached. */
    xlev_context_new_async("/nonexistent/socket", f->integration, NULL,
                           G_PRIORITY_DEFAULT, NULL, new_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
    g_assert_null(r.ctx);
    g_clear_error(&r.error);

    r.done = FALSE;
    g_cancellable_cancel(cancellable);
    xlev_context_new_async(NULL, f->integration, NULL, G_PRIORITY_DEFAULT,
                           cancellable, new_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_null(r.ctx);
    g_clear_error(&r.error);
}

static void
init_done(GObject *source, GAsyncResult *res, gpointer data)
{
    NewResult *r = data;

    g_assert_true(
        g_async_initable_init_finish(G_ASYNC_INITABLE(source), res, &r->error));
    r->done = TRUE;
}

static void
test_not_initialized(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    NewResult r = { 0 };
    g_autoptr(XlevTimeout) timeout = NULL;
    g_autoptr(XlevDomainMonitor) monitor = NULL;
    g_autoptr(XlevDomainList) list = NULL;
    g_autofree char *value = NULL;

    f->ctx
        = g_object_new(XLEV_TYPE_CONTEXT, "integration", f->integration, NULL);

    timeout = xlev_context_timeout(f->ctx, 10, &error);
    g_assert_null(timeout);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOT_INITIALIZED);
    /* The message says what to do, not "Invalid argument". */
    g_assert_nonnull(strstr(error->message, "init"));
    g_clear_error(&error);

    monitor = xlev_context_monitor_all_domains(f->ctx, &error);
    g_assert_null(monitor);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOT_INITIALIZED);
    g_clear_error(&error);

    list = xlev_domain_list_new(f->ctx, &error);
    g_assert_null(list);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOT_INITIALIZED);
    g_clear_error(&error);

    {
        g_autoptr(XlevWatch) watch =
            xlev_context_watch(f->ctx, "/init", XLEV_WATCH_FLAGS_NONE, &error);
        g_autofree char *nothing = NULL;

        g_assert_null(watch);
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOT_INITIALIZED);
        g_clear_error(&error);
        nothing = xlev_context_read(f->ctx, "/init", NULL, &error);
        g_assert_null(nothing);
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOT_INITIALIZED);
        g_clear_error(&error);
        g_assert_false(xlev_context_write(f->ctx, "/init/a", "1", NULL, &error));
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOT_INITIALIZED);
        g_clear_error(&error);
    }

    /* Initialised late, asynchronously: now it works. */
    g_async_initable_init_async(G_ASYNC_INITABLE(f->ctx), G_PRIORITY_DEFAULT,
                                NULL, init_done, &r);
    WAIT_FOR(f->main_context, r.done, 5000);
    g_assert_no_error(r.error);
    g_assert_true(xlev_context_write(f->ctx, "/init/b", "2", NULL, &error));
    g_assert_no_error(error);
    value = xlev_context_read(f->ctx, "/init/b", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "2");
    timeout = xlev_context_timeout(f->ctx, 10, &error);
    g_assert_no_error(error);
    g_assert_nonnull(timeout);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add("/xlev/source/context/new-async", Fixture,
               GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE),
               fixture_setup_no_context, test_new_async, fixture_teardown);
    g_test_add("/xlev/hooks/context/new-async", Fixture,
               GINT_TO_POINTER(XLEV_INTEGRATION_HOOKS),
               fixture_setup_no_context, test_new_async, fixture_teardown);
    g_test_add("/xlev/source/context/new-async-fails", Fixture,
               GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE),
               fixture_setup_no_context, test_new_async_fails,
               fixture_teardown);
    g_test_add("/xlev/source/context/not-initialized", Fixture,
               GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE),
               fixture_setup_no_context, test_not_initialized,
               fixture_teardown);
    g_test_add("/xlev/hooks/context/not-initialized", Fixture,
               GINT_TO_POINTER(XLEV_INTEGRATION_HOOKS),
               fixture_setup_no_context, test_not_initialized,
               fixture_teardown);

    return g_test_run();
}
