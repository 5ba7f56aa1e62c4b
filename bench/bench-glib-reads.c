/* bench-glib-reads.c: many reads of small nodes, side by side in one run
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * One private xenstored (the test fixture) holding N small nodes
 * /bench-reads/d<i/100>/k<i>. Each round reads all N, four ways, in
 * rotated order:
 *   libxenstore-seq  xs_read one after the other (the raw sequential loop)
 *   core-async       xlev_xs_read_async, all N in flight, then the core's
 *                    beforepoll/poll/afterpoll until every answer is in
 *   glib-async       xlev_context_read_async, all N in flight, then
 *                    g_main_context_iteration until every callback ran
 *   glib-sync        xlev_context_read one after the other
 * and loads the whole subtree as a GUI would, two ways:
 *   tree-libxenstore xs_directory of the top, of each directory, xs_read
 *                    of each node, one after the other
 *   tree-glib-async  xlev_context_directory_async of the top, then of each
 *                    directory as its name arrives, then read_async of each
 *                    node as its directory's listing arrives, all in flight
 * Prints one JSON object per line: {"way", "round", "n", "seconds",
 * "reads_per_s"}.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>
#include <xlev.h>

#include "xs-fixture.h"

#define N_DEFAULT 10000
#define ROUNDS_DEFAULT 5

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char **
make_paths(int n)
{
    char **paths = g_new0(char *, n + 1);

    for (int i = 0; i < n; i++)
        paths[i] = g_strdup_printf("/bench-reads/d%d/k%d", i / 100, i);
    return paths;
}

static double
libxenstore_seq(char **paths, int n)
{
    struct xs_handle *h = xs_open(0);
    double t0 = now_s();

    for (int i = 0; i < n; i++) {
        unsigned int len;
        char *v = xs_read(h, XBT_NULL, paths[i], &len);

        if (!v)
            exit(1);
        free(v);
    }
    t0 = now_s() - t0;
    xs_close(h);
    return t0;
}

static void
core_answer(xlev_ctx *ctx, void *user, int rc, const char *value,
            unsigned int len)
{
    if (rc != 0)
        exit(1);
    (*(int *)user)++;
}

static double
core_async(char **paths, int n)
{
    xlev_ctx *ctx = NULL;
    struct pollfd fds[8];
    int done = 0;
    double t0;

    if (xlev_ctx_new(NULL, &ctx) != 0)
        exit(1);
    t0 = now_s();
    for (int i = 0; i < n; i++)
        if (xlev_xs_read_async(ctx, 0, paths[i], core_answer, &done) != 0)
            exit(1);
    while (done < n) {
        struct timeval now;
        int nfds = 8, timeout = -1;

        xlev_osevent_now(ctx, &now);
        if (xlev_osevent_beforepoll(ctx, &nfds, fds, &timeout, now) != 0)
            exit(1);
        poll(fds, nfds, timeout);
        xlev_osevent_now(ctx, &now);
        xlev_osevent_afterpoll(ctx, nfds, fds, now);
    }
    t0 = now_s() - t0;
    xlev_ctx_free(ctx);
    return t0;
}

static void
glib_answer(GObject *source, GAsyncResult *result, gpointer user)
{
    g_autoptr(GError) error = NULL;
    char *v = xlev_context_read_finish(XLEV_CONTEXT(source), result, &error);

    if (!v)
        exit(1);
    g_free(v);
    (*(int *)user)++;
}

static double
glib_async(char **paths, int n, XlevIntegration integration)
{
    g_autoptr(XlevContext) ctx =
        xlev_context_new_full(NULL, integration, NULL, NULL, NULL);
    int done = 0;
    double t0;

    if (!ctx)
        exit(1);
    t0 = now_s();
    for (int i = 0; i < n; i++)
        xlev_context_read_async(ctx, paths[i], NULL, glib_answer, &done);
    while (done < n)
        g_main_context_iteration(NULL, TRUE);
    return now_s() - t0;
}

static double
tree_libxenstore(int n)
{
    struct xs_handle *h = xs_open(0);
    unsigned int nd = 0, reads = 0;
    char **dirs;
    double t0 = now_s();

    dirs = xs_directory(h, XBT_NULL, "/bench-reads", &nd);
    if (!dirs)
        exit(1);
    for (unsigned int d = 0; d < nd; d++) {
        char dpath[64];
        unsigned int nk = 0;
        char **keys;

        g_snprintf(dpath, sizeof(dpath), "/bench-reads/%s", dirs[d]);
        keys = xs_directory(h, XBT_NULL, dpath, &nk);
        if (!keys)
            exit(1);
        for (unsigned int k = 0; k < nk; k++) {
            char kpath[96];
            unsigned int len;
            char *v;

            g_snprintf(kpath, sizeof(kpath), "%s/%s", dpath, keys[k]);
            v = xs_read(h, XBT_NULL, kpath, &len);
            if (!v)
                exit(1);
            free(v);
            reads++;
        }
        free(keys);
    }
    free(dirs);
    t0 = now_s() - t0;
    xs_close(h);
    if ((int)reads != n)
        exit(1);
    return t0;
}

typedef struct {
    XlevContext *ctx;
    int reads;
    int pending;
} Tree;

typedef struct {
    Tree *tree;
    char *path;
} TreeDir;

static void
tree_read_done(GObject *source, GAsyncResult *result, gpointer user)
{
    Tree *t = user;
    char *v = xlev_context_read_finish(XLEV_CONTEXT(source), result, NULL);

    if (!v)
        exit(1);
    g_free(v);
    t->reads++;
    t->pending--;
}

static void
tree_dir_done(GObject *source, GAsyncResult *result, gpointer user)
{
    TreeDir *td = user;
    Tree *t = td->tree;
    g_auto(GStrv) names =
        xlev_context_directory_finish(XLEV_CONTEXT(source), result, NULL);
    gboolean top = strcmp(td->path, "/bench-reads") == 0;

    if (!names)
        exit(1);
    for (char **n = names; *n; n++) {
        char *child = g_strdup_printf("%s/%s", td->path, *n);

        t->pending++;
        if (top) {
            TreeDir *sub = g_new0(TreeDir, 1);

            sub->tree = t;
            sub->path = child;
            xlev_context_directory_async(t->ctx, child, NULL, tree_dir_done,
                                         sub);
        } else {
            xlev_context_read_async(t->ctx, child, NULL, tree_read_done, t);
            g_free(child);
        }
    }
    t->pending--;
    g_free(td->path);
    g_free(td);
}

static double
tree_glib_async(int n)
{
    g_autoptr(XlevContext) ctx = xlev_context_new(NULL, NULL, NULL);
    Tree t = {ctx, 0, 1};
    TreeDir *top = g_new0(TreeDir, 1);
    double t0;

    if (!ctx)
        exit(1);
    top->tree = &t;
    top->path = g_strdup("/bench-reads");
    t0 = now_s();
    xlev_context_directory_async(ctx, top->path, NULL, tree_dir_done, top);
    while (t.pending > 0)
        g_main_context_iteration(NULL, TRUE);
    t0 = now_s() - t0;
    if (t.reads != n)
        exit(1);
    return t0;
}

static double
glib_sync(char **paths, int n)
{
    g_autoptr(XlevContext) ctx = xlev_context_new(NULL, NULL, NULL);
    double t0;

    if (!ctx)
        exit(1);
    t0 = now_s();
    for (int i = 0; i < n; i++) {
        char *v = xlev_context_read(ctx, paths[i], NULL, NULL);

        if (!v)
            exit(1);
        g_free(v);
    }
    return now_s() - t0;
}

int
main(int argc, char **argv)
{
    static const char *const ways[] = {
        "libxenstore-seq",  "core-async", "glib-async-source",
        "glib-async-hooks", "glib-sync",  "tree-libxenstore",
        "tree-glib-async"};
    int n = argc > 1 ? atoi(argv[1]) : N_DEFAULT;
    int rounds = argc > 2 ? atoi(argv[2]) : ROUNDS_DEFAULT;
    g_autoptr(GError) error = NULL;
    XsFixture fx;
    char **paths;
    struct xs_handle *w;

    if (!xs_fixture_start(&fx, &error)) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    paths = make_paths(n);
    w = xs_open(0);
    for (int i = 0; i < n; i++)
        if (!xs_write(w, XBT_NULL, paths[i], "v", 1))
            return 1;
    xs_close(w);

    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 7; k++) {
            int way = (k + r) % 7;
            double s;

            switch (way) {
            case 0:
                s = libxenstore_seq(paths, n);
                break;
            case 1:
                s = core_async(paths, n);
                break;
            case 2:
                s = glib_async(paths, n, XLEV_INTEGRATION_SOURCE);
                break;
            case 3:
                s = glib_async(paths, n, XLEV_INTEGRATION_HOOKS);
                break;
            case 4:
                s = glib_sync(paths, n);
                break;
            case 5:
                s = tree_libxenstore(n);
                break;
            default:
                s = tree_glib_async(n);
                break;
            }
            printf("{\"way\": \"%s\", \"round\": %d, \"n\": %d, "
                   "\"seconds\": %.4f, \"reads_per_s\": %.0f}\n",
                   ways[way], r, n, s, n / s);
            fflush(stdout);
        }
    }
    g_strfreev(paths);
    xs_fixture_stop(&fx);
    return 0;
}
