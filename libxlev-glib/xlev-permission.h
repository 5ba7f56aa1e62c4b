/* xlev-permission.h: xenstore permissions, mkdir and domain paths
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The contract, in short:
 *  - A node's permissions are a list of [struct@Xlev.Permission]: the first
 *    names the node's owner (who may always read, write and set the
 *    permissions) and, through its mode, what every domain not listed
 *    may do; the others name one domain each. This is xenstore's own
 *    shape (docs/misc/xenstore.txt in Xen's tree).
 *  - A list that is empty, or names a domid of DOMID_FIRST_RESERVED
 *    (0x7FF0) or above, or a mode outside [enum@Xlev.PermissionMode], is
 *    refused with %XLEV_ERROR_CODE_INVAL before anything is sent.
 *  - What the daemon refuses comes back as its named code: a node the
 *    connection may not touch is %XLEV_ERROR_CODE_PERM.
 *  - The calls block for one round trip, as [method@Xlev.Context.read]
 *    does; their _async versions start no thread, as
 *    [method@Xlev.Context.read_async]'s; the same calls inside a
 *    transaction are on [class@Xlev.Transaction].
 */
#pragma once

#if !defined(XLEV_INSIDE) && !defined(XLEV_COMPILATION)
#error "Only <xlev.h> can be included directly."
#endif

#include <gio/gio.h>

#include "xlev-version-macros.h"
#include "xlev-context.h"

G_BEGIN_DECLS

/**
 * XLEV_DOMID_FIRST_RESERVED:
 *
 * The first domid that names no domain (`DOMID_FIRST_RESERVED` in Xen's
 * public header `xen/xen.h`): a permission list naming it or any above
 * is refused.
 *
 * Since: 1.0
 */
#define XLEV_DOMID_FIRST_RESERVED 0x7FF0

/**
 * XlevPermissionMode:
 * @XLEV_PERMISSION_MODE_NONE: no access (`n` on the wire)
 * @XLEV_PERMISSION_MODE_READ: read only (`r`)
 * @XLEV_PERMISSION_MODE_WRITE: write only (`w`)
 * @XLEV_PERMISSION_MODE_BOTH: read and write (`b`)
 *
 * What a domain may do with a xenstore node.
 *
 * Since: 1.0
 */
typedef enum {
    XLEV_PERMISSION_MODE_NONE = 0,
    XLEV_PERMISSION_MODE_READ = 1,
    XLEV_PERMISSION_MODE_WRITE = 2,
    XLEV_PERMISSION_MODE_BOTH = 3,
} XlevPermissionMode;

/**
 * XlevPermission:
 * @domid: the domain
 * @mode: what it may do
 *
 * One entry of a xenstore node's permission list.
 *
 * Since: 1.0
 */
typedef struct {
    guint domid;
    XlevPermissionMode mode;
} XlevPermission;

#define XLEV_TYPE_PERMISSION (xlev_permission_get_type())

XLEV_AVAILABLE_IN_1_0
GType xlev_permission_get_type(void) G_GNUC_CONST;

XLEV_AVAILABLE_IN_1_0
XlevPermission *xlev_permission_new(guint domid, XlevPermissionMode mode);
XLEV_AVAILABLE_IN_1_0
XlevPermission *xlev_permission_copy(const XlevPermission *self);
XLEV_AVAILABLE_IN_1_0
void xlev_permission_free(XlevPermission *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(XlevPermission, xlev_permission_free)

XLEV_AVAILABLE_IN_1_0
GList *xlev_context_get_permissions(XlevContext *self, const char *path,
                                    GCancellable *cancellable, GError **error);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_set_permissions(XlevContext *self, const char *path,
                                      GList *permissions,
                                      GCancellable *cancellable,
                                      GError **error);

XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_mkdir(XlevContext *self, const char *path,
                            GCancellable *cancellable, GError **error);

XLEV_AVAILABLE_IN_1_0
char *xlev_context_get_domain_path(XlevContext *self, guint domid,
                                   GCancellable *cancellable, GError **error);

XLEV_AVAILABLE_IN_1_0
void xlev_context_get_permissions_async(XlevContext *self, const char *path,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
XLEV_AVAILABLE_IN_1_0
GList *xlev_context_get_permissions_finish(XlevContext *self,
                                           GAsyncResult *result,
                                           GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_set_permissions_async(XlevContext *self, const char *path,
                                        GList *permissions,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_set_permissions_finish(XlevContext *self,
                                             GAsyncResult *result,
                                             GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_mkdir_async(XlevContext *self, const char *path,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
XLEV_AVAILABLE_IN_1_0
gboolean xlev_context_mkdir_finish(XlevContext *self, GAsyncResult *result,
                                   GError **error);
XLEV_AVAILABLE_IN_1_0
void xlev_context_get_domain_path_async(XlevContext *self, guint domid,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
XLEV_AVAILABLE_IN_1_0
char *xlev_context_get_domain_path_finish(XlevContext *self,
                                          GAsyncResult *result,
                                          GError **error);

G_END_DECLS
