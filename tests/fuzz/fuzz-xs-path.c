/* fuzz-xs-path.c: libFuzzer target for xenstore path validation
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * FUZZ-SOURCES: libxlev-glib/core/xs/path.c
 *
 * Built and run by tools/fuzz. The input, cut at its first NUL (a C string
 * cannot hold one), is a candidate path. What is checked, besides "no
 * crash, no sanitizer report": the verdicts of xlev__xs_path_check() with
 * and without special paths and of xlev_xs_path_is_valid() agree with an
 * independent statement of the rules of docs/misc/xenstore.txt (as
 * path.c's comment gives them), written here component by component; and
 * the check reads nothing past the string's end (the copy is exactly as
 * long as the string, so ASan catches an over-read).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/xs-private.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

static int
is_name_char(char c)
{
    return strchr("abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789-_@",
                  c)
               != NULL
           && c != '\0';
}

/* The rules, read differently from path.c: an absolute path is "/" or a
 * sequence of "/" + a non-empty component; a special path is "@" + a
 * non-empty name without '/' or '@'. */
static int
reference_valid(const char *s, size_t len, int allow_special)
{
    size_t i;

    if (len == 0 || len > XLEV_XS_PATH_MAX)
        return 0;
    if (s[0] == '@') {
        if (!allow_special || len < 2)
            return 0;
        for (i = 1; i < len; i++)
            if (!is_name_char(s[i]) || s[i] == '@')
                return 0;
        return 1;
    }
    if (s[0] != '/')
        return 0;
    if (len == 1)
        return 1;
    i = 0;
    while (i < len) {
        size_t start;

        if (s[i] != '/')
            return 0;
        start = ++i;
        while (i < len && s[i] != '/') {
            if (!is_name_char(s[i]))
                return 0;
            i++;
        }
        if (i == start)
            return 0; /* an empty component: "//" or a trailing '/' */
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t len = nul ? (size_t)(nul - data) : size;
    char *s = malloc(len + 1);
    int plain, special;

    if (!s)
        return 0;
    memcpy(s, data, len);
    s[len] = '\0';

    plain = xlev__xs_path_check(s, 0);
    special = xlev__xs_path_check(s, 1);
    CHECK(plain == 0 || plain == 1);
    CHECK(special == 0 || special == 1);
    CHECK(plain == reference_valid(s, len, 0));
    CHECK(special == reference_valid(s, len, 1));
    CHECK(xlev_xs_path_is_valid(s) == special);
    CHECK(!plain || special); /* special paths only widen the set */

    free(s);
    return 0;
}
