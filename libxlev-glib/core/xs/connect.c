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

#include <xenstore.h>

#include "xs-private.h"

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
    xlev__xswatch_free_all_locked(ctx);
    ctx->xs = NULL;
    XLEV__UNLOCK(ctx);

    if (xs->xsh)
        xs_close(xs->xsh);
    free(xs->slots);
    free(xs->path);
    pthread_mutex_destroy(&xs->req_lock);
    free(xs);
}

/* A context whose xenstore state holds path (taken over, also on failure)
 * and no connection yet. */
static int
ctx_with_xs_new(char *path, xlev_ctx **ctx_out)
{
    struct xlev__xs *xs;
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
    xs->path = path;
    xs->free_slot = -1;
    xlev_ev_fd_init(&xs->watch_efd);
    xlev_ev_time_init(&xs->liveness);

    rc = xlev__ctx_alloc(&ctx);
    if (rc) {
        pthread_mutex_destroy(&xs->req_lock);
        free(xs->path);
        free(xs);
        return rc;
    }
    XLEV__LOCK(ctx);
    ctx->xs = xs;
    xlev__ctx_add_teardown_locked(ctx, &xs->teardown, xs_teardown);
    XLEV__UNLOCK(ctx);
    *ctx_out = ctx;
    return 0;
}

int
xlev_ctx_new(const char *xenstore_path, xlev_ctx **ctx_out)
{
    xlev_ctx *ctx = NULL;
    char *effective = NULL;
    int rc;

    if (!ctx_out)
        return XLEV_ERROR_INVAL;
    *ctx_out = NULL;

    effective = effective_xs_path();
    if (!effective) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    /* Both failures are returned to the caller: debug level. */
    if (xenstore_path && !same_path(xenstore_path, effective)) {
        xlev__log(NULL, LOG_DEBUG,
                  "cannot connect to xenstored at %s: libxenstore connects "
                  "to %s (set XENSTORED_PATH before creating contexts)",
                  xenstore_path, effective);
        rc = XLEV_ERROR_INVAL;
        goto out;
    }

    rc = ctx_with_xs_new(effective, &ctx);
    effective = NULL;
    if (rc)
        goto out;

    /* Not XS_UNWATCH_FILTER: in 4.17 it leaks the body of every event it
     * filters; see "xenstore watch slots" in xs-private.h. */
    ctx->xs->xsh = xs_open(0);
    if (!ctx->xs->xsh) {
        xlev__log(ctx, LOG_DEBUG, "cannot connect to xenstored at %s: %s",
                  ctx->xs->path, strerror(errno));
        rc = XLEV_ERROR_XENSTORE;
        goto out;
    }
    ensure_xs_socket_cloexec(ctx);

    *ctx_out = ctx;
    ctx = NULL;
    rc = 0;
out:
    free(effective);
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

struct xs_handle *
xlev__test_xs_handle(xlev_ctx *ctx)
{
    return ctx->xs ? ctx->xs->xsh : NULL;
}
