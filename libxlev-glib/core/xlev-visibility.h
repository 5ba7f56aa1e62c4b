/* xlev-visibility.h: symbol visibility for the core's public headers
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The core is built with -fvisibility=hidden: what its public headers do not
 * mark with XLEV_AVAILABLE_IN_1_0 is not exported. The core keeps this
 * header of its own so that it includes nothing outside core/. The GObject
 * layer's xlev-version-macros.h defines the same macros with the same
 * replacement lists (a benign redefinition in C), so either header may come
 * first.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#ifndef _XLEV_EXTERN
#define _XLEV_EXTERN __attribute__((visibility("default"))) extern
#endif

#ifndef XLEV_AVAILABLE_IN_1_0
#define XLEV_AVAILABLE_IN_1_0 _XLEV_EXTERN
#endif
