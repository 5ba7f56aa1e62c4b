/* domain.c: domain events (shutdown, death, disk eject, introduce)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>

#include "xlev-event-private.h"

void
xlev__domain_ctx_free(xlev_ctx *ctx)
{
    (void)ctx;
}
