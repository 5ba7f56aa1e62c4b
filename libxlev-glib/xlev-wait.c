/* xlev-wait.c: waiting for a xenstore node to reach a value (libxl's
 * xswait), built on the public API: a watch and asynchronous reads
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-wait.h"
#include "xlev-context-private.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"
#include "xlev-watch.h"

#include <stdlib.h>

/*
 * One wait is a GTask whose task data is a Wait. The node is read after
 * the watch's first event (xenstored sends one on registration: that is
 * the check at the start) and after each later one; the reads are
 * asynchronous, one at a time: an event during a read marks the Wait
 * `dirty` and the node is read again when the read returns, so the last
 * value is always seen. The timeout and the caller's cancellable are
 * GSources attached to the task's main context, so completing never
 * happens inside a GCancellable handler (where disconnecting deadlocks).
 *
 * States:
 *   Waiting - `done` is FALSE: the watch, the timeout source and the
 *             cancellable source exist (those that apply);
 *   Done    - `done` is TRUE: wait_complete() cancelled the watch,
 *             destroyed both sources and cancelled `reads`, and returned
 *             the task. A read still in flight holds a reference to the
 *             task and finds `done` set (or its own G_IO_ERROR_CANCELLED)
 *             when it returns.
 * Everything here runs in the thread that iterates the context's main
 * context (watch signals, read callbacks, the sources), so there is no
 * lock.
 */
typedef struct {
    XlevContext *context;
    char *path;
    XlevWaitPredicate predicate;
    gpointer predicate_data;
    GDestroyNotify predicate_data_destroy;
    gboolean once; /* timeout 0: the start is the only check */

    XlevWatch *watch;
    gulong changed_id;
    gulong disaster_id; /* on the context */
    GSource *timeout_source;
    GSource *cancel_source;
    GCancellable *reads; /* cancelled when done */
    gboolean reading;
    gboolean dirty;
    gboolean done;
} Wait;

static void
wait_free(gpointer data)
{
    Wait *wait = data;

    /* Done by now, or never started: nothing left to stop. */
    g_clear_object(&wait->watch);
    g_clear_pointer(&wait->timeout_source, g_source_unref);
    g_clear_pointer(&wait->cancel_source, g_source_unref);
    g_clear_object(&wait->reads);
    if (wait->predicate_data_destroy != NULL)
        wait->predicate_data_destroy(wait->predicate_data);
    g_free(wait->path);
    g_clear_object(&wait->context);
    g_free(wait);
}

/* Waiting -> Done, returning @value (transfer full; NULL for an absent
 * node) or, if @error is set, @error (transfer full). */
static void
wait_complete(GTask *task, char *value, GError *error)
{
    Wait *wait = g_task_get_task_data(task);

    if (wait->done) {
        g_free(value);
        g_clear_error(&error);
        return;
    }
    wait->done = TRUE;

    if (wait->watch != NULL) {
        g_signal_handler_disconnect(wait->watch, wait->changed_id);
        xlev_watch_cancel(wait->watch);
    }
    if (wait->disaster_id != 0)
        g_signal_handler_disconnect(wait->context, wait->disaster_id);
    if (wait->timeout_source != NULL)
        g_source_destroy(wait->timeout_source);
    if (wait->cancel_source != NULL)
        g_source_destroy(wait->cancel_source);
    g_cancellable_cancel(wait->reads);

    if (error != NULL)
        g_task_return_error(task, error);
    else
        g_task_return_pointer(task, value, g_free);
    /* The wait's own reference (wait_start): the last one, unless the
     * caller's callback or a read in flight still holds the task. */
    g_object_unref(task);
}

static void wait_read(GTask *task);

static void
read_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GTask) task = data;
    Wait *wait = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autofree char *value
        = xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);

    wait->reading = FALSE;
    if (wait->done)
        return;
    if (error != NULL
        && !g_error_matches(error, XLEV_ERROR, XLEV_ERROR_CODE_NOENT)) {
        /* The node cannot be read (permission, a lost connection): the
         * wait cannot tell, so it ends with why. */
        wait_complete(task, NULL, g_steal_pointer(&error));
        return;
    }
    if (wait->predicate(wait->path, value, wait->predicate_data)) {
        wait_complete(task, g_steal_pointer(&value), NULL);
        return;
    }
    if (wait->dirty) {
        wait_read(task);
        return;
    }
    if (wait->once) {
        wait_complete(task, NULL,
                      g_error_new(XLEV_ERROR, XLEV_ERROR_CODE_TIMED_OUT,
                                  _("%s is not what was waited for"),
                                  wait->path));
    }
}

static void
wait_read(GTask *task)
{
    Wait *wait = g_task_get_task_data(task);

    wait->dirty = FALSE;
    wait->reading = TRUE;
    xlev_context_read_async(wait->context, wait->path, wait->reads, read_done,
                            g_object_ref(task));
}

static void
on_changed(XlevWatch *watch, const char *path, gpointer data)
{
    GTask *task = data;
    Wait *wait = g_task_get_task_data(task);

    /* Any event: one under the node may be the one that created it. */
    if (wait->done)
        return;
    if (wait->reading)
        wait->dirty = TRUE;
    else
        wait_read(task);
}

/* Watch events may have been lost (the connection failed, memory ran out,
 * the main loop integration failed): the wait could never end, so it ends
 * now, saying why. A failure of domain events alone does not concern it. */
static void
on_disaster(XlevContext *context, XlevDisaster kind, const char *message,
            gpointer data)
{
    GTask *task = data;
    Wait *wait = g_task_get_task_data(task);

    if (kind == XLEV_DISASTER_KIND_EVENTS)
        return;
    wait_complete(
        task, NULL,
        g_error_new(XLEV_ERROR,
                    kind == XLEV_DISASTER_KIND_NOMEM ? XLEV_ERROR_CODE_NOMEM
                                                     : XLEV_ERROR_CODE_XENSTORE,
                    _("Stopped waiting for %s: %s"), wait->path, message));
}

static gboolean
on_timeout(gpointer data)
{
    GTask *task = data;
    Wait *wait = g_task_get_task_data(task);

    wait_complete(task, NULL,
                  g_error_new(XLEV_ERROR, XLEV_ERROR_CODE_TIMED_OUT,
                              _("Timed out waiting for %s"), wait->path));
    return G_SOURCE_REMOVE;
}

static gboolean
on_cancelled(GCancellable *cancellable, gpointer data)
{
    GTask *task = data;
    GError *error = NULL;

    g_cancellable_set_error_if_cancelled(cancellable, &error);
    wait_complete(task, NULL, error);
    return G_SOURCE_REMOVE;
}

/* Starts a wait on @task's behalf (its Wait set up); errors complete the
 * task at once. */
static void
wait_start(GTask *task, int timeout_ms, GCancellable *cancellable)
{
    Wait *wait = g_task_get_task_data(task);
    GError *error = NULL;

    if (!xlev_context_check_ready(wait->context, &error)
        || !xlev_check_path(wait->path, &error)) {
        wait->done = TRUE;
        g_task_return_error(task, error);
        return;
    }
    if (wait->path[0] == '@') {
        wait->done = TRUE;
        g_task_return_new_error(task, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                                _("Cannot wait for %s: a special path has "
                                  "no value"),
                                wait->path);
        return;
    }
    if (g_task_return_error_if_cancelled(task)) {
        wait->done = TRUE;
        return;
    }

    wait->once = timeout_ms == 0;
    wait->reads = g_cancellable_new();
    wait->watch = xlev_context_watch(wait->context, wait->path,
                                     XLEV_WATCH_FLAGS_NONE, &error);
    if (wait->watch == NULL) {
        wait->done = TRUE;
        g_task_return_error(task, error);
        return;
    }
    /* The task holds the Wait, which holds the watch: the handler's data
     * needs no reference of its own. */
    wait->changed_id = g_signal_connect(wait->watch, "changed",
                                        G_CALLBACK(on_changed), task);
    wait->disaster_id = g_signal_connect(wait->context, "disaster",
                                         G_CALLBACK(on_disaster), task);

    if (timeout_ms > 0) {
        wait->timeout_source = g_timeout_source_new((guint)timeout_ms);
        g_task_attach_source(task, wait->timeout_source, on_timeout);
    }
    if (cancellable != NULL) {
        wait->cancel_source = g_cancellable_source_new(cancellable);
        g_task_attach_source(task, wait->cancel_source,
                             (GSourceFunc)(void (*)(void))on_cancelled);
    }
    /* The wait's own reference, until wait_complete (the watch's handler
     * holds none). */
    g_object_ref(task);
}

static GTask *
wait_task_new(XlevContext *self, const char *path, XlevWaitPredicate predicate,
              gpointer predicate_data, GDestroyNotify predicate_data_destroy,
              GCancellable *cancellable, GAsyncReadyCallback callback,
              gpointer user_data, gpointer source_tag)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    Wait *wait = g_new0(Wait, 1);

    g_task_set_source_tag(task, source_tag);
    g_task_set_name(task, "xlev wait");
    wait->context = g_object_ref(self);
    wait->path = g_strdup(path);
    wait->predicate = predicate;
    wait->predicate_data = predicate_data;
    wait->predicate_data_destroy = predicate_data_destroy;
    g_task_set_task_data(task, wait, wait_free);
    return task;
}

/*======================================================================*/
/* Waiting for a value */

static gboolean
equals_expected(const char *path, const char *value, gpointer data)
{
    return g_strcmp0(value, data) == 0;
}

/**
 * xlev_context_wait_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @expected: (nullable): the value to wait for, or %NULL to wait until
 *   @path does not exist
 * @timeout_ms: milliseconds to wait at most; 0 checks only once, at the
 *   start; a negative value waits with no timeout
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the wait is over
 * @user_data: data for @callback
 *
 * Waits until the value of @path is @expected, as libxl's `xswait` does:
 * the node is read at the start and after each watch event on it (no
 * polling), and the wait completes at the first value that is @expected.
 *
 * Fails with %XLEV_ERROR_CODE_TIMED_OUT when @timeout_ms pass first,
 * %XLEV_ERROR_CODE_INVAL for a malformed path or a special one (`@...`),
 * %G_IO_ERROR_CANCELLED when @cancellable is cancelled,
 * %XLEV_ERROR_CODE_XENSTORE when the context reports the connection lost
 * ([signal@Xlev.Context::disaster]: a change could go unseen), or the
 * error of a read that fails other than with "no such path" (permission
 * denied, say). Everything the wait made is gone when @callback runs.
 *
 * Call it in the thread that iterates the context's main context;
 * @callback is called in the thread-default main context of that thread.
 *
 * ```python
 * def on_ready(ctx, result):
 *     try:
 *         ctx.wait_finish(result)
 *         print("the backend is connected")
 *     except GLib.Error as e:
 *         print("gave up:", e.message)
 *
 * ctx.wait_async("/local/domain/0/backend/vif/5/0/hotplug-status",
 *                "connected", 10000, None, on_ready)
 * ```
 *
 * Since: 1.0
 */
void
xlev_context_wait_async(XlevContext *self, const char *path,
                        const char *expected, int timeout_ms,
                        GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
    g_autoptr(GTask) task = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));
    g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

    task = wait_task_new(self, path, equals_expected, g_strdup(expected),
                         g_free, cancellable, callback, user_data,
                         xlev_context_wait_async);
    wait_start(task, timeout_ms, cancellable);
}

/**
 * xlev_context_wait_finish:
 * @self: a context
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.wait_async].
 *
 * Returns: (transfer full) (nullable): the value that ended the wait (the
 *   expected one), or %NULL: with @error set on failure, without it when
 *   the wait was for the node not to exist
 *
 * Since: 1.0
 */
char *
xlev_context_wait_finish(XlevContext *self, GAsyncResult *result,
                         GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    g_return_val_if_fail(
        g_async_result_is_tagged(result, xlev_context_wait_async), NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * xlev_context_wait_for_async: (skip)
 * @self: a context
 * @path: an absolute xenstore path
 * @predicate: (scope notified) (closure predicate_data)
 *   (destroy predicate_data_destroy): decides when the wait is over
 * @predicate_data: data for @predicate
 * @predicate_data_destroy: (nullable): frees @predicate_data when the wait
 *   no longer needs it
 * @timeout_ms: milliseconds to wait at most; 0 checks only once, at the
 *   start; a negative value waits with no timeout
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the wait is over
 * @user_data: data for @callback
 *
 * Like [method@Xlev.Context.wait_async], but the wait is over when
 * @predicate returns %TRUE for the value of @path (%NULL when it does not
 * exist). @predicate runs at the start and after each change, in the
 * thread that iterates the context's main context. Bindings call
 * [method@Xlev.Context.wait_for_closure_async] under this name.
 *
 * Since: 1.0
 */
void
xlev_context_wait_for_async(XlevContext *self, const char *path,
                            XlevWaitPredicate predicate,
                            gpointer predicate_data,
                            GDestroyNotify predicate_data_destroy,
                            int timeout_ms, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));
    g_return_if_fail(predicate != NULL);
    g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

    task = wait_task_new(self, path, predicate, predicate_data,
                         predicate_data_destroy, cancellable, callback,
                         user_data, xlev_context_wait_for_async);
    wait_start(task, timeout_ms, cancellable);
}

static gboolean
closure_predicate(const char *path, const char *value, gpointer data)
{
    GClosure *closure = data;
    GValue params[2] = { G_VALUE_INIT, G_VALUE_INIT };
    GValue ret = G_VALUE_INIT;
    gboolean over;

    g_value_init(&params[0], G_TYPE_STRING);
    g_value_set_string(&params[0], path);
    g_value_init(&params[1], G_TYPE_STRING);
    g_value_set_string(&params[1], value);
    g_value_init(&ret, G_TYPE_BOOLEAN);
    g_closure_invoke(closure, &ret, G_N_ELEMENTS(params), params, NULL);
    over = g_value_get_boolean(&ret);
    g_value_unset(&params[0]);
    g_value_unset(&params[1]);
    g_value_unset(&ret);
    return over;
}

/**
 * xlev_context_wait_for_closure_async: (rename-to xlev_context_wait_for_async)
 * @self: a context
 * @path: an absolute xenstore path
 * @predicate: a closure taking the path and its value (a string, or %NULL
 *   when the node does not exist) and returning %TRUE when the wait is
 *   over
 * @timeout_ms: milliseconds to wait at most; 0 checks only once, at the
 *   start; a negative value waits with no timeout
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the wait is over
 * @user_data: data for @callback
 *
 * [method@Xlev.Context.wait_for_async] with the predicate as a #GClosure,
 * which is how bindings pass a function (they call this
 * `wait_for_async`). The closure is held until the wait is over. Finish
 * with [method@Xlev.Context.wait_for_finish].
 *
 * ```python
 * ctx.wait_for_async("/local/domain/7/memory/target",
 *                    lambda path, value: value is not None
 *                                        and int(value) >= 1048576,
 *                    5000, None, on_ready)
 * ```
 *
 * ```js
 * ctx.wait_for_async('/local/domain/7/memory/target',
 *     (path, value) => value !== null && parseInt(value) >= 1048576,
 *     5000, null, (ctx, res) => print(ctx.wait_for_finish(res)));
 * ```
 *
 * Since: 1.0
 */
void
xlev_context_wait_for_closure_async(XlevContext *self, const char *path,
                                    GClosure *predicate, int timeout_ms,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
    g_autoptr(GTask) task = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));
    g_return_if_fail(predicate != NULL);
    g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

    g_closure_ref(predicate);
    g_closure_sink(predicate);
    if (G_CLOSURE_NEEDS_MARSHAL(predicate))
        g_closure_set_marshal(predicate, g_cclosure_marshal_generic);
    task = wait_task_new(self, path, closure_predicate, predicate,
                         (GDestroyNotify)g_closure_unref, cancellable, callback,
                         user_data, xlev_context_wait_for_async);
    wait_start(task, timeout_ms, cancellable);
}

/**
 * xlev_context_wait_for_finish:
 * @self: a context
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.wait_for_async] (or
 * [method@Xlev.Context.wait_for_closure_async]).
 *
 * Returns: (transfer full) (nullable): the value the predicate accepted,
 *   or %NULL: with @error set on failure, without it when the predicate
 *   accepted a node that does not exist
 *
 * Since: 1.0
 */
char *
xlev_context_wait_for_finish(XlevContext *self, GAsyncResult *result,
                             GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    g_return_val_if_fail(
        g_async_result_is_tagged(result, xlev_context_wait_for_async), NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/*======================================================================*/
/* Waiting for a device's state */

/* A `state` node's value as a state: a decimal number, as the drivers
 * write it; anything else is not a state yet (-1). */
static int
parse_state(const char *value)
{
    gint64 n;

    if (value == NULL
        || !g_ascii_string_to_signed(value, 10, XLEV_XENBUS_STATE_UNKNOWN,
                                     XLEV_XENBUS_STATE_RECONFIGURED, &n, NULL))
        return -1;
    return (int)n;
}

static gboolean
state_reached(const char *path, const char *value, gpointer data)
{
    return parse_state(value) == GPOINTER_TO_INT(data);
}

/**
 * xlev_context_wait_device_state_async:
 * @self: a context
 * @backend_path: the xenstore directory of one end of a split device,
 *   usually a backend's (`/local/domain/0/backend/vbd/5/51712`)
 * @state: the state to wait for
 * @timeout_ms: milliseconds to wait at most; 0 checks only once, at the
 *   start; a negative value waits with no timeout
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the wait is over
 * @user_data: data for @callback
 *
 * Waits until `<backend_path>/state` holds @state, as a toolstack does
 * after writing a device's nodes (libxl's device-state wait): the states
 * on the way are passed over, and a missing node or one that holds no
 * state number is waited past too. The errors are those of
 * [method@Xlev.Context.wait_async].
 *
 * ```c
 * xlev_context_wait_device_state_async (ctx,
 *                                       "/local/domain/0/backend/vbd/5/51712",
 *                                       XLEV_XENBUS_STATE_CONNECTED, 10000,
 *                                       NULL, on_connected, NULL);
 * ```
 *
 * Since: 1.0
 */
void
xlev_context_wait_device_state_async(XlevContext *self,
                                     const char *backend_path,
                                     XlevXenbusState state, int timeout_ms,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    g_autofree char *path = NULL;
    GError *error = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));
    g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

    /* The directory is checked before "/state" is added to it, so the
     * error names what the caller gave. */
    if (!xlev_check_path(backend_path, &error)
        || (guint)state > XLEV_XENBUS_STATE_RECONFIGURED) {
        if (error == NULL)
            error = g_error_new(XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                                _("%d is not a xenbus state"), (int)state);
        g_task_report_error(self, callback, user_data,
                            xlev_context_wait_device_state_async, error);
        return;
    }
    path = g_strconcat(backend_path, "/state", NULL);
    task = wait_task_new(self, path, state_reached, GINT_TO_POINTER(state),
                         NULL, cancellable, callback, user_data,
                         xlev_context_wait_device_state_async);
    wait_start(task, timeout_ms, cancellable);
}

/**
 * xlev_context_wait_device_state_finish:
 * @self: a context
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.wait_device_state_async].
 *
 * Returns: %TRUE when the device reached the state, or %FALSE with @error
 *   set
 *
 * Since: 1.0
 */
gboolean
xlev_context_wait_device_state_finish(XlevContext *self, GAsyncResult *result,
                                      GError **error)
{
    g_autofree char *value = NULL;
    GError *local = NULL;

    g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
    g_return_val_if_fail(
        g_async_result_is_tagged(result, xlev_context_wait_device_state_async),
        FALSE);

    value = g_task_propagate_pointer(G_TASK(result), &local);
    if (local != NULL) {
        g_propagate_error(error, local);
        return FALSE;
    }
    return TRUE;
}
