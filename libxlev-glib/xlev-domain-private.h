/* xlev-domain-private.h: what XlevDomainList uses to keep an XlevDomain
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#include "xlev-domain.h"

G_BEGIN_DECLS

/* A running domain with no name or uuid known yet. */
XlevDomain *xlev_domain_new(guint domid);

/* Each setter notifies only when the value changes. @name and @uuid may be
 * NULL (not known). */
void xlev_domain_set_name(XlevDomain *self, const char *name);
void xlev_domain_set_uuid(XlevDomain *self, const char *uuid);
void xlev_domain_set_shutdown(XlevDomain *self, XlevShutdownReason reason);
void xlev_domain_set_dying(XlevDomain *self);
void xlev_domain_set_gone(XlevDomain *self);

G_END_DECLS
