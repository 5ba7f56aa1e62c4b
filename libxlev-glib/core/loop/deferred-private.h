/* deferred-private.h: the core's one deferral mechanism
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Everything the core decides while holding ctx->lock and must then do with
 * the lock dropped (call a registration's callback, report a disaster, hand
 * a domain event to its hooks) becomes a struct xlev__deferred record on the
 * context's queue, which the thread that decided then runs. The users embed
 * the record in their own (container-of) and supply its operations; the
 * queue knows nothing of fds, timeouts, watches or domains.
 *
 * Record states:
 *
 *   Unqueued  - made by its user, not on the queue (or already taken off).
 *   Queued    - on ctx->deferred (FIFO), after xlev__deferred_queue_locked().
 *   Running   - taken off by xlev__deferred_run_and_unlock(): prepare_locked
 *               said yes, the lock is dropped and run() owns the record.
 *   Disposed  - dispose_locked() (cancelled or the context freed) or run()
 *               freed it or handed it on (a domain event becomes the
 *               application's).
 *
 *   Queued -> Running -> Disposed     the usual way
 *   Queued -> Disposed                xlev__deferred_cancel_locked() for its
 *                                     target, prepare_locked() declining,
 *                                     or xlev_ctx_free()
 *
 * Targets and callbacks in flight. A record names a target (the
 * registration or generator it belongs to; NULL for none). The runner never
 * starts a record whose target has a callback running in any thread: the
 * callbacks of one target never overlap, and keep their order. While run()
 * executes, a struct xlev__inflight {target, thread} on the runner's stack
 * is on ctx->inflight. Retiring a target (every _deregister, evdisable)
 * is, lock held:
 *
 *     xlev__deferred_cancel_locked(ctx, target);  queued records go
 *     xlev__deferred_wait_locked(ctx, target);    and one running in
 *                                                 ANOTHER thread ends
 *
 * The wait returns at once for a callback running in the calling thread (a
 * callback deregistering itself or another target it runs for), so that
 * cannot deadlock; a deregistration from another thread waits on ctx->cond,
 * which the runner broadcasts after each run(). So when a retirement has
 * returned, no callback of the target runs elsewhere or will run again.
 *
 * Lock discipline. The queue, ctx->inflight and every record's state are
 * protected by ctx->lock, the only lock the mechanism takes (where it stands
 * in the core's lock order: "Locking" in loop-private.h). A record's
 * prepare_locked() and dispose_locked() are called with it held and must
 * take no lock that comes before it (the domain room's); run() is called
 * with it dropped and may take anything. A waiting retirement sleeps on
 * ctx->cond, which releases ctx->lock, so it holds no other core lock then:
 * callers that hold one (the domain room's reg_lock) never wait. The
 * runner is:
 *
 *     lock (held on entry)
 *     while a record whose target is not in flight is queued:
 *         if this run's batch is spent and resume_locked() says the loop
 *             will come back: stop
 *         take it off; if ops->prepare_locked declines: next
 *         push {target, self} on ctx->inflight
 *         unlock; ops->run(ctx, record); lock
 *         pop it (by address: the target may be freed by now); broadcast
 *     unlock
 *
 * A run() may queue more records (a watch fd's callback queues the watch
 * events it read): the same loop runs them, within the same batch.
 *
 * Bounded batches. One run calls at most XLEV__DEFERRED_BATCH callbacks,
 * and starts no new one once XLEV__DEFERRED_BUDGET_US of real time have
 * passed since it began (at least one callback runs each time), as the
 * GObject layer's delivery does (XLEV_DISPATCH_BATCH in xlev-dispatch.c):
 * a slow callback facing a backlog (a flood of watch events) then delays
 * the application's loop, and its other fds and timeouts, by about one
 * budget instead of by the whole backlog. What is left stays queued, in
 * order; nothing is dropped, and retiring a target still takes its queued
 * records with it. Before stopping, the runner asks queue->resume_locked
 * (set by ctx.c to the loop's osevent.c, so this file calls nothing above
 * it) to make sure the loop comes back for the rest: in poll style
 * beforepoll returns a 0 timeout while records are queued (and a poll under
 * way in another thread is woken); in hooks style a timeout due at once is
 * registered with the application. If it cannot (the application's
 * timeout_register hook failed), the runner goes on to the end of the
 * queue as if unbounded: late rather than lost.
 */
#pragma once

#include <pthread.h>

struct xlev_ctx;
struct xlev__deferred;

struct xlev__deferred_ops {
    /* Lock held, the record just taken off the queue: 1 to run it, 0 not
     * to (the target changed since it was queued), in which case
     * prepare_locked disposed of it. May copy into the record what run()
     * needs. NULL: always run. */
    int (*prepare_locked)(struct xlev_ctx *ctx, struct xlev__deferred *d);
    /* Lock dropped; owns the record (frees it or hands it on). */
    void (*run)(struct xlev_ctx *ctx, struct xlev__deferred *d);
    /* Lock held; the record will not run (cancelled, or the context is
     * freed): owns it. NULL: free(). */
    void (*dispose_locked)(struct xlev_ctx *ctx, struct xlev__deferred *d);
};

/* Singly linked: records are taken off while the queue is walked from its
 * head (the runner, cancellation), so the link that points at one is always
 * at hand; and the header stays small (a timeout's record fits a 64-byte
 * malloc chunk). */
struct xlev__deferred {
    struct xlev__deferred *next;
    const struct xlev__deferred_ops *ops;
    const void *target;
};

struct xlev__inflight {
    struct xlev__inflight *next;
    const void *target;
    pthread_t thread;
};

/* The most callbacks one run calls, and the real time after which it
 * starts no more (the GObject layer's XLEV_DISPATCH_BATCH and budget). */
#define XLEV__DEFERRED_BATCH 256
#define XLEV__DEFERRED_BUDGET_US 4000

/* The queue and the in-flight list, in struct xlev_ctx. */
struct xlev__deferred_queue {
    struct xlev__deferred *head;
    struct xlev__deferred **tailp; /* the last next field (&head if empty) */
    struct xlev__inflight *inflight;
    /* Lock held; a run is stopping with records left: 0 if the loop will
     * come back for them, nonzero if nothing can make it (then the run
     * goes on). NULL: runs are not bounded. */
    int (*resume_locked)(struct xlev_ctx *ctx);
};

/* Lock held unless said otherwise. */
void xlev__deferred_queue_locked(struct xlev_ctx *ctx, struct xlev__deferred *d,
                                 const struct xlev__deferred_ops *ops,
                                 const void *target);
/* Disposes of every queued record of target; returns how many. */
int xlev__deferred_cancel_locked(struct xlev_ctx *ctx, const void *target);
/* Disposes of every queued record made with ops. */
void xlev__deferred_cancel_ops_locked(struct xlev_ctx *ctx,
                                      const struct xlev__deferred_ops *ops);
/* Waits (on ctx->cond) until no callback of target runs in another thread;
 * target NULL: until no callback at all runs in another thread. */
void xlev__deferred_wait_locked(struct xlev_ctx *ctx, const void *target);
/* 1 if the calling thread is inside a callback of ctx. */
int xlev__deferred_in_callback_locked(struct xlev_ctx *ctx);
/* Runs the queue, one bounded batch: see above. Lock held on entry,
 * dropped on return. */
void xlev__deferred_run_and_unlock(struct xlev_ctx *ctx);
/* xlev_ctx_free: disposes of everything queued. */
void xlev__deferred_free_all_locked(struct xlev_ctx *ctx);
