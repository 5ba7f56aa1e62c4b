# test_gi_gjs.py: the typelib is not Python's alone.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Runs introspection/tests/watch-roundtrip.js (and wait.js, transact.js:
# a retried transaction, permissions) with Debian's gjs against a
# private xenstored: one watch round trip, an async read and a GLib.Error.
# A missing gjs is a failure, not a skip.

import os
import shutil
import subprocess
import unittest

from xsfixture import XsFixture

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      os.pardir, os.pardir, 'introspection', 'tests',
                      'watch-roundtrip.js')


class GjsTest(unittest.TestCase):

    def test_watch_round_trip(self):
        gjs = shutil.which('gjs')
        self.assertIsNotNone(gjs, 'gjs is not installed (tools/install-deps)')
        with XsFixture():
            proc = subprocess.run([gjs, SCRIPT], capture_output=True,
                                  text=True, timeout=30)
        self.assertEqual(proc.returncode, 0,
                         'stdout:\n%s\nstderr:\n%s'
                         % (proc.stdout, proc.stderr))
        self.assertIn('changed: /gjs/key', proc.stdout)

    def test_wait_with_predicate(self):
        gjs = shutil.which('gjs')
        self.assertIsNotNone(gjs, 'gjs is not installed (tools/install-deps)')
        script = os.path.join(os.path.dirname(SCRIPT), 'wait.js')
        with XsFixture():
            proc = subprocess.run([gjs, script], capture_output=True,
                                  text=True, timeout=30)
        self.assertEqual(proc.returncode, 0,
                         'stdout:\n%s\nstderr:\n%s'
                         % (proc.stdout, proc.stderr))
        self.assertIn('waited for: 12', proc.stdout)
        self.assertIn('timed out: ', proc.stdout)

    def test_transact_and_permissions(self):
        gjs = shutil.which('gjs')
        self.assertIsNotNone(gjs, 'gjs is not installed (tools/install-deps)')
        script = os.path.join(os.path.dirname(SCRIPT), 'transact.js')
        with XsFixture():
            proc = subprocess.run([gjs, script], capture_output=True,
                                  text=True, timeout=30)
        self.assertEqual(proc.returncode, 0,
                         'stdout:\n%s\nstderr:\n%s'
                         % (proc.stdout, proc.stderr))
        self.assertIn('attempts: 2', proc.stdout)
        self.assertIn('counter: 11', proc.stdout)
        self.assertIn('used after commit refused: true', proc.stdout)
        self.assertIn('domain path: /local/domain/4', proc.stdout)


if __name__ == '__main__':
    unittest.main(verbosity=2)
