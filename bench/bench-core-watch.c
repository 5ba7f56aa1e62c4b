/* bench-core-watch.c: watch events/s through the core vs raw libxenstore
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * One private xenstored (the test fixture), one run, two ways of receiving
 * the events a second connection causes by writing /bench/k:
 *   raw:  xs_watch + poll(xs_fileno) + xs_check_watch until EAGAIN
 *   core: xlev_ev_xswatch_register + beforepoll/poll/afterpoll
 * Round trips: write, wait for its event, write again (latency bound).
 * Prints one JSON object per line.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>

#include "xlev-event-private.h"
#include "xs-fixture.h"

#define ROUNDS_DEFAULT 5000

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
must_write(struct xs_handle *w, int i)
{
    char v[16];

    snprintf(v, sizeof(v), "%d", i);
    if (!xs_write(w, XBT_NULL, "/bench/k", v, strlen(v))) {
        perror("xs_write");
        exit(1);
    }
}

static double
raw_round_trips(struct xs_handle *w, int rounds)
{
    struct xs_handle *h = xs_open(0);
    struct pollfd pfd;
    double t0;
    int i, got;

    if (!h || !xs_watch(h, "/bench", "raw"))
        exit(1);
    pfd.fd = xs_fileno(h);
    pfd.events = POLLIN;
    /* swallow the initial event */
    poll(&pfd, 1, 5000);
    free(xs_check_watch(h));

    t0 = now_s();
    for (i = 0; i < rounds; i++) {
        must_write(w, i);
        for (got = 0; !got;) {
            char **ev;

            poll(&pfd, 1, 5000);
            while ((ev = xs_check_watch(h))) {
                got |= strcmp(ev[XS_WATCH_PATH], "/bench/k") == 0;
                free(ev);
            }
        }
    }
    t0 = now_s() - t0;
    xs_unwatch(h, "/bench", "raw");
    xs_close(h);
    return rounds / t0;
}

static volatile int core_got;

static void
core_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
        const char *epath)
{
    if (strcmp(epath, "/bench/k") == 0)
        core_got = 1;
}

static void
core_iterate(xlev_ctx *ctx)
{
    struct pollfd pfd[8];
    struct timeval now;
    int nfds = 8, timeout = 5000;

    xlev_osevent_now(ctx, &now);
    if (xlev_osevent_beforepoll(ctx, &nfds, pfd, &timeout, now))
        exit(1);
    poll(pfd, nfds, timeout);
    xlev_osevent_now(ctx, &now);
    xlev_osevent_afterpoll(ctx, nfds, pfd, now);
}

static double
core_round_trips(struct xs_handle *w, int rounds)
{
    xlev_ctx *ctx = NULL;
    xlev_ev_xswatch watch;
    double t0;
    int i;

    if (xlev_ctx_new(NULL, &ctx) ||
        xlev_ev_xswatch_register(ctx, &watch, core_cb, "/bench"))
        exit(1);
    core_iterate(ctx); /* the initial event */

    t0 = now_s();
    for (i = 0; i < rounds; i++) {
        core_got = 0;
        must_write(w, i);
        while (!core_got)
            core_iterate(ctx);
    }
    t0 = now_s() - t0;
    xlev_ev_xswatch_deregister(ctx, &watch);
    xlev_ctx_free(ctx);
    return rounds / t0;
}

int
main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : ROUNDS_DEFAULT, rep;
    GError *error = NULL;
    struct xs_handle *w;
    XsFixture fx;

    if (!xs_fixture_start(&fx, &error)) {
        fprintf(stderr, "cannot start xenstored: %s\n", error->message);
        return 1;
    }
    w = xs_open(0);
    if (!w)
        return 1;
    /* alternate, three times each, so that drift hits both */
    for (rep = 0; rep < 3; rep++) {
        double raw = raw_round_trips(w, rounds);
        double core = core_round_trips(w, rounds);

        printf("{\"bench\": \"watch-round-trips\", \"rep\": %d, "
               "\"rounds\": %d, \"raw_per_s\": %.0f, \"core_per_s\": %.0f, "
               "\"core_over_raw\": %.3f}\n",
               rep, rounds, raw, core, core / raw);
        fflush(stdout);
    }
    xs_close(w);
    xs_fixture_stop(&fx);
    return 0;
}
