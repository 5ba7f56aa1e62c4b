/* xlev-error.c: the XLEV_ERROR GError domain
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "xlev-error.h"
#include "xlev-error-private.h"
#include "xlev-i18n-private.h"

#include <string.h>

/**
 * xlev_error_quark:
 *
 * The error domain of libxlev-glib; see [error@Xlev.Error].
 *
 * Returns: the %XLEV_ERROR quark
 *
 * Since: 1.0
 */
/* The quark's name is the string "xlev-error-quark": no spaces. */
/* clang-format off */
G_DEFINE_QUARK(xlev-error-quark, xlev_error)
/* clang-format on */

void
xlev_i18n_init(void)
{
    static gsize bound = 0;

    if (g_once_init_enter(&bound)) {
        /* XLEV_LOCALEDIR: see xlev-i18n-private.h. */
        const char *dir = g_getenv("XLEV_LOCALEDIR");

        bindtextdomain(GETTEXT_PACKAGE,
                       dir != NULL && dir[0] != '\0' ? dir : LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        g_once_init_leave(&bound, 1);
    }
}

/* The one table between the core's negative libxl-style codes and the
 * GError codes. The description is translated when looked up. */
static const struct {
    int core;
    XlevError code;
    const char *description;
} code_table[] = {
    { XLEV_ERROR_FAIL, XLEV_ERROR_CODE_FAIL, N_("Operation failed") },
    { XLEV_ERROR_NOMEM, XLEV_ERROR_CODE_NOMEM, N_("Out of memory") },
    { XLEV_ERROR_INVAL, XLEV_ERROR_CODE_INVAL, N_("Invalid argument") },
    { XLEV_ERROR_NOT_READY, XLEV_ERROR_CODE_NOT_READY,
      N_("Nothing to report yet") },
    { XLEV_ERROR_OSEVENT_REG_FAIL, XLEV_ERROR_CODE_OSEVENT_REG_FAIL,
      N_("The main loop could not watch a file descriptor or a timeout") },
    { XLEV_ERROR_BUFFERFULL, XLEV_ERROR_CODE_BUFFERFULL,
      N_("Buffer too small") },
    { XLEV_ERROR_NOENT, XLEV_ERROR_CODE_NOENT, N_("No such xenstore path") },
    { XLEV_ERROR_PERM, XLEV_ERROR_CODE_PERM,
      N_("Permission denied by xenstored") },
    { XLEV_ERROR_XENSTORE, XLEV_ERROR_CODE_XENSTORE,
      N_("The xenstore daemon cannot be reached: not connected, or the "
         "connection was lost") },
    { XLEV_ERROR_NO_HYPERVISOR, XLEV_ERROR_CODE_NO_HYPERVISOR,
      N_("Xen is not running") },
    { XLEV_ERROR_BROKEN, XLEV_ERROR_CODE_BROKEN,
      N_("The context is unusable after an earlier failure") },
    { XLEV_ERROR_EXIST, XLEV_ERROR_CODE_EXIST,
      N_("The xenstore node already exists") },
    { XLEV_ERROR_TOO_BIG, XLEV_ERROR_CODE_TOO_BIG,
      N_("Too long for xenstore, or too many watches or transactions") },
    { XLEV_ERROR_NOSPC, XLEV_ERROR_CODE_NOSPC,
      N_("The xenstore daemon’s node or size quota is exhausted") },
    { XLEV_ERROR_QUOTA, XLEV_ERROR_CODE_QUOTA,
      N_("A xenstore quota is exceeded") },
    { XLEV_ERROR_AGAIN, XLEV_ERROR_CODE_AGAIN,
      N_("The transaction conflicted with another change; retry it") },
    { XLEV_ERROR_BUSY, XLEV_ERROR_CODE_BUSY,
      N_("The xenstore daemon is busy") },
    { XLEV_ERROR_ISDIR, XLEV_ERROR_CODE_ISDIR,
      N_("The xenstore node has children") },
    { XLEV_ERROR_READONLY, XLEV_ERROR_CODE_READONLY,
      N_("The xenstore connection is read-only") },
    { XLEV_ERROR_MFILE, XLEV_ERROR_CODE_MFILE, N_("Too many open files") },
    { XLEV_ERROR_NOTEMPTY, XLEV_ERROR_CODE_NOTEMPTY,
      N_("The xenstore node is not empty") },
    { XLEV_ERROR_NOSYS, XLEV_ERROR_CODE_NOSYS,
      N_("The xenstore daemon does not support the operation") },
    { XLEV_ERROR_PROTOCOL, XLEV_ERROR_CODE_PROTOCOL,
      N_("The xenstore daemon broke the wire protocol") },
    { XLEV_ERROR_TIMEDOUT, XLEV_ERROR_CODE_TIMED_OUT,
      N_("The xenstore daemon did not answer in time") },
};

/* The table's row for a core code; FAIL's for a code it does not list. */
static guint
row_from_core(int rc)
{
    for (guint i = 0; i < G_N_ELEMENTS(code_table); i++) {
        if (code_table[i].core == rc)
            return i;
    }
    return 0; /* XLEV_ERROR_FAIL */
}

XlevError
xlev_error_code_from_core(int rc)
{
    if (rc > 0)
        return XLEV_ERROR_CODE_OSEVENT_REG_FAIL; /* a hook's own value */
    return code_table[row_from_core(rc)].code;
}

int
xlev_error_code_to_core(XlevError code)
{
    for (guint i = 0; i < G_N_ELEMENTS(code_table); i++) {
        if (code_table[i].code == code)
            return code_table[i].core;
    }
    return XLEV_ERROR_FAIL;
}

/* The translated description of a GError code. */
static const char *
describe(XlevError code)
{
    for (guint i = 0; i < G_N_ELEMENTS(code_table); i++) {
        if (code_table[i].code == code)
            return _(code_table[i].description);
    }
    return _(code_table[0].description);
}

void
xlev_error_from_core(GError **error, int rc, const char *format, ...)
{
    g_autofree char *what = NULL;
    va_list args;
    XlevError code;

    g_return_if_fail(rc != 0);

    if (error == NULL)
        return;

    xlev_i18n_init();
    code = xlev_error_code_from_core(rc);

    va_start(args, format);
    what = g_strdup_vprintf(format, args);
    va_end(args);

    /* TRANSLATORS: "<what failed>: <why>", e.g.
     * "Cannot read /local/domain/0/name: No such xenstore path" */
    g_set_error(error, XLEV_ERROR, code, _("%s: %s"), what, describe(code));
}

gboolean
xlev_check_path(const char *path, GError **error)
{
    const char *problem;

    xlev_i18n_init();

    if (path == NULL) {
        g_set_error_literal(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                            _("No xenstore path given"));
        return FALSE;
    }
    /* The common case first: a valid path is short ASCII. What is wrong
     * with any other is worked out below, for the message. */
    if (xlev_xs_path_is_valid(path))
        return TRUE;
    if (!g_utf8_validate(path, -1, NULL)) {
        g_set_error_literal(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                            _("The xenstore path is not valid UTF-8"));
        return FALSE;
    }

    if (strlen(path) > XLEV_XS_PATH_MAX) {
        g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL,
                    _("The xenstore path is longer than %d bytes"),
                    XLEV_XS_PATH_MAX);
        return FALSE;
    }

    if (path[0] == '\0')
        problem = _("The xenstore path is empty");
    else if (path[0] != '/' && path[0] != '@')
        problem = _("The xenstore path is not absolute");
    else if (!xlev_xs_path_is_valid(path))
        problem = _("Not a valid xenstore path");
    else
        return TRUE;

    /* TRANSLATORS: "<problem>: “<path>”" */
    g_set_error(error, XLEV_ERROR, XLEV_ERROR_CODE_INVAL, _("%s: “%s”"),
                problem, path);
    return FALSE;
}
