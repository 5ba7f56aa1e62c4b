/* hypervisor.c: the hypervisor interface, implemented with libxenctrl
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See hypervisor-private.h for the contract.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

#include "hypervisor-private.h"

struct xlev__hv {
    /* libxenctrl's messages come here (first member: the logger callback
     * finds the handle from its argument). */
    xentoollog_logger logger;
    xlev_ctx *ctx;
    xc_interface *xch;
    xc_domaininfo_t *buf; /* XLEV__HV_BATCH entries */
};

/* libxenctrl logs failures it also reports through errno (opening privcmd
 * on a machine without Xen, say). The caller decides what the user hears;
 * what libxenctrl said is kept at LOG_DEBUG. */
static void
hv_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
            const char *context, const char *format, va_list al)
{
    xlev__hv *hv = (xlev__hv *)logger;
    char buf[512];

    vsnprintf(buf, sizeof(buf), format, al);
    xlev__log(hv->ctx, LOG_DEBUG, "libxenctrl%s%s: %s%s%s", context ? " " : "",
              context ? context : "", buf, errnoval >= 0 ? ": " : "",
              errnoval >= 0 ? strerror(errnoval) : "");
}

static void
hv_logger_destroy(xentoollog_logger *logger)
{
    /* Embedded in the handle: freed by xlev__hv_close. */
}

int
xlev__hv_open(xlev_ctx *ctx, xlev__hv **hv_out)
{
    xlev__hv *hv;
    int rc;

    *hv_out = NULL;
    hv = xlev__calloc(1, sizeof(*hv));
    if (!hv) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    hv->ctx = ctx;
    hv->logger.vmessage = hv_vmessage;
    hv->logger.progress = NULL;
    hv->logger.destroy = hv_logger_destroy;
    hv->buf = xlev__calloc(XLEV__HV_BATCH, sizeof(*hv->buf));
    if (!hv->buf) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }

    hv->xch = xc_interface_open(&hv->logger, &hv->logger, 0);
    if (!hv->xch) {
        int e = errno;

        xlev__log(ctx, LOG_DEBUG,
                  "domain events need the Xen hypervisor, which is not "
                  "available here (xc_interface_open: %s; is this a Xen "
                  "domain 0 with /dev/xen/privcmd?)",
                  strerror(e));
        rc = XLEV_ERROR_NO_HYPERVISOR;
        goto out;
    }

    *hv_out = hv;
    hv = NULL;
    rc = 0;
out:
    if (hv) {
        free(hv->buf);
        free(hv);
    }
    return rc;
}

int
xlev__hv_list(xlev__hv *hv, uint32_t first, unsigned int max,
              xlev__dominfo *out)
{
    int n, i;

    if (max > XLEV__HV_BATCH)
        max = XLEV__HV_BATCH;
    if (first >= DOMID_FIRST_RESERVED || max == 0)
        return 0;

    n = xc_domain_getinfolist(hv->xch, first, max, hv->buf);
    if (n < 0) {
        xlev__log(hv->ctx, LOG_DEBUG,
                  "cannot list domains from %u (xc_domain_getinfolist): %s",
                  first, strerror(errno));
        return XLEV_ERROR_FAIL;
    }
    if ((unsigned int)n > max)
        n = (int)max; /* never more than asked for */

    for (i = 0; i < n; i++) {
        const xc_domaininfo_t *d = &hv->buf[i];

        memset(&out[i], 0, sizeof(out[i]));
        out[i].domid = d->domain;
        out[i].dying = !!(d->flags & XEN_DOMINF_dying);
        out[i].shutdown = !!(d->flags & XEN_DOMINF_shutdown);
        out[i].shutdown_reason
            = (d->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
        memcpy(out[i].uuid, d->handle, sizeof(out[i].uuid));
    }
    return n;
}

void
xlev__hv_close(xlev__hv *hv)
{
    if (!hv)
        return;
    if (hv->xch)
        xc_interface_close(hv->xch);
    free(hv->buf);
    free(hv);
}
