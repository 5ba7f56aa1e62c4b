/* fuzz-xs-watch-event.c: libFuzzer target for watch-event parsing
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * FUZZ-SOURCES: libxlev-glib/core/xs/xs-wire.c libxlev-glib/core/loop/strerror.c
 *
 * Built and run by tools/fuzz. The input is an XS_WATCH_EVENT payload as
 * a daemon (or a hostile peer) would send it: "path\0token\0". It is
 * copied to a buffer of exactly its length (ASan catches a read past
 * it). What is checked: xlev__xs_parse_watch_event() accepts exactly the
 * payloads that are two NUL-terminated strings with a non-empty path and
 * nothing after the second NUL (an independent count of the NULs decides);
 * on success the path is the payload's start, the token follows the
 * path's NUL, and the two with their NULs fill the payload; on failure the
 * out-arguments are untouched and the code is XLEV__XSW_EMALFORMED.
 *
 * The token's own parse (slot and counter) is fuzz-xs-watch-token.c's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/xs-wire-private.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sentinel[] = "untouched";
    const char *path = sentinel, *token = sentinel;
    size_t i, nuls = 0;
    int expect_ok, rc;
    char *p;

    if (size > XENSTORE_PAYLOAD_MAX)
        return 0;
    p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);

    for (i = 0; i < size; i++)
        nuls += p[i] == '\0';
    expect_ok = size >= 2 && nuls == 2 && p[size - 1] == '\0' && p[0] != '\0';

    rc = xlev__xs_parse_watch_event(size ? p : NULL, (uint32_t)size, &path,
                                    &token);
    if (expect_ok) {
        CHECK(rc == 0);
        CHECK(path == p);
        CHECK(token == p + strlen(p) + 1);
        CHECK(token < p + size);
        CHECK(strlen(path) + 1 + strlen(token) + 1 == size);
    } else {
        CHECK(rc == XLEV__XSW_EMALFORMED);
        CHECK(path == sentinel && token == sentinel);
    }

    CHECK(xlev__xs_parse_watch_event(p, (uint32_t)size, NULL, &token)
          == XLEV_ERROR_INVAL);
    free(p);
    return 0;
}
