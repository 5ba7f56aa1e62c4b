/* xlev-version-macros.h: symbol visibility and availability annotations
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * GLib-free, so that the core's public header can use it too.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#ifndef _XLEV_EXTERN
#define _XLEV_EXTERN __attribute__((visibility("default"))) extern
#endif

/**
 * XLEV_AVAILABLE_IN_1_0:
 *
 * Marks a symbol as part of the 1.0 API and exports it from the library.
 * The library is built with `-fvisibility=hidden`: what is not annotated is
 * not exported.
 */
#define XLEV_AVAILABLE_IN_1_0 _XLEV_EXTERN

#define XLEV_AVAILABLE_IN_ALL _XLEV_EXTERN
