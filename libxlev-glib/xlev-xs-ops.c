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
 * The _async versions start no thread: xlev-xs-async.c sends the request
 * from the calling thread (the core's xlev_xs_*_async) and completes the
 * GTask in the context's main context with the answer, through the return
 * functions here. Cancelling completes the task at once with
 * G_IO_ERROR_CANCELLED; the request was sent, and its answer is dropped
 * when it comes (see xlev-xs-async-private.h).
 */
#include "xlev-context.h"
#include "xlev-context-private.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"
#include "xlev-xs-async-private.h"
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
/* Asynchronous versions: xlev-xs-async.c sends; these complete the task. */

static void
return_text(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc != 0) {
        xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                            _("Cannot read %s"), a->path);
        g_task_return_error(task, error);
    } else if (!xlev_xs_check_text(a->value, &a->len, a->path, &error)) {
        g_task_return_error(task, error);
    } else {
        g_task_return_pointer(task, g_strndup(a->value, a->len), g_free);
    }
}

static void
return_bytes(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc != 0) {
        xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                            _("Cannot read %s"), a->path);
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, g_bytes_new(a->value, a->len),
                          (GDestroyNotify)g_bytes_unref);
}

static void
return_directory(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;
    GPtrArray *names;
    const char *p, *end;

    if (a->rc != 0) {
        xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                            _("Cannot list %s"), a->path);
        g_task_return_error(task, error);
        return;
    }
    names = g_ptr_array_new();
    for (p = a->value, end = a->value + a->len; p < end; p += strlen(p) + 1)
        g_ptr_array_add(names, g_strdup(p));
    g_ptr_array_add(names, NULL);
    g_task_return_pointer(task, g_ptr_array_free(names, FALSE),
                          (GDestroyNotify)g_strfreev);
}

static void
return_exists(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc == 0 || a->rc == XLEV_ERROR_NOENT) {
        g_task_return_boolean(task, a->rc == 0);
        return;
    }
    xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                        _("Cannot look up %s"), a->path);
    g_task_return_error(task, error);
}

/* TRUE, or the error of a write or rm. */
static void
return_done(GTask *task, XlevAsyncAnswer *a, const char *what_format)
{
    GError *error = NULL;

    if (a->rc == 0) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                        what_format, a->path);
    g_task_return_error(task, error);
}

static void
return_written(GTask *task, XlevAsyncAnswer *a)
{
    return_done(task, a, _("Cannot write %s"));
}

static void
return_removed(GTask *task, XlevAsyncAnswer *a)
{
    return_done(task, a, _("Cannot remove %s"));
}

static void
op_start(XlevContext *self, XlevAsyncKind kind, XlevAsyncReturnFunc ret,
         const char *path, const void *value, gsize len,
         GCancellable *cancellable, GAsyncReadyCallback callback,
         gpointer user_data, gpointer source_tag, const char *name)
{
    g_autoptr(GTask) task = NULL;
    GError *error = NULL;
    XlevAsyncRequest request = {
        .kind = kind, .path = path, .value = value, .len = len};

    task = g_task_new(self, cancellable, callback, user_data);
    g_task_set_source_tag(task, source_tag);
    g_task_set_name(task, name);

    /* Bad input fails at once. */
    if (!xlev_context_check_ready(self, &error)
        || !xlev_check_path(path, &error)) {
        g_task_return_error(task, error);
        return;
    }
    xlev_xs_async_send(self, task, &request, ret);
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

    op_start(self, XLEV_ASYNC_READ, return_text, path, NULL, 0, cancellable, callback, user_data,
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

    op_start(self, XLEV_ASYNC_WRITE, return_written, path, value != NULL ? value : "",
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

    op_start(self, XLEV_ASYNC_DIRECTORY, return_directory, path, NULL, 0, cancellable, callback,
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

    op_start(self, XLEV_ASYNC_RM, return_removed, path, NULL, 0, cancellable, callback, user_data,
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

    op_start(self, XLEV_ASYNC_READ, return_exists, path, NULL, 0, cancellable, callback,
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

    op_start(self, XLEV_ASYNC_READ, return_bytes, path, NULL, 0, cancellable, callback,
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

    op_start(self, XLEV_ASYNC_WRITE, return_written, path, data != NULL ? data : "", len,
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
