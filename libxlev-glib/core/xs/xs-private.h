/* xs-private.h: what the xenstore room's files share
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The xenstore room stands on the loop (../loop/loop-private.h) and under
 * the domain room. Its per-context state is struct xlev__xs (ctx->xs), made
 * with the context (connect.c) and freed through the teardown hook it
 * registers then. Files, from the bottom up:
 *
 *   path.c      xenstore path rules
 *   request.c   the request discipline: xs->req_lock, errno mapping,
 *               telling a lost connection from a refused request, and the
 *               transaction table (ids and their connection's generation)
 *   conn.c      the socket transport (the wire protocol on the socket)
 *   watch.c     watches: slots and tokens, the watch fd, liveness, and
 *               what happens when the connection is found lost
 *   ops.c       the plain operations (read, write, directory, rm, and
 *               XS_IS_DOMAIN_INTRODUCED for the domain room)
 *   reconnect.c the connection's state machine after a loss: the
 *               reconnect policy, backoff, re-registering the watches
 *   connect.c   xlev_ctx_new(): the context and its connection; teardown
 */
#pragma once

#include <pthread.h>
#include <stdint.h>

#include "../loop/loop-private.h"
#include "xs-wire-private.h"

struct xs_handle;

/*======================================================================*/
/* Locking
 *
 * Everything in struct xlev__xs is protected by ctx->lock, except xsh and
 * path (set when the context is made, never changed after), broken (see
 * below) and what req_lock protects.
 *
 * Lock order: ctx->lock, then xs->req_lock, then libxenstore's own internal
 * mutexes (we call xs_watch, xs_unwatch and xs_check_watch with ctx->lock
 * held; libxenstore's reader thread never takes ctx->lock, so this cannot
 * deadlock).
 *
 * xs->req_lock is held around every request the core sends on the
 * connection (xs_watch, xs_unwatch, the plain operations and the liveness
 * probe in request.c). libxenstore serialises requests itself, but its
 * xs_talkv() closes a failed connection's fd *after* dropping its request
 * mutex: a second request that gets in between writes to, and without a
 * reader thread blocks reading from, an fd number that is being closed and
 * may be reused by then (say, by the new connection an application opens
 * after the disaster). Holding our own lock across the whole call closes
 * that gap for the core's requests.
 *
 * The plain xenstore operations (ops.c) do not take ctx->lock around their
 * round trip, only xs->req_lock; they take ctx->lock briefly when they find
 * the connection lost (xlev__xs_lost_locked).
 */

/*======================================================================*/
/* The socket transport (conn.c)
 *
 * With a unix socket the core speaks the wire protocol itself. The socket
 * is non-blocking and registered as an ordinary xlev_ev_fd (conn_efd:
 * POLLIN always, POLLOUT while bytes wait in outq), so it is served by
 * beforepoll/afterpoll, the osevent hooks, XlevSource and the GLib hooks
 * alike, and no thread is started. Everything below is protected by
 * ctx->lock; every read(2)/write(2) on the socket is non-blocking and done
 * with it held (that is not a round trip: nothing waits for the daemon
 * with a lock held).
 *
 *   requests   encoded into outq and written as far as the socket takes
 *              them, at once; recorded in `pending` by req_id with their
 *              struct xlev__xs_call (kind: a blocking caller's, on its
 *              stack, XS_WATCH included; an asynchronous one; an
 *              XS_UNWATCH, whose answer nobody waits for).
 *   answers    read by whoever comes first: the loop's fd callback, or a
 *              blocking caller (below). The reader (xs-wire) owns one
 *              fixed buffer: nothing the daemon sends makes us allocate
 *              more than one payload copy of at most XENSTORE_PAYLOAD_MAX.
 *              An answer completes its call: a blocking caller's is marked
 *              done (wait_cond broadcast); an asynchronous one's callback
 *              goes through the deferral queue; an unwatch's is dropped
 *              (a refusal logged at debug level).
 *   events     XS_WATCH_EVENT is parsed from the reader's buffer straight
 *              into the watch slots (xlev__xs_watch_event_locked).
 *
 * Blocking callers (xlev_xs_read ..., any thread, loop or not). The
 * caller sends, then waits with the lock dropped: if no other caller is
 * polling the socket (reader_busy), it polls it itself (and its cancel fd,
 * xlev_xs_set_cancel_fd(), and reader_wake_fd, which whoever reads its
 * answer first, the loop say, writes to), takes the lock and reads what came: its own
 * answer, other callers' (their waits are woken), and watch events and
 * asynchronous answers, which it queues for the loop and wakes it (queuing
 * writes the wake-up fd in poll style, "Waking a poll" in
 * ../loop/loop-private.h; in hooks style the loop's resume timeout, due at
 * once, makes the application call back: xlev__osevent_resume_locked()). Otherwise it sleeps on wait_cond.
 * A caller on the loop's own thread (inside a callback) reads for itself
 * the same way: no deadlock, and what it queued runs when its callback
 * returns. The context's timeout (timeout_ms) bounds the wait; a caller
 * that gives up (timeout, cancel) leaves its pending entry with no owner,
 * so the late answer is read and dropped.
 *
 * Lost: EOF, a socket error, or anything xs-wire calls a protocol
 * violation (oversized message, unknown type, malformed event, answer to
 * no request or of the wrong type, truncated stream): the connection is
 * shut down, every request in flight fails with XLEV_ERROR_XENSTORE, and
 * the upcall xs->lost_locked (reconnect.c) decides what follows: one
 * XLEV_DISASTER_XENSTORE (xlev__xs_lost_locked), or reconnecting (see
 * "Reconnecting"). An XS_ERROR naming an
 * errno outside the protocol's table fails only its request
 * (XLEV_ERROR_PROTOCOL): the stream is still in step.
 *
 * Lock order: ctx->lock only; libxenstore is not involved.
 */

/*======================================================================*/
/* xenstore watch slots
 *
 * The token of a watch is "slotnum/counter" (decimal / hex). A slot is
 * either occupied (w != NULL) or on the free list (next_free, -1 ends it).
 * xs->counter is bumped for every registration, so an event for a
 * slot's previous occupant (still queued in libxenstore or on the wire when
 * the slot was reused) does not match the new counter and is dropped.
 * Deregistration resets w->slotnum to -1, which makes a second
 * deregistration harmless.
 *
 * The watch fd (xs_fileno: libxenstore's pipe, written by its reader thread)
 * is registered as xs->watch_efd, an ordinary xlev_ev_fd with a callback of
 * its own, when the first watch is registered and deregistered when the
 * last one goes: the loop knows nothing of it. Its callback runs like any
 * other, through the deferral mechanism; it takes the lock, reads every
 * event xs_check_watch has and queues one deferred record per event that
 * belongs to a live registration (target: the xlev_ev_xswatch), which the
 * same runner then calls.
 *
 * The handle is opened without XS_UNWATCH_FILTER. With it, libxenstore
 * 4.17's xs_unwatch() drops the events it has queued for the token with
 * free(msg) but not free(msg->body), leaking each body. Without it those
 * events stay in libxenstore's queue and reach xs_check_watch like any
 * other; their token names a slot that is free or holds a later
 * registration (another counter), so watch_event_locked drops them. When
 * the last watch goes, the queue is drained once so that libxenstore does
 * not hold them until the next registration.
 *
 * Liveness. When the connection fails, libxenstore 4.17's reader thread
 * closes the socket and wakes its condition variables, but never writes to
 * the watch pipe: the watch fd never becomes readable. So while the watch
 * fd is registered, the internal timeout xs->liveness fires every
 * XLEV_XS_LIVENESS_MS and drains xs_check_watch exactly as a readable watch
 * fd would; once the reader thread has closed the connection and the queue
 * is empty, xs_check_watch fails with EINVAL, which is the cue. A check
 * costs one wake-up and a mutex round trip inside libxenstore; it sends
 * nothing to xenstored. A context with no watch has no such timeout.
 *
 * Connection lost (xlev__xs_lost_locked), found by the liveness timeout, a
 * readable watch fd, or a failed request (ops.c): xs->broken is set
 * (once; it is read without the lock by the plain operations, so it is
 * written with __atomic_store_n), the watch fd is deregistered, one
 * XLEV_DISASTER_XENSTORE is queued, and xs->liveness is (re)armed to
 * fire at once so that a loop in hooks style or blocked in poll style wakes
 * up and reports it. From then on no request is sent on the connection:
 * watch registration fails with XLEV_ERROR_BROKEN and the plain operations
 * with XLEV_ERROR_XENSTORE, at once; deregistration skips xs_unwatch.
 */

/* How often the liveness timeout checks a connection with watches: 1 s.
 * Restarting xenstored (a crash, a package upgrade, systemd) takes about
 * that long itself, and an application's reaction (freeing the context and
 * making a new one) cannot usefully come sooner; one wake-up per second per
 * watching context is negligible next to a main loop's own timers, and the
 * tests' deadline for noticing a dead daemon stays short. */
#define XLEV_XS_LIVENESS_MS 1000

/* What an xlev_ev_xswatch's opaque storage holds (see "Registrations" in
 * ../loop/loop-private.h). */
struct xlev__xswatch_reg {
    int slotnum; /* -1 when Idle */
    uint32_t counterval;
    char *path; /* the core's copy, or the caller's (path_borrowed) */
    xlev_ev_xswatch_callback *callback;
    int npending;
    int path_borrowed;
} __attribute__((may_alias));

_Static_assert(sizeof(struct xlev__xswatch_reg) <= sizeof(xlev_ev_xswatch) &&
                   _Alignof(struct xlev__xswatch_reg) <=
                       _Alignof(xlev_ev_xswatch),
               "xlev_ev_xswatch's storage is too small for struct "
               "xlev__xswatch_reg");

#define XLEV__XSW(pub) ((struct xlev__xswatch_reg *)(void *)(pub))
#define XLEV__XSW_C(pub)                                                       \
    ((const struct xlev__xswatch_reg *)(const void *)(pub))
#define XLEV__XSW_PUB(reg) ((xlev_ev_xswatch *)(void *)(reg))

struct xlev__watch_slot {
    struct xlev__xswatch_reg *w;
    int next_free;
    /* Reconnecting (see "Reconnecting"), both cleared when the slot is
     * freed: drop_initial, the daemon's initial event for this token on the
     * new connection is still to come and is dropped (the core gives its
     * own, in order); synthetic, the watch is owed its one event when the
     * re-registration is done. */
    unsigned int drop_initial : 1;
    unsigned int synthetic : 1;
};

/*======================================================================*/
/* Reconnecting (reconnect.c): the connection's state machine
 *
 * A context's policy (xlev_ctx_set_reconnect()) is XLEV_RECONNECT_NEVER
 * (the default) or XLEV_RECONNECT_AUTOMATIC, the latter on the socket
 * transport only. xs->state says where the connection is:
 *
 *            lost, NEVER
 *   CONNECTED ----------> DEAD   (one XLEV_DISASTER_XENSTORE; for good,
 *      ^  |                       unless the policy becomes AUTOMATIC)
 *      |  | lost, AUTOMATIC: hook(0), timer armed at xs->backoff_ms
 *      |  v
 *      |  WAITING <--------------------------------------+
 *      |  | the timer fires (a callback: lock dropped)   | connect failed:
 *      |  v                                              | backoff doubled,
 *      |  CONNECTING: socket(2) + connect(2), no lock ---+ up to its cap
 *      |  | connected: lock taken, the socket installed (conn.c), gen++,
 *      |  | XS_WATCH for every live slot, same token, sent at once
 *      |  v
 *      +- REREGISTERING: the answers come back as asynchronous replies
 *           (lock dropped, then taken); with the last one: CONNECTED,
 *           hook(1), then one event per re-registered watch for its own
 *           path, all queued in that order under the lock.
 *   A loss in REREGISTERING goes back to WAITING (no second hook(0)).
 *
 * Locks: every transition is made with ctx->lock held; the only work done
 * without it is connect(2) in CONNECTING (a callback of the loop's
 * xs->reconnect timeout; teardown waits for it like for any callback) and
 * the hook itself (a deferred record, target &xs->hook_target, so its
 * calls never overlap and keep their order).
 *
 * xs->broken is 1 whenever the connection must not be written (every
 * state but CONNECTED and REREGISTERING); xs->accepting is 1 only in
 * CONNECTED: the plain operations and transactions check it, so that one
 * started while disconnected, or while the watches are registered again,
 * fails at once with XLEV_ERROR_XENSTORE. Watch registrations are refused
 * the same way while broken. Both flags are written under ctx->lock with
 * __atomic_store_n and read without it.
 *
 * Generations: xs->gen is bumped each time a new connection is installed.
 * A transaction (the table in request.c) remembers the generation it was
 * started in; the ids callers see are the context's own (never the
 * daemon's, which a new daemon hands out again from the start), mapped to
 * the daemon's under ctx->lock when the request is encoded; one from an
 * older generation fails with XLEV_ERROR_XENSTORE and is never sent.
 */
typedef enum {
    XLEV__XS_CONNECTED = 0,
    XLEV__XS_DEAD,
    XLEV__XS_WAITING,
    XLEV__XS_CONNECTING,
    XLEV__XS_REREGISTERING,
} xlev__xs_conn_state;

/* The backoff between attempts: XLEV_RECONNECT_BACKOFF_MIN_MS doubling up
 * to XLEV_RECONNECT_BACKOFF_MAX_MS (xlev-event.h). */

struct xlev__xs_tx {
    uint32_t local;  /* what the caller holds: never 0, never reused */
    uint32_t remote; /* the daemon's */
    unsigned int gen;
};


/*======================================================================*/
/* The room's per-context state: ctx->xs */

struct xlev__xs {
    struct xlev__teardown teardown;

    /* Upcalls from the connection (conn.c) to the watches above it
     * (watch.c), set by connect.c when the state is made, so that conn.c
     * calls nothing above it: a watch event read from the wire
     * (xlev__xs_watch_event_locked) and the connection found lost
     * (xlev__xs_lost_locked). Both with ctx->lock held. */
    void (*watch_event_locked)(xlev_ctx *ctx, const char *epath,
                               const char *token);
    void (*lost_locked)(xlev_ctx *ctx, int errnoval, const char *what);

    /* the connection: xsh (libxenstore, XLEV_XS_TRANSPORT_XENBUS) or fd
     * (conn.c, XLEV_XS_TRANSPORT_SOCKET); neither in a test context
     * without xenstore */
    xlev_xs_transport transport;
    struct xs_handle *xsh;
    char *path;

    /* the socket transport: see "The socket transport" */
    int fd;
    xlev_ev_fd conn_efd;
    short conn_events;
    struct xlev__xs_reader *rd;
    struct xlev__xs_outq outq;
    struct xlev__xs_outq held; /* beyond CONN_MAX_IN_FLIGHT (conn.c) */
    unsigned int n_held;
    struct xlev__xs_pending pending;
    int reader_busy;
    struct xlev__xs_call *reader_call; /* the polling caller's request */
    int reader_wake_fd; /* an eventfd: its answer was read by another */
    pthread_cond_t wait_cond; /* CLOCK_MONOTONIC */
    int timeout_ms;
    struct xlev__xs_call *dying; /* teardown only */

    pthread_mutex_t req_lock; /* see "Locking" */
    int broken; /* connection lost: see "xenstore watch slots" */

    /* reconnecting: see "Reconnecting" */
    xlev_reconnect_policy policy;
    void (*connection_changed)(void *user, int connected);
    void *hook_user;
    xlev__xs_conn_state state;
    int accepting;          /* state == CONNECTED, read without the lock */
    int announced;          /* what the hook was last told (starts 1) */
    unsigned int gen;       /* bumped by every new connection */
    int backoff_ms;
    int rereg_outstanding;  /* XS_WATCH answers still to come */
    xlev_ev_time reconnect;
    char hook_target;       /* the hook records' target */

    /* transactions: see "Reconnecting" (request.c) */
    struct xlev__xs_tx *txs;
    unsigned int n_txs, txs_allocd;
    uint32_t tx_next;

    /* watches */
    struct xlev__watch_slot *slots;
    int nslots;
    int free_slot; /* first free slot, -1 if none */
    int count;     /* registered watches */
    uint32_t counter;
    xlev_ev_fd watch_efd;
    int watch_fd_checked; /* close-on-exec of the watch pipe verified */
    xlev_ev_time liveness;
};

/* path.c: allow_special: "@..." paths are valid too (watches only). */
int xlev__xs_path_check(const char *path, int allow_special);

/* request.c: an errno from libxenstore as an XLEV_ERROR_* code */
int xlev__xs_errno_to_rc(int errnoval);
/* request.c; xs->req_lock held: 1 if a request that failed with errnoval
 * failed because the connection is gone (an errno xenstored never sends
 * back, or EINVAL confirmed by a probe that fails the same way). */
int xlev__xs_conn_lost_reqlocked(xlev_ctx *ctx, int errnoval);
/* request.c: 1 once the connection is known to be lost; no lock needed */
int xlev__xs_is_broken(xlev_ctx *ctx);
/* request.c: takes xs->req_lock for a request on path (checked as for the
 * plain operations), unless the connection is known to be lost or absent:
 * 0, XLEV_ERROR_INVAL or XLEV_ERROR_XENSTORE. */
int xlev__xs_req_begin(xlev_ctx *ctx, const char *path);
void xlev__xs_req_end(xlev_ctx *ctx);

/* request.c, lock held unless said otherwise: the transaction table (see
 * "Reconnecting"). _add records the daemon's @remote for a transaction
 * started in generation @gen and gives the caller's id; _resolve maps a
 * caller's id to the daemon's (0 stays 0): XLEV_ERROR_NOENT for an id the
 * context never gave (or one already ended), XLEV_ERROR_XENSTORE for one
 * of a lost connection; _remove forgets it. */
int xlev__xs_tx_add_locked(xlev_ctx *ctx, uint32_t remote, unsigned int gen,
                           uint32_t *local_out);
int xlev__xs_tx_resolve_locked(xlev_ctx *ctx, uint32_t local,
                               uint32_t *remote_out);
void xlev__xs_tx_remove_locked(xlev_ctx *ctx, uint32_t local);
/* No lock held: the same, taking ctx->lock. */
int xlev__xs_tx_resolve(xlev_ctx *ctx, uint32_t local, uint32_t *remote_out);
void xlev__xs_tx_remove(xlev_ctx *ctx, uint32_t local);
/* request.c: 1 when the plain operations may be sent (CONNECTED); no lock */
int xlev__xs_is_accepting(xlev_ctx *ctx);

/* watch.c; lock held. The connection is gone: see "xenstore watch slots".
 * Idempotent. With XLEV_RECONNECT_AUTOMATIC the connection goes through
 * reconnect.c's xlev__xs_reconnect_lost_locked instead (xs->lost_locked). */
void xlev__xs_lost_locked(xlev_ctx *ctx, int errnoval, const char *what);
/* watch.c; lock held: queues one event for slot @slotnum's watch, for its
 * own path (a re-registered watch: see "Reconnecting"). */
void xlev__xs_watch_synthetic_locked(xlev_ctx *ctx, int slotnum);
/* watch.c; lock held: the token of slot @slotnum's watch into @buf
 * (XLEV__XS_TOKEN_MAX bytes). */
#define XLEV__XS_TOKEN_MAX (sizeof("-2147483648/ffffffff"))
void xlev__xs_watch_token_locked(xlev_ctx *ctx, int slotnum, char *buf);

/* reconnect.c; lock held: the connection is gone (conn.c's upcall,
 * xs->lost_locked): NEVER hands it to xlev__xs_lost_locked, AUTOMATIC
 * starts waiting. */
void xlev__xs_reconnect_lost_locked(xlev_ctx *ctx, int errnoval,
                                    const char *what);
/* reconnect.c; lock held: teardown */
void xlev__xs_reconnect_free_locked(xlev_ctx *ctx);
/* watch.c; lock held: every watch goes Idle (xlev_ctx_free; the connection
 * is about to be closed, so no xs_unwatch), the watch fd and the liveness
 * timeout are deregistered. */
void xlev__xswatch_free_all_locked(xlev_ctx *ctx);

/* watch.c; lock held: an XS_WATCH_EVENT for (path, token) */
void xlev__xs_watch_event_locked(xlev_ctx *ctx, const char *epath,
                                 const char *token);

/* conn.c: the socket transport (see "The socket transport") */
int xlev__xs_conn_open(xlev_ctx *ctx);
void xlev__xs_conn_close_locked(xlev_ctx *ctx);
void xlev__xs_conn_cancel_dying(xlev_ctx *ctx, struct xlev__xs *xs);
void xlev__xs_conn_free(struct xlev__xs *xs);
void xlev__xs_conn_lost_locked(xlev_ctx *ctx, int errnoval, const char *what);
/* No lock held. */
int xlev__xs_conn_call(xlev_ctx *ctx, uint32_t type, uint32_t tx_id,
                       const struct xlev__xs_part *parts, unsigned int n_parts,
                       char **reply_out, uint32_t *len_out);
int xlev__xs_conn_call_async(xlev_ctx *ctx, uint32_t type, uint32_t tx_id,
                             const struct xlev__xs_part *parts,
                             unsigned int n_parts, xlev_xs_reply_callback *cb,
                             void *user);
/* Lock held. XS_WATCH: sent, then waited for (the lock dropped while
 * waiting), 0 or the refusal; XS_UNWATCH: sent, never waited for. */
int xlev__xs_conn_watch_wait_locked(xlev_ctx *ctx, const char *path,
                                    const char *token);
int xlev__xs_conn_unwatch_locked(xlev_ctx *ctx, const char *path,
                                 const char *token);
/* Lock held: an XS_WATCH sent now, its answer to @cb (lock dropped, from
 * the loop) like an asynchronous call's: re-registration. */
int xlev__xs_conn_watch_async_locked(xlev_ctx *ctx, const char *path,
                                     const char *token,
                                     xlev_xs_reply_callback *cb, void *user);
/* Lock held: the lost connection's socket is replaced with @fd (connected,
 * close-on-exec): reader, queues and the pending table start empty, the
 * fd is registered; XLEV_ERROR_BUSY while a blocking caller still polls
 * the old one (try later; @fd is not taken), another error (@fd closed). */
int xlev__xs_conn_install_locked(xlev_ctx *ctx, int fd);
/* No lock: a new socket connected to xs->path, or an error (logged at
 * debug level). */
int xlev__xs_conn_connect(xlev_ctx *ctx, int *fd_out);

/* ops.c; no lock held: XS_IS_DOMAIN_INTRODUCED through the request lock and
 * the lost-connection check, like the plain operations. 0 with
 * *introduced_out set, or an XLEV_ERROR_* code (*introduced_out 0). */
int xlev__xs_is_domain_introduced(xlev_ctx *ctx, unsigned int domid,
                                  int *introduced_out);
