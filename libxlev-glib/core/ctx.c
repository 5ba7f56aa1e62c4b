/* ctx.c: contexts, logging, disasters, clocks, error strings
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xenstore_lib.h>

#include "xlev-event-private.h"

/*
 * Allocation, with a failure injector for the tests. The countdown is
 * process-wide and only ever armed by a test.
 */
static int fail_alloc_countdown;

static int
alloc_should_fail(void)
{
    int n = __atomic_load_n(&fail_alloc_countdown, __ATOMIC_SEQ_CST);

    if (n <= 0)
        return 0;
    return __atomic_sub_fetch(&fail_alloc_countdown, 1, __ATOMIC_SEQ_CST) == 0;
}

void
xlev__test_fail_alloc(int nth)
{
    __atomic_store_n(&fail_alloc_countdown, nth, __ATOMIC_SEQ_CST);
}

void *
xlev__malloc(size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *
xlev__calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *
xlev__realloc_array(void *ptr, size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    if (size && n > SIZE_MAX / size)
        return NULL;
    n *= size;
    return realloc(ptr, n ? n : 1);
}

char *
xlev__strdup(const char *s)
{
    if (alloc_should_fail())
        return NULL;
    return strdup(s);
}

/*
 * Error strings
 */

const char *
xlev_strerror(int rc)
{
    if (rc > 0)
        return "failure reported by an osevent hook";

    switch (rc) {
    case XLEV_SUCCESS:
        return "success";
    case XLEV_ERROR_FAIL:
        return "operation failed";
    case XLEV_ERROR_NOMEM:
        return "out of memory";
    case XLEV_ERROR_INVAL:
        return "invalid argument";
    case XLEV_ERROR_NOT_READY:
        return "not ready";
    case XLEV_ERROR_OSEVENT_REG_FAIL:
        return "osevent hook registration failed";
    case XLEV_ERROR_BUFFERFULL:
        return "buffer too small";
    case XLEV_ERROR_NOENT:
        return "no such xenstore path";
    case XLEV_ERROR_PERM:
        return "xenstore permission denied";
    case XLEV_ERROR_XENSTORE:
        return "xenstore daemon unreachable or connection lost";
    case XLEV_ERROR_NO_HYPERVISOR:
        return "Xen hypervisor not available";
    case XLEV_ERROR_BROKEN:
        return "context broken by an earlier disaster";
    default:
        return "unknown error";
    }
}

/*
 * Logging. The logger is called with ctx->lock held (or before the context
 * is shared), so it must not call into the context.
 */

/*
 * The process-wide default logger, for contexts without their own and for
 * messages from before a context exists (xlev_ctx_new). Guarded by
 * default_log_lock, which is taken after a ctx->lock, never before one.
 */
static pthread_mutex_t default_log_lock = PTHREAD_MUTEX_INITIALIZER;
static xlev_log_fn *default_log_fn;
static void *default_log_user;

void
xlev_set_default_logger(xlev_log_fn *fn, void *user)
{
    pthread_mutex_lock(&default_log_lock);
    default_log_fn = fn;
    default_log_user = fn ? user : NULL;
    pthread_mutex_unlock(&default_log_lock);
}

static void
log_valist(xlev_ctx *ctx, int level, const char *fmt, va_list ap)
{
    char buf[1024];
    int saved_errno = errno;

    vsnprintf(buf, sizeof(buf), fmt, ap);
    if (ctx && ctx->log_fn) {
        ctx->log_fn(ctx->log_user, level, buf);
    } else {
        pthread_mutex_lock(&default_log_lock);
        if (default_log_fn)
            default_log_fn(default_log_user, level, buf);
        pthread_mutex_unlock(&default_log_lock);
    }
    errno = saved_errno;
}

void
xlev__log(xlev_ctx *ctx, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_valist(ctx, level, fmt, ap);
    va_end(ap);
}

void
xlev_ctx_set_logger(xlev_ctx *ctx, xlev_log_fn *fn, void *user)
{
    if (!ctx)
        return;
    XLEV__LOCK(ctx);
    ctx->log_fn = fn;
    ctx->log_user = fn ? user : NULL;
    XLEV__UNLOCK(ctx);
}

/*
 * Disasters. Found with the lock held, reported with it dropped: the record
 * goes on the pending queue like a callback and xlev__run_pending calls the
 * hook (or writes to stderr). If even the record cannot be allocated, the
 * message still reaches the log and stderr at once.
 */

void
xlev__disaster_locked(xlev_ctx *ctx, xlev_disaster_kind kind, int errnoval,
                      const char *fmt, ...)
{
    char buf[512];
    struct xlev__pending *p;
    size_t len;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    xlev__log(ctx, LOG_CRIT, "DISASTER in event loop: %s (errno %d: %s)", buf,
              errnoval, errnoval ? strerror(errnoval) : "none");

    len = strlen(buf) + 1;
    p = xlev__malloc(sizeof(*p) + len);
    if (!p) {
        fprintf(stderr,
                "libxlev-glib: DISASTER in event loop (not reported to the "
                "application: out of memory): %s\n",
                buf);
        return;
    }
    memset(p, 0, sizeof(*p));
    p->kind = XLEV__PENDING_DISASTER;
    p->u.disaster.kind = kind;
    p->u.disaster.errnoval = errnoval;
    p->u.disaster.msg = (char *)(p + 1);
    memcpy(p->u.disaster.msg, buf, len);
    xlev__pending_append_locked(ctx, p);
}

void
xlev_ctx_set_disaster_hook(xlev_ctx *ctx, xlev_disaster_fn *fn, void *user)
{
    if (!ctx)
        return;
    XLEV__LOCK(ctx);
    ctx->disaster_fn = fn;
    ctx->disaster_user = fn ? user : NULL;
    XLEV__UNLOCK(ctx);
}

/*
 * Clocks
 */

static void
default_clock_now(clockid_t id, struct timeval *now_out)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC and CLOCK_REALTIME cannot fail on Linux with a valid
     * pointer; keep a defined value anyway. */
    if (clock_gettime(id, &ts) != 0) {
        ts.tv_sec = 0;
        ts.tv_nsec = 0;
    }
    now_out->tv_sec = ts.tv_sec;
    now_out->tv_usec = ts.tv_nsec / 1000;
}

void
xlev__now_locked(xlev_ctx *ctx, struct timeval *now_out)
{
    if (ctx->clock && ctx->clock->monotonic)
        ctx->clock->monotonic(ctx->clock_user, now_out);
    else
        default_clock_now(CLOCK_MONOTONIC, now_out);
}

void
xlev__wall_now_locked(xlev_ctx *ctx, struct timeval *now_out)
{
    if (ctx->clock && ctx->clock->realtime)
        ctx->clock->realtime(ctx->clock_user, now_out);
    else
        default_clock_now(CLOCK_REALTIME, now_out);
}

void
xlev_ctx_set_clock(xlev_ctx *ctx, const xlev_clock *clock, void *user)
{
    if (!ctx)
        return;
    XLEV__LOCK(ctx);
    ctx->clock = clock;
    ctx->clock_user = clock ? user : NULL;
    XLEV__UNLOCK(ctx);
}

void
xlev_osevent_now(xlev_ctx *ctx, struct timeval *now_out)
{
    if (!now_out)
        return;
    if (!ctx) {
        default_clock_now(CLOCK_MONOTONIC, now_out);
        return;
    }
    XLEV__LOCK(ctx);
    xlev__now_locked(ctx, now_out);
    XLEV__UNLOCK(ctx);
}

/*
 * Close-on-exec. libxenstore 4.17 opens its socket with SOCK_CLOEXEC and its
 * watch pipe with pipe2(O_CLOEXEC) where the build had pipe2, and sets
 * FD_CLOEXEC afterwards otherwise; we check rather than trust.
 */
void
xlev__fd_ensure_cloexec(xlev_ctx *ctx, int fd)
{
    int flags;

    if (fd < 0)
        return;
    flags = fcntl(fd, F_GETFD);
    if (flags < 0) {
        xlev__log(ctx, LOG_WARNING, "fcntl(%d, F_GETFD) failed: %s", fd,
                  strerror(errno));
        return;
    }
    if (flags & FD_CLOEXEC)
        return;
    if (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        xlev__log(ctx, LOG_WARNING, "cannot set FD_CLOEXEC on fd %d: %s", fd,
                  strerror(errno));
}

/*
 * libxenstore does not tell us its socket fd. Find the unix sockets of this
 * process connected to our daemon's path and make sure they are
 * close-on-exec (all of them are libxenstore's: ours or another context's).
 */
static void
ensure_xs_socket_cloexec(xlev_ctx *ctx)
{
    DIR *dir;
    struct dirent *de;

    dir = opendir("/proc/self/fd");
    if (!dir)
        return;
    while ((de = readdir(dir))) {
        struct sockaddr_un addr;
        socklen_t alen = sizeof(addr);
        struct stat st;
        char *end;
        long fd = strtol(de->d_name, &end, 10);

        if (*end || end == de->d_name || fd == dirfd(dir) || fd < 0 ||
            fd > INT_MAX)
            continue;
        if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        memset(&addr, 0, sizeof(addr));
        if (getpeername((int)fd, (struct sockaddr *)&addr, &alen) != 0 ||
            addr.sun_family != AF_UNIX)
            continue;
        if (strncmp(addr.sun_path, ctx->xs_path, sizeof(addr.sun_path)) == 0)
            xlev__fd_ensure_cloexec(ctx, (int)fd);
    }
    closedir(dir);
}

/*
 * Contexts
 */

/* xs_daemon_socket() formats into a static buffer when XENSTORED_PATH is
 * unset: serialise our calls and copy the result. */
static pthread_mutex_t xs_socket_name_lock = PTHREAD_MUTEX_INITIALIZER;

static char *
effective_xs_path(void)
{
    const char *p;
    char *copy = NULL;

    pthread_mutex_lock(&xs_socket_name_lock);
    p = xs_daemon_socket();
    if (p)
        copy = xlev__strdup(p);
    pthread_mutex_unlock(&xs_socket_name_lock);
    return copy;
}

static int
same_path(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];

    if (strcmp(a, b) == 0)
        return 1;
    if (!realpath(a, ra) || !realpath(b, rb))
        return 0;
    return strcmp(ra, rb) == 0;
}

static int
ctx_alloc(xlev_ctx **ctx_out)
{
    xlev_ctx *ctx;

    ctx = xlev__calloc(1, sizeof(*ctx));
    if (!ctx)
        return XLEV_ERROR_NOMEM;
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        free(ctx);
        return XLEV_ERROR_FAIL;
    }
    if (pthread_cond_init(&ctx->cond, NULL) != 0) {
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        return XLEV_ERROR_FAIL;
    }
    if (pthread_mutex_init(&ctx->xs_req_lock, NULL) != 0) {
        pthread_cond_destroy(&ctx->cond);
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        return XLEV_ERROR_FAIL;
    }
    ctx->watch_free = -1;
    xlev_ev_fd_init(&ctx->watch_efd);
    xlev_ev_time_init(&ctx->xs_liveness);
    *ctx_out = ctx;
    return 0;
}

static void ctx_destroy(xlev_ctx *ctx);

int
xlev_ctx_new(const char *xenstore_path, xlev_ctx **ctx_out)
{
    xlev_ctx *ctx = NULL;
    char *effective = NULL;
    int rc;

    if (!ctx_out)
        return XLEV_ERROR_INVAL;
    *ctx_out = NULL;

    effective = effective_xs_path();
    if (!effective) {
        rc = XLEV_ERROR_NOMEM;
        goto out;
    }
    if (xenstore_path && !same_path(xenstore_path, effective)) {
        xlev__log(NULL, LOG_ERR,
                  "cannot connect to xenstored at %s: libxenstore connects "
                  "to %s (set XENSTORED_PATH before creating contexts)",
                  xenstore_path, effective);
        rc = XLEV_ERROR_INVAL;
        goto out;
    }

    rc = ctx_alloc(&ctx);
    if (rc)
        goto out;
    ctx->xs_path = effective;
    effective = NULL;

    /* Not XS_UNWATCH_FILTER: in 4.17 it leaks the body of every event it
     * filters; see "xenstore watch slots" in xlev-event-private.h. */
    ctx->xsh = xs_open(0);
    if (!ctx->xsh) {
        xlev__log(ctx, LOG_ERR, "cannot connect to xenstored at %s: %s",
                  ctx->xs_path, strerror(errno));
        rc = XLEV_ERROR_XENSTORE;
        goto out;
    }
    ensure_xs_socket_cloexec(ctx);

    *ctx_out = ctx;
    ctx = NULL;
    rc = 0;
out:
    free(effective);
    if (ctx)
        ctx_destroy(ctx);
    return rc;
}

int
xlev__test_ctx_new_no_xenstore(xlev_ctx **ctx_out)
{
    int rc;

    if (!ctx_out)
        return XLEV_ERROR_INVAL;
    *ctx_out = NULL;
    rc = ctx_alloc(ctx_out);
    if (rc)
        return rc;
    (*ctx_out)->xs_path = xlev__strdup("");
    if (!(*ctx_out)->xs_path) {
        ctx_destroy(*ctx_out);
        *ctx_out = NULL;
        return XLEV_ERROR_NOMEM;
    }
    return 0;
}

const char *
xlev_ctx_get_xenstore_path(xlev_ctx *ctx)
{
    return ctx ? ctx->xs_path : NULL;
}

static void
ctx_destroy(xlev_ctx *ctx)
{
    if (ctx->xsh)
        xs_close(ctx->xsh);
    free(ctx->xs_path);
    pthread_mutex_destroy(&ctx->xs_req_lock);
    pthread_cond_destroy(&ctx->cond);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

/*
 * xlev_ctx_free: takes the lock; deregisters everything (telling the hooks),
 * discards the queue, then frees. Refused from inside one of this context's
 * callbacks: the thread running the callback would come back to freed
 * memory.
 */
void
xlev_ctx_free(xlev_ctx *ctx)
{
    struct xlev__pending *p;

    if (!ctx)
        return;

    /* Domain events (domain-private.h) own watches and timeouts of this
     * context and memory they point into: they go first, while the core
     * is intact. It takes the lock itself. */
    xlev__domain_ctx_free(ctx);

    XLEV__LOCK(ctx);
    if (xlev__inflight_self_locked(ctx)) {
        xlev__log(ctx, LOG_ERR,
                  "xlev_ctx_free called from inside a callback of the same "
                  "context: refused (the context is not freed)");
        XLEV__UNLOCK(ctx);
        return;
    }
    ctx->freeing = 1;

    /* Callbacks running in other threads are the caller's mistake, but do
     * not free the memory under them. */
    while (ctx->inflight)
        pthread_cond_wait(&ctx->cond, &ctx->lock);

    xlev__xswatch_free_all_locked(ctx);
    xlev__fd_free_all_locked(ctx);
    xlev__time_free_all_locked(ctx);

    while ((p = ctx->pending_head)) {
        xlev__pending_remove_locked(ctx, p);
        free(p);
    }
    free(ctx->polled);
    ctx->polled = NULL;
    free(ctx->fdtab);
    free(ctx->theap);
    free(ctx->watch_slots);
    xlev__nexus_free_all(ctx);
    XLEV__UNLOCK(ctx);

    ctx_destroy(ctx);
}

/*
 * Test helpers
 */

int
xlev__test_lock_is_free(xlev_ctx *ctx)
{
    if (pthread_mutex_trylock(&ctx->lock) != 0)
        return 0;
    pthread_mutex_unlock(&ctx->lock);
    return 1;
}
