/* xlev-glib-hooks.c: the core's osevent hooks, backed by GLib sources
 * (XLEV_INTEGRATION_HOOKS)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Instead of one source that asks the core for its whole set of fds every
 * iteration (xlev-source.c), the core tells us when its set changes and we
 * keep one GLib source per fd (g_unix_fd_source_new()) and one per timeout
 * (a source with a ready time) in the context's GMainContext. When one
 * fires, its callback calls xlev_osevent_occurred_fd() or _timeout(); the
 * core runs the due callbacks, which queue, and the callback then emits
 * what was queued (xlev_context_deliver()), with no lock held.
 *
 * Locking. The hooks are called with the core's lock held, from whatever
 * thread made the core change its set (a thread creating a watch, the main
 * context's thread inside an occurred call, a thread finalizing the
 * context). They must not call into the core and must not block: they only
 * create, attach, destroy and unref GLib sources, which takes the
 * GMainContext's lock briefly. GLib never holds that lock while running a
 * source's callback, so the order core lock -> GMainContext lock is the
 * only one there is.
 *
 * Lifetime. A registration is an XlevHookFd or XlevHookTimeout, a
 * reference-counted box: one reference for the core's registration, one
 * for the GLib source (its callback data, released by GLib when the source
 * is destroyed, and never while the callback is running). So a callback
 * that races with a deregistration in another thread still has valid
 * memory; what it tells the core then is late, and the core ignores late
 * reports. Every box also holds a reference to the XlevGlibHooks, which
 * the XlevContext releases only after freeing the core context.
 *
 * Clock. The `abs` deadlines the core hands us are on its monotonic clock,
 * CLOCK_MONOTONIC, which is also the clock of g_get_monotonic_time() and
 * of g_source_set_ready_time(): they are used as ready times unchanged.
 */
#include "xlev-hooks-private.h"
#include "xlev-context-private.h"

#include <glib-unix.h>

struct _XlevGlibHooks {
    GMainContext *main_context;
    GWeakRef owner; /* XlevContext */
};

typedef struct {
    XlevGlibHooks *hooks;
    void *for_xlev;
    int fd;
    gint events;     /* atomic: read by the callback, set by fd_modify */
    GSource *source; /* hooks only (core lock held) */
} XlevHookFd;

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

    g_weak_ref_clear(&hooks->owner);
    g_main_context_unref(hooks->main_context);
}

void
xlev_glib_hooks_unref(XlevGlibHooks *hooks)
{
    g_atomic_rc_box_release_full(hooks, hooks_clear);
}

static gint64
timeval_to_us(const struct timeval *tv)
{
    return (gint64)tv->tv_sec * G_USEC_PER_SEC + tv->tv_usec;
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

/* In the context's GMainContext: the fd is ready. */
static gboolean
hook_fd_ready(int fd, GIOCondition condition, gpointer data)
{
    XlevHookFd *h = data;
    g_autoptr(XlevContext) owner = g_weak_ref_get(&h->hooks->owner);

    /* The context is being finalized; its core will deregister us. */
    if (owner == NULL)
        return G_SOURCE_REMOVE;

    xlev_osevent_occurred_fd(xlev_context_get_core(owner), h->for_xlev, fd,
                             (short)g_atomic_int_get(&h->events),
                             (short)condition);
    xlev_context_deliver(owner);
    return G_SOURCE_CONTINUE;
}

static GSource *
hook_fd_source(XlevHookFd *h)
{
    GSource *source =
        g_unix_fd_source_new(h->fd, (GIOCondition)g_atomic_int_get(&h->events));

    g_source_set_static_name(source, "[xlev] fd");
    g_source_set_callback(source, G_SOURCE_FUNC(hook_fd_ready),
                          g_atomic_rc_box_acquire(h), hook_fd_unref);
    g_source_attach(source, h->hooks->main_context);
    return source;
}

static void
hook_fd_drop_source(XlevHookFd *h)
{
    g_source_destroy(h->source);
    g_clear_pointer(&h->source, g_source_unref);
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
    h->events = events;
    h->source = hook_fd_source(h);
    *for_app_registration_out = h;
    return 0;
}

/* Core lock held. A g_unix_fd_source cannot change its condition, so the
 * fd gets a new source. */
static int
fd_modify(void *user, int fd, void **for_app_registration_update,
          short events)
{
    XlevHookFd *h = *for_app_registration_update;

    hook_fd_drop_source(h);
    g_atomic_int_set(&h->events, events);
    h->source = hook_fd_source(h);
    return 0;
}

/* Core lock held. */
static void
fd_deregister(void *user, int fd, void *for_app_registration)
{
    XlevHookFd *h = for_app_registration;

    hook_fd_drop_source(h);
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
    g_autoptr(XlevContext) owner = NULL;

    /* Deregistered meanwhile: the deregistration dropped its reference. */
    if (!g_atomic_int_compare_and_exchange(&t->registered, 1, 0))
        return G_SOURCE_REMOVE;

    /* Firing deregisters implicitly: the core will not call
     * timeout_deregister for this registration, so its reference is
     * dropped here (the source's own keeps `t` valid until we return). */
    owner = g_weak_ref_get(&t->hooks->owner);
    if (owner != NULL) {
        xlev_osevent_occurred_timeout(xlev_context_get_core(owner),
                                      t->for_xlev);
    }
    hook_timeout_unref(t);
    if (owner != NULL)
        xlev_context_deliver(owner);
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
    g_source_set_ready_time(t->source, timeval_to_us(&abs));
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
        g_source_set_ready_time(t->source, timeval_to_us(&abs));
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
xlev_glib_hooks_install(XlevContext *owner, xlev_ctx *core,
                        GMainContext *main_context, XlevGlibHooks **hooks_out)
{
    XlevGlibHooks *hooks = g_atomic_rc_box_new0(XlevGlibHooks);
    int rc;

    hooks->main_context = g_main_context_ref(main_context);
    g_weak_ref_init(&hooks->owner, owner);

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
