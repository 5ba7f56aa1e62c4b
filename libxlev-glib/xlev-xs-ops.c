/* xlev-xs-ops.c: plain xenstore operations on an XlevContext, blocking and
 * asynchronous
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The blocking versions call the core's xlev_xs_* (thread-safe, one round
 * trip to xenstored each). The _async versions run the blocking one in a
 * GTask worker thread, so a GUI's main loop never waits for xenstored; the
 * task returns as soon as its GCancellable is cancelled, and the result the
 * worker may still produce is dropped.
 */
#include "xlev-context.h"
#include "xlev-context-private.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"

#include <stdlib.h>
#include <string.h>

typedef enum {
    XLEV_OP_READ,
    XLEV_OP_WRITE,
    XLEV_OP_DIRECTORY,
    XLEV_OP_RM,
    XLEV_OP_EXISTS,
} XlevOp;

typedef struct {
    XlevOp op;
    char *path;
    char *value; /* write only */
} XlevOpData;

static void
op_data_free(gpointer data)
{
    XlevOpData *d = data;

    g_free(d->path);
    g_free(d->value);
    g_free(d);
}

/* The checks every operation starts with. */
static gboolean
op_begin(const char *path, GCancellable *cancellable, GError **error)
{
    if (!xlev_check_path(path, error))
        return FALSE;
    return !g_cancellable_set_error_if_cancelled(cancellable, error);
}

/**
 * xlev_context_read:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable, checked before the request
 * @error: return location for a #GError
 *
 * Reads the value at @path. Blocks for a round trip to xenstored; see
 * [method@Xlev.Context.read_async].
 *
 * xenstore values are bytes: the string returned ends at the first NUL
 * byte of the value, and is not necessarily UTF-8.
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *   (%XLEV_ERROR_CODE_NOENT if @path does not exist,
 *   %XLEV_ERROR_CODE_INVAL if it is not a valid path)
 *
 * Since: 1.0
 */
char *
xlev_context_read(XlevContext *self, const char *path,
                  GCancellable *cancellable, GError **error)
{
    char *value = NULL;
    unsigned int len = 0;
    char *result;
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!op_begin(path, cancellable, error))
        return NULL;

    rc = xlev_xs_read(xlev_context_get_core(self), path, &value, &len);
    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot read %s"), path);
        return NULL;
    }
    result = g_strndup(value, len);
    free(value);
    return result;
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
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!op_begin(path, cancellable, error))
        return FALSE;
    if (value == NULL) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("No value given to write at %s"), path);
        return FALSE;
    }

    rc = xlev_xs_write(xlev_context_get_core(self), path, value,
                       (unsigned int)strlen(value));
    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot write %s"), path);
        return FALSE;
    }
    return TRUE;
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
    char **entries = NULL;
    unsigned int n = 0;
    char **result;
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!op_begin(path, cancellable, error))
        return NULL;

    rc = xlev_xs_directory(xlev_context_get_core(self), path, &entries, &n);
    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot list %s"), path);
        return NULL;
    }
    result = g_new0(char *, n + 1);
    for (unsigned int i = 0; i < n; i++)
        result[i] = g_strdup(entries[i]);
    free(entries);
    return result;
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
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!op_begin(path, cancellable, error))
        return FALSE;

    rc = xlev_xs_rm(xlev_context_get_core(self), path);
    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot remove %s"), path);
        return FALSE;
    }
    return TRUE;
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
    int rc;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!op_begin(path, cancellable, error))
        return FALSE;

    rc = xlev_xs_read(xlev_context_get_core(self), path, &value, NULL);
    free(value);
    if (rc == XLEV_ERROR_NOENT)
        return FALSE;
    if (rc != 0) {
        xlev_error_from_core(error, rc, _("Cannot look up %s"), path);
        return FALSE;
    }
    return TRUE;
}

/*======================================================================*/
/* Asynchronous versions */

/* In a GTask worker thread. */
static void
op_thread(GTask *task, gpointer source_object, gpointer task_data,
          GCancellable *cancellable)
{
    XlevContext *self = source_object;
    XlevOpData *d = task_data;
    GError *error = NULL;
    gpointer result;
    gboolean ok;

    switch (d->op) {
    case XLEV_OP_READ:
        result = xlev_context_read(self, d->path, cancellable, &error);
        if (result != NULL)
            g_task_return_pointer(task, result, g_free);
        else
            g_task_return_error(task, error);
        return;
    case XLEV_OP_DIRECTORY:
        result = xlev_context_directory(self, d->path, cancellable, &error);
        if (result != NULL)
            g_task_return_pointer(task, result, (GDestroyNotify)g_strfreev);
        else
            g_task_return_error(task, error);
        return;
    case XLEV_OP_WRITE:
        ok = xlev_context_write(self, d->path, d->value, cancellable, &error);
        break;
    case XLEV_OP_RM:
        ok = xlev_context_rm(self, d->path, cancellable, &error);
        break;
    case XLEV_OP_EXISTS:
    default:
        ok = xlev_context_exists(self, d->path, cancellable, &error);
        break;
    }
    if (error != NULL)
        g_task_return_error(task, error);
    else
        g_task_return_boolean(task, ok);
}

static void
op_start(XlevContext *self, XlevOp op, const char *path, const char *value,
         GCancellable *cancellable, GAsyncReadyCallback callback,
         gpointer user_data, gpointer source_tag, const char *name)
{
    g_autoptr(GTask) task = NULL;
    GError *error = NULL;
    XlevOpData *d;

    task = g_task_new(self, cancellable, callback, user_data);
    g_task_set_source_tag(task, source_tag);
    g_task_set_name(task, name);
    g_task_set_return_on_cancel(task, TRUE);

    /* Bad input fails at once, without a thread. */
    if (!xlev_check_path(path, &error)) {
        g_task_return_error(task, error);
        return;
    }
    /* So does a cancellable cancelled already (GLib 2.74 would leak the
     * error it sets when a return-on-cancel task starts cancelled). */
    if (g_task_return_error_if_cancelled(task))
        return;

    d = g_new0(XlevOpData, 1);
    d->op = op;
    d->path = g_strdup(path);
    d->value = g_strdup(value);
    g_task_set_task_data(task, d, op_data_free);
    g_task_run_in_thread(task, op_thread);
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
 * Reads the value at @path in a worker thread. @callback is called in the
 * thread-default main context of the caller; finish with
 * [method@Xlev.Context.read_finish].
 *
 * Since: 1.0
 */
void
xlev_context_read_async(XlevContext *self, const char *path,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_CONTEXT(self));

    op_start(self, XLEV_OP_READ, path, NULL, cancellable, callback, user_data,
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
 * Writes @value at @path in a worker thread; finish with
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

    op_start(self, XLEV_OP_WRITE, path, value, cancellable, callback,
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
 * Lists the children of @path in a worker thread; finish with
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

    op_start(self, XLEV_OP_DIRECTORY, path, NULL, cancellable, callback,
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
 * Removes @path and everything below it in a worker thread; finish with
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

    op_start(self, XLEV_OP_RM, path, NULL, cancellable, callback, user_data,
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
 * Finds out whether @path exists in a worker thread; finish with
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

    op_start(self, XLEV_OP_EXISTS, path, NULL, cancellable, callback,
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
