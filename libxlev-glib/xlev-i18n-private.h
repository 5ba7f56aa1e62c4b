/* xlev-i18n-private.h: translated messages inside the library
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * GETTEXT_PACKAGE ("libxlev-glib-1.0") and LOCALEDIR come from meson. The
 * library binds its own text domain once, the first time a message is
 * looked up; it never calls textdomain(), which is the application's.
 *
 * XLEV_LOCALEDIR, if set and not empty when the domain is bound, replaces
 * LOCALEDIR: the tests point it at the build tree's po/ directory (where
 * meson compiles <lang>/LC_MESSAGES/libxlev-glib-1.0.mo) to check
 * translations without installing them.
 */
#pragma once

#ifndef GETTEXT_PACKAGE
#error "GETTEXT_PACKAGE must be defined by the build system"
#endif

#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

void xlev_i18n_init(void);

G_END_DECLS
