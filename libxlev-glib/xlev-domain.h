/* xlev-domain.h: one Xen domain as an object with live properties
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * An XlevDomain is made and kept up to date by an XlevDomainList (see
 * xlev-domain-list.h); applications read its properties and connect to
 * `notify`. Its properties change, and `notify` is emitted, in the main
 * context of the list's XlevContext.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <glib-object.h>

#include "xlev-version-macros.h"
#include "xlev-domain-monitor.h"

G_BEGIN_DECLS

/**
 * XlevDomainState:
 * @XLEV_DOMAIN_STATE_RUNNING: the domain exists and has not shut down
 *   (it may be paused or blocked: xenstore does not say)
 * @XLEV_DOMAIN_STATE_SHUTDOWN: the domain has shut down, for the reason in
 *   [property@Xlev.Domain:shutdown-reason]; it still exists until the
 *   toolstack destroys, restarts or resumes it
 * @XLEV_DOMAIN_STATE_DYING: the hypervisor is destroying the domain; its
 *   [class@Xlev.DomainList] drops it (and it becomes
 *   [enum@Xlev.DomainState.GONE]) as soon as the death is reported. Only a
 *   domain already dying when the list was made is seen in this state.
 * @XLEV_DOMAIN_STATE_GONE: the domain is being destroyed or no longer
 *   exists; its [class@Xlev.DomainList] has dropped it
 *
 * Without the hypervisor ([property@Xlev.DomainList:has-hypervisor] is
 * %FALSE) xenstore alone cannot tell a shut down or dying domain from a
 * running one: every domain is [enum@Xlev.DomainState.RUNNING] until it
 * is dropped.
 *
 * Where a domain is in its life, as [property@Xlev.Domain:state] reports.
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_DOMAIN_STATE_RUNNING,
    XLEV_DOMAIN_STATE_SHUTDOWN,
    XLEV_DOMAIN_STATE_DYING,
    XLEV_DOMAIN_STATE_GONE,
} XlevDomainState;

#define XLEV_TYPE_DOMAIN (xlev_domain_get_type())

XLEV_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE(XlevDomain, xlev_domain, XLEV, DOMAIN, GObject)

XLEV_AVAILABLE_IN_1_0
guint xlev_domain_get_domid(XlevDomain *self);
XLEV_AVAILABLE_IN_1_0
const char *xlev_domain_get_name(XlevDomain *self);
XLEV_AVAILABLE_IN_1_0
const char *xlev_domain_get_uuid(XlevDomain *self);
XLEV_AVAILABLE_IN_1_0
XlevDomainState xlev_domain_get_state(XlevDomain *self);
XLEV_AVAILABLE_IN_1_0
XlevShutdownReason xlev_domain_get_shutdown_reason(XlevDomain *self);

G_END_DECLS
