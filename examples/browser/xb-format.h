/* xb-format.h: xenstore values as a person reads them, and error tests
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Xenstore holds strings; what they mean is in the key. A toolstack's
 * conventions (xen/include/public/io/xenbus.h, docs/misc/xenstore-paths.pandoc)
 * say which keys hold what:
 *  - /local/domain/<domid>/memory/<key>: sizes in KiB, shown in MiB;
 *  - <frontend or backend device>/state: an XenbusState number, shown by
 *    its name;
 *  - feature-* and a few flags: 0/1, shown as yes/no.
 * Anything else is shown as it is, with control characters escaped.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The value of @path (@value may be NULL: not read yet) as text for the
 * value column. Never NULL. */
char *xb_format_value(const char *path, const char *value);

/* A size in MiB the user typed ("512", "1536"), as the KiB xenstore's
 * memory/target holds. FALSE (with nothing set) for anything that is not
 * a whole number of MiB between 1 and the largest a domain can have. */
gboolean xb_parse_mib(const char *text, guint64 *kib);

/* Whether @error is the XLEV_ERROR code whose nickname is @nick ("noent",
 * "perm", "xenstore", "broken", "no-hypervisor"...). The codes are
 * compared by name, through the library's registered enum type, never by
 * number. */
gboolean xb_error_is(const GError *error, const char *nick);

G_END_DECLS
