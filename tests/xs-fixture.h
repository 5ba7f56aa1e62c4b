/* xs-fixture.h: a private, real xenstored for tests and the demo.
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * What it is
 * ----------
 * xs_fixture_start() starts one of Debian's real xenstore daemons in a
 * private run directory $D, with tests/fakexen (libfakexen.so) preloaded into
 * it to stand in for the hypervisor, waits until its socket answers a
 * request, and points this process's libxenstore at it
 * (XENSTORED_PATH=$D/socket).  Everything the daemon does (tree, permissions,
 * transactions, watches, quotas, @introduceDomain / @releaseDomain) is the
 * real daemon's behaviour.  xs_fixture_stop() kills it, reaps it and removes
 * $D.  No test ever talks to the system's own xenstored.
 *
 * Which daemon
 * ------------
 * The C xenstored by default; the OCaml oxenstored (the one XenServer and
 * XCP-ng run) when XLEV_TEST_XENSTORED=oxenstored is in the test's
 * environment.  `meson test --setup oxenstored` sets it for every test, and
 * tools/check runs the whole suite once that way.  The same variable may
 * also name a program by path (its file name "oxenstored" selects the OCaml
 * daemon's command line).  tests/python/xsfixture.py reads the same variable.
 *
 *   xenstored:  xenstored -N -F $D/pid, with XENSTORED_RUNDIR=$D
 *   oxenstored: oxenstored --no-fork --config-file $D/oxenstored.conf
 *               --pid-file $D/pid; the fixture writes the configuration
 *               (xenstored-kva and xenstored-port, pid and log files in $D),
 *               and the stand-in moves oxenstored's compiled-in
 *               /var/run/xenstored (its socket, its database dumps) into $D
 *               and clamps its RLIMIT_NOFILE request to the hard limit.
 *
 * Both pass the same tests; where they really behave differently, a test
 * branches once on xs_fixture_daemon() (or fx->daemon) and says why, and
 * tests/DAEMONS.md lists the difference.
 *
 * Use with g_test:
 *
 *   g_test_add ("/xlev/thing/does-x", XsFixture, NULL,
 *               xs_fixture_setup, test_does_x, xs_fixture_teardown);
 *
 * or by hand: `XsFixture fx; if (!xs_fixture_start (&fx, &error)) ...;
 * ...; xs_fixture_stop (&fx);`.  start() initialises the whole struct, so it
 * need not be zeroed; stop() may be called again, and after a failed start.
 *
 * Threads: a fixture belongs to the thread that started it.  start() and
 * stop() change this process's environment (XENSTORED_PATH,
 * XLEV_FAKEXEN_DIR): call them while no other thread reads the environment
 * (test setup and teardown).  One fixture at a time per process, since the
 * environment names one daemon.
 *
 * A test killed with SIGKILL runs no teardown: the daemon watches this
 * process's pid (XLEV_FAKEXEN_WATCH_PID) and, when it ends, removes $D and
 * exits.  It is then a zombie until PID 1 reaps it.
 *
 * Domains and libxenctrl inside the test process
 * ----------------------------------------------
 * The daemon keeps a domain table in $D/domains (domain 0 and every unlisted
 * domid below DOMID_FIRST_RESERVED exist and run).  xs_fixture_set_domain()
 * changes one domain's state through the daemon's control FIFO; xenstored
 * reacts as with a real hypervisor (shutdown/crashed: @releaseDomain;
 * dying/gone: the domain is dropped and @releaseDomain fires).
 *
 * Plain xenstore traffic needs nothing preloaded in the test process.  A test
 * that calls libxenctrl itself (xc_domain_getinfolist, e.g. the library's
 * domain-death events) must run with libfakexen.so preloaded, so that its
 * libxenctrl sees the same table.  The chosen way:
 *
 *  1. meson runs the test binary with the stand-in preloaded:
 *
 *       test('domain-events', exe, protocol: 'tap', args: ['--tap'],
 *            suite: 'glib', depends: fakexen_lib,
 *            env: ['LD_PRELOAD=' + fakexen_path])
 *
 *     (in a sanitizer build also 'ASAN_OPTIONS=verify_asan_link_order=0',
 *     available as the meson list `fakexen_test_env`, which holds both).
 *     Preloaded into a process that is not the daemon, the stand-in answers
 *     only the libxenctrl calls, the /proc/xen files and the xenbus device
 *     (below); event channels and grant tables go to the real libraries.
 *  2. main() calls xs_fixture_reexec_with_hypervisor (argv) first: when the
 *     stand-in is not preloaded yet (the binary run by hand), it re-executes
 *     the program with it; otherwise it returns at once.
 *  3. xs_fixture_start() sets XLEV_FAKEXEN_DIR=$D in this process, which is
 *     where the preloaded stand-in reads the table from (on every call).
 *     Tests that need it check xs_fixture_hypervisor_preloaded() and
 *     g_test_skip() otherwise.
 *
 * The xenbus device
 * -----------------
 * libxenstore has a second transport: the xenbus device (/dev/xen/xenbus,
 * or /proc/xen/xenbus), which a domain uses when xenstored is not a local
 * socket (a guest; dom0 with a xenstore stub domain).  Preloaded into the
 * test process with a fixture started (XLEV_FAKEXEN_DIR set), the stand-in
 * makes both paths exist as character devices, and open() of either returns
 * a unix socket connected to the private daemon ($D/socket): libxenstore's
 * device code path (stat: not a socket, so open, then the same wire
 * protocol) then talks to the real daemon, either of the two.  The daemon
 * sees a domain-0 socket client, not a guest: this proves the transport,
 * not a guest's permissions.
 *
 * A test selects it with (1. and 2. above for the preload)
 *
 *   xs_fixture_select_transport (fx, XS_FIXTURE_TRANSPORT_XENBUS, &error);
 *
 * which sets XENSTORED_PATH=/dev/xen/xenbus in this process: xs_open(0)
 * takes that path whatever the machine has at /var/run/xenstored/socket.
 * XS_FIXTURE_TRANSPORT_SOCKET goes back to $D/socket; stop() restores
 * XENSTORED_PATH either way.  With XENSTORED_PATH unset and no socket at
 * libxenstore's default path, xs_open(0) finds the stand-in's device by
 * itself (access("/dev/xen/xenbus")).  For a child program, set
 * XENSTORED_PATH=/dev/xen/xenbus in xs_fixture_hypervisor_environ()'s
 * result.  /xlev/fixture/xenbus-device (tests/fixture) is the example.
 *
 * A child program that must see the same domains gets its environment from
 * xs_fixture_hypervisor_environ() (for g_spawn), or after
 * xs_fixture_export_hypervisor_env() inherits it.
 *
 * Configuration (environment of the test process)
 * -----------------------------------------------
 *   XLEV_TEST_XENSTORED           the daemon: "xenstored" (default: meson's
 *                                 `xenstored` option), "oxenstored" (the
 *                                 same directory's oxenstored) or a path
 *   XLEV_TEST_FAKEXEN             the stand-in (default: the build's
 *                                 tests/fakexen/libfakexen.so)
 *   XLEV_TEST_XENSTORED_WRAPPER   a command prefix for the daemon, e.g.
 *                                 "valgrind -q --error-exitcode=1"; the
 *                                 daemon is then stopped with SIGTERM first so
 *                                 that valgrind writes its report
 *   XLEV_UNDER_VALGRIND           set by the valgrind test setup: deadlines
 *                                 are stretched
 * Set for the daemon by the fixture (names shared with fakexen.c):
 *   XLEV_FAKEXEN_DIR, XLEV_FAKEXEN_ROLE=daemon, XLEV_FAKEXEN_WATCH_PID,
 *   XENSTORED_RUNDIR; XENSTORED_PATH is removed from its environment.
 */

#ifndef XLEV_TESTS_XS_FIXTURE_H
#define XLEV_TESTS_XS_FIXTURE_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _XsFixturePrivate XsFixturePrivate;

/* The two daemons the fixture can start. */
typedef enum {
    XS_FIXTURE_DAEMON_XENSTORED,  /* the C xenstored (the default) */
    XS_FIXTURE_DAEMON_OXENSTORED, /* the OCaml oxenstored */
} XsFixtureDaemon;

typedef struct {
    char *rundir;           /* private temp dir $D */
    char *socket_path;      /* $D/socket */
    GPid pid;               /* the daemon */
    XsFixtureDaemon daemon; /* which one */
    /*< private >*/
    XsFixturePrivate *priv;
} XsFixture;

/* Starts a private daemon (env -u XENSTORED_PATH, XENSTORED_RUNDIR=$D,
 * LD_PRELOAD=fakexen, the command line above), waits until its socket answers
 * a request (a deadline; on each poll checks the daemon is alive; a failure
 * reports the daemon's output), then sets XENSTORED_PATH=$D/socket and
 * XLEV_FAKEXEN_DIR=$D in this process.  Returns FALSE with @error set (and
 * nothing left behind) on failure. */
gboolean xs_fixture_start(XsFixture *fx, GError **error);

/* SIGKILL (SIGTERM first when the daemon runs under valgrind), waitpid,
 * removes $D, restores XENSTORED_PATH and XLEV_FAKEXEN_DIR (and LD_PRELOAD if
 * exported).  Idempotent. */
void xs_fixture_stop(XsFixture *fx);

/* Kills the daemon with SIGKILL (a crash: no graceful shutdown, valgrind's
 * report is lost), reaps it and starts the same daemon again in the same
 * $D, listening on the same $D/socket, with the same domain table; waits
 * as start() does.  The new daemon's tree is fresh (domain 0's), as after
 * a real restart, and so is the stand-in's domain table (every domain runs
 * again: xs_fixture_set_domain() then changes the new daemon's).  Clients connected to the old one see their connection
 * closed.  FALSE with @error set if the new daemon does not answer (the
 * fixture can still be stopped). */
gboolean xs_fixture_restart(XsFixture *fx, GError **error);

/* How this process's libxenstore reaches the daemon (see "The xenbus device"
 * above). */
typedef enum {
    XS_FIXTURE_TRANSPORT_SOCKET, /* XENSTORED_PATH=$D/socket (the default) */
    XS_FIXTURE_TRANSPORT_XENBUS, /* XENSTORED_PATH=/dev/xen/xenbus */
} XsFixtureTransport;

/* The device path the stand-in answers (/proc/xen/xenbus too). */
#define XS_FIXTURE_XENBUS_PATH "/dev/xen/xenbus"

/* Points XENSTORED_PATH in this process at @transport.  The xenbus device
 * needs the stand-in preloaded (G_IO_ERROR_NOT_SUPPORTED otherwise).  Call
 * it, like start(), while no other thread reads the environment; handles
 * opened before keep their transport. */
gboolean xs_fixture_select_transport(XsFixture *fx,
                                     XsFixtureTransport transport,
                                     GError **error);

/* g_test_add()-compatible wrappers: setup asserts that start succeeded. */
void xs_fixture_setup(XsFixture *fx, gconstpointer data);
void xs_fixture_teardown(XsFixture *fx, gconstpointer data);

/* Writes "<domid> <state>" to the control FIFO and waits until the daemon
 * has acted on it, so that on return libxenctrl (with the stand-in
 * preloaded) in this process sees the new state.  @state is one of
 * "running", "shutdown" (reason 0), "shutdown <reason>" (0..255), "crashed",
 * "dying", "gone".  @domid must be 1..DOMID_FIRST_RESERVED-1 (domain 0
 * always runs).  xenstored's reaction (@releaseDomain) follows shortly after:
 * wait for the watch event, not for this call.  Fails clearly if the daemon
 * died or did not act before the deadline. */
gboolean xs_fixture_set_domain(XsFixture *fx, unsigned int domid,
                               const char *state, GError **error);

/* Writes "evtchn <domid>": a guest's kick on its event channel (wakes the
 * daemon, which then reads the guest's ring).  Waits like set_domain. */
gboolean xs_fixture_kick(XsFixture *fx, unsigned int domid, GError **error);

/* The environment (a copy of this process's, transfer full) a child program
 * needs to see the same daemon and domain table: XENSTORED_PATH,
 * XLEV_FAKEXEN_DIR and LD_PRELOAD with the stand-in appended. */
gchar **xs_fixture_hypervisor_environ(XsFixture *fx);

/* Sets those variables in this process (for children spawned later);
 * stop() restores LD_PRELOAD. */
void xs_fixture_export_hypervisor_env(XsFixture *fx);

/* TRUE if the stand-in is preloaded into this process (its libxenctrl
 * calls answer from the fixture's domain table). */
gboolean xs_fixture_hypervisor_preloaded(void);

/* Re-executes the program (/proc/self/exe, @argv) with the stand-in
 * preloaded, unless it is already preloaded or a re-exec was tried.
 * Returns only if nothing was done (or exec failed). */
void xs_fixture_reexec_with_hypervisor(char **argv);

/* TRUE if the daemon has not exited (reaps it if it has). */
gboolean xs_fixture_daemon_alive(XsFixture *fx);

/* The daemon's stdout and stderr so far (transfer full; "" if none). */
char *xs_fixture_daemon_output(XsFixture *fx);

/* TRUE if a xenstored listening at @path answers one request within
 * @timeout_ms.  Touches nothing else; the demo uses it to decide between the
 * system's daemon and a private one. */
gboolean xs_fixture_socket_answers(const char *path, guint timeout_ms);

/* The daemon xs_fixture_start() starts, as XLEV_TEST_XENSTORED chooses
 * (read on each call), and its name ("xenstored" or "oxenstored"). */
XsFixtureDaemon xs_fixture_daemon(void);
const char *xs_fixture_daemon_name(void);

/* The daemon's program and the stand-in the fixture uses (chosen by
 * XLEV_TEST_XENSTORED / XLEV_TEST_FAKEXEN). */
const char *xs_fixture_xenstored_path(void);
const char *xs_fixture_fakexen_path(void);

/* Milliseconds scaled for valgrind (XLEV_UNDER_VALGRIND or a wrapped
 * daemon): a helper for tests' own deadlines. */
guint xs_fixture_scale_ms(guint ms);

/* A test acting as a guest over its ring page (a 4 KiB
 * struct xenstore_domain_interface, mapped from $D/ring-<domid> after
 * xs_introduce_domain): _put writes @len bytes of a request, _get waits
 * (until @deadline, g_get_monotonic_time() µs; the test fails after it)
 * for @len bytes of the reply and takes them. Assertions, not errors:
 * test code only. */
struct xenstore_domain_interface;
void xs_fixture_ring_put(struct xenstore_domain_interface *intf,
                         const void *data, size_t len);
void xs_fixture_ring_get(struct xenstore_domain_interface *intf, void *data,
                         size_t len, gint64 deadline);

G_END_DECLS

#endif /* XLEV_TESTS_XS_FIXTURE_H */
