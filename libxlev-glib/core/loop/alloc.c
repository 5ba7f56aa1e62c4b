/* alloc.c: the core's allocator, with a failure injector for the tests
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loop-private.h"

/* The countdown is process-wide and only ever armed by a test. */
static int fail_alloc_countdown;

static int
alloc_should_fail(void)
{
    int n = __atomic_load_n(&fail_alloc_countdown, __ATOMIC_SEQ_CST);

    if (n <= 0)
        return 0;
    return __atomic_sub_fetch(&fail_alloc_countdown, 1, __ATOMIC_SEQ_CST) == 0;
}

void
xlev__test_fail_alloc(int nth)
{
    __atomic_store_n(&fail_alloc_countdown, nth, __ATOMIC_SEQ_CST);
}

void *
xlev__malloc(size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *
xlev__calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *
xlev__realloc_array(void *ptr, size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    if (size && n > SIZE_MAX / size)
        return NULL;
    n *= size;
    return realloc(ptr, n ? n : 1);
}

char *
xlev__strdup(const char *s)
{
    if (alloc_should_fail())
        return NULL;
    return strdup(s);
}
