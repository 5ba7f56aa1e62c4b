/* xlev-source.c: XlevSource, the core's beforepoll/afterpoll cycle as a
 * GSource
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * One main loop iteration, and what this source does in it:
 *
 *   prepare   xlev_osevent_beforepoll(): which fds the core wants polled
 *             and when it next needs to run. The fds are put into the
 *             GSource with g_source_add_unix_fd(), changing only those that
 *             differ from the last iteration; the core's timeout (in ms,
 *             already rounded up by the core) becomes ours and a deadline
 *             on the core's monotonic clock is remembered for check.
 *   poll      GLib polls, with our fds among everyone else's.
 *   check     ready if GLib saw anything on one of our fds
 *             (g_source_query_unix_fd()) or the deadline has passed.
 *   dispatch  the revents go back into the core's pollfd array, in the
 *             order beforepoll gave them, and xlev_osevent_afterpoll()
 *             does the I/O and runs the core callbacks, which only queue
 *             (xlev-dispatch-private.h); then xlev_dispatch_end() emits
 *             the queued signals, with no core lock held.
 *
 * Nested main loops. A signal handler may iterate the main context itself
 * (a modal dialog, g_main_context_iteration() inside the handler). The
 * source must not be dispatched again from inside its own dispatch: the
 * core would be asked for a new beforepoll while the outer dispatch is
 * still delivering, and a "changed" handler would be re-entered. GLib
 * guarantees that for a source that cannot recurse by blocking it for the
 * duration of every dispatch, which takes its fds out of the context's
 * poll set and puts them back afterwards; in GLib 2.74 each of the two
 * writes the context's wakeup eventfd, so the poll after every dispatch
 * returns at once for nothing: two iterations per event instead of one
 * (bench/RESULTS.md, "GLib binding: watch events").
 *
 * So the source is marked can-recurse and keeps the guarantee itself, paid
 * for only when a nested iteration actually happens. The dispatch module
 * counts the dispatches under way (xlev_dispatch_is_running()). A prepare
 * or check that runs while one is is a nested iteration; it reports not ready
 * and, in prepare, takes the source's fds out of the GSource (forget_fds()),
 * as GLib's blocking would. Removing them, rather than polling them for no
 * events, matters: poll() still reports POLLHUP, POLLERR and POLLNVAL for
 * an fd with no events, and GLib's check marks a source ready whenever one
 * of its fds has revents, whatever the source's check says; a hung-up
 * xenstore connection would make the nested loop spin and dispatch us
 * re-entrantly. The next prepare after the outer dispatch has returned,
 * which always comes before the next poll, finds the core's fds missing
 * and adds them again (sync_fds()). Outside nested loops no fd is added or
 * removed per dispatch, and the loop wakes once per event.
 *
 * Waking. Another thread may give the core work while the main context
 * sleeps in poll (a new watch or timeout, replies read by a blocking
 * caller). The core would put a wake-up fd of its own into every set;
 * the source hands it g_main_context_wakeup() instead
 * (xlev_ctx_set_wake_callback()), so the loop polls one fd fewer on every
 * iteration and is woken the way GLib wakes it for its own sources.
 *
 * The source holds a reference to the context's XlevDispatch, which holds
 * only a weak one to the XlevContext. Each of prepare, check and dispatch
 * turns that into a strong one for its own duration
 * (xlev_dispatch_hold(), xlev_dispatch_begin()), so the core context (freed
 * when the XlevContext is finalized) cannot go away under a core call;
 * once the XlevContext is gone the source does nothing. Before each
 * emission the delivery loop checks again that the context was not
 * disposed by an earlier handler.
 */
#include "xlev-source-private.h"
#include "xlev-dispatch-private.h"

#include <glib-unix.h>

/* One fd that is in the GSource, with the events it was added for. */
typedef struct {
    int fd;
    short events;
    gboolean seen; /* in the latest beforepoll's set */
    gpointer tag;  /* from g_source_add_unix_fd() */
} XlevPolledFd;

typedef struct {
    GSource source;
    XlevDispatch *dispatch; /* strong */

    /* The core's set as of the last successful beforepoll: afterpoll wants
     * exactly this array back, revents filled in. tags[i] is the GSource
     * tag polling fds[i].fd, NULL for an fd with no events. */
    struct pollfd *fds;
    gpointer *tags;
    int nfds;
    int fds_alloc;

    /* What is in the GSource now. The core has a handful of fds (its
     * xenstore connection, perhaps a few more), so this is a plain array
     * searched linearly. */
    GArray *polled; /* of XlevPolledFd */

    /* When the core next needs to run, on its monotonic clock, in us;
     * -1 for never. */
    gint64 deadline_us;

    /* The main context the core wakes (instead of polling a wake-up fd of
     * its own) when another thread gives it work: set by the first
     * prepare, which is when the source knows where it is attached. */
    GMainContext *wake_context; /* strong */
} XlevSource;

static void
wake_main_context(void *user)
{
    g_main_context_wakeup(user);
}

static XlevPolledFd *
find_polled(XlevSource *self, int fd)
{
    for (guint i = 0; i < self->polled->len; i++) {
        XlevPolledFd *p = &g_array_index(self->polled, XlevPolledFd, i);

        if (p->fd == fd)
            return p;
    }
    return NULL;
}

/* Brings the GSource's fds in line with fds[0 .. nfds-1]: adds the new
 * ones, modifies those whose events changed, removes those that are gone.
 * An fd with no events is never added: GLib would still report POLLHUP,
 * POLLERR or POLLNVAL for it and the loop would spin. */
static void
sync_fds(XlevSource *self)
{
    GSource *source = &self->source;

    for (guint i = 0; i < self->polled->len; i++)
        g_array_index(self->polled, XlevPolledFd, i).seen = FALSE;

    for (int i = 0; i < self->nfds; i++) {
        const struct pollfd *pfd = &self->fds[i];
        XlevPolledFd *p;

        self->tags[i] = NULL;
        if (pfd->events == 0)
            continue;

        p = find_polled(self, pfd->fd);
        if (p == NULL) {
            XlevPolledFd added = {
                .fd = pfd->fd,
                .events = pfd->events,
                .seen = TRUE,
                .tag = g_source_add_unix_fd(source, pfd->fd, pfd->events),
            };

            g_array_append_val(self->polled, added);
            self->tags[i] = added.tag;
            continue;
        }
        if (p->events != pfd->events) {
            g_source_modify_unix_fd(source, p->tag, pfd->events);
            p->events = pfd->events;
        }
        p->seen = TRUE;
        self->tags[i] = p->tag;
    }

    for (guint i = self->polled->len; i-- > 0;) {
        XlevPolledFd *p = &g_array_index(self->polled, XlevPolledFd, i);

        if (!p->seen) {
            g_source_remove_unix_fd(source, p->tag);
            g_array_remove_index_fast(self->polled, i);
        }
    }
}

static void
forget_fds(XlevSource *self)
{
    for (guint i = 0; i < self->polled->len; i++)
        g_source_remove_unix_fd(
            &self->source, g_array_index(self->polled, XlevPolledFd, i).tag);
    g_array_set_size(self->polled, 0);
    self->nfds = 0;
}

static gboolean
xlev_source_prepare(GSource *source, gint *timeout_out)
{
    XlevSource *self = (XlevSource *)source;
    g_autoptr(GObject) owner = NULL;
    struct timeval now;
    xlev_ctx *core;
    int nfds, timeout, rc;

    *timeout_out = -1;
    self->deadline_us = -1;
    /* A nested iteration inside our own dispatch, or gone: poll nothing,
     * wake up for nothing. */
    core = xlev_dispatch_is_running(self->dispatch)
               ? NULL
               : xlev_dispatch_hold(self->dispatch, &owner);
    if (core == NULL) {
        forget_fds(self);
        return FALSE;
    }

    if (self->wake_context == NULL) {
        self->wake_context = g_main_context_ref(g_source_get_context(source));
        xlev_ctx_set_wake_callback(core, wake_main_context, self->wake_context);
    }

    xlev_osevent_now(core, &now);
    for (;;) {
        nfds = self->fds_alloc;
        timeout = -1;
        rc = xlev_osevent_beforepoll(core, &nfds, self->fds, &timeout, now);
        if (rc != XLEV_ERROR_BUFFERFULL)
            break;
        /* *nfds is now what the core needs; make room and ask again. */
        self->fds = g_renew(struct pollfd, self->fds, nfds);
        self->tags = g_renew(gpointer, self->tags, nfds);
        self->fds_alloc = nfds;
    }
    if (rc != 0) {
        /* Cannot happen with the arguments above; poll nothing rather
         * than something stale. */
        g_critical("xlev_osevent_beforepoll: %s", xlev_strerror(rc));
        forget_fds(self);
        return FALSE;
    }

    self->nfds = nfds;
    sync_fds(self);

    if (timeout >= 0)
        self->deadline_us = xlev_timeval_to_us(&now) + (gint64)timeout * 1000;
    *timeout_out = timeout;
    return timeout == 0;
}

static gboolean
xlev_source_check(GSource *source)
{
    XlevSource *self = (XlevSource *)source;
    g_autoptr(GObject) owner = NULL;
    struct timeval now;
    xlev_ctx *core;

    /* Nested iteration: prepare removed our fds; not ready either way. */
    if (xlev_dispatch_is_running(self->dispatch))
        return FALSE;

    for (int i = 0; i < self->nfds; i++) {
        if (self->tags[i] != NULL &&
            g_source_query_unix_fd(source, self->tags[i]) != 0)
            return TRUE;
    }

    if (self->deadline_us < 0)
        return FALSE;
    core = xlev_dispatch_hold(self->dispatch, &owner);
    if (core == NULL)
        return FALSE;
    /* The deadline is on the core's clock, so compare with that clock. */
    xlev_osevent_now(core, &now);
    return xlev_timeval_to_us(&now) >= self->deadline_us;
}

static gboolean
xlev_source_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    XlevSource *self = (XlevSource *)source;
    GObject *owner = NULL;
    struct timeval now;
    xlev_ctx *core;
    int rc;

    /* Inside our own dispatch. Rare: a nested prepare removes our fds
     * and a nested check says not ready, but GLib also finds a source
     * ready from its fds' revents, still those of the outer poll if
     * the nested iteration skipped our prepare (a higher-priority
     * source was ready) and then reached our check. */
    if (xlev_dispatch_is_running(self->dispatch))
        return G_SOURCE_CONTINUE;
    core = xlev_dispatch_begin(self->dispatch, &owner);
    if (core == NULL)
        return G_SOURCE_REMOVE; /* the context is gone */

    for (int i = 0; i < self->nfds; i++) {
        self->fds[i].revents =
            self->tags[i] != NULL
                ? (short)g_source_query_unix_fd(source, self->tags[i])
                : 0;
    }

    xlev_osevent_now(core, &now);
    rc = xlev_osevent_afterpoll(core, self->nfds, self->fds, now);
    if (rc != 0) {
        /* Only if something else ran beforepoll on this core since our
         * prepare: two sources driving one context. */
        g_critical("xlev_osevent_afterpoll: %s (is another XlevSource "
                   "driving this context?)",
                   xlev_strerror(rc));
    }

    xlev_dispatch_end(self->dispatch, owner);
    return G_SOURCE_CONTINUE;
}

static void
xlev_source_finalize(GSource *source)
{
    XlevSource *self = (XlevSource *)source;

    if (self->wake_context != NULL) {
        g_autoptr(GObject) owner = NULL;
        xlev_ctx *core = xlev_dispatch_hold(self->dispatch, &owner);

        /* After this no thread calls wake_main_context any more. */
        if (core != NULL)
            xlev_ctx_set_wake_callback(core, NULL, NULL);
        g_main_context_unref(self->wake_context);
    }
    xlev_dispatch_unref(self->dispatch);
    g_free(self->fds);
    g_free(self->tags);
    g_array_unref(self->polled);
}

static GSourceFuncs xlev_source_funcs = {
    .prepare = xlev_source_prepare,
    .check = xlev_source_check,
    .dispatch = xlev_source_dispatch,
    .finalize = xlev_source_finalize,
};

GSource *
xlev_source_new_for_dispatch(XlevDispatch *dispatch)
{
    GSource *source = g_source_new(&xlev_source_funcs, sizeof(XlevSource));
    XlevSource *self = (XlevSource *)source;

    self->dispatch = xlev_dispatch_ref(dispatch);
    self->polled = g_array_new(FALSE, FALSE, sizeof(XlevPolledFd));
    self->deadline_us = -1;
    /* No blocking by GLib during dispatch: see "Nested main loops". */
    g_source_set_can_recurse(source, TRUE);
    g_source_set_static_name(source, "[xlev] XlevSource");
    return source;
}
