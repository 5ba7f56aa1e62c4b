/* xlev-wait.h: waiting for a xenstore node to reach a value
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The contract, in short (libxl's xswait, as GIO async calls):
 *  - A wait completes when the node satisfies it: the node is read once at
 *    the start and again after each watch event on it (no polling), and
 *    the first value that satisfies it is the result.
 *  - timeout_ms > 0: fails with XLEV_ERROR_CODE_TIMED_OUT once that many
 *    milliseconds pass unsatisfied; 0: the start is the only check (fails
 *    at once if that does not satisfy); negative: no timeout (until
 *    satisfied, cancelled, or the connection fails).
 *  - Call from the thread that iterates the context's main context; the
 *    callback comes in the caller's thread-default main context.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <gio/gio.h>

#include "xlev-version-macros.h"
#include "xlev-context.h"

G_BEGIN_DECLS

/**
 * XlevXenbusState:
 * @XLEV_XENBUS_STATE_UNKNOWN: `XenbusStateUnknown` (0)
 * @XLEV_XENBUS_STATE_INITIALISING: `XenbusStateInitialising` (1)
 * @XLEV_XENBUS_STATE_INIT_WAIT: `XenbusStateInitWait` (2): the backend
 *   waits for information from the frontend or the hotplug scripts
 * @XLEV_XENBUS_STATE_INITIALISED: `XenbusStateInitialised` (3)
 * @XLEV_XENBUS_STATE_CONNECTED: `XenbusStateConnected` (4)
 * @XLEV_XENBUS_STATE_CLOSING: `XenbusStateClosing` (5): the device is
 *   being closed, after an error or a request
 * @XLEV_XENBUS_STATE_CLOSED: `XenbusStateClosed` (6)
 * @XLEV_XENBUS_STATE_RECONFIGURING: `XenbusStateReconfiguring` (7)
 * @XLEV_XENBUS_STATE_RECONFIGURED: `XenbusStateReconfigured` (8)
 *
 * The state of one end of a Xen split device, as its `state` node in
 * xenstore holds it (a decimal number). The values are those of
 * `enum xenbus_state` in Xen's public header `xen/io/xenbus.h`.
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_XENBUS_STATE_UNKNOWN = 0,
    XLEV_XENBUS_STATE_INITIALISING = 1,
    XLEV_XENBUS_STATE_INIT_WAIT = 2,
    XLEV_XENBUS_STATE_INITIALISED = 3,
    XLEV_XENBUS_STATE_CONNECTED = 4,
    XLEV_XENBUS_STATE_CLOSING = 5,
    XLEV_XENBUS_STATE_CLOSED = 6,
    XLEV_XENBUS_STATE_RECONFIGURING = 7,
    XLEV_XENBUS_STATE_RECONFIGURED = 8,
} XlevXenbusState;

/**
 * XlevWaitPredicate:
 * @path: the node waited on
 * @value: (nullable): its value now, or %NULL if it does not exist
 * @user_data: the data given with the predicate
 *
 * Decides whether a wait ([method@Xlev.Context.wait_for_async]) is over.
 * Called in the thread that iterates the context's main context, once at
 * the start and after each change of the node; it must not block.
 *
 * Returns: %TRUE if @value is what the caller waits for
 *
 * Since: 1.0
 */
typedef gboolean (*XlevWaitPredicate)(const char *path, const char *value,
                                      gpointer user_data);

XLEV_AVAILABLE_IN_1_0
void xlev_context_wait_async(XlevContext *self, const char *path,
                             const char *expected, int timeout_ms,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
XLEV_AVAILABLE_IN_1_0
char *xlev_context_wait_finish(XlevContext *self, GAsyncResult *result,
                               GError **error);

XLEV_AVAILABLE_IN_1_0
void xlev_context_wait_for_async(XlevContext *self, const char *path,
                                 XlevWaitPredicate predicate,
                                 gpointer predicate_data,
                                 GDestroyNotify predicate_data_destroy,
                                 int timeout_ms, GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
XLEV_AVAILABLE_IN_1_0
void xlev_context_wait_for_closure_async(XlevContext *self, const char *path,
                                         GClosure *predicate, int timeout_ms,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
XLEV_AVAILABLE_IN_1_0
char *xlev_context_wait_for_finish(XlevContext *self, GAsyncResult *result,
                                   GError **error);

XLEV_AVAILABLE_IN_1_0
void xlev_context_wait_device_state_async(XlevContext *self,
                                          const char *backend_path,
                                          XlevXenbusState state, int timeout_ms,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_wait_device_state_finish(XlevContext *self,
                                               GAsyncResult *result,
                                               GError **error);

G_END_DECLS
