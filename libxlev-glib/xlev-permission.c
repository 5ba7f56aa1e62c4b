/* xlev-permission.c: xenstore permissions, mkdir and domain paths on an
 * XlevContext
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Blocking calls, as xlev-xs-ops.c's: one round trip each to the core's
 * xlev_xs_* (thread-safe, no lock held while waiting), bounded by the
 * context's timeout and ended early by the GCancellable.
 */
#include "xlev-permission.h"
#include "xlev-xs-call-private.h"

#include <stdlib.h>

/**
 * xlev_permission_new:
 * @domid: the domain
 * @mode: what it may do
 *
 * Makes one permission entry. Nothing is checked here: a list is checked
 * when it is set.
 *
 * Returns: (transfer full): a new entry; free with
 *   [method@Xlev.Permission.free]
 *
 * Since: 1.0
 */
XlevPermission *
xlev_permission_new(guint domid, XlevPermissionMode mode)
{
    XlevPermission *self = g_new0(XlevPermission, 1);

    self->domid = domid;
    self->mode = mode;
    return self;
}

/**
 * xlev_permission_copy:
 * @self: an entry
 *
 * Copies an entry.
 *
 * Returns: (transfer full): the copy
 *
 * Since: 1.0
 */
XlevPermission *
xlev_permission_copy(const XlevPermission *self)
{
    g_return_val_if_fail(self != NULL, NULL);

    return g_memdup2(self, sizeof *self);
}

/**
 * xlev_permission_free:
 * @self: (nullable): an entry
 *
 * Frees an entry.
 *
 * Since: 1.0
 */
void
xlev_permission_free(XlevPermission *self)
{
    g_free(self);
}

G_DEFINE_BOXED_TYPE(XlevPermission, xlev_permission, xlev_permission_copy,
                    xlev_permission_free)

gboolean
xlev_permissions_to_core(GList *permissions, xlev_xs_perm **out,
                         unsigned int *n_out, GError **error)
{
    g_autofree xlev_xs_perm *perms = NULL;
    guint n = g_list_length(permissions);
    guint i = 0;

    xlev_i18n_init();
    if (n == 0) {
        g_set_error_literal(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                            _("A permission list needs at least one entry: "
                              "the owner’s"));
        return FALSE;
    }
    perms = g_new0(xlev_xs_perm, n);
    for (GList *l = permissions; l != NULL; l = l->next, i++) {
        const XlevPermission *p = l->data;

        if (p == NULL) {
            g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                        _("Permission entry %u is missing"), i);
            return FALSE;
        }
        if (p->domid >= XLEV_DOMID_FIRST_RESERVED) {
            g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                        _("Permission entry %u names domain %u, which is "
                          "not a valid domain ID"),
                        i, p->domid);
            return FALSE;
        }
        switch (p->mode) {
        case XLEV_PERMISSION_MODE_NONE:
            perms[i].mode = XLEV_XS_PERM_NONE;
            break;
        case XLEV_PERMISSION_MODE_READ:
            perms[i].mode = XLEV_XS_PERM_READ;
            break;
        case XLEV_PERMISSION_MODE_WRITE:
            perms[i].mode = XLEV_XS_PERM_WRITE;
            break;
        case XLEV_PERMISSION_MODE_BOTH:
            perms[i].mode = XLEV_XS_PERM_BOTH;
            break;
        default:
            g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                        _("Permission entry %u has an unknown mode %d"), i,
                        (int)p->mode);
            return FALSE;
        }
        perms[i].domid = p->domid;
    }
    *n_out = n;
    *out = g_steal_pointer(&perms);
    return TRUE;
}

GList *
xlev_permissions_from_core(const xlev_xs_perm *perms, unsigned int n)
{
    GList *result = NULL;

    for (unsigned int i = 0; i < n; i++) {
        XlevPermissionMode mode;

        switch (perms[i].mode) {
        case XLEV_XS_PERM_READ:
            mode = XLEV_PERMISSION_MODE_READ;
            break;
        case XLEV_XS_PERM_WRITE:
            mode = XLEV_PERMISSION_MODE_WRITE;
            break;
        case XLEV_XS_PERM_BOTH:
            mode = XLEV_PERMISSION_MODE_BOTH;
            break;
        default:
            mode = XLEV_PERMISSION_MODE_NONE;
            break;
        }
        result
            = g_list_prepend(result, xlev_permission_new(perms[i].domid, mode));
    }
    return g_list_reverse(result);
}

/* The permission calls of XlevContext and XlevTransaction (see
 * xlev-xs-call-private.h): in transaction @tx_id, 0 for none. */
GList *
xlev_permissions_call_get(XlevContext *context, guint32 tx_id,
                          const char *path, GCancellable *cancellable,
                          GError **error)
{
    xlev_xs_perm *perms = NULL;
    unsigned int n = 0;
    GList *result;
    int rc, fd;

    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_get_perms(xlev_context_get_core(context), tx_id, path, &perms,
                           &n);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        xlev_xs_call_failed(error, cancellable, rc, _("Cannot read the permissions of %s"), path);
        return NULL;
    }
    result = xlev_permissions_from_core(perms, n);
    free(perms);
    return result;
}

gboolean
xlev_permissions_call_set(XlevContext *context, guint32 tx_id,
                          const char *path, GList *permissions,
                          GCancellable *cancellable, GError **error)
{
    g_autofree xlev_xs_perm *perms = NULL;
    unsigned int n = 0;
    int rc, fd;

    if (!xlev_permissions_to_core(permissions, &perms, &n, error))
        return FALSE;
    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_set_perms(xlev_context_get_core(context), tx_id, path, perms,
                           n);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        xlev_xs_call_failed(error, cancellable, rc, _("Cannot set the permissions of %s"), path);
        return FALSE;
    }
    return TRUE;
}

/**
 * xlev_context_get_permissions:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads the permissions of the node at @path. Blocks for a round trip to
 * xenstored, as [method@Xlev.Context.read] does.
 *
 * Returns: (transfer full) (element-type XlevPermission): the list, owner
 *   first (never empty), or %NULL with @error set (%XLEV_ERROR_CODE_NOENT,
 *   %XLEV_ERROR_CODE_PERM, ...); free it with
 *   `g_list_free_full (list, (GDestroyNotify) xlev_permission_free)`, or
 *   hold it in a `g_autolist (XlevPermission)`
 *
 * Since: 1.0
 */
GList *
xlev_context_get_permissions(XlevContext *self, const char *path,
                             GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return NULL;
    return xlev_permissions_call_get(self, 0, path, cancellable, error);
}

/**
 * xlev_context_set_permissions:
 * @self: a context
 * @path: an absolute xenstore path
 * @permissions: (element-type XlevPermission) (transfer none): the new
 *   list, owner first
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Replaces the permissions of the node at @path. An empty list, or one
 * naming a domid of %XLEV_DOMID_FIRST_RESERVED or above, fails with
 * %XLEV_ERROR_CODE_INVAL before anything is sent. Blocks for a round trip
 * to xenstored.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_set_permissions(XlevContext *self, const char *path,
                             GList *permissions, GCancellable *cancellable,
                             GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return FALSE;
    return xlev_permissions_call_set(self, 0, path, permissions, cancellable,
                                        error);
}

/**
 * xlev_context_mkdir:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes the node @path (with an empty value) and its missing parents; a
 * node that exists already is left as it is (no error). Blocks for a
 * round trip to xenstored.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_mkdir(XlevContext *self, const char *path,
                   GCancellable *cancellable, GError **error)
{
    g_return_val_if_fail(XLEV_IS_CONTEXT(self), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!xlev_xs_call_check(self, path, cancellable, error))
        return FALSE;
    return xlev_xs_call_mkdir(self, 0, path, cancellable, error);
}

/**
 * xlev_context_get_domain_path:
 * @self: a context
 * @domid: a domain ID
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Asks xenstored where domain @domid's own nodes live (normally
 * `/local/domain/<domid>`; the domain need not exist). A domid of
 * %XLEV_DOMID_FIRST_RESERVED or above fails with %XLEV_ERROR_CODE_INVAL
 * before anything is sent. Blocks for a round trip to xenstored.
 *
 * Returns: (transfer full): the path, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
xlev_context_get_domain_path(XlevContext *self, guint domid,
                             GCancellable *cancellable, GError **error)
{
    char *path = NULL;
    char *result;
    int rc, fd;

    g_return_val_if_fail(XLEV_IS_CONTEXT(self), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!xlev_context_check_ready(self, error)
        || g_cancellable_set_error_if_cancelled(cancellable, error))
        return NULL;
    if (domid >= XLEV_DOMID_FIRST_RESERVED) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("%u is not a valid domain ID"), domid);
        return NULL;
    }
    fd = xlev_xs_call_begin(cancellable);
    rc = xlev_xs_get_domain_path(xlev_context_get_core(self), domid, &path);
    xlev_xs_call_end(cancellable, fd);
    if (rc != 0) {
        g_autofree char *what = g_strdup_printf(
            _("Cannot find the xenstore path of domain %u"), domid);

        xlev_xs_call_error(error, cancellable, rc, what);
        return NULL;
    }
    result = g_strdup(path);
    free(path);
    return result;
}
