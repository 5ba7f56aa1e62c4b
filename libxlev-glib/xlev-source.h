/* xlev-source.h: the core's beforepoll/afterpoll cycle as a GSource
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <glib.h>

#include "xlev-version-macros.h"
#include "xlev-context.h"

G_BEGIN_DECLS

XLEV_AVAILABLE_IN_1_0
GSource *xlev_source_new(XlevContext *context);

G_END_DECLS
