/* test-domain-core.c: the core's domain events against the real xenstored
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Runs with the hypervisor stand-in preloaded (meson sets LD_PRELOAD; by
 * hand, main() re-executes itself with it), so the library's libxenctrl
 * calls answer from the fixture's domain table. The context is driven in
 * poll style by dom_run() below, the events taken with xlev_event_check()
 * (or, where said, through xlev_event_hooks or xlev_event_wait()).
 *
 * `--no-hypervisor-child` is the same binary run without the stand-in (by
 * /xlev/domain/no-hypervisor): it checks that domain death cannot be
 * enabled and that everything else still works.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "xlev-event-private.h"
#include "domain/hypervisor-private.h" /* XLEV__HV_BATCH */
#include "domain-test-util.h"

#define POLL_SLICE_MS 50
#define MAX_POLLFDS 64

#define BURST_FIRST 10
#define BURST_N 200

/* /xlev/domain/core/release-lists-in-batches: that many watched domains
 * (fewer under valgrind, where the test's bound is the same formula). */
#define MANY_FIRST 100
#define MANY_N 1000
#define MANY_N_VALGRIND 300

typedef struct {
    XsFixture fx; /* first: the fixture's setup/teardown take it */
    xlev_ctx *ctx;
    struct xs_handle *xsh;
} DomFixture;

static void
dom_fixture_setup(DomFixture *f, gconstpointer data)
{
    xs_fixture_setup(&f->fx, data);
    g_assert_cmpint(xlev_ctx_new(NULL, &f->ctx), ==, 0);
    f->xsh = dom_open_xs();
}

static void
dom_fixture_teardown(DomFixture *f, gconstpointer data)
{
    xlev_ctx_free(f->ctx);
    if (f->xsh)
        xs_close(f->xsh);
    xs_fixture_teardown(&f->fx, data);
}

/* One beforepoll/poll/afterpoll round, waiting at most max_ms. */
static void
dom_run_once(xlev_ctx *ctx, int max_ms)
{
    struct pollfd fds[MAX_POLLFDS];
    struct timeval now;
    int nfds = MAX_POLLFDS, timeout = max_ms;

    xlev_osevent_now(ctx, &now);
    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &nfds, fds, &timeout, now), ==,
                    0);
    g_assert_cmpint(poll(fds, nfds, timeout), >=, 0);
    xlev_osevent_now(ctx, &now);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, nfds, fds, now), ==, 0);
}

/* Runs the context until cond holds; fails the test if timeout_ms (scaled)
 * pass first. cond is evaluated once per round, and not again after. */
#define DOM_RUN_UNTIL(ctx, cond, timeout_ms)                                   \
    do {                                                                       \
        gint64 deadline_ = dom_deadline(timeout_ms);                           \
                                                                               \
        while (!(cond)) {                                                      \
            g_assert_cmpint(g_get_monotonic_time(), <, deadline_);             \
            dom_run_once((ctx), POLL_SLICE_MS);                                \
        }                                                                      \
    } while (0)

/* Runs the context until an event of a type in mask is queued (returned,
 * caller frees) or the deadline passes (NULL). */
static xlev_event *
dom_wait_event(xlev_ctx *ctx, uint64_t mask, guint timeout_ms)
{
    gint64 deadline = dom_deadline(timeout_ms);
    xlev_event *ev = NULL;

    for (;;) {
        if (xlev_event_check(ctx, &ev, mask, NULL, NULL) == 0)
            return ev;
        if (g_get_monotonic_time() >= deadline)
            return NULL;
        dom_run_once(ctx, POLL_SLICE_MS);
    }
}

static void
dom_assert_quiet(xlev_ctx *ctx, guint ms)
{
    xlev_event *ev = dom_wait_event(ctx, XLEV_EVENTMASK_ALL, ms);

    if (ev)
        g_error("unexpected event: type %d domid %u user %" G_GUINT64_FORMAT,
                ev->type, ev->domid, ev->for_user);
}

static xlev_event *
dom_expect(xlev_ctx *ctx, xlev_event_type type, uint32_t domid, uint64_t user)
{
    xlev_event *ev
        = dom_wait_event(ctx, XLEV_EVENTMASK_ALL, DOM_EVENT_TIMEOUT_MS);

    if (!ev)
        g_error("no event (expected type %d for domain %u)", type, domid);
    g_assert_cmpint(ev->type, ==, type);
    g_assert_cmpuint(ev->domid, ==, domid);
    g_assert_cmpuint(ev->for_user, ==, user);
    return ev;
}

static void
dom_expect_free(xlev_ctx *ctx, xlev_event_type type, uint32_t domid,
                uint64_t user)
{
    xlev_event_free(ctx, dom_expect(ctx, type, domid, user));
}

/* dom_expect() of a SHUTDOWN, whose reason is checked too. */
static void
dom_expect_shutdown(xlev_ctx *ctx, uint32_t domid, uint64_t user,
                    xlev_shutdown_reason reason)
{
    xlev_event *ev
        = dom_expect(ctx, XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN, domid, user);

    g_assert_cmpint(ev->u.domain_shutdown.reason, ==, reason);
    xlev_event_free(ctx, ev);
}

/* The next event of any type and domain (caller frees); fails the test if
 * none comes within DOM_EVENT_TIMEOUT_MS. */
static xlev_event *
dom_next_event(xlev_ctx *ctx)
{
    xlev_event *ev
        = dom_wait_event(ctx, XLEV_EVENTMASK_ALL, DOM_EVENT_TIMEOUT_MS);

    g_assert_nonnull(ev);
    return ev;
}

/* Introduces a guest domid and enables a death generator for it, user's. */
static xlev_evgen_domain_death *
dom_introduce_followed(DomFixture *f, uint32_t domid, uint64_t user)
{
    xlev_evgen_domain_death *gen = NULL;

    dom_introduce(f->xsh, domid);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, domid, user, &gen), ==,
                    0);
    return gen;
}

/* ------------------------------------------------------------------------ */

static void
test_shutdown_then_death(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *gen;

    SKIP_WITHOUT_HYPERVISOR();
    gen = dom_introduce_followed(f, 5, 42);
    g_assert_nonnull(gen);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS); /* running: nothing */

    dom_set(&f->fx, 5, "shutdown 1");
    dom_expect_shutdown(f->ctx, 5, 42, XLEV_SHUTDOWN_REBOOT);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    dom_set(&f->fx, 5, "dying");
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 5, 42);
    dom_set(&f->fx, 5, "gone");
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xlev_evdisable_domain_death(f->ctx, gen);
}

static void
test_crash_is_shutdown_crash(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *gen;

    SKIP_WITHOUT_HYPERVISOR();
    gen = dom_introduce_followed(f, 6, 1);
    dom_set(&f->fx, 6, "crashed");
    dom_expect_shutdown(f->ctx, 6, 1, XLEV_SHUTDOWN_CRASH);
    /* Shut down and dying seen together: SHUTDOWN was already told. */
    dom_set(&f->fx, 6, "dying");
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 6, 1);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xlev_evdisable_domain_death(f->ctx, gen);
}

static void
test_death_without_shutdown(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *gen_gone = NULL, *gen_dying = NULL;

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(f->xsh, 8);
    dom_introduce(f->xsh, 9);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 8, 8, &gen_gone), ==, 0);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 9, 9, &gen_dying), ==,
                    0);
    dom_set(&f->fx, 8, "gone");
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 8, 8);
    dom_set(&f->fx, 9, "dying");
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 9, 9);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xlev_evdisable_domain_death(f->ctx, gen_gone);
    xlev_evdisable_domain_death(f->ctx, gen_dying);
}

static void
test_shutdown_and_dying_in_one_look(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *gen = NULL;

    SKIP_WITHOUT_HYPERVISOR();
    /* Already shut down and dying before the generator first looks. */
    dom_introduce(f->xsh, 11);
    dom_set(&f->fx, 11, "shutdown 4");
    dom_set(&f->fx, 11, "dying");
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 11, 3, &gen), ==, 0);
    dom_expect_shutdown(f->ctx, 11, 3, XLEV_SHUTDOWN_WATCHDOG);
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 11, 3);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xlev_evdisable_domain_death(f->ctx, gen);
}

static void
test_nonexistent_domid_dies_at_once(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *gen = NULL;

    SKIP_WITHOUT_HYPERVISOR();
    dom_set(&f->fx, 13, "gone");
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 13, 13, &gen), ==, 0);
    /* Also when the shared watch already exists (no initial event). */
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 13, 13);
    {
        xlev_evgen_domain_death *gen2 = NULL;

        dom_set(&f->fx, 14, "gone");
        g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 14, 14, &gen2), ==,
                        0);
        dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 14, 14);
        xlev_evdisable_domain_death(f->ctx, gen2);
    }
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 0x7FF0, 0, &gen), ==,
                    XLEV_ERROR_INVAL);
    xlev_evdisable_domain_death(f->ctx, gen);
}

static void
test_two_generators_one_domid(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *a = NULL, *b = NULL;
    int seen[2][3] = { { 0 } };

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(f->xsh, 7);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 7, 0, &a), ==, 0);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 7, 1, &b), ==, 0);
    dom_set(&f->fx, 7, "shutdown 0");
    for (int i = 0; i < 2; i++) {
        xlev_event *ev = dom_next_event(f->ctx);

        g_assert_cmpint(ev->type, ==, XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN);
        g_assert_cmpint(ev->u.domain_shutdown.reason, ==,
                        XLEV_SHUTDOWN_POWEROFF);
        g_assert_cmpuint(ev->for_user, <, 2);
        seen[ev->for_user][ev->type]++;
        xlev_event_free(f->ctx, ev);
    }
    dom_set(&f->fx, 7, "dying");
    for (int i = 0; i < 2; i++) {
        xlev_event *ev = dom_next_event(f->ctx);

        g_assert_cmpint(ev->type, ==, XLEV_EVENT_TYPE_DOMAIN_DEATH);
        g_assert_cmpuint(ev->for_user, <, 2);
        seen[ev->for_user][ev->type]++;
        xlev_event_free(f->ctx, ev);
    }
    for (int u = 0; u < 2; u++) {
        g_assert_cmpint(seen[u][XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN], ==, 1);
        g_assert_cmpint(seen[u][XLEV_EVENT_TYPE_DOMAIN_DEATH], ==, 1);
    }
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xlev_evdisable_domain_death(f->ctx, a);
    xlev_evdisable_domain_death(f->ctx, b);
}

static void
test_evdisable_before_event(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *early = NULL, *queued = NULL, *keep = NULL;

    SKIP_WITHOUT_HYPERVISOR();
    dom_introduce(f->xsh, 15);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 15, 1, &early), ==, 0);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 15, 2, &queued), ==, 0);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 15, 3, &keep), ==, 0);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    /* Disabled before anything happened. */
    xlev_evdisable_domain_death(f->ctx, early);
    dom_set(&f->fx, 15, "shutdown 0");

    /* The same scan queues for `queued` and `keep`: take keep's (by
     * predicate), then disable `queued` while its event is still queued. */
    {
        xlev_event *ev = NULL;
        uint64_t want = 3;

        DOM_RUN_UNTIL(f->ctx,
                      xlev_event_check(f->ctx, &ev, XLEV_EVENTMASK_ALL,
                                       (xlev_event_predicate *)(void *)NULL,
                                       NULL)
                          != XLEV_ERROR_NOT_READY,
                      DOM_EVENT_TIMEOUT_MS);
        /* One event is out; put our expectations on who it was. */
        g_assert_cmpint(ev->type, ==, XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN);
        g_assert_true(ev->for_user == 2 || ev->for_user == want);
        if (ev->for_user == 2) {
            /* Too late to test the queue removal with this one; the other
             * must be there now. */
            xlev_event_free(f->ctx, ev);
            ev = NULL;
            g_assert_cmpint(
                xlev_event_check(f->ctx, &ev, XLEV_EVENTMASK_ALL, NULL, NULL),
                ==, 0);
            g_assert_cmpuint(ev->for_user, ==, want);
            xlev_event_free(f->ctx, ev);
            xlev_evdisable_domain_death(f->ctx, queued);
        } else {
            xlev_event_free(f->ctx, ev);
            /* queued's SHUTDOWN is in the queue now. */
            xlev_evdisable_domain_death(f->ctx, queued);
            g_assert_cmpint(
                xlev_event_check(f->ctx, &ev, XLEV_EVENTMASK_ALL, NULL, NULL),
                ==, XLEV_ERROR_NOT_READY);
        }
    }
    dom_set(&f->fx, 15, "dying");
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 15, 3);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xlev_evdisable_domain_death(f->ctx, keep);
}

static void
test_burst_200(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *gens[BURST_N];
    guint deaths[BURST_N] = { 0 };
    guint total = 0;
    gint64 deadline;

    SKIP_WITHOUT_HYPERVISOR();
    for (unsigned int i = 0; i < BURST_N; i++) {
        dom_introduce(f->xsh, BURST_FIRST + i);
        g_assert_cmpint(
            xlev_evenable_domain_death(f->ctx, BURST_FIRST + i, i, &gens[i]),
            ==, 0);
    }
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    dom_set_burst(&f->fx, BURST_FIRST, BURST_N, "dying",
                  BURST_FIRST + BURST_N + 1);
    deadline = dom_deadline(4 * DOM_EVENT_TIMEOUT_MS);
    while (total < BURST_N) {
        xlev_event *ev = NULL;

        if (xlev_event_check(f->ctx, &ev, XLEV_EVENTMASK_ALL, NULL, NULL)) {
            if (g_get_monotonic_time() >= deadline)
                g_error("only %u deaths of %u", total, BURST_N);
            dom_run_once(f->ctx, POLL_SLICE_MS);
            continue;
        }
        g_assert_cmpint(ev->type, ==, XLEV_EVENT_TYPE_DOMAIN_DEATH);
        g_assert_cmpuint(ev->for_user, <, BURST_N);
        g_assert_cmpuint(ev->domid, ==, BURST_FIRST + ev->for_user);
        deaths[ev->for_user]++;
        g_assert_cmpuint(deaths[ev->for_user], ==, 1);
        total++;
        xlev_event_free(f->ctx, ev);
    }
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    for (unsigned int i = 0; i < BURST_N; i++)
        xlev_evdisable_domain_death(f->ctx, gens[i]);
}

static void
test_domid_reused(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *old_gen, *new_gen;

    SKIP_WITHOUT_HYPERVISOR();
    old_gen = dom_introduce_followed(f, 16, 1);
    dom_set(&f->fx, 16, "gone");
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 16, 1);

    /* A new domain with the same domid. */
    dom_set(&f->fx, 16, "running");
    new_gen = dom_introduce_followed(f, 16, 2);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    dom_set(&f->fx, 16, "shutdown 2");
    dom_expect_shutdown(f->ctx, 16, 2, XLEV_SHUTDOWN_SUSPEND);
    dom_set(&f->fx, 16, "gone");
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 16, 2);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xlev_evdisable_domain_death(f->ctx, old_gen);
    xlev_evdisable_domain_death(f->ctx, new_gen);
}

static void
test_vdev_devid(void)
{
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvda"), ==, 51712);
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvdb"), ==, 51728);
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvda1"), ==, 51713);
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvdp15"), ==,
                    (202 << 8) | (15 << 4) | 15);
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvdq"), ==, (1 << 28) | (16 << 8));
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvdaa"), ==,
                    (1 << 28) | (26 << 8));
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvda16"), ==, (1 << 28) | 16);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d0p1"), ==, 51713);
    g_assert_cmpint(xlev_disk_vdev_to_devid("hda"), ==, 3 << 8);
    g_assert_cmpint(xlev_disk_vdev_to_devid("hdb2"), ==, (3 << 8) | 64 | 2);
    g_assert_cmpint(xlev_disk_vdev_to_devid("hdc"), ==, 22 << 8);
    g_assert_cmpint(xlev_disk_vdev_to_devid("sda"), ==, 8 << 8);
    g_assert_cmpint(xlev_disk_vdev_to_devid("sdb1"), ==, (8 << 8) | 16 | 1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("51712"), ==, 51712);
    g_assert_cmpint(xlev_disk_vdev_to_devid(""), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid(NULL), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvd"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("xvda0"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("hde"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("floppy"), ==, -1);
    /* d<disk>p<part> is digits only (found by tests/fuzz/fuzz-disk-vdev) */
    g_assert_cmpint(xlev_disk_vdev_to_devid("d1048575p255"), ==,
                    (1 << 28) | (1048575 << 8) | 255);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d-0p00"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d 1p2"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d+1p2"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d01p2"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d1p"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d1048576p0"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d0p256"), ==, -1);
    g_assert_cmpint(xlev_disk_vdev_to_devid("d0p1x"), ==, -1);
}

static void
test_disk_eject(DomFixture *f, gconstpointer data)
{
    xlev_evgen_disk_eject *gen = NULL;
    g_autofree char *ej = g_strdup_printf(DOM_BACKEND_FMT "/eject", 3u, 51712);
    g_autofree char *val = NULL;
    xlev_event *ev;

    dom_introduce(f->xsh, 3);
    g_assert_cmpint(xlev_evenable_disk_eject(f->ctx, 3, "xvdb", 0, &gen), ==,
                    XLEV_ERROR_NOENT); /* no such device */
    g_assert_cmpint(xlev_evenable_disk_eject(f->ctx, 3, "bogus", 0, &gen), ==,
                    XLEV_ERROR_INVAL);
    dom_add_vbd(f->xsh, 3, 51712);
    g_assert_cmpint(xlev_evenable_disk_eject(f->ctx, 3, "xvda", 77, &gen), ==,
                    0);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    g_assert_true(xs_write(f->xsh, XBT_NULL, ej, "1", 1));
    ev = dom_expect(f->ctx, XLEV_EVENT_TYPE_DISK_EJECT, 3, 77);
    g_assert_cmpstr(ev->u.disk_eject.vdev, ==, "xvda");
    xlev_event_free(f->ctx, ev);
    val = dom_read(f->xsh, ej);
    g_assert_cmpstr(val, ==, "0"); /* acknowledged */
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    /* A second request is a second event. */
    g_assert_true(xs_write(f->xsh, XBT_NULL, ej, "1", 1));
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DISK_EJECT, 3, 77);

    /* Disabled: nothing more. */
    xlev_evdisable_disk_eject(f->ctx, gen);
    g_assert_true(xs_write(f->xsh, XBT_NULL, ej, "1", 1));
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
}

/* Whether domid is in the generator's present set; also checks the set
 * is sorted. */
static gboolean
present_has(xlev_ctx *ctx, const xlev_evgen_domain_introduce *gen,
            uint32_t domid)
{
    uint32_t *domids = NULL;
    size_t n = 0;
    gboolean found = FALSE;

    g_assert_cmpint(xlev_evgen_domain_introduce_present(ctx, gen, &domids, &n),
                    ==, 0);
    g_assert_true(n == 0 || domids != NULL);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            g_assert_cmpuint(domids[i - 1], <, domids[i]);
        if (domids[i] == domid)
            found = TRUE;
    }
    free(domids);
    return found;
}

static void
test_introduce(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_introduce *gen = NULL, *later = NULL;
    g_autofree char *path = NULL;

    dom_introduce(f->xsh, 20); /* before: not news */
    g_assert_cmpint(xlev_evenable_domain_introduce(f->ctx, 5, &gen), ==, 0);
    /* ... but present */
    g_assert_true(present_has(f->ctx, gen, 20));
    g_assert_false(present_has(f->ctx, gen, 21));
    g_assert_cmpint(
        xlev_evgen_domain_introduce_present(f->ctx, gen, NULL, NULL), ==,
        XLEV_ERROR_INVAL);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    dom_introduce(f->xsh, 21);
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE, 21, 5);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    /* Introduced before its directory exists: reported as soon as the
     * directory appears, once, without waiting for another introduce. */
    g_assert_true(xs_introduce_domain(f->xsh, 22, 0, DOM_GUEST_PORT));
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    path = g_strdup_printf("/local/domain/%u/name", 22u);
    g_assert_true(xs_write(f->xsh, XBT_NULL, path, "g", 1));
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE, 22, 5);
    /* More writes in its directory are no news. */
    g_free(path);
    path = g_strdup_printf("/local/domain/%u/memory/target", 22u);
    g_assert_true(xs_write(f->xsh, XBT_NULL, path, "1024", 4));
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    /* A directory written first (the usual order) is not news until the
     * introduce, and then only once, in order with the next domain. */
    g_free(path);
    path = g_strdup_printf("/local/domain/%u/name", 26u);
    g_assert_true(xs_write(f->xsh, XBT_NULL, path, "g", 1));
    g_free(path);
    path = g_strdup_printf("/local/domain/%u/vm", 26u);
    g_assert_true(xs_write(f->xsh, XBT_NULL, path, "/vm/x", 5));
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    g_assert_true(xs_introduce_domain(f->xsh, 26, 0, DOM_GUEST_PORT));
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE, 26, 5);
    dom_introduce(f->xsh, 23);
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE, 23, 5);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    /* The first generator's present set never changes. */
    g_assert_false(present_has(f->ctx, gen, 21));

    /* A later generator: what was reported before is present for it, and
     * a domain introduced after it is reported to both, once. */
    g_assert_cmpint(xlev_evenable_domain_introduce(f->ctx, 6, &later), ==, 0);
    g_assert_true(present_has(f->ctx, later, 20));
    g_assert_true(present_has(f->ctx, later, 21));
    g_assert_true(present_has(f->ctx, later, 23));
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    dom_introduce(f->xsh, 25);
    {
        int users = 0;

        for (int i = 0; i < 2; i++) {
            xlev_event *ev = dom_next_event(f->ctx);

            g_assert_cmpint(ev->type, ==, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE);
            g_assert_cmpuint(ev->domid, ==, 25);
            g_assert_true(ev->for_user == 5 || ev->for_user == 6);
            users |= 1 << ev->for_user;
            xlev_event_free(f->ctx, ev);
        }
        g_assert_cmpint(users, ==, (1 << 5) | (1 << 6));
    }
    g_assert_false(present_has(f->ctx, later, 25));
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xlev_evdisable_domain_introduce(f->ctx, later);

    xlev_evdisable_domain_introduce(f->ctx, gen);
    dom_introduce(f->xsh, 24);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
}

/* Every domain present for an introduce generator, followed with a death
 * generator (what a monitor of all domains does), then shut down or
 * destroyed: each event once. */
static void
test_introduce_present_followed(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_introduce *gen = NULL;
    xlev_evgen_domain_death *deaths[3] = { NULL };
    const uint32_t doms[3] = { 40, 41, 42 };
    int seen[3][XLEV_EVENT_TYPE_DOMAIN_INTRODUCE + 1] = { { 0 } };

    SKIP_WITHOUT_HYPERVISOR();
    for (int i = 0; i < 3; i++)
        dom_introduce(f->xsh, doms[i]);
    g_assert_cmpint(xlev_evenable_domain_introduce(f->ctx, 99, &gen), ==, 0);
    for (int i = 0; i < 3; i++) {
        g_assert_true(present_has(f->ctx, gen, doms[i]));
        g_assert_cmpint(
            xlev_evenable_domain_death(f->ctx, doms[i], i, &deaths[i]), ==, 0);
    }
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    dom_set(&f->fx, 40, "shutdown 0");
    dom_set(&f->fx, 41, "gone");
    dom_set(&f->fx, 40, "dying");
    for (int n = 0; n < 3; n++) {
        xlev_event *ev = dom_next_event(f->ctx);

        g_assert_cmpuint(ev->for_user, <, 3);
        g_assert_cmpuint(ev->domid, ==, doms[ev->for_user]);
        seen[ev->for_user][ev->type]++;
        xlev_event_free(f->ctx, ev);
    }
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    /* 40 may be seen shut down and dying in one look: SHUTDOWN comes
     * first either way. */
    g_assert_cmpint(seen[0][XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN], ==, 1);
    g_assert_cmpint(seen[0][XLEV_EVENT_TYPE_DOMAIN_DEATH], ==, 1);
    g_assert_cmpint(seen[1][XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN], ==, 0);
    g_assert_cmpint(seen[1][XLEV_EVENT_TYPE_DOMAIN_DEATH], ==, 1);
    g_assert_cmpint(seen[2][XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN]
                        + seen[2][XLEV_EVENT_TYPE_DOMAIN_DEATH],
                    ==, 0);
    for (int i = 0; i < 3; i++)
        xlev_evdisable_domain_death(f->ctx, deaths[i]);
    xlev_evdisable_domain_introduce(f->ctx, gen);
}

/* The stand-in's count of domain-info queries (libxenctrl calls) made in
 * this process, or -1 if it does not export one. */
static long
hv_queries(void)
{
    unsigned long (*fn)(void) = (unsigned long (*)(void))dlsym(
        RTLD_DEFAULT, "xlev_fakexen_domain_queries");

    return fn ? (long)fn() : -1;
}

/* Runs the context until a quiet period passes with no new query. */
static long
hv_queries_settled(xlev_ctx *ctx)
{
    long before, after = hv_queries();

    do {
        before = after;
        dom_assert_quiet(ctx, DOM_QUIET_MS);
        after = hv_queries();
    } while (after != before);
    return after;
}

/*
 * Issue 7's "in batches, so thousands of domains cost a few calls": with
 * many watched domains, one @releaseDomain (one of them shut down) costs
 * at most ceil(n / XLEV__HV_BATCH) + 1 hypervisor calls, counted by the
 * stand-in underneath the library's real libxenctrl calls. Unlisted domids
 * exist and run in the stand-in, so only the one that changes is
 * introduced to xenstored.
 */
static void
test_release_lists_in_batches(DomFixture *f, gconstpointer data)
{
    guint n = g_getenv("XLEV_UNDER_VALGRIND") ? MANY_N_VALGRIND : MANY_N;
    g_autofree xlev_evgen_domain_death **gens
        = g_new0(xlev_evgen_domain_death *, n);
    const uint32_t victim = MANY_FIRST + n / 2;
    long bound = (long)((n + XLEV__HV_BATCH - 1) / XLEV__HV_BATCH) + 1;
    long before, after;

    SKIP_WITHOUT_HYPERVISOR();
    if (hv_queries() < 0) {
        g_test_skip("the stand-in counts no queries");
        return;
    }
    dom_introduce(f->xsh, victim);
    for (guint i = 0; i < n; i++)
        g_assert_cmpint(
            xlev_evenable_domain_death(f->ctx, MANY_FIRST + i, i, &gens[i]), ==,
            0);
    /* The first look (and the shared watch's initial event) first. */
    before = hv_queries_settled(f->ctx);

    dom_set(&f->fx, victim, "shutdown 1");
    dom_expect_shutdown(f->ctx, victim, victim - MANY_FIRST,
                        XLEV_SHUTDOWN_REBOOT);
    after = hv_queries_settled(f->ctx);
    g_test_message("%u watched domains: %ld hypervisor calls for one "
                   "@releaseDomain (bound %ld)",
                   n, after - before, bound);
    g_assert_cmpint(after - before, >=, 1);
    g_assert_cmpint(after - before, <=, bound);

    for (guint i = 0; i < n; i++)
        xlev_evdisable_domain_death(f->ctx, gens[i]);
}

/* Hooks delivery: called with the lock dropped, may disable generators
 * (its own and others') from inside. */
typedef struct {
    xlev_ctx *ctx;
    int n_events;
    int lock_free;
    xlev_evgen_domain_death *self_gen, *other_gen;
    uint64_t users_seen;
} HookState;

static void
hook_event_occurs(void *user, xlev_event *ev)
{
    HookState *hs = user;

    hs->n_events++;
    hs->lock_free &= xlev__test_lock_is_free(hs->ctx);
    hs->users_seen |= UINT64_C(1) << ev->for_user;
    if (ev->for_user == 1 && ev->type == XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN) {
        /* Disable ourselves and the other generator of this domid, whose
         * SHUTDOWN may be queued right behind ours. */
        xlev_evdisable_domain_death(hs->ctx, hs->self_gen);
        hs->self_gen = NULL;
        xlev_evdisable_domain_death(hs->ctx, hs->other_gen);
        hs->other_gen = NULL;
    }
    xlev_event_free(hs->ctx, ev);
}

static const xlev_event_hooks test_event_hooks = {
    .event_occurs_mask = XLEV_EVENTMASK(XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN)
                         | XLEV_EVENTMASK(XLEV_EVENT_TYPE_DOMAIN_DEATH),
    .event_occurs = hook_event_occurs,
    .disaster = NULL,
};

static void
test_hooks_delivery(DomFixture *f, gconstpointer data)
{
    HookState hs = { .ctx = f->ctx, .lock_free = 1 };

    SKIP_WITHOUT_HYPERVISOR();
    xlev_event_register_callbacks(f->ctx, &test_event_hooks, &hs);
    dom_introduce(f->xsh, 17);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 17, 1, &hs.self_gen), ==,
                    0);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 17, 2, &hs.other_gen),
                    ==, 0);
    dom_set(&f->fx, 17, "shutdown 0");
    DOM_RUN_UNTIL(f->ctx, hs.n_events != 0, DOM_EVENT_TIMEOUT_MS);
    dom_set(&f->fx, 17, "dying");
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    /* gen 1 came first (enable order) and disabled gen 2 before its
     * SHUTDOWN could be delivered; nothing for either after. */
    g_assert_cmpint(hs.n_events, ==, 1);
    g_assert_cmpuint(hs.users_seen, ==, UINT64_C(1) << 1);
    g_assert_true(hs.lock_free);
    g_assert_null(hs.self_gen);
    g_assert_null(hs.other_gen);
    xlev_event_register_callbacks(f->ctx, NULL, NULL);
}

/* A library layer listening to its own generators (the _full variants)
 * next to an application's context-wide hooks: each gets the events of its
 * own generators, the application's hooks stay installed and keep
 * receiving theirs, before and after the listener goes. */
typedef struct {
    xlev_ctx *ctx;
    int n_events;
    int lock_free;
    uint32_t last_domid;
    uint64_t users_seen;
} ListenState;

static void
listen_event_occurs(void *user, xlev_event *ev)
{
    ListenState *ls = user;

    g_assert_cmpint(ev->type, ==, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE);
    ls->n_events++;
    ls->lock_free &= xlev__test_lock_is_free(ls->ctx);
    ls->last_domid = ev->domid;
    ls->users_seen |= UINT64_C(1) << ev->for_user;
    xlev_event_free(ls->ctx, ev);
}

static const xlev_event_hooks listen_hooks = {
    .event_occurs_mask = XLEV_EVENTMASK(XLEV_EVENT_TYPE_DOMAIN_INTRODUCE),
    .event_occurs = listen_event_occurs,
};

/* A generator's own hooks that take nothing: its events go to the queue. */
static const xlev_event_hooks listen_nothing_hooks = {
    .event_occurs_mask = 0,
};

static void
test_listener_keeps_app_hooks(DomFixture *f, gconstpointer data)
{
    ListenState app = { .ctx = f->ctx, .lock_free = 1 };
    ListenState lib = { .ctx = f->ctx, .lock_free = 1 };
    xlev_evgen_domain_introduce *app_gen = NULL, *lib_gen = NULL;
    xlev_evgen_domain_introduce *queued_gen = NULL;
    const xlev_event_hooks bad_hooks = {
        .event_occurs_mask = XLEV_EVENTMASK(XLEV_EVENT_TYPE_DOMAIN_INTRODUCE),
    };

    /* The application's hooks and generator, then the library's. */
    xlev_event_register_callbacks(f->ctx, &listen_hooks, &app);
    g_assert_cmpint(xlev_evenable_domain_introduce(f->ctx, 1, &app_gen), ==,
                    0);
    g_assert_cmpint(xlev_evenable_domain_introduce_full(f->ctx, 2, &bad_hooks,
                                                        &lib, &lib_gen),
                    ==, XLEV_ERROR_INVAL);
    g_assert_null(lib_gen);
    g_assert_cmpint(xlev_evenable_domain_introduce_full(f->ctx, 2,
                                                        &listen_hooks, &lib,
                                                        &lib_gen),
                    ==, 0);
    g_assert_cmpint(xlev_evenable_domain_introduce_full(
                        f->ctx, 3, &listen_nothing_hooks, NULL, &queued_gen),
                    ==, 0);

    dom_introduce(f->xsh, 31);
    DOM_RUN_UNTIL(f->ctx, app.n_events == 1 && lib.n_events == 1,
                  DOM_EVENT_TIMEOUT_MS);
    /* the third generator's event waits on the queue, for nobody's hooks */
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE, 31, 3);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    g_assert_cmpint(app.n_events, ==, 1);
    g_assert_cmpuint(app.users_seen, ==, UINT64_C(1) << 1);
    g_assert_cmpuint(app.last_domid, ==, 31);
    g_assert_cmpint(lib.n_events, ==, 1);
    g_assert_cmpuint(lib.users_seen, ==, UINT64_C(1) << 2);
    g_assert_cmpuint(lib.last_domid, ==, 31);

    /* The library goes; the application's hooks are still the ones
     * installed. */
    xlev_evdisable_domain_introduce(f->ctx, lib_gen);
    xlev_evdisable_domain_introduce(f->ctx, queued_gen);
    dom_introduce(f->xsh, 32);
    DOM_RUN_UNTIL(f->ctx, app.n_events == 2, DOM_EVENT_TIMEOUT_MS);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    g_assert_cmpuint(app.last_domid, ==, 32);
    g_assert_cmpuint(app.users_seen, ==, UINT64_C(1) << 1);
    g_assert_cmpint(lib.n_events, ==, 1);
    g_assert_true(app.lock_free && lib.lock_free);

    xlev_evdisable_domain_introduce(f->ctx, app_gen);
    xlev_event_register_callbacks(f->ctx, NULL, NULL);
}

/* A failure to produce domain events (here: memory running out inside an
 * introduce scan) is a disaster of the context: it reaches the context's
 * disaster hook, lock dropped, and nothing is written to stderr. Which
 * allocation of a round is the scan's depends on what else the loop does
 * then, so each round fails a later one until a domain-event disaster
 * comes. */
typedef struct {
    xlev_ctx *ctx;
    int n_domain;   /* disasters about domain events */
    int n_other;    /* the loop's own (a lost callback record) */
    int wrong_kind; /* a domain-event disaster not of kind NOMEM */
    int lock_free;
} DisasterState;

#define DISASTER_SWEEP_MAX 16

/* dom_run_once(), where beforepoll may also meet the failing allocation
 * (growing its fd shadow): that round then polls nothing. */
static void
sweep_run_once(xlev_ctx *ctx)
{
    struct pollfd fds[MAX_POLLFDS];
    struct timeval now;
    int nfds = MAX_POLLFDS, timeout = POLL_SLICE_MS, rc;

    xlev_osevent_now(ctx, &now);
    rc = xlev_osevent_beforepoll(ctx, &nfds, fds, &timeout, now);
    if (rc == XLEV_ERROR_NOMEM)
        return;
    g_assert_cmpint(rc, ==, 0);
    g_assert_cmpint(poll(fds, nfds, timeout), >=, 0);
    xlev_osevent_now(ctx, &now);
    g_assert_cmpint(xlev_osevent_afterpoll(ctx, nfds, fds, now), ==, 0);
}

static void
domain_disaster_cb(void *user, xlev_disaster_kind kind, const char *msg,
                   int errnoval)
{
    DisasterState *ds = user;

    ds->lock_free &= xlev__test_lock_is_free(ds->ctx);
    if (g_str_has_prefix(msg, "domain events:")) {
        ds->n_domain++;
        if (kind != XLEV_DISASTER_NOMEM || errnoval != ENOMEM)
            ds->wrong_kind++;
    } else {
        ds->n_other++;
    }
}

static void
test_disaster_reaches_ctx_hook(DomFixture *f, gconstpointer data)
{
    DisasterState st = { .ctx = f->ctx, .lock_free = 1 };
    xlev_evgen_domain_introduce *gen = NULL;
    char buf[256];
    xlev_event *ev;
    ssize_t n;
    int saved_stderr, capture;
    int nth;

    xlev_ctx_set_disaster_hook(f->ctx, domain_disaster_cb, &st);
    g_assert_cmpint(xlev_evenable_domain_introduce(f->ctx, 7, &gen), ==, 0);

    capture = g_file_open_tmp("xlev-stderr-XXXXXX", NULL, NULL);
    g_assert_cmpint(capture, >=, 0);
    saved_stderr = dup(STDERR_FILENO);
    g_assert_cmpint(saved_stderr, >=, 0);
    g_assert_cmpint(dup2(capture, STDERR_FILENO), ==, STDERR_FILENO);

    for (nth = 1; nth <= DISASTER_SWEEP_MAX && !st.n_domain; nth++) {
        gint64 deadline = dom_deadline(DOM_QUIET_MS);

        dom_introduce(f->xsh, 40 + nth);
        xlev__test_fail_alloc(nth);
        while (!st.n_domain && g_get_monotonic_time() < deadline) {
            sweep_run_once(f->ctx);
            if (xlev_event_check(f->ctx, &ev, XLEV_EVENTMASK_ALL, NULL,
                                 NULL) == 0) {
                xlev_event_free(f->ctx, ev);
                break; /* this round's allocation came too late */
            }
        }
        xlev__test_fail_alloc(0);
    }

    fflush(stderr);
    g_assert_cmpint(dup2(saved_stderr, STDERR_FILENO), ==, STDERR_FILENO);
    close(saved_stderr);
    g_assert_cmpint(lseek(capture, 0, SEEK_SET), ==, 0);
    n = read(capture, buf, sizeof(buf) - 1);
    close(capture);
    g_assert_cmpint(n, >=, 0);
    buf[n] = '\0';
    g_assert_cmpstr(buf, ==, "");

    g_test_message("domain-event disaster after %d rounds (%d other)",
                   nth - 1, st.n_other);
    g_assert_cmpint(st.n_domain, ==, 1);
    g_assert_cmpint(st.wrong_kind, ==, 0);
    g_assert_true(st.lock_free);

    /* the generator still works */
    dom_introduce(f->xsh, 39);
    for (;;) {
        ev = dom_next_event(f->ctx);
        if (ev->domid == 39)
            break;
        xlev_event_free(f->ctx, ev); /* one of the sweep's, late */
    }
    g_assert_cmpuint(ev->for_user, ==, 7);
    xlev_event_free(f->ctx, ev);
    xlev_evdisable_domain_introduce(f->ctx, gen);
    xlev_ctx_set_disaster_hook(f->ctx, NULL, NULL);
}

static void
test_event_wait(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *gen = NULL;
    xlev_event *ev = NULL;

    SKIP_WITHOUT_HYPERVISOR();
    dom_set(&f->fx, 18, "gone");
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 18, 9, &gen), ==, 0);
    g_assert_cmpint(
        xlev_event_wait(f->ctx, &ev,
                        XLEV_EVENTMASK(XLEV_EVENT_TYPE_DOMAIN_DEATH), NULL,
                        NULL),
        ==, 0);
    g_assert_nonnull(ev);
    g_assert_cmpuint(ev->domid, ==, 18);
    xlev_event_free(f->ctx, ev);
    xlev_evdisable_domain_death(f->ctx, gen);
}

static void
test_ctx_free_with_generators(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *gen = NULL;
    xlev_evgen_domain_introduce *igen = NULL;
    xlev_evgen_disk_eject *egen = NULL;

    SKIP_WITHOUT_HYPERVISOR();
    dom_set(&f->fx, 19, "gone");
    dom_introduce(f->xsh, 4);
    dom_add_vbd(f->xsh, 4, 768);
    g_assert_cmpint(xlev_evenable_domain_death(f->ctx, 19, 0, &gen), ==, 0);
    g_assert_cmpint(xlev_evenable_domain_introduce(f->ctx, 0, &igen), ==, 0);
    g_assert_cmpint(xlev_evenable_disk_eject(f->ctx, 4, "hda", 0, &egen), ==,
                    0);
    dom_run_once(f->ctx, POLL_SLICE_MS); /* queue something, maybe */
    /* Freed with generators enabled and events queued: no leak, no
     * crash (valgrind and ASan check). */
    xlev_ctx_free(f->ctx);
    f->ctx = NULL;
}

/* ------------------------------------------------------------------------ */
/* Asking the hypervisor directly */

static const xlev_dominfo *
info_find(const xlev_dominfo *infos, size_t n, uint32_t domid)
{
    for (size_t i = 0; i < n; i++)
        if (infos[i].domid == domid)
            return &infos[i];
    return NULL;
}

/* The entry of @domid, which must be there. */
static const xlev_dominfo *
info_get(const xlev_dominfo *infos, size_t n, uint32_t domid)
{
    const xlev_dominfo *d = info_find(infos, n, domid);

    if (!d)
        g_error("domain %u is not listed", domid);
    return d;
}

static void
test_list_info(DomFixture *f, gconstpointer data)
{
    xlev_dominfo *infos = NULL;
    const xlev_dominfo *d;
    size_t n = 0;

    g_assert_true(xlev_domain_hypervisor_available(f->ctx));
    g_assert_false(xlev_domain_hypervisor_available(NULL));
    g_assert_cmpint(xlev_domain_list_info(f->ctx, NULL, &n), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_domain_list_info(NULL, &infos, &n), ==,
                    XLEV_ERROR_INVAL);

    dom_introduce(f->xsh, 40);
    dom_introduce(f->xsh, 41);
    dom_introduce(f->xsh, 42);
    dom_set(&f->fx, 40, "shutdown 4"); /* SHUTDOWN_watchdog */
    dom_set(&f->fx, 41, "crashed");
    g_assert_cmpint(xlev_domain_list_info(f->ctx, &infos, &n), ==, 0);
    g_assert_nonnull(infos);
    for (size_t i = 1; i < n; i++)
        g_assert_cmpuint(infos[i - 1].domid, <, infos[i].domid);
    d = info_get(infos, n, 0);
    g_assert_false(d->shutdown || d->dying);
    d = info_get(infos, n, 40);
    g_assert_true(d->shutdown);
    g_assert_false(d->dying);
    g_assert_cmpint(d->shutdown_reason, ==, XLEV_SHUTDOWN_WATCHDOG);
    d = info_get(infos, n, 41);
    g_assert_true(d->shutdown);
    g_assert_cmpint(d->shutdown_reason, ==, XLEV_SHUTDOWN_CRASH);
    d = info_get(infos, n, 42);
    g_assert_false(d->shutdown || d->dying);
    free(infos);

    /* A dying domain says so; a gone one is not listed. */
    dom_set(&f->fx, 40, "dying");
    dom_set(&f->fx, 42, "gone");
    g_assert_cmpint(xlev_domain_list_info(f->ctx, &infos, &n), ==, 0);
    d = info_get(infos, n, 40);
    g_assert_true(d->dying);
    g_assert_null(info_find(infos, n, 42));
    free(infos);
}

/* ------------------------------------------------------------------------ */
/* Without the hypervisor */

static int
no_hypervisor_child(void)
{
    xlev_ctx *ctx = NULL;
    xlev_evgen_domain_death *gen = NULL;
    xlev_evgen_domain_introduce *igen = NULL;
    struct xs_handle *h;
    xlev_event *ev = NULL;
    int rc;

    if (xs_fixture_hypervisor_preloaded()) {
        g_printerr("child: the stand-in is preloaded\n");
        return 2;
    }
    rc = xlev_ctx_new(NULL, &ctx);
    if (rc) {
        g_printerr("child: xlev_ctx_new: %s\n", xlev_strerror(rc));
        return 3;
    }
    rc = xlev_evenable_domain_death(ctx, 5, 0, &gen);
    if (rc != XLEV_ERROR_NO_HYPERVISOR || gen) {
        g_printerr("child: evenable_domain_death gave %d\n", rc);
        return 4;
    }
    if (xlev_domain_hypervisor_available(ctx)) {
        g_printerr("child: the hypervisor is said to be available\n");
        return 8;
    }
    {
        xlev_dominfo *infos = (xlev_dominfo *)1;
        size_t n = 1;

        rc = xlev_domain_list_info(ctx, &infos, &n);
        if (rc != XLEV_ERROR_NO_HYPERVISOR || infos || n) {
            g_printerr("child: xlev_domain_list_info gave %d\n", rc);
            return 9;
        }
    }
    /* Introduce events (a watch and xenstore reads) still work. */
    rc = xlev_evenable_domain_introduce(ctx, 1, &igen);
    if (rc) {
        g_printerr("child: evenable_domain_introduce: %s\n", xlev_strerror(rc));
        return 5;
    }
    h = dom_open_xs();
    dom_introduce(h, 30);
    ev = dom_wait_event(ctx, XLEV_EVENTMASK_ALL, DOM_EVENT_TIMEOUT_MS);
    if (!ev || ev->type != XLEV_EVENT_TYPE_DOMAIN_INTRODUCE
        || ev->domid != 30) {
        g_printerr("child: no introduce event\n");
        return 7;
    }
    xlev_event_free(ctx, ev);
    xlev_evdisable_domain_introduce(ctx, igen);
    xs_close(h);
    xlev_ctx_free(ctx);
    return 0;
}

static void
test_no_hypervisor(DomFixture *f, gconstpointer data)
{
    dom_spawn_no_hypervisor_child();
}

/* A context that reconnects re-synchronises its death generators from the
 * @releaseDomain watch's one event after the reconnect: a domain that died
 * while the daemon was down (the events of that time are lost) is reported
 * dead once; one still running gives nothing; later deaths come as
 * usual. */
static void
test_reconnect_death_during_outage(DomFixture *f, gconstpointer data)
{
    xlev_evgen_domain_death *g5 = NULL, *g6 = NULL;
    g_autoptr(GError) error = NULL;
    struct xs_handle *xsh2;

    SKIP_WITHOUT_HYPERVISOR();
    g_assert_cmpint(xlev_ctx_set_reconnect(f->ctx, XLEV_RECONNECT_AUTOMATIC,
                                           NULL, NULL),
                    ==, 0);
    g5 = dom_introduce_followed(f, 5, 5);
    g6 = dom_introduce_followed(f, 6, 6);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);

    /* The daemon crashes and comes back; before this context notices
     * (its loop is not running), domain 5 goes away. */
    g_assert_true(xs_fixture_restart(&f->fx, &error));
    g_assert_no_error(error);
    dom_set(&f->fx, 5, "gone");

    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 5, 5);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    g_assert_true(xlev_ctx_is_connected(f->ctx));

    /* Real events again, from the new daemon. */
    xsh2 = dom_open_xs();
    dom_introduce(xsh2, 6);
    dom_set(&f->fx, 6, "dying");
    dom_expect_free(f->ctx, XLEV_EVENT_TYPE_DOMAIN_DEATH, 6, 6);
    dom_assert_quiet(f->ctx, DOM_QUIET_MS);
    xs_close(xsh2);
    xlev_evdisable_domain_death(f->ctx, g5);
    xlev_evdisable_domain_death(f->ctx, g6);
}

int
main(int argc, char **argv)
{
    dom_test_init(&argc, &argv, no_hypervisor_child);

#define ADD(name, fn)                                                          \
    g_test_add("/xlev/domain/core/" name, DomFixture, NULL, dom_fixture_setup, \
               fn, dom_fixture_teardown)
    ADD("shutdown-then-death", test_shutdown_then_death);
    ADD("crash-is-shutdown-crash", test_crash_is_shutdown_crash);
    ADD("death-without-shutdown", test_death_without_shutdown);
    ADD("shutdown-and-dying-in-one-look", test_shutdown_and_dying_in_one_look);
    ADD("nonexistent-domid-dies-at-once", test_nonexistent_domid_dies_at_once);
    ADD("two-generators-one-domid", test_two_generators_one_domid);
    ADD("evdisable-before-event", test_evdisable_before_event);
    ADD("burst-200-deaths", test_burst_200);
    ADD("domid-reused", test_domid_reused);
    ADD("disk-eject", test_disk_eject);
    ADD("introduce", test_introduce);
    ADD("introduce-present-then-followed", test_introduce_present_followed);
    ADD("release-lists-in-batches", test_release_lists_in_batches);
    ADD("hooks-delivery-and-evdisable-inside", test_hooks_delivery);
    ADD("listener-keeps-application-hooks", test_listener_keeps_app_hooks);
    ADD("disaster-reaches-context-hook", test_disaster_reaches_ctx_hook);
    ADD("event-wait", test_event_wait);
    ADD("ctx-free-with-generators", test_ctx_free_with_generators);
    ADD("list-info", test_list_info);
    ADD("no-hypervisor", test_no_hypervisor);
    ADD("reconnect-death-during-outage", test_reconnect_death_during_outage);
#undef ADD
    g_test_add_func("/xlev/domain/core/vdev-devid", test_vdev_devid);

    return g_test_run();
}
