/* xb-format.c: xenstore values as a person reads them, and error tests
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xb-format.h"

#include <glib/gi18n.h>
#include <string.h>

#include <xlev.h>

#define KIB_PER_MIB 1024

/* The largest balloon target accepted, in MiB: 16 TiB, the most memory an
 * x86 guest can be given (Xen's documented limit for HVM guests). */
#define XB_MAX_TARGET_MIB (G_GUINT64_CONSTANT(16) * 1024 * 1024)

/* enum xenbus_state, xen/include/public/io/xenbus.h: the index is the
 * value. The protocol's own names, which administrators look up, so not
 * translated. */
static const char *const xenbus_states[] = {
    "Unknown",     "Initialising", "InitWait",      "Initialised",
    "Connected",   "Closing",      "Closed",        "Reconfiguring",
    "Reconfigured",
};

/* Flags written as 0 or 1 that are not named feature-*. */
static const char *const boolean_keys[] = {
    "online", "removable", "discard-enable", "multi-queue",
    "request-update", "trusted",
};

static gboolean
parse_uint(const char *text, guint64 *out)
{
    char *end;

    if (text == NULL || !g_ascii_isdigit(text[0]))
        return FALSE;
    *out = g_ascii_strtoull(text, &end, 10);
    return *end == '\0';
}

/* Splits @path into components; g_strfreev() the result. */
static char **
components(const char *path)
{
    return g_strsplit(path[0] == '/' ? path + 1 : path, "/", -1);
}

/* /local/domain/<domid>/memory/<key> */
static gboolean
is_memory_key(char **c, guint n)
{
    return n == 5 && g_str_equal(c[0], "local") &&
           g_str_equal(c[1], "domain") && g_str_equal(c[3], "memory");
}

/* .../device/<type>/<devid>/state (a frontend) or
 * .../backend/<type>/<domid>/<devid>/state (a backend). */
static gboolean
is_device_state(char **c, guint n)
{
    return n >= 4 && g_str_equal(c[n - 1], "state") &&
           (g_str_equal(c[n - 4], "device") ||
            (n >= 5 && g_str_equal(c[n - 5], "backend")));
}

static gboolean
is_boolean_key(const char *name)
{
    if (g_str_has_prefix(name, "feature-"))
        return TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(boolean_keys); i++)
        if (g_str_equal(name, boolean_keys[i]))
            return TRUE;
    return FALSE;
}

char *
xb_format_value(const char *path, const char *value)
{
    g_auto(GStrv) c = NULL;
    guint n;
    guint64 number;

    if (value == NULL)
        return g_strdup("");
    c = components(path);
    n = g_strv_length(c);
    if (n > 0 && parse_uint(value, &number)) {
        if (is_memory_key(c, n)) {
            g_autofree char *mib = number % KIB_PER_MIB == 0
                ? g_strdup_printf("%" G_GUINT64_FORMAT, number / KIB_PER_MIB)
                : g_strdup_printf("%.1f", (double)number / KIB_PER_MIB);

            /* TRANSLATORS: a memory size in MiB, then in KiB as xenstore
             * holds it; both are numbers */
            return g_strdup_printf(_("%s MiB (%s KiB)"), mib, value);
        }
        if (is_device_state(c, n) && number < G_N_ELEMENTS(xenbus_states))
            /* TRANSLATORS: a device's XenbusState: its name, then the
             * number xenstore holds */
            return g_strdup_printf(_("%s (%s)"), xenbus_states[number],
                                   value);
        if (is_boolean_key(c[n - 1]) && number <= 1)
            return g_strdup(number ? _("yes") : _("no"));
    }
    return g_strescape(value, NULL);
}

gboolean
xb_parse_mib(const char *text, guint64 *kib)
{
    g_autofree char *stripped = g_strstrip(g_strdup(text != NULL ? text : ""));
    guint64 mib;

    if (!parse_uint(stripped, &mib) || mib == 0 || mib > XB_MAX_TARGET_MIB)
        return FALSE;
    *kib = mib * KIB_PER_MIB;
    return TRUE;
}

gboolean
xb_error_is(const GError *error, const char *nick)
{
    GEnumClass *klass;
    GEnumValue *v;
    gboolean match;

    if (error == NULL || error->domain != XLEV_ERROR)
        return FALSE;
    klass = g_type_class_ref(XLEV_TYPE_ERROR);
    v = g_enum_get_value_by_nick(klass, nick);
    match = v != NULL && v->value == error->code;
    g_type_class_unref(klass);
    return match;
}
