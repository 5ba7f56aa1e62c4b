/* release.c: the shared @releaseDomain watch
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * xenstored fires `@releaseDomain` when a domain it knows is released. The
 * death generators rescan the hypervisor then, the introduce generators
 * forget the domids xenstored dropped: each kind subscribes once, and one
 * watch per context serves them all. The watch is registered on the first
 * subscription and kept until the context is freed.
 */
#include "domain-private.h"

/* Lock dropped. The subscribers are copied under the lock (the list only
 * grows, at its tail) and called without it, in subscription order. */
static void
release_watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
                 const char *epath)
{
    struct xlev__domain *ds
        = CONTAINER_OF(w, struct xlev__domain, release_watch);
    struct xlev__release_sub *sub, *subs[XLEV__RELEASE_SUBS_MAX];
    size_t n = 0, i;

    XLEV__LOCK(ctx);
    for (sub = ds->release_subs; sub && n < XLEV__RELEASE_SUBS_MAX;
         sub = sub->next)
        subs[n++] = sub;
    XLEV__UNLOCK(ctx);
    for (i = 0; i < n; i++)
        subs[i]->fn(ds);
}

static void
release_stop(struct xlev__domain *ds)
{
    xlev_ev_xswatch_deregister(ds->ctx, &ds->release_watch);
}

static void
release_free(struct xlev__domain *ds)
{
}

int
xlev__domain_release_subscribe(struct xlev__domain *ds,
                               struct xlev__release_sub *sub,
                               void (*fn)(struct xlev__domain *ds))
{
    xlev_ctx *ctx = ds->ctx;
    int rc = 0;

    XLEV__LOCK(ctx);
    xlev__domain_add_part_locked(ds, &ds->release_part, release_stop,
                                 release_free);
    XLEV__UNLOCK(ctx);
    if (!xlev_ev_xswatch_isregistered(&ds->release_watch))
        rc = xlev_ev_xswatch_register(ctx, &ds->release_watch, release_watch_cb,
                                      "@releaseDomain");
    if (rc)
        return rc;
    XLEV__LOCK(ctx);
    if (!sub->subscribed) {
        struct xlev__release_sub **pp = &ds->release_subs;
        size_t n = 0;

        while (*pp) {
            pp = &(*pp)->next;
            n++;
        }
        if (n < XLEV__RELEASE_SUBS_MAX) {
            sub->fn = fn;
            sub->next = NULL;
            *pp = sub;
            sub->subscribed = 1;
        } else {
            rc = XLEV_ERROR_INVAL; /* a new kind of subscriber: raise it */
        }
    }
    XLEV__UNLOCK(ctx);
    return rc;
}
