/* xlev-error.h: the XLEV_ERROR GError domain
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <glib.h>

#include "xlev-version-macros.h"
#include "core/xlev-event.h"

G_BEGIN_DECLS

/**
 * XLEV_ERROR:
 *
 * The error domain of libxlev-glib. Codes are [error@Xlev.Error].
 *
 * Since: 1.0
 */
#define XLEV_ERROR (xlev_error_quark())

/**
 * XlevError:
 * @XLEV_ERROR_CODE_FAIL: an operation failed for a reason not listed here
 * @XLEV_ERROR_CODE_NOMEM: out of memory
 * @XLEV_ERROR_CODE_INVAL: invalid argument: a path that is %NULL, empty,
 *   relative, too long, not valid UTF-8 or otherwise not a xenstore path
 * @XLEV_ERROR_CODE_NOT_READY: nothing to report yet
 * @XLEV_ERROR_CODE_OSEVENT_REG_FAIL: the main loop integration could not
 *   register a file descriptor or a timeout
 * @XLEV_ERROR_CODE_BUFFERFULL: a buffer was too small (internal)
 * @XLEV_ERROR_CODE_NOENT: no such xenstore path
 * @XLEV_ERROR_CODE_PERM: permission denied by xenstored
 * @XLEV_ERROR_CODE_XENSTORE: the xenstore daemon cannot be reached or the
 *   connection to it was lost
 * @XLEV_ERROR_CODE_NO_HYPERVISOR: Xen is not running
 * @XLEV_ERROR_CODE_BROKEN: the context is unusable after a disaster
 *
 * Error codes of the %XLEV_ERROR domain.
 *
 * Each code has the value of the core's error of the same name, so C code
 * may also compare with the core's constants:
 * `g_error_matches (error, XLEV_ERROR, XLEV_ERROR_INVAL)` is the same test
 * as `g_error_matches (error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL)`.
 * (The values are negative, as in the core.)
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_ERROR_CODE_FAIL = XLEV_ERROR_FAIL,
    XLEV_ERROR_CODE_NOMEM = XLEV_ERROR_NOMEM,
    XLEV_ERROR_CODE_INVAL = XLEV_ERROR_INVAL,
    XLEV_ERROR_CODE_NOT_READY = XLEV_ERROR_NOT_READY,
    XLEV_ERROR_CODE_OSEVENT_REG_FAIL = XLEV_ERROR_OSEVENT_REG_FAIL,
    XLEV_ERROR_CODE_BUFFERFULL = XLEV_ERROR_BUFFERFULL,
    XLEV_ERROR_CODE_NOENT = XLEV_ERROR_NOENT,
    XLEV_ERROR_CODE_PERM = XLEV_ERROR_PERM,
    XLEV_ERROR_CODE_XENSTORE = XLEV_ERROR_XENSTORE,
    XLEV_ERROR_CODE_NO_HYPERVISOR = XLEV_ERROR_NO_HYPERVISOR,
    XLEV_ERROR_CODE_BROKEN = XLEV_ERROR_BROKEN,
} XlevError;

XLEV_AVAILABLE_IN_1_0
GQuark xlev_error_quark(void);

G_END_DECLS
