#!/usr/bin/python3
# test_browser.py: runs examples/browser (xlev-browser) under Xvfb against a
# private xenstored, with its test-only --self-check mode.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# The browser prints "ready" once connected and loaded; the test then
# changes xenstore and the domain table from outside, and the browser
# inspects its own widgets' models (the column view's GtkTreeListModel rows,
# the domain list's items) until they show the change, then exits 0 (or 1
# with what was missing). meson gives XLEV_BROWSER, XLEV_BROWSER_SCREENSHOT
# (a PNG in the build directory) and the fixture's variables.

import os
import sys
import struct
import subprocess
import unittest

from childlines import Child
from xsfixture import XsFixture, xs_request

XS_WRITE = 11

DOMID = 3
PORT = 1
# A domain already shut down when the browser starts.
DOMID_SHUT = 4
STRESS_NODES = 5000
# oxenstored holds at most quota-maxwatchevents (default 1024) undelivered
# events per watch, and as many replies and events per connection
# (quota-maxoutstanding); beyond that the writer's connection and the rest
# of the events stall for good (tests/DAEMONS.md).  The 5,000-write
# transaction below is beyond it at its commit, so this test's oxenstored
# gets room for the whole flood (the C daemon has no such limit for
# domain 0).
STRESS_OXENSTORED_CONFIG = {
    'quota-maxwatchevents': 2 * STRESS_NODES,
    'quota-maxoutstanding': 2 * STRESS_NODES,
}
# The longest a 10 ms main-loop timer may wait while the tree fills.
STRESS_MAX_GAP_MS = 50


def png_size(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    if head[:8] != b'\x89PNG\r\n\x1a\n' or head[12:16] != b'IHDR':
        raise AssertionError('%s is not a PNG' % path)
    return struct.unpack('>II', head[16:24])


class BrowserTest(unittest.TestCase):

    def setUp(self):
        self.fx = XsFixture(oxenstored_config=STRESS_OXENSTORED_CONFIG)
        self.fx.start()
        self.addCleanup(self.fx.stop)

    def write(self, path, value):
        xs_request(self.fx.socket_path, XS_WRITE, path, value)

    def browser(self, *args, env=None, hypervisor=True):
        extra = env or {}
        # Without the stand-in preloaded there is no hypervisor to ask.
        env = self.fx.hypervisor_environ() if hypervisor else dict(os.environ)
        env.update(extra)
        env.update({
            'GDK_BACKEND': 'x11',
            'GSK_RENDERER': 'cairo',  # the same pixels on every machine
            'NO_AT_BRIDGE': '1',
            'GTK_A11Y': 'none',
            'G_DEBUG': 'fatal-criticals',
        })
        argv = ['xvfb-run', '--auto-servernum',
                '--server-args=-screen 0 1280x800x24 -nolisten tcp',
                os.environ['XLEV_BROWSER'], '--self-check',
                '--check-timeout=15'] + list(args)
        child = Child(argv, env=env)
        self.addCleanup(child.kill)
        return child

    def test_live_key_and_domain_state_and_screenshot(self):
        shot = os.environ['XLEV_BROWSER_SCREENSHOT']
        if os.path.exists(shot):
            os.unlink(shot)
        self.write('/local/domain/%d/name' % DOMID, 'guest-%d' % DOMID)
        self.write('/local/domain/%d/memory/target' % DOMID, '524288')
        self.fx.introduce_domain(DOMID, PORT)
        self.write('/local/domain/%d/name' % DOMID_SHUT,
                   'guest-%d' % DOMID_SHUT)
        self.fx.introduce_domain(DOMID_SHUT, PORT)
        self.fx.set_domain(DOMID_SHUT, 'shutdown 1')
        b = self.browser('--path=/local/domain/%d' % DOMID,
                         '--expect-node=/local/domain/%d/data/greeting=hello'
                         % DOMID,
                         '--expect-node=/local/domain/%d/name=guest-%d'
                         % (DOMID, DOMID),
                         '--expect-state=%d=shutdown:poweroff' % DOMID,
                         '--expect-state=%d=shutdown:reboot' % DOMID_SHUT,
                         '--screenshot=' + shot)
        self.assertEqual(b.line(timeout=15), 'ready')
        # Another process writes a key and the domain shuts down.
        self.write('/local/domain/%d/data/greeting' % DOMID, 'hello')
        self.fx.set_domain(DOMID, 'shutdown 0')
        status, out, err = b.finish(timeout=20)
        self.assertEqual(status, 0, out + err)
        self.assertIn('self-check: PASS', out)
        self.assertNotIn('CRITICAL', err)
        width, height = png_size(shot)
        self.assertGreater(width, 400)
        self.assertGreater(height, 300)

    def test_without_hypervisor_the_state_is_unknown(self):
        # A monitor of all domains is made without the hypervisor too: the
        # browser must tell by itself, and say the state is unknown.
        self.write('/local/domain/%d/name' % DOMID, 'guest-%d' % DOMID)
        self.fx.introduce_domain(DOMID, PORT)
        b = self.browser('--path=/local/domain', '--check-timeout=5',
                         '--expect-state=%d=unknown' % DOMID,
                         hypervisor=False)
        self.assertEqual(b.line(timeout=15), 'ready')
        status, out, err = b.finish(timeout=20)
        self.assertEqual(status, 0, out + err)
        self.assertIn('self-check: PASS', out)
        self.assertNotIn('CRITICAL', err)

    def test_missing_key_fails(self):
        # The self-check can fail: a key nobody writes is never shown.
        b = self.browser('--path=/local/domain', '--check-timeout=2',
                         '--expect-node=/local/domain/9/never=there')
        self.assertEqual(b.line(timeout=15), 'ready')
        status, out, err = b.finish(timeout=20)
        self.assertEqual(status, 1, out + err)
        self.assertIn('no row for /local/domain/9/never', out)

    def test_daemon_killed_shows_the_banner(self):
        # Nothing changes and nothing is read after the daemon goes: only
        # the context's `disaster` signal can tell the window.
        b = self.browser('--path=/local/domain', '--check-timeout=5',
                         '--expect-banner=Lost the connection to xenstored',
                         env={'LC_ALL': 'C.UTF-8'})
        self.assertEqual(b.line(timeout=15), 'ready')
        self.fx.stop()
        status, out, err = b.finish(timeout=20)
        self.assertEqual(status, 0, out + err)
        self.assertIn('self-check: PASS', out)
        self.assertNotIn('CRITICAL', err)

    def test_5000_nodes_keep_the_main_loop_responsive(self):
        b = self.browser('--path=/stress',
                         '--expect-children=/stress=%d' % STRESS_NODES,
                         '--max-gap-ms=%d' % STRESS_MAX_GAP_MS)
        self.assertEqual(b.line(timeout=15), 'ready')
        # One connection, 5,000 writes as fast as xenstored takes them.
        args = []
        for i in range(STRESS_NODES):
            args += ['/stress/n%04d' % i, 'value-%d' % i]
        env = dict(os.environ, XENSTORED_PATH=self.fx.socket_path)
        subprocess.run(['xenstore-write'] + args, check=True, env=env,
                       timeout=20)
        status, out, err = b.finish(timeout=20)
        self.assertEqual(status, 0, out + err)
        gap = [l for l in out.splitlines() if l.startswith('max-gap-ms=')]
        self.assertTrue(gap, out)
        wall = [l for l in out.splitlines()
                if l.startswith('max-wall-gap-ms=')]
        print(gap[0], wall[0] if wall else '', file=sys.stderr)
        self.assertLessEqual(float(gap[0].split('=')[1]), STRESS_MAX_GAP_MS)


if __name__ == '__main__':
    unittest.main(verbosity=2)
