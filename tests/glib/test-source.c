/* test-source.c: the main-loop integration's pitfalls, both integrations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * These reach below the public API to the core context (the tests link
 * the library statically).
 */
#include "xlev-test-common.h"

#include <time.h>
#include <unistd.h>

/* Private: libxlev-glib/xlev-context-private.h. */
xlev_ctx *xlev_context_get_core(XlevContext *self);

/* Driving the main context by hand: prepare, query, poll, check,
 * dispatch. */
static void
on_changed_count(XlevWatch *watch, const char *event_path, gpointer data)
{
    (*(guint *)data)++;
}

static void
test_hand_driven(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainContext) mc = g_main_context_new();
    g_autoptr(XlevContext) ctx = NULL;
    g_autoptr(XlevWatch) w = NULL;
    GPollFD fds[64];
    guint events = 0;
    gint64 deadline;

    g_assert_true(g_main_context_acquire(mc));
    ctx = xlev_context_new_full(NULL, f->integration, mc, NULL, &error);
    g_assert_no_error(error);
    w = xlev_context_watch(ctx, "/hand", XLEV_WATCH_FLAGS_NONE, &error);
    g_assert_no_error(error);
    g_signal_connect(w, "changed", G_CALLBACK(on_changed_count), &events);
    xlev_context_write(ctx, "/hand/x", "1", NULL, &error);
    g_assert_no_error(error);

    deadline = g_get_monotonic_time() + xs_fixture_scale_ms(5000) * 1000;
    while (events < 2 && g_get_monotonic_time() < deadline) {
        gint priority, timeout, n;

        g_main_context_prepare(mc, &priority);
        n = g_main_context_query(mc, priority, &timeout, fds,
                                 G_N_ELEMENTS(fds));
        g_assert_cmpint(n, <=, (gint)G_N_ELEMENTS(fds));
        if (timeout < 0 || timeout > 100)
            timeout = 100;
        g_poll(fds, n, timeout);
        if (g_main_context_check(mc, priority, fds, n))
            g_main_context_dispatch(mc);
    }
    /* The initial event and the write. */
    g_assert_cmpuint(events, ==, 2);

    g_clear_object(&w);
    g_assert_finalize_object(g_steal_pointer(&ctx));
    while (g_main_context_iteration(mc, FALSE))
        ;
    g_main_context_release(mc);
}

typedef struct {
    xlev_ev_fd ev; /* first: fd_cb casts */
    int calls;
} CountedFd;

static void
fd_cb(xlev_ctx *core, xlev_ev_fd *ev, int fd, short events, short revents)
{
    ((CountedFd *)ev)->calls++;
}

/* An fd registered with no events is not polled: GLib would report
 * POLLHUP for the pipe whose writer is closed, and the loop would spin. */
static void
test_fd_events_zero_not_polled(Fixture *f, gconstpointer data)
{
    xlev_ctx *core = xlev_context_get_core(f->ctx);
    CountedFd c = {.calls = 0};
    int pipefd[2];
    guint iterations;

    g_assert_cmpint(pipe(pipefd), ==, 0);
    close(pipefd[1]); /* pipefd[0] is now always "hung up" */

    xlev_ev_fd_init(&c.ev);
    g_assert_cmpint(xlev_ev_fd_register(core, &c.ev, fd_cb, pipefd[0], 0), ==,
                    0);

    iterations = spin_for(f->main_context, 200);

    /* A spinning loop does tens of thousands in 200 ms. */
    g_assert_cmpuint(iterations, <, 20);
    g_assert_cmpint(c.calls, ==, 0);

    /* With events, it is polled and its callback runs. */
    g_assert_cmpint(xlev_ev_fd_modify(core, &c.ev, POLLIN), ==, 0);
    WAIT_FOR(f->main_context, c.calls > 0, 5000);

    xlev_ev_fd_deregister(core, &c.ev);
    close(pipefd[0]);
}

typedef struct {
    xlev_ev_time ev;
    gboolean fired;
} FlagTime;

static void
time_cb(xlev_ctx *core, xlev_ev_time *ev, const struct timeval *abs)
{
    ((FlagTime *)ev)->fired = TRUE;
}

/* A deadline 0.4 ms away rounds up to 1 ms: a handful of iterations, not
 * a busy loop of zero timeouts. */
static void
test_sub_ms_timer_no_busy_loop(Fixture *f, gconstpointer data)
{
    xlev_ctx *core = xlev_context_get_core(f->ctx);
    FlagTime t = {.fired = FALSE};
    struct timeval now, due;
    guint iterations = 0;
    gint64 start, elapsed;

    /* Settle the xenstore traffic of the setup first. */
    while (g_main_context_iteration(f->main_context, FALSE))
        ;

    xlev_osevent_now(core, &now);
    due = now;
    due.tv_usec += 400;
    if (due.tv_usec >= G_USEC_PER_SEC) {
        due.tv_sec++;
        due.tv_usec -= G_USEC_PER_SEC;
    }
    xlev_ev_time_init(&t.ev);
    start = g_get_monotonic_time();
    g_assert_cmpint(xlev_ev_time_register_abs(core, &t.ev, time_cb, due), ==,
                    0);
    while (!t.fired && iterations < 1000) {
        g_main_context_iteration(f->main_context, TRUE);
        iterations++;
    }
    elapsed = g_get_monotonic_time() - start;

    g_assert_true(t.fired);
    g_assert_cmpint(elapsed, >=, 400);
    g_assert_cmpuint(iterations, <=, 5);
}

/* A wall-clock deadline is converted to the monotonic clock once: a jump of
 * the wall clock afterwards neither fires it early nor delays it. */
static gint64 wall_offset_us;

static void
fake_monotonic(void *user, struct timeval *now_out)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_out->tv_sec = ts.tv_sec;
    now_out->tv_usec = ts.tv_nsec / 1000;
}

static void
fake_realtime(void *user, struct timeval *now_out)
{
    gint64 us = g_get_real_time() + wall_offset_us;

    now_out->tv_sec = us / G_USEC_PER_SEC;
    now_out->tv_usec = us % G_USEC_PER_SEC;
}

static const xlev_clock fake_clock = {fake_monotonic, fake_realtime};

static void
on_fired(XlevTimeout *t, gpointer data)
{
    (*(int *)data)++;
}

static void
test_wall_clock_converted_once(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevTimeout) t = NULL;
    g_autoptr(GDateTime) when = NULL;
    int fired = 0;
    gint64 start, deadline_wall_us;

    wall_offset_us = 0;
    xlev_ctx_set_clock(xlev_context_get_core(f->ctx), &fake_clock, NULL);

    start = g_get_monotonic_time();
    deadline_wall_us = g_get_real_time() + 150000;
    {
        g_autoptr(GDateTime) secs =
            g_date_time_new_from_unix_utc(deadline_wall_us / G_USEC_PER_SEC);

        when = g_date_time_add(secs, deadline_wall_us % G_USEC_PER_SEC);
    }
    t = xlev_context_timeout_at(f->ctx, when, &error);
    g_assert_no_error(error);
    g_signal_connect(t, "fired", G_CALLBACK(on_fired), &fired);

    /* The wall clock jumps an hour forward: nothing fires early. */
    wall_offset_us = G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC;
    spin_for(f->main_context, 50);
    g_assert_cmpint(fired, ==, 0);

    /* ... and an hour back: nothing is delayed. */
    wall_offset_us = -G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC;
    WAIT_FOR(f->main_context, fired == 1, 2000);
    /* Never early: the real wall clock (the injected one jumped, the
     * system's did not) has reached the deadline, give or take 1 ms of
     * drift between the two kernel clocks. */
    g_assert_cmpint(g_get_real_time(), >=, deadline_wall_us - 1000);
    g_assert_cmpint(g_get_monotonic_time() - start, <,
                    xs_fixture_scale_ms(1000) * 1000);

    xlev_ctx_set_clock(xlev_context_get_core(f->ctx), NULL, NULL);
}

/* The source holds only a weak reference to its context. */
static void
test_source_weak_owner(Fixture *f, gconstpointer data)
{
    g_autoptr(GMainContext) mc = g_main_context_new();
    GSource *source = xlev_source_new(f->ctx);

    g_assert_finalize_object(g_steal_pointer(&f->ctx));

    /* Attached and run after its owner is gone: it does nothing. */
    g_source_attach(source, mc);
    for (int i = 0; i < 3; i++)
        g_main_context_iteration(mc, FALSE);
    g_source_destroy(source);
    g_source_unref(source);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    XLEV_TEST_ADD_BOTH("/loop/hand-driven-prepare-query-check-dispatch",
                       test_hand_driven);
    XLEV_TEST_ADD_BOTH("/loop/fd-with-no-events-not-polled",
                       test_fd_events_zero_not_polled);
    XLEV_TEST_ADD_BOTH("/loop/sub-ms-timer-no-busy-loop",
                       test_sub_ms_timer_no_busy_loop);
    XLEV_TEST_ADD_BOTH("/loop/wall-clock-deadline-converted-once",
                       test_wall_clock_converted_once);
    g_test_add("/xlev/source/loop/weak-owner", Fixture,
               GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE), fixture_setup,
               test_source_weak_owner, fixture_teardown);

    return g_test_run();
}
