/* fakexen.c: a stand-in for the Xen hypervisor, for tests only.
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * This library is LD_PRELOADed into Debian's real xenstored or oxenstored
 * (and, when a test wants it, into the test process itself) on a machine
 * without Xen.
 * It answers the few hypervisor requests xenstored makes; xenstored's own
 * logic stays the real one.  See /work/shared/XENSTORE-TESTING.md and
 * tests/xs-fixture.h for the whole picture.
 *
 * Two roles:
 *
 *  - "daemon": inside the daemon (XLEV_FAKEXEN_ROLE=daemon in its
 *    environment, or a program named "xenstored" or "oxenstored").
 *    Everything below is stood in for: /proc/xen/xsd_port and xsd_kva,
 *    libxenctrl's domain queries, libxenevtchn (over the control FIFO
 *    $D/ctl) and libxengnttab (over the files $D/ring-<domid>).  The daemon
 *    owns the domain table.  For oxenstored also: xc_map_foreign_range (the
 *    same ring files), its compiled-in run directory /var/run/xenstored
 *    moved into $D (paths rewritten in open, bind, connect, unlink, mkdir,
 *    rename, stat and a few more), and its RLIMIT_NOFILE request clamped to
 *    the hard limit.
 *
 *  - "test": any other process.  Only the libxenctrl calls, the two
 *    /proc/xen files and the xenbus device (a socket to the daemon; see
 *    below) are stood in for; event-channel and grant calls go to the real
 *    libraries (or the test would read the daemon's control lines).
 *    The domain table is read from $D/domains on every query.
 *
 * The run directory $D is $XLEV_FAKEXEN_DIR (in the daemon, $XENSTORED_RUNDIR
 * when that is unset).  Files in it:
 *
 *   ctl          FIFO of control lines, one per line:
 *                  "<domid> running"
 *                  "<domid> shutdown [<reason>]"   (reason 0..255, default 0)
 *                  "<domid> crashed"               (shutdown, SHUTDOWN_crash)
 *                  "<domid> dying"                 (keeps a shutdown reason)
 *                  "<domid> gone"                  (no longer exists)
 *                  "evtchn <domid>"                (a guest kicks its channel)
 *   domains      the domain table, rewritten atomically by the daemon after
 *                each batch of control lines; its first line is
 *                "done <n>", the number of control lines acted on so far.
 *   evt-<domid>  FIFO receiving one byte per xenevtchn_notify() to that domain.
 *   ring-<domid> the domain's 4 KiB ring page (xengnttab_map_grant_ref).
 *
 * Domain model: domain 0 always exists and runs (control lines naming it are
 * counted and ignored).  Every other domid below DOMID_FIRST_RESERVED exists
 * and runs unless the table says otherwise; "gone" domids are skipped, as the
 * hypervisor skips domids that do not exist.
 *
 * When the daemon opens its event channel, a thread starts watching the
 * process $XLEV_FAKEXEN_WATCH_PID (the test).  When that process ends, the
 * thread empties and removes $D and ends the daemon: a test killed with
 * SIGKILL leaves nothing behind.
 *
 * Threads: xenstored is single-threaded, so the daemon-side state (port table,
 * domain table, control buffer) is touched from its thread only; the
 * pid-watch thread touches none of it.  In a test process the domain table is
 * a local copy loaded per call.
 */

/* Our open() must be the symbol "open": no redirection to open64 (meson
 * sets _FILE_OFFSET_BITS=64; off_t is 64-bit on our targets anyway), no
 * fortified inline wrappers. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

/* xc_map_foreign_range, which oxenstored maps guest rings with. */
#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

/* A page as the hypervisor and xenstored know it (XC_PAGE_SIZE, xenctrl.h). */
#define FAKEXEN_PAGE_SIZE XC_PAGE_SIZE

/* The event-channel port /proc/xen/xsd_port announces for domain 0. */
#define FAKEXEN_XSD_PORT 1

/* The local port VIRQ_DOM_EXC is bound to. */
#define FAKEXEN_VIRQ_PORT 1

/* Local ports handed out by bind_interdomain: FAKEXEN_FIRST_PORT upward. */
#define FAKEXEN_FIRST_PORT 2
#define FAKEXEN_MAX_PORTS 1024

/* Domains the table can describe explicitly (others run). */
#define FAKEXEN_MAX_DOMAINS 1024

/* The longest control line kept; longer ones are dropped. */
#define FAKEXEN_LINE_MAX 128

/* Polling interval of the pid watch when pidfd_open is missing (valgrind). */
#define FAKEXEN_PID_POLL_MS 50

#define FAKEXEN_ENV_DIR "XLEV_FAKEXEN_DIR"
#define FAKEXEN_ENV_ROLE "XLEV_FAKEXEN_ROLE"
#define FAKEXEN_ENV_WATCH_PID "XLEV_FAKEXEN_WATCH_PID"
#define FAKEXEN_ENV_DEBUG "XLEV_FAKEXEN_DEBUG"

#define FAKEXEN_TABLE_FILE "domains"
#define FAKEXEN_CTL_FIFO "ctl"

/* Exported so that a test can tell whether this library is preloaded
 * (dlsym (RTLD_DEFAULT, "xlev_fakexen_present")). */
int xlev_fakexen_present(void);

int
xlev_fakexen_present(void)
{
    return 1;
}

/* The domain-info queries answered in this process so far: calls of
 * xc_domain_getinfolist and xc_domain_getinfo, each one hypercall on Xen.
 * Exported so that a test can count what the library asks
 * (dlsym (RTLD_DEFAULT, "xlev_fakexen_domain_queries")); any thread. */
unsigned long xlev_fakexen_domain_queries(void);

static unsigned long domain_queries;

unsigned long
xlev_fakexen_domain_queries(void)
{
    return __atomic_load_n(&domain_queries, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static void fakexen_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
fakexen_log(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    /* One write so that lines of the daemon and of us do not interleave. */
    dprintf(STDERR_FILENO, "fakexen[%d]: %.*s\n", (int)getpid(), n, buf);
}

static bool
fakexen_debug(void)
{
    const char *v = getenv(FAKEXEN_ENV_DEBUG);
    return v && *v && strcmp(v, "0") != 0;
}

#define DEBUG(...)                                                             \
    do {                                                                       \
        if (fakexen_debug())                                                   \
            fakexen_log(__VA_ARGS__);                                          \
    } while (0)

/* Looks a symbol up in the libraries after this one; NULL if absent. */
static void *
fakexen_next(void **cache, const char *name)
{
    void *p = __atomic_load_n(cache, __ATOMIC_ACQUIRE);

    if (!p) {
        p = dlsym(RTLD_NEXT, name);
        __atomic_store_n(cache, p, __ATOMIC_RELEASE);
    }
    return p;
}

/* Declares next_<name>, the definition of <name> in the libraries after
 * ours, with the exact type of the declaration in the system's header. */
#define NEXT(name)                                                             \
    static void *next_##name##_cache;                                          \
    __typeof__(&name) next_##name                                              \
        = (__typeof__(&name))fakexen_next(&next_##name##_cache, #name)

static bool
fakexen_is_daemon(void)
{
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);

    if (v < 0) {
        const char *role = getenv(FAKEXEN_ENV_ROLE);

        if (role)
            v = strcmp(role, "daemon") == 0;
        else
            v = strcmp(program_invocation_short_name, "xenstored") == 0
                || strcmp(program_invocation_short_name, "oxenstored") == 0;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* $D, or NULL when none is configured. */
static const char *
fakexen_dir(void)
{
    const char *d = getenv(FAKEXEN_ENV_DIR);

    if ((!d || !*d) && fakexen_is_daemon())
        d = getenv("XENSTORED_RUNDIR");
    return d && *d ? d : NULL;
}

static int
fakexen_path(char *buf, size_t size, const char *name)
{
    const char *d = fakexen_dir();
    int n;

    if (!d) {
        errno = ENOENT;
        return -1;
    }
    n = snprintf(buf, size, "%s/%s", d, name);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static bool
fakexen_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------------ */
/* oxenstored's run directory and file limit                                */

/* oxenstored's run directory, compiled in with no option to move it: its
 * socket (Define.xs_daemon_socket, "/var/run/xenstored/socket") and the
 * database it dumps on SIGTERM, SIGUSR1 and log rotation (db, db.debug).
 * Inside the daemon, every path in it is taken to mean the same name in $D;
 * outside the daemon nothing is redirected. */
#define FAKEXEN_OXENSTORED_RUNDIR "/var/run/xenstored"

/* Points *path at buf holding it moved into $D, if it is in that
 * directory; -1 (errno set) if the moved path does not fit. */
static int
fakexen_redirect(const char **path, char *buf, size_t size)
{
    const size_t n = strlen(FAKEXEN_OXENSTORED_RUNDIR);
    const char *p = *path;
    const char *d;
    int len;

    if (!p || strncmp(p, FAKEXEN_OXENSTORED_RUNDIR, n) != 0
        || (p[n] != '\0' && p[n] != '/') || !fakexen_is_daemon())
        return 0;
    d = fakexen_dir();
    if (!d)
        return 0;
    len = snprintf(buf, size, "%s%s", d, p + n);
    if (len < 0 || (size_t)len >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    DEBUG("%s -> %s", p, buf);
    *path = buf;
    return 0;
}

/* The same for a socket address: addr, or buf holding it moved into $D
 * (*len updated); NULL (errno set) if it does not fit. */
static const struct sockaddr *
fakexen_redirect_addr(const struct sockaddr *addr, socklen_t *len,
                      struct sockaddr_un *buf)
{
    const size_t off = offsetof(struct sockaddr_un, sun_path);
    const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
    char path[sizeof un->sun_path + 1];
    char moved[PATH_MAX];
    const char *to;
    size_t plen;

    if (!addr || *len <= off || addr->sa_family != AF_UNIX
        || un->sun_path[0] == '\0') /* abstract */
        return addr;
    plen = *len - off;
    if (plen > sizeof un->sun_path)
        plen = sizeof un->sun_path;
    memcpy(path, un->sun_path, plen);
    path[plen] = '\0';
    to = path;
    if (fakexen_redirect(&to, moved, sizeof moved) < 0)
        return NULL;
    if (to == path)
        return addr;
    if (strlen(to) >= sizeof buf->sun_path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    memset(buf, 0, sizeof *buf);
    buf->sun_family = AF_UNIX;
    strcpy(buf->sun_path, to);
    *len = (socklen_t)(off + strlen(to) + 1);
    return (const struct sockaddr *)buf;
}

int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    NEXT(bind);
    struct sockaddr_un buf;

    addr = fakexen_redirect_addr(addr, &len, &buf);
    if (!addr)
        return -1;
    if (!next_bind) {
        errno = ENOSYS;
        return -1;
    }
    return next_bind(fd, addr, len);
}

int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    NEXT(connect);
    struct sockaddr_un buf;

    addr = fakexen_redirect_addr(addr, &len, &buf);
    if (!addr)
        return -1;
    if (!next_connect) {
        errno = ENOSYS;
        return -1;
    }
    return next_connect(fd, addr, len);
}

/* Declares a stand-in for a libc call whose first argument is a path. */
#define FAKEXEN_REDIRECT_PATH_CALL(ret, name, params, args)                    \
    ret name params                                                            \
    {                                                                          \
        NEXT(name);                                                            \
        char buf[PATH_MAX];                                                    \
                                                                               \
        if (fakexen_redirect(&path, buf, sizeof buf) < 0)                      \
            return -1;                                                         \
        if (!next_##name) {                                                    \
            errno = ENOSYS;                                                    \
            return -1;                                                         \
        }                                                                      \
        return next_##name args;                                               \
    }

FAKEXEN_REDIRECT_PATH_CALL(int, unlink, (const char *path), (path))
FAKEXEN_REDIRECT_PATH_CALL(int, mkdir, (const char *path, mode_t mode),
                           (path, mode))
FAKEXEN_REDIRECT_PATH_CALL(int, rmdir, (const char *path), (path))
FAKEXEN_REDIRECT_PATH_CALL(int, chmod, (const char *path, mode_t mode),
                           (path, mode))

int
rename(const char *from, const char *to)
{
    NEXT(rename);
    char buf_from[PATH_MAX], buf_to[PATH_MAX];

    if (fakexen_redirect(&from, buf_from, sizeof buf_from) < 0
        || fakexen_redirect(&to, buf_to, sizeof buf_to) < 0)
        return -1;
    if (!next_rename) {
        errno = ENOSYS;
        return -1;
    }
    return next_rename(from, to);
}

/* oxenstored raises RLIMIT_NOFILE to the kernel's nr_open while its modules
 * initialise, before it parses argv; without CAP_SYS_RESOURCE (a container)
 * that fails with EPERM and the daemon dies.  Inside the daemon a request
 * the kernel refuses is clamped to the hard limit and tried again. */
int
setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
    NEXT(setrlimit);
    struct rlimit now, clamped;
    int rc;

    if (!next_setrlimit) {
        errno = ENOSYS;
        return -1;
    }
    rc = next_setrlimit(resource, rlim);
    if (rc == 0 || errno != EPERM || resource != RLIMIT_NOFILE
        || !fakexen_is_daemon() || getrlimit(RLIMIT_NOFILE, &now) < 0) {
        return rc;
    }
    clamped.rlim_max
        = rlim->rlim_max < now.rlim_max ? rlim->rlim_max : now.rlim_max;
    clamped.rlim_cur
        = rlim->rlim_cur < clamped.rlim_max ? rlim->rlim_cur : clamped.rlim_max;
    DEBUG("setrlimit (RLIMIT_NOFILE, %llu) refused; clamped to %llu",
          (unsigned long long)rlim->rlim_cur,
          (unsigned long long)clamped.rlim_cur);
    return next_setrlimit(resource, &clamped);
}

/* ------------------------------------------------------------------------ */
/* The xenbus device, in a test process                                     */

/* libxenstore's other transport: the xenbus device of a domain whose
 * xenstored is elsewhere (a guest, or dom0 with a xenstore stub domain).
 * xs_open() stats the socket (XENSTORED_PATH, else
 * /var/run/xenstored/socket), then, if that is not there, takes
 * XENSTORED_PATH or, when unset, /dev/xen/xenbus if access() finds it, else
 * /proc/xen/xenbus; a path that stat() reports as anything but a socket is
 * open()ed and spoken to with the same wire protocol.
 *
 * In a test process with a run directory ($XLEV_FAKEXEN_DIR, which the
 * fixture sets), both device paths exist as character devices, and opening
 * one gives a unix socket connected to the private daemon ($D/socket): so
 * libxenstore's device code runs against the real daemon.  The daemon sees
 * one more socket client (domain 0), not a guest. */
#define FAKEXEN_XENBUS_DEV "/dev/xen/xenbus"
#define FAKEXEN_XENBUS_PROC "/proc/xen/xenbus"
#define FAKEXEN_SOCKET "socket"

/* The xenbus device opens answered in this process so far.  Exported so
 * that a test can tell that libxenstore took the device path
 * (dlsym (RTLD_DEFAULT, "xlev_fakexen_xenbus_opens")); any thread. */
unsigned long xlev_fakexen_xenbus_opens(void);

static unsigned long xenbus_opens;

unsigned long
xlev_fakexen_xenbus_opens(void)
{
    return __atomic_load_n(&xenbus_opens, __ATOMIC_RELAXED);
}

/* path is a xenbus device this process has a daemon behind. */
static bool
fakexen_is_xenbus(const char *path)
{
    return path
           && (strcmp(path, FAKEXEN_XENBUS_DEV) == 0
               || strcmp(path, FAKEXEN_XENBUS_PROC) == 0)
           && !fakexen_is_daemon() && fakexen_dir();
}

/* open() of the device: a socket connected to $D/socket, with the open
 * flags that apply (O_CLOEXEC, O_NONBLOCK). */
static int
xenbus_open(int flags)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char path[PATH_MAX];
    int fd;

    if (fakexen_path(path, sizeof path, FAKEXEN_SOCKET) < 0)
        return -1;
    if (strlen(path) >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0),
                0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0
        || ((flags & O_NONBLOCK)
            && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)) {
        int saved = errno;

        fakexen_log("xenbus: cannot connect to %s: %s", path, strerror(saved));
        close(fd);
        errno = saved;
        return -1;
    }
    __atomic_add_fetch(&xenbus_opens, 1, __ATOMIC_RELAXED);
    DEBUG("open %s -> socket %d to %s", FAKEXEN_XENBUS_DEV, fd, path);
    return fd;
}

/* What stat() says of the device: a character device, read-write for its
 * owner (the real one is a misc device; the numbers do not matter). */
#define FAKEXEN_XENBUS_STAT(st)                                                \
    do {                                                                       \
        memset((st), 0, sizeof *(st));                                         \
        (st)->st_mode = S_IFCHR | S_IRUSR | S_IWUSR;                           \
        (st)->st_nlink = 1;                                                    \
        (st)->st_uid = getuid();                                               \
        (st)->st_gid = getgid();                                               \
    } while (0)

/* Declares a stand-in for a libc stat call: the xenbus device in a test
 * process, oxenstored's run directory in the daemon. */
#define FAKEXEN_STAT_CALL(name, type)                                          \
    int name(const char *path, type *st)                                       \
    {                                                                          \
        NEXT(name);                                                            \
        char buf[PATH_MAX];                                                    \
                                                                               \
        if (fakexen_is_xenbus(path)) {                                         \
            FAKEXEN_XENBUS_STAT(st);                                           \
            return 0;                                                          \
        }                                                                      \
        if (fakexen_redirect(&path, buf, sizeof buf) < 0)                      \
            return -1;                                                         \
        if (!next_##name) {                                                    \
            errno = ENOSYS;                                                    \
            return -1;                                                         \
        }                                                                      \
        return next_##name(path, st);                                          \
    }

FAKEXEN_STAT_CALL(stat, struct stat)
FAKEXEN_STAT_CALL(stat64, struct stat64)
FAKEXEN_STAT_CALL(lstat, struct stat)
FAKEXEN_STAT_CALL(lstat64, struct stat64)

int
access(const char *path, int mode)
{
    NEXT(access);
    char buf[PATH_MAX];

    if (fakexen_is_xenbus(path))
        return 0;
    if (fakexen_redirect(&path, buf, sizeof buf) < 0)
        return -1;
    if (!next_access) {
        errno = ENOSYS;
        return -1;
    }
    return next_access(path, mode);
}

/* ------------------------------------------------------------------------ */
/* /proc/xen/xsd_port and /proc/xen/xsd_kva                                 */

static int
fakexen_memfd(const char *name, const void *data, size_t len, size_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0)
        return -1;
    if ((len && write(fd, data, len) != (ssize_t)len)
        || (size > len && ftruncate(fd, size) < 0)
        || lseek(fd, 0, SEEK_SET) < 0) {
        int saved = errno;
        close(fd);
        errno = saved ? saved : EIO;
        return -1;
    }
    return fd;
}

/* Returns -2 when path is not one of ours. */
static int
fakexen_proc_xen(const char *path)
{
    if (!path)
        return -2;
    if (strcmp(path, "/proc/xen/xsd_port") == 0) {
        char port[16];
        int n = snprintf(port, sizeof port, "%d", FAKEXEN_XSD_PORT);
        return fakexen_memfd("xsd_port", port, (size_t)n, 0);
    }
    if (strcmp(path, "/proc/xen/xsd_kva") == 0)
        return fakexen_memfd("xsd_kva", NULL, 0, FAKEXEN_PAGE_SIZE);
    return -2;
}

static mode_t
fakexen_open_mode(int flags, va_list ap)
{
    if (flags & (O_CREAT | O_TMPFILE))
        return (mode_t)va_arg(ap, int);
    return 0;
}

/* open() and open64(): the two /proc/xen files and (in a test process) the
 * xenbus device are ours, paths in oxenstored's run directory are
 * redirected, the rest goes to the real function (next). */
static int
fakexen_open_common(int (*next)(const char *, int, ...), const char *path,
                    int flags, va_list ap)
{
    char buf[PATH_MAX];
    int fd;

    if (fakexen_is_xenbus(path))
        return xenbus_open(flags);
    fd = fakexen_proc_xen(path);
    if (fd != -2)
        return fd;
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    if (fakexen_redirect(&path, buf, sizeof buf) < 0)
        return -1;
    return next(path, flags, fakexen_open_mode(flags, ap));
}

int
open(const char *path, int flags, ...)
{
    NEXT(open);
    va_list ap;
    int fd;

    va_start(ap, flags);
    fd = fakexen_open_common(next_open, path, flags, ap);
    va_end(ap);
    return fd;
}

int
open64(const char *path, int flags, ...)
{
    NEXT(open64);
    va_list ap;
    int fd;

    va_start(ap, flags);
    fd = fakexen_open_common(next_open64, path, flags, ap);
    va_end(ap);
    return fd;
}

/* ------------------------------------------------------------------------ */
/* The domain table                                                         */

typedef struct {
    uint32_t domid;
    uint32_t flags; /* XEN_DOMINF_*, shutdown reason included */
    bool gone;
} FakexenDomain;

typedef struct {
    unsigned long done; /* control lines acted on */
    size_t n;
    FakexenDomain dom[FAKEXEN_MAX_DOMAINS];
} FakexenTable;

/* The daemon's own table (daemon role only). */
static FakexenTable daemon_table;

#define FAKEXEN_FLAGS_RUNNING (XEN_DOMINF_running)

static FakexenDomain *
table_find(FakexenTable *t, uint32_t domid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->dom[i].domid == domid)
            return &t->dom[i];
    return NULL;
}

static FakexenDomain *
table_lookup_or_add(FakexenTable *t, uint32_t domid)
{
    FakexenDomain *d = table_find(t, domid);

    if (d)
        return d;
    if (t->n >= FAKEXEN_MAX_DOMAINS)
        return NULL;
    d = &t->dom[t->n++];
    d->domid = domid;
    d->flags = FAKEXEN_FLAGS_RUNNING;
    d->gone = false;
    return d;
}

/* Loads $D/domains into t; a missing file (or no $D) is an empty table. */
static void
table_load(FakexenTable *t)
{
    char path[PATH_MAX];
    char line[FAKEXEN_LINE_MAX];
    FILE *f;

    t->done = 0;
    t->n = 0;
    if (fakexen_path(path, sizeof path, FAKEXEN_TABLE_FILE) < 0)
        return;
    f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long done, domid, flags, gone;

        if (sscanf(line, "done %lu", &done) == 1) {
            t->done = done;
        } else if (sscanf(line, "%lu %lx %lu", &domid, &flags, &gone) == 3
                   && domid < DOMID_FIRST_RESERVED
                   && t->n < FAKEXEN_MAX_DOMAINS) {
            FakexenDomain *d = &t->dom[t->n++];
            d->domid = (uint32_t)domid;
            d->flags = (uint32_t)flags;
            d->gone = gone != 0;
        }
    }
    fclose(f);
}

/* Writes t to $D/domains: a temporary file renamed over the old one, so that
 * a reader sees the old table or the new one, never half of one. */
static int
table_save(const FakexenTable *t)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    FILE *f;
    int rc = -1;

    if (fakexen_path(path, sizeof path, FAKEXEN_TABLE_FILE) < 0
        || fakexen_path(tmp, sizeof tmp, FAKEXEN_TABLE_FILE ".tmp") < 0)
        return -1;
    f = fopen(tmp, "we");
    if (!f) {
        fakexen_log("cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "done %lu\n", t->done);
    fprintf(f, "# domid flags(XEN_DOMINF_*, hex) gone\n");
    for (size_t i = 0; i < t->n; i++)
        fprintf(f, "%u %x %d\n", t->dom[i].domid, t->dom[i].flags,
                t->dom[i].gone ? 1 : 0);
    if (fflush(f) != 0 || ferror(f)) {
        fclose(f);
        unlink(tmp);
        return -1;
    }
    if (fclose(f) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        fakexen_log("cannot rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* The state of domid as the hypervisor would report it: false if it does
 * not exist, else its XEN_DOMINF_* flags. */
static bool
table_domain_flags(FakexenTable *t, uint32_t domid, uint32_t *flags)
{
    FakexenDomain *d;

    if (domid >= DOMID_FIRST_RESERVED)
        return false;
    if (domid == 0) {
        *flags = FAKEXEN_FLAGS_RUNNING;
        return true;
    }
    d = table_find(t, domid);
    if (!d) {
        *flags = FAKEXEN_FLAGS_RUNNING;
        return true;
    }
    if (d->gone)
        return false;
    *flags = d->flags;
    return true;
}

static void
fill_domaininfo(xc_domaininfo_t *info, uint32_t domid, uint32_t flags)
{
    memset(info, 0, sizeof *info);
    info->domain = (domid_t)domid;
    info->flags = flags;
    info->tot_pages = 256;
    info->max_pages = 256;
    info->nr_online_vcpus = 1;
    info->max_vcpu_id = 0;
}

/* ------------------------------------------------------------------------ */
/* libxenctrl                                                               */

struct xc_interface_core {
    int magic;
};

#define FAKEXEN_XC_MAGIC 0x78656e63 /* "xenc" */

xc_interface *
xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
                  unsigned open_flags)
{
    xc_interface *xch = calloc(1, sizeof *xch);

    if (!xch)
        return NULL;
    xch->magic = FAKEXEN_XC_MAGIC;
    DEBUG("xc_interface_open -> %p", (void *)xch);
    return xch;
}

int
xc_interface_close(xc_interface *xch)
{
    if (!xch)
        return 0;
    if (xch->magic != FAKEXEN_XC_MAGIC) {
        errno = EINVAL;
        return -1;
    }
    xch->magic = 0;
    free(xch);
    return 0;
}

/* The table to answer from: the daemon's own, or a fresh copy of $D/domains. */
static FakexenTable *
table_for_query(FakexenTable **to_free)
{
    FakexenTable *t;

    *to_free = NULL;
    if (fakexen_is_daemon())
        return &daemon_table;
    t = malloc(sizeof *t);
    if (!t)
        return NULL;
    table_load(t);
    *to_free = t;
    return t;
}

/* Fills up to max entries for the existing domains from first upward, as
 * XEN_SYSCTL_getdomaininfolist does. */
static int
query_domains(uint32_t first, unsigned int max, xc_domaininfo_t *info)
{
    FakexenTable *to_free, *t;
    unsigned int n = 0;

    if (max && !info) {
        errno = EFAULT;
        return -1;
    }
    t = table_for_query(&to_free);
    if (!t) {
        errno = ENOMEM;
        return -1;
    }
    for (uint32_t domid = first; domid < DOMID_FIRST_RESERVED && n < max;
         domid++) {
        uint32_t flags;

        if (table_domain_flags(t, domid, &flags))
            fill_domaininfo(&info[n++], domid, flags);
    }
    free(to_free);
    return (int)n;
}

int
xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
                      unsigned int max_domains, xc_domaininfo_t *info)
{
    int n;

    __atomic_add_fetch(&domain_queries, 1, __ATOMIC_RELAXED);
    n = query_domains(first_domain, max_domains, info);

    DEBUG("xc_domain_getinfolist (%u, %u) -> %d", first_domain, max_domains, n);
    return n;
}

int
xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
                  unsigned int max_doms, xc_dominfo_t *info)
{
    xc_domaininfo_t *raw;
    int n;

    __atomic_add_fetch(&domain_queries, 1, __ATOMIC_RELAXED);
    if (max_doms == 0)
        return 0;
    if (!info) {
        errno = EFAULT;
        return -1;
    }
    raw = calloc(max_doms, sizeof *raw);
    if (!raw) {
        errno = ENOMEM;
        return -1;
    }
    n = query_domains(first_domid, max_doms, raw);
    /* The same translation as libxenctrl's xc_domain_getinfo. */
    for (int i = 0; i < n; i++) {
        xc_dominfo_t *o = &info[i];
        uint32_t f = raw[i].flags;

        memset(o, 0, sizeof *o);
        o->domid = raw[i].domain;
        o->ssidref = raw[i].ssidref;
        o->dying = !!(f & XEN_DOMINF_dying);
        o->shutdown = !!(f & XEN_DOMINF_shutdown);
        o->paused = !!(f & XEN_DOMINF_paused);
        o->blocked = !!(f & XEN_DOMINF_blocked);
        o->running = !!(f & XEN_DOMINF_running);
        o->hvm = !!(f & XEN_DOMINF_hvm_guest);
        o->debugged = !!(f & XEN_DOMINF_debugged);
        o->xenstore = !!(f & XEN_DOMINF_xs_domain);
        o->hap = !!(f & XEN_DOMINF_hap);
        o->shutdown_reason
            = (f >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
        if (o->shutdown && o->shutdown_reason == SHUTDOWN_crash) {
            o->shutdown = 0;
            o->crashed = 1;
        }
        o->nr_pages = raw[i].tot_pages;
        o->max_memkb = raw[i].max_pages * (FAKEXEN_PAGE_SIZE / 1024);
        o->nr_online_vcpus = raw[i].nr_online_vcpus;
        o->max_vcpu_id = raw[i].max_vcpu_id;
    }
    free(raw);
    DEBUG("xc_domain_getinfo (%u, %u) -> %d", first_domid, max_doms, n);
    return n;
}

/* ------------------------------------------------------------------------ */
/* The pid watch                                                            */

static pid_t watch_pid;
static char watch_dir[PATH_MAX];

/* True once pid has ended (gone, or a zombie nobody reaped yet). */
static bool
pid_ended(pid_t pid)
{
    char path[64], buf[512];
    ssize_t n;
    int fd;
    char *p;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ESRCH;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return true;
    buf[n] = '\0';
    /* "pid (comm) S ...": the state follows the last ')'. */
    p = strrchr(buf, ')');
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static void
remove_dir_contents(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static void *
pid_watch_thread(void *arg)
{
    int pidfd = (int)syscall(SYS_pidfd_open, watch_pid, 0);

    if (pidfd >= 0) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        while (poll(&p, 1, -1) < 0 && errno == EINTR)
            ;
        close(pidfd);
    } else {
        /* No pidfd_open (valgrind 3.19 does not know it): poll the pid. */
        while (!pid_ended(watch_pid))
            usleep(FAKEXEN_PID_POLL_MS * 1000);
    }
    fakexen_log("watched process %d ended: removing %s and exiting",
                (int)watch_pid, watch_dir);
    remove_dir_contents(watch_dir);
    rmdir(watch_dir);
    _exit(0);
    return NULL;
}

static void
pid_watch_start_once(void)
{
    const char *v = getenv(FAKEXEN_ENV_WATCH_PID);
    const char *d = fakexen_dir();
    unsigned long pid;
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all, old;
    int rc;

    if (!v || !d)
        return;
    if (!fakexen_parse_uint(v, INT_MAX, &pid) || pid == 0) {
        fakexen_log("ignoring %s=%s", FAKEXEN_ENV_WATCH_PID, v);
        return;
    }
    if (strlen(d) >= sizeof watch_dir) {
        fakexen_log("run directory name too long");
        return;
    }
    strcpy(watch_dir, d);
    watch_pid = (pid_t)pid;

    /* The daemon's signals stay with the daemon's own thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&thread, &attr, pid_watch_thread, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        fakexen_log("cannot start the pid watch: %s", strerror(rc));
    else
        DEBUG("watching pid %d", (int)watch_pid);
    /* A process that ended before we looked makes pidfd_open fail (ESRCH):
     * the thread then polls, sees it ended, and cleans up at once. */
}

static void
pid_watch_start(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, pid_watch_start_once);
}

/* ------------------------------------------------------------------------ */
/* libxenevtchn                                                             */

typedef struct {
    bool used;
    uint32_t domid;
    evtchn_port_t remote;
    int evt_fd; /* $D/evt-<domid>, opened on first notify; -1 if not */
} FakexenPort;

struct xenevtchn_handle {
    int ctl_fd;
    size_t len;                 /* bytes held in buf */
    char buf[FAKEXEN_LINE_MAX]; /* a partial control line */
    bool discarding;            /* dropping an overlong line */
    FakexenPort ports[FAKEXEN_MAX_PORTS];
};

static int
evtchn_open_ctl(void)
{
    char path[PATH_MAX];
    int fd;

    if (fakexen_path(path, sizeof path, FAKEXEN_CTL_FIFO) < 0) {
        fakexen_log("no run directory (%s is unset)", FAKEXEN_ENV_DIR);
        return -1;
    }
    if (mkfifo(path, 0600) < 0 && errno != EEXIST) {
        fakexen_log("mkfifo %s: %s", path, strerror(errno));
        return -1;
    }
    /* Read-write: opening never blocks, and no end-of-file when a writer
     * goes away. */
    fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        fakexen_log("open %s: %s", path, strerror(errno));
    return fd;
}

static xenevtchn_handle *
evtchn_new(void)
{
    xenevtchn_handle *xce = calloc(1, sizeof *xce);

    if (!xce) {
        errno = ENOMEM;
        return NULL;
    }
    for (size_t i = 0; i < FAKEXEN_MAX_PORTS; i++)
        xce->ports[i].evt_fd = -1;
    xce->ctl_fd = evtchn_open_ctl();
    if (xce->ctl_fd < 0) {
        free(xce);
        errno = ENODEV;
        return NULL;
    }
    /* A table with its count, so that a control helper can read it at once. */
    if (daemon_table.n == 0 && daemon_table.done == 0)
        table_save(&daemon_table);
    pid_watch_start();
    DEBUG("xenevtchn_open -> fd %d", xce->ctl_fd);
    return xce;
}

xenevtchn_handle *
xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_open);
        if (!next_xenevtchn_open) {
            errno = ENOSYS;
            return NULL;
        }
        return next_xenevtchn_open(logger, flags);
    }
    return evtchn_new();
}

xenevtchn_handle *
xenevtchn_fdopen(struct xentoollog_logger *logger, int fd, unsigned open_flags)
{
    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_fdopen);
        if (!next_xenevtchn_fdopen) {
            errno = ENOSYS;
            return NULL;
        }
        return next_xenevtchn_fdopen(logger, fd, open_flags);
    }
    /* A live-updated daemon hands over its old descriptor; ours is a FIFO
     * we can simply reopen. */
    if (fd >= 0)
        close(fd);
    return evtchn_new();
}

static void
port_release(FakexenPort *p)
{
    if (p->evt_fd >= 0)
        close(p->evt_fd);
    memset(p, 0, sizeof *p);
    p->evt_fd = -1;
}

int
xenevtchn_close(xenevtchn_handle *xce)
{
    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_close);
        if (!next_xenevtchn_close) {
            errno = ENOSYS;
            return -1;
        }
        return next_xenevtchn_close(xce);
    }
    if (!xce)
        return 0;
    for (size_t i = 0; i < FAKEXEN_MAX_PORTS; i++)
        if (xce->ports[i].used)
            port_release(&xce->ports[i]);
    if (xce->ctl_fd >= 0)
        close(xce->ctl_fd);
    free(xce);
    return 0;
}

int
xenevtchn_fd(xenevtchn_handle *xce)
{
    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_fd);
        if (!next_xenevtchn_fd) {
            errno = ENOSYS;
            return -1;
        }
        return next_xenevtchn_fd(xce);
    }
    return xce->ctl_fd;
}

static FakexenPort *
port_get(xenevtchn_handle *xce, evtchn_port_t port)
{
    if (port < FAKEXEN_FIRST_PORT || port >= FAKEXEN_MAX_PORTS
        || !xce->ports[port].used)
        return NULL;
    return &xce->ports[port];
}

int
xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
    FakexenPort *p;
    char name[32], path[PATH_MAX];
    static const char kick = '!';

    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_notify);
        if (!next_xenevtchn_notify) {
            errno = ENOSYS;
            return -1;
        }
        return next_xenevtchn_notify(xce, port);
    }
    p = port_get(xce, port);
    if (!p) {
        errno = EINVAL;
        return -1;
    }
    if (p->evt_fd < 0) {
        snprintf(name, sizeof name, "evt-%u", p->domid);
        if (fakexen_path(path, sizeof path, name) < 0)
            return 0;
        if (mkfifo(path, 0600) < 0 && errno != EEXIST)
            return 0;
        p->evt_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (p->evt_fd < 0)
            return 0;
    }
    /* A full FIFO drops the byte: the guest is already due to wake. */
    if (write(p->evt_fd, &kick, 1) < 0 && errno != EAGAIN)
        DEBUG("notify port %u: %s", port, strerror(errno));
    return 0;
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
                           evtchn_port_t remote_port)
{
    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_bind_interdomain);
        if (!next_xenevtchn_bind_interdomain) {
            errno = ENOSYS;
            return -1;
        }
        return next_xenevtchn_bind_interdomain(xce, domid, remote_port);
    }
    for (evtchn_port_t port = FAKEXEN_FIRST_PORT; port < FAKEXEN_MAX_PORTS;
         port++) {
        FakexenPort *p = &xce->ports[port];

        if (!p->used) {
            p->used = true;
            p->domid = domid;
            p->remote = remote_port;
            p->evt_fd = -1;
            DEBUG("bind_interdomain (%u, %u) -> %u", domid, remote_port, port);
            return (xenevtchn_port_or_error_t)port;
        }
    }
    errno = ENOSPC;
    return -1;
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_bind_virq);
        if (!next_xenevtchn_bind_virq) {
            errno = ENOSYS;
            return -1;
        }
        return next_xenevtchn_bind_virq(xce, virq);
    }
    if (virq != VIRQ_DOM_EXC) {
        errno = EINVAL;
        return -1;
    }
    return FAKEXEN_VIRQ_PORT;
}

int
xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
    FakexenPort *p;

    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_unbind);
        if (!next_xenevtchn_unbind) {
            errno = ENOSYS;
            return -1;
        }
        return next_xenevtchn_unbind(xce, port);
    }
    if (port == FAKEXEN_VIRQ_PORT)
        return 0;
    p = port_get(xce, port);
    if (!p) {
        errno = EINVAL;
        return -1;
    }
    DEBUG("unbind %u (domain %u)", port, p->domid);
    port_release(p);
    return 0;
}

int
xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_unmask);
        if (!next_xenevtchn_unmask) {
            errno = ENOSYS;
            return -1;
        }
        return next_xenevtchn_unmask(xce, port);
    }
    return 0;
}

/* What one batch of control lines asks of pending(). */
typedef struct {
    bool virq;          /* a domain changed state */
    evtchn_port_t kick; /* a guest's port to report, or 0 */
    bool table_changed;
} FakexenBatch;

static evtchn_port_t
port_of_domain(xenevtchn_handle *xce, uint32_t domid)
{
    for (evtchn_port_t port = FAKEXEN_FIRST_PORT; port < FAKEXEN_MAX_PORTS;
         port++)
        if (xce->ports[port].used && xce->ports[port].domid == domid)
            return port;
    return 0;
}

/* Acts on one complete control line (without its newline). */
static void
control_line(xenevtchn_handle *xce, char *line, FakexenBatch *batch)
{
    char *words[3] = { NULL, NULL, NULL };
    char *save = NULL;
    size_t n = 0;
    unsigned long domid, reason = 0;
    FakexenDomain *d;

    for (char *w = strtok_r(line, " \t\r", &save); w;
         w = strtok_r(NULL, " \t\r", &save)) {
        if (n == 3) {
            fakexen_log("control line has too many words; ignored");
            return;
        }
        words[n++] = w;
    }
    if (n == 0)
        return;

    if (strcmp(words[0], "evtchn") == 0) {
        evtchn_port_t port;

        if (n != 2
            || !fakexen_parse_uint(words[1], DOMID_FIRST_RESERVED - 1,
                                   &domid)) {
            fakexen_log("bad control line \"evtchn %s\"",
                        words[1] ? words[1] : "");
            return;
        }
        port = port_of_domain(xce, (uint32_t)domid);
        if (port && !batch->kick)
            batch->kick = port;
        else if (!port)
            batch->virq = true; /* wakes the daemon all the same */
        return;
    }

    if (n < 2
        || !fakexen_parse_uint(words[0], DOMID_FIRST_RESERVED - 1, &domid)) {
        fakexen_log("bad control line (domid) \"%s\"", words[0]);
        return;
    }
    if (domid == 0) {
        DEBUG("domain 0 always runs; line ignored");
        return;
    }
    if (n == 3 && strcmp(words[1], "shutdown") != 0) {
        fakexen_log("bad control line: \"%s\" takes no argument", words[1]);
        return;
    }
    if (n == 3
        && !fakexen_parse_uint(words[2], XEN_DOMINF_shutdownmask, &reason)) {
        fakexen_log("bad shutdown reason \"%s\"", words[2]);
        return;
    }

    d = table_lookup_or_add(&daemon_table, (uint32_t)domid);
    if (!d) {
        fakexen_log("domain table full; line ignored");
        return;
    }
    if (strcmp(words[1], "running") == 0) {
        d->flags = FAKEXEN_FLAGS_RUNNING;
        d->gone = false;
    } else if (strcmp(words[1], "shutdown") == 0
               || strcmp(words[1], "crashed") == 0) {
        if (words[1][0] == 'c')
            reason = SHUTDOWN_crash;
        d->flags = XEN_DOMINF_shutdown
                   | ((uint32_t)reason << XEN_DOMINF_shutdownshift);
        d->gone = false;
    } else if (strcmp(words[1], "dying") == 0) {
        /* A dying domain keeps whatever shutdown state it had. */
        d->flags &= ~(uint32_t)(XEN_DOMINF_running | XEN_DOMINF_blocked);
        d->flags |= XEN_DOMINF_dying;
        d->gone = false;
    } else if (strcmp(words[1], "gone") == 0) {
        d->gone = true;
    } else {
        fakexen_log("bad control line: unknown state \"%s\"", words[1]);
        return;
    }
    DEBUG("domain %lu -> %s flags %x gone %d", domid, words[1], d->flags,
          d->gone);
    batch->virq = true;
}

/* Drains the control FIFO and acts on every complete line in it. */
static void
control_drain(xenevtchn_handle *xce, FakexenBatch *batch)
{
    char chunk[4096];

    for (;;) {
        ssize_t got = read(xce->ctl_fd, chunk, sizeof chunk);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        for (ssize_t i = 0; i < got; i++) {
            char c = chunk[i];

            if (c != '\n') {
                if (xce->discarding)
                    continue;
                if (xce->len + 1 >= sizeof xce->buf) {
                    fakexen_log("control line too long; dropped");
                    xce->discarding = true;
                    xce->len = 0;
                    continue;
                }
                xce->buf[xce->len++] = c;
                continue;
            }
            if (!xce->discarding) {
                xce->buf[xce->len] = '\0';
                control_line(xce, xce->buf, batch);
            }
            xce->discarding = false;
            xce->len = 0;
            daemon_table.done++;
            batch->table_changed = true;
        }
    }
}

xenevtchn_port_or_error_t
xenevtchn_pending(xenevtchn_handle *xce)
{
    FakexenBatch batch = { 0 };

    if (!fakexen_is_daemon()) {
        NEXT(xenevtchn_pending);
        if (!next_xenevtchn_pending) {
            errno = ENOSYS;
            return -1;
        }
        return next_xenevtchn_pending(xce);
    }
    control_drain(xce, &batch);
    if (batch.table_changed)
        table_save(&daemon_table);
    /* xenstored only compares the port with its VIRQ port and reads every
     * ring on each loop: a kick only has to wake it, and a spurious VIRQ (a
     * rescan of the domains) is harmless.  Never fail: xenstored exits when
     * pending() does. */
    if (batch.virq || !batch.kick)
        return FAKEXEN_VIRQ_PORT;
    return (xenevtchn_port_or_error_t)batch.kick;
}

/* ------------------------------------------------------------------------ */
/* Guest ring pages                                                         */

/* Maps $D/ring-<domid> (created zero-filled if missing): the guest's ring
 * page as the C daemon maps it through the grant table and oxenstored
 * through libxenctrl's foreign mapping.  Unmapped with munmap. */
static void *
ring_map(uint32_t domid, size_t size, int prot)
{
    char name[32], path[PATH_MAX];
    struct stat st;
    void *addr;
    int fd;

    snprintf(name, sizeof name, "ring-%u", domid);
    if (fakexen_path(path, sizeof path, name) < 0)
        return NULL;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fakexen_log("open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0
        || (st.st_size < (off_t)size && ftruncate(fd, (off_t)size) < 0)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    addr = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
    close(fd);
    return addr == MAP_FAILED ? NULL : addr;
}

/* oxenstored maps an introduced domain's ring page with this (the frame
 * number is ignored, as the grant reference is for the C daemon).  Any
 * process: xc_interface_open always gives our own handle. */
void *
xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot,
                     unsigned long mfn)
{
    void *addr;

    if (size <= 0 || size % FAKEXEN_PAGE_SIZE != 0) {
        errno = EINVAL;
        return NULL;
    }
    addr = ring_map(dom, (size_t)size, prot);
    DEBUG("xc_map_foreign_range (%u, %d, %#lx) -> %p", dom, size, mfn, addr);
    return addr;
}

/* ------------------------------------------------------------------------ */
/* libxengnttab                                                             */

struct xengntdev_handle {
    int magic;
};

#define FAKEXEN_GNT_MAGIC 0x676e7474 /* "gntt" */

xengnttab_handle *
xengnttab_open(struct xentoollog_logger *logger, unsigned open_flags)
{
    xengnttab_handle *xgt;

    if (!fakexen_is_daemon()) {
        NEXT(xengnttab_open);
        if (!next_xengnttab_open) {
            errno = ENOSYS;
            return NULL;
        }
        return next_xengnttab_open(logger, open_flags);
    }
    xgt = calloc(1, sizeof *xgt);
    if (!xgt) {
        errno = ENOMEM;
        return NULL;
    }
    xgt->magic = FAKEXEN_GNT_MAGIC;
    return xgt;
}

int
xengnttab_close(xengnttab_handle *xgt)
{
    if (!fakexen_is_daemon()) {
        NEXT(xengnttab_close);
        if (!next_xengnttab_close) {
            errno = ENOSYS;
            return -1;
        }
        return next_xengnttab_close(xgt);
    }
    if (xgt)
        xgt->magic = 0;
    free(xgt);
    return 0;
}

int
xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
    if (!fakexen_is_daemon()) {
        NEXT(xengnttab_set_max_grants);
        if (!next_xengnttab_set_max_grants) {
            errno = ENOSYS;
            return -1;
        }
        return next_xengnttab_set_max_grants(xgt, nr_grants);
    }
    return 0;
}

void *
xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref,
                        int prot)
{
    void *addr;

    if (!fakexen_is_daemon()) {
        NEXT(xengnttab_map_grant_ref);
        if (!next_xengnttab_map_grant_ref) {
            errno = ENOSYS;
            return NULL;
        }
        return next_xengnttab_map_grant_ref(xgt, domid, ref, prot);
    }
    addr = ring_map(domid, FAKEXEN_PAGE_SIZE, prot);
    DEBUG("map_grant_ref (%u, %u) -> %p", domid, ref, addr);
    return addr;
}

int
xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
    if (!fakexen_is_daemon()) {
        NEXT(xengnttab_unmap);
        if (!next_xengnttab_unmap) {
            errno = ENOSYS;
            return -1;
        }
        return next_xengnttab_unmap(xgt, start_address, count);
    }
    if (!start_address || count == 0) {
        errno = EINVAL;
        return -1;
    }
    return munmap(start_address, (size_t)count * FAKEXEN_PAGE_SIZE);
}
