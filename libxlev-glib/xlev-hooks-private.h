/* xlev-hooks-private.h: the core's osevent hooks, backed by GLib sources
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#include "xlev-dispatch-private.h"

G_BEGIN_DECLS

typedef struct _XlevGlibHooks XlevGlibHooks;

/* Installs hooks on @core that keep one GLib source per fd and one per
 * timeout in @main_context; their dispatches run the core through
 * @dispatch (xlev_dispatch_begin() .. _end()). Returns 0 or the core's error. On
 * success *hooks_out must be released with xlev_glib_hooks_unref() after
 * the core context has been freed. */
int xlev_glib_hooks_install(XlevDispatch *dispatch, xlev_ctx *core,
                            GMainContext *main_context,
                            XlevGlibHooks **hooks_out);

void xlev_glib_hooks_unref(XlevGlibHooks *hooks);

G_END_DECLS
