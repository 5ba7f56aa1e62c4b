/* test-transaction.c: transactions, the retry helper, permissions, mkdir
 * and domain paths, against the real daemon
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-test-common.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/xs_wire.h>

/* How many times each of two racing contexts increments one counter. */
#define RACE_INCREMENTS 25

/* The guest the permission test introduces, as the fixture test does. */
#define GUEST_DOMID 7
#define GUEST_PORT 5
#define GUEST_REPLY_TIMEOUT_MS 3000

static XlevContext *
second_context(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    XlevContext *ctx
        = xlev_context_new_full(NULL, f->integration, NULL, NULL, &error);

    g_assert_no_error(error);
    g_assert_nonnull(ctx);
    return ctx;
}

static void
test_commit_and_isolation(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevTransaction) tx = NULL;
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GBytes) raw = g_bytes_new_static("a\0b", 3);
    g_autofree char *value = NULL;
    g_auto(GStrv) names = NULL;
    XlevContext *owner = NULL;
    guint id = 0;

    g_assert_true(xlev_context_write(f->ctx, "/tx/old", "x", NULL, &error));
    g_assert_no_error(error);

    tx = xlev_context_transaction_start(f->ctx, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(tx);
    g_assert_true(xlev_transaction_get_context(tx) == f->ctx);
    g_assert_cmpuint(xlev_transaction_get_id(tx), !=, 0);
    g_object_get(tx, "context", &owner, "id", &id, NULL);
    g_assert_true(owner == f->ctx);
    g_object_unref(owner);
    g_assert_cmpuint(id, ==, xlev_transaction_get_id(tx));
    g_assert_false(xlev_transaction_is_finished(tx));

    g_assert_true(xlev_transaction_write(tx, "/tx/a", "alpha", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(
        xlev_transaction_write_bytes(tx, "/tx/bin", raw, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_mkdir(tx, "/tx/dir", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_rm(tx, "/tx/old", NULL, &error));
    g_assert_no_error(error);

    /* Seen inside, not outside. */
    value = xlev_transaction_read(tx, "/tx/a", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "alpha");
    bytes = xlev_transaction_read_bytes(tx, "/tx/bin", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(g_bytes_equal(bytes, raw));
    g_assert_null(xlev_transaction_read(tx, "/tx/bin", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    names = xlev_transaction_directory(tx, "/tx", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(names), ==, 3);
    g_assert_true(g_strv_contains((const char *const *)names, "dir"));
    g_assert_false(g_strv_contains((const char *const *)names, "old"));

    g_assert_false(xlev_context_exists(f->ctx, "/tx/a", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_context_exists(f->ctx, "/tx/old", NULL, &error));
    g_assert_no_error(error);

    g_assert_true(xlev_transaction_commit(tx, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_is_finished(tx));

    g_clear_pointer(&value, g_free);
    value = xlev_context_read(f->ctx, "/tx/a", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "alpha");
    g_assert_true(xlev_context_exists(f->ctx, "/tx/dir", NULL, &error));
    g_assert_no_error(error);
    g_assert_false(xlev_context_exists(f->ctx, "/tx/old", NULL, &error));
    g_assert_no_error(error);
}

static void
test_abort(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevTransaction) tx = NULL;
    g_autoptr(XlevTransaction) dropped = NULL;

    tx = xlev_context_transaction_start(f->ctx, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_write(tx, "/tx/a", "1", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_abort(tx, NULL, &error));
    g_assert_no_error(error);
    g_assert_false(xlev_context_exists(f->ctx, "/tx/a", NULL, &error));
    g_assert_no_error(error);

    /* Dropped unfinished: aborted, its write never seen. */
    dropped = xlev_context_transaction_start(f->ctx, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_write(dropped, "/tx/b", "1", NULL, &error));
    g_assert_no_error(error);
    g_clear_object(&dropped);
    g_assert_false(xlev_context_exists(f->ctx, "/tx/b", NULL, &error));
    g_assert_no_error(error);
}

static void
test_used_after_finish(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevTransaction) tx = NULL;
    g_autolist(XlevPermission) perms = NULL;

    perms = g_list_append(perms,
                          xlev_permission_new(0, XLEV_PERMISSION_MODE_READ));
    tx = xlev_context_transaction_start(f->ctx, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_commit(tx, NULL, &error));
    g_assert_no_error(error);

#define ASSERT_FINISHED(call)                                                  \
    do {                                                                       \
        g_assert_false(call);                                                  \
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);              \
        g_assert_nonnull(strstr(error->message, "committed or aborted"));      \
        g_clear_error(&error);                                                 \
    } while (0)
    ASSERT_FINISHED(xlev_transaction_commit(tx, NULL, &error));
    ASSERT_FINISHED(xlev_transaction_abort(tx, NULL, &error));
    ASSERT_FINISHED(xlev_transaction_write(tx, "/tx/a", "1", NULL, &error));
    ASSERT_FINISHED(xlev_transaction_read(tx, "/tx/a", NULL, &error) != NULL);
    ASSERT_FINISHED(xlev_transaction_read_bytes(tx, "/tx/a", NULL, &error)
                    != NULL);
    ASSERT_FINISHED(xlev_transaction_rm(tx, "/tx/a", NULL, &error));
    ASSERT_FINISHED(xlev_transaction_mkdir(tx, "/tx/a", NULL, &error));
    ASSERT_FINISHED(xlev_transaction_directory(tx, "/tx", NULL, &error)
                    != NULL);
    ASSERT_FINISHED(xlev_transaction_get_permissions(tx, "/tx", NULL, &error)
                    != NULL);
    ASSERT_FINISHED(
        xlev_transaction_set_permissions(tx, "/tx", perms, NULL, &error));
#undef ASSERT_FINISHED
    g_assert_false(xlev_context_exists(f->ctx, "/tx/a", NULL, &error));
    g_assert_no_error(error);
}

static void
test_bad_input(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevTransaction) tx = NULL;

    tx = xlev_context_transaction_start(f->ctx, NULL, &error);
    g_assert_no_error(error);
    g_assert_false(xlev_transaction_write(tx, "rel", "1", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_false(xlev_transaction_write(tx, "/tx/a", NULL, NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_null(xlev_transaction_read(tx, "/tx/none", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_error(&error);
    /* Still usable after those. */
    g_assert_true(xlev_transaction_write(tx, "/tx/a", "1", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_commit(tx, NULL, &error));
    g_assert_no_error(error);
}

/* A commit after another context changed what the transaction read. */
static void
test_conflict_is_again(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) other = second_context(f);
    g_autoptr(XlevTransaction) tx = NULL;
    g_autofree char *value = NULL;

    g_assert_true(xlev_context_write(f->ctx, "/tx/n", "0", NULL, &error));
    g_assert_no_error(error);
    tx = xlev_context_transaction_start(f->ctx, NULL, &error);
    g_assert_no_error(error);
    value = xlev_transaction_read(tx, "/tx/n", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "0");

    g_assert_true(xlev_context_write(other, "/tx/n", "other", NULL, &error));
    g_assert_no_error(error);

    g_assert_true(xlev_transaction_write(tx, "/tx/n", "1", NULL, &error));
    g_assert_no_error(error);
    g_assert_false(xlev_transaction_commit(tx, NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_AGAIN);
    g_clear_error(&error);
    g_assert_true(xlev_transaction_is_finished(tx));

    g_clear_pointer(&value, g_free);
    value = xlev_context_read(f->ctx, "/tx/n", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "other");
}

typedef struct {
    XlevContext *ctx;
    const char *path;
    guint calls;     /* how often the function ran */
    guint committed; /* increments that committed */
} Racer;

static gboolean
increment(XlevTransaction *tx, gpointer user_data)
{
    Racer *r = user_data;
    g_autoptr(GError) error = NULL;
    g_autofree char *value = NULL;
    g_autofree char *next = NULL;

    r->calls++;
    value = xlev_transaction_read(tx, r->path, NULL, &error);
    if (value == NULL)
        return FALSE;
    /* Widen the window between read and commit. */
    g_thread_yield();
    next = g_strdup_printf("%d", atoi(value) + 1);
    return xlev_transaction_write(tx, r->path, next, NULL, NULL);
}

static gpointer
race_thread(gpointer data)
{
    Racer *r = data;

    for (guint i = 0; i < RACE_INCREMENTS; i++) {
        g_autoptr(GError) error = NULL;

        /* Enough attempts that two writers always get through. */
        if (!xlev_context_transact(r->ctx, RACE_INCREMENTS * 4, NULL, increment,
                                   r, &error))
            return g_strdup(error->message);
        r->committed++;
    }
    return NULL;
}

/* Two contexts increment one counter at once: conflicts happen, the
 * helper retries them, and no increment is lost. */
static void
test_transact_race(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) other = second_context(f);
    g_autofree char *value = NULL;
    g_autofree char *expected = g_strdup_printf("%d", 2 * RACE_INCREMENTS);
    Racer a = { f->ctx, "/tx/counter", 0, 0 };
    Racer b = { other, "/tx/counter", 0, 0 };
    GThread *ta, *tb;
    char *failed_a, *failed_b;

    g_assert_true(xlev_context_write(f->ctx, "/tx/counter", "0", NULL, &error));
    g_assert_no_error(error);
    ta = g_thread_new("racer-a", race_thread, &a);
    tb = g_thread_new("racer-b", race_thread, &b);
    failed_a = g_thread_join(ta);
    failed_b = g_thread_join(tb);
    g_assert_cmpstr(failed_a, ==, NULL);
    g_assert_cmpstr(failed_b, ==, NULL);

    g_assert_cmpuint(a.committed, ==, RACE_INCREMENTS);
    g_assert_cmpuint(b.committed, ==, RACE_INCREMENTS);
    value = xlev_context_read(f->ctx, "/tx/counter", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, expected);
    g_test_message("function calls: %u + %u for %u commits", a.calls, b.calls,
                   2 * RACE_INCREMENTS);
    g_assert_cmpuint(a.calls + b.calls, >=, 2 * RACE_INCREMENTS);
}

/* A function that conflicts every time it runs (the other context writes
 * what it read before it commits) is tried max_attempts times. */
typedef struct {
    XlevContext *other;
    guint calls;
} Spoiler;

static gboolean
spoiled(XlevTransaction *tx, gpointer user_data)
{
    Spoiler *s = user_data;
    g_autofree char *value = NULL;
    g_autofree char *next = NULL;

    s->calls++;
    value = xlev_transaction_read(tx, "/tx/n", NULL, NULL);
    next = g_strdup_printf("spoiled %u", s->calls);
    g_assert_true(xlev_context_write(s->other, "/tx/n", next, NULL, NULL));
    return xlev_transaction_write(tx, "/tx/n", "mine", NULL, NULL);
}

static gboolean
declines(XlevTransaction *tx, gpointer user_data)
{
    guint *calls = user_data;

    (*calls)++;
    g_assert_true(xlev_transaction_write(tx, "/tx/declined", "1", NULL, NULL));
    return FALSE;
}

static gboolean
reads_missing(XlevTransaction *tx, gpointer user_data)
{
    guint *calls = user_data;
    g_autofree char *value = NULL;

    (*calls)++;
    value = xlev_transaction_read(tx, "/tx/missing", NULL, NULL);
    return value != NULL;
}

static void
test_transact_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) other = second_context(f);
    g_autofree char *value = NULL;
    g_autoptr(GCancellable) cancelled = g_cancellable_new();
    Spoiler s = { other, 0 };
    guint calls = 0;

    g_assert_false(
        xlev_context_transact(f->ctx, 0, NULL, declines, &calls, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_false(xlev_context_transact(f->ctx, 3, NULL, NULL, NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_cmpuint(calls, ==, 0);

    g_assert_false(
        xlev_context_transact(f->ctx, 3, NULL, declines, &calls, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_FAIL);
    g_clear_error(&error);
    g_assert_cmpuint(calls, ==, 1);
    g_assert_false(xlev_context_exists(f->ctx, "/tx/declined", NULL, &error));
    g_assert_no_error(error);

    calls = 0;
    g_assert_false(
        xlev_context_transact(f->ctx, 3, NULL, reads_missing, &calls, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_error(&error);
    g_assert_cmpuint(calls, ==, 1);

    /* Cancelled: no transaction starts, the function never runs. */
    calls = 0;
    g_cancellable_cancel(cancelled);
    g_assert_false(
        xlev_context_transact(f->ctx, 3, cancelled, declines, &calls, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    g_assert_cmpuint(calls, ==, 0);

    g_assert_true(xlev_context_write(f->ctx, "/tx/n", "0", NULL, &error));
    g_assert_no_error(error);
    g_assert_false(xlev_context_transact(f->ctx, 3, NULL, spoiled, &s, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_AGAIN);
    g_clear_error(&error);
    g_assert_cmpuint(s.calls, ==, 3);
    value = xlev_context_read(f->ctx, "/tx/n", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "spoiled 3");
}

static void
on_result(GObject *source, GAsyncResult *result, gpointer user_data)
{
    *(GAsyncResult **)user_data = g_object_ref(result);
}

#define AWAIT(f, res) WAIT_FOR((f)->main_context, (res) != NULL, 5000)

static void
test_async(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevTransaction) tx = NULL;
    g_autofree char *value = NULL;
    g_autofree char *outside = NULL;
    GAsyncResult *res = NULL;

    xlev_context_transaction_start_async(f->ctx, NULL, on_result, &res);
    AWAIT(f, res);
    tx = xlev_context_transaction_start_finish(f->ctx, res, &error);
    g_assert_no_error(error);
    g_assert_nonnull(tx);
    g_clear_object(&res);

    xlev_transaction_write_async(tx, "/tx/async", "v", NULL, on_result, &res);
    AWAIT(f, res);
    g_assert_true(xlev_transaction_write_finish(tx, res, &error));
    g_assert_no_error(error);
    g_clear_object(&res);

    xlev_transaction_read_async(tx, "/tx/async", NULL, on_result, &res);
    AWAIT(f, res);
    value = xlev_transaction_read_finish(tx, res, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "v");
    g_clear_object(&res);

    xlev_transaction_commit_async(tx, NULL, on_result, &res);
    AWAIT(f, res);
    g_assert_true(xlev_transaction_commit_finish(tx, res, &error));
    g_assert_no_error(error);
    g_clear_object(&res);
    outside = xlev_context_read(f->ctx, "/tx/async", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(outside, ==, "v");

    /* After the commit: the async calls fail as the blocking ones. */
    xlev_transaction_abort_async(tx, NULL, on_result, &res);
    AWAIT(f, res);
    g_assert_false(xlev_transaction_abort_finish(tx, res, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_clear_object(&res);

    xlev_transaction_write_async(tx, "/tx/async", "w", NULL, on_result, &res);
    AWAIT(f, res);
    g_assert_false(xlev_transaction_write_finish(tx, res, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_clear_object(&res);
}

static GList *
perm_list(guint first_domid, XlevPermissionMode first_mode, ...)
{
    GList *list = NULL;
    va_list ap;
    int domid = (int)first_domid;
    XlevPermissionMode mode = first_mode;

    va_start(ap, first_mode);
    while (domid >= 0) {
        list = g_list_append(list, xlev_permission_new((guint)domid, mode));
        domid = va_arg(ap, int);
        if (domid >= 0)
            mode = va_arg(ap, XlevPermissionMode);
    }
    va_end(ap);
    return list;
}

static void
assert_perm(GList *list, guint i, guint domid, XlevPermissionMode mode)
{
    const XlevPermission *p = g_list_nth_data(list, i);

    g_assert_nonnull(p);
    g_assert_cmpuint(p->domid, ==, domid);
    g_assert_cmpint(p->mode, ==, mode);
}

/* One async call's completion: how many times, with what, and whether in
 * the main context expected (the caller's thread-default). */
typedef struct {
    int calls;
    GAsyncResult *result;
    GMainContext *expected;
    gboolean in_expected;
} Done;

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Done *d = user_data;

    d->calls++;
    d->in_expected = d->expected == NULL
                     || (g_main_context_get_thread_default() == d->expected
                         && g_main_context_is_owner(d->expected));
    g_clear_object(&d->result);
    d->result = g_object_ref(result);
}

/* Runs the loop until @d's callback came, then asserts it came once. */
#define AWAIT_DONE(f, d)                                                     \
    do {                                                                     \
        WAIT_FOR((f)->main_context, (d).calls > 0, 5000);                    \
        g_assert_cmpint((d).calls, ==, 1);                                   \
        (d).calls = 0;                                                       \
    } while (0)

static XlevTransaction *
start_async(Fixture *f, XlevContext *ctx)
{
    g_autoptr(GError) error = NULL;
    Done d = {0};
    XlevTransaction *tx;

    xlev_context_transaction_start_async(ctx, NULL, on_done, &d);
    g_assert_cmpint(d.calls, ==, 0);
    AWAIT_DONE(f, d);
    tx = xlev_context_transaction_start_finish(ctx, d.result, &error);
    g_assert_no_error(error);
    g_assert_nonnull(tx);
    g_assert_cmpuint(xlev_transaction_get_id(tx), !=, 0);
    g_clear_object(&d.result);
    return tx;
}

/* Errors through the async calls, as the blocking ones give them. */
static void
test_async_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) other = second_context(f);
    g_autoptr(XlevTransaction) tx = NULL;
    g_autofree char *value = NULL;
    Done d = {0};

    g_assert_true(xlev_context_write(f->ctx, "/tx/ae", "0", NULL, &error));
    g_assert_no_error(error);
    tx = start_async(f, f->ctx);

    /* NOENT, and a bad path refused before sending */
    xlev_transaction_read_async(tx, "/tx/none", NULL, on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_null(xlev_transaction_read_finish(tx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_error(&error);
    xlev_transaction_read_async(tx, "relative", NULL, on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_null(xlev_transaction_read_finish(tx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    xlev_transaction_write_async(tx, "/tx/ae", NULL, NULL, on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_false(xlev_transaction_write_finish(tx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);

    /* a conflict: the commit is AGAIN, nothing of the transaction written */
    xlev_transaction_read_async(tx, "/tx/ae", NULL, on_done, &d);
    AWAIT_DONE(f, d);
    value = xlev_transaction_read_finish(tx, d.result, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "0");
    g_clear_pointer(&value, g_free);
    g_assert_true(xlev_context_write(other, "/tx/ae", "other", NULL, &error));
    g_assert_no_error(error);
    xlev_transaction_write_async(tx, "/tx/ae", "mine", NULL, on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_true(xlev_transaction_write_finish(tx, d.result, &error));
    g_assert_no_error(error);
    xlev_transaction_commit_async(tx, NULL, on_done, &d);
    g_assert_true(xlev_transaction_is_finished(tx)); /* from the call on */
    AWAIT_DONE(f, d);
    g_assert_false(xlev_transaction_commit_finish(tx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_AGAIN);
    g_clear_error(&error);
    value = xlev_context_read(f->ctx, "/tx/ae", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "other");
    g_clear_object(&d.result);
}

/* The context's async twins of mkdir, the permission calls and the
 * domain path: results and errors. */
static void
test_context_async_twins(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autolist(XlevPermission) set = NULL;
    g_autolist(XlevPermission) got = NULL;
    g_autolist(XlevPermission) reserved = NULL;
    g_autofree char *path = NULL;
    Done d = {0};

    xlev_context_mkdir_async(f->ctx, "/twins/dir", NULL, on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_true(xlev_context_mkdir_finish(f->ctx, d.result, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_context_exists(f->ctx, "/twins/dir", NULL, &error));

    set = perm_list(0, XLEV_PERMISSION_MODE_NONE, 5, XLEV_PERMISSION_MODE_READ,
                    -1);
    xlev_context_set_permissions_async(f->ctx, "/twins/dir", set, NULL,
                                       on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_true(
        xlev_context_set_permissions_finish(f->ctx, d.result, &error));
    g_assert_no_error(error);
    xlev_context_get_permissions_async(f->ctx, "/twins/dir", NULL, on_done,
                                       &d);
    AWAIT_DONE(f, d);
    got = xlev_context_get_permissions_finish(f->ctx, d.result, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_length(got), ==, 2);
    assert_perm(got, 0, 0, XLEV_PERMISSION_MODE_NONE);
    assert_perm(got, 1, 5, XLEV_PERMISSION_MODE_READ);

    xlev_context_get_domain_path_async(f->ctx, 4, NULL, on_done, &d);
    AWAIT_DONE(f, d);
    path = xlev_context_get_domain_path_finish(f->ctx, d.result, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(path, ==, "/local/domain/4");

    /* errors: the daemon's, and bad input refused before sending */
    xlev_context_get_permissions_async(f->ctx, "/twins/none", NULL, on_done,
                                       &d);
    AWAIT_DONE(f, d);
    g_assert_null(xlev_context_get_permissions_finish(f->ctx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_error(&error);
    xlev_context_mkdir_async(f->ctx, "relative", NULL, on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_false(xlev_context_mkdir_finish(f->ctx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    xlev_context_set_permissions_async(f->ctx, "/twins/dir", NULL, NULL,
                                       on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_false(
        xlev_context_set_permissions_finish(f->ctx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    reserved = perm_list(0, XLEV_PERMISSION_MODE_NONE,
                         XLEV_DOMID_FIRST_RESERVED, XLEV_PERMISSION_MODE_READ,
                         -1);
    xlev_context_set_permissions_async(f->ctx, "/twins/dir", reserved, NULL,
                                       on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_false(
        xlev_context_set_permissions_finish(f->ctx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    xlev_context_get_domain_path_async(f->ctx, XLEV_DOMID_FIRST_RESERVED, NULL,
                                       on_done, &d);
    AWAIT_DONE(f, d);
    g_assert_null(xlev_context_get_domain_path_finish(f->ctx, d.result, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    /* the list was left as it was */
    g_clear_list(&got, (GDestroyNotify)xlev_permission_free);
    got = xlev_context_get_permissions(f->ctx, "/twins/dir", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_length(got), ==, 2);
    g_clear_object(&d.result);
}

/* Cancelled after sending: the task completes at once with
 * G_IO_ERROR_CANCELLED, the callback comes once, the late answer is
 * dropped (ASan and valgrind check that nothing of it leaks). */
static void
assert_cancelled_once(Fixture *f, Done *d)
{
    g_autoptr(GError) error = NULL;

    WAIT_FOR(f->main_context, d->calls > 0, 5000);
    g_assert_true(g_task_propagate_boolean(G_TASK(d->result), &error)
                  == FALSE);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    /* long enough for the answer to come and be dropped */
    spin_for(f->main_context, 100);
    g_assert_cmpint(d->calls, ==, 1);
    d->calls = 0;
    g_clear_object(&d->result);
}

static void
test_async_cancelled(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(XlevTransaction) tx = NULL;
    g_autofree char *value = NULL;
    Done d = {0};

    /* cancelled before the call: nothing is sent */
    g_cancellable_cancel(cancellable);
    xlev_context_transaction_start_async(f->ctx, cancellable, on_done, &d);
    assert_cancelled_once(f, &d);
    g_cancellable_reset(cancellable);

    /* cancelled after sending, before the answer */
    xlev_context_transaction_start_async(f->ctx, cancellable, on_done, &d);
    g_cancellable_cancel(cancellable);
    assert_cancelled_once(f, &d);
    g_cancellable_reset(cancellable);

    tx = start_async(f, f->ctx);
    xlev_transaction_write_async(tx, "/tx/cancel", "v", cancellable, on_done,
                                 &d);
    g_cancellable_cancel(cancellable);
    assert_cancelled_once(f, &d);
    g_cancellable_reset(cancellable);
    xlev_transaction_read_async(tx, "/tx/cancel", cancellable, on_done, &d);
    g_cancellable_cancel(cancellable);
    assert_cancelled_once(f, &d);
    g_cancellable_reset(cancellable);

    /* a cancelled commit was sent all the same: it may still commit (here
     * it does: the write above was sent too); the transaction is finished */
    xlev_transaction_commit_async(tx, cancellable, on_done, &d);
    g_cancellable_cancel(cancellable);
    assert_cancelled_once(f, &d);
    g_cancellable_reset(cancellable);
    g_assert_true(xlev_transaction_is_finished(tx));
    value = xlev_context_read(f->ctx, "/tx/cancel", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "v");

    /* the context's twins */
    xlev_context_get_permissions_async(f->ctx, "/tx/cancel", cancellable,
                                       on_done, &d);
    g_cancellable_cancel(cancellable);
    assert_cancelled_once(f, &d);
    g_cancellable_reset(cancellable);
    xlev_context_get_domain_path_async(f->ctx, 3, cancellable, on_done, &d);
    g_cancellable_cancel(cancellable);
    assert_cancelled_once(f, &d);
    g_cancellable_reset(cancellable);
    xlev_context_mkdir_async(f->ctx, "/tx/cancel/dir", cancellable, on_done,
                             &d);
    g_cancellable_cancel(cancellable);
    assert_cancelled_once(f, &d);
}

/* With the daemon stopped, the answers are surely late: a cancelled
 * async call completes at once, dropping an unfinished transaction does
 * not wait for its abort, and once the daemon goes on the late answers
 * are dropped (each callback came once) and the connection still works. */
static void
test_async_stopped_daemon(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(XlevTransaction) tx = start_async(f, f->ctx);
    XlevTransaction *dropped = start_async(f, f->ctx);
    g_autofree char *value = NULL;
    Done d = {0};
    gint64 t0, took;

    g_assert_true(xlev_transaction_write(dropped, "/tx/stopped/dropped", "x",
                                         NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(kill(f->xs.pid, SIGSTOP), ==, 0);

    xlev_transaction_write_async(tx, "/tx/stopped/k", "v", cancellable,
                                 on_done, &d);
    xlev_transaction_commit_async(tx, cancellable, on_done, &d);
    spin_for(f->main_context, 50);
    g_assert_cmpint(d.calls, ==, 0); /* no answer while stopped */
    g_cancellable_cancel(cancellable);
    WAIT_FOR(f->main_context, d.calls == 2, 1000);

    t0 = g_get_monotonic_time();
    g_object_unref(dropped);
    took = g_get_monotonic_time() - t0;
    g_assert_cmpint(took, <, 100 * 1000);

    g_assert_cmpint(kill(f->xs.pid, SIGCONT), ==, 0);
    spin_for(f->main_context, 200);
    g_assert_cmpint(d.calls, ==, 2);
    /* the cancelled requests were sent: the write and the commit happened;
     * the dropped transaction was aborted */
    value = xlev_context_read(f->ctx, "/tx/stopped/k", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "v");
    g_assert_false(
        xlev_context_exists(f->ctx, "/tx/stopped/dropped", NULL, &error));
    g_assert_no_error(error);
    g_clear_object(&d.result);
}

/* The answer completes the task in the context's main context; the
 * callback runs in the caller's thread-default main context, another one
 * here: iterating the context's alone never runs it. */
static void
test_async_main_context(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainContext) caller = g_main_context_new();
    g_autoptr(XlevTransaction) tx = NULL;
    g_autofree char *path = NULL;
    Done d = {.expected = caller};

    g_main_context_push_thread_default(caller);
    xlev_context_transaction_start_async(f->ctx, NULL, on_done, &d);
    WAIT_FOR(f->main_context, g_main_context_pending(caller), 5000);
    g_assert_cmpint(d.calls, ==, 0);
    WAIT_FOR(caller, d.calls > 0, 5000);
    g_assert_cmpint(d.calls, ==, 1);
    g_assert_true(d.in_expected);
    tx = xlev_context_transaction_start_finish(f->ctx, d.result, &error);
    g_assert_no_error(error);
    g_clear_object(&d.result);

    d.calls = 0;
    d.in_expected = FALSE;
    xlev_transaction_write_async(tx, "/tx/mc", "v", NULL, on_done, &d);
    WAIT_FOR(f->main_context, g_main_context_pending(caller), 5000);
    g_assert_cmpint(d.calls, ==, 0);
    WAIT_FOR(caller, d.calls > 0, 5000);
    g_assert_true(d.in_expected);
    g_assert_true(xlev_transaction_write_finish(tx, d.result, &error));
    g_assert_no_error(error);
    g_clear_object(&d.result);

    d.calls = 0;
    d.in_expected = FALSE;
    xlev_transaction_commit_async(tx, NULL, on_done, &d);
    WAIT_FOR(f->main_context, g_main_context_pending(caller), 5000);
    g_assert_cmpint(d.calls, ==, 0);
    WAIT_FOR(caller, d.calls > 0, 5000);
    g_assert_true(d.in_expected);
    g_assert_true(xlev_transaction_commit_finish(tx, d.result, &error));
    g_assert_no_error(error);
    g_clear_object(&d.result);

    d.calls = 0;
    d.in_expected = FALSE;
    xlev_context_get_domain_path_async(f->ctx, 2, NULL, on_done, &d);
    WAIT_FOR(f->main_context, g_main_context_pending(caller), 5000);
    g_assert_cmpint(d.calls, ==, 0);
    WAIT_FOR(caller, d.calls > 0, 5000);
    g_assert_true(d.in_expected);
    path = xlev_context_get_domain_path_finish(f->ctx, d.result, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(path, ==, "/local/domain/2");
    g_clear_object(&d.result);
    g_main_context_pop_thread_default(caller);
}

/* Transactions run asynchronously, many at once, start no thread. */
#define NO_THREAD_TRANSACTIONS 20

static void
test_async_no_thread(Fixture *f, gconstpointer data)
{
    g_autoptr(GHashTable) before = thread_ids();
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) names = NULL;
    XlevTransaction *txs[NO_THREAD_TRANSACTIONS];
    Done d[NO_THREAD_TRANSACTIONS] = {{0}};
    int i;

    /* Nodes that exist: creating one in a transaction would change its
     * parent too, and the commits would conflict. */
    for (i = 0; i < NO_THREAD_TRANSACTIONS; i++) {
        g_autofree char *p = g_strdup_printf("/tx/nothread/%d", i);

        g_assert_true(xlev_context_write(f->ctx, p, "", NULL, &error));
        g_assert_no_error(error);
    }
    for (i = 0; i < NO_THREAD_TRANSACTIONS; i++)
        xlev_context_transaction_start_async(f->ctx, NULL, on_done, &d[i]);
    for (i = 0; i < NO_THREAD_TRANSACTIONS; i++) {
        AWAIT_DONE(f, d[i]);
        txs[i] = xlev_context_transaction_start_finish(f->ctx, d[i].result,
                                                       &error);
        g_assert_no_error(error);
    }
    for (i = 0; i < NO_THREAD_TRANSACTIONS; i++) {
        g_autofree char *p = g_strdup_printf("/tx/nothread/%d", i);

        xlev_transaction_write_async(txs[i], p, "v", NULL, on_done, &d[i]);
    }
    for (i = 0; i < NO_THREAD_TRANSACTIONS; i++) {
        AWAIT_DONE(f, d[i]);
        g_assert_true(
            xlev_transaction_write_finish(txs[i], d[i].result, &error));
        g_assert_no_error(error);
        xlev_transaction_commit_async(txs[i], NULL, on_done, &d[i]);
    }
    for (i = 0; i < NO_THREAD_TRANSACTIONS; i++) {
        AWAIT_DONE(f, d[i]);
        g_assert_true(
            xlev_transaction_commit_finish(txs[i], d[i].result, &error));
        g_assert_no_error(error);
        g_clear_object(&d[i].result);
        g_object_unref(txs[i]);
    }
    xlev_context_mkdir_async(f->ctx, "/tx/nothread/dir", NULL, on_done, &d[0]);
    AWAIT_DONE(f, d[0]);
    g_assert_true(xlev_context_mkdir_finish(f->ctx, d[0].result, &error));
    g_assert_no_error(error);
    g_clear_object(&d[0].result);
    assert_no_new_thread(before);
    names = xlev_context_directory(f->ctx, "/tx/nothread", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(names), ==, NO_THREAD_TRANSACTIONS + 1);
}

static void
test_permissions(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autolist(XlevPermission) set = NULL;
    g_autolist(XlevPermission) got = NULL;
    GList *empty = NULL;
    g_autolist(XlevPermission) reserved = NULL;
    g_autolist(XlevPermission) bad_mode = NULL;
    g_autoptr(XlevTransaction) tx = NULL;
    g_autoptr(XlevPermission) copy = NULL;

    g_assert_true(xlev_context_mkdir(f->ctx, "/perm/node", NULL, &error));
    g_assert_no_error(error);
    /* mkdir of an existing node is no error. */
    g_assert_true(xlev_context_mkdir(f->ctx, "/perm/node", NULL, &error));
    g_assert_no_error(error);

    set = perm_list(3, XLEV_PERMISSION_MODE_NONE, 5, XLEV_PERMISSION_MODE_READ,
                    6, XLEV_PERMISSION_MODE_WRITE, 9, XLEV_PERMISSION_MODE_BOTH,
                    -1);
    g_assert_true(
        xlev_context_set_permissions(f->ctx, "/perm/node", set, NULL, &error));
    g_assert_no_error(error);
    got = xlev_context_get_permissions(f->ctx, "/perm/node", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_length(got), ==, 4);
    assert_perm(got, 0, 3, XLEV_PERMISSION_MODE_NONE);
    assert_perm(got, 1, 5, XLEV_PERMISSION_MODE_READ);
    assert_perm(got, 2, 6, XLEV_PERMISSION_MODE_WRITE);
    assert_perm(got, 3, 9, XLEV_PERMISSION_MODE_BOTH);
    copy = xlev_permission_copy(g_list_nth_data(got, 3));
    g_assert_cmpuint(copy->domid, ==, 9);
    g_assert_true(G_TYPE_IS_BOXED(XLEV_TYPE_PERMISSION));

    /* Bad lists: refused before sending; the node keeps its list. */
    reserved
        = perm_list(0, XLEV_PERMISSION_MODE_NONE, XLEV_DOMID_FIRST_RESERVED,
                    XLEV_PERMISSION_MODE_READ, -1);
    bad_mode = perm_list(0, (XlevPermissionMode)7, -1);
    g_assert_false(xlev_context_set_permissions(f->ctx, "/perm/node", empty,
                                                NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_false(
        xlev_context_set_permissions(f->ctx, "/perm/node", NULL, NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_false(xlev_context_set_permissions(f->ctx, "/perm/node", reserved,
                                                NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_assert_nonnull(strstr(error->message, "32752"));
    g_clear_error(&error);
    g_assert_false(xlev_context_set_permissions(f->ctx, "/perm/node", bad_mode,
                                                NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_false(
        xlev_context_set_permissions(f->ctx, "/perm/none", set, NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_error(&error);
    g_assert_null(
        xlev_context_get_permissions(f->ctx, "/perm/none", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_error(&error);
    g_assert_null(xlev_context_get_permissions(f->ctx, "bad", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_clear_list(&got, (GDestroyNotify)xlev_permission_free);
    got = xlev_context_get_permissions(f->ctx, "/perm/node", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_length(got), ==, 4);

    /* Inside a transaction: set there, seen outside after the commit. */
    tx = xlev_context_transaction_start(f->ctx, NULL, &error);
    g_assert_no_error(error);
    g_clear_list(&set, (GDestroyNotify)xlev_permission_free);
    set = perm_list(0, XLEV_PERMISSION_MODE_READ, -1);
    g_assert_true(
        xlev_transaction_set_permissions(tx, "/perm/node", set, NULL, &error));
    g_assert_no_error(error);
    g_assert_false(xlev_transaction_set_permissions(tx, "/perm/node", reserved,
                                                    NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_clear_list(&got, (GDestroyNotify)xlev_permission_free);
    got = xlev_transaction_get_permissions(tx, "/perm/node", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_length(got), ==, 1);
    assert_perm(got, 0, 0, XLEV_PERMISSION_MODE_READ);
    g_clear_list(&got, (GDestroyNotify)xlev_permission_free);
    got = xlev_context_get_permissions(f->ctx, "/perm/node", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_length(got), ==, 4);
    g_assert_true(xlev_transaction_commit(tx, NULL, &error));
    g_assert_no_error(error);
    g_clear_list(&got, (GDestroyNotify)xlev_permission_free);
    got = xlev_context_get_permissions(f->ctx, "/perm/node", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_length(got), ==, 1);
    assert_perm(got, 0, 0, XLEV_PERMISSION_MODE_READ);
}

static void
test_domain_path(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    g_autofree char *path0 = NULL;

    path = xlev_context_get_domain_path(f->ctx, 3, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(path, ==, "/local/domain/3");
    path0 = xlev_context_get_domain_path(f->ctx, 0, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(path0, ==, "/local/domain/0");
    g_assert_null(xlev_context_get_domain_path(
        f->ctx, XLEV_DOMID_FIRST_RESERVED, NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_false(xlev_context_mkdir(f->ctx, "not/absolute", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
}

/* The guest reads @path: the reply's payload, *type_out XS_READ or
 * XS_ERROR. */
static char *
guest_read(XsFixture *fx, struct xenstore_domain_interface *intf,
           const char *path, uint32_t req_id, uint32_t *type_out)
{
    g_autoptr(GError) error = NULL;
    struct xsd_sockmsg msg = { .type = XS_READ,
                               .req_id = req_id,
                               .tx_id = 0,
                               .len = (uint32_t)strlen(path) + 1 };
    gint64 deadline
        = g_get_monotonic_time()
          + (gint64)xs_fixture_scale_ms(GUEST_REPLY_TIMEOUT_MS) * 1000;
    char *body;

    xs_fixture_ring_put(intf, &msg, sizeof msg);
    xs_fixture_ring_put(intf, path, strlen(path) + 1);
    g_assert_true(xs_fixture_kick(fx, GUEST_DOMID, &error));
    g_assert_no_error(error);
    xs_fixture_ring_get(intf, &msg, sizeof msg, deadline);
    g_assert_cmpuint(msg.req_id, ==, req_id);
    g_assert_cmpuint(msg.len, <=, XENSTORE_PAYLOAD_MAX);
    body = g_malloc0(msg.len + 1);
    xs_fixture_ring_get(intf, body, msg.len, deadline);
    *type_out = msg.type;
    return body;
}

/* A node the guest may not read is refused to it; once the library grants
 * it read access, the guest reads it. */
static void
test_guest_refused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autolist(XlevPermission) closed = NULL;
    g_autolist(XlevPermission) granted = NULL;
    g_autofree char *ring_name
        = g_strdup_printf("ring-%u", (unsigned)GUEST_DOMID);
    g_autofree char *ring_path
        = g_build_filename(f->xs.rundir, ring_name, NULL);
    g_autofree char *home = NULL;
    g_autofree char *reply = NULL;
    struct xenstore_domain_interface *intf;
    struct xs_handle *h;
    uint32_t type = 0;
    int fd;

    if (!xs_fixture_hypervisor_preloaded()) {
        g_test_skip("the hypervisor stand-in is not preloaded");
        return;
    }
    home = xlev_context_get_domain_path(f->ctx, GUEST_DOMID, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_context_mkdir(f->ctx, home, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(
        xlev_context_write(f->ctx, "/secret", "s3cr3t", NULL, &error));
    g_assert_no_error(error);
    closed = perm_list(0, XLEV_PERMISSION_MODE_NONE, -1);
    g_assert_true(
        xlev_context_set_permissions(f->ctx, "/secret", closed, NULL, &error));
    g_assert_no_error(error);

    /* Introducing takes libxenstore: the library has no call for it. */
    h = xs_open(0);
    g_assert_nonnull(h);
    g_assert_true(xs_introduce_domain(h, GUEST_DOMID, 0, GUEST_PORT));
    xs_close(h);
    fd = open(ring_path, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    intf = mmap(NULL, sizeof *intf, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    g_assert_true(intf != MAP_FAILED);

    reply = guest_read(&f->xs, intf, "/secret", 1, &type);
    g_assert_cmpuint(type, ==, XS_ERROR);
    g_assert_cmpstr(reply, ==, "EACCES");

    granted = perm_list(0, XLEV_PERMISSION_MODE_NONE, GUEST_DOMID,
                        XLEV_PERMISSION_MODE_READ, -1);
    g_assert_true(
        xlev_context_set_permissions(f->ctx, "/secret", granted, NULL, &error));
    g_assert_no_error(error);
    g_clear_pointer(&reply, g_free);
    reply = guest_read(&f->xs, intf, "/secret", 2, &type);
    g_assert_cmpuint(type, ==, XS_READ);
    g_assert_cmpstr(reply, ==, "s3cr3t");

    munmap(intf, sizeof *intf);
}

/* Over the xenbus device (libxenstore underneath) too: a transaction
 * commits, a conflict is AGAIN, the helper retries; permissions, mkdir
 * and domain paths work. */
static void
test_xenbus_transport(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) ctx = NULL;
    g_autoptr(XlevTransaction) tx = NULL;
    g_autolist(XlevPermission) set = NULL;
    g_autolist(XlevPermission) got = NULL;
    g_autofree char *path = NULL;
    g_autofree char *value = NULL;
    Spoiler s = { f->ctx, 0 };

    if (!xs_fixture_hypervisor_preloaded()) {
        g_test_skip("the hypervisor stand-in is not preloaded");
        return;
    }
    g_assert_true(xs_fixture_select_transport(
        &f->xs, XS_FIXTURE_TRANSPORT_XENBUS, &error));
    g_assert_no_error(error);
    ctx = xlev_context_new_full(NULL, f->integration, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(xlev_context_get_transport(ctx), ==, XLEV_TRANSPORT_XENBUS);

    tx = xlev_context_transaction_start(ctx, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_write(tx, "/xenbus/a", "1", NULL, &error));
    g_assert_no_error(error);
    g_assert_false(xlev_context_exists(f->ctx, "/xenbus/a", NULL, &error));
    g_assert_no_error(error);
    g_assert_true(xlev_transaction_commit(tx, NULL, &error));
    g_assert_no_error(error);
    value = xlev_context_read(f->ctx, "/xenbus/a", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(value, ==, "1");

    /* The socket context spoils every attempt of the xenbus one. */
    g_assert_true(xlev_context_write(ctx, "/tx/n", "0", NULL, &error));
    g_assert_no_error(error);
    g_assert_false(xlev_context_transact(ctx, 2, NULL, spoiled, &s, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_AGAIN);
    g_clear_error(&error);
    g_assert_cmpuint(s.calls, ==, 2);

    g_assert_true(xlev_context_mkdir(ctx, "/xenbus/node", NULL, &error));
    g_assert_no_error(error);
    set = perm_list(0, XLEV_PERMISSION_MODE_NONE, 4, XLEV_PERMISSION_MODE_BOTH,
                    -1);
    g_assert_true(
        xlev_context_set_permissions(ctx, "/xenbus/node", set, NULL, &error));
    g_assert_no_error(error);
    got = xlev_context_get_permissions(ctx, "/xenbus/node", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_length(got), ==, 2);
    assert_perm(got, 1, 4, XLEV_PERMISSION_MODE_BOTH);
    path = xlev_context_get_domain_path(ctx, 4, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(path, ==, "/local/domain/4");

    /* The async calls too: the round trip is made at once, the answer
     * still comes from the loop. */
    {
        g_autoptr(XlevTransaction) atx = start_async(f, ctx);
        g_autolist(XlevPermission) agot = NULL;
        g_autofree char *apath = NULL;
        Done d = {0};

        xlev_transaction_write_async(atx, "/xenbus/async", "2", NULL, on_done,
                                     &d);
        g_assert_cmpint(d.calls, ==, 0);
        AWAIT_DONE(f, d);
        g_assert_true(xlev_transaction_write_finish(atx, d.result, &error));
        g_assert_no_error(error);
        xlev_transaction_commit_async(atx, NULL, on_done, &d);
        AWAIT_DONE(f, d);
        g_assert_true(xlev_transaction_commit_finish(atx, d.result, &error));
        g_assert_no_error(error);
        g_clear_pointer(&value, g_free);
        value = xlev_context_read(f->ctx, "/xenbus/async", NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(value, ==, "2");

        xlev_context_get_permissions_async(ctx, "/xenbus/node", NULL, on_done,
                                           &d);
        AWAIT_DONE(f, d);
        agot = xlev_context_get_permissions_finish(ctx, d.result, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_list_length(agot), ==, 2);
        assert_perm(agot, 1, 4, XLEV_PERMISSION_MODE_BOTH);
        xlev_context_get_domain_path_async(ctx, 5, NULL, on_done, &d);
        AWAIT_DONE(f, d);
        apath = xlev_context_get_domain_path_finish(ctx, d.result, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(apath, ==, "/local/domain/5");
        g_clear_object(&d.result);
    }
}

int
main(int argc, char **argv)
{
    xs_fixture_reexec_with_hypervisor(argv);
    g_test_init(&argc, &argv, NULL);

    /* First: no earlier test's thread (a GTask pool's, say) may be there
     * for an async call to reuse unseen. */
    XLEV_TEST_ADD_BOTH("/transaction/async-no-thread", test_async_no_thread);
    XLEV_TEST_ADD_BOTH("/transaction/commit-and-isolation",
                       test_commit_and_isolation);
    XLEV_TEST_ADD_BOTH("/transaction/abort", test_abort);
    XLEV_TEST_ADD_BOTH("/transaction/used-after-finish",
                       test_used_after_finish);
    XLEV_TEST_ADD_BOTH("/transaction/bad-input", test_bad_input);
    XLEV_TEST_ADD_BOTH("/transaction/conflict-is-again",
                       test_conflict_is_again);
    XLEV_TEST_ADD_BOTH("/transaction/transact-race", test_transact_race);
    XLEV_TEST_ADD_BOTH("/transaction/transact-errors", test_transact_errors);
    XLEV_TEST_ADD_BOTH("/transaction/async", test_async);
    XLEV_TEST_ADD_BOTH("/transaction/async-errors", test_async_errors);
    XLEV_TEST_ADD_BOTH("/transaction/async-cancelled", test_async_cancelled);
    XLEV_TEST_ADD_BOTH("/transaction/async-stopped-daemon",
                       test_async_stopped_daemon);
    XLEV_TEST_ADD_BOTH("/transaction/async-main-context",
                       test_async_main_context);
    XLEV_TEST_ADD_BOTH("/permissions/async-twins", test_context_async_twins);
    XLEV_TEST_ADD_BOTH("/permissions/set-get-and-bad-lists", test_permissions);
    XLEV_TEST_ADD_BOTH("/permissions/domain-path-and-mkdir", test_domain_path);
    XLEV_TEST_ADD_BOTH("/permissions/guest-refused", test_guest_refused);
    XLEV_TEST_ADD_BOTH("/transaction/xenbus-transport", test_xenbus_transport);

    return g_test_run();
}
