/* xlev-watch.c: watch xenstore paths from the command line
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * What a dom0 admin reaches for instead of xenstore-watch(1):
 *
 *   xlev-watch /local/domain/0/memory /vm @releaseDomain
 *   xlev-watch --json --value --count 10 /local/domain | jq .
 *
 * One XlevWatch per path; every `changed` signal becomes one line on
 * stdout. With --value the new value is read through the library's async
 * API; since reads finish out of order, events wait in a FIFO and are
 * printed in the order xenstored sent them once their value is in.
 *
 * The special paths @introduceDomain and @releaseDomain carry no domain id
 * in xenstore: each event only says "some domain changed". xlev-watch
 * resolves them to the domain and its state through XlevDomainMonitor
 * (see app_start_domains()): one monitor of all domains, which follows
 * the domains xenstored knows at start and those introduced later.
 * Shutdown and death need the hypervisor; without it
 * (no Xen, XLEV_ERROR_CODE_NO_HYPERVISOR) the special paths are watched
 * as plain paths and printed as plain events, after a note on stderr.
 *
 * Output: text (UTF-8 printed as UTF-8, control characters C-escaped) or,
 * with --json, one JSON object per line built with json-glib. Messages
 * name the program as it was called (g_get_prgname()).
 *
 * Exit status, the convention of every example (xlev-watch.1, and
 * xs-monitor.py):
 *   0  done: --count events seen, --timeout expired with no --count, or
 *      SIGINT / SIGTERM
 *   1  failure: xenstored cannot be reached, or the connection was lost
 *   2  bad usage: a bad option or path
 *   3  --timeout expired before --count events
 */

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include <xlev.h>

#define EXIT_RUNTIME_FAILURE 1
#define EXIT_USAGE 2
#define EXIT_TIMED_OUT 3

typedef struct {
    char *watch_path; /* the path given on the command line */
    char *event_path; /* the path that changed */
    gboolean done;    /* value (or its absence) known */
    char *value;      /* NULL: no such node (or not asked) */
    char *error;      /* a read error other than "no such node" */
    /* Domain events only (domid < 0 otherwise). */
    gint64 domid;
    char *state;
    char *reason;
} Event;

#define INTRODUCE_PATH "@introduceDomain"
#define RELEASE_PATH "@releaseDomain"

/* Whether domain events are resolved (app_start_domains()). */
typedef enum {
    DOMAINS_UNKNOWN, /* no special path seen yet */
    DOMAINS_MONITOR, /* XlevDomainMonitor: domids and states */
    DOMAINS_PLAIN,   /* no hypervisor: plain watches */
} DomainsMode;

typedef struct {
    GMainLoop *loop;
    XlevContext *ctx;
    GPtrArray *watches; /* XlevWatch */
    GQueue pending;     /* Event, oldest first */
    GCancellable *cancellable;

    gboolean json;
    gboolean value;
    gboolean skip_initial;
    gint count;     /* 0: forever */
    double timeout; /* seconds, 0: none */

    /* Domain events (DOMAINS_MONITOR): which special paths were asked
     * for, and the monitor of all domains that reports them. */
    DomainsMode domains;
    gboolean want_introduce;
    gboolean want_release;
    XlevDomainMonitor *all;

    guint n_events; /* accepted so far */
    int status;
    gboolean stopping;
} App;

static void
event_free(gpointer data)
{
    Event *ev = data;

    g_free(ev->watch_path);
    g_free(ev->event_path);
    g_free(ev->value);
    g_free(ev->error);
    g_free(ev->state);
    g_free(ev->reason);
    g_free(ev);
}

/* Adds @s as a JSON string member; json-glib escapes it (RFC 8259) and
 * wants valid UTF-8: invalid sequences become U+FFFD. */
static void
json_add_string(JsonBuilder *builder, const char *member, const char *s)
{
    g_autofree char *valid = g_utf8_make_valid(s, -1);

    json_builder_set_member_name(builder, member);
    json_builder_add_string_value(builder, valid);
}

/* json-glib 1.6 (Debian 12) escapes the control characters below U+001F
 * but leaves U+001F itself raw, which RFC 8259 forbids. The byte 0x1f only
 * occurs in the generator's output inside a string (never in UTF-8
 * multibyte sequences nor in JSON's own syntax): escape it there. */
#define JSON_UNIT_SEPARATOR '\x1f'

static char *
json_escape_unit_separator(char *json /* owned */)
{
    GString *out;

    if (strchr(json, JSON_UNIT_SEPARATOR) == NULL)
        return json;
    out = g_string_new(NULL);
    for (const char *p = json; *p; p++) {
        if (*p == JSON_UNIT_SEPARATOR)
            g_string_append(out, "\\u001f");
        else
            g_string_append_c(out, *p);
    }
    g_free(json);
    return g_string_free(out, FALSE);
}

static char *
event_to_json(App *app, Event *ev)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(builder);
    json_add_string(builder, "path", ev->event_path);
    json_add_string(builder, "watch", ev->watch_path);
    if (ev->domid >= 0) {
        json_builder_set_member_name(builder, "domid");
        json_builder_add_int_value(builder, ev->domid);
        json_add_string(builder, "state", ev->state);
        if (ev->reason != NULL)
            json_add_string(builder, "reason", ev->reason);
    }
    if (app->value && ev->event_path[0] == '/') {
        if (ev->value != NULL) {
            json_add_string(builder, "value", ev->value);
        } else {
            json_builder_set_member_name(builder, "value");
            json_builder_add_null_value(builder);
        }
        if (ev->error != NULL)
            json_add_string(builder, "error", ev->error);
    }
    json_builder_end_object(builder);

    root = json_builder_get_root(builder);
    json_generator_set_root(generator, root);
    return json_escape_unit_separator(json_generator_to_data(generator, NULL));
}

/* Bytes g_strescape() leaves alone in text output: everything from 0x80,
 * so UTF-8 is printed as UTF-8 (the value was made valid first), while
 * control characters, quotes and backslashes are C-escaped. */
static const char *
text_escape_exceptions(void)
{
    static char exceptions[0x100 - 0x80 + 1];

    if (exceptions[0] == '\0') {
        for (int c = 0x80; c < 0x100; c++)
            exceptions[c - 0x80] = (char)c;
    }
    return exceptions;
}

static void
event_print(App *app, Event *ev)
{
    g_autoptr(GString) line = g_string_new(NULL);

    if (app->json) {
        g_autofree char *json = event_to_json(app, ev);

        g_string_append(line, json);
    } else {
        g_string_append(line, ev->event_path);
        if (ev->domid >= 0) {
            g_string_append_printf(line, " domid=%" G_GINT64_FORMAT " state=%s",
                                   ev->domid, ev->state);
            if (ev->reason != NULL)
                g_string_append_printf(line, " reason=%s", ev->reason);
        } else if (app->value && ev->event_path[0] == '/') {
            if (ev->value != NULL) {
                g_autofree char *valid = g_utf8_make_valid(ev->value, -1);
                g_autofree char *escaped
                    = g_strescape(valid, text_escape_exceptions());

                g_string_append_printf(line, " = \"%s\"", escaped);
            } else if (ev->error != NULL) {
                g_string_append_printf(line, " (%s)", ev->error);
            } else {
                /* TRANSLATORS: shown instead of a value in xlev-watch */
                g_string_append_printf(line, " (%s)", _("no such node"));
            }
        }
    }
    /* One line per event, flushed, so that a pipe into jq or grep sees it
     * at once. */
    g_string_append_c(line, '\n');
    fputs(line->str, stdout);
    fflush(stdout);
}

static void
app_stop(App *app, int status)
{
    if (app->stopping)
        return;
    app->stopping = TRUE;
    app->status = status;
    g_cancellable_cancel(app->cancellable);
    g_main_loop_quit(app->loop);
}

/* Prints the events at the head of the FIFO whose value is known. */
static void
app_flush(App *app)
{
    Event *ev;

    while ((ev = g_queue_peek_head(&app->pending)) != NULL && ev->done) {
        g_queue_pop_head(&app->pending);
        event_print(app, ev);
        event_free(ev);
    }
    if (app->count > 0 && app->n_events >= (guint)app->count
        && g_queue_is_empty(&app->pending))
        app_stop(app, EXIT_SUCCESS);
}

static void
read_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Event *ev = user_data;
    App *app;
    g_autoptr(GError) error = NULL;
    char *value;

    value = xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* stopping: the event is freed with the queue */
    app = g_object_get_data(source, "xlev-watch-app");
    ev->value = value;
    if (error != NULL
        && !g_error_matches(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT))
        ev->error = g_strdup(error->message);
    ev->done = TRUE;
    app_flush(app);
}

/* Takes ownership of @ev. */
static void
app_push(App *app, Event *ev)
{
    if (app->stopping
        || (app->count > 0 && app->n_events >= (guint)app->count)) {
        event_free(ev);
        return;
    }
    app->n_events++;
    g_queue_push_tail(&app->pending, ev);
    if (app->value && ev->domid < 0 && ev->event_path[0] == '/')
        xlev_context_read_async(app->ctx, ev->event_path, app->cancellable,
                                read_done_cb, ev);
    else
        ev->done = TRUE;
    app_flush(app);
}

static void
watch_changed_cb(XlevWatch *watch, const char *event_path, gpointer user_data)
{
    App *app = user_data;
    Event *ev = g_new0(Event, 1);

    ev->watch_path = g_strdup(xlev_watch_get_path(watch));
    ev->event_path = g_strdup(event_path);
    ev->domid = -1;
    app_push(app, ev);
}

/* xenstored gone (killed, restarted) or the connection broken: the
 * context says so once, within about a second even with no event and no
 * request under way, and sends nothing more. Nothing to retry for a
 * command-line tool: exit 1 and let the caller decide. */
static void
disaster_cb(XlevContext *ctx, XlevDisaster kind, const char *message,
            gpointer user_data)
{
    App *app = user_data;

    /* TRANSLATORS: %1$s is the program's name, %2$s the reason */
    g_printerr(_("%1$s: lost the connection to xenstored: %2$s\n"),
               g_get_prgname(), message);
    app_stop(app, EXIT_RUNTIME_FAILURE);
}

static gboolean
timeout_cb(gpointer user_data)
{
    App *app = user_data;

    if (app->count > 0) {
        /* TRANSLATORS: %1$s is the program's name, %2$g the --timeout in
         * seconds (may have decimals), %3$u the events seen, %4$d those
         * asked for */
        g_printerr(_("%1$s: timed out after %2$g s with %3$u of %4$d "
                     "events\n"),
                   g_get_prgname(), app->timeout, app->n_events, app->count);
        app_stop(app, EXIT_TIMED_OUT);
    } else {
        app_stop(app, EXIT_SUCCESS);
    }
    return G_SOURCE_REMOVE;
}

static gboolean
signal_cb(gpointer user_data)
{
    app_stop(user_data, EXIT_SUCCESS);
    return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* Domain events: @introduceDomain and @releaseDomain resolved to domids. */

static void
domain_event_push(App *app, const char *special, guint domid, const char *state,
                  char *reason /* owned */)
{
    Event *ev = g_new0(Event, 1);

    ev->watch_path = g_strdup(special);
    ev->event_path = g_strdup(special);
    ev->domid = domid;
    ev->state = g_strdup(state);
    ev->reason = reason;
    app_push(app, ev);
}

/* The reason's name as in XlevShutdownReason ("poweroff", "soft-reset");
 * a code Xen has no name for is given as its number. */
static char *
shutdown_reason_name(XlevShutdownReason reason)
{
    g_autoptr(GEnumClass) klass = g_type_class_ref(XLEV_TYPE_SHUTDOWN_REASON);
    GEnumValue *value = g_enum_get_value(klass, (gint)reason);

    if (value != NULL)
        return g_strdup(value->value_nick);
    return g_strdup_printf("%u", (guint)reason);
}

static void
domain_introduced_cb(XlevDomainMonitor *monitor, guint domid,
                     gpointer user_data)
{
    App *app = user_data;

    if (app->want_introduce)
        domain_event_push(app, INTRODUCE_PATH, domid, "introduced", NULL);
}

static void
domain_shutdown_cb(XlevDomainMonitor *monitor, guint domid,
                   XlevShutdownReason reason, gpointer user_data)
{
    App *app = user_data;

    if (app->want_release)
        domain_event_push(app, RELEASE_PATH, domid,
                          reason == XLEV_SHUTDOWN_REASON_CRASH ? "crashed"
                                                               : "shutdown",
                          shutdown_reason_name(reason));
}

static void
domain_died_cb(XlevDomainMonitor *monitor, guint domid, gpointer user_data)
{
    App *app = user_data;

    if (app->want_release)
        domain_event_push(app, RELEASE_PATH, domid, "died", NULL);
}

/*
 * Decides, at the first special path, how domain events are reported.
 * Domain 0 always exists, so monitoring it tells whether the hypervisor
 * can be asked (XLEV_ERROR_CODE_NO_HYPERVISOR when not); that monitor is
 * only a probe and goes at once. (The monitor of all domains cannot tell:
 * without the hypervisor it is made all the same, and then only reports
 * introductions.) Then one monitor of all domains reports everything: the
 * shutdown and death of the domains xenstored knows now, and the
 * introduction, shutdown and death of those introduced later, each once.
 */
static gboolean
app_start_domains(App *app, GError **error)
{
    g_autoptr(GError) local_error = NULL;
    g_autoptr(XlevDomainMonitor) probe = NULL;

    probe = xlev_context_monitor_domain(app->ctx, 0, &local_error);
    if (probe == NULL) {
        if (!g_error_matches(local_error, XLEV_ERROR,
                             XLEV_ERROR_CODE_NO_HYPERVISOR)) {
            g_propagate_error(error, g_steal_pointer(&local_error));
            return FALSE;
        }
        /* TRANSLATORS: %1$s is the program's name, %2$s the reason */
        g_printerr(_("%1$s: no hypervisor (%2$s): @introduceDomain and "
                     "@releaseDomain events are printed without domain "
                     "ids\n"),
                   g_get_prgname(), local_error->message);
        app->domains = DOMAINS_PLAIN;
        return TRUE;
    }
    xlev_domain_monitor_cancel(probe);

    app->all = xlev_context_monitor_all_domains(app->ctx, error);
    if (app->all == NULL)
        return FALSE;
    g_signal_connect(app->all, "introduced", G_CALLBACK(domain_introduced_cb),
                     app);
    g_signal_connect(app->all, "shutdown", G_CALLBACK(domain_shutdown_cb), app);
    g_signal_connect(app->all, "died", G_CALLBACK(domain_died_cb), app);
    app->domains = DOMAINS_MONITOR;
    return TRUE;
}

/* With DOMAINS_MONITOR, a special path's watch only reports the event
 * xenstored sends when it is set up (the domain monitor reports the
 * rest), then goes. */
static void
initial_changed_cb(XlevWatch *watch, const char *event_path, gpointer user_data)
{
    watch_changed_cb(watch, event_path, user_data);
    xlev_watch_cancel(watch);
}

static gboolean
is_domain_path(const char *path)
{
    return g_str_equal(path, INTRODUCE_PATH) || g_str_equal(path, RELEASE_PATH);
}

/* Registers what one command-line path needs. */
static gboolean
app_add_path(App *app, const char *path, GError **error)
{
    XlevWatchFlags flags = app->skip_initial ? XLEV_WATCH_FLAGS_SKIP_INITIAL
                                             : XLEV_WATCH_FLAGS_NONE;
    GCallback changed = G_CALLBACK(watch_changed_cb);
    XlevWatch *watch;

    if (is_domain_path(path)) {
        if (app->domains == DOMAINS_UNKNOWN && !app_start_domains(app, error))
            return FALSE;
        if (app->domains == DOMAINS_MONITOR) {
            if (g_str_equal(path, INTRODUCE_PATH))
                app->want_introduce = TRUE;
            else
                app->want_release = TRUE;
            if (app->skip_initial)
                return TRUE;
            changed = G_CALLBACK(initial_changed_cb);
        }
    }
    watch = xlev_context_watch(app->ctx, path, flags, error);
    if (watch == NULL)
        return FALSE;
    g_signal_connect(watch, "changed", changed, app);
    g_ptr_array_add(app->watches, watch);
    return TRUE;
}

int
main(int argc, char **argv)
{
    App app = { 0 };
    g_autoptr(GOptionContext) options = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) paths = NULL;
    g_autofree char *xenstore_path = NULL;
    gboolean json = FALSE, value = FALSE, skip_initial = FALSE;
    gboolean version = FALSE;
    gint count = 0;
    double timeout = 0;
    const GOptionEntry entries[] = {
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
          N_("Print one JSON object per event and line"), NULL },
        { "value", 'v', 0, G_OPTION_ARG_NONE, &value,
          N_("Print the node's new value with each event"), NULL },
        { "count", 'n', 0, G_OPTION_ARG_INT, &count, N_("Exit after N events"),
          N_("N") },
        { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
          N_("Exit after S seconds (decimals allowed: 0.5)"), N_("S") },
        { "skip-initial", 's', 0, G_OPTION_ARG_NONE, &skip_initial,
          N_("Do not report the event each watch fires when it is set up"),
          NULL },
        { "socket", 0, 0, G_OPTION_ARG_FILENAME, &xenstore_path,
          N_("The xenstored socket (default: $XENSTORED_PATH or the system's)"),
          N_("PATH") },
        { "version", 0, 0, G_OPTION_ARG_NONE, &version,
          N_("Print the version and exit"), NULL },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &paths, NULL,
          N_("PATH…") },
        G_OPTION_ENTRY_NULL,
    };

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    options = g_option_context_new(_("PATH… — print xenstore watch events"));
    g_option_context_set_translation_domain(options, GETTEXT_PACKAGE);
    g_option_context_set_summary(
        options,
        _("Watches each PATH (and everything below it) and prints one line "
          "per event.\nThe special paths @introduceDomain and @releaseDomain "
          "report domains coming and going."));
    g_option_context_set_description(
        options, _("Exit status: 0 on success (--count events seen, "
                   "--timeout expired with no --count, or a signal), 1 if "
                   "xenstored cannot be reached or the connection was lost, "
                   "2 on bad usage or a bad path, 3 if --timeout expired "
                   "before --count events."));
    g_option_context_add_main_entries(options, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(options, &argc, &argv, &error)) {
        g_printerr("%s: %s\n", g_get_prgname(), error->message);
        /* TRANSLATORS: %s is the program's name */
        g_printerr(_("Try “%s --help” for more information.\n"),
                   g_get_prgname());
        return EXIT_USAGE;
    }
    if (version) {
        /* The library's version is the one it was built with: the
         * examples are built and installed with it. */
        g_print("%s %s\n", g_get_prgname(), PACKAGE_VERSION);
        return EXIT_SUCCESS;
    }
    if (paths == NULL || paths[0] == NULL) {
        /* TRANSLATORS: %s is the program's name */
        g_printerr(_("%s: no path given\n"), g_get_prgname());
        g_printerr(_("Try “%s --help” for more information.\n"),
                   g_get_prgname());
        return EXIT_USAGE;
    }
    /* !(timeout >= 0) also refuses NaN. */
    if (count < 0 || !(timeout >= 0) || timeout > G_MAXUINT / 1000) {
        /* TRANSLATORS: %s is the program's name */
        g_printerr(_("%s: --count and --timeout must not be negative, and "
                     "--timeout at most 49 days\n"),
                   g_get_prgname());
        return EXIT_USAGE;
    }

    app.json = json;
    app.value = value;
    app.skip_initial = skip_initial;
    app.count = count;
    app.timeout = timeout;
    app.status = EXIT_SUCCESS;
    g_queue_init(&app.pending);

    app.ctx = xlev_context_new(xenstore_path, NULL, &error);
    if (app.ctx == NULL) {
        /* TRANSLATORS: %1$s is the program's name, %2$s the reason */
        g_printerr(_("%1$s: cannot reach xenstored: %2$s\n"),
                   g_get_prgname(), error->message);
        return EXIT_RUNTIME_FAILURE;
    }
    g_object_set_data(G_OBJECT(app.ctx), "xlev-watch-app", &app);
    g_signal_connect(app.ctx, "disaster", G_CALLBACK(disaster_cb), &app);

    app.loop = g_main_loop_new(NULL, FALSE);
    app.cancellable = g_cancellable_new();
    app.watches = g_ptr_array_new_with_free_func(g_object_unref);

    for (guint i = 0; paths[i] != NULL; i++) {
        if (!app_add_path(&app, paths[i], &error)) {
            if (g_error_matches(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL)) {
                /* TRANSLATORS: %1$s is the program's name, %2$s the path,
                 * %3$s the reason */
                g_printerr(_("%1$s: bad path “%2$s”: %3$s\n"),
                           g_get_prgname(), paths[i], error->message);
                app.status = EXIT_USAGE;
            } else {
                g_printerr(_("%1$s: cannot watch “%2$s”: %3$s\n"),
                           g_get_prgname(), paths[i], error->message);
                app.status = EXIT_RUNTIME_FAILURE;
            }
            goto out;
        }
    }

    if (timeout > 0)
        g_timeout_add((guint)(timeout * 1000 + 0.5), timeout_cb, &app);
    g_unix_signal_add(SIGINT, signal_cb, &app);
    g_unix_signal_add(SIGTERM, signal_cb, &app);

    g_main_loop_run(app.loop);

out:
    /* Cancel outstanding reads and let their callbacks run before the
     * events they point at go. */
    g_cancellable_cancel(app.cancellable);
    for (guint i = 0; i < app.watches->len; i++)
        xlev_watch_cancel(g_ptr_array_index(app.watches, i));
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_queue_clear_full(&app.pending, event_free);
    g_clear_object(&app.all);
    g_ptr_array_unref(app.watches);
    g_object_unref(app.cancellable);
    g_main_loop_unref(app.loop);
    g_object_unref(app.ctx);
    return app.status;
}
