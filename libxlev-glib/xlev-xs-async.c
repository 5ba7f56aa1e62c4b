/* xlev-xs-async.c: one asynchronous xenstore request of the GObject layer
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * No thread: the core sends the request from the calling thread
 * (xlev_xs_*_async) and calls back from the loop, in the context's main
 * context, with the answer; the callback hands the GTask to the dispatch
 * module (an XLEV_ITEM_TASK item whose target is the task), which
 * completes it there through the caller's return function. An XlevAsyncOp
 * (the task's data) holds the task until the core's callback, which comes
 * exactly once (with XLEV_ERROR_CANCELLED when the context is freed
 * first). Cancelling completes the task at once with G_IO_ERROR_CANCELLED;
 * the request was sent, and its answer is dropped when it comes: `done`
 * decides, atomically, who completes the task. See
 * xlev-xs-async-private.h.
 */
#include "xlev-xs-async-private.h"
#include "xlev-i18n-private.h"

#include <string.h>

typedef struct {
    GTask *task;          /* strong, until the core's callback */
    XlevContext *context; /* kept alive by the task's source object */
    XlevAsyncReturnFunc return_func;
    XlevAsyncKind kind;
    gboolean wants_value; /* READ, DIRECTORY, DOMAIN_PATH */
    gulong cancel_id;
    int done; /* atomic: the task was completed (answer or cancel) */
    XlevAsyncAnswer answer; /* from the core's callback to the emit */
} XlevAsyncOp;

static void
async_op_free(XlevAsyncOp *o)
{
    g_free(o->answer.path);
    g_free(o->answer.value);
    g_free(o->answer.perms);
    g_clear_object(&o->task);
    g_free(o);
}

static void
dropped_start_aborted(xlev_ctx *core, void *user, int rc, const char *value,
                      unsigned int len)
{
    if (rc != 0 && rc != XLEV_ERROR_CANCELLED)
        g_debug("aborting transaction %u after a cancelled start failed: %s",
                GPOINTER_TO_UINT(user), xlev_strerror(rc));
}

/* A cancelled task's answer is dropped; a transaction the daemon opened
 * for it is aborted (nobody else knows its id). */
static void
async_op_drop(XlevAsyncOp *o)
{
    if (o->kind == XLEV_ASYNC_TX_START && o->answer.rc == 0
        && o->answer.tx_id != 0)
        xlev_xs_transaction_end_async(xlev_context_get_core(o->context),
                                      o->answer.tx_id, 0, dropped_start_aborted,
                                      GUINT_TO_POINTER(o->answer.tx_id));
}

/* The task's result from the answer. In the context's main context. */
static void
async_op_return(XlevAsyncOp *o)
{
    if (o->cancel_id != 0) {
        g_cancellable_disconnect(g_task_get_cancellable(o->task), o->cancel_id);
        o->cancel_id = 0;
    }
    if (!g_atomic_int_compare_and_exchange(&o->done, 0, 1)) {
        async_op_drop(o); /* cancelled: the answer is dropped */
        return;
    }
    o->return_func(o->task, &o->answer);
}

/* The dispatch module delivers the item in the context's main context;
 * @target is the task. */
static void
async_op_emit(GObject *target, const XlevItem *item)
{
    XlevAsyncOp *o = g_task_get_task_data(G_TASK(target));

    async_op_return(o);
    /* The task no longer needs us; the reference goes with it. */
    g_clear_object(&o->task);
}

/* Every core callback ends here, the answer stored: in the thread running
 * the context's loop, core lock dropped; or from xlev_ctx_free()
 * (XLEV_ERROR_CANCELLED), when the context went first. */
static void
async_op_answered(XlevAsyncOp *o, int rc)
{
    XlevDispatch *dispatch;

    o->answer.rc = rc;
    dispatch = rc == XLEV_ERROR_CANCELLED
                   ? NULL
                   : xlev_context_get_dispatch(o->context);
    if (dispatch == NULL || g_atomic_int_get(&o->done)) {
        /* Cancelled already (or the context is going): nothing to
         * deliver. The task's data is freed with the task. */
        async_op_drop(o);
        if (o->cancel_id != 0)
            g_cancellable_disconnect(g_task_get_cancellable(o->task),
                                     o->cancel_id);
        o->cancel_id = 0;
        if (g_atomic_int_compare_and_exchange(&o->done, 0, 1)) {
            xlev_i18n_init();
            g_task_return_new_error(o->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                    "%s", _("The context was freed"));
        }
        g_clear_object(&o->task);
        return;
    }
    {
        XlevItem *item = xlev_item_new(G_OBJECT(o->task), async_op_emit,
                                       XLEV_ITEM_TASK, NULL);

        if (xlev_dispatch_is_running(dispatch))
            xlev_dispatch_queue(dispatch, item);
        else
            xlev_dispatch_post(dispatch, item);
    }
}

/* The core's callbacks, one per kind of answer. */
static void
answered_reply(xlev_ctx *core, void *user, int rc, const char *value,
               unsigned int len)
{
    XlevAsyncOp *o = user;

    if (rc == 0 && value != NULL && o->wants_value) {
        o->answer.value = g_malloc(len + 1);
        memcpy(o->answer.value, value, len);
        o->answer.value[len] = '\0';
        o->answer.len = len;
    }
    async_op_answered(o, rc);
}

static void
answered_tx(xlev_ctx *core, void *user, int rc, uint32_t tx_id)
{
    XlevAsyncOp *o = user;

    o->answer.tx_id = tx_id;
    async_op_answered(o, rc);
}

static void
answered_perms(xlev_ctx *core, void *user, int rc, const xlev_xs_perm *perms,
               unsigned int n)
{
    XlevAsyncOp *o = user;

    if (rc == 0 && n > 0) {
        o->answer.perms = g_memdup2(perms, (gsize)n * sizeof(*perms));
        o->answer.n_perms = n;
    }
    async_op_answered(o, rc);
}

/* The GCancellable was cancelled (any thread): the task completes now. */
static void
async_op_cancelled(GCancellable *cancellable, gpointer data)
{
    XlevAsyncOp *o = data;
    GError *error = NULL;

    if (!g_atomic_int_compare_and_exchange(&o->done, 0, 1))
        return;
    g_cancellable_set_error_if_cancelled(cancellable, &error);
    g_task_return_error(o->task, error);
}

/* The core's asynchronous call for @r; its rc (0: the callback will
 * come). */
static int
send_request(xlev_ctx *core, const XlevAsyncRequest *r, XlevAsyncOp *o)
{
    if (r->kind == XLEV_ASYNC_WRITE && r->len > G_MAXUINT)
        return XLEV_ERROR_TOO_BIG;
    switch (r->kind) {
    case XLEV_ASYNC_READ:
        return xlev_xs_read_async(core, r->tx_id, r->path, answered_reply, o);
    case XLEV_ASYNC_WRITE:
        return xlev_xs_write_async(core, r->tx_id, r->path, r->value,
                                   (unsigned int)r->len, answered_reply, o);
    case XLEV_ASYNC_DIRECTORY:
        return xlev_xs_directory_async(core, r->tx_id, r->path, answered_reply,
                                       o);
    case XLEV_ASYNC_RM:
        return xlev_xs_rm_async(core, r->tx_id, r->path, answered_reply, o);
    case XLEV_ASYNC_MKDIR:
        return xlev_xs_mkdir_async(core, r->tx_id, r->path, answered_reply, o);
    case XLEV_ASYNC_GET_PERMS:
        return xlev_xs_get_perms_async(core, r->tx_id, r->path, answered_perms,
                                       o);
    case XLEV_ASYNC_SET_PERMS:
        return xlev_xs_set_perms_async(core, r->tx_id, r->path, r->perms,
                                       r->n_perms, answered_reply, o);
    case XLEV_ASYNC_DOMAIN_PATH:
        return xlev_xs_get_domain_path_async(core, r->domid, answered_reply, o);
    case XLEV_ASYNC_TX_START:
        return xlev_xs_transaction_start_async(core, answered_tx, o);
    case XLEV_ASYNC_TX_END:
        return xlev_xs_transaction_end_async(core, r->tx_id, r->commit,
                                             answered_reply, o);
    }
    return XLEV_ERROR_INVAL;
}

void
xlev_xs_async_send(XlevContext *context, GTask *task,
                   const XlevAsyncRequest *request,
                   XlevAsyncReturnFunc return_func)
{
    GCancellable *cancellable = g_task_get_cancellable(task);
    XlevAsyncOp *o;
    int rc;

    if (g_task_return_error_if_cancelled(task))
        return;

    o = g_new0(XlevAsyncOp, 1);
    o->context = context;
    o->return_func = return_func;
    o->kind = request->kind;
    o->wants_value = request->kind == XLEV_ASYNC_READ
                     || request->kind == XLEV_ASYNC_DIRECTORY
                     || request->kind == XLEV_ASYNC_DOMAIN_PATH;
    o->answer.path = g_strdup(request->path);
    o->answer.domid = request->domid;
    g_task_set_task_data(task, o, (GDestroyNotify)async_op_free);
    o->task = g_object_ref(task);

    /* Connected before sending, so that the answer, which may come at
     * once in another thread, finds cancel_id set. A handler that runs
     * here (cancelled meanwhile) completes the task: nothing is sent. */
    if (cancellable != NULL)
        o->cancel_id = g_cancellable_connect(
            cancellable, G_CALLBACK(async_op_cancelled), o, NULL);
    if (g_atomic_int_get(&o->done))
        rc = XLEV_ERROR_CANCELLED;
    else
        rc = send_request(xlev_context_get_core(context), request, o);
    if (rc == 0)
        return; /* @o belongs to the core's callback now */

    /* Not sent: no callback will come. */
    if (o->cancel_id != 0)
        g_cancellable_disconnect(cancellable, o->cancel_id);
    o->cancel_id = 0;
    g_clear_object(&o->task);
    if (g_atomic_int_compare_and_exchange(&o->done, 0, 1)) {
        o->answer.rc = rc;
        return_func(task, &o->answer);
    }
}
