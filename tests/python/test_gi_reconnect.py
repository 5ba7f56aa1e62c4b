# test_gi_reconnect.py: Xlev.Context.props.reconnect across a daemon restart,
# from Python.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# The fixture's xenstored is killed (SIGKILL) and started again at the same
# socket path while watches, a domain monitor, a pending asynchronous read,
# an open transaction and a live timeout exist. What the application is
# told, in its main loop: `connected` goes False then True (one notify
# each), `reconnected` once, then each live watch one `changed` for its own
# path, then real events again; a cancelled watch nothing; the pending read
# fails once with the connection-lost error; the transaction's later calls
# fail; the timeout keeps firing during the outage; the monitor reports a
# domain that died during the outage once; no `disaster`. With the default
# policy the single disaster stays. Both integrations.
#
# The monitor needs libxenctrl answering inside this process: the module
# re-executes the interpreter with the stand-in preloaded, as
# test_domain.py does.

import os
import signal

from xsfixture import (hypervisor_stand_in_preloaded,  # noqa: E402
                       reexec_with_hypervisor_stand_in)

reexec_with_hypervisor_stand_in('XLEV_TEST_RECONNECT_PY_REEXEC')

import time  # noqa: E402
import unittest  # noqa: E402

from xlevgi import GLib, Xlev, XlevTestCase  # noqa: E402

TICK_MS = 20
OUTAGE = 0.3


def spin(seconds):
    ctx = GLib.MainContext.default()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ctx.iteration(False)
        time.sleep(0.002)


class ReconnectTest(XlevTestCase):

    def kill_daemon(self):
        os.kill(self.fx.pid, signal.SIGKILL)
        while self.fx.alive():
            time.sleep(0.001)

    def story(self, integration):
        ctx = self.context(integration)
        self.assertTrue(ctx.props.connected)
        self.assertEqual(ctx.props.reconnect, Xlev.Reconnect.NEVER)
        ctx.props.reconnect = Xlev.Reconnect.AUTOMATIC
        log = []
        ctx.connect('notify::connected',
                    lambda c, p: log.append(('connected', c.props.connected)))
        ctx.connect('reconnected', lambda c: log.append(('reconnected',)))
        ctx.connect('disaster', lambda c, k, m: log.append(('disaster', m)))

        ctx.write('/py/rc/a', '1', None)
        changed = {'/py/rc/a': [], '/py/rc/b': [], '/py/rc/gone': []}
        watches = {}
        for path in changed:
            w = ctx.watch(path, Xlev.WatchFlags.NONE)

            def on_changed(w, p, path=path):
                changed[path].append(p)
                log.append(('changed', p))
            w.connect('changed', on_changed)
            watches[path] = w
        self.run_until(lambda: all(changed.values()), 'the initial events')
        for v in changed.values():
            del v[:]
        del log[:]

        tx = ctx.transaction_start(None)
        tx.write('/py/rc/t', '1', None)

        ticks = []

        def on_fired(t):
            ticks.append(time.monotonic())
            t.reschedule(TICK_MS)
        timeout = ctx.timeout(TICK_MS)
        timeout.connect('fired', on_fired)

        monitor = None
        died = []
        if hypervisor_stand_in_preloaded():
            monitor = ctx.monitor_domain(5)
            monitor.connect('died', lambda m, d: died.append(d))

        # A read in flight at the loss: sent to a stopped daemon.
        results = []

        def on_read(c, res):
            try:
                results.append(c.read_finish(res))
            except GLib.Error as e:
                results.append(e)
        os.kill(self.fx.pid, signal.SIGSTOP)
        ctx.read_async('/py/rc/a', None, on_read)
        self.kill_daemon()

        self.run_until(lambda: ('connected', False) in log, 'the loss')
        self.assertFalse(ctx.props.connected)
        self.run_until(lambda: results, 'the pending read')
        self.assertEqual(len(results), 1)
        self.assertIsInstance(results[0], GLib.Error)
        self.assertEqual(results[0].code, Xlev.Error.XENSTORE)
        self.assertIn('connection was lost', results[0].message)

        # Disconnected: calls fail at once, clearly.
        with self.assertRaises(GLib.Error) as cm:
            ctx.read('/py/rc/a', None)
        self.assertEqual(cm.exception.code, Xlev.Error.XENSTORE)
        self.assertIn('not connected', cm.exception.message)

        watches['/py/rc/gone'].cancel()
        n_ticks = len(ticks)
        spin(OUTAGE)
        self.assertGreaterEqual(len(ticks) - n_ticks, 3)

        self.fx.restart()
        if monitor is not None:
            self.fx.set_domain(5, 'gone')
        self.run_until(lambda: ('reconnected',) in log
                       and changed['/py/rc/a'] and changed['/py/rc/b'],
                       'the reconnect')
        spin(0.1)
        self.assertTrue(ctx.props.connected)
        self.assertEqual(log[0], ('connected', False))
        i = log.index(('connected', True))
        self.assertEqual(log[i + 1], ('reconnected',))
        self.assertEqual(sorted(log[i + 2:]),
                         [('changed', '/py/rc/a'), ('changed', '/py/rc/b')])
        self.assertEqual(changed['/py/rc/a'], ['/py/rc/a'])
        self.assertEqual(changed['/py/rc/b'], ['/py/rc/b'])
        self.assertEqual(changed['/py/rc/gone'], [])
        if monitor is not None:
            self.run_until(lambda: died, 'the death during the outage')

        ctx.write('/py/rc/a/x', '2', None)
        self.run_until(lambda: len(changed['/py/rc/a']) == 2, 'a real event')
        self.assertEqual(changed['/py/rc/a'][-1], '/py/rc/a/x')

        for call, args in ((tx.write, ('/py/rc/t', '2', None)),
                           (tx.commit, (None,))):
            with self.assertRaises(GLib.Error) as cm:
                call(*args)
            self.assertEqual(cm.exception.code, Xlev.Error.XENSTORE)
        self.assertFalse(ctx.exists('/py/rc/t', None))

        spin(0.1)
        self.assertEqual([e for e in log if e[0] == 'disaster'], [])
        self.assertEqual([e for e in log if e[0] == 'connected'],
                         [('connected', False), ('connected', True)])
        self.assertEqual(len(results), 1)
        if monitor is not None:
            self.assertEqual(died, [5])
        timeout.cancel()
        for w in watches.values():
            w.cancel()

    def test_automatic_source(self):
        self.story(Xlev.Integration.SOURCE)

    def test_automatic_hooks(self):
        self.story(Xlev.Integration.HOOKS)

    def test_never_keeps_the_disaster(self):
        ctx = self.context()
        log = []
        ctx.connect('notify::connected',
                    lambda c, p: log.append(('connected', c.props.connected)))
        ctx.connect('reconnected', lambda c: log.append(('reconnected',)))
        ctx.connect('disaster', lambda c, k, m: log.append(('disaster', k)))
        w = ctx.watch('/py/rc/a', Xlev.WatchFlags.NONE)
        seen = []
        w.connect('changed', lambda w, p: seen.append(p))
        self.run_until(lambda: seen, 'the initial event')
        self.kill_daemon()
        self.fx.restart()
        self.run_until(lambda: any(e[0] == 'disaster' for e in log),
                       'the disaster')
        spin(OUTAGE)
        self.assertEqual([e for e in log if e[0] == 'disaster'],
                         [('disaster', Xlev.Disaster.XENSTORE)])
        self.assertEqual([e for e in log if e[0] != 'disaster'],
                         [('connected', False)])
        self.assertEqual(seen, ['/py/rc/a'])
        w.cancel()


if __name__ == '__main__':
    unittest.main(verbosity=2)
