/* test-bad-input.c: the loop room refuses or absorbs hostile values
 * cheaply: huge fd numbers, deadlines and clocks at the ends of time_t
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Run under UBSan in tools/check (halt_on_error): a signed overflow on
 * any of these paths fails the test there.
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "core-test-util.h"

#define USEC_PER_SEC 1000000

static void
nop_fd_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events, short revents)
{
}

static void
nop_time_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
}

/* Resident set size in KiB, from /proc/self/statm. */
static glong
rss_kib(void)
{
    g_autofree char *text = NULL;
    glong size = 0, resident = 0;

    g_assert_true(g_file_get_contents("/proc/self/statm", &text, NULL, NULL));
    g_assert_cmpint(sscanf(text, "%ld %ld", &size, &resident), ==, 2);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* fd 2^28 and INT_MAX cost one table slot each, not an array as large as
 * the fd number (the seed's table took 4 GB and 9 s for fd 2^28), and
 * INT_MAX does not overflow anything. */
static void
test_huge_fd(void)
{
    static const int huge[] = { 1 << 28, INT_MAX, INT_MAX - 1, 1 << 20 };
    xlev_ctx *ctx = test_ctx_new();
    xlev_ev_fd ev[G_N_ELEMENTS(huge)];
    struct pollfd pfd[G_N_ELEMENTS(huge)];
    gint64 start = g_get_monotonic_time();
    glong rss0 = rss_kib();
    struct timeval now = { 0, 0 };
    int n = G_N_ELEMENTS(huge), timeout = -1;
    guint i, j;

    for (i = 0; i < G_N_ELEMENTS(huge); i++) {
        xlev_ev_fd_init(&ev[i]);
        g_assert_cmpint(
            xlev_ev_fd_register(ctx, &ev[i], nop_fd_cb, huge[i], POLLIN), ==,
            0);
    }
    /* well under the 16 MiB a 2^21-slot pointer array would need */
    g_assert_cmpint(rss_kib() - rss0, <, 4096);
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);

    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, G_N_ELEMENTS(huge));
    for (i = 0; i < G_N_ELEMENTS(huge); i++) {
        gboolean found = FALSE;

        for (j = 0; j < G_N_ELEMENTS(huge); j++)
            found = found || pfd[j].fd == huge[i];
        g_assert_true(found);
        pfd[i].revents = POLLNVAL; /* none of them is open */
    }
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, n, pfd, now), ==, 0);

    for (i = 0; i < G_N_ELEMENTS(huge); i++) {
        xlev_ev_fd_deregister(ctx, &ev[i]);
        g_assert_false(xlev_ev_fd_isregistered(&ev[i]));
    }
    n = 0;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 0);

    g_assert_cmpint(xlev_ev_fd_register(ctx, &ev[0], nop_fd_cb, -1, POLLIN), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(
        xlev_ev_fd_register(ctx, &ev[0], nop_fd_cb, INT_MIN, POLLIN), ==,
        XLEV_ERROR_INVAL);
    xlev_ctx_free(ctx);
}

/* The fd table is a hash: many fds, some colliding, registered and
 * deregistered in a random order, are always found (beforepoll lists
 * exactly the live ones, a second registration on a live fd merges). */
static void
test_fd_table_churn(void)
{
    enum { N = 600 };
    xlev_ctx *ctx = test_ctx_new();
    g_autofree xlev_ev_fd *ev = g_new(xlev_ev_fd, N);
    g_autofree int *fd = g_new(int, N);
    g_autofree gboolean *live = g_new0(gboolean, N);
    g_autofree struct pollfd *pfd = g_new(struct pollfd, N);
    GRand *rand = g_rand_new_with_seed(14);
    struct timeval now = { 0, 0 };
    int i, round;

    for (i = 0; i < N; i++) {
        /* small, large and multiples of big powers of two (same low
         * bits), all distinct */
        fd[i] = i % 3 == 0 ? i : i % 3 == 1 ? (i << 20) : INT_MAX - i;
        xlev_ev_fd_init(&ev[i]);
    }
    for (round = 0; round < 20000; round++) {
        i = g_rand_int_range(rand, 0, N);
        if (live[i]) {
            xlev_ev_fd_deregister(ctx, &ev[i]);
        } else {
            g_assert_cmpint(
                xlev_ev_fd_register(ctx, &ev[i], nop_fd_cb, fd[i], POLLIN), ==,
                0);
        }
        live[i] = !live[i];

        if (round % 997 == 0) {
            int n = N, timeout = -1, expect = 0, k;

            g_assert_cmpint(
                xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==, 0);
            for (k = 0; k < N; k++)
                expect += live[k];
            g_assert_cmpint(n, ==, expect);
            for (k = 0; k < n; k++) {
                int m;

                for (m = 0; m < N && fd[m] != pfd[k].fd; m++)
                    ;
                g_assert_cmpint(m, <, N);
                g_assert_true(live[m]);
            }
        }
    }
    g_rand_free(rand);
    xlev_ctx_free(ctx);
}

static struct timeval fake_mono_now, fake_real_now;

static void
fake_mono(void *user, struct timeval *now_out)
{
    *now_out = fake_mono_now;
}

static void
fake_real(void *user, struct timeval *now_out)
{
    *now_out = fake_real_now;
}

static const xlev_clock fake_clock = { fake_mono, fake_real };

/* beforepoll's timeout never overflows: `now` far past every deadline
 * gives 0 (the seed gave a huge value), a deadline far after `now` gives
 * INT_MAX; an invalid `now` is refused. */
static void
test_beforepoll_far_now(void)
{
    static const struct {
        struct timeval abs, now;
        int expect_ms;
    } cases[] = {
        { { 0, 0 }, { LONG_MAX, 999999 }, 0 },
        { { 1000, 0 }, { LONG_MAX, 0 }, 0 },
        { { LONG_MIN, 0 }, { LONG_MAX, 0 }, 0 },
        { { LONG_MAX, 999999 }, { 0, 0 }, INT_MAX },
        { { LONG_MAX, 0 }, { LONG_MIN, 0 }, INT_MAX },
        { { LONG_MAX, 0 }, { LONG_MAX - 1, 999999 }, 1 },
        { { LONG_MIN + 1, 0 }, { LONG_MIN, 0 }, 1000 },
        { { INT_MAX / 1000, 0 }, { 0, 0 }, INT_MAX / 1000 * 1000 },
        { { INT_MAX / 1000 + 1, 0 }, { 0, 0 }, INT_MAX },
        { { 2000000, 0 }, { 0, 0 }, 2000000000 },
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        xlev_ctx *ctx = test_ctx_new();
        xlev_ev_time t;
        int n = 0, timeout = -1;

        xlev_ev_time_init(&t);
        g_assert_cmpint(
            xlev_ev_time_register_abs(ctx, &t, nop_time_cb, cases[i].abs), ==,
            0);
        g_assert_cmpint(
            xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, cases[i].now), ==,
            0);
        g_assert_cmpint(timeout, ==, cases[i].expect_ms);
        xlev_ctx_free(ctx);
    }

    {
        xlev_ctx *ctx = test_ctx_new();
        struct timeval bad[]
            = { { 0, -1 }, { 0, USEC_PER_SEC }, { 0, LONG_MAX } };
        int n = 0, timeout = -1;

        for (i = 0; i < G_N_ELEMENTS(bad); i++) {
            g_assert_cmpint(
                xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, bad[i]), ==,
                XLEV_ERROR_INVAL);
            g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, bad[i]), ==,
                            XLEV_ERROR_INVAL);
        }
        g_assert_cmpint(timeout, ==, -1);
        xlev_ctx_free(ctx);
    }
}

/* A wall-clock deadline is mono + (wall - real): one far in the future
 * but representable is kept (it never fires: beforepoll says INT_MAX);
 * one whose monotonic equivalent does not fit in a time_t, either way, is
 * refused with XLEV_ERROR_INVAL instead of overflowing. */
static void
test_wall_deadline_extremes(void)
{
    static const struct {
        struct timeval wall, mono, real;
        int expect_rc, expect_ms;
    } cases[] = {
        { { LONG_MAX, 999999 }, { 1000, 0 }, { 1700000000, 0 }, 0, INT_MAX },
        { { LONG_MAX, 999999 },
          { 1700000000, 0 },
          { 1000, 0 },
          XLEV_ERROR_INVAL },
        { { LONG_MIN, 0 }, { 1000, 0 }, { 1700000000, 0 }, XLEV_ERROR_INVAL },
        { { LONG_MIN, 0 }, { 0, 0 }, { 0, 0 }, 0, 0 },
        { { 5, 0 }, { 0, 0 }, { LONG_MIN, 0 }, XLEV_ERROR_INVAL },
        /* the microseconds carry a second past LONG_MAX */
        { { LONG_MAX, 999999 }, { 0, 500000 }, { 0, 0 }, XLEV_ERROR_INVAL },
        /* and borrow one: 10 + (100 - 50.999999) = 59.000001 */
        { { 100, 0 }, { 10, 0 }, { 50, 999999 }, 0, 49001 },
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        xlev_ctx *ctx = test_ctx_new();
        xlev_ev_time t;
        int n = 0, timeout = -1;

        fake_mono_now = cases[i].mono;
        fake_real_now = cases[i].real;
        xlev_ctx_set_clock(ctx, &fake_clock, NULL);
        xlev_ev_time_init(&t);
        g_assert_cmpint(
            xlev_ev_time_register_wall(ctx, &t, nop_time_cb, cases[i].wall), ==,
            cases[i].expect_rc);
        g_assert_cmpint(xlev_ev_time_isregistered(&t), ==,
                        cases[i].expect_rc == 0);
        g_assert_cmpint(
            xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, fake_mono_now), ==,
            0);
        g_assert_cmpint(timeout, ==,
                        cases[i].expect_rc == 0 ? cases[i].expect_ms : -1);
        xlev_ctx_free(ctx);
    }
}

/* A relative deadline from a clock at the end of time_t saturates
 * instead of overflowing: it never fires before its time. */
static void
test_rel_deadline_at_end_of_time(void)
{
    xlev_ctx *ctx = test_ctx_new();
    xlev_ev_time t;
    int n = 0, timeout = -1;

    fake_mono_now.tv_sec = LONG_MAX;
    fake_mono_now.tv_usec = 999000;
    xlev_ctx_set_clock(ctx, &fake_clock, NULL);
    xlev_ev_time_init(&t);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t, nop_time_cb, INT_MAX),
                    ==, 0);
    g_assert_cmpint(
        xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, fake_mono_now), ==, 0);
    g_assert_cmpint(timeout, ==, 1); /* the last microsecond there is */
    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t, INT_MAX), ==, 0);
    g_assert_true(xlev_ev_time_isregistered(&t));
    xlev_ctx_free(ctx);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xlev/core/bad-input/huge-fd", test_huge_fd);
    g_test_add_func("/xlev/core/bad-input/fd-table-churn", test_fd_table_churn);
    g_test_add_func("/xlev/core/bad-input/beforepoll-far-now",
                    test_beforepoll_far_now);
    g_test_add_func("/xlev/core/bad-input/wall-deadline-extremes",
                    test_wall_deadline_extremes);
    g_test_add_func("/xlev/core/bad-input/rel-deadline-at-end-of-time",
                    test_rel_deadline_at_end_of_time);
    return g_test_run();
}
