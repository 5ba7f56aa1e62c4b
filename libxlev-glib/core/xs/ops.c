/* ops.c: the plain xenstore operations, on either transport
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The socket transport sends each request through conn.c (pipelined, the
 * caller waits with no lock held; see "The socket transport" in
 * xs-private.h) and parses the answer here. The xenbus transport calls
 * libxenstore under xs->req_lock only (see "Locking" in xs-private.h). A
 * request that fails because the connection is gone marks the context
 * broken and raises XLEV_DISASTER_XENSTORE once; every later one returns
 * XLEV_ERROR_XENSTORE without touching the connection.
 *
 * libxenstore (xenbus transport): can a request on a dead connection hang
 * in 4.17? Not by itself: with a reader thread, read_reply() waits on
 * reply_condvar only while h->fd != -1, and the reader thread sets h->fd =
 * -1 and broadcasts when the connection fails, so the waiter gets EINVAL;
 * a later request writes to fd -1 and gets EBADF. What can hang is a
 * request that uses the fd number while another request's failure path
 * closes it (xs_talkv closes h->fd after dropping its request mutex):
 * xs->req_lock, held across each call, and refusing every request after
 * the loss, keep the core's own requests out of that window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "xs-private.h"

/* "65535" and a NUL, with room to spare: a domid as XS_GET_DOMAIN_PATH
 * and XS_IS_DOMAIN_INTRODUCED take it. */
#define DOMID_STR_MAX 12
/* One permission as XS_SET_PERMS takes it: a letter, a domid, a NUL. */
#define PERM_STR_MAX (1 + DOMID_STR_MAX)

static int
is_socket(xlev_ctx *ctx)
{
    return ctx->xs->transport == XLEV_XS_TRANSPORT_SOCKET;
}

/* Checks for every operation: 0, XLEV_ERROR_INVAL or XLEV_ERROR_XENSTORE.
 * PATHLESS: the operation takes no path. */
#define PATHLESS ((const char *)"/")

static int
op_begin(xlev_ctx *ctx, const char *path)
{
    if (!ctx || !xlev__xs_path_check(path, 0))
        return XLEV_ERROR_INVAL;
    if (!ctx->xs || ctx->xs->transport == XLEV_XS_TRANSPORT_NONE ||
        xlev__xs_is_broken(ctx))
        return XLEV_ERROR_XENSTORE;
    return 0;
}

/*======================================================================*/
/* The xenbus transport (libxenstore) */

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

/* One libxenstore operation, formatted as the wire's answer would be
 * (so that the async path shares the parsing): *reply_out malloc()ed. */
static int
lib_call(xlev_ctx *ctx, uint32_t type, uint32_t tx_id, const char *path,
         const void *value, unsigned int vlen, char **reply_out,
         uint32_t *len_out)
{
    unsigned int len = 0;
    char *r = NULL;
    int rc;

    *reply_out = NULL;
    *len_out = 0;
    rc = xlev__xs_tx_resolve(ctx, tx_id, &tx_id);
    if (rc)
        return rc;
    rc = xlev__xs_req_begin(ctx, path);
    if (rc)
        return rc;
    switch (type) {
    case XS_READ:
        r = xs_read(ctx->xs->xsh, tx_id, path, &len);
        if (!r)
            return req_failed(ctx, errno, "read", path);
        break;
    case XS_WRITE:
        if (!xs_write(ctx->xs->xsh, tx_id, path, value ? value : "", vlen))
            return req_failed(ctx, errno, "write", path);
        break;
    case XS_RM:
        if (!xs_rm(ctx->xs->xsh, tx_id, path))
            return req_failed(ctx, errno, "rm", path);
        break;
    case XS_MKDIR:
        if (!xs_mkdir(ctx->xs->xsh, tx_id, path))
            return req_failed(ctx, errno, "mkdir", path);
        break;
    case XS_DIRECTORY: {
        unsigned int n = 0, i;
        char **e = xs_directory(ctx->xs->xsh, tx_id, path, &n);
        size_t total = 0, off = 0;

        if (!e)
            return req_failed(ctx, errno, "directory", path);
        for (i = 0; i < n; i++)
            total += strlen(e[i]) + 1;
        r = xlev__malloc(total + 1);
        if (!r) {
            free(e);
            xlev__xs_req_end(ctx);
            return XLEV_ERROR_NOMEM;
        }
        for (i = 0; i < n; i++) {
            size_t l = strlen(e[i]) + 1;

            memcpy(r + off, e[i], l);
            off += l;
        }
        r[off] = '\0';
        len = (unsigned int)off;
        free(e);
        break;
    }
    default:
        xlev__xs_req_end(ctx);
        return XLEV_ERROR_NOSYS;
    }
    xlev__xs_req_end(ctx);
    *reply_out = r;
    *len_out = len;
    return 0;
}

/*======================================================================*/
/* Both transports: one request with a path (and a value) */

static int
path_call(xlev_ctx *ctx, uint32_t type, uint32_t tx_id, const char *path,
          const void *value, unsigned int vlen, char **reply_out,
          uint32_t *len_out)
{
    int rc = op_begin(ctx, path);

    if (rc)
        return rc;
    if (value == NULL && vlen)
        return XLEV_ERROR_INVAL;
    if (is_socket(ctx)) {
        struct xlev__xs_part parts[2] = {
            {path, strlen(path), 1},
            {value, vlen, 0},
        };

        return xlev__xs_conn_call(ctx, type, tx_id, parts,
                                  type == XS_WRITE ? 2 : 1, reply_out,
                                  len_out);
    }
    {
        char *r = NULL;
        uint32_t l = 0;

        rc = lib_call(ctx, type, tx_id, path, value, vlen, &r, &l);
        if (rc)
            return rc;
        if (reply_out)
            *reply_out = r;
        else
            free(r);
        if (len_out)
            *len_out = l;
        return 0;
    }
}

int
xlev_xs_read_tx(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                char **value_out, unsigned int *len_out)
{
    uint32_t len = 0;
    char *value = NULL;
    int rc;

    if (value_out)
        *value_out = NULL;
    if (len_out)
        *len_out = 0;
    if (!value_out)
        return XLEV_ERROR_INVAL;
    rc = path_call(ctx, XS_READ, tx_id, path, NULL, 0, &value, &len);
    if (rc)
        return rc;
    if (!value) {
        value = xlev__strdup("");
        if (!value)
            return XLEV_ERROR_NOMEM;
    }
    *value_out = value; /* NUL-terminated besides len */
    if (len_out)
        *len_out = len;
    return 0;
}

int
xlev_xs_read(xlev_ctx *ctx, const char *path, char **value_out,
             unsigned int *len_out)
{
    return xlev_xs_read_tx(ctx, 0, path, value_out, len_out);
}

int
xlev_xs_write_tx(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                 const void *value, unsigned int len)
{
    if (!value && len)
        return XLEV_ERROR_INVAL;
    return path_call(ctx, XS_WRITE, tx_id, path, value ? value : "", len,
                     NULL, NULL);
}

int
xlev_xs_write(xlev_ctx *ctx, const char *path, const void *value,
              unsigned int len)
{
    return xlev_xs_write_tx(ctx, 0, path, value, len);
}

int
xlev_xs_rm_tx(xlev_ctx *ctx, uint32_t tx_id, const char *path)
{
    return path_call(ctx, XS_RM, tx_id, path, NULL, 0, NULL, NULL);
}

int
xlev_xs_rm(xlev_ctx *ctx, const char *path)
{
    return xlev_xs_rm_tx(ctx, 0, path);
}

int
xlev_xs_mkdir(xlev_ctx *ctx, uint32_t tx_id, const char *path)
{
    return path_call(ctx, XS_MKDIR, tx_id, path, NULL, 0, NULL, NULL);
}

/* "a\0b\0" -> one block: the array of pointers, then the strings. */
static int
directory_block(const char *p, uint32_t len, char ***entries_out,
                unsigned int *n_out)
{
    unsigned int n = 0, i;
    const char **names;
    char **block;
    char *s;
    int rc;

    rc = xlev__xs_parse_directory(p, len, NULL, 0, &n);
    if (rc)
        return XLEV_ERROR_PROTOCOL;
    block = xlev__malloc((n + 1) * sizeof(char *) + len + 1);
    if (!block)
        return XLEV_ERROR_NOMEM;
    names = (const char **)block;
    xlev__xs_parse_directory(p, len, names, n, &n);
    s = (char *)(block + n + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    for (i = 0; i < n; i++)
        block[i] = s + (names[i] - p);
    block[n] = NULL;
    *entries_out = block;
    *n_out = n;
    return 0;
}

int
xlev_xs_directory_tx(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                     char ***entries_out, unsigned int *n_out)
{
    char *reply = NULL;
    uint32_t len = 0;
    int rc;

    if (entries_out)
        *entries_out = NULL;
    if (n_out)
        *n_out = 0;
    if (!entries_out || !n_out)
        return XLEV_ERROR_INVAL;
    rc = path_call(ctx, XS_DIRECTORY, tx_id, path, NULL, 0, &reply, &len);
    if (rc)
        return rc;
    rc = directory_block(reply ? reply : "", len, entries_out, n_out);
    free(reply);
    return rc;
}

int
xlev_xs_directory(xlev_ctx *ctx, const char *path, char ***entries_out,
                  unsigned int *n_out)
{
    return xlev_xs_directory_tx(ctx, 0, path, entries_out, n_out);
}

/*======================================================================*/
/* Transactions, permissions, domain paths */

int
xlev_xs_transaction_start(xlev_ctx *ctx, uint32_t *tx_id_out)
{
    struct xlev__xs_part part = {"", 0, 1};
    char *reply = NULL;
    uint32_t len = 0, remote = 0;
    unsigned int gen;
    int rc;

    if (tx_id_out)
        *tx_id_out = 0;
    if (!tx_id_out)
        return XLEV_ERROR_INVAL;
    rc = op_begin(ctx, PATHLESS);
    if (rc)
        return rc;
    /* The connection it is started on (see "Reconnecting" in
     * xs-private.h): one lost before the answer came makes it stale. */
    XLEV__LOCK(ctx);
    gen = ctx->xs->gen;
    XLEV__UNLOCK(ctx);
    if (!is_socket(ctx)) {
        xs_transaction_t t;

        rc = xlev__xs_req_begin(ctx, "/");
        if (rc)
            return rc;
        t = xs_transaction_start(ctx->xs->xsh);
        if (t == XBT_NULL)
            return req_failed(ctx, errno, "transaction-start", "");
        xlev__xs_req_end(ctx);
        remote = t;
    } else {
        rc = xlev__xs_conn_call(ctx, XS_TRANSACTION_START, 0, &part, 1,
                                &reply, &len);
        if (rc)
            return rc;
        if (xlev__xs_parse_tx_id(reply, len, &remote))
            rc = XLEV_ERROR_PROTOCOL;
        free(reply);
        if (rc)
            return rc;
    }
    XLEV__LOCK(ctx);
    rc = xlev__xs_tx_add_locked(ctx, remote, gen, tx_id_out);
    XLEV__UNLOCK(ctx);
    /* Out of memory: the daemon's transaction is left to the connection's
     * end (nothing can name it). */
    return rc;
}

int
xlev_xs_transaction_end(xlev_ctx *ctx, uint32_t tx_id, int commit)
{
    struct xlev__xs_part part = {commit ? "T" : "F", 1, 1};
    int rc;

    if (tx_id == 0)
        return XLEV_ERROR_INVAL;
    rc = op_begin(ctx, PATHLESS);
    if (rc == XLEV_ERROR_XENSTORE && ctx->xs) {
        /* Not connected: the transaction is over (see "Reconnecting"). */
        xlev__xs_tx_remove(ctx, tx_id);
    }
    if (rc)
        return rc;
    if (!is_socket(ctx)) {
        uint32_t remote;

        rc = xlev__xs_tx_resolve(ctx, tx_id, &remote);
        if (!rc)
            rc = xlev__xs_req_begin(ctx, "/");
        if (!rc) {
            if (!xs_transaction_end(ctx->xs->xsh, remote, !commit))
                rc = req_failed(ctx, errno, "transaction-end", "");
            else
                xlev__xs_req_end(ctx);
        }
    } else {
        rc = xlev__xs_conn_call(ctx, XS_TRANSACTION_END, tx_id, &part, 1,
                                NULL, NULL);
    }
    /* Ended, refused, lost or stale: over either way (an unknown id is
     * not in the table). */
    xlev__xs_tx_remove(ctx, tx_id);
    return rc;
}

/* An XS_GET_PERMS answer ("b0\0r7\0") as a malloc()ed array. */
static int
perms_from_reply(const char *reply, uint32_t len, xlev_xs_perm **perms_out,
                 unsigned int *n_out)
{
    struct xlev__xs_perm *wire = NULL;
    xlev_xs_perm *perms = NULL;
    unsigned int n = 0, i;
    int rc;

    if (xlev__xs_parse_perms(reply, len, NULL, 0, &n))
        return XLEV_ERROR_PROTOCOL;
    wire = xlev__calloc(n, sizeof(*wire));
    perms = xlev__calloc(n, sizeof(*perms));
    if (!wire || !perms) {
        free(perms);
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    xlev__xs_parse_perms(reply, len, wire, n, &n);
    for (i = 0; i < n; i++) {
        perms[i].domid = wire[i].domid;
        perms[i].mode = (xlev_xs_perm_mode)wire[i].mode;
    }
    *perms_out = perms;
    *n_out = n;
    rc = 0;
out:
    free(wire);
    return rc;
}

int
xlev_xs_get_perms(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                  xlev_xs_perm **perms_out, unsigned int *n_out)
{
    xlev_xs_perm *perms;
    char *reply = NULL;
    uint32_t len = 0;
    unsigned int n = 0, i;
    int rc;

    if (perms_out)
        *perms_out = NULL;
    if (n_out)
        *n_out = 0;
    if (!perms_out || !n_out)
        return XLEV_ERROR_INVAL;
    rc = op_begin(ctx, path);
    if (rc)
        return rc;
    if (!is_socket(ctx)) {
        struct xs_permissions *p;

        rc = xlev__xs_tx_resolve(ctx, tx_id, &tx_id);
        if (rc)
            return rc;
        rc = xlev__xs_req_begin(ctx, path);
        if (rc)
            return rc;
        p = xs_get_permissions(ctx->xs->xsh, tx_id, path, &n);
        if (!p)
            return req_failed(ctx, errno, "get-perms", path);
        xlev__xs_req_end(ctx);
        perms = xlev__calloc(n ? n : 1, sizeof(*perms));
        if (!perms) {
            free(p);
            return XLEV_ERROR_NOMEM;
        }
        for (i = 0; i < n; i++) {
            perms[i].domid = p[i].id;
            perms[i].mode = (xlev_xs_perm_mode)(p[i].perms & 3);
        }
        free(p);
        *perms_out = perms;
        *n_out = n;
        return 0;
    }
    {
        struct xlev__xs_part part = {path, strlen(path), 1};

        rc = xlev__xs_conn_call(ctx, XS_GET_PERMS, tx_id, &part, 1, &reply,
                                &len);
    }
    if (rc)
        return rc;
    rc = perms_from_reply(reply, len, perms_out, n_out);
    free(reply);
    return rc;
}

static char
perm_letter(xlev_xs_perm_mode mode)
{
    switch (mode) {
    case XLEV_XS_PERM_READ:
        return 'r';
    case XLEV_XS_PERM_WRITE:
        return 'w';
    case XLEV_XS_PERM_BOTH:
        return 'b';
    default:
        return 'n';
    }
}

/* A list XS_SET_PERMS can carry: an owner, known modes, real domids. */
static int
perms_valid(const xlev_xs_perm *perms, unsigned int n)
{
    unsigned int i;

    if (!perms || n == 0 || n > XENSTORE_PAYLOAD_MAX / 3)
        return 0;
    for (i = 0; i < n; i++)
        if (perms[i].domid > XLEV__XS_DOMID_MAX || (unsigned)perms[i].mode > 3)
            return 0;
    return 1;
}

/* XS_SET_PERMS's parts: @path, then one "<letter><domid>" each. *parts_out
 * (n + 1 of them) and *strs_out, which they point into: malloc()ed, both
 * to free() also on failure. */
static int
perms_to_parts(const char *path, const xlev_xs_perm *perms, unsigned int n,
               struct xlev__xs_part **parts_out, char **strs_out)
{
    struct xlev__xs_part *parts;
    char *strs;
    unsigned int i;

    *parts_out = parts = xlev__calloc(n + 1, sizeof(*parts));
    *strs_out = strs = xlev__malloc((size_t)n * PERM_STR_MAX);
    if (!parts || !strs)
        return XLEV_ERROR_NOMEM;
    parts[0] = (struct xlev__xs_part){path, strlen(path), 1};
    for (i = 0; i < n; i++) {
        char *s = strs + (size_t)i * PERM_STR_MAX;
        int l = snprintf(s, PERM_STR_MAX, "%c%u", perm_letter(perms[i].mode),
                         perms[i].domid);

        parts[i + 1] = (struct xlev__xs_part){s, (size_t)l, 1};
    }
    return 0;
}

int
xlev_xs_set_perms(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                  const xlev_xs_perm *perms, unsigned int n)
{
    struct xlev__xs_part *parts = NULL;
    char *strs = NULL;
    unsigned int i;
    int rc;

    if (!perms_valid(perms, n))
        return XLEV_ERROR_INVAL;
    rc = op_begin(ctx, path);
    if (rc)
        return rc;
    if (!is_socket(ctx)) {
        struct xs_permissions *p = xlev__calloc(n, sizeof(*p));

        if (!p)
            return XLEV_ERROR_NOMEM;
        for (i = 0; i < n; i++) {
            p[i].id = perms[i].domid;
            p[i].perms = (unsigned int)perms[i].mode;
        }
        rc = xlev__xs_tx_resolve(ctx, tx_id, &tx_id);
        if (!rc)
            rc = xlev__xs_req_begin(ctx, path);
        if (rc) {
            free(p);
            return rc;
        }
        if (!xs_set_permissions(ctx->xs->xsh, tx_id, path, p, n)) {
            int e = errno;

            free(p);
            return req_failed(ctx, e, "set-perms", path);
        }
        xlev__xs_req_end(ctx);
        free(p);
        return 0;
    }
    rc = perms_to_parts(path, perms, n, &parts, &strs);
    if (!rc)
        rc = xlev__xs_conn_call(ctx, XS_SET_PERMS, tx_id, parts, n + 1, NULL,
                                NULL);
    free(parts);
    free(strs);
    return rc;
}

/* A domid as XS_GET_DOMAIN_PATH and XS_IS_DOMAIN_INTRODUCED take it, in
 * @num (DOMID_STR_MAX bytes). */
static void
domid_part(unsigned int domid, char *num, struct xlev__xs_part *part)
{
    part->len = (size_t)snprintf(num, DOMID_STR_MAX, "%u", domid);
    part->data = num;
    part->nul = 1;
}

/* An XS_GET_DOMAIN_PATH answer (NUL-terminated besides @len): one string,
 * with or without the terminator the daemon sends. 0 or
 * XLEV_ERROR_PROTOCOL. */
static int
domain_path_check(const char *reply, uint32_t len)
{
    size_t l = strlen(reply);

    if (l == len || (len > 0 && l == len - 1))
        return 0;
    return XLEV_ERROR_PROTOCOL;
}

int
xlev_xs_get_domain_path(xlev_ctx *ctx, unsigned int domid, char **path_out)
{
    char num[DOMID_STR_MAX];
    struct xlev__xs_part part;
    uint32_t len = 0;
    int rc;

    if (path_out)
        *path_out = NULL;
    if (!path_out || domid > XLEV__XS_DOMID_MAX)
        return XLEV_ERROR_INVAL;
    rc = op_begin(ctx, PATHLESS);
    if (rc)
        return rc;
    if (!is_socket(ctx)) {
        char *p;

        rc = xlev__xs_req_begin(ctx, "/");
        if (rc)
            return rc;
        p = xs_get_domain_path(ctx->xs->xsh, domid);
        if (!p)
            return req_failed(ctx, errno, "get-domain-path", "");
        xlev__xs_req_end(ctx);
        *path_out = p;
        return 0;
    }
    domid_part(domid, num, &part);
    rc = xlev__xs_conn_call(ctx, XS_GET_DOMAIN_PATH, 0, &part, 1, path_out,
                            &len);
    if (!rc && domain_path_check(*path_out, len)) {
        free(*path_out);
        *path_out = NULL;
        rc = XLEV_ERROR_PROTOCOL;
    }
    return rc;
}

int
xlev__xs_is_domain_introduced(xlev_ctx *ctx, unsigned int domid,
                              int *introduced_out)
{
    char num[DOMID_STR_MAX];
    struct xlev__xs_part part;
    char *reply = NULL;
    uint32_t len = 0;
    bool introduced;
    int rc, v = 0;

    *introduced_out = 0;
    rc = op_begin(ctx, PATHLESS);
    if (rc)
        return rc;
    if (is_socket(ctx)) {
        domid_part(domid, num, &part);
        rc = xlev__xs_conn_call(ctx, XS_IS_DOMAIN_INTRODUCED, 0, &part, 1,
                                &reply, &len);
        if (rc)
            return rc;
        if (xlev__xs_parse_bool(reply, len, &v))
            rc = XLEV_ERROR_PROTOCOL;
        free(reply);
        *introduced_out = v;
        return rc;
    }
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

/*======================================================================*/
/* Asynchronous operations
 *
 * On the socket the request goes out now, through conn.c, and its answer
 * comes back from the loop. An answer the caller gets as it came (a
 * value, a listing, nothing) goes straight to its xlev_xs_reply_callback;
 * one that needs parsing (a transaction id, a permission list, a domain
 * path) goes to typed_answered() first, which parses it as the blocking
 * call does and calls the caller's typed callback. The xenbus transport
 * does the round trip now (libxenstore, or the blocking call) and keeps
 * the answer in a record of the deferral queue: it still reaches the
 * callback from the loop, as with the socket. */

enum answer_kind {
    ANSWER_RAW,         /* xlev_xs_reply_callback: the answer as it came */
    ANSWER_TX_ID,       /* xlev_xs_tx_callback */
    ANSWER_TX_END,      /* xlev_xs_reply_callback; the context's id goes */
    ANSWER_PERMS,       /* xlev_xs_perms_callback */
    ANSWER_DOMAIN_PATH, /* xlev_xs_reply_callback: one string */
};

struct op_async {
    struct xlev__deferred d; /* the xenbus transport's delivery */
    enum answer_kind kind;
    union {
        xlev_xs_reply_callback *reply;
        xlev_xs_tx_callback *tx;
        xlev_xs_perms_callback *perms;
    } cb;
    void *user;
    /* The answer, until the callback: rc, then what its kind carries. */
    int rc;
    char *reply; /* NUL-terminated besides len */
    uint32_t len;
    uint32_t tx_id; /* the context's id (see "Reconnecting") */
    unsigned int gen; /* ANSWER_TX_ID: the connection it was sent on */
    xlev_xs_perm *perms;
    unsigned int n;
};

static struct op_async *
op_async_new(enum answer_kind kind, void *user)
{
    struct op_async *a = xlev__calloc(1, sizeof(*a));

    if (a) {
        a->kind = kind;
        a->user = user;
    }
    return a;
}

/* How every typed asynchronous call starts: @ctx usable for @path
 * (PATHLESS: none), and the record its answer will be parsed into. */
static int
op_async_begin(xlev_ctx *ctx, const char *path, enum answer_kind kind,
               void *user, struct op_async **a_out)
{
    int rc = op_begin(ctx, path);

    *a_out = NULL;
    if (rc)
        return rc;
    *a_out = op_async_new(kind, user);
    return *a_out ? 0 : XLEV_ERROR_NOMEM;
}

static void
op_async_free(struct op_async *a)
{
    free(a->reply);
    free(a->perms);
    free(a);
}

/* The caller's callback, once, with the answer in @a; frees @a. Lock
 * dropped. */
static void
op_async_deliver(xlev_ctx *ctx, struct op_async *a)
{
    int rc = a->rc;

    switch (a->kind) {
    case ANSWER_TX_ID:
        a->cb.tx(ctx, a->user, rc, rc ? 0 : a->tx_id);
        break;
    case ANSWER_PERMS:
        a->cb.perms(ctx, a->user, rc, rc ? NULL : a->perms, rc ? 0 : a->n);
        break;
    case ANSWER_RAW:
    case ANSWER_TX_END:
    case ANSWER_DOMAIN_PATH:
        a->cb.reply(ctx, a->user, rc, rc ? NULL : (a->reply ? a->reply : ""),
                    rc ? 0 : a->len);
        break;
    }
    op_async_free(a);
}

static void
lib_async_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    op_async_deliver(ctx, XLEV__CONTAINER_OF(d, struct op_async, d));
}

static void
lib_async_dispose_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    op_async_free(XLEV__CONTAINER_OF(d, struct op_async, d));
}

static const struct xlev__deferred_ops lib_async_ops = {
    .run = lib_async_run,
    .dispose_locked = lib_async_dispose_locked,
};

/* The xenbus transport: @a holds its answer already; the loop delivers
 * it. Takes @a over. */
static int
lib_deliver_later(xlev_ctx *ctx, struct op_async *a)
{
    XLEV__LOCK(ctx);
    xlev__deferred_queue_locked(ctx, &a->d, &lib_async_ops, NULL);
    if (ctx->hooks && !xlev__deferred_in_callback_locked(ctx))
        xlev__osevent_resume_locked(ctx);
    XLEV__UNLOCK(ctx);
    return 0;
}

/* The socket transport's answer to a typed request (conn.c's callback):
 * parsed as the blocking call parses it, then delivered. */
static void
typed_answered(xlev_ctx *ctx, void *user, int rc, const char *value,
               unsigned int len)
{
    struct op_async *a = user;

    if (!rc) {
        switch (a->kind) {
        case ANSWER_TX_ID: {
            uint32_t remote;

            if (xlev__xs_parse_tx_id(value, len, &remote)) {
                rc = XLEV_ERROR_PROTOCOL;
                break;
            }
            /* Callers name it by the context's id, as for the blocking
             * start. */
            XLEV__LOCK(ctx);
            rc = xlev__xs_tx_add_locked(ctx, remote, a->gen, &a->tx_id);
            XLEV__UNLOCK(ctx);
            break;
        }
        case ANSWER_PERMS:
            rc = perms_from_reply(value, len, &a->perms, &a->n);
            break;
        case ANSWER_DOMAIN_PATH:
            rc = domain_path_check(value, len);
            if (!rc) {
                a->reply = xlev__strdup(value);
                a->len = (uint32_t)strlen(value);
                if (!a->reply)
                    rc = XLEV_ERROR_NOMEM;
            }
            break;
        case ANSWER_RAW:
        case ANSWER_TX_END:
            break;
        }
    }
    if (a->kind == ANSWER_TX_END) {
        /* Ended, refused or lost: over either way. */
        xlev__xs_tx_remove(ctx, a->tx_id);
    }
    a->rc = rc;
    op_async_deliver(ctx, a);
}

/* A typed request on the socket; takes @a over. */
static int
typed_call_async(xlev_ctx *ctx, struct op_async *a, uint32_t type,
                 uint32_t tx_id, const struct xlev__xs_part *parts,
                 unsigned int n_parts)
{
    int rc = xlev__xs_conn_call_async(ctx, type, tx_id, parts, n_parts,
                                      typed_answered, a);

    if (rc)
        op_async_free(a);
    return rc;
}

static int
path_call_async(xlev_ctx *ctx, uint32_t type, uint32_t tx_id,
                const char *path, const void *value, unsigned int vlen,
                xlev_xs_reply_callback *cb, void *user)
{
    struct op_async *a;
    int rc = op_begin(ctx, path);

    if (rc)
        return rc;
    if (!cb || (value == NULL && vlen))
        return XLEV_ERROR_INVAL;
    if (is_socket(ctx)) {
        struct xlev__xs_part parts[2] = {
            {path, strlen(path), 1},
            {value, vlen, 0},
        };

        return xlev__xs_conn_call_async(ctx, type, tx_id, parts,
                                        type == XS_WRITE ? 2 : 1, cb, user);
    }
    a = op_async_new(ANSWER_RAW, user);
    if (!a)
        return XLEV_ERROR_NOMEM;
    a->cb.reply = cb;
    a->rc = lib_call(ctx, type, tx_id, path, value, vlen, &a->reply, &a->len);
    return lib_deliver_later(ctx, a);
}

int
xlev_xs_read_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                   xlev_xs_reply_callback *callback, void *user)
{
    return path_call_async(ctx, XS_READ, tx_id, path, NULL, 0, callback,
                           user);
}

int
xlev_xs_write_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                    const void *value, unsigned int len,
                    xlev_xs_reply_callback *callback, void *user)
{
    if (!value && len)
        return XLEV_ERROR_INVAL;
    return path_call_async(ctx, XS_WRITE, tx_id, path, value ? value : "",
                           len, callback, user);
}

int
xlev_xs_directory_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                        xlev_xs_reply_callback *callback, void *user)
{
    return path_call_async(ctx, XS_DIRECTORY, tx_id, path, NULL, 0,
                           callback, user);
}

int
xlev_xs_rm_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                 xlev_xs_reply_callback *callback, void *user)
{
    return path_call_async(ctx, XS_RM, tx_id, path, NULL, 0, callback, user);
}

int
xlev_xs_mkdir_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                    xlev_xs_reply_callback *callback, void *user)
{
    return path_call_async(ctx, XS_MKDIR, tx_id, path, NULL, 0, callback,
                           user);
}

int
xlev_xs_transaction_start_async(xlev_ctx *ctx, xlev_xs_tx_callback *callback,
                                void *user)
{
    struct xlev__xs_part part = {"", 0, 1};
    struct op_async *a;
    int rc;

    if (!callback)
        return XLEV_ERROR_INVAL;
    rc = op_async_begin(ctx, PATHLESS, ANSWER_TX_ID, user, &a);
    if (rc)
        return rc;
    a->cb.tx = callback;
    if (!is_socket(ctx)) {
        a->rc = xlev_xs_transaction_start(ctx, &a->tx_id);
        return lib_deliver_later(ctx, a);
    }
    XLEV__LOCK(ctx);
    a->gen = ctx->xs->gen;
    XLEV__UNLOCK(ctx);
    return typed_call_async(ctx, a, XS_TRANSACTION_START, 0, &part, 1);
}

int
xlev_xs_transaction_end_async(xlev_ctx *ctx, uint32_t tx_id, int commit,
                              xlev_xs_reply_callback *callback, void *user)
{
    struct xlev__xs_part part = {commit ? "T" : "F", 1, 1};
    struct op_async *a;
    int rc;

    if (tx_id == 0 || !callback)
        return XLEV_ERROR_INVAL;
    rc = op_begin(ctx, PATHLESS);
    if (rc == XLEV_ERROR_XENSTORE && ctx->xs) {
        /* Not connected: the transaction is over (see "Reconnecting"). */
        xlev__xs_tx_remove(ctx, tx_id);
    }
    if (rc)
        return rc;
    if (is_socket(ctx)) {
        a = op_async_new(ANSWER_TX_END, user);
        if (!a)
            return XLEV_ERROR_NOMEM;
        a->cb.reply = callback;
        a->tx_id = tx_id;
        rc = typed_call_async(ctx, a, XS_TRANSACTION_END, tx_id, &part, 1);
        if (rc) {
            /* Not sent (a stale or unknown id): over all the same. */
            xlev__xs_tx_remove(ctx, tx_id);
        }
        return rc;
    }
    a = op_async_new(ANSWER_RAW, user);
    if (!a)
        return XLEV_ERROR_NOMEM;
    a->cb.reply = callback;
    a->rc = xlev_xs_transaction_end(ctx, tx_id, commit);
    return lib_deliver_later(ctx, a);
}

int
xlev_xs_get_perms_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                        xlev_xs_perms_callback *callback, void *user)
{
    struct op_async *a;
    int rc;

    if (!callback)
        return XLEV_ERROR_INVAL;
    rc = op_async_begin(ctx, path, ANSWER_PERMS, user, &a);
    if (rc)
        return rc;
    a->cb.perms = callback;
    if (!is_socket(ctx)) {
        a->rc = xlev_xs_get_perms(ctx, tx_id, path, &a->perms, &a->n);
        return lib_deliver_later(ctx, a);
    }
    {
        struct xlev__xs_part part = {path, strlen(path), 1};

        return typed_call_async(ctx, a, XS_GET_PERMS, tx_id, &part, 1);
    }
}

int
xlev_xs_set_perms_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                        const xlev_xs_perm *perms, unsigned int n,
                        xlev_xs_reply_callback *callback, void *user)
{
    struct xlev__xs_part *parts = NULL;
    struct op_async *a;
    char *strs = NULL;
    int rc;

    if (!callback || !perms_valid(perms, n))
        return XLEV_ERROR_INVAL;
    rc = op_begin(ctx, path);
    if (rc)
        return rc;
    if (!is_socket(ctx)) {
        a = op_async_new(ANSWER_RAW, user);
        if (!a)
            return XLEV_ERROR_NOMEM;
        a->cb.reply = callback;
        a->rc = xlev_xs_set_perms(ctx, tx_id, path, perms, n);
        return lib_deliver_later(ctx, a);
    }
    rc = perms_to_parts(path, perms, n, &parts, &strs);
    if (!rc)
        rc = xlev__xs_conn_call_async(ctx, XS_SET_PERMS, tx_id, parts, n + 1,
                                      callback, user);
    free(parts);
    free(strs);
    return rc;
}

int
xlev_xs_get_domain_path_async(xlev_ctx *ctx, unsigned int domid,
                              xlev_xs_reply_callback *callback, void *user)
{
    char num[DOMID_STR_MAX];
    struct xlev__xs_part part;
    struct op_async *a;
    int rc;

    if (!callback || domid > XLEV__XS_DOMID_MAX)
        return XLEV_ERROR_INVAL;
    rc = op_async_begin(ctx, PATHLESS, ANSWER_DOMAIN_PATH, user, &a);
    if (rc)
        return rc;
    a->cb.reply = callback;
    if (!is_socket(ctx)) {
        a->rc = xlev_xs_get_domain_path(ctx, domid, &a->reply);
        if (!a->rc)
            a->len = (uint32_t)strlen(a->reply);
        return lib_deliver_later(ctx, a);
    }
    domid_part(domid, num, &part);
    return typed_call_async(ctx, a, XS_GET_DOMAIN_PATH, 0, &part, 1);
}
