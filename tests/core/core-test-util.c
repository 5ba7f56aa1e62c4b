/* core-test-util.c: drivers shared by the core's tests
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core-test-util.h"

const char *const drive_mode_names[3] = {"poll", "hooks", "mixed"};

void
core_test_add_modes_fixture(const char *group, const char *name,
                            gsize fixture_size, GTestFixtureFunc setup,
                            GTestFixtureFunc fn, GTestFixtureFunc teardown)
{
    int m;

    for (m = DRIVE_POLL; m <= DRIVE_MIXED; m++) {
        char *path = g_strdup_printf("/xlev/core/%s/%s/%s", group,
                                     drive_mode_names[m], name);

        g_test_add_vtable(path, fixture_size, GINT_TO_POINTER(m), setup, fn,
                          teardown);
        g_free(path);
    }
}

void
core_test_add_modes(const char *group, const char *name, GTestDataFunc fn)
{
    int m;

    for (m = DRIVE_POLL; m <= DRIVE_MIXED; m++) {
        char *path = g_strdup_printf("/xlev/core/%s/%s/%s", group,
                                     drive_mode_names[m], name);

        g_test_add_data_func(path, GINT_TO_POINTER(m), fn);
        g_free(path);
    }
}

/*
 * The hooks. Called by the core with its lock held: they only touch the
 * table (under th->lock), never the context.
 */

static int
should_fail(int *nth)
{
    if (*nth <= 0)
        return 0;
    return --*nth == 0;
}

/* Counts a register call; unless failure injection fails it, appends
 * entry to table and hands out its handle (for_app): its index + 1. */
static int
table_register(TestHooks *th, int *n_calls, int *fail_nth, GArray *table,
               const void *entry, void **for_app_out)
{
    g_mutex_lock(&th->lock);
    (*n_calls)++;
    if (should_fail(fail_nth)) {
        g_mutex_unlock(&th->lock);
        return th->fail_value;
    }
    g_array_append_vals(table, entry, 1);
    *for_app_out = GSIZE_TO_POINTER(table->len);
    g_mutex_unlock(&th->lock);
    return 0;
}

/* The registration a handle names (the caller holds th->lock). */
static TestHookFd *
fd_entry(TestHooks *th, void *for_app, int fd)
{
    guint i = GPOINTER_TO_SIZE(for_app);
    TestHookFd *r;

    g_assert_cmpuint(i, >=, 1);
    g_assert_cmpuint(i, <=, th->fds->len);
    r = &g_array_index(th->fds, TestHookFd, i - 1);
    g_assert_true(r->live);
    g_assert_cmpint(r->fd, ==, fd);
    return r;
}

static TestHookTime *
time_entry(TestHooks *th, void *for_app)
{
    guint i = GPOINTER_TO_SIZE(for_app);

    g_assert_cmpuint(i, >=, 1);
    g_assert_cmpuint(i, <=, th->times->len);
    return &g_array_index(th->times, TestHookTime, i - 1);
}

static int
th_fd_register(void *user, int fd, void **for_app_out, short events,
               void *for_xlev)
{
    TestHooks *th = user;
    TestHookFd r = {fd, events, for_xlev, 1};

    g_assert_cmpint(events, !=, 0); /* the contract: never 0 */
    g_assert_null(*for_app_out);
    return table_register(th, &th->n_fd_register, &th->fail_fd_register_nth,
                          th->fds, &r, for_app_out);
}

static int
th_fd_modify(void *user, int fd, void **for_app_io, short events)
{
    TestHooks *th = user;
    TestHookFd *r;

    g_assert_cmpint(events, !=, 0);
    g_mutex_lock(&th->lock);
    th->n_fd_modify++;
    r = fd_entry(th, *for_app_io, fd);
    if (should_fail(&th->fail_fd_modify_nth)) {
        g_mutex_unlock(&th->lock);
        return th->fail_value;
    }
    r->events = events;
    g_mutex_unlock(&th->lock);
    return 0;
}

static void
th_fd_deregister(void *user, int fd, void *for_app)
{
    TestHooks *th = user;
    TestHookFd *r;

    g_mutex_lock(&th->lock);
    th->n_fd_deregister++;
    r = fd_entry(th, for_app, fd);
    r->live = 0;
    g_mutex_unlock(&th->lock);
}

static int
th_timeout_register(void *user, void **for_app_out, struct timeval abs,
                    void *for_xlev)
{
    TestHooks *th = user;
    TestHookTime r = {abs, for_xlev, 1};

    g_assert_null(*for_app_out);
    return table_register(th, &th->n_timeout_register,
                          &th->fail_timeout_register_nth, th->times, &r,
                          for_app_out);
}

static int
th_timeout_modify(void *user, void **for_app_io, struct timeval abs)
{
    TestHooks *th = user;
    TestHookTime *r;

    g_mutex_lock(&th->lock);
    th->n_timeout_modify++;
    r = time_entry(th, *for_app_io);
    g_assert_true(r->live);
    r->abs = abs;
    g_mutex_unlock(&th->lock);
    return 0;
}

static void
th_timeout_deregister(void *user, void *for_app)
{
    TestHooks *th = user;
    TestHookTime *r;

    g_mutex_lock(&th->lock);
    th->n_timeout_deregister++;
    r = time_entry(th, for_app);
    /* Not live: the loop already took it as due and is about to report it
     * (test_hooks_iterate) when a callback deregistered it. The contract
     * allows that; the report is then ignored. */
    r->live = 0;
    g_mutex_unlock(&th->lock);
}

const xlev_osevent_hooks test_hooks_vtable = {
    .fd_register = th_fd_register,
    .fd_modify = th_fd_modify,
    .fd_deregister = th_fd_deregister,
    .timeout_register = th_timeout_register,
    .timeout_modify = th_timeout_modify,
    .timeout_deregister = th_timeout_deregister,
};

void
test_hooks_init(TestHooks *th)
{
    memset(th, 0, sizeof(*th));
    g_mutex_init(&th->lock);
    th->fds = g_array_new(FALSE, TRUE, sizeof(TestHookFd));
    th->times = g_array_new(FALSE, TRUE, sizeof(TestHookTime));
}

void
test_hooks_clear(TestHooks *th)
{
    g_array_unref(th->fds);
    g_array_unref(th->times);
    g_mutex_clear(&th->lock);
}

static void
test_hooks_register(TestHooks *th, xlev_ctx *ctx)
{
    g_assert_cmpint(xlev_osevent_register_hooks(ctx, &test_hooks_vtable, th),
                    ==, 0);
}

void
test_hooks_install(TestHooks *th, xlev_ctx *ctx)
{
    test_hooks_init(th);
    test_hooks_register(th, ctx);
}

int
test_hooks_n_live_fds(TestHooks *th)
{
    int n = 0;
    guint i;

    g_mutex_lock(&th->lock);
    for (i = 0; i < th->fds->len; i++)
        n += g_array_index(th->fds, TestHookFd, i).live;
    g_mutex_unlock(&th->lock);
    return n;
}

int
test_hooks_n_live_times(TestHooks *th)
{
    int n = 0;
    guint i;

    g_mutex_lock(&th->lock);
    for (i = 0; i < th->times->len; i++)
        n += g_array_index(th->times, TestHookTime, i).live;
    g_mutex_unlock(&th->lock);
    return n;
}

int
test_hooks_find_fd(TestHooks *th, int fd, TestHookFd *out)
{
    int found = 0;
    guint i;

    g_mutex_lock(&th->lock);
    for (i = 0; i < th->fds->len; i++) {
        TestHookFd *r = &g_array_index(th->fds, TestHookFd, i);

        if (r->live && r->fd == fd) {
            g_assert_false(found); /* one registration per fd */
            *out = *r;
            found = 1;
        }
    }
    g_mutex_unlock(&th->lock);
    return found;
}

static gint64
tv_us(struct timeval tv)
{
    return (gint64)tv.tv_sec * G_USEC_PER_SEC + tv.tv_usec;
}

void
test_hooks_iterate(TestHooks *th, xlev_ctx *ctx, int max_ms)
{
    GArray *pfds = g_array_new(FALSE, TRUE, sizeof(struct pollfd));
    GPtrArray *fd_for = g_ptr_array_new();
    GPtrArray *due = g_ptr_array_new();
    struct timeval now;
    gint64 earliest = G_MAXINT64;
    int timeout = max_ms, r;
    guint i;

    g_mutex_lock(&th->lock);
    for (i = 0; i < th->fds->len; i++) {
        TestHookFd *f = &g_array_index(th->fds, TestHookFd, i);
        struct pollfd p = {f->fd, f->events, 0};

        if (!f->live)
            continue;
        g_array_append_val(pfds, p);
        g_ptr_array_add(fd_for, f->for_xlev);
    }
    for (i = 0; i < th->times->len; i++) {
        TestHookTime *t = &g_array_index(th->times, TestHookTime, i);

        if (t->live && tv_us(t->abs) < earliest)
            earliest = tv_us(t->abs);
    }
    g_mutex_unlock(&th->lock);

    xlev_osevent_now(ctx, &now);
    if (earliest != G_MAXINT64) {
        gint64 ms = (earliest - tv_us(now) + 999) / 1000;

        if (ms < 0)
            ms = 0;
        if (ms < timeout)
            timeout = (int)ms;
    }

    r = poll((struct pollfd *)pfds->data, pfds->len, timeout);
    g_assert_cmpint(r, >=, 0);

    /* Report fds (the core re-polls, so a stale report is fine). */
    for (i = 0; i < pfds->len; i++) {
        struct pollfd *p = &g_array_index(pfds, struct pollfd, i);

        if (p->revents) {
            xlev_osevent_occurred_fd(ctx, g_ptr_array_index(fd_for, i), p->fd,
                                     p->events, p->revents);
            if (th->after_report)
                th->after_report(th->after_report_data);
        }
    }

    /* Due timeouts: deregistered implicitly, then reported. */
    xlev_osevent_now(ctx, &now);
    g_mutex_lock(&th->lock);
    for (i = 0; i < th->times->len; i++) {
        TestHookTime *t = &g_array_index(th->times, TestHookTime, i);

        if (t->live && tv_us(t->abs) <= tv_us(now)) {
            t->live = 0;
            g_ptr_array_add(due, t->for_xlev);
        }
    }
    g_mutex_unlock(&th->lock);
    for (i = 0; i < due->len; i++) {
        xlev_osevent_occurred_timeout(ctx, g_ptr_array_index(due, i));
        if (th->after_report)
            th->after_report(th->after_report_data);
    }

    g_ptr_array_unref(due);
    g_ptr_array_unref(fd_for);
    g_array_unref(pfds);
}

void
test_poll_iterate(xlev_ctx *ctx, int max_ms)
{
    struct pollfd *fds = NULL;
    struct timeval now;
    int nfds = 0, timeout = max_ms, rc, r;

    for (;;) {
        xlev_osevent_now(ctx, &now);
        rc = xlev_osevent_beforepoll(ctx, &nfds, fds, &timeout, now);
        if (rc != XLEV_ERROR_BUFFERFULL)
            break;
        fds = g_renew(struct pollfd, fds, nfds);
    }
    g_assert_cmpint(rc, ==, 0);
    g_assert_cmpint(timeout, <=, max_ms);
    r = poll(fds, nfds, timeout);
    g_assert_cmpint(r, >=, 0);
    xlev_osevent_now(ctx, &now);
    rc = xlev_osevent_afterpoll(ctx, nfds, fds, now);
    g_assert_cmpint(rc, ==, 0);
    g_free(fds);
}

void
drive_init(Drive *d, DriveMode mode, xlev_ctx *ctx)
{
    memset(d, 0, sizeof(*d));
    d->mode = mode;
    d->ctx = ctx;
    test_hooks_init(&d->hooks);
    if (mode == DRIVE_HOOKS) {
        test_hooks_register(&d->hooks, ctx);
        d->prepared = 1;
    }
}

void
drive_prepare(Drive *d)
{
    if (d->prepared)
        return;
    d->prepared = 1;
    if (d->mode == DRIVE_MIXED) {
        /* one poll-style round first, then hand over to the hooks */
        test_poll_iterate(d->ctx, 0);
        test_hooks_register(&d->hooks, d->ctx);
    }
}

void
drive_iterate(Drive *d, int max_ms)
{
    drive_prepare(d);
    switch (d->mode) {
    case DRIVE_POLL:
        test_poll_iterate(d->ctx, max_ms);
        break;
    case DRIVE_HOOKS:
        test_hooks_iterate(&d->hooks, d->ctx, max_ms);
        break;
    case DRIVE_MIXED:
        /* the hooks loop, plus an afterpoll now and then: both styles on
         * one context */
        test_hooks_iterate(&d->hooks, d->ctx, max_ms);
        test_poll_iterate(d->ctx, 0);
        break;
    }
}

int
drive_until(Drive *d, volatile int *flag, int timeout_ms)
{
    gint64 deadline = test_now_ms() + timeout_ms;

    while (!*flag) {
        gint64 left = deadline - test_now_ms();

        if (left <= 0)
            break;
        drive_iterate(d, (int)MIN(left, 100));
    }
    return *flag;
}

void
drive_clear(Drive *d)
{
    test_hooks_clear(&d->hooks);
}

void
drive_free_ctx(Drive *d)
{
    xlev_ctx_free(d->ctx);
    drive_clear(d);
}

xlev_ctx *
test_ctx_new(void)
{
    xlev_ctx *ctx = NULL;

    g_assert_cmpint(xlev__test_ctx_new_no_xenstore(&ctx), ==, 0);
    g_assert_nonnull(ctx);
    return ctx;
}

void
test_pipe(int fds[2])
{
    g_assert_cmpint(pipe2(fds, O_CLOEXEC | O_NONBLOCK), ==, 0);
}

gint64
test_now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}
