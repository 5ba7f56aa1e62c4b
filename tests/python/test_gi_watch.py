# test_gi_watch.py: contexts, watches and timeouts from Python.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Events are written by another process (the stock xenstore-write client on
# its own connection), and arrive as "changed" signals while a GLib.MainLoop
# runs, with either integration.

import subprocess
import time
import unittest

from xlevgi import GLib, Xlev, XlevTestCase, xs_cli, EVENT_TIMEOUT


class ContextTest(XlevTestCase):

    def test_properties(self):
        ctx = Xlev.Context.new(None, None)
        self.assertEqual(ctx.props.xenstore_path, self.fx.socket_path)
        self.assertEqual(ctx.get_xenstore_path(), self.fx.socket_path)
        self.assertEqual(ctx.props.integration, Xlev.Integration.SOURCE)
        self.assertEqual(ctx.get_main_context(),
                         GLib.MainContext.default())

    def test_new_full_hooks(self):
        ctx = self.context(Xlev.Integration.HOOKS)
        self.assertEqual(ctx.get_integration(), Xlev.Integration.HOOKS)

    def test_construct_with_gobject_new(self):
        ctx = Xlev.Context(integration=Xlev.Integration.HOOKS)
        # Plain GObject construction skips GInitable.init in PyGObject;
        # init() connects.
        ctx.init(None)
        self.assertEqual(ctx.props.xenstore_path, self.fx.socket_path)

    def test_version_constants(self):
        self.assertEqual(Xlev.MAJOR_VERSION, 1)
        self.assertIsInstance(Xlev.MINOR_VERSION, int)


class WatchTest(XlevTestCase):

    def watch_and_write(self, integration):
        ctx = self.context(integration)
        watch = ctx.watch('/py', Xlev.WatchFlags.NONE)
        self.assertEqual(watch.props.path, '/py')
        self.assertTrue(watch.props.active)
        self.assertIs(watch.props.context, ctx)
        seen = []
        watch.connect('changed', lambda w, path: seen.append(path))

        # The initial event comes first, on its own.
        self.run_until(lambda: '/py' in seen, 'the initial event')

        writer = subprocess.Popen(['xenstore-write', '/py/a', '1',
                                   '/py/b/c', '2'])
        self.addCleanup(writer.wait)
        self.run_until(lambda: {'/py/a', '/py/b/c'} <= set(seen),
                       'events written by xenstore-write')
        self.assertEqual(writer.wait(EVENT_TIMEOUT), 0)
        self.assertEqual(seen[0], '/py')
        return ctx, watch, seen

    def test_changed_from_other_process_source(self):
        self.watch_and_write(Xlev.Integration.SOURCE)

    def test_changed_from_other_process_hooks(self):
        self.watch_and_write(Xlev.Integration.HOOKS)

    def test_skip_initial(self):
        ctx = self.context()
        watch = ctx.watch('/py', Xlev.WatchFlags.SKIP_INITIAL)
        self.assertEqual(watch.get_flags(), Xlev.WatchFlags.SKIP_INITIAL)
        seen = []
        watch.connect('changed', lambda w, path: seen.append(path))
        xs_cli('xenstore-write', '/py/x', 'y')
        self.run_until(lambda: '/py/x' in seen, 'the event for /py/x')
        self.assertEqual(seen, ['/py/x'])

    def test_cancel_stops_events(self):
        ctx, watch, seen = self.watch_and_write(Xlev.Integration.SOURCE)
        notified = []
        watch.connect('notify::active', lambda *a: notified.append(True))
        watch.cancel()
        self.assertFalse(watch.get_active())
        self.assertEqual(notified, [True])
        watch.cancel()  # idempotent
        count = len(seen)
        xs_cli('xenstore-write', '/py/after', 'z')
        self.iterate(0.2)
        self.assertEqual(len(seen), count)

    def test_handler_cancels_its_watch(self):
        ctx = self.context()
        watch = ctx.watch('/py', Xlev.WatchFlags.SKIP_INITIAL)
        seen = []

        def on_changed(w, path):
            seen.append(path)
            w.cancel()

        watch.connect('changed', on_changed)
        xs_cli('xenstore-write', '/py/1', 'a', '/py/2', 'b')
        self.run_until(lambda: seen, 'the first event')
        self.iterate(0.2)
        self.assertEqual(len(seen), 1)

    def test_special_path(self):
        ctx = self.context()
        watch = ctx.watch('@releaseDomain', Xlev.WatchFlags.SKIP_INITIAL)
        seen = []
        watch.connect('changed', lambda w, path: seen.append(path))
        self.fx.introduce_domain(5, port=3)
        self.fx.set_domain(5, 'dying')
        self.run_until(lambda: '@releaseDomain' in seen, '@releaseDomain')

    def test_many_keys(self):
        ctx = self.context(Xlev.Integration.HOOKS)
        watch = ctx.watch('/many', Xlev.WatchFlags.SKIP_INITIAL)
        seen = set()
        watch.connect('changed', lambda w, path: seen.add(path))
        n = 200
        args = []
        for i in range(n):
            args += ['/many/k%d' % i, str(i)]
        writer = subprocess.Popen(['xenstore-write'] + args)
        self.addCleanup(writer.wait)
        self.run_until(lambda: len(seen) == n, '%d distinct events' % n)


class TimeoutTest(XlevTestCase):

    def test_fired(self):
        ctx = self.context()
        fired = []
        start = time.monotonic()
        t = ctx.timeout(50)
        self.assertTrue(t.get_pending())
        t.connect('fired', lambda t: fired.append(time.monotonic()))
        self.run_until(lambda: fired, 'the timeout')
        self.assertGreaterEqual(fired[0] - start, 0.045)
        self.assertFalse(t.get_pending())

    def test_reschedule_and_cancel(self):
        ctx = self.context(Xlev.Integration.HOOKS)
        fired = []
        t = ctx.timeout(10)
        t.connect('fired', lambda t: fired.append(True))
        t.cancel()
        self.iterate(0.1)
        self.assertEqual(fired, [])
        self.assertTrue(t.reschedule(10))
        self.run_until(lambda: fired, 'the rescheduled timeout')

    def test_timeout_at(self):
        ctx = self.context()
        fired = []
        when = GLib.DateTime.new_now_utc().add_seconds(0.05)
        t = ctx.timeout_at(when)
        t.connect('fired', lambda t: fired.append(True))
        self.run_until(lambda: fired, 'the wall-clock timeout')


class RateLimitTest(XlevTestCase):
    """The rate-limit property: per path, the first event at once, the
    ones inside the window merged into one emitted at its end."""

    LIMIT_MS = 300

    def burst(self, integration):
        ctx = self.context(integration)
        watch = ctx.watch('/rl', Xlev.WatchFlags.SKIP_INITIAL)
        self.assertEqual(watch.props.rate_limit, 0)
        notified = []
        watch.connect('notify::rate-limit',
                      lambda w, pspec: notified.append(w.props.rate_limit))
        watch.props.rate_limit = self.LIMIT_MS
        self.assertEqual(watch.get_rate_limit(), self.LIMIT_MS)
        self.assertEqual(notified, [self.LIMIT_MS])
        seen = []
        watch.connect('changed',
                      lambda w, path: seen.append((path, time.monotonic())))

        # writes to one path, each event delivered before the next write
        # (xenstored may merge events still queued for one path)
        for i in range(8):
            xs_cli('xenstore-write', '/rl/a', str(i))
            self.iterate(0.01)
        burst_end = time.monotonic()
        self.iterate(self.LIMIT_MS * 3 / 1000)

        times = [t for path, t in seen if path == '/rl/a']
        self.assertEqual({path for path, t in seen}, {'/rl/a'})
        self.assertGreaterEqual(len(times), 2)
        # at most one per window of the burst, the first and the last
        self.assertLessEqual(
            len(times), 2 + int((burst_end - times[0]) * 1000
                                // self.LIMIT_MS))
        self.assertGreaterEqual(times[-1], burst_end)
        self.assertGreaterEqual(times[-1] - times[0], self.LIMIT_MS / 1000)

        watch.set_rate_limit(0)
        self.assertEqual(notified, [self.LIMIT_MS, 0])
        del seen[:]
        xs_cli('xenstore-write', '/rl/a', 'x')
        self.run_until(lambda: len(seen) == 1, 'an event with no limit')
        xs_cli('xenstore-write', '/rl/a', 'y')
        self.run_until(lambda: len(seen) == 2, 'the next one, not merged')

    def test_rate_limit_source(self):
        self.burst(Xlev.Integration.SOURCE)

    def test_rate_limit_hooks(self):
        self.burst(Xlev.Integration.HOOKS)


if __name__ == '__main__':
    unittest.main(verbosity=2)
