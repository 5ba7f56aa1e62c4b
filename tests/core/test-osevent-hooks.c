/* test-osevent-hooks.c: the hooks contract, disasters, the logger
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <syslog.h>
#include <unistd.h>

#include "core-test-util.h"

typedef struct {
    xlev_ev_fd ev;
    int calls;
    GThread *thread;
    int try_free;
} FdProbe;

static void
fd_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events, short revents)
{
    FdProbe *p = (FdProbe *)ev;

    p->calls++;
    p->thread = g_thread_self();
    if (p->try_free)
        xlev_ctx_free(ctx); /* refused: we are inside its callback */
}

typedef struct {
    xlev_ev_time ev;
    int calls;
} TimeProbe;

static void
time_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    ((TimeProbe *)ev)->calls++;
}

/* Merged events: one fd_register per fd, fd_modify as the merge changes,
 * fd_deregister when nobody wants anything. */
static void
test_fd_merge_hooks(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    FdProbe a, b;
    TestHookFd r;
    int sv[2];

    test_pipe(sv);
    test_hooks_install(&th, ctx);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    g_assert_cmpint(xlev_ev_fd_register(ctx, &a.ev, fd_cb, sv[0], 0), ==, 0);
    g_assert_cmpint(th.n_fd_register, ==, 0); /* nothing wanted yet */
    g_assert_cmpint(xlev_ev_fd_register(ctx, &b.ev, fd_cb, sv[0], POLLIN), ==,
                    0);
    g_assert_cmpint(th.n_fd_register, ==, 1);
    g_assert_cmpint(xlev_ev_fd_modify(ctx, &a.ev, POLLPRI), ==, 0);
    g_assert_cmpint(th.n_fd_modify, ==, 1);
    g_assert_true(test_hooks_find_fd(&th, sv[0], &r));
    g_assert_cmpint(r.events, ==, POLLIN | POLLPRI);
    g_assert_cmpint(xlev_ev_fd_modify(ctx, &a.ev, POLLIN), ==, 0);
    g_assert_true(test_hooks_find_fd(&th, sv[0], &r));
    g_assert_cmpint(r.events, ==, POLLIN);
    xlev_ev_fd_deregister(ctx, &b.ev);
    g_assert_cmpint(th.n_fd_deregister, ==, 0);
    g_assert_cmpint(xlev_ev_fd_modify(ctx, &a.ev, 0), ==, 0);
    g_assert_cmpint(th.n_fd_deregister, ==, 1);
    g_assert_cmpint(test_hooks_n_live_fds(&th), ==, 0);
    g_assert_cmpint(xlev_ev_fd_modify(ctx, &a.ev, POLLIN), ==, 0);
    g_assert_cmpint(th.n_fd_register, ==, 2);
    xlev_ctx_free(ctx);
    g_assert_cmpint(test_hooks_n_live_fds(&th), ==, 0);
    test_hooks_clear(&th);
    close(sv[0]);
    close(sv[1]);
}

/* Timeout hooks: register, modify, deregister; infinite ones are not given
 * to the hooks; afterpoll in hooks mode fires a due timeout and tells the
 * hooks (both styles on one context). */
static void
test_time_hooks(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    TimeProbe t;
    struct timeval now;

    test_hooks_install(&th, ctx);
    memset(&t, 0, sizeof(t));
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, -1), ==, 0);
    g_assert_cmpint(th.n_timeout_register, ==, 0);
    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t.ev, 10000), ==, 0);
    g_assert_cmpint(th.n_timeout_register, ==, 1);
    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t.ev, 20000), ==, 0);
    g_assert_cmpint(th.n_timeout_modify, ==, 1);
    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t.ev, -1), ==, 0);
    g_assert_cmpint(th.n_timeout_deregister, ==, 1);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 0);

    g_assert_cmpint(xlev_ev_time_modify_rel(ctx, &t.ev, 0), ==, 0);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 1);
    xlev_osevent_now(ctx, &now);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, now), ==, 0);
    g_assert_cmpint(t.calls, ==, 1);
    g_assert_cmpint(test_hooks_n_live_times(&th), ==, 0);
    g_assert_cmpint(th.n_timeout_deregister, ==, 2);

    xlev_ctx_free(ctx);
    test_hooks_clear(&th);
}

/* Callbacks run in the thread that reported (occurred_fd). */
typedef struct {
    xlev_ctx *ctx;
    void *for_xlev;
    int fd;
} Reporter;

static gpointer
report_thread(gpointer data)
{
    Reporter *r = data;

    xlev_osevent_occurred_fd(r->ctx, r->for_xlev, r->fd, POLLIN, POLLIN);
    return NULL;
}

static void
test_callback_thread(void)
{
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    FdProbe p;
    TestHookFd hf;
    Reporter r;
    GThread *thr;
    int fds[2];

    test_pipe(fds);
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1);
    test_hooks_install(&th, ctx);
    memset(&p, 0, sizeof(p));
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, fd_cb, fds[0], POLLIN), ==,
                    0);
    g_assert_true(test_hooks_find_fd(&th, fds[0], &hf));
    r.ctx = ctx;
    r.for_xlev = hf.for_xlev;
    r.fd = fds[0];
    thr = g_thread_new("reporter", report_thread, &r);
    g_thread_join(thr);
    g_assert_cmpint(p.calls, ==, 1);
    g_assert_true(p.thread == thr);
    xlev_ctx_free(ctx);
    test_hooks_clear(&th);
    close(fds[0]);
    close(fds[1]);
}

/* xlev_ctx_free from inside a callback is refused; the context stays
 * usable. */
static int log_errors;

static void
count_log(void *user, int level, const char *msg)
{
    if (level <= LOG_ERR)
        log_errors++;
}

static void
test_free_inside_callback_refused(void)
{
    xlev_ctx *ctx = test_ctx_new();
    FdProbe p;
    int fds[2];
    Drive d;

    test_pipe(fds);
    drive_init(&d, DRIVE_POLL, ctx);
    xlev_ctx_set_logger(ctx, count_log, NULL);
    log_errors = 0;
    memset(&p, 0, sizeof(p));
    p.try_free = 1;
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, fd_cb, fds[1], POLLOUT), ==,
                    0);
    g_assert_true(drive_until(&d, &p.calls, 2000));
    g_assert_cmpint(log_errors, ==, 1);
    g_assert_true(xlev_ev_fd_isregistered(&p.ev));
    xlev_ev_fd_deregister(ctx, &p.ev);
    drive_free_ctx(&d);
    close(fds[0]);
    close(fds[1]);
}

/* A disaster (here: no memory to queue a due timeout) goes to the disaster
 * hook, called without the lock; the timeout fires on the next round. */
typedef struct {
    int calls;
    xlev_disaster_kind kind;
    int lock_free;
    xlev_ctx *ctx;
} DisasterSeen;

static void
disaster_cb(void *user, xlev_disaster_kind kind, const char *msg,
            int errnoval)
{
    DisasterSeen *s = user;

    s->calls++;
    s->kind = kind;
    s->lock_free = xlev__test_lock_is_free(s->ctx);
    g_assert_nonnull(msg);
}

static void
test_disaster_hook(void)
{
    xlev_ctx *ctx = test_ctx_new();
    DisasterSeen seen = {0, 0, 0, ctx};
    TimeProbe t;
    struct timeval now;

    xlev_ctx_set_disaster_hook(ctx, disaster_cb, &seen);
    xlev_ctx_set_logger(ctx, count_log, NULL);
    memset(&t, 0, sizeof(t));
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &t.ev, time_cb, 0), ==, 0);
    xlev_osevent_now(ctx, &now);
    xlev__test_fail_alloc(1);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, now), ==, 0);
    xlev__test_fail_alloc(0);
    g_assert_cmpint(seen.calls, ==, 1);
    g_assert_cmpint(seen.kind, ==, XLEV_DISASTER_NOMEM);
    g_assert_true(seen.lock_free);
    g_assert_cmpint(t.calls, ==, 0);
    g_assert_true(xlev_ev_time_isregistered(&t.ev));
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, now), ==, 0);
    g_assert_cmpint(t.calls, ==, 1);
    xlev_ctx_free(ctx);
}

/* A hook that calls occurred_* (forbidden) is refused, not deadlocked. */
static xlev_ctx *reentrant_ctx;
static int reentrant_calls;

static int
reentrant_fd_register(void *user, int fd, void **for_app_out, short events,
                      void *for_xlev)
{
    reentrant_calls++;
    xlev_osevent_occurred_fd(reentrant_ctx, for_xlev, fd, events, events);
    xlev_osevent_occurred_timeout(reentrant_ctx, for_xlev);
    return test_hooks_vtable.fd_register(user, fd, for_app_out, events,
                                         for_xlev);
}

static void
test_occurred_inside_hook_refused(void)
{
    xlev_ctx *ctx = test_ctx_new();
    xlev_osevent_hooks hooks = test_hooks_vtable;
    TestHooks th;
    FdProbe p;
    int fds[2];

    test_pipe(fds);
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1);
    test_hooks_init(&th);
    hooks.fd_register = reentrant_fd_register;
    reentrant_ctx = ctx;
    xlev_ctx_set_logger(ctx, count_log, NULL);
    log_errors = 0;
    g_assert_cmpint(xlev_osevent_register_hooks(ctx, &hooks, &th), ==, 0);
    memset(&p, 0, sizeof(p));
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, fd_cb, fds[0], POLLIN), ==,
                    0);
    g_assert_cmpint(reentrant_calls, ==, 1);
    g_assert_cmpint(log_errors, ==, 2);
    g_assert_cmpint(p.calls, ==, 0);
    xlev_ctx_free(ctx);
    test_hooks_clear(&th);
    close(fds[0]);
    close(fds[1]);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xlev/core/hooks/fd-merge", test_fd_merge_hooks);
    g_test_add_func("/xlev/core/hooks/timeouts", test_time_hooks);
    g_test_add_func("/xlev/core/hooks/callback-in-reporting-thread",
                    test_callback_thread);
    g_test_add_func("/xlev/core/ctx/free-inside-callback-refused",
                    test_free_inside_callback_refused);
    g_test_add_func("/xlev/core/ctx/disaster-hook", test_disaster_hook);
    g_test_add_func("/xlev/core/hooks/occurred-inside-hook-refused",
                    test_occurred_inside_hook_refused);

    return g_test_run();
}
