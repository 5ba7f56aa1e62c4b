/* xlev-context.h: a connection to xenstore, driven by a GLib main context
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The contract, in short:
 *  - An XlevContext is created in a thread whose thread-default GMainContext
 *    (or the one given as the "main-context" property) will run it. Every
 *    signal of the context and of every object made from it (XlevWatch,
 *    XlevTimeout) is emitted there, and only while that GMainContext is
 *    iterated.
 *  - Methods may be called from any thread. The blocking xenstore
 *    operations (xlev_context_read() ...) are a round trip to xenstored; a
 *    GUI calls their _async versions, which start no thread: the request
 *    is sent from the calling thread, many may be in flight, and the
 *    answer completes the task in the context's main context. Cancelled,
 *    they complete at once with G_IO_ERROR_CANCELLED; the request was
 *    sent, and its answer is dropped.
 *  - Errors are GErrors in the XLEV_ERROR domain (xlev-error.h), or
 *    G_IO_ERROR_CANCELLED.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <gio/gio.h>

#include "xlev-version-macros.h"
#include "core/xlev-event.h"

G_BEGIN_DECLS

/**
 * XlevIntegration:
 * @XLEV_INTEGRATION_SOURCE: one source from [func@Xlev.source_new] polls
 *   every file descriptor of the context and wakes up for its next timeout
 *   (the core's beforepoll/afterpoll cycle)
 * @XLEV_INTEGRATION_HOOKS: the core's osevent hooks: one GLib source per
 *   file descriptor and one per timeout, added and removed as the core asks
 *
 * How a [class@Xlev.Context] hooks into its GMainContext. Both deliver the
 * same signals in the same GMainContext; they differ in how much work an
 * idle main loop iteration costs.
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_INTEGRATION_SOURCE,
    XLEV_INTEGRATION_HOOKS,
} XlevIntegration;

/**
 * XlevTransport:
 * @XLEV_TRANSPORT_SOCKET: a local xenstored's unix socket, which the
 *   library reads itself in the context's main loop (no thread)
 * @XLEV_TRANSPORT_XENBUS: the xenbus device (`/dev/xen/xenbus`: xenstored
 *   in a stub domain), through libxenstore, which reads it in a thread of
 *   its own
 *
 * How a [class@Xlev.Context] reaches xenstored: chosen when it connects,
 * from what is at its [property@Xlev.Context:xenstore-path].
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_TRANSPORT_SOCKET = 1,
    XLEV_TRANSPORT_XENBUS = 2,
} XlevTransport;

/**
 * XLEV_CONTEXT_TIMEOUT_DEFAULT:
 *
 * The default of [property@Xlev.Context:timeout], in milliseconds.
 *
 * Since: 1.0
 */
#define XLEV_CONTEXT_TIMEOUT_DEFAULT 5000

/**
 * XlevDisaster:
 * @XLEV_DISASTER_KIND_XENSTORE: the xenstore connection failed: watch or
 *   domain events may have been lost
 * @XLEV_DISASTER_KIND_NOMEM: an event was due but memory ran out
 * @XLEV_DISASTER_KIND_OSEVENT: the main loop integration failed where
 *   nobody could be told: a file descriptor or a timeout may be lost
 * @XLEV_DISASTER_KIND_EVENTS: a domain event could not be produced (the
 *   state it needed could not be read): domain events may have been lost
 *
 * What a [signal@Xlev.Context::disaster] was about. The values are those of
 * the core's `xlev_disaster_kind`.
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_DISASTER_KIND_XENSTORE = XLEV_DISASTER_XENSTORE,
    XLEV_DISASTER_KIND_NOMEM = XLEV_DISASTER_NOMEM,
    XLEV_DISASTER_KIND_OSEVENT = XLEV_DISASTER_OSEVENT,
    XLEV_DISASTER_KIND_EVENTS = XLEV_DISASTER_EVENTS,
} XlevDisaster;

/**
 * XlevReconnect:
 * @XLEV_RECONNECT_POLICY_NEVER: a lost connection stays lost: one
 *   [signal@Xlev.Context::disaster] (%XLEV_DISASTER_KIND_XENSTORE); a
 *   restarted daemon needs a new context
 * @XLEV_RECONNECT_POLICY_AUTOMATIC: a lost connection is made again, to
 *   the same [property@Xlev.Context:xenstore-path], as soon as the daemon
 *   is back (attempts 50 ms after the loss, then twice as long each time,
 *   at most 2 s apart); watches are registered again and get one event
 *   each for their own path; no disaster
 *
 * What a [class@Xlev.Context] does when its connection to xenstored is
 * lost (the daemon died, was restarted or upgraded): see
 * [property@Xlev.Context:reconnect]. The values are those of the core's
 * `xlev_reconnect_policy`.
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_RECONNECT_POLICY_NEVER = XLEV_RECONNECT_NEVER,
    XLEV_RECONNECT_POLICY_AUTOMATIC = XLEV_RECONNECT_AUTOMATIC,
} XlevReconnect;

#define XLEV_TYPE_CONTEXT (xlev_context_get_type())

XLEV_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE(XlevContext, xlev_context, XLEV, CONTEXT, GObject)

XLEV_AVAILABLE_IN_1_0
XlevContext *xlev_context_new(const char *xenstore_path,
                              GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
XlevContext *xlev_context_new_full(const char *xenstore_path,
                                   XlevIntegration integration,
                                   GMainContext *main_context,
                                   GCancellable *cancellable,
                                   GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_new_async(const char *xenstore_path,
                            XlevIntegration integration,
                            GMainContext *main_context, int io_priority,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
XLEV_AVAILABLE_IN_1_0
XlevContext *xlev_context_new_finish(GAsyncResult *result, GError **error);

XLEV_AVAILABLE_IN_1_0
const char *xlev_context_get_xenstore_path(XlevContext *self);
XLEV_AVAILABLE_IN_1_0
GMainContext *xlev_context_get_main_context(XlevContext *self);
XLEV_AVAILABLE_IN_1_0
XlevIntegration xlev_context_get_integration(XlevContext *self);
XLEV_AVAILABLE_IN_1_0
XlevTransport xlev_context_get_transport(XlevContext *self);
XLEV_AVAILABLE_IN_1_0
guint xlev_context_get_timeout(XlevContext *self);
XLEV_AVAILABLE_IN_1_0
void xlev_context_set_timeout(XlevContext *self, guint timeout_ms);

/* Plain xenstore operations (xlev-xs-ops.c). */

XLEV_AVAILABLE_IN_1_0
char *xlev_context_read(XlevContext *self, const char *path,
                        GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
GBytes *xlev_context_read_bytes(XlevContext *self, const char *path,
                                GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_read_bytes_async(XlevContext *self, const char *path,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
XLEV_AVAILABLE_IN_1_0
GBytes *xlev_context_read_bytes_finish(XlevContext *self,
                                       GAsyncResult *result, GError **error);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_write_bytes(XlevContext *self, const char *path,
                                  GBytes *value, GCancellable *cancellable,
                                  GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_write_bytes_async(XlevContext *self, const char *path,
                                    GBytes *value, GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_write_bytes_finish(XlevContext *self,
                                         GAsyncResult *result,
                                         GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_read_async(XlevContext *self, const char *path,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
XLEV_AVAILABLE_IN_1_0
char *xlev_context_read_finish(XlevContext *self, GAsyncResult *result,
                               GError **error);

XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_write(XlevContext *self, const char *path,
                            const char *value, GCancellable *cancellable,
                            GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_write_async(XlevContext *self, const char *path,
                              const char *value, GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_write_finish(XlevContext *self, GAsyncResult *result,
                                   GError **error);

XLEV_AVAILABLE_IN_1_0
char **xlev_context_directory(XlevContext *self, const char *path,
                              GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_directory_async(XlevContext *self, const char *path,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
XLEV_AVAILABLE_IN_1_0
char **xlev_context_directory_finish(XlevContext *self, GAsyncResult *result,
                                     GError **error);

XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_rm(XlevContext *self, const char *path,
                         GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_rm_async(XlevContext *self, const char *path,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_rm_finish(XlevContext *self, GAsyncResult *result,
                                GError **error);

XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_exists(XlevContext *self, const char *path,
                             GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_exists_async(XlevContext *self, const char *path,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_exists_finish(XlevContext *self, GAsyncResult *result,
                                    GError **error);

XLEV_AVAILABLE_IN_1_0
XlevReconnect xlev_context_get_reconnect(XlevContext *self);
XLEV_AVAILABLE_IN_1_0
void xlev_context_set_reconnect(XlevContext *self, XlevReconnect policy);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_get_connected(XlevContext *self);

G_END_DECLS
