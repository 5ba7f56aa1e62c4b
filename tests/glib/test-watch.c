/* test-watch.c: XlevWatch against a real xenstored, both integrations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-test-common.h"
#include "xlev-error-private.h"

/* Private: libxlev-glib/xlev-context-private.h. */
void xlev_context_report_disaster(XlevContext *self, XlevDisaster kind,
                                  const char *message, int errnoval);

#include <errno.h>
#include <string.h>
#include <xenstore.h>

#define N_WRITES 1000

typedef struct {
    GMainContext *expected_context;
    GPtrArray *paths; /* event paths, in order */
    XlevWatch *cancel_in_handler;   /* cancelled by the handler */
    XlevContext **unref_in_handler; /* cleared by the handler */
    gboolean dispose_in_handler;
} Recorder;

static void
recorder_init(Recorder *r, Fixture *f)
{
    memset(r, 0, sizeof(*r));
    r->expected_context = f->main_context;
    r->paths = g_ptr_array_new_with_free_func(g_free);
}

static void
recorder_clear(Recorder *r)
{
    g_ptr_array_unref(r->paths);
}

static void
on_changed(XlevWatch *watch, const char *event_path, gpointer data)
{
    Recorder *r = data;

    /* Emitted in the context's main context, by the thread iterating it. */
    g_assert_true(g_main_context_is_owner(r->expected_context));
    g_assert_nonnull(event_path);
    g_ptr_array_add(r->paths, g_strdup(event_path));

    if (r->cancel_in_handler != NULL)
        xlev_watch_cancel(r->cancel_in_handler);
    if (r->unref_in_handler != NULL)
        g_clear_object(r->unref_in_handler);
    if (r->dispose_in_handler)
        g_object_run_dispose(G_OBJECT(xlev_watch_get_context(watch)));
}

/* Initialises r and returns a new watch of path whose events r records. */
static XlevWatch *
watch_recorded(Fixture *f, const char *path, XlevWatchFlags flags, Recorder *r)
{
    g_autoptr(GError) error = NULL;
    XlevWatch *w;

    recorder_init(r, f);
    w = xlev_context_watch(f->ctx, path, flags, &error);
    g_assert_no_error(error);
    g_assert_nonnull(w);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed), r);
    return w;
}

/* Waits until r has recorded n events and checks the path of the nth. */
static void
recorder_wait_path(Fixture *f, Recorder *r, guint n, const char *path)
{
    WAIT_FOR(f->main_context, r->paths->len == n, 5000);
    g_assert_cmpstr(r->paths->pdata[n - 1], ==, path);
}

static void
write_or_die(Fixture *f, const char *path, const char *value)
{
    g_autoptr(GError) error = NULL;

    xlev_context_write(f->ctx, path, value, NULL, &error);
    g_assert_no_error(error);
}

static void
test_initial_and_changed(Fixture *f, gconstpointer data)
{
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;
    g_autofree char *path = NULL;
    XlevWatchFlags flags;
    gboolean active;

    write_or_die(f, "/w", "");
    w = watch_recorded(f, "/w", XLEV_WATCH_FLAGS_NONE, &r);

    g_object_get(w, "path", &path, "flags", &flags, "active", &active, NULL);
    g_assert_cmpstr(path, ==, "/w");
    g_assert_cmpint(flags, ==, XLEV_WATCH_FLAGS_NONE);
    g_assert_true(active);
    g_assert_true(xlev_watch_get_context(w) == f->ctx);

    /* The initial event xenstored sends on registration. */
    recorder_wait_path(f, &r, 1, "/w");

    write_or_die(f, "/w/a", "1");
    recorder_wait_path(f, &r, 2, "/w/a");

    recorder_clear(&r);
}

static void
test_skip_initial(Fixture *f, gconstpointer data)
{
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;

    w = watch_recorded(f, "/s", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);
    spin_for(f->main_context, 50);
    g_assert_cmpuint(r.paths->len, ==, 0);

    write_or_die(f, "/s/x", "1");
    recorder_wait_path(f, &r, 1, "/s/x");
    recorder_clear(&r);
}

/* A write by another process (the stock CLI) arrives as ::changed. */
static void
test_second_process(Fixture *f, gconstpointer data)
{
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;
    const char *argv[] = {"xenstore-write", "/cli/key", "v", NULL};
    int status = -1;

    w = watch_recorded(f, "/cli", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);

    /* The fixture exported XENSTORED_PATH: the child inherits it. */
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                 NULL, NULL, &status, &error);
    g_assert_no_error(error);
    g_spawn_check_wait_status(status, &error);
    g_assert_no_error(error);

    recorder_wait_path(f, &r, 1, "/cli/key");
    recorder_clear(&r);
}

/* A second libxenstore connection, in a thread, as fast as it can. */
static gpointer
writer_thread(gpointer data)
{
    struct xs_handle *xs = xs_open(0);

    g_assert_nonnull(xs);
    for (int i = 0; i < N_WRITES; i++) {
        char path[64];

        g_snprintf(path, sizeof(path), "/many/k%04d", i);
        g_assert_true(xs_write(xs, XBT_NULL, path, "x", 1));
    }
    xs_close(xs);
    return NULL;
}

/* Every write to a distinct key gives one event, none lost, in the order
 * of the writes. */
static void
test_thousand_writes(Fixture *f, gconstpointer data)
{
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;
    GThread *writer;

    w = watch_recorded(f, "/many", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);

    writer = g_thread_new("writer", writer_thread, NULL);
    WAIT_FOR(f->main_context, r.paths->len >= N_WRITES, 60000);
    g_thread_join(writer);

    spin_for(f->main_context, 50);
    g_assert_cmpuint(r.paths->len, ==, N_WRITES);
    for (int i = 0; i < N_WRITES; i++) {
        char path[64];

        g_snprintf(path, sizeof(path), "/many/k%04d", i);
        g_assert_cmpstr(r.paths->pdata[i], ==, path);
    }
    recorder_clear(&r);
}

static void
test_not_yet_existing(Fixture *f, gconstpointer data)
{
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_false(xlev_context_exists(f->ctx, "/later", NULL, &error));
    g_assert_no_error(error);

    w = watch_recorded(f, "/later/deeper", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);
    write_or_die(f, "/later/deeper/x", "1");
    recorder_wait_path(f, &r, 1, "/later/deeper/x");
    recorder_clear(&r);
}

static void
on_notify_active(GObject *object, GParamSpec *pspec, gpointer data)
{
    (*(int *)data)++;
}

static void
test_cancel_self_in_handler(Fixture *f, gconstpointer data)
{
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;
    int notified = 0;

    w = watch_recorded(f, "/cs", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);
    r.cancel_in_handler = w;
    g_signal_connect(w, "notify::active", G_CALLBACK(on_notify_active),
                     &notified);

    /* Several events in one batch: only the first is emitted. */
    write_or_die(f, "/cs/a", "1");
    write_or_die(f, "/cs/b", "1");
    write_or_die(f, "/cs/c", "1");
    WAIT_FOR(f->main_context, r.paths->len == 1, 5000);
    spin_for(f->main_context, 100);
    g_assert_cmpuint(r.paths->len, ==, 1);
    g_assert_false(xlev_watch_get_active(w));
    g_assert_cmpint(notified, ==, 1);

    /* Cancelling again does nothing. */
    xlev_watch_cancel(w);
    g_assert_cmpint(notified, ==, 1);
    recorder_clear(&r);
}

/* Two watches on one path; whichever is emitted first cancels the other,
 * so each write is seen exactly once. */
static void
test_cancel_other_in_handler(Fixture *f, gconstpointer data)
{
    Recorder r1, r2;
    g_autoptr(XlevWatch) w1 = NULL;
    g_autoptr(XlevWatch) w2 = NULL;

    w1 = watch_recorded(f, "/co", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r1);
    w2 = watch_recorded(f, "/co", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r2);
    r1.cancel_in_handler = w2;
    r2.cancel_in_handler = w1;

    write_or_die(f, "/co/x", "1");
    WAIT_FOR(f->main_context, r1.paths->len + r2.paths->len >= 1, 5000);
    spin_for(f->main_context, 100);
    g_assert_cmpuint(r1.paths->len + r2.paths->len, ==, 1);
    g_assert_true(xlev_watch_get_active(w1) != xlev_watch_get_active(w2));

    recorder_clear(&r1);
    recorder_clear(&r2);
}

/* The handler drops the test's reference to the context: the watch keeps
 * it alive and keeps working; the context goes with the watch. */
static void
test_unref_context_in_handler(Fixture *f, gconstpointer data)
{
    Recorder r;
    XlevWatch *w;
    GWeakRef ctx_ref;

    g_weak_ref_init(&ctx_ref, f->ctx);
    w = watch_recorded(f, "/uc", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);
    r.unref_in_handler = &f->ctx;

    xlev_context_write(xlev_watch_get_context(w), "/uc/a", "1", NULL, NULL);
    xlev_context_write(xlev_watch_get_context(w), "/uc/b", "1", NULL, NULL);
    WAIT_FOR(f->main_context, r.paths->len == 2, 5000);
    g_assert_null(f->ctx);

    g_assert_finalize_object(w);
    g_assert_null(g_weak_ref_get(&ctx_ref));
    g_weak_ref_clear(&ctx_ref);
    recorder_clear(&r);
}

/* The handler disposes the context: nothing more is emitted, nothing
 * crashes, and everything is freed. */
static void
test_dispose_context_in_handler(Fixture *f, gconstpointer data)
{
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;

    w = watch_recorded(f, "/dc", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);
    r.dispose_in_handler = TRUE;

    write_or_die(f, "/dc/a", "1");
    write_or_die(f, "/dc/b", "1");
    write_or_die(f, "/dc/c", "1");
    WAIT_FOR(f->main_context, r.paths->len >= 1, 5000);
    spin_for(f->main_context, 100);
    g_assert_cmpuint(r.paths->len, ==, 1);
    recorder_clear(&r);
}

/* The handler frees everything: the watch (last reference) and the
 * context, whose core is freed inside the handler. Under ASan or valgrind
 * this proves no signal is emitted from inside a core call. */
static XlevWatch *free_all_watch;

static void
on_changed_free_all(XlevWatch *watch, const char *event_path, gpointer data)
{
    Fixture *f = data;

    g_clear_object(&free_all_watch);
    g_clear_object(&f->ctx);
}

static void
test_free_everything_in_handler(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    GWeakRef ctx_ref;

    g_weak_ref_init(&ctx_ref, f->ctx);
    free_all_watch = xlev_context_watch(f->ctx, "/fe", XLEV_WATCH_FLAGS_NONE,
                                        &error);
    g_assert_no_error(error);
    g_signal_connect(free_all_watch, "changed",
                     G_CALLBACK(on_changed_free_all), f);
    write_or_die(f, "/fe/a", "1");

    WAIT_FOR(f->main_context, f->ctx == NULL, 5000);
    g_assert_null(free_all_watch);
    g_assert_null(g_weak_ref_get(&ctx_ref));
    g_weak_ref_clear(&ctx_ref);
}

static void
test_bad_input(Fixture *f, gconstpointer data)
{
    g_autofree char *too_long = g_strnfill(XLEV_XS_PATH_MAX + 1, 'a');
    const char *bad[] = {NULL, "", "relative/path", "/a//b", "/trailing/",
                         "/bad char", "/\xff\xfe", too_long};

    too_long[0] = '/';
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        XlevWatch *w = xlev_context_watch(f->ctx, bad[i],
                                          XLEV_WATCH_FLAGS_NONE, &error);

        g_assert_null(w);
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
        g_assert_cmpint(xlev_error_code_to_core(error->code), ==,
                        XLEV_ERROR_INVAL);
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
    }
}

static void
test_special_path(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevWatch) w =
        xlev_context_watch(f->ctx, "@releaseDomain", XLEV_WATCH_FLAGS_NONE,
                           &error);

    g_assert_no_error(error);
    g_assert_cmpstr(xlev_watch_get_path(w), ==, "@releaseDomain");
}

/* A context made in a worker thread with its own main context emits
 * there. */
typedef struct {
    XlevIntegration integration;
    GThread *thread;
    GMainContext *mc;
    guint events;
} WorkerData;

static void
on_changed_worker(XlevWatch *watch, const char *event_path, gpointer data)
{
    WorkerData *wd = data;

    g_assert_true(g_thread_self() == wd->thread);
    g_assert_true(g_main_context_is_owner(wd->mc));
    wd->events++;
}

static gpointer
worker(gpointer data)
{
    WorkerData *wd = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) ctx = NULL;
    g_autoptr(XlevWatch) w = NULL;

    wd->thread = g_thread_self();
    wd->mc = g_main_context_new();
    g_main_context_push_thread_default(wd->mc);

    ctx = xlev_context_new_full(NULL, wd->integration, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(xlev_context_get_main_context(ctx) == wd->mc);
    w = xlev_context_watch(ctx, "/worker", XLEV_WATCH_FLAGS_SKIP_INITIAL,
                           &error);
    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_worker), wd);

    xlev_context_write(ctx, "/worker/x", "1", NULL, &error);
    g_assert_no_error(error);
    WAIT_FOR(wd->mc, wd->events == 1, 5000);

    g_clear_object(&w);
    g_assert_finalize_object(g_steal_pointer(&ctx));
    while (g_main_context_iteration(wd->mc, FALSE))
        ;
    g_main_context_pop_thread_default(wd->mc);
    g_main_context_unref(wd->mc);
    return NULL;
}

static void
test_worker_thread(Fixture *f, gconstpointer data)
{
    WorkerData wd = {.integration = f->integration};
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;
    GThread *t;

    /* The main thread's context sees nothing of the worker's watch, and
     * its own watch is emitted here, not there. */
    w = watch_recorded(f, "/worker", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);

    t = g_thread_new("worker", worker, &wd);
    g_thread_join(t);
    g_assert_cmpuint(wd.events, ==, 1);

    WAIT_FOR(f->main_context, r.paths->len == 1, 5000);
    recorder_clear(&r);
}

/* Watches made and cancelled from another thread while the main context
 * runs. */
static gpointer
make_and_cancel(gpointer data)
{
    XlevContext *ctx = data;

    for (int i = 0; i < 50; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(XlevWatch) w =
            xlev_context_watch(ctx, "/thr", XLEV_WATCH_FLAGS_NONE, &error);

        g_assert_no_error(error);
        if (i % 2)
            xlev_watch_cancel(w);
    }
    return NULL;
}

static void
test_watch_from_other_thread(Fixture *f, gconstpointer data)
{
    Recorder r;
    g_autoptr(XlevWatch) w = NULL;
    GThread *t;

    w = watch_recorded(f, "/thr", XLEV_WATCH_FLAGS_SKIP_INITIAL, &r);
    t = g_thread_new("maker", make_and_cancel, f->ctx);
    for (int i = 0; i < 20; i++) {
        g_main_context_iteration(f->main_context, FALSE);
        g_usleep(1000);
    }
    g_thread_join(t);
    write_or_die(f, "/thr/x", "1");
    WAIT_FOR(f->main_context, r.paths->len == 1, 5000);
    recorder_clear(&r);
}

static void
on_disaster(XlevContext *ctx, XlevDisaster kind, const char *message,
            gpointer data)
{
    Fixture *f = data;

    g_assert_true(g_main_context_is_owner(f->main_context));
    g_assert_cmpint(kind, ==, XLEV_DISASTER_KIND_XENSTORE);
    g_assert_nonnull(message);
    g_object_set_data(G_OBJECT(ctx), "disaster",
                      GINT_TO_POINTER(GPOINTER_TO_INT(g_object_get_data(
                                          G_OBJECT(ctx), "disaster"))
                                      + 1));
}

/* A disaster reported from another thread is emitted in the main
 * context. */
static gpointer
report_disaster(gpointer data)
{
    xlev_context_report_disaster(data, XLEV_DISASTER_KIND_XENSTORE,
                                 "connection lost", ECONNRESET);
    return NULL;
}

static void
test_disaster_from_thread(Fixture *f, gconstpointer data)
{
    g_signal_connect(f->ctx, "disaster", G_CALLBACK(on_disaster), f);
    g_thread_join(g_thread_new("disaster", report_disaster, f->ctx));
    WAIT_FOR(f->main_context,
             g_object_get_data(G_OBJECT(f->ctx), "disaster") != NULL, 5000);
}

/* The daemon dies under a registered watch: the context must not spin or
 * crash; if the core notices, ::disaster is emitted in the main context. */
static void
test_daemon_dies(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevWatch) w = NULL;
    guint iterations = 0;
    gboolean timed_out = FALSE;
    GSource *timer;

    g_signal_connect(f->ctx, "disaster", G_CALLBACK(on_disaster), f);
    w = xlev_context_watch(f->ctx, "/d", XLEV_WATCH_FLAGS_NONE, &error);
    g_assert_no_error(error);
    spin_for(f->main_context, 20);

    /* The core notices within its liveness period (about a second), with
     * no busy loop meanwhile: a handful of iterations, not thousands. */
    xs_fixture_stop(&f->xs);
    timer = g_timeout_source_new(xs_fixture_scale_ms(5000));
    g_source_set_callback(timer, test_flag_set_cb, &timed_out, NULL);
    g_source_attach(timer, f->main_context);
    while (g_object_get_data(G_OBJECT(f->ctx), "disaster") == NULL
           && !timed_out) {
        g_main_context_iteration(f->main_context, TRUE);
        iterations++;
    }
    g_source_destroy(timer);
    g_source_unref(timer);
    g_assert_false(timed_out);
    g_assert_cmpuint(iterations, <, 50);

    /* Emitted once, and later calls fail at once with the right code. */
    spin_for(f->main_context, 100);
    g_assert_cmpint(
        GPOINTER_TO_INT(g_object_get_data(G_OBJECT(f->ctx), "disaster")), ==,
        1);
    g_assert_null(xlev_context_read(f->ctx, "/d", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    XLEV_TEST_ADD_BOTH("/watch/initial-and-changed", test_initial_and_changed);
    XLEV_TEST_ADD_BOTH("/watch/skip-initial", test_skip_initial);
    XLEV_TEST_ADD_BOTH("/watch/write-from-second-process",
                       test_second_process);
    XLEV_TEST_ADD_BOTH("/watch/1000-writes-1000-events", test_thousand_writes);
    XLEV_TEST_ADD_BOTH("/watch/path-not-yet-existing", test_not_yet_existing);
    XLEV_TEST_ADD_BOTH("/watch/cancel-self-in-handler",
                       test_cancel_self_in_handler);
    XLEV_TEST_ADD_BOTH("/watch/cancel-other-in-handler",
                       test_cancel_other_in_handler);
    XLEV_TEST_ADD_BOTH("/watch/unref-context-in-handler",
                       test_unref_context_in_handler);
    XLEV_TEST_ADD_BOTH("/watch/dispose-context-in-handler",
                       test_dispose_context_in_handler);
    XLEV_TEST_ADD_BOTH("/watch/free-everything-in-handler",
                       test_free_everything_in_handler);
    XLEV_TEST_ADD_BOTH("/watch/bad-input-is-inval", test_bad_input);
    XLEV_TEST_ADD_BOTH("/watch/special-path", test_special_path);
    XLEV_TEST_ADD_BOTH("/watch/worker-thread-main-context",
                       test_worker_thread);
    XLEV_TEST_ADD_BOTH("/watch/register-from-other-thread",
                       test_watch_from_other_thread);
    XLEV_TEST_ADD_BOTH("/context/disaster-from-other-thread",
                       test_disaster_from_thread);
    XLEV_TEST_ADD_BOTH("/context/xenstored-dies", test_daemon_dies);

    return g_test_run();
}
