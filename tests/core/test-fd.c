/* test-fd.c: fd registrations, driven by poll style, hooks style and both
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <sys/socket.h>
#include <unistd.h>

#include "core-test-util.h"

typedef struct {
    xlev_ev_fd ev;
    int calls;
    int fd;
    short events, revents, all_revents;
    int deregister_self;
    int read_it;
} FdProbe;

static void
probe_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events, short revents)
{
    FdProbe *p = (FdProbe *)ev; /* ev is the first member */

    g_assert_true(ev == &p->ev);
    p->calls++;
    p->fd = fd;
    p->events = events;
    p->revents = revents;
    p->all_revents |= revents;
    if (p->read_it && (revents & POLLIN)) {
        char buf[64];

        while (read(fd, buf, sizeof(buf)) > 0)
            ;
    }
    if (p->deregister_self) {
        xlev_ev_fd_deregister(ctx, ev);
        g_assert_false(xlev_ev_fd_isregistered(ev));
    }
}

static void
probe_init(FdProbe *p)
{
    memset(p, 0, sizeof(*p));
    xlev_ev_fd_init(&p->ev);
}

/* A connected AF_UNIX stream pair, both ends non-blocking and
 * close-on-exec. */
static void
test_socketpair(int sv[2])
{
    g_assert_cmpint(
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
        ==, 0);
}

static void
test_readable(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Drive d;
    FdProbe p;
    int fds[2];

    drive_init(&d, MODE(data), ctx);
    test_pipe(fds);
    probe_init(&p);
    p.read_it = 1;
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, probe_cb, fds[0], POLLIN),
                    ==, 0);
    g_assert_true(xlev_ev_fd_isregistered(&p.ev));

    drive_iterate(&d, 0);
    g_assert_cmpint(p.calls, ==, 0);

    g_assert_cmpint(write(fds[1], "x", 1), ==, 1);
    g_assert_true(drive_until(&d, &p.calls, 2000));
    g_assert_cmpint(p.fd, ==, fds[0]);
    g_assert_cmpint(p.events, ==, POLLIN);
    g_assert_true(p.revents & POLLIN);

    /* drained: no more calls */
    p.calls = 0;
    drive_iterate(&d, 10);
    g_assert_cmpint(p.calls, ==, 0);

    xlev_ev_fd_deregister(ctx, &p.ev);
    g_assert_false(xlev_ev_fd_isregistered(&p.ev));
    xlev_ev_fd_deregister(ctx, &p.ev); /* idempotent */
    if (MODE(data) != DRIVE_POLL)
        g_assert_cmpint(test_hooks_n_live_fds(&d.hooks), ==, 0);

    drive_free_ctx(&d);
    close(fds[0]);
    close(fds[1]);
}

/* Defect 12: two registrations on one fd, one reading, one writing; the
 * fd is polled (or registered with the hooks) once, events merged. */
static void
test_two_registrations_one_fd(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Drive d;
    FdProbe rd, wr;
    int sv[2];

    drive_init(&d, MODE(data), ctx);
    test_socketpair(sv);
    probe_init(&rd);
    probe_init(&wr);
    rd.read_it = 1;
    wr.deregister_self = 1;
    g_assert_cmpint(xlev_ev_fd_register(ctx, &rd.ev, probe_cb, sv[0], POLLIN),
                    ==, 0);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &wr.ev, probe_cb, sv[0], POLLOUT),
                    ==, 0);

    if (MODE(data) == DRIVE_POLL) {
        struct pollfd pfd[4];
        struct timeval now = {0, 0};
        int n = 4, timeout = -1;

        g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, pfd, &timeout, now),
                        ==, 0);
        g_assert_cmpint(n, ==, 1);
        g_assert_cmpint(pfd[0].fd, ==, sv[0]);
        g_assert_cmpint(pfd[0].events, ==, POLLIN | POLLOUT);
        g_assert_cmpint(timeout, ==, -1);
    }
    if (MODE(data) == DRIVE_HOOKS) {
        TestHookFd r;

        g_assert_true(test_hooks_find_fd(&d.hooks, sv[0], &r));
        g_assert_cmpint(r.events, ==, POLLIN | POLLOUT);
    }

    /* writable at once */
    g_assert_true(drive_until(&d, &wr.calls, 2000));
    g_assert_true(wr.revents & POLLOUT);
    g_assert_false(wr.revents & POLLIN);
    g_assert_cmpint(rd.calls, ==, 0);

    if (MODE(data) != DRIVE_POLL) {
        TestHookFd r;

        /* the writer went: the hooks were told to narrow the fd */
        g_assert_true(test_hooks_find_fd(&d.hooks, sv[0], &r));
        g_assert_cmpint(r.events, ==, POLLIN);
    }

    g_assert_cmpint(write(sv[1], "hello", 5), ==, 5);
    g_assert_true(drive_until(&d, &rd.calls, 2000));
    g_assert_true(rd.revents & POLLIN);
    g_assert_false(rd.revents & POLLOUT);
    g_assert_cmpint(wr.calls, ==, 1);

    xlev_ev_fd_deregister(ctx, &rd.ev);
    if (MODE(data) != DRIVE_POLL)
        g_assert_cmpint(test_hooks_n_live_fds(&d.hooks), ==, 0);
    drive_free_ctx(&d);
    close(sv[0]);
    close(sv[1]);
}

/* Defect 13: an fd whose registrations want no events stays out of poll
 * (its POLLHUP would wake the loop for nothing) until it asks for some. */
static void
test_zero_events_not_polled(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Drive d;
    FdProbe p;
    int fds[2];

    drive_init(&d, MODE(data), ctx);
    test_pipe(fds);
    close(fds[1]); /* the read end now reports POLLHUP */
    probe_init(&p);
    p.deregister_self = 1;
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, probe_cb, fds[0], 0), ==,
                    0);

    if (MODE(data) == DRIVE_POLL) {
        struct timeval now = {0, 0};
        int n = 0, timeout = -1;

        g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now),
                        ==, 0);
        g_assert_cmpint(n, ==, 0);
    }
    drive_iterate(&d, 20);
    drive_iterate(&d, 20);
    g_assert_cmpint(p.calls, ==, 0);
    if (MODE(data) != DRIVE_POLL)
        g_assert_cmpint(test_hooks_n_live_fds(&d.hooks), ==, 0);

    /* asks for input: now the hang-up is reported (defect 11) */
    g_assert_cmpint(xlev_ev_fd_modify(ctx, &p.ev, POLLIN), ==, 0);
    g_assert_true(drive_until(&d, &p.calls, 2000));
    g_assert_true(p.revents & POLLHUP);
    g_assert_false(xlev_ev_fd_isregistered(&p.ev));

    drive_free_ctx(&d);
    close(fds[0]);
}

static void
test_modify(gconstpointer data)
{
    xlev_ctx *ctx = test_ctx_new();
    Drive d;
    FdProbe p;
    int sv[2];

    drive_init(&d, MODE(data), ctx);
    test_socketpair(sv);
    probe_init(&p);
    p.read_it = 1;
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, probe_cb, sv[0], POLLIN),
                    ==, 0);
    drive_iterate(&d, 10);
    g_assert_cmpint(p.calls, ==, 0);

    g_assert_cmpint(xlev_ev_fd_modify(ctx, &p.ev, POLLOUT), ==, 0);
    g_assert_true(drive_until(&d, &p.calls, 2000));
    g_assert_cmpint(p.events, ==, POLLOUT);
    g_assert_true(p.revents & POLLOUT);

    g_assert_cmpint(xlev_ev_fd_modify(ctx, &p.ev, 0), ==, 0);
    p.calls = 0;
    drive_iterate(&d, 10);
    g_assert_cmpint(p.calls, ==, 0);

    xlev_ev_fd_deregister(ctx, &p.ev);
    g_assert_cmpint(xlev_ev_fd_modify(ctx, &p.ev, POLLIN), ==,
                    XLEV_ERROR_INVAL);
    drive_free_ctx(&d);
    close(sv[0]);
    close(sv[1]);
}

/* The seed's beforepoll contract: size query, BUFFERFULL, a slice of a
 * larger array, only-reducing timeout. */
static void
test_beforepoll_contract(void)
{
    xlev_ctx *ctx = test_ctx_new();
    FdProbe p[5];
    int fds[5][2];
    struct pollfd big[10];
    struct timeval now = {0, 0};
    int i, n, timeout;

    for (i = 0; i < 5; i++) {
        test_pipe(fds[i]);
        probe_init(&p[i]);
        g_assert_cmpint(
            xlev_ev_fd_register(ctx, &p[i].ev, probe_cb, fds[i][0], POLLIN), ==,
            0);
    }

    n = 0;
    timeout = 7;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    XLEV_ERROR_BUFFERFULL);
    g_assert_cmpint(n, ==, 5);
    g_assert_cmpint(timeout, ==, 7);

    n = 3;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, big, &timeout, now), ==,
                    XLEV_ERROR_BUFFERFULL);
    g_assert_cmpint(n, ==, 5);

    /* a slice: the application's own fds in big[0..1] */
    big[0].fd = 1000;
    big[1].fd = 1001;
    n = 8;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, big + 2, &timeout, now),
                    ==, 0);
    g_assert_cmpint(n, ==, 5);
    g_assert_cmpint(big[0].fd, ==, 1000);
    g_assert_cmpint(big[1].fd, ==, 1001);
    for (i = 0; i < 5; i++)
        g_assert_cmpint(big[2 + i].events, ==, POLLIN);
    g_assert_cmpint(timeout, ==, 7); /* no timeouts: untouched */

    g_assert_cmpint(write(fds[3][1], "x", 1), ==, 1);
    g_assert_cmpint(poll(big + 2, n, 1000), ==, 1);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, n, big + 2, now), ==, 0);
    g_assert_cmpint(p[3].calls, ==, 1);
    for (i = 0; i < 5; i++)
        if (i != 3)
            g_assert_cmpint(p[i].calls, ==, 0);

    xlev_ctx_free(ctx); /* deregisters all five */
    for (i = 0; i < 5; i++) {
        g_assert_false(xlev_ev_fd_isregistered(&p[i].ev));
        close(fds[i][0]);
        close(fds[i][1]);
    }
}

static void
test_bad_args(void)
{
    xlev_ctx *ctx = test_ctx_new();
    FdProbe p;
    struct timeval now = {0, 0};
    int n = 1, timeout = -1;

    probe_init(&p);
    g_assert_cmpint(xlev_ev_fd_register(NULL, &p.ev, probe_cb, 0, POLLIN), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_fd_register(ctx, NULL, probe_cb, 0, POLLIN), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, NULL, 0, POLLIN), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_fd_register(ctx, &p.ev, probe_cb, -1, POLLIN), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_fd_modify(NULL, &p.ev, POLLIN), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_fd_modify(ctx, &p.ev, POLLIN), ==,
                    XLEV_ERROR_INVAL); /* Idle */
    xlev_ev_fd_deregister(NULL, &p.ev);
    xlev_ev_fd_deregister(ctx, NULL);
    xlev_ev_fd_init(NULL);
    g_assert_false(xlev_ev_fd_isregistered(NULL));

    g_assert_cmpint(xlev_osevent_beforepoll(NULL, &n, NULL, &timeout, now), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, NULL, NULL, &timeout, now),
                    ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    XLEV_ERROR_INVAL); /* fds NULL with room claimed */
    n = -1;
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_osevent_afterpoll(NULL, 0, NULL, now), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, -1, NULL, now), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 1, NULL, now), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, 0, NULL, now), ==, 0);
    xlev_osevent_occurred_fd(NULL, NULL, 0, 0, 0);
    xlev_osevent_occurred_fd(ctx, NULL, 0, 0, 0);
    xlev_osevent_occurred_timeout(NULL, NULL);
    xlev_osevent_occurred_timeout(ctx, NULL);
    g_assert_cmpint(xlev_osevent_register_hooks(NULL, &test_hooks_vtable, NULL),
                    ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_osevent_register_hooks(ctx, NULL, NULL), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ctx_new(NULL, NULL), ==, XLEV_ERROR_INVAL);
    g_assert_nonnull(xlev_strerror(XLEV_ERROR_INVAL));
    g_assert_nonnull(xlev_strerror(12345));
    g_assert_nonnull(xlev_strerror(-12345));
    g_assert_null(xlev_ctx_get_xenstore_path(NULL));
    xlev_ctx_set_logger(NULL, NULL, NULL);
    xlev_ctx_set_disaster_hook(NULL, NULL, NULL);
    xlev_ctx_set_clock(NULL, NULL, NULL);
    xlev_osevent_now(NULL, NULL);
    xlev_ctx_free(NULL);
    xlev_ctx_free(ctx);
}

static void
add_modes(const char *name, GTestDataFunc fn)
{
    core_test_add_modes("fd", name, fn);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    add_modes("readable", test_readable);
    add_modes("two-registrations-one-fd", test_two_registrations_one_fd);
    add_modes("zero-events-not-polled", test_zero_events_not_polled);
    add_modes("modify", test_modify);
    g_test_add_func("/xlev/core/fd/beforepoll-contract",
                    test_beforepoll_contract);
    g_test_add_func("/xlev/core/fd/bad-args", test_bad_args);

    return g_test_run();
}
