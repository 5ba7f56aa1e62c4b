/* xlev-context-private.h: what the GObject layer's files share about
 * XlevContext
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * How one event travels, from the fd to the signal:
 *
 *   1. The main context polls the core's fds: through the context's
 *      XlevSource (xlev-source.c: beforepoll in prepare, afterpoll in
 *      dispatch) or through one GLib source per fd and per timeout
 *      (xlev-glib-hooks.c: xlev_osevent_occurred_fd/_timeout).
 *   2. Inside that core call the core reads xenstore, decides which
 *      registrations are due, drops its lock and runs their callbacks
 *      (watch_cb in xlev-watch.c, timeout_cb in xlev-timeout.c).
 *   3. Those callbacks emit nothing: they append an XlevPending to the
 *      context's queue (xlev_context_queue_object() or
 *      xlev_context_queue()) and return.
 *   4. When the core call has returned, the same dispatch calls
 *      xlev_context_deliver(), which takes the items one by one, takes a
 *      strong reference on each item's object (under the queue lock; see
 *      "The pending queue" in xlev-context.c for why that is safe), drops
 *      the item if its object is gone or was cancelled, and emits the
 *      signal, with no lock of ours or of the core held.
 *
 * Since both the XlevSource and the hook sources are attached to the
 * context's GMainContext, steps 2-4 run in the thread iterating it: that is
 * why every signal is emitted there.
 */
#pragma once

#include "xlev-context.h"

G_BEGIN_DECLS

/* Emits the signal an XlevPending stands for. @object is a strong
 * reference, held for the duration of the call. */
typedef void (*XlevEmitFunc)(GObject *object, const char *event_path);

/* The core context; valid until the XlevContext is finalized, so for as
 * long as the caller holds a reference. */
xlev_ctx *xlev_context_get_core(XlevContext *self);

/* Step 3. Called from core callbacks (core lock dropped, any thread).
 * @event_path may be NULL. Each takes only the queue lock.
 *
 * xlev_context_queue_object(): @target is the object that will emit, with
 * no reference taken. Its class must keep (Q), (D) and (E) of "The pending
 * queue" in xlev-context.c: queue only from the callback of a registration
 * embedded in @target; in dispose, make that registration Idle and then
 * call xlev_context_unqueue_object(); emit only while still active. Costs
 * the object nothing (XlevWatch).
 *
 * xlev_context_queue(): @target is a weak reference kept inside the object
 * that will emit (XlevTimeout.self_ref, XlevDomainMonitor.self_ref); the
 * object must call xlev_context_unqueue() before that memory goes away. */
void xlev_context_queue_object(XlevContext *self, GObject *target,
                               XlevEmitFunc emit, const char *event_path);
void xlev_context_queue(XlevContext *self, GWeakRef *target, XlevEmitFunc emit,
                        const char *event_path);

/* Drops every queued item for @target (queued by the matching function
 * above). */
void xlev_context_unqueue_object(XlevContext *self, GObject *target);
void xlev_context_unqueue(XlevContext *self, GWeakRef *target);

/* Step 4. Called with no lock held, in the thread iterating the context's
 * GMainContext, after the core call that queued the items has returned.
 * A call from inside a handler it runs (a nested main loop) returns at
 * once: the outer call delivers what was queued meanwhile. */
void xlev_context_deliver(XlevContext *self);

/* Emits notify::@pspec on @object in the context's GMainContext: at once
 * if the calling thread owns it, else from an idle source. */
void xlev_context_notify(XlevContext *self, GObject *object,
                         GParamSpec *pspec);

/* What the core's disaster hook does: may be called from any thread with
 * no lock held; ::disaster follows in the context's GMainContext. (Tests
 * call it directly: the core's disasters are hard to provoke.) */
void xlev_context_report_disaster(XlevContext *self, XlevDisaster kind,
                                  const char *message, int errnoval);

G_END_DECLS
