/* loop-private.h: what the loop room's files share, and offer the rooms above
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The loop is the ground floor of the core: the context, fd and timeout
 * registrations, beforepoll/afterpoll, the osevent hooks and their nexi,
 * and the one deferral mechanism (deferred-private.h). It calls nothing
 * above it: the xenstore room (../xs/) and the domain room (../domain/)
 * keep their per-context state behind the opaque pointers ctx->xs and
 * ctx->domain, and are torn down through the hooks they register with
 * xlev__ctx_add_teardown_locked().
 *
 * Nothing here is exported from the shared library (the core is built with
 * -fvisibility=hidden).
 */
#pragma once

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "../xlev-event.h"
#include "../xlev-event-private.h"
#include "deferred-private.h"

struct xlev__xs;     /* ../xs/xs-private.h */
struct xlev__domain; /* ../domain/domain-private.h */

/*======================================================================*/
/* Locking
 *
 * Each context has one mutex, ctx->lock, which protects everything hanging
 * off the context: the fd records, the timeout heap, the deferred queue and
 * the in-flight list (deferred-private.h), the nexi, the hooks, and the
 * state of the rooms above (the watch slots, the domain event queue). It is
 * not recursive: internal helpers that expect it held are named *_locked
 * and say so.
 *
 * Lock order: the domain room's own locks (../domain/domain-private.h),
 * then ctx->lock, then the xenstore room's request lock
 * (../xs/xs-private.h), then libxenstore's own internal mutexes, then the
 * process-wide default logger's lock.
 *
 * Called with ctx->lock held: the osevent hooks, the logger, and the
 * deferral mechanism's prepare_locked/dispose_locked operations. The first
 * two must not call into the context.
 *
 * Called with ctx->lock dropped: registration callbacks (fd, timeout,
 * xenstore watch), domain event hooks and the disaster hook, all through the
 * deferral mechanism. They may call anything.
 */
/*======================================================================*/
/* Registrations: what the opaque public structs hold
 *
 * xlev_ev_fd and xlev_ev_time (xlev-event.h) are caller-allocated opaque
 * storage; the core sees them as the structs below (the xenstore room's
 * xlev_ev_xswatch likewise, in ../xs/xs-private.h). Functions declared in
 * a header take the public types and convert on entry (XLEV__FD(),
 * XLEV__TIME()); inside a file and in the core's own structs (the per-fd
 * lists, the timeout heap, the nexi) the private view is used. The
 * conversions are checked below: each view fits its storage. may_alias:
 * the same memory is reached through both types.
 */
struct xlev__fdent;
struct xlev__nexus;

struct xlev__fd_reg {
    int fd; /* -1 when Idle */
    short events;
    short stale_ok; /* its callback copes with stale revents (a
                     * non-blocking read that may find nothing): the hooks'
                     * occurred_fd need not ask the kernel again */
    xlev_ev_fd_callback *func;
    struct xlev__fdent *fdent; /* the per-fd record this joins */
    struct xlev__fd_reg *fdent_next;
    uint64_t reg_seq; /* beforepoll generation at registration */
    /* its one queued callback not yet run, or NULL: readiness found while
     * one waits is merged into it (fd.c) */
    struct xlev__deferred *pending;
} __attribute__((may_alias));

struct xlev__time_reg {
    xlev_ev_time_callback *func; /* NULL when Idle */
    int infinite;                /* registered, but with no deadline */
    int heap_index;              /* -1 when not in the heap */
    int firing;                  /* fired, callback queued */
    struct timeval abs;
    uint64_t seq;              /* tie-break among equal deadlines */
    struct xlev__nexus *nexus; /* hooks mode */
    void *for_app_reg;
} __attribute__((may_alias));

_Static_assert(sizeof(struct xlev__fd_reg) <= sizeof(xlev_ev_fd) &&
                   _Alignof(struct xlev__fd_reg) <= _Alignof(xlev_ev_fd),
               "xlev_ev_fd's storage is too small for struct xlev__fd_reg");
_Static_assert(sizeof(struct xlev__time_reg) <= sizeof(xlev_ev_time) &&
                   _Alignof(struct xlev__time_reg) <= _Alignof(xlev_ev_time),
               "xlev_ev_time's storage is too small for struct "
               "xlev__time_reg");

#define XLEV__FD(pub) ((struct xlev__fd_reg *)(void *)(pub))
#define XLEV__FD_C(pub) ((const struct xlev__fd_reg *)(const void *)(pub))
#define XLEV__FD_PUB(reg) ((xlev_ev_fd *)(void *)(reg))
#define XLEV__TIME(pub) ((struct xlev__time_reg *)(void *)(pub))
#define XLEV__TIME_C(pub) ((const struct xlev__time_reg *)(const void *)(pub))
#define XLEV__TIME_PUB(reg) ((xlev_ev_time *)(void *)(reg))

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
 * ctx->fdtab is a hash of them by fd number (fd.c) for O(1) lookup, sized
 * by how many there are, never by the fd's value;
 * ctx->fdents lists them for beforepoll and register_hooks.
 */
struct xlev__fdent {
    int fd;
    short events;
    short hook_events;
    int poll_index;
    struct xlev__fd_reg *regs;
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
    struct xlev__fdent *fdent;   /* XLEV__NEXUS_FD */
    struct xlev__time_reg *time; /* XLEV__NEXUS_TIME */
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
 *                             (one deferred record of time.c on the queue;
 *                             _deregister and _modify_* cancel it)
 *   -> Idle just before its callback is called.
 *
 * In hooks mode a waiting timeout with a deadline also has ev->nexus set
 * and is registered with the application (for_app_reg).
 */
#define XLEV__TIME_INFINITE_SEC ((time_t)INT64_MAX)

/*======================================================================*/
/* Teardown of the rooms above
 *
 * A room above the loop that keeps per-context state registers a teardown
 * hook (embedded in that state) once, lock held. xlev_ctx_free() calls the
 * hooks in the reverse order of registration (the domain room's before the
 * xenstore room's, which it uses), with the lock dropped and before the
 * loop tears down anything of its own: a hook may still use every
 * registration and must leave none of its own behind. It is not called when
 * xlev_ctx_free() refuses (from inside a callback of the context).
 */
struct xlev__teardown {
    struct xlev__teardown *next;
    void (*fn)(xlev_ctx *ctx, struct xlev__teardown *td);
};

void xlev__ctx_add_teardown_locked(xlev_ctx *ctx, struct xlev__teardown *td,
                                   void (*fn)(xlev_ctx *ctx,
                                              struct xlev__teardown *td));

/*======================================================================*/
/* Disasters
 *
 * Found with the lock held (xlev__disaster_locked), logged at LOG_CRIT at
 * once and reported with the lock dropped: a record on the deferred queue
 * whose run() calls the disaster hook. When even that record cannot be
 * allocated, the context's one preallocated record (ctx->oom_disaster)
 * reports XLEV_DISASTER_NOMEM instead, so the hook still hears of it.
 */
struct xlev__disaster_oom {
    struct xlev__deferred d;
    int queued;
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
    struct xlev__disaster_oom oom_disaster;
    const xlev_clock *clock;
    void *clock_user;

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
    struct xlev__fdent **fdtab; /* hash by fd number (fd.c) */
    int fdtab_size;             /* a power of two, or 0 */
    int fdtab_used;             /* entries in fdtab */
    struct xlev__fdent **polled; /* shadow of the last beforepoll's fds */
    int polled_allocd;           /* entries allocated in polled[] */
    int polled_used;             /* entries filled by the last beforepoll */
    uint64_t poll_gen;           /* bumped by every filling beforepoll */

    /* timeouts */
    struct xlev__time_reg **theap;
    int theap_used, theap_allocd;
    uint64_t time_seq;

    /* the deferral mechanism (deferred-private.h); resume: in hooks style,
     * the timeout due at once that brings the loop back for what a bounded
     * run left queued (osevent.c) */
    struct xlev__deferred_queue deferred;
    xlev_ev_time resume;

    /* the wake-up fd (wake.c): see "Waking a poll" below */
    int wake_wanted;  /* set by the xenstore room for a real connection */
    int wake_fd;      /* an eventfd, or -1 */
    int wake_index;   /* its index in the last beforepoll's fds, or -1 */
    int wake_polled;  /* between a beforepoll that gave it and afterpoll */
    int wake_pending; /* written and not yet drained */
    xlev_wake_fn *wake_fn; /* instead of the fd (xlev_ctx_set_wake_callback) */
    void *wake_user;

    /* the rooms above: their state, opaque here, made and freed by them
     * (the xenstore connection when the context is made, the domain events
     * on first use); their teardown hooks, last registered first */
    struct xlev__xs *xs;
    struct xlev__domain *domain;
    struct xlev__teardown *teardowns;
};

/*======================================================================*/
/* Waking a poll (wake.c)
 *
 * Poll style has no way of its own to learn that another thread changed
 * what the loop should wait for while the loop sleeps in poll(2): a new fd,
 * an earlier deadline, or a record queued for the loop (a watch event or a
 * reply that a blocking caller read off the xenstore connection, a
 * disaster found outside the loop). As libxl does, the context keeps a
 * wake-up fd (an eventfd, close-on-exec, non-blocking) and beforepoll puts
 * it into every set it fills, after the registrations' fds (polled[] holds
 * NULL for it), once a room asks for it (wake_wanted: the xenstore room
 * does for every context xlev_ctx_new() makes; the core's unit tests'
 * bare contexts keep their exact sets). Any such change made between that beforepoll and the next
 * afterpoll writes to it once (wake_pending); afterpoll drains it. A change
 * made by the loop's own thread at that time costs one spurious wake-up. In
 * hooks style every change reaches the application's hooks at once, so the
 * fd is not used; the xenstore room arms the resume timeout, due at once
 * (xlev__osevent_resume_locked), when it queues records from outside the
 * loop. An application whose loop
 * has a wake-up of its own (XlevSource: g_main_context_wakeup()) sets
 * wake_fn: beforepoll then adds no fd, the change calls wake_fn once
 * (wake_pending, cleared by afterpoll), and the records it queued make the
 * next beforepoll's timeout 0.
 */
int xlev__wake_init(xlev_ctx *ctx);
void xlev__wake_free(xlev_ctx *ctx);
/* lock held: a change the loop must see (no-op unless a poll is under
 * way, or a write is already pending) */
void xlev__wake_locked(xlev_ctx *ctx);
/* lock held: afterpoll found the fd readable */
void xlev__wake_drain_locked(xlev_ctx *ctx);

/*======================================================================*/
/* Helpers shared between the files */

#define XLEV__LOCK(ctx) pthread_mutex_lock(&(ctx)->lock)
#define XLEV__UNLOCK(ctx) pthread_mutex_unlock(&(ctx)->lock)

#define XLEV__CONTAINER_OF(ptr, type, member)                                  \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* alloc.c. Every allocation in the core goes through these, so that the
 * tests can make one fail (xlev__test_fail_alloc). */
void *xlev__malloc(size_t size);
void *xlev__calloc(size_t n, size_t size);
void *xlev__realloc_array(void *ptr, size_t n, size_t size);
char *xlev__strdup(const char *s);

/* log.c. Lock held or not: the logger is called either way. */
void xlev__log(xlev_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* clock.c; lock held */
void xlev__now_locked(xlev_ctx *ctx, struct timeval *now_out);
void xlev__wall_now_locked(xlev_ctx *ctx, struct timeval *now_out);
/* clock.c: CLOCK_MONOTONIC in microseconds, whatever clock the context was
 * given: for measuring real time spent (the deferred runner's budget), never
 * for deadlines. No lock. */
int64_t xlev__real_mono_us(void);

/* deferred.c: queues a disaster (lock held); reported with the lock
 * dropped by xlev__deferred_run_and_unlock. */
void xlev__disaster_locked(xlev_ctx *ctx, xlev_disaster_kind kind,
                           int errnoval, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* nexus.c: hook calls; lock held. They return the hook's own value (0 when
 * no hooks are installed). */
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
/* For a registered ev whose callback only does non-blocking I/O: the
 * revents an application reports through xlev_osevent_occurred_fd() are
 * taken as they are (see there), saving a poll(2) per report. */
void xlev__fd_set_stale_ok_locked(xlev_ev_fd *ev);
int xlev__fd_modify_locked(xlev_ctx *ctx, xlev_ev_fd *ev, short events);
/* Called for revents on fdent (poll or hooks): queues the callbacks.
 * poll_gen: registrations made at or after this generation are not told
 * (UINT64_MAX: everyone). */
void xlev__fdent_deliver_locked(xlev_ctx *ctx, struct xlev__fdent *fdent,
                                short revents, uint64_t poll_gen);
int xlev__fdent_hook_register_locked(xlev_ctx *ctx,
                                     struct xlev__fdent *fdent);
void xlev__fdent_hook_deregister_locked(xlev_ctx *ctx,
                                        struct xlev__fdent *fdent);
void xlev__fd_free_all_locked(xlev_ctx *ctx);
/* fd.c: makes fd close-on-exec if it is not (logs a failure); no lock */
void xlev__fd_ensure_cloexec(xlev_ctx *ctx, int fd);

/* time.c; lock held */
int xlev__time_hook_register_locked(xlev_ctx *ctx,
                                    struct xlev__time_reg *ev);
void xlev__time_hook_deregister_locked(xlev_ctx *ctx,
                                       struct xlev__time_reg *ev);
/* Takes ev out of the heap (and the hooks) and queues its callback. */
int xlev__time_fire_locked(xlev_ctx *ctx, struct xlev__time_reg *ev);
void xlev__time_fire_due_locked(xlev_ctx *ctx, struct timeval now);
/* The next deadline, or NULL. */
const struct timeval *xlev__time_next_locked(xlev_ctx *ctx);
void xlev__time_free_all_locked(xlev_ctx *ctx);
/* As the public functions, without waiting for a callback in flight in
 * another thread (for the core's own timeouts, whose callbacks decide under
 * the lock what to do). */
int xlev__time_register_rel_locked(xlev_ctx *ctx, xlev_ev_time *ev,
                                   xlev_ev_time_callback *func,
                                   int milliseconds);
void xlev__time_deregister_locked(xlev_ctx *ctx, xlev_ev_time *ev);

/* osevent.c: the deferred queue's resume_locked (deferred-private.h):
 * makes sure the loop comes back for records a bounded run left queued,
 * or that a room queued from outside the loop (the xenstore room: what a
 * blocking caller read off the connection). Lock held. */
int xlev__osevent_resume_locked(xlev_ctx *ctx);

/* ctx.c: a context without any room above the loop (the xenstore room's
 * xlev_ctx_new() builds on it); *ctx_out NULL on failure. */
int xlev__ctx_alloc(xlev_ctx **ctx_out);
