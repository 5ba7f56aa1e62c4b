/* xlev-xs-call-private.h: what a blocking xenstore call of the GObject
 * layer does around the core's call (transactions, permissions, mkdir)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The steps every blocking call takes (xlev-xs-ops.c, xlev-transaction.c,
 * xlev-permission.c): the GCancellable's fd is the core's cancel fd for
 * the call (per thread), a failed call becomes a GError with the
 * translated "what failed" in front, cancellation as GIO's.
 */
#pragma once

#include <string.h>

#include "xlev-context-private.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"

G_BEGIN_DECLS

/* While a blocking call runs: its GCancellable's fd ends the wait. */
static inline int
xlev_xs_call_begin(GCancellable *cancellable)
{
    int fd = cancellable != NULL ? g_cancellable_get_fd(cancellable) : -1;

    xlev_xs_set_cancel_fd(fd);
    return fd;
}

static inline void
xlev_xs_call_end(GCancellable *cancellable, int fd)
{
    xlev_xs_set_cancel_fd(-1);
    if (fd >= 0)
        g_cancellable_release_fd(cancellable);
}

/* A failed core call (@rc) as a GError; @what is already translated and
 * formatted ("Cannot read /x"). */
static inline void
xlev_xs_call_error(GError **error, GCancellable *cancellable, int rc,
                   const char *what)
{
    if (rc == XLEV_ERROR_CANCELLED
        && g_cancellable_set_error_if_cancelled(cancellable, error))
        return;
    xlev_error_from_core(error, rc, "%s", what);
}

/* The checks a context's call on @path starts with: the context is
 * initialised, @path is valid (NULL is refused), @cancellable not
 * cancelled yet. */
static inline gboolean
xlev_xs_call_check(XlevContext *context, const char *path,
                   GCancellable *cancellable, GError **error)
{
    return xlev_context_check_ready(context, error)
           && xlev_check_path(path, error)
           && !g_cancellable_set_error_if_cancelled(cancellable, error);
}

/* xlev-xs-call.c: xlev_xs_call_error() with the operation named from
 * @what_format, a translated "Cannot read %s" with a %s for @path. */
void xlev_xs_call_failed(GError **error, GCancellable *cancellable, int rc,
                         const char *what_format, const char *path);

/* A value read through a string API must be text. One NUL at its very end
 * is taken for a terminator (tools that write C strings with theirs exist)
 * and dropped: *len is then one less. */
static inline gboolean
xlev_xs_check_text(const char *value, unsigned int *len, const char *path,
                   GError **error)
{
    if (*len > 0 && value[*len - 1] == '\0')
        (*len)--;
    if (memchr(value, '\0', *len) != NULL) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("The value at %s holds a NUL byte: read it as bytes"),
                    path);
        return FALSE;
    }
    if (!g_utf8_validate(value, *len, NULL)) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("The value at %s is not UTF-8 text: read it as bytes"),
                    path);
        return FALSE;
    }
    return TRUE;
}

/* xlev-permission.c: a GList of XlevPermission checked and copied
 * for the core (*out: g_free()), or the core's back as a GList. */
gboolean xlev_permissions_to_core(GList *permissions, xlev_xs_perm **out,
                                  unsigned int *n_out, GError **error);
GList *xlev_permissions_from_core(const xlev_xs_perm *perms,
                                  unsigned int n);
/* xlev-permission.c: get and set the permissions of @path on @context's
 * connection, in transaction @tx_id (0: none), as the xlev_xs_call_*()
 * below do the rest. */
GList *xlev_permissions_call_get(XlevContext *context, guint32 tx_id,
                                 const char *path, GCancellable *cancellable,
                                 GError **error);
gboolean xlev_permissions_call_set(XlevContext *context, guint32 tx_id,
                                   const char *path, GList *permissions,
                                   GCancellable *cancellable, GError **error);

/* xlev-xs-call.c: one blocking call on @context's connection, in
 * transaction @tx_id (0: none), shared by XlevContext's operations and
 * XlevTransaction's. The caller has checked @path (and that the context
 * or transaction is usable); a failure is a GError naming @path. */
char *xlev_xs_call_read_text(XlevContext *context, guint32 tx_id,
                             const char *path, GCancellable *cancellable,
                             GError **error);
GBytes *xlev_xs_call_read_bytes(XlevContext *context, guint32 tx_id,
                                const char *path, GCancellable *cancellable,
                                GError **error);
gboolean xlev_xs_call_write(XlevContext *context, guint32 tx_id,
                            const char *path, const void *data, gsize len,
                            GCancellable *cancellable, GError **error);
char **xlev_xs_call_directory(XlevContext *context, guint32 tx_id,
                              const char *path, GCancellable *cancellable,
                              GError **error);
gboolean xlev_xs_call_rm(XlevContext *context, guint32 tx_id, const char *path,
                         GCancellable *cancellable, GError **error);
gboolean xlev_xs_call_mkdir(XlevContext *context, guint32 tx_id,
                            const char *path, GCancellable *cancellable,
                            GError **error);

G_END_DECLS
