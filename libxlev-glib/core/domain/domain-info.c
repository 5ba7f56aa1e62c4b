/* domain-info.c: asking the hypervisor about domains directly
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * xlev_domain_hypervisor_available() and xlev_domain_list_info() (see
 * xlev-domain.h): a short-lived hypervisor handle each, through the same
 * seam as the death generators (hypervisor-private.h). Neither touches the
 * context's domain state nor its lock.
 */
#include <stdlib.h>
#include <string.h>

#include "domain-private.h"

int
xlev_domain_hypervisor_available(xlev_ctx *ctx)
{
    xlev__hv *hv = NULL;

    if (!ctx)
        return 0;
    if (xlev__hv_open(ctx, &hv))
        return 0;
    xlev__hv_close(hv);
    return 1;
}

static int
uuid_is_zero(const uint8_t *uuid)
{
    size_t i;

    for (i = 0; i < XLEV_DOMUUID_LEN; i++)
        if (uuid[i])
            return 0;
    return 1;
}

int
xlev_domain_list_info(xlev_ctx *ctx, xlev_dominfo **infos_out, size_t *n_out)
{
    xlev__hv *hv = NULL;
    xlev__dominfo *batch = NULL;
    xlev_dominfo *infos = NULL, *grown;
    size_t n = 0, cap = 0;
    uint32_t first = 0;
    int rc, got, i;

    if (infos_out)
        *infos_out = NULL;
    if (n_out)
        *n_out = 0;
    if (!ctx || !infos_out || !n_out)
        return XLEV_ERROR_INVAL;

    rc = xlev__hv_open(ctx, &hv);
    if (rc)
        goto out;
    batch = xlev__calloc(XLEV__HV_BATCH, sizeof(*batch));
    if (!batch) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }

    /* Batches from domid 0 up, each starting after the last domain of the
     * one before, until one comes back short. */
    for (;;) {
        got = xlev__hv_list(hv, first, XLEV__HV_BATCH, batch);
        if (got < 0) {
            rc = got;
            goto out;
        }
        if (n + (size_t)got > cap) {
            cap = n + (size_t)got;
            grown = realloc(infos, cap * sizeof(*infos));
            if (!grown) {
                rc = XLEV_ERROR_NOMEM;
                goto out;
            }
            infos = grown;
        }
        for (i = 0; i < got; i++) {
            xlev_dominfo *d = &infos[n++];

            memset(d, 0, sizeof(*d));
            d->domid = batch[i].domid;
            d->dying = batch[i].dying;
            d->shutdown = batch[i].shutdown;
            d->shutdown_reason = (xlev_shutdown_reason)batch[i].shutdown_reason;
            d->uuid_known = !uuid_is_zero(batch[i].uuid);
            memcpy(d->uuid, batch[i].uuid, XLEV_DOMUUID_LEN);
        }
        if (got < XLEV__HV_BATCH || got == 0)
            break;
        first = batch[got - 1].domid + 1;
    }

    *infos_out = n ? infos : NULL;
    *n_out = n;
    if (n)
        infos = NULL;
    rc = 0;
out:
    free(infos);
    free(batch);
    xlev__hv_close(hv);
    return rc;
}
