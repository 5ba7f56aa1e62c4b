/* disk-eject.c: DISK_EJECT generators
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Each eject generator (ds->ejects, see domain-private.h) has its own
 * watch on the eject node of the backend of one guest disk, found through
 * the disk's devid (disk-vdev.c) when the generator is enabled.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain-private.h"

/* "/local/domain/<domid>/device/vbd/<devid>/backend"; domids and devids
 * are at most 10 digits each. */
#define XLEV__FRONTEND_PATH_MAX (sizeof(XLEV__LOCAL_DOMAIN) + 64)

struct xlev_evgen_disk_eject {
    struct xlev__gen gen;
    struct xlev_evgen_disk_eject *next, *prev;
    xlev_ctx *ctx;
    uint32_t domid;
    uint64_t user;
    int enabled; /* lock held */
    char *vdev;
    char *eject_path;
    xlev_ev_xswatch watch;
};

/* The eject watch: lock dropped, in the context's callback thread. The
 * generator is valid: evdisable deregisters the watch first, which waits
 * for this callback. */
static void
eject_watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
               const char *epath)
{
    struct xlev_evgen_disk_eject *g
        = CONTAINER_OF(w, struct xlev_evgen_disk_eject, watch);
    struct xlev__domain *ds;
    char *value = NULL;
    int rc, ack_rc;

    rc = xlev_xs_read(ctx, g->eject_path, &value, NULL);
    if (rc == XLEV_ERROR_NOENT)
        return;
    if (rc) {
        XLEV__LOCK(ctx);
        ds = ctx->domain;
        if (!ds) {
            XLEV__UNLOCK(ctx);
            return;
        }
        xlev__domain_disaster_locked(ds, 0, "cannot read %s: %s",
                                     g->eject_path, xlev_strerror(rc));
        XLEV__UNLOCK(ctx);
        return;
    }
    if (strcmp(value, "1") != 0 && strcmp(value, "eject") != 0) {
        free(value);
        return;
    }
    free(value);

    /* Acknowledge first, so that a request made after this is a new
     * one. */
    ack_rc = xlev_xs_write(ctx, g->eject_path, "0", 1);

    XLEV__LOCK(ctx);
    ds = ctx->domain;
    if (!ds || !g->enabled) {
        XLEV__UNLOCK(ctx);
        return;
    }
    if (ack_rc)
        xlev__domain_disaster_locked(ds, 0,
                                     "cannot acknowledge the eject at %s: %s",
                                     g->eject_path, xlev_strerror(ack_rc));
    xlev__domain_queue_event_locked(ds, &g->gen, XLEV_EVENT_TYPE_DISK_EJECT,
                                    g->domid, g->user, NULL, g->vdev);
    xlev__domain_flush_locked(ds);
    XLEV__UNLOCK(ctx);
}

static void
eject_gen_free(struct xlev_evgen_disk_eject *g)
{
    if (!g)
        return;
    free(g->vdev);
    free(g->eject_path);
    free(g);
}

/* The part's teardown (see domain-private.h). */
static void
eject_stop(struct xlev__domain *ds)
{
    struct xlev_evgen_disk_eject *g;

    for (g = ds->ejects; g; g = g->next)
        xlev_ev_xswatch_deregister(ds->ctx, &g->watch);
}

static void
eject_free(struct xlev__domain *ds)
{
    struct xlev_evgen_disk_eject *g;

    while ((g = ds->ejects)) {
        ds->ejects = g->next;
        eject_gen_free(g);
    }
}

int
xlev_evenable_disk_eject(xlev_ctx *ctx, uint32_t domid, const char *vdev,
                         uint64_t user, xlev_evgen_disk_eject **evgen_out)
{
    return xlev_evenable_disk_eject_full(ctx, domid, vdev, user, NULL, NULL,
                                         evgen_out);
}

int
xlev_evenable_disk_eject_full(xlev_ctx *ctx, uint32_t domid, const char *vdev,
                              uint64_t user, const xlev_event_hooks *hooks,
                              void *hooks_user,
                              xlev_evgen_disk_eject **evgen_out)
{
    struct xlev_evgen_disk_eject *g = NULL;
    struct xlev__domain *ds;
    char fpath[XLEV__FRONTEND_PATH_MAX];
    char *backend = NULL;
    size_t blen;
    int devid, rc;

    if (!ctx || !evgen_out)
        return XLEV_ERROR_INVAL;
    *evgen_out = NULL;
    devid = xlev_disk_vdev_to_devid(vdev);
    if (xlev__domain_gen_hooks_check(hooks))
        return XLEV_ERROR_INVAL;
    /* Failures here are returned to the caller: debug level. */
    if (domid >= XLEV__DOMID_FIRST_RESERVED || devid < 0) {
        xlev__log(ctx, LOG_DEBUG,
                  "xlev_evenable_disk_eject: domain %" PRIu32
                  ", vdev \"%s\": not a guest disk",
                  domid, vdev ? vdev : "(null)");
        return XLEV_ERROR_INVAL;
    }
    ds = xlev__domain_get(ctx);
    if (!ds)
        return XLEV_ERROR_NOMEM;

    snprintf(fpath, sizeof(fpath),
             XLEV__LOCAL_DOMAIN "/%" PRIu32 "/device/vbd/%d/backend", domid,
             devid);
    rc = xlev_xs_read(ctx, fpath, &backend, NULL);
    if (rc) {
        xlev__log(ctx, LOG_DEBUG,
                  "domain %" PRIu32 " disk %s: cannot read %s: %s", domid, vdev,
                  fpath, xlev_strerror(rc));
        goto out;
    }

    g = xlev__calloc(1, sizeof(*g));
    if (!g) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    g->gen.hooks = hooks;
    g->gen.hooks_user = hooks ? hooks_user : NULL;
    g->ctx = ctx;
    g->domid = domid;
    g->user = user;
    xlev_ev_xswatch_init(&g->watch);
    g->vdev = xlev__strdup(vdev);
    blen = strlen(backend);
    g->eject_path = xlev__malloc(blen + sizeof("/eject"));
    if (!g->vdev || !g->eject_path) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    memcpy(g->eject_path, backend, blen);
    memcpy(g->eject_path + blen, "/eject", sizeof("/eject"));
    if (!xlev_xs_path_is_valid(g->eject_path)) {
        xlev__log(ctx, LOG_DEBUG,
                  "domain %" PRIu32 " disk %s: %s names no valid backend "
                  "path (\"%s\")",
                  domid, vdev, fpath, backend);
        rc = XLEV_ERROR_INVAL;
        goto out;
    }

    /* Listed and enabled before the watch exists: its callback may run
     * in another thread as soon as it does. */
    XLEV__LOCK(ctx);
    xlev__domain_add_part_locked(ds, &ds->eject_part, eject_stop, eject_free);
    g->enabled = 1;
    XLEV__GEN_LIST_PUSH(ds->ejects, g);
    XLEV__UNLOCK(ctx);

    rc = xlev_ev_xswatch_register(ctx, &g->watch, eject_watch_cb,
                                  g->eject_path);
    if (rc) {
        XLEV__LOCK(ctx);
        XLEV__GEN_LIST_REMOVE(ds->ejects, g);
        XLEV__UNLOCK(ctx);
        goto out;
    }

    *evgen_out = g;
    g = NULL;
    rc = 0;
out:
    free(backend);
    eject_gen_free(g);
    return rc;
}

void
xlev_evdisable_disk_eject(xlev_ctx *ctx, xlev_evgen_disk_eject *g)
{
    struct xlev__domain *ds;

    if (!ctx || !g)
        return;
    xlev_ev_xswatch_deregister(ctx, &g->watch);
    XLEV__LOCK(ctx);
    ds = ctx->domain;
    g->enabled = 0;
    if (ds) {
        XLEV__GEN_LIST_REMOVE(ds->ejects, g);
        xlev__domain_gen_retire_locked(ds, &g->gen);
    }
    XLEV__UNLOCK(ctx);
    eject_gen_free(g);
}
