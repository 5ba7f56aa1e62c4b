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
#include <inttypes.h>
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

/* Broken, or (reconnecting) not yet accepting operations: see
 * "Reconnecting" in xs-private.h. */
int
xlev__xs_is_broken(xlev_ctx *ctx)
{
    return __atomic_load_n(&ctx->xs->broken, __ATOMIC_ACQUIRE) ||
           !xlev__xs_is_accepting(ctx);
}

int
xlev__xs_is_accepting(xlev_ctx *ctx)
{
    return __atomic_load_n(&ctx->xs->accepting, __ATOMIC_ACQUIRE);
}

/*======================================================================*/
/* Transactions: the caller's ids, the daemon's, and their generation (see
 * "Reconnecting" in xs-private.h). A context has few open at once: a
 * linear search. */

static struct xlev__xs_tx *
tx_find_locked(struct xlev__xs *xs, uint32_t local)
{
    unsigned int i;

    for (i = 0; i < xs->n_txs; i++)
        if (xs->txs[i].local == local)
            return &xs->txs[i];
    return NULL;
}

int
xlev__xs_tx_add_locked(xlev_ctx *ctx, uint32_t remote, unsigned int gen,
                       uint32_t *local_out)
{
    struct xlev__xs *xs = ctx->xs;
    uint32_t local;

    if (xs->n_txs == xs->txs_allocd) {
        unsigned int n = xs->txs_allocd ? xs->txs_allocd * 2 : 4;
        struct xlev__xs_tx *t = xlev__realloc_array(xs->txs, n, sizeof(*t));

        if (!t)
            return XLEV_ERROR_NOMEM;
        xs->txs = t;
        xs->txs_allocd = n;
    }
    /* Never 0 (no transaction), never one still open (after 2^32
     * transactions the counter comes round). */
    do {
        local = ++xs->tx_next;
    } while (local == 0 || tx_find_locked(xs, local));
    xs->txs[xs->n_txs].local = local;
    xs->txs[xs->n_txs].remote = remote;
    xs->txs[xs->n_txs].gen = gen;
    xs->n_txs++;
    *local_out = local;
    return 0;
}

int
xlev__xs_tx_resolve_locked(xlev_ctx *ctx, uint32_t local, uint32_t *remote_out)
{
    struct xlev__xs_tx *t;

    *remote_out = 0;
    if (local == 0)
        return 0;
    t = tx_find_locked(ctx->xs, local);
    if (!t)
        return XLEV_ERROR_NOENT;
    if (t->gen != ctx->xs->gen) {
        xlev__log(ctx, LOG_DEBUG,
                  "transaction %" PRIu32 " was started on a xenstore "
                  "connection that was lost: nothing is sent",
                  local);
        return XLEV_ERROR_XENSTORE;
    }
    *remote_out = t->remote;
    return 0;
}

int
xlev__xs_tx_resolve(xlev_ctx *ctx, uint32_t local, uint32_t *remote_out)
{
    int rc;

    XLEV__LOCK(ctx);
    rc = xlev__xs_tx_resolve_locked(ctx, local, remote_out);
    XLEV__UNLOCK(ctx);
    return rc;
}

void
xlev__xs_tx_remove_locked(xlev_ctx *ctx, uint32_t local)
{
    struct xlev__xs *xs = ctx->xs;
    struct xlev__xs_tx *t = tx_find_locked(xs, local);

    if (t)
        *t = xs->txs[--xs->n_txs];
}

void
xlev__xs_tx_remove(xlev_ctx *ctx, uint32_t local)
{
    XLEV__LOCK(ctx);
    xlev__xs_tx_remove_locked(ctx, local);
    XLEV__UNLOCK(ctx);
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
