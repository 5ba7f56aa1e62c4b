/* test-time.c: timeouts: order, never early, monotonic clock, the heap
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "core-test-util.h"

/* An injected clock. */
static gint64 fake_mono_us = G_GINT64_CONSTANT(1000) * G_USEC_PER_SEC;
static gint64 fake_real_us = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC;

static struct timeval
us_to_tv(gint64 us)
{
    struct timeval tv = {us / G_USEC_PER_SEC, us % G_USEC_PER_SEC};

    return tv;
}

static gint64
tv_to_us(struct timeval tv)
{
    return (gint64)tv.tv_sec * G_USEC_PER_SEC + tv.tv_usec;
}

static void
fake_mono(void *user, struct timeval *now_out)
{
    *now_out = us_to_tv(fake_mono_us);
}

static void
fake_real(void *user, struct timeval *now_out)
{
    *now_out = us_to_tv(fake_real_us);
}

static const xlev_clock fake_clock = {fake_mono, fake_real};

typedef struct {
    xlev_ev_time ev;
    int id;
    int calls;
    gint64 requested_us;
    gint64 fired_at_us;
    int *order;
    int *norder;
    int rearm; /* re-register itself this many more times */
    int was_registered_in_cb;
} TimeProbe;

static void
time_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *requested_abs)
{
    TimeProbe *t = (TimeProbe *)ev;
    struct timeval now;

    xlev_osevent_now(ctx, &now);
    t->calls++;
    t->requested_us = tv_to_us(*requested_abs);
    t->fired_at_us = tv_to_us(now);
    t->was_registered_in_cb = xlev_ev_time_isregistered(ev);
    if (t->order)
        t->order[(*t->norder)++] = t->id;
    if (t->rearm > 0) {
        t->rearm--;
        g_assert_cmpint(xlev_ev_time_register_rel(ctx, ev, time_cb, 5), ==, 0);
    }
}

static void
probe_init(TimeProbe *t, int id)
{
    memset(t, 0, sizeof(*t));
    xlev_ev_time_init(&t->ev);
    t->id = id;
}

/* Real clock: fire in deadline order, never before the deadline, in every
 * driving mode. */
static void
test_order_never_early(gconstpointer data)
{
    static const int delays[] = {50, 10, 30, 20, 40, 10};
    static const int expect[] = {1, 5, 3, 2, 4, 0};
    xlev_ctx *ctx = test_ctx_new();
    TimeProbe t[G_N_ELEMENTS(delays)];
    int order[G_N_ELEMENTS(delays)], norder = 0;
    struct timeval now;
    guint i;
    Drive d;

    drive_init(&d, MODE(data), ctx);
    /* Deadlines from one reading of the clock: relative ones would drift
     * apart on a loaded machine and change the order. */
    xlev_osevent_now(ctx, &now);
    for (i = 0; i < G_N_ELEMENTS(delays); i++) {
        probe_init(&t[i], i);
        t[i].order = order;
        t[i].norder = &norder;
        g_assert_cmpint(
            xlev_ev_time_register_abs(
                ctx, &t[i].ev, time_cb,
                us_to_tv(tv_to_us(now) + delays[i] * G_GINT64_CONSTANT(1000))),
            ==, 0);
    }
    while (norder < (int)G_N_ELEMENTS(delays))
        drive_iterate(&d, 100);

    for (i = 0; i < G_N_ELEMENTS(delays); i++) {
        g_assert_cmpint(order[i], ==, expect[i]);
        g_assert_cmpint(t[i].calls, ==, 1);
        g_assert_cmpint(t[i].fired_at_us, >=, t[i].requested_us);
        g_assert_false(t[i].was_registered_in_cb);
        g_assert_false(xlev_ev_time_isregistered(&t[i].ev));
    }
    if (MODE(data) != DRIVE_POLL)
        g_assert_cmpint(test_hooks_n_live_times(&d.hooks), ==, 0);
    drive_free_ctx(&d);
}

/* A callback that registers its timeout again. */
static void
test_rearm_in_callback(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    TimeProbe t;
    Drive d;

    drive_init(&d, MODE(data), ctx);
    probe_init(&t, 0);
    t.rearm = 3;
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, 1), ==, 0);
    while (t.calls < 4)
        drive_iterate(&d, 100);
    g_assert_false(xlev_ev_time_isregistered(&t.ev));
    drive_iterate(&d, 20);
    g_assert_cmpint(t.calls, ==, 4);
    drive_free_ctx(&d);
}

/* Equal deadlines fire in registration order. */
static void
test_same_instant_order(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TimeProbe t[8];
    int order[8], norder = 0, i;
    struct timeval abs;

    xlev_ctx_set_clock(ctx, &fake_clock, NULL);
    abs = us_to_tv(fake_mono_us + 1000);
    for (i = 0; i < 8; i++) {
        probe_init(&t[i], i);
        t[i].order = order;
        t[i].norder = &norder;
        g_assert_cmpint(xlev_ev_time_register_abs(ctx, &t[i].ev, time_cb, abs),
                        ==, 0);
    }
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, abs), ==, 0);
    g_assert_cmpint(norder, ==, 8);
    for (i = 0; i < 8; i++)
        g_assert_cmpint(order[i], ==, i);
    xlev_ctx_free(ctx);
}

/* The timeouts run on the monotonic clock: a wall-clock jump neither fires
 * nor delays them; a wall deadline is converted once. */
static void
test_wall_clock_jump(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TimeProbe rel, wall;
    gint64 mono0 = fake_mono_us;

    xlev_ctx_set_clock(ctx, &fake_clock, NULL);
    probe_init(&rel, 0);
    probe_init(&wall, 1);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &rel.ev, time_cb, 1000), ==,
                    0);
    g_assert_cmpint(xlev_ev_time_register_wall(ctx, &wall.ev, time_cb,
                                               us_to_tv(fake_real_us +
                                                        2 * G_USEC_PER_SEC)),
                    ==, 0);

    /* the wall clock jumps an hour forward, then a day back */
    fake_real_us += G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC;
    fake_mono_us = mono0 + 500000;
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, us_to_tv(fake_mono_us)),
                    ==, 0);
    g_assert_cmpint(rel.calls + wall.calls, ==, 0);
    fake_real_us -= G_GINT64_CONSTANT(86400) * G_USEC_PER_SEC;

    fake_mono_us = mono0 + 1000000;
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, us_to_tv(fake_mono_us)),
                    ==, 0);
    g_assert_cmpint(rel.calls, ==, 1);
    g_assert_cmpint(wall.calls, ==, 0);
    g_assert_cmpint(rel.requested_us, ==, mono0 + 1000000);

    fake_mono_us = mono0 + 2000000;
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, us_to_tv(fake_mono_us)),
                    ==, 0);
    g_assert_cmpint(wall.calls, ==, 1);
    g_assert_cmpint(wall.requested_us, ==, mono0 + 2000000);
    xlev_ctx_free(ctx);
}

/* beforepoll's timeout: sub-millisecond rounds up to 1 ms, due gives 0,
 * only ever reduced. */
static void
test_beforepoll_rounding(void)
{
    static const struct {
        gint64 in_us;
        int expect_ms;
    } cases[] = {
        {300, 1}, {1, 1}, {1000, 1}, {1001, 2}, {1500, 2}, {0, 0}, {-5000, 0},
        {2500000, 2500},
    };
    xlev_ctx *ctx = test_ctx_new();
    guint i;

    xlev_ctx_set_clock(ctx, &fake_clock, NULL);
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        TimeProbe t;
        int n = 0, timeout = -1;
        struct timeval now = us_to_tv(fake_mono_us);

        probe_init(&t, 0);
        g_assert_cmpint(
            xlev_ev_time_register_abs(ctx, &t.ev, time_cb,
                                      us_to_tv(fake_mono_us + cases[i].in_us)),
            ==, 0);
        g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now),
                        ==, 0);
        g_assert_cmpint(timeout, ==, cases[i].expect_ms);
        timeout = 0;
        g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now),
                        ==, 0);
        g_assert_cmpint(timeout, ==, 0); /* never increased */
        xlev_ev_time_deregister(ctx, &t.ev);
    }
    xlev_ctx_free(ctx);
}

static void
test_modify_and_infinite(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TimeProbe t;
    struct timeval now;
    int n = 0, timeout;

    xlev_ctx_set_clock(ctx, &fake_clock, NULL);
    now = us_to_tv(fake_mono_us);
    probe_init(&t, 0);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, -1), ==, 0);
    g_assert_true(xlev_ev_time_isregistered(&t.ev));
    timeout = -1;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    0);
    g_assert_cmpint(timeout, ==, -1);

    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t.ev, 100), ==, 0);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    0);
    g_assert_cmpint(timeout, ==, 100);

    g_assert_cmpint(xlev_ev_time_modify_abs(ctx, &t.ev,
                                            us_to_tv(fake_mono_us + 50000)),
                    ==, 0);
    timeout = -1;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    0);
    g_assert_cmpint(timeout, ==, 50);

    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t.ev, -1), ==, 0);
    timeout = -1;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    0);
    g_assert_cmpint(timeout, ==, -1);
    g_assert_cmpint(
        xlev_osevent_afterpoll(ctx, 0, NULL, us_to_tv(fake_mono_us + 1000000000)),
        ==, 0);
    g_assert_cmpint(t.calls, ==, 0);
    g_assert_true(xlev_ev_time_isregistered(&t.ev));

    xlev_ev_time_deregister(ctx, &t.ev);
    g_assert_false(xlev_ev_time_isregistered(&t.ev));
    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t.ev, 5), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_time_modify_abs(ctx, &t.ev, now), ==,
                    XLEV_ERROR_INVAL);
    {
        struct timeval bad = {0, 2000000};

        g_assert_cmpint(xlev_ev_time_register_abs(ctx, &t.ev, time_cb, bad),
                        ==, XLEV_ERROR_INVAL);
        g_assert_cmpint(xlev_ev_time_register_abs(NULL, &t.ev, time_cb, now),
                        ==, XLEV_ERROR_INVAL);
        g_assert_cmpint(xlev_ev_time_register_rel(ctx, NULL, time_cb, 1), ==,
                        XLEV_ERROR_INVAL);
        g_assert_cmpint(xlev_ev_time_register_wall(ctx, &t.ev, NULL, now), ==,
                        XLEV_ERROR_INVAL);
    }
    xlev_ctx_free(ctx);
}

/* Random registrations, modifications and removals keep the heap valid;
 * everything left then fires in deadline order. */
static void
test_heap_random(void)
{
#define NT 300
    xlev_ctx *ctx = test_ctx_new();
    TimeProbe *t = g_new0(TimeProbe, NT);
    int *order = g_new0(int, NT), norder = 0;
    GRand *rand = g_rand_new_with_seed(4);
    gint64 last = G_MININT64;
    int i, op, live = 0;

    xlev_ctx_set_clock(ctx, &fake_clock, NULL);
    for (i = 0; i < NT; i++) {
        probe_init(&t[i], i);
        t[i].order = order;
        t[i].norder = &norder;
    }
    for (op = 0; op < 20000; op++) {
        TimeProbe *p = &t[g_rand_int_range(rand, 0, NT)];
        struct timeval abs =
            us_to_tv(fake_mono_us + g_rand_int_range(rand, 1, 1000000));

        switch (g_rand_int_range(rand, 0, 4)) {
        case 0:
            if (!xlev_ev_time_isregistered(&p->ev))
                g_assert_cmpint(
                    xlev_ev_time_register_abs(ctx, &p->ev, time_cb, abs), ==,
                    0);
            break;
        case 1:
            if (xlev_ev_time_isregistered(&p->ev))
                g_assert_cmpint(xlev_ev_time_modify_abs(ctx, &p->ev, abs), ==,
                                0);
            break;
        case 2:
            if (xlev_ev_time_isregistered(&p->ev))
                g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &p->ev, -1), ==,
                                0);
            break;
        default:
            xlev_ev_time_deregister(ctx, &p->ev);
            break;
        }
        if (op % 97 == 0)
            g_assert_true(xlev__test_time_heap_ok(ctx));
    }
    g_assert_true(xlev__test_time_heap_ok(ctx));
    for (i = 0; i < NT; i++)
        if (xlev_ev_time_isregistered(&t[i].ev)
            && !xlev__test_time_is_infinite(&t[i].ev))
            live++;

    g_assert_cmpint(
        xlev_osevent_afterpoll(ctx, 0, NULL, us_to_tv(fake_mono_us + 2000000)),
        ==, 0);
    g_assert_cmpint(norder, ==, live);
    for (i = 0; i < norder; i++) {
        g_assert_cmpint(t[order[i]].requested_us, >=, last);
        last = t[order[i]].requested_us;
    }
    xlev_ctx_free(ctx);
    for (i = 0; i < NT; i++)
        g_assert_false(xlev_ev_time_isregistered(&t[i].ev));
    g_rand_free(rand);
    g_free(order);
    g_free(t);
#undef NT
}

/* Hooks: an occurred_timeout that comes early is registered again for the
 * rest of its time and does not fire. */
static void
test_hooks_early_occurrence(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    TestHookTime r;
    TimeProbe t;

    xlev_ctx_set_clock(ctx, &fake_clock, NULL);
    test_hooks_install(&th, ctx);
    probe_init(&t, 0);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, 100), ==, 0);
    g_assert_cmpint(th.n_timeout_register, ==, 1);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 1);
    r = g_array_index(th.times, TestHookTime, 0);
    g_assert_cmpint(tv_to_us(r.abs), ==, fake_mono_us + 100000);

    /* the application reports it 10 ms early */
    g_array_index(th.times, TestHookTime, 0).live = 0;
    fake_mono_us += 90000;
    xlev_osevent_occurred_timeout(ctx, r.for_xlev);
    g_assert_cmpint(t.calls, ==, 0);
    g_assert_true(xlev_ev_time_isregistered(&t.ev));
    g_assert_cmpint(th.n_timeout_register, ==, 2);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 1);

    fake_mono_us += 10000;
    r = g_array_index(th.times, TestHookTime, 1);
    g_array_index(th.times, TestHookTime, 1).live = 0;
    xlev_osevent_occurred_timeout(ctx, r.for_xlev);
    g_assert_cmpint(t.calls, ==, 1);
    g_assert_false(xlev_ev_time_isregistered(&t.ev));
    g_assert_cmpint(th.n_timeout_deregister, ==, 0); /* implicitly gone */

    /* a late duplicate report is ignored */
    xlev_osevent_occurred_timeout(ctx, r.for_xlev);
    g_assert_cmpint(t.calls, ==, 1);

    xlev_ctx_free(ctx);
    test_hooks_clear(&th);
}

static void
add_modes(const char *name, GTestDataFunc fn)
{
    core_test_add_modes("time", name, fn);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    add_modes("order-never-early", test_order_never_early);
    add_modes("rearm-in-callback", test_rearm_in_callback);
    g_test_add_func("/xlev/core/time/same-instant-order",
                    test_same_instant_order);
    g_test_add_func("/xlev/core/time/wall-clock-jump", test_wall_clock_jump);
    g_test_add_func("/xlev/core/time/beforepoll-rounding",
                    test_beforepoll_rounding);
    g_test_add_func("/xlev/core/time/modify-and-infinite",
                    test_modify_and_infinite);
    g_test_add_func("/xlev/core/time/heap-random", test_heap_random);
    g_test_add_func("/xlev/core/time/hooks-early-occurrence",
                    test_hooks_early_occurrence);

    return g_test_run();
}
