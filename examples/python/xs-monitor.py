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

import argparse
import signal
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Xlev', '1.0')
from gi.repository import GLib, Xlev  # noqa: E402

DOMAINS = '/local/domain'  # the default path


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
        print('domains: %s' % (' '.join(map(str, present)) or '-'),
              flush=True)

    def check_hypervisor(self):
        # Without the hypervisor a monitor of all domains is made all the
        # same, and only reports introductions.  A monitor of domain 0
        # (always there) is not: it tells.
        try:
            self.ctx.monitor_domain(0).cancel()
        except GLib.Error as e:
            if not e.matches(Xlev.error_quark(), Xlev.Error.NO_HYPERVISOR):
                raise
            print('xs-monitor: %s: domains that go away are not reported'
                  % e.message, file=sys.stderr)

    def quit(self, status=0):
        self.status = max(self.status, status)
        for watch in self.watches:
            watch.cancel()
        self.domains.cancel()
        self.loop.quit()

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
        print('lost the connection to xenstored: %s' % message,
              file=sys.stderr)
        self.quit(1)


def main():
    parser = argparse.ArgumentParser(
        description='Print xenstore changes and domains coming and going.')
    parser.add_argument('--path', action='append', dest='paths',
                        metavar='PATH', help='xenstore path to watch '
                        '(repeatable; default: %s)' % DOMAINS)
    parser.add_argument('--events', type=int, default=0, metavar='N',
                        help='exit after N events')
    parser.add_argument('--timeout', type=float, default=0, metavar='S',
                        help='exit with status 2 after S seconds')
    args = parser.parse_args()

    try:
        monitor = Monitor(args.paths or [DOMAINS], args.events)
    except GLib.Error as e:
        print('xs-monitor: %s' % e.message, file=sys.stderr)
        return 1

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, monitor.quit)
    if args.timeout > 0:
        GLib.timeout_add(int(args.timeout * 1000), monitor.quit, 2)
    monitor.loop.run()
    return monitor.status


if __name__ == '__main__':
    sys.exit(main())
