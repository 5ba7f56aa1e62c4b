/* xb-control.c: shutdown, reboot and suspend requests, and their answer
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See xb-control.h for the state machine. Each request has a generation
 * number: a write or read that returns after a newer request for the same
 * domain replaced it finds another generation and changes nothing.
 */
#include "xb-control.h"

#include <glib/gi18n.h>

#include "xb-format.h"

#define CONTROL_PATH_FMT "/local/domain/%u/control/shutdown"

static const char *const modes[] = {"poweroff", "reboot", "suspend"};

typedef struct {
    guint domid;
    guint generation;
    char *mode;
    char *path;
    XbRequestState state;
    XlevWatch *watch;
} Request;

struct _XbControl {
    GObject parent_instance;
    XlevContext *ctx;
    GCancellable *cancellable;
    GHashTable *requests; /* domid -> Request */
    guint next_generation;
};

enum { CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(XbControl, xb_control, G_TYPE_OBJECT)

/* What an async call needs to find its request again. */
typedef struct {
    XbControl *self; /* strong */
    guint domid;
    guint generation;
    GTask *task; /* the caller's, for the write; NULL for reads */
} Pending;

static void
request_free(Request *r)
{
    if (r->watch != NULL) {
        g_signal_handlers_disconnect_matched(r->watch, G_SIGNAL_MATCH_DATA, 0,
                                             0, NULL, NULL, r);
        xlev_watch_cancel(r->watch);
        g_clear_object(&r->watch);
    }
    g_free(r->mode);
    g_free(r->path);
    g_free(r);
}

static Pending *
pending_new(XbControl *self, Request *r, GTask *task)
{
    Pending *p = g_new0(Pending, 1);

    p->self = g_object_ref(self);
    p->domid = r->domid;
    p->generation = r->generation;
    p->task = task;
    return p;
}

/* The request @p was made for, if it is still the current one. */
static Request *
pending_request(Pending *p)
{
    Request *r = g_hash_table_lookup(p->self->requests,
                                     GUINT_TO_POINTER(p->domid));

    return r != NULL && r->generation == p->generation ? r : NULL;
}

static void
pending_free(Pending *p)
{
    g_object_unref(p->self);
    g_free(p);
}

static void
set_state(XbControl *self, Request *r, XbRequestState state)
{
    if (r->state == state)
        return;
    r->state = state;
    if (state == XB_REQUEST_ACKNOWLEDGED || state == XB_REQUEST_FAILED) {
        /* Nothing more to follow. */
        if (r->watch != NULL) {
            g_signal_handlers_disconnect_matched(
                r->watch, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, r);
            xlev_watch_cancel(r->watch);
            g_clear_object(&r->watch);
        }
    }
    g_signal_emit(self, signals[CHANGED], 0, r->domid);
}

static void
read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Pending *p = user_data;
    g_autoptr(GError) error = NULL;
    g_autofree char *value =
        xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);
    Request *r;

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        goto out;
    r = pending_request(p);
    if (r == NULL || r->state != XB_REQUEST_REQUESTED)
        goto out; /* replaced, or the write has not returned yet */
    /* Cleared: the guest took the request. Any other error (the daemon
     * gone) leaves the state as it was; the window hears of it. */
    if (xb_error_is(error, "noent") || (value != NULL && value[0] == '\0'))
        set_state(p->self, r, XB_REQUEST_ACKNOWLEDGED);
out:
    pending_free(p);
}

static void
reread(XbControl *self, Request *r)
{
    xlev_context_read_async(self->ctx, r->path, self->cancellable, read_cb,
                            pending_new(self, r, NULL));
}

static void
watch_cb(XlevWatch *watch, const char *path, gpointer user_data)
{
    Request *r = user_data;
    XbControl *self =
        g_object_get_data(G_OBJECT(watch), "xb-control"); /* transfer none */

    if (self != NULL)
        reread(self, r);
}

static void
write_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Pending *p = user_data;
    g_autoptr(GError) error = NULL;
    Request *r;

    if (!xlev_context_write_finish(XLEV_CONTEXT(source), result, &error)) {
        r = pending_request(p);
        if (r != NULL &&
            !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            set_state(p->self, r, XB_REQUEST_FAILED);
        g_task_return_error(p->task, g_steal_pointer(&error));
    } else {
        r = pending_request(p);
        if (r != NULL) {
            set_state(p->self, r, XB_REQUEST_REQUESTED);
            /* A guest quick enough to answer before this callback ran
             * made the watch fire while the state said SENDING. */
            reread(p->self, r);
        }
        g_task_return_boolean(p->task, TRUE);
    }
    g_object_unref(p->task);
    pending_free(p);
}

gboolean
xb_control_mode_is_valid(const char *mode)
{
    for (guint i = 0; i < G_N_ELEMENTS(modes); i++)
        if (g_strcmp0(mode, modes[i]) == 0)
            return TRUE;
    return FALSE;
}

void
xb_control_request_async(XbControl *self, guint domid, const char *mode,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
    g_autoptr(GError) error = NULL;
    Request *r;

    g_task_set_source_tag(task, xb_control_request_async);
    if (!xb_control_mode_is_valid(mode)) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                /* TRANSLATORS: %s is what was asked for */
                                _("“%s” is not a request a guest knows "
                                  "(poweroff, reboot, suspend)"),
                                mode);
        return;
    }
    r = g_new0(Request, 1);
    r->domid = domid;
    r->generation = ++self->next_generation;
    r->mode = g_strdup(mode);
    r->path = g_strdup_printf(CONTROL_PATH_FMT, domid);
    r->state = XB_REQUEST_SENDING;
    g_hash_table_replace(self->requests, GUINT_TO_POINTER(domid), r);

    /* Watch first, so that no answer comes between the write and the
     * watch. Its initial event is of no interest. */
    r->watch = xlev_context_watch(self->ctx, r->path,
                                  XLEV_WATCH_FLAGS_SKIP_INITIAL, &error);
    if (r->watch == NULL) {
        set_state(self, r, XB_REQUEST_FAILED);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_object_set_data(G_OBJECT(r->watch), "xb-control", self);
    g_signal_connect(r->watch, "changed", G_CALLBACK(watch_cb), r);
    g_signal_emit(self, signals[CHANGED], 0, domid);

    xlev_context_write_async(self->ctx, r->path, mode, self->cancellable,
                             write_cb,
                             pending_new(self, r, g_steal_pointer(&task)));
}

gboolean
xb_control_request_finish(XbControl *self, GAsyncResult *result,
                          GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

XbRequestState
xb_control_get_state(XbControl *self, guint domid, const char **mode)
{
    Request *r = g_hash_table_lookup(self->requests, GUINT_TO_POINTER(domid));

    if (mode != NULL)
        *mode = r != NULL ? r->mode : NULL;
    return r != NULL ? r->state : XB_REQUEST_NONE;
}

static const char *
mode_label(const char *mode)
{
    if (g_str_equal(mode, "poweroff"))
        return _("Shutdown");
    if (g_str_equal(mode, "reboot"))
        return _("Reboot");
    return _("Suspend");
}

char *
xb_control_describe(XbControl *self, guint domid)
{
    const char *mode;

    switch (xb_control_get_state(self, domid, &mode)) {
    case XB_REQUEST_SENDING:
        /* TRANSLATORS: %s is Shutdown, Reboot or Suspend */
        return g_strdup_printf(_("%s: sending…"), mode_label(mode));
    case XB_REQUEST_REQUESTED:
        /* TRANSLATORS: %s is Shutdown, Reboot or Suspend; the guest has
         * not answered yet */
        return g_strdup_printf(_("%s requested"), mode_label(mode));
    case XB_REQUEST_ACKNOWLEDGED:
        /* TRANSLATORS: %s is Shutdown, Reboot or Suspend */
        return g_strdup_printf(_("%s acknowledged by the guest"),
                               mode_label(mode));
    case XB_REQUEST_FAILED:
        /* TRANSLATORS: %s is Shutdown, Reboot or Suspend */
        return g_strdup_printf(_("%s request failed"), mode_label(mode));
    case XB_REQUEST_NONE:
    default:
        return NULL;
    }
}

char *
xb_control_get_state_id(XbControl *self, guint domid)
{
    static const char *const names[] = {
        [XB_REQUEST_NONE] = "none",
        [XB_REQUEST_SENDING] = "sending",
        [XB_REQUEST_REQUESTED] = "requested",
        [XB_REQUEST_ACKNOWLEDGED] = "acknowledged",
        [XB_REQUEST_FAILED] = "failed",
    };
    const char *mode;
    XbRequestState state = xb_control_get_state(self, domid, &mode);

    if (state == XB_REQUEST_NONE)
        return g_strdup("none");
    return g_strconcat(mode, ":", names[state], NULL);
}

void
xb_control_stop(XbControl *self)
{
    g_cancellable_cancel(self->cancellable);
    g_hash_table_remove_all(self->requests);
}

static void
xb_control_dispose(GObject *object)
{
    xb_control_stop(XB_CONTROL(object));
    G_OBJECT_CLASS(xb_control_parent_class)->dispose(object);
}

static void
xb_control_finalize(GObject *object)
{
    XbControl *self = XB_CONTROL(object);

    g_clear_pointer(&self->requests, g_hash_table_unref);
    g_clear_object(&self->cancellable);
    g_clear_object(&self->ctx);
    G_OBJECT_CLASS(xb_control_parent_class)->finalize(object);
}

static void
xb_control_class_init(XbControlClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = xb_control_dispose;
    G_OBJECT_CLASS(klass)->finalize = xb_control_finalize;

    /* XbControl::changed: @domid's request changed state. */
    signals[CHANGED] =
        g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                     NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
xb_control_init(XbControl *self)
{
    self->cancellable = g_cancellable_new();
    self->requests = g_hash_table_new_full(NULL, NULL, NULL,
                                           (GDestroyNotify)request_free);
}

XbControl *
xb_control_new(XlevContext *ctx)
{
    XbControl *self = g_object_new(XB_TYPE_CONTROL, NULL);

    self->ctx = g_object_ref(ctx);
    return self;
}
