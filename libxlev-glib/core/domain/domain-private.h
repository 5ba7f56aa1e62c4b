/* domain-private.h: what the domain event files share with each other
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See xlev-domain.h for the contract. The domain room stands on the
 * xenstore room (../xs/) and the loop (../loop/). The domain events are
 * kept, per context, in one struct xlev__domain (ctx->domain), made on
 * first use (event-queue.c) and spread over one file per concern, from the
 * bottom up:
 *
 *   hypervisor.c       the hypervisor seam (libxenctrl), hypervisor-private.h
 *   disk-vdev.c        guest device names to devids
 *   event-queue.c      the per-context state and its teardown; the event
 *                      queue: xlev__devent records, oldest first. An event
 *                      is queued by a generator's scan (lock held) and
 *                      leaves the queue through xlev_event_check() or, when
 *                      hooks take its type (its generator's own, else the
 *                      context's), through the deferral mechanism to their
 *                      event_occurs (see "Delivery" there).
 *   release.c          the `@releaseDomain` watch, shared by whoever
 *                      subscribes (death and introduce generators): one
 *                      watch, registered on first use and kept until the
 *                      context is freed (a spare watch costs less than the
 *                      care needed to drop it while another thread may be
 *                      enabling).
 *   domain-death.c     death generators, sorted by domid (ties in enable
 *                      order), the release subscription and one zero-delay
 *                      timeout (rescan) that makes a freshly enabled
 *                      generator look at its domain without waiting for the
 *                      next release.
 *   disk-eject.c       eject generators, each with its own watch on
 *                      <backend>/eject.
 *   domain-info.c      xlev_domain_hypervisor_available() and
 *                      xlev_domain_list_info(): the hypervisor asked
 *                      directly, through the seam, with a handle of their
 *                      own (no generator state, no lock).
 *   domain-introduce.c introduce generators, sharing one `@introduceDomain`
 *                      watch and one on /local/domain (directories made
 *                      after the introduce), a release subscription, and the set of
 *                      domids already reported or present at the start
 *                      (known[], sorted); a domid xenstored dropped leaves
 *                      it at the next @releaseDomain. Each generator keeps
 *                      a copy of known[] as it was when enabled
 *                      (present[]): the domains it will not report.
 *
 * The generator files never call each other: what they share (the release
 * watch, teardown) goes through the subscriptions and parts below.
 */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../xlev-domain.h"
#include "../xs/xs-private.h"
#include "hypervisor-private.h"

/* DOMID_FIRST_RESERVED (xen/xen.h): domids from here up are not guests. */
#define XLEV__DOMID_FIRST_RESERVED 0x7FF0U

/* The directory of the domains' xenstore trees. */
#define XLEV__LOCAL_DOMAIN "/local/domain"

#define CONTAINER_OF(ptr, type, member) XLEV__CONTAINER_OF(ptr, type, member)

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

struct xlev__devent; /* event-queue.c */
struct xlev__domain;

/*
 * What every generator starts with. Its address names the generator to the
 * queue and to the deferral mechanism (the target of its events' records,
 * so that evdisable can retire it). hooks: its own, given to an
 * xlev_evenable_*_full() (set before it is listed, never changed after), or
 * NULL: its events go where the context's hooks say.
 */
struct xlev__gen {
    const xlev_event_hooks *hooks;
    void *hooks_user;
};

/*
 * A part of the domain room with per-context state of its own (the death,
 * introduce and eject generators, the release watch) adds itself once,
 * lock held. The room's one teardown (event-queue.c, registered with the
 * context) first calls every part's stop (lock dropped: each deregisters
 * its watches and timeouts, waiting for their callbacks), then, when no
 * callback of the room can run any more, every part's free (no lock).
 */
struct xlev__domain_part {
    struct xlev__domain_part *next;
    void (*stop)(struct xlev__domain *ds);
    void (*free)(struct xlev__domain *ds);
    int added;
};

/*
 * A subscriber to the shared @releaseDomain watch (release.c): fn is called
 * from the watch's callback, lock dropped, in subscription order; the
 * list only grows (at its tail) until the context is freed.
 */
#define XLEV__RELEASE_SUBS_MAX 2 /* the death and introduce generators */

struct xlev__release_sub {
    struct xlev__release_sub *next;
    void (*fn)(struct xlev__domain *ds);
    int subscribed;
};

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
 *
 * Delivery to hooks goes through the core's deferral mechanism
 * (../loop/deferred-private.h): evdisable retires its generator as a
 * deregistration retires its registration.
 */
struct xlev__domain {
    xlev_ctx *ctx;
    pthread_mutex_t reg_lock;
    pthread_mutex_t intro_lock;

    struct xlev__teardown teardown;
    struct xlev__domain_part *parts; /* last added first */

    /* queue and delivery (event-queue.c) */
    struct xlev__devent *qhead, *qtail;
    const xlev_event_hooks *hooks; /* the context's */
    void *hooks_user;
    int waiting; /* a thread is in xlev_event_wait */

    /* the @releaseDomain watch (release.c) */
    struct xlev__domain_part release_part;
    xlev_ev_xswatch release_watch;
    struct xlev__release_sub *release_subs;

    /* death (domain-death.c) */
    struct xlev__domain_part death_part;
    struct xlev__release_sub death_release;
    xlev__hv *hv;
    xlev__dominfo *infos; /* XLEV__HV_BATCH entries */
    struct xlev_evgen_domain_death *deaths;
    xlev_ev_time rescan;

    /* disk eject (disk-eject.c) */
    struct xlev__domain_part eject_part;
    struct xlev_evgen_disk_eject *ejects;

    /* introduce (domain-introduce.c) */
    struct xlev__domain_part intro_part;
    struct xlev__release_sub intro_release;
    struct xlev_evgen_domain_introduce *intros;
    xlev_ev_xswatch introduce_watch;
    xlev_ev_xswatch local_watch; /* /local/domain: directories made late */
    uint32_t *known; /* intro_lock */
    size_t nknown;
    int known_valid;
    /* intro_lock: domids with a /local/domain directory that xenstored
     * said were not introduced (sorted): not asked about again until the
     * next scan */
    uint32_t *unintroduced;
    size_t nunintroduced;
};

/* event-queue.c: the state, made if needed, or NULL (out of memory).
 * Takes the lock. */
struct xlev__domain *xlev__domain_get(xlev_ctx *ctx);
/* event-queue.c; lock held: adds part (once; later calls do nothing). */
void xlev__domain_add_part_locked(struct xlev__domain *ds,
                                  struct xlev__domain_part *part,
                                  void (*stop)(struct xlev__domain *ds),
                                  void (*free)(struct xlev__domain *ds));

/* event-queue.c; lock held */
/* Makes and queues an event of gen; vdev is copied. Returns the event, or
 * NULL when out of memory (then a disaster is reported and nothing
 * queued). */
xlev_event *xlev__domain_queue_event_locked(
    struct xlev__domain *ds, struct xlev__gen *gen, xlev_event_type type,
    uint32_t domid, uint64_t user, const uint8_t *uuid, const char *vdev);
/* Reports a failure to produce events: a disaster of the context
 * (XLEV_DISASTER_NOMEM when errnoval is ENOMEM, else
 * XLEV_DISASTER_EVENTS), like every other disaster. */
void xlev__domain_disaster_locked(struct xlev__domain *ds, int errnoval,
                                  const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hands every queued event that hooks take to the deferral mechanism,
 * which delivers them when the running callback (a scan) returns. */
void xlev__domain_flush_locked(struct xlev__domain *ds);
/* For a generator leaving its list: drops its queued events and waits
 * until no other thread delivers one of them. */
void xlev__domain_gen_retire_locked(struct xlev__domain *ds,
                                    struct xlev__gen *gen);
/* Checks hooks given to an xlev_evenable_*_full(): 0 or XLEV_ERROR_INVAL. */
int xlev__domain_gen_hooks_check(const xlev_event_hooks *hooks);

/* release.c; reg_lock held, ctx->lock not: subscribes sub (once) and
 * registers the shared @releaseDomain watch unless it is. */
int xlev__domain_release_subscribe(struct xlev__domain *ds,
                                   struct xlev__release_sub *sub,
                                   void (*fn)(struct xlev__domain *ds));
