/* xs-fixture.c: a private, real xenstored for tests and the demo.
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See xs-fixture.h for the contract.  Nothing here aborts: failures are
 * GErrors (only xs_fixture_setup, a test helper, asserts).
 */

#include "xs-fixture.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <stdint.h>

#include <xen/io/xs_wire.h>

#ifndef XS_FIXTURE_XENSTORED
#error "XS_FIXTURE_XENSTORED (the daemon's path) must be defined by meson"
#endif
#ifndef XS_FIXTURE_OXENSTORED
#error "XS_FIXTURE_OXENSTORED (oxenstored's path) must be defined by meson"
#endif
#ifndef XS_FIXTURE_FAKEXEN
#error "XS_FIXTURE_FAKEXEN (libfakexen.so's path) must be defined by meson"
#endif

/* How long a daemon may take to answer its first request: it takes
 * 25-60 ms (XENSTORE-TESTING.md); the margin is for loaded CI machines. */
#define XS_FIXTURE_START_TIMEOUT_MS 5000

/* How long the daemon may take to act on a control line. */
#define XS_FIXTURE_CONTROL_TIMEOUT_MS 5000

/* How long a daemon under valgrind gets to write its report after SIGTERM. */
#define XS_FIXTURE_TERM_TIMEOUT_MS 10000

/* Deadlines are multiplied by this under valgrind (the valgrind test setup
 * uses the same factor for meson's timeouts). */
#define XS_FIXTURE_VALGRIND_FACTOR 8

/* Polling intervals. */
#define XS_FIXTURE_START_POLL_US 5000
#define XS_FIXTURE_CONTROL_POLL_US 1000

/* Output of the daemon quoted in an error message, at most. */
#define XS_FIXTURE_OUTPUT_MAX 4096

/* Control line, at most (fakexen's FAKEXEN_LINE_MAX is 128). */
#define XS_FIXTURE_LINE_MAX 100

/* Domain ids from here up are reserved (DOMID_FIRST_RESERVED, xen/xen.h). */
#define XS_FIXTURE_DOMID_FIRST_RESERVED 0x7FF0U

/* The files oxenstored is given in $D: its configuration (there is no
 * command-line option for most of it) and its two logs. */
#define XS_FIXTURE_OXENSTORED_CONF "oxenstored.conf"
#define XS_FIXTURE_OXENSTORED_LOG "oxenstored.log"
#define XS_FIXTURE_OXENSTORED_ACCESS_LOG "oxenstored-access.log"

/* Environment variable names (shared with tests/fakexen/fakexen.c). */
#define ENV_FAKEXEN_DIR "XLEV_FAKEXEN_DIR"
#define ENV_FAKEXEN_ROLE "XLEV_FAKEXEN_ROLE"
#define ENV_FAKEXEN_WATCH_PID "XLEV_FAKEXEN_WATCH_PID"
#define ENV_FAKEXEN_REEXEC "XLEV_FAKEXEN_REEXEC"
#define ENV_TEST_XENSTORED "XLEV_TEST_XENSTORED"
#define ENV_TEST_FAKEXEN "XLEV_TEST_FAKEXEN"
#define ENV_TEST_WRAPPER "XLEV_TEST_XENSTORED_WRAPPER"
#define ENV_UNDER_VALGRIND "XLEV_UNDER_VALGRIND"

struct _XsFixturePrivate {
    char *log_path;               /* the daemon's stdout and stderr */
    char *table_path;             /* $D/domains */
    char *ctl_path;               /* $D/ctl */
    int ctl_fd;                   /* -1 until the first control line */
    guint64 lines_sent;           /* control lines written so far */
    gboolean reaped;              /* the daemon was waited for */
    int wait_status;              /* its status, once reaped */
    gboolean gentle_stop;         /* SIGTERM first (valgrind) */
    XsFixtureTransport transport; /* what XENSTORED_PATH names */
    /* This process's environment before start(), restored by stop(). */
    char *saved_xenstored_path;
    char *saved_fakexen_dir;
    gboolean exported_ld_preload;
    char *saved_ld_preload;
};

/* ------------------------------------------------------------------------ */

/* XLEV_TEST_XENSTORED as set, or the default daemon's name. */
static const char *
daemon_setting(void)
{
    const char *p = g_getenv(ENV_TEST_XENSTORED);

    return p && *p ? p : "xenstored";
}

XsFixtureDaemon
xs_fixture_daemon(void)
{
    const char *p = daemon_setting();
    const char *base = strrchr(p, '/');

    return g_str_equal(base ? base + 1 : p, "oxenstored")
               ? XS_FIXTURE_DAEMON_OXENSTORED
               : XS_FIXTURE_DAEMON_XENSTORED;
}

const char *
xs_fixture_daemon_name(void)
{
    return xs_fixture_daemon() == XS_FIXTURE_DAEMON_OXENSTORED ? "oxenstored"
                                                               : "xenstored";
}

/* The name of the daemon a started fixture runs. */
static const char *
fixture_daemon_name(XsFixture *fx)
{
    return fx->daemon == XS_FIXTURE_DAEMON_OXENSTORED ? "oxenstored"
                                                      : "xenstored";
}

const char *
xs_fixture_xenstored_path(void)
{
    const char *p = daemon_setting();

    if (g_str_equal(p, "xenstored"))
        return XS_FIXTURE_XENSTORED;
    if (g_str_equal(p, "oxenstored"))
        return XS_FIXTURE_OXENSTORED;
    return p;
}

const char *
xs_fixture_fakexen_path(void)
{
    const char *p = g_getenv(ENV_TEST_FAKEXEN);

    return p && *p ? p : XS_FIXTURE_FAKEXEN;
}

static gboolean
daemon_wrapped_by_valgrind(void)
{
    const char *w = g_getenv(ENV_TEST_WRAPPER);

    return w && strstr(w, "valgrind") != NULL;
}

guint
xs_fixture_scale_ms(guint ms)
{
    const char *v = g_getenv(ENV_UNDER_VALGRIND);

    if ((v && *v && strcmp(v, "0") != 0) || daemon_wrapped_by_valgrind())
        return ms * XS_FIXTURE_VALGRIND_FACTOR;
    return ms;
}

/* ------------------------------------------------------------------------ */
/* Asking a socket for one reply                                            */

static gboolean
write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (size_t)n;
    }
    return TRUE;
}

/* Reads exactly len bytes before the monotonic deadline. */
static gboolean
read_all_until(int fd, void *buf, size_t len, gint64 deadline)
{
    char *p = buf;

    while (len > 0) {
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;
        int r;

        if (left_ms <= 0)
            return FALSE;
        r = poll(&pfd, 1, (int)MIN(left_ms, G_MAXINT));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return FALSE;
        n = read(fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (size_t)n;
    }
    return TRUE;
}

gboolean
xs_fixture_socket_answers(const char *path, guint timeout_ms)
{
    static const char dir[] = "/";
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct xsd_sockmsg req = {
        .type = XS_DIRECTORY,
        .req_id = 0x786c6576, /* "xlev" */
        .tx_id = 0,
        .len = sizeof dir,
    };
    struct xsd_sockmsg reply;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gboolean ok = FALSE;
    int fd;

    if (!path || strlen(path) >= sizeof addr.sun_path)
        return FALSE;
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        goto out;
    if (!write_all(fd, &req, sizeof req) || !write_all(fd, dir, sizeof dir))
        goto out;
    if (!read_all_until(fd, &reply, sizeof reply, deadline))
        goto out;
    ok = reply.req_id == req.req_id;
out:
    close(fd);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* The daemon's process                                                     */

static void
restore_env(const char *name, const char *value)
{
    if (value)
        g_setenv(name, value, TRUE);
    else
        g_unsetenv(name);
}

gboolean
xs_fixture_daemon_alive(XsFixture *fx)
{
    XsFixturePrivate *priv = fx->priv;
    pid_t r;

    if (!priv || fx->pid <= 0 || priv->reaped)
        return FALSE;
    do
        r = waitpid(fx->pid, &priv->wait_status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return TRUE;
    /* Exited (r == pid), or reaped by someone else (ECHILD). */
    if (r < 0)
        priv->wait_status = -1;
    priv->reaped = TRUE;
    return FALSE;
}

char *
xs_fixture_daemon_output(XsFixture *fx)
{
    char *text = NULL;
    gsize len = 0;

    if (!fx->priv || !fx->priv->log_path
        || !g_file_get_contents(fx->priv->log_path, &text, &len, NULL))
        return g_strdup("");
    if (len > XS_FIXTURE_OUTPUT_MAX) {
        char *tail
            = g_strdup_printf("[...]%s", text + len - XS_FIXTURE_OUTPUT_MAX);
        g_free(text);
        text = tail;
    }
    return text;
}

static char *
describe_exit(int status)
{
    if (status == -1)
        return g_strdup("was reaped elsewhere");
    if (WIFEXITED(status))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return g_strdup_printf("was killed by signal %d (%s)", WTERMSIG(status),
                               g_strsignal(WTERMSIG(status)));
    return g_strdup_printf("ended (wait status 0x%x)", (unsigned)status);
}

/* Sets @error to say the daemon died, with its output. */
static void
set_died_error(XsFixture *fx, GError **error, const char *while_doing)
{
    g_autofree char *how = describe_exit(fx->priv->wait_status);
    g_autofree char *output = xs_fixture_daemon_output(fx);

    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                "%s (%s, pid %d) %s %s; its output:\n%s",
                fixture_daemon_name(fx), xs_fixture_xenstored_path(),
                (int)fx->pid, how, while_doing, *output ? output : "(none)\n");
}

static gboolean
wait_status_within(XsFixture *fx, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (xs_fixture_daemon_alive(fx)) {
        if (g_get_monotonic_time() > deadline)
            return FALSE;
        g_usleep(XS_FIXTURE_START_POLL_US);
    }
    return TRUE;
}

static void
kill_and_reap(XsFixture *fx)
{
    XsFixturePrivate *priv = fx->priv;

    if (fx->pid <= 0 || priv->reaped)
        goto out;
    if (priv->gentle_stop) {
        /* SIGTERM's default action ends the daemon and valgrind still writes
         * its report; SIGKILL would lose it. */
        kill(fx->pid, SIGTERM);
        if (wait_status_within(fx, XS_FIXTURE_TERM_TIMEOUT_MS))
            goto out;
    }
    kill(fx->pid, SIGKILL);
    for (;;) {
        pid_t r = waitpid(fx->pid, &priv->wait_status, 0);

        if (r >= 0 || errno != EINTR)
            break;
    }
    priv->reaped = TRUE;
out:
    if (fx->pid > 0)
        g_spawn_close_pid(fx->pid);
}

static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (dir) {
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            struct stat st;

            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(child);
            else
                g_unlink(child);
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}

void
xs_fixture_stop(XsFixture *fx)
{
    XsFixturePrivate *priv = fx->priv;

    if (!priv)
        return;
    kill_and_reap(fx);
    if (priv->ctl_fd >= 0)
        close(priv->ctl_fd);
    if (fx->rundir)
        remove_tree(fx->rundir);

    /* Restore the environment only where it still names this fixture. */
    if ((fx->socket_path
         && g_strcmp0(g_getenv("XENSTORED_PATH"), fx->socket_path) == 0)
        || (priv->transport == XS_FIXTURE_TRANSPORT_XENBUS
            && g_strcmp0(g_getenv("XENSTORED_PATH"), XS_FIXTURE_XENBUS_PATH)
                   == 0))
        restore_env("XENSTORED_PATH", priv->saved_xenstored_path);
    if (fx->rundir && g_strcmp0(g_getenv(ENV_FAKEXEN_DIR), fx->rundir) == 0)
        restore_env(ENV_FAKEXEN_DIR, priv->saved_fakexen_dir);
    if (priv->exported_ld_preload)
        restore_env("LD_PRELOAD", priv->saved_ld_preload);

    g_free(priv->log_path);
    g_free(priv->table_path);
    g_free(priv->ctl_path);
    g_free(priv->saved_xenstored_path);
    g_free(priv->saved_fakexen_dir);
    g_free(priv->saved_ld_preload);
    g_free(priv);
    g_free(fx->rundir);
    g_free(fx->socket_path);
    memset(fx, 0, sizeof *fx);
}

/* Writes $D/oxenstored.conf: where to find domain 0's ring page and port
 * (the stand-in answers these /proc/xen files; oxenstored fails to set up
 * domain 0 without them) and where to write its pid and logs (else under
 * /var/run and /var/log). */
static gboolean
write_oxenstored_config(XsFixture *fx, const char *path, GError **error)
{
    g_autofree char *log
        = g_build_filename(fx->rundir, XS_FIXTURE_OXENSTORED_LOG, NULL);
    g_autofree char *access_log
        = g_build_filename(fx->rundir, XS_FIXTURE_OXENSTORED_ACCESS_LOG, NULL);
    g_autofree char *pid = g_build_filename(fx->rundir, "pid", NULL);
    g_autofree char *text
        = g_strdup_printf("# A private oxenstored: see tests/xs-fixture.h.\n"
                          "xenstored-kva = /proc/xen/xsd_kva\n"
                          "xenstored-port = /proc/xen/xsd_port\n"
                          "pid-file = %s\n"
                          "xenstored-log-file = %s\n"
                          "access-log-file = %s\n",
                          pid, log, access_log);

    return g_file_set_contents(path, text, -1, error);
}

/* The daemon's command line: [wrapper...] xenstored -N -F $D/pid, or
 * [wrapper...] oxenstored --no-fork --config-file $D/oxenstored.conf
 * --pid-file $D/pid. */
static char **
daemon_argv(XsFixture *fx, GError **error)
{
    const char *wrapper = g_getenv(ENV_TEST_WRAPPER);
    g_auto(GStrv) prefix = NULL;
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    if (wrapper && *wrapper) {
        if (!g_shell_parse_argv(wrapper, NULL, &prefix, error)) {
            g_prefix_error(error, "%s: ", ENV_TEST_WRAPPER);
            g_ptr_array_unref(argv);
            return NULL;
        }
        for (char **p = prefix; *p; p++)
            g_ptr_array_add(argv, g_strdup(*p));
    }
    g_ptr_array_add(argv, g_strdup(xs_fixture_xenstored_path()));
    if (fx->daemon == XS_FIXTURE_DAEMON_OXENSTORED) {
        char *conf
            = g_build_filename(fx->rundir, XS_FIXTURE_OXENSTORED_CONF, NULL);

        if (!write_oxenstored_config(fx, conf, error)) {
            g_free(conf);
            g_ptr_array_unref(argv);
            return NULL;
        }
        g_ptr_array_add(argv, g_strdup("--no-fork")); /* we reap it */
        g_ptr_array_add(argv, g_strdup("--config-file"));
        g_ptr_array_add(argv, conf);
        g_ptr_array_add(argv, g_strdup("--pid-file"));
    } else {
        g_ptr_array_add(argv, g_strdup("-N")); /* foreground: we reap it */
        g_ptr_array_add(argv, g_strdup("-F"));
    }
    g_ptr_array_add(argv, g_build_filename(fx->rundir, "pid", NULL));
    g_ptr_array_add(argv, NULL);
    return (char **)g_ptr_array_free(argv, FALSE);
}

static char **
daemon_envp(XsFixture *fx)
{
    char **envp = g_get_environ();
    char pid[32];

    g_snprintf(pid, sizeof pid, "%d", (int)getpid());
    /* XENSTORED_PATH in the daemon's environment changes where it binds. */
    envp = g_environ_unsetenv(envp, "XENSTORED_PATH");
    envp = g_environ_setenv(envp, "XENSTORED_RUNDIR", fx->rundir, TRUE);
    /* Exactly the stand-in: a sanitizer runtime preloaded here would not
     * belong in the daemon. */
    envp
        = g_environ_setenv(envp, "LD_PRELOAD", xs_fixture_fakexen_path(), TRUE);
    envp = g_environ_setenv(envp, ENV_FAKEXEN_DIR, fx->rundir, TRUE);
    envp = g_environ_setenv(envp, ENV_FAKEXEN_ROLE, "daemon", TRUE);
    envp = g_environ_setenv(envp, ENV_FAKEXEN_WATCH_PID, pid, TRUE);
    envp = g_environ_unsetenv(envp, ENV_FAKEXEN_REEXEC);
    return envp;
}

/* The file at @path exists (and is executable if @must_execute). */
static gboolean
check_file(const char *what, const char *path, gboolean must_execute,
           GError **error)
{
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)
        && (!must_execute || g_file_test(path, G_FILE_TEST_IS_EXECUTABLE)))
        return TRUE;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "%s not found at %s (install xen-utils-4.17, or build "
                "tests/fakexen)",
                what, path);
    return FALSE;
}

static gboolean spawn_and_wait(XsFixture *fx, GError **error);

gboolean
xs_fixture_start(XsFixture *fx, GError **error)
{
    XsFixturePrivate *priv;

    g_return_val_if_fail(fx != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    memset(fx, 0, sizeof *fx);
    priv = fx->priv = g_new0(XsFixturePrivate, 1);
    priv->ctl_fd = -1;
    priv->gentle_stop = daemon_wrapped_by_valgrind();
    priv->saved_xenstored_path = g_strdup(g_getenv("XENSTORED_PATH"));
    priv->saved_fakexen_dir = g_strdup(g_getenv(ENV_FAKEXEN_DIR));

    fx->daemon = xs_fixture_daemon();
    if (!strchr(daemon_setting(), '/')
        && !g_str_equal(daemon_setting(), "xenstored")
        && !g_str_equal(daemon_setting(), "oxenstored")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s=%s: expected xenstored, oxenstored or a path to "
                    "either",
                    ENV_TEST_XENSTORED, daemon_setting());
        goto fail;
    }
    if (!check_file(xs_fixture_daemon_name(), xs_fixture_xenstored_path(), TRUE,
                    error)
        || !check_file("libfakexen.so", xs_fixture_fakexen_path(), FALSE,
                       error))
        goto fail;

    fx->rundir = g_dir_make_tmp("xlev-xs-XXXXXX", error);
    if (!fx->rundir)
        goto fail;
    fx->socket_path = g_build_filename(fx->rundir, "socket", NULL);
    priv->log_path = g_build_filename(fx->rundir, "daemon.log", NULL);
    priv->table_path = g_build_filename(fx->rundir, "domains", NULL);
    priv->ctl_path = g_build_filename(fx->rundir, "ctl", NULL);

    if (!spawn_and_wait(fx, error))
        goto fail;

    g_setenv("XENSTORED_PATH", fx->socket_path, TRUE);
    g_setenv(ENV_FAKEXEN_DIR, fx->rundir, TRUE);
    return TRUE;

fail:
    xs_fixture_stop(fx);
    return FALSE;
}

/* Starts the daemon in fx->rundir and waits until its socket answers (a
 * restart appends to the same log). */
static gboolean
spawn_and_wait(XsFixture *fx, GError **error)
{
    XsFixturePrivate *priv = fx->priv;
    g_auto(GStrv) argv = NULL;
    g_auto(GStrv) envp = NULL;
    guint timeout_ms = xs_fixture_scale_ms(XS_FIXTURE_START_TIMEOUT_MS);
    gint64 deadline;
    int log_fd = -1;

    log_fd = open(priv->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                  0600);
    if (log_fd < 0) {
        int saved = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                    "cannot create %s: %s", priv->log_path, g_strerror(saved));
        goto fail;
    }
    argv = daemon_argv(fx, error);
    if (!argv)
        goto fail;
    envp = daemon_envp(fx);
    /* The daemon's output goes to a file in $D, never to our stdout: a
     * daemon outliving a killed test must not hold meson's pipe open. */
    if (!g_spawn_async_with_pipes_and_fds(
            NULL, (const char *const *)argv, (const char *const *)envp,
            G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, NULL, NULL, -1,
            log_fd, log_fd, NULL, NULL, 0, &fx->pid, NULL, NULL, NULL, error)) {
        g_prefix_error(error, "cannot start %s: ", argv[0]);
        goto fail;
    }
    close(log_fd);
    log_fd = -1;

    deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        gint64 left_ms;

        if (!xs_fixture_daemon_alive(fx)) {
            set_died_error(fx, error, "before its socket answered");
            goto fail;
        }
        left_ms = (deadline - g_get_monotonic_time()) / 1000;
        if (left_ms <= 0) {
            g_autofree char *output = xs_fixture_daemon_output(fx);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "%s (pid %d) did not answer on %s within %u "
                        "ms; its output:\n%s",
                        fixture_daemon_name(fx), (int)fx->pid, fx->socket_path,
                        timeout_ms, *output ? output : "(none)\n");
            goto fail;
        }
        if (g_file_test(fx->socket_path, G_FILE_TEST_EXISTS)
            && xs_fixture_socket_answers(fx->socket_path, (guint)left_ms))
            break;
        g_usleep(XS_FIXTURE_START_POLL_US);
    }
    return TRUE;

fail:
    if (log_fd >= 0)
        close(log_fd);
    return FALSE;
}

gboolean
xs_fixture_restart(XsFixture *fx, GError **error)
{
    XsFixturePrivate *priv;

    g_return_val_if_fail(fx != NULL && fx->priv != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    priv = fx->priv;

    /* A crash, not a shutdown: SIGKILL (valgrind's report is lost). */
    if (fx->pid > 0 && !priv->reaped) {
        kill(fx->pid, SIGKILL);
        for (;;) {
            pid_t r = waitpid(fx->pid, &priv->wait_status, 0);

            if (r >= 0 || errno != EINTR)
                break;
        }
    }
    if (fx->pid > 0)
        g_spawn_close_pid(fx->pid);
    fx->pid = 0;
    priv->reaped = FALSE;
    priv->wait_status = 0;
    /* The stand-in in the new daemon starts its domain table afresh (every
     * domain running) and counts control lines from 0. */
    priv->lines_sent = 0;
    /* The dead daemon's socket file stays behind: the new one binds the
     * same path, and must not be taken for ready before it does. */
    g_unlink(fx->socket_path);
    return spawn_and_wait(fx, error);
}

void
xs_fixture_setup(XsFixture *fx, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gboolean started = xs_fixture_start(fx, &error);

    g_assert_no_error(error);
    g_assert_true(started);
}

void
xs_fixture_teardown(XsFixture *fx, gconstpointer data)
{
    xs_fixture_stop(fx);
}

/* ------------------------------------------------------------------------ */
/* Control lines                                                            */

/* The "done <n>" count of $D/domains; 0 if it cannot be read. */
static guint64
lines_done(XsFixture *fx)
{
    g_autofree char *text = NULL;
    guint64 done = 0;

    if (g_file_get_contents(fx->priv->table_path, &text, NULL, NULL)
        && g_str_has_prefix(text, "done "))
        done = g_ascii_strtoull(text + strlen("done "), NULL, 10);
    return done;
}

static gboolean
send_control_line(XsFixture *fx, const char *line, GError **error)
{
    XsFixturePrivate *priv = fx->priv;
    g_autofree char *full = g_strconcat(line, "\n", NULL);
    guint timeout_ms = xs_fixture_scale_ms(XS_FIXTURE_CONTROL_TIMEOUT_MS);
    gint64 deadline;

    if (!priv || fx->pid <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                    "the fixture is not started");
        return FALSE;
    }
    if (!xs_fixture_daemon_alive(fx)) {
        set_died_error(fx, error, "before the control line was sent");
        return FALSE;
    }
    if (priv->ctl_fd < 0) {
        /* Read-write: we never get SIGPIPE if the daemon has gone. */
        priv->ctl_fd = open(priv->ctl_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (priv->ctl_fd < 0) {
            int saved = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                        "cannot open the control FIFO %s: %s", priv->ctl_path,
                        g_strerror(saved));
            return FALSE;
        }
    }
    /* Under PIPE_BUF: written at once or not at all. */
    if (write(priv->ctl_fd, full, strlen(full)) != (ssize_t)strlen(full)) {
        int saved = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                    "cannot write to %s: %s", priv->ctl_path,
                    g_strerror(saved));
        return FALSE;
    }
    priv->lines_sent++;

    deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (lines_done(fx) < priv->lines_sent) {
        if (!xs_fixture_daemon_alive(fx)) {
            g_autofree char *what
                = g_strdup_printf("before acting on \"%s\"", line);
            set_died_error(fx, error, what);
            return FALSE;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "%s (pid %d) did not act on \"%s\" within %u "
                        "ms (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                        " lines done)",
                        fixture_daemon_name(fx), (int)fx->pid, line, timeout_ms,
                        lines_done(fx), priv->lines_sent);
            return FALSE;
        }
        g_usleep(XS_FIXTURE_CONTROL_POLL_US);
    }
    return TRUE;
}

static gboolean
check_domid(unsigned int domid, GError **error)
{
    if (domid == 0 || domid >= XS_FIXTURE_DOMID_FIRST_RESERVED) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "domain %u: only 1..%u can change state (domain 0 "
                    "always runs)",
                    domid, XS_FIXTURE_DOMID_FIRST_RESERVED - 1);
        return FALSE;
    }
    return TRUE;
}

/* TRUE if @state is one the stand-in understands. */
static gboolean
valid_state(const char *state)
{
    g_auto(GStrv) words = NULL;
    guint n;

    if (!state || strchr(state, '\n'))
        return FALSE;
    words = g_strsplit(state, " ", -1);
    n = g_strv_length(words);
    if (n == 1)
        return g_str_equal(words[0], "running")
               || g_str_equal(words[0], "shutdown")
               || g_str_equal(words[0], "crashed")
               || g_str_equal(words[0], "dying")
               || g_str_equal(words[0], "gone");
    if (n == 2 && g_str_equal(words[0], "shutdown")) {
        guint64 reason;

        /* Shutdown codes are 8 bits (XEN_DOMINF_shutdownmask). */
        return g_ascii_string_to_unsigned(words[1], 10, 0, 255, &reason, NULL);
    }
    return FALSE;
}

gboolean
xs_fixture_set_domain(XsFixture *fx, unsigned int domid, const char *state,
                      GError **error)
{
    char line[XS_FIXTURE_LINE_MAX];

    if (!check_domid(domid, error))
        return FALSE;
    if (!valid_state(state)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "domain state \"%s\": expected running, shutdown "
                    "[0..255], crashed, dying or gone",
                    state ? state : "(null)");
        return FALSE;
    }
    g_snprintf(line, sizeof line, "%u %s", domid, state);
    return send_control_line(fx, line, error);
}

gboolean
xs_fixture_kick(XsFixture *fx, unsigned int domid, GError **error)
{
    char line[XS_FIXTURE_LINE_MAX];

    if (domid >= XS_FIXTURE_DOMID_FIRST_RESERVED) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "domain %u is reserved", domid);
        return FALSE;
    }
    g_snprintf(line, sizeof line, "evtchn %u", domid);
    return send_control_line(fx, line, error);
}

/* ------------------------------------------------------------------------ */
/* The stand-in in this process and in children                             */

/* LD_PRELOAD with the stand-in appended (after a sanitizer runtime, which
 * must come first), or as it is if it already holds it. */
static char *
ld_preload_with_fakexen(const char *current)
{
    const char *fakexen = xs_fixture_fakexen_path();

    if (!current || !*current)
        return g_strdup(fakexen);
    if (strstr(current, fakexen))
        return g_strdup(current);
    return g_strconcat(current, ":", fakexen, NULL);
}

gchar **
xs_fixture_hypervisor_environ(XsFixture *fx)
{
    char **envp = g_get_environ();
    g_autofree char *preload
        = ld_preload_with_fakexen(g_environ_getenv(envp, "LD_PRELOAD"));

    envp = g_environ_setenv(envp, "LD_PRELOAD", preload, TRUE);
    if (fx->rundir)
        envp = g_environ_setenv(envp, ENV_FAKEXEN_DIR, fx->rundir, TRUE);
    if (fx->socket_path)
        envp = g_environ_setenv(envp, "XENSTORED_PATH", fx->socket_path, TRUE);
    return envp;
}

void
xs_fixture_export_hypervisor_env(XsFixture *fx)
{
    XsFixturePrivate *priv = fx->priv;
    g_autofree char *preload = NULL;

    g_return_if_fail(priv != NULL);

    if (!priv->exported_ld_preload) {
        priv->saved_ld_preload = g_strdup(g_getenv("LD_PRELOAD"));
        priv->exported_ld_preload = TRUE;
    }
    preload = ld_preload_with_fakexen(g_getenv("LD_PRELOAD"));
    g_setenv("LD_PRELOAD", preload, TRUE);
    g_setenv(ENV_FAKEXEN_DIR, fx->rundir, TRUE);
    g_setenv("XENSTORED_PATH", fx->socket_path, TRUE);
}

gboolean
xs_fixture_select_transport(XsFixture *fx, XsFixtureTransport transport,
                            GError **error)
{
    XsFixturePrivate *priv = fx->priv;

    if (!priv || fx->pid <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                    "the fixture is not started");
        return FALSE;
    }
    switch (transport) {
    case XS_FIXTURE_TRANSPORT_SOCKET:
        g_setenv("XENSTORED_PATH", fx->socket_path, TRUE);
        break;
    case XS_FIXTURE_TRANSPORT_XENBUS:
        if (!xs_fixture_hypervisor_preloaded()) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "the xenbus device needs %s preloaded into this "
                        "process (see tests/xs-fixture.h)",
                        xs_fixture_fakexen_path());
            return FALSE;
        }
        g_setenv("XENSTORED_PATH", XS_FIXTURE_XENBUS_PATH, TRUE);
        break;
    default:
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "unknown transport %d", (int)transport);
        return FALSE;
    }
    priv->transport = transport;
    return TRUE;
}

gboolean
xs_fixture_hypervisor_preloaded(void)
{
    return dlsym(RTLD_DEFAULT, "xlev_fakexen_present") != NULL;
}

void
xs_fixture_reexec_with_hypervisor(char **argv)
{
    g_autofree char *preload = NULL;

    if (xs_fixture_hypervisor_preloaded() || g_getenv(ENV_FAKEXEN_REEXEC))
        return;
    preload = ld_preload_with_fakexen(g_getenv("LD_PRELOAD"));
    g_setenv("LD_PRELOAD", preload, TRUE);
    g_setenv(ENV_FAKEXEN_REEXEC, "1", TRUE);
    execv("/proc/self/exe", argv);
    /* Not g_warning: this runs before g_test_init(), and a test may make
     * warnings fatal. */
    g_printerr("cannot re-execute with %s preloaded: %s\n",
               xs_fixture_fakexen_path(), g_strerror(errno));
    g_unsetenv(ENV_FAKEXEN_REEXEC);
}

/* The guest's side of a ring page (see xs-fixture.h). */
void
xs_fixture_ring_put(struct xenstore_domain_interface *intf, const void *data,
                    size_t len)
{
    const char *p = data;
    XENSTORE_RING_IDX prod = intf->req_prod;

    g_assert_cmpuint(prod - intf->req_cons + len, <=, XENSTORE_RING_SIZE);
    for (size_t i = 0; i < len; i++)
        intf->req[MASK_XENSTORE_IDX(prod + i)] = p[i];
    __atomic_thread_fence(__ATOMIC_RELEASE);
    intf->req_prod = prod + (XENSTORE_RING_IDX)len;
}

void
xs_fixture_ring_get(struct xenstore_domain_interface *intf, void *data,
                    size_t len, gint64 deadline)
{
    char *p = data;
    XENSTORE_RING_IDX cons = intf->rsp_cons;

    while (
        (XENSTORE_RING_IDX)(__atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE)
                            - cons)
        < len) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    for (size_t i = 0; i < len; i++)
        p[i] = intf->rsp[MASK_XENSTORE_IDX(cons + i)];
    __atomic_thread_fence(__ATOMIC_RELEASE);
    intf->rsp_cons = cons + (XENSTORE_RING_IDX)len;
}

