/* bench-core-time.c: timeout insert and fire cost at 1k/10k/100k timers
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Registers n timeouts with random deadlines (insert), then fires them all
 * with one afterpoll (fire: heap pop + deferred callback). Prints one JSON
 * object per line. The per-operation cost should grow like log n.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "xlev-event-private.h"

static long fired;

static void
cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    fired++;
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
    static const int sizes[] = {1000, 10000, 100000};
    unsigned int seed = 1;
    size_t s;

    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        int n = sizes[s], i, round, rounds = 2000000 / n;
        double best_ins = 1e9, best_fire = 1e9;
        xlev_ev_time *evs = calloc(n, sizeof(*evs));

        for (round = 0; round < rounds; round++) {
            xlev_ctx *ctx = NULL;
            struct timeval abs, end = {3000000, 0};
            double t0, t1, t2;

            if (xlev__test_ctx_new_no_xenstore(&ctx))
                return 1;
            fired = 0;
            t0 = now_s();
            for (i = 0; i < n; i++) {
                abs.tv_sec = 1000000 + rand_r(&seed) % 1000000;
                abs.tv_usec = rand_r(&seed) % 1000000;
                if (xlev_ev_time_register_abs(ctx, &evs[i], cb, abs))
                    return 1;
            }
            t1 = now_s();
            xlev_osevent_afterpoll(ctx, 0, NULL, end);
            t2 = now_s();
            if (fired != n)
                return 1;
            if ((t1 - t0) < best_ins)
                best_ins = t1 - t0;
            if ((t2 - t1) < best_fire)
                best_fire = t2 - t1;
            xlev_ctx_free(ctx);
        }
        printf("{\"bench\": \"timer-insert-fire\", \"n\": %d, \"rounds\": %d, "
               "\"insert_ns_per_op\": %.1f, \"fire_ns_per_op\": %.1f}\n",
               n, rounds, best_ins * 1e9 / n, best_fire * 1e9 / n);
        free(evs);
    }
    return 0;
}
