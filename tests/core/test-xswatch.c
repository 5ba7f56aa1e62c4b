/* test-xswatch.c: xenstore watches against a real, private xenstored
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Every test starts its own xenstored through the fixture (tests/xs-fixture.h)
 * and writes from a second libxenstore connection, as another program would.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenstore.h>

#include "core-test-util.h"
#include "xs-fixture.h"

typedef struct {
    xlev_ev_xswatch w;
    const char *expect_path; /* what the watch was registered on */
    int calls;
    int bad; /* events that were not about expect_path's subtree */
    char last_epath[256];
    int deregister_self;
    int seen_child; /* an event strictly below expect_path */
    gint64 called_after_deregister;
    int deregistered;
} WatchProbe;

static void
watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
         const char *epath)
{
    WatchProbe *p = (WatchProbe *)w;
    size_t n = strlen(p->expect_path);

    if (p->deregistered)
        p->called_after_deregister++;
    p->calls++;
    if (strcmp(wpath, p->expect_path) != 0 ||
        strncmp(epath, p->expect_path, n) != 0 ||
        (epath[n] != '\0' && epath[n] != '/'))
        p->bad++;
    if (epath[n] == '/')
        p->seen_child = 1;
    g_strlcpy(p->last_epath, epath, sizeof(p->last_epath));
    if (p->deregister_self) {
        xlev_ev_xswatch_deregister(ctx, w);
        g_assert_false(xlev_ev_xswatch_isregistered(w));
        /* the arguments stay readable after deregistering */
        g_assert_cmpstr(wpath, ==, p->expect_path);
        p->deregistered = 1;
    }
}

static void
probe_init(WatchProbe *p, const char *path)
{
    memset(p, 0, sizeof(*p));
    xlev_ev_xswatch_init(&p->w);
    p->expect_path = path;
}

static xlev_ctx *
xs_ctx_new(XsFixture *fx)
{
    xlev_ctx *ctx = NULL;

    g_assert_cmpint(xlev_ctx_new(NULL, &ctx), ==, 0);
    g_assert_nonnull(ctx);
    g_assert_cmpstr(xlev_ctx_get_xenstore_path(ctx), ==, fx->socket_path);
    return ctx;
}

static struct xs_handle *
other_connection(void)
{
    struct xs_handle *xsh = xs_open(0);

    g_assert_nonnull(xsh);
    return xsh;
}

static void
other_write(struct xs_handle *xsh, const char *path, const char *value)
{
    g_assert_true(xs_write(xsh, XBT_NULL, path, value, strlen(value)));
}

/* What a watch test runs on: a context on the fixture's daemon, optionally
 * a second libxenstore connection that writes as another program would,
 * and a Drive in the test's mode. */
typedef struct {
    xlev_ctx *ctx;
    struct xs_handle *other; /* NULL without WITH_OTHER */
    Drive d;
} WatchEnv;

enum { NO_OTHER, WITH_OTHER };

static void
env_init(WatchEnv *env, XsFixture *fx, DriveMode mode, int with_other)
{
    env->ctx = xs_ctx_new(fx);
    env->other = with_other ? other_connection() : NULL;
    drive_init(&env->d, mode, env->ctx);
}

static void
env_clear(WatchEnv *env)
{
    if (env->other)
        xs_close(env->other);
    drive_free_ctx(&env->d);
}

static int
deadline_ms(int ms)
{
    return (int)xs_fixture_scale_ms(ms);
}

/* The initial event, then an event for a child written by someone else. */
static void
test_initial_and_change(XsFixture *fx, gconstpointer data)
{
    WatchProbe p;
    WatchEnv env;

    env_init(&env, fx, MODE(data), WITH_OTHER);
    probe_init(&p, "/test/a");
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &p.w, watch_cb, "/test/a"), ==, 0);
    g_assert_true(xlev_ev_xswatch_isregistered(&p.w));
    g_assert_true(drive_until(&env.d, &p.calls, deadline_ms(5000)));
    g_assert_cmpstr(p.last_epath, ==, "/test/a");

    other_write(env.other, "/test/a/b", "1");
    g_assert_true(drive_until(&env.d, &p.seen_child, deadline_ms(5000)));
    g_assert_cmpint(p.bad, ==, 0);

    xlev_ev_xswatch_deregister(env.ctx, &p.w);
    g_assert_false(xlev_ev_xswatch_isregistered(&p.w));
    xlev_ev_xswatch_deregister(env.ctx, &p.w);
    p.calls = 0;
    other_write(env.other, "/test/a/c", "1");
    drive_iterate(&env.d, 50);
    drive_iterate(&env.d, 50);
    g_assert_cmpint(p.calls, ==, 0);

    env_clear(&env);
}

/* Deregistering inside the callback: the arguments stay valid, no further
 * call. */
static void
test_deregister_inside_callback(XsFixture *fx, gconstpointer data)
{
    WatchProbe p;
    WatchEnv env;
    int i;

    env_init(&env, fx, MODE(data), WITH_OTHER);
    probe_init(&p, "/test/self");
    p.deregister_self = 1;
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &p.w, watch_cb, "/test/self"), ==, 0);
    other_write(env.other, "/test/self/x", "1");
    g_assert_true(drive_until(&env.d, &p.calls, deadline_ms(5000)));
    for (i = 0; i < 5; i++) {
        other_write(env.other, "/test/self/x", "2");
        drive_iterate(&env.d, 10);
    }
    g_assert_cmpint(p.calls, ==, 1);
    g_assert_cmpint(p.called_after_deregister, ==, 0);
    env_clear(&env);
}

/* Events carrying a live watch's token but about a path outside its
 * subtree are suppressed. They are made real: the same connection asks
 * xenstored for a second watch with that token on another path. */
static void
test_suppress_non_child(XsFixture *fx, gconstpointer data)
{
    WatchProbe p;
    char token[32];
    WatchEnv env;
    int i;

    env_init(&env, fx, DRIVE_POLL, WITH_OTHER);
    probe_init(&p, "/test/mine");
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &p.w, watch_cb, "/test/mine"), ==, 0);
    g_assert_true(drive_until(&env.d, &p.calls, deadline_ms(5000)));

    snprintf(token, sizeof(token), "%d/%" PRIx32, xlev__test_xswatch_slot(&p.w),
             xlev__test_xswatch_counter(&p.w));
    g_assert_cmpint(xlev__test_xs_raw_watch(env.ctx, 1, "/test/elsewhere", token), ==, 0);
    g_assert_cmpint(xlev__test_xs_raw_watch(env.ctx, 1, "/test/mine-not", token), ==, 0);
    for (i = 0; i < 5; i++) {
        other_write(env.other, "/test/elsewhere", "1");
        other_write(env.other, "/test/mine-not", "1");
        drive_iterate(&env.d, 20);
    }
    /* and a genuine one still arrives */
    other_write(env.other, "/test/mine/x", "1");
    g_assert_true(drive_until(&env.d, &p.seen_child, deadline_ms(5000)));
    g_assert_cmpint(p.bad, ==, 0);
    g_assert_cmpint(xlev__test_xs_raw_watch(env.ctx, 0, "/test/elsewhere", token), ==, 0);
    g_assert_cmpint(xlev__test_xs_raw_watch(env.ctx, 0, "/test/mine-not", token), ==, 0);
    env_clear(&env);
}

/* A slot reused while an event for its previous token is still in flight:
 * the stale event reaches neither the old nor the new registration. The
 * in-flight event is made real with a watch on the old token. */
static void
test_slot_reuse_stale_token(XsFixture *fx, gconstpointer data)
{
    WatchProbe old, fresh;
    char token[32];
    int slot, i;
    WatchEnv env;

    env_init(&env, fx, DRIVE_POLL, WITH_OTHER);
    probe_init(&old, "/test/old");
    probe_init(&fresh, "/test/old");
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &old.w, watch_cb, "/test/old"), ==,
        0);
    slot = xlev__test_xswatch_slot(&old.w);
    snprintf(token, sizeof(token), "%d/%" PRIx32, xlev__test_xswatch_slot(&old.w),
             xlev__test_xswatch_counter(&old.w));
    other_write(env.other, "/test/old/x", "1"); /* not yet read by anyone */
    xlev_ev_xswatch_deregister(env.ctx, &old.w);

    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &fresh.w, watch_cb, "/test/old"), ==,
        0);
    g_assert_cmpint(xlev__test_xswatch_slot(&fresh.w), ==, slot); /* reused */
    g_assert_cmpuint(xlev__test_xswatch_counter(&fresh.w), !=, xlev__test_xswatch_counter(&old.w));

    /* events for the old token keep coming */
    g_assert_cmpint(xlev__test_xs_raw_watch(env.ctx, 1, "/test/old", token), ==, 0);
    g_assert_true(drive_until(&env.d, &fresh.calls, deadline_ms(5000)));
    fresh.calls = 0;
    for (i = 0; i < 3; i++) {
        other_write(env.other, "/test/old/y", "1");
        drive_iterate(&env.d, 20);
    }
    /* the fresh one saw the writes through its own token, and nothing came
     * twice for one write through the stale token... */
    g_assert_cmpint(old.calls, ==, 0);
    g_assert_cmpint(fresh.bad, ==, 0);
    g_assert_cmpint(fresh.calls, <=, 3);
    g_assert_cmpint(fresh.calls, >=, 1);
    g_assert_cmpint(xlev__test_xs_raw_watch(env.ctx, 0, "/test/old", token), ==, 0);
    xlev_ev_xswatch_deregister(env.ctx, &fresh.w);
    env_clear(&env);
}

/* Events libxenstore has already queued for a watch when it is removed:
 * they reach neither that watch nor the next occupant of its slot, and
 * nothing leaks (the handle is opened without XS_UNWATCH_FILTER, whose
 * filtering in 4.17 leaked each event's body; LeakSanitizer and valgrind
 * run this without suppressions). */
static void
test_deregister_with_queued_events(XsFixture *fx, gconstpointer data)
{
    WatchProbe old, fresh;
    char *value = NULL;
    WatchEnv env;
    int i, slot;

    env_init(&env, fx, MODE(data), WITH_OTHER);
    probe_init(&old, "/test/q");
    probe_init(&fresh, "/test/q");
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &old.w, watch_cb, "/test/q"), ==, 0);
    g_assert_true(drive_until(&env.d, &old.calls, deadline_ms(5000)));
    old.calls = 0;
    /* events queued in libxenstore, not read by the core */
    for (i = 0; i < 20; i++)
        other_write(env.other, "/test/q/x", "1");
    /* a round trip on the watching connection: xenstored sent the events
     * before this reply, and the reader thread queued them in order */
    g_assert_cmpint(xlev_xs_read(env.ctx, "/test/q/x", &value, NULL), ==, 0);
    free(value);
    slot = xlev__test_xswatch_slot(&old.w);
    xlev_ev_xswatch_deregister(env.ctx, &old.w);

    /* the same slot again */
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &fresh.w, watch_cb, "/test/q"), ==,
        0);
    g_assert_cmpint(xlev__test_xswatch_slot(&fresh.w), ==, slot);
    g_assert_true(drive_until(&env.d, &fresh.calls, deadline_ms(5000)));
    for (i = 0; i < 5; i++)
        drive_iterate(&env.d, 10);
    g_assert_cmpint(old.calls, ==, 0);
    g_assert_cmpint(fresh.calls, ==, 1); /* its own initial event only */
    g_assert_cmpint(fresh.bad, ==, 0);

    /* queued again, and this time the last watch goes */
    for (i = 0; i < 20; i++)
        other_write(env.other, "/test/q/y", "1");
    g_assert_cmpint(xlev_xs_read(env.ctx, "/test/q/y", &value, NULL), ==, 0);
    free(value);
    fresh.calls = 0;
    xlev_ev_xswatch_deregister(env.ctx, &fresh.w);
    g_assert_true(xlev__test_watch_fd_registered(env.ctx) ==
                  (xlev_ctx_get_transport(env.ctx) == XLEV_XS_TRANSPORT_SOCKET));
    drive_iterate(&env.d, 10);
    g_assert_cmpint(fresh.calls, ==, 0);
    g_assert_cmpint(xlev__test_npending(env.ctx), ==, 0);

    env_clear(&env);
}

/* xlev_ev_xswatch_register_borrowed: the registration uses the caller's
 * string, not a copy, and neither deregister nor xlev_ctx_free frees it
 * (the caller does, afterwards: a free by the core would be a double free
 * under ASan and valgrind). */
static void
test_borrowed_path(XsFixture *fx, gconstpointer data)
{
    char *path = g_strdup("/test/borrowed");
    char *kept = g_strdup("/test/kept");
    WatchProbe p, k;
    WatchEnv env;

    env_init(&env, fx, MODE(data), WITH_OTHER);
    probe_init(&p, "/test/borrowed");
    g_assert_cmpint(
        xlev_ev_xswatch_register_borrowed(env.ctx, &p.w, watch_cb, "bad//path"),
        ==, XLEV_ERROR_INVAL);
    g_assert_false(xlev_ev_xswatch_isregistered(&p.w));
    g_assert_cmpint(
        xlev_ev_xswatch_register_borrowed(env.ctx, &p.w, watch_cb, path), ==,
        0);
    g_assert_true(xlev__test_xswatch_path(&p.w) == path);
    g_assert_true(drive_until(&env.d, &p.calls, deadline_ms(5000)));
    other_write(env.other, "/test/borrowed/x", "1");
    g_assert_true(drive_until(&env.d, &p.seen_child, deadline_ms(5000)));
    g_assert_cmpint(p.bad, ==, 0);
    xlev_ev_xswatch_deregister(env.ctx, &p.w);
    g_assert_null(xlev__test_xswatch_path(&p.w));
    g_free(path);

    /* Still registered when the context goes. */
    probe_init(&k, "/test/kept");
    g_assert_cmpint(
        xlev_ev_xswatch_register_borrowed(env.ctx, &k.w, watch_cb, kept), ==,
        0);
    g_assert_true(drive_until(&env.d, &k.calls, deadline_ms(5000)));
    env_clear(&env);
    g_assert_false(xlev_ev_xswatch_isregistered(&k.w));
    g_free(kept);
}

/* Defect 6: a second deregister corrupted the slot free list. */
static void
test_06_double_deregister(XsFixture *fx, gconstpointer data)
{
    WatchProbe a, b, c, e;
    WatchEnv env;

    env_init(&env, fx, DRIVE_POLL, WITH_OTHER);
    probe_init(&a, "/test/a");
    probe_init(&b, "/test/b");
    probe_init(&c, "/test/c");
    probe_init(&e, "/test/e");
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &a.w, watch_cb, "/test/a"), ==, 0);
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &b.w, watch_cb, "/test/b"), ==, 0);
    xlev_ev_xswatch_deregister(env.ctx, &a.w);
    xlev_ev_xswatch_deregister(env.ctx, &a.w);
    g_assert_cmpint(xlev__test_xswatch_slot(&a.w), ==, -1);

    /* both new registrations get their own slot, not b's nor each other's */
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &c.w, watch_cb, "/test/c"), ==, 0);
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &e.w, watch_cb, "/test/e"), ==, 0);
    g_assert_cmpint(xlev__test_xswatch_slot(&c.w), !=, xlev__test_xswatch_slot(&b.w));
    g_assert_cmpint(xlev__test_xswatch_slot(&e.w), !=, xlev__test_xswatch_slot(&b.w));
    g_assert_cmpint(xlev__test_xswatch_slot(&e.w), !=, xlev__test_xswatch_slot(&c.w));

    other_write(env.other, "/test/b/x", "1");
    other_write(env.other, "/test/c/x", "1");
    other_write(env.other, "/test/e/x", "1");
    {
        gint64 deadline = test_now_ms() + deadline_ms(5000);

        while (!(b.seen_child && c.seen_child && e.seen_child) &&
               test_now_ms() < deadline)
            drive_iterate(&env.d, 20);
    }
    g_assert_true(b.seen_child && c.seen_child && e.seen_child);
    g_assert_cmpint(a.calls, ==, 0);
    g_assert_cmpint(b.bad + c.bad + e.bad, ==, 0);
    env_clear(&env);
    g_assert_false(xlev_ev_xswatch_isregistered(&b.w));
}

/* Defect 15: the watch fd is registered with the first watch, deregistered
 * with the last, registered again with the next; every fd the library
 * opened is close-on-exec. */
static GHashTable *
open_fds(void)
{
    GHashTable *set = g_hash_table_new(g_direct_hash, g_direct_equal);
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *de;

    g_assert_nonnull(dir);
    while ((de = readdir(dir))) {
        int fd = atoi(de->d_name);

        if (de->d_name[0] != '.' && fd != dirfd(dir))
            g_hash_table_add(set, GINT_TO_POINTER(fd + 1));
    }
    closedir(dir);
    return set;
}

static void
test_15_watch_fd_lazy_and_cloexec(XsFixture *fx, gconstpointer data)
{
    GHashTable *before = open_fds(), *after;
    GHashTableIter iter;
    gpointer key;
    WatchProbe a, b;
    WatchEnv env;
    int n, checked = 0, socket;

    env_init(&env, fx, MODE(data), NO_OTHER);
    drive_prepare(&env.d);
    probe_init(&a, "/test/a");
    probe_init(&b, "/test/b");
    /* The socket transport polls its socket all along; libxenstore's
     * watch pipe is polled only while there are watches. */
    socket = xlev_ctx_get_transport(env.ctx) == XLEV_XS_TRANSPORT_SOCKET;
    g_assert_true(xlev__test_watch_fd_registered(env.ctx) == socket);
    if (MODE(data) != DRIVE_POLL)
        g_assert_cmpint(test_hooks_n_live_fds(&env.d.hooks), ==, socket);

    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &a.w, watch_cb, "/test/a"), ==, 0);
    g_assert_true(xlev__test_watch_fd_registered(env.ctx));
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &b.w, watch_cb, "/test/b"), ==, 0);
    if (MODE(data) == DRIVE_POLL) {
        struct timeval now = {0, 0};
        int timeout = -1;

        n = 0;
        g_assert_cmpint(
            xlev_osevent_beforepoll(env.ctx, &n, NULL, &timeout, now), ==,
            XLEV_ERROR_BUFFERFULL);
        g_assert_cmpint(n, ==, socket ? 2 : 1); /* and the wake-up fd */
    } else {
        g_assert_cmpint(test_hooks_n_live_fds(&env.d.hooks), ==, 1);
    }
    g_assert_true(drive_until(&env.d, &b.calls, deadline_ms(5000)));

    after = open_fds();
    g_hash_table_iter_init(&iter, after);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        int fd = GPOINTER_TO_INT(key) - 1;

        if (g_hash_table_contains(before, key))
            continue;
        g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
        checked++;
    }
    /* libxenstore: its socket and both ends of its watch pipe, opened
     * with the first watch; the socket transport opened nothing more */
    if (!socket)
        g_assert_cmpint(checked, >=, 3); /* socket, two pipe ends */
    g_hash_table_unref(after);

    xlev_ev_xswatch_deregister(env.ctx, &a.w);
    g_assert_true(xlev__test_watch_fd_registered(env.ctx));
    xlev_ev_xswatch_deregister(env.ctx, &b.w);
    g_assert_true(xlev__test_watch_fd_registered(env.ctx) == socket);
    if (MODE(data) != DRIVE_POLL)
        g_assert_cmpint(test_hooks_n_live_fds(&env.d.hooks), ==, socket);

    b.calls = 0;
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &b.w, watch_cb, "/test/b"), ==, 0);
    g_assert_true(xlev__test_watch_fd_registered(env.ctx));
    g_assert_true(drive_until(&env.d, &b.calls, deadline_ms(5000)));
    env_clear(&env);
    g_hash_table_unref(before);
}

/* Many watches, registered and removed in random order; every event reaches
 * exactly its own registration. */
static void
test_many_random(XsFixture *fx, gconstpointer data)
{
    /* xenstored's own cost grows with the number of watches (about 7 s
     * for 10,000 on 2 cores, all in the daemon): the full count once.
     * oxenstored with the socket transport: 2000 (with 4000 watches, 2000
     * of them left, it stops sending the events of a later flood from
     * another connection: tests/DAEMONS.md). */
    int n = g_getenv("XLEV_UNDER_VALGRIND") ? 1000
            : MODE(data) == DRIVE_POLL &&
                      xs_fixture_daemon() != XS_FIXTURE_DAEMON_OXENSTORED
                ? 10000
                : 2000;
    WatchProbe *p = g_new0(WatchProbe, n);
    char **paths = g_new0(char *, n);
    int *perm = g_new(int, n);
    GRand *rand = g_rand_new_with_seed(15);
    int i, done;
    WatchEnv env;

    env_init(&env, fx, MODE(data), WITH_OTHER);
    for (i = 0; i < n; i++) {
        paths[i] = g_strdup_printf("/many/w%d", i);
        perm[i] = i;
    }
    for (i = n - 1; i > 0; i--) {
        int j = g_rand_int_range(rand, 0, i + 1), tmp = perm[i];

        perm[i] = perm[j];
        perm[j] = tmp;
    }
    /* register in random order */
    for (i = 0; i < n; i++) {
        WatchProbe *q = &p[perm[i]];

        probe_init(q, paths[perm[i]]);
        g_assert_cmpint(
            xlev_ev_xswatch_register(env.ctx, &q->w, watch_cb, paths[perm[i]]),
            ==, 0);
        if (i % 512 == 0)
            drive_iterate(&env.d, 0);
    }
    /* every initial event arrives */
    for (done = 0; done < n;) {
        drive_iterate(&env.d, 50);
        while (done < n && p[done].calls)
            done++;
    }

    /* remove half in random order, write to every path. The loop is
     * served now and then: the socket transport has no reader thread, and
     * oxenstored stalls a writer whose events for a connection are more
     * than quota-maxoutstanding (1024) behind (tests/DAEMONS.md). */
    for (i = 0; i < n; i += 2) {
        xlev_ev_xswatch_deregister(env.ctx, &p[perm[i]].w);
        if (i % 128 == 0)
            drive_iterate(&env.d, 0);
    }
    /* the unwatches' answers read before the flood */
    for (i = 0; i < 5; i++)
        drive_iterate(&env.d, 20);
    for (i = 0; i < n; i++) {
        char *child = g_strdup_printf("%s/c", paths[i]);

        other_write(env.other, child, "1");
        g_free(child);
        if (i % 128 == 0)
            drive_iterate(&env.d, 0);
    }
    for (done = 0; done < n;) {
        drive_iterate(&env.d, 50);
        while (done < n &&
               (!xlev_ev_xswatch_isregistered(&p[perm[done]].w) ||
                p[perm[done]].seen_child))
            done++;
    }
    drive_iterate(&env.d, 20);
    for (i = 0; i < n; i++) {
        g_assert_cmpint(p[i].bad, ==, 0);
        if (xlev_ev_xswatch_isregistered(&p[i].w))
            g_assert_true(p[i].seen_child);
        else
            g_assert_false(p[i].seen_child);
    }

    /* the rest, in random order */
    for (i = 1; i < n; i += 2)
        xlev_ev_xswatch_deregister(env.ctx, &p[perm[i]].w);
    g_assert_true(xlev__test_watch_fd_registered(env.ctx) ==
                  (xlev_ctx_get_transport(env.ctx) == XLEV_XS_TRANSPORT_SOCKET));

    env_clear(&env);
    for (i = 0; i < n; i++)
        g_free(paths[i]);
    g_free(paths);
    g_free(perm);
    g_free(p);
    g_rand_free(rand);
}

/* Deregistering from another thread while the callback runs waits for it
 * to return. */
typedef struct {
    WatchProbe probe;
    GMutex lock;
    GCond cond;
    int in_cb;
    int release;
    int returned;
} SlowProbe;

static void
slow_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
        const char *epath)
{
    SlowProbe *s = (SlowProbe *)w;

    g_mutex_lock(&s->lock);
    s->in_cb = 1;
    g_cond_broadcast(&s->cond);
    while (!s->release)
        g_cond_wait(&s->cond, &s->lock);
    g_mutex_unlock(&s->lock);
    g_usleep(20000);
    s->returned = 1;
}

typedef struct {
    xlev_ctx *ctx;
    SlowProbe *s;
    int returned_seen;
} Deregisterer;

static gpointer
deregister_thread(gpointer data)
{
    Deregisterer *dr = data;

    g_mutex_lock(&dr->s->lock);
    while (!dr->s->in_cb)
        g_cond_wait(&dr->s->cond, &dr->s->lock);
    dr->s->release = 1;
    g_cond_broadcast(&dr->s->cond);
    g_mutex_unlock(&dr->s->lock);
    xlev_ev_xswatch_deregister(dr->ctx, &dr->s->probe.w);
    dr->returned_seen = dr->s->returned;
    return NULL;
}

static void
test_deregister_waits_for_callback(XsFixture *fx, gconstpointer data)
{
    SlowProbe s;
    Deregisterer dr = { NULL, &s, 0 };
    GThread *thr;
    WatchEnv env;

    memset(&s, 0, sizeof(s));
    g_mutex_init(&s.lock);
    g_cond_init(&s.cond);
    env_init(&env, fx, DRIVE_POLL, NO_OTHER);
    dr.ctx = env.ctx;
    probe_init(&s.probe, "/test/slow");
    g_assert_cmpint(
        xlev_ev_xswatch_register(env.ctx, &s.probe.w, slow_cb, "/test/slow"),
        ==, 0);
    thr = g_thread_new("deregister", deregister_thread, &dr);
    while (!s.returned)
        drive_iterate(&env.d, 50);
    g_thread_join(thr);
    g_assert_true(dr.returned_seen);
    env_clear(&env);
    g_mutex_clear(&s.lock);
    g_cond_clear(&s.cond);
}

static void
test_bad_input(XsFixture *fx, gconstpointer data)
{
    static const char *const good[] = {
        "/", "/a", "/local/domain/0/name", "@releaseDomain", "@introduceDomain",
        "/a-b_c@d/E9",
    };
    static const char *const bad[] = {
        "", "a", "a/b", "//", "/a//b", "/a/", "/a b", "/a\n", "@", "@a/b",
        "/\xc3\xa9",
    };
    xlev_ctx *ctx = xs_ctx_new(fx), *other = NULL;
    WatchProbe p;
    char *longpath;
    guint i;

    for (i = 0; i < G_N_ELEMENTS(good); i++)
        g_assert_true(xlev_xs_path_is_valid(good[i]));
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(xlev_xs_path_is_valid(bad[i]));
        probe_init(&p, "/");
        g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p.w, watch_cb, bad[i]),
                        ==, XLEV_ERROR_INVAL);
        g_assert_false(xlev_ev_xswatch_isregistered(&p.w));
    }
    g_assert_false(xlev_xs_path_is_valid(NULL));
    longpath = g_strnfill(XLEV_XS_PATH_MAX + 1, 'a');
    longpath[0] = '/';
    g_assert_false(xlev_xs_path_is_valid(longpath));
    longpath[XLEV_XS_PATH_MAX] = '\0';
    g_assert_true(xlev_xs_path_is_valid(longpath));
    g_free(longpath);

    g_assert_cmpint(xlev_ev_xswatch_register(NULL, &p.w, watch_cb, "/a"), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, NULL, watch_cb, "/a"), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p.w, NULL, "/a"), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p.w, watch_cb, NULL), ==,
                    XLEV_ERROR_INVAL);
    xlev_ev_xswatch_deregister(NULL, &p.w);
    xlev_ev_xswatch_deregister(ctx, NULL);

    /* nothing at the path: cannot be reached; a FIFO or a regular file:
     * refused at once (a FIFO once made a context read its own request
     * back as the answer) */
    g_assert_cmpint(xlev_ctx_new("/nonexistent/socket", &other), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_null(other);
    {
        g_autofree char *dir = g_dir_make_tmp("xlev-badpath-XXXXXX", NULL);
        g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
        g_autofree char *file = g_build_filename(dir, "file", NULL);

        g_assert_nonnull(dir);
        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        g_assert_true(g_file_set_contents(file, "x", 1, NULL));
        other = GINT_TO_POINTER(1);
        g_assert_cmpint(xlev_ctx_new(fifo, &other), ==, XLEV_ERROR_INVAL);
        g_assert_null(other);
        g_assert_cmpint(xlev_ctx_new(file, &other), ==, XLEV_ERROR_INVAL);
        g_assert_null(other);
        g_assert_cmpint(xlev_ctx_new(dir, &other), ==, XLEV_ERROR_INVAL);
        g_assert_null(other);
        g_assert_cmpint(xlev_ctx_new("", &other), ==, XLEV_ERROR_INVAL);
        unlink(fifo);
        unlink(file);
        rmdir(dir);
    }
    g_assert_cmpint(xlev_ctx_new(fx->socket_path, &other), ==, 0);
    xlev_ctx_free(other);

    /* a context without a daemon */
    xs_fixture_stop(fx);
    g_assert_cmpint(xlev_ctx_new(NULL, &other), ==, XLEV_ERROR_XENSTORE);
    g_assert_null(other);
    xlev_ctx_free(ctx);
}

static void
add_modes(const char *name, void (*fn)(XsFixture *, gconstpointer))
{
    core_test_add_modes_xs("xswatch", name, fn);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    add_modes("initial-and-change", test_initial_and_change);
    add_modes("deregister-inside-callback", test_deregister_inside_callback);
    add_modes("watch-fd-lazy-and-cloexec", test_15_watch_fd_lazy_and_cloexec);
    add_modes("many-random", test_many_random);
    add_modes("deregister-with-queued-events",
              test_deregister_with_queued_events);
    add_modes("borrowed-path", test_borrowed_path);
    g_test_add("/xlev/core/xswatch/suppress-non-child", XsFixture, NULL,
               xs_fixture_setup, test_suppress_non_child, xs_fixture_teardown);
    g_test_add("/xlev/core/xswatch/slot-reuse-stale-token", XsFixture, NULL,
               xs_fixture_setup, test_slot_reuse_stale_token,
               xs_fixture_teardown);
    g_test_add("/xlev/core/xswatch/deregister-waits-for-callback", XsFixture,
               NULL, xs_fixture_setup, test_deregister_waits_for_callback,
               xs_fixture_teardown);
    g_test_add("/xlev/core/xswatch/bad-input", XsFixture, NULL,
               xs_fixture_setup, test_bad_input, xs_fixture_teardown);
    g_test_add("/xlev/core/regress/06-xswatch-double-deregister", XsFixture,
               NULL, xs_fixture_setup, test_06_double_deregister,
               xs_fixture_teardown);
    g_test_add("/xlev/core/regress/15-watch-fd-lazy-and-cloexec", XsFixture,
               GINT_TO_POINTER(DRIVE_POLL), xs_fixture_setup,
               test_15_watch_fd_lazy_and_cloexec, xs_fixture_teardown);

    return g_test_run();
}
