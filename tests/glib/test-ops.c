/* test-ops.c: plain xenstore operations, blocking and async, and the
 * context's construction
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-test-common.h"
#include "xlev-error-private.h"
#include "xs-bad-peer.h"
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>

static void
test_sync_ops(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;
    g_auto(GStrv) names = NULL;

    g_assert_true(xlev_context_write(f->ctx, "/ops/a", "alpha", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_context_write(f->ctx, "/ops/b", "", NULL, &error));
    g_assert_no_error(error);

    value = xlev_context_read(f->ctx, "/ops/a", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "alpha");

    names = xlev_context_directory(f->ctx, "/ops", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(names), ==, 2);
    g_assert_true(g_strv_contains((const char *const *)names, "a"));
    g_assert_true(g_strv_contains((const char *const *)names, "b"));

    g_assert_true(xlev_context_exists(f->ctx, "/ops/b", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_context_rm(f->ctx, "/ops", NULL, &error));
    g_assert_no_error(error);
    g_assert_false(xlev_context_exists(f->ctx, "/ops/b", NULL, &error));
    g_assert_no_error(error);

    g_assert_null(xlev_context_read(f->ctx, "/ops/a", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
}

static void
test_bad_input(Fixture *f, gconstpointer data)
{
    g_autofree char *too_long = g_strnfill(XLEV_XS_PATH_MAX + 1, 'a');
    const char *bad[] = {NULL,        "",        "rel",       "/a//b",
                         "/a/",       "/sp ace", "/\xc3\x28", too_long,
                         "@special"};

    too_long[0] = '/';
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e1 = NULL;
        g_autoptr(GError) e2 = NULL;
        g_autoptr(GError) e3 = NULL;
        g_autoptr(GError) e4 = NULL;
        g_autoptr(GError) e5 = NULL;

        g_assert_null(xlev_context_read(f->ctx, bad[i], NULL, &e1));
        g_assert_error(e1, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        g_assert_false(xlev_context_write(f->ctx, bad[i], "v", NULL, &e2));
        g_assert_error(e2, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        g_assert_null(xlev_context_directory(f->ctx, bad[i], NULL, &e3));
        g_assert_error(e3, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        g_assert_false(xlev_context_rm(f->ctx, bad[i], NULL, &e4));
        g_assert_error(e4, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        g_assert_false(xlev_context_exists(f->ctx, bad[i], NULL, &e5));
        g_assert_error(e5, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    }
}

typedef struct {
    Fixture *f;
    GAsyncResult *result;
    int calls;
} AsyncWait;

static void
on_ready(GObject *source, GAsyncResult *result, gpointer data)
{
    AsyncWait *w = data;

    /* Called back in the caller's thread-default context. */
    g_assert_true(g_main_context_is_owner(w->f->main_context));
    g_assert_true(source == G_OBJECT(w->f->ctx));
    w->result = g_object_ref(result);
}

#define ASYNC_WAIT(f, w)                                                     \
    do {                                                                     \
        WAIT_FOR((f)->main_context, (w).result != NULL, 5000);               \
    } while (0)

static void
test_async_ops(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    AsyncWait w = {.f = f};
    g_autofree char *value = NULL;
    g_auto(GStrv) names = NULL;

    xlev_context_write_async(f->ctx, "/as/k", "v1", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    g_assert_true(xlev_context_write_finish(f->ctx, w.result, &error));
    g_assert_no_error(error);
    g_clear_object(&w.result);

    xlev_context_read_async(f->ctx, "/as/k", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    value = xlev_context_read_finish(f->ctx, w.result, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "v1");
    g_clear_object(&w.result);

    xlev_context_directory_async(f->ctx, "/as", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    names = xlev_context_directory_finish(f->ctx, w.result, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(names), ==, 1);
    g_assert_cmpstr(names[0], ==, "k");
    g_clear_object(&w.result);

    xlev_context_exists_async(f->ctx, "/as/k", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    g_assert_true(xlev_context_exists_finish(f->ctx, w.result, &error));
    g_assert_no_error(error);
    g_clear_object(&w.result);

    xlev_context_rm_async(f->ctx, "/as", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    g_assert_true(xlev_context_rm_finish(f->ctx, w.result, &error));
    g_assert_no_error(error);
    g_clear_object(&w.result);

    xlev_context_exists_async(f->ctx, "/as/k", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    g_assert_false(xlev_context_exists_finish(f->ctx, w.result, &error));
    g_assert_no_error(error);
    g_clear_object(&w.result);

    xlev_context_read_async(f->ctx, "/as/k", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    g_assert_null(xlev_context_read_finish(f->ctx, w.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_object(&w.result);
}

static void
test_async_bad_input(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    AsyncWait w = {.f = f};

    xlev_context_read_async(f->ctx, "not/absolute", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    g_assert_null(xlev_context_read_finish(f->ctx, w.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_object(&w.result);
    g_clear_error(&error);

    xlev_context_write_async(f->ctx, NULL, "v", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    g_assert_false(xlev_context_write_finish(f->ctx, w.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_object(&w.result);
}

static void
test_async_cancelled(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    AsyncWait w = {.f = f};

    /* Cancelled before it starts. */
    g_cancellable_cancel(cancellable);
    xlev_context_write_async(f->ctx, "/cancel/k", "v", cancellable, on_ready,
                             &w);
    ASYNC_WAIT(f, w);
    g_assert_false(xlev_context_write_finish(f->ctx, w.result, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_object(&w.result);
    g_clear_error(&error);

    /* Cancelled while it may be running: returns cancelled at once. */
    g_cancellable_reset(cancellable);
    xlev_context_read_async(f->ctx, "/cancel/k", cancellable, on_ready, &w);
    g_cancellable_cancel(cancellable);
    ASYNC_WAIT(f, w);
    g_assert_null(xlev_context_read_finish(f->ctx, w.result, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_object(&w.result);
    g_clear_error(&error);

    /* Sync, cancelled. */
    g_assert_null(xlev_context_read(f->ctx, "/cancel/k", cancellable, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A cancelled write was sent: it still happens, the task says
 * G_IO_ERROR_CANCELLED at once, and the callback comes only once. */
static void
on_ready_counted(GObject *source, GAsyncResult *result, gpointer data)
{
    AsyncWait *w = data;

    w->calls++;
    g_clear_object(&w->result);
    w->result = g_object_ref(result);
}

static void
test_async_cancelled_was_sent(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autofree char *value = NULL;
    AsyncWait w = {.f = f};

    xlev_context_write_async(f->ctx, "/cancel/sent", "v", cancellable,
                             on_ready_counted, &w);
    g_cancellable_cancel(cancellable);
    ASYNC_WAIT(f, w);
    g_assert_false(xlev_context_write_finish(f->ctx, w.result, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    /* the answer comes, and is dropped */
    spin_for(f->main_context, 100);
    g_assert_cmpint(w.calls, ==, 1);
    value = xlev_context_read(f->ctx, "/cancel/sent", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "v");
    g_clear_object(&w.result);
}

/* The callback runs in the caller's thread-default main context, here not
 * the context's: the answer reaches the task in the context's, and
 * iterating that one alone never runs the callback. */
typedef struct {
    GMainContext *expected;
    int calls;
    gboolean in_expected;
    GAsyncResult *result;
} CallerWait;

static void
on_ready_caller(GObject *source, GAsyncResult *result, gpointer data)
{
    CallerWait *w = data;

    w->calls++;
    w->in_expected = g_main_context_get_thread_default() == w->expected
                     && g_main_context_is_owner(w->expected);
    w->result = g_object_ref(result);
}

static void
test_async_main_context(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainContext) caller = g_main_context_new();
    g_autofree char *value = NULL;
    CallerWait w = {.expected = caller};

    g_assert_true(xlev_context_write(f->ctx, "/mc/k", "v", NULL, &error));
    g_assert_no_error(error);
    g_main_context_push_thread_default(caller);
    xlev_context_read_async(f->ctx, "/mc/k", NULL, on_ready_caller, &w);
    WAIT_FOR(f->main_context, g_main_context_pending(caller), 5000);
    g_assert_cmpint(w.calls, ==, 0);
    WAIT_FOR(caller, w.calls > 0, 5000);
    g_assert_cmpint(w.calls, ==, 1);
    g_assert_true(w.in_expected);
    value = xlev_context_read_finish(f->ctx, w.result, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "v");
    g_clear_object(&w.result);
    g_main_context_pop_thread_default(caller);
}

/* The context's async operations, many in flight, start no thread. */
#define NO_THREAD_OPS 200

static void
on_ready_no_error(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;

    /* Every kind here finishes with a GTask's boolean or pointer. */
    if (g_task_get_source_tag(G_TASK(result)) == xlev_context_read_async)
        g_free(g_task_propagate_pointer(G_TASK(result), &error));
    else if (g_task_get_source_tag(G_TASK(result))
             == xlev_context_directory_async)
        g_strfreev(g_task_propagate_pointer(G_TASK(result), &error));
    else if (g_task_get_source_tag(G_TASK(result))
             == xlev_context_get_permissions_async)
        g_list_free_full(g_task_propagate_pointer(G_TASK(result), &error),
                         (GDestroyNotify)xlev_permission_free);
    else
        g_task_propagate_boolean(G_TASK(result), &error);
    g_assert_no_error(error);
    (*(int *)data)++;
}

static void
test_async_no_thread(Fixture *f, gconstpointer data)
{
    g_autoptr(GHashTable) before = thread_ids();
    g_autoptr(GError) error = NULL;
    int done = 0, i;

    g_assert_true(xlev_context_write(f->ctx, "/nt/k", "v", NULL, &error));
    g_assert_no_error(error);
    for (i = 0; i < NO_THREAD_OPS / 5; i++) {
        g_autofree char *path = g_strdup_printf("/nt/%d", i);

        xlev_context_write_async(f->ctx, path, "v", NULL, on_ready_no_error,
                                 &done);
        xlev_context_read_async(f->ctx, "/nt/k", NULL, on_ready_no_error,
                                &done);
        xlev_context_directory_async(f->ctx, "/nt", NULL, on_ready_no_error,
                                     &done);
        xlev_context_mkdir_async(f->ctx, "/nt/dir", NULL, on_ready_no_error,
                                 &done);
        xlev_context_get_permissions_async(f->ctx, "/nt/k", NULL,
                                           on_ready_no_error, &done);
    }
    WAIT_FOR(f->main_context, done == NO_THREAD_OPS, 10000);
    assert_no_new_thread(before);
}

/* Many async operations in flight from the main thread, results in
 * order of completion, none lost. */
static void
on_ready_count(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;

    xlev_context_write_finish(XLEV_CONTEXT(source), result, &error);
    g_assert_no_error(error);
    (*(int *)data)++;
}

static void
test_async_many(Fixture *f, gconstpointer data)
{
    int done = 0;

    for (int i = 0; i < 100; i++) {
        g_autofree char *path = g_strdup_printf("/many/%d", i);

        xlev_context_write_async(f->ctx, path, "v", NULL, on_ready_count,
                                 &done);
    }
    WAIT_FOR(f->main_context, done == 100, 10000);
}

static void
test_context_properties(Fixture *f, gconstpointer data)
{
    g_autofree char *path = NULL;
    g_autoptr(GMainContext) mc = NULL;
    XlevIntegration integration;

    const char *want =
        g_strcmp0(g_getenv("XLEV_TEST_TRANSPORT"), "xenbus") == 0
            ? XS_FIXTURE_XENBUS_PATH
            : f->xs.socket_path;

    g_object_get(f->ctx, "xenstore-path", &path, "main-context", &mc,
                 "integration", &integration, NULL);
    g_assert_cmpstr(path, ==, want);
    g_assert_cmpstr(xlev_context_get_xenstore_path(f->ctx), ==, want);
    g_assert_true(mc == f->main_context);
    g_assert_cmpint(integration, ==, f->integration);
}

static void
test_context_new_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    XlevContext *ctx;

    /* Any path is used as given: nothing there cannot be reached; a FIFO
     * or a regular file is refused at connect. */
    ctx = xlev_context_new("/nonexistent/socket", NULL, &error);
    g_assert_null(ctx);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
    g_assert_nonnull(strstr(error->message, "/nonexistent/socket"));
    g_clear_error(&error);
    {
        g_autofree char *dir = g_dir_make_tmp("xlev-ops-XXXXXX", NULL);
        g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
        g_autofree char *file = g_build_filename(dir, "file", NULL);

        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        g_assert_true(g_file_set_contents(file, "", 0, NULL));
        ctx = xlev_context_new(fifo, NULL, &error);
        g_assert_null(ctx);
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        g_clear_error(&error);
        ctx = xlev_context_new(file, NULL, &error);
        g_assert_null(ctx);
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        g_clear_error(&error);
        g_unlink(fifo);
        g_unlink(file);
        g_rmdir(dir);
    }

    g_cancellable_cancel(cancellable);
    ctx = xlev_context_new(NULL, cancellable, &error);
    g_assert_null(ctx);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);

    /* The same path as XENSTORED_PATH is fine. */
    ctx = xlev_context_new(f->xs.socket_path, NULL, &error);
    g_assert_no_error(error);
    g_assert_finalize_object(ctx);
}

static void
test_context_daemon_gone(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    XlevContext *ctx;

    xs_fixture_stop(&f->xs);
    ctx = xlev_context_new(NULL, NULL, &error);
    g_assert_null(ctx);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
}

static void
test_error_quark(void)
{
    g_autoptr(GEnumClass) klass = g_type_class_ref(XLEV_TYPE_ERROR);
    GEnumValue *v = g_enum_get_value(klass, XLEV_ERROR_CODE_INVAL);

    g_assert_cmpstr(g_quark_to_string(XLEV_ERROR), ==, "xlev-error-quark");
    g_assert_nonnull(v);
    g_assert_cmpstr(v->value_nick, ==, "inval");
}

/* GError codes are non-negative, FAIL (the catch-all) is 0, and each maps
 * to the core's negative code of the same name and back. */
static void
test_error_codes(void)
{
    static const struct {
        XlevError code;
        int core;
    } pairs[] = {
        { XLEV_ERROR_CODE_FAIL, XLEV_ERROR_FAIL },
        { XLEV_ERROR_CODE_NOMEM, XLEV_ERROR_NOMEM },
        { XLEV_ERROR_CODE_INVAL, XLEV_ERROR_INVAL },
        { XLEV_ERROR_CODE_NOT_READY, XLEV_ERROR_NOT_READY },
        { XLEV_ERROR_CODE_OSEVENT_REG_FAIL, XLEV_ERROR_OSEVENT_REG_FAIL },
        { XLEV_ERROR_CODE_BUFFERFULL, XLEV_ERROR_BUFFERFULL },
        { XLEV_ERROR_CODE_NOENT, XLEV_ERROR_NOENT },
        { XLEV_ERROR_CODE_PERM, XLEV_ERROR_PERM },
        { XLEV_ERROR_CODE_XENSTORE, XLEV_ERROR_XENSTORE },
        { XLEV_ERROR_CODE_NO_HYPERVISOR, XLEV_ERROR_NO_HYPERVISOR },
        { XLEV_ERROR_CODE_BROKEN, XLEV_ERROR_BROKEN },
        { XLEV_ERROR_CODE_EXIST, XLEV_ERROR_EXIST },
        { XLEV_ERROR_CODE_TOO_BIG, XLEV_ERROR_TOO_BIG },
        { XLEV_ERROR_CODE_NOSPC, XLEV_ERROR_NOSPC },
        { XLEV_ERROR_CODE_QUOTA, XLEV_ERROR_QUOTA },
        { XLEV_ERROR_CODE_AGAIN, XLEV_ERROR_AGAIN },
        { XLEV_ERROR_CODE_BUSY, XLEV_ERROR_BUSY },
        { XLEV_ERROR_CODE_ISDIR, XLEV_ERROR_ISDIR },
        { XLEV_ERROR_CODE_READONLY, XLEV_ERROR_READONLY },
        { XLEV_ERROR_CODE_MFILE, XLEV_ERROR_MFILE },
        { XLEV_ERROR_CODE_NOTEMPTY, XLEV_ERROR_NOTEMPTY },
        { XLEV_ERROR_CODE_NOSYS, XLEV_ERROR_NOSYS },
        { XLEV_ERROR_CODE_PROTOCOL, XLEV_ERROR_PROTOCOL },
        { XLEV_ERROR_CODE_TIMED_OUT, XLEV_ERROR_TIMEDOUT },
    };
    /* Codes of the GObject layer alone (no core code stands for them):
     * they go to the core as the catch-all. */
    static const XlevError own[] = {
        XLEV_ERROR_CODE_NOT_INITIALIZED,
    };
    g_autoptr(GEnumClass) klass = g_type_class_ref(XLEV_TYPE_ERROR);

    g_assert_cmpint(XLEV_ERROR_CODE_FAIL, ==, 0);
    g_assert_cmpuint(klass->n_values, ==,
                     G_N_ELEMENTS(pairs) + G_N_ELEMENTS(own));
    for (guint i = 0; i < G_N_ELEMENTS(own); i++) {
        g_assert_cmpint(own[i], >, XLEV_ERROR_CODE_FAIL);
        g_assert_nonnull(g_enum_get_value(klass, own[i]));
        g_assert_cmpint(xlev_error_code_to_core(own[i]), ==, XLEV_ERROR_FAIL);
    }
    g_assert_cmpint(klass->minimum, >=, 0);
    for (guint i = 0; i < G_N_ELEMENTS(pairs); i++) {
        g_assert_cmpint(pairs[i].code, >=, 0);
        g_assert_cmpint(xlev_error_code_from_core(pairs[i].core), ==,
                        pairs[i].code);
        g_assert_cmpint(xlev_error_code_to_core(pairs[i].code), ==,
                        pairs[i].core);
    }
    /* A hook's own positive value, and a code the table does not know. */
    g_assert_cmpint(xlev_error_code_from_core(7), ==,
                    XLEV_ERROR_CODE_OSEVENT_REG_FAIL);
    g_assert_cmpint(xlev_error_code_from_core(-1000), ==,
                    XLEV_ERROR_CODE_FAIL);
}

/* Values are bytes: read_bytes/write_bytes carry any; the string API
 * refuses what is not text, leaking nothing. */
static void
test_bytes(Fixture *f, gconstpointer data)
{
    static const guint8 raw[] = {'a', 0, 'b', 0xff, 0xfe, 0};
    g_autoptr(GBytes) terminated = g_bytes_new_static("text", 5);
    g_autoptr(GBytes) value = g_bytes_new_static(raw, sizeof(raw));
    g_autoptr(GBytes) got = NULL;
    g_autoptr(GError) error = NULL;
    AsyncWait w = {.f = f};
    char *text;

    g_assert_true(
        xlev_context_write_bytes(f->ctx, "/bytes/k", value, NULL, &error));
    g_assert_no_error(error);
    got = xlev_context_read_bytes(f->ctx, "/bytes/k", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(g_bytes_equal(got, value));
    g_clear_pointer(&got, g_bytes_unref);

    /* NUL inside: not text */
    text = xlev_context_read(f->ctx, "/bytes/k", NULL, &error);
    g_assert_null(text);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_assert_nonnull(strstr(error->message, "/bytes/k"));
    g_clear_error(&error);
    /* one NUL at the end is a terminator */
    g_assert_true(xlev_context_write_bytes(f->ctx, "/bytes/t", terminated,
                                           NULL, &error));
    text = xlev_context_read(f->ctx, "/bytes/t", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(text, ==, "text");
    g_free(text);
    /* not UTF-8 */
    {
        g_autoptr(GBytes) latin1 = g_bytes_new_static("caf\xe9", 4);

        g_assert_true(xlev_context_write_bytes(f->ctx, "/bytes/l", latin1,
                                               NULL, &error));
        g_assert_null(xlev_context_read(f->ctx, "/bytes/l", NULL, &error));
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        g_clear_error(&error);
    }

    /* the same asynchronously */
    xlev_context_write_bytes_async(f->ctx, "/bytes/a", value, NULL, on_ready,
                                   &w);
    ASYNC_WAIT(f, w);
    g_assert_true(xlev_context_write_bytes_finish(f->ctx, w.result, &error));
    g_assert_no_error(error);
    g_clear_object(&w.result);
    xlev_context_read_bytes_async(f->ctx, "/bytes/a", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    got = xlev_context_read_bytes_finish(f->ctx, w.result, &error);
    g_assert_no_error(error);
    g_assert_true(g_bytes_equal(got, value));
    g_clear_object(&w.result);
    xlev_context_read_async(f->ctx, "/bytes/a", NULL, on_ready, &w);
    ASYNC_WAIT(f, w);
    g_assert_null(xlev_context_read_finish(f->ctx, w.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_object(&w.result);
}

static void
count_notify(gpointer data)
{
    (*(guint *)data)++;
}

static void
test_transport_and_timeout(Fixture *f, gconstpointer data)
{
    XlevTransport want =
        g_strcmp0(g_getenv("XLEV_TEST_TRANSPORT"), "xenbus") == 0
            ? XLEV_TRANSPORT_XENBUS
            : XLEV_TRANSPORT_SOCKET;
    XlevTransport transport;
    guint timeout = 0, notified = 0;

    g_object_get(f->ctx, "transport", &transport, "timeout", &timeout, NULL);
    g_assert_cmpint(transport, ==, want);
    g_assert_cmpint(xlev_context_get_transport(f->ctx), ==, want);
    g_assert_cmpuint(timeout, ==, XLEV_CONTEXT_TIMEOUT_DEFAULT);
    g_signal_connect_swapped(f->ctx, "notify::timeout",
                             G_CALLBACK(count_notify), &notified);
    xlev_context_set_timeout(f->ctx, 1234);
    g_assert_cmpuint(xlev_context_get_timeout(f->ctx), ==, 1234);
    WAIT_FOR(f->main_context, notified == 1, 2000);
    xlev_context_set_timeout(f->ctx, 1234);
    spin_for(f->main_context, 20);
    g_assert_cmpuint(notified, ==, 1);
}

/* A daemon that never answers (tests/core/xs-bad-peer.h): the timeout
 * property ends a blocking call; so does its cancellable, while it waits;
 * an asynchronous read completes at once when cancelled, its answer (if
 * any ever came) dropped. */
static void
on_ready_any(GObject *source, GAsyncResult *result, gpointer data)
{
    *(GAsyncResult **)data = g_object_ref(result);
}

static gpointer
cancel_later(gpointer data)
{
    g_usleep(100 * 1000);
    g_cancellable_cancel(data);
    return NULL;
}

static void
test_never_answers(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    XsBadPeer *peer = xs_bad_peer_new(NULL, 0, &error);
    g_autoptr(XlevContext) ctx = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    GAsyncResult *result = NULL;
    GThread *t;
    gint64 start;

    g_assert_no_error(error);
    ctx = xlev_context_new_full(xs_bad_peer_socket_path(peer), f->integration,
                                NULL, NULL, &error);
    g_assert_no_error(error);
    xlev_context_set_timeout(ctx, 200);
    start = g_get_monotonic_time();
    g_assert_null(xlev_context_read(ctx, "/x", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_TIMED_OUT);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 190 * 1000);
    g_clear_error(&error);

    xlev_context_set_timeout(ctx, 0);
    t = g_thread_new("cancel", cancel_later, cancellable);
    g_assert_false(xlev_context_write(ctx, "/x", "v", cancellable, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    g_thread_join(t);

    g_cancellable_reset(cancellable);
    xlev_context_read_async(ctx, "/x", cancellable, on_ready_any, &result);
    spin_for(f->main_context, 20);
    g_assert_null(result);
    g_cancellable_cancel(cancellable);
    WAIT_FOR(f->main_context, result != NULL, 2000);
    g_assert_null(xlev_context_read_finish(ctx, result, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_object(&result);
    g_clear_object(&ctx);
    xs_bad_peer_free(peer);
}

/* With XLEV_INTEGRATION_SOURCE a sleeping main context is woken by work
 * added from another thread: a timeout and a first watch made in a worker
 * fire promptly (they waited for the core's 1 s liveness tick, or for
 * ever, before the wake-up fd). */
typedef struct {
    XlevContext *ctx;
    XlevTimeout *timeout;
    XlevWatch *watch;
    guint fired;
    guint changed;
} Worker;

static void
on_fired(XlevTimeout *t, gpointer data)
{
    g_atomic_int_inc(&((Worker *)data)->fired);
}

static void
on_changed(XlevWatch *w, const char *path, gpointer data)
{
    ((Worker *)data)->changed++;
}

static gpointer
make_from_worker(gpointer data)
{
    Worker *wk = data;
    g_autoptr(GError) error = NULL;

    g_usleep(100 * 1000);
    wk->timeout = xlev_context_timeout(wk->ctx, 50, &error);
    g_assert_no_error(error);
    g_signal_connect(wk->timeout, "fired", G_CALLBACK(on_fired), wk);
    /* nothing else for a while: only the wake-up can end the loop's
     * sleep */
    while (!g_atomic_int_get(&wk->fired))
        g_usleep(10 * 1000);
    wk->watch = xlev_context_watch(wk->ctx, "/woken", XLEV_WATCH_FLAGS_NONE,
                                   &error);
    g_assert_no_error(error);
    g_signal_connect(wk->watch, "changed", G_CALLBACK(on_changed), wk);
    g_assert_true(xlev_context_write(wk->ctx, "/woken/k", "1", NULL, &error));
    return NULL;
}

static void
test_woken_from_worker(Fixture *f, gconstpointer data)
{
    Worker wk = {.ctx = f->ctx};
    GThread *t;
    gint64 start;

    spin_for(f->main_context, 20);
    start = g_get_monotonic_time();
    t = g_thread_new("maker", make_from_worker, &wk);
    WAIT_FOR(f->main_context, g_atomic_int_get(&wk.fired) == 1, 3000);
    /* 100 ms + 50 ms, well before the loop would wake by itself */
    g_assert_cmpint(g_get_monotonic_time() - start, <,
                    xs_fixture_scale_ms(800) * 1000);
    WAIT_FOR(f->main_context, wk.changed >= 1, 3000);
    g_thread_join(t);
    g_clear_object(&wk.timeout);
    g_clear_object(&wk.watch);
}

/* The daemon is stopped (SIGSTOP): a worker blocked making a watch does
 * not stall the main loop (no lock is held while it waits), dropping a
 * watch does not block, and the worker's call ends with the context's
 * timeout. */
typedef struct {
    XlevContext *ctx;
    GError *error;
    XlevWatch *watch;
    gboolean done;
} StoppedWorker;

static gpointer
watch_while_stopped(gpointer data)
{
    StoppedWorker *sw = data;

    sw->watch = xlev_context_watch(sw->ctx, "/stopped/w",
                                   XLEV_WATCH_FLAGS_NONE, &sw->error);
    g_atomic_int_set(&sw->done, TRUE);
    return NULL;
}

static gboolean
count_tick(gpointer data)
{
    (*(guint *)data)++;
    return G_SOURCE_CONTINUE;
}

static void
test_stopped_daemon_does_not_stall(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevWatch) before = NULL;
    StoppedWorker sw = {.ctx = f->ctx};
    GThread *t;
    guint ticks = 0, id;
    gint64 t0, took;

    before = xlev_context_watch(f->ctx, "/stopped/before",
                                XLEV_WATCH_FLAGS_NONE, &error);
    g_assert_no_error(error);
    xlev_context_set_timeout(f->ctx, 1500);
    g_assert_cmpint(kill(f->xs.pid, SIGSTOP), ==, 0);

    id = g_timeout_add(10, count_tick, &ticks);
    t = g_thread_new("watcher", watch_while_stopped, &sw);
    /* the loop keeps ticking while the worker waits for the daemon */
    spin_for(f->main_context, 500);
    g_assert_false(g_atomic_int_get(&sw.done));
    g_assert_cmpuint(ticks, >=, 20);

    /* dropping a watch does not wait for the daemon */
    t0 = g_get_monotonic_time();
    g_clear_object(&before);
    took = g_get_monotonic_time() - t0;
    g_assert_cmpint(took, <, 100 * 1000);

    WAIT_FOR(f->main_context, g_atomic_int_get(&sw.done), 5000);
    g_thread_join(t);
    g_assert_null(sw.watch);
    g_assert_error(sw.error, XLEV_ERROR, XLEV_ERROR_CODE_TIMED_OUT);
    g_clear_error(&sw.error);
    g_source_remove(id);

    g_assert_cmpint(kill(f->xs.pid, SIGCONT), ==, 0);
    /* the connection is still usable: the late answers were dropped */
    g_assert_true(xlev_context_write(f->ctx, "/stopped/after", "1", NULL,
                                     &error));
    g_assert_no_error(error);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xlev/error/quark-and-enum", test_error_quark);
    g_test_add_func("/xlev/error/codes-non-negative-and-mapped",
                    test_error_codes);
    /* First: no earlier test's thread may be there to reuse unseen. */
    XLEV_TEST_ADD_BOTH("/ops/async-no-thread", test_async_no_thread);
    XLEV_TEST_ADD_BOTH("/ops/sync", test_sync_ops);
    XLEV_TEST_ADD_BOTH("/ops/bad-input-is-inval", test_bad_input);
    XLEV_TEST_ADD_BOTH("/ops/async", test_async_ops);
    XLEV_TEST_ADD_BOTH("/ops/async-bad-input-is-inval", test_async_bad_input);
    XLEV_TEST_ADD_BOTH("/ops/async-cancelled", test_async_cancelled);
    XLEV_TEST_ADD_BOTH("/ops/async-cancelled-was-sent",
                       test_async_cancelled_was_sent);
    XLEV_TEST_ADD_BOTH("/ops/async-main-context", test_async_main_context);
    XLEV_TEST_ADD_BOTH("/ops/async-many", test_async_many);
    XLEV_TEST_ADD_BOTH("/context/properties", test_context_properties);
    XLEV_TEST_ADD_BOTH("/ops/bytes", test_bytes);
    XLEV_TEST_ADD_BOTH("/context/transport-and-timeout",
                       test_transport_and_timeout);
    XLEV_TEST_ADD_BOTH("/context/woken-from-worker", test_woken_from_worker);
    if (g_strcmp0(g_getenv("XLEV_TEST_TRANSPORT"), "xenbus") != 0)
        XLEV_TEST_ADD_BOTH("/context/stopped-daemon-does-not-stall",
                           test_stopped_daemon_does_not_stall);
    if (g_strcmp0(g_getenv("XLEV_TEST_TRANSPORT"), "xenbus") != 0)
        XLEV_TEST_ADD_BOTH("/ops/daemon-never-answers", test_never_answers);
    XLEV_TEST_ADD_BOTH("/context/new-errors", test_context_new_errors);
    g_test_add("/xlev/context/new-fails-without-daemon", Fixture,
               GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE), fixture_setup_no_context,
               test_context_daemon_gone, fixture_teardown);

    return g_test_run();
}
