/* xlev-domain-list.h: the domains, as a live GListModel of XlevDomain
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <gio/gio.h>

#include "xlev-version-macros.h"
#include "xlev-context.h"
#include "xlev-domain.h"

G_BEGIN_DECLS

#define XLEV_TYPE_DOMAIN_LIST (xlev_domain_list_get_type())

XLEV_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE(XlevDomainList, xlev_domain_list, XLEV, DOMAIN_LIST,
                     GObject)

XLEV_AVAILABLE_IN_1_0
XlevDomainList *xlev_domain_list_new(XlevContext *context, GError **error);
XLEV_AVAILABLE_IN_1_0
XlevContext *xlev_domain_list_get_context(XlevDomainList *self);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_domain_list_get_has_hypervisor(XlevDomainList *self);
XLEV_AVAILABLE_IN_1_0
XlevDomain *xlev_domain_list_lookup(XlevDomainList *self, guint domid);

G_END_DECLS
