#!/usr/bin/python3
# xs-monitor.py: print xenstore changes and domains coming and going.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
#   xs-monitor.py [--path PATH]... [--events N] [--timeout S]
#
# Watches each PATH (default: /local/domain) and prints one line per event
# with the value read back.  Keeps the list of domains with one
# Xlev.DomainMonitor of all domains: it starts from the domains xenstored
# knows (list_domains(), printed as "domains: ..."), then prints
# "domain N: added" when one is introduced and "domain N: removed" when
# one dies.  Telling a death needs the Xen hypervisor; without it (no Xen,
# or not allowed to ask it) a note on stderr says that removals are not
# reported.  Everything happens in one GLib main loop: the signals and the
# asynchronous reads, which never block the loop.  Uses the xenstored at
# $XENSTORED_PATH or the system's.  Ctrl-C stops it.
#
# Exit status, the convention of every example (see xlev-watch(1)):
#   0  done: --events events seen, --timeout expired with no --events, or
#      SIGINT / SIGTERM
#   1  failure: xenstored cannot be reached, or the connection was lost
#   2  bad usage (argparse)
#   3  --timeout expired before --events events

import argparse
import os
import signal
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Xlev', '1.0')
from gi.repository import GLib, Xlev  # noqa: E402

DOMAINS = '/local/domain'  # the default path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_TIMED_OUT = 3
# The program's name as called, as GLib's g_get_prgname() (less .py).
PROG = os.path.basename(sys.argv[0]).removesuffix('.py')


class Monitor:

    def __init__(self, paths, max_events):
        self.loop = GLib.MainLoop()
        self.status = 0
        self.events = 0
        self.max_events = max_events

        self.ctx = Xlev.Context.new(None, None)
        self.ctx.connect('disaster', self.on_disaster)
        # Keep the watches and the monitor: dropping one cancels it.
        self.watches = []
        for path in paths:
            watch = self.ctx.watch(path, Xlev.WatchFlags.SKIP_INITIAL)
            watch.connect('changed', self.on_changed)
            self.watches.append(watch)

        self.check_hypervisor()
        self.domains = self.ctx.monitor_all_domains()
        self.domains.connect('introduced', self.on_introduced)
        self.domains.connect('died', self.on_died)
        # The domains there now get no 'introduced'.  Asked before the
        # loop runs, the list and the signals agree.  (The watches and the
        # monitor are registered by now: a change from here on is seen.)
        present = self.domains.list_domains()
        # Stopped by SIGINT / SIGTERM from the first line on.
        for signum in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, self.quit)
        print('domains: %s' % (' '.join(map(str, present)) or '-'),
              flush=True)

    def check_hypervisor(self):
        # Without the hypervisor a monitor of all domains is made all the
        # same, and only reports introductions: say so.
        if not self.ctx.has_hypervisor():
            print('%s: Xen is not running: domains that go away are not '
                  'reported' % PROG, file=sys.stderr)

    def quit(self, status=EXIT_OK):
        self.status = max(self.status, status)
        for watch in self.watches:
            watch.cancel()
        self.domains.cancel()
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def timed_out(self, timeout):
        if self.max_events:
            print('%s: timed out after %g s with %d of %d events'
                  % (PROG, timeout, self.events, self.max_events),
                  file=sys.stderr)
            return self.quit(EXIT_TIMED_OUT)
        return self.quit(EXIT_OK)

    def counted(self):
        self.events += 1
        if self.max_events and self.events >= self.max_events:
            self.quit()

    # -- xenstore changes -------------------------------------------------

    def on_changed(self, watch, path):
        self.ctx.read_async(path, None, self.on_read, path)

    def on_read(self, ctx, result, path):
        try:
            value = ctx.read_finish(result)
            print('%s = "%s"' % (path, value), flush=True)
        except GLib.Error as e:
            if e.matches(Xlev.error_quark(), Xlev.Error.NOENT):
                print('%s removed' % path, flush=True)
            else:
                print('%s: %s' % (path, e.message), file=sys.stderr)
        self.counted()

    # -- domains ------------------------------------------------------------

    def on_introduced(self, monitor, domid):
        print('domain %d: added' % domid, flush=True)
        self.counted()

    def on_died(self, monitor, domid):
        print('domain %d: removed' % domid, flush=True)
        self.counted()

    def on_disaster(self, ctx, kind, message):
        print('%s: lost the connection to xenstored: %s' % (PROG, message),
              file=sys.stderr)
        self.quit(EXIT_FAILURE)


def main():
    parser = argparse.ArgumentParser(
        description='Print xenstore changes and domains coming and going.')
    parser.add_argument('--path', action='append', dest='paths',
                        metavar='PATH', help='xenstore path to watch '
                        '(repeatable; default: %s)' % DOMAINS)
    parser.add_argument('--events', type=int, default=0, metavar='N',
                        help='exit after N events')
    parser.add_argument('--timeout', type=float, default=0, metavar='S',
                        help='exit after S seconds (decimals allowed): with '
                        'status 0, or 3 if --events were asked for and not '
                        'all came')
    args = parser.parse_args()
    if args.events < 0 or not args.timeout >= 0:
        parser.error('--events and --timeout must not be negative')

    try:
        monitor = Monitor(args.paths or [DOMAINS], args.events)
    except GLib.Error as e:
        print('%s: %s' % (PROG, e.message), file=sys.stderr)
        return EXIT_FAILURE

    if args.timeout > 0:
        GLib.timeout_add(int(args.timeout * 1000 + 0.5), monitor.timed_out,
                         args.timeout)
    monitor.loop.run()
    return monitor.status


if __name__ == '__main__':
    sys.exit(main())
