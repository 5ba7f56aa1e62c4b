/* conn.c: the core's own xenstore connection (the socket transport)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "The socket transport" in xs-private.h for the state machine and
 * the locking; xs-wire-private.h for the protocol pieces used here.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xs-private.h"

/* How many bytes one read(2) takes, and how many one pass over the socket
 * takes at most before it lets the loop go on (the rest stays readable:
 * the next iteration comes back for it). */
#define CONN_READ_CHUNK 16384
#define CONN_READ_BUDGET (16 * CONN_READ_CHUNK)

/* Requests on the wire at once, at most. oxenstored answers at most
 * quota-maxoutstanding (1024) replies and events per connection and stalls
 * beyond that (tests/DAEMONS.md); the rest wait, encoded, in xs->held and
 * go out as answers come in. */
#define CONN_MAX_IN_FLIGHT 512

/* The C xenstored writes a message's header and its payload with two
 * write(2) calls. A read that got only the first part waits this long, at
 * most once per pass, for the rest, which is then microseconds away:
 * otherwise every such message costs the loop a second iteration. A
 * daemon stopped between the two writes costs the loop this much once. */
#define CONN_PARTIAL_WAIT_MS 1

/* A waiter that has a cancel fd but is not the one polling the socket
 * looks at its cancel fd this often. */
#define CONN_CANCEL_SLICE_MS 20

enum call_kind {
    CALL_SYNC,    /* a blocking caller waits on it (on its stack) */
    CALL_ASYNC,   /* a callback completes it through the deferral queue */
    CALL_UNWATCH, /* XS_UNWATCH: the answer is only logged */
};

struct xlev__xs_call {
    struct xlev__deferred d; /* CALL_ASYNC: its completion */
    enum call_kind kind;
    uint32_t type;
    int done; /* CALL_SYNC: answered (or failed) */
    int rc;
    char *reply; /* malloc()ed, NUL-terminated besides len */
    uint32_t len;
    /* CALL_ASYNC */
    xlev_xs_reply_callback *cb;
    void *user;
    struct xlev__xs_call *next_dying; /* teardown: see xs_conn_close */
};

static __thread int thread_cancel_fd = -1;

void
xlev_xs_set_cancel_fd(int fd)
{
    thread_cancel_fd = fd;
}

/*======================================================================*/
/* Completing calls */

static void
async_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct xlev__xs_call *c = XLEV__CONTAINER_OF(d, struct xlev__xs_call, d);

    c->cb(ctx, c->user, c->rc, c->rc ? NULL : (c->reply ? c->reply : ""),
          c->rc ? 0 : c->len);
    free(c->reply);
    free(c);
}

/* Only at teardown (xlev__xs_conn_close_locked): the callback is still
 * called, with XLEV_ERROR_CANCELLED. */
static void
async_dispose_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct xlev__xs_call *c = XLEV__CONTAINER_OF(d, struct xlev__xs_call, d);

    free(c->reply);
    c->reply = NULL;
    c->next_dying = ctx->xs->dying;
    ctx->xs->dying = c;
}

static const struct xlev__deferred_ops async_ops = {
    .run = async_run,
    .dispose_locked = async_dispose_locked,
};

static void
reader_wake(struct xlev__xs *xs)
{
    uint64_t one = 1;
    ssize_t r;

    do
        r = write(xs->reader_wake_fd, &one, sizeof(one));
    while (r < 0 && errno == EINTR);
}

static void
reader_wake_drain(struct xlev__xs *xs)
{
    uint64_t v;
    ssize_t r;

    do
        r = read(xs->reader_wake_fd, &v, sizeof(v));
    while (r < 0 && errno == EINTR);
}

/* The call is answered (rc, and the payload when rc is 0) or failed. Takes
 * it over: frees, queues or hands it to its waiter. Lock held. */
static void
call_complete_locked(xlev_ctx *ctx, struct xlev__xs_call *c, int rc,
                     const char *payload, uint32_t len)
{
    c->rc = rc;
    if (!rc && payload && (c->kind == CALL_SYNC || c->kind == CALL_ASYNC)) {
        c->reply = xlev__malloc((size_t)len + 1);
        if (!c->reply) {
            c->rc = XLEV_ERROR_NOMEM;
        } else {
            memcpy(c->reply, payload, len);
            c->reply[len] = '\0';
            c->len = len;
        }
    }
    switch (c->kind) {
    case CALL_SYNC:
        c->done = 1;
        pthread_cond_broadcast(&ctx->xs->wait_cond);
        /* Its caller may be polling the socket for it: the answer is
         * read, so the socket will not wake it. */
        if (c == ctx->xs->reader_call)
            reader_wake(ctx->xs);
        break;
    case CALL_ASYNC:
        xlev__deferred_queue_locked(ctx, &c->d, &async_ops, NULL);
        break;
    case CALL_UNWATCH:
        if (rc)
            xlev__log(ctx, LOG_DEBUG, "xenstored refused an unwatch: %s",
                      xlev_strerror(rc));
        free(c);
        break;
    }
}

static void
fail_pending(uint32_t req_id, uint32_t type, void *data, void *user)
{
    xlev_ctx *ctx = user;

    if (data)
        call_complete_locked(ctx, data, XLEV_ERROR_XENSTORE, NULL, 0);
}

/*======================================================================*/
/* Losing the connection */

/* The connection is unusable (EOF, a socket error, a protocol violation):
 * every request in flight fails with XLEV_ERROR_XENSTORE, nothing is sent
 * any more, one disaster (xlev__xs_lost_locked). The fd is shut down, not
 * closed: a blocking caller may be polling it at this very moment; teardown
 * closes it. Idempotent. Lock held. */
void
xlev__xs_conn_lost_locked(xlev_ctx *ctx, int errnoval, const char *what)
{
    struct xlev__xs *xs = ctx->xs;

    if (xs->broken)
        return;
    xs->lost_locked(ctx, errnoval, what);
    xlev__fd_deregister_locked(ctx, &xs->conn_efd);
    shutdown(xs->fd, SHUT_RDWR);
    xlev__xs_outq_dispose(&xs->outq);
    xlev__xs_outq_dispose(&xs->held);
    xs->n_held = 0;
    xlev__xs_pending_drain(&xs->pending, fail_pending, ctx);
    pthread_cond_broadcast(&xs->wait_cond);
}

static void
protocol_violation_locked(xlev_ctx *ctx, int rc)
{
    char what[160];

    snprintf(what, sizeof(what),
             "the xenstore daemon broke the wire protocol (%s): the "
             "connection is closed",
             xlev__xs_wire_strerror(rc));
    xlev__xs_conn_lost_locked(ctx, EPROTO, what);
}

/*======================================================================*/
/* Messages in */

static void conn_flush_locked(xlev_ctx *ctx);
static void release_held_locked(xlev_ctx *ctx);

static void
handle_msg_locked(xlev_ctx *ctx, const struct xlev__xs_msg *m)
{
    struct xlev__xs *xs = ctx->xs;
    void *data = NULL;
    int rc, errnoval;

    if (m->type == XS_WATCH_EVENT) {
        const char *path, *token;

        rc = xlev__xs_parse_watch_event(m->payload, m->len, &path, &token);
        if (rc) {
            protocol_violation_locked(ctx, rc);
            return;
        }
        ctx->xs->watch_event_locked(ctx, path, token);
        return;
    }

    rc = xlev__xs_pending_take(&xs->pending, m->req_id, m->type, NULL, &data);
    if (rc == XLEV__XSW_EREPLYTYPE) {
        if (data)
            call_complete_locked(ctx, data, XLEV_ERROR_PROTOCOL, NULL, 0);
        protocol_violation_locked(ctx, rc);
        return;
    }
    if (rc) {
        protocol_violation_locked(ctx, rc);
        return;
    }
    if (xs->n_held)
        release_held_locked(ctx);
    if (!data)
        return; /* its caller gave up (timeout, cancel): dropped */

    if (m->type == XS_ERROR) {
        rc = xlev__xs_parse_error(m->payload, m->len, &errnoval);
        if (rc) {
            xlev__log(ctx, LOG_DEBUG,
                      "xenstored answered with an unknown error \"%.*s\"",
                      (int)(m->len > 64 ? 64 : m->len), m->payload);
            rc = XLEV_ERROR_PROTOCOL;
        } else {
            rc = xlev__xs_wire_errno_to_rc(errnoval);
            /* The daemon was reached: never "cannot be reached". */
            if (rc == XLEV_ERROR_XENSTORE || rc == 0)
                rc = XLEV_ERROR_FAIL;
        }
        call_complete_locked(ctx, data, rc, NULL, 0);
        return;
    }
    call_complete_locked(ctx, data, 0, m->payload, m->len);
}

/* After a read that left a message unfinished: waits up to
 * CONN_PARTIAL_WAIT_MS for the rest (the C daemon writes a header and its
 * payload in two write(2)s), once per conn_read_locked. 1 if more is
 * there to read. Lock held. */
static int
conn_partial_wait_locked(struct xlev__xs *xs, int *waited)
{
    struct pollfd p = {.fd = xs->fd, .events = POLLIN};

    if (*waited || !xlev__xs_reader_in_message(xs->rd))
        return 0;
    *waited = 1;
    return poll(&p, 1, CONN_PARTIAL_WAIT_MS) > 0;
}

/* Reads what the socket has, up to CONN_READ_BUDGET, and handles every
 * message. A read shorter than the buffer took everything the socket had
 * at that moment: the loop is told again by poll(2) of what comes later,
 * so no read is spent to learn EAGAIN. Lock held. */
static void
conn_read_locked(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;
    char buf[CONN_READ_CHUNK];
    size_t budget = CONN_READ_BUDGET;
    int waited = 0;

    while (!xs->broken && budget > 0) {
        ssize_t n = recv(xs->fd, buf, sizeof(buf), MSG_DONTWAIT);
        size_t off = 0;

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (conn_partial_wait_locked(xs, &waited))
                continue;
            return;
        }

        if (n == 0) {
            int rc = xlev__xs_reader_eof(xs->rd);

            if (rc)
                protocol_violation_locked(ctx, rc);
            else
                xlev__xs_conn_lost_locked(ctx, EPIPE,
                                          "the xenstore daemon closed the "
                                          "connection");
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            xlev__xs_conn_lost_locked(ctx, errno,
                                      "the xenstore connection was lost");
            return;
        }
        budget -= (size_t)n < budget ? (size_t)n : budget;
        while (off < (size_t)n && !xs->broken) {
            struct xlev__xs_msg m;
            size_t used = 0;
            int rc = xlev__xs_reader_feed(xs->rd, buf + off, (size_t)n - off,
                                          &used, &m);

            off += used;
            if (rc < 0) {
                protocol_violation_locked(ctx, rc);
                return;
            }
            if (rc == 1)
                handle_msg_locked(ctx, &m);
        }
        if ((size_t)n < sizeof(buf) && !conn_partial_wait_locked(xs, &waited))
            return;
    }
}

/* Reads, then writes what the answers let out of xs->held. */
static void
conn_io_locked(xlev_ctx *ctx)
{
    const void *p;

    conn_read_locked(ctx);
    if (!ctx->xs->broken && xlev__xs_outq_peek(&ctx->xs->outq, &p))
        conn_flush_locked(ctx);
}

/*======================================================================*/
/* Messages out */

static void conn_update_events_locked(xlev_ctx *ctx);

/* Writes what the queue holds as far as the socket takes it. Lock held. */
static void
conn_flush_locked(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;
    const void *p;
    size_t n;

    while (!xs->broken && (n = xlev__xs_outq_peek(&xs->outq, &p)) > 0) {
        ssize_t w = send(xs->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            xlev__xs_conn_lost_locked(ctx, errno,
                                      "the xenstore connection was lost");
            return;
        }
        xlev__xs_outq_consume(&xs->outq, (size_t)w);
    }
    conn_update_events_locked(ctx);
}

/* POLLOUT only while bytes wait. */
static void
conn_update_events_locked(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;
    const void *p;
    short want;

    if (xs->broken || !xlev_ev_fd_isregistered(&xs->conn_efd))
        return;
    want = POLLIN | (xlev__xs_outq_peek(&xs->outq, &p) ? POLLOUT : 0);
    if (want != xs->conn_events) {
        if (xlev__fd_modify_locked(ctx, &xs->conn_efd, want) == 0)
            xs->conn_events = want;
    }
}

/* The loop found the socket ready: an ordinary fd callback, lock dropped;
 * what it reads is queued for the runner that called it. */
static void
conn_fd_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events,
           short revents)
{
    XLEV__LOCK(ctx);
    if (xlev_ev_fd_isregistered(ev) && ctx->xs && !ctx->xs->broken) {
        if (revents & POLLOUT)
            conn_flush_locked(ctx);
        if (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
            conn_io_locked(ctx);
    }
    XLEV__UNLOCK(ctx);
}

/*======================================================================*/
/* Sending */

/* Moves held requests to the wire while fewer than CONN_MAX_IN_FLIGHT
 * are on it. Lock held. */
static void
release_held_locked(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;

    while (xs->n_held &&
           xlev__xs_pending_count(&xs->pending) - xs->n_held <
               CONN_MAX_IN_FLIGHT) {
        struct xsd_sockmsg hdr;
        struct xlev__xs_part part;
        const void *p;
        size_t n = xlev__xs_outq_peek(&xs->held, &p);

        if (n < sizeof(hdr))
            break; /* cannot happen: whole messages only */
        memcpy(&hdr, p, sizeof(hdr));
        part.data = (const char *)p + sizeof(hdr);
        part.len = hdr.len;
        part.nul = 0;
        if (xlev__xs_encode(&xs->outq, hdr.type, hdr.req_id, hdr.tx_id, &part,
                            1))
            break; /* out of memory: the next answer tries again */
        xlev__xs_outq_consume(&xs->held, sizeof(hdr) + hdr.len);
        xs->n_held--;
    }
}

/* Records @c and encodes its request (@enc does, with the req_id) into the
 * queue, then writes what it can. Lock held. 0, or the error (nothing
 * recorded or sent). */
typedef int (*encode_fn)(struct xlev__xs_outq *q, uint32_t req_id,
                         const void *arg);

static int
conn_send_locked(xlev_ctx *ctx, struct xlev__xs_call *c, encode_fn enc,
                 const void *arg, uint32_t *req_id_out)
{
    struct xlev__xs *xs = ctx->xs;
    uint32_t req_id;
    int rc;

    if (xs->broken)
        return XLEV_ERROR_XENSTORE;
    rc = xlev__xs_pending_add(&xs->pending, c->type, c, &req_id);
    if (rc)
        return rc;
    if (xs->n_held ||
        xlev__xs_pending_count(&xs->pending) > CONN_MAX_IN_FLIGHT) {
        rc = enc(&xs->held, req_id, arg);
        if (!rc)
            xs->n_held++;
    } else {
        rc = enc(&xs->outq, req_id, arg);
    }
    if (rc) {
        void *data;

        xlev__xs_pending_take(&xs->pending, req_id, c->type, NULL, &data);
        return rc;
    }
    if (req_id_out)
        *req_id_out = req_id;
    conn_flush_locked(ctx);
    return 0;
}

/* A request described by type, tx_id and payload parts. */
struct generic_req {
    uint32_t type;
    uint32_t tx_id;
    const struct xlev__xs_part *parts;
    unsigned int n_parts;
};

static int
encode_generic(struct xlev__xs_outq *q, uint32_t req_id, const void *arg)
{
    const struct generic_req *g = arg;

    return xlev__xs_encode(q, g->type, req_id, g->tx_id, g->parts, g->n_parts);
}

struct watch_req {
    uint32_t type;
    const char *path;
    const char *token;
};

static int
encode_watch(struct xlev__xs_outq *q, uint32_t req_id, const void *arg)
{
    const struct watch_req *wr = arg;

    return xlev__xs_encode_watch(q, wr->type, req_id, wr->path, wr->token);
}

/*======================================================================*/
/* Waiting: blocking callers */

static void
mono_now(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

static int64_t
ms_until(const struct timespec *deadline)
{
    struct timespec now;

    mono_now(&now);
    return ((int64_t)deadline->tv_sec - now.tv_sec) * 1000 +
           (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static int
cancel_fd_ready(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return fd >= 0 && poll(&p, 1, 0) > 0;
}

/* Waits for @c to be answered: the caller reads the socket itself while
 * no other waiter does (the loop may read it too, under the lock), and
 * otherwise sleeps until a reader wakes it. Lock held on entry and return,
 * dropped while waiting. On timeout or cancellation the request's entry is
 * kept with no owner, so that its late answer is read and dropped. */
static int
conn_wait_locked(xlev_ctx *ctx, struct xlev__xs_call *c, uint32_t req_id)
{
    struct xlev__xs *xs = ctx->xs;
    int cancel_fd = thread_cancel_fd;
    struct timespec deadline;
    int timeout_ms = xs->timeout_ms;
    int queued_before;

    if (timeout_ms > 0) {
        mono_now(&deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
    }

    while (!c->done) {
        int64_t left = timeout_ms > 0 ? ms_until(&deadline) : -1;
        int reason = 0;

        if (timeout_ms > 0 && left <= 0)
            reason = XLEV_ERROR_TIMEDOUT;
        else if (cancel_fd >= 0 && cancel_fd_ready(cancel_fd))
            reason = XLEV_ERROR_CANCELLED;
        if (reason) {
            struct xlev__xs_pending_entry *e =
                xlev__xs_pending_find(&xs->pending, req_id);

            if (e)
                e->data = NULL; /* the answer is dropped when it comes */
            return reason;
        }

        if (!xs->reader_busy) {
            struct pollfd p[3];
            const void *dummy;
            int np = 2;

            xs->reader_busy = 1;
            xs->reader_call = c;
            p[0].fd = xs->fd;
            p[0].events =
                POLLIN | (xlev__xs_outq_peek(&xs->outq, &dummy) ? POLLOUT : 0);
            p[0].revents = 0;
            p[1].fd = xs->reader_wake_fd;
            p[1].events = POLLIN;
            p[1].revents = 0;
            if (cancel_fd >= 0) {
                p[2].fd = cancel_fd;
                p[2].events = POLLIN;
                p[2].revents = 0;
                np = 3;
            }
            XLEV__UNLOCK(ctx);
            poll(p, np, left > INT32_MAX ? INT32_MAX : (int)left);
            XLEV__LOCK(ctx);
            xs->reader_busy = 0;
            xs->reader_call = NULL;
            if (p[1].revents)
                reader_wake_drain(xs);
            queued_before = ctx->deferred.head != NULL;
            if (!xs->broken) {
                if (p[0].revents & POLLOUT)
                    conn_flush_locked(ctx);
                conn_io_locked(ctx);
            }
            /* Events and other callers' answers read here are for the
             * loop: in poll style queuing woke it (loop-private.h); in
             * hooks style a timeout due at once does. */
            if (!queued_before && ctx->deferred.head && ctx->hooks &&
                !xlev__deferred_in_callback_locked(ctx))
                xlev__osevent_resume_locked(ctx);
            /* Another waiter may take over reading. */
            pthread_cond_broadcast(&xs->wait_cond);
        } else {
            struct timespec until;
            int64_t slice = left;

            if (cancel_fd >= 0 && (slice < 0 || slice > CONN_CANCEL_SLICE_MS))
                slice = CONN_CANCEL_SLICE_MS;
            if (slice < 0) {
                pthread_cond_wait(&xs->wait_cond, &ctx->lock);
            } else {
                mono_now(&until);
                until.tv_sec += slice / 1000;
                until.tv_nsec += (long)(slice % 1000) * 1000000;
                if (until.tv_nsec >= 1000000000) {
                    until.tv_sec++;
                    until.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&xs->wait_cond, &ctx->lock, &until);
            }
        }
    }
    return c->rc;
}

/* One blocking request: 0 with *reply_out (malloc()ed, NUL-terminated
 * besides *len_out bytes; NULL allowed to drop it) or an error. No lock
 * held on entry. */
int
xlev__xs_conn_call(xlev_ctx *ctx, uint32_t type, uint32_t tx_id,
                   const struct xlev__xs_part *parts, unsigned int n_parts,
                   char **reply_out, uint32_t *len_out)
{
    struct xlev__xs_call c;
    struct generic_req g = {type, tx_id, parts, n_parts};
    uint32_t req_id;
    int rc;

    if (reply_out)
        *reply_out = NULL;
    if (len_out)
        *len_out = 0;
    memset(&c, 0, sizeof(c));
    c.kind = CALL_SYNC;
    c.type = type;

    XLEV__LOCK(ctx);
    /* The caller's transaction id becomes the daemon's here, under the
     * lock that also guards the connection it was started on. */
    rc = xlev__xs_tx_resolve_locked(ctx, tx_id, &g.tx_id);
    if (!rc)
        rc = conn_send_locked(ctx, &c, encode_generic, &g, &req_id);
    if (!rc)
        rc = conn_wait_locked(ctx, &c, req_id);
    XLEV__UNLOCK(ctx);
    if (rc) {
        free(c.reply);
        return rc;
    }
    if (reply_out)
        *reply_out = c.reply;
    else
        free(c.reply);
    if (len_out)
        *len_out = c.len;
    return 0;
}

int
xlev__xs_conn_call_async(xlev_ctx *ctx, uint32_t type, uint32_t tx_id,
                         const struct xlev__xs_part *parts,
                         unsigned int n_parts, xlev_xs_reply_callback *cb,
                         void *user)
{
    struct xlev__xs_call *c;
    struct generic_req g = {type, tx_id, parts, n_parts};
    int rc;

    c = xlev__calloc(1, sizeof(*c));
    if (!c)
        return XLEV_ERROR_NOMEM;
    c->kind = CALL_ASYNC;
    c->type = type;
    c->cb = cb;
    c->user = user;
    XLEV__LOCK(ctx);
    rc = xlev__xs_tx_resolve_locked(ctx, tx_id, &g.tx_id);
    if (!rc)
        rc = conn_send_locked(ctx, c, encode_generic, &g, NULL);
    XLEV__UNLOCK(ctx);
    if (rc)
        free(c);
    return rc;
}

/* A registration's XS_WATCH, waited for like a blocking call. Lock held
 * (dropped while waiting). */
int
xlev__xs_conn_watch_wait_locked(xlev_ctx *ctx, const char *path,
                                const char *token)
{
    struct xlev__xs_call c;
    struct watch_req wr = {XS_WATCH, path, token};
    uint32_t req_id;
    int rc;

    memset(&c, 0, sizeof(c));
    c.kind = CALL_SYNC;
    c.type = XS_WATCH;
    rc = conn_send_locked(ctx, &c, encode_watch, &wr, &req_id);
    if (!rc)
        rc = conn_wait_locked(ctx, &c, req_id);
    free(c.reply);
    return rc;
}

/* XS_UNWATCH: sent; nobody waits for the answer. Lock held. */
int
xlev__xs_conn_unwatch_locked(xlev_ctx *ctx, const char *path,
                             const char *token)
{
    struct xlev__xs_call *c;
    struct watch_req wr = {XS_UNWATCH, path, token};
    int rc;

    c = xlev__calloc(1, sizeof(*c));
    if (!c)
        return XLEV_ERROR_NOMEM;
    c->kind = CALL_UNWATCH;
    c->type = XS_UNWATCH;
    rc = conn_send_locked(ctx, c, encode_watch, &wr, NULL);
    if (rc)
        free(c);
    return rc;
}

/* XS_WATCH for a re-registration: answered like an asynchronous call.
 * Lock held. */
int
xlev__xs_conn_watch_async_locked(xlev_ctx *ctx, const char *path,
                                 const char *token,
                                 xlev_xs_reply_callback *cb, void *user)
{
    struct xlev__xs_call *c;
    struct watch_req wr = {XS_WATCH, path, token};
    int rc;

    c = xlev__calloc(1, sizeof(*c));
    if (!c)
        return XLEV_ERROR_NOMEM;
    c->kind = CALL_ASYNC;
    c->type = XS_WATCH;
    c->cb = cb;
    c->user = user;
    rc = conn_send_locked(ctx, c, encode_watch, &wr, NULL);
    if (rc)
        free(c);
    return rc;
}

/*======================================================================*/
/* Connecting and closing */

/* A new socket connected to xs->path (no lock: connect(2) to a unix
 * socket is no round trip, but it may wait for the daemon's backlog). */
int
xlev__xs_conn_connect(xlev_ctx *ctx, int *fd_out)
{
    struct xlev__xs *xs = ctx->xs;
    struct sockaddr_un addr;
    size_t plen = strlen(xs->path);
    int fd, rc, e;

    *fd_out = -1;
    if (plen >= sizeof(addr.sun_path)) {
        xlev__log(ctx, LOG_DEBUG,
                  "cannot connect to xenstored at %s: the path is longer "
                  "than a unix socket address takes (%zu bytes)",
                  xs->path, sizeof(addr.sun_path) - 1);
        return XLEV_ERROR_INVAL;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        e = errno;
        rc = e == EMFILE || e == ENFILE ? XLEV_ERROR_MFILE : XLEV_ERROR_FAIL;
        xlev__log(ctx, LOG_DEBUG, "cannot make a socket for xenstored: %s",
                  strerror(e));
        return rc;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, xs->path, plen + 1);
    do
        rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        e = errno;
        close(fd);
        xlev__log(ctx, LOG_DEBUG, "cannot connect to xenstored at %s: %s",
                  xs->path, strerror(e));
        switch (e) {
        case EACCES:
        case EPERM:
            return XLEV_ERROR_PERM;
        case EMFILE:
        case ENFILE:
            return XLEV_ERROR_MFILE;
        case ENOMEM:
        case ENOBUFS:
            return XLEV_ERROR_NOMEM;
        default:
            return XLEV_ERROR_XENSTORE;
        }
    }
    *fd_out = fd;
    return 0;
}

int
xlev__xs_conn_open(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;
    int fd, rc, e;

    xs->rd = xlev__malloc(sizeof(*xs->rd));
    if (!xs->rd)
        return XLEV_ERROR_NOMEM;
    xlev__xs_reader_init(xs->rd);
    xs->reader_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (xs->reader_wake_fd < 0) {
        e = errno;
        return e == EMFILE || e == ENFILE ? XLEV_ERROR_MFILE
                                          : XLEV_ERROR_NOMEM;
    }
    rc = xlev__xs_conn_connect(ctx, &fd);
    if (rc)
        return rc;
    xs->fd = fd;

    XLEV__LOCK(ctx);
    rc = xlev__fd_register_locked(ctx, &xs->conn_efd, conn_fd_cb, fd, POLLIN);
    if (!rc) {
        xs->conn_events = POLLIN;
        /* conn_fd_cb never blocks: a stale report costs one EAGAIN */
        xlev__fd_set_stale_ok_locked(&xs->conn_efd);
    }
    XLEV__UNLOCK(ctx);
    return rc;
}

int
xlev__xs_conn_install_locked(xlev_ctx *ctx, int fd)
{
    struct xlev__xs *xs = ctx->xs;
    int rc;

    /* A blocking caller may still be polling the old socket (it was shut
     * down, so it returns at once): its fd number must not be reused
     * under it. */
    if (xs->reader_busy)
        return XLEV_ERROR_BUSY;
    xlev__fd_deregister_locked(ctx, &xs->conn_efd);
    if (xs->fd >= 0)
        close(xs->fd);
    xs->fd = fd;
    xlev__xs_reader_init(xs->rd);
    xlev__xs_outq_dispose(&xs->outq);
    xlev__xs_outq_dispose(&xs->held);
    xs->n_held = 0;
    xlev__xs_pending_drain(&xs->pending, fail_pending, ctx);
    reader_wake_drain(xs);
    xs->conn_events = 0;
    rc = xlev__fd_register_locked(ctx, &xs->conn_efd, conn_fd_cb, fd, POLLIN);
    if (rc) {
        /* Left as a lost connection: the next attempt replaces it. */
        shutdown(fd, SHUT_RDWR);
        return rc;
    }
    xs->conn_events = POLLIN;
    return 0;
}

static void
drop_pending(uint32_t req_id, uint32_t type, void *data, void *user)
{
    struct xlev__xs *xs = user;
    struct xlev__xs_call *c = data;

    if (!c || c->kind == CALL_SYNC)
        return;
    if (c->kind == CALL_ASYNC) {
        c->next_dying = xs->dying;
        xs->dying = c;
        return;
    }
    free(c);
}

/* Teardown: lock held. Calls still in flight are dropped (sync callers
 * cannot exist: freeing a context in use is the caller's mistake). */
void
xlev__xs_conn_close_locked(xlev_ctx *ctx)
{
    struct xlev__xs *xs = ctx->xs;

    xlev__fd_deregister_locked(ctx, &xs->conn_efd);
    xlev__deferred_cancel_ops_locked(ctx, &async_ops);
    xlev__xs_pending_drain(&xs->pending, drop_pending, xs);
}

/* Teardown, lock dropped: every asynchronous request still in flight or
 * answered and not yet delivered gets its callback, with
 * XLEV_ERROR_CANCELLED (so its owner can free what it holds). */
void
xlev__xs_conn_cancel_dying(xlev_ctx *ctx, struct xlev__xs *xs)
{
    struct xlev__xs_call *c;

    while ((c = xs->dying)) {
        xs->dying = c->next_dying;
        c->cb(ctx, c->user, XLEV_ERROR_CANCELLED, NULL, 0);
        free(c->reply);
        free(c);
    }
}

void
xlev__xs_conn_free(struct xlev__xs *xs)
{
    /* Requests whose callers gave up, dropped by the drain above:
     * nothing of theirs remains. Asynchronous ones are freed here. */
    xlev__xs_pending_dispose(&xs->pending);
    xlev__xs_outq_dispose(&xs->outq);
    xlev__xs_outq_dispose(&xs->held);
    if (xs->fd >= 0)
        close(xs->fd);
    xs->fd = -1;
    if (xs->reader_wake_fd >= 0)
        close(xs->reader_wake_fd);
    xs->reader_wake_fd = -1;
    free(xs->rd);
    xs->rd = NULL;
}
