/* test-xs-reconnect.c: a context that survives a daemon restart
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The fixture's real xenstored is killed (SIGKILL) and started again at the
 * same socket path (xs_fixture_restart). With XLEV_RECONNECT_AUTOMATIC the
 * application is told, through the hook: 0 once, then 1 once; no disaster;
 * what was in flight fails once with XLEV_ERROR_XENSTORE, and so does what
 * is started while disconnected; a transaction of the old connection stays
 * dead; every live watch gets one event for its own path after the hook
 * said 1, and real events again after that; a watch deregistered meanwhile
 * gets nothing; a timeout keeps firing through the outage. With NEVER the
 * single disaster stays. Every scenario in poll style, hooks style and both.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core-test-util.h"
#include "xs-fixture.h"

/* Generous deadlines for a loaded machine: a restart takes well under a
 * second, the first reconnect attempt comes after
 * XLEV_RECONNECT_BACKOFF_MIN_MS. */
#define DEADLINE_MS 5000
#define PROMPT_MS 500
#define TICK_MS 10

static int
scaled(int ms)
{
    return (int)xs_fixture_scale_ms(ms);
}

/* One sequence number for everything the application is told, so that the
 * order can be checked. */
static volatile int seq;

typedef struct {
    volatile int n; /* hook calls */
    int values[8];  /* what it said */
    int seq_of[8];  /* when */
    volatile int ndisasters;
} ConnProbe;

static void
conn_changed(void *user, int connected)
{
    ConnProbe *cp = user;

    if (cp->n < (int)G_N_ELEMENTS(cp->values)) {
        cp->values[cp->n] = connected;
        cp->seq_of[cp->n] = ++seq;
    }
    cp->n++;
}

static void
disaster_cb(void *user, xlev_disaster_kind kind, const char *msg, int errnoval)
{
    ConnProbe *cp = user;

    g_test_message("disaster %d: %s", (int)kind, msg);
    cp->ndisasters++;
}

typedef struct {
    xlev_ev_xswatch w;
    volatile int calls;
    int own_path_calls; /* event_path == watch_path */
    int last_seq;
    char last[64];
} Probe;

static void
watch_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
         const char *epath)
{
    Probe *p = (Probe *)w;

    p->calls++;
    if (strcmp(wpath, epath) == 0)
        p->own_path_calls++;
    p->last_seq = ++seq;
    g_strlcpy(p->last, epath, sizeof(p->last));
}

static void
start_watch(xlev_ctx *ctx, Drive *d, Probe *p, const char *path)
{
    memset(p, 0, sizeof(*p));
    xlev_ev_xswatch_init(&p->w);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p->w, watch_cb, path), ==,
                    0);
    /* the initial event */
    g_assert_true(drive_until(d, &p->calls, scaled(DEADLINE_MS)));
    p->calls = 0;
    p->own_path_calls = 0;
}

typedef struct {
    xlev_ev_time t;
    volatile int fired;
} Ticker;

static void
tick_cb(xlev_ctx *ctx, xlev_ev_time *ev, const struct timeval *abs)
{
    Ticker *tk = (Ticker *)ev;

    tk->fired++;
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, ev, tick_cb, TICK_MS), ==,
                    0);
}

typedef struct {
    volatile int calls;
    int rc;
} Reply;

static void
reply_cb(xlev_ctx *ctx, void *user, int rc, const char *value, unsigned int len)
{
    Reply *r = user;

    r->calls++;
    r->rc = rc;
}

/* xlev_xs_transaction_start_async's answer */
typedef struct {
    volatile int calls;
    int rc;
    uint32_t tx;
} TxReply;

static void
tx_cb(xlev_ctx *ctx, void *user, int rc, uint32_t tx_id)
{
    TxReply *r = user;

    r->calls++;
    r->rc = rc;
    r->tx = tx_id;
}

static uint32_t
start_tx_async(xlev_ctx *ctx, Drive *d)
{
    TxReply tr = {0};

    g_assert_cmpint(xlev_xs_transaction_start_async(ctx, tx_cb, &tr), ==, 0);
    g_assert_true(drive_until(d, &tr.calls, scaled(DEADLINE_MS)));
    g_assert_cmpint(tr.calls, ==, 1);
    g_assert_cmpint(tr.rc, ==, 0);
    g_assert_cmpuint(tr.tx, !=, 0);
    return tr.tx;
}

static xlev_ctx *
ctx_new(ConnProbe *cp, Drive *d, DriveMode mode, xlev_reconnect_policy pol)
{
    static const xlev_reconnect_hooks hooks = { conn_changed };
    xlev_ctx *ctx = NULL;

    g_assert_cmpint(xlev_ctx_new(NULL, &ctx), ==, 0);
    memset(cp, 0, sizeof(*cp));
    xlev_ctx_set_disaster_hook(ctx, disaster_cb, cp);
    g_assert_cmpint(xlev_ctx_set_reconnect(ctx, pol, &hooks, cp), ==, 0);
    g_assert_cmpint(xlev_ctx_get_reconnect(ctx), ==, pol);
    drive_init(d, mode, ctx);
    return ctx;
}

/* Drives until the hook has been called n times (or the deadline). */
static int
drive_until_hook(Drive *d, ConnProbe *cp, int n)
{
    gint64 deadline = test_now_ms() + scaled(DEADLINE_MS);

    while (cp->n < n && test_now_ms() < deadline)
        drive_iterate(d, 20);
    return cp->n >= n;
}

/* Drives for about ms. */
static void
drive_for(Drive *d, int ms)
{
    gint64 end = test_now_ms() + ms;

    while (test_now_ms() < end)
        drive_iterate(d, (int)MAX(1, MIN(end - test_now_ms(), 20)));
}

/* SIGKILL, reaped. */
static void
kill_daemon(XsFixture *fx)
{
    gint64 deadline = test_now_ms() + scaled(DEADLINE_MS);

    g_assert_cmpint(kill(fx->pid, SIGKILL), ==, 0);
    while (xs_fixture_daemon_alive(fx)) {
        g_assert_cmpint(test_now_ms(), <, deadline);
        g_usleep(1000);
    }
}

static void
restart_daemon(XsFixture *fx)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(xs_fixture_restart(fx, &error));
    g_assert_no_error(error);
}

/* While disconnected, everything fails at once with XLEV_ERROR_XENSTORE,
 * and an asynchronous call is refused (its callback never runs). */
static void
assert_disconnected(xlev_ctx *ctx, uint32_t tx)
{
    gint64 start = test_now_ms();
    char *value = NULL;
    Reply never = { 0 };
    uint32_t tx2 = 0;
    xlev_ev_xswatch w;

    g_assert_false(xlev_ctx_is_connected(ctx));
    g_assert_cmpint(xlev_xs_read(ctx, "/rc/a", &value, NULL), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_null(value);
    g_assert_cmpint(xlev_xs_write(ctx, "/rc/a", "x", 1), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_cmpint(xlev_xs_read_async(ctx, 0, "/rc/a", reply_cb, &never), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_cmpint(xlev_xs_transaction_start(ctx, &tx2), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_cmpint(xlev_xs_write_tx(ctx, tx, "/rc/t", "x", 1), ==,
                    XLEV_ERROR_XENSTORE);
    xlev_ev_xswatch_init(&w);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &w, watch_cb, "/rc/new"), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_false(xlev_ev_xswatch_isregistered(&w));
    g_assert_cmpint(test_now_ms() - start, <, scaled(PROMPT_MS));
    g_assert_cmpint(never.calls, ==, 0);
}

/* The whole story: watches, a cancelled watch, pending asynchronous
 * operations, an open transaction and a live timeout across SIGKILL and a
 * restart at the same path. */
static void
test_automatic(XsFixture *fx, gconstpointer data)
{
    ConnProbe cp;
    Probe a, b, gone;
    Ticker tk;
    Reply r1 = { 0 }, r2 = { 0 };
    uint32_t tx = 0, tx3 = 0, txa, txb;
    Reply wb = {0}, eb = {0}, ea = {0};
    char *value = NULL;
    int fired_at_loss, hook1_seq;
    xlev_ctx *ctx;
    Drive d;

    ctx = ctx_new(&cp, &d, MODE(data), XLEV_RECONNECT_AUTOMATIC);
    g_assert_true(xlev_ctx_is_connected(ctx));
    g_assert_cmpint(xlev_xs_write(ctx, "/rc/a", "1", 1), ==, 0);
    start_watch(ctx, &d, &a, "/rc/a");
    start_watch(ctx, &d, &b, "/rc/b");
    start_watch(ctx, &d, &gone, "/rc/gone");
    g_assert_cmpint(xlev_xs_transaction_start(ctx, &tx), ==, 0);
    g_assert_cmpint(xlev_xs_write_tx(ctx, tx, "/rc/t", "1", 1), ==, 0);
    drive_prepare(&d);
    txa = start_tx_async(ctx, &d);
    g_assert_cmpuint(txa, !=, tx);
    memset(&tk, 0, sizeof(tk));
    xlev_ev_time_init(&tk.t);
    g_assert_cmpint(xlev_ev_time_register_rel(ctx, &tk.t, tick_cb, TICK_MS), ==,
                    0);

    /* Requests in flight at the loss: the daemon is stopped, so they are
     * sent and never answered. */
    g_assert_cmpint(kill(fx->pid, SIGSTOP), ==, 0);
    g_assert_cmpint(xlev_xs_read_async(ctx, 0, "/rc/a", reply_cb, &r1), ==, 0);
    g_assert_cmpint(xlev_xs_write_async(ctx, 0, "/rc/w", "1", 1, reply_cb, &r2),
                    ==, 0);
    kill_daemon(fx);

    /* Lost: the hook says 0 once, the pending operations fail once. */
    g_assert_true(drive_until_hook(&d, &cp, 1));
    g_assert_cmpint(cp.values[0], ==, 0);
    g_assert_true(drive_until(&d, &r2.calls, scaled(DEADLINE_MS)));
    g_assert_cmpint(r1.calls, ==, 1);
    g_assert_cmpint(r1.rc, ==, XLEV_ERROR_XENSTORE);
    g_assert_cmpint(r2.calls, ==, 1);
    g_assert_cmpint(r2.rc, ==, XLEV_ERROR_XENSTORE);
    assert_disconnected(ctx, tx);

    /* The outage: the timeout keeps firing, the watch is cancelled, the
     * core keeps trying (and failing) to connect. */
    fired_at_loss = tk.fired;
    xlev_ev_xswatch_deregister(ctx, &gone.w);
    drive_for(&d, scaled(300));
    g_assert_cmpint(tk.fired - fired_at_loss, >=, 5);
    g_assert_cmpint(cp.n, ==, 1);
    g_assert_false(xlev_ctx_is_connected(ctx));

    restart_daemon(fx);
    g_assert_true(drive_until_hook(&d, &cp, 2));
    g_assert_cmpint(cp.values[1], ==, 1);
    hook1_seq = cp.seq_of[1];
    g_assert_true(xlev_ctx_is_connected(ctx));
    /* One event each, for its own path, after the hook said 1. */
    g_assert_true(drive_until(&d, &a.calls, scaled(DEADLINE_MS)));
    g_assert_true(drive_until(&d, &b.calls, scaled(DEADLINE_MS)));
    drive_for(&d, scaled(100));
    g_assert_cmpint(a.calls, ==, 1);
    g_assert_cmpint(a.own_path_calls, ==, 1);
    g_assert_cmpint(b.calls, ==, 1);
    g_assert_cmpint(b.own_path_calls, ==, 1);
    g_assert_cmpint(a.last_seq, >, hook1_seq);
    g_assert_cmpint(b.last_seq, >, hook1_seq);
    g_assert_cmpint(gone.calls, ==, 0);

    /* The new daemon's tree is fresh: the handler's re-read finds that. */
    g_assert_cmpint(xlev_xs_read(ctx, "/rc/a", &value, NULL), ==,
                    XLEV_ERROR_NOENT);
    /* Real events again. */
    g_assert_cmpint(xlev_xs_write(ctx, "/rc/a/x", "2", 1), ==, 0);
    a.calls = 0;
    g_assert_true(drive_until(&d, &a.calls, scaled(DEADLINE_MS)));
    g_assert_cmpstr(a.last, ==, "/rc/a/x");
    g_assert_cmpint(b.calls, ==, 1);

    /* The old transaction stays dead: nothing is sent with its id (the
     * new daemon hands out the same numbers again). */
    g_assert_cmpint(xlev_xs_transaction_start(ctx, &tx3), ==, 0);
    g_assert_cmpuint(tx3, !=, tx);
    g_assert_cmpint(xlev_xs_read_tx(ctx, tx, "/rc/a/x", &value, NULL), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_null(value);
    g_assert_cmpint(xlev_xs_write_tx(ctx, tx, "/rc/t", "1", 1), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_cmpint(xlev_xs_transaction_end(ctx, tx, 1), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_cmpint(xlev_xs_transaction_end(ctx, tx, 1), ==, XLEV_ERROR_NOENT);
    g_assert_cmpint(xlev_xs_write_tx(ctx, tx3, "/rc/t3", "3", 1), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_end(ctx, tx3, 1), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/rc/t3", &value, NULL), ==, 0);
    g_assert_cmpstr(value, ==, "3");
    free(value);
    value = NULL;
    g_assert_cmpint(xlev_xs_read(ctx, "/rc/t", &value, NULL), ==,
                    XLEV_ERROR_NOENT);

    /* The asynchronous start and end name transactions as the blocking
     * ones do: the one started before the loss is refused unsent (and then
     * unknown), a new one works. */
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, txa, 1, reply_cb, &ea),
                    ==, XLEV_ERROR_XENSTORE);
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, txa, 1, reply_cb, &ea),
                    ==, XLEV_ERROR_NOENT);
    g_assert_cmpint(ea.calls, ==, 0);
    txb = start_tx_async(ctx, &d);
    g_assert_cmpint(
        xlev_xs_write_async(ctx, txb, "/rc/tb", "b", 1, reply_cb, &wb), ==, 0);
    g_assert_true(drive_until(&d, &wb.calls, scaled(DEADLINE_MS)));
    g_assert_cmpint(wb.rc, ==, 0);
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, txb, 1, reply_cb, &eb),
                    ==, 0);
    g_assert_true(drive_until(&d, &eb.calls, scaled(DEADLINE_MS)));
    g_assert_cmpint(eb.rc, ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/rc/tb", &value, NULL), ==, 0);
    g_assert_cmpstr(value, ==, "b");
    free(value);
    value = NULL;
    /* ended: the id is gone */
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, txb, 1, reply_cb, &eb),
                    ==, XLEV_ERROR_NOENT);
    g_assert_cmpint(eb.calls, ==, 1);

    /* Told once each way, never a disaster, and the pending operations
     * were not completed again. */
    g_assert_cmpint(cp.n, ==, 2);
    g_assert_cmpint(cp.ndisasters, ==, 0);
    g_assert_cmpint(r1.calls, ==, 1);
    g_assert_cmpint(r2.calls, ==, 1);
    g_assert_cmpint(gone.calls, ==, 0);

    /* A second restart works the same way. */
    kill_daemon(fx);
    restart_daemon(fx);
    a.calls = 0;
    g_assert_true(drive_until_hook(&d, &cp, 4));
    g_assert_cmpint(cp.values[2], ==, 0);
    g_assert_cmpint(cp.values[3], ==, 1);
    g_assert_true(drive_until(&d, &a.calls, scaled(DEADLINE_MS)));
    g_assert_cmpint(a.own_path_calls, >=, 2);

    xlev_ev_xswatch_deregister(ctx, &a.w);
    xlev_ev_xswatch_deregister(ctx, &b.w);
    xlev_ev_time_deregister(ctx, &tk.t);
    drive_free_ctx(&d);
}

/* A blocking call waiting in another thread when the daemon dies (it
 * polls the old socket itself) fails once with XLEV_ERROR_XENSTORE; the
 * context then reconnects (the new socket is installed only once that
 * caller has left the old one) and blocking calls work again. */
typedef struct {
    xlev_ctx *ctx;
    gint done; /* atomic */
    int rc;
} Blocked;

static gpointer
blocked_read(gpointer data)
{
    Blocked *b = data;
    char *value = NULL;

    b->rc = xlev_xs_read(b->ctx, "/rc/a", &value, NULL);
    free(value);
    g_atomic_int_set(&b->done, 1);
    return NULL;
}

static void
test_blocking_caller(XsFixture *fx, gconstpointer data)
{
    ConnProbe cp;
    Blocked b = { 0 };
    GThread *t;
    char *value = NULL;
    xlev_ctx *ctx;
    Drive d;

    ctx = ctx_new(&cp, &d, MODE(data), XLEV_RECONNECT_AUTOMATIC);
    drive_prepare(&d);
    g_assert_cmpint(xlev_xs_write(ctx, "/rc/a", "1", 1), ==, 0);
    g_assert_cmpint(kill(fx->pid, SIGSTOP), ==, 0);
    b.ctx = ctx;
    t = g_thread_new("blocked-read", blocked_read, &b);
    drive_for(&d, 50); /* the request is out, the caller waits */
    g_assert_false(g_atomic_int_get(&b.done));
    kill_daemon(fx);
    {
        gint64 deadline = test_now_ms() + scaled(DEADLINE_MS);

        while (!g_atomic_int_get(&b.done) && test_now_ms() < deadline)
            drive_iterate(&d, 20);
    }
    g_assert_true(g_atomic_int_get(&b.done));
    g_thread_join(t);
    g_assert_cmpint(b.rc, ==, XLEV_ERROR_XENSTORE);
    g_assert_true(drive_until_hook(&d, &cp, 1));

    restart_daemon(fx);
    g_assert_true(drive_until_hook(&d, &cp, 2));
    g_assert_cmpint(cp.values[1], ==, 1);
    g_assert_cmpint(xlev_xs_write(ctx, "/rc/a", "2", 1), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/rc/a", &value, NULL), ==, 0);
    g_assert_cmpstr(value, ==, "2");
    free(value);
    g_assert_cmpint(cp.ndisasters, ==, 0);
    drive_free_ctx(&d);
}

/* With NEVER (the default) the old behaviour stays: one disaster, the
 * hook says 0, the context never comes back. */
static void
test_never(XsFixture *fx, gconstpointer data)
{
    ConnProbe cp;
    Probe a;
    xlev_ctx *ctx;
    Drive d;

    ctx = ctx_new(&cp, &d, MODE(data), XLEV_RECONNECT_NEVER);
    start_watch(ctx, &d, &a, "/rc/a");
    drive_prepare(&d);
    kill_daemon(fx);
    restart_daemon(fx);
    g_assert_true(drive_until(&d, &cp.ndisasters, scaled(DEADLINE_MS)));
    g_assert_true(drive_until_hook(&d, &cp, 1));
    g_assert_cmpint(cp.values[0], ==, 0);
    drive_for(&d, scaled(300));
    g_assert_cmpint(cp.ndisasters, ==, 1);
    g_assert_cmpint(cp.n, ==, 1);
    g_assert_cmpint(a.calls, ==, 0);
    g_assert_false(xlev_ctx_is_connected(ctx));
    g_assert_cmpint(xlev_xs_write(ctx, "/rc/a", "1", 1), ==,
                    XLEV_ERROR_XENSTORE);
    xlev_ev_xswatch_deregister(ctx, &a.w);
    drive_free_ctx(&d);
}

/* The policy may change at any time: AUTOMATIC after a loss under NEVER
 * (its disaster reported) connects again; NEVER while waiting stops and
 * raises the disaster NEVER would have. */
static void
test_policy_changes(XsFixture *fx, gconstpointer data)
{
    static const xlev_reconnect_hooks hooks = { conn_changed };
    ConnProbe cp;
    Probe a;
    xlev_ctx *ctx;
    Drive d;

    ctx = ctx_new(&cp, &d, MODE(data), XLEV_RECONNECT_NEVER);
    start_watch(ctx, &d, &a, "/rc/a");
    drive_prepare(&d);
    kill_daemon(fx);
    restart_daemon(fx);
    g_assert_true(drive_until(&d, &cp.ndisasters, scaled(DEADLINE_MS)));
    g_assert_true(drive_until_hook(&d, &cp, 1));
    g_assert_cmpint(
        xlev_ctx_set_reconnect(ctx, XLEV_RECONNECT_AUTOMATIC, &hooks, &cp), ==,
        0);
    g_assert_true(drive_until_hook(&d, &cp, 2));
    g_assert_cmpint(cp.values[1], ==, 1);
    g_assert_true(drive_until(&d, &a.calls, scaled(DEADLINE_MS)));
    g_assert_cmpint(a.own_path_calls, ==, 1);
    g_assert_true(xlev_ctx_is_connected(ctx));
    g_assert_cmpint(xlev_xs_write(ctx, "/rc/a", "1", 1), ==, 0);

    /* Lost again, with the daemon staying away: NEVER stops the attempts
     * with the one disaster. */
    kill_daemon(fx);
    g_assert_true(drive_until_hook(&d, &cp, 3));
    g_assert_cmpint(cp.values[2], ==, 0);
    g_assert_cmpint(cp.ndisasters, ==, 1);
    g_assert_cmpint(
        xlev_ctx_set_reconnect(ctx, XLEV_RECONNECT_NEVER, &hooks, &cp), ==, 0);
    restart_daemon(fx);
    drive_for(&d, scaled(300));
    g_assert_cmpint(cp.ndisasters, ==, 2);
    g_assert_cmpint(cp.n, ==, 3);
    g_assert_false(xlev_ctx_is_connected(ctx));
    xlev_ev_xswatch_deregister(ctx, &a.w);
    drive_free_ctx(&d);
}

/* The attempts back off: 50 ms, then doubling (the log says when the next
 * one comes). */
typedef struct {
    GMutex lock;
    GArray *next_ms;
} LogProbe;

static void
log_cb(void *user, int level, const char *msg)
{
    LogProbe *lp = user;
    const char *p = strstr(msg, "next attempt in ");

    if (!p)
        return;
    g_mutex_lock(&lp->lock);
    {
        int ms = atoi(p + strlen("next attempt in "));

        g_array_append_val(lp->next_ms, ms);
    }
    g_mutex_unlock(&lp->lock);
}

static void
test_backoff(XsFixture *fx, gconstpointer data)
{
    ConnProbe cp;
    LogProbe lp;
    Probe a;
    xlev_ctx *ctx;
    Drive d;
    guint i;

    g_mutex_init(&lp.lock);
    lp.next_ms = g_array_new(FALSE, FALSE, sizeof(int));
    ctx = ctx_new(&cp, &d, MODE(data), XLEV_RECONNECT_AUTOMATIC);
    xlev_ctx_set_logger(ctx, log_cb, &lp);
    start_watch(ctx, &d, &a, "/rc/a");
    drive_prepare(&d);
    kill_daemon(fx);
    /* Attempts at about 50, 150, 350 ms after the loss (later on a loaded
     * machine: the deadline is generous, the delays are what is checked). */
    {
        gint64 deadline = test_now_ms() + scaled(DEADLINE_MS);
        guint n = 0;

        while (n < 3 && test_now_ms() < deadline) {
            drive_iterate(&d, 20);
            g_mutex_lock(&lp.lock);
            n = lp.next_ms->len;
            g_mutex_unlock(&lp.lock);
        }
    }
    g_assert_cmpint(cp.n, ==, 1);
    g_assert_false(xlev_ctx_is_connected(ctx));
    g_mutex_lock(&lp.lock);
    g_assert_cmpuint(lp.next_ms->len, >=, 3);
    for (i = 0; i < lp.next_ms->len; i++) {
        int want = XLEV_RECONNECT_BACKOFF_MIN_MS << (i + 1);

        if (want > XLEV_RECONNECT_BACKOFF_MAX_MS)
            want = XLEV_RECONNECT_BACKOFF_MAX_MS;
        g_assert_cmpint(g_array_index(lp.next_ms, int, i), ==, want);
    }
    g_mutex_unlock(&lp.lock);
    restart_daemon(fx);
    g_assert_true(drive_until_hook(&d, &cp, 2));
    g_assert_cmpint(cp.values[1], ==, 1);
    xlev_ev_xswatch_deregister(ctx, &a.w);
    drive_free_ctx(&d);
    g_array_unref(lp.next_ms);
    g_mutex_clear(&lp.lock);
}

/* The xenbus transport (libxenstore) does not reconnect: AUTOMATIC is
 * refused, NEVER (with a hook) is fine. */
static void
test_xenbus_never_only(XsFixture *fx, gconstpointer data)
{
    static const xlev_reconnect_hooks hooks = { conn_changed };
    g_autoptr(GError) error = NULL;
    ConnProbe cp;
    xlev_ctx *ctx = NULL;

    if (!xs_fixture_hypervisor_preloaded()) {
        g_test_skip("the hypervisor stand-in is not preloaded");
        return;
    }
    g_assert_true(
        xs_fixture_select_transport(fx, XS_FIXTURE_TRANSPORT_XENBUS, &error));
    g_assert_no_error(error);
    g_assert_cmpint(xlev_ctx_new(NULL, &ctx), ==, 0);
    g_assert_cmpint(xlev_ctx_get_transport(ctx), ==, XLEV_XS_TRANSPORT_XENBUS);
    memset(&cp, 0, sizeof(cp));
    g_assert_cmpint(
        xlev_ctx_set_reconnect(ctx, XLEV_RECONNECT_AUTOMATIC, &hooks, &cp), ==,
        XLEV_ERROR_NOSYS);
    g_assert_cmpint(xlev_ctx_get_reconnect(ctx), ==, XLEV_RECONNECT_NEVER);
    g_assert_cmpint(
        xlev_ctx_set_reconnect(ctx, XLEV_RECONNECT_NEVER, &hooks, &cp), ==, 0);
    g_assert_true(xlev_ctx_is_connected(ctx));
    xlev_ctx_free(ctx);
}

/* Bad arguments are refused, never asserted on. */
static void
test_bad_args(XsFixture *fx, gconstpointer data)
{
    xlev_ctx *ctx = NULL;

    g_assert_cmpint(
        xlev_ctx_set_reconnect(NULL, XLEV_RECONNECT_AUTOMATIC, NULL, NULL), ==,
        XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ctx_is_connected(NULL), ==, 0);
    g_assert_cmpint(xlev_ctx_get_reconnect(NULL), ==, XLEV_RECONNECT_NEVER);
    g_assert_cmpint(xlev_ctx_new(NULL, &ctx), ==, 0);
    g_assert_cmpint(
        xlev_ctx_set_reconnect(ctx, (xlev_reconnect_policy)7, NULL, NULL), ==,
        XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ctx_get_reconnect(ctx), ==, XLEV_RECONNECT_NEVER);
    /* no hooks is fine */
    g_assert_cmpint(
        xlev_ctx_set_reconnect(ctx, XLEV_RECONNECT_AUTOMATIC, NULL, NULL), ==,
        0);
    g_assert_true(xlev_ctx_is_connected(ctx));
    xlev_ctx_free(ctx);
}

int
main(int argc, char **argv)
{
    xs_fixture_reexec_with_hypervisor(argv);
    g_test_init(&argc, &argv, NULL);
    core_test_add_modes_xs("reconnect", "automatic", test_automatic);
    core_test_add_modes_xs("reconnect", "never", test_never);
    core_test_add_modes_xs("reconnect", "blocking-caller",
                           test_blocking_caller);
    core_test_add_modes_xs("reconnect", "policy-changes", test_policy_changes);
    g_test_add("/xlev/core/reconnect/backoff", XsFixture,
               GINT_TO_POINTER(DRIVE_POLL), xs_fixture_setup, test_backoff,
               xs_fixture_teardown);
    g_test_add("/xlev/core/reconnect/xenbus-never-only", XsFixture, NULL,
               xs_fixture_setup, test_xenbus_never_only, xs_fixture_teardown);
    g_test_add("/xlev/core/reconnect/bad-args", XsFixture, NULL,
               xs_fixture_setup, test_bad_args, xs_fixture_teardown);
    return g_test_run();
}
