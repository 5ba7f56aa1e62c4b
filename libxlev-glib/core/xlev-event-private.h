/* xlev-event-private.h: what the core's files share with each other
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Nothing here is exported from the shared library (the core is built with
 * -fvisibility=hidden); the unit tests link the static core and may use the
 * xlev__test_* helpers at the end.
 */
#pragma once

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "xlev-event.h"

struct xs_handle;

/*======================================================================*/
/* Locking
 *
 * Each context has one mutex, ctx->lock, which protects everything hanging
 * off the context: the fd records, the timeout heap, the watch slots, the
 * pending-callback queue, the in-flight list, the nexi and the hooks. It is
 * not recursive: internal helpers that expect it held are named *_locked
 * and say so.
 *
 * Lock order: ctx->lock, then ctx->xs_req_lock, then libxenstore's own
 * internal mutexes (we call xs_watch, xs_unwatch and xs_check_watch with
 * ctx->lock held; libxenstore's reader thread never takes ctx->lock, so this
 * cannot deadlock).
 *
 * ctx->xs_req_lock is held around every request the core sends on the
 * connection (xs_watch, xs_unwatch, the plain operations and the liveness
 * probe in xs.c). libxenstore serialises requests itself, but its xs_talkv()
 * closes a failed connection's fd *after* dropping its request mutex: a
 * second request that gets in between writes to, and without a reader
 * thread blocks reading from, an fd number that is being closed and may be
 * reused by then (say, by the new connection an application opens after
 * the disaster). Holding our own lock across the whole call closes that
 * gap for the core's requests.
 *
 * Called with ctx->lock held: the osevent hooks and the logger. Both must not
 * call into the context.
 *
 * Called with ctx->lock dropped: registration callbacks (fd, timeout,
 * xenstore watch) and the disaster hook. They may call anything.
 *
 * The plain xenstore operations (xs.c) do not take ctx->lock around their
 * round trip, only ctx->xs_req_lock; they take ctx->lock briefly when they
 * find the connection lost (xlev__xs_lost_locked).
 */

/*======================================================================*/
/* Deferred callbacks
 *
 * Whatever afterpoll or occurred_* decide should happen is decided with the
 * lock held and recorded as a struct xlev__pending on ctx->pending (a FIFO).
 * Then the same thread runs the queue (xlev__run_pending):
 *
 *     lock
 *     loop:
 *       pop the first record whose registration is not running a callback
 *         in another thread (callbacks of one registration never overlap)
 *       put a struct xlev__inflight (on this thread's stack) on
 *         ctx->inflight: {ev, pthread_self()}
 *       unlock; call the callback; lock
 *       take the in-flight record off (without touching ev: the callback
 *         may have freed it); pthread_cond_broadcast(&ctx->cond)
 *     unlock
 *
 * _deregister (any kind) removes the registration's queued records (each
 * registration counts its own, so it only scans when there are some) and,
 * if a callback of that registration is in flight in ANOTHER thread, waits
 * on ctx->cond until it has returned. Inside the registration's own callback
 * it returns at once. So when _deregister returns, the callback is neither
 * running elsewhere nor will it be called again.
 *
 * A record's kind says which union member is live. Watch records carry
 * their own copies of both paths: the callback may deregister its watch
 * (freeing w->path) and still read its arguments.
 */
enum xlev__pending_kind {
    XLEV__PENDING_FD = 1,
    XLEV__PENDING_TIME,
    XLEV__PENDING_XSWATCH,
    XLEV__PENDING_DISASTER,
};

struct xlev__pending {
    struct xlev__pending *next, *prev;
    enum xlev__pending_kind kind;
    void *ev; /* xlev_ev_fd, xlev_ev_time or xlev_ev_xswatch; NULL for
               * disasters */
    union {
        struct {
            int fd;
            short events, revents;
        } fd;
        struct {
            struct timeval abs;
        } time;
        struct {
            int slotnum;
            uint32_t counterval;
            char *wpath; /* both in the same allocation as the record */
            char *epath;
        } xs;
        struct {
            xlev_disaster_kind kind;
            int errnoval;
            char *msg; /* in the same allocation */
        } disaster;
    } u;
};

struct xlev__inflight {
    struct xlev__inflight *next;
    const void *ev;
    pthread_t thread;
};

/*======================================================================*/
/* Per-fd records
 *
 * All the xlev_ev_fd registrations on one fd number share one
 * struct xlev__fdent; they are chained through ev->fdent_next. The fdent
 * exists while it has at least one registration.
 *
 *   events       the union of its registrations' events: what is polled
 *                (beforepoll) or registered with the hooks.
 *   hook_events  what the fd_register/fd_modify hooks were last told
 *                successfully; 0 when not registered with the hooks. May be
 *                a superset of events (a failed fd_modify while removing a
 *                registration cannot be reported to anyone; the extra bits
 *                only cost a spurious wake-up: occurred_fd re-polls).
 *   poll_index   index in the last beforepoll's fds (ctx->polled[]), or -1.
 *
 * An fd that wants no events is neither polled nor given to the hooks.
 *
 * ctx->fdtab is indexed by fd number (grown on demand) for O(1) lookup;
 * ctx->fdents lists them for beforepoll and register_hooks.
 */
struct xlev__fdent {
    int fd;
    short events;
    short hook_events;
    int poll_index;
    xlev_ev_fd *regs;
    struct xlev__fdent *next, *prev;
    struct xlev__nexus *nexus; /* hooks mode, while hook_events != 0 */
    void *for_app_reg;
};

/*======================================================================*/
/* Hook nexi
 *
 * The for_xlev pointer handed to fd_register and timeout_register is a
 * nexus, owned by the context, never the fdent or the caller's timeout
 * directly: a late xlev_osevent_occurred_*() (an application thread that
 * had already decided to report when another thread deregistered) then
 * finds a nexus whose target is NULL and does nothing, instead of touching
 * freed memory. Nexi are recycled through ctx->nexus_free and all freed by
 * xlev_ctx_free() (ctx->nexus_all), so a pointer given to the application
 * stays valid memory for the life of the context.
 *
 * A recycled nexus may receive a late report for its previous use. For an
 * fd that is harmless (occurred_fd checks the fd number and re-polls). For
 * a timeout it can at worst make the core register the timeout with the
 * hooks once more before it is due (see occurred_timeout); it never fires a
 * timeout early.
 */
enum xlev__nexus_kind {
    XLEV__NEXUS_FREE = 0,
    XLEV__NEXUS_FD,
    XLEV__NEXUS_TIME,
};

struct xlev__nexus {
    enum xlev__nexus_kind kind;
    struct xlev__fdent *fdent; /* XLEV__NEXUS_FD */
    xlev_ev_time *time;        /* XLEV__NEXUS_TIME */
    struct xlev__nexus *next_free;
    struct xlev__nexus *next_all;
};

/*======================================================================*/
/* Timeouts
 *
 * Every registered timeout (func != NULL) that is not firing is in the
 * binary min-heap ctx->theap, ordered by (abs, seq); seq breaks ties in
 * registration order. Timeouts with no deadline ("infinite") are in the
 * heap too, with abs = XLEV__TIME_INFINITE, so that the heap is the list of
 * all of them (xlev_ctx_free needs it) and the minimum is still the next
 * deadline.
 *
 * States of an xlev_ev_time (on top of the public Undefined/Idle/Active):
 *
 *   Idle                      func == NULL, heap_index == -1, firing == 0
 *   Active, waiting           func != NULL, heap_index >= 0,  firing == 0
 *   Active, fired, queued     func != NULL, heap_index == -1, firing == 1
 *                             (one XLEV__PENDING_TIME record on the queue;
 *                             _deregister and _modify_* cancel it)
 *   -> Idle just before its callback is called.
 *
 * In hooks mode a waiting timeout with a deadline also has ev->nexus set
 * and is registered with the application (for_app_reg).
 */
#define XLEV__TIME_INFINITE_SEC ((time_t)INT64_MAX)

/*======================================================================*/
/* xenstore watch slots
 *
 * The token of a watch is "slotnum/counter" (decimal / hex). A slot is
 * either occupied (w != NULL) or on the free list (next_free, -1 ends it).
 * ctx->watch_counter is bumped for every registration, so an event for a
 * slot's previous occupant (still queued in libxenstore or on the wire when
 * the slot was reused) does not match the new counter and is dropped.
 * Deregistration resets w->slotnum to -1, which makes a second
 * deregistration harmless.
 *
 * The watch fd (xs_fileno: libxenstore's pipe, written by its reader thread)
 * is registered as ctx->watch_efd, an ordinary xlev_ev_fd, when the first
 * watch is registered and deregistered when the last one goes. Its events
 * are handled with the lock held, in afterpoll/occurred_fd itself: reading
 * xs_check_watch and queueing one record per event.
 *
 * The handle is opened without XS_UNWATCH_FILTER. With it, libxenstore
 * 4.17's xs_unwatch() drops the events it has queued for the token with
 * free(msg) but not free(msg->body), leaking each body. Without it those
 * events stay in libxenstore's queue and reach xs_check_watch like any
 * other; their token names a slot that is free or holds a later
 * registration (another counter), so xswatch_event_locked drops them. When
 * the last watch goes, the queue is drained once so that libxenstore does
 * not hold them until the next registration.
 *
 * Liveness. When the connection fails, libxenstore 4.17's reader thread
 * closes the socket and wakes its condition variables, but never writes to
 * the watch pipe: the watch fd never becomes readable. So while the watch
 * fd is registered, the internal timeout ctx->xs_liveness fires every
 * XLEV_XS_LIVENESS_MS and drains xs_check_watch exactly as a readable watch
 * fd would; once the reader thread has closed the connection and the queue
 * is empty, xs_check_watch fails with EINVAL, which is the cue. A check
 * costs one wake-up and a mutex round trip inside libxenstore; it sends
 * nothing to xenstored. A context with no watch has no such timeout.
 *
 * Connection lost (xlev__xs_lost_locked), found by the liveness timeout, a
 * readable watch fd, or a failed request (xs.c): ctx->xs_broken is set
 * (once; it is read without the lock by the plain operations, so it is
 * written with __atomic_store_n), the watch fd is deregistered, one
 * XLEV_DISASTER_XENSTORE is queued, and ctx->xs_liveness is (re)armed to
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
struct xlev__watch_slot {
    xlev_ev_xswatch *w;
    int next_free;
};

/*======================================================================*/
/* The context */

struct xlev_ctx {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* broadcast whenever an in-flight callback ends */

    /* logging, disaster, clocks */
    xlev_log_fn *log_fn;
    void *log_user;
    xlev_disaster_fn *disaster_fn;
    void *disaster_user;
    const xlev_clock *clock;
    void *clock_user;

    /* xenstore connection */
    struct xs_handle *xsh;
    char *xs_path;
    pthread_mutex_t xs_req_lock; /* see "Locking" */

    /* hooks */
    const xlev_osevent_hooks *hooks;
    void *hooks_user;
    int in_hook; /* >0 while a hook runs */
    /* the thread running a hook, read without the lock (atomically) by
     * occurred_* to refuse being called from inside a hook instead of
     * deadlocking on the lock that thread holds */
    pthread_t hook_thread;
    int hook_thread_set;
    struct xlev__nexus *nexus_free;
    struct xlev__nexus *nexus_all;

    /* fds */
    struct xlev__fdent *fdents; /* list head */
    int nfdents_active;         /* fdents with events != 0 */
    struct xlev__fdent **fdtab; /* indexed by fd number */
    int fdtab_size;
    struct xlev__fdent **polled; /* shadow of the last beforepoll's fds */
    int polled_allocd;           /* entries allocated in polled[] */
    int polled_used;             /* entries filled by the last beforepoll */
    uint64_t poll_gen;           /* bumped by every filling beforepoll */

    /* timeouts */
    xlev_ev_time **theap;
    int theap_used, theap_allocd;
    uint64_t time_seq;

    /* xenstore watches */
    struct xlev__watch_slot *watch_slots;
    int watch_nslots;
    int watch_free; /* first free slot, -1 if none */
    int watch_count;
    uint32_t watch_counter;
    xlev_ev_fd watch_efd;
    int watch_fd_checked; /* close-on-exec of the watch pipe verified */
    int xs_broken;        /* connection lost: see "xenstore watch slots" */
    xlev_ev_time xs_liveness; /* the liveness timeout */

    /* deferred callbacks */
    struct xlev__pending *pending_head, *pending_tail;
    struct xlev__inflight *inflight;
    int freeing;

    /* domain events (domain-private.h: the generators in domain-death.c,
     * disk-eject.c and domain-introduce.c, the event queue in
     * event-queue.c); NULL until the first evenable or event call. Made
     * and freed (xlev__domain_ctx_free()) by domain.c. */
    struct xlev__domain *domain;
};

/*======================================================================*/
/* Helpers shared between the files */

#define XLEV__LOCK(ctx) pthread_mutex_lock(&(ctx)->lock)
#define XLEV__UNLOCK(ctx) pthread_mutex_unlock(&(ctx)->lock)

/* Allocation. Every allocation in the core goes through these, so that the
 * tests can make one fail (xlev__test_fail_alloc). */
void *xlev__malloc(size_t size);
void *xlev__calloc(size_t n, size_t size);
void *xlev__realloc_array(void *ptr, size_t n, size_t size);
char *xlev__strdup(const char *s);

/* ctx.c */
void xlev__log(xlev_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void xlev__now_locked(xlev_ctx *ctx, struct timeval *now_out);
void xlev__wall_now_locked(xlev_ctx *ctx, struct timeval *now_out);
/* Queues a disaster (lock held); it is reported by xlev__run_pending. */
void xlev__disaster_locked(xlev_ctx *ctx, xlev_disaster_kind kind,
                           int errnoval, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void xlev__fd_ensure_cloexec(xlev_ctx *ctx, int fd);

/* Hook calls; lock held. They return the hook's own value (0 when no hooks
 * are installed). */
int xlev__hook_fd_register(xlev_ctx *ctx, int fd, void **for_app_out,
                           short events, void *for_xlev);
int xlev__hook_fd_modify(xlev_ctx *ctx, int fd, void **for_app_io,
                         short events);
void xlev__hook_fd_deregister(xlev_ctx *ctx, int fd, void *for_app);
int xlev__hook_timeout_register(xlev_ctx *ctx, void **for_app_out,
                                struct timeval abs, void *for_xlev);
int xlev__hook_timeout_modify(xlev_ctx *ctx, void **for_app_io,
                              struct timeval abs);
void xlev__hook_timeout_deregister(xlev_ctx *ctx, void *for_app);

/* nexus.c: 1 if the calling thread is inside one of ctx's hooks; no lock */
int xlev__in_hook_self(xlev_ctx *ctx);

/* nexus.c; lock held */
struct xlev__nexus *xlev__nexus_get_locked(xlev_ctx *ctx,
                                           enum xlev__nexus_kind kind);
void xlev__nexus_put_locked(xlev_ctx *ctx, struct xlev__nexus *nexus);
void xlev__nexus_free_all(xlev_ctx *ctx);

/* osevent.c: the pending queue; lock held unless said otherwise */
void xlev__pending_append_locked(xlev_ctx *ctx, struct xlev__pending *p);
void xlev__pending_remove_locked(xlev_ctx *ctx, struct xlev__pending *p);
/* Removes every queued record of ev; returns how many. */
int xlev__pending_cancel_locked(xlev_ctx *ctx, const void *ev);
/* Waits (on ctx->cond) until no callback of ev runs in another thread. */
void xlev__inflight_wait_locked(xlev_ctx *ctx, const void *ev);
int xlev__inflight_self_locked(xlev_ctx *ctx);
/* Runs the queue. Call with the lock held; returns with it dropped. */
void xlev__run_pending_and_unlock(xlev_ctx *ctx);

/* What an fd registration asking for `events` is told of `revents`: what
 * it asked for plus the conditions poll(2) always reports (the seed masked
 * those away, so a dead fd spun for ever); nothing if it asked for nothing. */
static inline short
xlev__reg_revents(short events, short revents)
{
    if (!events)
        return 0;
    return revents & (events | POLLERR | POLLHUP | POLLNVAL);
}

/* fd.c; lock held */
int xlev__fd_register_locked(xlev_ctx *ctx, xlev_ev_fd *ev,
                             xlev_ev_fd_callback *func, int fd,
                             short events);
void xlev__fd_deregister_locked(xlev_ctx *ctx, xlev_ev_fd *ev);
/* Called for revents on fdent (poll or hooks): queues callbacks, or
 * handles the watch fd at once. poll_gen: registrations made at or after
 * this generation are not told (UINT64_MAX: everyone). */
void xlev__fdent_deliver_locked(xlev_ctx *ctx, struct xlev__fdent *fdent,
                                short revents, uint64_t poll_gen);
int xlev__fdent_hook_register_locked(xlev_ctx *ctx,
                                     struct xlev__fdent *fdent);
void xlev__fdent_hook_deregister_locked(xlev_ctx *ctx,
                                        struct xlev__fdent *fdent);
void xlev__fd_free_all_locked(xlev_ctx *ctx);

/* time.c; lock held */
int xlev__time_hook_register_locked(xlev_ctx *ctx, xlev_ev_time *ev);
void xlev__time_hook_deregister_locked(xlev_ctx *ctx, xlev_ev_time *ev);
/* Takes ev out of the heap (and the hooks) and queues its callback. */
int xlev__time_fire_locked(xlev_ctx *ctx, xlev_ev_time *ev);
void xlev__time_fire_due_locked(xlev_ctx *ctx, struct timeval now);
/* The next deadline, or NULL. */
const struct timeval *xlev__time_next_locked(xlev_ctx *ctx);
int xlev__time_is_infinite(const xlev_ev_time *ev);
void xlev__time_free_all_locked(xlev_ctx *ctx);
/* As the public functions, without waiting for a callback in flight in
 * another thread (for the core's own timeouts, whose callbacks decide under
 * the lock what to do). */
int xlev__time_register_rel_locked(xlev_ctx *ctx, xlev_ev_time *ev,
                                   xlev_ev_time_callback *func,
                                   int milliseconds);
void xlev__time_deregister_locked(xlev_ctx *ctx, xlev_ev_time *ev);

/* xs.c: an errno from libxenstore as an XLEV_ERROR_* code */
int xlev__xs_errno_to_rc(int errnoval);
/* xs.c; ctx->xs_req_lock held: 1 if a request that failed with errnoval
 * failed because the connection is gone (an errno xenstored never sends
 * back, or EINVAL confirmed by a probe that fails the same way). */
int xlev__xs_conn_lost_reqlocked(xlev_ctx *ctx, int errnoval);
/* 1 once the connection is known to be lost; no lock needed */
int xlev__xs_is_broken(xlev_ctx *ctx);
/* xs.c; no lock held: XS_IS_DOMAIN_INTRODUCED through the request lock and
 * the lost-connection check, like the plain operations. 0 with
 * *introduced_out set, or an XLEV_ERROR_* code (*introduced_out 0). */
int xlev__xs_is_domain_introduced(xlev_ctx *ctx, unsigned int domid,
                                  int *introduced_out);

/* xswatch.c; lock held */
void xlev__xswatch_fd_ready_locked(xlev_ctx *ctx);
/* The connection is gone: see "xenstore watch slots". Idempotent. */
void xlev__xs_lost_locked(xlev_ctx *ctx, int errnoval, const char *what);
void xlev__xswatch_free_all_locked(xlev_ctx *ctx);

/* domain.c. Called by xlev_ctx_free() with the lock NOT held, before the
 * core tears anything down: disables every generator (deregistering its
 * watches and timeouts through the public API) and frees ctx->domain.
 * Does nothing when called from inside a callback of ctx (xlev_ctx_free
 * refuses that case too). */
void xlev__domain_ctx_free(xlev_ctx *ctx);

/*======================================================================*/
/* For the unit tests only */

/* Creates a context with no xenstore connection (watches and xs ops then
 * fail with XLEV_ERROR_XENSTORE). */
int xlev__test_ctx_new_no_xenstore(xlev_ctx **ctx_out);
/* The next n-th allocation through xlev__malloc & co fails (1: the next
 * one); 0 disarms. */
void xlev__test_fail_alloc(int nth);
/* 1 if ctx->lock is free (checked with trylock from this thread). */
int xlev__test_lock_is_free(xlev_ctx *ctx);
/* Checks the heap invariant and the cross-indices; 1 if all is well. */
int xlev__test_time_heap_ok(xlev_ctx *ctx);
/* The watch fd registration's state: 1 registered, 0 not. */
int xlev__test_watch_fd_registered(xlev_ctx *ctx);
int xlev__test_watch_fd(xlev_ctx *ctx);
int xlev__test_npending(xlev_ctx *ctx);
