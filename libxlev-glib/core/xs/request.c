/* request.c: the request discipline on the context's xenstore connection
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Every request the core sends holds xs->req_lock (see "Locking" in
 * xs-private.h). A request that fails is either refused by xenstored (its
 * errno goes back to the caller as an XLEV_ERROR_* code) or failed because
 * the connection is gone, which is told apart here.
 */
#include <errno.h>
#include <stdlib.h>

#include <xenstore.h>

#include "xs-private.h"

/* The same names as the socket transport's (xs-wire.c): what xenstored
 * refused is never "cannot be reached". */
int
xlev__xs_errno_to_rc(int errnoval)
{
    return xlev__xs_wire_errno_to_rc(errnoval);
}

int
xlev__xs_is_broken(xlev_ctx *ctx)
{
    return __atomic_load_n(&ctx->xs->broken, __ATOMIC_ACQUIRE);
}

/* errnos that libxenstore produces locally when the connection is unusable;
 * xenstored never answers with them (xsd_errors in xen/io/xs_wire.h). */
static int
errno_means_lost(int errnoval)
{
    switch (errnoval) {
    case EBADF: /* EOF, a write to fd -1, a reply of the wrong type */
    case EPIPE: /* the daemon closed its end */
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
    path = xs_get_domain_path(ctx->xs->xsh, 0);
    if (path) {
        free(path);
        return 0;
    }
    return errno == EINVAL || errno_means_lost(errno);
}

int
xlev__xs_req_begin(xlev_ctx *ctx, const char *path)
{
    if (!ctx || !xlev__xs_path_check(path, 0))
        return XLEV_ERROR_INVAL;
    if (!ctx->xs || !ctx->xs->xsh || xlev__xs_is_broken(ctx))
        return XLEV_ERROR_XENSTORE;
    pthread_mutex_lock(&ctx->xs->req_lock);
    if (xlev__xs_is_broken(ctx)) {
        pthread_mutex_unlock(&ctx->xs->req_lock);
        return XLEV_ERROR_XENSTORE;
    }
    return 0;
}

void
xlev__xs_req_end(xlev_ctx *ctx)
{
    pthread_mutex_unlock(&ctx->xs->req_lock);
}
