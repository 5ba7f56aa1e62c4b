/* test-deadlines.c: core deadlines at the ends of time_t reach GLib
 * without overflow (UBSan in tools/check) under both integrations: one
 * at the end never fires and leaves the loop idle, one before the
 * clock's start fires at once
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <limits.h>

#include "xlev-test-common.h"
#include "xlev-context-private.h"

typedef struct {
    xlev_ev_time ev;
    guint calls;
} Probe;

static void
probe_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    ((Probe *)ev)->calls++;
}

static void
test_extreme_deadlines(Fixture *f, gconstpointer data)
{
    xlev_ctx *core = xlev_context_get_core(f->ctx);
    struct timeval end = { LONG_MAX, 999999 }, start = { LONG_MIN, 0 };
    /* far after now on the wall clock, yet representable: kept */
    struct timeval wall_end = { LONG_MAX - 1, 0 };
    Probe late, wall, early;
    guint iterations;

    xlev_ev_time_init(&late.ev);
    xlev_ev_time_init(&wall.ev);
    xlev_ev_time_init(&early.ev);
    late.calls = wall.calls = early.calls = 0;
    g_assert_cmpint(xlev_ev_time_register_abs(core, &late.ev, probe_cb, end),
                    ==, 0);
    g_assert_cmpint(
        xlev_ev_time_register_wall(core, &wall.ev, probe_cb, wall_end), ==, 0);

    /* never due: the loop sleeps (a few iterations at most, not a spin) */
    iterations = spin_for(f->main_context, 100);
    g_assert_cmpuint(iterations, <, 20);
    g_assert_cmpuint(late.calls + wall.calls, ==, 0);

    g_assert_cmpint(xlev_ev_time_register_abs(core, &early.ev, probe_cb, start),
                    ==, 0);
    WAIT_FOR(f->main_context, early.calls == 1, 5000);
    g_assert_cmpuint(late.calls + wall.calls, ==, 0);

    /* moved to the end of time_t and back: still no overflow */
    g_assert_cmpint(xlev_ev_time_modify_abs(core, &wall.ev, end), ==, 0);
    g_assert_cmpint(xlev_ev_time_modify_abs(core, &late.ev, start), ==, 0);
    WAIT_FOR(f->main_context, late.calls == 1, 5000);
    g_assert_cmpuint(wall.calls, ==, 0);

    xlev_ev_time_deregister(core, &wall.ev);
    xlev_ev_time_deregister(core, &late.ev);
    xlev_ev_time_deregister(core, &early.ev);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    XLEV_TEST_ADD_BOTH("/deadlines/ends-of-time", test_extreme_deadlines);
    return g_test_run();
}
