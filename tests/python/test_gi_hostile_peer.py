# test_gi_hostile_peer.py: a watch event whose path is not UTF-8 reaches a
# Python handler, escaped; never an exception, never lost.
#
# Copyright (C) 2026 The libxlev-glib authors
# SPDX-License-Identifier: LGPL-2.1-only
#
# Neither daemon sends such a path: both refuse nodes and watches whose
# path is not UTF-8 (XS_WRITE and XS_WATCH answer EINVAL, checked against
# the real daemons in test_daemons_refuse_non_utf8_paths). So the context
# here talks to a deliberately misbehaving peer instead: not a xenstored,
# it keeps no tree; it answers every request "OK" (echoing its header, as
# xen/io/xs_wire.h says a reply does) and, after a watch's reply, sends the
# initial event and then one for a child whose name is the bytes ff fe.
# The XlevWatch::changed documentation states the escaping checked here.

import os
import socket
import struct
import tempfile
import threading
import unittest

from xlevgi import GLib, Xlev, XlevTestCase, EVENT_TIMEOUT
from xsfixture import XS_HEADER

XS_WATCH = 4
XS_WRITE = 11
XS_WATCH_EVENT = 15
XS_ERROR = 16
BAD_CHILD = b'/\xff\xfe\\x'
ESCAPED_CHILD = '/\\xff\\xfe\\\\x'


def raw_request(path, msg_type, payload):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(XS_HEADER.pack(msg_type, 1, 0, len(payload)) + payload)
        data = b''
        while len(data) < XS_HEADER.size:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError('closed')
            data += chunk
        rtype, _, _, rlen = XS_HEADER.unpack(data[:XS_HEADER.size])
        while len(data) < XS_HEADER.size + rlen:
            data += s.recv(4096)
        return rtype, data[XS_HEADER.size:XS_HEADER.size + rlen]


class HostilePeer:
    """Answers every request OK; follows a watch with two events, the
    second for a child path that is not UTF-8."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='xlev-hostile-')
        self.path = os.path.join(self.dir, 'socket')
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self.conns = []
        self.stopping = False
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self.serve, args=(conn,),
                             daemon=True).start()

    @staticmethod
    def recv_exact(conn, n):
        data = b''
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError('closed')
            data += chunk
        return data

    def serve(self, conn):
        try:
            while True:
                header = self.recv_exact(conn, XS_HEADER.size)
                mtype, req_id, tx_id, length = XS_HEADER.unpack(header)
                payload = self.recv_exact(conn, length)
                conn.sendall(XS_HEADER.pack(mtype, req_id, tx_id, 3) + b'OK\0')
                if mtype == XS_WATCH:
                    wpath, token = payload.split(b'\0')[:2]
                    for epath in (wpath, wpath + BAD_CHILD):
                        body = epath + b'\0' + token + b'\0'
                        conn.sendall(XS_HEADER.pack(XS_WATCH_EVENT, 0, 0,
                                                    len(body)) + body)
        except (ConnectionError, OSError):
            pass

    def close(self):
        self.stopping = True
        self.listener.close()
        for conn in self.conns:
            conn.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.rmdir(self.dir)


class DaemonsTest(XlevTestCase):

    def test_daemons_refuse_non_utf8_paths(self):
        # Why the peer above is needed: the real daemon (either, as
        # XLEV_TEST_XENSTORED says) refuses to create or watch such a path.
        for mtype, payload in ((XS_WRITE, b'/u' + BAD_CHILD + b'\0v'),
                               (XS_WATCH, b'/u' + BAD_CHILD + b'\0t\0')):
            rtype, body = raw_request(self.fx.socket_path, mtype, payload)
            self.assertEqual((rtype, body), (XS_ERROR, b'EINVAL\0'))


class HostilePeerTest(unittest.TestCase):

    def setUp(self):
        self.peer = HostilePeer()
        self.addCleanup(self.peer.close)
        # libxenstore connects where XENSTORED_PATH says, whatever the
        # context is given
        saved = os.environ.get('XENSTORED_PATH')
        os.environ['XENSTORED_PATH'] = self.peer.path
        self.addCleanup(self.restore_env, saved)
        self.loop = GLib.MainLoop()

    @staticmethod
    def restore_env(saved):
        if saved is None:
            os.environ.pop('XENSTORED_PATH', None)
        else:
            os.environ['XENSTORED_PATH'] = saved

    def run_until(self, done, what):
        expired = []

        def on_timeout():
            expired.append(True)
            self.loop.quit()
            return GLib.SOURCE_REMOVE

        def check():
            if done():
                self.loop.quit()
                return GLib.SOURCE_REMOVE
            return GLib.SOURCE_CONTINUE

        timer = GLib.timeout_add(int(EVENT_TIMEOUT * 1000), on_timeout)
        GLib.timeout_add(1, check)
        self.loop.run()
        if not expired:
            GLib.source_remove(timer)
        self.assertTrue(done(), 'timed out waiting for ' + what)

    def escaped_event(self, integration):
        ctx = Xlev.Context.new_full(None, integration, None, None)
        watch = ctx.watch('/u', Xlev.WatchFlags.NONE)
        seen = []
        watch.connect('changed', lambda w, path: seen.append(path))
        self.run_until(lambda: len(seen) >= 2, 'two events')
        self.assertEqual(seen, ['/u', '/u' + ESCAPED_CHILD])
        watch.cancel()
        del watch, ctx

    def test_non_utf8_event_path_escaped_source(self):
        self.escaped_event(Xlev.Integration.SOURCE)

    def test_non_utf8_event_path_escaped_hooks(self):
        self.escaped_event(Xlev.Integration.HOOKS)


if __name__ == '__main__':
    unittest.main()
