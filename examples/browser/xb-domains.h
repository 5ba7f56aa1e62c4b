/* xb-domains.h: the domains xenstored knows, live, with their state
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * XbDomains is a GListModel of XbDomain, sorted by domid: one per
 * /local/domain/<domid> directory (listed with the async API whenever an
 * XlevWatch on /local/domain says a domain directory came or went), with
 * its name (/local/domain/<domid>/name) and its state from the library's
 * XlevDomainMonitor of all domains: running, shut down with the reason,
 * crashed, dead (dying or gone). Without a hypervisor no monitor is made
 * and the state says so.
 *
 * This file is the one place that knows where the list of domains comes
 * from. The window sees only this small interface: xb_domains_new(),
 * xb_domains_get_model() (a GListModel whose items are XbDomain),
 * xb_domains_stop(), and an item's domid, name, state, state id and icon,
 * each with a notify signal. A list of domains provided by the library
 * can replace the XlevDomainMonitor-based one here by wrapping its items
 * (a GtkMapListModel, say) without a change to the window.
 */
#pragma once

#include <gio/gio.h>
#include <xlev.h>

G_BEGIN_DECLS

#define XB_TYPE_DOMAIN (xb_domain_get_type())
G_DECLARE_FINAL_TYPE(XbDomain, xb_domain, XB, DOMAIN, GObject)

guint xb_domain_get_domid(XbDomain *self);
const char *xb_domain_get_name(XbDomain *self);
/* A translated, human-readable state. */
const char *xb_domain_get_state(XbDomain *self);
/* The same, untranslated and stable, for scripts and tests: "running",
 * "shutdown:<reason nick>", "dead", "unknown". */
const char *xb_domain_get_state_id(XbDomain *self);
/* A symbolic icon name for the state: running, shut down, crashed, dying
 * or gone, unknown. Changes with "state-id". */
const char *xb_domain_get_icon_name(XbDomain *self);

#define XB_TYPE_DOMAINS (xb_domains_get_type())
G_DECLARE_FINAL_TYPE(XbDomains, xb_domains, XB, DOMAINS, GObject)

/* Fails if /local/domain cannot be watched. */
XbDomains *xb_domains_new(XlevContext *ctx, GError **error);
/* The list of XbDomain (transfer none). */
GListModel *xb_domains_get_model(XbDomains *self);
/* Cancels the watch, the monitors and the reads. Idempotent. */
void xb_domains_stop(XbDomains *self);

G_END_DECLS
