/* test-xs-engine.c: the core's own xenstore connection and the operations
 * a toolstack needs, over both transports, and against a misbehaving peer
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * /xlev/core/xs-engine/{socket,xenbus}/...  the same operations over the
 *     core's socket connection and over libxenstore on the xenbus device
 *     (the stand-in routes the device to the private daemon: this binary
 *     runs with it preloaded)
 * /xlev/core/xs-engine/bad-peer/...  tests/core/xs-bad-peer.h answers
 *     each request wrongly: a clear error or exactly one disaster, never a
 *     crash or a hang (the context timeout bounds every wait)
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "core-test-util.h"
#include "xs-bad-peer.h"
#include "xs-fixture.h"

typedef struct {
    int count;
    xlev_disaster_kind kind;
} Disasters;

static void
disaster_cb(void *user, xlev_disaster_kind kind, const char *msg, int errnoval)
{
    Disasters *d = user;

    d->count++;
    d->kind = kind;
}

static xlev_ctx *
ctx_on(const char *path, Disasters *d)
{
    xlev_ctx *ctx = NULL;

    g_assert_cmpint(xlev_ctx_new(path, &ctx), ==, 0);
    g_assert_nonnull(ctx);
    if (d)
        xlev_ctx_set_disaster_hook(ctx, disaster_cb, d);
    return ctx;
}

static void
select_transport(XsFixture *fx, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(xs_fixture_select_transport(fx, GPOINTER_TO_INT(data),
                                              &error));
    g_assert_no_error(error);
}

static int
n_threads(void)
{
    GDir *dir = g_dir_open("/proc/self/task", 0, NULL);
    int n = 0;

    g_assert_nonnull(dir);
    while (g_dir_read_name(dir))
        n++;
    g_dir_close(dir);
    return n;
}

/*======================================================================*/
/* Operations, both transports */

static void
test_ops(XsFixture *fx, gconstpointer data)
{
    static const char binary[] = {'a', '\0', 'b', '\xff', '\0'};
    xlev_xs_transport want = GPOINTER_TO_INT(data) ==
                                     XS_FIXTURE_TRANSPORT_XENBUS
                                 ? XLEV_XS_TRANSPORT_XENBUS
                                 : XLEV_XS_TRANSPORT_SOCKET;
    xlev_xs_perm perms[2] = {{0, XLEV_XS_PERM_NONE}, {5, XLEV_XS_PERM_READ}};
    xlev_xs_perm *got = NULL;
    char **entries = NULL;
    char *value = NULL;
    unsigned int len = 0, n = 0;
    uint32_t tx = 0, tx2 = 0;
    xlev_ctx *ctx;

    select_transport(fx, data);
    ctx = ctx_on(NULL, NULL);
    g_assert_cmpint(xlev_ctx_get_transport(ctx), ==, want);
    g_assert_cmpint(xlev_ctx_get_transport(NULL), ==, XLEV_XS_TRANSPORT_NONE);

    /* binary-safe values */
    g_assert_cmpint(xlev_xs_write(ctx, "/ops/bin", binary, sizeof(binary)),
                    ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/ops/bin", &value, &len), ==, 0);
    g_assert_cmpuint(len, ==, sizeof(binary));
    g_assert_cmpmem(value, len, binary, sizeof(binary));
    g_assert_cmpint(value[len], ==, '\0');
    free(value);

    /* mkdir, directory, rm; errors by name */
    g_assert_cmpint(xlev_xs_mkdir(ctx, 0, "/ops/dir/a"), ==, 0);
    g_assert_cmpint(xlev_xs_mkdir(ctx, 0, "/ops/dir/b"), ==, 0);
    g_assert_cmpint(xlev_xs_directory(ctx, "/ops/dir", &entries, &n), ==, 0);
    g_assert_cmpuint(n, ==, 2);
    g_assert_true((!strcmp(entries[0], "a") && !strcmp(entries[1], "b")) ||
                  (!strcmp(entries[0], "b") && !strcmp(entries[1], "a")));
    g_assert_null(entries[2]);
    free(entries);
    g_assert_cmpint(xlev_xs_read(ctx, "/ops/none", &value, NULL), ==,
                    XLEV_ERROR_NOENT);
    g_assert_cmpint(xlev_xs_rm(ctx, "/ops/dir"), ==, 0);
    g_assert_cmpint(xlev_xs_directory(ctx, "/ops/dir", &entries, &n), ==,
                    XLEV_ERROR_NOENT);

    /* permissions */
    g_assert_cmpint(xlev_xs_write(ctx, "/ops/perm", "x", 1), ==, 0);
    g_assert_cmpint(xlev_xs_set_perms(ctx, 0, "/ops/perm", perms, 2), ==, 0);
    g_assert_cmpint(xlev_xs_get_perms(ctx, 0, "/ops/perm", &got, &n), ==, 0);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(got[0].domid, ==, 0);
    g_assert_cmpint(got[0].mode, ==, XLEV_XS_PERM_NONE);
    g_assert_cmpuint(got[1].domid, ==, 5);
    g_assert_cmpint(got[1].mode, ==, XLEV_XS_PERM_READ);
    free(got);
    g_assert_cmpint(xlev_xs_set_perms(ctx, 0, "/ops/perm", perms, 0), ==,
                    XLEV_ERROR_INVAL);

    /* domain path */
    g_assert_cmpint(xlev_xs_get_domain_path(ctx, 7, &value), ==, 0);
    g_assert_cmpstr(value, ==, "/local/domain/7");
    free(value);

    /* transactions: commit, abort, and a conflict is AGAIN */
    g_assert_cmpint(xlev_xs_transaction_start(ctx, &tx), ==, 0);
    g_assert_cmpuint(tx, !=, 0);
    g_assert_cmpint(xlev_xs_write_tx(ctx, tx, "/ops/tx/a", "1", 1), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/ops/tx/a", &value, NULL), ==,
                    XLEV_ERROR_NOENT);
    g_assert_cmpint(xlev_xs_read_tx(ctx, tx, "/ops/tx/a", &value, &len), ==,
                    0);
    g_assert_cmpstr(value, ==, "1");
    free(value);
    g_assert_cmpint(xlev_xs_transaction_end(ctx, tx, 1), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/ops/tx/a", &value, NULL), ==, 0);
    free(value);

    g_assert_cmpint(xlev_xs_transaction_start(ctx, &tx), ==, 0);
    g_assert_cmpint(xlev_xs_write_tx(ctx, tx, "/ops/tx/b", "1", 1), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_end(ctx, tx, 0), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/ops/tx/b", &value, NULL), ==,
                    XLEV_ERROR_NOENT);

    g_assert_cmpint(xlev_xs_transaction_start(ctx, &tx), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_start(ctx, &tx2), ==, 0);
    g_assert_cmpint(xlev_xs_read_tx(ctx, tx, "/ops/tx/a", &value, NULL), ==,
                    0);
    free(value);
    g_assert_cmpint(xlev_xs_write_tx(ctx, tx, "/ops/tx/a", "2", 1), ==, 0);
    g_assert_cmpint(xlev_xs_write_tx(ctx, tx2, "/ops/tx/a", "3", 1), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_end(ctx, tx2, 1), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_end(ctx, tx, 1), ==,
                    XLEV_ERROR_AGAIN);
    g_assert_cmpint(xlev_xs_transaction_end(ctx, 0, 1), ==, XLEV_ERROR_INVAL);

    /* too long for the wire: refused before sending */
    {
        char *big = g_malloc0(XENSTORE_PAYLOAD_MAX + 1);

        g_assert_cmpint(xlev_xs_write(ctx, "/ops/big", big,
                                      XENSTORE_PAYLOAD_MAX + 1),
                        ==, XLEV_ERROR_TOO_BIG);
        g_free(big);
    }

    xlev_ctx_free(ctx);
}

/* The asynchronous operations beyond read/write/directory/rm, either
 * transport: each callback comes once, from the loop, with what the
 * blocking call would have returned. */
typedef struct {
    int calls;
    int rc;
    uint32_t tx_id;
    char *value;
    xlev_xs_perm perms[4];
    unsigned int n;
} AsyncAnswer;

static void
answer_reply(xlev_ctx *ctx, void *user, int rc, const char *value,
             unsigned int len)
{
    AsyncAnswer *a = user;

    a->calls++;
    a->rc = rc;
    g_free(a->value);
    a->value = rc == 0 ? g_strndup(value, len) : NULL;
}

static void
answer_tx(xlev_ctx *ctx, void *user, int rc, uint32_t tx_id)
{
    AsyncAnswer *a = user;

    a->calls++;
    a->rc = rc;
    a->tx_id = tx_id;
}

static void
answer_perms(xlev_ctx *ctx, void *user, int rc, const xlev_xs_perm *perms,
             unsigned int n)
{
    AsyncAnswer *a = user;

    a->calls++;
    a->rc = rc;
    a->n = n;
    if (rc == 0)
        memcpy(a->perms, perms, MIN(n, G_N_ELEMENTS(a->perms)) * sizeof(*perms));
}

/* Runs @ctx's loop until @a's callback came (once), then resets the count;
 * returns its rc. */
static int
await_answer(xlev_ctx *ctx, AsyncAnswer *a)
{
    gint64 end = g_get_monotonic_time() + xs_fixture_scale_ms(5000) * 1000;

    while (a->calls == 0 && g_get_monotonic_time() < end)
        test_poll_iterate(ctx, 50);
    test_poll_iterate(ctx, 0);
    g_assert_cmpint(a->calls, ==, 1);
    a->calls = 0;
    return a->rc;
}

static void
test_async_more(XsFixture *fx, gconstpointer data)
{
    xlev_xs_perm perms[2] = {{0, XLEV_XS_PERM_NONE}, {5, XLEV_XS_PERM_READ}};
    AsyncAnswer a = {0}, b = {0};
    char *value = NULL;
    uint32_t tx;
    xlev_ctx *ctx;

    select_transport(fx, data);
    ctx = ctx_on(NULL, NULL);

    /* mkdir; permissions set and read back */
    g_assert_cmpint(xlev_xs_mkdir_async(ctx, 0, "/am/dir", answer_reply, &a),
                    ==, 0);
    g_assert_cmpint(a.calls, ==, 0); /* from the loop, never at once */
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/am/dir", &value, NULL), ==, 0);
    g_assert_cmpstr(value, ==, "");
    free(value);
    g_assert_cmpint(xlev_xs_set_perms_async(ctx, 0, "/am/dir", perms, 2,
                                            answer_reply, &a),
                    ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpint(
        xlev_xs_get_perms_async(ctx, 0, "/am/dir", answer_perms, &a), ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpuint(a.n, ==, 2);
    g_assert_cmpuint(a.perms[1].domid, ==, 5);
    g_assert_cmpint(a.perms[1].mode, ==, XLEV_XS_PERM_READ);
    g_assert_cmpint(
        xlev_xs_get_perms_async(ctx, 0, "/am/none", answer_perms, &a), ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, XLEV_ERROR_NOENT);
    g_assert_cmpuint(a.n, ==, 0);
    /* bad input: refused before sending, no callback */
    g_assert_cmpint(xlev_xs_set_perms_async(ctx, 0, "/am/dir", perms, 0,
                                            answer_reply, &a),
                    ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_mkdir_async(ctx, 0, "no-slash", answer_reply, &a),
                    ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_get_domain_path_async(ctx, 70000, answer_reply,
                                                  &a),
                    ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_transaction_start_async(ctx, NULL, &a), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, 0, 1, answer_reply, &a),
                    ==, XLEV_ERROR_INVAL);
    test_poll_iterate(ctx, 20);
    g_assert_cmpint(a.calls, ==, 0);

    /* domain path */
    g_assert_cmpint(xlev_xs_get_domain_path_async(ctx, 7, answer_reply, &a),
                    ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpstr(a.value, ==, "/local/domain/7");

    /* a transaction, committed */
    g_assert_cmpint(xlev_xs_transaction_start_async(ctx, answer_tx, &a), ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpuint(a.tx_id, !=, 0);
    tx = a.tx_id;
    g_assert_cmpint(xlev_xs_write_async(ctx, tx, "/am/tx", "1", 1,
                                        answer_reply, &a),
                    ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/am/tx", &value, NULL), ==,
                    XLEV_ERROR_NOENT);
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, tx, 1, answer_reply, &a),
                    ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/am/tx", &value, NULL), ==, 0);
    g_assert_cmpstr(value, ==, "1");
    free(value);

    /* two racing: the second commit is AGAIN; an abort changes nothing */
    g_assert_cmpint(xlev_xs_transaction_start_async(ctx, answer_tx, &a), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_start_async(ctx, answer_tx, &b), ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpint(await_answer(ctx, &b), ==, 0);
    g_assert_cmpuint(a.tx_id, !=, b.tx_id);
    g_assert_cmpint(xlev_xs_read_tx(ctx, a.tx_id, "/am/tx", &value, NULL), ==,
                    0);
    free(value);
    g_assert_cmpint(xlev_xs_write_tx(ctx, a.tx_id, "/am/tx", "2", 1), ==, 0);
    g_assert_cmpint(xlev_xs_write_tx(ctx, b.tx_id, "/am/tx", "3", 1), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, b.tx_id, 1,
                                                  answer_reply, &b),
                    ==, 0);
    g_assert_cmpint(await_answer(ctx, &b), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, a.tx_id, 1,
                                                  answer_reply, &a),
                    ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, XLEV_ERROR_AGAIN);
    g_assert_cmpint(xlev_xs_transaction_start_async(ctx, answer_tx, &a), ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpint(xlev_xs_write_tx(ctx, a.tx_id, "/am/tx", "4", 1), ==, 0);
    g_assert_cmpint(xlev_xs_transaction_end_async(ctx, a.tx_id, 0,
                                                  answer_reply, &a),
                    ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/am/tx", &value, NULL), ==, 0);
    g_assert_cmpstr(value, ==, "3");
    free(value);

    /* freed with typed requests in flight: each callback once, CANCELLED
     * (the socket's are in flight; the xenbus transport's answered and
     * waiting for the loop are dropped with the queue) */
    if (xlev_ctx_get_transport(ctx) == XLEV_XS_TRANSPORT_SOCKET) {
        g_assert_cmpint(xlev_xs_transaction_start_async(ctx, answer_tx, &a),
                        ==, 0);
        g_assert_cmpint(
            xlev_xs_get_perms_async(ctx, 0, "/am/dir", answer_perms, &b), ==,
            0);
    }
    xlev_ctx_free(ctx);
    if (a.calls) {
        g_assert_cmpint(a.calls, ==, 1);
        g_assert_cmpint(a.rc, ==, XLEV_ERROR_CANCELLED);
        g_assert_cmpint(b.calls, ==, 1);
        g_assert_cmpint(b.rc, ==, XLEV_ERROR_CANCELLED);
    }
    g_free(a.value);
    g_free(b.value);
}

/* Watches over either transport: the initial event, a change below, none
 * after deregistration (which does not wait for the daemon). */
typedef struct {
    xlev_ev_xswatch w;
    int calls;
    int child;
} WatchProbe;

static void
probe_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
         const char *epath)
{
    WatchProbe *p = (WatchProbe *)w;

    p->calls++;
    if (strcmp(epath, "/wt/child") == 0)
        p->child++;
}

static void
test_watch(XsFixture *fx, gconstpointer data)
{
    WatchProbe p = {0};
    xlev_ctx *ctx, *other;
    gint64 end;
    int i;

    select_transport(fx, data);
    ctx = ctx_on(NULL, NULL);
    other = ctx_on(NULL, NULL);
    xlev_ev_xswatch_init(&p.w);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p.w, probe_cb, "/wt"), ==,
                    0);
    /* the daemon has it on return: a change from another connection now
     * fires */
    g_assert_cmpint(xlev_xs_write(other, "/wt/child", "1", 1), ==, 0);
    end = g_get_monotonic_time() + xs_fixture_scale_ms(5000) * 1000;
    while (p.child < 1 && g_get_monotonic_time() < end)
        test_poll_iterate(ctx, 50);
    g_assert_cmpint(p.child, ==, 1);
    g_assert_cmpint(p.calls, >=, 2);

    xlev_ev_xswatch_deregister(ctx, &p.w);
    p.calls = 0;
    g_assert_cmpint(xlev_xs_write(other, "/wt/child", "2", 1), ==, 0);
    for (i = 0; i < 5; i++)
        test_poll_iterate(ctx, 20);
    g_assert_cmpint(p.calls, ==, 0);
    xlev_ctx_free(other);
    xlev_ctx_free(ctx);
}

/* The C daemon answers a directory longer than one message with E2BIG;
 * oxenstored sends an oversized answer, which ends the connection (one
 * disaster). Either way a clear error. Socket transport. */
static void
test_large_directory(XsFixture *fx, gconstpointer data)
{
    Disasters d = {0};
    xlev_ctx *ctx = ctx_on(NULL, &d);
    char **entries = NULL;
    unsigned int n = 0;
    int i, rc;

    for (i = 0; i < 400; i++) {
        char path[64];

        g_snprintf(path, sizeof(path), "/large/entry-with-a-long-name-%04d",
                   i);
        g_assert_cmpint(xlev_xs_write(ctx, path, "", 0), ==, 0);
    }
    rc = xlev_xs_directory(ctx, "/large", &entries, &n);
    g_assert_null(entries);
    if (xs_fixture_daemon() == XS_FIXTURE_DAEMON_OXENSTORED) {
        g_assert_cmpint(rc, ==, XLEV_ERROR_XENSTORE);
        test_poll_iterate(ctx, 0);
        g_assert_cmpint(d.count, ==, 1);
        g_assert_cmpint(d.kind, ==, XLEV_DISASTER_XENSTORE);
    } else {
        g_assert_cmpint(rc, ==, XLEV_ERROR_TOO_BIG);
        test_poll_iterate(ctx, 0);
        g_assert_cmpint(d.count, ==, 0);
    }
    xlev_ctx_free(ctx);
}

/*======================================================================*/
/* Threads, asynchronous operations, timeouts */

typedef struct {
    int answered;
    int failed;
} AsyncCount;

static void
count_reply(xlev_ctx *ctx, void *user, int rc, const char *value,
            unsigned int len)
{
    AsyncCount *c = user;

    if (rc == 0 && len == 1 && value[0] == 'v')
        c->answered++;
    else
        c->failed++;
}

static void
watch_count_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
               const char *epath)
{
    int *calls = (int *)((char *)w + sizeof(*w));

    (*calls)++;
}

/* The socket transport starts no thread: not for the connection, not for
 * watches, not for asynchronous operations. */
static void
test_no_thread(XsFixture *fx, gconstpointer data)
{
    struct {
        xlev_ev_xswatch w;
        int calls;
    } watch = {0};
    AsyncCount c = {0};
    int before = n_threads(), i;
    gint64 end;
    xlev_ctx *ctx = ctx_on(NULL, NULL);
    char *value = NULL;

    g_assert_cmpint(xlev_ctx_get_transport(ctx), ==, XLEV_XS_TRANSPORT_SOCKET);
    xlev_ev_xswatch_init(&watch.w);
    g_assert_cmpint(
        xlev_ev_xswatch_register(ctx, &watch.w, watch_count_cb, "/nothread"),
        ==, 0);
    g_assert_cmpint(xlev_xs_write(ctx, "/nothread/k", "v", 1), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/nothread/k", &value, NULL), ==, 0);
    free(value);
    for (i = 0; i < 1000; i++)
        g_assert_cmpint(xlev_xs_read_async(ctx, 0, "/nothread/k", count_reply,
                                           &c),
                        ==, 0);
    end = g_get_monotonic_time() + xs_fixture_scale_ms(10000) * 1000;
    while ((c.answered + c.failed < 1000 || watch.calls < 2) &&
           g_get_monotonic_time() < end)
        test_poll_iterate(ctx, 50);
    g_assert_cmpint(c.answered, ==, 1000);
    g_assert_cmpint(c.failed, ==, 0);
    g_assert_cmpint(watch.calls, >=, 2);
    g_assert_cmpint(n_threads(), ==, before);
    xlev_ev_xswatch_deregister(ctx, &watch.w);
    xlev_ctx_free(ctx);
}

/* A context freed with asynchronous requests in flight calls each
 * callback once, with XLEV_ERROR_CANCELLED. */
static void
test_free_with_async_in_flight(XsFixture *fx, gconstpointer data)
{
    AsyncCount c = {0};
    xlev_ctx *ctx = ctx_on(NULL, NULL);
    int i;

    for (i = 0; i < 100; i++)
        g_assert_cmpint(xlev_xs_read_async(ctx, 0, "/none", count_reply, &c),
                        ==, 0);
    xlev_ctx_free(ctx);
    g_assert_cmpint(c.answered, ==, 0);
    g_assert_cmpint(c.failed, ==, 100);
}

/* A blocking call made from inside a watch callback (the loop's own
 * thread) reads the answer itself: no deadlock. */
typedef struct {
    xlev_ev_xswatch w;
    int calls;
    int read_rc;
} NestedProbe;

static void
nested_cb(xlev_ctx *ctx, xlev_ev_xswatch *w, const char *wpath,
          const char *epath)
{
    NestedProbe *p = (NestedProbe *)w;
    char *value = NULL;

    p->calls++;
    p->read_rc = xlev_xs_read(ctx, "/nested/k", &value, NULL);
    free(value);
}

static void
test_blocking_call_in_callback(XsFixture *fx, gconstpointer data)
{
    NestedProbe p = {0};
    xlev_ctx *ctx = ctx_on(NULL, NULL);
    gint64 end = g_get_monotonic_time() + xs_fixture_scale_ms(5000) * 1000;

    g_assert_cmpint(xlev_xs_write(ctx, "/nested/k", "v", 1), ==, 0);
    xlev_ev_xswatch_init(&p.w);
    g_assert_cmpint(xlev_ev_xswatch_register(ctx, &p.w, nested_cb, "/nested"),
                    ==, 0);
    while (p.calls < 1 && g_get_monotonic_time() < end)
        test_poll_iterate(ctx, 50);
    g_assert_cmpint(p.calls, ==, 1);
    g_assert_cmpint(p.read_rc, ==, 0);
    xlev_ev_xswatch_deregister(ctx, &p.w);
    xlev_ctx_free(ctx);
}

/* Blocking calls from several threads while another thread runs the
 * loop: every one answered, none stuck (the loop may read their answers
 * first). */
typedef struct {
    xlev_ctx *ctx;
    int index;
    int ok;
} Worker;

static gpointer
worker_thread(gpointer data)
{
    Worker *w = data;
    char path[64];
    int i;

    g_snprintf(path, sizeof(path), "/workers/%d", w->index);
    for (i = 0; i < 200; i++) {
        char *value = NULL;

        if (xlev_xs_write(w->ctx, path, "v", 1) == 0 &&
            xlev_xs_read(w->ctx, path, &value, NULL) == 0)
            w->ok++;
        free(value);
    }
    return NULL;
}

static void
test_threads_and_loop(XsFixture *fx, gconstpointer data)
{
    struct {
        xlev_ev_xswatch w;
        int calls;
    } watch = {0};
    Worker workers[4];
    GThread *threads[4];
    xlev_ctx *ctx = ctx_on(NULL, NULL);
    int i, running;

    xlev_ev_xswatch_init(&watch.w);
    g_assert_cmpint(
        xlev_ev_xswatch_register(ctx, &watch.w, watch_count_cb, "/workers"),
        ==, 0);
    for (i = 0; i < 4; i++) {
        workers[i] = (Worker){ctx, i, 0};
        threads[i] = g_thread_new("worker", worker_thread, &workers[i]);
    }
    do {
        test_poll_iterate(ctx, 10);
        running = 0;
        for (i = 0; i < 4; i++)
            running += workers[i].ok < 200;
    } while (running && watch.calls < 100000);
    for (i = 0; i < 4; i++) {
        g_thread_join(threads[i]);
        g_assert_cmpint(workers[i].ok, ==, 200);
    }
    for (i = 0; i < 20; i++)
        test_poll_iterate(ctx, 10);
    g_assert_cmpint(watch.calls, >, 1);
    xlev_ev_xswatch_deregister(ctx, &watch.w);
    xlev_ctx_free(ctx);
}

/* A registration made from another thread while the loop sleeps in poll
 * wakes it (the wake-up fd): a 50 ms timeout fires on time. */
typedef struct {
    xlev_ev_time t;
    gint64 fired_at;
} TimeProbe;

static void
time_cb(xlev_ctx *ctx, xlev_ev_time *t, const struct timeval *abs)
{
    ((TimeProbe *)t)->fired_at = g_get_monotonic_time();
}

static gpointer
register_later(gpointer data)
{
    void **args = data;

    g_usleep(100 * 1000);
    g_assert_cmpint(xlev_ev_time_register_rel(args[0], args[1], time_cb, 50),
                    ==, 0);
    return NULL;
}

static void
test_wakeup_from_thread(XsFixture *fx, gconstpointer data)
{
    TimeProbe p = {0};
    xlev_ctx *ctx = ctx_on(NULL, NULL);
    void *args[2] = {ctx, &p.t};
    GThread *t;
    gint64 start = g_get_monotonic_time();

    xlev_ev_time_init(&p.t);
    t = g_thread_new("register", register_later, args);
    /* one poll with no deadline of its own: only the wake-up ends it
     * before the 3 s bound */
    while (!p.fired_at && g_get_monotonic_time() - start < 3000 * 1000)
        test_poll_iterate(ctx, 3000);
    g_thread_join(t);
    g_assert_cmpint(p.fired_at, !=, 0);
    g_assert_cmpint(p.fired_at - start, <, xs_fixture_scale_ms(1500) * 1000);
    xlev_ctx_free(ctx);
}

/* The same with the application's own wake-up (xlev_ctx_set_wake_callback,
 * as XlevSource does with g_main_context_wakeup): beforepoll leaves the
 * context's fd out of the set, and the callback, here writing an eventfd
 * the test polls beside the core's set, ends the poll instead. */
static void
wake_by_eventfd(void *user)
{
    uint64_t one = 1;

    g_assert_cmpint(write(GPOINTER_TO_INT(user), &one, sizeof(one)), ==,
                    sizeof(one));
}

static int
n_before_poll(xlev_ctx *ctx)
{
    struct timeval now = {0, 0};
    int n = 0, timeout = -1;

    g_assert_cmpint(xlev_osevent_beforepoll(ctx, &n, NULL, &timeout, now), ==,
                    XLEV_ERROR_BUFFERFULL);
    return n;
}

static void
test_wakeup_callback(XsFixture *fx, gconstpointer data)
{
    TimeProbe p = {0};
    xlev_ctx *ctx = ctx_on(NULL, NULL);
    void *args[2] = {ctx, &p.t};
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), wakes = 0;
    GThread *t;
    gint64 start;

    g_assert_cmpint(efd, >=, 0);
    g_assert_cmpint(n_before_poll(ctx), ==, 2); /* socket + wake-up fd */
    xlev_ctx_set_wake_callback(ctx, wake_by_eventfd, GINT_TO_POINTER(efd));
    g_assert_cmpint(n_before_poll(ctx), ==, 1); /* the socket alone */

    xlev_ev_time_init(&p.t);
    start = g_get_monotonic_time();
    t = g_thread_new("register", register_later, args);
    while (!p.fired_at && g_get_monotonic_time() - start < 3000 * 1000) {
        struct pollfd fds[4];
        struct timeval now;
        int nfds = 3, timeout = 3000;
        uint64_t v;

        xlev_osevent_now(ctx, &now);
        g_assert_cmpint(xlev_osevent_beforepoll(ctx, &nfds, fds, &timeout, now),
                        ==, 0);
        fds[nfds].fd = efd;
        fds[nfds].events = POLLIN;
        fds[nfds].revents = 0;
        g_assert_cmpint(poll(fds, nfds + 1, timeout), >=, 0);
        if (fds[nfds].revents && read(efd, &v, sizeof(v)) == sizeof(v))
            wakes++;
        xlev_osevent_now(ctx, &now);
        g_assert_cmpint(xlev_osevent_afterpoll(ctx, nfds, fds, now), ==, 0);
    }
    g_thread_join(t);
    g_assert_cmpint(wakes, >=, 1);
    g_assert_cmpint(p.fired_at, !=, 0);
    g_assert_cmpint(p.fired_at - start, <, xs_fixture_scale_ms(1500) * 1000);

    /* NULL gives the fd back. */
    xlev_ctx_set_wake_callback(ctx, NULL, NULL);
    g_assert_cmpint(n_before_poll(ctx), ==, 2);
    xlev_ctx_free(ctx);
    close(efd);
}

/* Out of file descriptors: "too many open files", not "cannot be
 * reached". */
static void
test_out_of_fds(XsFixture *fx, gconstpointer data)
{
    struct rlimit saved, low;
    xlev_ctx *ctx = GINT_TO_POINTER(1);
    int fd, rc;

    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
    /* the lowest free fd number becomes the limit: nothing more opens */
    fd = dup(0);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    low = saved;
    low.rlim_cur = (rlim_t)fd;
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
    rc = xlev_ctx_new(NULL, &ctx);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);
    g_assert_cmpint(rc, ==, XLEV_ERROR_MFILE);
    g_assert_null(ctx);
    g_assert_cmpstr(xlev_strerror(rc), ==, "too many open files");
}

/*======================================================================*/
/* A misbehaving peer */

typedef struct {
    const char *name;
    XsBadPeerAnswer answer;
    int first_rc;    /* what the first read returns */
    int disasters;   /* then, after a loop iteration */
    int second_rc;   /* a second read (0: not tried) */
} BadCase;

static const BadCase bad_cases[] = {
    {"ok", XS_BAD_PEER_OK, 0, 0, XLEV_ERROR_TIMEDOUT},
    {"oversized-reply", XS_BAD_PEER_OVERSIZED_LEN, XLEV_ERROR_XENSTORE, 1,
     XLEV_ERROR_XENSTORE},
    {"unknown-req-id", XS_BAD_PEER_UNKNOWN_REQ_ID, XLEV_ERROR_XENSTORE, 1,
     XLEV_ERROR_XENSTORE},
    {"unknown-type", XS_BAD_PEER_UNKNOWN_TYPE, XLEV_ERROR_XENSTORE, 1,
     XLEV_ERROR_XENSTORE},
    {"truncated-then-close", XS_BAD_PEER_TRUNCATED_CLOSE, XLEV_ERROR_XENSTORE,
     1, XLEV_ERROR_XENSTORE},
    {"reset-mid-message", XS_BAD_PEER_RESET_MID_MESSAGE, XLEV_ERROR_XENSTORE, 1,
     XLEV_ERROR_XENSTORE},
    {"malformed-watch-event", XS_BAD_PEER_MALFORMED_WATCH_EVENT,
     XLEV_ERROR_XENSTORE, 1, XLEV_ERROR_XENSTORE},
    /* the stream is still in step: only that request fails */
    {"unknown-error-string", XS_BAD_PEER_UNKNOWN_ERROR_STRING,
     XLEV_ERROR_PROTOCOL, 0, XLEV_ERROR_TIMEDOUT},
    {"wrong-reply-type", XS_BAD_PEER_WRONG_REPLY_TYPE, XLEV_ERROR_PROTOCOL, 1,
     XLEV_ERROR_XENSTORE},
};

static void
test_bad_peer(gconstpointer data)
{
    const BadCase *bc = data;
    g_autoptr(GError) error = NULL;
    XsBadPeer *peer = xs_bad_peer_new(&bc->answer, 1, &error);
    Disasters d = {0};
    char *value = NULL;
    xlev_ctx *ctx;
    int rc, i;

    g_assert_no_error(error);
    ctx = ctx_on(xs_bad_peer_socket_path(peer), &d);
    g_assert_cmpint(xlev_ctx_set_timeout(ctx, 300), ==, 0);
    g_assert_cmpint(xlev_ctx_get_timeout(ctx), ==, 300);

    rc = xlev_xs_read(ctx, "/x", &value, NULL);
    g_assert_cmpint(rc, ==, bc->first_rc);
    if (rc == 0)
        g_assert_cmpstr(value, ==, "OK");
    free(value);
    value = NULL;
    for (i = 0; i < 3; i++)
        test_poll_iterate(ctx, 20);
    g_assert_cmpint(d.count, ==, bc->disasters);
    if (d.count)
        g_assert_cmpint(d.kind, ==, XLEV_DISASTER_XENSTORE);

    /* beyond the script the peer never answers: the timeout ends it */
    rc = xlev_xs_read(ctx, "/y", &value, NULL);
    g_assert_cmpint(rc, ==, bc->second_rc);
    g_assert_null(value);
    for (i = 0; i < 3; i++)
        test_poll_iterate(ctx, 20);
    g_assert_cmpint(d.count, ==, bc->disasters); /* never a second one */
    xlev_ctx_free(ctx);
    xs_bad_peer_free(peer);
}

/* Answers that do not parse as what was asked ("OK" for a transaction
 * id, for a permission list) are XLEV_ERROR_PROTOCOL for that request
 * only: the stream is still in step. */
static void
test_bad_peer_typed(void)
{
    static const XsBadPeerAnswer script[] = {XS_BAD_PEER_OK, XS_BAD_PEER_OK};
    g_autoptr(GError) error = NULL;
    XsBadPeer *peer = xs_bad_peer_new(script, G_N_ELEMENTS(script), &error);
    AsyncAnswer a = {0}, b = {0};
    Disasters d = {0};
    xlev_ctx *ctx;

    g_assert_no_error(error);
    ctx = ctx_on(xs_bad_peer_socket_path(peer), &d);
    g_assert_cmpint(xlev_xs_transaction_start_async(ctx, answer_tx, &a), ==, 0);
    g_assert_cmpint(xlev_xs_get_perms_async(ctx, 0, "/x", answer_perms, &b),
                    ==, 0);
    g_assert_cmpint(await_answer(ctx, &a), ==, XLEV_ERROR_PROTOCOL);
    g_assert_cmpuint(a.tx_id, ==, 0);
    g_assert_cmpint(await_answer(ctx, &b), ==, XLEV_ERROR_PROTOCOL);
    g_assert_cmpuint(b.n, ==, 0);
    g_assert_cmpint(d.count, ==, 0);
    xlev_ctx_free(ctx);
    xs_bad_peer_free(peer);
}

/* A daemon that never answers: the timeout, and a cancel fd. */
static gpointer
cancel_later(gpointer data)
{
    uint64_t one = 1;

    g_usleep(100 * 1000);
    g_assert_cmpint(write(GPOINTER_TO_INT(data), &one, sizeof(one)), ==,
                    sizeof(one));
    return NULL;
}

static void
test_never_answers(void)
{
    g_autoptr(GError) error = NULL;
    XsBadPeer *peer = xs_bad_peer_new(NULL, 0, &error);
    Disasters d = {0};
    xlev_ctx *ctx;
    char *value = NULL;
    gint64 start;
    GThread *t;
    int efd;

    g_assert_no_error(error);
    ctx = ctx_on(xs_bad_peer_socket_path(peer), &d);
    g_assert_cmpint(xlev_ctx_set_timeout(ctx, -1), ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_ctx_set_timeout(ctx, 200), ==, 0);
    start = g_get_monotonic_time();
    g_assert_cmpint(xlev_xs_read(ctx, "/x", &value, NULL), ==,
                    XLEV_ERROR_TIMEDOUT);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 190 * 1000);

    /* no timeout; a cancel fd ends the wait */
    g_assert_cmpint(xlev_ctx_set_timeout(ctx, 0), ==, 0);
    efd = eventfd(0, EFD_CLOEXEC);
    g_assert_cmpint(efd, >=, 0);
    xlev_xs_set_cancel_fd(efd);
    t = g_thread_new("cancel", cancel_later, GINT_TO_POINTER(efd));
    g_assert_cmpint(xlev_xs_read(ctx, "/x", &value, NULL), ==,
                    XLEV_ERROR_CANCELLED);
    xlev_xs_set_cancel_fd(-1);
    g_thread_join(t);
    close(efd);

    /* a watch that is never answered times out and is taken back */
    {
        struct {
            xlev_ev_xswatch w;
            int calls;
        } watch = {0};

        g_assert_cmpint(xlev_ctx_set_timeout(ctx, 100), ==, 0);
        xlev_ev_xswatch_init(&watch.w);
        g_assert_cmpint(xlev_ev_xswatch_register(ctx, &watch.w,
                                                 watch_count_cb, "/w"),
                        ==, XLEV_ERROR_TIMEDOUT);
        g_assert_false(xlev_ev_xswatch_isregistered(&watch.w));
    }
    test_poll_iterate(ctx, 20);
    g_assert_cmpint(d.count, ==, 0);
    xlev_ctx_free(ctx);
    xs_bad_peer_free(peer);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add("/xlev/core/xs-engine/socket/ops", XsFixture,
               GINT_TO_POINTER(XS_FIXTURE_TRANSPORT_SOCKET), xs_fixture_setup,
               test_ops, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/xenbus/ops", XsFixture,
               GINT_TO_POINTER(XS_FIXTURE_TRANSPORT_XENBUS), xs_fixture_setup,
               test_ops, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/async-more", XsFixture,
               GINT_TO_POINTER(XS_FIXTURE_TRANSPORT_SOCKET), xs_fixture_setup,
               test_async_more, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/xenbus/async-more", XsFixture,
               GINT_TO_POINTER(XS_FIXTURE_TRANSPORT_XENBUS), xs_fixture_setup,
               test_async_more, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/watch", XsFixture,
               GINT_TO_POINTER(XS_FIXTURE_TRANSPORT_SOCKET), xs_fixture_setup,
               test_watch, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/xenbus/watch", XsFixture,
               GINT_TO_POINTER(XS_FIXTURE_TRANSPORT_XENBUS), xs_fixture_setup,
               test_watch, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/large-directory", XsFixture, NULL,
               xs_fixture_setup, test_large_directory, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/no-thread", XsFixture, NULL,
               xs_fixture_setup, test_no_thread, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/free-with-async-in-flight",
               XsFixture, NULL, xs_fixture_setup,
               test_free_with_async_in_flight, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/blocking-call-in-callback",
               XsFixture, NULL, xs_fixture_setup,
               test_blocking_call_in_callback, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/threads-and-loop", XsFixture, NULL,
               xs_fixture_setup, test_threads_and_loop, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/out-of-fds", XsFixture, NULL,
               xs_fixture_setup, test_out_of_fds, xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/wakeup-from-thread", XsFixture,
               NULL, xs_fixture_setup, test_wakeup_from_thread,
               xs_fixture_teardown);
    g_test_add("/xlev/core/xs-engine/socket/wakeup-callback", XsFixture,
               NULL, xs_fixture_setup, test_wakeup_callback,
               xs_fixture_teardown);
    for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *name = g_strdup_printf(
            "/xlev/core/xs-engine/bad-peer/%s", bad_cases[i].name);

        g_test_add_data_func(name, &bad_cases[i], test_bad_peer);
    }
    g_test_add_func("/xlev/core/xs-engine/bad-peer/typed-answers",
                    test_bad_peer_typed);
    g_test_add_func("/xlev/core/xs-engine/bad-peer/never-answers",
                    test_never_answers);
    return g_test_run();
}
