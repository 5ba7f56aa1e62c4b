/* xlev-xs-call.c: one blocking xenstore call of the GObject layer
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * What XlevContext's blocking operations (xlev-xs-ops.c, xlev-permission.c)
 * and XlevTransaction's (xlev-transaction.c) share: the same core call,
 * with transaction id 0 outside a transaction. See xlev-xs-call-private.h.
 * (The permission calls are xlev-permission.c's, beside their lists.)
 */
#include <stdlib.h>
#include <string.h>

#include "xlev-xs-call-private.h"

void
xlev_xs_call_failed(GError **error, GCancellable *cancellable, int rc,
            const char *what_format, const char *path)
{
    g_autofree char *what = NULL;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    what = g_strdup_printf(what_format, path);
#pragma GCC diagnostic pop
    xlev_xs_call_error(error, cancellable, rc, what);
}

/* The value at @path as the core returns it (free() it). */
static char *
read_raw(XlevContext *context, guint32 tx_id, const char *path,
         unsigned int *len, GCancellable *cancellable, GError **error)
{
    char *value = NULL;
    int rc, fd;

    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_read_tx(xlev_context_get_core(context), tx_id, path, &value,
                         len);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        xlev_xs_call_failed(error, cancellable, rc, _("Cannot read %s"), path);
        return NULL;
    }
    return value;
}

char *
xlev_xs_call_read_text(XlevContext *context, guint32 tx_id, const char *path,
                       GCancellable *cancellable, GError **error)
{
    unsigned int len = 0;
    char *value = read_raw(context, tx_id, path, &len, cancellable, error);
    char *result;

    if (value == NULL)
        return NULL;
    result = xlev_xs_check_text(value, &len, path, error) ? g_strndup(value, len)
                                                         : NULL;
    free(value);
    return result;
}

GBytes *
xlev_xs_call_read_bytes(XlevContext *context, guint32 tx_id, const char *path,
                        GCancellable *cancellable, GError **error)
{
    unsigned int len = 0;
    char *value = read_raw(context, tx_id, path, &len, cancellable, error);
    GBytes *result;

    if (value == NULL)
        return NULL;
    result = g_bytes_new(value, len);
    free(value);
    return result;
}

gboolean
xlev_xs_call_write(XlevContext *context, guint32 tx_id, const char *path,
                   const void *data, gsize len, GCancellable *cancellable,
                   GError **error)
{
    int rc, fd;

    if (data == NULL) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("No value given to write at %s"), path);
        return FALSE;
    }
    if (len > G_MAXUINT) {
        xlev_xs_call_failed(error, cancellable, XLEV_ERROR_TOO_BIG,
                            _("Cannot write %s"), path);
        return FALSE;
    }
    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_write_tx(xlev_context_get_core(context), tx_id, path, data,
                          (unsigned int)len);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        xlev_xs_call_failed(error, cancellable, rc, _("Cannot write %s"), path);
        return FALSE;
    }
    return TRUE;
}

char **
xlev_xs_call_directory(XlevContext *context, guint32 tx_id, const char *path,
                       GCancellable *cancellable, GError **error)
{
    char **entries = NULL;
    unsigned int n = 0;
    char **result;
    int rc, fd;

    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_directory_tx(xlev_context_get_core(context), tx_id, path,
                              &entries, &n);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        xlev_xs_call_failed(error, cancellable, rc, _("Cannot list %s"), path);
        return NULL;
    }
    result = g_new0(char *, n + 1);
    for (unsigned int i = 0; i < n; i++)
        result[i] = g_strdup(entries[i]);
    free(entries);
    return result;
}

/* One blocking call that takes a path and answers nothing (rm, mkdir):
 * @failed_fmt names the failure, with the path for its %s. */
static gboolean
call_path_only(XlevContext *context, guint32 tx_id, const char *path,
               int (*call)(xlev_ctx *, uint32_t, const char *),
               const char *failed_fmt, GCancellable *cancellable,
               GError **error)
{
    int rc, fd;

    fd = xlev_xs_call_begin(cancellable);
    rc = call(xlev_context_get_core(context), tx_id, path);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        xlev_xs_call_failed(error, cancellable, rc, failed_fmt, path);
        return FALSE;
    }
    return TRUE;
}

gboolean
xlev_xs_call_rm(XlevContext *context, guint32 tx_id, const char *path,
                GCancellable *cancellable, GError **error)
{
    return call_path_only(context, tx_id, path, xlev_xs_rm_tx,
                          _("Cannot remove %s"), cancellable, error);
}

gboolean
xlev_xs_call_mkdir(XlevContext *context, guint32 tx_id, const char *path,
                   GCancellable *cancellable, GError **error)
{
    return call_path_only(context, tx_id, path, xlev_xs_mkdir,
                          _("Cannot make %s"), cancellable, error);
}
