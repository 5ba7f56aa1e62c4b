/* test-daemon-failure.c: what an application sees when xenstored is
 * missing or dies — a GError or ::disaster, nothing on stderr, no abort
 * under G_DEBUG=fatal-warnings — and that the core's event hooks a C user
 * installed survive the domain monitors made afterwards
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The stderr and fatal-warnings checks run in a subprocess
 * (g_test_trap_subprocess()), whose stderr the parent captures whole.
 */
#include "xlev-test-common.h"
#include "xlev-context-private.h"

#include <string.h>
#include <syslog.h>

#include <glib/gstdio.h>

#include "../domain/domain-test-util.h"

/* A domid for the guest the C hooks test introduces. */
#define C_HOOKS_DOMID 21
/* The user value of the C user's own generator. */
#define C_HOOKS_USER UINT64_C(0x5eed)

/*======================================================================*/
/* No daemon: a clear GError, nothing on stderr */

/* Points XENSTORED_PATH at a socket that does not exist (in a directory
 * that does); returns that path. */
static char *
point_at_missing_socket(char **dir_out)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("xlev-no-daemon-XXXXXX", &error);
    char *socket;

    g_assert_no_error(error);
    socket = g_build_filename(dir, "socket", NULL);
    g_setenv("XENSTORED_PATH", socket, TRUE);
    *dir_out = dir;
    return socket;
}

static void
assert_new_fails_clearly(const char *socket)
{
    static const XlevIntegration integrations[] = {
        XLEV_INTEGRATION_SOURCE,
        XLEV_INTEGRATION_HOOKS,
    };

    for (guint i = 0; i < G_N_ELEMENTS(integrations); i++) {
        g_autoptr(GError) error = NULL;
        XlevContext *ctx
            = xlev_context_new_full(NULL, integrations[i], NULL, NULL, &error);

        g_assert_null(ctx);
        g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);
        /* Clear: it names the socket that was tried, and says why. */
        g_assert_nonnull(strstr(error->message, socket));
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
    }
}

static void
test_no_daemon_nothing_on_stderr(void)
{
    if (g_test_subprocess()) {
        g_autofree char *dir = NULL;
        g_autofree char *socket = point_at_missing_socket(&dir);

        /* The default log writer, as an application has it. */
        g_unsetenv("G_MESSAGES_DEBUG");
        assert_new_fails_clearly(socket);
        g_rmdir(dir);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("");
}

/* What the log writer of the subprocess below saw in the Xlev domain. */
typedef struct {
    GLogLevelFlags level;
    char *message;
    char *syslog_priority;
} LogRecord;

static GPtrArray *log_records; /* of LogRecord; subprocess only */

static void
log_record_free(gpointer data)
{
    LogRecord *r = data;

    g_free(r->message);
    g_free(r->syslog_priority);
    g_free(r);
}

static GLogWriterOutput
record_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
              gpointer data)
{
    const char *domain = NULL;
    LogRecord *r;

    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
    }
    if (g_strcmp0(domain, "Xlev") != 0)
        return g_log_writer_default(level, fields, n_fields, data);

    r = g_new0(LogRecord, 1);
    r->level = level & G_LOG_LEVEL_MASK;
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0)
            r->message = g_strdup(fields[i].value);
        else if (strcmp(fields[i].key, "XLEV_SYSLOG_PRIORITY") == 0)
            r->syslog_priority = g_strdup(fields[i].value);
    }
    g_ptr_array_add(log_records, r);
    return G_LOG_WRITER_HANDLED;
}

/* The core's message about the failed connection, written before any
 * context exists, reaches GLib's structured log in the Xlev domain, at
 * debug level, with the core's own level kept: LOG_DEBUG, since the core
 * also returns the failure (here as the GError). */
static void
test_no_daemon_core_message_bridged(void)
{
    if (g_test_subprocess()) {
        g_autofree char *dir = NULL;
        g_autofree char *socket = point_at_missing_socket(&dir);
        g_autofree char *core_level = g_strdup_printf("%d", LOG_DEBUG);
        gboolean found = FALSE;

        log_records = g_ptr_array_new_with_free_func(log_record_free);
        g_log_set_writer_func(record_writer, NULL, NULL);
        assert_new_fails_clearly(socket);

        for (guint i = 0; i < log_records->len; i++) {
            LogRecord *r = g_ptr_array_index(log_records, i);

            /* Never a warning or worse, whatever the core logged. */
            g_assert_cmpint(r->level
                                & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL
                                   | G_LOG_LEVEL_WARNING),
                            ==, 0);
            if (r->message != NULL
                && strstr(r->message, "cannot connect") != NULL
                && strstr(r->message, socket) != NULL) {
                g_assert_cmpint(r->level, ==, G_LOG_LEVEL_DEBUG);
                g_assert_cmpstr(r->syslog_priority, ==, core_level);
                found = TRUE;
            }
        }
        g_assert_true(found);
        g_ptr_array_unref(log_records);
        g_rmdir(dir);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("");
}

/*======================================================================*/
/* The daemon dies under a watch and domain monitors: ::disaster, no abort */

static void
on_disaster_count(XlevContext *ctx, XlevDisaster kind, const char *message,
                  gpointer data)
{
    guint *count = data;

    g_assert_cmpint(kind, ==, XLEV_DISASTER_KIND_XENSTORE);
    g_assert_nonnull(message);
    (*count)++;
}

static void
daemon_dies_child(XlevIntegration integration)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainContext) mc = g_main_context_ref_thread_default();
    g_autoptr(XlevContext) ctx = NULL;
    g_autoptr(XlevWatch) watch = NULL;
    g_autoptr(XlevDomainMonitor) all = NULL;
    g_autoptr(XlevDomainMonitor) dom0 = NULL;
    XsFixture xs = { 0 };
    guint disasters = 0;

    /* The parent set it for us: GLib read it when it started. */
    g_assert_cmpstr(g_getenv("G_DEBUG"), ==, "fatal-warnings");

    xs_fixture_setup(&xs, NULL);
    ctx = xlev_context_new_full(NULL, integration, NULL, NULL, &error);
    g_assert_no_error(error);
    g_signal_connect(ctx, "disaster", G_CALLBACK(on_disaster_count),
                     &disasters);

    watch = xlev_context_watch(ctx, "/d", XLEV_WATCH_FLAGS_NONE, &error);
    g_assert_no_error(error);
    all = xlev_context_monitor_all_domains(ctx, &error);
    g_assert_no_error(error);
    if (xs_fixture_hypervisor_preloaded()) {
        dom0 = xlev_context_monitor_domain(ctx, 0, &error);
        g_assert_no_error(error);
    }
    spin_for(mc, 50);

    xs_fixture_stop(&xs);
    WAIT_FOR(mc, disasters > 0, 5000);
    /* The monitors' own watches failing add nothing louder. */
    spin_for(mc, 200);
    g_assert_cmpuint(disasters, >=, 1);

    g_assert_null(xlev_context_read(ctx, "/d", NULL, &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_XENSTORE);

    xlev_domain_monitor_cancel(all);
    if (dom0 != NULL)
        xlev_domain_monitor_cancel(dom0);
    xlev_watch_cancel(watch);
    g_clear_object(&watch);
    g_clear_object(&all);
    g_clear_object(&dom0);
    g_clear_object(&ctx);
    while (g_main_context_iteration(mc, FALSE))
        ;
    xs_fixture_teardown(&xs, NULL);
}

static void
test_daemon_dies_fatal_warnings(gconstpointer data)
{
    XlevIntegration integration = (XlevIntegration)GPOINTER_TO_INT(data);
    g_autofree char *saved = g_strdup(g_getenv("G_DEBUG"));

    if (g_test_subprocess()) {
        daemon_dies_child(integration);
        return;
    }
    g_setenv("G_DEBUG", "fatal-warnings", TRUE);
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    if (saved != NULL)
        g_setenv("G_DEBUG", saved, TRUE);
    else
        g_unsetenv("G_DEBUG");
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("");
}

/*======================================================================*/
/* A C user's event hooks on the core survive the monitors, and the
 * monitors keep theirs */

typedef struct {
    xlev_ctx *core;
    guint introduced; /* events of the C user's own generator */
    guint foreign;    /* events with any other user value */
} CHooks;

static void
c_event_occurs(void *user, xlev_event *ev)
{
    CHooks *c = user;

    if (ev->for_user == C_HOOKS_USER
        && ev->type == XLEV_EVENT_TYPE_DOMAIN_INTRODUCE
        && ev->domid == C_HOOKS_DOMID)
        c->introduced++;
    else
        c->foreign++;
    xlev_event_free(c->core, ev);
}

static const xlev_event_hooks c_hooks = {
    .event_occurs_mask = XLEV_EVENTMASK_ALL,
    .event_occurs = c_event_occurs,
};

static void
count_introduced(XlevDomainMonitor *monitor, guint domid, guint *n)
{
    if (domid == C_HOOKS_DOMID)
        (*n)++;
}

static void
test_c_event_hooks_survive_monitors(Fixture *f, gconstpointer data)
{
    guint first_saw = 0, second_saw = 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevDomainMonitor) first = NULL;
    g_autoptr(XlevDomainMonitor) second = NULL;
    xlev_evgen_domain_introduce *gen = NULL;
    struct xs_handle *h;
    CHooks c = { 0 };

    /* A monitor made before the C user installs hooks... */
    first = xlev_context_monitor_all_domains(f->ctx, &error);
    g_assert_no_error(error);

    c.core = xlev_context_get_core(f->ctx);
    xlev_event_register_callbacks(c.core, &c_hooks, &c);
    g_assert_cmpint(xlev_evenable_domain_introduce(c.core, C_HOOKS_USER, &gen),
                    ==, 0);

    /* ... and one made after: neither puts the context's hooks back. */
    second = xlev_context_monitor_all_domains(f->ctx, &error);
    g_assert_no_error(error);

    g_signal_connect(first, "introduced", G_CALLBACK(count_introduced),
                     &first_saw);
    g_signal_connect(second, "introduced", G_CALLBACK(count_introduced),
                     &second_saw);
    h = dom_open_xs();
    dom_introduce(h, C_HOOKS_DOMID);
    WAIT_FOR(f->main_context,
             c.introduced == 1 && first_saw == 1 && second_saw == 1,
             DOM_EVENT_TIMEOUT_MS);
    xs_close(h);
    /* The monitors' events never reach the C user's hooks. */
    g_assert_cmpuint(c.foreign, ==, 0);

    xlev_evdisable_domain_introduce(c.core, gen);
    xlev_domain_monitor_cancel(second);
    xlev_domain_monitor_cancel(first);
    xlev_event_register_callbacks(c.core, NULL, NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xlev/daemon-failure/no-daemon-nothing-on-stderr",
                    test_no_daemon_nothing_on_stderr);
    g_test_add_func("/xlev/daemon-failure/no-daemon-core-message-bridged",
                    test_no_daemon_core_message_bridged);
    g_test_add_data_func(
        "/xlev/source/daemon-failure/dies-under-fatal-warnings",
        GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE),
        test_daemon_dies_fatal_warnings);
    g_test_add_data_func("/xlev/hooks/daemon-failure/dies-under-fatal-warnings",
                         GINT_TO_POINTER(XLEV_INTEGRATION_HOOKS),
                         test_daemon_dies_fatal_warnings);
    XLEV_TEST_ADD_BOTH("/daemon-failure/c-event-hooks-survive-monitors",
                       test_c_event_hooks_survive_monitors);

    return g_test_run();
}
