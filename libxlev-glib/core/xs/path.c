/* path.c: xenstore path rules
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <string.h>

#include "xs-private.h"

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
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_'
           || c == '@';
}

int
xlev__xs_path_check(const char *path, int allow_special)
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
    return xlev__xs_path_check(path, 1);
}
