/* xlev-transaction.c: xenstore transactions on an XlevContext
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * A transaction is a tx_id on the context's connection
 * (xlev_xs_transaction_start()) and the context it belongs to (a strong
 * reference: the connection must outlive the transaction). Its states:
 *
 *   Active --commit/abort--> Finished
 *
 * `finished` moves once, atomically (the first commit or abort wins; the
 * loser and every later call fail with INVAL). `first_error` keeps a copy
 * of the first failed call's error, under `lock`, for xlev_context_transact()
 * to report when the caller's function declines to commit.
 *
 * The blocking calls are the core's (one round trip each, no lock held
 * while waiting). The _async calls start no thread: they go through
 * xlev-xs-async.c, on the core's asynchronous requests (start and end
 * included), and complete their GTask in the context's main context.
 * An _async commit or abort moves `finished` when it is sent, as the
 * blocking one does.
 */
#include "xlev-transaction.h"
#include "xlev-permission.h"
#include "xlev-xs-async-private.h"
#include "xlev-xs-call-private.h"

#include <stdlib.h>

struct _XlevTransaction {
    GObject parent_instance;

    XlevContext *context; /* strong */
    guint32 tx_id;        /* never 0 */
    int finished;         /* atomic: 0 active, 1 committed or aborted */

    GMutex lock; /* protects first_error */
    GError *first_error;
};

G_DEFINE_FINAL_TYPE(XlevTransaction, xlev_transaction, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_CONTEXT,
    PROP_ID,
    N_PROPS,
};

static GParamSpec *properties[N_PROPS];

/* The answer to the abort of a transaction dropped unfinished: nobody
 * waits for it. From the loop, or from xlev_ctx_free() (CANCELLED). */
static void
dropped_abort_answered(xlev_ctx *core, void *user, int rc, const char *value,
                       unsigned int len)
{
    if (rc != 0 && rc != XLEV_ERROR_CANCELLED)
        g_debug("aborting transaction %u on dispose failed: %s",
                GPOINTER_TO_UINT(user), xlev_strerror(rc));
}

static void
xlev_transaction_dispose(GObject *object)
{
    XlevTransaction *self = XLEV_TRANSACTION(object);

    /* Dropped unfinished: give the daemon its transaction back, without
     * waiting for its answer (dropping a reference never blocks). */
    if (self->context != NULL
        && g_atomic_int_compare_and_exchange(&self->finished, 0, 1)) {
        int rc = xlev_xs_transaction_end_async(
            xlev_context_get_core(self->context), self->tx_id, 0,
            dropped_abort_answered, GUINT_TO_POINTER(self->tx_id));

        if (rc != 0)
            g_debug("aborting transaction %u on dispose failed: %s",
                    self->tx_id, xlev_strerror(rc));
    }
    g_clear_object(&self->context);

    G_OBJECT_CLASS(xlev_transaction_parent_class)->dispose(object);
}

static void
xlev_transaction_finalize(GObject *object)
{
    XlevTransaction *self = XLEV_TRANSACTION(object);

    g_clear_error(&self->first_error);
    g_mutex_clear(&self->lock);

    G_OBJECT_CLASS(xlev_transaction_parent_class)->finalize(object);
}

static void
xlev_transaction_get_property(GObject *object, guint prop_id, GValue *value,
                              GParamSpec *pspec)
{
    XlevTransaction *self = XLEV_TRANSACTION(object);

    switch (prop_id) {
    case PROP_CONTEXT:
        g_value_set_object(value, self->context);
        break;
    case PROP_ID:
        g_value_set_uint(value, self->tx_id);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

static void
xlev_transaction_class_init(XlevTransactionClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = xlev_transaction_dispose;
    object_class->finalize = xlev_transaction_finalize;
    object_class->get_property = xlev_transaction_get_property;

    /**
     * XlevTransaction:context:
     *
     * The context whose connection the transaction is on.
     *
     * Since: 1.0
     */
    properties[PROP_CONTEXT]
        = g_param_spec_object("context", NULL, NULL, XLEV_TYPE_CONTEXT,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    /**
     * XlevTransaction:id:
     *
     * The context's number for the transaction (never 0; not the
     * daemon's, which a restarted daemon hands out again).
     *
     * Since: 1.0
     */
    properties[PROP_ID]
        = g_param_spec_uint("id", NULL, NULL, 0, G_MAXUINT32, 0,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void
xlev_transaction_init(XlevTransaction *self)
{
    g_mutex_init(&self->lock);
}

/**
 * XlevTransaction:
 *
 * A xenstore transaction: reads and writes that take effect together, or
 * not at all, when it is committed.
 *
 * Make one with [method@Xlev.Context.transaction_start], act through it,
 * then [method@Xlev.Transaction.commit] or [method@Xlev.Transaction.abort]
 * it. A commit fails with %XLEV_ERROR_CODE_AGAIN when another change got
 * in the way: nothing was written, and the whole transaction must be done
 * again from the start. A transaction whose context lost its connection
 * to xenstored stays dead, also once the context has reconnected (see
 * [property@Xlev.Context:reconnect]): its operations and its commit fail
 * with %XLEV_ERROR_CODE_XENSTORE and nothing is sent; start another.
 * [method@Xlev.Context.transact] runs a function
 * of yours in a transaction and retries it on a conflict; most code
 * wants that. In C:
 *
 * ```c
 * static gboolean
 * increment (XlevTransaction *tx, gpointer user_data)
 * {
 *   g_autofree char *value = xlev_transaction_read (tx, "/counter", NULL,
 * NULL); g_autofree char *next = g_strdup_printf ("%d", value ? atoi (value) +
 * 1 : 1);
 *
 *   return xlev_transaction_write (tx, "/counter", next, NULL, NULL);
 * }
 *
 * if (!xlev_context_transact (ctx, XLEV_TRANSACT_DEFAULT_ATTEMPTS, NULL,
 *                             increment, NULL, &error))
 *   g_printerr ("%s\n", error->message);
 * ```
 *
 * In Python (an exception the function raises ends the attempts and
 * comes out of `transact`):
 *
 * ```python
 * def increment(tx):
 *     try:
 *         value = int(tx.read("/counter", None))
 *     except GLib.Error:
 *         value = 0
 *     tx.write("/counter", str(value + 1), None)
 *     return True
 *
 * ctx.transact(increment)  # up to Xlev.TRANSACT_DEFAULT_ATTEMPTS times
 * ```
 *
 * A transaction holds a reference to its context. Its calls may be made
 * from any thread. The _async ones start no thread: the request is sent
 * from the calling thread, its answer completes the task in the context's
 * main context, and the callback runs in the caller's thread-default main
 * context. Cancelling an _async call completes it at once with
 * %G_IO_ERROR_CANCELLED, but the request was sent: the daemon may still
 * act on it (a cancelled commit may still commit; the transaction is
 * finished either way), and its answer is dropped. It has no signals.
 *
 * Since: 1.0
 */

/* The error a call on a finished transaction fails with. */
static gboolean
check_active(XlevTransaction *self, GError **error)
{
    if (!g_atomic_int_get(&self->finished))
        return TRUE;
    xlev_i18n_init();
    g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                _("Transaction %u was already committed or aborted: start "
                  "a new one"),
                self->tx_id);
    return FALSE;
}

static gboolean
call_begin(XlevTransaction *self, const char *path, GCancellable *cancellable,
           GError **error)
{
    if (!check_active(self, error))
        return FALSE;
    if (path != NULL && !xlev_check_path(path, error))
        return FALSE;
    return !g_cancellable_set_error_if_cancelled(cancellable, error);
}

/* Keeps the first failure for xlev_context_transact(). */
static void
remember_error(XlevTransaction *self, const GError *error)
{
    if (error == NULL)
        return;
    g_mutex_lock(&self->lock);
    if (self->first_error == NULL)
        self->first_error = g_error_copy(error);
    g_mutex_unlock(&self->lock);
}

/* A call's outcome: a failure (@local) goes to @error and is remembered
 * for xlev_context_transact(). */
static void
outcome(XlevTransaction *self, GError *local, GError **error)
{
    if (local == NULL)
        return;
    remember_error(self, local);
    g_propagate_error(error, local);
}

static xlev_ctx *
core_of(XlevTransaction *self)
{
    return xlev_context_get_core(self->context);
}

/* The transaction from its id, once the daemon opened it. */
static XlevTransaction *
transaction_new(XlevContext *context, guint32 tx_id)
{
    XlevTransaction *tx = g_object_new(XLEV_TYPE_TRANSACTION, NULL);

    tx->context = g_object_ref(context);
    tx->tx_id = tx_id;
    return tx;
}

/**
 * xlev_context_transaction_start:
 * @self: a context
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Starts a transaction on the context's connection. Blocks for a round
 * trip to xenstored.
 *
 * Returns: (transfer full): the transaction, or %NULL with @error set
 *   (%XLEV_ERROR_CODE_QUOTA or %XLEV_ERROR_CODE_TOO_BIG when the
 *   connection has too many open)
 *
 * Since: 1.0
 */
XlevTransaction *
xlev_context_transaction_start(XlevContext *self, GCancellable *cancellable,
                               GError **error)
{
    uint32_t tx_id = 0;
    int rc, fd;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_context_check_ready(self, error)
        || g_cancellable_set_error_if_cancelled(cancellable, error))
        return NULL;
    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_transaction_start(xlev_context_get_core(self), &tx_id);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        xlev_xs_call_error(error, cancellable, rc,
                           _("Cannot start a transaction"));
        return NULL;
    }
    return transaction_new(self, tx_id);
}

static void
return_started(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc != 0) {
        xlev_xs_call_error(&error, g_task_get_cancellable(task), a->rc,
                           _("Cannot start a transaction"));
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task,
                          transaction_new(g_task_get_source_object(task),
                                          a->tx_id),
                          g_object_unref);
}

/**
 * xlev_context_transaction_start_async:
 * @self: a context
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the transaction has started
 * @user_data: (closure): data for @callback
 *
 * Starts a transaction without blocking the caller: the request is sent
 * now, from the calling thread (no worker thread), and the answer
 * completes the task in the context's main context; @callback is called
 * in the thread-default main context of the caller. Finish with
 * [method@Xlev.Context.transaction_start_finish].
 *
 * Cancelling @cancellable completes the task at once with
 * %G_IO_ERROR_CANCELLED. The request was sent: the daemon may still open
 * the transaction; its answer is dropped when it comes, and that
 * transaction aborted then.
 *
 * Since: 1.0
 */
void
xlev_context_transaction_start_async(XlevContext *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    XlevAsyncRequest request = {.kind = XLEV_ASYNC_TX_START};
    GError *error = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));

    task = g_task_new(self, cancellable, callback, user_data);
    g_task_set_source_tag(task, xlev_context_transaction_start_async);
    g_task_set_name(task, "[xlev] transaction start");
    if (!xlev_context_check_ready(self, &error)) {
        g_task_return_error(task, error);
        return;
    }
    xlev_xs_async_send(self, task, &request, return_started);
}

/**
 * xlev_context_transaction_start_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.transaction_start_async].
 *
 * Returns: (transfer full): the transaction, or %NULL with @error set
 *
 * Since: 1.0
 */
XlevTransaction *
xlev_context_transaction_start_finish(XlevContext *self, GAsyncResult *result,
                                      GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    g_return_val_if_fail(g_task_get_source_tag(G_TASK(result))
                             == xlev_context_transaction_start_async,
                         NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * xlev_transaction_get_context:
 * @self: a transaction
 *
 * The context the transaction is on.
 *
 * Returns: (transfer none): the context
 *
 * Since: 1.0
 */
XlevContext *
xlev_transaction_get_context(XlevTransaction *self)
{
    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), NULL);

    return self->context;
}

/**
 * xlev_transaction_get_id:
 * @self: a transaction
 *
 * The context's number for the transaction: never 0, never given to
 * another transaction of the same context (the daemon's own number is
 * kept inside: a restarted daemon hands its numbers out again).
 *
 * Returns: the id, never 0
 *
 * Since: 1.0
 */
guint
xlev_transaction_get_id(XlevTransaction *self)
{
    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), 0);

    return self->tx_id;
}

/**
 * xlev_transaction_is_finished:
 * @self: a transaction
 *
 * Whether the transaction was committed or aborted (successfully or
 * not): no call on it works any more.
 *
 * Returns: %TRUE once finished
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_is_finished(XlevTransaction *self)
{
    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), TRUE);

    return g_atomic_int_get(&self->finished) != 0;
}

/**
 * xlev_transaction_read:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads the value at @path as text, as the transaction sees it: as
 * [method@Xlev.Context.read] does (a value that is not UTF-8 text fails
 * with %XLEV_ERROR_CODE_INVAL: read it with
 * [method@Xlev.Transaction.read_bytes]).
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
xlev_transaction_read(XlevTransaction *self, const char *path,
                      GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    char *result;

    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!call_begin(self, path, cancellable, error))
        return NULL;
    result = xlev_xs_call_read_text(self->context, self->tx_id, path,
                                    cancellable, &local);
    outcome(self, local, error);
    return result;
}

/**
 * xlev_transaction_read_bytes:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads the value at @path as bytes, as the transaction sees it.
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *
 * Since: 1.0
 */
GBytes *
xlev_transaction_read_bytes(XlevTransaction *self, const char *path,
                            GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    GBytes *result;

    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!call_begin(self, path, cancellable, error))
        return NULL;
    result = xlev_xs_call_read_bytes(self->context, self->tx_id, path,
                                     cancellable, &local);
    outcome(self, local, error);
    return result;
}

static gboolean
write_raw(XlevTransaction *self, const char *path, const void *data, gsize len,
          GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    gboolean ok;

    if (!call_begin(self, path, cancellable, error))
        return FALSE;
    ok = xlev_xs_call_write(self->context, self->tx_id, path, data, len,
                            cancellable, &local);
    outcome(self, local, error);
    return ok;
}

/**
 * xlev_transaction_write:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @value: the value to store
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes @value (without its terminating NUL) at @path in the
 * transaction, creating missing parents, as [method@Xlev.Context.write].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_write(XlevTransaction *self, const char *path,
                       const char *value, GCancellable *cancellable,
                       GError **error)
{
    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    return write_raw(self, path, value, value != NULL ? strlen(value) : 0,
                     cancellable, error);
}

/**
 * xlev_transaction_write_bytes:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @value: the bytes to store, NUL bytes included
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes @value at @path in the transaction, as
 * [method@Xlev.Context.write_bytes].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_write_bytes(XlevTransaction *self, const char *path,
                             GBytes *value, GCancellable *cancellable,
                             GError **error)
{
    gsize len = 0;
    const void *data = NULL;

    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (value != NULL) {
        data = g_bytes_get_data(value, &len);
        if (data == NULL)
            data = "";
    }
    return write_raw(self, path, data, len, cancellable, error);
}

/**
 * xlev_transaction_rm:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Removes @path and everything below it in the transaction.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_rm(XlevTransaction *self, const char *path,
                    GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!call_begin(self, path, cancellable, error))
        return FALSE;
    ok = xlev_xs_call_rm(self->context, self->tx_id, path, cancellable, &local);
    outcome(self, local, error);
    return ok;
}

/**
 * xlev_transaction_directory:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Lists the children of @path as the transaction sees them.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, possibly
 *   none, or %NULL with @error set
 *
 * Since: 1.0
 */
char **
xlev_transaction_directory(XlevTransaction *self, const char *path,
                           GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    char **result;

    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!call_begin(self, path, cancellable, error))
        return NULL;
    result = xlev_xs_call_directory(self->context, self->tx_id, path,
                                    cancellable, &local);
    outcome(self, local, error);
    return result;
}

/**
 * xlev_transaction_mkdir:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes the node @path and its missing parents in the transaction, as
 * [method@Xlev.Context.mkdir].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_mkdir(XlevTransaction *self, const char *path,
                       GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!call_begin(self, path, cancellable, error))
        return FALSE;
    ok = xlev_xs_call_mkdir(self->context, self->tx_id, path, cancellable,
                            &local);
    outcome(self, local, error);
    return ok;
}

/**
 * xlev_transaction_get_permissions:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads the permissions of @path as the transaction sees them, as
 * [method@Xlev.Context.get_permissions].
 *
 * Returns: (transfer full) (element-type XlevPermission): the list, owner
 *   first, or %NULL with @error set; free it with
 *   `g_list_free_full (list, (GDestroyNotify) xlev_permission_free)`
 *
 * Since: 1.0
 */
GList *
xlev_transaction_get_permissions(XlevTransaction *self, const char *path,
                                 GCancellable *cancellable, GError **error)
{
    GError *local = NULL;
    GList *result;

    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!call_begin(self, path, cancellable, error))
        return NULL;
    result = xlev_permissions_call_get(self->context, self->tx_id, path,
                                          cancellable, &local);
    outcome(self, local, error);
    return result;
}

/**
 * xlev_transaction_set_permissions:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @permissions: (element-type XlevPermission) (transfer none): the new
 *   list, owner first
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Replaces the permissions of @path in the transaction, as
 * [method@Xlev.Context.set_permissions] (a bad list is refused before
 * anything is sent).
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_set_permissions(XlevTransaction *self, const char *path,
                                 GList *permissions, GCancellable *cancellable,
                                 GError **error)
{
    GError *local = NULL;
    gboolean ok;

    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!call_begin(self, path, cancellable, error))
        return FALSE;
    ok = xlev_permissions_call_set(self->context, self->tx_id, path,
                                      permissions, cancellable, &local);
    outcome(self, local, error);
    return ok;
}

/* Ends the transaction (commit or abort): the first end wins. */
static gboolean
end(XlevTransaction *self, gboolean commit, GCancellable *cancellable,
    GError **error)
{
    int rc, fd;

    if (g_cancellable_set_error_if_cancelled(cancellable, error))
        return FALSE;
    if (!g_atomic_int_compare_and_exchange(&self->finished, 0, 1))
        return check_active(self, error);
    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_transaction_end(core_of(self), self->tx_id, commit);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        g_autofree char *what
            = g_strdup_printf(commit ? _("Cannot commit transaction %u")
                                     : _("Cannot abort transaction %u"),
                              self->tx_id);

        xlev_xs_call_error(error, cancellable, rc, what);
        return FALSE;
    }
    return TRUE;
}

/**
 * xlev_transaction_commit:
 * @self: a transaction
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes the transaction's changes visible, all at once. Blocks for a
 * round trip to xenstored. Whatever the outcome, the transaction is
 * finished afterwards.
 *
 * Returns: %TRUE if the changes were made; %FALSE with @error set
 *   otherwise: %XLEV_ERROR_CODE_AGAIN when another change conflicted
 *   (nothing was written: do the whole transaction again),
 *   %XLEV_ERROR_CODE_INVAL when it was already committed or aborted
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_commit(XlevTransaction *self, GCancellable *cancellable,
                        GError **error)
{
    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    return end(self, TRUE, cancellable, error);
}

/**
 * xlev_transaction_abort:
 * @self: a transaction
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Drops the transaction's changes. Blocks for a round trip to xenstored.
 * The transaction is finished afterwards.
 *
 * Returns: %TRUE, or %FALSE with @error set (%XLEV_ERROR_CODE_INVAL when
 *   it was already committed or aborted)
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_abort(XlevTransaction *self, GCancellable *cancellable,
                       GError **error)
{
    g_return_val_if_fail(XLEV_IS_TRANSACTION(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    return end(self, FALSE, cancellable, error);
}

/*======================================================================*/
/* Asynchronous versions: xlev-xs-async.c sends the request (no thread),
 * these complete the task in the context's main context. Each task's
 * source object is the transaction, which holds the context. */

/* A failed call's error: to the task, and remembered for
 * xlev_context_transact() as a blocking call's would be. */
static void
return_failed(GTask *task, GError *error)
{
    remember_error(g_task_get_source_object(task), error);
    g_task_return_error(task, error);
}

static void
return_read(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc != 0)
        xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                            _("Cannot read %s"), a->path);
    else if (xlev_xs_check_text(a->value, &a->len, a->path, &error))
        g_task_return_pointer(task, g_strndup(a->value, a->len), g_free);
    if (error != NULL)
        return_failed(task, error);
}

static void
return_written(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc == 0) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                        _("Cannot write %s"), a->path);
    return_failed(task, error);
}

static void
return_ended(GTask *task, XlevAsyncAnswer *a, const char *what_format)
{
    XlevTransaction *self = g_task_get_source_object(task);
    g_autofree char *what = NULL;
    GError *error = NULL;

    if (a->rc == 0) {
        g_task_return_boolean(task, TRUE);
        return;
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    what = g_strdup_printf(what_format, self->tx_id);
#pragma GCC diagnostic pop
    xlev_xs_call_error(&error, g_task_get_cancellable(task), a->rc, what);
    g_task_return_error(task, error);
}

static void
return_committed(GTask *task, XlevAsyncAnswer *a)
{
    return_ended(task, a, _("Cannot commit transaction %u"));
}

static void
return_aborted(GTask *task, XlevAsyncAnswer *a)
{
    return_ended(task, a, _("Cannot abort transaction %u"));
}

static GTask *
tx_task_new(XlevTransaction *self, GCancellable *cancellable,
            GAsyncReadyCallback callback, gpointer user_data,
            gpointer source_tag, const char *name)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);

    g_task_set_source_tag(task, source_tag);
    g_task_set_name(task, name);
    return task;
}

/* A read or write in the transaction: checked as the blocking call is. */
static void
tx_path_async(XlevTransaction *self, XlevAsyncRequest *request,
              XlevAsyncReturnFunc ret, GCancellable *cancellable,
              GAsyncReadyCallback callback, gpointer user_data,
              gpointer source_tag, const char *name)
{
    g_autoptr(GTask) task = tx_task_new(self, cancellable, callback,
                                        user_data, source_tag, name);
    GError *error = NULL;

    if (!call_begin(self, request->path, cancellable, &error)) {
        g_task_return_error(task, error);
        return;
    }
    if (request->kind == XLEV_ASYNC_WRITE && request->value == NULL) {
        g_set_error(&error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("No value given to write at %s"), request->path);
        return_failed(task, error);
        return;
    }
    request->tx_id = self->tx_id;
    xlev_xs_async_send(self->context, task, request, ret);
}

/* Commit or abort: the first end wins, as with the blocking calls. */
static void
tx_end_async(XlevTransaction *self, gboolean commit,
             GCancellable *cancellable, GAsyncReadyCallback callback,
             gpointer user_data, gpointer source_tag, const char *name)
{
    g_autoptr(GTask) task = tx_task_new(self, cancellable, callback,
                                        user_data, source_tag, name);
    XlevAsyncRequest request = {
        .kind = XLEV_ASYNC_TX_END, .tx_id = self->tx_id, .commit = commit};
    GError *error = NULL;

    if (g_cancellable_set_error_if_cancelled(cancellable, &error)
        || (!g_atomic_int_compare_and_exchange(&self->finished, 0, 1)
            && !check_active(self, &error))) {
        g_task_return_error(task, error);
        return;
    }
    xlev_xs_async_send(self->context, task, &request,
                       commit ? return_committed : return_aborted);
}

static gboolean
tx_finish_check(XlevTransaction *self, GAsyncResult *result,
                gpointer source_tag)
{
    return XLEV_IS_TRANSACTION(self) && g_task_is_valid(result, self)
           && g_task_get_source_tag(G_TASK(result)) == source_tag;
}

/**
 * xlev_transaction_read_async:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the value has been read
 * @user_data: (closure): data for @callback
 *
 * Reads the value at @path as text without blocking the caller, as
 * [method@Xlev.Transaction.read]; finish with
 * [method@Xlev.Transaction.read_finish]. The request is sent now, from
 * the calling thread (no worker thread); the answer completes the task in
 * the context's main context, and @callback is called in the caller's
 * thread-default main context. Cancelling @cancellable completes the task
 * at once with %G_IO_ERROR_CANCELLED: the request was sent, and its
 * answer is dropped.
 *
 * Since: 1.0
 */
void
xlev_transaction_read_async(XlevTransaction *self, const char *path,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    XlevAsyncRequest request = {.kind = XLEV_ASYNC_READ, .path = path};

    g_return_if_fail(XLEV_IS_TRANSACTION(self));

    tx_path_async(self, &request, return_read, cancellable, callback,
                  user_data, xlev_transaction_read_async,
                  "[xlev] transaction read");
}

/**
 * xlev_transaction_read_finish:
 * @self: a transaction
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Transaction.read_async].
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
xlev_transaction_read_finish(XlevTransaction *self, GAsyncResult *result,
                             GError **error)
{
    g_return_val_if_fail(
        tx_finish_check(self, result, xlev_transaction_read_async), NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * xlev_transaction_write_async:
 * @self: a transaction
 * @path: an absolute xenstore path
 * @value: the value to store
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the value has been written
 * @user_data: (closure): data for @callback
 *
 * Writes @value at @path in the transaction without blocking the caller,
 * as [method@Xlev.Transaction.write]; finish with
 * [method@Xlev.Transaction.write_finish]. Sent and completed as
 * [method@Xlev.Transaction.read_async]; a cancelled write was sent and
 * may still take effect when the transaction is committed.
 *
 * Since: 1.0
 */
void
xlev_transaction_write_async(XlevTransaction *self, const char *path,
                             const char *value, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    XlevAsyncRequest request = {.kind = XLEV_ASYNC_WRITE,
                                .path = path,
                                .value = value,
                                .len = value != NULL ? strlen(value) : 0};

    g_return_if_fail(XLEV_IS_TRANSACTION(self));

    tx_path_async(self, &request, return_written, cancellable, callback,
                  user_data, xlev_transaction_write_async,
                  "[xlev] transaction write");
}

/**
 * xlev_transaction_write_finish:
 * @self: a transaction
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Transaction.write_async].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_write_finish(XlevTransaction *self, GAsyncResult *result,
                              GError **error)
{
    g_return_val_if_fail(
        tx_finish_check(self, result, xlev_transaction_write_async), FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * xlev_transaction_commit_async:
 * @self: a transaction
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the commit is done
 * @user_data: (closure): data for @callback
 *
 * Commits the transaction without blocking the caller, as
 * [method@Xlev.Transaction.commit]; finish with
 * [method@Xlev.Transaction.commit_finish]. Sent and completed as
 * [method@Xlev.Transaction.read_async]; the transaction is finished from
 * this call on. Cancelling @cancellable completes the task at once with
 * %G_IO_ERROR_CANCELLED, but the commit was sent and may still succeed:
 * read the store again to know.
 *
 * Since: 1.0
 */
void
xlev_transaction_commit_async(XlevTransaction *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_TRANSACTION(self));

    tx_end_async(self, TRUE, cancellable, callback, user_data,
                 xlev_transaction_commit_async, "[xlev] transaction commit");
}

/**
 * xlev_transaction_commit_finish:
 * @self: a transaction
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Transaction.commit_async].
 *
 * Returns: %TRUE if the changes were made; %FALSE with @error set
 *   (%XLEV_ERROR_CODE_AGAIN on a conflict)
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_commit_finish(XlevTransaction *self, GAsyncResult *result,
                               GError **error)
{
    g_return_val_if_fail(
        tx_finish_check(self, result, xlev_transaction_commit_async), FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * xlev_transaction_abort_async:
 * @self: a transaction
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the abort is done
 * @user_data: (closure): data for @callback
 *
 * Aborts the transaction without blocking the caller, as
 * [method@Xlev.Transaction.abort]; finish with
 * [method@Xlev.Transaction.abort_finish]. Sent and completed as
 * [method@Xlev.Transaction.read_async]; the transaction is finished from
 * this call on (a cancelled abort was sent all the same).
 *
 * Since: 1.0
 */
void
xlev_transaction_abort_async(XlevTransaction *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_TRANSACTION(self));

    tx_end_async(self, FALSE, cancellable, callback, user_data,
                 xlev_transaction_abort_async, "[xlev] transaction abort");
}

/**
 * xlev_transaction_abort_finish:
 * @self: a transaction
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Transaction.abort_async].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_transaction_abort_finish(XlevTransaction *self, GAsyncResult *result,
                              GError **error)
{
    g_return_val_if_fail(
        tx_finish_check(self, result, xlev_transaction_abort_async), FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}

/*======================================================================*/
/* The retry helper */

/**
 * xlev_context_transact:
 * @self: a context
 * @max_attempts: how many transactions to try at most (at least 1;
 *   %XLEV_TRANSACT_DEFAULT_ATTEMPTS suits most uses)
 * @cancellable: (nullable): a #GCancellable, checked before each attempt
 *   and during each round trip
 * @func: (scope call): the work of one attempt
 * @user_data: (closure): data for @func
 * @error: return location for a #GError
 *
 * Runs @func in a new transaction and commits it if @func returns %TRUE;
 * when the commit conflicts (%XLEV_ERROR_CODE_AGAIN) it starts over with a
 * new transaction, up to @max_attempts transactions in all. @func is
 * called in the calling thread, before this returns; see
 * [class@Xlev.Transaction] for an example.
 *
 * Returns: %TRUE once a transaction committed; %FALSE with @error set if
 *   @func returned %FALSE (the error of the first call that failed in that
 *   transaction, or %XLEV_ERROR_CODE_FAIL), if every attempt conflicted
 *   (%XLEV_ERROR_CODE_AGAIN), or if starting or committing failed
 *   otherwise
 *
 * Since: 1.0
 */
gboolean
xlev_context_transact(XlevContext *self, guint max_attempts,
                      GCancellable *cancellable, XlevTransactFunc func,
                      gpointer user_data, GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    xlev_i18n_init();
    if (func == NULL || max_attempts == 0) {
        g_set_error_literal(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                            func == NULL ? _("No function given to run in a "
                                             "transaction")
                                         : _("A transaction needs at least one "
                                             "attempt"));
        return FALSE;
    }

    for (guint attempt = 1;; attempt++) {
        g_autoptr(XlevTransaction) tx = NULL;
        GError *local = NULL;
        gboolean commit;

        tx = xlev_context_transaction_start(self, cancellable, error);
        if (tx == NULL)
            return FALSE;
        commit = func(tx, user_data);

        if (!commit) {
            GError *failed;

            g_mutex_lock(&tx->lock);
            failed = g_steal_pointer(&tx->first_error);
            g_mutex_unlock(&tx->lock);
            if (!xlev_transaction_is_finished(tx))
                xlev_transaction_abort(tx, NULL, NULL);
            if (failed != NULL
                && g_error_matches(failed, XLEV_ERROR, XLEV_ERROR_CODE_AGAIN)
                && attempt < max_attempts) {
                g_error_free(failed);
                continue;
            }
            if (failed == NULL)
                failed = g_error_new(XLEV_ERROR, XLEV_ERROR_CODE_FAIL,
                                     _("The transaction was abandoned: its "
                                       "function chose not to commit"));
            g_propagate_error(error, failed);
            return FALSE;
        }
        if (xlev_transaction_commit(tx, cancellable, &local))
            return TRUE;
        if (!g_error_matches(local, XLEV_ERROR, XLEV_ERROR_CODE_AGAIN)
            || attempt >= max_attempts) {
            g_propagate_error(error, local);
            return FALSE;
        }
        g_error_free(local);
    }
}
