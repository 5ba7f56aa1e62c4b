# test_gi_i18n.py: the library's GError messages come back translated.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Each case runs in a child process, because the library binds its text
# domain once, at its first message: the child starts with LANGUAGE=de,
# LANG=C.UTF-8 (always present on Debian: no locale needs generating) and
# XLEV_LOCALEDIR pointing at the build tree's compiled catalogues (meson sets
# it), provokes real errors against the private xenstored and prints their
# messages.  The expected German is written out here, not read from de.po.

import json
import os
import subprocess
import sys
import unittest

from xsfixture import XsFixture

CHILD = r'''
import json, locale
locale.setlocale(locale.LC_ALL, '')
import gi
gi.require_version('Xlev', '1.0')
from gi.repository import GLib, Xlev
out = {'domain_before': locale.textdomain(None)}
ctx = Xlev.Context.new(None, None)
for name, call in (('read', lambda: ctx.read('/no/such/node', None)),
                   ('watch', lambda: ctx.watch('relative', 0)),
                   ('write', lambda: ctx.write('/a b', 'v', None))):
    try:
        call()
        out[name] = None
    except GLib.Error as e:
        out[name] = [e.domain, Xlev.Error(e.code).value_nick, e.message]
out['domain_after'] = locale.textdomain(None)
print(json.dumps(out))
'''


class TranslationTest(unittest.TestCase):

    def setUp(self):
        self.fx = XsFixture()
        self.fx.start()
        self.addCleanup(self.fx.stop)
        self.assertTrue(os.environ.get('XLEV_LOCALEDIR'),
                        'meson sets XLEV_LOCALEDIR for this test')
        mo = os.path.join(os.environ['XLEV_LOCALEDIR'], 'de', 'LC_MESSAGES',
                          'libxlev-glib-1.0.mo')
        self.assertTrue(os.path.exists(mo), mo + ' was not built')

    def run_child(self, **env_changes):
        env = dict(os.environ)
        for name in ('LC_ALL', 'LC_MESSAGES', 'LANGUAGE', 'LANG'):
            env.pop(name, None)
        env.update(env_changes)
        proc = subprocess.run([sys.executable, '-c', CHILD], env=env,
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout)

    def test_german(self):
        out = self.run_child(LANGUAGE='de', LANG='C.UTF-8')
        self.assertEqual(out['read'], [
            'xlev-error-quark', 'noent',
            '/no/such/node kann nicht gelesen werden: '
            'Dieser xenstore-Pfad existiert nicht'])
        self.assertEqual(out['watch'], [
            'xlev-error-quark', 'inval',
            'Der xenstore-Pfad ist nicht absolut: „relative“'])
        self.assertEqual(out['write'][:2], ['xlev-error-quark', 'inval'])
        self.assertEqual(out['write'][2],
                         'Kein gültiger xenstore-Pfad: „/a b“')

    def test_application_text_domain_untouched(self):
        out = self.run_child(LANGUAGE='de', LANG='C.UTF-8')
        self.assertEqual(out['domain_before'], 'messages')
        self.assertEqual(out['domain_after'], 'messages')

    def test_english_without_language(self):
        out = self.run_child(LANG='C.UTF-8')
        self.assertEqual(out['read'][2],
                         'Cannot read /no/such/node: No such xenstore path')
        self.assertEqual(out['watch'][2],
                         'The xenstore path is not absolute: “relative”')


if __name__ == '__main__':
    unittest.main(verbosity=2)
