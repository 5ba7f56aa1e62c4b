/* test-xs.c: plain xenstore operations on the context's connection
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core-test-util.h"
#include "xs-fixture.h"

static void
test_read_write_directory_rm(XsFixture *fx, gconstpointer data)
{
    xlev_ctx *ctx = NULL;
    char *value = NULL, **entries = NULL;
    unsigned int len = 99, n = 99, i;
    int seen_a = 0, seen_b = 0;

    g_assert_cmpint(xlev_ctx_new(NULL, &ctx), ==, 0);
    g_assert_cmpint(xlev_xs_write(ctx, "/t/a", "hello", 5), ==, 0);
    g_assert_cmpint(xlev_xs_write(ctx, "/t/b", NULL, 0), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/t/a", &value, &len), ==, 0);
    g_assert_cmpstr(value, ==, "hello");
    g_assert_cmpuint(len, ==, 5);
    free(value);
    g_assert_cmpint(xlev_xs_read(ctx, "/t/b", &value, NULL), ==, 0);
    g_assert_cmpstr(value, ==, "");
    free(value);

    g_assert_cmpint(xlev_xs_directory(ctx, "/t", &entries, &n), ==, 0);
    g_assert_cmpuint(n, ==, 2);
    for (i = 0; i < n; i++) {
        seen_a |= strcmp(entries[i], "a") == 0;
        seen_b |= strcmp(entries[i], "b") == 0;
    }
    g_assert_true(seen_a && seen_b);
    free(entries);

    g_assert_cmpint(xlev_xs_rm(ctx, "/t/a"), ==, 0);
    g_assert_cmpint(xlev_xs_read(ctx, "/t/a", &value, &len), ==,
                    XLEV_ERROR_NOENT);
    g_assert_null(value);
    g_assert_cmpint(xlev_xs_directory(ctx, "/nope", &entries, &n), ==,
                    XLEV_ERROR_NOENT);
    g_assert_null(entries);

    /* bad input */
    g_assert_cmpint(xlev_xs_read(ctx, "t/a", &value, NULL), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_read(ctx, "@releaseDomain", &value, NULL), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_read(ctx, "/t/a", NULL, NULL), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_read(NULL, "/t/a", &value, NULL), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_write(ctx, "/t//a", "x", 1), ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_write(ctx, "/t/a", NULL, 3), ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_directory(ctx, "/t", NULL, &n), ==,
                    XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_rm(ctx, NULL), ==, XLEV_ERROR_INVAL);
    g_assert_cmpint(xlev_xs_rm(NULL, "/t"), ==, XLEV_ERROR_INVAL);

    xlev_ctx_free(ctx);
}

/* No xenstored where libxenstore looks: xlev_ctx_new() fails with
 * XLEV_ERROR_XENSTORE (a socket path other than libxenstore's: with
 * XLEV_ERROR_INVAL), says why at debug level to the process-wide default
 * logger (the failure is returned too), and writes nothing to stderr. */
typedef struct {
    int n, n_above_debug;
    char last[256];
} LogProbe;

static void
probe_log(void *user, int level, const char *msg)
{
    LogProbe *lp = user;

    lp->n++;
    if (level < LOG_DEBUG)
        lp->n_above_debug++;
    g_strlcpy(lp->last, msg, sizeof(lp->last));
}

static void
test_no_daemon_quiet(void)
{
    g_autofree char *dir = g_dir_make_tmp("xlev-nodaemon-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "socket", NULL);
    g_autofree char *saved = g_strdup(g_getenv("XENSTORED_PATH"));
    LogProbe lp;
    xlev_ctx *ctx = GINT_TO_POINTER(1); /* must come back NULL */
    char buf[256];
    int saved_stderr, capture;
    ssize_t n;

    g_assert_nonnull(dir);
    memset(&lp, 0, sizeof(lp));
    /* single-threaded here: setenv is safe */
    g_setenv("XENSTORED_PATH", sock, TRUE);
    xlev_set_default_logger(probe_log, &lp);

    capture = g_file_open_tmp("xlev-stderr-XXXXXX", NULL, NULL);
    g_assert_cmpint(capture, >=, 0);
    saved_stderr = dup(STDERR_FILENO);
    g_assert_cmpint(saved_stderr, >=, 0);
    g_assert_cmpint(dup2(capture, STDERR_FILENO), ==, STDERR_FILENO);

    g_assert_cmpint(xlev_ctx_new(NULL, &ctx), ==, XLEV_ERROR_XENSTORE);
    g_assert_null(ctx);
    g_assert_cmpint(lp.n, ==, 1);
    g_assert_nonnull(strstr(lp.last, "cannot connect"));
    g_assert_nonnull(strstr(lp.last, sock));

    /* Any path is used as given: nothing there is "cannot be reached". */
    ctx = GINT_TO_POINTER(1);
    g_assert_cmpint(xlev_ctx_new("/elsewhere/socket", &ctx), ==,
                    XLEV_ERROR_XENSTORE);
    g_assert_null(ctx);
    g_assert_cmpint(lp.n, ==, 2);
    g_assert_nonnull(strstr(lp.last, "/elsewhere/socket"));

    fflush(stderr);
    g_assert_cmpint(dup2(saved_stderr, STDERR_FILENO), ==, STDERR_FILENO);
    close(saved_stderr);
    g_assert_cmpint(lseek(capture, 0, SEEK_SET), ==, 0);
    n = read(capture, buf, sizeof(buf) - 1);
    close(capture);
    g_assert_cmpint(n, >=, 0);
    buf[n] = '\0';
    g_assert_cmpstr(buf, ==, "");
    g_assert_cmpint(lp.n_above_debug, ==, 0);

    xlev_set_default_logger(NULL, NULL);
    if (saved)
        g_setenv("XENSTORED_PATH", saved, TRUE);
    else
        g_unsetenv("XENSTORED_PATH");
    g_assert_cmpint(rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/xlev/core/xs/read-write-directory-rm", XsFixture, NULL,
               xs_fixture_setup, test_read_write_directory_rm,
               xs_fixture_teardown);
    g_test_add_func("/xlev/core/ctx/no-daemon-quiet", test_no_daemon_quiet);
    return g_test_run();
}
