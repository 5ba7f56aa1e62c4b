#!/usr/bin/python3
# browser-screenshot.py: the README's picture of xlev-browser, from a real
# session: a private xenstored with several domains in different states,
# devices, memory targets and a pending shutdown request.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Not a test (it asserts only that the browser passed its self-check):
# run it from the build directory's environment when the window changes,
# look at the picture, and commit it.
#
#   XLEV_TEST_XENSTORED=/usr/lib/xen-4.17/bin/xenstored \
#   XLEV_TEST_FAKEXEN=_build/tests/fakexen/libfakexen.so \
#   PYTHONPATH=tests/python:tests/examples \
#   tests/examples/browser-screenshot.py _build/examples/browser/xlev-browser \
#       docs/images/xlev-browser.png

import os
import subprocess
import sys

from childlines import Child
from xsfixture import XsFixture

PORT = 1

# domid: name, memory (MiB), state after introduction
DOMAINS = {
    1: ('web-frontend', 2048, 'running'),
    2: ('db-primary', 8192, 'running'),
    3: ('build-runner', 4096, 'shutdown 0'),
    4: ('old-test-vm', 1024, 'running'),
    5: ('mail', 1536, 'running'),
}
SHOWN = 2
DYING = 4  # after the window is ready


def main(browser, out):
    with XsFixture() as fx:
        env = dict(os.environ, XENSTORED_PATH=fx.socket_path)

        def write(*pairs):
            subprocess.run(['xenstore-write', '--'] + list(pairs), check=True,
                           env=env, timeout=10)

        write('/local/domain/0/name', 'Domain-0')
        for domid, (name, mib, _) in DOMAINS.items():
            d = '/local/domain/%d' % domid
            kib = str(mib * 1024)
            write(d + '/name', name,
                  d + '/vm', '/vm/%08x-0000-4000-8000-%012x' % (domid, domid),
                  d + '/memory/target', kib,
                  d + '/memory/static-max', kib,
                  d + '/memory/videoram', '-1',
                  d + '/control/platform-feature-multiprocessor-suspend', '1',
                  d + '/control/feature-poweroff', '1',
                  d + '/control/feature-reboot', '1',
                  d + '/control/feature-suspend', '1',
                  d + '/device/vif/0/backend',
                  '/local/domain/0/backend/vif/%d/0' % domid,
                  d + '/device/vif/0/state', '4',
                  d + '/device/vif/0/mac', '00:16:3e:00:00:%02x' % domid,
                  d + '/device/vif/0/feature-rx-copy', '1',
                  d + '/device/vbd/51712/backend',
                  '/local/domain/0/backend/vbd/%d/51712' % domid,
                  d + '/device/vbd/51712/state', '4',
                  d + '/device/vbd/51712/ring-ref', '8',
                  d + '/data/updated', '2026-11-30T09:00:00Z',
                  '/local/domain/0/backend/vif/%d/0/state' % domid, '4',
                  '/local/domain/0/backend/vbd/%d/51712/state' % domid, '4')
            fx.introduce_domain(domid, PORT)
        for domid, (_, _, state) in DOMAINS.items():
            if state != 'running':
                fx.set_domain(domid, state)

        child_env = fx.hypervisor_environ()
        child_env.update({
            'GDK_BACKEND': 'x11',
            'GSK_RENDERER': 'cairo',
            'NO_AT_BRIDGE': '1',
            'GTK_A11Y': 'none',
            'LC_ALL': 'C.UTF-8',
        })
        argv = ['xvfb-run', '--auto-servernum',
                '--server-args=-screen 0 1280x800x24 -nolisten tcp',
                browser, '--self-check', '--check-timeout=15',
                '--path=/local/domain/%d' % SHOWN,
                # A request the guest has not answered yet.
                '--self-check-action=shutdown:%d:reboot' % SHOWN,
                '--expect-request=%d=reboot:requested' % SHOWN,
                '--expect-node=/local/domain/%d/name=%s'
                % (SHOWN, DOMAINS[SHOWN][0]),
                # Expands memory and the network device on the way.
                '--expect-shown=/local/domain/%d/memory/target=%d MiB '
                '(%d KiB)' % (SHOWN, DOMAINS[SHOWN][1],
                              DOMAINS[SHOWN][1] * 1024),
                '--expect-shown=/local/domain/%d/device/vif/0/state='
                'Connected (4)' % SHOWN,
                '--expect-state=%d=dead' % DYING,
                '--screenshot=' + os.path.abspath(out)]
        child = Child(argv, env=child_env)
        try:
            if child.line(timeout=15) != 'ready':
                return 1
            # A domain dies while the window watches.
            fx.set_domain(DYING, 'dying')
            status, stdout, stderr = child.finish(timeout=30)
        finally:
            child.kill()
        sys.stdout.write(stdout)
        sys.stderr.write(stderr)
        return 0 if status == 0 and 'self-check: PASS' in stdout else 1


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: %s XLEV_BROWSER OUTPUT.png' % sys.argv[0])
    sys.exit(main(sys.argv[1], sys.argv[2]))
