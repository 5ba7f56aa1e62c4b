/* test-flood.c: a backlog of events does not starve the main context;
 * per-watch rate limiting; events no daemon sends (a path that is not
 * UTF-8) are escaped, never lost; unknown flags are refused; both
 * integrations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-test-common.h"
#include "xlev-watch-private.h"

#include <xenstore.h>

/* The backlog: events written before the loop runs, each handled in
 * SLOW_HANDLER_US, several seconds of work in all. */
#define N_BACKLOG 3000
#define N_BACKLOG_OXENSTORED 1000
#define SLOW_HANDLER_US 1000
/* The GLib timeout that must not wait for the backlog, and how late it
 * may be (generous: two cores shared with other builds; unbounded
 * delivery made it 6-8 s late). */
#define TIMEOUT_MS 50
#define LATE_MAX_MS 500

/* Rate limiting. */
#define RATE_LIMIT_MS 300
#define N_BURST 30

typedef struct {
    guint seen;
    guint handler_us;
} Counter;

static void
on_changed_count(XlevWatch *watch, const char *event_path, gpointer data)
{
    Counter *c = data;

    c->seen++;
    if (c->handler_us > 0)
        g_usleep(c->handler_us);
}

typedef struct {
    gint64 fired_at; /* 0 until it fires */
    guint seen_then; /* events handled when it fired */
    Counter *counter;
} Probe;

static gboolean
probe_fired_cb(gpointer data)
{
    Probe *p = data;

    p->fired_at = g_get_monotonic_time();
    p->seen_then = p->counter->seen;
    return G_SOURCE_REMOVE;
}

/* Thousands of queued events for a slow handler: a 50 ms GLib timeout in
 * the same main context still fires on time, while the backlog is still
 * being delivered; then every event is delivered. */
static void
test_backlog_does_not_starve(Fixture *f, gconstpointer data)
{
    /* oxenstored keeps at most 1024 undelivered events per watch and then
     * stalls the writer (tests/DAEMONS.md): stay under that there. */
    guint n_backlog = xs_fixture_daemon() == XS_FIXTURE_DAEMON_OXENSTORED
                          ? N_BACKLOG_OXENSTORED
                          : N_BACKLOG;
    Counter c = { 0, SLOW_HANDLER_US };
    Probe p = { 0, 0, &c };
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;
    struct xs_handle *xs = xs_open(0);
    GSource *timer;
    gint64 start, late_ms;

    g_assert_nonnull(xs);
    w = xlev_context_watch(f->ctx, "/flood", XLEV_WATCH_FLAGS_SKIP_INITIAL,
                           &error);
    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_count), &c);
    spin_for(f->main_context, 50); /* the initial event, skipped */

    for (guint i = 0; i < n_backlog; i++) {
        char path[64];

        g_snprintf(path, sizeof(path), "/flood/k%05u", i);
        g_assert_true(xs_write(xs, XBT_NULL, path, "x", 1));
    }
    xs_close(xs);

    start = g_get_monotonic_time();
    timer = g_timeout_source_new(TIMEOUT_MS);
    g_source_set_callback(timer, probe_fired_cb, &p, NULL);
    g_source_attach(timer, f->main_context);
    g_source_unref(timer);

    WAIT_FOR(f->main_context, p.fired_at != 0, 60000);
    late_ms = (p.fired_at - start) / 1000 - TIMEOUT_MS;
    g_test_message("timeout %" G_GINT64_FORMAT " ms late, %u of %u events "
                   "delivered by then",
                   late_ms, p.seen_then, n_backlog);
    g_assert_cmpint(late_ms, <=, xs_fixture_scale_ms(LATE_MAX_MS));
    /* the test proves something only if the backlog was still there */
    g_assert_cmpuint(p.seen_then, <, n_backlog);

    WAIT_FOR(f->main_context, c.seen == n_backlog, 60000);
    spin_for(f->main_context, 50);
    g_assert_cmpuint(c.seen, ==, n_backlog);
}

/* The same with the whole backlog queued for delivery at once, as a
 * connection that reads many events in one go queues them (injected at
 * the core callback; a real write starts the dispatch that delivers
 * them): the delivery yields after a bounded batch. */
static void
test_queued_backlog_yields(Fixture *f, gconstpointer data)
{
    Counter c = { 0, SLOW_HANDLER_US };
    Probe p = { 0, 0, &c };
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;
    struct xs_handle *xs = xs_open(0);
    GSource *timer;
    gint64 start, late_ms;

    g_assert_nonnull(xs);
    w = xlev_context_watch(f->ctx, "/flood", XLEV_WATCH_FLAGS_SKIP_INITIAL,
                           &error);
    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_count), &c);
    spin_for(f->main_context, 50);

    for (guint i = 0; i < N_BACKLOG; i++)
        xlev_watch_inject_event(w, "/flood/injected");
    g_assert_cmpuint(c.seen, ==, 0);
    g_assert_true(xs_write(xs, XBT_NULL, "/flood/go", "x", 1));
    xs_close(xs);

    start = g_get_monotonic_time();
    timer = g_timeout_source_new(TIMEOUT_MS);
    g_source_set_callback(timer, probe_fired_cb, &p, NULL);
    g_source_attach(timer, f->main_context);
    g_source_unref(timer);

    WAIT_FOR(f->main_context, p.fired_at != 0, 60000);
    late_ms = (p.fired_at - start) / 1000 - TIMEOUT_MS;
    g_test_message("timeout %" G_GINT64_FORMAT " ms late, %u of %u events "
                   "delivered by then",
                   late_ms, p.seen_then, N_BACKLOG + 1);
    g_assert_cmpint(late_ms, <=, xs_fixture_scale_ms(LATE_MAX_MS));
    g_assert_cmpuint(p.seen_then, <, N_BACKLOG);

    WAIT_FOR(f->main_context, c.seen == N_BACKLOG + 1, 60000);
}

typedef struct {
    GPtrArray *paths;
    GArray *times; /* gint64, monotonic us */
} Log;

static void
on_changed_log(XlevWatch *watch, const char *event_path, gpointer data)
{
    Log *l = data;
    gint64 now = g_get_monotonic_time();

    g_ptr_array_add(l->paths, g_strdup(event_path));
    g_array_append_val(l->times, now);
}

static void
on_notify_count(GObject *object, GParamSpec *pspec, gpointer data)
{
    (*(guint *)data)++;
}

/* rate-limit: a burst of writes to one path gives the first event at once
 * and the last one at the end of the window, nothing in between; another
 * path is not merged with it; 0 turns it off again. */
static void
test_rate_limit(Fixture *f, gconstpointer data)
{
    Log l = { g_ptr_array_new_with_free_func(g_free),
              g_array_new(FALSE, FALSE, sizeof(gint64)) };
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;
    struct xs_handle *xs = xs_open(0);
    guint n_a = 0, n_b = 0, notified = 0, i;
    gint64 first_a = 0, last_a = 0, burst_end;

    g_assert_nonnull(xs);
    w = xlev_context_watch(f->ctx, "/rl", XLEV_WATCH_FLAGS_SKIP_INITIAL,
                           &error);
    g_assert_no_error(error);
    g_assert_cmpint(xlev_watch_get_rate_limit(w), ==, 0);
    g_signal_connect(w, "notify::rate-limit", G_CALLBACK(on_notify_count),
                     &notified);
    g_object_set(w, "rate-limit", RATE_LIMIT_MS, NULL);
    g_assert_cmpint(xlev_watch_get_rate_limit(w), ==, RATE_LIMIT_MS);
    g_assert_cmpuint(notified, ==, 1);
    xlev_watch_set_rate_limit(w, RATE_LIMIT_MS); /* unchanged: no notify */
    g_assert_cmpuint(notified, ==, 1);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_log), &l);
    spin_for(f->main_context, 50);

    for (i = 0; i < N_BURST; i++) {
        char value[16];

        g_snprintf(value, sizeof(value), "%u", i);
        g_assert_true(xs_write(xs, XBT_NULL, "/rl/a", value, strlen(value)));
        /* keep the loop running so that events arrive during the burst */
        g_main_context_iteration(f->main_context, FALSE);
    }
    g_assert_true(xs_write(xs, XBT_NULL, "/rl/b", "x", 1));
    burst_end = g_get_monotonic_time();

    spin_for(f->main_context, RATE_LIMIT_MS * 3);
    for (i = 0; i < l.paths->len; i++) {
        gint64 t = g_array_index(l.times, gint64, i);

        if (g_str_equal(g_ptr_array_index(l.paths, i), "/rl/a")) {
            if (n_a++ == 0)
                first_a = t;
            last_a = t;
        } else {
            g_assert_cmpstr(g_ptr_array_index(l.paths, i), ==, "/rl/b");
            n_b++;
        }
    }
    g_test_message("/rl/a emitted %u times for %u writes in %" G_GINT64_FORMAT
                   " ms",
                   n_a, N_BURST, (burst_end - first_a) / 1000);
    g_assert_cmpuint(n_b, ==, 1);
    /* first at once, the merged last one at the window's end; at most one
     * per window of the burst */
    g_assert_cmpuint(n_a, >=, 2);
    g_assert_cmpuint(n_a, <=,
                     2 + (burst_end - first_a) / (RATE_LIMIT_MS * 1000));
    g_assert_cmpint(last_a, >=, burst_end);
    g_assert_cmpint(last_a - first_a, >=, (gint64)RATE_LIMIT_MS * 1000);

    /* off again: every event is emitted as it comes */
    xlev_watch_set_rate_limit(w, 0);
    g_assert_cmpuint(notified, ==, 2);
    g_ptr_array_set_size(l.paths, 0);
    g_array_set_size(l.times, 0);
    g_assert_true(xs_write(xs, XBT_NULL, "/rl/c", "1", 1));
    WAIT_FOR(f->main_context, l.paths->len == 1, 5000);
    g_assert_true(xs_write(xs, XBT_NULL, "/rl/c", "2", 1));
    WAIT_FOR(f->main_context, l.paths->len == 2, 5000);

    xs_close(xs);
    g_ptr_array_unref(l.paths);
    g_array_unref(l.times);
}

/* A cancelled watch with a merged event pending emits nothing more, and
 * its window source does not keep it alive. */
static void
test_rate_limit_cancel_pending(Fixture *f, gconstpointer data)
{
    Counter c = { 0, 0 };
    XlevWatch *w;
    g_autoptr(GError) error = NULL;
    struct xs_handle *xs = xs_open(0);
    GWeakRef ref;

    g_assert_nonnull(xs);
    w = xlev_context_watch(f->ctx, "/rlc", XLEV_WATCH_FLAGS_SKIP_INITIAL,
                           &error);
    g_assert_no_error(error);
    xlev_watch_set_rate_limit(w, RATE_LIMIT_MS);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_count), &c);
    g_assert_true(xs_write(xs, XBT_NULL, "/rlc/a", "1", 1));
    WAIT_FOR(f->main_context, c.seen == 1, 5000);
    g_assert_true(xs_write(xs, XBT_NULL, "/rlc/a", "2", 1));
    spin_for(f->main_context, 50); /* merged, pending */
    g_assert_cmpuint(c.seen, ==, 1);

    xlev_watch_cancel(w);
    g_weak_ref_init(&ref, w);
    g_object_unref(w);
    g_assert_null(g_weak_ref_get(&ref));
    g_weak_ref_clear(&ref);
    spin_for(f->main_context, RATE_LIMIT_MS * 2);
    g_assert_cmpuint(c.seen, ==, 1);
    xs_close(xs);
}

/* An event path that is not UTF-8 (no daemon sends one: both refuse such
 * nodes and watches; injected at the core callback) reaches the handler
 * escaped, in order with the real events around it. */
static void
test_non_utf8_path_escaped(Fixture *f, gconstpointer data)
{
    Log l = { g_ptr_array_new_with_free_func(g_free),
              g_array_new(FALSE, FALSE, sizeof(gint64)) };
    g_autoptr(XlevWatch) w = NULL;
    g_autoptr(GError) error = NULL;
    struct xs_handle *xs = xs_open(0);

    g_assert_nonnull(xs);
    w = xlev_context_watch(f->ctx, "/u", XLEV_WATCH_FLAGS_SKIP_INITIAL, &error);
    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_log), &l);
    spin_for(f->main_context, 50);

    xlev_watch_inject_event(w, "/u/\xff\xfe-a\\b-\xc3\xa9-\xc3");
    xlev_watch_inject_event(w, "/u/plain");
    g_assert_true(xs_write(xs, XBT_NULL, "/u/real", "x", 1));
    WAIT_FOR(f->main_context, l.paths->len == 3, 5000);
    g_assert_cmpstr(g_ptr_array_index(l.paths, 0), ==,
                    "/u/\\xff\\xfe-a\\\\b-\xc3\xa9-\\xc3");
    g_assert_true(g_utf8_validate(g_ptr_array_index(l.paths, 0), -1, NULL));
    g_assert_cmpstr(g_ptr_array_index(l.paths, 1), ==, "/u/plain");
    g_assert_cmpstr(g_ptr_array_index(l.paths, 2), ==, "/u/real");

    xs_close(xs);
    g_ptr_array_unref(l.paths);
    g_array_unref(l.times);
}

/* A flag that XlevWatchFlags does not define is refused, before any
 * round trip. */
static void
test_unknown_flags(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    XlevWatch *w;

    w = xlev_context_watch(f->ctx, "/flags", (XlevWatchFlags)(1u << 7), &error);
    g_assert_null(w);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    w = xlev_context_watch(f->ctx, "/flags",
                           XLEV_WATCH_FLAGS_SKIP_INITIAL | (1u << 31), &error);
    g_assert_null(w);
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    XLEV_TEST_ADD_BOTH("/flood/backlog-does-not-starve-timeout",
                       test_backlog_does_not_starve);
    XLEV_TEST_ADD_BOTH("/flood/queued-backlog-yields",
                       test_queued_backlog_yields);
    XLEV_TEST_ADD_BOTH("/flood/rate-limit", test_rate_limit);
    XLEV_TEST_ADD_BOTH("/flood/rate-limit-cancel-pending",
                       test_rate_limit_cancel_pending);
    XLEV_TEST_ADD_BOTH("/watch/non-utf8-path-escaped",
                       test_non_utf8_path_escaped);
    XLEV_TEST_ADD_BOTH("/watch/unknown-flags", test_unknown_flags);
    return g_test_run();
}
