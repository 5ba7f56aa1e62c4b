#!/usr/bin/python3
# test_xs_monitor.py: the exit statuses of examples/python/xs-monitor.py,
# the same as xlev-watch's (xlev-watch.1, EXIT STATUS), against a private
# xenstored. (Its events are tested in tests/python/test_gi_examples.py.)
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# meson gives XLEV_XS_MONITOR (the script), GI_TYPELIB_PATH and
# LD_LIBRARY_PATH of the build tree and the fixture's variables.

import os
import signal
import time
import unittest

from childlines import Child
from xsfixture import XsFixture

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_TIMED_OUT = 3


class XsMonitorExitTest(unittest.TestCase):

    def setUp(self):
        self.fx = XsFixture()
        self.fx.start()
        self.addCleanup(self.fx.stop)

    def monitor(self, *args, env=None):
        child = Child(['/usr/bin/python3', os.environ['XLEV_XS_MONITOR']]
                      + list(args), env=env)
        self.addCleanup(child.kill)
        return child

    def test_timeout_without_events_exits_0(self):
        start = time.monotonic()
        m = self.monitor('--path', '/x', '--timeout', '0.3')
        self.assertEqual(m.line(), 'domains: -')
        status, rest, err = m.finish()
        self.assertEqual(status, EXIT_OK, err)
        self.assertGreaterEqual(time.monotonic() - start, 0.3)

    def test_timeout_before_events_exits_3(self):
        m = self.monitor('--path', '/x', '--events', '5', '--timeout', '0.3')
        self.assertEqual(m.line(), 'domains: -')
        status, rest, err = m.finish()
        self.assertEqual(status, EXIT_TIMED_OUT, err)
        self.assertIn('xs-monitor: timed out after 0.3 s with 0 of 5 events',
                      err)

    def test_sigterm_exits_0(self):
        m = self.monitor('--path', '/x')
        self.assertEqual(m.line(), 'domains: -')
        m.proc.send_signal(signal.SIGTERM)
        status, rest, err = m.finish()
        self.assertEqual(status, EXIT_OK, err)
        self.assertNotIn('Traceback', err)

    def test_usage_exits_2(self):
        for args in (['--events', 'many'], ['--timeout', '-1'], ['--bogus']):
            with self.subTest(args=args):
                status, out, err = self.monitor(*args).finish()
                self.assertEqual(status, EXIT_USAGE, err)
                self.assertEqual(out, '')

    def test_unreachable_daemon_exits_1(self):
        env = dict(os.environ)
        env['XENSTORED_PATH'] = os.path.join(self.fx.rundir, 'no-socket')
        status, out, err = self.monitor(env=env).finish()
        self.assertEqual(status, EXIT_FAILURE, err)
        self.assertTrue(err.startswith('xs-monitor: '), err)


if __name__ == '__main__':
    unittest.main(verbosity=2)
