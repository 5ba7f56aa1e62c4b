# test_gi_overrides.py: a Python str with an embedded NUL never reaches C.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Without the overrides (gi/overrides/Xlev.py), ctx.rm("/nul/victim\0/child")
# reaches xenstored as "/nul/victim" and removes it with everything below.
# Every string argument of every Xlev function, method and constructor is
# tried here with a NUL in it, the list taken from the typelib itself.

import unittest

from gi._gi import Direction, Repository, TypeTag

from xlevgi import Xlev, XlevTestCase, xs_cli

STRING_TAGS = (TypeTag.UTF8, TypeTag.FILENAME)


def string_arguments():
    """(class name or None, function info, position, argument name) of every
    string argument Xlev-1.0 declares."""
    found = []
    for info in Repository.get_default().get_infos('Xlev'):
        kind = type(info).__name__
        if kind == 'ObjectInfo':
            owner, functions = info.get_name(), info.get_methods()
        elif kind == 'FunctionInfo':
            owner, functions = None, [info]
        else:
            continue
        for fn in functions:
            for pos, arg in enumerate(fn.get_arguments()):
                if (arg.get_direction() == Direction.IN
                        and arg.get_type().get_tag() in STRING_TAGS):
                    found.append((owner, fn, pos, arg.get_name()))
    return found


class NulTest(XlevTestCase):

    def setUp(self):
        super().setUp()
        self.ctx = self.context()
        self.ctx.write('/nul/victim/child', 'keep', None)
        self.targets = {
            'Context': self.ctx,
            'DomainMonitor': self.ctx.monitor_all_domains(),
            'Transaction': self.ctx.transaction_start(None),
        }

    def assert_untouched(self):
        self.assertEqual(xs_cli('xenstore-read', '/nul/victim/child').strip(),
                         'keep')

    def test_rm_with_nul_removes_nothing(self):
        with self.assertRaisesRegex(ValueError, 'null character'):
            self.ctx.rm('/nul/victim\0/child', None)
        with self.assertRaisesRegex(ValueError, 'null character'):
            self.ctx.rm(path='/nul/victim\0/child', cancellable=None)
        self.assert_untouched()

    def test_write_value_with_nul_is_refused(self):
        with self.assertRaisesRegex(ValueError, "'value'"):
            self.ctx.write('/nul/victim/child', 'a\0b', None)
        self.assert_untouched()

    def test_every_string_argument_refuses_nul(self):
        arguments = string_arguments()
        names = {(owner, fn.get_name(), name)
                 for owner, fn, _, name in arguments}
        # The list comes from the typelib; these must be in it, or the
        # enumeration itself is broken and the loop below proves nothing.
        for expected in [('Context', 'read', 'path'),
                         ('Context', 'write', 'value'),
                         ('Context', 'rm_async', 'path'),
                         ('Context', 'mkdir_async', 'path'),
                         ('Context', 'get_permissions_async', 'path'),
                         ('Context', 'set_permissions_async', 'path'),
                         ('Transaction', 'read_async', 'path'),
                         ('Transaction', 'write_async', 'value'),
                         ('Context', 'watch', 'path'),
                         ('Context', 'new', 'xenstore_path'),
                         ('DomainMonitor', 'watch_disk', 'vdev'),
                         ('Transaction', 'rm', 'path')]:
            self.assertIn(expected, names)

        tried = 0
        for owner, fn, pos, name in arguments:
            where = '%s.%s(%s)' % (owner, fn.get_name(), name)
            n_args = len(fn.get_arguments())
            args = [None] * n_args
            args[pos] = '/nul/victim\0/child'
            with self.subTest(where):
                if owner is None:
                    call = getattr(Xlev, fn.get_name())
                elif fn.is_method():
                    call = getattr(self.targets[owner], fn.get_name())
                else:
                    call = getattr(getattr(Xlev, owner), fn.get_name())
                with self.assertRaisesRegex(ValueError, 'null character'):
                    call(*args)
                # The same argument given by keyword.
                kwargs = {name: '/nul/victim\0/child'}
                with self.assertRaisesRegex(ValueError, 'null character'):
                    call(**kwargs)
                tried += 1
        self.assertEqual(tried, len(arguments))
        self.assert_untouched()

    def test_watch_flags_default_to_none(self):
        watch = self.ctx.watch('/nul/victim')
        self.assertEqual(watch.get_flags(), Xlev.WatchFlags.NONE)
        events = []
        watch.connect('changed', lambda w, path: events.append(path))
        self.run_until(lambda: events, 'the initial event')
        self.assertEqual(events[0], '/nul/victim')
        watch.cancel()
        with self.assertRaisesRegex(ValueError, 'null character'):
            self.ctx.watch('/nul/victim\0/child')

    def test_nul_in_construct_property(self):
        with self.assertRaisesRegex(ValueError, 'xenstore_path'):
            Xlev.Context(xenstore_path='/tmp/a\0b')

    def test_clean_strings_still_work(self):
        self.assertEqual(self.ctx.read('/nul/victim/child', None), 'keep')
        got = []
        self.ctx.read_async('/nul/victim/child', None,
                            lambda c, r: got.append(c.read_finish(r)))
        self.run_until(lambda: got, 'the async read')
        self.assertEqual(got, ['keep'])
        self.assertIsInstance(self.ctx, Xlev.Context)
        # Objects the library makes come back as the checked classes.
        self.assertEqual(type(self.ctx).__module__, 'gi.overrides.Xlev')
        watch = self.ctx.watch('/nul/victim', Xlev.WatchFlags.NONE)
        self.assertEqual(type(watch).__module__, 'gi.overrides.Xlev')
        watch.cancel()


if __name__ == '__main__':
    unittest.main()
