#!/usr/bin/python3
# test_xlev_watch.py: runs examples/xlev-watch against a private xenstored.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# meson gives XLEV_WATCH (the built program) and the fixture's variables
# (tests/python/xsfixture.py). Every test starts xlev-watch, waits for the
# initial event of each watch (so the watches are registered), changes
# xenstore from another connection and checks the output line by line.
#
# Domain events need the hypervisor: the tests of @introduceDomain and
# @releaseDomain resolved to domids run xlev-watch with the stand-in
# preloaded (XsFixture.hypervisor_environ) and drive the domains with it;
# without it, xlev-watch prints them as plain events.

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from childlines import Child
from xsfixture import XsFixture, xs_request

XS_WRITE = 11
XS_RM = 13

# A domain the tests introduce while xlev-watch runs, and the event channel
# port it is introduced with (any non-zero port).
DOMID = 5
PORT = 1
# A domain introduced before xlev-watch starts.
DOMID_BEFORE = 3

INTRODUCE = '@introduceDomain'
RELEASE = '@releaseDomain'
NO_HYPERVISOR_NOTE = 'no hypervisor'

# The exit statuses of every example (xlev-watch.1, EXIT STATUS).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_TIMED_OUT = 3

# How long xlev-watch may take to notice that xenstored died (seconds): the
# library notices within its liveness period of about a second.
DISASTER_TIMEOUT = 4.0


def domain_event(special, domid, state, reason=None):
    """The JSON object xlev-watch prints for a domain event."""
    ev = {'path': special, 'watch': special, 'domid': domid, 'state': state}
    if reason is not None:
        ev['reason'] = reason
    return ev


class Watcher(Child):

    def __init__(self, *args, env=None):
        super().__init__([os.environ['XLEV_WATCH']] + list(args), env=env)

    def json_line(self):
        return json.loads(self.line())


class XlevWatchTest(unittest.TestCase):

    def setUp(self):
        self.fx = XsFixture()
        self.fx.start()
        self.addCleanup(self.fx.stop)

    def watcher(self, *args, **kwargs):
        w = Watcher(*args, **kwargs)
        self.addCleanup(w.kill)
        return w

    def write(self, path, value):
        xs_request(self.fx.socket_path, XS_WRITE, path, value)

    def rm(self, path):
        xs_request(self.fx.socket_path, XS_RM, path)

    def new_domain(self, domid):
        """What a toolstack does: the domain's directory, then
        XS_INTRODUCE."""
        self.write('/local/domain/%d/name' % domid, 'guest-%d' % domid)
        self.fx.introduce_domain(domid, PORT)

    def test_domain_events_json(self):
        self.new_domain(DOMID_BEFORE)
        w = self.watcher('--json', INTRODUCE, RELEASE,
                         env=self.fx.hypervisor_environ())
        # The initial events say the watches are there.
        self.assertEqual(w.json_line(), {'path': INTRODUCE, 'watch': INTRODUCE})
        self.assertEqual(w.json_line(), {'path': RELEASE, 'watch': RELEASE})

        self.new_domain(DOMID)
        self.assertEqual(w.json_line(),
                         domain_event(INTRODUCE, DOMID, 'introduced'))
        self.fx.set_domain(DOMID, 'shutdown 0')
        self.assertEqual(w.json_line(),
                         domain_event(RELEASE, DOMID, 'shutdown', 'poweroff'))
        self.fx.set_domain(DOMID, 'dying')
        self.assertEqual(w.json_line(), domain_event(RELEASE, DOMID, 'died'))

        # A domain that was there before xlev-watch started is followed too.
        self.fx.set_domain(DOMID_BEFORE, 'crashed')
        self.assertEqual(w.json_line(),
                         domain_event(RELEASE, DOMID_BEFORE, 'crashed', 'crash'))
        self.fx.set_domain(DOMID_BEFORE, 'gone')
        self.assertEqual(w.json_line(),
                         domain_event(RELEASE, DOMID_BEFORE, 'died'))

        # Nothing else: each event once, and no note about the hypervisor.
        w.proc.terminate()
        status, rest, err = w.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(rest, '')
        self.assertNotIn(NO_HYPERVISOR_NOTE, err)

    def test_domain_events_text_release_only(self):
        # A domain there from the start: xlev-watch follows it before its
        # first line, so the test needs no other sign that it is ready.
        # (A domain introduced later could be released before xlev-watch
        # has seen it introduced, and would then never be reported.)
        self.new_domain(DOMID_BEFORE)
        w = self.watcher('--count', '3', RELEASE,
                         env=self.fx.hypervisor_environ())
        self.assertEqual(w.line(), RELEASE)
        self.fx.set_domain(DOMID_BEFORE, 'shutdown 1')
        self.fx.set_domain(DOMID_BEFORE, 'dying')
        status, rest, err = w.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(rest.splitlines(), [
            '%s domid=%d state=shutdown reason=reboot' % (RELEASE,
                                                          DOMID_BEFORE),
            '%s domid=%d state=died' % (RELEASE, DOMID_BEFORE),
        ])

    def test_domain_shut_down_before_start_reported(self):
        # Already shut down when xlev-watch starts: its shutdown is
        # reported at once (in either order with the set-up event), its
        # death later, each once.
        self.new_domain(DOMID_BEFORE)
        self.fx.set_domain(DOMID_BEFORE, 'shutdown 0')
        w = self.watcher('--json', '--count', '3', RELEASE,
                         env=self.fx.hypervisor_environ())
        first = [w.json_line(), w.json_line()]
        self.assertCountEqual(first, [
            {'path': RELEASE, 'watch': RELEASE},
            domain_event(RELEASE, DOMID_BEFORE, 'shutdown', 'poweroff')])
        self.fx.set_domain(DOMID_BEFORE, 'gone')
        status, rest, err = w.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual([json.loads(l) for l in rest.splitlines()],
                         [domain_event(RELEASE, DOMID_BEFORE, 'died')])

    def test_domain_with_directory_before_introduce_reported_once(self):
        # Its directory is there at start, xenstored learns of it later:
        # it is not one of the domains there at start, but an introduced
        # one, and each of its events is printed once.
        self.write('/local/domain/%d/name' % DOMID, 'early')
        w = self.watcher('--json', INTRODUCE, RELEASE,
                         env=self.fx.hypervisor_environ())
        self.assertEqual(w.json_line(), {'path': INTRODUCE, 'watch': INTRODUCE})
        self.assertEqual(w.json_line(), {'path': RELEASE, 'watch': RELEASE})
        self.fx.introduce_domain(DOMID, PORT)
        self.assertEqual(w.json_line(),
                         domain_event(INTRODUCE, DOMID, 'introduced'))
        self.fx.set_domain(DOMID, 'crashed')
        self.assertEqual(w.json_line(),
                         domain_event(RELEASE, DOMID, 'crashed', 'crash'))
        self.fx.set_domain(DOMID, 'dying')
        self.assertEqual(w.json_line(), domain_event(RELEASE, DOMID, 'died'))
        w.proc.terminate()
        status, rest, err = w.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(rest, '')

    def test_domain_paths_without_hypervisor_are_plain(self):
        # No stand-in preloaded into xlev-watch: no hypervisor to ask.
        w = self.watcher('--json', INTRODUCE, '/p')
        self.assertEqual(w.json_line(), {'path': INTRODUCE, 'watch': INTRODUCE})
        self.assertEqual(w.json_line(), {'path': '/p', 'watch': '/p'})
        self.new_domain(DOMID)
        self.assertEqual(w.json_line(), {'path': INTRODUCE, 'watch': INTRODUCE})
        w.proc.terminate()
        status, rest, err = w.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(rest, '')
        notes = [l for l in err.splitlines() if NO_HYPERVISOR_NOTE in l]
        self.assertEqual(len(notes), 1, err)
        self.assertIn(INTRODUCE, notes[0])

    def test_several_paths_text_with_values(self):
        w = self.watcher('--value', '/a', '/b')
        # The initial events, in the order the watches were set up; neither
        # node exists yet.
        self.assertEqual(w.line(), '/a (no such node)')
        self.assertEqual(w.line(), '/b (no such node)')
        self.write('/a/x', 'one')
        self.assertEqual(w.line(), '/a/x = "one"')
        self.write('/b', 'tab\there')
        self.assertEqual(w.line(), '/b = "tab\\there"')
        self.rm('/a/x')
        self.assertEqual(w.line(), '/a/x (no such node)')
        # A path nobody watches prints nothing: the next line is /b's.
        self.write('/c', 'unwatched')
        self.write('/b', 'two')
        self.assertEqual(w.line(), '/b = "two"')

    def test_json_one_object_per_line(self):
        w = self.watcher('--json', '--value', '/j')
        first = w.json_line()
        self.assertEqual(first, {'path': '/j', 'watch': '/j', 'value': None})
        value = 'quote " backslash \\ newline \n bell \x07 é'
        self.write('/j/k', value)
        self.assertEqual(w.json_line(),
                         {'path': '/j/k', 'watch': '/j', 'value': value})
        self.rm('/j/k')
        self.assertEqual(w.json_line(),
                         {'path': '/j/k', 'watch': '/j', 'value': None})

    def test_json_without_value_has_no_value_member(self):
        w = self.watcher('--json', '--skip-initial', '/nv')
        line = w.line_after(lambda: self.write('/nv', 'x'))
        self.assertEqual(json.loads(line), {'path': '/nv', 'watch': '/nv'})

    def test_count_exits_after_n_events(self):
        w = self.watcher('--count', '3', '/n')
        self.assertEqual(w.line(), '/n')
        self.write('/n/1', 'a')
        self.write('/n/2', 'b')
        status, rest, err = w.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(rest.splitlines(), ['/n/1', '/n/2'])

    def test_timeout_without_count_exits_0(self):
        start = time.monotonic()
        w = self.watcher('--skip-initial', '--timeout', '1', '/t')
        status, rest, err = w.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(rest, '')
        self.assertGreaterEqual(time.monotonic() - start, 0.9)

    def test_timeout_before_count_exits_3(self):
        w = self.watcher('--count', '5', '--timeout', '1', '/t')
        self.assertEqual(w.line(), '/t')
        status, rest, err = w.finish()
        self.assertEqual(status, EXIT_TIMED_OUT)
        self.assertIn('timed out', err)
        self.assertIn('1 of 5', err)

    def test_timeout_in_fractional_seconds(self):
        start = time.monotonic()
        w = self.watcher('--skip-initial', '--timeout', '0.3', '/t')
        status, rest, err = w.finish()
        elapsed = time.monotonic() - start
        self.assertEqual(status, EXIT_OK, err)
        self.assertGreaterEqual(elapsed, 0.3)
        # Not rounded up to a whole second.
        self.assertLess(elapsed, 0.95)
        w = self.watcher('--count', '2', '-t', '0.25', '/t')
        self.assertEqual(w.line(), '/t')
        status, rest, err = w.finish()
        self.assertEqual(status, EXIT_TIMED_OUT)
        self.assertIn('after 0.25 s', err)

    def test_bad_timeouts_exit_2(self):
        for bad in ('-1', 'nan', 'soon', '1e12'):
            with self.subTest(timeout=bad):
                status, out, err = self.watcher('--timeout', bad,
                                                '/a').finish()
                self.assertEqual(status, EXIT_USAGE, err)

    def test_utf8_value_printed_as_utf8(self):
        w = self.watcher('--value', '/u')
        self.assertEqual(w.line(), '/u (no such node)')
        self.write('/u', 'grüße 日本 \u2603')
        # Not octal escapes: the characters themselves; control
        # characters and quotes are still escaped.
        self.assertEqual(w.line(), '/u = "grüße 日本 \u2603"')
        self.write('/u', 'a\x07"b"')
        self.assertEqual(w.line(), '/u = "a\\007\\"b\\""')

    def test_json_is_valid_json_for_odd_values(self):
        w = self.watcher('--json', '--value', '/o')
        self.assertEqual(w.json_line(), {'path': '/o', 'watch': '/o',
                                         'value': None})
        for value in ('\u2603 snow', 'ctl \x01\x1f\x7f', 'slash / and \\'):
            self.write('/o', value)
            self.assertEqual(w.json_line(),
                             {'path': '/o', 'watch': '/o', 'value': value})

    def test_version(self):
        status, out, err = self.watcher('--version').finish()
        self.assertEqual(status, EXIT_OK, err)
        self.assertEqual(out, 'xlev-watch %s\n'
                         % os.environ['XLEV_PROJECT_VERSION'])

    def test_messages_name_the_program_as_called(self):
        # A copy under another name: every message says that name.
        tmp = tempfile.mkdtemp(prefix='xlev-watch-')
        self.addCleanup(shutil.rmtree, tmp, True)
        renamed = os.path.join(tmp, 'xs-renamed')
        os.symlink(os.environ['XLEV_WATCH'], renamed)
        env = dict(os.environ)
        env['XENSTORED_PATH'] = os.path.join(self.fx.rundir, 'no-socket')
        for args, status, env_ in ((['relative'], EXIT_USAGE, None),
                                   ([], EXIT_USAGE, None),
                                   (['--bogus', '/a'], EXIT_USAGE, None),
                                   (['/a'], EXIT_FAILURE, env)):
            with self.subTest(args=args):
                proc = subprocess.run([renamed] + args, capture_output=True,
                                      text=True, env=env_, timeout=10)
                self.assertEqual(proc.returncode, status, proc.stderr)
                self.assertTrue(proc.stderr.startswith('xs-renamed: '),
                                proc.stderr)
                self.assertNotIn('xlev-watch', proc.stderr)
        proc = subprocess.run([renamed, '--version'], capture_output=True,
                              text=True, timeout=10)
        self.assertTrue(proc.stdout.startswith('xs-renamed '), proc.stdout)

    def test_man_page_documents_the_exit_statuses(self):
        with open(os.environ['XLEV_WATCH_MAN'], encoding='utf-8') as f:
            man = f.read()
        section = man.split('.SH EXIT STATUS', 1)[1].split('.SH ', 1)[0]
        codes = re.findall(r'^\.TP\n\.B (\d+)$', section, re.M)
        self.assertEqual(codes, ['0', '1', '2', '3'])
        self.assertIn('xs\\-monitor.py', section)
        self.assertIn('\\-\\-version', man)

    def complete(self, *words):
        """COMPREPLY of the bash completion for `xlev-watch WORDS`."""
        script = ('source "$XLEV_WATCH_COMPLETION"\n'
                  'COMP_WORDS=(xlev-watch "$@")\n'
                  'COMP_CWORD=$#\n'
                  'COMP_LINE="${COMP_WORDS[*]}"\n'
                  '_xlev_watch\n'
                  'printf "%s\\n" "${COMPREPLY[@]}"\n')
        proc = subprocess.run(['bash', '-c', script, 'complete'] + list(words),
                              capture_output=True, text=True, timeout=10)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [l for l in proc.stdout.splitlines() if l]

    def test_bash_completion(self):
        self.assertEqual(self.complete('--j'), ['--json'])
        self.assertIn('--version', self.complete('--'))
        self.assertEqual(self.complete('@r'), ['@releaseDomain'])
        self.assertEqual(self.complete('--count', ''), [])
        # Paths: the children xenstored lists (xenstore-list, through
        # XENSTORED_PATH: the private daemon).
        self.write('/comp/alpha', '1')
        self.write('/comp/beta', '2')
        self.write('/comp/alpine', '3')
        # (xenstore-utils, installed by tools/install-deps.)
        self.assertEqual(sorted(self.complete('/comp/al')),
                         ['/comp/alpha', '/comp/alpine'])
        self.assertEqual(self.complete('/comp/b'), ['/comp/beta'])

    def test_bad_path_exits_2(self):
        for bad in ('relative/path', '/with space', '/a//b'):
            with self.subTest(path=bad):
                w = self.watcher('/fine', bad)
                status, out, err = w.finish()
                self.assertEqual(status, 2)
                self.assertIn('bad path', err)
                self.assertIn(bad, err)

    def test_socket_option_is_used_as_given(self):
        # XENSTORED_PATH points nowhere: only --socket names the daemon
        # (libxenstore could open nothing but XENSTORED_PATH).
        env = dict(os.environ)
        env['XENSTORED_PATH'] = os.path.join(self.fx.rundir, 'no-socket')
        w = self.watcher('--socket', self.fx.socket_path, '--count', '2',
                         '/sock', env=env)
        self.assertEqual(w.line(), '/sock')
        self.write('/sock/x', '1')
        status, rest, err = w.finish()
        self.assertEqual(status, EXIT_OK, err)
        self.assertEqual(rest, '/sock/x\n')

    def test_socket_option_refuses_a_fifo(self):
        fifo = os.path.join(self.fx.rundir, 'fifo')
        os.mkfifo(fifo)
        proc = subprocess.run([os.environ['XLEV_WATCH'], '--socket', fifo,
                               '/a'], capture_output=True, text=True,
                              timeout=10)
        self.assertEqual(proc.returncode, EXIT_FAILURE, proc.stderr)
        self.assertIn(fifo, proc.stderr)

    def test_unreachable_daemon_exits_1(self):
        env = dict(os.environ)
        env['XENSTORED_PATH'] = os.path.join(self.fx.rundir, 'no-socket')
        w = self.watcher('/a', env=env)
        status, out, err = w.finish()
        self.assertEqual(status, EXIT_FAILURE)
        self.assertIn('cannot reach xenstored', err)
        self.assertEqual(out, '')

    def test_daemon_killed_exits_1(self):
        w = self.watcher('/k')
        self.assertEqual(w.line(), '/k')
        # Nothing is written and nothing read: only the context's
        # `disaster` signal can tell xlev-watch, and it comes within about
        # a second.
        self.fx.stop()
        start = time.monotonic()
        status, out, err = w.finish(timeout=DISASTER_TIMEOUT)
        self.assertEqual(status, 1, err)
        self.assertIn('lost the connection', err)
        self.assertLess(time.monotonic() - start, DISASTER_TIMEOUT)

    def test_daemon_killed_while_following_domains_exits_1(self):
        w = self.watcher(RELEASE, env=self.fx.hypervisor_environ())
        self.assertEqual(w.line(), RELEASE)
        self.fx.stop()
        status, out, err = w.finish(timeout=DISASTER_TIMEOUT)
        self.assertEqual(status, 1, err)
        self.assertIn('lost the connection', err)

    def test_usage_errors_exit_2(self):
        for args in ([], ['--count', 'many', '/a'], ['--no-such-option']):
            with self.subTest(args=args):
                status, out, err = self.watcher(*args).finish()
                self.assertEqual(status, 2)
                self.assertIn('xlev-watch', err)

    def test_help(self):
        status, out, err = self.watcher('--help').finish()
        self.assertEqual(status, 0, err)
        for option in ('--json', '--value', '--count', '--timeout'):
            self.assertIn(option, out)

    def test_sigterm_exits_0(self):
        w = self.watcher('/s')
        self.assertEqual(w.line(), '/s')
        w.proc.terminate()
        status, out, err = w.finish()
        self.assertEqual(status, 0, err)
        # No special path: nothing to say about the hypervisor.
        self.assertNotIn(NO_HYPERVISOR_NOTE, err)


if __name__ == '__main__':
    unittest.main(verbosity=2)
