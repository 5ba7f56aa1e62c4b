# test_gi_async.py: xenstore operations from Python, blocking and
# Gio-style asynchronous, and how their errors arrive.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Errors are GLib.Error in the Xlev domain with an Xlev.Error code (or
# Gio.IOErrorEnum.CANCELLED); the async calls take a GAsyncReadyCallback
# and user data, and call back in the caller's thread-default main context.

import threading
import unittest

from xlevgi import Gio, GLib, Xlev, XlevTestCase, xs_cli


class BlockingTest(XlevTestCase):

    def test_read_write_directory_exists_rm(self):
        ctx = self.context()
        self.assertTrue(ctx.write('/ops/a', 'héllo', None))
        xs_cli('xenstore-write', '/ops/b', 'two')
        self.assertEqual(ctx.read('/ops/a', None), 'héllo')
        self.assertEqual(ctx.read('/ops/b', None), 'two')
        self.assertEqual(sorted(ctx.directory('/ops', None)), ['a', 'b'])
        self.assertTrue(ctx.exists('/ops/a', None))
        self.assertFalse(ctx.exists('/ops/none', None))
        self.assertTrue(ctx.rm('/ops/a', None))
        self.assertFalse(ctx.exists('/ops/a', None))
        self.assertEqual(xs_cli('xenstore-ls', '/ops').strip(),
                         'b = "two"')

    def test_bytes_round_trip(self):
        # Binary values: Python gets bytes; the string API refuses them.
        ctx = self.context()
        raw = b'a\0b\xff\xfe'
        self.assertTrue(ctx.write_bytes('/ops/bin', GLib.Bytes.new(raw),
                                        None))
        self.assertEqual(ctx.read_bytes('/ops/bin', None).get_data(), raw)
        with self.assertRaises(GLib.Error) as cm:
            ctx.read('/ops/bin', None)
        self.assertEqual(cm.exception.code, int(Xlev.Error.INVAL))
        self.assertIn('/ops/bin', cm.exception.message)

        loop = GLib.MainLoop()
        got = []

        def done(source, result, data):
            got.append(source.read_bytes_finish(result).get_data())
            loop.quit()

        ctx.read_bytes_async('/ops/bin', None, done, None)
        GLib.timeout_add(5000, loop.quit)
        loop.run()
        self.assertEqual(got, [raw])

    def test_transport_and_timeout_properties(self):
        ctx = self.context()
        self.assertEqual(ctx.props.transport, Xlev.Transport.SOCKET)
        self.assertEqual(ctx.props.timeout, 5000)
        ctx.props.timeout = 250
        self.assertEqual(ctx.get_timeout(), 250)

    def test_empty_value_and_empty_directory(self):
        ctx = self.context()
        ctx.write('/ops/empty', '', None)
        self.assertEqual(ctx.read('/ops/empty', None), '')
        self.assertEqual(ctx.directory('/ops/empty', None), [])


class ErrorTest(XlevTestCase):

    def assertXlevError(self, cm, code):
        e = cm.exception
        self.assertEqual(e.domain, 'xlev-error-quark')
        self.assertEqual(GLib.quark_from_string(e.domain),
                         Xlev.error_quark())
        self.assertEqual(e.code, int(code), e.message)
        self.assertTrue(e.matches(Xlev.error_quark(), code))
        self.assertTrue(e.message)

    def test_codes_are_non_negative(self):
        # GLib convention: non-negative codes, the catch-all FAIL is 0.
        names = ('FAIL', 'NOMEM', 'INVAL', 'NOT_READY', 'OSEVENT_REG_FAIL',
                 'BUFFERFULL', 'NOENT', 'PERM', 'XENSTORE', 'NO_HYPERVISOR',
                 'BROKEN')
        values = [int(getattr(Xlev.Error, name)) for name in names]
        self.assertEqual(values[0], 0)
        self.assertTrue(all(v >= 0 for v in values), values)
        self.assertEqual(len(set(values)), len(names))

    def test_invalid_paths(self):
        ctx = self.context()
        for path in ('', 'relative', '/a//b', '/trailing/', '/sp ace',
                     '/' + 'x' * 4000):
            with self.subTest(path=path[:20]):
                with self.assertRaises(GLib.Error) as cm:
                    ctx.watch(path, Xlev.WatchFlags.NONE)
                self.assertXlevError(cm, Xlev.Error.INVAL)
                with self.assertRaises(GLib.Error) as cm:
                    ctx.read(path, None)
                self.assertXlevError(cm, Xlev.Error.INVAL)

    def test_read_missing(self):
        ctx = self.context()
        with self.assertRaises(GLib.Error) as cm:
            ctx.read('/no/such/path', None)
        self.assertXlevError(cm, Xlev.Error.NOENT)
        self.assertIn('/no/such/path', cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            ctx.directory('/no/such/path', None)
        self.assertXlevError(cm, Xlev.Error.NOENT)

    def test_bad_timeout(self):
        ctx = self.context()
        t = ctx.timeout(1000)
        with self.assertRaises(GLib.Error) as cm:
            ctx.timeout(GLib.MAXINT + 1)
        self.assertXlevError(cm, Xlev.Error.INVAL)
        t.cancel()

    def test_cancelled(self):
        ctx = self.context()
        c = Gio.Cancellable()
        c.cancel()
        with self.assertRaises(GLib.Error) as cm:
            ctx.read('/', c)
        self.assertTrue(cm.exception.matches(Gio.io_error_quark(),
                                             Gio.IOErrorEnum.CANCELLED))

    def test_no_daemon(self):
        self.fx.stop()
        with self.assertRaises(GLib.Error) as cm:
            Xlev.Context.new(None, None)
        self.assertXlevError(cm, Xlev.Error.XENSTORE)


class AsyncTest(XlevTestCase):

    def call(self, start, finish, *args, cancellable=None):
        """Runs one _async/_finish pair to completion in the main loop and
        returns ('ok', value) or ('error', GLib.Error)."""
        result = []
        thread = threading.current_thread()

        def done(source, res, user_data):
            self.assertIs(threading.current_thread(), thread)
            self.assertEqual(user_data, 'token')
            self.assertTrue(Gio.Task.is_valid(res, source))
            try:
                result.append(('ok', finish(res)))
            except GLib.Error as e:
                result.append(('error', e))

        start(*args, cancellable, done, 'token')
        self.run_until(lambda: result, 'the async call to finish')
        return result[0]

    def test_round_trip(self):
        ctx = self.context()
        self.assertEqual(self.call(ctx.write_async, ctx.write_finish,
                                   '/as/k', 'v'), ('ok', True))
        self.assertEqual(xs_cli('xenstore-read', '/as/k').strip(), 'v')
        self.assertEqual(self.call(ctx.read_async, ctx.read_finish, '/as/k'),
                         ('ok', 'v'))
        self.assertEqual(self.call(ctx.exists_async, ctx.exists_finish,
                                   '/as/k'), ('ok', True))
        self.assertEqual(self.call(ctx.directory_async,
                                   ctx.directory_finish, '/as'),
                         ('ok', ['k']))
        self.assertEqual(self.call(ctx.rm_async, ctx.rm_finish, '/as/k'),
                         ('ok', True))
        self.assertEqual(self.call(ctx.exists_async, ctx.exists_finish,
                                   '/as/k'), ('ok', False))

    def test_error_arrives_in_finish(self):
        ctx = self.context()
        kind, e = self.call(ctx.read_async, ctx.read_finish, '/as/missing')
        self.assertEqual(kind, 'error')
        self.assertTrue(e.matches(Xlev.error_quark(), Xlev.Error.NOENT))
        kind, e = self.call(ctx.write_async, ctx.write_finish, 'bad', 'v')
        self.assertEqual(kind, 'error')
        self.assertTrue(e.matches(Xlev.error_quark(), Xlev.Error.INVAL))

    def test_cancelled(self):
        ctx = self.context()
        c = Gio.Cancellable()
        c.cancel()
        kind, e = self.call(ctx.read_async, ctx.read_finish, '/',
                            cancellable=c)
        self.assertEqual(kind, 'error')
        self.assertTrue(e.matches(Gio.io_error_quark(),
                                  Gio.IOErrorEnum.CANCELLED))

    def test_async_write_seen_by_own_watch(self):
        ctx = self.context()
        watch = ctx.watch('/as', Xlev.WatchFlags.SKIP_INITIAL)
        seen = []
        watch.connect('changed', lambda w, p: seen.append(p))
        self.call(ctx.write_async, ctx.write_finish, '/as/mine', '1')
        self.run_until(lambda: '/as/mine' in seen, 'our own write')

    def test_many_in_flight(self):
        ctx = self.context(Xlev.Integration.HOOKS)
        n = 50
        results = {}

        def done(source, res, i):
            results[i] = source.read_finish(res)

        for i in range(n):
            ctx.write('/fl/%d' % i, str(i * i), None)
        for i in range(n):
            ctx.read_async('/fl/%d' % i, None, done, i)
        self.run_until(lambda: len(results) == n, '%d reads' % n)
        self.assertEqual(results, {i: str(i * i) for i in range(n)})


if __name__ == '__main__':
    unittest.main(verbosity=2)
