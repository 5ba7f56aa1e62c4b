/* test-xs-lost.c: xenstored dying under a context
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * libxenstore 4.17's reader thread closes a failed connection without
 * writing to the watch pipe, so the watch fd alone never tells. These tests
 * kill the fixture's real xenstored (SIGKILL, then reap it) and check that
 * the core notices by itself, within a bounded time, in every driving
 * style; that XLEV_DISASTER_XENSTORE comes exactly once; that nothing
 * blocks afterwards; and that a context on a restarted daemon works.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "core-test-util.h"
#include "xs-fixture.h"
#include "xs/xs-private.h" /* XLEV_XS_LIVENESS_MS */

/* Noticing takes at most one liveness period after the daemon is gone;
 * the rest is slack for a loaded machine. */
#define NOTICE_SLACK_MS 2000
/* A failing request must come back at once, not after a timeout. */
#define PROMPT_MS 500

typedef struct {
    volatile int count;
    int kind;
    int errnoval;
    GThread *thread;
} DisasterProbe;

static void
disaster_cb(void *user, xlev_disaster_kind kind, const char *msg,
            int errnoval)
{
    DisasterProbe *dp = user;

    g_test_message("disaster %d: %s (errno %d)", (int)kind, msg, errnoval);
    dp->kind = kind;
    dp->errnoval = errnoval;
    dp->thread = g_thread_self();
    dp->count++;
}

typedef struct {
    xlev_ev_xswatch w;
    volatile int calls;
} Probe;

static void
watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
         const char *epath)
{
    ((Probe *)w)->calls++;
}

static void
probe_init(Probe *p)
{
    memset(p, 0, sizeof(*p));
    xlev_ev_xswatch_init(&p->w);
}

/* A context on the fixture's daemon, its disasters counted in dp, driven
 * by d in mode (drive_free_ctx() frees both). */
static xlev_ctx *
ctx_new(DisasterProbe *dp, Drive *d, DriveMode mode)
{
    xlev_ctx *ctx = NULL;

    g_assert_cmpint(xlev_ctx_new(NULL, &ctx), ==, 0);
    memset(dp, 0, sizeof(*dp));
    xlev_ctx_set_disaster_hook(ctx, disaster_cb, dp);
    drive_init(d, mode, ctx);
    return ctx;
}

static int
scaled(int ms)
{
    return (int)xs_fixture_scale_ms(ms);
}

/* A watch by p on path, once its initial event has come (xenstored has
 * set it). */
static void
start_watch(xlev_ctx *ctx, Drive *d, Probe *p, const char *path)
{
    probe_init(p);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p->w, watch_cb, path), ==,
                    0);
    g_assert_true(drive_until(d, &p->calls, scaled(5000)));
}

/* SIGKILL, then wait until it is reaped (xs_fixture_daemon_alive calls
 * waitpid and remembers, so that the fixture's teardown does not kill a
 * recycled pid). */
static void
kill_daemon(XsFixture *fx)
{
    gint64 deadline = test_now_ms() + scaled(5000);

    g_assert_cmpint(kill(fx->pid, SIGKILL), ==, 0);
    while (xs_fixture_daemon_alive(fx)) {
        g_assert_cmpint(test_now_ms(), <, deadline);
        g_usleep(1000);
    }
}

/* The poll-style timeout and fd count the context asks for now. */
static void
poll_wants(xlev_ctx *ctx, int *nfds_out, int *timeout_out)
{
    struct timeval now;
    int nfds = 0, timeout = -1, rc;

    xlev_osevent_now(ctx, &now);
    rc = xlev_osevent_beforepoll(ctx, &nfds, NULL, &timeout, now);
    g_assert_true(rc == 0 || rc == XLEV_ERROR_BUFFERFULL);
    *nfds_out = nfds;
    *timeout_out = timeout;
}

/* Drives with long poll timeouts (so only the core's own deadlines wake
 * the loop) until the disaster or timeout_ms; returns the time taken. */
static gint64
drive_until_disaster(Drive *d, DisasterProbe *dp, int timeout_ms)
{
    gint64 start = test_now_ms(), deadline = start + timeout_ms;

    while (!dp->count && test_now_ms() < deadline)
        drive_iterate(d, (int)(deadline - test_now_ms()) + 1);
    return test_now_ms() - start;
}

/* Every plain operation fails with XLEV_ERROR_XENSTORE, promptly. */
static void
assert_ops_fail_promptly(xlev_ctx *ctx)
{
    gint64 start = test_now_ms();
    char *value = NULL, **entries = NULL;
    unsigned int n = 0;

    g_assert_cmpint(xlev_xs_read(ctx, "/lost/a", &value, NULL), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_null(value);
    g_assert_cmpint(xlev_xs_write(ctx, "/lost/a", "1", 1), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_cmpint(xlev_xs_directory(ctx, "/lost", &entries, &n), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_null(entries);
    g_assert_cmpint(xlev_xs_rm(ctx, "/lost/a"), ==, XLEV_ERROR_XENSTORE);
    g_assert_cmpint(test_now_ms() - start, <, scaled(PROMPT_MS));
}

/* A watch is registered; the daemon is killed. The core notices within a
 * liveness period plus slack with no stimulus but its own timeout, reports
 * it once in the loop's thread, stops polling, and fails everything after
 * at once. */

/* What a context asks the loop for. The socket transport polls its socket
 * all the time (an EOF is seen at once: no liveness timeout), plus the
 * wake-up fd in poll style; the xenbus transport (libxenstore) polls its
 * watch pipe while it has watches, with the liveness timeout. */
static int
is_socket(xlev_ctx *ctx)
{
    return xlev_ctx_get_transport(ctx) == XLEV_XS_TRANSPORT_SOCKET;
}

static int
want_fds(xlev_ctx *ctx, int poll_style, int watching, int lost)
{
    int n;

    if (is_socket(ctx))
        n = lost ? 0 : 1;
    else
        n = watching && !lost ? 1 : 0;
    return n + (poll_style && is_socket(ctx) ? 1 : 0);
}

static void
test_killed_with_watch(XsFixture *fx, gconstpointer data)
{
    DisasterProbe dp;
    xlev_ctx *ctx;
    Probe p, late;
    gint64 took;
    Drive d;
    int nfds, timeout, i;

    ctx = ctx_new(&dp, &d, MODE(data));
    start_watch(ctx, &d, &p, "/lost");
    if (MODE(data) == DRIVE_POLL) {
        poll_wants(ctx, &nfds, &timeout);
        g_assert_cmpint(nfds, ==, want_fds(ctx, 1, 1, 0));
        if (!is_socket(ctx)) {
            g_assert_cmpint(timeout, >=, 0);
            g_assert_cmpint(timeout, <=, XLEV_XS_LIVENESS_MS);
        }
    }

    kill_daemon(fx);
    took = drive_until_disaster(&d, &dp,
                                scaled(XLEV_XS_LIVENESS_MS + NOTICE_SLACK_MS));
    g_assert_cmpint(dp.count, ==, 1);
    g_assert_cmpint(dp.kind, ==, XLEV_DISASTER_XENSTORE);
    g_assert_true(dp.thread == g_thread_self());
    g_test_message("noticed after %" G_GINT64_FORMAT " ms", took);

    /* no longer polled, no periodic wake-up left */
    g_assert_false(xlev__test_watch_fd_registered(ctx));
    if (MODE(data) == DRIVE_POLL) {
        drive_iterate(&d, 0);
        poll_wants(ctx, &nfds, &timeout);
        g_assert_cmpint(nfds, ==, want_fds(ctx, 1, 1, 1));
        g_assert_cmpint(timeout, ==, -1);
    } else {
        g_assert_cmpint(test_hooks_n_live_fds(&d.hooks), ==, 0);
    }

    assert_ops_fail_promptly(ctx);
    probe_init(&late);
    g_assert_cmpint(
        xlev_ev_xswatch_register(ctx, &late.w, watch_cb, "/lost/late"), ==,
        XLEV_ERROR_BROKEN);
    g_assert_false(xlev_ev_xswatch_isregistered(&late.w));

    /* the old watch is still registered, never fires, goes away cleanly */
    g_assert_true(xlev_ev_xswatch_isregistered(&p.w));
    p.calls = 0;
    for (i = 0; i < 3; i++)
        drive_iterate(&d, 50);
    xlev_ev_xswatch_deregister(ctx, &p.w);
    g_assert_false(xlev_ev_xswatch_isregistered(&p.w));
    g_assert_cmpint(p.calls, ==, 0);
    g_assert_cmpint(dp.count, ==, 1);

    drive_free_ctx(&d);
}

/* No watch was ever registered (libxenstore has no reader thread): a plain
 * operation finds the daemon gone, returns XLEV_ERROR_XENSTORE and the
 * disaster reaches the loop at its next turn, which the core makes
 * immediate. */
static void
test_plain_op_finds_it(XsFixture *fx, gconstpointer data)
{
    DisasterProbe dp;
    xlev_ctx *ctx;
    gint64 start;
    Drive d;
    int nfds, timeout;

    ctx = ctx_new(&dp, &d, MODE(data));
    drive_prepare(&d);
    g_assert_cmpint(xlev_xs_write(ctx, "/lost/a", "1", 1), ==, 0);
    kill_daemon(fx);

    start = test_now_ms();
    g_assert_cmpint(xlev_xs_write(ctx, "/lost/a", "2", 1), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_cmpint(test_now_ms() - start, <, scaled(PROMPT_MS));
    g_assert_cmpint(dp.count, ==, 0); /* reported by the loop, not here */
    if (MODE(data) == DRIVE_POLL) {
        poll_wants(ctx, &nfds, &timeout);
        g_assert_cmpint(timeout, ==, 0);
    } else {
        g_assert_cmpint(test_hooks_n_live_times(&d.hooks), ==, 1);
    }
    drive_until_disaster(&d, &dp, scaled(PROMPT_MS));
    g_assert_cmpint(dp.count, ==, 1);
    g_assert_cmpint(dp.kind, ==, XLEV_DISASTER_XENSTORE);

    assert_ops_fail_promptly(ctx);
    drive_iterate(&d, 20);
    g_assert_cmpint(dp.count, ==, 1);
    if (MODE(data) == DRIVE_POLL) {
        poll_wants(ctx, &nfds, &timeout);
        g_assert_cmpint(timeout, ==, -1);
    } else {
        g_assert_cmpint(test_hooks_n_live_times(&d.hooks), ==, 0);
    }
    drive_free_ctx(&d);
}

/* A watch came and went (libxenstore's reader thread exists, no liveness
 * timeout runs): the next operation finds the connection gone, whichever
 * of read_reply's EINVAL or a write to fd -1 it meets. */
static void
test_plain_op_after_watches(XsFixture *fx, gconstpointer data)
{
    DisasterProbe dp;
    xlev_ctx *ctx;
    char *value = NULL;
    Probe p;
    Drive d;

    ctx = ctx_new(&dp, &d, DRIVE_POLL);
    start_watch(ctx, &d, &p, "/lost");
    xlev_ev_xswatch_deregister(ctx, &p.w);
    kill_daemon(fx);
    /* let the reader thread see the end of the connection */
    g_usleep(50000);

    g_assert_cmpint(xlev_xs_read(ctx, "/lost", &value, NULL), ==,
                    XLEV_ERROR_XENSTORE);
    drive_until_disaster(&d, &dp, scaled(PROMPT_MS));
    g_assert_cmpint(dp.count, ==, 1);
    assert_ops_fail_promptly(ctx);
    drive_iterate(&d, 20);
    g_assert_cmpint(dp.count, ==, 1);
    drive_free_ctx(&d);
}

/* Threads hammering plain operations while the daemon dies under them (a
 * watch registered too): each call returns, with 0 before and
 * XLEV_ERROR_XENSTORE after; one disaster. stop, n_ok and n_failed are
 * shared while the threads run (g_atomic_int_*); the other counts are read
 * after g_thread_join(). */
typedef struct {
    xlev_ctx *ctx;
    gint stop;
    gint n_ok;
    gint n_failed;
    int n_other;
    gint64 slowest_ms;
} Hammer;

static gpointer
hammer_thread(gpointer data)
{
    Hammer *h = data;

    while (!g_atomic_int_get(&h->stop)) {
        gint64 t0 = test_now_ms();
        char *value = NULL;
        int rc = xlev_xs_write(h->ctx, "/lost/h", "x", 1);

        if (rc == 0)
            rc = xlev_xs_read(h->ctx, "/lost/h", &value, NULL);
        free(value);
        if (test_now_ms() - t0 > h->slowest_ms)
            h->slowest_ms = test_now_ms() - t0;
        if (rc == 0)
            g_atomic_int_inc(&h->n_ok);
        else if (rc == XLEV_ERROR_XENSTORE)
            g_atomic_int_inc(&h->n_failed);
        else
            h->n_other++;
    }
    return NULL;
}

static void
test_concurrent_ops(XsFixture *fx, gconstpointer data)
{
    enum { N_THREADS = 4 };
    DisasterProbe dp;
    xlev_ctx *ctx;
    Hammer h[N_THREADS];
    GThread *thr[N_THREADS];
    Probe p;
    Drive d;
    int i;

    ctx = ctx_new(&dp, &d, DRIVE_HOOKS);
    probe_init(&p);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p.w, watch_cb, "/other"),
                    ==, 0);
    for (i = 0; i < N_THREADS; i++) {
        memset(&h[i], 0, sizeof(h[i]));
        h[i].ctx = ctx;
        thr[i] = g_thread_new("hammer", hammer_thread, &h[i]);
    }
    /* every thread has had a round trip succeed */
    for (i = 0; i < N_THREADS; i++)
        while (!g_atomic_int_get(&h[i].n_ok))
            drive_iterate(&d, 10);
    kill_daemon(fx);
    drive_until_disaster(&d, &dp,
                         scaled(XLEV_XS_LIVENESS_MS + NOTICE_SLACK_MS));
    /* Each thread makes a call after the disaster before it is stopped: a
     * slow thread (ThreadSanitizer, a loaded machine) may not have started
     * one since the daemon died. That call fails at once (slowest_ms). */
    for (i = 0; i < N_THREADS; i++) {
        gint64 deadline = test_now_ms() + scaled(PROMPT_MS);

        while (!g_atomic_int_get(&h[i].n_failed) && test_now_ms() < deadline)
            drive_iterate(&d, 10);
    }
    for (i = 0; i < N_THREADS; i++) {
        g_atomic_int_set(&h[i].stop, 1);
        g_thread_join(thr[i]);
        g_assert_cmpint(h[i].n_other, ==, 0);
        g_assert_cmpint(h[i].n_ok, >, 0);
        g_assert_cmpint(h[i].n_failed, >, 0);
        g_assert_cmpint(h[i].slowest_ms, <, scaled(PROMPT_MS));
    }
    g_assert_cmpint(dp.count, ==, 1);
    g_assert_cmpint(dp.kind, ==, XLEV_DISASTER_XENSTORE);
    xlev_ev_xswatch_deregister(ctx, &p.w);
    drive_free_ctx(&d);
}

/* What an application does on the disaster: free the context and make a
 * new one, which works against the restarted daemon. */
static void
test_new_context_after_restart(XsFixture *fx, gconstpointer data)
{
    DisasterProbe dp;
    xlev_ctx *ctx;
    XsFixture fx2;
    GError *error = NULL;
    char *value = NULL;
    Probe p;
    Drive d;

    ctx = ctx_new(&dp, &d, DRIVE_POLL);
    start_watch(ctx, &d, &p, "/lost");
    kill_daemon(fx);
    drive_until_disaster(&d, &dp,
                         scaled(XLEV_XS_LIVENESS_MS + NOTICE_SLACK_MS));
    g_assert_cmpint(dp.count, ==, 1);
    drive_free_ctx(&d);

    /* "restart": one fixture at a time, so the first one goes first */
    xs_fixture_stop(fx);
    g_assert_true(xs_fixture_start(&fx2, &error));
    g_assert_no_error(error);

    ctx = ctx_new(&dp, &d, DRIVE_POLL);
    g_assert_cmpstr(xlev_ctx_get_xenstore_path(ctx), ==, fx2.socket_path);
    start_watch(ctx, &d, &p, "/again");
    p.calls = 0;
    g_assert_cmpint(xlev_xs_write(ctx, "/again/x", "1", 1), ==, 0);
    g_assert_true(drive_until(&d, &p.calls, scaled(5000)));
    g_assert_cmpint(xlev_xs_read(ctx, "/again/x", &value, NULL), ==, 0);
    g_assert_cmpstr(value, ==, "1");
    free(value);
    g_assert_cmpint(dp.count, ==, 0);
    xlev_ev_xswatch_deregister(ctx, &p.w);
    drive_free_ctx(&d);
    xs_fixture_stop(&fx2);
}

/* The liveness check costs nothing while there is no watch: a context
 * without watches asks for no timeout at all, one with a watch for one
 * within a period, and none again as soon as the last watch goes. */
static void
test_idle_no_wakeups(XsFixture *fx, gconstpointer data)
{
    DisasterProbe dp;
    xlev_ctx *ctx;
    Probe a, b;
    Drive d;
    int nfds, timeout;

    ctx = ctx_new(&dp, &d, MODE(data));
    drive_prepare(&d);
    g_assert_cmpint(xlev_xs_write(ctx, "/idle", "1", 1), ==, 0);

#define ASSERT_IDLE()                                                       \
    do {                                                                    \
        if (MODE(data) == DRIVE_POLL) {                                     \
            poll_wants(ctx, &nfds, &timeout);                               \
            g_assert_cmpint(nfds, ==, want_fds(ctx, 1, 0, 0));              \
            g_assert_cmpint(timeout, ==, -1);                               \
        } else {                                                            \
            g_assert_cmpint(test_hooks_n_live_fds(&d.hooks), ==,            \
                            want_fds(ctx, 0, 0, 0));                        \
            g_assert_cmpint(test_hooks_n_live_times(&d.hooks), ==, 0);      \
        }                                                                   \
    } while (0)
#define ASSERT_WATCHING()                                                   \
    do {                                                                    \
        if (MODE(data) == DRIVE_POLL) {                                     \
            poll_wants(ctx, &nfds, &timeout);                               \
            g_assert_cmpint(nfds, ==, want_fds(ctx, 1, 1, 0));              \
            if (!is_socket(ctx)) {                                          \
                g_assert_cmpint(timeout, >=, 0);                            \
                g_assert_cmpint(timeout, <=, XLEV_XS_LIVENESS_MS);          \
            } else {                                                        \
                /* no timeout, but 0 while the initial event that the  \
                 * registration read waits for the loop */                \
                g_assert_cmpint(timeout, <=, 0);                            \
            }                                                               \
        } else {                                                            \
            g_assert_cmpint(test_hooks_n_live_fds(&d.hooks), ==, 1);        \
            /* socket: at most the timeout due at once that hands the  \
             * loop that initial event */                                 \
            g_assert_cmpint(test_hooks_n_live_times(&d.hooks), <=, 1);      \
        }                                                                   \
    } while (0)

    ASSERT_IDLE();
    drive_iterate(&d, 20);
    ASSERT_IDLE();

    probe_init(&a);
    probe_init(&b);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &a.w, watch_cb, "/idle"),
                    ==, 0);
    ASSERT_WATCHING();
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &b.w, watch_cb, "/idle"),
                    ==, 0);
    ASSERT_WATCHING(); /* still one timeout for the context */
    g_assert_true(drive_until(&d, &b.calls, scaled(5000)));
    xlev_ev_xswatch_deregister(ctx, &a.w);
    ASSERT_WATCHING();
    xlev_ev_xswatch_deregister(ctx, &b.w);
    ASSERT_IDLE();

    /* and it comes back with the next watch, and survives firing */
    a.calls = 0;
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &a.w, watch_cb, "/idle"),
                    ==, 0);
    ASSERT_WATCHING();
    {
        gint64 end = test_now_ms() + XLEV_XS_LIVENESS_MS + 200;

        while (test_now_ms() < end)
            drive_iterate(&d, (int)(end - test_now_ms()) + 1);
    }
    ASSERT_WATCHING();
    g_assert_cmpint(a.calls, ==, 1);
    xlev_ev_xswatch_deregister(ctx, &a.w);
    ASSERT_IDLE();
#undef ASSERT_IDLE
#undef ASSERT_WATCHING

    g_assert_cmpint(dp.count, ==, 0);
    drive_free_ctx(&d);
}

static void
add_modes(const char *name, void (*fn)(XsFixture *, gconstpointer))
{
    core_test_add_modes_xs("xs-lost", name, fn);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    add_modes("daemon-killed-with-watch", test_killed_with_watch);
    add_modes("plain-op-finds-daemon-dead", test_plain_op_finds_it);
    add_modes("idle-context-no-wakeups", test_idle_no_wakeups);
    g_test_add("/xlev/core/xs-lost/plain-op-after-watches", XsFixture, NULL,
               xs_fixture_setup, test_plain_op_after_watches,
               xs_fixture_teardown);
    g_test_add("/xlev/core/xs-lost/concurrent-ops", XsFixture, NULL,
               xs_fixture_setup, test_concurrent_ops, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-lost/new-context-after-restart", XsFixture,
               NULL, xs_fixture_setup, test_new_context_after_restart,
               xs_fixture_teardown);

    return g_test_run();
}
