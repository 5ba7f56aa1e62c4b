/* hello.vala: the Vala bindings (libxlev-glib-1.0.vapi) at work.
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Watches /vala, writes /vala/hello asynchronously, and on the watch's
 * "changed" signal reads the value back asynchronously and prints
 * "changed: PATH = VALUE". Exits 0 then, 1 on an error or after
 * TIMEOUT_MS with no event. Uses the xenstored at $XENSTORED_PATH
 * (tests/vala/test_hello_vala.py starts a private one).
 */

const uint TIMEOUT_MS = 5000;
const string DIR = "/vala";
const string KEY = "/vala/hello";
const string VALUE = "hello from Vala";

int main (string[] args) {
    var loop = new MainLoop ();
    int status = 1;
    Xlev.Context ctx;
    Xlev.Watch watch;

    try {
        ctx = new Xlev.Context (null);
        watch = ctx.watch (DIR, Xlev.WatchFlags.SKIP_INITIAL);
    } catch (Error e) {
        printerr ("hello-vala: %s\n", e.message);
        return 1;
    }

    watch.changed.connect ((event_path) => {
        ctx.read_async.begin (event_path, null, (obj, res) => {
            try {
                var value = ctx.read_async.end (res);
                print ("changed: %s = %s\n", event_path, value);
                status = 0;
            } catch (Error e) {
                printerr ("hello-vala: read %s: %s\n", event_path, e.message);
            }
            loop.quit ();
        });
    });

    ctx.write_async.begin (KEY, VALUE, null, (obj, res) => {
        try {
            ctx.write_async.end (res);
        } catch (Error e) {
            printerr ("hello-vala: write %s: %s\n", KEY, e.message);
            loop.quit ();
        }
    });

    Timeout.add (TIMEOUT_MS, () => {
        printerr ("hello-vala: no event within %u ms\n", TIMEOUT_MS);
        loop.quit ();
        return Source.REMOVE;
    });

    loop.run ();
    watch.cancel ();
    return status;
}
