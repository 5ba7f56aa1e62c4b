/* xlev-error-private.h: turning core return codes into GErrors
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#include <glib.h>

#include "xlev-error.h"

G_BEGIN_DECLS

/* The GError code for a core return code @rc (a negative XLEV_ERROR_*; a
 * positive value, which only a failing osevent hook returns, becomes
 * XLEV_ERROR_CODE_OSEVENT_REG_FAIL; an unknown negative one
 * XLEV_ERROR_CODE_FAIL), and back (an unknown GError code gives
 * XLEV_ERROR_FAIL). One table in xlev-error.c holds both directions. */
XlevError xlev_error_code_from_core(int rc);
int xlev_error_code_to_core(XlevError code);

/* Sets @error (if not NULL) to an XLEV_ERROR whose code is
 * xlev_error_code_from_core(@rc). The message is @format (already
 * translated by the caller), ": ", and a translated description of the
 * code. */
void xlev_error_from_core(GError **error, int rc, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* Checks a xenstore path given by the caller: NULL, empty, invalid UTF-8,
 * too long, relative or otherwise refused by xlev_xs_path_is_valid() set an
 * XLEV_ERROR_INVAL naming the problem and return FALSE. */
gboolean xlev_check_path(const char *path, GError **error);

G_END_DECLS
