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
 * while waiting). The core has no asynchronous transaction start or end,
 * so the _async calls run the blocking ones in a GTask worker thread.
 */
#include "xlev-transaction.h"
#include "xlev-permission.h"
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

static void
xlev_transaction_dispose(GObject *object)
{
    XlevTransaction *self = XLEV_TRANSACTION(object);

    /* Dropped unfinished: give the daemon its transaction back. */
    if (self->context != NULL
        && g_atomic_int_compare_and_exchange(&self->finished, 0, 1)) {
        int rc = xlev_xs_transaction_end(xlev_context_get_core(self->context),
                                         self->tx_id, 0);

        if (rc != 0)
            g_debug("aborting transaction %u on dispose failed: %d",
                    self->tx_id, rc);
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
 * from any thread; the _async ones run in a worker thread and complete in
 * the caller's thread-default main context. It has no signals.
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
    XlevTransaction *tx;
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
    tx = g_object_new(XLEV_TYPE_TRANSACTION, NULL);
    tx->context = g_object_ref(self);
    tx->tx_id = tx_id;
    return tx;
}

static void
start_thread(GTask *task, gpointer source, gpointer task_data,
             GCancellable *cancellable)
{
    GError *error = NULL;
    XlevTransaction *tx
        = xlev_context_transaction_start(source, cancellable, &error);

    if (tx == NULL)
        g_task_return_error(task, error);
    else
        g_task_return_pointer(task, tx, g_object_unref);
}

/**
 * xlev_context_transaction_start_async:
 * @self: a context
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the transaction has started
 * @user_data: (closure): data for @callback
 *
 * Starts a transaction without blocking the caller; finish with
 * [method@Xlev.Context.transaction_start_finish].
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

    g_return_if_fail(XLEV_IS_CONTEXT(self));

    task = g_task_new(self, cancellable, callback, user_data);
    g_task_set_source_tag(task, xlev_context_transaction_start_async);
    g_task_set_name(task, "[xlev] transaction start");
    g_task_run_in_thread(task, start_thread);
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
/* Asynchronous versions: the blocking call in a GTask worker thread. */

typedef enum {
    TX_ASYNC_READ,
    TX_ASYNC_WRITE,
    TX_ASYNC_COMMIT,
    TX_ASYNC_ABORT,
} TxAsyncOp;

typedef struct {
    TxAsyncOp op;
    char *path;
    char *value;
} TxAsync;

static void
tx_async_free(TxAsync *a)
{
    g_free(a->path);
    g_free(a->value);
    g_free(a);
}

static void
tx_async_thread(GTask *task, gpointer source, gpointer task_data,
                GCancellable *cancellable)
{
    XlevTransaction *self = source;
    TxAsync *a = task_data;
    GError *error = NULL;
    char *value;

    switch (a->op) {
    case TX_ASYNC_READ:
        value = xlev_transaction_read(self, a->path, cancellable, &error);
        if (value == NULL)
            g_task_return_error(task, error);
        else
            g_task_return_pointer(task, value, g_free);
        return;
    case TX_ASYNC_WRITE:
        if (xlev_transaction_write(self, a->path, a->value, cancellable,
                                   &error))
            g_task_return_boolean(task, TRUE);
        else
            g_task_return_error(task, error);
        return;
    case TX_ASYNC_COMMIT:
    case TX_ASYNC_ABORT:
        if (end(self, a->op == TX_ASYNC_COMMIT, cancellable, &error))
            g_task_return_boolean(task, TRUE);
        else
            g_task_return_error(task, error);
        return;
    }
}

static void
tx_async_start(XlevTransaction *self, TxAsyncOp op, const char *path,
               const char *value, GCancellable *cancellable,
               GAsyncReadyCallback callback, gpointer user_data,
               gpointer source_tag, const char *name)
{
    g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
    TxAsync *a = g_new0(TxAsync, 1);

    a->op = op;
    a->path = g_strdup(path);
    a->value = g_strdup(value);
    g_task_set_task_data(task, a, (GDestroyNotify)tx_async_free);
    g_task_set_source_tag(task, source_tag);
    g_task_set_name(task, name);
    g_task_run_in_thread(task, tx_async_thread);
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
 * [method@Xlev.Transaction.read_finish].
 *
 * Since: 1.0
 */
void
xlev_transaction_read_async(XlevTransaction *self, const char *path,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_TRANSACTION(self));

    tx_async_start(self, TX_ASYNC_READ, path, NULL, cancellable, callback,
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
 * [method@Xlev.Transaction.write_finish].
 *
 * Since: 1.0
 */
void
xlev_transaction_write_async(XlevTransaction *self, const char *path,
                             const char *value, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_TRANSACTION(self));

    tx_async_start(self, TX_ASYNC_WRITE, path, value, cancellable, callback,
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
 * [method@Xlev.Transaction.commit_finish].
 *
 * Since: 1.0
 */
void
xlev_transaction_commit_async(XlevTransaction *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_TRANSACTION(self));

    tx_async_start(self, TX_ASYNC_COMMIT, NULL, NULL, cancellable, callback,
                   user_data, xlev_transaction_commit_async,
                   "[xlev] transaction commit");
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
 * [method@Xlev.Transaction.abort_finish].
 *
 * Since: 1.0
 */
void
xlev_transaction_abort_async(XlevTransaction *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(XLEV_IS_TRANSACTION(self));

    tx_async_start(self, TX_ASYNC_ABORT, NULL, NULL, cancellable, callback,
                   user_data, xlev_transaction_abort_async,
                   "[xlev] transaction abort");
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
