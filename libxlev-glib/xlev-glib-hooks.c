/* xlev-glib-hooks.c: the core's osevent hooks, backed by GLib sources
 * (XLEV_INTEGRATION_HOOKS)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Instead of one source that asks the core for its whole set of fds every
 * iteration (xlev-source.c), the core tells us when its set changes and we
 * keep one GLib source per fd (XlevFdSource, below) and one per timeout
 * (a source with a ready time) in the context's GMainContext. When one
 * fires, its dispatch calls xlev_osevent_occurred_fd() or _timeout()
 * between xlev_dispatch_begin() and _end(): the core runs the due
 * callbacks, which queue, and xlev_dispatch_end() then emits what was
 * queued, with no lock held.
 *
 * Locking. The hooks are called with the core's lock held, from whatever
 * thread made the core change its set (a thread creating a watch, the main
 * context's thread inside an occurred call, a thread finalizing the
 * context). They must not call into the core and must not block: they only
 * create, attach, destroy and unref GLib sources and change an fd
 * source's events, which takes an fd source's own lock and the
 * GMainContext's lock briefly. GLib never holds its lock while running a
 * source's functions or callback, and an fd source's lock is taken only
 * around GLib calls that take the GMainContext's lock, so the order is
 * core lock -> fd source lock -> GMainContext lock and no other.
 *
 * Nested main loops. GLib blocks a source that cannot recurse for the
 * duration of its dispatch, so that a handler iterating the context
 * itself (a modal dialog) does not get it dispatched again from inside;
 * in GLib 2.74 blocking and unblocking a source with an fd each write the
 * context's wakeup eventfd, which made every event cost two iterations.
 * XlevFdSource is therefore can-recurse and does what blocking did only
 * when a nested iteration happens: its prepare, finding a dispatch of the
 * context under way (xlev_dispatch_is_running(), the same test the
 * XlevSource makes), removes its fd from the GSource and reports not
 * ready, and the next prepare outside a dispatch adds the fd back (see
 * XlevFdSource for why removed and not polled for no events). The timeout
 * sources have no fd, so GLib's blocking costs them nothing, and they stay
 * as they are: one that fires in a nested iteration tells the core, whose
 * callbacks queue, and the outer dispatch delivers.
 *
 * Lifetime. A registration is an XlevHookFd or XlevHookTimeout, a
 * reference-counted box: one reference for the core's registration, one
 * for the GLib source (a timeout source's callback data, released by GLib
 * when the source is destroyed, and never while the callback is running;
 * an fd source's own, released when the source is finalized). So a
 * dispatch that races with a deregistration in another thread still has
 * valid memory; what it tells the core then is late, and the core ignores late
 * reports. Every box also holds a reference to the XlevGlibHooks, which
 * the XlevContext releases only after freeing the core context, and the
 * XlevGlibHooks one to the XlevDispatch, whose weak reference to the
 * XlevContext keeps the core valid for the duration of a dispatch.
 *
 * Clock. The `abs` deadlines the core hands us are on its monotonic clock,
 * CLOCK_MONOTONIC, which is also the clock of g_get_monotonic_time() and
 * of g_source_set_ready_time(): they are used as ready times unchanged.
 */
#include "xlev-hooks-private.h"

#include <glib-unix.h>

struct _XlevGlibHooks {
    GMainContext *main_context;
    XlevDispatch *dispatch; /* strong */
};

typedef struct _XlevFdSource XlevFdSource;

typedef struct {
    XlevGlibHooks *hooks;
    void *for_xlev;
    int fd;
    XlevFdSource *source; /* hooks only (core lock held) */
} XlevHookFd;

/* The GSource polling one registered fd.
 *
 * The hooks create it (fd_register), change its events (fd_modify) and
 * destroy it (fd_deregister), from any thread, with the core's lock held;
 * GLib calls prepare, check and dispatch in the thread iterating the
 * context. What both sides touch is under `lock`: the events, whether the
 * fd is in the GSource now (`tag`) and whether the hooks are done with the
 * source (`deregistered`, set before they destroy it, so that the thread
 * iterating never adds the fd to a destroyed source). `tag` changes only
 * in the thread iterating, so that thread reads it without the lock.
 *
 * In a nested iteration (xlev_dispatch_is_running(), asked only by the
 * thread iterating, which owns the context) the fd is taken out of the
 * GSource with g_source_remove_unix_fd(), not left in with no events: GLib
 * polls an fd with no events too, poll() still reports POLLHUP, POLLERR
 * and POLLNVAL for it, and GLib's check marks a source with an fd that
 * has revents ready whatever the source's check returns; a hung-up fd
 * would make the nested loop spin and dispatch us re-entrantly.
 *
 * The source owns a reference to its XlevHookFd until it is finalized:
 * after fd_deregister, a dispatch already under way still has valid
 * memory, and what it reports to the core is late and ignored. */
struct _XlevFdSource {
    GSource source;
    XlevHookFd *h; /* owned */

    GMutex lock;
    short events;
    gboolean deregistered;
    gpointer tag; /* from g_source_add_unix_fd(); NULL while removed */
};

/* A timeout is Active until either the core deregisters it or it fires;
 * `registered` (atomic) decides which came first, and that side drops the
 * registration's reference. */
typedef struct {
    XlevGlibHooks *hooks;
    void *for_xlev;
    gint registered;
    GSource *source;
} XlevHookTimeout;

static void
hooks_clear(gpointer data)
{
    XlevGlibHooks *hooks = data;

    xlev_dispatch_unref(hooks->dispatch);
    g_main_context_unref(hooks->main_context);
}

void
xlev_glib_hooks_unref(XlevGlibHooks *hooks)
{
    g_atomic_rc_box_release_full(hooks, hooks_clear);
}

/*======================================================================*/
/* fds */

static void
hook_fd_clear(gpointer data)
{
    XlevHookFd *h = data;

    g_assert(h->source == NULL);
    xlev_glib_hooks_unref(h->hooks);
}

static void
hook_fd_unref(gpointer data)
{
    g_atomic_rc_box_release_full(data, hook_fd_clear);
}

/* Takes the fd out of the GSource for a nested iteration. Thread
 * iterating. */
static void
fd_source_hide(XlevFdSource *self)
{
    if (self->tag == NULL)
        return;
    g_mutex_lock(&self->lock);
    g_source_remove_unix_fd(&self->source, self->tag);
    self->tag = NULL;
    g_mutex_unlock(&self->lock);
}

/* Puts the fd back once no dispatch is under way. Thread iterating. */
static void
fd_source_show(XlevFdSource *self)
{
    if (self->tag != NULL)
        return;
    g_mutex_lock(&self->lock);
    if (!self->deregistered && !g_source_is_destroyed(&self->source))
        self->tag = g_source_add_unix_fd(&self->source, self->h->fd,
                                         (GIOCondition)self->events);
    g_mutex_unlock(&self->lock);
}

static gboolean
fd_source_prepare(GSource *source, gint *timeout_out)
{
    XlevFdSource *self = (XlevFdSource *)source;

    *timeout_out = -1;
    if (xlev_dispatch_is_running(self->h->hooks->dispatch))
        fd_source_hide(self);
    else
        fd_source_show(self);
    return FALSE;
}

static gboolean
fd_source_check(GSource *source)
{
    XlevFdSource *self = (XlevFdSource *)source;

    return !xlev_dispatch_is_running(self->h->hooks->dispatch) &&
           self->tag != NULL &&
           g_source_query_unix_fd(source, self->tag) != 0;
}

/* In the context's GMainContext: the fd is ready. */
static gboolean
fd_source_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    XlevFdSource *self = (XlevFdSource *)source;
    XlevHookFd *h = self->h;
    XlevDispatch *dispatch = h->hooks->dispatch;
    GObject *owner = NULL;
    GIOCondition revents;
    xlev_ctx *core;
    short events;

    /* Inside a dispatch of the context. Rare: a nested prepare removes
     * our fds and a nested check says not ready, but GLib also finds a
     * source ready from its fds' revents, still those of the outer poll
     * if the nested iteration skipped our prepare (a higher-priority
     * source was ready) and then reached our check. */
    if (xlev_dispatch_is_running(dispatch) || self->tag == NULL)
        return G_SOURCE_CONTINUE;

    /* The context is being finalized; its core will deregister us. */
    core = xlev_dispatch_begin(dispatch, &owner);
    if (core == NULL)
        return G_SOURCE_REMOVE;

    revents = g_source_query_unix_fd(source, self->tag);
    g_mutex_lock(&self->lock);
    events = self->events;
    g_mutex_unlock(&self->lock);

    xlev_osevent_occurred_fd(core, h->for_xlev, h->fd, events,
                             (short)revents);
    xlev_dispatch_end(dispatch, owner);
    return G_SOURCE_CONTINUE;
}

static void
fd_source_finalize(GSource *source)
{
    XlevFdSource *self = (XlevFdSource *)source;

    g_mutex_clear(&self->lock);
    hook_fd_unref(self->h);
}

static GSourceFuncs fd_source_funcs = {
    .prepare = fd_source_prepare,
    .check = fd_source_check,
    .dispatch = fd_source_dispatch,
    .finalize = fd_source_finalize,
};

/* Core lock held. */
static XlevFdSource *
fd_source_new(XlevHookFd *h, short events)
{
    GSource *source = g_source_new(&fd_source_funcs, sizeof(XlevFdSource));
    XlevFdSource *self = (XlevFdSource *)source;

    self->h = g_atomic_rc_box_acquire(h);
    g_mutex_init(&self->lock);
    self->events = events;
    /* Not attached yet: nobody else sees it. */
    self->tag = g_source_add_unix_fd(source, h->fd, (GIOCondition)events);
    /* No blocking by GLib during dispatch: see "Nested main loops". */
    g_source_set_can_recurse(source, TRUE);
    g_source_set_static_name(source, "[xlev] fd");
    g_source_attach(source, h->hooks->main_context);
    return self;
}

/* Core lock held. */
static int
fd_register(void *user, int fd, void **for_app_registration_out, short events,
            void *for_xlev)
{
    XlevGlibHooks *hooks = user;
    XlevHookFd *h = g_atomic_rc_box_new0(XlevHookFd);

    h->hooks = g_atomic_rc_box_acquire(hooks);
    h->for_xlev = for_xlev;
    h->fd = fd;
    h->source = fd_source_new(h, events);
    *for_app_registration_out = h;
    return 0;
}

/* Core lock held. While the fd is out of the GSource (a nested iteration)
 * only the events are remembered, for when it goes back in. */
static int
fd_modify(void *user, int fd, void **for_app_registration_update,
          short events)
{
    XlevHookFd *h = *for_app_registration_update;
    XlevFdSource *self = h->source;

    g_mutex_lock(&self->lock);
    self->events = events;
    if (self->tag != NULL)
        g_source_modify_unix_fd(&self->source, self->tag,
                                (GIOCondition)events);
    g_mutex_unlock(&self->lock);
    return 0;
}

/* Core lock held. */
static void
fd_deregister(void *user, int fd, void *for_app_registration)
{
    XlevHookFd *h = for_app_registration;
    XlevFdSource *self = g_steal_pointer(&h->source);

    g_mutex_lock(&self->lock);
    self->deregistered = TRUE;
    g_mutex_unlock(&self->lock);
    g_source_destroy(&self->source);
    g_source_unref(&self->source);
    hook_fd_unref(h);
}

/*======================================================================*/
/* Timeouts */

static void
hook_timeout_clear(gpointer data)
{
    XlevHookTimeout *t = data;

    /* Both references are gone, so the source was destroyed (that is what
     * released the callback's one). */
    g_source_unref(t->source);
    xlev_glib_hooks_unref(t->hooks);
}

static void
hook_timeout_unref(gpointer data)
{
    g_atomic_rc_box_release_full(data, hook_timeout_clear);
}

/* A core deadline as a ready time: one before the clock's start (any
 * negative value, which GLib would take for "never") is due at once. */
static gint64
ready_time_of(const struct timeval *abs)
{
    return MAX(xlev_timeval_to_us(abs), 0);
}

static gboolean
ready_time_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    return callback(data);
}

static GSourceFuncs ready_time_funcs = {
    .dispatch = ready_time_dispatch,
};

/* In the context's GMainContext: the deadline has come. */
static gboolean
hook_timeout_due(gpointer data)
{
    XlevHookTimeout *t = data;
    XlevDispatch *dispatch = t->hooks->dispatch;
    GObject *owner = NULL;
    xlev_ctx *core;

    /* The context is being finalized (its owner is gone, the core not yet
     * freed): nobody to tell. The registration stays the core's, which
     * deregisters it as it frees its timeouts (timeout_deregister then
     * drops the reference, the source being gone already). Dropping it
     * here, as a report does, left the core to deregister freed memory. */
    core = xlev_dispatch_begin(dispatch, &owner);
    if (core == NULL)
        return G_SOURCE_REMOVE;

    /* Deregistered meanwhile: the deregistration dropped its reference.
     * Otherwise firing deregisters implicitly: the core will not call
     * timeout_deregister for this registration, so its reference is
     * dropped here (the source's own keeps `t` valid until we return). */
    if (g_atomic_int_compare_and_exchange(&t->registered, 1, 0)) {
        xlev_osevent_occurred_timeout(core, t->for_xlev);
        hook_timeout_unref(t);
    }
    xlev_dispatch_end(dispatch, owner);
    return G_SOURCE_REMOVE;
}

/* Core lock held. */
static int
timeout_register(void *user, void **for_app_registration_out,
                 struct timeval abs, void *for_xlev)
{
    XlevGlibHooks *hooks = user;
    XlevHookTimeout *t = g_atomic_rc_box_new0(XlevHookTimeout);

    t->hooks = g_atomic_rc_box_acquire(hooks);
    t->for_xlev = for_xlev;
    t->registered = 1;
    t->source = g_source_new(&ready_time_funcs, sizeof(GSource));
    g_source_set_static_name(t->source, "[xlev] timeout");
    g_source_set_ready_time(t->source, ready_time_of(&abs));
    g_source_set_callback(t->source, hook_timeout_due,
                          g_atomic_rc_box_acquire(t), hook_timeout_unref);
    g_source_attach(t->source, hooks->main_context);
    *for_app_registration_out = t;
    return 0;
}

/* Core lock held. If the timeout has just fired, its report is on its
 * way and the core will register it again for the rest of its time. */
static int
timeout_modify(void *user, void **for_app_registration_update,
               struct timeval abs)
{
    XlevHookTimeout *t = *for_app_registration_update;

    if (g_atomic_int_get(&t->registered))
        g_source_set_ready_time(t->source, ready_time_of(&abs));
    return 0;
}

/* Core lock held. */
static void
timeout_deregister(void *user, void *for_app_registration)
{
    XlevHookTimeout *t = for_app_registration;

    if (g_atomic_int_compare_and_exchange(&t->registered, 1, 0)) {
        g_source_destroy(t->source);
        hook_timeout_unref(t);
    }
}

static const xlev_osevent_hooks glib_hooks = {
    .fd_register = fd_register,
    .fd_modify = fd_modify,
    .fd_deregister = fd_deregister,
    .timeout_register = timeout_register,
    .timeout_modify = timeout_modify,
    .timeout_deregister = timeout_deregister,
};

int
xlev_glib_hooks_install(XlevDispatch *dispatch, xlev_ctx *core,
                        GMainContext *main_context, XlevGlibHooks **hooks_out)
{
    XlevGlibHooks *hooks = g_atomic_rc_box_new0(XlevGlibHooks);
    int rc;

    hooks->main_context = g_main_context_ref(main_context);
    hooks->dispatch = xlev_dispatch_ref(dispatch);

    /* The core's existing fds (its xenstore connection) are handed to the
     * hooks before this returns. */
    rc = xlev_osevent_register_hooks(core, &glib_hooks, hooks);
    if (rc != 0) {
        xlev_glib_hooks_unref(hooks);
        *hooks_out = NULL;
        return rc;
    }
    *hooks_out = hooks;
    return 0;
}
