/* xlev-source-private.h: making an XlevSource inside the library
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#include "xlev-source.h"
#include "xlev-dispatch-private.h"

G_BEGIN_DECLS

/* What xlev_source_new() does, given the context's delivery module
 * rather than the context, so that this file never calls up into
 * xlev-context.c. Returns a new, unattached source holding a reference
 * to @dispatch. */
GSource *xlev_source_new_for_dispatch(XlevDispatch *dispatch);

G_END_DECLS
