/* fuzz-xs-watch-token.c: libFuzzer target for the watch token's parser
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * FUZZ-SOURCES: libxlev-glib/core/xs/watch-token.c
 *
 * Built and run by tools/fuzz. Input: one byte giving the number of slots
 * (255 means INT_MAX, any other value itself), then the token as a daemon
 * (or a hostile peer) would send it back; it is copied to a buffer of
 * exactly its length plus a NUL (ASan catches a read past it), and like
 * any C string ends at its first NUL. What is checked, against an
 * independent reading of the format (watch-token-private.h):
 *
 *   - xlev__xs_watch_token_parse() succeeds exactly for the canonical
 *     tokens ("SLOT/COUNTER", decimal / lower-case hex, no sign, space or
 *     leading zero, SLOT <= INT_MAX, COUNTER <= UINT32_MAX) whose slot is
 *     below the number of slots; a canonical token naming a slot beyond
 *     them gives XLEV_ERROR_NOENT, anything else XLEV_ERROR_PROTOCOL;
 *   - on success, printing the slot and counter as watch.c does gives the
 *     token back byte for byte;
 *   - on failure the out-arguments are untouched.
 */
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlev-event.h"
#include "xs/watch-token-private.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

/* The header byte that stands for INT_MAX slots. */
#define NSLOTS_MAX_BYTE 255
#define TOKEN_LEN_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the run of digits of s (lower-case hex when hex), and whether
 * it is a canonical number: at least one digit, no leading zero. */
static size_t
digits(const char *s, int hex, int *canonical)
{
    size_t n = 0;

    while ((s[n] >= '0' && s[n] <= '9') || (hex && s[n] >= 'a' && s[n] <= 'f'))
        n++;
    *canonical = n > 0 && !(n > 1 && s[0] == '0');
    return n;
}

/* The independent reading: 1 if token is canonical (its slot in *slot,
 * which may be anything up to INT_MAX), else 0. */
static int
oracle(const char *token, long long *slot)
{
    int ok_slot, ok_counter;
    size_t ns = digits(token, 0, &ok_slot), nc;

    if (!ok_slot || token[ns] != '/')
        return 0;
    nc = digits(token + ns + 1, 1, &ok_counter);
    if (!ok_counter || token[ns + 1 + nc] != '\0')
        return 0;
    /* in range: decimal of at most 10 digits, <= "2147483647"; hex of at
     * most 8 */
    if (ns > 10 || (ns == 10 && strncmp(token, "2147483647", 10) > 0))
        return 0;
    if (nc > 8)
        return 0;
    *slot = strtoll(token, NULL, 10);
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int slot_sentinel = -7;
    const uint32_t counter_sentinel = 0xdeadbeef;
    int nslots, slot = slot_sentinel, canonical, rc;
    uint32_t counter = counter_sentinel;
    long long oslot = -1;
    char *token;

    if (size < 1 || size - 1 > TOKEN_LEN_MAX)
        return 0;
    nslots = data[0] == NSLOTS_MAX_BYTE ? INT_MAX : data[0];
    token = malloc(size);
    if (!token)
        return 0;
    memcpy(token, data + 1, size - 1);
    token[size - 1] = '\0';

    canonical = oracle(token, &oslot);
    rc = xlev__xs_watch_token_parse(token, nslots, &slot, &counter);
    if (canonical && oslot < nslots) {
        char again[XLEV__XS_WATCH_TOKEN_MAX];

        CHECK(rc == 0);
        CHECK(slot == oslot);
        CHECK(slot >= 0 && slot < nslots);
        snprintf(again, sizeof(again), "%d/%" PRIx32, slot, counter);
        CHECK(strcmp(again, token) == 0);
    } else {
        CHECK(rc == (canonical ? XLEV_ERROR_NOENT : XLEV_ERROR_PROTOCOL));
        CHECK(slot == slot_sentinel && counter == counter_sentinel);
    }

    CHECK(xlev__xs_watch_token_parse(token, -1, &slot, &counter)
          == XLEV_ERROR_INVAL);
    CHECK(xlev__xs_watch_token_parse(NULL, nslots, &slot, &counter)
          == XLEV_ERROR_INVAL);
    free(token);
    return 0;
}
