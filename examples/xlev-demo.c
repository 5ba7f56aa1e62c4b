/* xlev-demo.c: watch a xenstore subtree from a GLib main loop.
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Watches /demo while a second thread writes /demo/key-0 .. key-(N-1), and
 * prints each event as it arrives (path and the value read back).  Exits 0
 * once every key has been seen with its value, 1 on a timeout or an error.
 *
 * It uses the system's xenstored when one answers (at $XENSTORED_PATH, or
 * libxenstore's default socket); otherwise, or with --private, it starts a
 * private one (Debian's real daemon, with the test suite's hypervisor
 * stand-in preloaded; see tests/xs-fixture.h) and says so.
 *
 * It shows the library's GLib binding: an XlevContext driven by the main
 * loop, an XlevWatch whose "changed" signal reports each event, the async
 * read that fetches the value without blocking the loop, an XlevTimeout
 * bounding the run, and a writer thread using the same context (methods may
 * be called from any thread).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <xlev.h>

#include "xs-fixture.h"

/* libxenstore's default socket (XENSTORED_PATH overrides it). */
#define DEMO_DEFAULT_SOCKET "/var/run/xenstored/socket"

/* How long an existing daemon gets to answer before we start our own. */
#define DEMO_PROBE_TIMEOUT_MS 500

#define DEMO_SUBTREE "/demo"

/* Defaults of the command-line options. */
#define DEMO_DEFAULT_KEYS 10
#define DEMO_DEFAULT_DELAY_MS 30
#define DEMO_DEFAULT_TIMEOUT_S 10

typedef struct {
    XlevContext *ctx;
    GMainLoop *loop;
    guint n_keys;
    guint n_seen;
    gboolean *seen;
    gboolean success;
    const char *failure; /* why the loop stopped, if not success */
} Demo;

typedef struct {
    XlevContext *ctx; /* methods may be called from any thread */
    guint n_keys;
    guint delay_ms;
    gint failed; /* atomic: the writer could not write */
} Writer;

static gpointer
writer_thread(gpointer data)
{
    Writer *w = data;

    for (guint i = 0; i < w->n_keys; i++) {
        g_autofree char *path = g_strdup_printf(DEMO_SUBTREE "/key-%u", i);
        g_autofree char *value = g_strdup_printf("value-%u", i);
        g_autoptr(GError) error = NULL;

        g_usleep((gulong)w->delay_ms * 1000);
        if (!xlev_context_write(w->ctx, path, value, NULL, &error)) {
            g_printerr("xlev-demo: writer: %s\n", error->message);
            g_atomic_int_set(&w->failed, 1);
            break;
        }
    }
    return NULL;
}

static void
stop(Demo *demo, const char *failure)
{
    demo->failure = failure;
    demo->success = failure == NULL;
    g_main_loop_quit(demo->loop);
}

/* Marks /demo/key-<i> seen if it holds value-<i>. */
static void
note_key(Demo *demo, const char *path, const char *value)
{
    const char *prefix = DEMO_SUBTREE "/key-";
    guint64 i;
    char expected[64];

    if (!value || !g_str_has_prefix(path, prefix)
        || !g_ascii_string_to_unsigned(path + strlen(prefix), 10, 0,
                                       demo->n_keys - 1, &i, NULL))
        return;
    g_snprintf(expected, sizeof expected, "value-%u", (guint)i);
    if (strcmp(value, expected) != 0 || demo->seen[i])
        return;
    demo->seen[i] = TRUE;
    demo->n_seen++;
}

typedef struct {
    Demo *demo;
    char *path;
} ReadCall;

static void
on_read(GObject *source, GAsyncResult *result, gpointer data)
{
    ReadCall *call = data;
    Demo *demo = call->demo;
    g_autoptr(GError) error = NULL;
    g_autofree char *value
        = xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);

    if (!value && !g_error_matches(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT)) {
        g_printerr("xlev-demo: read %s: %s\n", call->path, error->message);
        stop(demo, "a read failed");
    } else {
        printf("%s = %s\n", call->path, value ? value : "(absent)");
        fflush(stdout);
        note_key(demo, call->path, value);
        if (demo->n_seen == demo->n_keys)
            stop(demo, NULL);
    }
    g_free(call->path);
    g_free(call);
}

/* XlevWatch::changed, emitted in this thread's main context. An event means
 * "go and re-read": ask for the value without blocking the loop. */
static void
on_changed(XlevWatch *watch, const char *event_path, gpointer data)
{
    Demo *demo = data;
    ReadCall *call = g_new0(ReadCall, 1);

    call->demo = demo;
    call->path = g_strdup(event_path);
    xlev_context_read_async(demo->ctx, event_path, NULL, on_read, call);
}

static void
on_fired(XlevTimeout *timeout, gpointer data)
{
    stop(data, "timed out");
}

static void
on_disaster(XlevContext *ctx, XlevDisaster kind, const char *message,
            gpointer data)
{
    g_printerr("xlev-demo: %s\n", message);
    stop(data, "the xenstore connection failed");
}

/* Where a running xenstored would be found, if one answers there. */
static const char *
existing_daemon(void)
{
    const char *path = g_getenv("XENSTORED_PATH");

    if (!path || !*path)
        path = DEMO_DEFAULT_SOCKET;
    return xs_fixture_socket_answers(path, DEMO_PROBE_TIMEOUT_MS) ? path : NULL;
}

int
main(int argc, char **argv)
{
    gboolean private_daemon = FALSE;
    gint n_keys = DEMO_DEFAULT_KEYS;
    gint delay_ms = DEMO_DEFAULT_DELAY_MS;
    gint timeout_s = DEMO_DEFAULT_TIMEOUT_S;
    GOptionEntry entries[] = {
        { "private", 'p', 0, G_OPTION_ARG_NONE, &private_daemon,
          "Always start a private xenstored", NULL },
        { "keys", 'n', 0, G_OPTION_ARG_INT, &n_keys, "Keys to write (1-1000)",
          "N" },
        { "delay", 'd', 0, G_OPTION_ARG_INT, &delay_ms,
          "Milliseconds between writes", "MS" },
        { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s,
          "Give up after this many seconds", "S" },
        { NULL },
    };
    g_autoptr(GOptionContext) context = NULL;
    g_autoptr(GError) error = NULL;
    XsFixture fixture = { 0 };
    gboolean started_fixture = FALSE;
    const char *system_path = NULL;
    Demo demo = { 0 };
    Writer writer = { 0 };
    GThread *thread = NULL;
    XlevWatch *watch = NULL;
    XlevTimeout *timeout = NULL;
    gint64 start_time;
    int status = 1;

    context = g_option_context_new("- watch a xenstore subtree");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("xlev-demo: %s\n", error->message);
        return 2;
    }
    if (n_keys < 1 || n_keys > 1000 || delay_ms < 0 || timeout_s < 1) {
        g_printerr("xlev-demo: --keys 1-1000, --delay >= 0, --timeout >= 1\n");
        return 2;
    }

    if (!private_daemon)
        system_path = existing_daemon();
    if (system_path) {
        printf("xlev-demo: using the xenstored at %s\n", system_path);
    } else {
        /* The stand-in is a test artefact, never installed: tools/demo
         * names the one it built. */
        if (!*xs_fixture_fakexen_path()) {
            g_printerr("xlev-demo: %s, and no hypervisor stand-in to start a "
                       "private one: set XLEV_TEST_FAKEXEN to the test "
                       "suite's libfakexen.so (tools/demo does)\n",
                       private_daemon ? "--private given"
                                      : "no xenstored answering");
            return 1;
        }
        if (!xs_fixture_start(&fixture, &error)) {
            g_printerr("xlev-demo: no xenstored answering, and a private "
                       "one did not start: %s\n",
                       error->message);
            return 1;
        }
        started_fixture = TRUE;
        printf("xlev-demo: %s; started a private one at %s (hypervisor "
               "stood in)\n",
               private_daemon ? "--private given" : "no xenstored answering",
               fixture.socket_path);
    }
    fflush(stdout);

    demo.n_keys = (guint)n_keys;
    demo.seen = g_new0(gboolean, demo.n_keys);
    demo.loop = g_main_loop_new(NULL, FALSE);
    demo.ctx = xlev_context_new(NULL, NULL, &error);
    if (!demo.ctx) {
        g_printerr("xlev-demo: %s\n", error->message);
        goto out;
    }
    g_signal_connect(demo.ctx, "disaster", G_CALLBACK(on_disaster), &demo);

    /* Start from an empty subtree (a missing one is fine). */
    if (!xlev_context_rm(demo.ctx, DEMO_SUBTREE, NULL, &error)
        && !g_error_matches(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT)) {
        g_printerr("xlev-demo: %s\n", error->message);
        goto out;
    }
    g_clear_error(&error);

    watch = xlev_context_watch(demo.ctx, DEMO_SUBTREE,
                               XLEV_WATCH_FLAGS_SKIP_INITIAL, &error);
    if (!watch) {
        g_printerr("xlev-demo: %s\n", error->message);
        goto out;
    }
    g_signal_connect(watch, "changed", G_CALLBACK(on_changed), &demo);
    timeout = xlev_context_timeout(demo.ctx, (guint)timeout_s * 1000, &error);
    if (!timeout) {
        g_printerr("xlev-demo: %s\n", error->message);
        goto out;
    }
    g_signal_connect(timeout, "fired", G_CALLBACK(on_fired), &demo);

    writer.ctx = demo.ctx;
    writer.n_keys = demo.n_keys;
    writer.delay_ms = (guint)delay_ms;
    start_time = g_get_monotonic_time();
    thread = g_thread_new("xlev-demo-writer", writer_thread, &writer);

    g_main_loop_run(demo.loop);

    g_thread_join(thread);
    if (demo.success) {
        printf("xlev-demo: all %u keys seen in %.2f s\n", demo.n_keys,
               (double)(g_get_monotonic_time() - start_time) / G_USEC_PER_SEC);
        status = 0;
    } else {
        g_printerr(
            "xlev-demo: %s: %u of %u keys seen%s\n",
            demo.failure ? demo.failure : "stopped", demo.n_seen, demo.n_keys,
            g_atomic_int_get(&writer.failed) ? " (the writer failed)" : "");
    }
    xlev_watch_cancel(watch);
    xlev_context_rm(demo.ctx, DEMO_SUBTREE, NULL, NULL);

out:
    g_clear_object(&timeout);
    g_clear_object(&watch);
    g_clear_object(&demo.ctx);
    g_main_loop_unref(demo.loop);
    g_free(demo.seen);
    if (started_fixture)
        xs_fixture_stop(&fixture);
    return status;
}
