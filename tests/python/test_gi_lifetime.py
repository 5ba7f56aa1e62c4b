# test_gi_lifetime.py: objects Python drops are freed, and their xenstore
# watches go away in xenstored too.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Two witnesses that a watch is gone, neither of them our own library:
#  - xenstored's accounting: `xenstore-control quota 0` reports the memory
#    charged to domain 0, and each registered watch is charged its path and
#    token; it drops back when the watch is removed;
#  - xenstored's trace log (`xenstore-control log on`), which records a
#    "CREATE watch" and a "DESTROY watch" line for each.
# oxenstored has neither (it acknowledges `log` and ignores it, and its quota
# counts nodes, not memory): there the witness is the list of watches it
# holds (`xenstore-control watches`), one branch in assert_watches() and
# `charges_memory` (tests/DAEMONS.md).
# And from the outside: a write after the drop emits nothing.

import gc
import time
import os
import unittest

from xlevgi import GLib, Xlev, XlevTestCase, xs_cli
from xsfixture import OXENSTORED

# Long paths make each watch's share of the accounting unmistakable.
LONG = 'x' * 200


class Finalized:
    """Whether a GObject (not just its Python wrapper, which PyGObject may
    drop and make again) has been finalized."""

    def __init__(self, obj):
        self.done = False
        self._ref = obj.weak_ref(self._notify)

    def _notify(self):
        self.done = True

    def __call__(self):
        return self.done


class LifetimeTest(XlevTestCase):

    def setUp(self):
        super().setUp()
        # The C daemon's witnesses: its trace log and its memory accounting.
        self.charges_memory = self.fx.daemon != OXENSTORED
        self.trace = None
        if self.fx.daemon != OXENSTORED:
            self.trace = os.path.join(self.fx.rundir, 'trace')
            self.control('logfile', self.trace)
            self.control('log', 'on')

    def assert_watches(self, created, destroyed):
        """The daemon has seen `created` watches registered and `destroyed`
        of them removed: both counted in the C daemon's trace log; oxenstored
        lists the watches it holds, which must be the difference. Dropping a
        watch never waits for the daemon (the unwatch is sent, not waited
        for), so the daemon may take a moment: wait for it, boundedly."""
        deadline = time.monotonic() + 5
        while True:
            if self.trace is not None:
                seen = self.watches_in_trace()
                want = (created, destroyed)
            else:
                seen = len([line for line in
                            self.control('watches').splitlines()
                            if line.startswith('watch ')])
                want = created - destroyed
            if seen == want or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        self.assertEqual(seen, want)

    def watches_in_trace(self):
        created = destroyed = 0
        with open(self.trace, errors='replace') as f:
            for line in f:
                if line.startswith('CREATE watch'):
                    created += 1
                elif line.startswith('DESTROY watch'):
                    destroyed += 1
        return created, destroyed

    def test_dropped_watches_leave_xenstored(self):
        baseline = self.dom0_memory() if self.charges_memory else None
        ctx = self.context()
        watches = [ctx.watch('/drop/%d/%s' % (i, LONG),
                             Xlev.WatchFlags.NONE) for i in range(10)]
        if self.charges_memory:
            with_watches = self.dom0_memory()
            self.assertGreater(with_watches, baseline + 10 * len(LONG))
        self.assert_watches(10, 0)

        finalized = [Finalized(w) for w in watches]
        del watches
        gc.collect()
        self.assertTrue(all(f() for f in finalized))
        self.assert_watches(10, 10)
        finalized = Finalized(ctx)
        del ctx
        gc.collect()
        self.assertTrue(finalized())
        if self.charges_memory:
            self.assertEqual(self.dom0_memory(), baseline)

    def test_dropped_watch_emits_nothing(self):
        ctx = self.context()
        seen = []
        watch = ctx.watch('/drop', Xlev.WatchFlags.SKIP_INITIAL)
        watch.connect('changed', lambda w, p: seen.append(p))
        xs_cli('xenstore-write', '/drop/1', 'a')
        self.run_until(lambda: seen, 'the event before the drop')
        self.assert_watches(1, 0)
        finalized = Finalized(watch)
        del watch
        gc.collect()
        self.assertTrue(finalized())
        xs_cli('xenstore-write', '/drop/2', 'b')
        self.iterate(0.2)
        self.assertEqual(seen, ['/drop/1'])
        self.assert_watches(1, 1)

    def test_watch_keeps_context_alive(self):
        # The application may drop the context and keep the watch.
        seen = []
        ctx = self.context(Xlev.Integration.HOOKS)
        ctx_finalized = Finalized(ctx)
        watch = ctx.watch('/keep', Xlev.WatchFlags.SKIP_INITIAL)
        del ctx
        gc.collect()
        self.assertFalse(ctx_finalized())
        watch.connect('changed', lambda w, p: seen.append(p))
        xs_cli('xenstore-write', '/keep/a', '1')
        self.run_until(lambda: seen, 'an event with the context dropped')
        self.assert_watches(1, 0)
        del watch
        gc.collect()
        self.assertTrue(ctx_finalized())
        self.assert_watches(1, 1)

    def test_handler_closure_does_not_leak(self):
        # A handler that refers to its own watch makes a cycle through the
        # closure; the watch still goes once Python drops it.
        ctx = self.context()
        watch = ctx.watch('/cycle/' + LONG, Xlev.WatchFlags.NONE)
        watch.connect('changed', lambda w, p, me=watch: me.get_path())
        self.assert_watches(1, 0)
        finalized = Finalized(watch)
        del watch
        gc.collect()
        self.assertTrue(finalized())
        self.assert_watches(1, 1)

    def test_timeout_dropped_does_not_fire(self):
        ctx = self.context()
        fired = []
        t = ctx.timeout(20)
        t.connect('fired', lambda t: fired.append(True))
        finalized = Finalized(t)
        del t
        gc.collect()
        self.assertTrue(finalized())
        self.iterate(0.1)
        self.assertEqual(fired, [])

    def test_many_contexts(self):
        # Each context is a connection to xenstored; dropping it closes it.
        baseline = self.dom0_memory() if self.charges_memory else None
        for _ in range(20):
            ctx = self.context()
            ctx.watch('/many/' + LONG, Xlev.WatchFlags.NONE)
            finalized = Finalized(ctx)
            del ctx
            gc.collect()
            self.assertTrue(finalized())
        self.assert_watches(20, 20)
        if self.charges_memory:
            self.assertEqual(self.dom0_memory(), baseline)


if __name__ == '__main__':
    unittest.main(verbosity=2)
