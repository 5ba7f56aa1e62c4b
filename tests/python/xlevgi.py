# xlevgi.py: what the PyGObject tests share.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Imports Xlev-1.0 from the build tree (meson sets GI_TYPELIB_PATH and
# LD_LIBRARY_PATH).  A missing gi module or typelib raises here, at import
# time, so the test fails: it is never skipped.
#
#     from xlevgi import Xlev, GLib, Gio, XlevTestCase
#
#     class T(XlevTestCase):          # a private xenstored per test
#         def test_x(self):
#             ctx = self.context()
#             ...
#             self.run_until(lambda: done, 'the event')   # fails on timeout

import gc
import os
import subprocess
import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Xlev', '1.0')

from gi.repository import GLib, Gio, Xlev  # noqa: E402

from xsfixture import XsFixture, _scale  # noqa: E402

__all__ = ['Xlev', 'GLib', 'Gio', 'XlevTestCase', 'xs_cli',
           'XENSTORE_CONTROL', 'EVENT_TIMEOUT']

# How long a test waits for something xenstored or another process does.
EVENT_TIMEOUT = _scale(5.0)

# Debian installs the real xenstore-control here; /usr/bin/xenstore-control
# is a wrapper that insists on a running hypervisor.
XENSTORE_CONTROL = '/usr/lib/xen-4.17/bin/xenstore-control'


def xs_cli(*argv, env=None):
    """Runs one of the stock xenstore-* clients (another process, another
    connection to xenstored) and returns its output."""
    return subprocess.run(argv, check=True, capture_output=True, text=True,
                          timeout=EVENT_TIMEOUT, env=env).stdout


class XlevTestCase(unittest.TestCase):
    """A private xenstored for each test and a main loop to run."""

    def setUp(self):
        self.fx = XsFixture()
        self.fx.start()
        self.addCleanup(self.fx.stop)
        self.loop = GLib.MainLoop()
        # Objects made by the test go before the daemon does: a watch
        # cancelled after xenstored is gone only logs a message, but that
        # message is not what the test is about.
        self.addCleanup(gc.collect)

    def context(self, integration=Xlev.Integration.SOURCE):
        return Xlev.Context.new_full(None, integration, None, None)

    def run_until(self, done, what, timeout=EVENT_TIMEOUT):
        """Iterates the default main context until done() is true; fails
        the test after `timeout` seconds, naming `what`."""
        expired = []

        def on_timeout():
            expired.append(True)
            self.loop.quit()
            return GLib.SOURCE_REMOVE

        def check():
            if done():
                self.loop.quit()
                return GLib.SOURCE_REMOVE
            return GLib.SOURCE_CONTINUE

        if done():
            return
        timer = GLib.timeout_add(int(timeout * 1000), on_timeout)
        poller = GLib.timeout_add(1, check)
        self.loop.run()
        if not expired:
            GLib.source_remove(timer)
        if not done():
            GLib.source_remove(poller)
            self.fail('timed out after %.1f s waiting for %s'
                      % (timeout, what))

    def iterate(self, seconds):
        """Runs the default main context for `seconds`, whatever happens."""
        GLib.timeout_add(int(seconds * 1000), self.loop.quit)
        self.loop.run()

    def control(self, *args):
        """xenstore-control against the private daemon."""
        return xs_cli(XENSTORE_CONTROL, *args,
                      env=self.fx.hypervisor_environ())

    def dom0_memory(self):
        """What xenstored accounts to domain 0 (our socket connections).
        A registered watch adds its path and token to it, so this drops
        back when xenstored has removed the watch."""
        for line in self.control('quota', '0').splitlines():
            name, _, value = line.partition(':')
            if name.strip() == 'memory':
                return int(value)
        self.fail('no memory line in xenstore-control quota 0')
