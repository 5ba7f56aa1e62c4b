// wait.js: waiting for a xenstore node from GJS, with a predicate.
//
// Copyright (C) 2026 The libxlev-glib authors
// SPDX-License-Identifier: LGPL-2.1-only
//
// Run by tests/python/test_gi_gjs.py against a private xenstored. Waits
// until /gjs/count holds a number of at least 10 while it writes 1, 5,
// then 12; exits 0 once the wait ends with "12" and a wait on a missing
// node times out with Xlev.Error.TIMED_OUT; 1 otherwise.

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Xlev = '1.0';
const {GLib, Xlev} = imports.gi;

let status = 1;
let pending = 2;
const loop = new GLib.MainLoop(null, false);

function finish(ok, message) {
    if (message)
        print(message);
    if (!ok) {
        status = 1;
        loop.quit();
        return;
    }
    if (--pending === 0) {
        status = 0;
        loop.quit();
    }
}

const ctx = Xlev.Context.new(null, null);

ctx.wait_for_async('/gjs/count',
    (path, value) => value !== null && parseInt(value) >= 10,
    5000, null, (source, res) => {
        try {
            const value = source.wait_for_finish(res);
            finish(value === '12', `waited for: ${value}`);
        } catch (e) {
            finish(false, `wait_for_finish: ${e.message}`);
        }
    });

ctx.wait_async('/gjs/never', 'x', 100, null, (source, res) => {
    try {
        source.wait_finish(res);
        finish(false, 'a wait on a missing node succeeded');
    } catch (e) {
        finish(e.matches(Xlev.error_quark(), Xlev.Error.TIMED_OUT),
            `timed out: ${e.message}`);
    }
});

let n = 0;
GLib.timeout_add(GLib.PRIORITY_DEFAULT, 50, () => {
    ctx.write('/gjs/count', ['1', '5', '12'][n++], null);
    return n < 3;
});
GLib.timeout_add(GLib.PRIORITY_DEFAULT, 10000, () => {
    finish(false, 'timed out');
    return false;
});
loop.run();
imports.system.exit(status);
