/* domain-private.h: what the domain event files share with each other
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See xlev-domain.h for the contract. The domain events are kept, per
 * context, in one struct xlev__domain (ctx->domain), made on first use
 * (domain.c) and spread over one file per concern:
 *
 *   event-queue.c      the event queue: xlev__devent records, oldest first.
 *                      An event is queued by a generator's scan (lock held)
 *                      and leaves the queue through xlev_event_check() or,
 *                      for types in the hooks' mask, through delivery to
 *                      event_occurs (see "Delivery" there).
 *   domain-death.c     death generators, sorted by domid (ties in enable
 *                      order), sharing one `@releaseDomain` watch
 *                      (release_watch) and one zero-delay timeout (rescan)
 *                      that makes a freshly enabled generator look at its
 *                      domain without waiting for the next release. Both
 *                      are registered on first use and kept until the
 *                      context is freed: a spare watch costs less than the
 *                      care needed to drop it while another thread may be
 *                      enabling.
 *   disk-eject.c       eject generators, each with its own watch on
 *                      <backend>/eject.
 *   domain-introduce.c introduce generators, sharing one `@introduceDomain`
 *                      watch (and the `@releaseDomain` one), and the set of
 *                      domids already reported or present at the start
 *                      (known[], sorted); a domid xenstored dropped leaves
 *                      it at the next @releaseDomain. Each generator keeps
 *                      a copy of known[] as it was when enabled
 *                      (present[]): the domains it will not report.
 *   domain.c           making ctx->domain, and freeing it with the context.
 */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "xlev-event-private.h"
#include "xlev-domain.h"
#include "hypervisor-private.h"

/* DOMID_FIRST_RESERVED (xen/xen.h): domids from here up are not guests. */
#define XLEV__DOMID_FIRST_RESERVED 0x7FF0U

/* The directory of the domains' xenstore trees. */
#define XLEV__LOCAL_DOMAIN "/local/domain"

#define CONTAINER_OF(ptr, type, member)                                        \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* The generator lists (next, prev; head first). Lock held. */
#define XLEV__GEN_LIST_PUSH(head, g)                                           \
    do {                                                                       \
        (g)->prev = NULL;                                                      \
        (g)->next = (head);                                                    \
        if ((g)->next)                                                         \
            (g)->next->prev = (g);                                             \
        (head) = (g);                                                          \
    } while (0)

#define XLEV__GEN_LIST_REMOVE(head, g)                                         \
    do {                                                                       \
        if ((g)->prev)                                                         \
            (g)->prev->next = (g)->next;                                       \
        else                                                                   \
            (head) = (g)->next;                                                \
        if ((g)->next)                                                         \
            (g)->next->prev = (g)->prev;                                       \
    } while (0)

struct xlev__devent;     /* event-queue.c */
struct xlev__delivering; /* event-queue.c */

/*
 * Locking. Everything in struct xlev__domain is protected by ctx->lock,
 * except:
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
 */
struct xlev__domain {
    xlev_ctx *ctx;
    pthread_mutex_t reg_lock;
    pthread_mutex_t intro_lock;

    /* queue and delivery (event-queue.c) */
    struct xlev__devent *qhead, *qtail;
    const xlev_event_hooks *hooks;
    void *hooks_user;
    struct xlev__delivering *delivering;
    int waiting; /* a thread is in xlev_event_wait */

    /* death (domain-death.c) */
    xlev__hv *hv;
    xlev__dominfo *infos; /* XLEV__HV_BATCH entries */
    struct xlev_evgen_domain_death *deaths;
    xlev_ev_xswatch release_watch;
    xlev_ev_time rescan;

    /* disk eject (disk-eject.c) */
    struct xlev_evgen_disk_eject *ejects;

    /* introduce (domain-introduce.c) */
    struct xlev_evgen_domain_introduce *intros;
    xlev_ev_xswatch introduce_watch;
    uint32_t *known; /* intro_lock */
    size_t nknown;
    int known_valid;
};

/* domain.c: the state, made if needed, or NULL (out of memory). Takes the
 * lock. */
struct xlev__domain *xlev__domain_get(xlev_ctx *ctx);

/* event-queue.c; lock held */
/* Makes and queues an event of gen; vdev is copied. Returns the event, or
 * NULL when out of memory (then a disaster is reported and nothing
 * queued). */
xlev_event *xlev__domain_queue_event_locked(
    struct xlev__domain *ds, const void *gen, xlev_event_type type,
    uint32_t domid, uint64_t user, const uint8_t *uuid, const char *vdev);
/* Reports a failure to produce an event of type: to the event hooks'
 * disaster callback when there is one (queued, reported by
 * xlev__domain_deliver_and_unlock), else to the context's disaster hook. */
void xlev__domain_disaster_locked(struct xlev__domain *ds, xlev_event_type type,
                                  int errnoval, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Hands what the hooks take to them. Lock held on entry, dropped on
 * return. */
void xlev__domain_deliver_and_unlock(struct xlev__domain *ds);
/* For a generator leaving its list: drops its queued events and waits
 * until no other thread delivers one of them. */
void xlev__domain_gen_retire_locked(struct xlev__domain *ds, const void *gen);
/* Waits until no other thread delivers an event of gen (NULL: of any
 * generator). */
void xlev__domain_delivering_wait_locked(struct xlev__domain *ds,
                                         const void *gen);
/* event-queue.c; no lock, ctx->domain already NULL: frees what is
 * queued. */
void xlev__domain_queue_free_all(struct xlev__domain *ds);

/* domain-death.c */
/* Registers the shared @releaseDomain watch unless it is; reg_lock held,
 * ctx->lock not. */
int xlev__domain_release_watch_ensure(struct xlev__domain *ds);
/* No lock, ctx->domain already NULL: frees the generators and the
 * hypervisor handle. */
void xlev__domain_death_free_all(struct xlev__domain *ds);

/* disk-eject.c */
/* Deregisters every eject generator's watch (lock NOT held: waits for
 * their callbacks). */
void xlev__disk_eject_deregister_all(struct xlev__domain *ds);
/* No lock, ctx->domain already NULL: frees the generators. */
void xlev__disk_eject_free_all(struct xlev__domain *ds);

/* domain-introduce.c */
/* Forgets the known domains xenstored dropped. Takes intro_lock; not
 * ctx->lock. */
void xlev__domain_introduce_forget_released(struct xlev__domain *ds);
/* No lock, ctx->domain already NULL: frees the generators and known[]. */
void xlev__domain_introduce_free_all(struct xlev__domain *ds);
