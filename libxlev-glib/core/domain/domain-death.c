/* domain-death.c: DOMAIN_SHUTDOWN and DOMAIN_DEATH generators
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The death generators of a context (ds->deaths, see domain-private.h),
 * their subscription to the shared `@releaseDomain` watch (release.c), the
 * rescan timeout, and the batched listing of domains through the
 * hypervisor (hypervisor.c) that each release or rescan runs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "domain-private.h"

/*
 * Death generator states:
 *   Fresh      not looked at yet (seen == 0)
 *   Watching   the domain was listed: its UUID is remembered when Xen
 *              gave a non-zero one (a different UUID under the same domid
 *              later means ours is gone)
 *   ShutDown   DOMAIN_SHUTDOWN queued (shutdown_reported)
 *   Dead       DOMAIN_DEATH queued (death_reported): final, skipped by
 *              scans; stays in the list until evdisable
 * Fresh/Watching -> ShutDown when listed with the shutdown flag;
 * any -> Dead when listed dying, not listed, or listed with another UUID.
 * If a domain is first seen already shut down and dying, SHUTDOWN is
 * queued before DEATH; a domain never seen shut down gives DEATH only.
 * All of it is protected by ctx->lock.
 */
struct xlev_evgen_domain_death {
    struct xlev__gen gen;
    struct xlev_evgen_domain_death *next, *prev; /* sorted by domid */
    uint32_t domid;
    uint64_t user;
    unsigned int seen : 1, uuid_known : 1, shutdown_reported : 1,
        death_reported : 1;
    uint8_t uuid[XLEV_DOMUUID_LEN];
};

/* Looks at one generator against what the hypervisor said (info NULL: the
 * domain is not listed). Lock held. */
static void
death_check_locked(struct xlev__domain *ds, struct xlev_evgen_domain_death *g,
                   const xlev__dominfo *info)
{
    static const uint8_t zero_uuid[XLEV_DOMUUID_LEN];

    if (info && g->uuid_known
        && memcmp(info->uuid, g->uuid, XLEV_DOMUUID_LEN) != 0)
        info = NULL; /* another domain has our domid now: ours is gone */

    if (info && !g->seen) {
        g->seen = 1;
        if (memcmp(info->uuid, zero_uuid, XLEV_DOMUUID_LEN) != 0) {
            memcpy(g->uuid, info->uuid, XLEV_DOMUUID_LEN);
            g->uuid_known = 1;
        }
    }

    if (info && info->shutdown && !g->shutdown_reported) {
        xlev_event *ev = xlev__domain_queue_event_locked(
            ds, &g->gen, XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN, g->domid, g->user,
            g->uuid_known ? g->uuid : NULL, NULL);

        if (ev) {
            ev->u.domain_shutdown.reason
                = (xlev_shutdown_reason)info->shutdown_reason;
            g->shutdown_reported = 1;
        }
    }
    if (!info || info->dying) {
        if (xlev__domain_queue_event_locked(
                ds, &g->gen, XLEV_EVENT_TYPE_DOMAIN_DEATH, g->domid, g->user,
                g->uuid_known ? g->uuid : NULL, NULL))
            g->death_reported = 1;
    }
}

static struct xlev_evgen_domain_death *
death_next_live(struct xlev_evgen_domain_death *g)
{
    while (g && g->death_reported)
        g = g->next;
    return g;
}

/*
 * Compares every live death generator with the hypervisor's list. Batches
 * start at the lowest domid still to be looked at: a batch that comes
 * back full covers domids up to its last entry, and the next one starts
 * at the next generator's domid, so the gaps between watched domids cost
 * nothing. Lock held.
 */
static void
death_scan_locked(struct xlev__domain *ds)
{
    struct xlev_evgen_domain_death *g = death_next_live(ds->deaths);

    if (!ds->hv)
        return;

    while (g) {
        uint32_t covered; /* the batch describes every domid <= this */
        int n, i = 0;

        n = xlev__hv_list(ds->hv, g->domid, XLEV__HV_BATCH, ds->infos);
        if (n < 0) {
            xlev__domain_disaster_locked(ds, 0,
                                         "cannot list domains from the "
                                         "hypervisor: domain shutdown and "
                                         "death may be reported late");
            return;
        }
        covered = n == XLEV__HV_BATCH ? ds->infos[n - 1].domid : UINT32_MAX;

        for (; g && g->domid <= covered; g = g->next) {
            if (g->death_reported)
                continue;
            while (i < n && ds->infos[i].domid < g->domid)
                i++;
            death_check_locked(
                ds, g,
                i < n && ds->infos[i].domid == g->domid ? &ds->infos[i] : NULL);
        }
        g = death_next_live(g);
    }
}

/* Scans and hands what it found on. Lock dropped: the @releaseDomain
 * subscription and the rescan timeout, both inside the core's callbacks. */
static void
death_scan(struct xlev__domain *ds)
{
    XLEV__LOCK(ds->ctx);
    death_scan_locked(ds);
    xlev__domain_flush_locked(ds);
    XLEV__UNLOCK(ds->ctx);
}

static void
rescan_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    death_scan(CONTAINER_OF(ev, struct xlev__domain, rescan));
}

/* The part's teardown (see domain-private.h). */
static void
death_stop(struct xlev__domain *ds)
{
    xlev_ev_time_deregister(ds->ctx, &ds->rescan);
}

static void
death_free(struct xlev__domain *ds)
{
    while (ds->deaths) {
        struct xlev_evgen_domain_death *g = ds->deaths;

        ds->deaths = g->next;
        free(g);
    }
    xlev__hv_close(ds->hv);
    free(ds->infos);
}

int
xlev_evenable_domain_death(xlev_ctx *ctx, uint32_t domid, uint64_t user,
                           xlev_evgen_domain_death **evgen_out)
{
    return xlev_evenable_domain_death_full(ctx, domid, user, NULL, NULL,
                                           evgen_out);
}

int
xlev_evenable_domain_death_full(xlev_ctx *ctx, uint32_t domid, uint64_t user,
                                const xlev_event_hooks *hooks,
                                void *hooks_user,
                                xlev_evgen_domain_death **evgen_out)
{
    struct xlev_evgen_domain_death *g = NULL, *pos, *last;
    struct xlev__domain *ds;
    int rc;

    if (!ctx || !evgen_out)
        return XLEV_ERROR_INVAL;
    *evgen_out = NULL;
    if (domid >= XLEV__DOMID_FIRST_RESERVED || xlev__domain_gen_hooks_check(hooks))
        return XLEV_ERROR_INVAL;
    ds = xlev__domain_get(ctx);
    if (!ds)
        return XLEV_ERROR_NOMEM;

    pthread_mutex_lock(&ds->reg_lock);

    XLEV__LOCK(ctx);
    xlev__domain_add_part_locked(ds, &ds->death_part, death_stop, death_free);
    if (!ds->hv) {
        if (!ds->infos) {
            ds->infos = xlev__calloc(XLEV__HV_BATCH, sizeof(*ds->infos));
            if (!ds->infos) {
                XLEV__UNLOCK(ctx);
                rc = XLEV_ERROR_NOMEM;
                goto out;
            }
        }
        rc = xlev__hv_open(ctx, &ds->hv);
        if (rc) {
            XLEV__UNLOCK(ctx);
            goto out;
        }
    }
    XLEV__UNLOCK(ctx);

    rc = xlev__domain_release_subscribe(ds, &ds->death_release, death_scan);
    if (rc)
        goto out;

    g = xlev__calloc(1, sizeof(*g));
    if (!g) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    g->gen.hooks = hooks;
    g->gen.hooks_user = hooks ? hooks_user : NULL;
    g->domid = domid;
    g->user = user;

    /* Insert after every generator with a domid <= ours. */
    XLEV__LOCK(ctx);
    last = NULL;
    for (pos = ds->deaths; pos && pos->domid <= domid; pos = pos->next)
        last = pos;
    g->prev = last;
    g->next = last ? last->next : ds->deaths;
    if (g->next)
        g->next->prev = g;
    if (last)
        last->next = g;
    else
        ds->deaths = g;
    XLEV__UNLOCK(ctx);

    /* Look at the new generator's domain soon, in the context's loop (not
     * from inside this call): an already dead domain must not wait for
     * the next @releaseDomain. The core makes rescan Idle just before its
     * callback, which takes the lock and sees g; only this function
     * registers it, under reg_lock. */
    if (!xlev_ev_time_isregistered(&ds->rescan)) {
        rc = xlev_ev_time_register_rel(ctx, &ds->rescan, rescan_cb, 0);
        if (rc)
            xlev__log(ctx, LOG_WARNING,
                      "domain %" PRIu32 ": cannot schedule the first look "
                      "(%s); it happens at the next @releaseDomain",
                      domid, xlev_strerror(rc));
    }

    *evgen_out = g;
    g = NULL;
    rc = 0;
out:
    pthread_mutex_unlock(&ds->reg_lock);
    free(g);
    return rc;
}

void
xlev_evdisable_domain_death(xlev_ctx *ctx, xlev_evgen_domain_death *g)
{
    struct xlev__domain *ds;

    if (!ctx || !g)
        return;
    XLEV__LOCK(ctx);
    ds = ctx->domain;
    if (!ds) {
        XLEV__UNLOCK(ctx);
        return;
    }
    XLEV__GEN_LIST_REMOVE(ds->deaths, g);
    xlev__domain_gen_retire_locked(ds, &g->gen);
    XLEV__UNLOCK(ctx);
    free(g);
}
