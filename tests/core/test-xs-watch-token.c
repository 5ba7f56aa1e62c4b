/* test-xs-watch-token.c: the watch token's parser, edge by edge
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * xlev__xs_watch_token_parse() (core/xs/watch-token-private.h) takes back
 * exactly the tokens watch.c makes ("%d/%" PRIx32) for a slot that exists;
 * every other string an event may carry is refused, with the out-arguments
 * untouched. tests/fuzz/fuzz-xs-watch-token.c checks the same against an
 * independent reading of the format on arbitrary input.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include <glib.h>

#include "xlev-event.h"
#include "xs/watch-token-private.h"

#define SLOT_SENTINEL (-7)
#define COUNTER_SENTINEL 0xdeadbeefu

typedef struct {
    const char *token;
    int nslots;
    int rc;
} Refused;

static void
assert_parses(const char *token, int nslots, int slot, uint32_t counter)
{
    int got_slot = SLOT_SENTINEL;
    uint32_t got_counter = COUNTER_SENTINEL;

    g_test_message("token \"%s\", %d slots", token, nslots);
    g_assert_cmpint(
        xlev__xs_watch_token_parse(token, nslots, &got_slot, &got_counter), ==,
        0);
    g_assert_cmpint(got_slot, ==, slot);
    g_assert_cmpuint(got_counter, ==, counter);
}

static void
assert_refused(const Refused *r)
{
    int slot = SLOT_SENTINEL;
    uint32_t counter = COUNTER_SENTINEL;

    g_test_message("token \"%s\", %d slots", r->token ? r->token : "(null)",
                   r->nslots);
    g_assert_cmpint(
        xlev__xs_watch_token_parse(r->token, r->nslots, &slot, &counter), ==,
        r->rc);
    g_assert_cmpint(slot, ==, SLOT_SENTINEL);
    g_assert_cmpuint(counter, ==, COUNTER_SENTINEL);
}

/* What watch.c makes comes back, at the ends of both ranges. */
static void
test_round_trip(void)
{
    static const struct {
        int slot;
        uint32_t counter;
    } cases[] = {
        { 0, 0 },          { 0, 1 },
        { 1, 0xf },        { 9, 0x10 },
        { 10, 0xabc },     { 123, 0xdef0 },
        { 4095, 0xffff },  { INT_MAX - 1, 0 },
        { 0, UINT32_MAX }, { INT_MAX - 1, UINT32_MAX },
    };
    /* (Slot INT_MAX is well formed but exists in no context: nslots is an
     * int. test_refused has it.) */

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char token[XLEV__XS_WATCH_TOKEN_MAX];

        g_assert_cmpint(snprintf(token, sizeof(token), "%d/%" PRIx32,
                                 cases[i].slot, cases[i].counter),
                        <, (int)sizeof(token));
        assert_parses(token, INT_MAX, cases[i].slot, cases[i].counter);
        assert_parses(token, cases[i].slot + 1, cases[i].slot,
                      cases[i].counter);
    }
}

static void
test_refused(void)
{
    static const Refused cases[] = {
        /* empty, and half a token */
        { "", 4, XLEV_ERROR_PROTOCOL },
        { "/", 4, XLEV_ERROR_PROTOCOL },
        { "1", 4, XLEV_ERROR_PROTOCOL },
        { "1/", 4, XLEV_ERROR_PROTOCOL },
        { "/1", 4, XLEV_ERROR_PROTOCOL },
        /* leading zeros */
        { "01/1", 4, XLEV_ERROR_PROTOCOL },
        { "00/1", 4, XLEV_ERROR_PROTOCOL },
        { "1/01", 4, XLEV_ERROR_PROTOCOL },
        { "1/00", 4, XLEV_ERROR_PROTOCOL },
        { "0/000000001", 4, XLEV_ERROR_PROTOCOL },
        /* signs */
        { "-1/1", 4, XLEV_ERROR_PROTOCOL },
        { "+1/1", 4, XLEV_ERROR_PROTOCOL },
        { "1/-1", 4, XLEV_ERROR_PROTOCOL },
        { "1/+1", 4, XLEV_ERROR_PROTOCOL },
        { "-0/0", 4, XLEV_ERROR_PROTOCOL },
        /* what sscanf's %d and %x skip or take */
        { " 1/1", 4, XLEV_ERROR_PROTOCOL },
        { "1/ 1", 4, XLEV_ERROR_PROTOCOL },
        { "1 /1", 4, XLEV_ERROR_PROTOCOL },
        { "1/0x1", 4, XLEV_ERROR_PROTOCOL },
        { "1/0X1", 4, XLEV_ERROR_PROTOCOL },
        { "1/A", 4, XLEV_ERROR_PROTOCOL },
        { "1/fF", 4, XLEV_ERROR_PROTOCOL },
        /* non-digits and trailing bytes */
        { "a/1", 16, XLEV_ERROR_PROTOCOL },
        { "1/g", 4, XLEV_ERROR_PROTOCOL },
        { "1/1/", 4, XLEV_ERROR_PROTOCOL },
        { "1/1 ", 4, XLEV_ERROR_PROTOCOL },
        { "1/1x", 4, XLEV_ERROR_PROTOCOL },
        { "1/1\n", 4, XLEV_ERROR_PROTOCOL },
        { "1//1", 4, XLEV_ERROR_PROTOCOL },
        { "1.0/1", 4, XLEV_ERROR_PROTOCOL },
        { "tok", 4, XLEV_ERROR_PROTOCOL },
        /* overflowing numbers */
        { "2147483648/0", INT_MAX, XLEV_ERROR_PROTOCOL },
        { "4294967296/0", INT_MAX, XLEV_ERROR_PROTOCOL },
        { "99999999999999999999999/0", INT_MAX, XLEV_ERROR_PROTOCOL },
        { "0/100000000", INT_MAX, XLEV_ERROR_PROTOCOL },
        { "0/ffffffffffffffff", INT_MAX, XLEV_ERROR_PROTOCOL },
        { "0/10000000000000000", INT_MAX, XLEV_ERROR_PROTOCOL },
        /* well formed, but no such slot */
        { "4/0", 4, XLEV_ERROR_NOENT },
        { "0/0", 0, XLEV_ERROR_NOENT },
        { "2147483647/ffffffff", INT_MAX, XLEV_ERROR_NOENT },
        { "100/1", 99, XLEV_ERROR_NOENT },
        /* the caller's mistakes */
        { NULL, 4, XLEV_ERROR_INVAL },
        { "0/0", -1, XLEV_ERROR_INVAL },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        assert_refused(&cases[i]);
}

static void
test_null_out_arguments(void)
{
    int slot = SLOT_SENTINEL;
    uint32_t counter = COUNTER_SENTINEL;

    g_assert_cmpint(xlev__xs_watch_token_parse("0/0", 4, NULL, &counter), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev__xs_watch_token_parse("0/0", 4, &slot, NULL), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(slot, ==, SLOT_SENTINEL);
    g_assert_cmpuint(counter, ==, COUNTER_SENTINEL);
}

/* Every input of the fuzz target's corpus that once failed is here as a
 * case above; none has so far. */

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xlev/core/xs-watch-token/round-trip", test_round_trip);
    g_test_add_func("/xlev/core/xs-watch-token/refused", test_refused);
    g_test_add_func("/xlev/core/xs-watch-token/null-out-arguments",
                    test_null_out_arguments);

    return g_test_run();
}
