/* xlev-watch.h: a xenstore watch whose events are GObject signals
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <glib-object.h>

#include "xlev-version-macros.h"
#include "xlev-context.h"

G_BEGIN_DECLS

/**
 * XlevWatchFlags:
 * @XLEV_WATCH_FLAGS_NONE: no flags
 * @XLEV_WATCH_FLAGS_SKIP_INITIAL: do not emit [signal@Xlev.Watch::changed]
 *   for the event xenstored sends as soon as a watch is registered
 *
 * Flags for [method@Xlev.Context.watch].
 *
 * Since: 1.0
 */
typedef enum /*< flags >*/ {
    XLEV_WATCH_FLAGS_NONE = 0,
    XLEV_WATCH_FLAGS_SKIP_INITIAL = 1 << 0,
} XlevWatchFlags;

#define XLEV_TYPE_WATCH (xlev_watch_get_type())

XLEV_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE(XlevWatch, xlev_watch, XLEV, WATCH, GObject)

XLEV_AVAILABLE_IN_1_0
XlevWatch *xlev_context_watch(XlevContext *context, const char *path,
                              XlevWatchFlags flags, GError **error);

XLEV_AVAILABLE_IN_1_0
XlevContext *xlev_watch_get_context(XlevWatch *self);
XLEV_AVAILABLE_IN_1_0
const char *xlev_watch_get_path(XlevWatch *self);
XLEV_AVAILABLE_IN_1_0
XlevWatchFlags xlev_watch_get_flags(XlevWatch *self);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_watch_get_active(XlevWatch *self);
XLEV_AVAILABLE_IN_1_0
void xlev_watch_cancel(XlevWatch *self);
XLEV_AVAILABLE_IN_1_0
gint xlev_watch_get_rate_limit(XlevWatch *self);
XLEV_AVAILABLE_IN_1_0
void xlev_watch_set_rate_limit(XlevWatch *self, gint limit_ms);

G_END_DECLS
