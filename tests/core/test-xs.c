/* test-xs.c: plain xenstore operations on the context's connection
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>

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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/xlev/core/xs/read-write-directory-rm", XsFixture, NULL,
               xs_fixture_setup, test_read_write_directory_rm,
               xs_fixture_teardown);
    return g_test_run();
}
