/* core-test-util.h: drivers shared by the core's tests
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Two ways of running a context, so that every scenario can be driven by
 * both and by a mix:
 *   - a plain poll(2) loop around xlev_osevent_beforepoll/afterpoll;
 *   - a tiny poll-based implementation of xlev_osevent_hooks (TestHooks),
 *     the way an application with its own event library would do it.
 */
#pragma once

#include <glib.h>
#include <poll.h>

#include "xlev-event-private.h"

typedef enum {
    DRIVE_POLL,  /* beforepoll/afterpoll only */
    DRIVE_HOOKS, /* hooks installed before any registration */
    DRIVE_MIXED, /* registrations made in poll style, hooks installed by
                  * drive_prepare(), after them; afterpoll still called */
} DriveMode;

extern const char *const drive_mode_names[3];

/* The DriveMode of a test added by core_test_add_modes*() (its data). */
#define MODE(data) ((DriveMode)GPOINTER_TO_INT(data))

/* Adds one test per drive mode, /xlev/core/GROUP/MODE/NAME, with the
 * DriveMode as its data (GINT_TO_POINTER). */
void core_test_add_modes(const char *group, const char *name,
                         GTestDataFunc fn);
/* The same for a fixture test (as g_test_add(): FIXTURE_SIZE bytes, set up
 * and torn down around each run). */
void core_test_add_modes_fixture(const char *group, const char *name,
                                 gsize fixture_size, GTestFixtureFunc setup,
                                 GTestFixtureFunc fn,
                                 GTestFixtureFunc teardown);
/* The same on the xenstored fixture: FN is a
 * void (*)(XsFixture *, gconstpointer); for tests that include
 * xs-fixture.h. */
#define core_test_add_modes_xs(group, name, fn)                               \
    G_STMT_START {                                                            \
        void (*fn_)(XsFixture *, gconstpointer) = (fn);                       \
                                                                              \
        core_test_add_modes_fixture((group), (name), sizeof(XsFixture),       \
                                    (GTestFixtureFunc)xs_fixture_setup,       \
                                    (GTestFixtureFunc)fn_,                    \
                                    (GTestFixtureFunc)xs_fixture_teardown);   \
    }                                                                         \
    G_STMT_END

typedef struct {
    int fd;
    short events;
    void *for_xlev;
    int live;
} TestHookFd;

typedef struct {
    struct timeval abs;
    void *for_xlev;
    int live;
} TestHookTime;

typedef struct {
    GMutex lock;
    GArray *fds;   /* TestHookFd, indexed by registration handle - 1 */
    GArray *times; /* TestHookTime */
    /* counters, for assertions */
    int n_fd_register, n_fd_modify, n_fd_deregister;
    int n_timeout_register, n_timeout_modify, n_timeout_deregister;
    /* failure injection: the next N-th call of that hook fails with
     * fail_value (0 disarmed) */
    int fail_fd_register_nth, fail_timeout_register_nth, fail_fd_modify_nth;
    int fail_value;
    /* called after each xlev_osevent_occurred_*() of test_hooks_iterate
     * (NULL: not), e.g. to measure what one report ran */
    void (*after_report)(void *data);
    void *after_report_data;
} TestHooks;

extern const xlev_osevent_hooks test_hooks_vtable;

void test_hooks_init(TestHooks *th);
void test_hooks_clear(TestHooks *th);
/* test_hooks_init(), then installs th on ctx with test_hooks_vtable
 * (asserted to succeed). */
void test_hooks_install(TestHooks *th, xlev_ctx *ctx);
/* live fd registrations / timeouts the hooks hold */
int test_hooks_n_live_fds(TestHooks *th);
int test_hooks_n_live_times(TestHooks *th);
/* the live registration of fd, or NULL (a copy into *out) */
int test_hooks_find_fd(TestHooks *th, int fd, TestHookFd *out);

/* One iteration of the hooks loop: poll the registered fds until the
 * earliest registered timeout (at most max_ms), then report. */
void test_hooks_iterate(TestHooks *th, xlev_ctx *ctx, int max_ms);

/* One iteration of the plain poll loop (at most max_ms). */
void test_poll_iterate(xlev_ctx *ctx, int max_ms);

/* A driver: a context and its mode. */
typedef struct {
    DriveMode mode;
    xlev_ctx *ctx;
    TestHooks hooks;
    int prepared;
} Drive;

void drive_init(Drive *d, DriveMode mode, xlev_ctx *ctx);
/* After the scenario's registrations: installs the hooks in mixed mode. */
void drive_prepare(Drive *d);
void drive_iterate(Drive *d, int max_ms);
/* Iterates until *flag is nonzero or timeout_ms passed; returns *flag. */
int drive_until(Drive *d, volatile int *flag, int timeout_ms);
void drive_clear(Drive *d);
/* Frees d's context, then clears d. In that order: freeing the context
 * deregisters what it still holds through d's hooks. */
void drive_free_ctx(Drive *d);

/* A context without xenstore (pure unit tests). */
xlev_ctx *test_ctx_new(void);

/* A pipe with both ends non-blocking and close-on-exec. */
void test_pipe(int fds[2]);

/* Milliseconds of the monotonic clock. */
gint64 test_now_ms(void);
