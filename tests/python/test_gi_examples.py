# test_gi_examples.py: examples/python/xs-monitor.py against a private
# xenstored, for a few seconds: with the hypervisor stand-in preloaded into
# it (domains added and removed), and without (added only, and a note).
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only

import os
import subprocess
import sys
import unittest

from xlevgi import XlevTestCase, xs_cli, EVENT_TIMEOUT

MONITOR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       os.pardir, os.pardir, 'examples', 'python',
                       'xs-monitor.py')


class XsMonitorTest(XlevTestCase):

    def start(self, *args, hypervisor=True):
        env = self.fx.hypervisor_environ() if hypervisor else None
        proc = subprocess.Popen([sys.executable, MONITOR] + list(args),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(proc.kill)
        return proc

    def test_changes_and_domains(self):
        proc = self.start('--path', '/mon', '--events', '4',
                          '--timeout', str(3 * EVENT_TIMEOUT))
        # Its first line says the watches are registered.
        self.assertEqual(proc.stdout.readline(), 'domains: -\n')
        xs_cli('xenstore-write', '/mon/a', '1')
        xs_cli('xenstore-write', '/local/domain/5/name', 'guest')
        self.fx.introduce_domain(5, port=3)
        xs_cli('xenstore-rm', '/mon/a')
        # Wait for the addition before the removal, or the two changes
        # could be seen by one listing.
        lines = []
        while 'domain 5: added\n' not in lines:
            line = proc.stdout.readline()
            self.assertTrue(line, 'xs-monitor ended early: %r' % lines)
            lines.append(line)
        xs_cli('xenstore-rm', '/local/domain/5')
        self.fx.set_domain(5, 'dying')
        # Not communicate(): it would miss what readline() has buffered.
        # The monitor's own --timeout bounds these reads.
        lines += proc.stdout.readlines()
        err = proc.stderr.read()
        proc.wait(EVENT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(err, '')
        self.assertEqual(sorted(lines),
                         sorted(['/mon/a = "1"\n', '/mon/a removed\n',
                                 'domain 5: added\n',
                                 'domain 5: removed\n']))

    def test_domains_there_at_start(self):
        xs_cli('xenstore-write', '/local/domain/3/name', 'older')
        self.fx.introduce_domain(3, port=3)
        proc = self.start('--path', '/mon', '--events', '1',
                          '--timeout', str(3 * EVENT_TIMEOUT))
        self.assertEqual(proc.stdout.readline(), 'domains: 3\n')
        self.fx.set_domain(3, 'gone')
        out, err = proc.communicate(timeout=4 * EVENT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, 'domain 3: removed\n')

    def test_without_hypervisor(self):
        # Introductions are still reported; deaths cannot be, and it says so.
        proc = self.start('--path', '/mon', '--events', '1',
                          '--timeout', str(3 * EVENT_TIMEOUT),
                          hypervisor=False)
        self.assertEqual(proc.stdout.readline(), 'domains: -\n')
        xs_cli('xenstore-write', '/local/domain/5/name', 'guest')
        self.fx.introduce_domain(5, port=3)
        out, err = proc.communicate(timeout=4 * EVENT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, 'domain 5: added\n')
        # Its note, once (the library logs its own messages too).
        notes = [l for l in err.splitlines() if l.startswith('xs-monitor: ')]
        self.assertEqual(len(notes), 1, err)
        self.assertIn('domains that go away are not reported', notes[0])
        self.assertNotIn('Traceback', err)

    def test_timeout(self):
        # Watching for a while was the job: status 0 (as xlev-watch; the
        # other statuses are tested in tests/examples/test_xs_monitor.py).
        proc = self.start('--timeout', '0.2')
        out, err = proc.communicate(timeout=EVENT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, 'domains: -\n')

    def test_no_daemon(self):
        self.fx.stop()
        proc = self.start(hypervisor=False)
        out, err = proc.communicate(timeout=EVENT_TIMEOUT)
        self.assertEqual(proc.returncode, 1)
        self.assertIn('xs-monitor: ', err)


if __name__ == '__main__':
    unittest.main(verbosity=2)
