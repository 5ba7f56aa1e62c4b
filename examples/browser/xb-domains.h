/* xb-domains.h: the domains xenstored knows, live, with their state
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * XbDomains is a GListModel of XbDomain, sorted by domid: one per domain
 * of the library's XlevDomainList (the domains xenstored knows, with their
 * names and their state from the hypervisor: running, shut down with the
 * reason, crashed), plus the domains that list has dropped because they
 * died, marked dead, until their /local/domain directory goes. Without a
 * hypervisor (XlevDomainList:has-hypervisor) the state says so.
 *
 * This file is the one place that knows where the list of domains comes
 * from. The window sees only this small interface: xb_domains_new(),
 * xb_domains_get_model() (a GListModel whose items are XbDomain),
 * xb_domains_stop(), and an item's domid, name, state, state id and icon,
 * each with a notify signal.
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

/* Fails if the domain list cannot be made (see xlev_domain_list_new()). */
XbDomains *xb_domains_new(XlevContext *ctx, GError **error);
/* The list of XbDomain (transfer none). */
GListModel *xb_domains_get_model(XbDomains *self);
/* Stops following the domains (the list, the watches of dead domains'
 * directories and the reads). Idempotent. */
void xb_domains_stop(XbDomains *self);

G_END_DECLS
