/* glib-tsan-gobject.c: GObject's and GIO's handoffs between threads made
 * visible to ThreadSanitizer (see glib-tsan.c, which says why and how)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <dlfcn.h>
#include <gio/gio.h>
#include <sanitizer/tsan_interface.h>

/* real_<name>: GLib's own definition of name, the next one after ours;
 * looked up on first use by whichever thread comes first (atomically:
 * this file is instrumented too). */
#define REAL(name)                                                             \
    static __typeof__(&name) real_##name##_cache;                              \
    __typeof__(&name) real_##name                                              \
        = __atomic_load_n(&real_##name##_cache, __ATOMIC_ACQUIRE);             \
    if (real_##name == NULL) {                                                 \
        real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name);              \
        __atomic_store_n(&real_##name##_cache, real_##name, __ATOMIC_RELEASE); \
    }

/* Every reference dropped releases the object; the thread that drops
 * the last one acquires it before dispose and finalize run (inside
 * GObject's unref). To know it is the last, a reference that is not is
 * dropped here, with the same compare-and-exchange GObject uses, so only
 * the last one reaches GObject's g_object_unref(). That skips GObject's
 * toggle-reference notification (only language bindings add toggle
 * references; these tests are C). */
void
g_object_unref(gpointer object)
{
    GObject *obj = object;

    REAL(g_object_unref);
    __tsan_release(obj);
    for (;;) {
        guint old = (guint)__atomic_load_n(&obj->ref_count, __ATOMIC_ACQUIRE);

        if (old <= 1)
            break;
        if (__atomic_compare_exchange_n(&obj->ref_count, &old, old - 1, FALSE,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return;
    }
    __tsan_acquire(obj);
    real_g_object_unref(obj);
}

/* GTask: a worker's result reaches the callback in the task's context. */
void
g_task_return_pointer(GTask *task, gpointer result,
                      GDestroyNotify result_destroy)
{
    REAL(g_task_return_pointer);
    __tsan_release(task);
    real_g_task_return_pointer(task, result, result_destroy);
}

void
g_task_return_boolean(GTask *task, gboolean result)
{
    REAL(g_task_return_boolean);
    __tsan_release(task);
    real_g_task_return_boolean(task, result);
}

void
g_task_return_error(GTask *task, GError *error)
{
    REAL(g_task_return_error);
    __tsan_release(task);
    real_g_task_return_error(task, error);
}

gpointer
g_task_propagate_pointer(GTask *task, GError **error)
{
    REAL(g_task_propagate_pointer);
    __tsan_acquire(task);
    return real_g_task_propagate_pointer(task, error);
}

gboolean
g_task_propagate_boolean(GTask *task, GError **error)
{
    REAL(g_task_propagate_boolean);
    __tsan_acquire(task);
    return real_g_task_propagate_boolean(task, error);
}

/* The pool thread starts the function through this trampoline, which
 * acquires the task first. */
#define TSAN_TASK_FUNC_KEY "xlev-tsan-task-func"

static void
tsan_task_thread(GTask *task, gpointer source_object, gpointer task_data,
                 GCancellable *cancellable)
{
    GTaskThreadFunc func;

    __tsan_acquire(task);
    func = (GTaskThreadFunc)g_object_get_data((GObject *)task,
                                              TSAN_TASK_FUNC_KEY);
    func(task, source_object, task_data, cancellable);
}

void
g_task_run_in_thread(GTask *task, GTaskThreadFunc task_func)
{
    REAL(g_task_run_in_thread);
    g_object_set_data((GObject *)task, TSAN_TASK_FUNC_KEY, (gpointer)task_func);
    __tsan_release(task);
    real_g_task_run_in_thread(task, tsan_task_thread);
}

gpointer
g_task_get_task_data(GTask *task)
{
    REAL(g_task_get_task_data);
    __tsan_acquire(task);
    return real_g_task_get_task_data(task);
}

gpointer
g_task_get_source_object(GTask *task)
{
    REAL(g_task_get_source_object);
    __tsan_acquire(task);
    return real_g_task_get_source_object(task);
}
