/* glib-tsan.c: makes GLib's locks visible to ThreadSanitizer in the TSan
 * build of the tests (tools/check, -Db_sanitize=thread)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Why. TSan sees the synchronisation of instrumented code and of the
 * libc functions it intercepts (pthread_mutex_*, pthread_cond_*). Debian's
 * GLib is not built with TSan, and GLib 2.74's GMutex/GCond/GRecMutex/
 * GRWLock on Linux are futexes, not pthread objects: TSan sees neither
 * the lock nor the ordering it gives, so every field our code protects
 * with a GMutex (the GObject layer's queue, the tests' own counters)
 * would be reported as a race. The core is plain pthread and needs
 * nothing of this.
 *
 * How. Compiled into the test executables of a TSan build only. Each test
 * links the library statically (xlev_internal_dep), so our calls to
 * g_mutex_lock() and friends bind to the definitions here, which call
 * GLib's own (dlsym(RTLD_NEXT)) and tell TSan what happened: a lock or
 * wake-up is an acquire of the lock's address, an unlock (and the unlock
 * inside a wait) a release. Object lifetimes are handed between threads
 * through GObject's atomic reference count, inside libgobject, so
 * g_object_unref() releases the object and the last one acquires it
 * before finalize (see there). Queues (GAsyncQueue), sources (attach,
 * ready time, callback, then prepare/check/dispatch) and tasks (return,
 * then propagate; run_in_thread, then the thread function) are handled
 * the same way: the handing side releases the object, the receiving side
 * acquires it.
 *
 * glib-tsan-gobject.c does the same for GObject's and GIO's (the tests
 * of the GObject layer link both files, the core's only this one).
 *
 * What stays invisible: synchronisation done entirely inside GLib between
 * its own threads (the GMainContext's lock around a source's dispatch,
 * GTask's thread pool). tests/tsan/suppressions.txt lists those, and
 * only races whose both sides are in GLib itself or in that handoff.
 */
#include <dlfcn.h>
#include <glib.h>
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

/* The prototypes are GLib's (glib/gthread.h, gobject/gobject.h). */

void
g_mutex_lock(GMutex *mutex)
{
    REAL(g_mutex_lock);
    real_g_mutex_lock(mutex);
    __tsan_acquire(mutex);
}

void
g_mutex_unlock(GMutex *mutex)
{
    REAL(g_mutex_unlock);
    __tsan_release(mutex);
    real_g_mutex_unlock(mutex);
}

gboolean
g_mutex_trylock(GMutex *mutex)
{
    REAL(g_mutex_trylock);
    if (!real_g_mutex_trylock(mutex))
        return FALSE;
    __tsan_acquire(mutex);
    return TRUE;
}

void
g_rec_mutex_lock(GRecMutex *mutex)
{
    REAL(g_rec_mutex_lock);
    real_g_rec_mutex_lock(mutex);
    __tsan_acquire(mutex);
}

void
g_rec_mutex_unlock(GRecMutex *mutex)
{
    REAL(g_rec_mutex_unlock);
    __tsan_release(mutex);
    real_g_rec_mutex_unlock(mutex);
}

gboolean
g_rec_mutex_trylock(GRecMutex *mutex)
{
    REAL(g_rec_mutex_trylock);
    if (!real_g_rec_mutex_trylock(mutex))
        return FALSE;
    __tsan_acquire(mutex);
    return TRUE;
}

void
g_rw_lock_writer_lock(GRWLock *lock)
{
    REAL(g_rw_lock_writer_lock);
    real_g_rw_lock_writer_lock(lock);
    __tsan_acquire(lock);
}

void
g_rw_lock_writer_unlock(GRWLock *lock)
{
    REAL(g_rw_lock_writer_unlock);
    __tsan_release(lock);
    real_g_rw_lock_writer_unlock(lock);
}

void
g_rw_lock_reader_lock(GRWLock *lock)
{
    REAL(g_rw_lock_reader_lock);
    real_g_rw_lock_reader_lock(lock);
    __tsan_acquire(lock);
}

void
g_rw_lock_reader_unlock(GRWLock *lock)
{
    REAL(g_rw_lock_reader_unlock);
    __tsan_release(lock);
    real_g_rw_lock_reader_unlock(lock);
}

/* A wait unlocks the mutex and locks it again before it returns; a
 * signal or broadcast orders nothing by itself (the mutex does). */
void
g_cond_wait(GCond *cond, GMutex *mutex)
{
    REAL(g_cond_wait);
    __tsan_release(mutex);
    real_g_cond_wait(cond, mutex);
    __tsan_acquire(mutex);
}

gboolean
g_cond_wait_until(GCond *cond, GMutex *mutex, gint64 end_time)
{
    gboolean signalled;

    REAL(g_cond_wait_until);
    __tsan_release(mutex);
    signalled = real_g_cond_wait_until(cond, mutex, end_time);
    __tsan_acquire(mutex);
    return signalled;
}

/* The same for reference-counted boxes, whose count is private: released
 * and acquired at each release, which orders the last release after the
 * earlier ones only if they came first in time (a narrow window). */
void
g_atomic_rc_box_release_full(gpointer mem_block, GDestroyNotify clear_func)
{
    REAL(g_atomic_rc_box_release_full);
    __tsan_release(mem_block);
    __tsan_acquire(mem_block);
    real_g_atomic_rc_box_release_full(mem_block, clear_func);
}

/* GAsyncQueue hands items between threads under its own lock. */
void
g_async_queue_push(GAsyncQueue *queue, gpointer data)
{
    REAL(g_async_queue_push);
    __tsan_release(queue);
    real_g_async_queue_push(queue, data);
}

gpointer
g_async_queue_pop(GAsyncQueue *queue)
{
    gpointer data;

    REAL(g_async_queue_pop);
    data = real_g_async_queue_pop(queue);
    __tsan_acquire(queue);
    return data;
}

gpointer
g_async_queue_try_pop(GAsyncQueue *queue)
{
    gpointer data;

    REAL(g_async_queue_try_pop);
    data = real_g_async_queue_try_pop(queue);
    __tsan_acquire(queue);
    return data;
}

gpointer
g_async_queue_timeout_pop(GAsyncQueue *queue, guint64 timeout)
{
    gpointer data;

    REAL(g_async_queue_timeout_pop);
    data = real_g_async_queue_timeout_pop(queue, timeout);
    __tsan_acquire(queue);
    return data;
}

/*
 * Sources. What a thread writes before it attaches a source, sets its
 * ready time or its callback is read by the thread that dispatches it,
 * ordered by the GMainContext's lock. Every source made by our code gets
 * (not GIO's) a copy of its GSourceFuncs whose prepare, check and
 * dispatch acquire the source first; attach, set_ready_time and set_callback
 * release it. The copies live as long as the process (one per distinct
 * GSourceFuncs, a handful).
 */
/* One slot per distinct GSourceFuncs of ours (a handful): each slot's
 * trampolines know their slot, so they never read the source's memory
 * (which GLib may be changing in another thread under its lock). */
#define TSAN_SOURCE_SLOTS 16

static GSourceFuncs *tsan_orig[TSAN_SOURCE_SLOTS];
static GSourceFuncs tsan_wrapped[TSAN_SOURCE_SLOTS];

#define TSAN_SLOT(i)                                                           \
    static gboolean tsan_prepare_##i(GSource *source, gint *timeout)           \
    {                                                                          \
        __tsan_acquire(source);                                                \
        return tsan_orig[i]->prepare(source, timeout);                         \
    }                                                                          \
    static gboolean tsan_check_##i(GSource *source)                            \
    {                                                                          \
        __tsan_acquire(source);                                                \
        return tsan_orig[i]->check(source);                                    \
    }                                                                          \
    static gboolean tsan_dispatch_##i(GSource *source, GSourceFunc callback,   \
                                      gpointer data)                           \
    {                                                                          \
        __tsan_acquire(source);                                                \
        return tsan_orig[i]->dispatch(source, callback, data);                 \
    }                                                                          \
    static void tsan_finalize_##i(GSource *source)                             \
    {                                                                          \
        __tsan_acquire(source);                                                \
        tsan_orig[i]->finalize(source);                                        \
    }

TSAN_SLOT(0)
TSAN_SLOT(1) TSAN_SLOT(2) TSAN_SLOT(3) TSAN_SLOT(4) TSAN_SLOT(5) TSAN_SLOT(6)
    TSAN_SLOT(7) TSAN_SLOT(8) TSAN_SLOT(9) TSAN_SLOT(10) TSAN_SLOT(11)
        TSAN_SLOT(12) TSAN_SLOT(13) TSAN_SLOT(14) TSAN_SLOT(15)

#define TSAN_SLOT_FUNCS(i)                                                     \
    {                                                                          \
        tsan_prepare_##i, tsan_check_##i, tsan_dispatch_##i,                   \
            tsan_finalize_##i, NULL, NULL                                      \
    }

            static const GSourceFuncs tsan_trampolines[TSAN_SOURCE_SLOTS]
    = {
          TSAN_SLOT_FUNCS(0),  TSAN_SLOT_FUNCS(1),  TSAN_SLOT_FUNCS(2),
          TSAN_SLOT_FUNCS(3),  TSAN_SLOT_FUNCS(4),  TSAN_SLOT_FUNCS(5),
          TSAN_SLOT_FUNCS(6),  TSAN_SLOT_FUNCS(7),  TSAN_SLOT_FUNCS(8),
          TSAN_SLOT_FUNCS(9),  TSAN_SLOT_FUNCS(10), TSAN_SLOT_FUNCS(11),
          TSAN_SLOT_FUNCS(12), TSAN_SLOT_FUNCS(13), TSAN_SLOT_FUNCS(14),
          TSAN_SLOT_FUNCS(15),
      };

static GMutex tsan_slots_lock;

/* The wrapped funcs for @orig, or @orig itself when the slots are full. */
static GSourceFuncs *
tsan_wrap_funcs(GSourceFuncs *orig)
{
    GSourceFuncs *wrapped = orig;
    int i;

    g_mutex_lock(&tsan_slots_lock);
    for (i = 0; i < TSAN_SOURCE_SLOTS; i++) {
        if (tsan_orig[i] == orig) {
            wrapped = &tsan_wrapped[i];
            break;
        }
        if (tsan_orig[i] == NULL) {
            GSourceFuncs *w = &tsan_wrapped[i];

            tsan_orig[i] = orig;
            w->prepare = orig->prepare ? tsan_trampolines[i].prepare : NULL;
            w->check = orig->check ? tsan_trampolines[i].check : NULL;
            w->dispatch = orig->dispatch ? tsan_trampolines[i].dispatch : NULL;
            w->finalize = orig->finalize ? tsan_trampolines[i].finalize : NULL;
            w->closure_callback = orig->closure_callback;
            w->closure_marshal = orig->closure_marshal;
            wrapped = w;
            break;
        }
    }
    g_mutex_unlock(&tsan_slots_lock);
    return wrapped;
}

/* Whether the code at @addr is in the test executable (our library is
 * linked into it statically), not in a shared library: GIO's own sources
 * are GLib's business, and their memory is freed by GLib's threads under
 * locks we cannot see. */
static gboolean
in_executable(const void *addr)
{
    Dl_info info;
    static Dl_info self;
    static gsize self_done;

    if (g_once_init_enter(&self_done)) {
        dladdr((const void *)in_executable, &self);
        g_once_init_leave(&self_done, 1);
    }
    return dladdr(addr, &info) != 0 && info.dli_fbase == self.dli_fbase;
}

GSource *
g_source_new(GSourceFuncs *source_funcs, guint struct_size)
{
    REAL(g_source_new);
    if (!in_executable(__builtin_return_address(0)))
        return real_g_source_new(source_funcs, struct_size);
    return real_g_source_new(tsan_wrap_funcs(source_funcs), struct_size);
}

guint
g_source_attach(GSource *source, GMainContext *context)
{
    REAL(g_source_attach);
    __tsan_release(source);
    return real_g_source_attach(source, context);
}

void
g_source_set_ready_time(GSource *source, gint64 ready_time)
{
    REAL(g_source_set_ready_time);
    __tsan_release(source);
    real_g_source_set_ready_time(source, ready_time);
}

void
g_source_set_callback(GSource *source, GSourceFunc func, gpointer data,
                      GDestroyNotify notify)
{
    REAL(g_source_set_callback);
    __tsan_release(source);
    real_g_source_set_callback(source, func, data, notify);
}
