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
 *   relative, too long, not valid UTF-8 or otherwise not a xenstore path,
 *   a timeout that is too long, a domid or disk name that names nothing
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
 * @XLEV_ERROR_CODE_EXIST: the xenstore node already exists
 * @XLEV_ERROR_CODE_TOO_BIG: a path, value, request or reply is too long for
 *   xenstore, or there are too many watches or transactions
 * @XLEV_ERROR_CODE_NOSPC: xenstored's node or size quota is exhausted
 * @XLEV_ERROR_CODE_QUOTA: a xenstore quota is exceeded
 * @XLEV_ERROR_CODE_AGAIN: a transaction conflicted with another change:
 *   retry it
 * @XLEV_ERROR_CODE_BUSY: xenstored is busy (a live update)
 * @XLEV_ERROR_CODE_ISDIR: the xenstore node has children
 * @XLEV_ERROR_CODE_READONLY: the xenstore connection is read-only
 * @XLEV_ERROR_CODE_MFILE: too many open files
 * @XLEV_ERROR_CODE_NOTEMPTY: the xenstore node is not empty
 * @XLEV_ERROR_CODE_NOSYS: xenstored does not support the operation
 * @XLEV_ERROR_CODE_PROTOCOL: xenstored broke the wire protocol (or sent
 *   an error this library does not know)
 * @XLEV_ERROR_CODE_TIMED_OUT: a time limit passed: xenstored did not answer
 *   within the context's [property@Xlev.Context:timeout], or a wait
 *   ([method@Xlev.Context.wait_async]) ended before the node became what it
 *   was waiting for
 * @XLEV_ERROR_CODE_NOT_INITIALIZED: the [class@Xlev.Context] was made with
 *   `g_object_new()` (or `Xlev.Context()` in a binding) and never
 *   initialised with [method@Gio.Initable.init] or
 *   [method@Gio.AsyncInitable.init_async], or its initialisation failed
 *
 * Error codes of the %XLEV_ERROR domain.
 *
 * As in GLib's own error domains the codes are non-negative, and
 * %XLEV_ERROR_CODE_FAIL, the catch-all, is 0. Each up to
 * %XLEV_ERROR_CODE_BROKEN stands for the core's
 * error of the same name (`XLEV_ERROR_INVAL` for %XLEV_ERROR_CODE_INVAL),
 * whose values are negative, as libxl's are: compare a #GError's code with
 * these names only, never with the core's constants.
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_ERROR_CODE_FAIL = 0,
    XLEV_ERROR_CODE_NOMEM = 1,
    XLEV_ERROR_CODE_INVAL = 2,
    XLEV_ERROR_CODE_NOT_READY = 3,
    XLEV_ERROR_CODE_OSEVENT_REG_FAIL = 4,
    XLEV_ERROR_CODE_BUFFERFULL = 5,
    XLEV_ERROR_CODE_NOENT = 6,
    XLEV_ERROR_CODE_PERM = 7,
    XLEV_ERROR_CODE_XENSTORE = 8,
    XLEV_ERROR_CODE_NO_HYPERVISOR = 9,
    XLEV_ERROR_CODE_BROKEN = 10,
    XLEV_ERROR_CODE_EXIST = 11,
    XLEV_ERROR_CODE_TOO_BIG = 12,
    XLEV_ERROR_CODE_NOSPC = 13,
    XLEV_ERROR_CODE_QUOTA = 14,
    XLEV_ERROR_CODE_AGAIN = 15,
    XLEV_ERROR_CODE_BUSY = 16,
    XLEV_ERROR_CODE_ISDIR = 17,
    XLEV_ERROR_CODE_READONLY = 18,
    XLEV_ERROR_CODE_MFILE = 19,
    XLEV_ERROR_CODE_NOTEMPTY = 20,
    XLEV_ERROR_CODE_NOSYS = 21,
    XLEV_ERROR_CODE_PROTOCOL = 22,
    XLEV_ERROR_CODE_TIMED_OUT = 23,
    XLEV_ERROR_CODE_NOT_INITIALIZED = 24,
} XlevError;

XLEV_AVAILABLE_IN_1_0
GQuark xlev_error_quark(void);

G_END_DECLS
