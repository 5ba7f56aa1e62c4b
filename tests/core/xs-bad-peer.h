/* xs-bad-peer.h: a deliberately misbehaving xenstore peer for tests
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * Not a xenstored: it keeps no tree and knows no operation. It listens on a
 * unix socket in a private temporary directory and, in a thread of its own,
 * answers the requests of each connection from a script: the i-th request
 * read on a connection gets script[i] as its answer. Each connection starts
 * the script again; requests beyond the script are read and never answered
 * (a daemon that hangs). Requests are read by the peer's own code, not by
 * the library's reader, so that a bug there cannot hide itself.
 *
 * A well-formed answer echoes the request's type, req_id and tx_id, as the
 * real daemon does (xen/io/xs_wire.h). What each answer sends is said next
 * to its name below.
 *
 * Threads: new() starts the thread, free() stops it (wakes it through a
 * pipe, joins it) and removes the socket and its directory. The other
 * functions may be called from any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    /* the request's header with payload "OK\0" */
    XS_BAD_PEER_OK,
    /* a header with len XENSTORE_PAYLOAD_MAX + 1, then that many bytes */
    XS_BAD_PEER_OVERSIZED_LEN,
    /* a well-formed "OK\0" reply whose req_id is the request's + 1000 */
    XS_BAD_PEER_UNKNOWN_REQ_ID,
    /* a header of type XS_TYPE_COUNT (no such type), len 0 */
    XS_BAD_PEER_UNKNOWN_TYPE,
    /* a header promising 8 payload bytes, 3 of them, then close() */
    XS_BAD_PEER_TRUNCATED_CLOSE,
    /* 10 bytes of a header, then close() without reading on: if the
     * client has sent more (say, two requests in one write), the client
     * reads the 10 bytes and then gets ECONNRESET, else EOF */
    XS_BAD_PEER_RESET_MID_MESSAGE,
    /* an XS_WATCH_EVENT, req_id 0, payload "no-nul" (no NUL at all) */
    XS_BAD_PEER_MALFORMED_WATCH_EVENT,
    /* an XS_ERROR reply "EWHATEVER\0" (not in xsd_errors) */
    XS_BAD_PEER_UNKNOWN_ERROR_STRING,
    /* a well-formed "OK\0" reply of type XS_DEBUG, whatever was asked */
    XS_BAD_PEER_WRONG_REPLY_TYPE,
} XsBadPeerAnswer;

typedef struct _XsBadPeer XsBadPeer;

/* Starts a peer that plays @script (@n_answers entries, copied) on every
 * connection. NULL with @error set if it cannot listen. */
XsBadPeer *xs_bad_peer_new(const XsBadPeerAnswer *script, guint n_answers,
                           GError **error);

/* The socket's path (owned by @peer). */
const char *xs_bad_peer_socket_path(XsBadPeer *peer);

/* Requests read so far, over all connections. */
guint xs_bad_peer_requests_read(XsBadPeer *peer);

/* Stops the thread, closes every socket and removes the directory. NULL is
 * ignored. */
void xs_bad_peer_free(XsBadPeer *peer);

/* Connects a blocking unix stream socket to @path; -1 with @error set on
 * failure. For tests that talk to a peer or to the fixture's daemon. */
int xs_bad_peer_connect(const char *path, GError **error);

G_END_DECLS
