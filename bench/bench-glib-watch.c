/* bench-glib-watch.c: watch events through the GLib binding vs a raw
 * libxenstore loop, on one private xenstored, in one run
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Processes. The driver (this program run without --role) starts a private
 * xenstored (tests/xs-fixture.h) and, for each measurement, runs two copies
 * of itself:
 *
 *   --role=watcher  connects, watches PREFIX (plus --idle idle watches on
 *                   paths nobody writes), makes sure every initial event
 *                   has been consumed, prints "ready", then counts events
 *                   until it has seen all N keys (KEY(i) below) and prints
 *                   one JSON line about itself;
 *   --role=writer   started once the watcher is ready: writes those N keys
 *                   as fast as one libxenstore connection can (one xs_write
 *                   round trip after the other). Each value is the
 *                   CLOCK_MONOTONIC time in ns taken just before its write;
 *                   the same time also goes into a shared array (a memfd
 *                   both inherit), so a watcher that does not read values
 *                   can compute the latency too.
 *
 * Watchers (--kind):
 *   raw     xs_watch + poll(xs_fileno) + xs_check_watch until EAGAIN
 *   wire    no library: the wire protocol (xen/io/xs_wire.h) on its own
 *           socket in its own poll loop, one recv(2) per wakeup, no
 *           thread; the floor any poll-driven watcher can reach
 *   source  XlevContext with XLEV_INTEGRATION_SOURCE, XlevWatch::changed
 *   hooks   XlevContext with XLEV_INTEGRATION_HOOKS, XlevWatch::changed
 * With --read (the default) every watcher reads the value of each event's
 * path (xs_read / xlev_context_read): a round trip per event, alike for
 * all. The GLib watchers run g_main_context_iteration() on the default
 * main context; the raw one its own poll loop.
 *
 * What a watcher measures, between "ready" and its last event:
 *   - events/s: N / (time of the last event - the writer's first stamp);
 *   - CPU per event: getrusage(RUSAGE_SELF) user + system of the watcher
 *     process (all its threads, libxenstore's reader thread included) / N;
 *   - latency: the time the event reached the handler (raw: when
 *     xs_check_watch returned it; GLib: when ::changed ran), minus the
 *     writer's stamp for that key; p50 and p99 over the N keys;
 *   - wakeups: poll() returns (raw) or g_main_context_iteration() calls
 *     (GLib), so events per wakeup shows how much batching there was.
 *
 * --role=memory measures the heap cost of XlevWatch objects: mallinfo2()
 * in-use bytes before and after registering --idle watches (their initial
 * events consumed), nothing subtracted, divided by the number of watches.
 *
 * Experiments (driver, --experiment): `throughput` (raw, source, hooks,
 * with reads), `noread` (the same without reads), `latency` (with reads,
 * the writer paced: --latency-events keys at --rate writes/s), `paced`
 * (the same without reads: watch events only, one per wakeup), `idle`
 * (each kind with 0 and with --idle idle watches, no reads), `idle-paced`
 * (the same six configurations, the writer paced like `latency`, so that
 * every watcher gets one event per wakeup with or without idle watches and
 * the daemon's speed does not change the batching) and `memory`; `all`
 * runs them in that order, `idle-paced` excepted. Within an experiment the
 * configurations alternate, the order rotated each round, so drift hits
 * all of them alike. Every line printed
 * on stdout is one JSON object.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "xlev.h"
#include "xs-fixture.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#define EVENTS_DEFAULT 20000
#define LATENCY_EVENTS_DEFAULT 5000
#define LATENCY_RATE_DEFAULT 2000
#define ROUNDS_DEFAULT 3
#define IDLE_DEFAULT 10000
/* A watcher that sees nothing for this long gives up (and fails). */
#define STALL_MS 20000
#define KEY_MAX 64
#define IDLE_ROOT "/bench-idle"
/* Keys per directory. xenstored keeps a node's list of children in the
 * node itself and rewrites it for each child added, so N keys in one
 * directory would make the writes O(N) each and the run O(N^2): the
 * writer would measure xenstored's directory code, not watch delivery.
 * KEY(i) is PREFIX/d<i / KEYS_PER_DIR>/k<i>; the driver creates the
 * directories before the watcher starts. */
#define KEYS_PER_DIR 100

static gint64
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (gint64)ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

static gint64
cpu_ns(struct rusage *ru_out)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    if (ru_out != NULL)
        *ru_out = ru;
    return ((gint64)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
               G_GINT64_CONSTANT(1000000000) +
           ((gint64)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static G_NORETURN void
die(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "bench-glib-watch[%d]: ", (int)getpid());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Options, shared by every role. */
static char *opt_role = NULL;
static char *opt_kind = NULL;
static char *opt_prefix = NULL;
static char *opt_experiment = NULL;
static int opt_events = EVENTS_DEFAULT;
static int opt_rounds = ROUNDS_DEFAULT;
static int opt_idle = IDLE_DEFAULT;
static int opt_stamps_fd = -1;
static int opt_latency_events = LATENCY_EVENTS_DEFAULT;
static int opt_rate = LATENCY_RATE_DEFAULT;
static gboolean opt_no_read = FALSE;
static gboolean opt_paced = FALSE;

static GOptionEntry entries[] = {
    {"experiment", 'e', 0, G_OPTION_ARG_STRING, &opt_experiment,
     "throughput, noread, latency, paced, idle, idle-paced, memory or all (default)",
     "NAME"},
    {"events", 'n', 0, G_OPTION_ARG_INT, &opt_events,
     "keys written per measurement (default 20000)", "N"},
    {"rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds,
     "rounds of each configuration (default 3)", "R"},
    {"idle", 'i', 0, G_OPTION_ARG_INT, &opt_idle,
     "idle watches for the idle and memory experiments (default 10000)", "M"},
    {"latency-events", 0, 0, G_OPTION_ARG_INT, &opt_latency_events,
     "keys written per latency or idle-paced measurement (default 5000)",
     "N"},
    {"rate", 0, 0, G_OPTION_ARG_INT, &opt_rate,
     "writes/s in the latency and idle-paced experiments (default 2000)",
     "R"},
    {"paced", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opt_paced, NULL,
     NULL},
    {"no-read", 0, 0, G_OPTION_ARG_NONE, &opt_no_read,
     "watcher: do not read the value of each event", NULL},
    {"role", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_role, NULL,
     NULL},
    {"kind", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_kind, NULL,
     NULL},
    {"prefix", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_prefix, NULL,
     NULL},
    {"stamps-fd", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_stamps_fd,
     NULL, NULL},
    {NULL},
};

static gint64 *
map_stamps(int fd, int n)
{
    void *p = mmap(NULL, (size_t)n * sizeof(gint64), PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);

    if (p == MAP_FAILED)
        die("mmap stamps: %s", g_strerror(errno));
    return p;
}

/*======================================================================*/
/* Writer */

static int
run_writer(void)
{
    struct xs_handle *xsh = xs_open(0);
    gint64 *stamps = map_stamps(opt_stamps_fd, opt_events);
    gint64 t0;
    char key[KEY_MAX], value[32];

    if (xsh == NULL)
        die("writer: xs_open: %s", g_strerror(errno));
    t0 = now_ns();
    for (int i = 0; i < opt_events; i++) {
        gint64 ts;
        int len;

        if (opt_paced) {
            gint64 due = t0 + (gint64)i * G_GINT64_CONSTANT(1000000000) /
                                  opt_rate;
            struct timespec when = {
                .tv_sec = due / G_GINT64_CONSTANT(1000000000),
                .tv_nsec = due % G_GINT64_CONSTANT(1000000000),
            };

            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when,
                                   NULL) == EINTR)
                ;
        }
        ts = now_ns();
        stamps[i] = ts;
        snprintf(key, sizeof(key), "%s/d%d/k%d", opt_prefix,
                 i / KEYS_PER_DIR, i);
        len = snprintf(value, sizeof(value), "%" G_GINT64_FORMAT, ts);
        if (!xs_write(xsh, XBT_NULL, key, value, (unsigned int)len))
            die("writer: xs_write %s: %s", key, g_strerror(errno));
    }
    printf("{\"role\": \"writer\", \"writes\": %d, \"writes_per_s\": %.0f}\n",
           opt_events, opt_events / ((now_ns() - t0) / 1e9));
    xs_close(xsh);
    return 0;
}

/*======================================================================*/
/* Watcher: what every kind shares */

typedef struct {
    int n;
    gboolean read;
    const char *prefix;
    size_t prefix_len;
    gint64 *stamps;
    guint8 *seen;   /* per key */
    gint64 *lat_ns; /* per key, first event */
    int nseen;
    guint64 nevents;    /* events for the N keys, repeats included */
    guint64 nwakeups;
    gboolean ready;     /* the sentinel's event has come */
    gint64 t_last;
    gint64 cpu0;
    struct rusage ru0;
} Watcher;

static void
watcher_init(Watcher *w)
{
    memset(w, 0, sizeof(*w));
    w->n = opt_events;
    w->read = !opt_no_read;
    w->prefix = opt_prefix;
    w->prefix_len = strlen(opt_prefix);
    w->stamps = map_stamps(opt_stamps_fd, opt_events);
    w->seen = g_new0(guint8, w->n);
    w->lat_ns = g_new0(gint64, w->n);
}

/* The sentinel: written by the watcher itself after every registration.
 * Its event comes after every initial event (xenstored sends those while
 * handling each watch request, in order), so when it arrives nothing of
 * the set-up is left in any queue. */
static char *
sentinel_path(const Watcher *w)
{
    return g_strdup_printf("%s/ready", w->prefix);
}

/* Which key an event is about: its index, -1 for the sentinel, -2 for
 * anything else (the watched path itself). */
static int
event_key(const Watcher *w, const char *epath)
{
    const char *tail;
    char *end;
    long i;

    if (strncmp(epath, w->prefix, w->prefix_len) != 0 ||
        epath[w->prefix_len] != '/')
        return -2;
    tail = epath + w->prefix_len + 1;
    if (strcmp(tail, "ready") == 0)
        return -1;
    tail = strrchr(tail, '/');
    if (tail == NULL || tail[1] != 'k')
        return -2;
    errno = 0;
    i = strtol(tail + 2, &end, 10);
    if (errno != 0 || *end != '\0' || i < 0 || i >= w->n)
        return -2;
    return (int)i;
}

/* Called for each event, at the moment it reaches the handler (@now).
 * @value is the value read, or NULL without --read. */
static void
watcher_event(Watcher *w, int i, gint64 now, const char *value)
{
    gint64 stamp;

    w->nevents++;
    if (w->seen[i])
        return;
    if (value != NULL) {
        /* The value is the writer's stamp: check that we read it. */
        stamp = g_ascii_strtoll(value, NULL, 10);
        if (stamp != w->stamps[i])
            die("watcher: key %d holds %s, the writer's stamp was %" G_GINT64_FORMAT,
                i, value, w->stamps[i]);
    } else {
        stamp = w->stamps[i];
    }
    w->seen[i] = 1;
    w->lat_ns[i] = now - stamp;
    w->nseen++;
    w->t_last = now;
}

static void
watcher_ready(Watcher *w)
{
    printf("ready\n");
    fflush(stdout);
    /* Run under callgrind with --instr-atstart=no (see the driver's
     * XLEV_BENCH_WATCHER_WRAPPER), only the events are counted. */
    CALLGRIND_START_INSTRUMENTATION;
    w->cpu0 = cpu_ns(&w->ru0);
}

static int
cmp_gint64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return (x > y) - (x < y);
}

static void
watcher_report(Watcher *w, const char *kind)
{
    struct rusage ru;
    gint64 cpu = cpu_ns(&ru) - w->cpu0;

    CALLGRIND_STOP_INSTRUMENTATION;
    double secs = (w->t_last - w->stamps[0]) / 1e9;
    int n = w->n;

    qsort(w->lat_ns, n, sizeof(gint64), cmp_gint64);
    /* The pid names the callgrind output file (--callgrind-out-file=...%p)
     * when the watcher runs under valgrind: the process is the same. */
    printf("{\"role\": \"watcher\", \"pid\": %d, \"kind\": \"%s\", \"read\": %s, "
           "\"idle_watches\": %d, \"events\": %d, \"events_seen\": %" G_GUINT64_FORMAT
           ", \"wakeups\": %" G_GUINT64_FORMAT ", \"events_per_wakeup\": %.2f, "
           "\"events_per_s\": %.0f, \"cpu_ns_per_event\": %.0f, "
           "\"user_ns_per_event\": %.0f, \"sys_ns_per_event\": %.0f, "
           "\"vcsw_per_event\": %.3f, "
           "\"lat_p50_us\": %.1f, \"lat_p99_us\": %.1f, \"lat_max_us\": %.1f}\n",
           (int)getpid(), kind, w->read ? "true" : "false", opt_idle, n,
           w->nevents,
           w->nwakeups, (double)w->nevents / MAX(w->nwakeups, 1), n / secs,
           (double)cpu / n,
           ((ru.ru_utime.tv_sec - w->ru0.ru_utime.tv_sec) * 1e9 +
            (ru.ru_utime.tv_usec - w->ru0.ru_utime.tv_usec) * 1e3) / n,
           ((ru.ru_stime.tv_sec - w->ru0.ru_stime.tv_sec) * 1e9 +
            (ru.ru_stime.tv_usec - w->ru0.ru_stime.tv_usec) * 1e3) / n,
           (double)(ru.ru_nvcsw - w->ru0.ru_nvcsw) / n,
           w->lat_ns[n / 2] / 1e3, w->lat_ns[(int)(n * 0.99)] / 1e3,
           w->lat_ns[n - 1] / 1e3);
    fflush(stdout);
}

/*======================================================================*/
/* Watcher: raw libxenstore */

static int
run_watcher_raw(void)
{
    struct xs_handle *xsh = xs_open(0);
    g_autofree char *sentinel = NULL;
    struct pollfd pfd;
    Watcher w;

    watcher_init(&w);
    sentinel = sentinel_path(&w);
    if (xsh == NULL)
        die("raw: xs_open: %s", g_strerror(errno));
    if (!xs_watch(xsh, w.prefix, "bench"))
        die("raw: xs_watch %s: %s", w.prefix, g_strerror(errno));
    for (int i = 0; i < opt_idle; i++) {
        char path[KEY_MAX], token[KEY_MAX];

        snprintf(path, sizeof(path), IDLE_ROOT "/w%d", i);
        snprintf(token, sizeof(token), "idle%d", i);
        if (!xs_watch(xsh, path, token))
            die("raw: xs_watch %s: %s", path, g_strerror(errno));
    }
    if (!xs_write(xsh, XBT_NULL, sentinel, "1", 1))
        die("raw: xs_write %s: %s", sentinel, g_strerror(errno));

    pfd.fd = xs_fileno(xsh);
    pfd.events = POLLIN;
    while (w.nseen < w.n) {
        char **ev;
        int r = poll(&pfd, 1, STALL_MS);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("raw: no event for %d ms (%d of %d keys seen)", STALL_MS,
                w.nseen, w.n);
        if (w.ready)
            w.nwakeups++;
        while ((ev = xs_check_watch(xsh)) != NULL) {
            gint64 now = now_ns();
            int i = event_key(&w, ev[XS_WATCH_PATH]);

            if (i == -1 && !w.ready) {
                w.ready = TRUE;
                watcher_ready(&w);
            } else if (i >= 0) {
                if (w.read) {
                    unsigned int len;
                    char *value =
                        xs_read(xsh, XBT_NULL, ev[XS_WATCH_PATH], &len);

                    if (value == NULL)
                        die("raw: xs_read %s: %s", ev[XS_WATCH_PATH],
                            g_strerror(errno));
                    watcher_event(&w, i, now, value);
                    free(value);
                } else {
                    watcher_event(&w, i, now, NULL);
                }
            }
            free(ev);
        }
        if (errno != EAGAIN)
            die("raw: xs_check_watch: %s", g_strerror(errno));
    }
    watcher_report(&w, "raw");
    /* Exit without unwatching: closing the connection drops the watches. */
    return 0;
}

/*======================================================================*/
/* Watcher: the wire protocol by hand (the floor) */

typedef struct {
    int fd;
    char *buf; /* what recv(2) brought and no message has used yet */
    size_t len, cap;
    uint32_t req_id;
    GQueue stashed; /* events (GBytes) that came while awaiting an answer */
} Wire;

static void
wire_send(Wire *c, uint32_t type, const char *a, const char *b, size_t blen)
{
    struct xsd_sockmsg h = {.type = type, .req_id = ++c->req_id};
    size_t alen = strlen(a) + 1;
    char msg[sizeof(h) + 2 * XENSTORE_ABS_PATH_MAX];
    size_t off = 0;

    h.len = (uint32_t)(alen + blen);
    g_assert(h.len <= sizeof(msg) - sizeof(h));
    memcpy(msg, &h, sizeof(h));
    memcpy(msg + sizeof(h), a, alen);
    if (blen)
        memcpy(msg + sizeof(h) + alen, b, blen);
    while (off < sizeof(h) + h.len) {
        ssize_t n = send(c->fd, msg + off, sizeof(h) + h.len - off,
                         MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("wire: send: %s", g_strerror(errno));
        off += (size_t)n;
    }
}

/* One complete message at the head of c->buf, or FALSE. */
static gboolean
wire_peek(Wire *c, struct xsd_sockmsg *h, const char **body)
{
    if (c->len < sizeof(*h))
        return FALSE;
    memcpy(h, c->buf, sizeof(*h));
    if (h->len > XENSTORE_PAYLOAD_MAX)
        die("wire: a message of %u bytes", h->len);
    if (c->len < sizeof(*h) + h->len)
        return FALSE;
    *body = c->buf + sizeof(*h);
    return TRUE;
}

static void
wire_consume(Wire *c, const struct xsd_sockmsg *h)
{
    size_t used = sizeof(*h) + h->len;

    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
}

/* Waits (poll) until the socket has bytes, then takes what one recv(2)
 * gives. */
static void
wire_fill(Wire *c)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    ssize_t n;

    if (c->cap - c->len < XENSTORE_PAYLOAD_MAX + sizeof(struct xsd_sockmsg)) {
        c->cap = c->len + 2 * (XENSTORE_PAYLOAD_MAX + sizeof(struct xsd_sockmsg));
        c->buf = g_realloc(c->buf, c->cap);
    }
    for (;;) {
        int r = poll(&pfd, 1, STALL_MS);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("wire: nothing from the daemon for %d ms", STALL_MS);
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            die("wire: recv: %s", n ? g_strerror(errno) : "closed");
        c->len += (size_t)n;
        return;
    }
}

/* Sends a request and returns its answer's payload (g_free), handling the
 * watch events that come before it. */
static char *
wire_call(Wire *c, Watcher *w, uint32_t type, const char *a, const char *b,
          size_t blen)
{
    struct xsd_sockmsg h;
    const char *body;

    wire_send(c, type, a, b, blen);
    for (;;) {
        while (wire_peek(c, &h, &body)) {
            if (h.type == XS_WATCH_EVENT) {
                /* handled after the answer, in order, by the loop */
                g_queue_push_tail(&c->stashed, g_bytes_new(body, h.len));
                wire_consume(c, &h);
                continue;
            }
            if (h.type == XS_ERROR)
                die("wire: request %u: %.*s", type, (int)h.len, body);
            if (h.req_id != c->req_id)
                die("wire: answer to %u, expected %u", h.req_id, c->req_id);
            char *value = g_strndup(body, h.len);

            wire_consume(c, &h);
            return value;
        }
        wire_fill(c);
    }
}

static void
wire_event(Wire *c, Watcher *w, const char *body, uint32_t len)
{
    gint64 now = now_ns();
    const char *path = body;
    int i;

    if (len == 0 || memchr(body, '\0', len) == NULL)
        die("wire: a malformed watch event");
    i = event_key(w, path);
    if (i == -1 && !w->ready) {
        w->ready = TRUE;
        watcher_ready(w);
    } else if (i >= 0) {
        if (w->read) {
            g_autofree char *p = g_strdup(path);
            g_autofree char *value = wire_call(c, w, XS_READ, p, NULL, 0);

            watcher_event(w, i, now, value);
        } else {
            watcher_event(w, i, now, NULL);
        }
    }
}

static int
run_watcher_wire(void)
{
    const char *path = g_getenv("XENSTORED_PATH");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_autofree char *sentinel = NULL;
    Wire c = {.fd = -1, .stashed = G_QUEUE_INIT};
    Watcher w;

    watcher_init(&w);
    sentinel = sentinel_path(&w);
    if (path == NULL || strlen(path) >= sizeof(addr.sun_path))
        die("wire: XENSTORED_PATH must name the daemon's socket");
    strcpy(addr.sun_path, path);
    c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        die("wire: connect %s: %s", path, g_strerror(errno));
    g_free(wire_call(&c, &w, XS_WATCH, w.prefix, "bench", sizeof("bench")));
    for (int i = 0; i < opt_idle; i++) {
        char ipath[KEY_MAX], token[KEY_MAX];

        snprintf(ipath, sizeof(ipath), IDLE_ROOT "/w%d", i);
        snprintf(token, sizeof(token), "idle%d", i);
        g_free(wire_call(&c, &w, XS_WATCH, ipath, token, strlen(token) + 1));
    }
    g_free(wire_call(&c, &w, XS_WRITE, sentinel, "1", 1));

    while (w.nseen < w.n) {
        struct xsd_sockmsg h;
        const char *body;
        GBytes *ev;

        while (w.nseen < w.n && (ev = g_queue_pop_head(&c.stashed)) != NULL) {
            gsize len;
            const char *data = g_bytes_get_data(ev, &len);

            wire_event(&c, &w, data, (uint32_t)len);
            g_bytes_unref(ev);
        }
        while (w.nseen < w.n && g_queue_is_empty(&c.stashed) &&
               wire_peek(&c, &h, &body)) {
            g_autofree char *copy = NULL;
            uint32_t len = h.len;

            if (h.type != XS_WATCH_EVENT)
                die("wire: an answer (%u) nobody asked for", h.type);
            copy = g_memdup2(body, h.len);
            wire_consume(&c, &h);
            wire_event(&c, &w, copy, len);
        }
        if (w.nseen >= w.n)
            break;
        if (!g_queue_is_empty(&c.stashed))
            continue;
        wire_fill(&c);
        if (w.ready)
            w.nwakeups++;
    }
    watcher_report(&w, "wire");
    g_free(c.buf);
    return 0;
}

/*======================================================================*/
/* Watcher: the GLib binding */

typedef struct {
    Watcher w;
    XlevContext *ctx;
    gboolean done;
} GlibWatcher;

static void
on_changed(XlevWatch *watch, const char *event_path, gpointer data)
{
    GlibWatcher *g = data;
    gint64 now = now_ns();
    int i = event_key(&g->w, event_path);

    if (i == -1 && !g->w.ready) {
        g->w.ready = TRUE;
        watcher_ready(&g->w);
        return;
    }
    if (i < 0)
        return;
    if (g->w.read) {
        g_autoptr(GError) error = NULL;
        g_autofree char *value =
            xlev_context_read(g->ctx, event_path, NULL, &error);

        if (value == NULL)
            die("glib: read %s: %s", event_path, error->message);
        watcher_event(&g->w, i, now, value);
    } else {
        watcher_event(&g->w, i, now, NULL);
    }
    if (g->w.nseen == g->w.n)
        g->done = TRUE;
}

static gboolean
on_stall(gpointer data)
{
    GlibWatcher *g = data;

    die("glib: no progress for %d ms (%d of %d keys seen)", STALL_MS,
        g->w.nseen, g->w.n);
}

static XlevContext *
glib_context(const char *kind)
{
    g_autoptr(GError) error = NULL;
    XlevIntegration integration;
    XlevContext *ctx;

    if (strcmp(kind, "source") == 0)
        integration = XLEV_INTEGRATION_SOURCE;
    else if (strcmp(kind, "hooks") == 0)
        integration = XLEV_INTEGRATION_HOOKS;
    else
        die("unknown --kind %s", kind);
    ctx = xlev_context_new_full(NULL, integration, NULL, NULL, &error);
    if (ctx == NULL)
        die("xlev_context_new_full: %s", error->message);
    return ctx;
}

/* Adds n watches on IDLE_ROOT/w<i> that never fire to @idle. */
static void
add_idle_watches(XlevContext *ctx, GPtrArray *idle, int n)
{
    for (int i = 0; i < n; i++) {
        g_autoptr(GError) error = NULL;
        char path[KEY_MAX];
        XlevWatch *iw;

        snprintf(path, sizeof(path), IDLE_ROOT "/w%d", i);
        iw = xlev_context_watch(ctx, path, XLEV_WATCH_FLAGS_SKIP_INITIAL,
                                &error);
        if (iw == NULL)
            die("xlev_context_watch %s: %s", path, error->message);
        g_ptr_array_add(idle, iw);
    }
}

static int
run_watcher_glib(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) idle = NULL;
    g_autoptr(XlevWatch) watch = NULL;
    g_autofree char *sentinel = NULL;
    GlibWatcher g = {0};
    guint stall;

    watcher_init(&g.w);
    sentinel = sentinel_path(&g.w);
    g.ctx = glib_context(opt_kind);
    watch = xlev_context_watch(g.ctx, g.w.prefix,
                               XLEV_WATCH_FLAGS_SKIP_INITIAL, &error);
    if (watch == NULL)
        die("xlev_context_watch %s: %s", g.w.prefix, error->message);
    g_signal_connect(watch, "changed", G_CALLBACK(on_changed), &g);
    idle = g_ptr_array_new_full(opt_idle, g_object_unref);
    add_idle_watches(g.ctx, idle, opt_idle);
    if (!xlev_context_write(g.ctx, sentinel, "1", NULL, &error))
        die("write %s: %s", sentinel, error->message);

    /* A source that is only ever rescheduled: it costs the same per
     * iteration for both integrations and fires only on a stall. */
    stall = g_timeout_add(STALL_MS, on_stall, &g);
    while (!g.w.ready)
        g_main_context_iteration(NULL, TRUE);
    while (!g.done) {
        g_main_context_iteration(NULL, TRUE);
        g.w.nwakeups++;
    }
    watcher_report(&g.w, opt_kind);
    g_source_remove(stall);
    g_clear_pointer(&idle, g_ptr_array_unref);
    g_clear_object(&watch);
    g_clear_object(&g.ctx);
    return 0;
}

/*======================================================================*/
/* Memory per XlevWatch */

static void
sentinel_seen_cb(XlevWatch *watch, const char *event_path, gpointer data)
{
    *(gboolean *)data = TRUE;
}

/* Writes the sentinel and iterates until its event: every initial event
 * of what was registered before has been through the whole path. */
static void
drain(XlevContext *ctx, XlevWatch *probe, const char *sentinel)
{
    g_autoptr(GError) error = NULL;
    gboolean seen = FALSE;
    gulong id =
        g_signal_connect(probe, "changed", G_CALLBACK(sentinel_seen_cb), &seen);

    if (!xlev_context_write(ctx, sentinel, "1", NULL, &error))
        die("write %s: %s", sentinel, error->message);
    while (!seen)
        g_main_context_iteration(NULL, TRUE);
    g_signal_handler_disconnect(probe, id);
}

static int
run_memory(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlevContext) ctx = glib_context(opt_kind);
    g_autoptr(XlevWatch) probe = NULL;
    g_autofree char *sentinel = g_strdup_printf("%s/ready", opt_prefix);
    GPtrArray *idle;
    struct mallinfo2 before, after, freed;
    int n = opt_idle;

    /* Everything done once per process or per context (type and signal
     * registration, the core's slot table's first allocation, the watch
     * fd, GLib's first weak reference) happens here, before the first
     * measurement. */
    probe = xlev_context_watch(ctx, opt_prefix, XLEV_WATCH_FLAGS_SKIP_INITIAL,
                               &error);
    if (probe == NULL)
        die("xlev_context_watch %s: %s", opt_prefix, error->message);
    drain(ctx, probe, sentinel);
    drain(ctx, probe, sentinel);

    /* The array holding the watches is the benchmark's, not the
     * library's: allocated before the first measurement. */
    idle = g_ptr_array_new_full(n, g_object_unref);
    before = mallinfo2();
    add_idle_watches(ctx, idle, n);
    drain(ctx, probe, sentinel);
    after = mallinfo2();
    g_ptr_array_set_size(idle, 0);
    drain(ctx, probe, sentinel);
    freed = mallinfo2();
    g_ptr_array_unref(idle);

    printf("{\"role\": \"memory\", \"kind\": \"%s\", \"g_slice\": \"%s\", "
           "\"watches\": %d, \"path_example\": \"" IDLE_ROOT "/w%d\", "
           "\"heap_in_use_delta\": %zd, \"bytes_per_watch\": %.1f, "
           "\"bytes_left_after_unref\": %zd}\n",
           opt_kind, g_getenv("G_SLICE") ? g_getenv("G_SLICE") : "default",
           n, n - 1, (ssize_t)(after.uordblks - before.uordblks),
           (double)(ssize_t)(after.uordblks - before.uordblks) / n,
           (ssize_t)(freed.uordblks - before.uordblks));
    fflush(stdout);
    return 0;
}

/*======================================================================*/
/* Driver */

typedef struct {
    const char *kind;
    gboolean read;
    int idle;
    gboolean paced; /* the writer keeps to --rate */
} Config;

static char *self_exe;

static GPid
spawn_role(char **argv, int *stdout_fd, int stamps_fd)
{
    GPid pid;
    int fds[2];

    /* fork + exec by hand: the stamps memfd must stay open in the child
     * (g_spawn closes what it does not know). */
    if (stdout_fd != NULL && pipe2(fds, O_CLOEXEC) != 0)
        die("pipe2: %s", g_strerror(errno));
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        die("fork: %s", g_strerror(errno));
    if (pid == 0) {
        if (stdout_fd != NULL && dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(127);
        fcntl(stamps_fd, F_SETFD, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (stdout_fd != NULL) {
        close(fds[1]);
        *stdout_fd = fds[0];
    }
    return pid;
}

static int
wait_child(GPid pid, const char *what)
{
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            die("waitpid %s: %s", what, g_strerror(errno));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("%s failed (status 0x%x)", what, status);
    return 0;
}

/* Reads lines from @fd until one that is not "ready" (or EOF); NULL on
 * EOF. */
static char *
read_line(FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, f);

    if (len <= 0) {
        free(line);
        return NULL;
    }
    if (line[len - 1] == '\n')
        line[len - 1] = '\0';
    return line;
}

/* PREFIX/d0 .. PREFIX/d<last>, empty. */
static void
make_dirs(const char *prefix)
{
    struct xs_handle *xsh = xs_open(0);

    if (xsh == NULL)
        die("xs_open: %s", g_strerror(errno));
    for (int d = 0; d <= (opt_events - 1) / KEYS_PER_DIR; d++) {
        char path[KEY_MAX];

        snprintf(path, sizeof(path), "%s/d%d", prefix, d);
        if (!xs_mkdir(xsh, XBT_NULL, path))
            die("xs_mkdir %s: %s", path, g_strerror(errno));
    }
    xs_close(xsh);
}

static void
rm_tree(const char *path)
{
    struct xs_handle *xsh = xs_open(0);

    if (xsh == NULL)
        die("xs_open: %s", g_strerror(errno));
    if (!xs_rm(xsh, XBT_NULL, path) && errno != ENOENT)
        die("xs_rm %s: %s", path, g_strerror(errno));
    xs_close(xsh);
}

/* One measurement: a watcher of @c's kind, then the writer. Prints the
 * watcher's line with the experiment, round and writer's rate added. The
 * watcher runs under $XLEV_BENCH_WATCHER_WRAPPER if set (e.g.
 * "valgrind --tool=callgrind --instr-atstart=no"). */
static void
run_one(const char *experiment, int round, const Config *c, int stamps_fd,
        int seq)
{
    g_autofree char *prefix =
        g_strdup_printf("/bench/%s-%d-%s-%d", experiment, round, c->kind, seq);
    g_autofree char *n_arg = g_strdup_printf("--events=%d", opt_events);
    g_autofree char *idle_arg = g_strdup_printf("--idle=%d", c->idle);
    g_autofree char *fd_arg = g_strdup_printf("--stamps-fd=%d", stamps_fd);
    g_autofree char *prefix_arg = g_strdup_printf("--prefix=%s", prefix);
    g_autofree char *kind_arg = g_strdup_printf("--kind=%s", c->kind);
    g_autofree char *rate_arg = g_strdup_printf("--rate=%d", opt_rate);
    g_autoptr(GPtrArray) wargv = g_ptr_array_new();
    g_autoptr(GPtrArray) rargv = g_ptr_array_new();
    g_auto(GStrv) wrapper = NULL;
    const char *wrapper_env = g_getenv("XLEV_BENCH_WATCHER_WRAPPER");
    g_autofree char *ready = NULL, *result = NULL, *wresult = NULL;
    const char *wr;
    GPid watcher, writer;
    int wfd, wrfd;
    FILE *wf, *wrf;

    if (wrapper_env != NULL && *wrapper_env != '\0' &&
        !g_shell_parse_argv(wrapper_env, NULL, &wrapper, NULL))
        die("cannot parse XLEV_BENCH_WATCHER_WRAPPER");
    for (char **a = wrapper; a != NULL && *a != NULL; a++)
        g_ptr_array_add(wargv, *a);
    g_ptr_array_add(wargv, self_exe);
    g_ptr_array_add(wargv, "--role=watcher");
    g_ptr_array_add(wargv, kind_arg);
    g_ptr_array_add(wargv, n_arg);
    g_ptr_array_add(wargv, idle_arg);
    g_ptr_array_add(wargv, fd_arg);
    g_ptr_array_add(wargv, prefix_arg);
    if (!c->read)
        g_ptr_array_add(wargv, "--no-read");
    g_ptr_array_add(wargv, NULL);

    g_ptr_array_add(rargv, self_exe);
    g_ptr_array_add(rargv, "--role=writer");
    g_ptr_array_add(rargv, n_arg);
    g_ptr_array_add(rargv, fd_arg);
    g_ptr_array_add(rargv, prefix_arg);
    if (c->paced) {
        g_ptr_array_add(rargv, "--paced");
        g_ptr_array_add(rargv, rate_arg);
    }
    g_ptr_array_add(rargv, NULL);

    /* Zeroed stamps for every measurement. */
    if (ftruncate(stamps_fd, 0) != 0 ||
        ftruncate(stamps_fd, (off_t)opt_events * sizeof(gint64)) != 0)
        die("ftruncate: %s", g_strerror(errno));

    make_dirs(prefix);
    watcher = spawn_role((char **)wargv->pdata, &wfd, stamps_fd);
    wf = fdopen(wfd, "r");
    ready = read_line(wf);
    if (ready == NULL || strcmp(ready, "ready") != 0)
        die("watcher %s did not get ready", c->kind);

    writer = spawn_role((char **)rargv->pdata, &wrfd, stamps_fd);
    wrf = fdopen(wrfd, "r");
    wresult = read_line(wrf);
    wait_child(writer, "writer");
    fclose(wrf);

    result = read_line(wf);
    wait_child(watcher, "watcher");
    fclose(wf);
    if (result == NULL || wresult == NULL || result[0] != '{' ||
        wresult[0] != '{' || (wr = strstr(wresult, "\"writes_per_s\"")) == NULL)
        die("no result from the watcher or the writer");

    /* {"bench": ..., <the watcher's fields>, <the writer's rate>} */
    result[strlen(result) - 1] = '\0';
    printf("{\"bench\": \"glib-watch\", \"experiment\": \"%s\", "
           "\"round\": %d, \"paced_rate\": %d, %s, %s\n",
           experiment, round, c->paced ? opt_rate : 0, result + 1, wr);
    fflush(stdout);
    rm_tree(prefix);
}

static void
run_alternating(const char *experiment, const Config *configs, int nconfigs,
                int stamps_fd)
{
    int seq = 0;

    for (int r = 0; r < opt_rounds; r++) {
        for (int k = 0; k < nconfigs; k++)
            run_one(experiment, r, &configs[(k + r) % nconfigs], stamps_fd,
                    seq++);
    }
}

static void
run_memory_experiment(int stamps_fd)
{
    static const char *kinds[] = {"source", "hooks"};

    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < 2; k++) {
            g_autofree char *kind_arg = g_strdup_printf("--kind=%s", kinds[k]);
            g_autofree char *idle_arg = g_strdup_printf("--idle=%d", opt_idle);
            char *argv[] = {self_exe,  "--role=memory", kind_arg, idle_arg,
                            "--prefix=/bench/memory", NULL};
            g_autofree char *line = NULL;
            int fd;
            FILE *f;
            GPid pid;

            if (s == 1)
                g_setenv("G_SLICE", "always-malloc", TRUE);
            pid = spawn_role(argv, &fd, stamps_fd);
            g_unsetenv("G_SLICE");

            f = fdopen(fd, "r");
            line = read_line(f);
            wait_child(pid, "memory");
            fclose(f);
            if (line == NULL || line[0] != '{')
                die("no result from the memory run");
            printf("{\"bench\": \"glib-watch\", \"experiment\": \"memory\", %s\n",
                   line + 1);
            fflush(stdout);
            rm_tree("/bench/memory");
        }
    }
}

static int
run_driver(void)
{
    static const Config throughput[] = {
        {"raw", TRUE, 0}, {"source", TRUE, 0}, {"hooks", TRUE, 0}};
    static const Config noread[] = {{"raw", FALSE, 0},
                                    {"wire", FALSE, 0},
                                    {"source", FALSE, 0},
                                    {"hooks", FALSE, 0}};
    static const Config latency[] = {{"raw", TRUE, 0, TRUE},
                                     {"wire", TRUE, 0, TRUE},
                                     {"source", TRUE, 0, TRUE},
                                     {"hooks", TRUE, 0, TRUE}};
    static const Config paced[] = {{"raw", FALSE, 0, TRUE},
                                   {"wire", FALSE, 0, TRUE},
                                   {"source", FALSE, 0, TRUE},
                                   {"hooks", FALSE, 0, TRUE}};
    Config idle[] = {
        {"raw", FALSE, 0},    {"raw", FALSE, opt_idle},
        {"source", FALSE, 0}, {"source", FALSE, opt_idle},
        {"hooks", FALSE, 0},  {"hooks", FALSE, opt_idle},
    };
    Config idle_paced[] = {
        {"raw", FALSE, 0, TRUE},    {"raw", FALSE, opt_idle, TRUE},
        {"source", FALSE, 0, TRUE}, {"source", FALSE, opt_idle, TRUE},
        {"hooks", FALSE, 0, TRUE},  {"hooks", FALSE, opt_idle, TRUE},
    };
    int events = opt_events;
    const char *e = opt_experiment != NULL ? opt_experiment : "all";
    gboolean all = strcmp(e, "all") == 0;
    g_autoptr(GError) error = NULL;
    XsFixture fx;
    int stamps_fd;

    if (!all && strcmp(e, "throughput") != 0 && strcmp(e, "noread") != 0 &&
        strcmp(e, "latency") != 0 && strcmp(e, "idle") != 0 &&
        strcmp(e, "idle-paced") != 0 && strcmp(e, "paced") != 0 &&
        strcmp(e, "memory") != 0)
        die("unknown --experiment %s", e);

    stamps_fd = memfd_create("bench-glib-watch-stamps", MFD_CLOEXEC);
    if (stamps_fd < 0)
        die("memfd_create: %s", g_strerror(errno));
    if (!xs_fixture_start(&fx, &error))
        die("cannot start xenstored: %s", error->message);

    if (all || strcmp(e, "throughput") == 0)
        run_alternating("throughput", throughput, G_N_ELEMENTS(throughput),
                        stamps_fd);
    if (all || strcmp(e, "noread") == 0)
        run_alternating("noread", noread, G_N_ELEMENTS(noread), stamps_fd);
    if (all || strcmp(e, "latency") == 0) {
        opt_events = opt_latency_events;
        run_alternating("latency", latency, G_N_ELEMENTS(latency), stamps_fd);
        opt_events = events;
    }
    if (all || strcmp(e, "paced") == 0) {
        opt_events = opt_latency_events;
        run_alternating("paced", paced, G_N_ELEMENTS(paced), stamps_fd);
        opt_events = events;
    }
    if (all || strcmp(e, "idle") == 0)
        run_alternating("idle", idle, G_N_ELEMENTS(idle), stamps_fd);
    if (strcmp(e, "idle-paced") == 0) {
        opt_events = opt_latency_events;
        run_alternating("idle-paced", idle_paced, G_N_ELEMENTS(idle_paced),
                        stamps_fd);
        opt_events = events;
    }
    if (all || strcmp(e, "memory") == 0)
        run_memory_experiment(stamps_fd);

    xs_fixture_stop(&fx);
    close(stamps_fd);
    return 0;
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) octx =
        g_option_context_new("- watch events: GLib binding vs raw libxenstore");
    g_autoptr(GError) error = NULL;

    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &error))
        die("%s", error->message);
    if (opt_events <= 0 || opt_rounds <= 0 || opt_idle < 0 ||
        opt_latency_events <= 0 || opt_rate <= 0)
        die("--events, --latency-events, --rounds and --rate must be "
            "positive, --idle not negative");
    self_exe = g_file_read_link("/proc/self/exe", NULL);
    if (self_exe == NULL)
        die("cannot find my own executable");
    /* A child whose reader goes away dies with its writes failing, not
     * with SIGPIPE in the middle of a line. */
    signal(SIGPIPE, SIG_IGN);

    if (opt_role == NULL)
        return run_driver();
    if (opt_prefix == NULL || (strcmp(opt_role, "memory") != 0 &&
                               opt_stamps_fd < 0))
        die("--role needs --prefix and --stamps-fd");
    if (strcmp(opt_role, "writer") == 0)
        return run_writer();
    if (strcmp(opt_role, "memory") == 0)
        return run_memory();
    if (strcmp(opt_role, "watcher") == 0) {
        if (opt_kind != NULL && strcmp(opt_kind, "raw") == 0)
            return run_watcher_raw();
        if (opt_kind != NULL && strcmp(opt_kind, "wire") == 0)
            return run_watcher_wire();
        if (opt_kind != NULL)
            return run_watcher_glib();
    }
    die("unknown --role %s", opt_role);
}
