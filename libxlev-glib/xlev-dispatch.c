/* xlev-dispatch.c: the GObject layer's one delivery path (see
 * xlev-dispatch-private.h for its place and the way of an event)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The queue. `lock` protects `head`/`tail` and `wake`, nothing else. It
 * is taken by core callbacks (core lock dropped), by posting threads, by
 * the delivery loop and by unqueue/close. It is the innermost lock of the
 * GObject layer: nothing is called with it held but g_object_ref() (which
 * may run a language binding's toggle notification, which only adjusts
 * the binding's own reference) and g_source_set_ready_time() (the
 * GMainContext's lock, which GLib never holds while calling us). So the
 * core's lock and the targets' own locks are never taken inside it.
 *
 * Naming the target: a plain pointer, no reference, and the rule that
 * an object's dispose removes its queued items. Why not a GWeakRef: in
 * GObject 2.74 a weak reference keeps its location in a list in the
 * object's qdata, 112 bytes of heap per object (bench/RESULTS.md,
 * memory), and a watch costs 128 bytes in all; a reference held by each
 * item would keep a cancelled watch alive until the main loop next runs.
 * Every target's class promises:
 *
 *   (Q) it queues items for O only from the callback of a core
 *       registration or generator belonging to O (so only while that is
 *       Active or its callback is running), or from a thread that holds
 *       a reference to O (property notifications);
 *   (D) O's dispose makes those registrations Idle (the core's
 *       deregister and evdisable wait for a callback in flight in another
 *       thread to return) and then calls xlev_dispatch_unqueue(O);
 *       dispose may run more than once and is harmless the second time;
 *   (E) its emit function emits only while O is still active, a flag
 *       that cancel and dispose clear (atomically) before they deregister.
 *
 * By (Q) and (D) no item for O is added after dispose's unqueue returns
 * (dispose runs only once no other thread holds a reference), and that
 * unqueue removes every earlier one; so an item for O is on the queue only
 * between O's construction and the unqueue inside O's dispose. GObject
 * runs dispose from g_object_unref() with the count still at 1 and
 * finalizes only after dispose returned and only if the count was not
 * raised meanwhile. Hence:
 *
 *   1. While an item for O is on the queue, O's count is at least 1: the
 *      delivery loop pops the item and calls g_object_ref(O) under the
 *      lock, before the unqueue in a concurrent dispose can take it, so
 *      the reference is valid and O is not finalized.
 *   2. Once the loop holds its reference, O is not finalized until it
 *      drops it: a dispose already running in another thread finishes,
 *      sees the raised count and leaves O alive (disposed) for the loop's
 *      g_object_unref() to finalize.
 *   3. A handler may drop the last reference of any object: of the one
 *      emitting, the loop's reference keeps it alive until emit returns;
 *      of another target O2, O2's dispose removes its items under the
 *      lock before O2 can go, so the loop never pops one (by 1). Of the
 *      owner: xlev_dispatch_begin() took a reference, and the loop checks
 *      `closed` before every item.
 *   4. Once cancel or dispose has returned in the thread that delivers, O
 *      emits nothing more: nothing runs there between the pop and the
 *      emission, so such a cancel came first (its unqueue removed the
 *      item) or ran inside the emission itself. From another thread, the
 *      emit function reads O's flag (E) after the pop, so only an emission
 *      whose check came just before the cancel may still be under way.
 *
 * The owner itself (disasters) is a target too: its dispose closes the
 * dispatch, which drops everything queued.
 *
 * Nested iterations. A handler may iterate the main context itself (a
 * modal dialog). `running` counts the dispatches (begin .. end) under way
 * in the thread iterating the main context (which owns it, so no other
 * thread touches the count meanwhile). Only the outermost one delivers:
 * items queued by a nested one wait, in order, until the handler returns,
 * as GLib holds back a source that is being dispatched. The integrations
 * ask xlev_dispatch_is_running() in prepare and check and poll nothing
 * while it is true (see xlev-source.c for why).
 *
 * Bounded delivery. The loop stops after XLEV_DISPATCH_BATCH items, or
 * once XLEV_DISPATCH_BUDGET_US have passed since it started (at least one
 * item is always delivered), and leaves the rest to the wake source: the
 * main context then runs one more iteration, in which every other source
 * that is ready (a GUI's redraw, a timeout) is dispatched before the next
 * batch. So a backlog of thousands of events for a slow handler delays
 * another source by about one budget, not by the whole backlog.
 */
#include "xlev-dispatch-private.h"

#include <string.h>

/* Items delivered per xlev_dispatch_end() before the loop yields to the
 * main context (the rest are delivered from the wake source), and the time
 * after which it yields even if fewer were delivered: a few milliseconds,
 * well under a 60 Hz frame, as GLib's own sources (GTK's frame clock,
 * GDBus's worker) keep their dispatches short. */
#define XLEV_DISPATCH_BATCH 256
#define XLEV_DISPATCH_BUDGET_US (4 * 1000)

typedef struct {
    GSource source;
    XlevDispatch *dispatch; /* strong; dropped when the source goes */
} XlevWakeSource;

struct _XlevDispatch {
    GWeakRef owner; /* the XlevContext */
    xlev_ctx *core; /* valid while owner is alive */
    GMainContext *main_context;

    GMutex lock;
    XlevItem *head, *tail; /* oldest first */
    GSource *wake;         /* posted items; made when first needed */
    gint closed;           /* atomic */

    guint running; /* thread iterating the main context only */
};

XlevItem *
xlev_item_new(GObject *target, XlevEmitFunc emit, XlevItemKind kind,
              const char *text)
{
    size_t len = text != NULL ? strlen(text) : 0;
    XlevItem *item = g_malloc(G_STRUCT_OFFSET(XlevItem, text) + len + 1);

    item->next = NULL;
    item->target = target;
    item->emit = emit;
    item->kind = kind;
    memset(&item->u, 0, sizeof(item->u));
    if (len > 0)
        memcpy(item->text, text, len);
    item->text[len] = '\0';
    return item;
}

static void
free_items(XlevItem *item)
{
    while (item != NULL) {
        XlevItem *next = item->next;

        g_free(item);
        item = next;
    }
}

/*======================================================================*/
/* The wake source: delivers posted items in the owner's main context */

static gboolean
wake_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    XlevWakeSource *self = (XlevWakeSource *)source;

    GObject *owner = NULL;

    g_source_set_ready_time(source, -1);
    if (xlev_dispatch_begin(self->dispatch, &owner) != NULL)
        xlev_dispatch_end(self->dispatch, owner);
    return G_SOURCE_CONTINUE;
}

static void
wake_finalize(GSource *source)
{
    XlevWakeSource *self = (XlevWakeSource *)source;

    xlev_dispatch_unref(self->dispatch);
}

static GSourceFuncs wake_funcs = {
    .dispatch = wake_dispatch,
    .finalize = wake_finalize,
};

/* Lock held. Made the first time it is needed (most contexts never post
 * anything, and an attached source costs every main loop iteration a
 * little), never again once closed. */
static void
wake_soon_locked(XlevDispatch *self)
{
    if (g_atomic_int_get(&self->closed))
        return;
    if (self->wake == NULL) {
        XlevWakeSource *wake;

        self->wake = g_source_new(&wake_funcs, sizeof(XlevWakeSource));
        wake = (XlevWakeSource *)self->wake;
        wake->dispatch = xlev_dispatch_ref(self);
        g_source_set_priority(self->wake, G_PRIORITY_DEFAULT);
        g_source_set_static_name(self->wake, "[xlev] posted");
        g_source_attach(self->wake, self->main_context);
    }
    g_source_set_ready_time(self->wake, 0);
}

/*======================================================================*/

XlevDispatch *
xlev_dispatch_new(GObject *owner, xlev_ctx *core, GMainContext *main_context)
{
    XlevDispatch *self = g_atomic_rc_box_new0(XlevDispatch);

    g_weak_ref_init(&self->owner, owner);
    self->core = core;
    self->main_context = g_main_context_ref(main_context);
    g_mutex_init(&self->lock);
    return self;
}

XlevDispatch *
xlev_dispatch_ref(XlevDispatch *self)
{
    return g_atomic_rc_box_acquire(self);
}

static void
dispatch_clear(gpointer data)
{
    XlevDispatch *self = data;

    /* A wake source held a reference, so close has run if there was one. */
    free_items(self->head);
    g_mutex_clear(&self->lock);
    g_weak_ref_clear(&self->owner);
    g_main_context_unref(self->main_context);
}

void
xlev_dispatch_unref(XlevDispatch *self)
{
    g_atomic_rc_box_release_full(self, dispatch_clear);
}

void
xlev_dispatch_close(XlevDispatch *self)
{
    XlevItem *items;
    GSource *wake;

    g_atomic_int_set(&self->closed, 1);
    g_mutex_lock(&self->lock);
    items = g_steal_pointer(&self->head);
    self->tail = NULL;
    wake = g_steal_pointer(&self->wake);
    g_mutex_unlock(&self->lock);

    free_items(items);
    if (wake != NULL) {
        /* Its finalize drops its reference to us. */
        g_source_destroy(wake);
        g_source_unref(wake);
    }
}

/* Takes the lock. */
static void
push(XlevDispatch *self, XlevItem *item, gboolean wake)
{
    item->next = NULL;
    g_mutex_lock(&self->lock);
    if (g_atomic_int_get(&self->closed)) {
        g_mutex_unlock(&self->lock);
        g_free(item);
        return;
    }
    if (self->tail != NULL)
        self->tail->next = item;
    else
        self->head = item;
    self->tail = item;
    if (wake)
        wake_soon_locked(self);
    g_mutex_unlock(&self->lock);
}

void
xlev_dispatch_queue(XlevDispatch *self, XlevItem *item)
{
    push(self, item, FALSE);
}

void
xlev_dispatch_post(XlevDispatch *self, XlevItem *item)
{
    push(self, item, TRUE);
}

void
xlev_dispatch_unqueue(XlevDispatch *self, GObject *target)
{
    XlevItem **link, *gone = NULL;

    g_mutex_lock(&self->lock);
    self->tail = NULL;
    for (link = &self->head; *link != NULL;) {
        XlevItem *item = *link;

        if (item->target == target) {
            *link = item->next;
            item->next = gone;
            gone = item;
        } else {
            self->tail = item;
            link = &item->next;
        }
    }
    g_mutex_unlock(&self->lock);
    free_items(gone);
}

/*======================================================================*/
/* Delivery */

static void
emit_notify(GObject *target, const XlevItem *item)
{
    g_object_notify_by_pspec(target, item->u.notify.pspec);
}

void
xlev_dispatch_notify(XlevDispatch *self, GObject *object, GParamSpec *pspec)
{
    g_autoptr(GMainContext) here = g_main_context_ref_thread_default();
    XlevItem *item;

    if (here == self->main_context
        || g_main_context_is_owner(self->main_context)) {
        g_object_notify_by_pspec(object, pspec);
        return;
    }
    item = xlev_item_new(object, emit_notify, XLEV_ITEM_NOTIFY, NULL);
    item->u.notify.pspec = pspec;
    xlev_dispatch_post(self, item);
}

/* Pops the oldest item and references its target, under the lock: see
 * "Naming the target" for why the reference is valid. */
static XlevItem *
pop(XlevDispatch *self, GObject **target_out)
{
    XlevItem *item;

    g_mutex_lock(&self->lock);
    item = self->head;
    if (item != NULL) {
        self->head = item->next;
        if (self->head == NULL)
            self->tail = NULL;
        *target_out = g_object_ref(item->target);
    }
    g_mutex_unlock(&self->lock);
    return item;
}

static void
deliver(XlevDispatch *self)
{
    gint64 deadline = g_get_monotonic_time() + XLEV_DISPATCH_BUDGET_US;

    for (guint n = 0; n < XLEV_DISPATCH_BATCH; n++) {
        GObject *target = NULL;
        XlevItem *item;

        /* One item at least; then only while the budget lasts. */
        if (n > 0 && g_get_monotonic_time() >= deadline)
            break;

        /* A handler may have disposed the owner: emit nothing more. */
        if (g_atomic_int_get(&self->closed))
            return;
        item = pop(self, &target);
        if (item == NULL)
            return;
        item->emit(target, item);
        g_object_unref(target);
        g_free(item);
    }
    g_mutex_lock(&self->lock);
    if (self->head != NULL)
        wake_soon_locked(self);
    g_mutex_unlock(&self->lock);
}

xlev_ctx *
xlev_dispatch_hold(XlevDispatch *self, GObject **owner_out)
{
    *owner_out = g_weak_ref_get(&self->owner);
    return *owner_out != NULL ? self->core : NULL;
}

xlev_ctx *
xlev_dispatch_begin(XlevDispatch *self, GObject **owner_out)
{
    xlev_ctx *core = xlev_dispatch_hold(self, owner_out);

    if (core != NULL)
        self->running++;
    return core;
}

void
xlev_dispatch_end(XlevDispatch *self, GObject *owner)
{
    /* Handlers run in here and may iterate the main context. */
    if (self->running == 1)
        deliver(self);
    self->running--;
    g_object_unref(owner);
}

gboolean
xlev_dispatch_is_running(XlevDispatch *self)
{
    return self->running > 0;
}
