#!/usr/bin/python3
# test_hello_vala.py: runs tests/vala/hello.vala (built against
# libxlev-glib-1.0.vapi) against a private xenstored.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only

import os
import subprocess
import unittest

from xsfixture import XsFixture, xs_request

XS_READ = 2
PROGRAM_TIMEOUT = 15


class HelloValaTest(unittest.TestCase):

    def test_watch_write_read(self):
        with XsFixture() as fx:
            proc = subprocess.run([os.environ['XLEV_HELLO_VALA']],
                                  capture_output=True, text=True,
                                  timeout=PROGRAM_TIMEOUT)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout,
                             'changed: /vala/hello = hello from Vala\n')
            # The write really reached the daemon.
            self.assertEqual(xs_request(fx.socket_path, XS_READ,
                                        '/vala/hello'),
                             b'hello from Vala')


if __name__ == '__main__':
    unittest.main(verbosity=2)
