#!/usr/bin/python3
# test_readme_examples.py: the README's two examples run against a private,
# real xenstored and print the watch's first event.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only

import os
import subprocess
import sys
import unittest

from xsfixture import XsFixture

EXPECTED = "changed: /local/domain\n"


class ReadmeExamples(unittest.TestCase):
    def setUp(self):
        self.fx = XsFixture()
        self.fx.start()
        self.addCleanup(self.fx.stop)

    def run_example(self, argv):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                              env=dict(os.environ))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_c_example(self):
        self.assertEqual(self.run_example([os.environ["XLEV_TEST_HELLO_WATCH"]]),
                         EXPECTED)

    def test_python_example(self):
        script = os.environ["XLEV_TEST_HELLO_WATCH_PY"]
        self.assertEqual(self.run_example(["/usr/bin/python3", script]),
                         EXPECTED)

    def test_c_example_reports_unreachable_daemon(self):
        env = dict(os.environ, XENSTORED_PATH=os.path.join(self.fx.rundir,
                                                           "no-such-socket"))
        proc = subprocess.run([os.environ["XLEV_TEST_HELLO_WATCH"]], env=env,
                              capture_output=True, text=True, timeout=20)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, "")
        self.assertNotEqual(proc.stderr.strip(), "")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
