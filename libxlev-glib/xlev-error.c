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
G_DEFINE_QUARK(xlev-error-quark, xlev_error)

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

/* The translated description of a core code; codes the GError enum has no
 * name for are reported as FAIL. */
static const char *
describe(int code)
{
    switch (code) {
    case XLEV_ERROR_NOMEM:
        return _("Out of memory");
    case XLEV_ERROR_INVAL:
        return _("Invalid argument");
    case XLEV_ERROR_NOT_READY:
        return _("Nothing to report yet");
    case XLEV_ERROR_OSEVENT_REG_FAIL:
        return _("The main loop could not watch a file descriptor or a "
                 "timeout");
    case XLEV_ERROR_BUFFERFULL:
        return _("Buffer too small");
    case XLEV_ERROR_NOENT:
        return _("No such xenstore path");
    case XLEV_ERROR_PERM:
        return _("Permission denied by xenstored");
    case XLEV_ERROR_XENSTORE:
        return _("The xenstore daemon cannot be reached");
    case XLEV_ERROR_NO_HYPERVISOR:
        return _("Xen is not running");
    case XLEV_ERROR_BROKEN:
        return _("The context is unusable after an earlier failure");
    case XLEV_ERROR_FAIL:
    default:
        return _("Operation failed");
    }
}

static int
code_from_core(int rc)
{
    if (rc > 0)
        return XLEV_ERROR_CODE_OSEVENT_REG_FAIL; /* a hook's own value */
    switch (rc) {
    case XLEV_ERROR_FAIL:
    case XLEV_ERROR_NOMEM:
    case XLEV_ERROR_INVAL:
    case XLEV_ERROR_NOT_READY:
    case XLEV_ERROR_OSEVENT_REG_FAIL:
    case XLEV_ERROR_BUFFERFULL:
    case XLEV_ERROR_NOENT:
    case XLEV_ERROR_PERM:
    case XLEV_ERROR_XENSTORE:
    case XLEV_ERROR_NO_HYPERVISOR:
    case XLEV_ERROR_BROKEN:
        return rc;
    default:
        return XLEV_ERROR_CODE_FAIL;
    }
}

void
xlev_error_from_core(GError **error, int rc, const char *format, ...)
{
    g_autofree char *what = NULL;
    va_list args;
    int code;

    g_return_if_fail(rc != 0);

    if (error == NULL)
        return;

    xlev_i18n_init();
    code = code_from_core(rc);

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
