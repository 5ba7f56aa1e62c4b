/* test-regressions.c: one test per defect of the seed (issue 4's list)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Each test states what the seed's logic did and asserts the opposite.
 * The two defects about xenstore watches (6 and 15) are in
 * test-xswatch.c, which runs against the real xenstored.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core-test-util.h"

typedef struct {
    xlev_ev_fd ev;
    int calls;
    short revents;
    int deregister_self;
    xlev_ctx *ctx;
    int lock_was_free;
} FdProbe;

static void
fd_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events, short revents)
{
    FdProbe *p = (FdProbe *)ev;

    p->calls++;
    p->revents |= revents;
    p->lock_was_free = xlev__test_lock_is_free(ctx);
    if (p->deregister_self)
        xlev_ev_fd_deregister(ctx, ev);
}

typedef struct {
    xlev_ev_time ev;
    int calls;
    int registered_in_cb;
} TimeProbe;

static void
time_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    TimeProbe *t = (TimeProbe *)ev;

    t->calls++;
    t->registered_in_cb = xlev_ev_time_isregistered(ev);
}

static struct timeval
tv_far(void)
{
    struct timeval tv = {G_MAXINT32, 0};

    return tv;
}

/* 1. OSEVENT_HOOK_INTERN's comma expression returned the in-hook counter:
 *    a failing hook read as success and a succeeding one as failure. */
static void
test_01_hook_result_propagated(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    FdProbe a, b;
    TimeProbe t;
    int fds[2];

    test_pipe(fds);
    test_hooks_install(&th, ctx);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&t, 0, sizeof(t));

    /* success is 0 */
    g_assert_cmpint(xlev_ev_fd_register(ctx, &a.ev, fd_cb, fds[0], POLLIN), ==,
                    0);
    g_assert_true(xlev_ev_fd_isregistered(&a.ev));

    /* a positive value comes back unchanged, the registration is Idle */
    th.fail_value = 42;
    th.fail_fd_register_nth = 1;
    g_assert_cmpint(xlev_ev_fd_register(ctx, &b.ev, fd_cb, fds[1], POLLOUT),
                    ==, 42);
    g_assert_false(xlev_ev_fd_isregistered(&b.ev));

    th.fail_value = XLEV_ERROR_OSEVENT_REG_FAIL;
    th.fail_fd_modify_nth = 1;
    g_assert_cmpint(xlev_ev_fd_modify(ctx, &a.ev, POLLIN | POLLPRI), ==,
                    XLEV_ERROR_OSEVENT_REG_FAIL);
    g_assert_cmpint(xlev__test_fd_events(&a.ev), ==, POLLIN);

    th.fail_value = 7;
    th.fail_timeout_register_nth = 1;
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, 100), ==, 7);
    g_assert_false(xlev_ev_time_isregistered(&t.ev));
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, 100), ==, 0);

    xlev_ctx_free(ctx);
    g_assert_cmpint(test_hooks_n_live_fds(&th), ==, 0);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 0);
    test_hooks_clear(&th);
    close(fds[0]);
    close(fds[1]);
}

/* 2. time_register_rel / time_modify_rel returned 0 whatever rc was. */
static void
test_02_time_rel_returns_rc(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    TimeProbe t;

    memset(&t, 0, sizeof(t));
    /* out of memory growing the heap */
    xlev__test_fail_alloc(1);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, 10), ==,
                    XLEV_ERROR_NOMEM);
    xlev__test_fail_alloc(0);
    g_assert_false(xlev_ev_time_isregistered(&t.ev));

    /* a hook refusing */
    test_hooks_install(&th, ctx);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, -1), ==, 0);
    th.fail_value = 5;
    th.fail_timeout_register_nth = 1;
    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t.ev, 10), ==, 5);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 0);
    g_assert_true(xlev_ev_time_isregistered(&t.ev)); /* Active, unchanged */
    g_assert_true(xlev__test_time_is_infinite(&t.ev));

    xlev_ctx_free(ctx);
    test_hooks_clear(&th);
}

/* 3. beforepoll returned ERROR_NOMEM with the mutex still held. */
static void
test_03_beforepoll_nomem_unlocks(void)
{
    xlev_ctx *ctx = test_ctx_new();
    FdProbe p[3];
    struct pollfd pfd[3];
    struct timeval now = {0, 0};
    int fds[3][2], i, n, timeout = -1;

    for (i = 0; i < 3; i++) {
        test_pipe(fds[i]);
        memset(&p[i], 0, sizeof(p[i]));
        g_assert_cmpint(
            xlev_ev_fd_register(ctx, &p[i].ev, fd_cb, fds[i][0], POLLIN), ==, 0);
    }
    n = 3;
    xlev__test_fail_alloc(1);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    XLEV_ERROR_NOMEM);
    xlev__test_fail_alloc(0);
    g_assert_true(xlev__test_lock_is_free(ctx));
    n = 3;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 3);
    xlev_ctx_free(ctx);
    for (i = 0; i < 3; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
}

/* 4. beforepoll with too small a buffer recorded more shadow entries than
 *    it had allocated; the next call read past the array. */
static void
test_04_bufferfull_shadow_bounds(void)
{
    xlev_ctx *ctx = test_ctx_new();
    FdProbe p[8];
    struct pollfd pfd[8];
    struct timeval now = {0, 0};
    int fds[8][2], i, n, timeout = -1;

    for (i = 0; i < 8; i++) {
        test_pipe(fds[i]);
        memset(&p[i], 0, sizeof(p[i]));
    }
    for (i = 0; i < 4; i++)
        g_assert_cmpint(
            xlev_ev_fd_register(ctx, &p[i].ev, fd_cb, fds[i][0], POLLIN), ==, 0);
    n = 4;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    for (i = 4; i < 8; i++)
        g_assert_cmpint(
            xlev_ev_fd_register(ctx, &p[i].ev, fd_cb, fds[i][0], POLLIN), ==, 0);

    n = 2;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    XLEV_ERROR_BUFFERFULL);
    g_assert_cmpint(n, ==, 8);
    /* the failed call did not pretend to have filled 8 entries */
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 8, pfd, now), ==,
                    XLEV_ERROR_INVAL);
    /* deregistering walks the shadow array: must stay in bounds */
    xlev_ev_fd_deregister(ctx, &p[7].ev);
    xlev_ev_fd_deregister(ctx, &p[0].ev);

    n = 8;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 6);
    g_assert_cmpint(write(fds[5][1], "x", 1), ==, 1);
    g_assert_cmpint(poll(pfd, n, 1000), ==, 1);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, n, pfd, now), ==, 0);
    for (i = 0; i < 8; i++)
        g_assert_cmpint(p[i].calls, ==, i == 5 ? 1 : 0);
    xlev_ctx_free(ctx);
    for (i = 0; i < 8; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
}

/* 5. A timeout that fired was unlinked but still read as registered, and a
 *    later deregister unlinked it a second time. */
static void
test_05_fired_timeout_is_idle(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    TimeProbe t, u;
    TestHookTime r;
    struct timeval now;

    memset(&t, 0, sizeof(t));
    memset(&u, 0, sizeof(u));
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, 0), ==, 0);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &u.ev, time_cb, 100000), ==,
                    0);
    xlev_osevent_now(ctx, &now);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, now), ==, 0);
    g_assert_cmpint(t.calls, ==, 1);
    g_assert_false(t.registered_in_cb);
    g_assert_false(xlev_ev_time_isregistered(&t.ev));
    xlev_ev_time_deregister(ctx, &t.ev);
    xlev_ev_time_deregister(ctx, &t.ev);
    g_assert_true(xlev__test_time_heap_ok(ctx));
    g_assert_true(xlev_ev_time_isregistered(&u.ev));

    /* the same through occurred_timeout */
    test_hooks_install(&th, ctx);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, 0), ==, 0);
    r = g_array_index(th.times, TestHookTime, th.times->len - 1);
    g_array_index(th.times, TestHookTime, th.times->len - 1).live = 0;
    xlev_osevent_occurred_timeout(ctx, r.for_xlev);
    g_assert_cmpint(t.calls, ==, 2);
    g_assert_false(t.registered_in_cb);
    xlev_ev_time_deregister(ctx, &t.ev);
    g_assert_cmpint(th.n_timeout_deregister, ==, 0);
    g_assert_true(xlev__test_time_heap_ok(ctx));

    xlev_ctx_free(ctx);
    test_hooks_clear(&th);
}

/* 7. occurred_fd / occurred_timeout after deregistration used freed
 *    memory: make them harmless (hook nexi). */
static void
test_07_late_occurrence_harmless(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    FdProbe *a = g_new0(FdProbe, 1), b;
    TimeProbe *t = g_new0(TimeProbe, 1);
    TestHookFd rf, rf2;
    TestHookTime rt;
    int fds[2], fds2[2];

    test_pipe(fds);
    test_pipe(fds2);
    test_hooks_install(&th, ctx);
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &a->ev, fd_cb, fds[0], POLLIN), ==,
                    0);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t->ev, time_cb, 0), ==, 0);
    g_assert_true(test_hooks_find_fd(&th, fds[0], &rf));
    rt = g_array_index(th.times, TestHookTime, 0);

    /* the fd's nexus goes on the free list last: it is the next reused */
    xlev_ev_time_deregister(ctx, &t->ev);
    xlev_ev_fd_deregister(ctx, &a->ev);
    g_free(a);
    g_free(t);

    xlev_osevent_occurred_fd(ctx, rf.for_xlev, fds[0], POLLIN, POLLIN);
    xlev_osevent_occurred_timeout(ctx, rt.for_xlev);

    /* the nexus is recycled for another fd: a stale report for the old fd
     * number still reaches nobody */
    memset(&b, 0, sizeof(b));
    g_assert_cmpint(write(fds2[1], "x", 1), ==, 1);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &b.ev, fd_cb, fds2[0], POLLIN), ==,
                    0);
    g_assert_true(test_hooks_find_fd(&th, fds2[0], &rf2));
    g_assert_true(rf2.for_xlev == rf.for_xlev); /* recycled indeed */
    xlev_osevent_occurred_fd(ctx, rf.for_xlev, fds[0], POLLIN, POLLIN);
    g_assert_cmpint(b.calls, ==, 0);

    xlev_ctx_free(ctx);
    /* after the context too, the registrations are Idle */
    g_assert_false(xlev_ev_fd_isregistered(&b.ev));
    test_hooks_clear(&th);
    close(fds[0]);
    close(fds[1]);
    close(fds2[0]);
    close(fds2[1]);
}

/* 8. afterpoll asserted on an nfds larger than beforepoll's; ctx_free
 *    asserted on live registrations. */
static void
test_08_misuse_is_an_error(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    FdProbe p;
    TimeProbe t, inf;
    struct pollfd pfd[4];
    struct timeval now = {0, 0};
    int fds[2], n = 4, timeout = -1;

    test_pipe(fds);
    memset(&p, 0, sizeof(p));
    memset(&t, 0, sizeof(t));
    memset(&inf, 0, sizeof(inf));
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, fd_cb, fds[0], POLLIN), ==,
                    0);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 2, pfd, now), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 1, pfd, now), ==, 0);

    test_hooks_install(&th, ctx);
    g_assert_cmpint(xlev_ev_time_register_abs(ctx, &t.ev, time_cb, tv_far()),
                    ==, 0);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &inf.ev, time_cb, -1), ==,
                    0);
    g_assert_cmpint(test_hooks_n_live_fds(&th), ==, 1);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 1);

    xlev_ctx_free(ctx);
    g_assert_false(xlev_ev_fd_isregistered(&p.ev));
    g_assert_false(xlev_ev_time_isregistered(&t.ev));
    g_assert_false(xlev_ev_time_isregistered(&inf.ev));
    g_assert_cmpint(test_hooks_n_live_fds(&th), ==, 0);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 0);
    test_hooks_clear(&th);
    close(fds[0]);
    close(fds[1]);
}

/* 9. Callbacks ran with the context's mutex held: a callback waiting for
 *    another thread that uses the context deadlocked. */
typedef struct {
    xlev_ctx *ctx;
    TimeProbe t;
    int rc;
} OtherThread;

static gpointer
other_thread_registers(gpointer data)
{
    OtherThread *o = data;

    o->rc = xlev_ev_time_register_rel(o->ctx, &o->t.ev, time_cb, 1000);
    xlev_ev_time_deregister(o->ctx, &o->t.ev);
    return NULL;
}

typedef struct {
    xlev_ev_fd ev;
    OtherThread other;
    int done;
    int lock_free;
} JoinProbe;

static void
join_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events, short revents)
{
    JoinProbe *j = (JoinProbe *)ev;
    GThread *thr;

    j->lock_free = xlev__test_lock_is_free(ctx);
    j->other.ctx = ctx;
    thr = g_thread_new("other", other_thread_registers, &j->other);
    g_thread_join(thr);
    xlev_ev_fd_deregister(ctx, ev);
    j->done = 1;
}

static void
test_09_callbacks_without_lock(void)
{
    xlev_ctx *ctx = test_ctx_new();
    JoinProbe j;
    int fds[2];
    Drive d;

    memset(&j, 0, sizeof(j));
    test_pipe(fds);
    drive_init(&d, DRIVE_POLL, ctx);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &j.ev, join_cb, fds[1], POLLOUT),
                    ==, 0);
    g_assert_true(drive_until(&d, &j.done, 5000));
    g_assert_true(j.lock_free);
    g_assert_cmpint(j.other.rc, ==, 0);
    drive_free_ctx(&d);
    close(fds[0]);
    close(fds[1]);
}

/* 10. Timer insert was O(n) (a sorted list). Inserting ever later deadlines
 *     is that list's worst case: per-insert cost must stay nearly flat from
 *     1k to 64k timers (a list would cost ~64 times more per insert). */
static double
insert_cost_ns(int n)
{
    xlev_ctx *ctx = test_ctx_new();
    TimeProbe *t = g_new0(TimeProbe, n);
    struct timeval abs;
    gint64 start, end;
    int i;

    start = g_get_monotonic_time();
    for (i = 0; i < n; i++) {
        abs.tv_sec = 1000000 + i;
        abs.tv_usec = 0;
        g_assert_cmpint(xlev_ev_time_register_abs(ctx, &t[i].ev, time_cb, abs),
                        ==, 0);
    }
    end = g_get_monotonic_time();
    g_assert_true(xlev__test_time_heap_ok(ctx));
    xlev_ctx_free(ctx);
    g_free(t);
    return (end - start) * 1000.0 / n;
}

static void
test_10_timer_insert_log_n(void)
{
    double small = 0, big = 0;
    int round;

    /* best of three, against noise */
    for (round = 0; round < 3; round++) {
        double s = insert_cost_ns(1024), b = insert_cost_ns(65536);

        small = round ? MIN(small, s) : s;
        big = round ? MIN(big, b) : b;
    }
    g_test_message("per insert: %.1f ns at 1k, %.1f ns at 64k", small, big);
    g_assert_cmpfloat(big, <, small * 10);
}

/* 11. afterpoll masked revents with events, so POLLHUP/POLLERR/POLLNVAL
 *     never reached the callback and a dead fd spun for ever. */
static void
test_11_hup_nval_reach_callback(void)
{
    xlev_ctx *ctx = test_ctx_new();
    FdProbe hup, nval;
    int fds[2], spare;
    Drive d;

    drive_init(&d, DRIVE_POLL, ctx);
    memset(&hup, 0, sizeof(hup));
    memset(&nval, 0, sizeof(nval));
    hup.deregister_self = nval.deregister_self = 1;
    test_pipe(fds);
    close(fds[1]);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &hup.ev, fd_cb, fds[0], POLLIN),
                    ==, 0);
    g_assert_true(drive_until(&d, &hup.calls, 2000));
    g_assert_true(hup.revents & POLLHUP);

    spare = dup(fds[0]);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &nval.ev, fd_cb, spare, POLLIN),
                    ==, 0);
    close(spare); /* registered but closed: poll says POLLNVAL */
    g_assert_true(drive_until(&d, &nval.calls, 2000));
    g_assert_true(nval.revents & POLLNVAL);

    drive_free_ctx(&d);
    close(fds[0]);
}

/* 12. One registration per fd: a reader and a writer on one fd both get
 *     their events from one afterpoll. */
static void
test_12_two_registrations_one_fd(void)
{
    xlev_ctx *ctx = test_ctx_new();
    FdProbe rd, wr;
    struct pollfd pfd[2];
    struct timeval now = {0, 0};
    int sv[2], n = 2, timeout = -1;

    memset(&rd, 0, sizeof(rd));
    memset(&wr, 0, sizeof(wr));
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==,
                    0);
    g_assert_cmpint(write(sv[1], "x", 1), ==, 1);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &rd.ev, fd_cb, sv[0], POLLIN), ==,
                    0);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &wr.ev, fd_cb, sv[0], POLLOUT),
                    ==, 0);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpint(pfd[0].events, ==, POLLIN | POLLOUT);
    g_assert_cmpint(poll(pfd, n, 1000), ==, 1);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, n, pfd, now), ==, 0);
    g_assert_cmpint(rd.calls, ==, 1);
    g_assert_cmpint(rd.revents, ==, POLLIN);
    g_assert_cmpint(wr.calls, ==, 1);
    g_assert_cmpint(wr.revents, ==, POLLOUT);
    xlev_ctx_free(ctx);
    close(sv[0]);
    close(sv[1]);
}

/* 13. An fd registered with events == 0 was still handed to poll(). */
static void
test_13_zero_events_not_polled(void)
{
    xlev_ctx *ctx = test_ctx_new();
    FdProbe p, q;
    struct pollfd pfd[2];
    struct timeval now = {0, 0};
    int fds[2], n = 2, timeout = -1;

    memset(&p, 0, sizeof(p));
    memset(&q, 0, sizeof(q));
    test_pipe(fds);
    close(fds[1]);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, fd_cb, fds[0], 0), ==, 0);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 0);
    /* joined by a reader: polled for the reader only; the 0-events one is
     * told nothing, not even the hang-up */
    g_assert_cmpint(xlev_ev_fd_register(ctx, &q.ev, fd_cb, fds[0], POLLIN), ==,
                    0);
    q.deregister_self = 1;
    n = 2;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpint(poll(pfd, n, 1000), ==, 1);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, n, pfd, now), ==, 0);
    g_assert_cmpint(q.calls, ==, 1);
    g_assert_cmpint(p.calls, ==, 0);
    xlev_ctx_free(ctx);
    close(fds[0]);
}

/* 14. A late POLLNVAL for a closed fd number reached the new registration
 *     that reused the number; occurred_fd trusted stale information. */
static void
test_14_stale_revents_reach_nobody(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    FdProbe old, fresh, hk;
    struct pollfd pfd[2];
    struct timeval now = {0, 0};
    TestHookFd r;
    int fds[2], victim, reused, n = 2, timeout = -1;

    memset(&old, 0, sizeof(old));
    memset(&fresh, 0, sizeof(fresh));
    memset(&hk, 0, sizeof(hk));
    test_pipe(fds);
    victim = dup(fds[0]);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &old.ev, fd_cb, victim, POLLIN),
                    ==, 0);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 1);
    close(victim);
    g_assert_cmpint(poll(pfd, n, 0), ==, 1);
    g_assert_true(pfd[0].revents & POLLNVAL);

    /* between poll and afterpoll: the old registration goes, the number is
     * reused by a new fd and a new registration */
    xlev_ev_fd_deregister(ctx, &old.ev);
    reused = dup(fds[0]);
    g_assert_cmpint(reused, ==, victim);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &fresh.ev, fd_cb, reused, POLLIN),
                    ==, 0);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, n, pfd, now), ==, 0);
    g_assert_cmpint(fresh.calls, ==, 0);
    g_assert_cmpint(old.calls, ==, 0);
    xlev_ev_fd_deregister(ctx, &fresh.ev);
    close(reused);

    /* hooks: a report that the fd is readable when it is not */
    test_hooks_install(&th, ctx);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &hk.ev, fd_cb, fds[0], POLLIN), ==,
                    0);
    g_assert_true(test_hooks_find_fd(&th, fds[0], &r));
    xlev_osevent_occurred_fd(ctx, r.for_xlev, fds[0], POLLIN, POLLIN | POLLNVAL);
    g_assert_cmpint(hk.calls, ==, 0);
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1);
    xlev_osevent_occurred_fd(ctx, r.for_xlev, fds[0], POLLIN, POLLIN);
    g_assert_cmpint(hk.calls, ==, 1);
    g_assert_cmpint(hk.revents, ==, POLLIN);

    xlev_ctx_free(ctx);
    test_hooks_clear(&th);
    close(fds[0]);
    close(fds[1]);
}

/* 16. Installing hooks did not hand over existing registrations, and a
 *     failing hook left the context half registered. */
static void
test_16_register_hooks_all_or_nothing(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th, th2;
    FdProbe p[3];
    TimeProbe t[2];
    struct timeval now = {0, 0};
    int fds[3][2], i, n, timeout;

    for (i = 0; i < 3; i++) {
        test_pipe(fds[i]);
        memset(&p[i], 0, sizeof(p[i]));
        g_assert_cmpint(
            xlev_ev_fd_register(ctx, &p[i].ev, fd_cb, fds[i][0], POLLIN), ==, 0);
    }
    for (i = 0; i < 2; i++) {
        memset(&t[i], 0, sizeof(t[i]));
        g_assert_cmpint(
            xlev_ev_time_register_abs(ctx, &t[i].ev, time_cb, tv_far()), ==, 0);
    }

    /* the second fd_register fails */
    test_hooks_init(&th);
    th.fail_value = XLEV_ERROR_OSEVENT_REG_FAIL;
    th.fail_fd_register_nth = 2;
    g_assert_cmpint(xlev_osevent_register_hooks(ctx, &test_hooks_vtable, &th),
                    ==, XLEV_ERROR_OSEVENT_REG_FAIL);
    g_assert_cmpint(test_hooks_n_live_fds(&th), ==, 0);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 0);
    n = 0;
    timeout = -1;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    XLEV_ERROR_BUFFERFULL);
    g_assert_cmpint(n, ==, 3); /* still poll style */
    g_assert_cmpint(timeout, >=, 0);

    /* the second timeout_register fails */
    th.fail_value = 99;
    th.fail_timeout_register_nth = 2;
    g_assert_cmpint(xlev_osevent_register_hooks(ctx, &test_hooks_vtable, &th),
                    ==, 99);
    g_assert_cmpint(test_hooks_n_live_fds(&th), ==, 0);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 0);

    /* then it works, and everything is handed over */
    test_hooks_init(&th2);
    g_assert_cmpint(xlev_osevent_register_hooks(ctx, &test_hooks_vtable, &th2),
                    ==, 0);
    g_assert_cmpint(test_hooks_n_live_fds(&th2), ==, 3);
    g_assert_cmpint(test_hooks_n_live_times(&th2), ==, 2);
    n = 0;
    timeout = -1;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    0);
    g_assert_cmpint(n, ==, 0);
    g_assert_cmpint(timeout, ==, -1);
    /* once only */
    g_assert_cmpint(xlev_osevent_register_hooks(ctx, &test_hooks_vtable, &th),
                    ==, XLEV_ERROR_INVAL);

    xlev_ctx_free(ctx);
    g_assert_cmpint(test_hooks_n_live_fds(&th2), ==, 0);
    g_assert_cmpint(test_hooks_n_live_times(&th2), ==, 0);
    test_hooks_clear(&th);
    test_hooks_clear(&th2);
    for (i = 0; i < 3; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xlev/core/regress/01-hook-result-propagated",
                    test_01_hook_result_propagated);
    g_test_add_func("/xlev/core/regress/02-time-rel-returns-rc",
                    test_02_time_rel_returns_rc);
    g_test_add_func("/xlev/core/regress/03-beforepoll-nomem-unlocks",
                    test_03_beforepoll_nomem_unlocks);
    g_test_add_func("/xlev/core/regress/04-bufferfull-shadow-bounds",
                    test_04_bufferfull_shadow_bounds);
    g_test_add_func("/xlev/core/regress/05-fired-timeout-is-idle",
                    test_05_fired_timeout_is_idle);
    g_test_add_func("/xlev/core/regress/07-late-occurrence-harmless",
                    test_07_late_occurrence_harmless);
    g_test_add_func("/xlev/core/regress/08-misuse-is-an-error",
                    test_08_misuse_is_an_error);
    g_test_add_func("/xlev/core/regress/09-callbacks-without-lock",
                    test_09_callbacks_without_lock);
    if (!g_getenv("XLEV_UNDER_VALGRIND"))
        g_test_add_func("/xlev/core/regress/10-timer-insert-log-n",
                        test_10_timer_insert_log_n);
    g_test_add_func("/xlev/core/regress/11-hup-nval-reach-callback",
                    test_11_hup_nval_reach_callback);
    g_test_add_func("/xlev/core/regress/12-two-registrations-one-fd",
                    test_12_two_registrations_one_fd);
    g_test_add_func("/xlev/core/regress/13-zero-events-not-polled",
                    test_13_zero_events_not_polled);
    g_test_add_func("/xlev/core/regress/14-stale-revents-reach-nobody",
                    test_14_stale_revents_reach_nobody);
    g_test_add_func("/xlev/core/regress/16-register-hooks-all-or-nothing",
                    test_16_register_hooks_all_or_nothing);

    return g_test_run();
}
