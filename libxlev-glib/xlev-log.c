/* xlev-log.c: the core's log messages, bridged to GLib structured logging
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The library never writes to stderr itself: what the core logs goes to
 * g_log_structured_array() in the "Xlev" domain (G_LOG_DOMAIN), where the
 * application's log writer decides what to show.
 *
 * Levels. The core logs with syslog's levels and promises (xlev-event.h,
 * xlev_set_default_logger()) that every failure it logs is also returned
 * to its caller (here: a GError) or raised to the disaster hook (here:
 * XlevContext::disaster). GLib keeps G_LOG_LEVEL_WARNING and
 * G_LOG_LEVEL_CRITICAL for problems nobody else is told about and for
 * programmer errors, and G_DEBUG=fatal-warnings makes them abort. So:
 *
 *   LOG_EMERG, LOG_ALERT,  G_LOG_LEVEL_DEBUG: the failure also reaches
 *   LOG_CRIT, LOG_ERR      the application as a GError or ::disaster;
 *                          logging it louder would show it twice (and a
 *                          daemon's failure must never abort a program
 *                          run with G_DEBUG=fatal-warnings)
 *   LOG_WARNING            G_LOG_LEVEL_MESSAGE: a degraded state nobody
 *                          else hears about (an fd left without
 *                          close-on-exec, a first look postponed), never
 *                          fatal
 *   LOG_NOTICE, LOG_INFO   G_LOG_LEVEL_INFO
 *   LOG_DEBUG and beyond   G_LOG_LEVEL_DEBUG
 *
 * The core's own level is kept in the XLEV_SYSLOG_PRIORITY field, so a
 * structured writer (the journal) can still tell an error from a debug
 * message. GLib's PRIORITY field follows the GLib level.
 */
#include "xlev-log-private.h"

#include <syslog.h>

/* GLib's own PRIORITY for @flags, as g_log_structured() sets it. */
static const char *
glib_priority(GLogLevelFlags flags)
{
    switch (flags) {
    case G_LOG_LEVEL_MESSAGE:
        return "5";
    case G_LOG_LEVEL_INFO:
        return "6";
    case G_LOG_LEVEL_DEBUG:
    default:
        return "7";
    }
}

static GLogLevelFlags
glib_level(int level)
{
    if (level <= LOG_ERR)
        return G_LOG_LEVEL_DEBUG;
    if (level == LOG_WARNING)
        return G_LOG_LEVEL_MESSAGE;
    if (level <= LOG_INFO)
        return G_LOG_LEVEL_INFO;
    return G_LOG_LEVEL_DEBUG;
}

void
xlev_log_bridge(void *user, int level, const char *msg)
{
    GLogLevelFlags flags = glib_level(level);
    char syslog_priority[16];
    const GLogField fields[] = {
        { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
        { "PRIORITY", glib_priority(flags), -1 },
        { "MESSAGE", msg, -1 },
        { "XLEV_SYSLOG_PRIORITY", syslog_priority, -1 },
    };

    g_snprintf(syslog_priority, sizeof(syslog_priority), "%d", level);
    g_log_structured_array(flags, fields, G_N_ELEMENTS(fields));
}

void
xlev_log_bridge_install(void)
{
    static gsize installed = 0;

    if (g_once_init_enter(&installed)) {
        xlev_set_default_logger(xlev_log_bridge, NULL);
        g_once_init_leave(&installed, 1);
    }
}
