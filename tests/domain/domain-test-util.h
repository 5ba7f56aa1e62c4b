/* domain-test-util.h: what the domain event tests share
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Guests are played by the test: it introduces each one to the real
 * xenstored (xs_introduce_domain, as a toolstack does; the port must be
 * non-zero) and changes its state through the fixture's hypervisor
 * stand-in (xs_fixture_set_domain), which xenstored then reports with
 * @releaseDomain.
 */
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <xenstore.h>

#include "xs-fixture.h"

/* Deadline for an expected event. */
#define DOM_EVENT_TIMEOUT_MS 3000

/* How long we wait to be sure an event does not come. */
#define DOM_QUIET_MS 200

/* The g_get_monotonic_time() at which @ms (scaled for valgrind) from now
 * will have passed. */
static inline gint64
dom_deadline(guint ms)
{
    return g_get_monotonic_time() + (gint64)xs_fixture_scale_ms(ms) * 1000;
}

/* The event-channel port a test guest introduces itself with. */
#define DOM_GUEST_PORT 5

/* The argument that runs a test binary as its own no-hypervisor child:
 * the same program without the stand-in, which checks that domain death
 * cannot be followed and that everything else still works. */
#define DOM_NO_HYPERVISOR_CHILD_ARG "--no-hypervisor-child"

#define SKIP_WITHOUT_HYPERVISOR()                                              \
    do {                                                                       \
        if (!xs_fixture_hypervisor_preloaded()) {                              \
            g_test_skip("the hypervisor stand-in is not preloaded");           \
            return;                                                            \
        }                                                                      \
    } while (0)

/* The start of a domain test's main(): as the no-hypervisor child, exits
 * with what child() returns; otherwise re-executes with the stand-in
 * preloaded (when run by hand) and initialises g_test. */
static inline void
dom_test_init(int *argc, char ***argv, int (*child)(void))
{
    if (*argc == 2 && strcmp((*argv)[1], DOM_NO_HYPERVISOR_CHILD_ARG) == 0)
        exit(child());
    xs_fixture_reexec_with_hypervisor(*argv);
    g_test_init(argc, argv, NULL);
}

/* Runs this binary as its no-hypervisor child (LD_PRELOAD unset) and
 * fails the test unless it succeeds. */
static inline void
dom_spawn_no_hypervisor_child(void)
{
    g_autofree char *self_path = g_file_read_link("/proc/self/exe", NULL);
    g_auto(GStrv) envp = g_get_environ();
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL, *err = NULL;
    char *argv[] = { self_path, (char *)DOM_NO_HYPERVISOR_CHILD_ARG, NULL };
    int status = -1;

    envp = g_environ_unsetenv(envp, "LD_PRELOAD");
    g_assert_true(g_spawn_sync(NULL, argv, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("no-hypervisor child failed (status %d): %s%s", status, out,
                err);
}

/* The frontend path of a guest's vbd and the backend path the tests
 * give it (domain 0's blkback layout). */
#define DOM_FRONTEND_FMT "/local/domain/%u/device/vbd/%d"
#define DOM_BACKEND_FMT "/local/domain/0/backend/vbd/%u/%d"

static inline struct xs_handle *
dom_open_xs(void)
{
    struct xs_handle *h = xs_open(0);

    g_assert_nonnull(h);
    return h;
}

/* Makes /local/domain/<domid> (as a toolstack does before introducing)
 * and introduces the domain. */
static inline void
dom_introduce(struct xs_handle *h, unsigned int domid)
{
    g_autofree char *path = g_strdup_printf("/local/domain/%u/name", domid);
    g_autofree char *name = g_strdup_printf("guest%u", domid);

    g_assert_true(xs_write(h, XBT_NULL, path, name, strlen(name)));
    g_assert_true(xs_introduce_domain(h, domid, 0, DOM_GUEST_PORT));
}

static inline void
dom_set(XsFixture *fx, unsigned int domid, const char *state)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(xs_fixture_set_domain(fx, domid, state, &error));
    g_assert_no_error(error);
}

/* Writes "<domid> <state>" for every domid in [first, first + n) to the
 * stand-in's control FIFO in one write(2) (below PIPE_BUF, so the daemon
 * sees them together), then waits until the daemon has acted on all of
 * them (a final set_domain, which waits for its own line). */
static inline void
dom_set_burst(XsFixture *fx, unsigned int first, unsigned int n,
              const char *state, unsigned int sync_domid)
{
    g_autofree char *ctl = g_build_filename(fx->rundir, "ctl", NULL);
    g_autoptr(GString) lines = g_string_new(NULL);
    int fd;

    for (unsigned int i = 0; i < n; i++)
        g_string_append_printf(lines, "%u %s\n", first + i, state);
    g_assert_cmpuint(lines->len, <=, 4096);
    fd = open(ctl, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, lines->str, lines->len), ==, (gssize)lines->len);
    close(fd);
    dom_set(fx, sync_domid, "running");
}

/* Sets up a guest's vbd <devid>: frontend pointing at the backend, and
 * the backend's eject node at "0". */
static inline void
dom_add_vbd(struct xs_handle *h, unsigned int domid, int devid)
{
    g_autofree char *fe
        = g_strdup_printf(DOM_FRONTEND_FMT "/backend", domid, devid);
    g_autofree char *be = g_strdup_printf(DOM_BACKEND_FMT, domid, devid);
    g_autofree char *ej = g_strdup_printf("%s/eject", be);

    g_assert_true(xs_write(h, XBT_NULL, fe, be, strlen(be)));
    g_assert_true(xs_write(h, XBT_NULL, ej, "0", 1));
}

static inline char *
dom_read(struct xs_handle *h, const char *path)
{
    unsigned int len;

    return xs_read(h, XBT_NULL, path, &len);
}
