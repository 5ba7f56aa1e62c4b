/* xlev-domain.h: domain events (shutdown, death, disk eject, introduce)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The events a toolstack lives on, built on the event core (xlev-event.h)
 * and, like it, free of GLib. The shape is that of later libxl's
 * libxl_event.h: the application enables event *generators*; what they
 * find becomes an xlev_event, which the application receives either
 *
 *   - from a queue: xlev_event_check() (never blocks) or xlev_event_wait()
 *     (runs the context's poll loop itself, for poll-style programs), or
 *   - through callbacks: xlev_event_register_callbacks() with an
 *     xlev_event_hooks whose event_occurs_mask names the types it takes;
 *     these are the application's, context-wide;
 *   - through a generator's own callbacks: the xlev_evenable_*_full()
 *     variants take an xlev_event_hooks for that generator alone. This is
 *     how a library layer on top of the core (the GObject layer's
 *     XlevDomainMonitor) listens to the generators it enabled without
 *     replacing, or seeing the events of, the application's context-wide
 *     hooks.
 *
 * Where an event goes: if its generator has hooks of its own, to those when
 * their mask has its type, else to the queue; otherwise to the
 * context-wide hooks when their mask has its type, else to the queue.
 * Events of a type the hooks take never enter the queue; the others wait
 * there until checked for (or until their generator is disabled).
 *
 * Disasters: a failure to produce events (out of memory, the hypervisor
 * failing to list domains, xenstore refusing a read or the eject
 * acknowledgement) is a disaster of the context, reported like any other to
 * the hook of xlev_ctx_set_disaster_hook() (XLEV_DISASTER_NOMEM or
 * XLEV_DISASTER_EVENTS).
 *
 * Generators find their events inside the context's own event processing:
 * a generator only makes progress while the application runs the context
 * (poll style: beforepoll/poll/afterpoll; hooks style: occurred_*), as for
 * any other registration.
 *
 * Generators
 * ----------
 *   xlev_evenable_domain_death(): DOMAIN_SHUTDOWN (with the reason) and
 *     DOMAIN_DEATH for one domid, each at most once per generator. All
 *     death generators of a context share one `@releaseDomain` watch; on
 *     each event the core lists domains through the hypervisor
 *     (libxenctrl's xc_domain_getinfolist, XLEV__HV_BATCH = 256 per call,
 *     starting from the lowest domid not yet dead, skipping the gaps
 *     between watched domids) and compares with what each generator saw
 *     last. Needs the hypervisor: without Xen it fails with
 *     XLEV_ERROR_NO_HYPERVISOR and nothing else of the context changes.
 *   xlev_evenable_disk_eject(): DISK_EJECT when the backend of a guest's
 *     virtual block device asks for its medium to be ejected.
 *   xlev_evenable_domain_introduce(): DOMAIN_INTRODUCE for each domain
 *     xenstored is told about from now on (`@introduceDomain`); the
 *     domains already there are listed by
 *     xlev_evgen_domain_introduce_present().
 *
 * Each enable returns a generator handle; the matching evdisable frees it.
 * evdisable may be called from any thread, including from inside
 * event_occurs (for any generator). When it returns, the generator's
 * events still queued are discarded, none of them is being delivered in
 * another thread, and none will be delivered again. Disabling the same
 * generator twice, or after xlev_ctx_free(), is a caller's error.
 * xlev_ctx_free() disables every generator left (their handles are then
 * invalid).
 *
 * Each xlev_evenable_KIND() has an xlev_evenable_KIND_full() that also
 * takes @hooks and @hooks_user: the generator's own event hooks (see "Where
 * an event goes" above; NULL makes it the plain function). They are called
 * as the context-wide ones are, from the same thread, with the lock
 * dropped, and evdisable keeps the same promise for them. *@hooks is not
 * copied and must stay valid until the generator is disabled (or the
 * context freed). A mask with no event_occurs is XLEV_ERROR_INVAL.
 *
 * Threads: every function here may be called from any thread. event_occurs
 * and disaster are called with the context's lock dropped, from the thread
 * that runs the context's callbacks (the one in afterpoll or occurred_*),
 * never from inside an xlev_* function the application called other than
 * those (and xlev_event_wait). They may call any xlev function except
 * xlev_ctx_free() on the same context.
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <stddef.h>
#include <stdint.h>

#include "xlev-visibility.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The context (xlev-event.h, which includes this header at its end: this
 * one does not include it back). A repeated identical typedef is valid
 * C11. */
typedef struct xlev_ctx xlev_ctx;

/*======================================================================*/
/* Events */

typedef enum {
    XLEV_EVENT_TYPE_DOMAIN_SHUTDOWN = 1, /* u.domain_shutdown */
    XLEV_EVENT_TYPE_DOMAIN_DEATH = 2,
    XLEV_EVENT_TYPE_DISK_EJECT = 3, /* u.disk_eject */
    XLEV_EVENT_TYPE_DOMAIN_INTRODUCE = 4,
} xlev_event_type;

/* Type masks, for xlev_event_check(), xlev_event_wait() and
 * xlev_event_hooks.event_occurs_mask. */
#define XLEV_EVENTMASK(type) (UINT64_C(1) << (type))
#define XLEV_EVENTMASK_ALL (~UINT64_C(0))

/* Why a domain shut down: the values are Xen's SHUTDOWN_* codes
 * (xen/sched.h). A crashed domain is a shutdown with reason CRASH.
 * (The GObject layer's XlevShutdownReason has the same values.) The
 * hypervisor passes through whatever code the guest gave, so other values
 * (up to 255) may appear. */
typedef enum {
    XLEV_SHUTDOWN_POWEROFF = 0,
    XLEV_SHUTDOWN_REBOOT = 1,
    XLEV_SHUTDOWN_SUSPEND = 2,
    XLEV_SHUTDOWN_CRASH = 3,
    XLEV_SHUTDOWN_WATCHDOG = 4,
    XLEV_SHUTDOWN_SOFT_RESET = 5,
} xlev_shutdown_reason;

/* The size of a domain's UUID (xen_domain_handle_t). */
#define XLEV_DOMUUID_LEN 16

typedef struct xlev_event {
    xlev_event_type type;
    uint32_t domid;
    /* The domain's UUID (its Xen handle) when the hypervisor gave a
     * non-zero one: DOMAIN_SHUTDOWN, and DOMAIN_DEATH of a domain seen
     * before it went. */
    int domuuid_known;
    uint8_t domuuid[XLEV_DOMUUID_LEN];
    /* The `user` value given to the generator's evenable. */
    uint64_t for_user;
    union {
        struct {
            xlev_shutdown_reason reason;
        } domain_shutdown;
        struct {
            char *vdev; /* the vdev given to evenable, copied; owned by
                         * the event */
        } disk_eject;
    } u;
} xlev_event;

/* Frees an event received from xlev_event_check(), xlev_event_wait() or
 * event_occurs, with everything it owns. NULL allowed. */
XLEV_AVAILABLE_IN_1_0
void xlev_event_free(xlev_ctx *ctx, xlev_event *event);

/*======================================================================*/
/* Receiving events: the queue */

/* Returns nonzero if @event is wanted. Called with the context's lock
 * held: it must not call into the context. */
typedef int xlev_event_predicate(const xlev_event *event, void *user);

/*
 * xlev_event_check: takes the oldest queued event whose type is in
 * @typemask and for which @predicate (NULL: any) returns nonzero, and
 * hands it over (free it with xlev_event_free()). Never blocks and runs
 * nothing. Returns 0 with *event_r set, or XLEV_ERROR_NOT_READY with
 * *event_r NULL.
 */
XLEV_AVAILABLE_IN_1_0
int xlev_event_check(xlev_ctx *ctx, xlev_event **event_r, uint64_t typemask,
                     xlev_event_predicate *predicate, void *predicate_user);

/*
 * xlev_event_wait: as xlev_event_check(), but when nothing matches it runs
 * the context itself (xlev_osevent_beforepoll, poll(2),
 * xlev_osevent_afterpoll, over and over) until something does. For
 * poll-style programs with nothing else to do meanwhile; other callbacks
 * of the context run from inside it as usual. Fails with XLEV_ERROR_INVAL
 * on a context in hooks style (xlev_osevent_register_hooks: the hooks'
 * owner runs it) or while another thread is in xlev_event_wait on the same
 * context (one waiter at a time); a failing poll(2) gives XLEV_ERROR_FAIL.
 * There is no timeout: use a timeout registration (xlev_ev_time) and a
 * predicate, or xlev_event_check in your own loop.
 */
XLEV_AVAILABLE_IN_1_0
int xlev_event_wait(xlev_ctx *ctx, xlev_event **event_r, uint64_t typemask,
                    xlev_event_predicate *predicate, void *predicate_user);

/*======================================================================*/
/* Receiving events: callbacks */

typedef struct xlev_event_hooks {
    /* Types given to event_occurs; the others go to the queue. */
    uint64_t event_occurs_mask;
    /* Takes ownership of @event (free it with xlev_event_free(), now or
     * later). May be NULL when the mask is 0. */
    void (*event_occurs)(void *user, xlev_event *event);
    /* Kept for compatibility, never called: a failure to produce events is
     * reported to the context's disaster hook (xlev_ctx_set_disaster_hook,
     * XLEV_DISASTER_NOMEM or XLEV_DISASTER_EVENTS), one path for every
     * disaster. May be NULL. */
    void (*disaster)(void *user, xlev_event_type type, const char *msg,
                     int errnoval);
} xlev_event_hooks;

/*
 * xlev_event_register_callbacks: installs the application's context-wide
 * @hooks (NULL removes them; then every event goes to the queue). Replaces
 * earlier context-wide hooks; it does not touch the hooks of generators
 * enabled with their own (xlev_evenable_*_full()), and a library that
 * wants events of its own generators uses those instead of calling this,
 * so that it never replaces the application's. Queued events of
 * a type in the new mask go to event_occurs the next time the context
 * delivers events (the next generator activity); until then
 * xlev_event_check() still finds them. *hooks is not copied and must stay
 * valid until it is replaced or the context freed.
 */
XLEV_AVAILABLE_IN_1_0
void xlev_event_register_callbacks(xlev_ctx *ctx, const xlev_event_hooks *hooks,
                                   void *user);

/*======================================================================*/
/* Generators */

typedef struct xlev_evgen_domain_death xlev_evgen_domain_death;
typedef struct xlev_evgen_disk_eject xlev_evgen_disk_eject;
typedef struct xlev_evgen_domain_introduce xlev_evgen_domain_introduce;

/*
 * xlev_evenable_domain_death: reports, for @domid:
 *   DOMAIN_SHUTDOWN once, when the domain has shut down (crashed included,
 *     reason CRASH); reported even if it is already dying when first seen
 *     shut down, then followed by DOMAIN_DEATH;
 *   DOMAIN_DEATH once, when it is dying or gone. A domain destroyed
 *     before it shut down gives DOMAIN_DEATH only.
 * After DOMAIN_DEATH the generator reports nothing more; disable it.
 * The domain is the one with that domid when the generator first looks
 * (shortly after this call, in the context's loop): a domid that does not
 * exist gives DOMAIN_DEATH at once, and a domain that has the domid later
 * (domids are reused) is not this generator's (enable a new one). Several
 * generators for one domid each get their own events.
 * Errors: XLEV_ERROR_INVAL (domid >= 0x7FF0, DOMID_FIRST_RESERVED),
 * XLEV_ERROR_NO_HYPERVISOR, XLEV_ERROR_NOMEM, XLEV_ERROR_XENSTORE and
 * the errors of xlev_ev_xswatch_register (the shared watch).
 */
XLEV_AVAILABLE_IN_1_0
int xlev_evenable_domain_death(xlev_ctx *ctx, uint32_t domid, uint64_t user,
                               xlev_evgen_domain_death **evgen_out);
XLEV_AVAILABLE_IN_1_0
int xlev_evenable_domain_death_full(xlev_ctx *ctx, uint32_t domid,
                                    uint64_t user,
                                    const xlev_event_hooks *hooks,
                                    void *hooks_user,
                                    xlev_evgen_domain_death **evgen_out);
XLEV_AVAILABLE_IN_1_0
void xlev_evdisable_domain_death(xlev_ctx *ctx, xlev_evgen_domain_death *evgen);

/*
 * xlev_evenable_disk_eject: reports DISK_EJECT (u.disk_eject.vdev = a copy
 * of @vdev) each time the backend of domain @domid's virtual block device
 * @vdev asks for an eject: its `eject` node is "1" (or "eject").
 *
 * @vdev is a guest device name as libxl knows it: "xvda", "xvdb3",
 * "hdc", "sda1", "d0p1", or a plain device number ("51712"); it becomes
 * the devid as Xen computes it (xvda is 51712). The backend is the one
 * the frontend names, read once here:
 *   /local/domain/<domid>/device/vbd/<devid>/backend = <backend path>
 * and the node watched is <backend path>/eject. Having reported an eject,
 * the generator writes "0" to that node to acknowledge it (libxl clears
 * its own eject node the same way), so each request is reported once.
 * The device's media configuration is left to the application.
 * Errors: XLEV_ERROR_INVAL (bad vdev or domid), XLEV_ERROR_NOENT (the
 * frontend has no backend), XLEV_ERROR_NOMEM, the errors of
 * xlev_xs_read() and xlev_ev_xswatch_register().
 */
XLEV_AVAILABLE_IN_1_0
int xlev_evenable_disk_eject(xlev_ctx *ctx, uint32_t domid, const char *vdev,
                             uint64_t user, xlev_evgen_disk_eject **evgen_out);
XLEV_AVAILABLE_IN_1_0
int xlev_evenable_disk_eject_full(xlev_ctx *ctx, uint32_t domid,
                                  const char *vdev, uint64_t user,
                                  const xlev_event_hooks *hooks,
                                  void *hooks_user,
                                  xlev_evgen_disk_eject **evgen_out);
XLEV_AVAILABLE_IN_1_0
void xlev_evdisable_disk_eject(xlev_ctx *ctx, xlev_evgen_disk_eject *evgen);

/*
 * xlev_evenable_domain_introduce: reports DOMAIN_INTRODUCE once for each
 * domain introduced to xenstored after this call (beyond libxl: a GUI
 * wants new domains to appear live).
 *
 * How: on each `@introduceDomain` event the core lists /local/domain and
 * asks xenstored (XS_IS_DOMAIN_INTRODUCED) about each domid there it has
 * not reported yet. So a domain is reported once it is both introduced and
 * has its /local/domain/<domid> directory, which a toolstack usually
 * writes before introducing it. For one that writes it after, the
 * generators also watch /local/domain: the first change under
 * /local/domain/<domid> of a domid not reported yet asks xenstored about
 * it (once until the next `@introduceDomain`), so such a domain is
 * reported when its directory appears, once. On each `@releaseDomain` the domids xenstored no longer
 * knows (dying or destroyed domains) are forgotten (one
 * XS_IS_DOMAIN_INTRODUCED round trip per known domain), so a new domain
 * that reuses a domid is reported again.
 *
 * The domains already there are not reported: they are the generator's
 * *present* set, xlev_evgen_domain_introduce_present(). For the first
 * introduce generator of a context that is what the scan above finds at
 * enable time; a later generator gets the set the core knows then (the
 * present domains of the first plus those reported since, less those
 * forgotten), so a domain introduced shortly before it was enabled, whose
 * `@introduceDomain` the context has not handled yet, is reported to it
 * rather than counted as present. Either way each domain is in a
 * generator's present set or reported by it, never both. Needs no
 * hypervisor. Errors: XLEV_ERROR_NOMEM, XLEV_ERROR_XENSTORE and the errors
 * of xlev_ev_xswatch_register().
 */
XLEV_AVAILABLE_IN_1_0
int xlev_evenable_domain_introduce(xlev_ctx *ctx, uint64_t user,
                                   xlev_evgen_domain_introduce **evgen_out);
XLEV_AVAILABLE_IN_1_0
int xlev_evenable_domain_introduce_full(
    xlev_ctx *ctx, uint64_t user, const xlev_event_hooks *hooks,
    void *hooks_user, xlev_evgen_domain_introduce **evgen_out);
XLEV_AVAILABLE_IN_1_0
void xlev_evdisable_domain_introduce(xlev_ctx *ctx,
                                     xlev_evgen_domain_introduce *evgen);

/*
 * xlev_evgen_domain_introduce_present: the domains @evgen does not report
 * because they were there when it was enabled (see
 * xlev_evenable_domain_introduce; domain 0 included when xenstored lists
 * it): *domids_out gets a malloc()ed copy, in increasing order (free() it;
 * NULL when *n_out is 0). The set is fixed at enable time; call this
 * any time before the evdisable, from any thread. An application that
 * wants every domain followed enables a death generator for each of these
 * and for each domain reported later (as the GObject layer's monitor of
 * all domains does). Errors: XLEV_ERROR_INVAL (a NULL argument),
 * XLEV_ERROR_NOMEM.
 */
XLEV_AVAILABLE_IN_1_0
int
xlev_evgen_domain_introduce_present(xlev_ctx *ctx,
                                    const xlev_evgen_domain_introduce *evgen,
                                    uint32_t **domids_out, size_t *n_out);

/*======================================================================*/
/* Asking the hypervisor directly (domain-info.c) */

/* One domain as the hypervisor describes it. */
typedef struct xlev_dominfo {
    uint32_t domid;
    int dying;    /* being destroyed */
    int shutdown; /* shut down (crashed included: reason CRASH) */
    xlev_shutdown_reason shutdown_reason; /* when shutdown */
    int uuid_known; /* the hypervisor gave a non-zero handle */
    uint8_t uuid[XLEV_DOMUUID_LEN];
} xlev_dominfo;

/*
 * xlev_domain_hypervisor_available: 1 if the Xen hypervisor can be asked
 * about domains from this process (libxenctrl opens: a Xen domain 0 with
 * /dev/xen/privcmd, or a stand-in), so that shutdown and death can be
 * reported; 0 if not, so that domain state comes from xenstore alone.
 * Opens and closes a hypervisor handle each call (no round trip to
 * xenstored); never fails otherwise, logs why at LOG_DEBUG only. Any
 * thread; a NULL @ctx gives 0.
 */
XLEV_AVAILABLE_IN_1_0
int xlev_domain_hypervisor_available(xlev_ctx *ctx);

/*
 * xlev_domain_list_info: every domain the hypervisor has now, in
 * increasing domid order: *infos_out gets a malloc()ed array of *n_out
 * entries (free() it; NULL when *n_out is 0). Errors:
 * XLEV_ERROR_INVAL (a NULL argument), XLEV_ERROR_NO_HYPERVISOR,
 * XLEV_ERROR_NOMEM, XLEV_ERROR_FAIL (the hypervisor refused the list).
 * Any thread; takes no lock of the context.
 */
XLEV_AVAILABLE_IN_1_0
int xlev_domain_list_info(xlev_ctx *ctx, xlev_dominfo **infos_out,
                          size_t *n_out);

/*
 * xlev_disk_vdev_to_devid: the devid Xen uses for guest device name
 * @vdev (see xlev_evenable_disk_eject), or -1 if it is not one.
 */
XLEV_AVAILABLE_IN_1_0
int xlev_disk_vdev_to_devid(const char *vdev);

#ifdef __cplusplus
}
#endif
