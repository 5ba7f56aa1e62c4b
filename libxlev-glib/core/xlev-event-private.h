/* xlev-event-private.h: the core's helpers for its own tests and benchmarks
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Not installed and not exported from the shared library (the core is built
 * with -fvisibility=hidden): the unit tests and the core benchmarks link the
 * static core and may call these. What the core's files share with each
 * other is in the rooms' own headers (loop/loop-private.h,
 * xs/xs-private.h, domain/domain-private.h).
 */
#pragma once

#include <stdint.h>

#include "xlev-event.h"

struct xs_handle;

/* xs/connect.c: a context with no xenstore connection (watches and xs ops
 * then fail with XLEV_ERROR_XENSTORE). */
int xlev__test_ctx_new_no_xenstore(xlev_ctx **ctx_out);
/* loop/alloc.c: the next n-th allocation through the core's allocator fails
 * (1: the next one); 0 disarms. */
void xlev__test_fail_alloc(int nth);
/* loop/ctx.c: 1 if the context's lock is free (trylock from this thread). */
int xlev__test_lock_is_free(xlev_ctx *ctx);
/* loop/time.c: checks the heap invariant and the cross-indices; 1 if all is
 * well. */
int xlev__test_time_heap_ok(xlev_ctx *ctx);
/* loop/time.c: 1 if @ev is registered with no deadline. */
int xlev__test_time_is_infinite(const xlev_ev_time *ev);
/* loop/fd.c: the events @ev asks for (0 when Idle). */
short xlev__test_fd_events(const xlev_ev_fd *ev);
/* loop/deferred.c: how many records are queued. */
int xlev__test_npending(xlev_ctx *ctx);
/* xs/watch.c: the watch fd registration's state: 1 registered, 0 not; its
 * fd number. */
int xlev__test_watch_fd_registered(xlev_ctx *ctx);
int xlev__test_watch_fd(xlev_ctx *ctx);
/* xs/watch.c: the slot and counter that make @w's token ("slot/counter"
 * in hex), -1 and 0 when Idle; the path it holds (NULL when Idle). */
int xlev__test_xswatch_slot(const xlev_ev_xswatch *w);
uint32_t xlev__test_xswatch_counter(const xlev_ev_xswatch *w);
const char *xlev__test_xswatch_path(const xlev_ev_xswatch *w);
/* xs/connect.c: the context's libxenstore handle (NULL without one), for
 * tests that make the daemon send what the core would not ask for. */
struct xs_handle *xlev__test_xs_handle(xlev_ctx *ctx);
/* Sends XS_WATCH (watch 1) or XS_UNWATCH for (path, token) on the
 * context's own connection, either transport, and waits for the answer:
 * 0 or an XLEV_ERROR_* code. For tests that forge tokens. */
int xlev__test_xs_raw_watch(xlev_ctx *ctx, int watch, const char *path,
                            const char *token);
