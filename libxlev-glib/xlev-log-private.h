/* xlev-log-private.h: the core's log messages, bridged to GLib structured
 * logging
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#include <glib.h>

#include "core/xlev-event.h"

G_BEGIN_DECLS

/* Makes xlev_log_bridge() the core's process-wide default logger, once
 * (before the first xlev_ctx_new(), so that messages written while
 * connecting are bridged too). Any thread. */
void xlev_log_bridge_install(void);

/* An xlev_log_fn: logs @msg with g_log_structured_array() in the "Xlev"
 * domain at the GLib level xlev-log.c documents for the syslog @level.
 * @user is unused. May be called with the core's lock held: calls nothing
 * of the core. */
void xlev_log_bridge(void *user, int level, const char *msg);

G_END_DECLS
