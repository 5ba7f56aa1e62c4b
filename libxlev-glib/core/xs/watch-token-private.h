/* watch-token-private.h: the token a watch is registered with, parsed back
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Every watch the core registers with xenstored carries the token
 * "SLOT/COUNTER" (watch.c makes it with "%d/%" PRIx32): SLOT the index of
 * its registration in the context's watch slots, in decimal; COUNTER the
 * slot's counter at registration, in lower-case hexadecimal. Both are
 * written without sign, spaces or leading zeros ("0" is the only number
 * that starts with one). The daemon hands the token back with each
 * XS_WATCH_EVENT; a hostile or buggy peer may send anything there.
 *
 * xlev__xs_watch_token_parse() accepts exactly the tokens so made, for a
 * slot below nslots, and nothing else: no sign, space, "0x", upper-case
 * digit, leading zero, trailing byte, or number beyond the type's range
 * (sscanf's "%d/%x", used first, took all of those, and its behaviour on a
 * number out of range is undefined; the hand loop that replaced it in
 * watch.c still took leading zeros). So printing what it returns as
 * watch.c does gives the token back byte for byte. Pure: no lock, no
 * context, no allocation, no division; built alone into the fuzz target
 * tests/fuzz/fuzz-xs-watch-token.c and tested in
 * tests/core/test-xs-watch-token.c.
 */
#pragma once

#include <stdint.h>

/* Room for the longest token, its NUL included. */
#define XLEV__XS_WATCH_TOKEN_MAX (sizeof("2147483647/ffffffff"))

/*
 * token: a NUL-terminated string; nslots: how many slots there are (>= 0).
 * Returns 0 and sets *slot_out (in [0, nslots)) and *counter_out; or
 * XLEV_ERROR_PROTOCOL when token is not such a token; XLEV_ERROR_NOENT
 * when it is, but names a slot >= nslots; XLEV_ERROR_INVAL for a NULL
 * pointer or a negative nslots. The out-arguments are set only on success.
 */
int xlev__xs_watch_token_parse(const char *token, int nslots, int *slot_out,
                               uint32_t *counter_out);
