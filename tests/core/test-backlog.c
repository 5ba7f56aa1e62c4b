/* test-backlog.c: the core's deferred callbacks run in bounded batches
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * A backlog of callbacks (many registrations ready at once, or a flood of
 * watch events from a real xenstored) is run a batch at a time: at most
 * XLEV__DEFERRED_BATCH callbacks, and none started once the batch's real
 * time budget (XLEV__DEFERRED_BUDGET_US) is spent. Between batches the
 * application's loop gets control back and is told to come back at once
 * (beforepoll's timeout 0 in poll style, a timeout due now in hooks style);
 * the rest runs in order, none twice, none after its registration is gone.
 *
 * The bounds are asserted by counting callbacks, not by measuring time: a
 * slow callback here sleeps at least SLOW_US, so a batch cannot hold more
 * than BUDGET / SLOW_US + 1 of them however loaded the machine is (load only
 * makes batches smaller).
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include <xenstore.h>

#include "core-test-util.h"
#include "loop/deferred-private.h"
#include "xs-fixture.h"

/* Long enough that the budget ends a batch well before the count does. */
#define SLOW_US 1000
/* The most slow callbacks one batch may start: it starts one more only
 * while less than the budget has passed, and each takes at least SLOW_US. */
#define SLOW_PER_BATCH_MAX (XLEV__DEFERRED_BUDGET_US / SLOW_US)

/*======================================================================*/
/* Many registrations on one readable pipe: no xenstore */

typedef struct Backlog Backlog;

typedef struct {
    xlev_ev_fd ev;
    Backlog *b;
    int id;
    int calls;
} Reg;

struct Backlog {
    Reg *regs;
    int n;
    int slow;
    GArray *order;   /* ids, in the order their callbacks ran */
    int calls;       /* order->len, for a Meter */
    int gone_called; /* callbacks of a deregistered registration */
};

/* One-shot: each registration deregisters itself, so with the pipe still
 * readable every callback is expected exactly once. */
static void
reg_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events, short revents)
{
    Reg *r = (Reg *)ev;

    if (r->id < 0) {
        r->b->gone_called++;
        return;
    }
    r->calls++;
    r->b->calls++;
    g_array_append_val(r->b->order, r->id);
    if (r->b->slow)
        g_usleep(SLOW_US);
    xlev_ev_fd_deregister(ctx, ev);
}

static void
backlog_init(Backlog *b, xlev_ctx *ctx, int fd, int n, int slow)
{
    memset(b, 0, sizeof(*b));
    b->regs = g_new0(Reg, n);
    b->n = n;
    b->slow = slow;
    b->order = g_array_new(FALSE, FALSE, sizeof(int));
    for (int i = 0; i < n; i++) {
        b->regs[i].b = b;
        b->regs[i].id = i;
        xlev_ev_fd_init(&b->regs[i].ev);
        g_assert_cmpint(
            xlev_ev_fd_register(ctx, &b->regs[i].ev, reg_cb, fd, POLLIN), ==,
            0);
    }
}

static void
backlog_clear(Backlog *b, xlev_ctx *ctx)
{
    for (int i = 0; i < b->n; i++)
        xlev_ev_fd_deregister(ctx, &b->regs[i].ev);
    g_array_unref(b->order);
    g_free(b->regs);
}

/* Every registration was called once, and in one order: the order in which
 * their records were queued (one fd's registrations are told in the order
 * of its list, the same each time), never interleaved. */
static void
assert_all_once_in_order(Backlog *b)
{
    int dir;

    g_assert_cmpuint(b->order->len, ==, (guint)b->n);
    for (int i = 0; i < b->n; i++)
        g_assert_cmpint(b->regs[i].calls, ==, 1);
    dir = g_array_index(b->order, int, 1) - g_array_index(b->order, int, 0);
    g_assert_true(dir == 1 || dir == -1);
    for (guint i = 1; i < b->order->len; i++)
        g_assert_cmpint(g_array_index(b->order, int, i)
                            - g_array_index(b->order, int, i - 1),
                        ==, dir);
}

/* What the application is told after a batch that left work: poll style,
 * a 0 timeout from beforepoll; hooks style, a timeout registered with its
 * hooks and due now. */
static void
assert_loop_told_to_come_back(Drive *d)
{
    struct timeval now;

    xlev_osevent_now(d->ctx, &now);
    if (d->mode == DRIVE_POLL) {
        struct pollfd fds[8];
        int nfds = G_N_ELEMENTS(fds), timeout = -1;

        g_assert_cmpint(
            xlev_osevent_beforepoll(d->ctx, &nfds, fds, &timeout, now), ==, 0);
        g_assert_cmpint(timeout, ==, 0);
    } else {
        gint64 now_us = (gint64)now.tv_sec * G_USEC_PER_SEC + now.tv_usec;
        int due = 0;

        g_mutex_lock(&d->hooks.lock);
        for (guint i = 0; i < d->hooks.times->len; i++) {
            TestHookTime *t = &g_array_index(d->hooks.times, TestHookTime, i);

            if (t->live
                && (gint64)t->abs.tv_sec * G_USEC_PER_SEC + t->abs.tv_usec
                       <= now_us)
                due = 1;
        }
        g_mutex_unlock(&d->hooks.lock);
        g_assert_true(due);
    }
}

/* One batch exactly: poll style, one afterpoll; hooks style, one
 * occurred_fd for the pipe (its hook registration). */
static void
run_one_batch(Drive *d, int fd)
{
    if (d->mode == DRIVE_POLL) {
        test_poll_iterate(d->ctx, 0);
    } else {
        TestHookFd hfd;

        g_assert_true(test_hooks_find_fd(&d->hooks, fd, &hfd));
        xlev_osevent_occurred_fd(d->ctx, hfd.for_xlev, fd, hfd.events, POLLIN);
    }
}

/* The most callbacks one batch ran: measured around each report to the
 * core (an afterpoll, an occurred_fd, an occurred_timeout), each of which
 * runs one batch. */
typedef struct {
    const int *calls; /* the scenario's count of callbacks */
    int mark;
    int max_batch;
} Meter;

static void
meter_report(void *data)
{
    Meter *m = data;

    m->max_batch = MAX(m->max_batch, *m->calls - m->mark);
    m->mark = *m->calls;
}

/* One turn of the application's loop in d's mode, measured. */
static void
turn(Drive *d, Meter *m, int max_ms)
{
    drive_prepare(d);
    d->hooks.after_report = meter_report;
    d->hooks.after_report_data = m;
    m->mark = *m->calls;
    if (d->mode != DRIVE_POLL)
        test_hooks_iterate(&d->hooks, d->ctx, max_ms);
    if (d->mode != DRIVE_HOOKS) {
        test_poll_iterate(d->ctx, d->mode == DRIVE_POLL ? max_ms : 0);
        meter_report(m);
    }
}

/* After drive_prepare(): in mixed mode that runs a poll-style turn. */
static void
pipe_make_readable(int p[2])
{
    g_assert_cmpint(write(p[1], "x", 1), ==, 1);
}

/* More ready callbacks than a batch holds: the first batch stops at the
 * count, the loop is told to come back, the rest follow in order. */
static void
test_count_bound(gconstpointer data)
{
    const int n = 3 * XLEV__DEFERRED_BATCH + 17;
    Meter m = { 0 };
    Drive d;
    Backlog b;
    int p[2], iterations = 0;

    drive_init(&d, MODE(data), test_ctx_new());
    test_pipe(p);
    backlog_init(&b, d.ctx, p[0], n, 0);
    drive_prepare(&d);
    pipe_make_readable(p);

    run_one_batch(&d, p[0]);
    g_assert_cmpuint(b.order->len, >=, 1);
    g_assert_cmpuint(b.order->len, <=, XLEV__DEFERRED_BATCH);
    g_assert_cmpint(xlev__test_npending(d.ctx), ==, n - (int)b.order->len);
    assert_loop_told_to_come_back(&d);

    /* The rest, by the ordinary loop. */
    m.calls = &b.calls;
    while (b.order->len < (guint)n) {
        guint before = b.order->len;

        turn(&d, &m, 1000);
        g_assert_cmpuint(b.order->len, >, before);
        g_assert_cmpint(++iterations, <, n);
    }
    g_assert_cmpint(m.max_batch, <=, XLEV__DEFERRED_BATCH);
    assert_all_once_in_order(&b);
    g_assert_cmpint(xlev__test_npending(d.ctx), ==, 0);

    backlog_clear(&b, d.ctx);
    drive_free_ctx(&d);
    close(p[0]);
    close(p[1]);
}

/* Slow callbacks: the budget ends each batch after a few of them, and
 * the application's own fd, polled in the same loop, gets its turn after
 * at most one batch. */
static void
test_time_bound_slow(gconstpointer data)
{
    const int n = 12 * SLOW_PER_BATCH_MAX;
    Meter m = { 0 };
    Drive d;
    Backlog b;
    int p[2], app[2];
    guint served_at = 0, written_at;

    drive_init(&d, MODE(data), test_ctx_new());
    test_pipe(p);
    test_pipe(app);
    backlog_init(&b, d.ctx, p[0], n, 1);
    drive_prepare(&d);
    pipe_make_readable(p);

    run_one_batch(&d, p[0]);
    g_assert_cmpuint(b.order->len, >=, 1);
    g_assert_cmpuint(b.order->len, <=, SLOW_PER_BATCH_MAX);
    assert_loop_told_to_come_back(&d);

    /* The application's fd becomes ready while the backlog is being
     * worked off; its loop polls it beside the core's. */
    g_assert_cmpint(write(app[1], "a", 1), ==, 1);
    written_at = b.order->len;
    m.calls = &b.calls;
    while (b.order->len < (guint)n) {
        struct pollfd pfd = { .fd = app[0], .events = POLLIN };
        guint before = b.order->len;

        if (!served_at && poll(&pfd, 1, 0) == 1) {
            char c;

            g_assert_cmpint(read(app[0], &c, 1), ==, 1);
            served_at = b.order->len;
        }
        turn(&d, &m, 1000);
        g_assert_cmpuint(b.order->len, >, before);
    }
    g_assert_cmpint(m.max_batch, <=, SLOW_PER_BATCH_MAX);
    g_assert_cmpuint(served_at, ==, written_at);
    assert_all_once_in_order(&b);

    backlog_clear(&b, d.ctx);
    drive_free_ctx(&d);
    close(p[0]);
    close(p[1]);
    close(app[0]);
    close(app[1]);
}

/* Registrations retired while their records wait between batches are
 * never called; the others still are, in order. */
static void
test_retired_between_batches(gconstpointer data)
{
    const int n = 2 * XLEV__DEFERRED_BATCH;
    Drive d;
    Backlog b;
    int p[2], iterations = 0, retired = 0;

    drive_init(&d, MODE(data), test_ctx_new());
    test_pipe(p);
    backlog_init(&b, d.ctx, p[0], n, 0);
    drive_prepare(&d);
    pipe_make_readable(p);

    run_one_batch(&d, p[0]);
    g_assert_cmpint(xlev__test_npending(d.ctx), >, 0);
    /* every other one still waiting goes */
    for (int i = 0; i < n; i += 2) {
        if (b.regs[i].calls)
            continue;
        xlev_ev_fd_deregister(d.ctx, &b.regs[i].ev);
        b.regs[i].id = -1; /* called from now on: counted as an error */
        retired++;
    }
    g_assert_cmpint(retired, >, 0);
    while (xlev__test_npending(d.ctx) > 0) {
        drive_iterate(&d, 1000);
        g_assert_cmpint(++iterations, <, n);
    }
    g_assert_cmpint(b.gone_called, ==, 0);
    g_assert_cmpuint(b.order->len, ==, (guint)(n - retired));
    for (guint i = 1; i < b.order->len; i++)
        g_assert_cmpint(g_array_index(b.order, int, i), !=,
                        g_array_index(b.order, int, i - 1));

    backlog_clear(&b, d.ctx);
    drive_free_ctx(&d);
    close(p[0]);
    close(p[1]);
}

/* Freeing the context with records left between batches disposes of them
 * (ASan/valgrind see the rest). */
static void
test_free_with_backlog(gconstpointer data)
{
    const int n = 2 * XLEV__DEFERRED_BATCH;
    Drive d;
    Backlog b;
    int p[2];

    drive_init(&d, MODE(data), test_ctx_new());
    test_pipe(p);
    backlog_init(&b, d.ctx, p[0], n, 0);
    drive_prepare(&d);
    pipe_make_readable(p);

    run_one_batch(&d, p[0]);
    g_assert_cmpint(xlev__test_npending(d.ctx), >, 0);
    drive_free_ctx(&d);
    g_assert_cmpuint(b.order->len, <=, XLEV__DEFERRED_BATCH);
    for (int i = 0; i < n; i++)
        g_assert_false(xlev_ev_fd_isregistered(&b.regs[i].ev));
    g_array_unref(b.order);
    g_free(b.regs);
    close(p[0]);
    close(p[1]);
}

/* Hooks installed while a poll-style run left records queued: the hooks
 * are asked at once for a timeout due now, and the rest runs from it. */
static void
test_hooks_installed_with_backlog(void)
{
    const int n = 2 * XLEV__DEFERRED_BATCH;
    Meter m = { 0 };
    Drive d;
    Backlog b;
    int p[2], iterations = 0;

    drive_init(&d, DRIVE_POLL, test_ctx_new());
    test_pipe(p);
    backlog_init(&b, d.ctx, p[0], n, 0);
    pipe_make_readable(p);
    run_one_batch(&d, p[0]);
    g_assert_cmpint(xlev__test_npending(d.ctx), >, 0);

    d.mode = DRIVE_HOOKS;
    g_assert_cmpint(
        xlev_osevent_register_hooks(d.ctx, &test_hooks_vtable, &d.hooks), ==,
        0);
    assert_loop_told_to_come_back(&d);
    /* the pipe, still readable, must not be what brings the rest */
    g_assert_cmpint(read(p[0], (char[1]){ 0 }, 1), ==, 1);
    m.calls = &b.calls;
    while (b.order->len < (guint)n) {
        turn(&d, &m, 1000);
        g_assert_cmpint(++iterations, <, n);
    }
    g_assert_cmpint(m.max_batch, <=, XLEV__DEFERRED_BATCH);
    assert_all_once_in_order(&b);

    backlog_clear(&b, d.ctx);
    drive_free_ctx(&d);
    close(p[0]);
    close(p[1]);
}

/* The application's timeout_register hook refuses the resume timeout: the
 * run cannot count on being called back, so it goes on to the end of the
 * queue (late, not lost), and the refusal is not fatal. */
static void
test_resume_refused(void)
{
    const int n = 2 * XLEV__DEFERRED_BATCH;
    Drive d;
    Backlog b;
    int p[2];

    drive_init(&d, DRIVE_HOOKS, test_ctx_new());
    test_pipe(p);
    backlog_init(&b, d.ctx, p[0], n, 0);
    pipe_make_readable(p);
    d.hooks.fail_timeout_register_nth = 1;
    d.hooks.fail_value = XLEV_ERROR_OSEVENT_REG_FAIL;

    run_one_batch(&d, p[0]);
    g_assert_cmpint(d.hooks.fail_timeout_register_nth, ==, 0); /* it was */
    g_assert_cmpint(test_hooks_n_live_times(&d.hooks), ==, 0);
    g_assert_cmpint(xlev__test_npending(d.ctx), ==, 0);
    assert_all_once_in_order(&b);

    backlog_clear(&b, d.ctx);
    drive_free_ctx(&d);
    close(p[0]);
    close(p[1]);
}

/*======================================================================*/
/* A flood of watch events from a real xenstored */

/* Under oxenstored's per-watch limit of undelivered events
 * (quota-maxwatchevents, 1,024: tests/DAEMONS.md). */
#define FLOOD_N 800

typedef struct {
    xlev_ev_xswatch w;
    int calls;
    int next;       /* the number the next /flood/N event must carry */
    int bad;        /* out of order, or not ours */
    int app_pipe;   /* written from the FLOOD_N / 4-th event */
    int written_at; /* calls when it was written */
} FloodProbe;

static void
flood_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
         const char *epath)
{
    FloodProbe *p = (FloodProbe *)w;
    int k;

    p->calls++;
    if (strcmp(epath, "/flood") != 0) {
        if (sscanf(epath, "/flood/%d", &k) != 1 || k != p->next)
            p->bad++;
        p->next = k + 1;
    }
    if (p->calls == FLOOD_N / 4) {
        g_assert_cmpint(write(p->app_pipe, "a", 1), ==, 1);
        p->written_at = p->calls;
    }
    g_usleep(SLOW_US);
}

static void
test_watch_flood(XsFixture *fx, gconstpointer data)
{
    struct xs_handle *other = xs_open(0);
    FloodProbe p;
    xlev_ctx *ctx = NULL;
    Meter m = { 0 };
    Drive d;
    int app[2], served_at = 0, max_turn = 0;
    gint64 deadline;

    g_assert_nonnull(other);
    g_assert_cmpint(xlev_ctx_new(NULL, &ctx), ==, 0);
    drive_init(&d, MODE(data), ctx);
    test_pipe(app);
    memset(&p, 0, sizeof(p));
    xlev_ev_xswatch_init(&p.w);
    p.app_pipe = app[1];
    g_assert_true(xs_write(other, XBT_NULL, "/flood", "", 0));
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p.w, flood_cb, "/flood"), ==,
                    0);
    drive_prepare(&d);

    /* The backlog: every event written before the loop turns once. */
    for (int i = 0; i < FLOOD_N; i++) {
        char path[32];

        g_snprintf(path, sizeof(path), "/flood/%d", i);
        g_assert_true(xs_write(other, XBT_NULL, path, "v", 1));
    }

    deadline = test_now_ms() + xs_fixture_scale_ms(60000);
    m.calls = &p.calls;
    while (p.calls < FLOOD_N + 1) {
        struct pollfd pfd = { .fd = app[0], .events = POLLIN };
        int before = p.calls;

        if (!served_at && poll(&pfd, 1, 0) == 1) {
            char c;

            g_assert_cmpint(read(app[0], &c, 1), ==, 1);
            served_at = p.calls;
        }
        turn(&d, &m, 100);
        max_turn = MAX(max_turn, p.calls - before);
        g_assert_cmpint(test_now_ms(), <, deadline);
    }
    g_test_message("%d events; at most %d callbacks in one batch, %d in one "
                   "turn of the loop",
                   p.calls, m.max_batch, max_turn);
    g_assert_cmpint(p.calls, ==, FLOOD_N + 1);
    g_assert_cmpint(p.bad, ==, 0);
    g_assert_cmpint(p.next, ==, FLOOD_N);
    g_assert_cmpint(m.max_batch, <=, SLOW_PER_BATCH_MAX);
    /* The application's fd, ready in the middle of the backlog, was served
     * by the next turn of its loop: after the rest of that turn's batches
     * (hooks style: one per report, the socket's, the resume timeout's and
     * the connection's liveness timeout's at most). */
    g_assert_cmpint(served_at, >=, p.written_at);
    g_assert_cmpint(served_at - p.written_at, <=, 3 * SLOW_PER_BATCH_MAX);

    xlev_ev_xswatch_deregister(ctx, &p.w);
    drive_free_ctx(&d);
    xs_close(other);
    close(app[0]);
    close(app[1]);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    core_test_add_modes("backlog", "count-bound", test_count_bound);
    core_test_add_modes("backlog", "time-bound-slow", test_time_bound_slow);
    core_test_add_modes("backlog", "retired-between-batches",
                        test_retired_between_batches);
    core_test_add_modes("backlog", "free-with-backlog", test_free_with_backlog);
    g_test_add_func("/xlev/core/backlog/hooks/resume-refused",
                    test_resume_refused);
    g_test_add_func("/xlev/core/backlog/hooks-installed-with-backlog",
                    test_hooks_installed_with_backlog);
    core_test_add_modes_xs("backlog", "watch-flood", test_watch_flood);

    return g_test_run();
}
