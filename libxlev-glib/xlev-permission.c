/* xlev-permission.c: xenstore permissions, mkdir and domain paths on an
 * XlevContext
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Blocking calls, as xlev-xs-ops.c's: one round trip each to the core's
 * xlev_xs_* (thread-safe, no lock held while waiting), bounded by the
 * context's timeout and ended early by the GCancellable. The _async
 * versions go through xlev-xs-async.c, as xlev-xs-ops.c's do: no thread.
 */
#include "xlev-permission.h"
#include "xlev-xs-async-private.h"
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

/* A GTask's result destroy notify for a list of entries. */
static void
xlev_permission_list_free(gpointer list)
{
    g_list_free_full(list, (GDestroyNotify)xlev_permission_free);
}

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

/*======================================================================*/
/* Asynchronous versions: xlev-xs-async.c sends (no thread); these
 * complete the task in the context's main context. */

static void
return_permissions(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc != 0) {
        xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                            _("Cannot read the permissions of %s"), a->path);
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, xlev_permissions_from_core(a->perms,
                                                           a->n_perms),
                          xlev_permission_list_free);
}

static void
return_permissions_set(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc == 0) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                        _("Cannot set the permissions of %s"), a->path);
    g_task_return_error(task, error);
}

static void
return_made(GTask *task, XlevAsyncAnswer *a)
{
    GError *error = NULL;

    if (a->rc == 0) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    xlev_xs_call_failed(&error, g_task_get_cancellable(task), a->rc,
                        _("Cannot make %s"), a->path);
    g_task_return_error(task, error);
}

static void
return_domain_path(GTask *task, XlevAsyncAnswer *a)
{
    g_autofree char *what = NULL;
    GError *error = NULL;

    if (a->rc == 0) {
        g_task_return_pointer(task, g_steal_pointer(&a->value), g_free);
        return;
    }
    what = g_strdup_printf(_("Cannot find the xenstore path of domain %u"),
                           a->domid);
    xlev_xs_call_error(&error, g_task_get_cancellable(task), a->rc, what);
    g_task_return_error(task, error);
}

static GTask *
context_task_new(XlevContext *self, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data,
                 gpointer source_tag, const char *name)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);

    g_task_set_source_tag(task, source_tag);
    g_task_set_name(task, name);
    return task;
}

static gboolean
finish_check(XlevContext *self, GAsyncResult *result, gpointer source_tag)
{
    return XLEV_IS_CONTEXT(self) && g_task_is_valid(result, self)
           && g_task_get_source_tag(G_TASK(result)) == source_tag;
}

/**
 * xlev_context_get_permissions_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the list is there
 * @user_data: (closure): data for @callback
 *
 * Reads the permissions of the node at @path without blocking the caller,
 * as [method@Xlev.Context.get_permissions]; finish with
 * [method@Xlev.Context.get_permissions_finish]. The request is sent now,
 * from the calling thread (no worker thread); the answer completes the
 * task in the context's main context, and @callback is called in the
 * caller's thread-default main context. Cancelling @cancellable completes
 * the task at once with %G_IO_ERROR_CANCELLED: the request was sent, and
 * its answer is dropped.
 *
 * Since: 1.0
 */
void
xlev_context_get_permissions_async(XlevContext *self, const char *path,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    XlevAsyncRequest request = {.kind = XLEV_ASYNC_GET_PERMS, .path = path};
    GError *error = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));

    task = context_task_new(self, cancellable, callback, user_data,
                            xlev_context_get_permissions_async,
                            "[xlev] get permissions");
    if (!xlev_context_check_ready(self, &error)
        || !xlev_check_path(path, &error)) {
        g_task_return_error(task, error);
        return;
    }
    xlev_xs_async_send(self, task, &request, return_permissions);
}

/**
 * xlev_context_get_permissions_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.get_permissions_async].
 *
 * Returns: (transfer full) (element-type XlevPermission): the list, owner
 *   first, or %NULL with @error set; free it with
 *   `g_list_free_full (list, (GDestroyNotify) xlev_permission_free)`
 *
 * Since: 1.0
 */
GList *
xlev_context_get_permissions_finish(XlevContext *self, GAsyncResult *result,
                                    GError **error)
{
    g_return_val_if_fail(
        finish_check(self, result, xlev_context_get_permissions_async), NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/**
 * xlev_context_set_permissions_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @permissions: (element-type XlevPermission) (transfer none): the new
 *   list, owner first
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the permissions are set
 * @user_data: (closure): data for @callback
 *
 * Replaces the permissions of the node at @path without blocking the
 * caller, as [method@Xlev.Context.set_permissions] (a bad list fails the
 * task before anything is sent); finish with
 * [method@Xlev.Context.set_permissions_finish]. Sent and completed as
 * [method@Xlev.Context.get_permissions_async]; a cancelled request was
 * sent and may still take effect.
 *
 * Since: 1.0
 */
void
xlev_context_set_permissions_async(XlevContext *self, const char *path,
                                   GList *permissions,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    g_autofree xlev_xs_perm *perms = NULL;
    unsigned int n = 0;
    XlevAsyncRequest request = {.kind = XLEV_ASYNC_SET_PERMS, .path = path};
    GError *error = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));

    task = context_task_new(self, cancellable, callback, user_data,
                            xlev_context_set_permissions_async,
                            "[xlev] set permissions");
    if (!xlev_context_check_ready(self, &error)
        || !xlev_check_path(path, &error)
        || !xlev_permissions_to_core(permissions, &perms, &n, &error)) {
        g_task_return_error(task, error);
        return;
    }
    request.perms = perms;
    request.n_perms = n;
    xlev_xs_async_send(self, task, &request, return_permissions_set);
}

/**
 * xlev_context_set_permissions_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.set_permissions_async].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_set_permissions_finish(XlevContext *self, GAsyncResult *result,
                                    GError **error)
{
    g_return_val_if_fail(
        finish_check(self, result, xlev_context_set_permissions_async), FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * xlev_context_mkdir_async:
 * @self: a context
 * @path: an absolute xenstore path
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the node is made
 * @user_data: (closure): data for @callback
 *
 * Makes the node @path and its missing parents without blocking the
 * caller, as [method@Xlev.Context.mkdir]; finish with
 * [method@Xlev.Context.mkdir_finish]. Sent and completed as
 * [method@Xlev.Context.get_permissions_async]; a cancelled request was
 * sent and may still take effect.
 *
 * Since: 1.0
 */
void
xlev_context_mkdir_async(XlevContext *self, const char *path,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    XlevAsyncRequest request = {.kind = XLEV_ASYNC_MKDIR, .path = path};
    GError *error = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));

    task = context_task_new(self, cancellable, callback, user_data,
                            xlev_context_mkdir_async, "[xlev] mkdir");
    if (!xlev_context_check_ready(self, &error)
        || !xlev_check_path(path, &error)) {
        g_task_return_error(task, error);
        return;
    }
    xlev_xs_async_send(self, task, &request, return_made);
}

/**
 * xlev_context_mkdir_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.mkdir_async].
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
xlev_context_mkdir_finish(XlevContext *self, GAsyncResult *result,
                          GError **error)
{
    g_return_val_if_fail(finish_check(self, result, xlev_context_mkdir_async),
                         FALSE);

    return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * xlev_context_get_domain_path_async:
 * @self: a context
 * @domid: a domain ID
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the path
 * @user_data: (closure): data for @callback
 *
 * Asks xenstored where domain @domid's own nodes live without blocking
 * the caller, as [method@Xlev.Context.get_domain_path] (a domid of
 * %XLEV_DOMID_FIRST_RESERVED or above fails the task before anything is
 * sent); finish with [method@Xlev.Context.get_domain_path_finish]. Sent
 * and completed as [method@Xlev.Context.get_permissions_async].
 *
 * Since: 1.0
 */
void
xlev_context_get_domain_path_async(XlevContext *self, guint domid,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    XlevAsyncRequest request = {.kind = XLEV_ASYNC_DOMAIN_PATH,
                                .domid = domid};
    GError *error = NULL;

    g_return_if_fail(XLEV_IS_CONTEXT(self));

    task = context_task_new(self, cancellable, callback, user_data,
                            xlev_context_get_domain_path_async,
                            "[xlev] get domain path");
    if (!xlev_context_check_ready(self, &error)) {
        g_task_return_error(task, error);
        return;
    }
    if (domid >= XLEV_DOMID_FIRST_RESERVED) {
        g_task_return_new_error(task, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                                _("%u is not a valid domain ID"), domid);
        return;
    }
    xlev_xs_async_send(self, task, &request, return_domain_path);
}

/**
 * xlev_context_get_domain_path_finish:
 * @self: a context
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Xlev.Context.get_domain_path_async].
 *
 * Returns: (transfer full): the path, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
xlev_context_get_domain_path_finish(XlevContext *self, GAsyncResult *result,
                                    GError **error)
{
    g_return_val_if_fail(
        finish_check(self, result, xlev_context_get_domain_path_async), NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}
