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
/* What each byte may be: a word character, or also '/' and '@' in an
 * absolute path. Every path is checked on its way in, on the way of every
 * operation: one table look-up per byte (glibc's strspn() builds such a
 * table on each call for a set this large). */
enum { PATH_WORD = 1, PATH_SEP = 2 };
static const unsigned char path_chars[256] = {
    ['a' ... 'z'] = PATH_WORD, ['A' ... 'Z'] = PATH_WORD,
    ['0' ... '9'] = PATH_WORD, ['-'] = PATH_WORD,
    ['_'] = PATH_WORD,         ['/'] = PATH_SEP,
    ['@'] = PATH_SEP,
};

/* The length of the run of bytes of @path in @kinds. */
static size_t
path_span(const char *path, unsigned char kinds)
{
    const unsigned char *p = (const unsigned char *)path;

    while (path_chars[*p] & kinds)
        p++;
    return (size_t)(p - (const unsigned char *)path);
}

int
xlev__xs_path_check(const char *path, int allow_special)
{
    size_t len;

    if (!path)
        return 0;
    len = strnlen(path, XLEV_XS_PATH_MAX + 1);
    if (len == 0 || len > XLEV_XS_PATH_MAX)
        return 0;

    if (path[0] == '@') {
        /* "@" and a word: no '/', no second '@' */
        if (!allow_special || len == 1)
            return 0;
        return path_span(path + 1, PATH_WORD) == len - 1;
    }

    if (path[0] != '/')
        return 0;
    if (len == 1)
        return 1; /* the root */
    if (path[len - 1] == '/')
        return 0;
    return path_span(path, PATH_WORD | PATH_SEP) == len && !strstr(path, "//");
}

int
xlev_xs_path_is_valid(const char *path)
{
    return xlev__xs_path_check(path, 1);
}
