/* xlev-version-macros.h: symbol visibility and availability annotations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * GLib-free. The export macros themselves come from the core's
 * core/xlev-visibility.h, so that there is one definition.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

/**
 * XLEV_AVAILABLE_IN_1_0:
 *
 * Marks a symbol as part of the 1.0 API and exports it from the library.
 * The library is built with `-fvisibility=hidden`: what is not annotated is
 * not exported.
 */
#include "core/xlev-visibility.h" /* _XLEV_EXTERN, XLEV_AVAILABLE_IN_1_0 */

#define XLEV_AVAILABLE_IN_ALL _XLEV_EXTERN
