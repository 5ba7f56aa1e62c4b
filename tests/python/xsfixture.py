# xsfixture.py: a private, real xenstored for Python tests.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# The Python twin of tests/xs-fixture.[ch] (read xs-fixture.h for the whole
# picture): one of Debian's real xenstore daemons in a private run directory
# $D, with tests/fakexen/libfakexen.so preloaded to stand in for the
# hypervisor.
#
#     with XsFixture() as fx:             # or fx.start() / fx.stop()
#         os.environ['XENSTORED_PATH']     # == fx.socket_path
#         fx.set_domain(7, 'shutdown 0')   # @releaseDomain follows
#
# In unittest:
#
#     def setUp(self):
#         self.fx = XsFixture()
#         self.fx.start()
#         self.addCleanup(self.fx.stop)
#
# Which daemon, as in the C fixture:
#   XLEV_TEST_XENSTORED   "xenstored" (the default, the C daemon),
#                         "oxenstored" (the OCaml daemon; meson test
#                         --setup oxenstored sets this) or a path to either
# Paths come from the environment meson gives the test:
#   XLEV_TEST_XENSTORED_PROGRAM    the C daemon
#   XLEV_TEST_OXENSTORED_PROGRAM   the OCaml daemon
#                         (both default to Debian's /usr/lib/xen-4.17/bin)
#   XLEV_TEST_FAKEXEN     the stand-in (libfakexen.so)
#   XLEV_TEST_XENSTORED_WRAPPER   optional command prefix (e.g. valgrind)
#   XLEV_UNDER_VALGRIND   stretches the deadlines
# The daemon watches this process's pid (XLEV_FAKEXEN_WATCH_PID): if the test
# is killed, the daemon removes $D and exits by itself.

import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

__all__ = ['XsFixture', 'XsFixtureError', 'daemon', 'daemon_program',
           'socket_answers', 'xs_request', 'XENSTORED', 'OXENSTORED',
           'XENBUS_PATH']

# Deadlines (seconds); see XS_FIXTURE_* in tests/xs-fixture.c.
START_TIMEOUT = 5.0
CONTROL_TIMEOUT = 5.0
TERM_TIMEOUT = 10.0
VALGRIND_FACTOR = 8

# Domain ids from here up are reserved (DOMID_FIRST_RESERVED, xen/xen.h).
DOMID_FIRST_RESERVED = 0x7FF0

# xenstore wire protocol (xen/io/xs_wire.h): header type, req_id, tx_id, len.
XS_DIRECTORY = 1
XS_INTRODUCE = 8
XS_ERROR = 16
XS_IS_DOMAIN_INTRODUCED = 17
XS_HEADER = struct.Struct('=IIII')

_STATES = ('running', 'shutdown', 'crashed', 'dying', 'gone')

# The xenbus device the stand-in answers in a process it is preloaded into.
XENBUS_PATH = '/dev/xen/xenbus'

# The two daemons (XsFixture.daemon, daemon()).
XENSTORED = 'xenstored'
OXENSTORED = 'oxenstored'
_DEFAULT_PROGRAMS = {
    XENSTORED: ('XLEV_TEST_XENSTORED_PROGRAM',
                '/usr/lib/xen-4.17/bin/xenstored'),
    OXENSTORED: ('XLEV_TEST_OXENSTORED_PROGRAM',
                 '/usr/lib/xen-4.17/bin/oxenstored'),
}

# The files oxenstored is given in $D (see XS_FIXTURE_OXENSTORED_* in
# tests/xs-fixture.c).
OXENSTORED_CONF = 'oxenstored.conf'
OXENSTORED_LOG = 'oxenstored.log'
OXENSTORED_ACCESS_LOG = 'oxenstored-access.log'


def hypervisor_stand_in_preloaded():
    """Whether the hypervisor stand-in is loaded in this process."""
    import ctypes

    try:
        ctypes.CDLL(None).xlev_fakexen_present
        return True
    except AttributeError:
        return False


def reexec_with_hypervisor_stand_in(guard):
    """Re-executes this interpreter with the hypervisor stand-in
    ($XLEV_TEST_FAKEXEN) preloaded, once (@guard names the environment
    variable that says it was done), unless it is loaded already: a test
    whose library calls libxenctrl in this process needs it there. Call it
    before importing gi."""
    import sys

    if hypervisor_stand_in_preloaded():
        return
    fakexen = os.environ.get('XLEV_TEST_FAKEXEN')
    if os.environ.get(guard) or not fakexen or not os.path.exists(fakexen):
        return
    env = dict(os.environ)
    env[guard] = '1'
    env['LD_PRELOAD'] = ' '.join(
        p for p in (env.get('LD_PRELOAD', ''), fakexen) if p)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


class XsFixtureError(Exception):
    """The daemon could not be started, died, or did not answer in time."""


def _scale(seconds):
    under = os.environ.get('XLEV_UNDER_VALGRIND', '')
    wrapper = os.environ.get('XLEV_TEST_XENSTORED_WRAPPER', '')
    if (under and under != '0') or 'valgrind' in wrapper:
        return seconds * VALGRIND_FACTOR
    return seconds


def socket_answers(path, timeout=1.0):
    """True if a xenstored at `path` answers one request within `timeout`."""
    req_id = 0x786c6576
    payload = b'/\0'
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(path)
            s.sendall(XS_HEADER.pack(XS_DIRECTORY, req_id, 0, len(payload))
                      + payload)
            header = b''
            while len(header) < XS_HEADER.size:
                chunk = s.recv(XS_HEADER.size - len(header))
                if not chunk:
                    return False
                header += chunk
            return XS_HEADER.unpack(header)[1] == req_id
    except OSError:
        return False


def xs_request(path, msg_type, *args, timeout=5.0):
    """Sends one request to the xenstored at `path` (arguments joined by
    NULs, each NUL-terminated) and returns the reply's payload (bytes).
    Raises OSError (with the daemon's errno name) on an XS_ERROR reply."""
    payload = b''.join(a.encode() + b'\0' for a in args)
    req_id = 0x7079
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(XS_HEADER.pack(msg_type, req_id, 0, len(payload)) + payload)
        data = b''
        while True:
            if len(data) >= XS_HEADER.size:
                rtype, rid, _, rlen = XS_HEADER.unpack(data[:XS_HEADER.size])
                if len(data) >= XS_HEADER.size + rlen:
                    body = data[XS_HEADER.size:XS_HEADER.size + rlen]
                    break
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError('xenstored closed the connection')
            data += chunk
    if rid != req_id:
        raise ConnectionError('reply to another request (%#x)' % rid)
    if rtype == XS_ERROR:
        raise OSError(body.rstrip(b'\0').decode())
    return body


def _daemon_setting():
    return os.environ.get('XLEV_TEST_XENSTORED') or XENSTORED


def daemon():
    """The daemon XsFixture starts: XENSTORED or OXENSTORED, as
    XLEV_TEST_XENSTORED chooses (a name, or a path whose file name says)."""
    name = os.path.basename(_daemon_setting())
    return OXENSTORED if name == OXENSTORED else XENSTORED


def daemon_program():
    """The path of the daemon XsFixture starts."""
    setting = _daemon_setting()
    if '/' in setting:
        return setting
    if setting not in _DEFAULT_PROGRAMS:
        raise XsFixtureError('XLEV_TEST_XENSTORED=%s: expected xenstored, '
                             'oxenstored or a path to either' % setting)
    env_name, default = _DEFAULT_PROGRAMS[setting]
    return os.environ.get(env_name) or default


def _program(env_name):
    path = os.environ.get(env_name)
    if not path:
        raise XsFixtureError('%s is not set (meson sets it for the tests)'
                             % env_name)
    return path


class XsFixture:
    """A private xenstored; see the module comment."""

    def __init__(self, oxenstored_config=None):
        """`oxenstored_config`: extra settings ({key: value}) for the
        configuration file of oxenstored, e.g. a quota a test must raise
        (say why in the test); the C daemon has no such file and ignores
        them."""
        self._oxenstored_config = dict(oxenstored_config or {})
        self.rundir = None
        self.socket_path = None
        self.pid = None
        self.daemon = None
        self._proc = None
        self._log_path = None
        self._ctl_fd = None
        self._lines_sent = 0
        self._saved_env = {}

    # -- context manager ---------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- life cycle --------------------------------------------------------

    def start(self):
        """Starts the daemon and sets XENSTORED_PATH (and XLEV_FAKEXEN_DIR)
        in os.environ.  Raises XsFixtureError, leaving nothing behind."""
        if self._proc is not None:
            raise XsFixtureError('already started')
        xenstored = daemon_program()
        fakexen = _program('XLEV_TEST_FAKEXEN')
        self.daemon = daemon()
        for path in (xenstored, fakexen):
            if not os.path.exists(path):
                raise XsFixtureError('%s not found' % path)

        self.rundir = tempfile.mkdtemp(prefix='xlev-xs-')
        self.socket_path = os.path.join(self.rundir, 'socket')
        self._log_path = os.path.join(self.rundir, 'daemon.log')
        self._lines_sent = 0
        try:
            self._spawn(xenstored, fakexen)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        for name, value in (('XENSTORED_PATH', self.socket_path),
                            ('XLEV_FAKEXEN_DIR', self.rundir)):
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        return self

    def restart(self):
        """A crash and a fresh start at the same path, as
        xs_fixture_restart() in tests/xs-fixture.h: SIGKILL, wait, then the
        same daemon again in the same $D on the same $D/socket (a fresh tree,
        and a fresh domain table in the stand-in).  Raises XsFixtureError if
        the new one does not answer."""
        if self._proc is None:
            raise XsFixtureError('the fixture is not started')
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        # The dead daemon's socket file must not pass for the new one's.
        try:
            os.unlink(self.socket_path)
        except FileNotFoundError:
            pass
        # The stand-in in the new daemon counts control lines from 0.
        self._lines_sent = 0
        self._spawn(daemon_program(), _program('XLEV_TEST_FAKEXEN'),
                    append_log=True)
        self._wait_ready()

    def _spawn(self, xenstored, fakexen, append_log=False):
        env = dict(os.environ)
        # XENSTORED_PATH in the daemon's environment changes where it binds.
        env.pop('XENSTORED_PATH', None)
        env.pop('XLEV_FAKEXEN_REEXEC', None)
        env.update({
            'XENSTORED_RUNDIR': self.rundir,
            'LD_PRELOAD': fakexen,
            'XLEV_FAKEXEN_DIR': self.rundir,
            'XLEV_FAKEXEN_ROLE': 'daemon',
            'XLEV_FAKEXEN_WATCH_PID': str(os.getpid()),
        })
        wrapper = shlex.split(os.environ.get('XLEV_TEST_XENSTORED_WRAPPER', ''))
        pidfile = os.path.join(self.rundir, 'pid')
        if self.daemon == OXENSTORED:
            conf = self._write_oxenstored_config()
            argv = wrapper + [xenstored, '--no-fork', '--config-file', conf,
                              '--pid-file', pidfile]
        else:
            argv = wrapper + [xenstored, '-N', '-F', pidfile]
        # Output to a file in $D, never to our stdout: a daemon outliving a
        # killed test must not hold the test runner's pipe open.
        with open(self._log_path, 'ab' if append_log else 'wb') as log:
            self._proc = subprocess.Popen(argv, env=env,
                                          stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=log,
                                          close_fds=True)
        self.pid = self._proc.pid

    def _write_oxenstored_config(self):
        """$D/oxenstored.conf, as tests/xs-fixture.c writes it: domain 0's
        ring page and port (the stand-in answers these /proc/xen files), the
        pid and log files in $D."""
        path = os.path.join(self.rundir, OXENSTORED_CONF)
        with open(path, 'w') as f:
            f.write('# A private oxenstored: see tests/xs-fixture.h.\n'
                    'xenstored-kva = /proc/xen/xsd_kva\n'
                    'xenstored-port = /proc/xen/xsd_port\n'
                    'pid-file = %s\n'
                    'xenstored-log-file = %s\n'
                    'access-log-file = %s\n'
                    % (os.path.join(self.rundir, 'pid'),
                       os.path.join(self.rundir, OXENSTORED_LOG),
                       os.path.join(self.rundir, OXENSTORED_ACCESS_LOG)))
            for key, value in self._oxenstored_config.items():
                f.write('%s = %s\n' % (key, value))
        return path

    def _wait_ready(self):
        timeout = _scale(START_TIMEOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise XsFixtureError(self._died('before its socket answered'))
            left = deadline - time.monotonic()
            if left <= 0:
                raise XsFixtureError(
                    '%s (pid %d) did not answer on %s within %.1f s; '
                    'its output:\n%s' % (self.daemon, self.pid,
                                         self.socket_path, timeout,
                                         self.daemon_output() or '(none)'))
            if (os.path.exists(self.socket_path)
                    and socket_answers(self.socket_path, left)):
                return
            time.sleep(0.005)

    def stop(self):
        """SIGKILL (SIGTERM first under valgrind), wait, remove $D, restore
        the environment.  Idempotent."""
        if self._proc is not None:
            if self._proc.poll() is None:
                wrapper = os.environ.get('XLEV_TEST_XENSTORED_WRAPPER', '')
                if 'valgrind' in wrapper:
                    self._proc.send_signal(signal.SIGTERM)
                    try:
                        self._proc.wait(TERM_TIMEOUT)
                    except subprocess.TimeoutExpired:
                        pass
                if self._proc.poll() is None:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
        if self._ctl_fd is not None:
            os.close(self._ctl_fd)
            self._ctl_fd = None
        if self.rundir is not None:
            shutil.rmtree(self.rundir, ignore_errors=True)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        self.rundir = None
        self.socket_path = None
        self.pid = None
        self.daemon = None

    # -- the daemon ----------------------------------------------------------

    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    def daemon_output(self):
        try:
            with open(self._log_path, 'r', errors='replace') as f:
                return f.read()[-4096:]
        except (OSError, TypeError):
            return ''

    def _died(self, while_doing):
        code = self._proc.returncode
        how = ('was killed by signal %d' % -code if code < 0
               else 'exited with status %d' % code)
        return '%s (pid %d) %s %s; its output:\n%s' % (
            self.daemon, self.pid, how, while_doing,
            self.daemon_output() or '(none)')

    def hypervisor_environ(self, xenbus=False):
        """A copy of os.environ for a child that must see the same daemon and
        domain table (LD_PRELOAD with the stand-in appended).  With
        `xenbus`, the child's libxenstore reaches the daemon through the
        stand-in's xenbus device instead of the socket
        (XENSTORED_PATH=/dev/xen/xenbus; see "The xenbus device" in
        tests/xs-fixture.h)."""
        env = dict(os.environ)
        fakexen = _program('XLEV_TEST_FAKEXEN')
        preload = env.get('LD_PRELOAD', '')
        if fakexen not in preload:
            preload = preload + ':' + fakexen if preload else fakexen
        env['LD_PRELOAD'] = preload
        env['XLEV_FAKEXEN_DIR'] = self.rundir
        env['XENSTORED_PATH'] = XENBUS_PATH if xenbus else self.socket_path
        return env

    # -- control lines -------------------------------------------------------

    def _lines_done(self):
        try:
            with open(os.path.join(self.rundir, 'domains')) as f:
                first = f.readline().split()
        except OSError:
            return 0
        if len(first) == 2 and first[0] == 'done':
            return int(first[1])
        return 0

    def _send(self, line):
        if self._proc is None:
            raise XsFixtureError('the fixture is not started')
        if self._proc.poll() is not None:
            raise XsFixtureError(self._died('before the control line was sent'))
        if self._ctl_fd is None:
            # Read-write: no SIGPIPE/EPIPE if the daemon has gone.
            self._ctl_fd = os.open(os.path.join(self.rundir, 'ctl'),
                                   os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        data = (line + '\n').encode()
        if os.write(self._ctl_fd, data) != len(data):
            raise XsFixtureError('short write to the control FIFO')
        self._lines_sent += 1
        timeout = _scale(CONTROL_TIMEOUT)
        deadline = time.monotonic() + timeout
        while self._lines_done() < self._lines_sent:
            if self._proc.poll() is not None:
                raise XsFixtureError(self._died('before acting on %r' % line))
            if time.monotonic() > deadline:
                raise XsFixtureError('%s (pid %d) did not act on %r '
                                     'within %.1f s' % (self.daemon, self.pid,
                                                        line, timeout))
            time.sleep(0.001)

    def set_domain(self, domid, state):
        """Sets a domain's state ('running', 'shutdown [reason]', 'crashed',
        'dying', 'gone') and waits until the daemon has acted on it."""
        if not 0 < domid < DOMID_FIRST_RESERVED:
            raise ValueError('domain %d: only 1..%d can change state'
                             % (domid, DOMID_FIRST_RESERVED - 1))
        words = state.split(' ')
        ok = (len(words) == 1 and words[0] in _STATES) or (
            len(words) == 2 and words[0] == 'shutdown' and words[1].isdigit()
            and int(words[1]) <= 255)
        if not ok:
            raise ValueError('domain state %r: expected running, shutdown '
                             '[0..255], crashed, dying or gone' % state)
        self._send('%d %s' % (domid, state))

    def introduce_domain(self, domid, port, mfn=0):
        """xs_introduce_domain over the socket (port must be non-zero)."""
        xs_request(self.socket_path, XS_INTRODUCE, str(domid), str(mfn),
                   str(port))

    def is_domain_introduced(self, domid):
        reply = xs_request(self.socket_path, XS_IS_DOMAIN_INTRODUCED,
                           str(domid))
        return reply.rstrip(b'\0') == b'T'

    def kick(self, domid):
        """A guest's kick on its event channel ("evtchn <domid>")."""
        self._send('evtchn %d' % domid)


if __name__ == '__main__':
    with XsFixture() as fx:
        print(fx.socket_path)
