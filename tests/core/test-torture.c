/* test-torture.c: the cases event loops are tortured with
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Many fds and timers at once; registrations deleted before the poll,
 * during it (from another thread), from their own callback and from the
 * callback of another one due in the same afterpoll; the same fd twice;
 * occurred_fd racing deregistration. Run under ASan and valgrind: a
 * use-after-free here is a failure even when no assertion trips.
 */
#include <unistd.h>

#include "core-test-util.h"

#define NPIPES 31
#define NTIMERS 31

typedef struct Probe Probe;
struct Probe {
    xlev_ev_fd ev;
    xlev_ev_time tev;
    int fds[2];
    volatile int calls;
    volatile int deregistered; /* set once deregister has returned */
    int bad;                   /* called after deregister returned */
    Probe *other;              /* deregistered by this one's callback */
    int deregister_self;
};

static void
drain(int fd)
{
    char buf[64];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

static void
fd_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events, short revents)
{
    Probe *p = (Probe *)ev;

    if (g_atomic_int_get(&p->deregistered))
        p->bad++;
    g_atomic_int_inc(&p->calls);
    drain(fd);
    if (p->other) {
        xlev_ev_fd_deregister(ctx, &p->other->ev);
        p->other->deregistered = 1;
    }
    if (p->deregister_self) {
        xlev_ev_fd_deregister(ctx, ev);
        p->deregistered = 1;
    }
}

static void
time_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    Probe *p = (Probe *)((char *)ev - G_STRUCT_OFFSET(Probe, tev));

    if (p->deregistered)
        p->bad++;
    p->calls++;
    if (p->other) {
        xlev_ev_time_deregister(ctx, &p->other->tev);
        p->other->deregistered = 1;
    }
}

static void
probes_new(Probe *p, int n)
{
    int i;

    memset(p, 0, sizeof(*p) * n);
    for (i = 0; i < n; i++) {
        xlev_ev_fd_init(&p[i].ev);
        xlev_ev_time_init(&p[i].tev);
        test_pipe(p[i].fds);
    }
}

static void
probes_free(Probe *p, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        close(p[i].fds[0]);
        close(p[i].fds[1]);
    }
}

/* 31 pipes and 31 timers at once. */
static void
test_many_at_once(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Probe p[NPIPES], t[NTIMERS];
    int i, all;
    Drive d;

    drive_init(&d, MODE(data), ctx);
    probes_new(p, NPIPES);
    probes_new(t, NTIMERS);
    for (i = 0; i < NPIPES; i++) {
        p[i].deregister_self = 1;
        g_assert_cmpint(
            xlev_ev_fd_register(ctx, &p[i].ev, fd_cb, p[i].fds[0], POLLIN), ==,
            0);
    }
    for (i = 0; i < NTIMERS; i++)
        g_assert_cmpint(
            xlev_ev_time_register_rel(ctx, &t[i].tev, time_cb, i + 1), ==, 0);
    drive_prepare(&d);
    for (i = NPIPES - 1; i >= 0; i--)
        g_assert_cmpint(write(p[i].fds[1], "x", 1), ==, 1);

    do {
        drive_iterate(&d, 50);
        all = 1;
        for (i = 0; i < NPIPES; i++)
            all &= p[i].calls == 1;
        for (i = 0; i < NTIMERS; i++)
            all &= t[i].calls == 1;
    } while (!all);
    drive_iterate(&d, 10);
    for (i = 0; i < NPIPES; i++)
        g_assert_cmpint(p[i].calls + p[i].bad, ==, 1);
    for (i = 0; i < NTIMERS; i++)
        g_assert_cmpint(t[i].calls, ==, 1);
    drive_free_ctx(&d);
    probes_free(p, NPIPES);
    probes_free(t, NTIMERS);
}

/* Deleted before the poll: never called. */
static void
test_delete_before_poll(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Probe p[2];
    Drive d;

    drive_init(&d, MODE(data), ctx);
    probes_new(p, 2);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p[0].ev, fd_cb, p[0].fds[0],
                                        POLLIN),
                    ==, 0);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &p[1].tev, time_cb, 20), ==,
                    0);
    drive_prepare(&d);
    g_assert_cmpint(write(p[0].fds[1], "x", 1), ==, 1);
    xlev_ev_fd_deregister(ctx, &p[0].ev);
    xlev_ev_time_deregister(ctx, &p[1].tev);
    drive_iterate(&d, 30);
    drive_iterate(&d, 30);
    g_assert_cmpint(p[0].calls + p[1].calls, ==, 0);
    drive_free_ctx(&d);
    probes_free(p, 2);
}

/* Each of two registrations due in the same afterpoll deregisters the
 * other: exactly one runs. Same for fds and for timeouts due at the same
 * instant. */
static void
test_delete_from_other_callback(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Probe p[4];
    struct timeval now, abs;
    Drive d;
    int i;

    drive_init(&d, MODE(data), ctx);
    probes_new(p, 4);
    p[0].other = &p[1];
    p[1].other = &p[0];
    p[2].other = &p[3];
    p[3].other = &p[2];
    for (i = 0; i < 2; i++) {
        g_assert_cmpint(xlev_ev_fd_register(ctx, &p[i].ev, fd_cb, p[i].fds[0],
                                            POLLIN),
                        ==, 0);
        g_assert_cmpint(write(p[i].fds[1], "x", 1), ==, 1);
    }
    xlev_osevent_now(ctx, &now);
    abs = now;
    abs.tv_usec = (abs.tv_usec / 1000) * 1000; /* already due, both equal */
    for (i = 2; i < 4; i++)
        g_assert_cmpint(
            xlev_ev_time_register_abs(ctx, &p[i].tev, time_cb, abs), ==, 0);

    for (i = 0; i < 5; i++)
        drive_iterate(&d, 10);
    g_assert_cmpint(p[0].calls + p[1].calls, ==, 1);
    g_assert_cmpint(p[2].calls + p[3].calls, ==, 1);
    for (i = 0; i < 4; i++)
        g_assert_cmpint(p[i].bad, ==, 0);
    g_assert_false(xlev_ev_time_isregistered(&p[2].tev) ||
                   xlev_ev_time_isregistered(&p[3].tev));
    /* the fd that lost is Idle, the winner still registered */
    g_assert_cmpint(xlev_ev_fd_isregistered(&p[0].ev) +
                        xlev_ev_fd_isregistered(&p[1].ev),
                    ==, 1);
    drive_free_ctx(&d);
    probes_free(p, 4);
}

/* The same fd registered twice: once with no events, once for reading.
 * Only the reader is called; removing it leaves the fd out of poll. */
static void
test_same_fd_twice(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Probe p[2];
    Drive d;
    int i;

    drive_init(&d, MODE(data), ctx);
    probes_new(p, 2);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p[0].ev, fd_cb, p[0].fds[0], 0),
                    ==, 0);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p[1].ev, fd_cb, p[0].fds[0],
                                        POLLIN),
                    ==, 0);
    drive_prepare(&d);
    g_assert_cmpint(write(p[0].fds[1], "x", 1), ==, 1);
    g_assert_true(drive_until(&d, &p[1].calls, 2000));
    g_assert_cmpint(p[0].calls, ==, 0);

    xlev_ev_fd_deregister(ctx, &p[1].ev);
    close(p[0].fds[1]); /* hang-up: must not wake anybody */
    p[0].fds[1] = -1;
    for (i = 0; i < 3; i++)
        drive_iterate(&d, 10);
    g_assert_cmpint(p[0].calls, ==, 0);
    if (MODE(data) != DRIVE_POLL)
        g_assert_cmpint(test_hooks_n_live_fds(&d.hooks), ==, 0);
    xlev_ev_fd_deregister(ctx, &p[0].ev);
    drive_free_ctx(&d);
    close(p[0].fds[0]);
    close(p[1].fds[0]);
    close(p[1].fds[1]);
}

/* Deleted from another thread while the loop is in poll(): never called
 * after the deregistration returned. */
typedef struct {
    xlev_ctx *ctx;
    Probe *p;
    volatile int stop;
} Deleter;

static gpointer
deleter_thread(gpointer data)
{
    Deleter *dl = data;
    int i;

    for (i = 0; i < NPIPES; i += 2) {
        g_usleep(500);
        xlev_ev_fd_deregister(dl->ctx, &dl->p[i].ev);
        g_atomic_int_set(&dl->p[i].deregistered, 1);
        g_assert_cmpint(write(dl->p[i].fds[1], "x", 1), ==, 1);
        g_assert_cmpint(write(dl->p[i + 1 < NPIPES ? i + 1 : i].fds[1], "x", 1),
                        ==, 1);
    }
    g_atomic_int_set(&dl->stop, 1);
    return NULL;
}

static void
test_delete_during_poll(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Probe p[NPIPES];
    Deleter dl = {ctx, p, 0};
    GThread *thr;
    Drive d;
    int i, round;

    drive_init(&d, MODE(data), ctx);
    for (round = 0; round < 20; round++) {
        probes_new(p, NPIPES);
        for (i = 0; i < NPIPES; i++)
            g_assert_cmpint(
                xlev_ev_fd_register(ctx, &p[i].ev, fd_cb, p[i].fds[0], POLLIN),
                ==, 0);
        drive_prepare(&d);
        dl.stop = 0;
        thr = g_thread_new("deleter", deleter_thread, &dl);
        while (!g_atomic_int_get(&dl.stop))
            drive_iterate(&d, 5);
        g_thread_join(thr);
        drive_iterate(&d, 5);
        for (i = 0; i < NPIPES; i++) {
            g_assert_cmpint(p[i].bad, ==, 0);
            xlev_ev_fd_deregister(ctx, &p[i].ev);
        }
        for (i = 1; i < NPIPES; i += 2)
            g_assert_cmpint(p[i].calls, >=, 1);
        probes_free(p, NPIPES);
    }
    drive_free_ctx(&d);
}

/* occurred_fd racing deregistration (and freeing) on another thread. */
typedef struct {
    xlev_ctx *ctx;
    GMutex lock;
    GCond cond;
    void *for_xlev;
    int fd;
    int generation, done_generation;
    int quit;
} Racer;

static gpointer
racer_thread(gpointer data)
{
    Racer *r = data;
    int seen = 0;

    for (;;) {
        void *for_xlev;
        int fd;

        g_mutex_lock(&r->lock);
        while (r->generation == seen && !r->quit)
            g_cond_wait(&r->cond, &r->lock);
        if (r->quit) {
            g_mutex_unlock(&r->lock);
            break;
        }
        seen = r->generation;
        for_xlev = r->for_xlev;
        fd = r->fd;
        g_mutex_unlock(&r->lock);

        xlev_osevent_occurred_fd(r->ctx, for_xlev, fd, POLLIN, POLLIN);

        g_mutex_lock(&r->lock);
        r->done_generation = seen;
        g_cond_broadcast(&r->cond);
        g_mutex_unlock(&r->lock);
    }
    return NULL;
}

static void
test_occurred_fd_races_deregister(void)
{
    int iterations = g_getenv("XLEV_UNDER_VALGRIND") ? 300 : 5000;
    xlev_ctx *ctx = test_ctx_new();
    TestHooks th;
    Racer r;
    GThread *thr;
    int fds[2], i, called = 0;

    test_pipe(fds);
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1); /* stays readable */
    test_hooks_install(&th, ctx);
    memset(&r, 0, sizeof(r));
    r.ctx = ctx;
    g_mutex_init(&r.lock);
    g_cond_init(&r.cond);
    thr = g_thread_new("racer", racer_thread, &r);

    for (i = 0; i < iterations; i++) {
        Probe *p = g_new0(Probe, 1);
        TestHookFd hf;

        xlev_ev_fd_init(&p->ev);
        g_assert_cmpint(xlev_ev_fd_register(ctx, &p->ev, fd_cb, fds[0], POLLIN),
                        ==, 0);
        g_assert_true(test_hooks_find_fd(&th, fds[0], &hf));

        g_mutex_lock(&r.lock);
        r.for_xlev = hf.for_xlev;
        r.fd = fds[0];
        r.generation++;
        g_cond_broadcast(&r.cond);
        g_mutex_unlock(&r.lock);

        if (i & 1)
            g_thread_yield();
        xlev_ev_fd_deregister(ctx, &p->ev);
        /* after deregister returns the callback is not running and will
         * not run: the memory may go */
        called += p->calls;
        memset(p, 0xa5, sizeof(*p));
        g_free(p);

        g_mutex_lock(&r.lock);
        while (r.done_generation != r.generation)
            g_cond_wait(&r.cond, &r.lock);
        g_mutex_unlock(&r.lock);
    }
    g_test_message("%d of %d reports reached the callback", called,
                   iterations);

    g_mutex_lock(&r.lock);
    r.quit = 1;
    g_cond_broadcast(&r.cond);
    g_mutex_unlock(&r.lock);
    g_thread_join(thr);
    g_assert_cmpint(test_hooks_n_live_fds(&th), ==, 0);
    xlev_ctx_free(ctx);
    test_hooks_clear(&th);
    g_mutex_clear(&r.lock);
    g_cond_clear(&r.cond);
    close(fds[0]);
    close(fds[1]);
}

static void
add_modes(const char *name, GTestDataFunc fn)
{
    core_test_add_modes("torture", name, fn);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    add_modes("31-pipes-31-timers", test_many_at_once);
    add_modes("delete-before-poll", test_delete_before_poll);
    add_modes("delete-from-other-callback", test_delete_from_other_callback);
    add_modes("same-fd-twice", test_same_fd_twice);
    add_modes("delete-during-poll", test_delete_during_poll);
    g_test_add_func("/xlev/core/torture/occurred-fd-races-deregister",
                    test_occurred_fd_races_deregister);

    return g_test_run();
}
