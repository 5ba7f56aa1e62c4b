/* test-watch-lifetime.c: XlevWatch objects dropped and cancelled, from the
 * delivering thread and from others, while their events are being
 * delivered
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Queued events point at their watch without a reference (see "Naming
 * the target" in libxlev-glib/xlev-dispatch.c). These tests make that
 * race as often as they can: a writer thread keeps xenstored sending
 * events for every watch on STRESS_PATH while watches are cancelled and
 * their last references dropped, in the main context's thread (from
 * handlers) and in other threads. A queued event that reached a finalized
 * watch would be a use after free (ASan, valgrind) or a critical from
 * g_object_ref() (fatal under g_test); each handler also checks the record
 * it was connected with, which is freed with the watch.
 */
#include "xlev-test-common.h"

#include <string.h>

#define STRESS_PATH "/stress"
#define STRESS_KEY STRESS_PATH "/v"
#define REC_MAGIC 0x5741u /* "WA" */
#define REC_FREED 0xdeadu

#define N_DROPPERS 3
#define WRITER_PAUSE_US 100

typedef struct {
    GMainContext *mc;     /* where every ::changed must be emitted */
    XlevContext *ctx;
    gint stop_writer;     /* atomic */
    gint writes;          /* atomic */
    gint events;          /* atomic: handler calls */
    gint recs_made;       /* atomic */
    gint recs_freed;      /* atomic */
    gint droppers_left;   /* atomic */
    int iterations;       /* per dropper thread, or in-thread drops */
    GAsyncQueue *to_main; /* cancelled watches whose last ref main drops */
} Stress;

/* One per watch, connected with its ::changed handler and freed with the
 * handler, so when the watch is finalized. */
typedef struct {
    guint magic;
    XlevWatch *watch; /* no reference */
    Stress *st;
    gboolean dropped; /* main thread only: cancelled or last ref dropped */
} Rec;

static int
stress_iterations(int native, int valgrind)
{
    return g_getenv("XLEV_UNDER_VALGRIND") ? valgrind : native;
}

static void
stress_init(Stress *st, Fixture *f, int iterations)
{
    memset(st, 0, sizeof(*st));
    st->mc = f->main_context;
    st->ctx = f->ctx;
    st->iterations = iterations;
    st->to_main = g_async_queue_new();
}

static void
rec_free(gpointer data, GClosure *closure)
{
    Rec *rec = data;

    g_assert_cmpuint(rec->magic, ==, REC_MAGIC);
    rec->magic = REC_FREED;
    g_atomic_int_inc(&rec->st->recs_freed);
    g_free(rec);
}

static void
on_changed_check(XlevWatch *watch, const char *event_path, gpointer data)
{
    Rec *rec = data;

    g_assert_cmpuint(rec->magic, ==, REC_MAGIC);
    g_assert_true(rec->watch == watch);
    g_assert_true(g_main_context_is_owner(rec->st->mc));
    g_assert_nonnull(event_path);
    g_atomic_int_inc(&rec->st->events);
}

static Rec *
stress_rec_new(Stress *st, XlevWatch *w)
{
    Rec *rec = g_new0(Rec, 1);

    rec->magic = REC_MAGIC;
    rec->watch = w;
    rec->st = st;
    g_atomic_int_inc(&st->recs_made);
    return rec;
}

/* Any thread. */
static XlevWatch *
stress_watch(Stress *st, GCallback handler, Rec **rec_out)
{
    g_autoptr(GError) error = NULL;
    XlevWatch *w = xlev_context_watch(st->ctx, STRESS_PATH,
                                      XLEV_WATCH_FLAGS_NONE, &error);
    Rec *rec;

    g_assert_no_error(error);
    g_assert_nonnull(w);
    rec = stress_rec_new(st, w);
    g_signal_connect_data(w, "changed", handler, rec, rec_free, 0);
    if (rec_out != NULL)
        *rec_out = rec;
    return w;
}

/* Keeps xenstored sending events for every watch on STRESS_PATH. */
static gpointer
writer_thread(gpointer data)
{
    Stress *st = data;

    while (!g_atomic_int_get(&st->stop_writer)) {
        g_autoptr(GError) error = NULL;
        char value[16];

        g_snprintf(value, sizeof(value), "%d", g_atomic_int_get(&st->writes));
        xlev_context_write(st->ctx, STRESS_KEY, value, NULL, &error);
        g_assert_no_error(error);
        g_atomic_int_inc(&st->writes);
        /* Enough to keep events queued for every watch; flat out, the
         * writes would crowd out the registrations at xenstored. */
        g_usleep(WRITER_PAUSE_US);
    }
    return NULL;
}

/* A short, varying pause, so that the drop lands at different points of
 * the delivery. */
static void
jitter(GRand *rand)
{
    guint n = g_rand_int_range(rand, 0, 4);

    if (n == 0)
        return;
    if (n == 1)
        g_thread_yield();
    else
        g_usleep(g_rand_int_range(rand, 1, 200));
}

/* Each iteration makes a watch on the busy path, lets events for it queue
 * up, and then, in turn: drops the last reference here (dispose in this
 * thread); cancels it, then drops the last reference here; cancels it and
 * hands the last reference to the main thread. */
static gpointer
dropper_thread(gpointer data)
{
    Stress *st = data;
    g_autoptr(GRand) rand = g_rand_new_with_seed(g_test_rand_int());

    for (int i = 0; i < st->iterations; i++) {
        XlevWatch *w = stress_watch(st, G_CALLBACK(on_changed_check), NULL);

        jitter(rand);
        switch (i % 3) {
        case 0:
            g_object_unref(w);
            break;
        case 1:
            xlev_watch_cancel(w);
            g_assert_false(xlev_watch_get_active(w));
            jitter(rand);
            g_object_unref(w);
            break;
        default:
            xlev_watch_cancel(w);
            g_async_queue_push(st->to_main, w);
            break;
        }
    }
    g_atomic_int_dec_and_test(&st->droppers_left);
    g_main_context_wakeup(st->mc);
    return NULL;
}

static void
drain_to_main(Stress *st)
{
    XlevWatch *w;

    while ((w = g_async_queue_try_pop(st->to_main)) != NULL)
        g_object_unref(w);
}

static void
stress_finish(Stress *st, GThread *writer)
{
    g_atomic_int_set(&st->stop_writer, 1);
    g_thread_join(writer);
    drain_to_main(st);
    /* Events still queued for the watches just dropped must be dropped,
     * not delivered to freed memory. */
    while (g_main_context_iteration(st->mc, FALSE))
        ;
    g_assert_cmpint(g_atomic_int_get(&st->recs_freed), ==,
                    g_atomic_int_get(&st->recs_made));
    g_test_message("%d writes, %d events delivered, %d watches",
                   g_atomic_int_get(&st->writes),
                   g_atomic_int_get(&st->events),
                   g_atomic_int_get(&st->recs_made));
    g_async_queue_unref(st->to_main);
}

static void
test_drop_in_threads(Fixture *f, gconstpointer data)
{
    Stress st;
    GThread *writer, *droppers[N_DROPPERS];
    g_autoptr(XlevWatch) keep = NULL;

    stress_init(&st, f, stress_iterations(1000, 700));
    /* Keeps events flowing even when no dropper has a watch. */
    keep = stress_watch(&st, G_CALLBACK(on_changed_check), NULL);
    writer = g_thread_new("writer", writer_thread, &st);
    g_atomic_int_set(&st.droppers_left, N_DROPPERS);
    for (int i = 0; i < N_DROPPERS; i++)
        droppers[i] = g_thread_new("dropper", dropper_thread, &st);

    while (g_atomic_int_get(&st.droppers_left) > 0) {
        if (!g_main_context_iteration(f->main_context, FALSE))
            g_usleep(50);
        drain_to_main(&st);
    }
    for (int i = 0; i < N_DROPPERS; i++)
        g_thread_join(droppers[i]);

    g_clear_object(&keep);
    stress_finish(&st, writer);
    g_assert_cmpint(st.events, >, 0);
}

/*
 * In the thread that delivers, the guarantee is strict: once cancel has
 * returned, or the last reference has been dropped, there, the watch
 * emits nothing more, even with its events already queued. Handlers drop
 * their own watch or another one; the main loop makes new ones; other
 * threads cancel some at the same time.
 */
#define N_SLOTS 16

typedef struct {
    Stress *st;
    XlevWatch *slots[N_SLOTS]; /* main thread only */
    Rec *recs[N_SLOTS];        /* valid while slots[i] is */
    GRand *rand;
    int drops;
} Slots;

static Slots *the_slots; /* for the handler; main thread only */

static void
drop_slot(Slots *s, int i)
{
    Rec *rec = s->recs[i];

    rec->dropped = TRUE;
    if (g_rand_boolean(s->rand)) {
        /* The last reference, unless the delivery loop holds one (this
         * watch is the one emitting). */
        s->recs[i] = NULL;
        g_clear_object(&s->slots[i]);
    } else {
        xlev_watch_cancel(s->slots[i]);
        g_assert_false(xlev_watch_get_active(s->slots[i]));
    }
    s->drops++;
}

static void
on_changed_drop(XlevWatch *watch, const char *event_path, gpointer data)
{
    Rec *rec = data;
    Slots *s = the_slots;
    int self = -1;

    on_changed_check(watch, event_path, data);
    g_assert_false(rec->dropped);

    for (int i = 0; i < N_SLOTS; i++)
        if (s->slots[i] == watch)
            self = i;
    /* Every live watch that emits is in a slot: dropped ones no longer
     * emit. */
    g_assert_cmpint(self, >=, 0);

    switch (g_rand_int_range(s->rand, 0, 8)) {
    case 0:
        drop_slot(s, self);
        break;
    case 1:
    case 2: {
        int other = g_rand_int_range(s->rand, 0, N_SLOTS);

        if (s->slots[other] != NULL && !s->recs[other]->dropped)
            drop_slot(s, other);
        break;
    }
    default:
        break;
    }
}

/* Cancels the watches the main thread hands over, and drops their last
 * reference, while the main thread delivers: dispose in another thread
 * racing the delivery of the watch's queued events. Stops at @queue
 * itself. */
static gpointer
canceller_thread(gpointer data)
{
    GAsyncQueue *queue = data;
    XlevWatch *w;

    while ((w = g_async_queue_pop(queue)) != (gpointer)queue) {
        xlev_watch_cancel(w);
        g_object_unref(w);
    }
    return NULL;
}

/* Hands slot @i over to the canceller thread. */
static void
hand_over(Slots *s, int i, GAsyncQueue *to_canceller)
{
    XlevWatch *w = g_steal_pointer(&s->slots[i]);

    /* Its emissions race the cancel, which on_changed_drop would take for
     * a broken guarantee: it gets on_changed_check alone. */
    g_signal_handlers_disconnect_matched(w, G_SIGNAL_MATCH_DATA, 0, 0, NULL,
                                         NULL, s->recs[i]);
    s->recs[i] = NULL;
    g_signal_connect_data(w, "changed", G_CALLBACK(on_changed_check),
                          stress_rec_new(s->st, w), rec_free, 0);
    s->drops++;
    g_async_queue_push(to_canceller, w);
}

static void
test_drop_in_handlers(Fixture *f, gconstpointer data)
{
    Stress st;
    Slots s = {0};
    GThread *writer, *canceller;
    GAsyncQueue *to_canceller = g_async_queue_new();
    int round = 0;

    stress_init(&st, f, stress_iterations(3000, 2000));
    s.st = &st;
    s.rand = g_rand_new_with_seed(g_test_rand_int());
    the_slots = &s;
    canceller = g_thread_new("canceller", canceller_thread, to_canceller);
    writer = g_thread_new("writer", writer_thread, &st);

    while (s.drops < st.iterations) {
        for (int i = 0; i < N_SLOTS; i++) {
            if (s.slots[i] != NULL && s.recs[i]->dropped) {
                s.recs[i] = NULL;
                g_clear_object(&s.slots[i]);
            }
            if (s.slots[i] == NULL)
                s.slots[i] =
                    stress_watch(&st, G_CALLBACK(on_changed_drop), &s.recs[i]);
        }
        if (++round % 4 == 0)
            hand_over(&s, g_rand_int_range(s.rand, 0, N_SLOTS), to_canceller);
        for (int k = 0; k < 8; k++)
            if (!g_main_context_iteration(f->main_context, FALSE))
                g_usleep(50);
    }

    g_async_queue_push(to_canceller, to_canceller);
    g_thread_join(canceller);
    g_async_queue_unref(to_canceller);
    for (int i = 0; i < N_SLOTS; i++)
        g_clear_object(&s.slots[i]);
    stress_finish(&st, writer);
    the_slots = NULL;
    g_rand_free(s.rand);
    g_assert_cmpint(st.events, >, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    XLEV_TEST_ADD_BOTH("/watch-lifetime/drop-in-threads", test_drop_in_threads);
    XLEV_TEST_ADD_BOTH("/watch-lifetime/drop-in-handlers",
                       test_drop_in_handlers);

    return g_test_run();
}
