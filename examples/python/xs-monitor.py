#!/usr/bin/python3
# xs-monitor.py: print xenstore changes and domains coming and going.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
#   xs-monitor.py [--path PATH]... [--events N] [--timeout S]
#
# Watches each PATH (default: /local/domain) and prints one line per event
# with the value read back, and keeps the list of domains up to date from
# @introduceDomain / @releaseDomain, printing "domain N: added" or
# "domain N: removed" as it changes.  Everything happens in one GLib main
# loop: the watches' "changed" signals and the asynchronous reads, which
# never block the loop.  Uses the xenstored at $XENSTORED_PATH or the
# system's.  Ctrl-C stops it.

import argparse
import signal
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Xlev', '1.0')
from gi.repository import GLib, Xlev  # noqa: E402

DOMAINS = '/local/domain'


class Monitor:

    def __init__(self, paths, max_events):
        self.loop = GLib.MainLoop()
        self.status = 0
        self.events = 0
        self.max_events = max_events
        self.domains = None  # set of domids, once first listed

        self.ctx = Xlev.Context.new(None, None)
        self.ctx.connect('disaster', self.on_disaster)
        # Keep the watches: dropping one unregisters it.
        self.watches = []
        for path in paths:
            watch = self.ctx.watch(path, Xlev.WatchFlags.SKIP_INITIAL)
            watch.connect('changed', self.on_changed)
            self.watches.append(watch)
        for special in ('@introduceDomain', '@releaseDomain'):
            # The initial event lists the domains there are at start.
            watch = self.ctx.watch(special, Xlev.WatchFlags.NONE)
            watch.connect('changed', self.on_domains_changed)
            self.watches.append(watch)

    def quit(self, status=0):
        self.status = max(self.status, status)
        for watch in self.watches:
            watch.cancel()
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

    def on_domains_changed(self, watch, path):
        self.ctx.directory_async(DOMAINS, None, self.on_listed)

    def on_listed(self, ctx, result):
        try:
            now = {int(d) for d in ctx.directory_finish(result)
                   if d.isdigit()}
        except GLib.Error as e:
            if not e.matches(Xlev.error_quark(), Xlev.Error.NOENT):
                print('%s: %s' % (DOMAINS, e.message), file=sys.stderr)
                return
            now = set()
        if self.domains is None:
            print('domains: %s' % (' '.join(map(str, sorted(now))) or '-'),
                  flush=True)
        else:
            for domid in sorted(now - self.domains):
                print('domain %d: added' % domid, flush=True)
                self.counted()
            for domid in sorted(self.domains - now):
                print('domain %d: removed' % domid, flush=True)
                self.counted()
        self.domains = now

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
