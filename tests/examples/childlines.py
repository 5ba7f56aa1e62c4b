# childlines.py: a child process whose stdout the example tests read line
# by line, with a deadline for each line.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only

import os
import select
import subprocess
import time

__all__ = ['Child', 'LINE_TIMEOUT']

# Deadline for one line of output (seconds).
LINE_TIMEOUT = 5.0


class Child:
    """`argv` as a child process; stdout read line by line."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self._buf = b''
        self.lines = []  # every line read so far

    def _fill(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 4096)
        if not chunk:
            raise AssertionError(
                '%s exited (%s) before a line; output so far: %r; stderr: %s'
                % (os.path.basename(self.argv[0]), self.proc.wait(),
                   self.lines, self.proc.stderr.read().decode()))
        self._buf += chunk
        return True

    def line(self, timeout=LINE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while b'\n' not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('no line from %s within %.1f s (got %r)'
                                     % (os.path.basename(self.argv[0]),
                                        timeout, self.lines))
            self._fill(left)
        line, self._buf = self._buf.split(b'\n', 1)
        line = line.decode()
        self.lines.append(line)
        return line

    def line_after(self, action, interval=0.1, timeout=LINE_TIMEOUT):
        """Calls action() every `interval` until a line arrives (when
        nothing says the child is ready for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            action()
            if b'\n' in self._buf or self._fill(interval):
                return self.line(max(deadline - time.monotonic(), 0.1))
        raise AssertionError('no line within %.1f s' % timeout)

    def wait_for(self, predicate, what, timeout=LINE_TIMEOUT):
        """Reads lines until predicate(line) holds; returns that line and
        the lines skipped on the way."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('no %s within %.1f s; lines: %r'
                                     % (what, timeout, self.lines))
            line = self.line(left)
            if predicate(line):
                return line, skipped
            skipped.append(line)

    def wait_for_all(self, predicates, what, timeout=LINE_TIMEOUT):
        """Reads lines until each predicate has held for one of them, in
        any order."""
        deadline = time.monotonic() + timeout
        left_over = list(predicates)
        while left_over:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('no %s within %.1f s; lines: %r'
                                     % (what, timeout, self.lines))
            line = self.line(left)
            left_over = [p for p in left_over if not p(line)]

    def finish(self, timeout=LINE_TIMEOUT):
        """Waits for the exit; returns (status, rest of stdout, stderr)."""
        out, err = self.proc.communicate(timeout=timeout)
        return (self.proc.returncode, (self._buf + out).decode(errors='replace'),
                err.decode(errors='replace'))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()
