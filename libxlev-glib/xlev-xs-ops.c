/* xlev-xs-ops.c: plain xenstore operations on an XlevContext, blocking and
 * asynchronous
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The blocking versions call the core's xlev_xs_* (thread-safe, one round
 * trip to xenstored each, no lock held while waiting), bounded by the
 * context's timeout and ended early by their GCancellable (its fd is the
 * core's cancel fd for the call).
 *
 * The _async versions start no thread: the core sends the request from the
 * calling thread (xlev_xs_*_async) and calls back from the loop, in the
 * context's main context, with the answer; the callback hands the GTask to
 * the dispatch module (an XLEV_ITEM_TASK item whose target is the task),
 * which completes it there. An XlevAsyncOp holds the task until the core's
 * callback, which comes exactly once (with XLEV_ERROR_CANCELLED when the
 * context is freed first). Cancelling completes the task at once with
 * G_IO_ERROR_CANCELLED; the request was sent, and its answer is dropped
 * when it comes (`done` decides, atomically, who completes the task).
 */
#include "xlev-context.h"
#include "xlev-context-private.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"
#include "xlev-xs-call-private.h"

#include <stdlib.h>
#include <string.h>

/**
 * xlev_context_read:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable, checked before the request
 * @error: return location for a #GError
 *
 * Reads the value at @path as text. Blocks for a round trip to xenstored,
 * at most the context's [property@Xlev.Context:timeout]; cancelling
 * @cancellable ends the wait. See [method@Xlev.Context.read_async].
 *
 * xenstore values are bytes: a value that holds a NUL byte (other than
 * one at its very end, taken for a terminator and dropped) or is not
 * UTF-8 fails with %XLEV_ERROR_CODE_INVAL; read those with
 * [method@Xlev.Context.read_bytes].
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *   (%XLEV_ERROR_CODE_NOENT if @path does not exist,
 *   %XLEV_ERROR_CODE_INVAL if it is not a valid path or the value is not
 *   text, %XLEV_ERROR_CODE_TIMED_OUT, %G_IO_ERROR_CANCELLED)
 *
 * Since: 1.0
 */
char *
xlev_context_read(XlevContext *self, const char *path,
                  GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return NULL;
    return xlev_xs_call_read_text(self, 0, path, cancellable, error);
}

/**
 * xlev_context_read_bytes:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads the value at @path as bytes, NUL bytes included. Blocks like
 * [method@Xlev.Context.read].
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *
 * Since: 1.0
 */
GBytes *
xlev_context_read_bytes(XlevContext *self, const char *path,
                        GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return NULL;
    return xlev_xs_call_read_bytes(self, 0, path, cancellable, error);
}

/**
 * xlev_context_write:
 * @self: a context
 * @path: an absolute xenstore path
 * @value: the value to store
 * @cancellable: (nullable): a #GCancellable, checked before the request
 * @error: return location for a #GError
 *
 * Writes @value (without its terminating NUL) at @path, creating the path
 * and its missing parents. Blocks for a round trip to xenstored.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_write(XlevContext *self, const char *path, const char *value,
                   GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return FALSE;
    return xlev_xs_call_write(self, 0, path, value,
                              value != NULL ? strlen(value) : 0, cancellable,
                              error);
}

/**
 * xlev_context_write_bytes:
 * @self: a context
 * @path: an absolute xenstore path
 * @value: the bytes to store, NUL bytes included
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes @value at @path, as [method@Xlev.Context.write] does text.
 * A value longer than xenstore takes (4096 bytes with the path) fails with
 * %XLEV_ERROR_CODE_TOO_BIG.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_write_bytes(XlevContext *self, const char *path, GBytes *value,
                         GCancellable *cancellable, GError **error)
{
    const void *data = NULL;
    gsize len = 0;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return FALSE;
    if (value != NULL) {
        data = g_bytes_get_data(value, &len);
        if (data == NULL)
            data = ""; /* an empty GBytes may have no data */
    }
    return xlev_xs_call_write(self, 0, path, data, len, cancellable, error);
}

/**
 * xlev_context_directory:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable, checked before the request
 * @error: return location for a #GError
 *
 * Lists the children of @path (their names, not their paths). Blocks for a
 * round trip to xenstored.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, possibly
 *   none, or %NULL with @error set
 *
 * Since: 1.0
 */
char **
xlev_context_directory(XlevContext *self, const char *path,
                       GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return NULL;
    return xlev_xs_call_directory(self, 0, path, cancellable, error);
}

/**
 * xlev_context_rm:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable, checked before the request
 * @error: return location for a #GError
 *
 * Removes @path and everything below it. Blocks for a round trip to
 * xenstored.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_rm(XlevContext *self, const char *path,
                GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return FALSE;
    return xlev_xs_call_rm(self, 0, path, cancellable, error);
}

/**
 * xlev_context_exists:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable, checked before the request
 * @error: return location for a #GError
 *
 * Whether @path exists. Blocks for a round trip to xenstored.
 *
 * Returns: %TRUE if it exists; %FALSE if it does not, or with @error set
 *   if that could not be found out
 *
 * Since: 1.0
 */
gboolean
xlev_context_exists(XlevContext *self, const char *path,
                    GCancellable *cancellable, GError **error)
{
    char *value = NULL;
    int rc, fd;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return FALSE;

    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_read(xlev_context_get_core(self), path, &value, NULL);
    xlev_xs_call_end(cancellable, fd);
    free(value);
    if (rc == XLEV_ERROR_NOENT)
        return FALSE;
    if (rc != 0) {
        xlev_xs_call_failed(error, cancellable, rc, _("Cannot look up %s"), path);
        return FALSE;
    }
    return TRUE;
}

/*======================================================================*/
/* Asynchronous versions */

typedef enum {
    XLEV_OP_READ,
    XLEV_OP_READ_BYTES,
    XLEV_OP_WRITE,
    XLEV_OP_DIRECTORY,
    XLEV_OP_RM,
    XLEV_OP_EXISTS,
} XlevOp;

typedef struct {
    GTask *task; /* strong, until the core's callback */
    XlevOp op;
    char *path;
    gulong cancel_id;
    int done; /* atomic: the task was completed (answer or cancel) */
    /* the answer, from the core's callback to the emit */
    int rc;
    char *value;
    unsigned int len;
} XlevAsyncOp;

static void
async_op_free(XlevAsyncOp *o)
{
    g_free(o->path);
    g_free(o->value);
    g_clear_object(&o->task);
    g_free(o);
}

/* The task's result from the answer. In the context's main context. */
static void
async_op_return(XlevAsyncOp *o)
{
    GTask *task = o->task;
    GCancellable *cancellable = g_task_get_cancellable(task);
    GError *error = NULL;

    if (o->cancel_id != 0) {
        g_cancellable_disconnect(cancellable, o->cancel_id);
        o->cancel_id = 0;
    }
    if (!g_atomic_int_compare_and_exchange(&o->done, 0, 1))
        return; /* cancelled: the answer is dropped */

    if (o->op == XLEV_OP_EXISTS && o->rc == XLEV_ERROR_NOENT) {
        g_task_return_boolean(task, FALSE);
        return;
    }
    if (o->rc != 0) {
        xlev_xs_call_failed(&error, cancellable, o->rc,
                 o->op == XLEV_OP_WRITE     ? _("Cannot write %s")
                 : o->op == XLEV_OP_RM      ? _("Cannot remove %s")
                 : o->op == XLEV_OP_EXISTS  ? _("Cannot look up %s")
                 : o->op == XLEV_OP_DIRECTORY ? _("Cannot list %s")
                                              : _("Cannot read %s"),
                 o->path);
        g_task_return_error(task, error);
        return;
    }
    switch (o->op) {
    case XLEV_OP_READ:
        if (!xlev_xs_check_text(o->value, &o->len, o->path, &error)) {
            g_task_return_error(task, error);
            return;
        }
        g_task_return_pointer(task, g_strndup(o->value, o->len), g_free);
        return;
    case XLEV_OP_READ_BYTES:
        g_task_return_pointer(task, g_bytes_new(o->value, o->len),
                              (GDestroyNotify)g_bytes_unref);
        return;
    case XLEV_OP_DIRECTORY: {
        GPtrArray *names = g_ptr_array_new();
        const char *p = o->value, *end = o->value + o->len;

        while (p < end) {
            g_ptr_array_add(names, g_strdup(p));
            p += strlen(p) + 1;
        }
        g_ptr_array_add(names, NULL);
        g_task_return_pointer(task, g_ptr_array_free(names, FALSE),
                              (GDestroyNotify)g_strfreev);
        return;
    }
    default:
        g_task_return_boolean(task, TRUE);
        return;
    }
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

/* The core's callback: in the thread running the context's loop, core lock
 * dropped; or from xlev_ctx_free() (XLEV_ERROR_CANCELLED), when the
 * context went first. */
static void
async_op_answered(xlev_ctx *core, void *user, int rc, const char *value,
                  unsigned int len)
{
    XlevAsyncOp *o = user;
    XlevContext *ctx = g_task_get_source_object(o->task);
    XlevDispatch *dispatch;

    o->rc = rc;
    if (rc == 0 && value != NULL && o->op != XLEV_OP_WRITE &&
        o->op != XLEV_OP_RM && o->op != XLEV_OP_EXISTS) {
        o->value = g_malloc(len + 1);
        memcpy(o->value, value, len);
        o->value[len] = '\0';
        o->len = len;
    }
    dispatch = rc == XLEV_ERROR_CANCELLED ? NULL
                                          : xlev_context_get_dispatch(ctx);
    if (dispatch == NULL || g_atomic_int_get(&o->done)) {
        /* Cancelled already (or the context is going): nothing to
         * deliver. The task's data is freed with the task. */
        if (o->cancel_id != 0)
            g_cancellable_disconnect(g_task_get_cancellable(o->task),
                                     o->cancel_id);
        o->cancel_id = 0;
        if (g_atomic_int_compare_and_exchange(&o->done, 0, 1))
            g_task_return_new_error(o->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                    "%s", _("The context was freed"));
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

static void
op_start(XlevContext *self, XlevOp op, const char *path, const void *value,
         gsize len, GCancellable *cancellable, GAsyncReadyCallback callback,
         gpointer user_data, gpointer source_tag, const char *name)
{
    g_autoptr(GTask) task = NULL;
    xlev_ctx *core = xlev_context_get_core(self);
    GError *error = NULL;
    XlevAsyncOp *o;
    int rc;

    task = g_task_new(self, cancellable, callback, user_data);
    g_task_set_source_tag(task, source_tag);
    g_task_set_name(task, name);

    /* Bad input fails at once. */
    if (!xlev_context_check_ready(self, &error)
        || !xlev_check_path(path, &error)) {
        g_task_return_error(task, error);
        return;
    }
    if (g_task_return_error_if_cancelled(task))
        return;
    if (len > G_MAXUINT) {
        xlev_error_from_core(&error, XLEV_ERROR_TOO_BIG, _("Cannot write %s"),
                             path);
        g_task_return_error(task, error);
        return;
    }

    o = g_new0(XlevAsyncOp, 1);
    o->op = op;
    o->path = g_strdup(path);
    g_task_set_task_data(task, o, (GDestroyNotify)async_op_free);
    o->task = g_object_ref(task);

    switch (op) {
    case XLEV_OP_WRITE:
        rc = xlev_xs_write_async(core, 0, path, value, (unsigned int)len,
                                 async_op_answered, o);
        break;
    case XLEV_OP_DIRECTORY:
        rc = xlev_xs_directory_async(core, 0, path, async_op_answered, o);
        break;
    case XLEV_OP_RM:
        rc = xlev_xs_rm_async(core, 0, path, async_op_answered, o);
        break;
    default:
        rc = xlev_xs_read_async(core, 0, path, async_op_answered, o);
        break;
    }
    if (rc != 0) {
        g_clear_object(&o->task);
        xlev_error_from_core(&error, rc,
                             op == XLEV_OP_WRITE ? _("Cannot write %s")
                             : op == XLEV_OP_RM  ? _("Cannot remove %s")
                                                 : _("Cannot read %s"),
                             path);
        g_task_return_error(task, error);
        return;
    }
    /* Connected after sending: a handler that runs at once (cancelled
     * meanwhile) completes the task; the answer is then dropped. */
    if (cancellable != NULL)
        o->cancel_id = g_cancellable_connect(
            cancellable, G_CALLBACK(async_op_cancelled), o, NULL);
}

static gboolean
op_finish_check(XlevContext *self, GAsyncResult *result, gpointer source_tag)
{
    return XLEV_IS_CONTEXT(self) && g_task_is_valid(result, self) &&
           g_task_get_source_tag(G_TASK(result)) == source_tag;
}

/**
 * xlev_context_read_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the value has been read
 * @user_data: (closure): data for @callback
 *
 * Reads the value at @path. The request is sent now, from the calling
 * thread (no worker thread), and many may be in flight at once: they are
 * pipelined on the context's connection. @callback is called in the
 * thread-default main context of the caller (the answer reaches the task
 * in the context's main context first); finish with
 * [method@Xlev.Context.read_finish]. Cancelling @cancellable completes
 * the task at once with %G_IO_ERROR_CANCELLED: the request was sent (the
 * daemon may still act on it: a write may still happen), and its answer
 * is dropped. There is no timeout: cancel instead.
 *
 * Since: 1.0
 */
void
xlev_context_read_async(XlevContext *self, const char *path,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));

    op_start(self, XLEV_OP_READ, path, NULL, 0, cancellable, callback, user_data,
             xlev_context_read_async, "[xlev] read");
}

/**
 * xlev_context_read_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.read_async].
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
xlev_context_read_finish(XlevContext *self, GAsyncResult *result,
                         GError **error)
{
    g_return_val_if_fail(
        op_finish_check(self, result, xlev_context_read_async), NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * xlev_context_write_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @value: the value to store
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the value has been written
 * @user_data: (closure): data for @callback
 *
 * Writes @value at @path, as [method@Xlev.Context.read_async] reads
 * (a cancelled write was sent and may still happen); finish with
 * [method@Xlev.Context.write_finish].
 *
 * Since: 1.0
 */
void
xlev_context_write_async(XlevContext *self, const char *path,
                         const char *value, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));

    op_start(self, XLEV_OP_WRITE, path, value != NULL ? value : "",
             value != NULL ? strlen(value) : 0, cancellable, callback,
             user_data, xlev_context_write_async, "[xlev] write");
}

/**
 * xlev_context_write_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.write_async].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_write_finish(XlevContext *self, GAsyncResult *result,
                          GError **error)
{
    g_return_val_if_fail(
        op_finish_check(self, result, xlev_context_write_async), FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * xlev_context_directory_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the list is there
 * @user_data: (closure): data for @callback
 *
 * Lists the children of @path as [method@Xlev.Context.read_async] reads; finish with
 * [method@Xlev.Context.directory_finish].
 *
 * Since: 1.0
 */
void
xlev_context_directory_async(XlevContext *self, const char *path,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));

    op_start(self, XLEV_OP_DIRECTORY, path, NULL, 0, cancellable, callback,
             user_data, xlev_context_directory_async, "[xlev] directory");
}

/**
 * xlev_context_directory_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.directory_async].
 *
 * Returns: (transfer full) (array zero-terminated=1): the names of the
 *   children, or %NULL with @error set
 *
 * Since: 1.0
 */
char **
xlev_context_directory_finish(XlevContext *self, GAsyncResult *result,
                              GError **error)
{
    g_return_val_if_fail(
        op_finish_check(self, result, xlev_context_directory_async), NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * xlev_context_rm_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when @path has been removed
 * @user_data: (closure): data for @callback
 *
 * Removes @path and everything below it as [method@Xlev.Context.read_async] reads; finish with
 * [method@Xlev.Context.rm_finish].
 *
 * Since: 1.0
 */
void
xlev_context_rm_async(XlevContext *self, const char *path,
                      GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));

    op_start(self, XLEV_OP_RM, path, NULL, 0, cancellable, callback, user_data,
             xlev_context_rm_async, "[xlev] rm");
}

/**
 * xlev_context_rm_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.rm_async].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_rm_finish(XlevContext *self, GAsyncResult *result,
                       GError **error)
{
    g_return_val_if_fail(op_finish_check(self, result, xlev_context_rm_async),
                         FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * xlev_context_exists_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the answer
 * @user_data: (closure): data for @callback
 *
 * Finds out whether @path exists as [method@Xlev.Context.read_async] reads; finish with
 * [method@Xlev.Context.exists_finish].
 *
 * Since: 1.0
 */
void
xlev_context_exists_async(XlevContext *self, const char *path,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));

    op_start(self, XLEV_OP_EXISTS, path, NULL, 0, cancellable, callback,
             user_data, xlev_context_exists_async, "[xlev] exists");
}

/**
 * xlev_context_exists_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.exists_async].
 *
 * Returns: %TRUE if the path exists; %FALSE if it does not, or with @error
 *   set
 *
 * Since: 1.0
 */
gboolean
xlev_context_exists_finish(XlevContext *self, GAsyncResult *result,
                           GError **error)
{
    g_return_val_if_fail(
        op_finish_check(self, result, xlev_context_exists_async), FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * xlev_context_read_bytes_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the value has been read
 * @user_data: (closure): data for @callback
 *
 * Reads the value at @path as bytes, as [method@Xlev.Context.read_async]
 * reads text; finish with [method@Xlev.Context.read_bytes_finish].
 *
 * Since: 1.0
 */
void
xlev_context_read_bytes_async(XlevContext *self, const char *path,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));

    op_start(self, XLEV_OP_READ_BYTES, path, NULL, 0, cancellable, callback,
             user_data, xlev_context_read_bytes_async, "[xlev] read bytes");
}

/**
 * xlev_context_read_bytes_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.read_bytes_async].
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *
 * Since: 1.0
 */
GBytes *
xlev_context_read_bytes_finish(XlevContext *self, GAsyncResult *result,
                               GError **error)
{
    g_return_val_if_fail(
        op_finish_check(self, result, xlev_context_read_bytes_async), NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * xlev_context_write_bytes_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @value: the bytes to store
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the value has been written
 * @user_data: (closure): data for @callback
 *
 * Writes @value at @path, as [method@Xlev.Context.write_async] writes
 * text; finish with [method@Xlev.Context.write_bytes_finish].
 *
 * Since: 1.0
 */
void
xlev_context_write_bytes_async(XlevContext *self, const char *path,
                               GBytes *value, GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
    gsize len = 0;
    const void *data = value != NULL ? g_bytes_get_data(value, &len) : NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));

    op_start(self, XLEV_OP_WRITE, path, data != NULL ? data : "", len,
             cancellable, callback, user_data, xlev_context_write_bytes_async,
             "[xlev] write bytes");
}

/**
 * xlev_context_write_bytes_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.write_bytes_async].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_write_bytes_finish(XlevContext *self, GAsyncResult *result,
                                GError **error)
{
    g_return_val_if_fail(
        op_finish_check(self, result, xlev_context_write_bytes_async), FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}
