// watch-roundtrip.js: the Xlev typelib from GJS, one watch round trip.
//
// Copyright (C) 2026 The libxlev-glib authors
// SPDX-License-Identifier: LGPL-2.1-only
//
// Run by tests/python/test_gi_gjs.py, which starts a private xenstored and
// sets XENSTORED_PATH and GI_TYPELIB_PATH. Watches /gjs, has another process
// (xenstore-write) write /gjs/key, and exits 0 once the "changed" signal
// for /gjs/key has arrived and reading the key back gives the value; 1 on
// an error or after a timeout.

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Xlev = '1.0';
const {GLib, Xlev} = imports.gi;

const TIMEOUT_MS = 5000;
const KEY = '/gjs/key';
const VALUE = 'from-another-process';

let status = 1;
const loop = new GLib.MainLoop(null, false);

function finish(code, message) {
    status = code;
    if (message)
        printerr(message);
    loop.quit();
}

const ctx = Xlev.Context.new(null, null);
const watch = ctx.watch('/gjs', Xlev.WatchFlags.SKIP_INITIAL);

watch.connect('changed', (w, path) => {
    print(`changed: ${path}`);
    if (path !== KEY)
        return;
    ctx.read_async(KEY, null, (source, res) => {
        try {
            const value = source.read_finish(res);
            if (value === VALUE)
                finish(0, null);
            else
                finish(1, `read back "${value}", expected "${VALUE}"`);
        } catch (e) {
            finish(1, `read_finish: ${e.message}`);
        }
    });
});

// An error arrives as a GLib.Error in the Xlev domain.
try {
    ctx.watch('not/absolute', Xlev.WatchFlags.NONE);
    finish(1, 'a relative path was accepted');
} catch (e) {
    if (!e.matches(Xlev.error_quark(), Xlev.Error.INVAL))
        finish(1, `unexpected error: ${e}`);
}

GLib.spawn_async(null, ['xenstore-write', KEY, VALUE], null,
    GLib.SpawnFlags.SEARCH_PATH, null);
GLib.timeout_add(GLib.PRIORITY_DEFAULT, TIMEOUT_MS,
    () => finish(1, `no event for ${KEY} within ${TIMEOUT_MS} ms`));

if (status === 1)
    loop.run();
watch.cancel();
imports.system.exit(status);
