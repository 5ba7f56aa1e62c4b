/* watch.c: xenstore watches: slots, tokens, the watch fd, liveness
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See "xenstore watch slots" in xs-private.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xenstore.h>

#include "watch-token-private.h"
#include "xs-private.h"

/* "slotnum/counter": an int in decimal, '/', a uint32_t in hex, NUL. */
#define WATCH_TOKEN_MAX XLEV__XS_TOKEN_MAX
#define WATCH_SLOTS_MIN 4

static void
xswatch_reg_init(struct xlev__xswatch_reg *w)
{
    w->slotnum = -1;
    w->counterval = 0;
    w->path = NULL;
    w->path_borrowed = 0;
    w->callback = NULL;
    w->npending = 0;
}

void
xlev_ev_xswatch_init(xlev_ev_xswatch *pub)
{
    if (pub)
        xswatch_reg_init(XLEV__XSW(pub));
}

int
xlev_ev_xswatch_isregistered(const xlev_ev_xswatch *pub)
{
    return pub && XLEV__XSW_C(pub)->slotnum >= 0;
}


static void
watch_token(char *buf, int slotnum, uint32_t counterval)
{
    snprintf(buf, WATCH_TOKEN_MAX, "%d/%" PRIx32, slotnum, counterval);
}

static void watch_fd_ready_locked(xlev_ctx *ctx);

/* The watch fd is readable: an ordinary fd callback, lock dropped. It
 * queues the events it reads, which the runner that called it runs next. */
static void
watch_fd_cb(xlev_ctx *ctx, xlev_ev_fd *ev, int fd, short events,
            short revents)
{
    XLEV__LOCK(ctx);
    if (xlev_ev_fd_isregistered(ev))
        watch_fd_ready_locked(ctx);
    XLEV__UNLOCK(ctx);
}

/*
 * libxenstore gives us the read end of its watch pipe only. Make sure both
 * ends are close-on-exec: the write end is the other fd of this process on
 * the same pipe inode.
 */
static void
ensure_watch_pipe_cloexec_locked(xlev_ctx *ctx, int fd)
{
    struct stat st;
    struct dirent *de;
    DIR *dir;

    xlev__fd_ensure_cloexec(ctx, fd);
    if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
        return;
    dir = opendir("/proc/self/fd");
    if (!dir)
        return;
    while ((de = readdir(dir))) {
        struct stat st2;
        char *end;
        long other = strtol(de->d_name, &end, 10);

        if (*end || end == de->d_name || other == fd || other < 0 ||
            other > INT_MAX || other == dirfd(dir))
            continue;
        if (fstat((int)other, &st2) == 0 && S_ISFIFO(st2.st_mode) &&
            st2.st_ino == st.st_ino && st2.st_dev == st.st_dev)
            xlev__fd_ensure_cloexec(ctx, (int)other);
    }
    closedir(dir);
}

/*
 * The liveness timeout (see "xenstore watch slots"). Its callback runs like
 * any timeout's, with the lock dropped, from the thread running the loop;
 * it decides under the lock. The events it queues are run by the same
 * xlev__deferred_run_and_unlock that called it.
 */
static void
liveness_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    int rc;

    XLEV__LOCK(ctx);
    if (xlev_ev_fd_isregistered(&ctx->xs->watch_efd))
        watch_fd_ready_locked(ctx);
    /* Still watching (the drain may have found the connection lost, which
     * deregistered the fd), and nobody re-armed it meanwhile. */
    if (xlev_ev_fd_isregistered(&ctx->xs->watch_efd) &&
        !xlev_ev_time_isregistered(&ctx->xs->liveness)) {
        rc = xlev__time_register_rel_locked(ctx, &ctx->xs->liveness,
                                            liveness_cb, XLEV_XS_LIVENESS_MS);
        if (rc)
            xlev__disaster_locked(ctx, XLEV_DISASTER_OSEVENT, 0,
                                  "cannot re-arm the xenstore liveness "
                                  "timeout (%d): a lost connection may go "
                                  "unnoticed",
                                  rc);
    }
    XLEV__UNLOCK(ctx);
}

void
xlev__xs_lost_locked(xlev_ctx *ctx, int errnoval, const char *what)
{
    int rc;

    if (ctx->xs->broken)
        return;
    __atomic_store_n(&ctx->xs->broken, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&ctx->xs->accepting, 0, __ATOMIC_RELEASE);
    ctx->xs->state = XLEV__XS_DEAD;
    /* Stop polling a connection that failed, so that we do not spin. */
    xlev__fd_deregister_locked(ctx, &ctx->xs->watch_efd);
    xlev__disaster_locked(ctx, XLEV_DISASTER_XENSTORE, errnoval, "%s", what);
    /* Found outside the loop (a plain operation in another thread), the
     * disaster waits on the queue: make the loop come round now. */
    xlev__time_deregister_locked(ctx, &ctx->xs->liveness);
    rc = xlev__time_register_rel_locked(ctx, &ctx->xs->liveness, liveness_cb,
                                        0);
    if (rc)
        xlev__log(ctx, LOG_ERR,
                  "cannot arm a timeout to report the lost xenstore "
                  "connection (%d); it is reported at the next event",
                  rc);
}

/* The watch fd, and with it the liveness timeout, is registered while there
 * is at least one watch. */
static int
watch_fd_ref_locked(xlev_ctx *ctx)
{
    int fd, rc;

    if (xlev_ev_fd_isregistered(&ctx->xs->watch_efd))
        return 0;
    fd = xs_fileno(ctx->xs->xsh);
    if (fd < 0) {
        xlev__log(ctx, LOG_DEBUG, "xs_fileno failed: %s", strerror(errno));
        return XLEV_ERROR_XENSTORE;
    }
    if (!ctx->xs->watch_fd_checked) {
        ensure_watch_pipe_cloexec_locked(ctx, fd);
        ctx->xs->watch_fd_checked = 1;
    }
    rc = xlev__fd_register_locked(ctx, &ctx->xs->watch_efd, watch_fd_cb, fd,
                                  POLLIN);
    if (rc) {
        xlev_ev_fd_init(&ctx->xs->watch_efd);
        return rc;
    }
    /* Not registered yet unless its last callback is still running (and
     * would re-arm it, finding the fd registered). */
    if (!xlev_ev_time_isregistered(&ctx->xs->liveness)) {
        rc = xlev__time_register_rel_locked(ctx, &ctx->xs->liveness,
                                            liveness_cb, XLEV_XS_LIVENESS_MS);
        if (rc)
            xlev__fd_deregister_locked(ctx, &ctx->xs->watch_efd);
    }
    return rc;
}

static void
watch_fd_unref_locked(xlev_ctx *ctx)
{
    if (ctx->xs->count)
        return;
    xlev__fd_deregister_locked(ctx, &ctx->xs->watch_efd);
    /* Once broken, the timeout only wakes the loop to report that: leave
     * it to fire. */
    if (!ctx->xs->broken)
        xlev__time_deregister_locked(ctx, &ctx->xs->liveness);
}

static void xswatch_deregister_locked(xlev_ctx *ctx,
                                      struct xlev__xswatch_reg *w,
                                      int unwatch);

static int
slot_get_locked(xlev_ctx *ctx)
{
    int slotnum;

    if (ctx->xs->free_slot < 0) {
        struct xlev__watch_slot *newslots;
        int newsize, i;

        if (ctx->xs->nslots > INT_MAX / 2)
            return XLEV_ERROR_NOMEM;
        newsize = ctx->xs->nslots ? ctx->xs->nslots * 2 : WATCH_SLOTS_MIN;
        newslots = xlev__realloc_array(ctx->xs->slots, newsize,
                                       sizeof(*newslots));
        if (!newslots)
            return XLEV_ERROR_NOMEM;
        /* Link the new slots so that the lowest comes out first. */
        for (i = newsize - 1; i >= ctx->xs->nslots; i--) {
            newslots[i].w = NULL;
            newslots[i].next_free = ctx->xs->free_slot;
            ctx->xs->free_slot = i;
        }
        ctx->xs->slots = newslots;
        ctx->xs->nslots = newsize;
    }
    slotnum = ctx->xs->free_slot;
    ctx->xs->free_slot = ctx->xs->slots[slotnum].next_free;
    ctx->xs->slots[slotnum].next_free = -1;
    ctx->xs->slots[slotnum].drop_initial = 0;
    ctx->xs->slots[slotnum].synthetic = 0;
    return slotnum;
}

static void
slot_put_locked(xlev_ctx *ctx, int slotnum)
{
    ctx->xs->slots[slotnum].w = NULL;
    ctx->xs->slots[slotnum].drop_initial = 0;
    ctx->xs->slots[slotnum].synthetic = 0;
    ctx->xs->slots[slotnum].next_free = ctx->xs->free_slot;
    ctx->xs->free_slot = slotnum;
}

/* Both registrations. With @borrow, the registration keeps @path itself
 * (the caller guarantees it outlives the registration); otherwise a copy. */
static int
xswatch_register(xlev_ctx *ctx, xlev_ev_xswatch *pub,
                 xlev_ev_xswatch_callback *func, const char *path, int borrow)
{
    struct xlev__xswatch_reg *w = XLEV__XSW(pub);
    char token[WATCH_TOKEN_MAX];
    char *path_copy = NULL;
    int slotnum = -1;
    uint32_t counterval;
    int native = 0;
    int rc;

    if (!ctx || !w || !func || !xlev__xs_path_check(path, 1))
        return XLEV_ERROR_INVAL;
    xswatch_reg_init(w);

    XLEV__LOCK(ctx);
    if (!ctx->xs || ctx->xs->transport == XLEV_XS_TRANSPORT_NONE) {
        rc = XLEV_ERROR_XENSTORE;
        goto out;
    }
    if (ctx->xs->broken || !ctx->xs->accepting) {
        /* Dead for good, or (reconnecting) not connected yet. */
        rc = ctx->xs->state == XLEV__XS_DEAD ? XLEV_ERROR_BROKEN
                                             : XLEV_ERROR_XENSTORE;
        goto out;
    }

    native = ctx->xs->transport == XLEV_XS_TRANSPORT_SOCKET;
    if (!native) {
        rc = watch_fd_ref_locked(ctx);
        if (rc)
            goto out;
    }

    if (!borrow) {
        path_copy = xlev__strdup(path);
        if (!path_copy) {
            rc = XLEV_ERROR_NOMEM;
            goto out;
        }
    }
    slotnum = slot_get_locked(ctx);
    if (slotnum < 0) {
        rc = slotnum;
        slotnum = -1;
        goto out;
    }

    counterval = ctx->xs->counter++;
    watch_token(token, slotnum, counterval);
    if (native)
        goto registered; /* the request is sent below */
    pthread_mutex_lock(&ctx->xs->req_lock);
    if (!xs_watch(ctx->xs->xsh, path, token)) {
        int e = errno, lost = xlev__xs_conn_lost_reqlocked(ctx, e);

        pthread_mutex_unlock(&ctx->xs->req_lock);
        xlev__log(ctx, LOG_DEBUG, "cannot watch xenstore path %s: %s", path,
                  strerror(e));
        rc = xlev__xs_errno_to_rc(e);
        if (lost) {
            xlev__xs_lost_locked(ctx, e, "the xenstore connection was lost");
            rc = XLEV_ERROR_XENSTORE;
        }
        goto out;
    }
    pthread_mutex_unlock(&ctx->xs->req_lock);

registered:
    ctx->xs->slots[slotnum].w = w;
    w->slotnum = slotnum;
    w->counterval = counterval;
    if (borrow) {
        /* Never written through: freed (or not) by path_borrowed. */
        w->path = (char *)path;
        w->path_borrowed = 1;
    } else {
        w->path = path_copy;
        w->path_borrowed = 0;
    }
    w->callback = func;
    w->npending = 0;
    ctx->xs->count++;
    path_copy = NULL;
    slotnum = -1;
    rc = 0;

    if (native) {
        /* In its slot already, so that the initial event, which follows
         * the answer, finds it. The wait drops the lock (conn.c): the
         * loop and other callers go on meanwhile. */
        rc = xlev__xs_conn_watch_wait_locked(ctx, w->path, token);
        if (rc) {
            xlev__log(ctx, LOG_DEBUG, "cannot watch xenstore path %s: %s",
                      w->path, xlev_strerror(rc));
            /* Timed out or cancelled: the daemon may have it after all;
             * take it back (not waited for). */
            xswatch_deregister_locked(ctx, w, rc == XLEV_ERROR_TIMEDOUT ||
                                                  rc == XLEV_ERROR_CANCELLED);
            if (rc == XLEV_ERROR_XENSTORE &&
                ctx->xs->policy == XLEV_RECONNECT_NEVER)
                rc = XLEV_ERROR_BROKEN;
        }
    }

out:
    if (slotnum >= 0)
        slot_put_locked(ctx, slotnum);
    free(path_copy);
    if (rc && ctx->xs && ctx->xs->xsh)
        watch_fd_unref_locked(ctx);
    XLEV__UNLOCK(ctx);
    return rc;
}

int
xlev_ev_xswatch_register(xlev_ctx *ctx, xlev_ev_xswatch *w,
                         xlev_ev_xswatch_callback *func, const char *path)
{
    return xswatch_register(ctx, w, func, path, 0);
}

int
xlev_ev_xswatch_register_borrowed(xlev_ctx *ctx, xlev_ev_xswatch *w,
                                  xlev_ev_xswatch_callback *func,
                                  const char *path)
{
    return xswatch_register(ctx, w, func, path, 1);
}

static void
xswatch_deregister_locked(xlev_ctx *ctx, struct xlev__xswatch_reg *w, int unwatch)
{
    char token[WATCH_TOKEN_MAX];

    if (w->slotnum < 0)
        return;

    if (ctx->xs->transport == XLEV_XS_TRANSPORT_SOCKET) {
        /* Sent, not waited for: events still on the wire for this token
         * find the slot free (or reused, with another counter). A watch
         * the daemon refused has nothing to remove. */
        if (unwatch && !ctx->xs->broken) {
            watch_token(token, w->slotnum, w->counterval);
            if (xlev__xs_conn_unwatch_locked(ctx, w->path, token))
                xlev__log(ctx, LOG_DEBUG, "cannot send the unwatch of %s",
                          w->path);
        }
        unwatch = 0;
    } else if (unwatch && !ctx->xs->broken) {
        watch_token(token, w->slotnum, w->counterval);
        /* Events for this token that libxenstore has queued (no
         * XS_UNWATCH_FILTER) are dropped when read: the slot is free. */
        pthread_mutex_lock(&ctx->xs->req_lock);
        if (!xs_unwatch(ctx->xs->xsh, w->path, token)) {
            int e = errno, lost = xlev__xs_conn_lost_reqlocked(ctx, e);

            pthread_mutex_unlock(&ctx->xs->req_lock);
            /* We will ignore its events (the counter no longer matches a
             * registration), but say so. */
            xlev__log(ctx, LOG_ERR, "cannot remove watch on %s: %s", w->path,
                      strerror(e));
            if (lost)
                xlev__xs_lost_locked(ctx, e,
                                     "the xenstore connection was lost");
        } else {
            pthread_mutex_unlock(&ctx->xs->req_lock);
        }
    }
    if (w->npending)
        xlev__deferred_cancel_locked(ctx, w);
    slot_put_locked(ctx, w->slotnum);
    ctx->xs->count--;
    /* The last one: read what libxenstore still holds for the watches just
     * removed (all dropped) rather than leave it queued there. */
    if (unwatch && ctx->xs->count == 0 &&
        xlev_ev_fd_isregistered(&ctx->xs->watch_efd))
        watch_fd_ready_locked(ctx);
    if (!w->path_borrowed)
        free(w->path);
    w->path = NULL;
    w->path_borrowed = 0;
    w->callback = NULL;
    w->npending = 0;
    /* The seed left slotnum set: a second deregister corrupted the free
     * list. */
    w->slotnum = -1;
    watch_fd_unref_locked(ctx);
}

void
xlev_ev_xswatch_deregister(xlev_ctx *ctx, xlev_ev_xswatch *pub)
{
    struct xlev__xswatch_reg *w = XLEV__XSW(pub);

    if (!ctx || !w)
        return;
    XLEV__LOCK(ctx);
    xswatch_deregister_locked(ctx, w, 1);
    xlev__deferred_wait_locked(ctx, w);
    XLEV__UNLOCK(ctx);
}

/*
 * The watch fd is readable: read every event libxenstore has and queue the
 * ones that belong to a live registration, one deferred record each
 * (target: the registration). A record carries its own copies of both
 * paths: the callback may deregister its watch (freeing w->path) and still
 * read its arguments. Lock held.
 */
struct watch_rec {
    struct xlev__deferred d;
    struct xlev__xswatch_reg *w;
    int slotnum;
    uint32_t counterval;
    xlev_ev_xswatch_callback *func; /* prepare_locked */
    char *epath;  /* in paths[], after the watch path */
    char paths[]; /* the watch path, NUL, the event path, NUL */
};

static int
watch_rec_prepare_locked(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct watch_rec *r = XLEV__CONTAINER_OF(d, struct watch_rec, d);
    struct xlev__xswatch_reg *w = r->w;

    w->npending--;
    if (w->slotnum != r->slotnum || w->counterval != r->counterval) {
        free(r);
        return 0;
    }
    r->func = w->callback;
    return 1;
}

static void
watch_rec_run(xlev_ctx *ctx, struct xlev__deferred *d)
{
    struct watch_rec *r = XLEV__CONTAINER_OF(d, struct watch_rec, d);

    r->func(ctx, XLEV__XSW_PUB(r->w), r->paths, r->epath);
    free(r);
}

static const struct xlev__deferred_ops watch_rec_ops = {
    .prepare_locked = watch_rec_prepare_locked,
    .run = watch_rec_run,
};

/* One record for w (in slot slotnum, counter counterval), carrying both
 * paths. Lock held. */
static void
watch_rec_queue_locked(xlev_ctx *ctx, struct xlev__xswatch_reg *w,
                       const char *epath)
{
    struct watch_rec *r;
    size_t wlen = strlen(w->path), elen = strlen(epath);

    r = xlev__malloc(sizeof(*r) + wlen + 1 + elen + 1);
    if (!r) {
        xlev__disaster_locked(ctx, XLEV_DISASTER_NOMEM, ENOMEM,
                              "cannot queue the watch event for %s", epath);
        return;
    }
    memset(r, 0, sizeof(*r));
    r->w = w;
    r->slotnum = w->slotnum;
    r->counterval = w->counterval;
    memcpy(r->paths, w->path, wlen + 1);
    r->epath = r->paths + wlen + 1;
    memcpy(r->epath, epath, elen + 1);
    w->npending++;
    xlev__deferred_queue_locked(ctx, &r->d, &watch_rec_ops, w);
}

void
xlev__xs_watch_synthetic_locked(xlev_ctx *ctx, int slotnum)
{
    struct xlev__xswatch_reg *w;

    if (slotnum < 0 || slotnum >= ctx->xs->nslots)
        return;
    w = ctx->xs->slots[slotnum].w;
    if (w)
        watch_rec_queue_locked(ctx, w, w->path);
}

void
xlev__xs_watch_token_locked(xlev_ctx *ctx, int slotnum, char *buf)
{
    watch_token(buf, slotnum, ctx->xs->slots[slotnum].w->counterval);
}

void
xlev__xs_watch_event_locked(xlev_ctx *ctx, const char *epath,
                            const char *token)
{
    struct xlev__xswatch_reg *w;
    size_t wlen, elen;
    int slotnum, rc;
    uint32_t counterval;

    rc = xlev__xs_watch_token_parse(token, ctx->xs->nslots, &slotnum,
                                    &counterval);
    if (rc == XLEV_ERROR_NOENT) {
        xlev__log(ctx, LOG_DEBUG, "watch event %s token %s: no such slot",
                  epath, token);
        return;
    }
    if (rc) {
        xlev__log(ctx, LOG_DEBUG, "watch event %s: bad token %s", epath,
                  token);
        return;
    }
    w = ctx->xs->slots[slotnum].w;
    if (!w) {
        xlev__log(ctx, LOG_DEBUG, "watch event %s token %s: empty slot",
                  epath, token);
        return;
    }
    if (w->counterval != counterval) {
        xlev__log(ctx, LOG_DEBUG,
                  "watch event %s token %s: slot reused (counter %" PRIx32
                  ")",
                  epath, token, w->counterval);
        return;
    }
    /* A stale event with the same slot and counter (the counter wrapped)
     * is still only passed on when it is about this watch's subtree; an
     * event for a path elsewhere would be a lie. */
    wlen = strlen(w->path);
    elen = strlen(epath);
    if (elen < wlen || memcmp(epath, w->path, wlen) != 0 ||
        (elen > wlen && epath[wlen] != '/' && strcmp(w->path, "/") != 0)) {
        xlev__log(ctx, LOG_DEBUG,
                  "watch event %s token %s: not at or below %s", epath, token,
                  w->path);
        return;
    }

    /* Registered again after a reconnect: the daemon's initial event is
     * the first for this token on the new connection; the core gives its
     * own, after the hook (see "Reconnecting" in xs-private.h). */
    if (ctx->xs->slots[slotnum].drop_initial) {
        ctx->xs->slots[slotnum].drop_initial = 0;
        return;
    }
    watch_rec_queue_locked(ctx, w, epath);
}

static void
watch_fd_ready_locked(xlev_ctx *ctx)
{
    for (;;) {
        char **event = xs_check_watch(ctx->xs->xsh);

        if (!event) {
            int e = errno;

            if (e == EAGAIN)
                break;
            if (e == EINTR)
                continue;
            if (e == ENOMEM) {
                /* read_watch_internal could not copy an event and dropped
                 * it; the connection is fine. The rest stays queued (and
                 * the pipe readable) for the next round. */
                xlev__disaster_locked(ctx, XLEV_DISASTER_NOMEM, e,
                                      "a xenstore watch event was lost");
                break;
            }
            /* EINVAL: the reader thread closed the connection and the
             * queue is empty. The seed exit()ed here. */
            xlev__xs_lost_locked(ctx, e,
                                 "cannot read xenstore watch events: the "
                                 "connection was lost");
            break;
        }
        xlev__xs_watch_event_locked(ctx, event[XS_WATCH_PATH],
                                    event[XS_WATCH_TOKEN]);
        free(event);
    }
}

/* ctx_free: every watch goes Idle. The connection is about to be closed,
 * which removes the daemon's watches; no need to unwatch one by one. */
void
xlev__xswatch_free_all_locked(xlev_ctx *ctx)
{
    int i;

    for (i = 0; i < ctx->xs->nslots; i++) {
        struct xlev__xswatch_reg *w = ctx->xs->slots[i].w;

        if (w)
            xswatch_deregister_locked(ctx, w, 0);
    }
    xlev__fd_deregister_locked(ctx, &ctx->xs->watch_efd);
    xlev__time_deregister_locked(ctx, &ctx->xs->liveness);
}

int
xlev__test_watch_fd_registered(xlev_ctx *ctx)
{
    int r;

    XLEV__LOCK(ctx);
    r = xlev_ev_fd_isregistered(
        ctx->xs->transport == XLEV_XS_TRANSPORT_SOCKET ? &ctx->xs->conn_efd
                                                       : &ctx->xs->watch_efd);
    XLEV__UNLOCK(ctx);
    return r;
}

int
xlev__test_watch_fd(xlev_ctx *ctx)
{
    int r;

    XLEV__LOCK(ctx);
    r = XLEV__FD_C(ctx->xs->transport == XLEV_XS_TRANSPORT_SOCKET
                       ? &ctx->xs->conn_efd
                       : &ctx->xs->watch_efd)->fd;
    XLEV__UNLOCK(ctx);
    return r;
}

int
xlev__test_xswatch_slot(const xlev_ev_xswatch *pub)
{
    const struct xlev__xswatch_reg *w = XLEV__XSW_C(pub);

    return w->slotnum;
}

uint32_t
xlev__test_xswatch_counter(const xlev_ev_xswatch *pub)
{
    const struct xlev__xswatch_reg *w = XLEV__XSW_C(pub);

    return w->counterval;
}

const char *
xlev__test_xswatch_path(const xlev_ev_xswatch *pub)
{
    const struct xlev__xswatch_reg *w = XLEV__XSW_C(pub);

    return w->path;
}
