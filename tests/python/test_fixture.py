# test_fixture.py: the Python fixture starts a real, private xenstored.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Run by meson with /usr/bin/python3 (suite 'python'); uses the stock
# xenstore-* command-line clients, which find the daemon via XENSTORED_PATH.

import os
import subprocess
import time
import unittest

from xsfixture import (OXENSTORED, XENBUS_PATH, XENSTORED, XsFixture,
                       XsFixtureError, daemon_program, socket_answers)


def xs(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True,
                          timeout=10).stdout


class FixtureTest(unittest.TestCase):

    def setUp(self):
        self.fx = XsFixture()
        self.fx.start()
        self.addCleanup(self.fx.stop)

    def test_environment_names_private_socket(self):
        self.assertEqual(os.environ['XENSTORED_PATH'], self.fx.socket_path)
        self.assertTrue(self.fx.socket_path.startswith(self.fx.rundir))
        self.assertTrue(socket_answers(self.fx.socket_path))
        self.assertTrue(self.fx.alive())

    def test_daemon_is_the_chosen_one(self):
        # XLEV_TEST_XENSTORED=oxenstored (the oxenstored test setup) picks
        # the OCaml daemon, anything else here the C one.
        want = (OXENSTORED
                if os.environ.get('XLEV_TEST_XENSTORED') == OXENSTORED
                else XENSTORED)
        self.assertEqual(self.fx.daemon, want)
        if not os.environ.get('XLEV_TEST_XENSTORED_WRAPPER'):
            self.assertEqual(os.readlink('/proc/%d/exe' % self.fx.pid),
                             daemon_program())
        with open(os.path.join(self.fx.rundir, 'pid')) as f:
            self.assertEqual(int(f.read().strip()), self.fx.pid)

    def test_cli_through_xenbus_device(self):
        # The stock clients' libxenstore, through the stand-in's xenbus
        # device: write, read back over the socket, and a watch event.
        env = self.fx.hypervisor_environ(xenbus=True)
        self.assertEqual(env['XENSTORED_PATH'], XENBUS_PATH)

        def dev(*argv):
            return subprocess.run(argv, check=True, capture_output=True,
                                  text=True, timeout=10, env=env).stdout

        dev('xenstore-write', '/xb/a', 'through-device')
        self.assertEqual(xs('xenstore-read', '/xb/a').strip(),
                         'through-device')
        xs('xenstore-write', '/xb/b', 'through-socket')
        self.assertEqual(dev('xenstore-read', '/xb/b').strip(),
                         'through-socket')
        # The initial event, then the write's.
        watch = subprocess.Popen(['xenstore-watch', '-n', '2', '/xb/c'],
                                 stdout=subprocess.PIPE, text=True, env=env)
        self.addCleanup(watch.kill)
        self.assertEqual(watch.stdout.readline().split(), ['/xb/c'])
        xs('xenstore-write', '/xb/c', '1')
        self.assertEqual(watch.stdout.readline().split(), ['/xb/c'])
        self.assertEqual(watch.wait(10), 0)

    def test_unknown_daemon_is_refused(self):
        fx = XsFixture()
        saved = os.environ.get('XLEV_TEST_XENSTORED')
        os.environ['XLEV_TEST_XENSTORED'] = 'nostored'
        try:
            with self.assertRaisesRegex(XsFixtureError, 'nostored'):
                fx.start()
        finally:
            if saved is None:
                del os.environ['XLEV_TEST_XENSTORED']
            else:
                os.environ['XLEV_TEST_XENSTORED'] = saved
        self.assertIsNone(fx.rundir)

    def test_cli_round_trip(self):
        xs('xenstore-write', '/py/a', 'one', '/py/b', 'two')
        self.assertEqual(xs('xenstore-read', '/py/a').strip(), 'one')
        listing = xs('xenstore-ls', '/py')
        self.assertIn('a = "one"', listing)
        self.assertIn('b = "two"', listing)
        xs('xenstore-rm', '/py/a')
        self.assertNotIn('a = ', xs('xenstore-ls', '/py'))
        r = subprocess.run(['xenstore-read', '/py/a'], capture_output=True,
                           timeout=10)
        self.assertNotEqual(r.returncode, 0)

    def test_release_domain_watch(self):
        self.fx.introduce_domain(7, port=5)
        self.assertTrue(self.fx.is_domain_introduced(7))
        watcher = subprocess.Popen(
            ['xenstore-watch', '-n', '2', '@releaseDomain'],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(watcher.kill)
        # Let the watch register (its initial event is the first line).
        first = watcher.stdout.readline().strip()
        self.assertEqual(first, '@releaseDomain')
        self.fx.set_domain(7, 'dying')
        out, _ = watcher.communicate(timeout=5)
        self.assertEqual(out.strip(), '@releaseDomain')
        deadline = time.monotonic() + 5
        while self.fx.is_domain_introduced(7):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.001)

    def test_set_domain_rejects_bad_state(self):
        with self.assertRaises(ValueError):
            self.fx.set_domain(3, 'asleep')
        with self.assertRaises(ValueError):
            self.fx.set_domain(0, 'running')

    def test_restart_same_path(self):
        xs('xenstore-write', '/py/a', 'one')
        old_pid, path = self.fx.pid, self.fx.socket_path
        self.fx.restart()
        self.assertNotEqual(self.fx.pid, old_pid)
        self.assertEqual(self.fx.socket_path, path)
        self.assertEqual(os.environ['XENSTORED_PATH'], path)
        self.assertTrue(self.fx.alive())
        # A fresh daemon: a fresh tree, and its control FIFO works.
        r = subprocess.run(['xenstore-read', '/py/a'], capture_output=True,
                           timeout=10)
        self.assertNotEqual(r.returncode, 0)
        xs('xenstore-write', '/py/a', 'two')
        self.assertEqual(xs('xenstore-read', '/py/a').strip(), 'two')
        self.fx.set_domain(3, 'shutdown')
        # Already dead is fine too.
        os.kill(self.fx.pid, 9)
        self.fx.restart()
        xs('xenstore-write', '/py/b', 'three')
        self.assertEqual(xs('xenstore-read', '/py/b').strip(), 'three')
        self.fx.set_domain(3, 'shutdown')

    def test_dead_daemon_is_reported(self):
        os.kill(self.fx.pid, 9)
        with self.assertRaises(XsFixtureError) as cm:
            self.fx.set_domain(3, 'running')
        self.assertIn('killed by signal 9', str(cm.exception))


class LifeCycleTest(unittest.TestCase):

    def test_context_manager_leaves_nothing(self):
        saved = os.environ.get('XENSTORED_PATH')
        with XsFixture() as fx:
            rundir, pid = fx.rundir, fx.pid
            self.assertTrue(os.path.isdir(rundir))
        self.assertFalse(os.path.exists(rundir))
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)
        self.assertEqual(os.environ.get('XENSTORED_PATH'), saved)


if __name__ == '__main__':
    unittest.main(verbosity=2)
