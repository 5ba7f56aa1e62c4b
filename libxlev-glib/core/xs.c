/* xs.c: plain xenstore operations and path validation
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * These do not take ctx->lock: the libxenstore handle serialises its own
 * requests (request_mutex), and they touch no context state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "xlev-event-private.h"

int
xlev__xs_errno_to_rc(int errnoval)
{
    switch (errnoval) {
    case ENOENT:
        return XLEV_ERROR_NOENT;
    case EACCES:
    case EPERM:
        return XLEV_ERROR_PERM;
    case ENOMEM:
        return XLEV_ERROR_NOMEM;
    case E2BIG:
        return XLEV_ERROR_INVAL; /* value or path too large for the wire */
    default:
        return XLEV_ERROR_XENSTORE;
    }
}

/*
 * Path rules, from docs/misc/xenstore.txt: a path is either absolute
 * ('/'-rooted, components separated by single '/', no trailing '/' except
 * the root itself) or a special path starting with '@' (such as
 * "@releaseDomain"); characters are ASCII alphanumerics and "-/_@"; the
 * whole is at most XENSTORE_ABS_PATH_MAX bytes (XLEV_XS_PATH_MAX).
 * Relative paths are not accepted: a socket connection's home is not
 * something callers should depend on.
 */
static int
path_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
           c == '@';
}

static int
path_is_valid(const char *path, int allow_special)
{
    size_t len, i;

    if (!path)
        return 0;
    len = strnlen(path, XLEV_XS_PATH_MAX + 1);
    if (len == 0 || len > XLEV_XS_PATH_MAX)
        return 0;

    if (path[0] == '@') {
        if (!allow_special || len == 1)
            return 0;
        for (i = 1; i < len; i++)
            if (!path_char_ok(path[i]) || path[i] == '/' || path[i] == '@')
                return 0;
        return 1;
    }

    if (path[0] != '/')
        return 0;
    if (len == 1)
        return 1; /* the root */
    if (path[len - 1] == '/')
        return 0;
    for (i = 0; i < len; i++) {
        if (!path_char_ok(path[i]))
            return 0;
        if (path[i] == '/' && path[i + 1] == '/')
            return 0;
    }
    return 1;
}

int
xlev_xs_path_is_valid(const char *path)
{
    return path_is_valid(path, 1);
}

static int
check_args(xlev_ctx *ctx, const char *path)
{
    if (!ctx || !path_is_valid(path, 0))
        return XLEV_ERROR_INVAL;
    if (!ctx->xsh)
        return XLEV_ERROR_XENSTORE;
    return 0;
}

int
xlev_xs_read(xlev_ctx *ctx, const char *path, char **value_out,
             unsigned int *len_out)
{
    unsigned int len = 0;
    char *value;
    int rc;

    if (value_out)
        *value_out = NULL;
    if (len_out)
        *len_out = 0;
    if (!value_out)
        return XLEV_ERROR_INVAL;
    rc = check_args(ctx, path);
    if (rc)
        return rc;

    value = xs_read(ctx->xsh, XBT_NULL, path, &len);
    if (!value)
        return xlev__xs_errno_to_rc(errno);
    *value_out = value; /* libxenstore NUL-terminates it */
    if (len_out)
        *len_out = len;
    return 0;
}

int
xlev_xs_write(xlev_ctx *ctx, const char *path, const void *value,
              unsigned int len)
{
    int rc;

    if (!value && len)
        return XLEV_ERROR_INVAL;
    rc = check_args(ctx, path);
    if (rc)
        return rc;
    if (!xs_write(ctx->xsh, XBT_NULL, path, value ? value : "", len))
        return xlev__xs_errno_to_rc(errno);
    return 0;
}

int
xlev_xs_directory(xlev_ctx *ctx, const char *path, char ***entries_out,
                  unsigned int *n_out)
{
    unsigned int n = 0;
    char **entries;
    int rc;

    if (entries_out)
        *entries_out = NULL;
    if (n_out)
        *n_out = 0;
    if (!entries_out || !n_out)
        return XLEV_ERROR_INVAL;
    rc = check_args(ctx, path);
    if (rc)
        return rc;

    /* One block: the array followed by the strings. */
    entries = xs_directory(ctx->xsh, XBT_NULL, path, &n);
    if (!entries)
        return xlev__xs_errno_to_rc(errno);
    *entries_out = entries;
    *n_out = n;
    return 0;
}

int
xlev_xs_rm(xlev_ctx *ctx, const char *path)
{
    int rc;

    rc = check_args(ctx, path);
    if (rc)
        return rc;
    if (!xs_rm(ctx->xsh, XBT_NULL, path))
        return xlev__xs_errno_to_rc(errno);
    return 0;
}
