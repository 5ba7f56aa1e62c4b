# test_domain.py: Xlev.DomainMonitor in a GLib.MainLoop, from Python.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Shutdown and death need libxenctrl answering inside this process, so the
# module re-executes the interpreter with the hypervisor stand-in
# (XLEV_TEST_FAKEXEN) in LD_PRELOAD when it is not there yet; the fixture
# points it at the daemon's domain table (XLEV_FAKEXEN_DIR).

import gc

from xsfixture import (hypervisor_stand_in_preloaded,  # noqa: E402
                       reexec_with_hypervisor_stand_in)

reexec_with_hypervisor_stand_in('XLEV_TEST_DOMAIN_PY_REEXEC')

import unittest  # noqa: E402

from xlevgi import GLib, Xlev, XlevTestCase, xs_cli  # noqa: E402

PORT = 5
QUIET = 0.2

needs_hypervisor = unittest.skipUnless(
    hypervisor_stand_in_preloaded(), 'the hypervisor stand-in is not preloaded')


class Recorder:
    def __init__(self, monitor):
        self.events = []
        monitor.connect('shutdown', self.on_shutdown)
        monitor.connect('died', self.on_died)
        monitor.connect('introduced', self.on_introduced)
        monitor.connect('disk-ejected', self.on_disk_ejected)

    def on_shutdown(self, monitor, domid, reason):
        self.events.append(('shutdown', domid, reason))

    def on_died(self, monitor, domid):
        self.events.append(('died', domid))

    def on_introduced(self, monitor, domid):
        self.events.append(('introduced', domid))

    def on_disk_ejected(self, monitor, vdev):
        self.events.append(('disk-ejected', vdev))


class DomainMonitorTest(XlevTestCase):

    def introduce(self, domid):
        # As a toolstack does: the domain's directory, then the introduction.
        xs_cli('xenstore-write', '/local/domain/%d/name' % domid,
               'guest%d' % domid)
        self.fx.introduce_domain(domid, port=PORT)

    def test_shutdown_reason_enum(self):
        self.assertEqual(int(Xlev.ShutdownReason.POWEROFF), 0)
        self.assertEqual(int(Xlev.ShutdownReason.REBOOT), 1)
        self.assertEqual(int(Xlev.ShutdownReason.SUSPEND), 2)
        self.assertEqual(int(Xlev.ShutdownReason.CRASH), 3)
        self.assertEqual(int(Xlev.ShutdownReason.WATCHDOG), 4)
        self.assertEqual(int(Xlev.ShutdownReason.SOFT_RESET), 5)

    @needs_hypervisor
    def test_crash_then_death(self):
        ctx = self.context()
        self.introduce(5)
        mon = ctx.monitor_domain(5)
        self.assertEqual(mon.props.domid, 5)
        rec = Recorder(mon)
        self.fx.set_domain(5, 'crashed')
        self.run_until(lambda: rec.events, 'shutdown')
        kind, domid, reason = rec.events[0]
        self.assertEqual((kind, domid), ('shutdown', 5))
        self.assertEqual(reason, Xlev.ShutdownReason.CRASH)
        self.assertEqual(reason.value_nick, 'crash')
        self.fx.set_domain(5, 'dying')
        self.run_until(lambda: len(rec.events) == 2, 'died')
        self.assertEqual(rec.events[1], ('died', 5))

    @needs_hypervisor
    def test_dropped_monitor_delivers_nothing(self):
        ctx = self.context(Xlev.Integration.HOOKS)
        self.introduce(6)
        dropped = ctx.monitor_domain(6)
        dropped_rec = Recorder(dropped)
        witness = ctx.monitor_domain(6)
        rec = Recorder(witness)
        del dropped
        gc.collect()
        self.fx.set_domain(6, 'shutdown 0')
        self.run_until(lambda: rec.events, 'shutdown')
        self.assertEqual(rec.events[0],
                         ('shutdown', 6, Xlev.ShutdownReason.POWEROFF))
        self.iterate(QUIET)
        self.assertEqual(dropped_rec.events, [])

    def test_all_domains_constant_is_unsigned(self):
        self.assertEqual(Xlev.DOMAIN_MONITOR_ALL_DOMAINS, 2**32 - 1)

    @needs_hypervisor
    def test_all_domains(self):
        ctx = self.context()
        mon = ctx.monitor_all_domains()
        self.assertEqual(mon.props.domid, Xlev.DOMAIN_MONITOR_ALL_DOMAINS)
        rec = Recorder(mon)
        for domid in (21, 22, 23):
            self.introduce(domid)
        self.run_until(lambda: len(rec.events) == 3, 'introduced x3')
        self.assertEqual(sorted(e[1] for e in rec.events), [21, 22, 23])
        self.iterate(QUIET)
        for domid in (21, 22, 23):
            self.fx.set_domain(domid, 'gone')
        self.run_until(lambda: len(rec.events) == 6, 'died x3')
        self.assertEqual(sorted(e for e in rec.events[3:]),
                         [('died', 21), ('died', 22), ('died', 23)])

    @needs_hypervisor
    def test_all_domains_follows_present(self):
        # Domains there before the monitor: listed, never `introduced`,
        # their shutdown and death reported once each.
        for domid in (31, 32, 33):
            self.introduce(domid)
        ctx = self.context(Xlev.Integration.HOOKS)
        mon = ctx.monitor_all_domains()
        rec = Recorder(mon)
        present = mon.list_domains()
        self.assertIsInstance(present, list)
        self.assertEqual(present, sorted(present))
        self.assertTrue({31, 32, 33} <= set(present))
        self.assertNotIn(34, present)
        self.iterate(QUIET)
        self.assertEqual(rec.events, [])

        self.introduce(34)
        self.run_until(lambda: rec.events, 'introduced')
        self.assertEqual(rec.events, [('introduced', 34)])
        self.assertIn(34, mon.list_domains())
        self.iterate(QUIET)

        self.fx.set_domain(31, 'shutdown 1')
        self.run_until(lambda: len(rec.events) == 2, 'shutdown 31')
        self.fx.set_domain(31, 'dying')
        self.fx.set_domain(32, 'gone')
        self.fx.set_domain(34, 'gone')
        self.run_until(lambda: len(rec.events) == 5, 'died x3')
        self.iterate(QUIET)
        self.assertEqual(rec.events[1],
                         ('shutdown', 31, Xlev.ShutdownReason.REBOOT))
        self.assertEqual(sorted(rec.events[2:]),
                         [('died', 31), ('died', 32), ('died', 34)])
        self.assertEqual(len(rec.events), 5)
        left = mon.list_domains()
        self.assertIn(33, left)
        for domid in (31, 32, 34):
            self.assertNotIn(domid, left)

    @needs_hypervisor
    def test_disk_ejected(self):
        ctx = self.context()
        self.introduce(9)
        be = '/local/domain/0/backend/vbd/9/51712'
        xs_cli('xenstore-write', '/local/domain/9/device/vbd/51712/backend',
               be, be + '/eject', '0')
        mon = ctx.monitor_domain(9)
        rec = Recorder(mon)
        with self.assertRaises(GLib.Error) as cm:
            mon.watch_disk('xvdc')
        self.assertTrue(cm.exception.matches(Xlev.error_quark(),
                                             Xlev.Error.NOENT))
        mon.watch_disk('xvda')
        xs_cli('xenstore-write', be + '/eject', '1')
        self.run_until(lambda: rec.events, 'disk-ejected')
        self.assertEqual(rec.events, [('disk-ejected', 'xvda')])
        self.assertEqual(xs_cli('xenstore-read', be + '/eject').strip(), '0')



class DomainListTest(XlevTestCase):
    """Xlev.DomainList as a Gio.ListModel of Xlev.Domain, from Python."""

    def introduce(self, domid, name):
        xs_cli('xenstore-write', '/local/domain/%d/name' % domid, name)
        self.fx.introduce_domain(domid, port=PORT)

    def domids(self, domains):
        return [d.props.domid for d in domains]

    def test_list_model(self):
        ctx = self.context()
        self.introduce(21, 'alpha')
        domains = Xlev.DomainList.new(ctx)
        self.assertEqual(domains.get_item_type(), Xlev.Domain.__gtype__)
        self.assertIn(21, self.domids(domains))
        changes = []
        domains.connect('items-changed',
                        lambda m, pos, rem, add: changes.append((rem, add)))
        self.introduce(22, 'beta')
        self.run_until(lambda: 22 in self.domids(domains), 'domain 22')
        self.assertEqual(changes, [(0, 1)])
        self.assertEqual(domains.props.n_items, len(list(domains)))
        self.assertEqual(self.domids(domains), sorted(self.domids(domains)))
        beta = domains.lookup(22)
        self.run_until(lambda: beta.props.name == 'beta', 'the name')
        self.assertEqual(beta.props.state, Xlev.DomainState.RUNNING)
        self.assertIsNone(domains.lookup(23))

    @needs_hypervisor
    def test_states(self):
        ctx = self.context()
        self.introduce(24, 'gamma')
        domains = Xlev.DomainList.new(ctx)
        gamma = domains.lookup(24)
        states = []
        gamma.connect('notify::state',
                      lambda d, pspec: states.append(d.props.state))
        self.fx.set_domain(24, 'crashed')
        self.run_until(lambda: states, 'the shutdown')
        self.assertEqual(gamma.props.shutdown_reason,
                         Xlev.ShutdownReason.CRASH)
        self.fx.set_domain(24, 'dying')
        self.run_until(lambda: 24 not in self.domids(domains), 'the death')
        self.assertEqual(states, [Xlev.DomainState.SHUTDOWN,
                                  Xlev.DomainState.GONE])

    @needs_hypervisor
    def test_has_hypervisor_and_state_when_made(self):
        ctx = self.context()
        self.assertTrue(ctx.has_hypervisor())
        self.introduce(25, 'delta')
        self.introduce(26, 'epsilon')
        self.fx.set_domain(25, 'shutdown 1')
        domains = Xlev.DomainList.new(ctx)
        self.assertTrue(domains.props.has_hypervisor)
        self.assertTrue(domains.get_has_hypervisor())
        # Not "running": the hypervisor's state, before any event.
        self.assertEqual(domains.lookup(25).props.state,
                         Xlev.DomainState.SHUTDOWN)
        self.assertEqual(domains.lookup(25).props.shutdown_reason,
                         Xlev.ShutdownReason.REBOOT)
        self.assertEqual(domains.lookup(26).props.state,
                         Xlev.DomainState.RUNNING)

    def test_directory_after_introduce(self):
        ctx = self.context()
        domains = Xlev.DomainList.new(ctx)
        changes = []
        domains.connect('items-changed',
                        lambda m, pos, rem, add: changes.append((rem, add)))
        self.fx.introduce_domain(27, port=PORT)
        self.iterate(QUIET)
        self.assertNotIn(27, self.domids(domains))
        xs_cli('xenstore-write', '/local/domain/27/name', 'late')
        self.run_until(lambda: 27 in self.domids(domains), 'domain 27')
        xs_cli('xenstore-write', '/local/domain/27/memory', '1')
        self.iterate(QUIET)
        self.assertEqual(changes, [(0, 1)])

if __name__ == '__main__':
    unittest.main()
