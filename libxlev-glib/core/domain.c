/* domain.c: domain events (shutdown, death, disk eject, introduce)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See xlev-domain.h for the contract. This file keeps, per context, one
 * struct xlev__domain (ctx->domain), made on first use:
 *
 *   the event queue    xlev__devent records, oldest first. An event is
 *                      queued by a generator's scan (lock held) and leaves
 *                      the queue through xlev_event_check() or, for types in
 *                      the hooks' mask, through delivery to event_occurs.
 *   death generators   sorted by domid (ties in enable order), sharing one
 *                      `@releaseDomain` watch (release_watch) and one
 *                      zero-delay timeout (rescan) that makes a freshly
 *                      enabled generator look at its domain without
 *                      waiting for the next release. Both are registered on
 *                      first use and kept until the context is freed: a
 *                      spare watch costs less than the care needed to drop
 *                      it while another thread may be enabling.
 *   eject generators   each with its own watch on <backend>/eject.
 *   introduce gens     sharing one `@introduceDomain` watch (and the
 *                      `@releaseDomain` one), and the set of domids
 *                      already reported or present at the start (known[],
 *                      sorted); a domid xenstored dropped leaves it at the
 *                      next @releaseDomain. Each generator keeps a copy
 *                      of known[] as it was when enabled (present[]):
 *                      the domains it will not report.
 *
 * Locking. Everything above is protected by ctx->lock, except:
 *   - reg_lock serialises the registration of the shared watches and
 *     timeout (xlev_ev_*_register take ctx->lock themselves, so it cannot
 *     be held then). It is never held while waiting for a callback, so a
 *     callback may take it (an event_occurs that enables a generator).
 *   - intro_lock serialises introduce scans, which talk to xenstored
 *     (round trips are never made with ctx->lock held) and own known[].
 *     It is held until ctx->lock is taken both where a scan's news is
 *     queued to the generators and where a generator copies known[] and
 *     joins the list: so each domain the scans find is either in a
 *     generator's present[] or reported to it, never both and never
 *     neither.
 * Lock order: reg_lock, then intro_lock, then ctx->lock.
 *
 * Delivery. Scans run inside the core's deferred callbacks (the shared
 * watch or timeout, or an eject watch), lock dropped. They take ctx->lock,
 * queue what they found and then call deliver_and_unlock(), which hands
 * each queued event of a type in the hooks' mask to event_occurs with the
 * lock dropped. While an event of generator G is being delivered, a record
 * {G, this thread} is on `delivering`; evdisable(G) removes G's queued
 * events and waits (on ctx->cond, which deliver broadcasts) until no other
 * thread is delivering for G. That is the "nothing after evdisable"
 * promise, kept also for events that another generator's scan delivers.
 *
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
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "xlev-event-private.h"
#include "xlev-domain.h"
#include "hypervisor-private.h"

/* DOMID_FIRST_RESERVED (xen/xen.h): domids from here up are not guests. */
#define XLEV__DOMID_FIRST_RESERVED 0x7FF0U

/* "/local/domain/<domid>/device/vbd/<devid>/backend"; domids and devids
 * are at most 10 digits each. */
#define XLEV__LOCAL_DOMAIN "/local/domain"
#define XLEV__FRONTEND_PATH_MAX (sizeof(XLEV__LOCAL_DOMAIN) + 64)

/* A queued event, or a disaster waiting to be reported to the hooks. */
struct xlev__devent {
    xlev_event ev; /* first: xlev_event_free() frees the record */
    const void *gen;
    struct xlev__devent *next, *prev;
    /* disasters only (never seen by xlev_event_check) */
    int is_disaster;
    int errnoval;
    char *msg; /* same allocation */
};

struct xlev__delivering {
    struct xlev__delivering *next;
    const void *gen;
    pthread_t thread;
};

struct xlev_evgen_domain_death {
    struct xlev_evgen_domain_death *next, *prev; /* sorted by domid */
    uint32_t domid;
    uint64_t user;
    unsigned int seen : 1, uuid_known : 1, shutdown_reported : 1,
        death_reported : 1;
    uint8_t uuid[XLEV_DOMUUID_LEN];
};

struct xlev_evgen_disk_eject {
    struct xlev_evgen_disk_eject *next, *prev;
    xlev_ctx *ctx;
    uint32_t domid;
    uint64_t user;
    int enabled; /* lock held */
    char *vdev;
    char *eject_path;
    xlev_ev_xswatch watch;
};

struct xlev_evgen_domain_introduce {
    struct xlev_evgen_domain_introduce *next, *prev;
    uint64_t user;
    /* known[] when it was enabled: what it does not report (sorted;
     * NULL when npresent is 0). Set before the generator is listed,
     * never changed after. */
    uint32_t *present;
    size_t npresent;
};

struct xlev__domain {
    xlev_ctx *ctx;
    pthread_mutex_t reg_lock;
    pthread_mutex_t intro_lock;

    /* queue and delivery */
    struct xlev__devent *qhead, *qtail;
    const xlev_event_hooks *hooks;
    void *hooks_user;
    struct xlev__delivering *delivering;
    int waiting; /* a thread is in xlev_event_wait */

    /* death */
    xlev__hv *hv;
    xlev__dominfo *infos; /* XLEV__HV_BATCH entries */
    struct xlev_evgen_domain_death *deaths;
    xlev_ev_xswatch release_watch;
    xlev_ev_time rescan;

    /* disk eject */
    struct xlev_evgen_disk_eject *ejects;

    /* introduce */
    struct xlev_evgen_domain_introduce *intros;
    xlev_ev_xswatch introduce_watch;
    uint32_t *known; /* intro_lock */
    size_t nknown;
    int known_valid;
};

#define CONTAINER_OF(ptr, type, member)                                        \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/*======================================================================*/
/* Per-context state */

/* Returns the state, making it if needed, or NULL (out of memory). Takes
 * the lock. */
static struct xlev__domain *
domain_get(xlev_ctx *ctx)
{
    struct xlev__domain *ds;

    XLEV__LOCK(ctx);
    ds = ctx->domain;
    if (ds)
        goto out;
    ds = xlev__calloc(1, sizeof(*ds));
    if (!ds)
        goto out;
    if (pthread_mutex_init(&ds->reg_lock, NULL) != 0) {
        free(ds);
        ds = NULL;
        goto out;
    }
    if (pthread_mutex_init(&ds->intro_lock, NULL) != 0) {
        pthread_mutex_destroy(&ds->reg_lock);
        free(ds);
        ds = NULL;
        goto out;
    }
    ds->ctx = ctx;
    xlev_ev_xswatch_init(&ds->release_watch);
    xlev_ev_xswatch_init(&ds->introduce_watch);
    xlev_ev_time_init(&ds->rescan);
    ctx->domain = ds;
out:
    XLEV__UNLOCK(ctx);
    return ds;
}

/*======================================================================*/
/* The queue; lock held */

static void
queue_append_locked(struct xlev__domain *ds, struct xlev__devent *e)
{
    e->next = NULL;
    e->prev = ds->qtail;
    if (ds->qtail)
        ds->qtail->next = e;
    else
        ds->qhead = e;
    ds->qtail = e;
}

static void
queue_remove_locked(struct xlev__domain *ds, struct xlev__devent *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        ds->qhead = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        ds->qtail = e->prev;
    e->next = e->prev = NULL;
}

static void
devent_free(struct xlev__devent *e)
{
    if (!e)
        return;
    if (!e->is_disaster && e->ev.type == XLEV_EVENT_TYPE_DISK_EJECT)
        free(e->ev.u.disk_eject.vdev);
    free(e);
}

/* Drops every queued event of gen. */
static void
queue_cancel_locked(struct xlev__domain *ds, const void *gen)
{
    struct xlev__devent *e, *next;

    for (e = ds->qhead; e; e = next) {
        next = e->next;
        if (e->gen == gen) {
            queue_remove_locked(ds, e);
            devent_free(e);
        }
    }
}

static int
delivering_other_thread_locked(struct xlev__domain *ds, const void *gen)
{
    struct xlev__delivering *d;
    pthread_t self = pthread_self();

    for (d = ds->delivering; d; d = d->next)
        if ((!gen || d->gen == gen) && !pthread_equal(d->thread, self))
            return 1;
    return 0;
}

/* Waits until no other thread delivers an event of gen (NULL: of any
 * generator). Lock held; ctx->cond is broadcast after each delivery. */
static void
delivering_wait_locked(struct xlev__domain *ds, const void *gen)
{
    while (delivering_other_thread_locked(ds, gen))
        pthread_cond_wait(&ds->ctx->cond, &ds->ctx->lock);
}

/* Reports a failure to produce an event: to the event hooks' disaster
 * callback when there is one (queued, reported by deliver_and_unlock), else
 * to the context's disaster hook (the core's queue: we run inside one of
 * its callbacks, so it is reported as soon as we return). */
static void __attribute__((format(printf, 4, 5)))
domain_disaster_locked(struct xlev__domain *ds, xlev_event_type type,
                       int errnoval, const char *fmt, ...)
{
    struct xlev__devent *e;
    char buf[512];
    size_t len;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    if (!ds->hooks || !ds->hooks->disaster) {
        xlev__disaster_locked(ds->ctx,
                              errnoval == ENOMEM ? XLEV_DISASTER_NOMEM
                                                 : XLEV_DISASTER_XENSTORE,
                              errnoval, "domain events: %s", buf);
        return;
    }
    xlev__log(ds->ctx, LOG_ERR, "domain events: %s", buf);
    len = strlen(buf) + 1;
    e = xlev__malloc(sizeof(*e) + len);
    if (!e) {
        fprintf(stderr,
                "libxlev-glib: domain events: %s (not reported to the "
                "application: out of memory)\n",
                buf);
        return;
    }
    memset(e, 0, sizeof(*e));
    e->is_disaster = 1;
    e->ev.type = type;
    e->errnoval = errnoval;
    e->msg = (char *)(e + 1);
    memcpy(e->msg, buf, len);
    queue_append_locked(ds, e);
}

/* Makes and queues an event; 0, or XLEV_ERROR_NOMEM (then a disaster is
 * reported and nothing queued). vdev is copied. */
static int
queue_event_locked(struct xlev__domain *ds, const void *gen,
                   xlev_event_type type, uint32_t domid, uint64_t user,
                   const uint8_t *uuid, const char *vdev)
{
    struct xlev__devent *e;

    e = xlev__calloc(1, sizeof(*e));
    if (!e)
        goto nomem;
    e->gen = gen;
    e->ev.type = type;
    e->ev.domid = domid;
    e->ev.for_user = user;
    if (uuid) {
        e->ev.domuuid_known = 1;
        memcpy(e->ev.domuuid, uuid, XLEV_DOMUUID_LEN);
    }
    if (vdev) {
        e->ev.u.disk_eject.vdev = xlev__strdup(vdev);
        if (!e->ev.u.disk_eject.vdev) {
            free(e);
            goto nomem;
        }
    }
    queue_append_locked(ds, e);
    return 0;

nomem:
    domain_disaster_locked(
        ds, type, ENOMEM,
        "out of memory: an event for domain %" PRIu32 " was lost", domid);
    return XLEV_ERROR_NOMEM;
}

/* The first queued item the hooks take, or NULL. */
static struct xlev__devent *
queue_first_for_hooks_locked(struct xlev__domain *ds)
{
    struct xlev__devent *e;

    if (!ds->hooks)
        return NULL;
    for (e = ds->qhead; e; e = e->next) {
        if (e->is_disaster)
            return e;
        if (ds->hooks->event_occurs
            && (ds->hooks->event_occurs_mask & XLEV_EVENTMASK(e->ev.type)))
            return e;
    }
    return NULL;
}

/*
 * Hands what the hooks take to them, one at a time, lock dropped around
 * each call. Lock held on entry, dropped on return.
 */
static void
deliver_and_unlock(struct xlev__domain *ds)
{
    xlev_ctx *ctx = ds->ctx;
    struct xlev__devent *e;

    while ((e = queue_first_for_hooks_locked(ds))) {
        struct xlev__delivering d, **dp;
        void (*occurs)(void *, xlev_event *) = ds->hooks->event_occurs;
        void (*disaster)(void *, xlev_event_type, const char *, int)
            = ds->hooks->disaster;
        void *user = ds->hooks_user;

        queue_remove_locked(ds, e);
        d.gen = e->gen;
        d.thread = pthread_self();
        d.next = ds->delivering;
        ds->delivering = &d;
        XLEV__UNLOCK(ctx);

        if (e->is_disaster) {
            if (disaster)
                disaster(user, e->ev.type, e->msg, e->errnoval);
            else
                fprintf(stderr, "libxlev-glib: domain events: %s\n", e->msg);
            free(e);
        } else {
            occurs(user, &e->ev); /* the event is the application's now */
        }

        XLEV__LOCK(ctx);
        for (dp = &ds->delivering; *dp; dp = &(*dp)->next) {
            if (*dp == &d) {
                *dp = d.next;
                break;
            }
        }
        pthread_cond_broadcast(&ctx->cond);
    }
    XLEV__UNLOCK(ctx);
}

/*======================================================================*/
/* Receiving events */

void
xlev_event_free(xlev_ctx *ctx, xlev_event *event)
{
    (void)ctx;
    devent_free((struct xlev__devent *)event);
}

void
xlev_event_register_callbacks(xlev_ctx *ctx, const xlev_event_hooks *hooks,
                              void *user)
{
    struct xlev__domain *ds;

    if (!ctx)
        return;
    ds = domain_get(ctx);
    if (!ds) {
        xlev__log(ctx, LOG_ERR,
                  "xlev_event_register_callbacks: out of memory (hooks not "
                  "installed)");
        return;
    }
    XLEV__LOCK(ctx);
    ds->hooks = hooks;
    ds->hooks_user = hooks ? user : NULL;
    XLEV__UNLOCK(ctx);
}

/* Lock held. */
static struct xlev__devent *
queue_take_locked(struct xlev__domain *ds, uint64_t typemask,
                  xlev_event_predicate *predicate, void *predicate_user)
{
    struct xlev__devent *e;

    for (e = ds->qhead; e; e = e->next) {
        if (e->is_disaster)
            continue;
        if (!(typemask & XLEV_EVENTMASK(e->ev.type)))
            continue;
        if (predicate && !predicate(&e->ev, predicate_user))
            continue;
        queue_remove_locked(ds, e);
        return e;
    }
    return NULL;
}

int
xlev_event_check(xlev_ctx *ctx, xlev_event **event_r, uint64_t typemask,
                 xlev_event_predicate *predicate, void *predicate_user)
{
    struct xlev__devent *e = NULL;

    if (!ctx || !event_r)
        return XLEV_ERROR_INVAL;
    *event_r = NULL;
    XLEV__LOCK(ctx);
    if (ctx->domain)
        e = queue_take_locked(ctx->domain, typemask, predicate, predicate_user);
    XLEV__UNLOCK(ctx);
    if (!e)
        return XLEV_ERROR_NOT_READY;
    *event_r = &e->ev;
    return 0;
}

int
xlev_event_wait(xlev_ctx *ctx, xlev_event **event_r, uint64_t typemask,
                xlev_event_predicate *predicate, void *predicate_user)
{
    struct xlev__domain *ds;
    struct pollfd *fds = NULL;
    int nfds_allocd = 0;
    int rc;

    if (!ctx || !event_r)
        return XLEV_ERROR_INVAL;
    *event_r = NULL;
    ds = domain_get(ctx);
    if (!ds)
        return XLEV_ERROR_NOMEM;

    XLEV__LOCK(ctx);
    if (ctx->hooks) {
        xlev__log(ctx, LOG_ERR,
                  "xlev_event_wait: the context runs in hooks style: wait "
                  "in the application's loop (xlev_event_check)");
        rc = XLEV_ERROR_INVAL;
    } else if (ds->waiting) {
        xlev__log(ctx, LOG_ERR,
                  "xlev_event_wait: another thread is already waiting on "
                  "this context");
        rc = XLEV_ERROR_INVAL;
    } else {
        ds->waiting = 1;
        rc = 0;
    }
    XLEV__UNLOCK(ctx);
    if (rc)
        return rc;

    for (;;) {
        struct timeval now;
        int nfds = nfds_allocd, timeout = -1;

        rc = xlev_event_check(ctx, event_r, typemask, predicate,
                              predicate_user);
        if (rc != XLEV_ERROR_NOT_READY)
            break;

        xlev_osevent_now(ctx, &now);
        rc = xlev_osevent_beforepoll(ctx, &nfds, fds, &timeout, now);
        if (rc == XLEV_ERROR_BUFFERFULL) {
            struct pollfd *newfds
                = xlev__realloc_array(fds, nfds, sizeof(*fds));

            if (!newfds) {
                rc = XLEV_ERROR_NOMEM;
                break;
            }
            fds = newfds;
            nfds_allocd = nfds;
            continue;
        }
        if (rc)
            break;
        if (poll(fds, nfds, timeout) < 0) {
            if (errno == EINTR)
                continue;
            xlev__log(ctx, LOG_ERR, "xlev_event_wait: poll: %s",
                      strerror(errno));
            rc = XLEV_ERROR_FAIL;
            break;
        }
        xlev_osevent_now(ctx, &now);
        rc = xlev_osevent_afterpoll(ctx, nfds, fds, now);
        if (rc)
            break;
    }

    free(fds);
    XLEV__LOCK(ctx);
    ds->waiting = 0;
    XLEV__UNLOCK(ctx);
    return rc;
}

/*======================================================================*/
/* Domain death */

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
        if (queue_event_locked(ds, g, XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN, g->domid,
                               g->user, g->uuid_known ? g->uuid : NULL, NULL)
            == 0) {
            ds->qtail->ev.u.domain_shutdown.reason
                = (xlev_shutdown_reason)info->shutdown_reason;
            g->shutdown_reported = 1;
        }
    }
    if (!info || info->dying) {
        if (queue_event_locked(ds, g, XLEV_EVENT_TYPE_DOMAIN_DEATH, g->domid,
                               g->user, g->uuid_known ? g->uuid : NULL, NULL)
            == 0)
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
            domain_disaster_locked(ds, XLEV_EVENT_TYPE_DOMAIN_DEATH, 0,
                                   "cannot list domains from the "
                                   "hypervisor: domain shutdown and death "
                                   "may be reported late");
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

static void introduce_forget_released(struct xlev__domain *ds);

/* The shared @releaseDomain watch and the rescan timeout; lock dropped. */
static void
release_watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
                 const char *epath)
{
    struct xlev__domain *ds
        = CONTAINER_OF(w, struct xlev__domain, release_watch);

    introduce_forget_released(ds);
    XLEV__LOCK(ctx);
    death_scan_locked(ds);
    deliver_and_unlock(ds);
}

static void
rescan_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    struct xlev__domain *ds = CONTAINER_OF(ev, struct xlev__domain, rescan);

    XLEV__LOCK(ctx);
    death_scan_locked(ds);
    deliver_and_unlock(ds);
}

int
xlev_evenable_domain_death(xlev_ctx *ctx, uint32_t domid, uint64_t user,
                           xlev_evgen_domain_death **evgen_out)
{
    struct xlev_evgen_domain_death *g = NULL, *pos, *last;
    struct xlev__domain *ds;
    int rc;

    if (!ctx || !evgen_out)
        return XLEV_ERROR_INVAL;
    *evgen_out = NULL;
    if (domid >= XLEV__DOMID_FIRST_RESERVED)
        return XLEV_ERROR_INVAL;
    ds = domain_get(ctx);
    if (!ds)
        return XLEV_ERROR_NOMEM;

    pthread_mutex_lock(&ds->reg_lock);

    XLEV__LOCK(ctx);
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

    if (!xlev_ev_xswatch_isregistered(&ds->release_watch)) {
        rc = xlev_ev_xswatch_register(ctx, &ds->release_watch, release_watch_cb,
                                      "@releaseDomain");
        if (rc)
            goto out;
    }

    g = xlev__calloc(1, sizeof(*g));
    if (!g) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
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
    if (g->prev)
        g->prev->next = g->next;
    else
        ds->deaths = g->next;
    if (g->next)
        g->next->prev = g->prev;
    queue_cancel_locked(ds, g);
    delivering_wait_locked(ds, g);
    XLEV__UNLOCK(ctx);
    free(g);
}

/*======================================================================*/
/* Disk eject */

/* Parses the drive letters of "<prefix><letters>[<partition>]" as libxl
 * does: letters are a bijective base-26 number (a=0, z=25, aa=26); the
 * partition is decimal without leading zeroes. 1 on success. */
static int
vdev_parse_letters(const char *s, const char *prefix, long max_disk,
                   long max_part, long *disk_out, long *part_out)
{
    size_t pl = strlen(prefix);
    long disk = -1, part = 0;
    const char *p;
    char *end;

    if (strncmp(s, prefix, pl) != 0)
        return 0;
    p = s + pl;
    if (*p < 'a' || *p > 'z')
        return 0;
    while (*p >= 'a' && *p <= 'z') {
        disk = (disk + 1) * 26 + (*p - 'a');
        if (disk > max_disk)
            return 0;
        p++;
    }
    if (*p) {
        if (*p < '1' || *p > '9')
            return 0;
        errno = 0;
        part = strtol(p, &end, 10);
        if (errno || *end || part > max_part)
            return 0;
    }
    *disk_out = disk;
    *part_out = part;
    return 1;
}

/* Xen's device numbers (docs/misc/vbd-interface.txt). */
#define VBD_XVD_MAJOR 202
#define VBD_XVD_EXT (1L << 28)
#define VBD_XVD_EXT_MAX_DISK ((1L << 20) - 1)
#define VBD_XVD_EXT_MAX_PART 255
#define VBD_XVD_MAX_DISK_SHORT 15
#define VBD_XVD_MAX_PART_SHORT 15
#define VBD_HD_MAJOR_01 3
#define VBD_HD_MAJOR_23 22
#define VBD_HD_MAX_DISK 3
#define VBD_HD_MAX_PART 63
#define VBD_SD_MAJOR 8
#define VBD_SD_MAX_DISK 15
#define VBD_SD_MAX_PART 15

int
xlev_disk_vdev_to_devid(const char *vdev)
{
    long disk, part;
    char *end;
    int used = -1;

    if (!vdev || !*vdev)
        return -1;

    /* "d<disk>p<partition>" or "xvd<letters>[<partition>]" */
    if ((sscanf(vdev, "d%ldp%ld%n", &disk, &part, &used) == 2 && used >= 0
         && (size_t)used == strlen(vdev) && disk >= 0
         && disk <= VBD_XVD_EXT_MAX_DISK && part >= 0
         && part <= VBD_XVD_EXT_MAX_PART)
        || vdev_parse_letters(vdev, "xvd", VBD_XVD_EXT_MAX_DISK,
                              VBD_XVD_EXT_MAX_PART, &disk, &part)) {
        if (disk <= VBD_XVD_MAX_DISK_SHORT && part <= VBD_XVD_MAX_PART_SHORT)
            return (int)((VBD_XVD_MAJOR << 8) | (disk << 4) | part);
        return (int)(VBD_XVD_EXT | (disk << 8) | part);
    }

    /* a plain device number */
    if (*vdev >= '0' && *vdev <= '9') {
        unsigned long ul;

        errno = 0;
        ul = strtoul(vdev, &end, 0);
        if (!errno && !*end && ul <= INT_MAX)
            return (int)ul;
        return -1;
    }

    if (vdev_parse_letters(vdev, "hd", VBD_HD_MAX_DISK, VBD_HD_MAX_PART, &disk,
                           &part))
        return (int)(((disk < 2 ? VBD_HD_MAJOR_01 : VBD_HD_MAJOR_23) << 8)
                     | ((disk & 1) << 6) | part);
    if (vdev_parse_letters(vdev, "sd", VBD_SD_MAX_DISK, VBD_SD_MAX_PART, &disk,
                           &part))
        return (int)((VBD_SD_MAJOR << 8) | (disk << 4) | part);
    return -1;
}

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
        if (ds)
            domain_disaster_locked(ds, XLEV_EVENT_TYPE_DISK_EJECT, 0,
                                   "cannot read %s: %s", g->eject_path,
                                   xlev_strerror(rc));
        if (ds)
            deliver_and_unlock(ds);
        else
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
        domain_disaster_locked(ds, XLEV_EVENT_TYPE_DISK_EJECT, 0,
                               "cannot acknowledge the eject at %s: %s",
                               g->eject_path, xlev_strerror(ack_rc));
    queue_event_locked(ds, g, XLEV_EVENT_TYPE_DISK_EJECT, g->domid, g->user,
                       NULL, g->vdev);
    deliver_and_unlock(ds);
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

int
xlev_evenable_disk_eject(xlev_ctx *ctx, uint32_t domid, const char *vdev,
                         uint64_t user, xlev_evgen_disk_eject **evgen_out)
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
    if (domid >= XLEV__DOMID_FIRST_RESERVED || devid < 0) {
        xlev__log(ctx, LOG_ERR,
                  "xlev_evenable_disk_eject: domain %" PRIu32
                  ", vdev \"%s\": not a guest disk",
                  domid, vdev ? vdev : "(null)");
        return XLEV_ERROR_INVAL;
    }
    ds = domain_get(ctx);
    if (!ds)
        return XLEV_ERROR_NOMEM;

    snprintf(fpath, sizeof(fpath),
             XLEV__LOCAL_DOMAIN "/%" PRIu32 "/device/vbd/%d/backend", domid,
             devid);
    rc = xlev_xs_read(ctx, fpath, &backend, NULL);
    if (rc) {
        xlev__log(ctx, LOG_ERR,
                  "domain %" PRIu32 " disk %s: cannot read %s: %s", domid, vdev,
                  fpath, xlev_strerror(rc));
        goto out;
    }

    g = xlev__calloc(1, sizeof(*g));
    if (!g) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
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
        xlev__log(ctx, LOG_ERR,
                  "domain %" PRIu32 " disk %s: %s names no valid backend "
                  "path (\"%s\")",
                  domid, vdev, fpath, backend);
        rc = XLEV_ERROR_INVAL;
        goto out;
    }

    /* Listed and enabled before the watch exists: its callback may run
     * in another thread as soon as it does. */
    XLEV__LOCK(ctx);
    g->enabled = 1;
    g->prev = NULL;
    g->next = ds->ejects;
    if (g->next)
        g->next->prev = g;
    ds->ejects = g;
    XLEV__UNLOCK(ctx);

    rc = xlev_ev_xswatch_register(ctx, &g->watch, eject_watch_cb,
                                  g->eject_path);
    if (rc) {
        XLEV__LOCK(ctx);
        if (g->prev)
            g->prev->next = g->next;
        else
            ds->ejects = g->next;
        if (g->next)
            g->next->prev = g->prev;
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
        if (g->prev)
            g->prev->next = g->next;
        else
            ds->ejects = g->next;
        if (g->next)
            g->next->prev = g->prev;
        queue_cancel_locked(ds, g);
        delivering_wait_locked(ds, g);
    }
    XLEV__UNLOCK(ctx);
    eject_gen_free(g);
}

/*======================================================================*/
/* Domain introduce */

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int
known_has(const uint32_t *known, size_t n, uint32_t domid)
{
    return bsearch(&domid, known, n, sizeof(*known), cmp_u32) != NULL;
}

/*
 * Lists /local/domain and works out which domids there are introduced
 * and new. intro_lock held (not ctx->lock: this talks to xenstored).
 * On success replaces known[] and returns the new domids in
 * *fresh_out and *nfresh_out (malloc()ed; NULL when none). A missing
 * /local/domain is an empty list.
 */
static int
introduce_scan(struct xlev__domain *ds, uint32_t **fresh_out,
               size_t *nfresh_out)
{
    xlev_ctx *ctx = ds->ctx;
    char **entries = NULL;
    unsigned int n = 0, i;
    uint32_t *now = NULL, *fresh = NULL;
    size_t nnow = 0, nfresh = 0;
    int rc, introduced;

    *fresh_out = NULL;
    *nfresh_out = 0;

    rc = xlev_xs_directory(ctx, XLEV__LOCAL_DOMAIN, &entries, &n);
    if (rc == XLEV_ERROR_NOENT) {
        n = 0;
        rc = 0;
    }
    if (rc)
        goto out;

    now = xlev__calloc(n ? n : 1, sizeof(*now));
    fresh = xlev__calloc(n ? n : 1, sizeof(*fresh));
    if (!now || !fresh) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        unsigned long d;
        char *end;

        errno = 0;
        d = strtoul(entries[i], &end, 10);
        if (errno || *end || end == entries[i]
            || d >= XLEV__DOMID_FIRST_RESERVED)
            continue;
        if (ds->known_valid && known_has(ds->known, ds->nknown, (uint32_t)d)) {
            now[nnow++] = (uint32_t)d;
            continue;
        }
        /* New to us: count it once xenstored knows it (no ctx->lock; a
         * failed request counts as "not yet": it is asked again on the
         * next @introduceDomain). */
        if (xlev__xs_is_domain_introduced(ctx, (unsigned int)d, &introduced)
            || !introduced)
            continue;
        now[nnow++] = (uint32_t)d;
        if (ds->known_valid)
            fresh[nfresh++] = (uint32_t)d;
    }
    qsort(now, nnow, sizeof(*now), cmp_u32);
    qsort(fresh, nfresh, sizeof(*fresh), cmp_u32);

    free(ds->known);
    ds->known = now;
    ds->nknown = nnow;
    ds->known_valid = 1;
    now = NULL;
    if (nfresh) {
        *fresh_out = fresh;
        *nfresh_out = nfresh;
        fresh = NULL;
    }
    rc = 0;
out:
    free(entries);
    free(now);
    free(fresh);
    return rc;
}

/*
 * A domain xenstored dropped (released while dying or gone) leaves the
 * known set at once, so that a new domain introduced with its domid is
 * news even if the toolstack kept its /local/domain directory. One
 * XS_IS_DOMAIN_INTRODUCED round trip per known domain, on each
 * @releaseDomain, and only while introduce generators exist. Takes
 * intro_lock; not ctx->lock.
 */
static void
introduce_forget_released(struct xlev__domain *ds)
{
    size_t i, kept = 0;

    pthread_mutex_lock(&ds->intro_lock);
    if (ds->known_valid) {
        for (i = 0; i < ds->nknown; i++) {
            uint32_t d = ds->known[i];

            int introduced;

            /* Forget a domain only when xenstored says it is gone; a
             * failed request keeps it. */
            if (d == 0
                || xlev__xs_is_domain_introduced(ds->ctx, d, &introduced)
                || introduced)
                ds->known[kept++] = d;
        }
        ds->nknown = kept; /* still sorted */
    }
    pthread_mutex_unlock(&ds->intro_lock);
}

static void
introduce_watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
                   const char *epath)
{
    struct xlev__domain *ds
        = CONTAINER_OF(w, struct xlev__domain, introduce_watch);
    struct xlev_evgen_domain_introduce *g;
    uint32_t *fresh = NULL;
    size_t nfresh = 0, i;
    int rc;

    pthread_mutex_lock(&ds->intro_lock);
    rc = introduce_scan(ds, &fresh, &nfresh);
    /* Queued to the generators listed now; a generator enabled after this
     * unlock has these domains in its present[] (see the file comment). */
    XLEV__LOCK(ctx);
    pthread_mutex_unlock(&ds->intro_lock);
    if (rc)
        domain_disaster_locked(ds, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE,
                               rc == XLEV_ERROR_NOMEM ? ENOMEM : 0,
                               "cannot list introduced domains: %s",
                               xlev_strerror(rc));
    for (i = 0; i < nfresh; i++)
        for (g = ds->intros; g; g = g->next)
            queue_event_locked(ds, g, XLEV_EVENT_TYPE_DOMAIN_INTRODUCE,
                               fresh[i], g->user, NULL, NULL);
    free(fresh);
    deliver_and_unlock(ds);
}

static void
introduce_gen_free(struct xlev_evgen_domain_introduce *g)
{
    if (!g)
        return;
    free(g->present);
    free(g);
}

int
xlev_evenable_domain_introduce(xlev_ctx *ctx, uint64_t user,
                               xlev_evgen_domain_introduce **evgen_out)
{
    struct xlev_evgen_domain_introduce *g = NULL;
    struct xlev__domain *ds;
    int rc;

    if (!ctx || !evgen_out)
        return XLEV_ERROR_INVAL;
    *evgen_out = NULL;
    ds = domain_get(ctx);
    if (!ds)
        return XLEV_ERROR_NOMEM;

    pthread_mutex_lock(&ds->reg_lock);

    g = xlev__calloc(1, sizeof(*g));
    if (!g) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    g->user = user;

    /* The baseline: what is there now is not news. */
    pthread_mutex_lock(&ds->intro_lock);
    if (!ds->known_valid) {
        uint32_t *fresh;
        size_t nfresh;

        rc = introduce_scan(ds, &fresh, &nfresh);
        free(fresh); /* none: the first scan reports nothing */
    } else {
        rc = 0;
    }
    if (!rc && ds->nknown) {
        g->present = xlev__calloc(ds->nknown, sizeof(*g->present));
        if (g->present) {
            memcpy(g->present, ds->known, ds->nknown * sizeof(*g->present));
            g->npresent = ds->nknown;
        } else {
            rc = XLEV_ERROR_NOMEM;
        }
    }
    if (rc) {
        pthread_mutex_unlock(&ds->intro_lock);
        goto out;
    }
    /* Listed before intro_lock is dropped: a scan after this reports its
     * news to g (see the file comment). */
    XLEV__LOCK(ctx);
    g->next = ds->intros;
    if (g->next)
        g->next->prev = g;
    ds->intros = g;
    XLEV__UNLOCK(ctx);
    pthread_mutex_unlock(&ds->intro_lock);

    /* @releaseDomain too: see introduce_forget_released. */
    rc = 0;
    if (!xlev_ev_xswatch_isregistered(&ds->release_watch))
        rc = xlev_ev_xswatch_register(ctx, &ds->release_watch, release_watch_cb,
                                      "@releaseDomain");
    if (!rc && !xlev_ev_xswatch_isregistered(&ds->introduce_watch))
        rc = xlev_ev_xswatch_register(ctx, &ds->introduce_watch,
                                      introduce_watch_cb, "@introduceDomain");
    if (rc) {
        XLEV__LOCK(ctx);
        if (g->prev)
            g->prev->next = g->next;
        else
            ds->intros = g->next;
        if (g->next)
            g->next->prev = g->prev;
        queue_cancel_locked(ds, g);
        delivering_wait_locked(ds, g);
        XLEV__UNLOCK(ctx);
        goto out;
    }

    *evgen_out = g;
    g = NULL;
    rc = 0;
out:
    pthread_mutex_unlock(&ds->reg_lock);
    introduce_gen_free(g);
    return rc;
}

int
xlev_evgen_domain_introduce_present(xlev_ctx *ctx,
                                    const xlev_evgen_domain_introduce *g,
                                    uint32_t **domids_out, size_t *n_out)
{
    uint32_t *copy = NULL;

    if (domids_out)
        *domids_out = NULL;
    if (n_out)
        *n_out = 0;
    if (!ctx || !g || !domids_out || !n_out)
        return XLEV_ERROR_INVAL;
    /* present[] never changes once the generator is enabled. */
    if (g->npresent) {
        copy = xlev__calloc(g->npresent, sizeof(*copy));
        if (!copy)
            return XLEV_ERROR_NOMEM;
        memcpy(copy, g->present, g->npresent * sizeof(*copy));
    }
    *domids_out = copy;
    *n_out = g->npresent;
    return 0;
}

void
xlev_evdisable_domain_introduce(xlev_ctx *ctx, xlev_evgen_domain_introduce *g)
{
    struct xlev__domain *ds;

    if (!ctx || !g)
        return;
    XLEV__LOCK(ctx);
    ds = ctx->domain;
    if (ds) {
        if (g->prev)
            g->prev->next = g->next;
        else
            ds->intros = g->next;
        if (g->next)
            g->next->prev = g->prev;
        queue_cancel_locked(ds, g);
        delivering_wait_locked(ds, g);
    }
    XLEV__UNLOCK(ctx);
    introduce_gen_free(g);
}

/*======================================================================*/
/* Freeing the context */

void
xlev__domain_ctx_free(xlev_ctx *ctx)
{
    struct xlev__domain *ds;
    struct xlev_evgen_disk_eject *ej;
    struct xlev__devent *e;

    XLEV__LOCK(ctx);
    ds = ctx->domain;
    if (!ds || xlev__inflight_self_locked(ctx)) {
        XLEV__UNLOCK(ctx);
        return;
    }
    XLEV__UNLOCK(ctx);

    /* Through the public API: each waits for its callback if it runs in
     * another thread. */
    xlev_ev_xswatch_deregister(ctx, &ds->release_watch);
    xlev_ev_xswatch_deregister(ctx, &ds->introduce_watch);
    xlev_ev_time_deregister(ctx, &ds->rescan);
    for (ej = ds->ejects; ej; ej = ej->next)
        xlev_ev_xswatch_deregister(ctx, &ej->watch);

    XLEV__LOCK(ctx);
    delivering_wait_locked(ds, NULL);
    ctx->domain = NULL;
    XLEV__UNLOCK(ctx);

    while ((e = ds->qhead)) {
        queue_remove_locked(ds, e);
        devent_free(e);
    }
    while (ds->deaths) {
        struct xlev_evgen_domain_death *g = ds->deaths;

        ds->deaths = g->next;
        free(g);
    }
    while ((ej = ds->ejects)) {
        ds->ejects = ej->next;
        eject_gen_free(ej);
    }
    while (ds->intros) {
        struct xlev_evgen_domain_introduce *g = ds->intros;

        ds->intros = g->next;
        introduce_gen_free(g);
    }
    xlev__hv_close(ds->hv);
    free(ds->infos);
    free(ds->known);
    pthread_mutex_destroy(&ds->intro_lock);
    pthread_mutex_destroy(&ds->reg_lock);
    free(ds);
}
