/* ops.c: the plain xenstore operations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * These do not take ctx->lock around their round trip, only
 * xs->req_lock (see "Locking" in xs-private.h). A request that
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
 * belong to another connection. xs->req_lock, held across each call,
 * and refusing every request after the loss, keep the core's own requests
 * out of that window. (libxenstore's reader thread closing the fd under a
 * request that read h->fd just before is a race inside libxenstore that no
 * caller can close.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "xs-private.h"

/* After a failed request (errno errnoval), xs->req_lock held: releases
 * it and returns the XLEV_ERROR_* code; marks the connection lost if it
 * is. */
static int
req_failed(xlev_ctx *ctx, int errnoval, const char *op, const char *path)
{
    int lost = xlev__xs_conn_lost_reqlocked(ctx, errnoval);

    xlev__xs_req_end(ctx);
    if (!lost)
        return xlev__xs_errno_to_rc(errnoval);
    XLEV__LOCK(ctx);
    if (!ctx->xs->broken)
        xlev__log(ctx, LOG_DEBUG, "xenstore %s %s: connection lost: %s", op,
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
    rc = xlev__xs_req_begin(ctx, path);
    if (rc)
        return rc;

    value = xs_read(ctx->xs->xsh, XBT_NULL, path, &len);
    if (!value)
        return req_failed(ctx, errno, "read", path);
    xlev__xs_req_end(ctx);
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
    rc = xlev__xs_req_begin(ctx, path);
    if (rc)
        return rc;
    if (!xs_write(ctx->xs->xsh, XBT_NULL, path, value ? value : "", len))
        return req_failed(ctx, errno, "write", path);
    xlev__xs_req_end(ctx);
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
    rc = xlev__xs_req_begin(ctx, path);
    if (rc)
        return rc;

    /* One block: the array followed by the strings. */
    entries = xs_directory(ctx->xs->xsh, XBT_NULL, path, &n);
    if (!entries)
        return req_failed(ctx, errno, "directory", path);
    xlev__xs_req_end(ctx);
    *entries_out = entries;
    *n_out = n;
    return 0;
}

int
xlev_xs_rm(xlev_ctx *ctx, const char *path)
{
    int rc;

    rc = xlev__xs_req_begin(ctx, path);
    if (rc)
        return rc;
    if (!xs_rm(ctx->xs->xsh, XBT_NULL, path))
        return req_failed(ctx, errno, "rm", path);
    xlev__xs_req_end(ctx);
    return 0;
}

int
xlev__xs_is_domain_introduced(xlev_ctx *ctx, unsigned int domid,
                              int *introduced_out)
{
    bool introduced;
    int rc;

    *introduced_out = 0;
    rc = xlev__xs_req_begin(ctx, "/");
    if (rc)
        return rc;
    /* libxenstore answers false both for "F" and for a failed request;
     * only the latter sets errno. */
    errno = 0;
    introduced = xs_is_domain_introduced(ctx->xs->xsh, domid);
    if (!introduced && errno)
        return req_failed(ctx, errno, "is-domain-introduced",
                          "@introduceDomain");
    xlev__xs_req_end(ctx);
    *introduced_out = introduced;
    return 0;
}
