/* xlev-domain-monitor.h: domain lifecycle events as GObject signals
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The contract, in short:
 *  - An XlevDomainMonitor is made from an XlevContext, for one domain
 *    (xlev_context_monitor_domain) or for every domain
 *    (xlev_context_monitor_all_domains): the domains there when it is made
 *    (xlev_domain_monitor_list_domains) and those introduced later (the
 *    `introduced` signal), each followed until it dies.
 *  - Its signals are emitted in the context's GMainContext, as the
 *    context's other objects' are.
 *  - Dropping the last reference (or xlev_domain_monitor_cancel) disables
 *    it: nothing is emitted after that.
 *  - The GObject layer owns the domain-event delivery of its context's
 *    core (xlev_event_register_callbacks): do not install hooks of your own
 *    on the xlev_ctx of an XlevContext.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <glib-object.h>

#include "xlev-version-macros.h"
#include "xlev-context.h"

G_BEGIN_DECLS

/**
 * XlevShutdownReason:
 * @XLEV_SHUTDOWN_REASON_POWEROFF: the guest powered off
 * @XLEV_SHUTDOWN_REASON_REBOOT: the guest asked to be rebooted
 * @XLEV_SHUTDOWN_REASON_SUSPEND: the guest suspended itself (for a save
 *   or a migration)
 * @XLEV_SHUTDOWN_REASON_CRASH: the guest crashed
 * @XLEV_SHUTDOWN_REASON_WATCHDOG: the guest's watchdog fired
 * @XLEV_SHUTDOWN_REASON_SOFT_RESET: the guest asked for a soft reset
 *
 * Why a domain shut down, as in [signal@Xlev.DomainMonitor::shutdown].
 * The values are Xen's `SHUTDOWN_*` codes (and the core's
 * `xlev_shutdown_reason`). A guest may give another code; it is passed on
 * unchanged.
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_SHUTDOWN_REASON_POWEROFF = XLEV_SHUTDOWN_POWEROFF,
    XLEV_SHUTDOWN_REASON_REBOOT = XLEV_SHUTDOWN_REBOOT,
    XLEV_SHUTDOWN_REASON_SUSPEND = XLEV_SHUTDOWN_SUSPEND,
    XLEV_SHUTDOWN_REASON_CRASH = XLEV_SHUTDOWN_CRASH,
    XLEV_SHUTDOWN_REASON_WATCHDOG = XLEV_SHUTDOWN_WATCHDOG,
    XLEV_SHUTDOWN_REASON_SOFT_RESET = XLEV_SHUTDOWN_SOFT_RESET,
} XlevShutdownReason;

/**
 * XLEV_DOMAIN_MONITOR_ALL_DOMAINS:
 *
 * The [property@Xlev.DomainMonitor:domid] of a monitor made with
 * [method@Xlev.Context.monitor_all_domains]: %G_MAXUINT, never a domid
 * (those are below 0x7FF0).
 *
 * Since: 1.0
 */
/* The cast gives the constant its type for the introspection scanner too
 * (an unsigned int, so bindings see 4294967295, not -1). */
#define XLEV_DOMAIN_MONITOR_ALL_DOMAINS ((guint)0xFFFFFFFFU)

#define XLEV_TYPE_DOMAIN_MONITOR (xlev_domain_monitor_get_type())

XLEV_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE(XlevDomainMonitor, xlev_domain_monitor, XLEV,
                     DOMAIN_MONITOR, GObject)

XLEV_AVAILABLE_IN_1_0
XlevDomainMonitor *xlev_context_monitor_domain(XlevContext *context,
                                               guint domid, GError **error);
XLEV_AVAILABLE_IN_1_0
XlevDomainMonitor *xlev_context_monitor_all_domains(XlevContext *context,
                                                    GError **error);

XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_has_hypervisor(XlevContext *context);

XLEV_AVAILABLE_IN_1_0
XlevDomainMonitor *xlev_domain_monitor_new(XlevContext *context, guint domid,
                                           GError **error);
XLEV_AVAILABLE_IN_1_0
XlevDomainMonitor *xlev_domain_monitor_new_all(XlevContext *context,
                                               GError **error);

XLEV_AVAILABLE_IN_1_0
gboolean xlev_domain_monitor_watch_disk(XlevDomainMonitor *self,
                                        const char *vdev, GError **error);

XLEV_AVAILABLE_IN_1_0
GArray *xlev_domain_monitor_list_domains(XlevDomainMonitor *self);

XLEV_AVAILABLE_IN_1_0
XlevContext *xlev_domain_monitor_get_context(XlevDomainMonitor *self);
XLEV_AVAILABLE_IN_1_0
guint xlev_domain_monitor_get_domid(XlevDomainMonitor *self);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_domain_monitor_get_active(XlevDomainMonitor *self);
XLEV_AVAILABLE_IN_1_0
void xlev_domain_monitor_cancel(XlevDomainMonitor *self);

G_END_DECLS
