#!/usr/bin/python3
# py-watch-compare.py: Xlev (PyGObject) against pyxs, the same watcher
# program, alternating on one private xenstored.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
#   py-watch-compare.py --build BUILDDIR [--keys N] [--reps R] [--emission]
#
# Starts one private xenstored (tests/python/xsfixture.py). For each of R
# repetitions, and for each watcher in an order that alternates between
# repetitions (py-watch-pyxs.py; py-watch-xlev.py with a Python handler in
# both integrations; py-watch-xlev.py with no handler on the subtree), it
# starts the watcher on a fresh subtree, waits for its "ready", then starts
# one writer process (the stock xenstore-write, one connection, N distinct
# keys PREFIX/k0 .. k(N-1) and then PREFIX-done) and collects the watcher's
# JSON line. Every line printed is one JSON object; a Markdown table of
# medians follows on stderr. Two rates: from the writer's start to the last
# key seen (what a user waits for; bound by the writer and xenstored), and
# from the first event to the last (how fast the watcher drains a burst:
# xenstored sends the events of a fast writer in bursts).
#
# --emission also times the "changed" signal alone, in this process, on an
# XlevWatch that no xenstored backs: Watch.emit() with no handler, with a
# C handler, and with a Python handler.

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
WATCHERS = [
    ('pyxs', ['py-watch-pyxs.py']),
    ('xlev-source', ['py-watch-xlev.py', '--integration', 'source']),
    ('xlev-hooks', ['py-watch-xlev.py', '--integration', 'hooks']),
    ('xlev-source-nohandler', ['py-watch-xlev.py', '--integration', 'source',
                               '--handler', 'none']),
]


def setup_env(build):
    build = os.path.abspath(build)
    os.environ['XLEV_TEST_XENSTORED'] = os.environ.get(
        'XLEV_TEST_XENSTORED', '/usr/lib/xen-4.17/bin/xenstored')
    os.environ['XLEV_TEST_FAKEXEN'] = os.path.join(
        build, 'tests', 'fakexen', 'libfakexen.so')
    for name, path in (('GI_TYPELIB_PATH', 'introspection'),
                       ('LD_LIBRARY_PATH', 'libxlev-glib')):
        old = os.environ.get(name)
        new = os.path.join(build, path)
        os.environ[name] = new + (':' + old if old else '')
    sys.path.insert(0, os.path.join(SRC, 'tests', 'python'))


def run_one(name, argv, prefix, keys):
    script, args = argv[0], argv[1:]
    watcher = subprocess.Popen(
        [sys.executable, os.path.join(HERE, script), prefix, str(keys)]
        + args, stdout=subprocess.PIPE, text=True)
    line = watcher.stdout.readline()
    if line != 'ready\n':
        watcher.kill()
        raise RuntimeError('%s did not get ready: %r' % (name, line))
    wargs = []
    for i in range(keys):
        wargs += ['%s/k%d' % (prefix, i), str(i)]
    wargs += [prefix + '-done', '1']
    t0 = time.monotonic()
    subprocess.run(['xenstore-write'] + wargs, check=True)
    writer_s = time.monotonic() - t0
    out, _ = watcher.communicate(timeout=600)
    if watcher.returncode != 0:
        raise RuntimeError('%s exited with %d' % (name, watcher.returncode))
    result = json.loads(out)
    result['impl'] = name
    result['writer_s'] = round(writer_s, 6)
    # From the writer's start to the last key seen: what a user waits.
    # (time.monotonic() is CLOCK_MONOTONIC in every process.)
    result['end_to_end_s'] = round(result['last_t'] - t0, 6)
    result['end_to_end_events_per_s'] = round(
        keys / result['end_to_end_s'], 1)
    return result


def emission(rounds):
    import gi
    gi.require_version('Xlev', '1.0')
    from gi.repository import Xlev

    gobject = ctypes.CDLL('libgobject-2.0.so.0')
    gobject.g_signal_connect_data.restype = ctypes.c_ulong
    gobject.g_signal_connect_data.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
        ctypes.c_void_p, ctypes.c_int]
    capsule = ctypes.pythonapi.PyCapsule_GetPointer
    capsule.restype = ctypes.c_void_p
    capsule.argtypes = [ctypes.py_object, ctypes.c_char_p]
    # A C handler that does (almost) nothing: g_main_depth() ignores the
    # handler's arguments and reads one thread-local int.
    noop = ctypes.cast(ctypes.CDLL('libglib-2.0.so.0').g_main_depth,
                       ctypes.c_void_p)

    def timed(watch):
        emit = watch.emit
        t0 = time.process_time()
        for _ in range(rounds):
            emit('changed', '/bench/k')
        return (time.process_time() - t0) / rounds * 1e9

    results = {}
    w = Xlev.Watch()
    results['no_handler'] = timed(w)
    w = Xlev.Watch()
    gobject.g_signal_connect_data(capsule(w.__gpointer__, None), b'changed',
                                  noop, None, None, 0)
    results['c_handler'] = timed(w)
    w = Xlev.Watch()
    w.connect('changed', lambda watch, path: None)
    results['python_handler'] = timed(w)
    return {'bench': 'emission', 'rounds': rounds,
            'ns_per_emit': {k: round(v, 1) for k, v in results.items()}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--build', required=True)
    parser.add_argument('--keys', type=int, default=5000)
    parser.add_argument('--reps', type=int, default=4)
    parser.add_argument('--emission', action='store_true')
    parser.add_argument('--emission-only', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emission_only:
        print(json.dumps(emission(200000)), flush=True)
        return
    setup_env(args.build)
    from xsfixture import XsFixture

    results = {name: [] for name, _ in WATCHERS}
    with XsFixture():
        for rep in range(args.reps):
            order = WATCHERS if rep % 2 == 0 else WATCHERS[::-1]
            for name, argv in order:
                r = run_one(name, argv, '/bench/r%d-%s' % (rep, name),
                            args.keys)
                r['rep'] = rep
                print(json.dumps(r), flush=True)
                results[name].append(r)
    if args.emission:
        # In a child: LD_LIBRARY_PATH only counts when a process starts.
        subprocess.run([sys.executable, os.path.abspath(__file__),
                        '--build', args.build, '--emission-only'],
                       check=True)

    med = statistics.median
    print('| watcher | events/s, writer start to last key | events/s, '
          'first to last event | CPU µs/event | events received |',
          file=sys.stderr)
    print('|---|---:|---:|---:|---:|', file=sys.stderr)
    for name, _ in WATCHERS:
        rs = results[name]
        burst = [r['events_per_s'] for r in rs if r['events_per_s']]
        print('| %s | %.0f | %s | %.2f | %.0f |' % (
            name, med(r['end_to_end_events_per_s'] for r in rs),
            '%.0f' % med(burst) if not name.endswith('nohandler') else '-',
            med(r['cpu_us_per_event'] for r in rs),
            med(r['events'] for r in rs)), file=sys.stderr)


if __name__ == '__main__':
    main()
