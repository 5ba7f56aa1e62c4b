/* bench-core-poll.c: beforepoll/afterpoll cost with idle registrations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * n fd registrations (one eventfd each, never ready) and n timeouts far in
 * the future; measures one beforepoll + afterpoll cycle (no poll(2) call:
 * the core's own cost). Prints one JSON object per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "xlev-event-private.h"

static void
fd_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events, short revents)
{
}

static void
time_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(void)
{
    static const int sizes[] = {10, 1000, 10000};
    struct rlimit rl;
    size_t s;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        int n = sizes[s], i, iters = 20000000 / (n + 100), it;
        xlev_ctx *ctx = NULL;
        xlev_ev_fd *fds = calloc(n, sizeof(*fds));
        xlev_ev_time *tms = calloc(n, sizeof(*tms));
        struct pollfd *pfd = calloc(n, sizeof(*pfd));
        struct timeval now = {1000, 0}, far = {2000000, 0};
        double t0, t1;

        if (xlev__test_ctx_new_no_xenstore(&ctx))
            return 1;
        for (i = 0; i < n; i++) {
            int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

            if (fd < 0) {
                perror("eventfd");
                return 1;
            }
            if (xlev_ev_fd_register(ctx, &fds[i], fd_cb, fd, POLLIN) ||
                xlev_ev_time_register_abs(ctx, &tms[i], time_cb, far))
                return 1;
        }
        t0 = now_s();
        for (it = 0; it < iters; it++) {
            int nfds = n, timeout = -1;

            if (xlev_osevent_beforepoll(ctx, &nfds, pfd, &timeout, now) ||
                nfds != n)
                return 1;
            xlev_osevent_afterpoll(ctx, nfds, pfd, now);
        }
        t1 = now_s();
        printf("{\"bench\": \"beforepoll-afterpoll-idle\", \"n_fds\": %d, "
               "\"n_timeouts\": %d, \"iterations\": %d, "
               "\"ns_per_cycle\": %.1f, \"ns_per_registration\": %.2f}\n",
               n, n, iters, (t1 - t0) * 1e9 / iters,
               (t1 - t0) * 1e9 / iters / n);
        for (i = 0; i < n; i++)
            close(pfd[i].fd); /* the last beforepoll listed them all */
        xlev_ctx_free(ctx);
        free(fds);
        free(tms);
        free(pfd);
    }
    return 0;
}
