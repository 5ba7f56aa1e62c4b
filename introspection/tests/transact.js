// transact.js: transactions and permissions from GJS.
//
// Copyright (C) 2026 The libxlev-glib authors
// SPDX-License-Identifier: LGPL-2.1-only
//
// Run by tests/python/test_gi_gjs.py against a private xenstored.
// Increments /gjs/counter through Context.transact while a second context
// spoils the first attempt (so the helper must retry), checks that a
// committed transaction refuses further use with Xlev.Error.INVAL, and
// sets and reads back a permission list. Prints what it found; exits 0 if
// all held, 1 otherwise.

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Xlev = '1.0';
const {GLib, Xlev} = imports.gi;

function check(ok, message) {
    print(message);
    if (!ok)
        throw new Error(`check failed: ${message}`);
}

try {
    const ctx = Xlev.Context.new(null, null);
    const other = Xlev.Context.new(null, null);
    ctx.write('/gjs/counter', '0', null);

    let calls = 0;
    const committed = ctx.transact(Xlev.TRANSACT_DEFAULT_ATTEMPTS, null, tx => {
        calls++;
        const value = parseInt(tx.read('/gjs/counter', null));
        if (calls === 1)
            other.write('/gjs/counter', '10', null);
        tx.write('/gjs/counter', String(value + 1), null);
        return true;
    });
    check(committed, `committed: ${committed}`);
    check(calls === 2, `attempts: ${calls}`);
    check(ctx.read('/gjs/counter', null) === '11',
        `counter: ${ctx.read('/gjs/counter', null)}`);

    const tx = ctx.transaction_start(null);
    tx.write('/gjs/tx', 'v', null);
    tx.commit(null);
    let refused = false;
    try {
        tx.write('/gjs/tx', 'w', null);
    } catch (e) {
        refused = e.matches(Xlev.Error, Xlev.Error.INVAL);
    }
    check(refused, `used after commit refused: ${refused}`);

    ctx.set_permissions('/gjs/tx', [
        Xlev.Permission.new(0, Xlev.PermissionMode.NONE),
        Xlev.Permission.new(4, Xlev.PermissionMode.READ),
    ], null);
    const perms = ctx.get_permissions('/gjs/tx', null)
        .map(p => `${p.domid}:${p.mode}`).join(',');
    check(perms === `0:${Xlev.PermissionMode.NONE},4:${Xlev.PermissionMode.READ}`,
        `permissions: ${perms}`);
    print(`domain path: ${ctx.get_domain_path(4, null)}`);
} catch (e) {
    printerr(`${e}`);
    imports.system.exit(1);
}
