/* xlev.h: libxlev-glib, Xen events in a GLib main loop
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The one header applications include. It brings the GObject layer
 * (XlevContext, XlevWatch, XlevTimeout, XlevSource, the XLEV_ERROR domain)
 * and the plain-C core underneath it (core/xlev-event.h).
 */
#pragma once

#define XLEV_INSIDE

#include <glib-object.h>
#include <gio/gio.h>

#include "xlev-version-macros.h"
#include "xlev-version.h"
#include "core/xlev-event.h"
#include "xlev-enums.h"
#include "xlev-error.h"
#include "xlev-context.h"
#include "xlev-source.h"
#include "xlev-watch.h"
#include "xlev-timeout.h"
#include "xlev-domain-monitor.h"
#include "xlev-domain.h"
#include "xlev-domain-list.h"
#include "xlev-wait.h"
#include "xlev-permission.h"
#include "xlev-transaction.h"

#undef XLEV_INSIDE
