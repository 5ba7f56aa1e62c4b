/* hypervisor-private.h: the core's one way of asking Xen about domains
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Domain events need to know, for a set of domids, whether each domain
 * still exists, has shut down (and why) or is dying. Only the hypervisor
 * knows; this small interface is the only place the core asks it. Its
 * implementation (hypervisor.c) is libxenctrl: xc_interface_open,
 * xc_domain_getinfolist, xc_interface_close. Tests stand in for the
 * hypervisor underneath libxenctrl (tests/fakexen), so this code path is
 * the one they run.
 *
 * Threads: a handle is used by one thread at a time (domain-death.c calls
 * it with ctx->lock held). Nothing here takes ctx->lock.
 */
#pragma once

#include <stdint.h>

#include "../loop/loop-private.h"

/* One domain, as far as domain events care. */
typedef struct {
    uint32_t domid;
    unsigned int dying : 1;       /* being destroyed: counts as dead */
    unsigned int shutdown : 1;    /* shut down (crashed included) */
    unsigned int shutdown_reason; /* Xen's SHUTDOWN_* when shutdown */
    uint8_t uuid[16];             /* the domain handle; all zero if unknown */
} xlev__dominfo;

/* How many domains one xlev__hv_list() call asks for. Each call is one
 * hypercall (XEN_SYSCTL_getdomaininfolist); 256 infos is about 30 KiB of
 * buffer, and a host with thousands of domains costs a few calls. */
#define XLEV__HV_BATCH 256

typedef struct xlev__hv xlev__hv;

/* Opens the hypervisor interface. XLEV_ERROR_NO_HYPERVISOR (with a log
 * message at LOG_ERR saying so) when Xen is not running or not
 * reachable (no privcmd device), XLEV_ERROR_NOMEM. libxenctrl's own
 * messages go to ctx's log at LOG_DEBUG. */
int xlev__hv_open(xlev_ctx *ctx, xlev__hv **hv_out);

/* Fills out[0 .. n-1] with the existing domains whose domid is >= first,
 * in increasing domid order, at most max (<= XLEV__HV_BATCH) of them, and
 * returns n (0 when none). A domid that does not exist is skipped, as the
 * hypervisor does. Negative XLEV_ERROR_* on failure (logged). */
int xlev__hv_list(xlev__hv *hv, uint32_t first, unsigned int max,
                  xlev__dominfo *out);

/* Closes; NULL allowed. */
void xlev__hv_close(xlev__hv *hv);
