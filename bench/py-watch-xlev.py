#!/usr/bin/python3
# py-watch-xlev.py: watch a subtree through Xlev (PyGObject) until every
# key a writer process writes has been seen.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
#   py-watch-xlev.py PREFIX N [--integration source|hooks]
#                             [--handler python|none]
#
# Watches PREFIX (xenstored at $XENSTORED_PATH), prints "ready" once the
# watch is registered, then runs a GLib.MainLoop until events for PREFIX/k0
# .. PREFIX/k(N-1) have all arrived, and prints one JSON object: events
# received, the CLOCK_MONOTONIC times of the first event and of the last key
# (first_t, last_t) and the burst rate between them, and this process's CPU
# time (all threads: user + system) from "ready" to the end.
#
# --handler none connects no handler to the subtree's watch: the program
# waits for PREFIX-done, which the writer writes after the last key, on a
# second watch. It measures what the events cost when nobody listens.
# Part of bench/py-watch-compare.py.

import json
import resource
import sys
import time

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Xlev', '1.0')
from gi.repository import GLib, Xlev  # noqa: E402


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    prefix, n = sys.argv[1], int(sys.argv[2])
    integration = Xlev.Integration.SOURCE
    handler = 'python'
    args = sys.argv[3:]
    while args:
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == '--integration':
            integration = {'source': Xlev.Integration.SOURCE,
                           'hooks': Xlev.Integration.HOOKS}[val]
        elif opt == '--handler':
            handler = val
    loop = GLib.MainLoop()
    ctx = Xlev.Context.new_full(None, integration, None, None)
    watch = ctx.watch(prefix, Xlev.WatchFlags.SKIP_INITIAL)
    state = {'events': 0, 'first': None, 'last': None}
    seen = set()
    lead = len(prefix) + 2  # PREFIX + "/k"

    def on_changed(w, path):
        now = time.monotonic()
        if state['first'] is None:
            state['first'] = now
        state['events'] += 1
        if path[lead - 2:lead] == '/k':
            seen.add(path)
            if len(seen) == n:
                state['last'] = now
                loop.quit()

    def on_done(w, path):
        state['last'] = time.monotonic()
        loop.quit()

    if handler == 'python':
        watch.connect('changed', on_changed)
    else:
        done = ctx.watch(prefix + '-done', Xlev.WatchFlags.SKIP_INITIAL)
        done.connect('changed', on_done)

    cpu0 = cpu_s()
    t0 = time.monotonic()
    print('ready', flush=True)
    loop.run()
    cpu = cpu_s() - cpu0
    first = state['first'] if state['first'] is not None else t0
    wall = state['last'] - first
    events = state['events'] if handler == 'python' else n
    print(json.dumps({
        'first_t': first,
        'last_t': state['last'],
        'impl': 'xlev-%s%s' % (
            'source' if integration == Xlev.Integration.SOURCE else 'hooks',
            '' if handler == 'python' else '-nohandler'),
        'keys': n,
        'events': events,
        'wall_s': round(wall, 6),
        'cpu_s': round(cpu, 6),
        'events_per_s': round(n / wall, 1) if wall > 0 else None,
        'cpu_us_per_event': round(cpu / max(events, 1) * 1e6, 3),
    }), flush=True)
    watch.cancel()


if __name__ == '__main__':
    main()
