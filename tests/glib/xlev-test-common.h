/* xlev-test-common.h: what the GObject-layer tests share
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * A Fixture is a private xenstored (tests/xs-fixture.h) and an XlevContext
 * connected to it in the default main context, with the integration given
 * as the test's data; XLEV_TEST_ADD_BOTH registers a test once per
 * integration, so both pass the same suite.
 */
#pragma once

#include <xlev.h>

#include "xs-fixture.h"

typedef struct {
    XsFixture xs;
    XlevIntegration integration;
    GMainContext *main_context; /* the context's */
    XlevContext *ctx;
} Fixture;

/* XLEV_TEST_TRANSPORT=xenbus: the context reaches the daemon through the
 * xenbus device (libxenstore), the stand-in preloaded. */
static inline void
fixture_select_transport(Fixture *f)
{
    g_autoptr(GError) error = NULL;

    if (g_strcmp0(g_getenv("XLEV_TEST_TRANSPORT"), "xenbus") != 0)
        return;
    g_assert_true(xs_fixture_select_transport(
        &f->xs, XS_FIXTURE_TRANSPORT_XENBUS, &error));
    g_assert_no_error(error);
}

static inline void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    xs_fixture_setup(&f->xs, NULL);
    fixture_select_transport(f);
    f->integration = (XlevIntegration)GPOINTER_TO_INT(data);
    f->main_context = g_main_context_ref_thread_default();
    f->ctx = xlev_context_new_full(NULL, f->integration, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->ctx);
    g_assert_true(xlev_context_get_main_context(f->ctx) == f->main_context);
    g_assert_cmpint(xlev_context_get_integration(f->ctx), ==, f->integration);
}

/* The daemon only; the test makes its own contexts. */
static inline void
fixture_setup_no_context(Fixture *f, gconstpointer data)
{
    xs_fixture_setup(&f->xs, NULL);
    fixture_select_transport(f);
    f->integration = (XlevIntegration)GPOINTER_TO_INT(data);
    f->main_context = g_main_context_ref_thread_default();
    f->ctx = NULL;
}

static inline void
fixture_teardown(Fixture *f, gconstpointer data)
{
    if (f->ctx != NULL) {
        /* A GTask worker still running an operation whose task returned
         * early (cancelled) holds a reference until the operation ends. */
        GWeakRef ref;
        gint64 deadline =
            g_get_monotonic_time() + xs_fixture_scale_ms(5000) * 1000;
        GObject *alive;

        g_weak_ref_init(&ref, f->ctx);
        g_clear_object(&f->ctx);
        while ((alive = g_weak_ref_get(&ref)) != NULL &&
               g_get_monotonic_time() < deadline) {
            g_object_unref(alive);
            g_main_context_iteration(f->main_context, FALSE);
            g_usleep(1000);
        }
        g_assert_null(alive);
        g_weak_ref_clear(&ref);
    }
    /* Idle sources (notifications, GTask results) may still hold refs. */
    while (g_main_context_iteration(f->main_context, FALSE))
        ;
    g_main_context_unref(f->main_context);
    xs_fixture_teardown(&f->xs, NULL);
}

/* XLEV_TEST_ADD_BOTH with a teardown of the test's own (which ends with
 * fixture_teardown). */
#define XLEV_TEST_ADD_BOTH_WITH_TEARDOWN(path, func, teardown)               \
    do {                                                                     \
        g_test_add("/xlev/source" path, Fixture,                             \
                   GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE), fixture_setup,  \
                   func, teardown);                                          \
        g_test_add("/xlev/hooks" path, Fixture,                              \
                   GINT_TO_POINTER(XLEV_INTEGRATION_HOOKS), fixture_setup,   \
                   func, teardown);                                          \
    } while (0)

#define XLEV_TEST_ADD_BOTH(path, func)                                       \
    XLEV_TEST_ADD_BOTH_WITH_TEARDOWN(path, func, fixture_teardown)

static inline gboolean
test_flag_set_cb(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Iterates @mc until @cond holds or @ms (scaled for valgrind) have passed,
 * then asserts @cond. */
#define WAIT_FOR(mc, cond, ms)                                               \
    do {                                                                     \
        gboolean timed_out_ = FALSE;                                         \
        GSource *timer_ = g_timeout_source_new(xs_fixture_scale_ms(ms));     \
        g_source_set_callback(timer_, test_flag_set_cb, &timed_out_, NULL);  \
        g_source_attach(timer_, (mc));                                       \
        while (!(cond) && !timed_out_)                                       \
            g_main_context_iteration((mc), TRUE);                            \
        g_source_destroy(timer_);                                            \
        g_source_unref(timer_);                                              \
        g_assert_true(cond);                                                 \
    } while (0)

/* Iterates @mc for @ms milliseconds (not scaled); returns how many
 * iterations that took. */
static inline guint
spin_for(GMainContext *mc, guint ms)
{
    gboolean done = FALSE;
    GSource *timer = g_timeout_source_new(ms);
    guint iterations = 0;

    g_source_set_callback(timer, test_flag_set_cb, &done, NULL);
    g_source_attach(timer, mc);
    while (!done) {
        g_main_context_iteration(mc, TRUE);
        iterations++;
    }
    g_source_destroy(timer);
    g_source_unref(timer);
    return iterations;
}

/* The ids of the process's threads now (/proc/self/task), to compare with
 * a later set: g_hash_table_unref() it. The GTask type is registered
 * first: that starts GLib's own worker thread ("gmain", where GTask keeps
 * its thread pool's manager) once per process, whatever a task does. */
static inline GHashTable *
thread_ids(void)
{
    GHashTable *ids;
    GDir *dir;
    const char *name;

    g_type_ensure(G_TYPE_TASK);
    ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    dir = g_dir_open("/proc/self/task", 0, NULL);
    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir)) != NULL)
        g_hash_table_add(ids, g_strdup(name));
    g_dir_close(dir);
    return ids;
}

/* Asserts that no thread was started since @before (threads that ended
 * meanwhile do not hide one that started). */
static inline void
assert_no_new_thread(GHashTable *before)
{
    g_autoptr(GHashTable) now = thread_ids();
    GHashTableIter iter;
    gpointer id;

    g_hash_table_iter_init(&iter, now);
    while (g_hash_table_iter_next(&iter, &id, NULL))
        if (!g_hash_table_contains(before, id)) {
            g_autofree char *file
                = g_strdup_printf("/proc/self/task/%s/comm", (char *)id);
            g_autofree char *comm = NULL;

            g_file_get_contents(file, &comm, NULL, NULL);
            g_error("thread %s (%s) was started", (const char *)id,
                    comm != NULL ? g_strstrip(comm) : "gone");
        }
}
