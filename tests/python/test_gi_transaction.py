# test_gi_transaction.py: transactions, the retry helper and permissions
# from Python.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Two contexts race on one counter through Context.transact from two
# Python threads: conflicts are retried and no increment is lost. A
# transaction used after its commit is a clear GLib.Error; permission lists
# are lists of Xlev.Permission, owner first; bad lists fail before sending.

import os
import threading

from xlevgi import GLib, Xlev, XlevTestCase

INCREMENTS = 20


def error_code(test, call, *args):
    with test.assertRaises(GLib.Error) as cm:
        call(*args)
    test.assertEqual(cm.exception.domain, 'xlev-error-quark')
    return cm.exception.code


class TransactionTest(XlevTestCase):

    def test_commit_and_isolation(self):
        ctx = self.context()
        tx = ctx.transaction_start(None)
        self.assertIsInstance(tx, Xlev.Transaction)
        self.assertNotEqual(tx.get_id(), 0)
        self.assertIs(tx.props.context, ctx)
        tx.write('/py/tx/a', 'alpha', None)
        tx.write_bytes('/py/tx/bin', GLib.Bytes.new(b'a\0\xff'), None)
        tx.mkdir('/py/tx/dir', None)
        self.assertEqual(tx.read('/py/tx/a', None), 'alpha')
        self.assertEqual(tx.read_bytes('/py/tx/bin', None).get_data(),
                         b'a\0\xff')
        self.assertEqual(sorted(tx.directory('/py/tx', None)),
                         ['a', 'bin', 'dir'])
        self.assertFalse(ctx.exists('/py/tx/a', None))
        tx.commit(None)
        self.assertTrue(tx.is_finished())
        self.assertEqual(ctx.read('/py/tx/a', None), 'alpha')

    def test_abort_and_used_after_finish(self):
        ctx = self.context()
        tx = ctx.transaction_start(None)
        tx.write('/py/tx/a', '1', None)
        tx.abort(None)
        self.assertFalse(ctx.exists('/py/tx/a', None))
        for call, args in ((tx.commit, (None,)), (tx.abort, (None,)),
                           (tx.read, ('/py/tx/a', None)),
                           (tx.write, ('/py/tx/a', '1', None)),
                           (tx.rm, ('/py/tx/a', None))):
            self.assertEqual(error_code(self, call, *args),
                             Xlev.Error.INVAL)

    def test_conflict_is_again(self):
        ctx, other = self.context(), self.context()
        ctx.write('/py/tx/n', '0', None)
        tx = ctx.transaction_start(None)
        self.assertEqual(tx.read('/py/tx/n', None), '0')
        other.write('/py/tx/n', 'other', None)
        tx.write('/py/tx/n', '1', None)
        self.assertEqual(error_code(self, tx.commit, None),
                         Xlev.Error.AGAIN)
        self.assertEqual(ctx.read('/py/tx/n', None), 'other')

    def test_transact_two_contexts_converge(self):
        path = '/py/tx/counter'
        self.context().write(path, '0', None)
        calls = [0, 0]
        failures = []

        def racer(index):
            ctx = self.context()

            def increment(tx):
                calls[index] += 1
                value = int(tx.read(path, None))
                tx.write(path, str(value + 1), None)
                return True

            try:
                for _ in range(INCREMENTS):
                    self.assertTrue(ctx.transact(increment,
                                                 INCREMENTS * 4))
            except Exception as e:  # reported by the main thread
                failures.append(e)

        threads = [threading.Thread(target=racer, args=(i,))
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertEqual(self.context().read(path, None),
                         str(2 * INCREMENTS))
        self.assertGreaterEqual(sum(calls), 2 * INCREMENTS)

    def test_transact_retries_and_gives_up(self):
        ctx, other = self.context(), self.context()
        ctx.write('/py/tx/n', '0', None)
        calls = []

        def spoiled(tx):
            calls.append(tx.get_id())
            tx.read('/py/tx/n', None)
            other.write('/py/tx/n', 'spoiled %d' % len(calls), None)
            tx.write('/py/tx/n', 'mine', None)
            return True

        self.assertEqual(error_code(self, ctx.transact, spoiled, 3),
                         Xlev.Error.AGAIN)
        self.assertEqual(len(calls), 3)
        self.assertEqual(ctx.read('/py/tx/n', None), 'spoiled 3')

        def declines(tx):
            tx.write('/py/tx/declined', '1', None)
            return False

        self.assertEqual(error_code(self, ctx.transact, declines, 3),
                         Xlev.Error.FAIL)
        self.assertFalse(ctx.exists('/py/tx/declined', None))

        def reads_missing(tx):
            tx.read('/py/tx/missing', None)
            return True

        # The function's exception ends the attempts and is raised by
        # transact itself (the override), not printed and lost.
        self.assertEqual(
            error_code(self, ctx.transact, reads_missing, 3),
            Xlev.Error.NOENT)
        self.assertEqual(error_code(self, ctx.transact, declines, 0),
                         Xlev.Error.INVAL)

        class Mine(Exception):
            pass

        def raises(tx):
            calls.append('raises')
            tx.write('/py/tx/raised', '1', None)
            raise Mine('from the function')

        del calls[:]
        with self.assertRaises(Mine):
            ctx.transact(raises)
        self.assertEqual(calls, ['raises'])
        self.assertFalse(ctx.exists('/py/tx/raised', None))

        # The default number of attempts, user data passed on.
        seen = []

        def with_data(tx, a, b):
            seen.append((a, b))
            tx.write('/py/tx/data', a, None)
            return True

        self.assertTrue(ctx.transact(with_data, Xlev.TRANSACT_DEFAULT_ATTEMPTS,
                                     None, 'x', 2))
        self.assertEqual(seen, [('x', 2)])
        self.assertEqual(ctx.read('/py/tx/data', None), 'x')

    def test_async(self):
        ctx = self.context()
        results = []

        def step(source, res, finish):
            results.append(finish(res))

        ctx.transaction_start_async(None, step, ctx.transaction_start_finish)
        self.run_until(lambda: results, 'transaction_start_async')
        tx = results.pop()
        tx.write_async('/py/tx/async', 'v', None, step, tx.write_finish)
        self.run_until(lambda: results, 'write_async')
        self.assertTrue(results.pop())
        tx.read_async('/py/tx/async', None, step, tx.read_finish)
        self.run_until(lambda: results, 'read_async')
        self.assertEqual(results.pop(), 'v')
        tx.commit_async(None, step, tx.commit_finish)
        self.run_until(lambda: results, 'commit_async')
        self.assertTrue(results.pop())
        self.assertEqual(ctx.read('/py/tx/async', None), 'v')

    def test_async_conflict_without_threads(self):
        """One async transaction start to commit, spoiled by another
        context: AGAIN, and no thread appeared in the process (the requests
        go out from this thread; answers come back in the main loop)."""
        ctx, other = self.context(), self.context()
        ctx.write('/py/tx/n', '0', None)
        before = set(os.listdir('/proc/self/task'))
        results = []

        def step(source, res, finish):
            try:
                results.append(finish(res))
            except GLib.Error as e:
                results.append(e)

        ctx.transaction_start_async(None, step, ctx.transaction_start_finish)
        self.run_until(lambda: results, 'transaction_start_async')
        tx = results.pop()
        self.assertIsInstance(tx, Xlev.Transaction)
        tx.read_async('/py/tx/n', None, step, tx.read_finish)
        self.run_until(lambda: results, 'read_async')
        self.assertEqual(results.pop(), '0')
        tx.read_async('/py/tx/none', None, step, tx.read_finish)
        self.run_until(lambda: results, 'read_async of a missing node')
        self.assertEqual(results.pop().code, Xlev.Error.NOENT)
        other.write('/py/tx/n', 'other', None)
        tx.write_async('/py/tx/n', '1', None, step, tx.write_finish)
        self.run_until(lambda: results, 'write_async')
        self.assertTrue(results.pop())
        tx.commit_async(None, step, tx.commit_finish)
        self.run_until(lambda: results, 'commit_async')
        error = results.pop()
        self.assertIsInstance(error, GLib.Error)
        self.assertEqual(error.domain, 'xlev-error-quark')
        self.assertEqual(error.code, Xlev.Error.AGAIN)
        self.assertTrue(tx.is_finished())
        self.assertEqual(ctx.read('/py/tx/n', None), 'other')
        self.assertLessEqual(set(os.listdir('/proc/self/task')), before)


class PermissionTest(XlevTestCase):

    def test_set_get_mkdir_domain_path(self):
        ctx = self.context()
        ctx.mkdir('/py/perm', None)
        ctx.mkdir('/py/perm', None)
        perms = [Xlev.Permission.new(3, Xlev.PermissionMode.NONE),
                 Xlev.Permission.new(5, Xlev.PermissionMode.READ),
                 Xlev.Permission.new(9, Xlev.PermissionMode.BOTH)]
        ctx.set_permissions('/py/perm', perms, None)
        got = ctx.get_permissions('/py/perm', None)
        self.assertEqual([(p.domid, p.mode) for p in got],
                         [(3, Xlev.PermissionMode.NONE),
                          (5, Xlev.PermissionMode.READ),
                          (9, Xlev.PermissionMode.BOTH)])
        self.assertEqual(ctx.get_domain_path(4, None), '/local/domain/4')

        tx = ctx.transaction_start(None)
        tx.set_permissions('/py/perm',
                           [Xlev.Permission.new(0, Xlev.PermissionMode.WRITE)],
                           None)
        self.assertEqual([(p.domid, p.mode)
                          for p in tx.get_permissions('/py/perm', None)],
                         [(0, Xlev.PermissionMode.WRITE)])
        tx.commit(None)
        self.assertEqual(len(ctx.get_permissions('/py/perm', None)), 1)

    def test_async(self):
        ctx = self.context()
        results = []

        def step(source, res, finish):
            try:
                results.append(finish(res))
            except GLib.Error as e:
                results.append(e)

        def call(what, method, *args):
            method(*args, None, step, getattr(ctx, what + '_finish'))
            self.run_until(lambda: results, what + '_async')
            return results.pop()

        self.assertTrue(call('mkdir', ctx.mkdir_async, '/py/aperm'))
        perms = [Xlev.Permission.new(3, Xlev.PermissionMode.NONE),
                 Xlev.Permission.new(5, Xlev.PermissionMode.READ)]
        self.assertTrue(call('set_permissions', ctx.set_permissions_async,
                             '/py/aperm', perms))
        got = call('get_permissions', ctx.get_permissions_async, '/py/aperm')
        self.assertEqual([(p.domid, p.mode) for p in got],
                         [(3, Xlev.PermissionMode.NONE),
                          (5, Xlev.PermissionMode.READ)])
        self.assertEqual(call('get_domain_path', ctx.get_domain_path_async, 4),
                         '/local/domain/4')
        self.assertEqual(call('get_permissions', ctx.get_permissions_async,
                              '/py/none').code, Xlev.Error.NOENT)
        self.assertEqual(call('mkdir', ctx.mkdir_async, 'relative').code,
                         Xlev.Error.INVAL)
        self.assertEqual(call('set_permissions', ctx.set_permissions_async,
                              '/py/aperm', []).code, Xlev.Error.INVAL)
        self.assertEqual(call('get_domain_path', ctx.get_domain_path_async,
                              Xlev.DOMID_FIRST_RESERVED).code,
                         Xlev.Error.INVAL)

    def test_bad_input(self):
        ctx = self.context()
        ctx.mkdir('/py/perm', None)
        reserved = [Xlev.Permission.new(0, Xlev.PermissionMode.NONE),
                    Xlev.Permission.new(Xlev.DOMID_FIRST_RESERVED,
                                        Xlev.PermissionMode.READ)]
        for perms in ([], reserved):
            self.assertEqual(error_code(self, ctx.set_permissions,
                                        '/py/perm', perms, None),
                             Xlev.Error.INVAL)
        self.assertEqual(len(ctx.get_permissions('/py/perm', None)), 1)
        self.assertEqual(error_code(self, ctx.get_domain_path, 0x7FF0, None),
                         Xlev.Error.INVAL)
        self.assertEqual(error_code(self, ctx.get_permissions, '/py/none',
                                    None),
                         Xlev.Error.NOENT)
        self.assertEqual(error_code(self, ctx.mkdir, 'relative', None),
                         Xlev.Error.INVAL)


if __name__ == '__main__':
    import unittest
    unittest.main(verbosity=2)
