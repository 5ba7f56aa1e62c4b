/* xb-control.h: shutdown, reboot and suspend requests, and their answer
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * A toolstack asks a guest to power off, reboot or suspend by writing
 * "poweroff", "reboot" or "suspend" to /local/domain/<domid>/control/shutdown
 * (docs/misc/xenstore-paths.pandoc); the guest's PV driver acknowledges by
 * clearing the node (writing "" or removing it) and then does it. XbControl
 * sends such requests and follows each one with an XlevWatch on the node:
 *
 *   NONE ──request──► SENDING ──write done──► REQUESTED ──node cleared──►
 *                        │                                ACKNOWLEDGED
 *                        └──write failed──► FAILED
 *
 * A new request for the same domain replaces the old one. Everything is
 * asynchronous and happens in the thread-default main context of the
 * thread that made the XbControl.
 */
#pragma once

#include <gio/gio.h>
#include <xlev.h>

G_BEGIN_DECLS

typedef enum {
    XB_REQUEST_NONE,
    XB_REQUEST_SENDING,
    XB_REQUEST_REQUESTED,
    XB_REQUEST_ACKNOWLEDGED,
    XB_REQUEST_FAILED,
} XbRequestState;

#define XB_TYPE_CONTROL (xb_control_get_type())
G_DECLARE_FINAL_TYPE(XbControl, xb_control, XB, CONTROL, GObject)

XbControl *xb_control_new(XlevContext *ctx);
/* Cancels every write, read and watch. Idempotent. */
void xb_control_stop(XbControl *self);

/* Whether @mode is a request a guest understands: "poweroff", "reboot",
 * "suspend". */
gboolean xb_control_mode_is_valid(const char *mode);

/* Writes @mode to @domid's control/shutdown and follows the answer. The
 * callback runs once the write is done (not when the guest answers: the
 * "changed" signal tells that). */
void xb_control_request_async(XbControl *self, guint domid, const char *mode,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean xb_control_request_finish(XbControl *self, GAsyncResult *result,
                                   GError **error);

/* The last request for @domid: its state and mode (NULL if none). */
XbRequestState xb_control_get_state(XbControl *self, guint domid,
                                    const char **mode);
/* The same as text for people, translated; NULL if there is none. */
char *xb_control_describe(XbControl *self, guint domid);
/* The same for scripts and tests: "<mode>:requested",
 * "<mode>:acknowledged", "<mode>:failed", "<mode>:sending", or "none". */
char *xb_control_get_state_id(XbControl *self, guint domid);

/* XbControl::changed (guint domid): a request's state changed. */

G_END_DECLS
