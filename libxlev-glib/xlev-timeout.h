/* xlev-timeout.h: a monotonic timeout whose expiry is a GObject signal
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

#define XLEV_TYPE_TIMEOUT (xlev_timeout_get_type())

XLEV_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE(XlevTimeout, xlev_timeout, XLEV, TIMEOUT, GObject)

XLEV_AVAILABLE_IN_1_0
XlevTimeout *xlev_context_timeout(XlevContext *context, guint ms,
                                  GError **error);
XLEV_AVAILABLE_IN_1_0
XlevTimeout *xlev_context_timeout_at(XlevContext *context, GDateTime *when,
                                     GError **error);

XLEV_AVAILABLE_IN_1_0
XlevContext *xlev_timeout_get_context(XlevTimeout *self);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_timeout_get_pending(XlevTimeout *self);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_timeout_reschedule(XlevTimeout *self, guint ms, GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_timeout_cancel(XlevTimeout *self);

G_END_DECLS
