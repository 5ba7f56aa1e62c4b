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
 * Plain libxenstore plus g_unix_fd_add() on xs_fileno() for now.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib.h>

#include <xenstore.h>

#include "xs-fixture.h"

/* libxenstore's default socket (XENSTORED_PATH overrides it). */
#define DEMO_DEFAULT_SOCKET "/var/run/xenstored/socket"

/* How long an existing daemon gets to answer before we start our own. */
#define DEMO_PROBE_TIMEOUT_MS 500

#define DEMO_SUBTREE "/demo"
#define DEMO_TOKEN "xlev-demo"

/* Defaults of the command-line options. */
#define DEMO_DEFAULT_KEYS 10
#define DEMO_DEFAULT_DELAY_MS 30
#define DEMO_DEFAULT_TIMEOUT_S 10

typedef struct {
    struct xs_handle *xs; /* the watching connection */
    GMainLoop *loop;
    guint n_keys;
    guint n_seen;
    gboolean *seen;
    gboolean success;
    const char *failure; /* why the loop stopped, if not success */
    guint fd_source;     /* 0 once removed */
    guint timeout_source;
} Demo;

typedef struct {
    guint n_keys;
    guint delay_ms;
    gint failed; /* atomic: the writer could not write */
} Writer;

static gpointer
writer_thread(gpointer data)
{
    Writer *w = data;
    struct xs_handle *xs = xs_open(0);

    if (!xs) {
        g_printerr("xlev-demo: writer: xs_open: %s\n", g_strerror(errno));
        g_atomic_int_set(&w->failed, 1);
        return NULL;
    }
    for (guint i = 0; i < w->n_keys; i++) {
        char path[64], value[64];

        g_usleep((gulong)w->delay_ms * 1000);
        g_snprintf(path, sizeof path, DEMO_SUBTREE "/key-%u", i);
        g_snprintf(value, sizeof value, "value-%u", i);
        if (!xs_write(xs, XBT_NULL, path, value, strlen(value))) {
            g_printerr("xlev-demo: writer: xs_write %s: %s\n", path,
                       g_strerror(errno));
            g_atomic_int_set(&w->failed, 1);
            break;
        }
    }
    xs_close(xs);
    return NULL;
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

static gboolean
on_xs_readable(gint fd, GIOCondition condition, gpointer data)
{
    Demo *demo = data;
    char **ev;
    int saved_errno;

    /* An event means "go and re-read": print what the path holds now. */
    while ((ev = xs_check_watch(demo->xs)) != NULL) {
        const char *path = ev[XS_WATCH_PATH];
        unsigned int len = 0;
        char *raw = xs_read(demo->xs, XBT_NULL, path, &len);
        g_autofree char *value = raw ? g_strndup(raw, len) : NULL;

        free(raw);
        printf("%s = %s\n", path, value ? value : "(absent)");
        note_key(demo, path, value);
        free(ev);
    }
    saved_errno = errno;
    fflush(stdout);
    if (saved_errno != EAGAIN) {
        demo->failure = "reading watch events failed";
        demo->fd_source = 0;
        g_main_loop_quit(demo->loop);
        return G_SOURCE_REMOVE;
    }
    if (demo->n_seen == demo->n_keys) {
        demo->success = TRUE;
        demo->fd_source = 0;
        g_main_loop_quit(demo->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout(gpointer data)
{
    Demo *demo = data;

    demo->failure = "timed out";
    demo->timeout_source = 0;
    g_main_loop_quit(demo->loop);
    return G_SOURCE_REMOVE;
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
    demo.xs = xs_open(0);
    if (!demo.xs) {
        g_printerr("xlev-demo: xs_open: %s\n", g_strerror(errno));
        goto out;
    }
    /* Start from an empty subtree (a missing one is fine). */
    xs_rm(demo.xs, XBT_NULL, DEMO_SUBTREE);
    if (!xs_watch(demo.xs, DEMO_SUBTREE, DEMO_TOKEN)) {
        g_printerr("xlev-demo: xs_watch %s: %s\n", DEMO_SUBTREE,
                   g_strerror(errno));
        goto out;
    }
    demo.fd_source
        = g_unix_fd_add(xs_fileno(demo.xs), G_IO_IN, on_xs_readable, &demo);
    demo.timeout_source
        = g_timeout_add_seconds((guint)timeout_s, on_timeout, &demo);

    writer.n_keys = demo.n_keys;
    writer.delay_ms = (guint)delay_ms;
    start_time = g_get_monotonic_time();
    thread = g_thread_new("xlev-demo-writer", writer_thread, &writer);

    g_main_loop_run(demo.loop);

    g_clear_handle_id(&demo.fd_source, g_source_remove);
    g_clear_handle_id(&demo.timeout_source, g_source_remove);
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
    xs_unwatch(demo.xs, DEMO_SUBTREE, DEMO_TOKEN);
    xs_rm(demo.xs, XBT_NULL, DEMO_SUBTREE);

out:
    if (demo.xs)
        xs_close(demo.xs);
    g_main_loop_unref(demo.loop);
    g_free(demo.seen);
    if (started_fixture)
        xs_fixture_stop(&fixture);
    return status;
}
