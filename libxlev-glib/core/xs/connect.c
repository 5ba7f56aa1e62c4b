/* connect.c: a context and its xenstore connection
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * xlev_ctx_new() is the xenstore room's: it makes the loop's context
 * (../loop/ctx.c), opens the connection, and registers the room's teardown
 * with the context, so that the loop frees a context without knowing there
 * is a connection.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <time.h>

#include <xenstore.h>

#include "xs-private.h"

/* The xenbus device, where libxenstore looks for it (xs.c in Xen 4.17). */
#define XLEV_XENBUS_DEV "/dev/xen/xenbus"
#define XLEV_XENBUS_PROC "/proc/xen/xenbus"

/* xs_daemon_socket() formats into a static buffer when XENSTORED_PATH is
 * unset: serialise our calls and copy the result. */
static pthread_mutex_t xs_socket_name_lock = PTHREAD_MUTEX_INITIALIZER;

static char *
effective_xs_path(void)
{
    const char *p;
    char *copy = NULL;

    pthread_mutex_lock(&xs_socket_name_lock);
    p = xs_daemon_socket();
    if (p)
        copy = xlev__strdup(p);
    pthread_mutex_unlock(&xs_socket_name_lock);
    return copy;
}

static int
same_path(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];

    if (strcmp(a, b) == 0)
        return 1;
    if (!realpath(a, ra) || !realpath(b, rb))
        return 0;
    return strcmp(ra, rb) == 0;
}

/*
 * libxenstore does not tell us its socket fd. Find the unix sockets of this
 * process connected to our daemon's path and make sure they are
 * close-on-exec (all of them are libxenstore's: ours or another context's).
 */
static void
ensure_xs_socket_cloexec(xlev_ctx *ctx)
{
    DIR *dir;
    struct dirent *de;

    dir = opendir("/proc/self/fd");
    if (!dir)
        return;
    while ((de = readdir(dir))) {
        struct sockaddr_un addr;
        socklen_t alen = sizeof(addr);
        struct stat st;
        char *end;
        long fd = strtol(de->d_name, &end, 10);

        if (*end || end == de->d_name || fd == dirfd(dir) || fd < 0
            || fd > INT_MAX)
            continue;
        if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        memset(&addr, 0, sizeof(addr));
        if (getpeername((int)fd, (struct sockaddr *)&addr, &alen) != 0
            || addr.sun_family != AF_UNIX)
            continue;
        if (strncmp(addr.sun_path, ctx->xs->path, sizeof(addr.sun_path)) == 0)
            xlev__fd_ensure_cloexec(ctx, (int)fd);
    }
    closedir(dir);
}

/* Teardown (lock dropped): the watches go Idle, the watch fd and the
 * liveness timeout are deregistered, and the connection is closed once no
 * callback of the context runs in another thread (one might be in the
 * middle of a request). */
static void
xs_teardown(xlev_ctx *ctx, struct xlev__teardown *td)
{
    struct xlev__xs *xs = XLEV__CONTAINER_OF(td, struct xlev__xs, teardown);

    XLEV__LOCK(ctx);
    xlev__deferred_wait_locked(ctx, NULL);
    xlev__xs_reconnect_free_locked(ctx);
    xlev__xswatch_free_all_locked(ctx);
    if (xs->transport == XLEV_XS_TRANSPORT_SOCKET)
        xlev__xs_conn_close_locked(ctx);
    XLEV__UNLOCK(ctx);
    xlev__xs_conn_cancel_dying(ctx, xs);
    XLEV__LOCK(ctx);
    ctx->xs = NULL;
    XLEV__UNLOCK(ctx);

    if (xs->xsh)
        xs_close(xs->xsh);
    xlev__xs_conn_free(xs);
    free(xs->slots);
    free(xs->path);
    pthread_cond_destroy(&xs->wait_cond);
    pthread_mutex_destroy(&xs->req_lock);
    free(xs);
}

/* A context whose xenstore state holds path (taken over, also on failure)
 * and no connection yet. */
static int
ctx_with_xs_new(char *path, xlev_ctx **ctx_out)
{
    struct xlev__xs *xs;
    pthread_condattr_t attr;
    xlev_ctx *ctx;
    int rc;

    *ctx_out = NULL;
    xs = xlev__calloc(1, sizeof(*xs));
    if (!xs) {
        free(path);
        return XLEV_ERROR_NOMEM;
    }
    if (pthread_mutex_init(&xs->req_lock, NULL) != 0) {
        free(xs);
        free(path);
        return XLEV_ERROR_FAIL;
    }
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&xs->wait_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&xs->req_lock);
        free(xs);
        free(path);
        return XLEV_ERROR_FAIL;
    }
    xs->path = path;
    xs->fd = -1;
    xs->reader_wake_fd = -1;
    xs->free_slot = -1;
    xlev_ev_fd_init(&xs->watch_efd);
    xlev_ev_fd_init(&xs->conn_efd);
    xlev_ev_time_init(&xs->liveness);
    xlev_ev_time_init(&xs->reconnect);
    xs->policy = XLEV_RECONNECT_NEVER;
    xs->state = XLEV__XS_CONNECTED;
    xs->accepting = 1;
    xs->announced = 1;
    xs->backoff_ms = XLEV_RECONNECT_BACKOFF_MIN_MS;
    xlev__xs_outq_init(&xs->outq);
    xlev__xs_outq_init(&xs->held);
    xlev__xs_pending_init(&xs->pending);

    rc = xlev__ctx_alloc(&ctx);
    if (rc) {
        pthread_cond_destroy(&xs->wait_cond);
        pthread_mutex_destroy(&xs->req_lock);
        free(xs->path);
        free(xs);
        return rc;
    }
    xs->watch_event_locked = xlev__xs_watch_event_locked;
    xs->lost_locked = xlev__xs_reconnect_lost_locked;
    XLEV__LOCK(ctx);
    ctx->xs = xs;
    xlev__ctx_add_teardown_locked(ctx, &xs->teardown, xs_teardown);
    XLEV__UNLOCK(ctx);
    *ctx_out = ctx;
    return 0;
}

/* The path to use: the caller's, else $XENSTORED_PATH, else the default
 * socket, else (nothing there) the xenbus device libxenstore would open. */
static char *
choose_path(const char *xenstore_path)
{
    const char *env;
    char *dev = NULL;
    struct stat st;

    if (xenstore_path)
        return xlev__strdup(xenstore_path);
    env = getenv("XENSTORED_PATH");
    if (env && *env)
        return xlev__strdup(env);
    if (stat(XLEV_XENSTORED_DEFAULT_SOCKET, &st) == 0)
        return xlev__strdup(XLEV_XENSTORED_DEFAULT_SOCKET);
    if (access(XLEV_XENBUS_DEV, F_OK) == 0)
        dev = xlev__strdup(XLEV_XENBUS_DEV);
    else if (access(XLEV_XENBUS_PROC, F_OK) == 0)
        dev = xlev__strdup(XLEV_XENBUS_PROC);
    return dev ? dev : xlev__strdup(XLEV_XENSTORED_DEFAULT_SOCKET);
}

static const char *
file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISBLK(mode))
        return "a block device";
    return "not a socket";
}

/* libxenstore on the xenbus device: only where xs_open() itself goes. */
static int
open_xenbus(xlev_ctx *ctx)
{
    char *effective = effective_xs_path();
    int rc;

    if (!effective)
        return XLEV_ERROR_NOMEM;
    if (!same_path(ctx->xs->path, effective)) {
        /* With nothing at its socket path, xs_open() falls back on the
         * device: the first of these that exists. */
        const char *dev = access(XLEV_XENBUS_DEV, F_OK) == 0
                              ? XLEV_XENBUS_DEV
                              : XLEV_XENBUS_PROC;
        struct stat st;

        if (stat(effective, &st) == 0 || !same_path(ctx->xs->path, dev)) {
            xlev__log(ctx, LOG_DEBUG,
                      "cannot connect to xenstored at %s: libxenstore, which "
                      "serves the xenbus device, opens %s (set "
                      "XENSTORED_PATH before creating contexts)",
                      ctx->xs->path, effective);
            free(effective);
            return XLEV_ERROR_INVAL;
        }
    }
    free(effective);

    /* Not XS_UNWATCH_FILTER: in 4.17 it leaks the body of every event it
     * filters; see "xenstore watch slots" in xs-private.h. */
    ctx->xs->xsh = xs_open(0);
    if (!ctx->xs->xsh) {
        int e = errno;

        xlev__log(ctx, LOG_DEBUG, "cannot connect to xenstored at %s: %s",
                  ctx->xs->path, strerror(e));
        rc = e == EMFILE || e == ENFILE ? XLEV_ERROR_MFILE
             : e == EACCES               ? XLEV_ERROR_PERM
                                         : XLEV_ERROR_XENSTORE;
        return rc;
    }
    ctx->xs->transport = XLEV_XS_TRANSPORT_XENBUS;
    ensure_xs_socket_cloexec(ctx);
    return 0;
}

int
xlev_ctx_new(const char *xenstore_path, xlev_ctx **ctx_out)
{
    xlev_ctx *ctx = NULL;
    char *path;
    struct stat st;
    int rc;

    if (!ctx_out)
        return XLEV_ERROR_INVAL;
    *ctx_out = NULL;
    if (xenstore_path && !*xenstore_path) {
        xlev__log(NULL, LOG_DEBUG, "cannot connect to xenstored: empty path");
        return XLEV_ERROR_INVAL;
    }

    path = choose_path(xenstore_path);
    if (!path)
        return XLEV_ERROR_NOMEM;
    rc = ctx_with_xs_new(path, &ctx);
    if (rc)
        goto out;

    /* Every failure below is returned to the caller: debug level. */
    if (stat(ctx->xs->path, &st) != 0) {
        int e = errno;

        xlev__log(ctx, LOG_DEBUG, "cannot connect to xenstored at %s: %s",
                  ctx->xs->path, strerror(e));
        rc = e == EACCES ? XLEV_ERROR_PERM
             : e == ENAMETOOLONG ? XLEV_ERROR_INVAL
                                 : XLEV_ERROR_XENSTORE;
        goto out;
    }
    if (S_ISSOCK(st.st_mode)) {
        ctx->xs->transport = XLEV_XS_TRANSPORT_SOCKET;
        rc = xlev__xs_conn_open(ctx);
    } else if (S_ISCHR(st.st_mode)) {
        rc = open_xenbus(ctx);
    } else {
        xlev__log(ctx, LOG_DEBUG,
                  "cannot connect to xenstored at %s: it is %s, not a "
                  "socket or the xenbus device",
                  ctx->xs->path, file_kind(st.st_mode));
        rc = XLEV_ERROR_INVAL;
    }
    if (rc)
        goto out;

    XLEV__LOCK(ctx);
    ctx->wake_wanted = ctx->wake_fd >= 0;
    XLEV__UNLOCK(ctx);
    *ctx_out = ctx;
    ctx = NULL;
    rc = 0;
out:
    xlev_ctx_free(ctx);
    return rc;
}

int
xlev__test_ctx_new_no_xenstore(xlev_ctx **ctx_out)
{
    char *path;

    if (!ctx_out)
        return XLEV_ERROR_INVAL;
    *ctx_out = NULL;
    path = xlev__strdup("");
    if (!path)
        return XLEV_ERROR_NOMEM;
    return ctx_with_xs_new(path, ctx_out);
}

const char *
xlev_ctx_get_xenstore_path(xlev_ctx *ctx)
{
    return ctx && ctx->xs ? ctx->xs->path : NULL;
}

xlev_xs_transport
xlev_ctx_get_transport(xlev_ctx *ctx)
{
    return ctx && ctx->xs ? ctx->xs->transport : XLEV_XS_TRANSPORT_NONE;
}

int
xlev_ctx_set_timeout(xlev_ctx *ctx, int milliseconds)
{
    if (!ctx || !ctx->xs || milliseconds < 0 ||
        milliseconds > XLEV_XS_TIMEOUT_MAX_MS)
        return XLEV_ERROR_INVAL;
    XLEV__LOCK(ctx);
    ctx->xs->timeout_ms = milliseconds;
    XLEV__UNLOCK(ctx);
    return 0;
}

int
xlev_ctx_get_timeout(xlev_ctx *ctx)
{
    int ms;

    if (!ctx || !ctx->xs)
        return 0;
    XLEV__LOCK(ctx);
    ms = ctx->xs->timeout_ms;
    XLEV__UNLOCK(ctx);
    return ms;
}

struct xs_handle *
xlev__test_xs_handle(xlev_ctx *ctx)
{
    return ctx->xs ? ctx->xs->xsh : NULL;
}

int
xlev__test_xs_raw_watch(xlev_ctx *ctx, int watch, const char *path,
                        const char *token)
{
    struct xlev__xs_part parts[2] = {
        {path, strlen(path), 1},
        {token, strlen(token), 1},
    };
    int ok;

    if (ctx->xs->transport == XLEV_XS_TRANSPORT_SOCKET)
        return xlev__xs_conn_call(ctx, watch ? XS_WATCH : XS_UNWATCH, 0, parts,
                                  2, NULL, NULL);
    ok = watch ? xs_watch(ctx->xs->xsh, path, token)
               : xs_unwatch(ctx->xs->xsh, path, token);
    return ok ? 0 : xlev__xs_errno_to_rc(errno);
}
