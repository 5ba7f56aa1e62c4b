/* strerror.c: what each XLEV_ERROR_* code means, in words
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * One table for every code of xlev-event.h; a pure function with no state,
 * so that the wire protocol layer (xs/xs-wire.c) and its fuzzers can use it
 * without the rest of the loop room.
 */
#include "../xlev-event.h"

const char *
xlev_strerror(int rc)
{
    if (rc > 0)
        return "failure reported by an osevent hook";

    switch (rc) {
    case XLEV_SUCCESS:
        return "success";
    case XLEV_ERROR_FAIL:
        return "operation failed";
    case XLEV_ERROR_NOMEM:
        return "out of memory";
    case XLEV_ERROR_INVAL:
        return "invalid argument";
    case XLEV_ERROR_NOT_READY:
        return "not ready";
    case XLEV_ERROR_OSEVENT_REG_FAIL:
        return "osevent hook registration failed";
    case XLEV_ERROR_BUFFERFULL:
        return "buffer too small";
    case XLEV_ERROR_NOENT:
        return "no such xenstore path";
    case XLEV_ERROR_PERM:
        return "xenstore permission denied";
    case XLEV_ERROR_XENSTORE:
        return "xenstore daemon unreachable or connection lost";
    case XLEV_ERROR_NO_HYPERVISOR:
        return "Xen hypervisor not available";
    case XLEV_ERROR_BROKEN:
        return "context broken by an earlier disaster";
    case XLEV_ERROR_EXIST:
        return "already exists";
    case XLEV_ERROR_TOO_BIG:
        return "too long for xenstore, or too many watches or transactions";
    case XLEV_ERROR_NOSPC:
        return "the xenstore daemon's node or size quota is exhausted";
    case XLEV_ERROR_QUOTA:
        return "a xenstore quota is exceeded";
    case XLEV_ERROR_AGAIN:
        return "the transaction conflicted with another change; retry it";
    case XLEV_ERROR_BUSY:
        return "the xenstore daemon is busy";
    case XLEV_ERROR_ISDIR:
        return "the xenstore node has children";
    case XLEV_ERROR_READONLY:
        return "the xenstore connection is read-only";
    case XLEV_ERROR_MFILE:
        return "too many open files";
    case XLEV_ERROR_NOTEMPTY:
        return "the xenstore node is not empty";
    case XLEV_ERROR_NOSYS:
        return "the xenstore daemon does not support the operation";
    case XLEV_ERROR_PROTOCOL:
        return "the xenstore daemon broke the wire protocol";
    case XLEV_ERROR_TIMEDOUT:
        return "the xenstore daemon did not answer in time";
    case XLEV_ERROR_CANCELLED:
        return "cancelled";
    default:
        return "unknown error";
    }
}
