# test_gi_wait.py: waiting for a xenstore node from Python, and the ways a
# context is constructed (blocking, async, or without its initialiser).
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only

import gc
import time
import unittest
import weakref

from xlevgi import Gio, GLib, Xlev, XlevTestCase, xs_cli


class WaitTest(XlevTestCase):

    def wait(self, ctx, path, expected, timeout_ms, cancellable=None):
        out = {}

        def done(source, result):
            try:
                out['value'] = source.wait_finish(result)
            except GLib.Error as e:
                out['error'] = e

        ctx.wait_async(path, expected, timeout_ms, cancellable, done)
        return out

    def test_value_written_by_another_process(self):
        ctx = self.context()
        out = self.wait(ctx, '/py/wait', 'ready', -1)
        self.iterate(0.1)
        self.assertEqual(out, {})
        xs_cli('xenstore-write', '/py/wait', 'busy')
        self.iterate(0.1)
        self.assertEqual(out, {})
        xs_cli('xenstore-write', '/py/wait', 'ready')
        self.run_until(lambda: out, 'the wait to end')
        self.assertEqual(out, {'value': 'ready'})

    def test_absent(self):
        ctx = self.context()
        ctx.write('/py/gone', 'x', None)
        out = self.wait(ctx, '/py/gone', None, 5000)
        self.iterate(0.1)
        self.assertEqual(out, {})
        ctx.rm('/py/gone', None)
        self.run_until(lambda: out, 'the node to go')
        self.assertEqual(out, {'value': None})

    def test_timeout(self):
        ctx = self.context()
        start = time.monotonic()
        out = self.wait(ctx, '/py/never', 'x', 150)
        self.run_until(lambda: out, 'the timeout')
        self.assertGreaterEqual(time.monotonic() - start, 0.15)
        self.assertTrue(out['error'].matches(Xlev.error_quark(),
                                             Xlev.Error.TIMED_OUT),
                        out['error'].message)
        self.assertIn('/py/never', out['error'].message)

    def test_cancelled(self):
        ctx = self.context()
        cancellable = Gio.Cancellable()
        out = self.wait(ctx, '/py/never', 'x', -1, cancellable)
        self.iterate(0.05)
        cancellable.cancel()
        self.run_until(lambda: out, 'the cancellation')
        self.assertTrue(out['error'].matches(Gio.io_error_quark(),
                                             Gio.IOErrorEnum.CANCELLED))

    def test_malformed_path(self):
        ctx = self.context()
        for path in ('relative', '/a//b', '@releaseDomain'):
            with self.subTest(path=path):
                out = self.wait(ctx, path, 'x', 1000)
                self.run_until(lambda: out, 'the error')
                self.assertTrue(out['error'].matches(Xlev.error_quark(),
                                                     Xlev.Error.INVAL))

    def test_predicate(self):
        ctx = self.context()
        seen = []
        out = {}

        def big_enough(path, value):
            seen.append(value)
            return value is not None and int(value) >= 10

        def done(source, result):
            out['value'] = source.wait_for_finish(result)

        ctx.wait_for_async('/py/count', big_enough, 5000, None, done)
        for n in ('1', '5', '12'):
            self.iterate(0.05)
            ctx.write('/py/count', n, None)
        self.run_until(lambda: out, 'the predicate to accept')
        self.assertEqual(out['value'], '12')
        # Checked at the start (absent) and on the values written.
        self.assertEqual(seen[0], None)
        self.assertEqual(seen[-1], '12')

    def test_predicate_released(self):
        # The predicate (and what it holds) is dropped once the wait ends.
        ctx = self.context()

        class Holder:
            def check(self, path, value):
                return value == 'y'

        holder = Holder()
        ref = weakref.ref(holder)
        out = {}
        ctx.wait_for_async('/py/p', holder.check, 5000, None,
                           lambda s, r: out.setdefault('v',
                                                       s.wait_for_finish(r)))
        del holder
        ctx.write('/py/p', 'y', None)
        self.run_until(lambda: out, 'the wait')
        self.iterate(0.05)
        gc.collect()
        self.assertIsNone(ref())

    def test_device_state(self):
        ctx = self.context()
        backend = '/local/domain/0/backend/vif/3/0'
        ctx.write(backend + '/state', str(int(Xlev.XenbusState.INIT_WAIT)),
                  None)
        out = {}

        def done(source, result):
            try:
                out['ok'] = source.wait_device_state_finish(result)
            except GLib.Error as e:
                out['error'] = e

        ctx.wait_device_state_async(backend, Xlev.XenbusState.CONNECTED, 5000,
                                    None, done)
        self.iterate(0.1)
        self.assertEqual(out, {})
        xs_cli('xenstore-write', backend + '/state', '4')
        self.run_until(lambda: out, 'the device to connect')
        self.assertEqual(out, {'ok': True})
        self.assertEqual(int(Xlev.XenbusState.CLOSED), 6)


class ConstructionTest(XlevTestCase):

    def test_new_async(self):
        out = {}

        def done(source, result):
            out['ctx'] = Xlev.Context.new_finish(result)

        Xlev.Context.new_async(None, Xlev.Integration.HOOKS, None,
                               GLib.PRIORITY_DEFAULT, None, done)
        self.run_until(lambda: out, 'the connection')
        ctx = out['ctx']
        ctx.write('/py/async', 'v', None)
        self.assertEqual(ctx.read('/py/async', None), 'v')
        self.assertEqual(ctx.props.integration, Xlev.Integration.HOOKS)

    def test_without_initialiser(self):
        ctx = Xlev.Context()
        with self.assertRaises(GLib.Error) as cm:
            ctx.timeout(10)
        self.assertTrue(cm.exception.matches(Xlev.error_quark(),
                                             Xlev.Error.NOT_INITIALIZED))
        self.assertNotIn('Invalid argument', cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            Xlev.DomainList.new(ctx)
        self.assertEqual(cm.exception.code, int(Xlev.Error.NOT_INITIALIZED))
        out = {}
        ctx.wait_async('/py/x', 'x', 100, None,
                       lambda s, r: out.setdefault('r', r))
        self.run_until(lambda: out, 'the wait to fail')
        with self.assertRaises(GLib.Error) as cm:
            ctx.wait_finish(out['r'])
        self.assertEqual(cm.exception.code, int(Xlev.Error.NOT_INITIALIZED))
        # The plain operations and a watch say the same.
        for call in (lambda: ctx.read('/py/x', None),
                     lambda: ctx.write('/py/x', 'v', None),
                     lambda: ctx.watch('/py/x')):
            with self.assertRaises(GLib.Error) as cm:
                call()
            self.assertEqual(cm.exception.code,
                             int(Xlev.Error.NOT_INITIALIZED))

        # Its initialiser, late, makes it usable.
        self.assertTrue(ctx.init(None))
        ctx.write('/py/late', 'ok', None)
        self.assertEqual(ctx.read('/py/late', None), 'ok')

    def test_async_initable(self):
        out = {}

        def done(source, result):
            out['ok'] = source.init_finish(result)

        ctx = Xlev.Context()
        ctx.init_async(GLib.PRIORITY_DEFAULT, None, done)
        self.run_until(lambda: out, 'init_async')
        self.assertTrue(out['ok'])
        self.assertIsNotNone(ctx.props.xenstore_path)


if __name__ == '__main__':
    unittest.main(verbosity=2)
