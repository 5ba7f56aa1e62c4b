/* xlev-xs-async-private.h: one asynchronous xenstore request of the
 * GObject layer, on the core's asynchronous calls (no thread)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * What every _async call of XlevContext (xlev-xs-ops.c, xlev-permission.c)
 * and XlevTransaction (xlev-transaction.c) shares. The caller makes the
 * GTask (source object, source tag, name), checks its arguments, and hands
 * the task and an XlevAsyncRequest to xlev_xs_async_send(): the request is
 * sent from the calling thread (the core's xlev_xs_*_async); the core's
 * answer reaches the task in the context's main context through the
 * dispatch module, where the caller's XlevAsyncReturnFunc completes it.
 *
 * Cancellation: cancelling the task's GCancellable completes it at once
 * with G_IO_ERROR_CANCELLED; the request was sent, and its answer is
 * dropped when it comes (the return function is then never called). A
 * request the core refuses before sending, or one whose context is freed
 * first, completes the task too: every task completes exactly once.
 */
#pragma once

#include "xlev-context-private.h"

G_BEGIN_DECLS

typedef enum {
    XLEV_ASYNC_READ,      /* answer: value, len */
    XLEV_ASYNC_WRITE,     /* request: value, len */
    XLEV_ASYNC_DIRECTORY, /* answer: value, len (names, each NUL-ended) */
    XLEV_ASYNC_RM,
    XLEV_ASYNC_MKDIR,
    XLEV_ASYNC_GET_PERMS,   /* answer: perms, n_perms */
    XLEV_ASYNC_SET_PERMS,   /* request: perms, n_perms */
    XLEV_ASYNC_DOMAIN_PATH, /* request: domid; answer: value, len */
    XLEV_ASYNC_TX_START,    /* answer: tx_id */
    XLEV_ASYNC_TX_END,      /* request: tx_id, commit */
} XlevAsyncKind;

typedef struct {
    XlevAsyncKind kind;
    guint32 tx_id;     /* the transaction (0: none); TX_END: the one */
    const char *path;  /* every kind with a path; checked by the caller */
    const void *value; /* WRITE */
    gsize len;         /* WRITE */
    const xlev_xs_perm *perms; /* SET_PERMS */
    unsigned int n_perms;      /* SET_PERMS */
    guint domid;               /* DOMAIN_PATH */
    gboolean commit;           /* TX_END */
} XlevAsyncRequest;

/* What the return function gets: the request's path and domid (for
 * messages), the core's rc and, when it is 0, what the kind carries. The
 * function may steal @value and @perms (set them to NULL). */
typedef struct {
    int rc;
    char *path; /* NULL for a request without one */
    guint domid;
    char *value; /* NUL-terminated besides len */
    unsigned int len;
    guint32 tx_id;
    xlev_xs_perm *perms; /* g_free() */
    unsigned int n_perms;
} XlevAsyncAnswer;

/* Completes @task from @answer (rc 0 or not); in the context's main
 * context, or in the _async call itself when the core refused the request
 * before sending. Never called for a task already cancelled. */
typedef void (*XlevAsyncReturnFunc)(GTask *task, XlevAsyncAnswer *answer);

/* Sends @request for @task on @context's connection (@context outlives
 * the task: it is, or is held by, the task's source object). Takes no
 * reference of the caller's: the caller drops its own. */
void xlev_xs_async_send(XlevContext *context, GTask *task,
                        const XlevAsyncRequest *request,
                        XlevAsyncReturnFunc return_func);

G_END_DECLS
