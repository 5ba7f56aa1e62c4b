/* hello-watch.c: the README's C example. Prints the first event of a watch. */
#include <xlev.h>

static void
on_changed (XlevWatch *watch, const char *path, gpointer loop)
{
    g_print ("changed: %s\n", path);
    g_main_loop_quit (loop);
}

int
main (void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
    g_autoptr(XlevContext) ctx = xlev_context_new (NULL, NULL, &error);
    g_autoptr(XlevWatch) watch = NULL;

    if (ctx)
        watch = xlev_context_watch (ctx, "/local/domain", XLEV_WATCH_FLAGS_NONE,
                                    &error);
    if (!watch) {
        g_printerr ("%s\n", error->message);
        return 1;
    }
    g_signal_connect (watch, "changed", G_CALLBACK (on_changed), loop);
    g_main_loop_run (loop);
    return 0;
}
