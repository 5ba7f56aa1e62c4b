#!/usr/bin/python3
# test_domain_logger.py: runs examples/python/domain-logger.py against a
# private xenstored, drives a domain through its life with the hypervisor
# stand-in, restarts the daemon once, and checks the log.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# meson gives XLEV_DOMAIN_LOGGER (the script), GI_TYPELIB_PATH and
# LD_LIBRARY_PATH of the build tree and the fixture's variables.
#
# A restarted fixture lives in a new directory, but the logger keeps the
# socket path it started with. So the logger is given two symlinks in a
# directory of the test's, pointed at the current daemon's socket and run
# directory (which the stand-in preloaded into the logger reads), and
# re-pointed after the restart.

import configparser
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from childlines import Child
from xsfixture import XsFixture, xs_request

XS_WRITE = 11

# The domain the test drives, and the event channel port it is introduced
# with (any non-zero port).
DOMID = 5
PORT = 1
# A domain introduced before the logger starts.
DOMID_BEFORE = 3
# A domain that appears after the restart.
DOMID_AFTER = 7

# Long enough that the logger's first reconnection attempt (0.1 s after it
# logged the lost connection) finds no daemon.
RESTART_GAP = 1.0
# How long the logger may take to notice that xenstored died (seconds): the
# library's `disaster` signal comes within its liveness period of about a
# second, with no request of the logger's own.
DISASTER_TIMEOUT = 4.0


def fields(line):
    """The key=value fields of a log line (no quoted values needed here)."""
    return dict(f.split('=', 1) for f in line.split(' ') if '=' in f)


def event_is(name, **want):
    def predicate(line):
        f = fields(line)
        return f.get('event') == name and all(
            f.get(k) == str(v) for k, v in want.items())
    return predicate


class DomainLoggerTest(unittest.TestCase):

    def setUp(self):
        self.fx = XsFixture()
        self.fx.start()
        self.addCleanup(self.fx.stop)
        self.links = tempfile.mkdtemp(prefix='xlev-logger-')
        self.addCleanup(shutil.rmtree, self.links, True)
        self.point_links()

    def point_links(self):
        for name, target in (('socket', self.fx.socket_path),
                             ('hv', self.fx.rundir)):
            tmp = os.path.join(self.links, name + '.new')
            os.symlink(target, tmp)
            os.replace(tmp, os.path.join(self.links, name))

    def write(self, path, value):
        xs_request(self.fx.socket_path, XS_WRITE, path, value)

    def start_logger(self, hypervisor=True, socket_option=False):
        if hypervisor:
            env = self.fx.hypervisor_environ()
        else:
            # No stand-in preloaded into the logger: no hypervisor to ask.
            env = dict(os.environ)
        args = []
        if socket_option:
            # Only --socket names the daemon: XENSTORED_PATH points nowhere.
            env['XENSTORED_PATH'] = os.path.join(self.links, 'no-socket')
            args = ['--socket', os.path.join(self.links, 'socket')]
        else:
            env['XENSTORED_PATH'] = os.path.join(self.links, 'socket')
        env['XLEV_FAKEXEN_DIR'] = os.path.join(self.links, 'hv')
        logger = Child(['/usr/bin/python3', os.environ['XLEV_DOMAIN_LOGGER']]
                       + args, env=env)
        self.addCleanup(logger.kill)
        return logger

    def test_socket_option(self):
        log = self.start_logger(socket_option=True)
        log.wait_for(event_is('connected', attempt=1), 'the connection')
        self.write('/local/domain/%d/name' % DOMID, 'guest')
        self.fx.introduce_domain(DOMID, PORT)
        log.wait_for(event_is('domain-introduced', domid=DOMID),
                     'the new domain')

    def test_lifecycle_restart_and_sigterm(self):
        self.write('/local/domain/%d/name' % DOMID_BEFORE, 'older')
        self.fx.introduce_domain(DOMID_BEFORE, PORT)
        log = self.start_logger()
        # The monitor of all domains follows the domain there before it.
        _, skipped = log.wait_for(event_is('connected', attempt=1),
                                  'first connection')
        self.assertTrue(
            [l for l in skipped if event_is('following',
                                            domids=DOMID_BEFORE)(l)],
            skipped)
        log.wait_for(event_is('domains', domids=DOMID_BEFORE),
                     'the domain list')

        # A toolstack creates the domain's directory and introduces it.
        self.write('/local/domain/%d/name' % DOMID, 'guest')
        self.fx.introduce_domain(DOMID, PORT)
        log.wait_for_all([event_is('domain-appeared', domid=DOMID),
                          event_is('domain-introduced', domid=DOMID)],
                         'the new domain, in xenstore and from the monitor')

        # Shutdown (poweroff), then death, each exactly once.
        self.fx.set_domain(DOMID, 'shutdown 0')
        log.wait_for(event_is('domain-shutdown', domid=DOMID,
                              reason='poweroff'), 'the shutdown')
        self.fx.set_domain(DOMID, 'dying')
        log.wait_for(event_is('domain-died', domid=DOMID), 'the death')

        # A domain that was there before the logger started is followed
        # too (by the same monitor): it crashes.
        self.fx.set_domain(DOMID_BEFORE, 'crashed')
        log.wait_for(event_is('domain-shutdown', domid=DOMID_BEFORE,
                              reason='crash'), 'the older domain crashing')
        # The daemon restarts: the logger notices, fails to reconnect while
        # it is away, reconnects with backoff, and re-reads the domains (the
        # new daemon's tree is empty, so both have vanished).
        self.fx.stop()
        log.wait_for(event_is('disaster', kind='xenstore'),
                     'the disaster signal', timeout=DISASTER_TIMEOUT)
        log.wait_for(event_is('connection-lost'), 'the lost connection')
        time.sleep(RESTART_GAP)
        self.fx.start()
        self.point_links()
        _, skipped = log.wait_for(event_is('connected'), 'the reconnection',
                                  timeout=10)
        failed = [l for l in skipped if event_is('connect-failed')(l)]
        self.assertTrue(failed, 'no failed attempt logged: %r' % skipped)
        # Backoff: each retry waits longer than the one before.
        delays = [float(fields(l)['retry_in']) for l in failed]
        self.assertEqual(delays, sorted(delays))
        if len(delays) > 1:
            self.assertGreater(delays[-1], delays[0])
        for domid in (DOMID_BEFORE, DOMID):
            log.wait_for(event_is('domain-vanished', domid=domid),
                         'the domains gone with the old daemon')

        # The new watches work.
        self.write('/local/domain/%d/name' % DOMID_AFTER, 'later')
        log.wait_for(event_is('domain-appeared', domid=DOMID_AFTER),
                     'a domain after the restart')

        # SIGTERM: a last line and status 0.
        log.proc.send_signal(signal.SIGTERM)
        log.wait_for(event_is('stopping', signal='TERM'), 'the stop')
        status, rest, err = log.finish()
        self.assertEqual(status, 0, err)
        for bad in ('Traceback', 'CRITICAL', 'WARNING', 'Error'):
            self.assertNotIn(bad, err)

        # Each event once (no monitor reports a domain twice), and none
        # says the older domain was introduced.
        for name in ('domain-introduced', 'domain-shutdown', 'domain-died'):
            got = [l for l in log.lines if event_is(name, domid=DOMID)(l)]
            self.assertEqual(len(got), 1, (name, log.lines))
        got = [l for l in log.lines
               if event_is('domain-shutdown', domid=DOMID_BEFORE)(l)]
        self.assertEqual(len(got), 1, log.lines)
        got = [l for l in log.lines
               if event_is('domain-introduced', domid=DOMID_BEFORE)(l)]
        self.assertEqual(got, [])

        # Every line is ts=... event=... key=value.
        for line in log.lines:
            f = fields(line)
            self.assertIn('ts', f, line)
            self.assertIn('event', f, line)
            self.assertTrue(line.startswith('ts='), line)

    def test_without_hypervisor_logs_xenstore_events(self):
        # Without the hypervisor a monitor of all domains is made all the
        # same (it would only report introductions): the logger must tell
        # by itself, say so once, and log the bare xenstore events.
        self.write('/local/domain/%d/name' % DOMID_BEFORE, 'older')
        log = self.start_logger(hypervisor=False)
        _, skipped = log.wait_for(event_is('connected', attempt=1),
                                  'first connection')
        notes = [l for l in skipped if event_is('no-hypervisor')(l)]
        self.assertEqual(len(notes), 1, skipped)
        self.assertIn('fallback=xenstore-events', notes[0])
        log.wait_for(event_is('domains', domids=DOMID_BEFORE),
                     'the domain list')

        self.write('/local/domain/%d/name' % DOMID, 'guest')
        self.fx.introduce_domain(DOMID, PORT)
        log.wait_for_all([event_is('domain-appeared', domid=DOMID),
                          event_is('xenstore-introduceDomain')],
                         'the new domain, in xenstore only')

        log.proc.send_signal(signal.SIGTERM)
        log.wait_for(event_is('stopping', signal='TERM'), 'the stop')
        status, rest, err = log.finish()
        self.assertEqual(status, 0, err)
        for bad in ('Traceback', 'CRITICAL', 'WARNING', 'Error'):
            self.assertNotIn(bad, err)
        for name in ('following', 'domain-introduced', 'domain-shutdown',
                     'domain-died'):
            self.assertEqual([l for l in log.lines if event_is(name)(l)],
                             [], name)


def journal_entry(data):
    """The fields of one native-protocol journal datagram."""
    entry = {}
    while data:
        nl = data.index(b'\n')
        line = data[:nl]
        if b'=' in line:
            key, value = line.split(b'=', 1)
            data = data[nl + 1:]
        else:
            key = line
            (size,) = struct.unpack('<Q', data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + size]
            if data[nl + 9 + size:nl + 10 + size] != b'\n':
                raise AssertionError('bad binary field %r' % key)
            data = data[nl + 10 + size:]
        entry[key.decode()] = value.decode()
    return entry


class DomainLoggerServiceTest(unittest.TestCase):
    """The logger as a service: the journal under systemd, SIGTERM with
    its stdout gone, the unit file."""

    def setUp(self):
        self.fx = XsFixture()
        self.fx.start()
        self.addCleanup(self.fx.stop)
        self.tmp = tempfile.mkdtemp(prefix='xlev-logger-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def spawn(self, env, stdout):
        proc = subprocess.Popen(
            ['/usr/bin/python3', os.environ['XLEV_DOMAIN_LOGGER']],
            stdout=stdout, stderr=subprocess.PIPE, env=env)

        def reap():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        self.addCleanup(reap)
        return proc

    def test_journal_fields_under_systemd(self):
        # What systemd does: stdout connected to the journal, and
        # JOURNAL_STREAM naming it. The entries go to the journal socket
        # (here the test's own), none to stdout.
        journal_path = os.path.join(self.tmp, 'journal')
        journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(journal.close)
        journal.bind(journal_path)
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, read_fd)
        st = os.fstat(write_fd)
        env = self.fx.hypervisor_environ()
        env['JOURNAL_STREAM'] = '%d:%d' % (st.st_dev, st.st_ino)
        env['XLEV_JOURNAL_SOCKET'] = journal_path
        proc = self.spawn(env, write_fd)
        os.close(write_fd)

        entries = []

        def wait_for(event, **want):
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                ready, _, _ = select.select([journal], [], [],
                                            deadline - time.monotonic())
                if not ready:
                    break
                e = journal_entry(journal.recv(65536))
                entries.append(e)
                if e.get('XLEV_EVENT') == event and all(
                        e.get(k) == v for k, v in want.items()):
                    return e
            raise AssertionError('no journal entry %s %r; got %r'
                                 % (event, want, entries))

        e = wait_for('connected')
        self.assertEqual(e['XLEV_ATTEMPT'], '1')
        self.assertEqual(e['SYSLOG_IDENTIFIER'], 'xlev-domain-logger')
        self.assertEqual(e['PRIORITY'], '6')
        self.assertTrue(e['MESSAGE'].startswith('event=connected '), e)
        self.write_domain(DOMID)
        self.fx.introduce_domain(DOMID, PORT)
        wait_for('domain-introduced', XLEV_DOMID=str(DOMID))
        self.fx.set_domain(DOMID, 'shutdown 0')
        e = wait_for('domain-shutdown', XLEV_DOMID=str(DOMID))
        self.assertEqual(e['XLEV_REASON'], 'poweroff')
        self.assertEqual(e['MESSAGE'],
                         'event=domain-shutdown domid=%d reason=poweroff'
                         % DOMID)
        proc.send_signal(signal.SIGTERM)
        wait_for('stopping', XLEV_SIGNAL='TERM')
        proc.wait(5)
        self.assertEqual(proc.returncode, 0, proc.stderr.read())
        # Nothing went to stdout.
        self.assertEqual(os.read(read_fd, 4096), b'')

    def test_journal_stream_of_another_stream_means_plain_lines(self):
        # JOURNAL_STREAM inherited, but stdout redirected elsewhere: plain
        # lines on stdout, as systemd.exec(5) asks.
        env = self.fx.hypervisor_environ()
        env['JOURNAL_STREAM'] = '1:1'
        env['XLEV_JOURNAL_SOCKET'] = os.path.join(self.tmp, 'none')
        log = Child(['/usr/bin/python3', os.environ['XLEV_DOMAIN_LOGGER']],
                    env=env)
        self.addCleanup(log.kill)
        log.wait_for(event_is('connected', attempt=1), 'first connection')
        self.assertTrue(log.lines[0].startswith('ts='), log.lines)

    def test_sigterm_with_stdout_closed_exits_0(self):
        # The reader of its stdout goes away; the next line (the one
        # SIGTERM logs) fails with EPIPE: the logger still stops.
        read_fd, write_fd = os.pipe()
        proc = self.spawn(dict(os.environ), write_fd)
        os.close(write_fd)
        with os.fdopen(read_fd, 'rb') as out:
            deadline = time.monotonic() + 5.0
            seen = b''
            while b'event=connected' not in seen:
                self.assertLess(time.monotonic(), deadline, seen)
                ready, _, _ = select.select([out], [], [], 0.1)
                if ready:
                    chunk = os.read(read_fd, 4096)
                    self.assertTrue(chunk, 'logger exited: %r' % seen)
                    seen += chunk
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            self.fail('the logger ignored SIGTERM with stdout closed')
        err = proc.stderr.read().decode()
        self.assertEqual(proc.returncode, 0, err)
        self.assertNotIn('Traceback', err)
        self.assertNotIn('BrokenPipeError', err)

    def test_systemd_unit(self):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str
        with open(os.environ['XLEV_DOMAIN_LOGGER_UNIT'],
                  encoding='utf-8') as f:
            unit.read_file(f)
        exec_start = unit['Service']['ExecStart'].split()
        self.assertEqual(exec_start[0], '/usr/bin/python3')
        self.assertTrue(exec_start[1].endswith(
            '/libexec/xlev-examples/domain-logger.py'), exec_start)
        self.assertTrue(os.path.isabs(exec_start[1]))
        self.assertEqual(unit['Install']['WantedBy'], 'multi-user.target')
        # The script it starts: not a path of the build tree.
        self.assertNotIn(os.environ.get('MESON_BUILD_ROOT', '/nonexistent'),
                         exec_start[1])

    def write_domain(self, domid):
        xs_request(self.fx.socket_path, XS_WRITE,
                   '/local/domain/%d/name' % domid, 'guest')


if __name__ == '__main__':
    unittest.main(verbosity=2)
