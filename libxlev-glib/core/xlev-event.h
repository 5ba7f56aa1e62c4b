/* xlev-event.h: the event core, in plain C
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * This header is the contract of the GLib-free core of libxlev-glib. It
 * includes no GLib header and uses no GLib type, so that a program with its
 * own poll(2) loop can use it alone.
 *
 * The core owns one xenstore connection per context: on a unix socket its
 * own (the wire protocol, read from the context's own fd registration, no
 * thread), on the xenbus device libxenstore's. It tells the
 * application which file descriptors it needs polled and when it next needs
 * to run; the application polls and hands back what happened. There are two
 * ways of doing that, which an application may mix freely on one context:
 *
 *  1. Poll style, for programs that own their poll(2) loop:
 *
 *       for (;;) {
 *           struct timeval now;
 *           int nfds = N, timeout = -1;
 *           xlev_osevent_now (ctx, &now);
 *           rc = xlev_osevent_beforepoll (ctx, &nfds, fds, &timeout, now);
 *           if (rc == XLEV_ERROR_BUFFERFULL) { grow fds to nfds; continue; }
 *           poll (fds, nfds, timeout);
 *           xlev_osevent_now (ctx, &now);
 *           xlev_osevent_afterpoll (ctx, nfds, fds, now);
 *       }
 *
 *  2. Hooks style, for programs built on a callback-based event library:
 *     xlev_osevent_register_hooks() installs an xlev_osevent_hooks; the core
 *     calls the hooks whenever the set of fds or timeouts it needs changes,
 *     and the application calls xlev_osevent_occurred_fd() and
 *     xlev_osevent_occurred_timeout() when those happen.
 *
 * Time. Every deadline the core keeps is on its monotonic clock
 * (CLOCK_MONOTONIC unless a test injected another with
 * xlev_ctx_set_clock()). The `now` arguments of beforepoll/afterpoll and the
 * `abs` deadlines handed to timeout hooks are values of that clock, as
 * returned by xlev_osevent_now(); they are not wall-clock times. A wall-clock
 * deadline is converted to the monotonic clock once, when it is registered
 * with xlev_ev_time_register_wall(); a later jump of the wall clock neither
 * fires nor delays any timeout.
 *
 * Threads. Every function here may be called from any thread. Callbacks of
 * registrations (fd, timeout, xenstore watch) are called with the context's
 * lock dropped, from the thread that called xlev_osevent_afterpoll() or
 * xlev_osevent_occurred_*(); a callback may call any xlev function,
 * including deregistering its own or any other registration.
 * Once xlev_ev_*_deregister() has returned, that registration's callback
 * is not running in another thread and will not be called again: a
 * deregistration from another thread waits for a callback of that
 * registration that is running at that moment to return (as
 * g_cancellable_disconnect() does), so do not deregister from a thread that
 * holds a lock the callback takes.
 *
 * Errors. Functions returning int return 0 on success or a negative
 * XLEV_ERROR_* code; xlev_strerror() names it. A hook supplied by the
 * application may fail with XLEV_ERROR_OSEVENT_REG_FAIL or any positive int;
 * that value is passed back unchanged to whoever asked for the registration.
 * The core never calls exit() or abort(): a failure it cannot report to a
 * caller goes to the disaster hook (xlev_ctx_set_disaster_hook()).
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <stdint.h>
#include <poll.h>
#include <sys/time.h>

#include "xlev-visibility.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xlev_ctx xlev_ctx;

/*
 * Error codes. Values match libxl's where libxl has the same code.
 */
enum {
    XLEV_SUCCESS = 0,
    XLEV_ERROR_FAIL = -3,             /* an operation failed; see the log */
    XLEV_ERROR_NOMEM = -5,            /* out of memory */
    XLEV_ERROR_INVAL = -6,            /* invalid argument (caller's mistake) */
    XLEV_ERROR_NOT_READY = -9,        /* nothing to report yet */
    XLEV_ERROR_OSEVENT_REG_FAIL = -10,/* an osevent hook refused */
    XLEV_ERROR_BUFFERFULL = -11,      /* beforepoll: *nfds_io too small */
    XLEV_ERROR_NOENT = -12,           /* xenstore: no such path */
    XLEV_ERROR_PERM = -13,            /* xenstore: permission denied */
    XLEV_ERROR_XENSTORE = -14,        /* xenstore daemon unreachable or lost */
    XLEV_ERROR_NO_HYPERVISOR = -15,   /* needs Xen, which is not running */
    XLEV_ERROR_BROKEN = -16,          /* ctx is in an error state (disaster) */
    /* What xenstored (or the connection) said, one code per errno: */
    XLEV_ERROR_EXIST = -17,    /* EEXIST, EISCONN: already exists */
    XLEV_ERROR_TOO_BIG = -18,  /* E2BIG: path, value, request or reply too
                                * long, or too many watches/transactions */
    XLEV_ERROR_NOSPC = -19,    /* ENOSPC: the daemon's node or size quota */
    XLEV_ERROR_QUOTA = -20,    /* EQUOTA (oxenstored), EDQUOT: a quota */
    XLEV_ERROR_AGAIN = -21,    /* EAGAIN: transaction conflict, retry it */
    XLEV_ERROR_BUSY = -22,     /* EBUSY: the daemon is busy (live update) */
    XLEV_ERROR_ISDIR = -23,    /* EISDIR: the node has children */
    XLEV_ERROR_READONLY = -24, /* EROFS: read-only connection */
    XLEV_ERROR_MFILE = -25,    /* EMFILE, ENFILE: too many open files */
    XLEV_ERROR_NOTEMPTY = -26, /* ENOTEMPTY */
    XLEV_ERROR_NOSYS = -27,    /* ENOSYS: the daemon lacks the operation */
    XLEV_ERROR_PROTOCOL = -28, /* the daemon broke the wire protocol */
    XLEV_ERROR_TIMEDOUT = -29, /* a blocking call's timeout expired (see
                                * xlev_ctx_set_timeout()) */
    XLEV_ERROR_CANCELLED = -30,/* a blocking call was cancelled */
};

/**
 * xlev_strerror:
 * @rc: an XLEV_ERROR_* code (or a positive hook return value)
 *
 * Returns: (transfer none): a short English description of @rc; never NULL.
 */
XLEV_AVAILABLE_IN_1_0
const char *xlev_strerror(int rc);

/*======================================================================*/
/* Contexts */

/* The path libxenstore uses when XENSTORED_PATH is not set. */
#define XLEV_XENSTORED_DEFAULT_SOCKET "/var/run/xenstored/socket"

/*
 * xlev_ctx_new: opens a context and its xenstore connection.
 *
 * xenstore_path is used as it is; NULL means $XENSTORED_PATH if set, else
 * XLEV_XENSTORED_DEFAULT_SOCKET (and, if nothing exists there, the xenbus
 * device, as libxenstore does). What is found there chooses the transport
 * (xlev_ctx_get_transport()):
 *   - a unix socket (a local xenstored): the core's own connection, which
 *     speaks the wire protocol (xen/io/xs_wire.h) on the socket from the
 *     context's own fd registration: no thread, requests pipelined;
 *   - a character device (/dev/xen/xenbus, /proc/xen/xenbus: xenstored in a
 *     stub domain): libxenstore, which reads the device in a thread of its
 *     own. libxenstore opens only the path it takes from XENSTORED_PATH (or
 *     its default), so a device path that is not that one is
 *     XLEV_ERROR_INVAL (logged, naming both);
 *   - anything else (a FIFO, a regular file, a directory): XLEV_ERROR_INVAL,
 *     logged ("is not a socket").
 * Returns XLEV_ERROR_XENSTORE if the daemon cannot be reached (nothing at
 * the path, connection refused), XLEV_ERROR_PERM if the socket may not be
 * opened, XLEV_ERROR_MFILE when the process is out of fds.
 * On success *ctx_out is a new context; on failure it is set to NULL.
 * The connection's fds are close-on-exec.
 */
XLEV_AVAILABLE_IN_1_0
int xlev_ctx_new(const char *xenstore_path, xlev_ctx **ctx_out);

/*
 * xlev_ctx_free: frees a context. NULL is allowed.
 * Registrations still active are deregistered (their hooks are told, their
 * callbacks never run again); the caller's structs are left Idle, so they
 * must still be valid memory when this is called. Must not be called from
 * inside a callback of this context.
 */
XLEV_AVAILABLE_IN_1_0
void xlev_ctx_free(xlev_ctx *ctx);

/*
 * xlev_ctx_get_xenstore_path: the path this context is connected to (a
 * socket, or the xenbus device). Valid as long as the context.
 */
XLEV_AVAILABLE_IN_1_0
const char *xlev_ctx_get_xenstore_path(xlev_ctx *ctx);

/* How a context reaches xenstored (see xlev_ctx_new()). */
typedef enum {
    XLEV_XS_TRANSPORT_NONE = 0,   /* no connection (NULL ctx) */
    XLEV_XS_TRANSPORT_SOCKET = 1, /* the core's own connection on a socket */
    XLEV_XS_TRANSPORT_XENBUS = 2, /* libxenstore on the xenbus device */
} xlev_xs_transport;

/* xlev_ctx_get_transport: fixed when the context is made. */
XLEV_AVAILABLE_IN_1_0
xlev_xs_transport xlev_ctx_get_transport(xlev_ctx *ctx);

/*
 * xlev_ctx_set_timeout: how long a blocking xenstore call (xlev_xs_read()
 * and the others below) waits for the daemon's answer, in milliseconds;
 * 0 (the default) waits for ever. A call that times out returns
 * XLEV_ERROR_TIMEDOUT; the request was sent, its late answer is dropped,
 * and the connection stays usable. The xenbus transport (libxenstore) has
 * no timeout: there it is ignored. Any thread.
 */
#define XLEV_XS_TIMEOUT_MAX_MS (24 * 60 * 60 * 1000) /* a day */
XLEV_AVAILABLE_IN_1_0
int xlev_ctx_set_timeout(xlev_ctx *ctx, int milliseconds);
XLEV_AVAILABLE_IN_1_0
int xlev_ctx_get_timeout(xlev_ctx *ctx);

/*
 * Reconnecting. What a context does when its connection to xenstored is
 * lost (the daemon died, was restarted or upgraded):
 *
 *   XLEV_RECONNECT_NEVER (the default): the connection is dead for good;
 *     one XLEV_DISASTER_XENSTORE (see xlev_ctx_set_disaster_hook()); a
 *     restarted daemon needs a new context.
 *   XLEV_RECONNECT_AUTOMATIC: the loss is no disaster. It is logged (at
 *     LOG_NOTICE), the hook says 0, and the core tries to connect to the
 *     same path again from a timeout of its own: first after
 *     XLEV_RECONNECT_BACKOFF_MIN_MS, then after twice as long each time,
 *     up to XLEV_RECONNECT_BACKOFF_MAX_MS between attempts, for as long as
 *     it takes (the loop must run for that, as for any timeout). Once
 *     connected, every watch still registered is registered again (the
 *     same registration: nothing to do for the caller), then the hook says
 *     1, then each of those watches gets one event for its own path
 *     (watch_path == event_path), so that its callback reads the state
 *     again: changes made while the daemon was away, and the events they
 *     would have given, are lost; only that one event tells of them. A
 *     watch deregistered meanwhile gets nothing.
 *
 * In both: every request in flight when the connection is lost fails with
 * XLEV_ERROR_XENSTORE (an asynchronous one's callback is called once with
 * it), and so does every operation started while the context is not
 * connected (xlev_ctx_is_connected() 0), watch registrations included;
 * nothing is ever sent again for them. A transaction started before the
 * loss stays dead after a reconnect: its operations and its end fail with
 * XLEV_ERROR_XENSTORE and nothing is sent with its id (the ids the core
 * hands out are its own, never reused within a context; an id it never
 * handed out, or one already ended, is XLEV_ERROR_NOENT).
 *
 * The hook (@hooks->connection_changed, may be NULL) is called with the
 * lock dropped, from the thread running the loop, like a registration's
 * callback, and may call any xlev function: 0 when the connection is
 * found lost, 1 when it is back; never twice in a row with the same value.
 * A loss is noticed as xlev_ctx_set_disaster_hook() describes.
 *
 * The policy may be changed at any time. AUTOMATIC on a context whose
 * connection is already dead starts reconnecting; NEVER while reconnecting
 * stops, and raises the XLEV_DISASTER_XENSTORE that NEVER would have.
 * Only the socket transport reconnects: on the xenbus device (libxenstore)
 * AUTOMATIC is XLEV_ERROR_NOSYS. *hooks is copied.
 */
typedef enum {
    XLEV_RECONNECT_NEVER = 0,
    XLEV_RECONNECT_AUTOMATIC = 1,
} xlev_reconnect_policy;

typedef struct {
    void (*connection_changed)(void *user, int connected);
} xlev_reconnect_hooks;

#define XLEV_RECONNECT_BACKOFF_MIN_MS 50
#define XLEV_RECONNECT_BACKOFF_MAX_MS 2000

XLEV_AVAILABLE_IN_1_0
int xlev_ctx_set_reconnect(xlev_ctx *ctx, xlev_reconnect_policy policy,
                           const xlev_reconnect_hooks *hooks, void *user);

/* xlev_ctx_get_reconnect: the policy (NEVER for NULL). */
XLEV_AVAILABLE_IN_1_0
xlev_reconnect_policy xlev_ctx_get_reconnect(xlev_ctx *ctx);

/* xlev_ctx_is_connected: 1 while the context's connection is up and the
 * operations are sent, 0 from the moment it is found lost until it is
 * back with its watches registered again (and for good after a loss with
 * NEVER). Any thread; no lock is waited for. */
XLEV_AVAILABLE_IN_1_0
int xlev_ctx_is_connected(xlev_ctx *ctx);

/* Logging. Levels are syslog's (LOG_ERR, LOG_WARNING, LOG_DEBUG, ...). */
typedef void xlev_log_fn(void *user, int level, const char *msg);

/*
 * xlev_ctx_set_logger: sends the core's log messages to @fn (NULL restores
 * the default: the process-wide default logger below). @fn may be called
 * with the context's lock held: it must not call into the context.
 */
XLEV_AVAILABLE_IN_1_0
void xlev_ctx_set_logger(xlev_ctx *ctx, xlev_log_fn *fn, void *user);

/*
 * xlev_set_default_logger: the logger for contexts that have none of their
 * own, and for messages written before a context exists (while
 * xlev_ctx_new() connects). With none set (the default), messages are
 * dropped: the core never writes to stderr itself, and every failure it
 * logs is also returned to its caller or reported to the disaster hook.
 * May be called from any thread; @fn is called with an internal lock held
 * (and possibly a context's lock): it must not call into the core.
 */
XLEV_AVAILABLE_IN_1_0
void xlev_set_default_logger(xlev_log_fn *fn, void *user);

/* What a disaster was about. */
typedef enum {
    XLEV_DISASTER_XENSTORE = 1, /* the xenstore connection failed (the
                                   daemon died or restarted): watch events
                                   may have been lost; see below */
    XLEV_DISASTER_NOMEM = 2,    /* an event was due but memory ran out */
    XLEV_DISASTER_OSEVENT = 3,  /* an osevent hook failed where nobody could
                                   be told: the ctx may have lost an fd or a
                                   timeout */
    XLEV_DISASTER_EVENTS = 4,   /* a domain event could not be produced (the
                                   hypervisor failed to list domains,
                                   xenstore refused a read or the eject
                                   acknowledgement): the application's view
                                   of domains may be out of date (see
                                   xlev-domain.h) */
} xlev_disaster_kind;

typedef void xlev_disaster_fn(void *user, xlev_disaster_kind kind,
                              const char *msg, int errnoval);

/*
 * xlev_ctx_set_disaster_hook: called when the core could not deliver
 * something it should have and nobody else can be told (the seed called
 * exit() there). It is called with the lock dropped, like a registration's
 * callback, from the thread running xlev_osevent_afterpoll() or
 * xlev_osevent_occurred_*(), and may call any xlev function (typically the
 * application drops the context and makes a new one). Every disaster of the
 * context comes here, domain events' included, by one path: it is logged
 * at LOG_CRIT when found (see xlev_ctx_set_logger) and reported to this
 * hook from the loop. With no hook the log message is all there is (the
 * core never writes to stderr) and the context stays as usable as it can.
 * When memory runs out even for recording a disaster, the hook still gets
 * an XLEV_DISASTER_NOMEM (with a generic message).
 *
 * XLEV_DISASTER_XENSTORE is raised at most once per context, when the
 * connection to xenstored is found lost (the daemon died or was
 * restarted). While the context has a watch registered, it notices within
 * about a second: besides the watch fd, the core registers one internal
 * timeout that checks the connection every second (a wake-up each time; it
 * sends nothing to the daemon). A context without watches notices when a
 * plain operation fails; that operation returns XLEV_ERROR_XENSTORE and the
 * disaster is reported from the loop at its next turn (the core registers
 * a timeout due at once, so a loop in hooks style, or one that calls
 * beforepoll again, comes round promptly). After it the connection is never
 * used again: xlev_ev_xswatch_register() fails with XLEV_ERROR_BROKEN and
 * the plain operations with XLEV_ERROR_XENSTORE, at once; watches still
 * registered never fire again and may be deregistered as usual. A
 * restarted daemon needs a new context, unless the context reconnects by
 * itself (xlev_ctx_set_reconnect(): then there is no such disaster).
 */
XLEV_AVAILABLE_IN_1_0
void xlev_ctx_set_disaster_hook(xlev_ctx *ctx, xlev_disaster_fn *fn,
                                void *user);

/* Clocks, for tests. */
typedef struct {
    /* the monotonic clock every deadline is kept on */
    void (*monotonic)(void *user, struct timeval *now_out);
    /* the wall clock, used only to convert wall-clock deadlines once */
    void (*realtime)(void *user, struct timeval *now_out);
} xlev_clock;

/*
 * xlev_ctx_set_clock: replaces the context's clocks (NULL restores
 * CLOCK_MONOTONIC and CLOCK_REALTIME). Meant for tests. Call it before
 * making registrations: existing deadlines are not converted.
 * *clock is not copied and must outlast the context.
 */
XLEV_AVAILABLE_IN_1_0
void xlev_ctx_set_clock(xlev_ctx *ctx, const xlev_clock *clock, void *user);

/* xlev_osevent_now: the context's monotonic clock. Cannot fail. */
XLEV_AVAILABLE_IN_1_0
void xlev_osevent_now(xlev_ctx *ctx, struct timeval *now_out);

/*======================================================================*/
/* Poll style */

/*
 * xlev_ctx_set_wake_callback: how poll style is woken when another thread
 * changes what the loop waits for (a new fd, an earlier deadline, work
 * queued for the loop). By default beforepoll adds a wake-up fd of the
 * context's own to every set it fills; with @wake set it adds none and
 * calls @wake(@user) instead, for a loop that has a wake-up of its own
 * (GLib's g_main_context_wakeup()). @wake is called from any thread with
 * the context's lock held: it must not call into the context. NULL
 * restores the fd. Takes effect at the next beforepoll.
 */
typedef void xlev_wake_fn(void *user);
XLEV_AVAILABLE_IN_1_0
void xlev_ctx_set_wake_callback(xlev_ctx *ctx, xlev_wake_fn *wake,
                                void *user);

/*
 * xlev_osevent_beforepoll:
 *
 * The caller provides space for the core's fds: fds points to the start of
 * that space (it may be a slice of a larger array holding the application's
 * own fds) and *nfds_io says how many struct pollfd fit.
 *
 * On return *nfds_io is always the number of fds the core wants polled.
 * Each fd appears once, with the events of all its registrations merged; an
 * fd whose registrations want no events is left out.
 *
 * If the space was sufficient, fds[0 .. *nfds_io - 1] are filled in for
 * poll(2), *timeout_upd is updated if needed, and 0 is returned.
 *
 * If it was not, fds[0 .. old *nfds_io - 1] are undefined; *nfds_io is
 * larger than on entry; *timeout_upd may or may not have been updated; and
 * XLEV_ERROR_BUFFERFULL is returned. The caller makes room for *nfds_io
 * entries and calls beforepoll again before polling. A failed call leaves
 * the previous successful call's bookkeeping untouched.
 *
 * fds == NULL with *nfds_io == 0 asks how much space is needed.
 *
 * *timeout_upd is as for poll(2): milliseconds, negative for infinity. It
 * is only ever reduced. A deadline less than a millisecond away rounds up to
 * 1 ms, never down to a busy 0; a deadline already passed gives 0.
 *
 * now: the context's monotonic clock (xlev_osevent_now()).
 */
XLEV_AVAILABLE_IN_1_0
int xlev_osevent_beforepoll(xlev_ctx *ctx, int *nfds_io, struct pollfd *fds,
                            int *timeout_upd, struct timeval now);

/*
 * xlev_osevent_afterpoll:
 *
 * nfds and fds[0 .. nfds-1] must be those of the most recent successful
 * beforepoll, as modified by poll(2). Performs the I/O and runs the
 * callbacks that the revents and `now` call for: fd callbacks get every
 * bit poll reported, POLLERR, POLLHUP and POLLNVAL included; timeouts whose
 * deadline is <= now fire in deadline order.
 *
 * Registrations made after that beforepoll are not told about its revents
 * (an fd number closed and reused meanwhile reaches nobody).
 *
 * Callbacks run in bounded batches: one call runs at most 256 of them, and
 * starts none once about 4 ms have passed (at least one runs), so that a
 * slow callback facing a backlog (a flood of watch events) gives the
 * application's loop back after about one batch instead of the whole
 * backlog. The rest waits, in order, and the next beforepoll returns a 0
 * timeout while it does: keep calling beforepoll/poll/afterpoll as usual.
 * The same holds for xlev_osevent_occurred_fd() and
 * xlev_osevent_occurred_timeout() in hooks style, where the core registers
 * a timeout due at once (timeout_register) to be called back for the rest.
 * An fd registration's callback is queued once however many times the fd
 * is found ready before it runs.
 *
 * Returns 0, or XLEV_ERROR_INVAL if nfds is negative, larger than the last
 * beforepoll's, or fds is NULL with nfds > 0 (then nothing is done).
 */
XLEV_AVAILABLE_IN_1_0
int xlev_osevent_afterpoll(xlev_ctx *ctx, int nfds, const struct pollfd *fds,
                           struct timeval now);

/*======================================================================*/
/* Hooks style */

typedef struct xlev_osevent_hooks {
    int (*fd_register)(void *user, int fd, void **for_app_registration_out,
                       short events, void *for_xlev);
    int (*fd_modify)(void *user, int fd, void **for_app_registration_update,
                     short events);
    void (*fd_deregister)(void *user, int fd, void *for_app_registration);
    int (*timeout_register)(void *user, void **for_app_registration_out,
                            struct timeval abs, void *for_xlev);
    int (*timeout_modify)(void *user, void **for_app_registration_update,
                          struct timeval abs);
    void (*timeout_deregister)(void *user, void *for_app_registration);
} xlev_osevent_hooks;

/*
 * xlev_osevent_register_hooks:
 *
 * The application promises to keep a register of the fds and timeouts the
 * core asks for through @hooks, and to call xlev_osevent_occurred_fd() and
 * xlev_osevent_occurred_timeout() when they happen.
 *
 * fd hooks: events are as for poll(2) and never 0 (an fd that wants no
 * events is deregistered instead). The core registers each fd once, with
 * the events of all its registrations merged.
 *
 * timeout hooks: abs is a deadline on the context's monotonic clock.
 *
 * If a register or modify hook succeeds it may update
 * *for_app_registration_out/_update and must return 0. On entry to register,
 * *for_app_registration_out is NULL. A register or modify hook may fail,
 * leaving the registration unchanged, by returning
 * XLEV_ERROR_OSEVENT_REG_FAIL or any positive int; that value is returned to
 * whoever asked for the registration. When register fails, anything it
 * stored is ignored; when modify fails, a changed value is honoured and
 * passed to later modify and deregister calls.
 *
 * Hooks are called with the context's lock held: they must not call into
 * the core, and the application must not call xlev_osevent_occurred_*()
 * from inside a hook.
 *
 * Registrations that exist already are handed to the hooks before this
 * returns, and no longer appear in beforepoll. If a hook fails while doing
 * so, everything handed over so far is deregistered again, the old state
 * stays in force (beforepoll keeps reporting those fds) and the hook's
 * value is returned; the context is usable.
 *
 * May be called once per context (XLEV_ERROR_INVAL after that).
 * *hooks is not copied and must outlast the context.
 */
XLEV_AVAILABLE_IN_1_0
int xlev_osevent_register_hooks(xlev_ctx *ctx, const xlev_osevent_hooks *hooks,
                                void *user);

/*
 * xlev_osevent_occurred_fd: tells the core that @fd, registered through
 * fd_register with @for_xlev, is ready. The core re-checks readiness with a
 * zero-timeout poll(2) before calling back, so stale or spurious reports
 * are harmless; so is a report arriving after the fd was deregistered (it is
 * ignored). Must not be called from inside a hook.
 */
XLEV_AVAILABLE_IN_1_0
void xlev_osevent_occurred_fd(xlev_ctx *ctx, void *for_xlev, int fd,
                              short events, short revents);

/*
 * A race the application must tolerate: the core may call timeout_deregister
 * (or fd_deregister) for a registration the application, in another thread
 * or earlier in the same loop iteration, has already decided to report. The
 * hook must then simply forget it; the report that follows is ignored.
 *
 * xlev_osevent_occurred_timeout: tells the core that the timeout registered
 * through timeout_register with @for_xlev is due. Implicitly the timeout has
 * been deregistered: the core does not call timeout_deregister for it, and
 * registers it again if it still wants it. A report that arrives after
 * deregistration is ignored; one that arrives early is registered again
 * for the rest of its time, so a timeout never fires early.
 */
XLEV_AVAILABLE_IN_1_0
void xlev_osevent_occurred_timeout(xlev_ctx *ctx, void *for_xlev);

/*======================================================================*/
/* Registrations
 *
 * Each xlev_ev_KIND struct is owned by the caller (usually embedded in one
 * of its own structs; use container-of in the callback) and is in one of
 * three states:
 *
 *   Undefined - might contain anything. All-bits-zero is Undefined.
 *   Idle      - may be passed to any xlev_ev_KIND function; not registered,
 *               its callback will not be called, it holds no resources and
 *               may be thrown away.
 *   Active    - registered: its callback may be called. _deregister must be
 *               called before the memory is reused.
 *
 *   void xlev_ev_KIND_init(xlev_ev_KIND *ev);
 *       Undefined or Idle -> Idle.
 *   int  xlev_ev_KIND_register(xlev_ctx *ctx, xlev_ev_KIND *ev, FUNC, ...);
 *       Undefined or Idle -> Active on success, Idle on error. FUNC is not
 *       called from inside _register.
 *   int  xlev_ev_KIND_modify(xlev_ctx *ctx, xlev_ev_KIND *ev, ...);
 *       Active -> Active; on error the modification has no effect.
 *       XLEV_ERROR_INVAL if ev is Idle.
 *   void xlev_ev_KIND_deregister(xlev_ctx *ctx, xlev_ev_KIND *ev);
 *       Active or Idle -> Idle (idempotent).
 *   int  xlev_ev_KIND_isregistered(const xlev_ev_KIND *ev);
 *       Idle or Active: nonzero iff Active.
 *
 * A timeout becomes Idle when it fires, just before its callback is called
 * (the callback may register it again).
 *
 * The structs are opaque storage: their size and alignment are part of the
 * ABI (so they can be embedded), their contents are the core's and neither
 * API nor ABI. Only the functions below may look at them.
 */

typedef struct xlev_ev_fd {
    /*< private >*/
    uint64_t xlev_private[6];
} xlev_ev_fd;
typedef void xlev_ev_fd_callback(xlev_ctx *ctx, xlev_ev_fd *ev, int fd,
                                 short events, short revents);

typedef struct xlev_ev_time {
    /*< private >*/
    uint64_t xlev_private[8];
} xlev_ev_time;
typedef void xlev_ev_time_callback(xlev_ctx *ctx, xlev_ev_time *ev,
                                   const struct timeval *requested_abs);

typedef struct xlev_ev_xswatch {
    /*< private >*/
    uint64_t xlev_private[4];
} xlev_ev_xswatch;
typedef void xlev_ev_xswatch_callback(xlev_ctx *ctx, xlev_ev_xswatch *w,
                                      const char *watch_path,
                                      const char *event_path);

/* fds. @fd stays the caller's: the core never closes it. Several
 * registrations may share one fd (say, one for POLLIN, one for POLLOUT);
 * events == 0 is allowed and keeps the fd out of poll until modified. */
XLEV_AVAILABLE_IN_1_0
void xlev_ev_fd_init(xlev_ev_fd *ev);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_fd_register(xlev_ctx *ctx, xlev_ev_fd *ev,
                        xlev_ev_fd_callback *func, int fd, short events);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_fd_modify(xlev_ctx *ctx, xlev_ev_fd *ev, short events);
XLEV_AVAILABLE_IN_1_0
void xlev_ev_fd_deregister(xlev_ctx *ctx, xlev_ev_fd *ev);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_fd_isregistered(const xlev_ev_fd *ev);

/* timeouts. _rel: milliseconds as for poll(2), negative for "no deadline"
 * (registered but never fires until modified). _abs: a deadline on the
 * context's monotonic clock. _wall: a wall-clock deadline (gettimeofday),
 * converted to the monotonic clock once, now. */
XLEV_AVAILABLE_IN_1_0
void xlev_ev_time_init(xlev_ev_time *ev);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_time_register_rel(xlev_ctx *ctx, xlev_ev_time *ev,
                              xlev_ev_time_callback *func, int milliseconds);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_time_register_abs(xlev_ctx *ctx, xlev_ev_time *ev,
                              xlev_ev_time_callback *func,
                              struct timeval abs);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_time_register_wall(xlev_ctx *ctx, xlev_ev_time *ev,
                               xlev_ev_time_callback *func,
                               struct timeval wall);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_time_modify_rel(xlev_ctx *ctx, xlev_ev_time *ev,
                            int milliseconds);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_time_modify_abs(xlev_ctx *ctx, xlev_ev_time *ev,
                            struct timeval abs);
XLEV_AVAILABLE_IN_1_0
void xlev_ev_time_deregister(xlev_ctx *ctx, xlev_ev_time *ev);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_time_isregistered(const xlev_ev_time *ev);

/* xenstore watches. @path is copied; it must be a valid xenstore path
 * ('/'-rooted, or a special path such as "@releaseDomain"; at most
 * XLEV_XS_PATH_MAX bytes; characters [A-Za-z0-9_/@-], no "//", no trailing
 * '/' except the root itself; see docs/misc/xenstore.txt), else
 * XLEV_ERROR_INVAL. The callback gets the initial event xenstored sends on
 * registration, then one per change at or below @path. An event is "go and
 * read again", not a count: xenstored may merge duplicates. */
#define XLEV_XS_PATH_MAX 3072 /* XENSTORE_ABS_PATH_MAX, xen/io/xs_wire.h */

XLEV_AVAILABLE_IN_1_0
void xlev_ev_xswatch_init(xlev_ev_xswatch *w);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_xswatch_register(xlev_ctx *ctx, xlev_ev_xswatch *w,
                             xlev_ev_xswatch_callback *func,
                             const char *path);
/* xlev_ev_xswatch_register_borrowed: the same, but @path is not copied:
 * the registration points at the caller's string, which must stay valid
 * and unchanged from the call until @w is Idle again (deregistered, or its
 * context freed). On failure @path is not kept. For a caller that keeps
 * the path anyway (XlevWatch does), this saves the copy. */
XLEV_AVAILABLE_IN_1_0
int xlev_ev_xswatch_register_borrowed(xlev_ctx *ctx, xlev_ev_xswatch *w,
                                      xlev_ev_xswatch_callback *func,
                                      const char *path);
/* _register sends XS_WATCH and waits for the answer like a blocking
 * operation (below: no lock held while waiting, so the loop and other
 * threads go on; the context's timeout applies), so that on return the
 * daemon has the watch, or the refusal is returned (a quota:
 * XLEV_ERROR_TOO_BIG or XLEV_ERROR_QUOTA; XLEV_ERROR_PERM ...). A
 * registration that timed out or was cancelled is taken back with an
 * XS_UNWATCH. _deregister never waits for the daemon: with the socket
 * transport it sends XS_UNWATCH and returns (the answer is handled, and
 * dropped, like any other); events for it still on the wire are dropped.
 * With the xenbus transport both wait for libxenstore. */
XLEV_AVAILABLE_IN_1_0
void xlev_ev_xswatch_deregister(xlev_ctx *ctx, xlev_ev_xswatch *w);
XLEV_AVAILABLE_IN_1_0
int xlev_ev_xswatch_isregistered(const xlev_ev_xswatch *w);

/* xlev_xs_path_is_valid: 1 if @path would be accepted by
 * xlev_ev_xswatch_register(), else 0. NULL gives 0. */
XLEV_AVAILABLE_IN_1_0
int xlev_xs_path_is_valid(const char *path);

/*======================================================================*/
/* Plain xenstore operations on the context's connection. Blocking (a round
 * trip to the daemon), from any thread, with or without a loop running
 * the context, also from inside one of its callbacks: with the socket
 * transport the waiting caller reads the socket itself when no other
 * thread does, keeps the watch events and other answers it reads for the
 * loop and wakes it. No lock is held while waiting: the loop and other
 * callers go on. They wait at most the context's timeout
 * (xlev_ctx_set_timeout()): XLEV_ERROR_TIMEDOUT.
 *
 * Paths are checked as for watches (no special paths): XLEV_ERROR_INVAL.
 * What the daemon refuses comes back as the code of its errno
 * (XLEV_ERROR_NOENT, PERM, EXIST, TOO_BIG, NOSPC, QUOTA, AGAIN, BUSY,
 * ISDIR, READONLY, NOMEM, MFILE, NOTEMPTY, NOSYS, INVAL), an errno the
 * protocol does not name as XLEV_ERROR_PROTOCOL. A value, path or request
 * too long for the wire is XLEV_ERROR_TOO_BIG, found before sending.
 * One that finds the connection lost (or the daemon breaking the wire
 * protocol: an oversized or malformed message, an answer to no request)
 * returns XLEV_ERROR_XENSTORE and raises XLEV_DISASTER_XENSTORE once (see
 * xlev_ctx_set_disaster_hook()); after that they all return
 * XLEV_ERROR_XENSTORE without a round trip (until the context has
 * reconnected, with XLEV_RECONNECT_AUTOMATIC: see xlev_ctx_set_reconnect(),
 * which raises no disaster).
 *
 * tx_id: 0 outside a transaction, or one from xlev_xs_transaction_start().
 *
 * Memory: watch events and asynchronous answers that a blocking call reads
 * wait for the loop in the context's queue; a program that makes blocking
 * calls with watches registered and never runs the loop lets that queue
 * grow (as libxenstore's own queue of unread events would). */

/* *value_out: a malloc()ed, NUL-terminated copy (free()); *len_out (may be
 * NULL) its length without the terminator. */
XLEV_AVAILABLE_IN_1_0
int xlev_xs_read(xlev_ctx *ctx, const char *path, char **value_out,
                 unsigned int *len_out);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_write(xlev_ctx *ctx, const char *path, const void *value,
                  unsigned int len);
/* *entries_out: one malloc()ed block holding the array and the strings
 * (free() it once); *n_out entries. */
XLEV_AVAILABLE_IN_1_0
int xlev_xs_directory(xlev_ctx *ctx, const char *path, char ***entries_out,
                      unsigned int *n_out);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_rm(xlev_ctx *ctx, const char *path);

/* xlev_xs_set_cancel_fd: from now on, a blocking call made by the calling
 * thread also ends, with XLEV_ERROR_CANCELLED, when @fd becomes readable
 * (a GCancellable's fd, say); -1 stops it. The request was sent; its
 * answer is dropped. Per thread; the socket transport only. */
XLEV_AVAILABLE_IN_1_0
void xlev_xs_set_cancel_fd(int fd);

/* The same in a transaction, and the other operations a toolstack needs.
 * Values are bytes: a value may hold NUL bytes (*len_out says how many;
 * the copy is NUL-terminated besides). */
XLEV_AVAILABLE_IN_1_0
int xlev_xs_read_tx(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                    char **value_out, unsigned int *len_out);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_write_tx(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                     const void *value, unsigned int len);
/* A directory whose listing is longer than one message
 * (XENSTORE_PAYLOAD_MAX, 4096 bytes) is XLEV_ERROR_TOO_BIG: the C daemon
 * answers E2BIG itself, an oversized answer from oxenstored is refused
 * before it is read (and, as any protocol violation, ends the
 * connection). XS_DIRECTORY_PART is not used: oxenstored in Xen 4.17 does
 * not implement it. */
XLEV_AVAILABLE_IN_1_0
int xlev_xs_directory_tx(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                         char ***entries_out, unsigned int *n_out);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_rm_tx(xlev_ctx *ctx, uint32_t tx_id, const char *path);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_mkdir(xlev_ctx *ctx, uint32_t tx_id, const char *path);

/* Transactions. _start sets *tx_id_out (never 0: the context's own id for
 * it, not the daemon's; see xlev_ctx_set_reconnect()). _end commits
 * (commit nonzero) or aborts; either way the id is used up (a second _end
 * is XLEV_ERROR_NOENT); a commit that conflicted with another change is
 * XLEV_ERROR_AGAIN: start again from the beginning. */
XLEV_AVAILABLE_IN_1_0
int xlev_xs_transaction_start(xlev_ctx *ctx, uint32_t *tx_id_out);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_transaction_end(xlev_ctx *ctx, uint32_t tx_id, int commit);

/* Permissions: the first entry is the owner's (and the mode of every
 * domain not listed), as in docs/misc/xenstore.txt. */
typedef enum {
    XLEV_XS_PERM_NONE = 0,
    XLEV_XS_PERM_READ = 1,
    XLEV_XS_PERM_WRITE = 2,
    XLEV_XS_PERM_BOTH = 3,
} xlev_xs_perm_mode;

typedef struct {
    unsigned int domid;
    xlev_xs_perm_mode mode;
} xlev_xs_perm;

/* *perms_out: a malloc()ed array of *n_out entries (free()). */
XLEV_AVAILABLE_IN_1_0
int xlev_xs_get_perms(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                      xlev_xs_perm **perms_out, unsigned int *n_out);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_set_perms(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                      const xlev_xs_perm *perms, unsigned int n);

/* XS_GET_DOMAIN_PATH: *path_out a malloc()ed string (free()). */
XLEV_AVAILABLE_IN_1_0
int xlev_xs_get_domain_path(xlev_ctx *ctx, unsigned int domid,
                            char **path_out);

/*
 * Asynchronous operations (the socket transport sends the request now and
 * returns; the xenbus transport does the round trip now). @callback is
 * called exactly once, with the lock dropped, from the thread running the
 * loop (xlev_osevent_afterpoll()/occurred_*, or a blocking call's caller
 * that read the answer inside a callback): rc 0 and the answer (@value,
 * @len bytes, NUL-terminated besides; for a directory, the names one after
 * the other, each NUL-terminated; for a write, rm or mkdir nothing), or
 * an XLEV_ERROR_* code. @value is valid only during the call. A context
 * freed with requests in flight calls their callbacks from
 * xlev_ctx_free(), with XLEV_ERROR_CANCELLED (the callback must not use
 * the context then). Returns 0, or an error (the callback is then never
 * called).
 */
typedef void xlev_xs_reply_callback(xlev_ctx *ctx, void *user, int rc,
                                    const char *value, unsigned int len);

XLEV_AVAILABLE_IN_1_0
int xlev_xs_read_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                       xlev_xs_reply_callback *callback, void *user);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_write_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                        const void *value, unsigned int len,
                        xlev_xs_reply_callback *callback, void *user);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_directory_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                            xlev_xs_reply_callback *callback, void *user);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_rm_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                     xlev_xs_reply_callback *callback, void *user);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_mkdir_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                        xlev_xs_reply_callback *callback, void *user);

/* The other asynchronous operations, as the blocking ones above and with
 * the same promises as xlev_xs_read_async() (one callback, from the loop,
 * lock dropped; XLEV_ERROR_CANCELLED when the context is freed first).
 *
 * xlev_xs_transaction_start_async: @callback gets the new transaction's
 * id (never 0; 0 when rc is not). The daemon sends it as a decimal
 * string: one that is not (empty, not decimal, 0, over 32 bits, no
 * terminator) is XLEV_ERROR_PROTOCOL; the transaction the daemon may have
 * opened is then lost with the connection's other state, as with the
 * blocking call.
 *
 * xlev_xs_transaction_end_async: commits (@commit nonzero) or aborts;
 * the answer carries nothing; a conflict is XLEV_ERROR_AGAIN.
 *
 * xlev_xs_get_perms_async: @callback gets the list (@perms, @n entries,
 * valid only during the call). xlev_xs_set_perms_async refuses a list as
 * xlev_xs_set_perms() does, before sending (XLEV_ERROR_INVAL).
 *
 * xlev_xs_get_domain_path_async: @callback's @value is the path,
 * NUL-terminated, @len its length; an answer that is not one string is
 * XLEV_ERROR_PROTOCOL. */
typedef void xlev_xs_tx_callback(xlev_ctx *ctx, void *user, int rc,
                                 uint32_t tx_id);
typedef void xlev_xs_perms_callback(xlev_ctx *ctx, void *user, int rc,
                                    const xlev_xs_perm *perms,
                                    unsigned int n);

XLEV_AVAILABLE_IN_1_0
int xlev_xs_transaction_start_async(xlev_ctx *ctx,
                                    xlev_xs_tx_callback *callback,
                                    void *user);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_transaction_end_async(xlev_ctx *ctx, uint32_t tx_id, int commit,
                                  xlev_xs_reply_callback *callback,
                                  void *user);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_get_perms_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                            xlev_xs_perms_callback *callback, void *user);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_set_perms_async(xlev_ctx *ctx, uint32_t tx_id, const char *path,
                            const xlev_xs_perm *perms, unsigned int n,
                            xlev_xs_reply_callback *callback, void *user);
XLEV_AVAILABLE_IN_1_0
int xlev_xs_get_domain_path_async(xlev_ctx *ctx, unsigned int domid,
                                  xlev_xs_reply_callback *callback,
                                  void *user);

#ifdef __cplusplus
}
#endif

/* Domain events (shutdown, death, disk eject, introduce) on top of this. */
#include "xlev-domain.h"
