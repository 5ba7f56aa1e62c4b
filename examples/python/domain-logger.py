#!/usr/bin/python3
# domain-logger.py: a GLib service that logs every domain lifecycle event.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Run it as a systemd service (xlev-domain-logger.service, installed with
# the examples) or by hand:
#
#     /usr/bin/python3 domain-logger.py [--socket PATH]
#
# Under systemd (JOURNAL_STREAM names our stdout or stderr) each event goes
# to the journal as one entry with structured fields, written to journald's
# socket in its native protocol (no library needed): MESSAGE (the line
# below without the timestamp), XLEV_EVENT, one XLEV_<KEY> per field
# (XLEV_DOMID, XLEV_REASON, ...), PRIORITY, SYSLOG_IDENTIFIER, so
#
#     journalctl -u xlev-domain-logger XLEV_EVENT=domain-shutdown -o json
#
# selects them without parsing text. Otherwise every line is one event as
# `key=value` fields on stdout, values quoted when they need it, so grep or
# a log shipper can take them apart:
#
#     ts=2026-11-25T20:31:02.118Z event=following domids=0,3
#     ts=2026-11-25T20:31:02.120Z event=connected attempt=1 socket=default
#     ts=2026-11-25T20:31:02.121Z event=domains domids=0,3
#     ts=2026-11-25T20:31:09.004Z event=domain-shutdown domid=3 reason=poweroff
#     ts=2026-11-25T20:31:09.010Z event=domain-died domid=3
#
# What it shows:
#  - an Xlev.Context in a plain GLib.MainLoop, watches as signals;
#  - domain events from the library's domain monitor: one monitor of all
#    domains (ctx.monitor_all_domains) follows the domains xenstored knows
#    when it is made (monitor.list_domains(), logged as `following`) and
#    those introduced later (`domain-introduced`), and reports the
#    shutdown and death of each, once;
#  - telling whether the hypervisor can be asked: ctx.has_hypervisor(). (A
#    monitor of all domains is made all the same without it, and then only
#    reports introductions.) Without a hypervisor it logs `no-hypervisor`
#    once per connection and then what xenstore alone says: the bare
#    @introduceDomain/@releaseDomain events, without domids;
#  - either way, /local/domain entries appearing and vanishing, logged as
#    xenstore shows them;
#  - surviving xenstored restarting: on the context's `disaster` signal
#    (the library notices a dead daemon within about a second, even when
#    nothing happens meanwhile; nothing to poll) or a read failing with
#    XENSTORE, it logs, drops the context with everything made from it, and
#    creates a new one with exponential backoff until the daemon answers
#    again; then it reads the domain list afresh and logs what changed
#    while it was away;
#  - a clean exit on SIGTERM and SIGINT (GLib.unix_signal_add), status 0,
#    even when stdout is closed (a reader that went away): the log line is
#    lost, the exit is not.

import argparse
import datetime
import os
import re
import signal
import socket
import struct
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Xlev', '1.0')
from gi.repository import GLib, Xlev  # noqa: E402

# Backoff between reconnection attempts: doubles from FIRST to MAX seconds.
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 10.0

DOMAIN_DIR = '/local/domain'

_SAFE_VALUE = re.compile(r'^[A-Za-z0-9_.,:/@+-]*$')
_DOMAIN_PATH = re.compile(r'^/local/domain/([0-9]+)(/|$)')


# journald's socket for native-protocol entries (systemd.journal-fields(7));
# XLEV_JOURNAL_SOCKET names another (the tests' own).
JOURNAL_SOCKET = '/run/systemd/journal/socket'
SYSLOG_IDENTIFIER = 'xlev-domain-logger'
# syslog priorities: the events are informational, failures warnings.
PRIORITY_INFO = 6
PRIORITY_WARNING = 4
WARNING_EVENTS = ('error', 'disaster', 'connection-lost', 'connect-failed')


def _journal_stream_is_ours():
    """Whether systemd connected our stdout or stderr to the journal:
    JOURNAL_STREAM is "DEVICE:INODE" of that stream (systemd.exec(5)); a
    redirected stdout no longer matches."""
    try:
        dev, ino = (int(x) for x in
                    os.environ.get('JOURNAL_STREAM', '').split(':'))
    except ValueError:
        return False
    for fd in (1, 2):
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (dev, ino):
            return True
    return False


class Journal:
    """Entries to journald through its native protocol: one datagram of
    FIELD=value lines; a value with a newline as FIELD, a 64-bit
    little-endian length, the value."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    @staticmethod
    def _field(name, value):
        data = str(value).encode('utf-8', 'replace')
        if b'\n' in data:
            return (name.encode() + b'\n' + struct.pack('<Q', len(data))
                    + data + b'\n')
        return name.encode() + b'=' + data + b'\n'

    def send(self, message, event, fields):
        priority = (PRIORITY_WARNING if event in WARNING_EVENTS
                    else PRIORITY_INFO)
        entry = [self._field('MESSAGE', message),
                 self._field('PRIORITY', priority),
                 self._field('SYSLOG_IDENTIFIER', SYSLOG_IDENTIFIER),
                 self._field('XLEV_EVENT', event)]
        for key, value in fields.items():
            name = 'XLEV_' + re.sub(r'[^A-Z0-9_]', '_', key.upper())
            entry.append(self._field(name, value))
        self.sock.sendto(b''.join(entry), self.path)


def _open_journal():
    if not _journal_stream_is_ours():
        return None
    return Journal(os.environ.get('XLEV_JOURNAL_SOCKET') or JOURNAL_SOCKET)


_journal = _open_journal()
_stdout_gone = False


def _print_line(line):
    """Prints a line; once stdout is gone (EPIPE: the reader went away),
    drops this and every later line rather than fail the caller."""
    global _stdout_gone
    if _stdout_gone:
        return
    try:
        print(line, flush=True)
    except OSError:
        _stdout_gone = True
        # Nothing left to flush at exit either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _format_fields(event, fields):
    parts = ['event=' + event]
    for key, value in fields.items():
        value = str(value)
        if not _SAFE_VALUE.match(value) or value == '':
            value = '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"') \
                                  .replace('\n', '\\n')
        parts.append('%s=%s' % (key, value))
    return ' '.join(parts)


def log(event, **fields):
    """Logs one event: a journal entry with structured fields under
    systemd, else a `ts=... event=... key=value` line on stdout (values
    quoted when they have other characters)."""
    global _journal
    text = _format_fields(event, fields)
    if _journal is not None:
        try:
            _journal.send(text, event, fields)
            return
        except OSError:
            # journald gone: plain lines from now on.
            _journal = None
    now = datetime.datetime.now(datetime.timezone.utc)
    _print_line('ts=' + now.strftime('%Y-%m-%dT%H:%M:%S.')
                + '%03dZ ' % (now.microsecond // 1000) + text)


def is_connection_error(error):
    return error.matches(Xlev.error_quark(), Xlev.Error.XENSTORE) or \
        error.matches(Xlev.error_quark(), Xlev.Error.BROKEN)


class Connection:
    """One Xlev.Context and everything made from it. Dropped as a whole
    when the daemon goes away; `lost` is called once, from the main loop."""

    def __init__(self, socket, on_lost, on_domains):
        self.on_lost = on_lost
        self.on_domains = on_domains
        self.closed = False
        self.objects = []  # watches and monitors: they go with the context
        self.known = set()  # domids under /local/domain, as last listed
        # Raises GLib.Error when xenstored does not answer.
        self.ctx = Xlev.Context.new(socket, None)
        self.ctx.connect('disaster', self._on_disaster)

    def start(self):
        if self._hypervisor_available():
            monitor = self._monitor(self.ctx.monitor_all_domains())
            # The domains it follows from the start: they get no
            # `introduced`, only their shutdown and death.
            domids = monitor.list_domains()
            log('following', domids=','.join(map(str, domids)) or '-')
        else:
            for special in ('@introduceDomain', '@releaseDomain'):
                self._watch(special, self._on_special,
                            Xlev.WatchFlags.SKIP_INITIAL)
        self._watch(DOMAIN_DIR, self._on_domain_dir_changed)

    def _hypervisor_available(self):
        """Whether shutdown and death can be told: the library asks the
        hypervisor (Xlev.Context.has_hypervisor)."""
        if self.ctx.has_hypervisor():
            return True
        # What follows: xenstore-introduceDomain and xenstore-releaseDomain
        # lines, with no domid.
        log('no-hypervisor', message='Xen is not running',
            fallback='xenstore-events')
        return False

    def close(self):
        self.closed = True
        for obj in self.objects:
            obj.cancel()
        self.objects = []
        self.ctx = None

    # -- what we watch --------------------------------------------------------

    def _watch(self, path, callback, flags=Xlev.WatchFlags.NONE):
        watch = self.ctx.watch(path, flags)
        watch.connect('changed', callback)
        self.objects.append(watch)

    def _monitor(self, monitor):
        # introduced, shutdown with the reason, died; the domid is each
        # signal's first argument.
        monitor.connect('introduced', self._on_introduced)
        monitor.connect('shutdown', self._on_shutdown)
        monitor.connect('died', self._on_died)
        self.objects.append(monitor)
        return monitor

    def _on_introduced(self, monitor, domid):
        log('domain-introduced', domid=domid)

    def _on_shutdown(self, monitor, domid, reason):
        # A guest may give a code with no name: PyGObject passes an int.
        nick = getattr(reason, 'value_nick', None) or str(int(reason))
        log('domain-shutdown', domid=domid, reason=nick)

    def _on_died(self, monitor, domid):
        log('domain-died', domid=domid)

    def _on_special(self, watch, path):
        log('xenstore-' + path.lstrip('@'))

    def _on_domain_dir_changed(self, watch, path):
        # /local/domain itself, a domain's directory (made or removed), or
        # anything below a domain we do not know yet: list the domains
        # again. Writes below known domains (the busy case) cost nothing.
        m = _DOMAIN_PATH.match(path)
        if m is None or m.group(2) == '' or int(m.group(1)) not in self.known:
            # Reads go through the async API: the main loop never waits.
            self.ctx.directory_async(DOMAIN_DIR, None, self._on_directory)

    def _on_directory(self, ctx, result):
        if self.closed:
            return
        try:
            names = ctx.directory_finish(result)
        except GLib.Error as e:
            if e.matches(Xlev.error_quark(), Xlev.Error.NOENT):
                names = []
            else:
                self._failed(e)
                return
        domids = sorted(int(n) for n in names if n.isdigit())
        self.known = set(domids)
        self.on_domains(domids)

    # -- noticing that the daemon went ----------------------------------------

    def _failed(self, error):
        if self.closed or not is_connection_error(error):
            log('error', message=error.message)
            return
        self.close()
        self.on_lost(error.message)

    def _on_disaster(self, ctx, kind, message):
        if self.closed:
            return
        log('disaster', kind=kind.value_nick, message=message)
        self.close()
        self.on_lost(message)


class DomainLogger:

    def __init__(self, loop, socket):
        self.loop = loop
        self.socket = socket
        self.conn = None
        self.domains = None  # last list seen, None before the first
        self.backoff = BACKOFF_FIRST
        self.attempt = 0
        self.retry_id = 0

    def connect(self):
        self.retry_id = 0
        self.attempt += 1
        try:
            self.conn = Connection(self.socket, self._lost,
                                   self._domains_listed)
            self.conn.start()
        except GLib.Error as e:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            log('connect-failed', attempt=self.attempt,
                retry_in='%.2f' % self.backoff, message=e.message)
            self.retry_id = GLib.timeout_add(int(self.backoff * 1000),
                                             self.connect)
            self.backoff = min(self.backoff * 2, BACKOFF_MAX)
            return GLib.SOURCE_REMOVE
        log('connected', attempt=self.attempt,
            socket=self.socket or 'default')
        self.attempt = 0
        self.backoff = BACKOFF_FIRST
        return GLib.SOURCE_REMOVE

    def _lost(self, message):
        log('connection-lost', message=message)
        self.conn = None
        self.retry_id = GLib.timeout_add(int(self.backoff * 1000),
                                         self.connect)

    def _domains_listed(self, domids):
        if self.domains is None:
            log('domains', domids=','.join(map(str, domids)) or '-')
        else:
            for domid in sorted(set(domids) - set(self.domains)):
                log('domain-appeared', domid=domid)
            for domid in sorted(set(self.domains) - set(domids)):
                log('domain-vanished', domid=domid)
        self.domains = domids

    def stop(self, signame):
        # Whatever happens to the last line or the teardown, the loop quits.
        try:
            log('stopping', signal=signame)
            if self.retry_id:
                GLib.source_remove(self.retry_id)
                self.retry_id = 0
            if self.conn is not None:
                self.conn.close()
                self.conn = None
        finally:
            self.loop.quit()
        return GLib.SOURCE_REMOVE


def main():
    parser = argparse.ArgumentParser(
        description='Log every Xen domain lifecycle event: to the journal '
                    'with structured fields under systemd, else as '
                    'key=value lines.')
    parser.add_argument('--socket', default=None,
                        help="xenstored's socket (default: $XENSTORED_PATH "
                             "or the system's)")
    args = parser.parse_args()

    loop = GLib.MainLoop()
    logger = DomainLogger(loop, args.socket)
    for signum, name in ((signal.SIGTERM, 'TERM'), (signal.SIGINT, 'INT')):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, logger.stop, name)
    log('starting', pid=os.getpid())
    logger.connect()
    loop.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
