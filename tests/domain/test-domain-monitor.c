/* test-domain-monitor.c: XlevDomainMonitor in a GLib main loop
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The scenarios of test-domain-core.c through signals, under both
 * integrations (/xlev/source/... and /xlev/hooks/...), against the real
 * xenstored with the hypervisor stand-in preloaded into this process.
 * `--no-hypervisor-child` is this binary without the stand-in.
 */
#include <string.h>

#include "xlev-test-common.h"
#include "domain-test-util.h"

#define ALL_N 100
#define ALL_FIRST 40

typedef struct {
    GArray *shutdowns; /* guint domid, guint reason, interleaved */
    GArray *deaths;    /* guint domid */
    GArray *intros;    /* guint domid */
    GPtrArray *ejects; /* char *vdev */
    guint n_signals;
    gboolean cancel_on_shutdown;
} Recorder;

static void
recorder_init(Recorder *r)
{
    memset(r, 0, sizeof(*r));
    r->shutdowns = g_array_new(FALSE, FALSE, sizeof(guint));
    r->deaths = g_array_new(FALSE, FALSE, sizeof(guint));
    r->intros = g_array_new(FALSE, FALSE, sizeof(guint));
    r->ejects = g_ptr_array_new_with_free_func(g_free);
}

static void
recorder_clear(Recorder *r)
{
    g_array_unref(r->shutdowns);
    g_array_unref(r->deaths);
    g_array_unref(r->intros);
    g_ptr_array_unref(r->ejects);
}

static void
on_shutdown(XlevDomainMonitor *mon, guint domid, XlevShutdownReason reason,
            Recorder *r)
{
    guint reason_u = (guint)reason;

    g_array_append_val(r->shutdowns, domid);
    g_array_append_val(r->shutdowns, reason_u);
    r->n_signals++;
    if (r->cancel_on_shutdown)
        xlev_domain_monitor_cancel(mon);
}

static void
on_died(XlevDomainMonitor *mon, guint domid, Recorder *r)
{
    g_array_append_val(r->deaths, domid);
    r->n_signals++;
}

static void
on_introduced(XlevDomainMonitor *mon, guint domid, Recorder *r)
{
    g_array_append_val(r->intros, domid);
    r->n_signals++;
}

static void
on_disk_ejected(XlevDomainMonitor *mon, const char *vdev, Recorder *r)
{
    g_ptr_array_add(r->ejects, g_strdup(vdev));
    r->n_signals++;
}

static void
recorder_connect(Recorder *r, XlevDomainMonitor *mon)
{
    g_signal_connect(mon, "shutdown", G_CALLBACK(on_shutdown), r);
    g_signal_connect(mon, "died", G_CALLBACK(on_died), r);
    g_signal_connect(mon, "introduced", G_CALLBACK(on_introduced), r);
    g_signal_connect(mon, "disk-ejected", G_CALLBACK(on_disk_ejected), r);
}

/* Initialises r and returns a new monitor of domid
 * (XLEV_DOMAIN_MONITOR_ALL_DOMAINS: of all domains) whose signals r
 * records. */
static XlevDomainMonitor *
monitor_recorded(Fixture *f, guint domid, Recorder *r)
{
    g_autoptr(GError) error = NULL;
    XlevDomainMonitor *mon;

    recorder_init(r);
    if (domid == XLEV_DOMAIN_MONITOR_ALL_DOMAINS)
        mon = xlev_context_monitor_all_domains(f->ctx, &error);
    else
        mon = xlev_context_monitor_domain(f->ctx, domid, &error);
    g_assert_no_error(error);
    recorder_connect(r, mon);
    return mon;
}

/* A libxenstore connection of the test's own, for the fixture's life. */
static struct xs_handle *test_xsh;

static struct xs_handle *
dom_xs(Fixture *f)
{
    if (!test_xsh)
        test_xsh = dom_open_xs();
    return test_xsh;
}

static void
dom_fixture_teardown(Fixture *f, gconstpointer data)
{
    if (test_xsh) {
        xs_close(test_xsh);
        test_xsh = NULL;
    }
    fixture_teardown(f, data);
}

/* Introduces a guest domid and returns a new monitor of it whose signals
 * r (initialised here) records. */
static XlevDomainMonitor *
monitor_introduced(Fixture *f, guint domid, Recorder *r)
{
    dom_introduce(dom_xs(f), domid);
    return monitor_recorded(f, domid, r);
}

/* Waits for r's first shutdown and checks its domain and reason. */
static void
recorder_wait_first_shutdown(Fixture *f, const Recorder *r, guint domid,
                             XlevShutdownReason reason)
{
    WAIT_FOR(f->main_context, r->shutdowns->len == 2, DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpuint(g_array_index(r->shutdowns, guint, 0), ==, domid);
    g_assert_cmpuint(g_array_index(r->shutdowns, guint, 1), ==, reason);
}

/* Drops the monitor, then the recorder its handlers write to. */
static void
monitor_recorded_clear(XlevDomainMonitor **mon, Recorder *r)
{
    g_clear_object(mon);
    recorder_clear(r);
}

/* Iterates the main context for DOM_QUIET_MS (scaled for valgrind). */
static void
dom_quiet(Fixture *f)
{
    spin_for(f->main_context, xs_fixture_scale_ms(DOM_QUIET_MS));
}

/* Lets DOM_QUIET_MS pass, then checks that r has had n signals in all. */
static void
recorder_assert_quiet(Fixture *f, const Recorder *r, guint n)
{
    dom_quiet(f);
    g_assert_cmpuint(r->n_signals, ==, n);
}

#define DOM_ADD_BOTH(path, func)                                               \
    XLEV_TEST_ADD_BOTH_WITH_TEARDOWN(path, func, dom_fixture_teardown)

/* ------------------------------------------------------------------------ */

static void
test_shutdown_then_died(Fixture *f, gconstpointer data)
{
    g_autoptr(XlevDomainMonitor) mon = NULL;
    Recorder r;

    SKIP_WITHOUT_HYPERVISOR();
    mon = monitor_introduced(f, 5, &r);
    g_assert_cmpuint(xlev_domain_monitor_get_domid(mon), ==, 5);
    g_assert_true(xlev_domain_monitor_get_active(mon));
    recorder_assert_quiet(f, &r, 0);

    dom_set(&f->xs, 5, "crashed");
    recorder_wait_first_shutdown(f, &r, 5, XLEV_SHUTDOWN_REASON_CRASH);
    dom_set(&f->xs, 5, "dying");
    WAIT_FOR(f->main_context, r.deaths->len == 1, DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpuint(g_array_index(r.deaths, guint, 0), ==, 5);
    recorder_assert_quiet(f, &r, 2);

    monitor_recorded_clear(&mon, &r);
}

static void
test_died_without_shutdown(Fixture *f, gconstpointer data)
{
    g_autoptr(XlevDomainMonitor) mon = NULL;
    Recorder r;

    SKIP_WITHOUT_HYPERVISOR();
    mon = monitor_introduced(f, 6, &r);
    dom_set(&f->xs, 6, "gone");
    WAIT_FOR(f->main_context, r.deaths->len == 1, DOM_EVENT_TIMEOUT_MS);
    recorder_assert_quiet(f, &r, 1);
    monitor_recorded_clear(&mon, &r);
}

static void
test_two_monitors_one_domid(Fixture *f, gconstpointer data)
{
    g_autoptr(XlevDomainMonitor) a = NULL;
    g_autoptr(XlevDomainMonitor) b = NULL;
    Recorder ra, rb;

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(dom_xs(f), 7);
    a = monitor_recorded(f, 7, &ra);
    b = monitor_recorded(f, 7, &rb);
    dom_set(&f->xs, 7, "shutdown 0");
    dom_set(&f->xs, 7, "gone");
    WAIT_FOR(f->main_context, ra.deaths->len == 1 && rb.deaths->len == 1,
             DOM_EVENT_TIMEOUT_MS);
    dom_quiet(f);
    /* "gone" may come in the same look as "shutdown": then the domain
     * was never seen shut down, and only dies. Either way, once each. */
    g_assert_cmpuint(ra.shutdowns->len, ==, rb.shutdowns->len);
    g_assert_cmpuint(ra.n_signals, ==, rb.n_signals);
    g_assert_cmpuint(ra.deaths->len, ==, 1);
    monitor_recorded_clear(&a, &ra);
    monitor_recorded_clear(&b, &rb);
}

static void
test_unref_before_event(Fixture *f, gconstpointer data)
{
    XlevDomainMonitor *dropped;
    g_autoptr(XlevDomainMonitor) witness = NULL;
    g_autoptr(XlevDomainMonitor) canceller = NULL;
    Recorder rd, rw, rc;

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(dom_xs(f), 8);
    dropped = monitor_recorded(f, 8, &rd);
    canceller = monitor_recorded(f, 8, &rc);
    rc.cancel_on_shutdown = TRUE;
    witness = monitor_recorded(f, 8, &rw);
    g_object_add_weak_pointer(G_OBJECT(dropped), (gpointer *)&dropped);
    g_object_unref(dropped);
    g_assert_null(dropped);

    dom_set(&f->xs, 8, "shutdown 1");
    WAIT_FOR(f->main_context, rw.shutdowns->len == 2, DOM_EVENT_TIMEOUT_MS);
    dom_set(&f->xs, 8, "dying");
    WAIT_FOR(f->main_context, rw.deaths->len == 1, DOM_EVENT_TIMEOUT_MS);
    dom_quiet(f);
    g_assert_cmpuint(rd.n_signals, ==, 0);
    /* cancelled in its shutdown handler: nothing after */
    g_assert_cmpuint(rc.n_signals, ==, 1);
    g_assert_false(xlev_domain_monitor_get_active(canceller));
    monitor_recorded_clear(&witness, &rw);
    monitor_recorded_clear(&canceller, &rc);
    recorder_clear(&rd); /* its monitor, dropped, is gone */
}

static void
test_all_domains_burst_and_reuse(Fixture *f, gconstpointer data)
{
    g_autoptr(XlevDomainMonitor) mon = NULL;
    struct xs_handle *h = dom_xs(f);
    g_autofree guint *died = g_new0(guint, ALL_N);
    Recorder r;

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(h, 3); /* there before the monitor: not introduced */
    mon = monitor_recorded(f, XLEV_DOMAIN_MONITOR_ALL_DOMAINS, &r);
    g_assert_cmpuint(xlev_domain_monitor_get_domid(mon), ==,
                     XLEV_DOMAIN_MONITOR_ALL_DOMAINS);
    g_assert_cmpuint(XLEV_DOMAIN_MONITOR_ALL_DOMAINS, ==, G_MAXUINT);
    for (guint i = 0; i < ALL_N; i++)
        dom_introduce(h, ALL_FIRST + i);
    WAIT_FOR(f->main_context, r.intros->len == ALL_N, 4 * DOM_EVENT_TIMEOUT_MS);
    /* Let the generators the introductions enabled take their first
     * look before the burst. */
    dom_quiet(f);

    dom_set_burst(&f->xs, ALL_FIRST, ALL_N, "dying", 2);
    WAIT_FOR(f->main_context, r.deaths->len == ALL_N, 4 * DOM_EVENT_TIMEOUT_MS);
    for (guint i = 0; i < r.deaths->len; i++) {
        guint d = g_array_index(r.deaths, guint, i);

        g_assert_cmpuint(d, >=, ALL_FIRST);
        g_assert_cmpuint(d, <, ALL_FIRST + ALL_N);
        g_assert_cmpuint(++died[d - ALL_FIRST], ==, 1);
    }
    g_assert_cmpuint(r.shutdowns->len, ==, 0);

    /* A domid reused: introduced again, followed again. */
    dom_set(&f->xs, ALL_FIRST, "gone");
    dom_set(&f->xs, ALL_FIRST, "running");
    dom_introduce(h, ALL_FIRST);
    WAIT_FOR(f->main_context, r.intros->len == ALL_N + 1, DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpuint(g_array_index(r.intros, guint, ALL_N), ==, ALL_FIRST);
    dom_quiet(f);
    dom_set(&f->xs, ALL_FIRST, "shutdown 5");
    recorder_wait_first_shutdown(f, &r, ALL_FIRST,
                                 XLEV_SHUTDOWN_REASON_SOFT_RESET);
    dom_quiet(f);
    g_assert_cmpuint(r.deaths->len, ==, ALL_N);

    monitor_recorded_clear(&mon, &r);
}

static gboolean
domids_has(GArray *domids, guint domid)
{
    for (guint i = 0; i < domids->len; i++)
        if (g_array_index(domids, guint, i) == domid)
            return TRUE;
    return FALSE;
}

static guint
count_domid(GArray *a, guint stride, guint domid)
{
    guint n = 0;

    for (guint i = 0; i < a->len; i += stride)
        if (g_array_index(a, guint, i) == domid)
            n++;
    return n;
}

/*
 * A monitor of all domains follows the domains that exist when it is made
 * too: listed by list_domains, never announced with `introduced`, and
 * their shutdown and death reported once each; a domain introduced later
 * gives `introduced`, then its shutdown and death.
 */
static void
test_all_domains_follows_present(Fixture *f, gconstpointer data)
{
    g_autoptr(XlevDomainMonitor) mon = NULL;
    g_autoptr(GArray) domids = NULL;
    struct xs_handle *h = dom_xs(f);
    Recorder r;

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(h, 50); /* will shut down, then die */
    dom_introduce(h, 51); /* will be destroyed */
    dom_introduce(h, 52); /* stays */
    dom_introduce(h, 54); /* shut down already */
    dom_set(&f->xs, 54, "shutdown 2");

    mon = monitor_recorded(f, XLEV_DOMAIN_MONITOR_ALL_DOMAINS, &r);
    domids = xlev_domain_monitor_list_domains(mon);
    for (guint i = 1; i < domids->len; i++)
        g_assert_cmpuint(g_array_index(domids, guint, i - 1), <,
                         g_array_index(domids, guint, i));
    g_assert_true(domids_has(domids, 50));
    g_assert_true(domids_has(domids, 51));
    g_assert_true(domids_has(domids, 52));
    g_assert_true(domids_has(domids, 54));
    g_assert_false(domids_has(domids, 53));
    g_clear_pointer(&domids, g_array_unref);

    /* 54's shutdown is reported by the first look; nothing else. */
    recorder_wait_first_shutdown(f, &r, 54, XLEV_SHUTDOWN_REASON_SUSPEND);
    recorder_assert_quiet(f, &r, 1);

    dom_introduce(h, 53);
    WAIT_FOR(f->main_context, r.intros->len == 1, DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpuint(g_array_index(r.intros, guint, 0), ==, 53);
    domids = xlev_domain_monitor_list_domains(mon);
    g_assert_true(domids_has(domids, 53));
    g_clear_pointer(&domids, g_array_unref);
    /* Let the new domain's generator take its first look. */
    dom_quiet(f);

    dom_set(&f->xs, 50, "shutdown 0");
    WAIT_FOR(f->main_context, r.shutdowns->len == 4, DOM_EVENT_TIMEOUT_MS);
    dom_set(&f->xs, 50, "dying");
    dom_set(&f->xs, 51, "gone");
    dom_set(&f->xs, 53, "crashed");
    WAIT_FOR(f->main_context, r.shutdowns->len == 6, DOM_EVENT_TIMEOUT_MS);
    dom_set(&f->xs, 53, "dying");
    WAIT_FOR(f->main_context, r.deaths->len == 3, DOM_EVENT_TIMEOUT_MS);
    dom_quiet(f);

    /* Each once: shutdown 54, 50, 53; died 50, 51, 53; introduced 53. */
    g_assert_cmpuint(r.n_signals, ==, 7);
    g_assert_cmpuint(r.intros->len, ==, 1);
    g_assert_cmpuint(count_domid(r.shutdowns, 2, 54), ==, 1);
    g_assert_cmpuint(count_domid(r.shutdowns, 2, 50), ==, 1);
    g_assert_cmpuint(count_domid(r.shutdowns, 2, 53), ==, 1);
    for (guint i = 0; i < r.shutdowns->len; i += 2)
        if (g_array_index(r.shutdowns, guint, i) == 53)
            g_assert_cmpuint(g_array_index(r.shutdowns, guint, i + 1), ==,
                             XLEV_SHUTDOWN_REASON_CRASH);
    g_assert_cmpuint(count_domid(r.deaths, 1, 50), ==, 1);
    g_assert_cmpuint(count_domid(r.deaths, 1, 51), ==, 1);
    g_assert_cmpuint(count_domid(r.deaths, 1, 53), ==, 1);

    domids = xlev_domain_monitor_list_domains(mon);
    g_assert_false(domids_has(domids, 50));
    g_assert_false(domids_has(domids, 51));
    g_assert_false(domids_has(domids, 53));
    g_assert_true(domids_has(domids, 52));
    g_assert_true(domids_has(domids, 54));
    g_clear_pointer(&domids, g_array_unref);

    monitor_recorded_clear(&mon, &r);
}

/* A monitor of one domain lists it until it died. */
static void
test_list_domains_one(Fixture *f, gconstpointer data)
{
    g_autoptr(XlevDomainMonitor) mon = NULL;
    g_autoptr(GArray) domids = NULL;
    Recorder r;

    SKIP_WITHOUT_HYPERVISOR();
    mon = monitor_introduced(f, 12, &r);
    domids = xlev_domain_monitor_list_domains(mon);
    g_assert_cmpuint(domids->len, ==, 1);
    g_assert_cmpuint(g_array_index(domids, guint, 0), ==, 12);
    g_clear_pointer(&domids, g_array_unref);
    dom_set(&f->xs, 12, "gone");
    WAIT_FOR(f->main_context, r.deaths->len == 1, DOM_EVENT_TIMEOUT_MS);
    domids = xlev_domain_monitor_list_domains(mon);
    g_assert_cmpuint(domids->len, ==, 0);
    monitor_recorded_clear(&mon, &r);
}

static void
test_disk_ejected(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevDomainMonitor) mon = NULL;
    g_autoptr(XlevDomainMonitor) all = NULL;
    struct xs_handle *h = dom_xs(f);
    g_autofree char *ej = g_strdup_printf(DOM_BACKEND_FMT "/eject", 9u, 5632);
    Recorder r;

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(h, 9);
    dom_add_vbd(h, 9, 5632); /* hdc */
    mon = monitor_recorded(f, 9, &r);
    g_assert_false(xlev_domain_monitor_watch_disk(mon, "floppy", &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);
    g_assert_false(xlev_domain_monitor_watch_disk(mon, "xvdz", &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT);
    g_clear_error(&error);
    all = xlev_context_monitor_all_domains(f->ctx, &error);
    g_assert_no_error(error);
    g_assert_false(xlev_domain_monitor_watch_disk(all, "hdc", &error));
    g_assert_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL);
    g_clear_error(&error);

    g_assert_true(xlev_domain_monitor_watch_disk(mon, "hdc", &error));
    g_assert_no_error(error);
    g_assert_true(xs_write(h, XBT_NULL, ej, "1", 1));
    WAIT_FOR(f->main_context, r.ejects->len == 1, DOM_EVENT_TIMEOUT_MS);
    g_assert_cmpstr(g_ptr_array_index(r.ejects, 0), ==, "hdc");
    recorder_assert_quiet(f, &r, 1);

    xlev_domain_monitor_cancel(mon);
    g_assert_true(xs_write(h, XBT_NULL, ej, "1", 1));
    recorder_assert_quiet(f, &r, 1);

    monitor_recorded_clear(&mon, &r);
    g_clear_object(&all);
}

/* ------------------------------------------------------------------------ */

static int
no_hypervisor_child(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) ctx = NULL;
    g_autoptr(XlevDomainMonitor) mon = NULL;
    g_autoptr(XlevDomainMonitor) all = NULL;
    g_autoptr(GArray) domids = NULL;
    struct xs_handle *h;
    Recorder r;
    gint64 deadline;

    if (xs_fixture_hypervisor_preloaded())
        return 2;
    ctx = xlev_context_new(NULL, NULL, &error);
    if (!ctx)
        return 3;
    mon = xlev_context_monitor_domain(ctx, 5, &error);
    if (mon
        || !g_error_matches(error, XLEV_ERROR, XLEV_ERROR_CODE_NO_HYPERVISOR)) {
        g_printerr("child: monitor_domain: %s\n",
                   error ? error->message : "succeeded");
        return 4;
    }
    g_printerr("child: as expected: %s\n", error->message);
    g_clear_error(&error);
    h = dom_open_xs();
    dom_introduce(h, 30); /* there before: listed, not introduced */
    all = xlev_context_monitor_all_domains(ctx, &error);
    if (!all)
        return 5;
    domids = xlev_domain_monitor_list_domains(all);
    if (!domids_has(domids, 30) || domids_has(domids, 31)) {
        g_printerr("child: list_domains lacks 30 or has 31\n");
        return 7;
    }
    recorder_init(&r);
    recorder_connect(&r, all);
    dom_introduce(h, 31);
    deadline = dom_deadline(DOM_EVENT_TIMEOUT_MS);
    while (r.intros->len == 0 && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, FALSE), g_usleep(1000);
    xs_close(h);
    if (r.intros->len != 1 || g_array_index(r.intros, guint, 0) != 31)
        return 6;
    g_clear_pointer(&domids, g_array_unref);
    domids = xlev_domain_monitor_list_domains(all);
    if (!domids_has(domids, 30) || !domids_has(domids, 31))
        return 8;
    g_clear_object(&all);
    recorder_clear(&r);
    return 0;
}

static void
test_no_hypervisor(Fixture *f, gconstpointer data)
{
    dom_spawn_no_hypervisor_child();
}

int
main(int argc, char **argv)
{
    dom_test_init(&argc, &argv, no_hypervisor_child);

    DOM_ADD_BOTH("/domain-monitor/shutdown-then-died", test_shutdown_then_died);
    DOM_ADD_BOTH("/domain-monitor/died-without-shutdown",
                 test_died_without_shutdown);
    DOM_ADD_BOTH("/domain-monitor/two-monitors-one-domid",
                 test_two_monitors_one_domid);
    DOM_ADD_BOTH("/domain-monitor/unref-or-cancel-before-event",
                 test_unref_before_event);
    DOM_ADD_BOTH("/domain-monitor/all-domains-burst-and-reuse",
                 test_all_domains_burst_and_reuse);
    DOM_ADD_BOTH("/domain-monitor/all-domains-follows-present",
                 test_all_domains_follows_present);
    DOM_ADD_BOTH("/domain-monitor/list-domains-one", test_list_domains_one);
    DOM_ADD_BOTH("/domain-monitor/disk-ejected", test_disk_ejected);
    g_test_add("/xlev/domain-monitor/no-hypervisor", Fixture,
               GINT_TO_POINTER(XLEV_INTEGRATION_SOURCE), fixture_setup,
               test_no_hypervisor, dom_fixture_teardown);

    return g_test_run();
}
