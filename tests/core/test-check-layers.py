#!/usr/bin/python3
# test-check-layers.py: tools/check-layers accepts the tree as it is and
# catches each kind of violation injected into a copy of it.
#
# Usage: test-check-layers.py CHECK_LAYERS SOURCE_TREE (meson passes both).
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

CHECK = None
TREE = None


def run_check(top):
    return subprocess.run([sys.executable, CHECK, top], capture_output=True,
                          text=True)


class CheckLayers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='xlev-layers-')
        shutil.copytree(os.path.join(TREE, 'libxlev-glib'),
                        os.path.join(self.tmp, 'libxlev-glib'),
                        ignore=shutil.ignore_patterns('_build*', '*.o'))
        self.core = os.path.join(self.tmp, 'libxlev-glib', 'core')

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def inject(self, rel, line):
        path = os.path.join(self.core, rel)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        with open(path, 'w', encoding='utf-8') as f:
            f.write(line + '\n' + text)

    def assert_fails(self, *needles):
        r = run_check(self.tmp)
        self.assertEqual(r.returncode, 1, r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)

    def test_tree_passes(self):
        r = run_check(self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, '')

    def test_loop_includes_xs(self):
        self.inject('loop/fd.c', '#include "../xs/xs-private.h"')
        self.assert_fails('loop/fd.c', 'the loop room is below the xs room')

    def test_loop_includes_domain(self):
        self.inject('loop/ctx.c', '#include "../domain/domain-private.h"')
        self.assert_fails('loop/ctx.c', 'below the domain room')

    def test_xs_includes_domain(self):
        self.inject('xs/watch.c', '#include "../domain/domain-private.h"')
        self.assert_fails('xs/watch.c', 'the xs room is below the domain room')

    def test_core_includes_outside(self):
        self.inject('xlev-event.h', '#include "../xlev-version-macros.h"')
        self.assert_fails('core/xlev-event.h', 'xlev-version-macros.h',
                          'only core/ headers')

    def test_core_includes_unknown(self):
        self.inject('domain/release.c', '#include "xlev-enums.h"')
        self.assert_fails('domain/release.c', 'no such file in core/')

    def test_public_includes_room(self):
        self.inject('xlev-domain.h', '#include "loop/loop-private.h"')
        self.assert_fails("public core header includes no room's")

    def test_include_cycle(self):
        self.inject('xlev-visibility.h', '#include "xlev-event.h"')
        self.assert_fails('#include cycle', 'xlev-visibility.h',
                          'xlev-event.h')

    def test_cycle_outside_core(self):
        self.inject('../xlev-error.h', '#include "xlev-context.h"')
        self.inject('../xlev-context.h', '#include "xlev-error.h"')
        self.assert_fails('#include cycle', 'xlev-error.h',
                          'xlev-context.h')

    def test_system_includes_allowed(self):
        self.inject('loop/fd.c', '#include <glib.h>')
        r = run_check(self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_commented_include_ignored(self):
        self.inject('loop/fd.c', '/* #include "../xs/xs-private.h" */')
        r = run_check(self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == '__main__':
    CHECK, TREE = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
