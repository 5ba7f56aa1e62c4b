#!/usr/bin/python3
# py-watch-pyxs.py: watch a subtree through pyxs (the pure-Python xenstore
# client) until every key a writer process writes has been seen.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
#   py-watch-pyxs.py PREFIX N
#
# The twin of py-watch-xlev.py, written the way pyxs documents it: a
# Monitor on a Client and a loop over Monitor.wait(), which blocks.  Same
# output: "ready", then one JSON object.  Part of bench/py-watch-compare.py.

import json
import os
import resource
import sys
import time

from pyxs import Client


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    prefix, n = sys.argv[1], int(sys.argv[2])
    bprefix = prefix.encode()
    lead = len(bprefix) + 2
    events = 0
    first = last = None
    seen = set()
    with Client(unix_socket_path=os.environ['XENSTORED_PATH']) as c:
        with c.monitor() as m:
            m.watch(bprefix, b'bench')
            # The watch's initial event: wait for it, so that "ready"
            # means the same as for Xlev (which skips it).
            next(m.wait())
            cpu0 = cpu_s()
            print('ready', flush=True)
            for path, token in m.wait():
                now = time.monotonic()
                if first is None:
                    first = now
                events += 1
                if path[lead - 2:lead] == b'/k':
                    seen.add(path)
                    if len(seen) == n:
                        last = now
                        break
            cpu = cpu_s() - cpu0
    wall = last - first
    print(json.dumps({
        'first_t': first,
        'last_t': last,
        'impl': 'pyxs',
        'keys': n,
        'events': events,
        'wall_s': round(wall, 6),
        'cpu_s': round(cpu, 6),
        'events_per_s': round(n / wall, 1) if wall > 0 else None,
        'cpu_us_per_event': round(cpu / max(events, 1) * 1e6, 3),
    }), flush=True)


if __name__ == '__main__':
    main()
