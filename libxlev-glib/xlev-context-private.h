/* xlev-context-private.h: what the objects made from an XlevContext use of
 * it
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Layers of the GObject layer, each calling only those below it:
 *
 *   XlevWatch, XlevTimeout, XlevDomainMonitor, xs operations
 *   XlevContext (xlev-context.c)
 *   XlevSource (xlev-source.c), the GLib-native hooks (xlev-glib-hooks.c)
 *   the delivery module (xlev-dispatch.c), the log bridge (xlev-log.c)
 *
 * An object queues an XlevItem on its context's XlevDispatch from its core
 * callback, and emits its signal from the item's emit function: see
 * xlev-dispatch-private.h for the way of an event and the rules a target
 * keeps.
 */
#pragma once

#include "xlev-context.h"
#include "xlev-dispatch-private.h"

G_BEGIN_DECLS

/* TRUE if @self is connected (its GInitable or GAsyncInitable init
 * succeeded); else sets XLEV_ERROR_CODE_NOT_INITIALIZED, saying so, and
 * returns FALSE. Every entry point that needs the core checks this first:
 * an object made with g_object_new() alone has none. */
gboolean xlev_context_check_ready(XlevContext *self, GError **error);

/* The core context; NULL before init (see xlev_context_check_ready), then
 * valid until the XlevContext is finalized, so for as
 * long as the caller holds a reference. */
xlev_ctx *xlev_context_get_core(XlevContext *self);

/* The context's delivery module; valid as long as the core. */
XlevDispatch *xlev_context_get_dispatch(XlevContext *self);

/* What the core's disaster hook does: may be called from any thread with
 * no lock held; ::disaster follows in the context's GMainContext. (Tests
 * call it directly: the core's disasters are hard to provoke.) */
void xlev_context_report_disaster(XlevContext *self, XlevDisaster kind,
                                  const char *message, int errnoval);

G_END_DECLS
