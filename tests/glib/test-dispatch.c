/* test-dispatch.c: how the context's sources are dispatched, both
 * integrations: no re-entrant emission from a nested main loop, and one
 * main loop iteration per event
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-test-common.h"

#include <xenstore.h>

/* Writes made from inside the first handler, before it nests. */
#define N_NESTED_WRITES 10
/* How long the handler iterates the context itself, wall time. */
#define NESTED_MS 200
/* Iterations a nested loop of NESTED_MS may take without spinning: the
 * timer that ends it, the wakeup from taking our fds out of the poll, and
 * room for a slow machine. A spinning loop makes thousands. */
#define NESTED_ITERATIONS_MAX 50

/* Events for the iterations-per-event test, one at a time. */
#define N_PACED 200
/* How long the writer waits after an event before the next write: long
 * enough for the loop to go back to sleep in poll(). */
#define PACE_US 2000

typedef enum {
    NEST_ITERATION, /* g_main_context_iteration() in a loop */
    NEST_MAIN_LOOP, /* a GMainLoop quit by a timeout */
} NestKind;

typedef struct {
    Fixture *f;
    NestKind kind;
    struct xs_handle *xs; /* a second connection, for the writes */
    GPtrArray *paths;     /* event paths, in order */
    int depth;            /* handlers running now */
    int max_depth;
    guint nested_iterations;
    guint emitted_while_nested;
    gboolean nested_done;
} Nest;

static gboolean
quit_loop_cb(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static void
nest_write_all(Nest *n)
{
    for (int i = 0; i < N_NESTED_WRITES; i++) {
        char path[64];

        g_snprintf(path, sizeof(path), "/nest/k%02d", i);
        g_assert_true(xs_write(n->xs, XBT_NULL, path, "x", 1));
    }
}

static void
on_changed_nest(XlevWatch *watch, const char *event_path, gpointer data)
{
    Nest *n = data;
    guint before;
    gint64 start;

    n->depth++;
    n->max_depth = MAX(n->max_depth, n->depth);
    g_ptr_array_add(n->paths, g_strdup(event_path));

    if (n->paths->len == 1) {
        /* More events are on their way while we iterate. */
        nest_write_all(n);
        before = n->paths->len;
        start = g_get_monotonic_time();

        if (n->kind == NEST_ITERATION) {
            n->nested_iterations += spin_for(n->f->main_context, NESTED_MS);
        } else {
            g_autoptr(GMainLoop) loop =
                g_main_loop_new(n->f->main_context, FALSE);
            GSource *timer = g_timeout_source_new(NESTED_MS);

            g_source_set_callback(timer, quit_loop_cb, loop, NULL);
            g_source_attach(timer, n->f->main_context);
            g_main_loop_run(loop);
            g_source_destroy(timer);
            g_source_unref(timer);
        }

        g_assert_cmpint(g_get_monotonic_time() - start, >=,
                        (gint64)NESTED_MS * 1000);
        n->emitted_while_nested = n->paths->len - before;
        n->nested_done = TRUE;
    }
    n->depth--;
}

/* A handler that runs a nested main loop while more events arrive is not
 * re-entered, the nested loop does not spin on our ready fd, and the
 * events are all delivered, in order, once the handler has returned. */
static void
run_nested(Fixture *f, NestKind kind)
{
    Nest n = {.f = f, .kind = kind};
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;

    n.paths = g_ptr_array_new_with_free_func(g_free);
    n.xs = xs_open(0);
    g_assert_nonnull(n.xs);

    w = xlev_context_watch(f->ctx, "/nest", XLEV_WATCH_FLAGS_SKIP_INITIAL,
                           &error);
    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_nest), &n);

    g_assert_true(xs_write(n.xs, XBT_NULL, "/nest/first", "x", 1));
    WAIT_FOR(f->main_context, n.nested_done, 10000);
    WAIT_FOR(f->main_context, n.paths->len == 1 + N_NESTED_WRITES, 10000);
    spin_for(f->main_context, 50);

    g_assert_cmpint(n.max_depth, ==, 1);
    g_assert_cmpint(n.depth, ==, 0);
    g_assert_cmpuint(n.emitted_while_nested, ==, 0);
    if (kind == NEST_ITERATION) {
        g_test_message("%u nested iterations in %d ms", n.nested_iterations,
                       NESTED_MS);
        g_assert_cmpuint(n.nested_iterations, >=, 1);
        g_assert_cmpuint(n.nested_iterations, <=, NESTED_ITERATIONS_MAX);
    }

    g_assert_cmpuint(n.paths->len, ==, 1 + N_NESTED_WRITES);
    g_assert_cmpstr(n.paths->pdata[0], ==, "/nest/first");
    for (int i = 0; i < N_NESTED_WRITES; i++) {
        char path[64];

        g_snprintf(path, sizeof(path), "/nest/k%02d", i);
        g_assert_cmpstr(n.paths->pdata[1 + i], ==, path);
    }

    xs_close(n.xs);
    g_ptr_array_unref(n.paths);
}

static void
test_nested_iteration(Fixture *f, gconstpointer data)
{
    run_nested(f, NEST_ITERATION);
}

static void
test_nested_main_loop(Fixture *f, gconstpointer data)
{
    run_nested(f, NEST_MAIN_LOOP);
}

/* A timeout that falls due while a "changed" handler runs a nested loop
 * is not emitted inside it (in hooks style it has a GLib source of its
 * own): delivery is not re-entered, and ::fired comes once the handler has
 * returned. */
typedef struct {
    Fixture *f;
    XlevTimeout *timeout;
    gboolean in_handler;
    guint fired;
    guint fired_in_handler;
    gboolean handled;
} NestTimeout;

static void
on_fired_count(XlevTimeout *t, gpointer data)
{
    NestTimeout *n = data;

    n->fired++;
    if (n->in_handler)
        n->fired_in_handler++;
}

static void
on_changed_nest_timeout(XlevWatch *watch, const char *event_path,
                        gpointer data)
{
    NestTimeout *n = data;
    g_autoptr(GError) error = NULL;

    if (n->handled)
        return;
    n->handled = TRUE;
    n->in_handler = TRUE;
    n->timeout = xlev_context_timeout(n->f->ctx, 10, &error);
    g_assert_no_error(error);
    g_signal_connect(n->timeout, "fired", G_CALLBACK(on_fired_count), n);

    spin_for(n->f->main_context, NESTED_MS);
    n->in_handler = FALSE;
}

static void
test_nested_timeout_not_reentered(Fixture *f, gconstpointer data)
{
    NestTimeout n = {.f = f};
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;

    w = xlev_context_watch(f->ctx, "/nest-timeout", XLEV_WATCH_FLAGS_NONE,
                           &error);
    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_nest_timeout), &n);

    WAIT_FOR(f->main_context, n.handled && !n.in_handler, 10000);
    WAIT_FOR(f->main_context, n.fired == 1, 2000);
    spin_for(f->main_context, 30);
    g_assert_cmpuint(n.fired, ==, 1);
    g_assert_cmpuint(n.fired_in_handler, ==, 0);
    g_clear_object(&n.timeout);
}

/*======================================================================*/

typedef struct {
    GMutex lock;
    GCond cond;
    guint seen; /* events the handler has had */
    gboolean stop;
} Paced;

static void
on_changed_paced(XlevWatch *watch, const char *event_path, gpointer data)
{
    Paced *p = data;

    g_mutex_lock(&p->lock);
    p->seen++;
    g_cond_signal(&p->cond);
    g_mutex_unlock(&p->lock);
}

/* Writes key i once event i-1 has been handled and the loop has had time
 * to go back to sleep: every event finds the loop idle in poll(). */
static gpointer
paced_writer(gpointer data)
{
    Paced *p = data;
    struct xs_handle *xs = xs_open(0);

    g_assert_nonnull(xs);
    for (guint i = 0; i < N_PACED; i++) {
        char path[64];
        gboolean stop;

        g_mutex_lock(&p->lock);
        while (p->seen < i && !p->stop)
            g_cond_wait(&p->cond, &p->lock);
        stop = p->stop;
        g_mutex_unlock(&p->lock);
        if (stop)
            break;

        g_usleep(PACE_US);
        g_snprintf(path, sizeof(path), "/paced/k%03u", i);
        g_assert_true(xs_write(xs, XBT_NULL, path, "x", 1));
    }
    xs_close(xs);
    return NULL;
}

/* One event that finds the loop asleep costs one main loop iteration:
 * nothing the dispatch does wakes the loop up again for nothing. (GLib's
 * blocking of a source during its dispatch did, twice per event.) */
static void
test_one_iteration_per_event(Fixture *f, gconstpointer data)
{
    Paced p = {0};
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;
    GThread *writer;
    GSource *timer;
    gboolean timed_out = FALSE;
    guint iterations = 0, seen;

    g_mutex_init(&p.lock);
    g_cond_init(&p.cond);
    w = xlev_context_watch(f->ctx, "/paced", XLEV_WATCH_FLAGS_SKIP_INITIAL,
                           &error);
    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_paced), &p);
    /* Whatever the registration left to do in the loop, done before
     * counting. */
    spin_for(f->main_context, 50);

    timer = g_timeout_source_new(xs_fixture_scale_ms(60000));
    g_source_set_callback(timer, test_flag_set_cb, &timed_out, NULL);
    g_source_attach(timer, f->main_context);

    writer = g_thread_new("paced-writer", paced_writer, &p);
    for (;;) {
        g_mutex_lock(&p.lock);
        seen = p.seen;
        g_mutex_unlock(&p.lock);
        if (seen >= N_PACED || timed_out)
            break;
        g_main_context_iteration(f->main_context, TRUE);
        iterations++;
    }
    g_mutex_lock(&p.lock);
    p.stop = TRUE;
    g_cond_signal(&p.cond);
    g_mutex_unlock(&p.lock);
    g_thread_join(writer);
    g_source_destroy(timer);
    g_source_unref(timer);

    g_test_message("%u iterations for %u events", iterations, seen);
    g_assert_false(timed_out);
    g_assert_cmpuint(seen, ==, N_PACED);
    /* One per event, and slack for an event that straddles two polls. */
    g_assert_cmpuint(iterations, <=, N_PACED + N_PACED / 10);

    g_cond_clear(&p.cond);
    g_mutex_clear(&p.lock);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    XLEV_TEST_ADD_BOTH("/dispatch/nested-iteration-in-handler",
                       test_nested_iteration);
    XLEV_TEST_ADD_BOTH("/dispatch/nested-main-loop-in-handler",
                       test_nested_main_loop);
    XLEV_TEST_ADD_BOTH("/dispatch/nested-loop-defers-timeout",
                       test_nested_timeout_not_reentered);
    XLEV_TEST_ADD_BOTH("/dispatch/one-iteration-per-event",
                       test_one_iteration_per_event);
    return g_test_run();
}
