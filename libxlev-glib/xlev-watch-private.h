/* xlev-watch-private.h: what the library's tests may reach of XlevWatch
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#include "xlev-watch.h"

G_BEGIN_DECLS

/* A test seam: hands @event_path to @self as the core's watch callback
 * would, in the thread iterating the context's main context (the one the
 * core calls back in), and queues it for delivery by the next dispatch.
 * For events no real daemon sends (a path that is not UTF-8: both refuse
 * such nodes and such watches). @self must be active. */
void xlev_watch_inject_event(XlevWatch *self, const char *event_path);

G_END_DECLS
