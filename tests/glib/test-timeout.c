/* test-timeout.c: XlevTimeout, both integrations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-test-common.h"

typedef struct {
    Fixture *f;
    int fired;
    XlevTimeout *cancel_in_handler;
    XlevTimeout **unref_in_handler;
} Counter;

static void
on_fired(XlevTimeout *t, gpointer data)
{
    Counter *c = data;

    g_assert_true(g_main_context_is_owner(c->f->main_context));
    c->fired++;
    if (c->cancel_in_handler != NULL)
        xlev_timeout_cancel(c->cancel_in_handler);
    if (c->unref_in_handler != NULL)
        g_clear_object(c->unref_in_handler);
}

static XlevTimeout *
timeout_or_die(Fixture *f, guint ms, Counter *c)
{
    g_autoptr(GError) error = NULL;
    XlevTimeout *t = xlev_context_timeout(f->ctx, ms, &error);

    g_assert_no_error(error);
    g_signal_connect(t, "fired", G_CALLBACK(on_fired), c);
    return t;
}

static void
test_fires_once_after_interval(Fixture *f, gconstpointer data)
{
    Counter c = {.f = f};
    g_autoptr(XlevTimeout) t = NULL;
    gint64 start = g_get_monotonic_time();

    t = timeout_or_die(f, 30, &c);
    g_assert_true(xlev_timeout_get_pending(t));
    g_assert_true(xlev_timeout_get_context(t) == f->ctx);
    WAIT_FOR(f->main_context, c.fired == 1, 2000);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 30000);
    g_assert_false(xlev_timeout_get_pending(t));

    spin_for(f->main_context, 60);
    g_assert_cmpint(c.fired, ==, 1);
}

static void
test_zero_fires(Fixture *f, gconstpointer data)
{
    Counter c = {.f = f};
    g_autoptr(XlevTimeout) t = timeout_or_die(f, 0, &c);

    WAIT_FOR(f->main_context, c.fired == 1, 2000);
}

static void
test_reschedule(Fixture *f, gconstpointer data)
{
    Counter c = {.f = f};
    g_autoptr(XlevTimeout) t = timeout_or_die(f, 20, &c);
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();

    /* Pending: pushed later. */
    g_assert_true(xlev_timeout_reschedule(t, 120, &error));
    g_assert_no_error(error);
    WAIT_FOR(f->main_context, c.fired == 1, 2000);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 120000);

    /* Fired: armed again. */
    g_assert_true(xlev_timeout_reschedule(t, 10, &error));
    WAIT_FOR(f->main_context, c.fired == 2, 2000);

    /* Cancelled: armed again. */
    xlev_timeout_cancel(t);
    g_assert_true(xlev_timeout_reschedule(t, 10, &error));
    WAIT_FOR(f->main_context, c.fired == 3, 2000);
}

static void
test_cancel(Fixture *f, gconstpointer data)
{
    Counter c = {.f = f};
    g_autoptr(XlevTimeout) t = timeout_or_die(f, 20, &c);

    xlev_timeout_cancel(t);
    xlev_timeout_cancel(t);
    g_assert_false(xlev_timeout_get_pending(t));
    spin_for(f->main_context, 60);
    g_assert_cmpint(c.fired, ==, 0);
}

/* Two timeouts due in the same dispatch: the first one's handler cancels
 * the second, which is then not emitted; a third is unreffed by its own
 * handler. */
static void
test_cancel_other_in_handler(Fixture *f, gconstpointer data)
{
    Counter c1 = {.f = f}, c2 = {.f = f}, c3 = {.f = f};
    g_autoptr(XlevTimeout) t1 = timeout_or_die(f, 10, &c1);
    g_autoptr(XlevTimeout) t2 = timeout_or_die(f, 11, &c2);
    XlevTimeout *t3 = timeout_or_die(f, 5, &c3);

    c1.cancel_in_handler = t2;
    c3.unref_in_handler = &t3;

    /* Let both be due before the main context next runs. */
    g_usleep(30000);
    WAIT_FOR(f->main_context, c1.fired == 1 && t3 == NULL, 2000);
    spin_for(f->main_context, 30);
    g_assert_cmpint(c2.fired, ==, 0);
    g_assert_cmpint(c3.fired, ==, 1);
}

static void
test_too_long_is_inval(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    Counter c = {.f = f};
    g_autoptr(XlevTimeout) t = NULL;

    g_assert_null(xlev_context_timeout(f->ctx, G_MAXUINT, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);

    t = timeout_or_die(f, 1000, &c);
    g_assert_false(xlev_timeout_reschedule(t, (guint)G_MAXINT + 1, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
}

/* Dropping the last reference cancels it. */
static void
test_unref_cancels(Fixture *f, gconstpointer data)
{
    Counter c = {.f = f};
    XlevTimeout *t = timeout_or_die(f, 10, &c);

    g_assert_finalize_object(t);
    spin_for(f->main_context, 40);
    g_assert_cmpint(c.fired, ==, 0);
}

/* Timeouts made, fired and dropped from other threads while the main
 * context delivers: a queued ::fired points at its timeout without a
 * reference ("Naming the target" in libxlev-glib/xlev-dispatch.c), so an
 * item that outlived its timeout would be a use after free (ASan,
 * valgrind) or a critical from g_object_ref() (fatal under g_test). Each
 * handler checks the record it was connected with, freed with the
 * timeout. */
#define LIFETIME_MAGIC 0x544fu /* "TO" */
#define LIFETIME_DROPPERS 2

typedef struct {
    XlevContext *ctx;
    GMainContext *mc;
    int iterations;
    gint made;          /* atomic */
    gint freed;         /* atomic */
    gint fired;         /* atomic */
    gint droppers_left; /* atomic */
} Lifetime;

typedef struct {
    guint magic;
    Lifetime *lt;
} LifetimeRec;

static void
lifetime_rec_free(gpointer data, GClosure *closure)
{
    LifetimeRec *rec = data;

    g_assert_cmpuint(rec->magic, ==, LIFETIME_MAGIC);
    rec->magic = 0;
    g_atomic_int_inc(&rec->lt->freed);
    g_free(rec);
}

static void
on_fired_lifetime(XlevTimeout *t, gpointer data)
{
    LifetimeRec *rec = data;

    g_assert_cmpuint(rec->magic, ==, LIFETIME_MAGIC);
    g_assert_true(g_main_context_is_owner(rec->lt->mc));
    g_atomic_int_inc(&rec->lt->fired);
}

static gpointer
lifetime_dropper(gpointer data)
{
    Lifetime *lt = data;
    g_autoptr(GRand) rand = g_rand_new_with_seed(g_test_rand_int());

    for (int i = 0; i < lt->iterations; i++) {
        g_autoptr(GError) error = NULL;
        XlevTimeout *t = xlev_context_timeout(lt->ctx, 0, &error);
        LifetimeRec *rec = g_new0(LifetimeRec, 1);

        g_assert_no_error(error);
        rec->magic = LIFETIME_MAGIC;
        rec->lt = lt;
        g_atomic_int_inc(&lt->made);
        g_signal_connect_data(t, "fired", G_CALLBACK(on_fired_lifetime), rec,
                              lifetime_rec_free, 0);

        /* Let it fire, be queued or be delivered, then drop it. */
        g_usleep(g_rand_int_range(rand, 0, 400));
        switch (i % 3) {
        case 0:
            break;
        case 1:
            g_assert_true(xlev_timeout_reschedule(t, 0, &error));
            g_usleep(g_rand_int_range(rand, 0, 100));
            break;
        default:
            xlev_timeout_cancel(t);
            break;
        }
        g_object_unref(t);
    }
    g_atomic_int_dec_and_test(&lt->droppers_left);
    g_main_context_wakeup(lt->mc);
    return NULL;
}

static void
test_dropped_from_other_threads(Fixture *f, gconstpointer data)
{
    Lifetime lt = {
        .ctx = f->ctx,
        .mc = f->main_context,
        .iterations = g_getenv("XLEV_UNDER_VALGRIND") ? 60 : 300,
        .droppers_left = LIFETIME_DROPPERS,
    };
    GThread *threads[LIFETIME_DROPPERS];

    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        threads[i] = g_thread_new("dropper", lifetime_dropper, &lt);
    /* Not blocking: a timeout made in another thread need not wake a
     * loop in XLEV_INTEGRATION_SOURCE until its next prepare. */
    while (g_atomic_int_get(&lt.droppers_left) > 0) {
        if (!g_main_context_iteration(f->main_context, FALSE))
            g_usleep(50);
    }
    for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
        g_thread_join(threads[i]);
    spin_for(f->main_context, 20);

    g_assert_cmpint(g_atomic_int_get(&lt.made), ==,
                    LIFETIME_DROPPERS * lt.iterations);
    g_assert_cmpint(g_atomic_int_get(&lt.freed), ==,
                    g_atomic_int_get(&lt.made));
    g_assert_cmpint(g_atomic_int_get(&lt.fired), >, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    XLEV_TEST_ADD_BOTH("/timeout/fires-once-after-interval",
                       test_fires_once_after_interval);
    XLEV_TEST_ADD_BOTH("/timeout/zero-fires", test_zero_fires);
    XLEV_TEST_ADD_BOTH("/timeout/reschedule", test_reschedule);
    XLEV_TEST_ADD_BOTH("/timeout/cancel", test_cancel);
    XLEV_TEST_ADD_BOTH("/timeout/cancel-other-in-handler",
                       test_cancel_other_in_handler);
    XLEV_TEST_ADD_BOTH("/timeout/too-long-is-inval", test_too_long_is_inval);
    XLEV_TEST_ADD_BOTH("/timeout/unref-cancels", test_unref_cancels);
    XLEV_TEST_ADD_BOTH("/timeout/dropped-from-other-threads",
                       test_dropped_from_other_threads);

    return g_test_run();
}
