/* xlev-transaction.h: xenstore transactions
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The contract, in short:
 *  - [method@Xlev.Context.transaction_start] opens a transaction on the
 *    context's connection; the calls on the [class@Xlev.Transaction] see
 *    and change the store as of that moment, and nobody else sees the
 *    changes before [method@Xlev.Transaction.commit].
 *  - A commit that conflicted with another change fails with
 *    %XLEV_ERROR_CODE_AGAIN: nothing was changed; start again from the
 *    beginning (reading again). [method@Xlev.Context.transact] does that
 *    loop for you.
 *  - After commit or abort (whatever their outcome) the transaction is
 *    finished: every call on it fails with %XLEV_ERROR_CODE_INVAL.
 *    A transaction dropped unfinished is aborted when its last reference
 *    goes: the abort is sent then, and nothing waits for its answer.
 *  - The calls block for one round trip each, as [method@Xlev.Context.read]
 *    does, from any thread. The _async ones start no thread: the request
 *    is sent from the calling thread and its answer completes the task in
 *    the context's main context (the callback runs in the caller's
 *    thread-default main context); cancelled, they complete at once with
 *    G_IO_ERROR_CANCELLED, but the request was sent (a cancelled commit
 *    may still commit) and its answer is dropped.
 *  - Both transports carry transactions ([enum@Xlev.Transport]): over the
 *    xenbus device they go through libxenstore.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <gio/gio.h>

#include "xlev-version-macros.h"
#include "xlev-context.h"

G_BEGIN_DECLS

#define XLEV_TYPE_TRANSACTION (xlev_transaction_get_type())

XLEV_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE(XlevTransaction, xlev_transaction, XLEV, TRANSACTION,
                     GObject)

XLEV_AVAILABLE_IN_1_0
XlevTransaction *xlev_context_transaction_start(XlevContext *self,
                                                GCancellable *cancellable,
                                                GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_transaction_start_async(XlevContext *self,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
XLEV_AVAILABLE_IN_1_0
XlevTransaction *xlev_context_transaction_start_finish(XlevContext *self,
                                                       GAsyncResult *result,
                                                       GError **error);

XLEV_AVAILABLE_IN_1_0
XlevContext *xlev_transaction_get_context(XlevTransaction *self);
XLEV_AVAILABLE_IN_1_0
guint xlev_transaction_get_id(XlevTransaction *self);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_is_finished(XlevTransaction *self);

XLEV_AVAILABLE_IN_1_0
char *xlev_transaction_read(XlevTransaction *self, const char *path,
                            GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
GBytes *xlev_transaction_read_bytes(XlevTransaction *self, const char *path,
                                    GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_write(XlevTransaction *self, const char *path,
                                const char *value, GCancellable *cancellable,
                                GError **error);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_write_bytes(XlevTransaction *self, const char *path,
                                      GBytes *value, GCancellable *cancellable,
                                      GError **error);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_rm(XlevTransaction *self, const char *path,
                             GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
char **xlev_transaction_directory(XlevTransaction *self, const char *path,
                                  GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_mkdir(XlevTransaction *self, const char *path,
                                GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
GList *xlev_transaction_get_permissions(XlevTransaction *self, const char *path,
                                        GCancellable *cancellable,
                                        GError **error);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_set_permissions(XlevTransaction *self,
                                          const char *path, GList *permissions,
                                          GCancellable *cancellable,
                                          GError **error);

XLEV_AVAILABLE_IN_1_0
void xlev_transaction_read_async(XlevTransaction *self, const char *path,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
XLEV_AVAILABLE_IN_1_0
char *xlev_transaction_read_finish(XlevTransaction *self, GAsyncResult *result,
                                   GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_transaction_write_async(XlevTransaction *self, const char *path,
                                  const char *value, GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_write_finish(XlevTransaction *self,
                                       GAsyncResult *result, GError **error);

XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_commit(XlevTransaction *self,
                                 GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_transaction_commit_async(XlevTransaction *self,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_commit_finish(XlevTransaction *self,
                                        GAsyncResult *result, GError **error);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_abort(XlevTransaction *self,
                                GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_transaction_abort_async(XlevTransaction *self,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_transaction_abort_finish(XlevTransaction *self,
                                       GAsyncResult *result, GError **error);

/**
 * XlevTransactFunc:
 * @transaction: the transaction of this attempt
 * @user_data: (closure): the data given to [method@Xlev.Context.transact]
 *
 * The work of one attempt of [method@Xlev.Context.transact]: read and
 * change the store through @transaction, then say whether to commit.
 * The function may run several times, each on a new transaction: it
 * must read again what it needs, and must not commit or abort
 * @transaction itself.
 *
 * Returns: %TRUE to commit, %FALSE to abort (the transact call then
 *   fails with the error of the first call that failed in @transaction,
 *   or %XLEV_ERROR_CODE_FAIL if none did)
 *
 * Since: 1.0
 */
typedef gboolean (*XlevTransactFunc)(XlevTransaction *transaction,
                                     gpointer user_data);

/**
 * XLEV_TRANSACT_DEFAULT_ATTEMPTS:
 *
 * A number of attempts for [method@Xlev.Context.transact] that suits a
 * node a few writers change now and then.
 *
 * Since: 1.0
 */
#define XLEV_TRANSACT_DEFAULT_ATTEMPTS 16

XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_transact(XlevContext *self, guint max_attempts,
                               GCancellable *cancellable, XlevTransactFunc func,
                               gpointer user_data, GError **error);

G_END_DECLS
