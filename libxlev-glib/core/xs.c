/* xs.c: plain xenstore operations and path validation
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * These do not take ctx->lock around their round trip, only
 * ctx->xs_req_lock (see "Locking" in xlev-event-private.h). A request that
 * fails because the connection is gone marks the context broken and raises
 * XLEV_DISASTER_XENSTORE once (xlev__xs_lost_locked); every later one
 * returns XLEV_ERROR_XENSTORE without touching libxenstore.
 *
 * Can a request on a dead connection hang in libxenstore 4.17? Not by
 * itself: with a reader thread (there is one once the handle has watched
 * anything), read_reply() waits on reply_condvar only while h->fd != -1,
 * and the reader thread sets h->fd = -1 and broadcasts when the connection
 * fails, so the waiter gets EINVAL; a later request writes to fd -1 and
 * gets EBADF. Without a reader thread the caller reads the socket itself
 * and gets EOF (EBADF) or ECONNRESET. What can hang is a request that uses
 * the fd number while another request's failure path closes it (xs_talkv
 * closes h->fd after dropping its request mutex): that number may already
 * belong to another connection. ctx->xs_req_lock, held across each call,
 * and refusing every request after the loss, keep the core's own requests
 * out of that window. (libxenstore's reader thread closing the fd under a
 * request that read h->fd just before is a race inside libxenstore that no
 * caller can close.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "xlev-event-private.h"

int
xlev__xs_errno_to_rc(int errnoval)
{
    switch (errnoval) {
    case ENOENT:
        return XLEV_ERROR_NOENT;
    case EACCES:
    case EPERM:
        return XLEV_ERROR_PERM;
    case ENOMEM:
        return XLEV_ERROR_NOMEM;
    case E2BIG:
        return XLEV_ERROR_INVAL; /* value or path too large for the wire */
    default:
        return XLEV_ERROR_XENSTORE;
    }
}

/*
 * Path rules, from docs/misc/xenstore.txt: a path is either absolute
 * ('/'-rooted, components separated by single '/', no trailing '/' except
 * the root itself) or a special path starting with '@' (such as
 * "@releaseDomain"); characters are ASCII alphanumerics and "-/_@"; the
 * whole is at most XENSTORE_ABS_PATH_MAX bytes (XLEV_XS_PATH_MAX).
 * Relative paths are not accepted: a socket connection's home is not
 * something callers should depend on.
 */
static int
path_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
           c == '@';
}

static int
path_is_valid(const char *path, int allow_special)
{
    size_t len, i;

    if (!path)
        return 0;
    len = strnlen(path, XLEV_XS_PATH_MAX + 1);
    if (len == 0 || len > XLEV_XS_PATH_MAX)
        return 0;

    if (path[0] == '@') {
        if (!allow_special || len == 1)
            return 0;
        for (i = 1; i < len; i++)
            if (!path_char_ok(path[i]) || path[i] == '/' || path[i] == '@')
                return 0;
        return 1;
    }

    if (path[0] != '/')
        return 0;
    if (len == 1)
        return 1; /* the root */
    if (path[len - 1] == '/')
        return 0;
    for (i = 0; i < len; i++) {
        if (!path_char_ok(path[i]))
            return 0;
        if (path[i] == '/' && path[i + 1] == '/')
            return 0;
    }
    return 1;
}

int
xlev_xs_path_is_valid(const char *path)
{
    return path_is_valid(path, 1);
}

int
xlev__xs_is_broken(xlev_ctx *ctx)
{
    return __atomic_load_n(&ctx->xs_broken, __ATOMIC_ACQUIRE);
}

/* errnos that libxenstore produces locally when the connection is unusable;
 * xenstored never answers with them (xsd_errors in xen/io/xs_wire.h). */
static int
errno_means_lost(int errnoval)
{
    switch (errnoval) {
    case EBADF:      /* EOF, a write to fd -1, a reply of the wrong type */
    case EPIPE:      /* the daemon closed its end */
    case ECONNRESET:
    case ENOTCONN:
    case ECONNABORTED:
        return 1;
    default:
        return 0;
    }
}

int
xlev__xs_conn_lost_reqlocked(xlev_ctx *ctx, int errnoval)
{
    char *path;

    if (errno_means_lost(errnoval))
        return 1;
    if (errnoval != EINVAL)
        return 0;
    /* EINVAL is what read_reply() says when the reader thread closed the
     * connection while we waited, and also what xenstored says to some
     * requests. Ask once more with a request xenstored always answers
     * without looking at the tree: a dead connection now fails with EBADF
     * (a write to fd -1) or EINVAL again, at once. */
    path = xs_get_domain_path(ctx->xsh, 0);
    if (path) {
        free(path);
        return 0;
    }
    return errno == EINVAL || errno_means_lost(errno);
}

/* Takes ctx->xs_req_lock for a request, unless the connection is known to
 * be lost. */
static int
req_begin(xlev_ctx *ctx, const char *path)
{
    if (!ctx || !path_is_valid(path, 0))
        return XLEV_ERROR_INVAL;
    if (!ctx->xsh || xlev__xs_is_broken(ctx))
        return XLEV_ERROR_XENSTORE;
    pthread_mutex_lock(&ctx->xs_req_lock);
    if (xlev__xs_is_broken(ctx)) {
        pthread_mutex_unlock(&ctx->xs_req_lock);
        return XLEV_ERROR_XENSTORE;
    }
    return 0;
}

static void
req_end(xlev_ctx *ctx)
{
    pthread_mutex_unlock(&ctx->xs_req_lock);
}

/* After a failed request (errno errnoval), ctx->xs_req_lock held: releases
 * it and returns the XLEV_ERROR_* code; marks the connection lost if it
 * is. */
static int
req_failed(xlev_ctx *ctx, int errnoval, const char *op, const char *path)
{
    int lost = xlev__xs_conn_lost_reqlocked(ctx, errnoval);

    req_end(ctx);
    if (!lost)
        return xlev__xs_errno_to_rc(errnoval);
    XLEV__LOCK(ctx);
    if (!ctx->xs_broken)
        xlev__log(ctx, LOG_ERR, "xenstore %s %s: connection lost: %s", op,
                  path, strerror(errnoval));
    xlev__xs_lost_locked(ctx, errnoval, "the xenstore connection was lost");
    XLEV__UNLOCK(ctx);
    return XLEV_ERROR_XENSTORE;
}

int
xlev_xs_read(xlev_ctx *ctx, const char *path, char **value_out,
             unsigned int *len_out)
{
    unsigned int len = 0;
    char *value;
    int rc;

    if (value_out)
        *value_out = NULL;
    if (len_out)
        *len_out = 0;
    if (!value_out)
        return XLEV_ERROR_INVAL;
    rc = req_begin(ctx, path);
    if (rc)
        return rc;

    value = xs_read(ctx->xsh, XBT_NULL, path, &len);
    if (!value)
        return req_failed(ctx, errno, "read", path);
    req_end(ctx);
    *value_out = value; /* libxenstore NUL-terminates it */
    if (len_out)
        *len_out = len;
    return 0;
}

int
xlev_xs_write(xlev_ctx *ctx, const char *path, const void *value,
              unsigned int len)
{
    int rc;

    if (!value && len)
        return XLEV_ERROR_INVAL;
    rc = req_begin(ctx, path);
    if (rc)
        return rc;
    if (!xs_write(ctx->xsh, XBT_NULL, path, value ? value : "", len))
        return req_failed(ctx, errno, "write", path);
    req_end(ctx);
    return 0;
}

int
xlev_xs_directory(xlev_ctx *ctx, const char *path, char ***entries_out,
                  unsigned int *n_out)
{
    unsigned int n = 0;
    char **entries;
    int rc;

    if (entries_out)
        *entries_out = NULL;
    if (n_out)
        *n_out = 0;
    if (!entries_out || !n_out)
        return XLEV_ERROR_INVAL;
    rc = req_begin(ctx, path);
    if (rc)
        return rc;

    /* One block: the array followed by the strings. */
    entries = xs_directory(ctx->xsh, XBT_NULL, path, &n);
    if (!entries)
        return req_failed(ctx, errno, "directory", path);
    req_end(ctx);
    *entries_out = entries;
    *n_out = n;
    return 0;
}

int
xlev_xs_rm(xlev_ctx *ctx, const char *path)
{
    int rc;

    rc = req_begin(ctx, path);
    if (rc)
        return rc;
    if (!xs_rm(ctx->xsh, XBT_NULL, path))
        return req_failed(ctx, errno, "rm", path);
    req_end(ctx);
    return 0;
}

int
xlev__xs_is_domain_introduced(xlev_ctx *ctx, unsigned int domid,
                              int *introduced_out)
{
    bool introduced;
    int rc;

    *introduced_out = 0;
    rc = req_begin(ctx, "/");
    if (rc)
        return rc;
    /* libxenstore answers false both for "F" and for a failed request;
     * only the latter sets errno. */
    errno = 0;
    introduced = xs_is_domain_introduced(ctx->xsh, domid);
    if (!introduced && errno)
        return req_failed(ctx, errno, "is-domain-introduced",
                          "@introduceDomain");
    req_end(ctx);
    *introduced_out = introduced;
    return 0;
}
