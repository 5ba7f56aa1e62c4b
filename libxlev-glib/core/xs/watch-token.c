/* watch-token.c: parsing a watch's token back into slot and counter
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See watch-token-private.h for the format and what is refused.
 */
#include <limits.h>
#include <stddef.h>

#include "../xlev-event.h"
#include "watch-token-private.h"

#define DECIMAL 10
#define HEXADECIMAL 16

/* The value of c as a digit of base (10, or 16 with lower-case letters),
 * or -1. */
static int
digit_value(char c, unsigned base)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (base == HEXADECIMAL && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Reads the number at *pp in base, without sign or leading zero and at most
 * max, and moves *pp past it. Returns 0, or -1 (nothing moved) when there is
 * no digit, a leading zero, or a number above max. */
static int
parse_number(const char **pp, unsigned base, uint64_t max, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int d;

    if (digit_value(*p, base) < 0)
        return -1;
    if (*p == '0' && digit_value(p[1], base) >= 0)
        return -1; /* a leading zero: not what watch.c writes */
    /* v <= max <= UINT32_MAX before each step, so v * base + d fits in
     * 64 bits: compare after, no division per digit (this runs for every
     * watch event). */
    for (; (d = digit_value(*p, base)) >= 0; p++) {
        v = v * base + (uint64_t)d;
        if (v > max)
            return -1;
    }
    *pp = p;
    *out = v;
    return 0;
}

int
xlev__xs_watch_token_parse(const char *token, int nslots, int *slot_out,
                           uint32_t *counter_out)
{
    const char *p = token;
    uint64_t slot, counter;

    if (!token || nslots < 0 || !slot_out || !counter_out)
        return XLEV_ERROR_INVAL;
    if (parse_number(&p, DECIMAL, INT_MAX, &slot) != 0 || *p++ != '/'
        || parse_number(&p, HEXADECIMAL, UINT32_MAX, &counter) != 0
        || *p != '\0')
        return XLEV_ERROR_PROTOCOL;
    if (slot >= (uint64_t)nslots)
        return XLEV_ERROR_NOENT;
    *slot_out = (int)slot;
    *counter_out = (uint32_t)counter;
    return 0;
}
