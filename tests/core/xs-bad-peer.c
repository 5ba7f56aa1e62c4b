/* xs-bad-peer.c: a deliberately misbehaving xenstore peer for tests
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See xs-bad-peer.h. One thread: poll on the listening socket (or the one
 * connection being served) and the stop pipe.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <xen/io/xs_wire.h>

#include "xs-bad-peer.h"

struct _XsBadPeer {
    char *dir;
    char *path;
    int listen_fd;
    int stop_pipe[2];
    XsBadPeerAnswer *script;
    guint n_answers;
    guint requests_read; /* atomic */
    GThread *thread;
    char payload[XENSTORE_PAYLOAD_MAX + 1]; /* the peer thread's */
};

/* Waits until @fd is readable or the stop pipe is; FALSE when stopping. */
static gboolean
wait_readable(XsBadPeer *peer, int fd)
{
    struct pollfd pfd[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = peer->stop_pipe[0], .events = POLLIN },
    };

    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        if (pfd[1].revents)
            return FALSE;
        if (pfd[0].revents)
            return TRUE;
    }
}

/* Reads exactly @len bytes; FALSE on EOF, error or stop. */
static gboolean
read_full(XsBadPeer *peer, int fd, void *buf, size_t len)
{
    char *p = buf;
    ssize_t r;

    while (len > 0) {
        if (!wait_readable(peer, fd))
            return FALSE;
        r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return FALSE;
        p += r;
        len -= (size_t)r;
    }
    return TRUE;
}

/* Writes all of @len bytes (blocking); errors are ignored: the client may
 * have gone, which is its business. */
static void
write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    ssize_t w;

    while (len > 0) {
        w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        len -= (size_t)w;
    }
}

static void
send_msg(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id,
         const void *payload, uint32_t len)
{
    struct xsd_sockmsg hdr = { type, req_id, tx_id, len };

    write_full(fd, &hdr, sizeof(hdr));
    if (len > 0)
        write_full(fd, payload, len);
}

/* Sends @answer to the request @req. FALSE if the connection is over. */
static gboolean
answer(XsBadPeer *peer, int fd, XsBadPeerAnswer a,
       const struct xsd_sockmsg *req)
{
    struct xsd_sockmsg hdr;
    char *big = peer->payload;

    switch (a) {
    case XS_BAD_PEER_OK:
        send_msg(fd, req->type, req->req_id, req->tx_id, "OK", 3);
        return TRUE;
    case XS_BAD_PEER_OVERSIZED_LEN:
        memset(big, 'x', XENSTORE_PAYLOAD_MAX + 1);
        send_msg(fd, req->type, req->req_id, req->tx_id, big,
                 XENSTORE_PAYLOAD_MAX + 1);
        return TRUE;
    case XS_BAD_PEER_UNKNOWN_REQ_ID:
        send_msg(fd, req->type, req->req_id + 1000, req->tx_id, "OK", 3);
        return TRUE;
    case XS_BAD_PEER_UNKNOWN_TYPE:
        send_msg(fd, XS_TYPE_COUNT, req->req_id, req->tx_id, NULL, 0);
        return TRUE;
    case XS_BAD_PEER_TRUNCATED_CLOSE:
        hdr = (struct xsd_sockmsg){ req->type, req->req_id, req->tx_id, 8 };
        write_full(fd, &hdr, sizeof(hdr));
        write_full(fd, "OK\0", 3);
        return FALSE;
    case XS_BAD_PEER_RESET_MID_MESSAGE:
        hdr = (struct xsd_sockmsg){ req->type, req->req_id, req->tx_id, 3 };
        write_full(fd, &hdr, 10);
        /* A unix stream socket closed while bytes the client sent are
         * still unread in it resets the connection: the client reads what
         * was sent, then gets ECONNRESET (orderly EOF if it had sent
         * nothing more). The caller closes fd without reading further. */
        return FALSE;
    case XS_BAD_PEER_MALFORMED_WATCH_EVENT:
        send_msg(fd, XS_WATCH_EVENT, 0, 0, "no-nul", 6);
        return TRUE;
    case XS_BAD_PEER_UNKNOWN_ERROR_STRING:
        send_msg(fd, XS_ERROR, req->req_id, req->tx_id, "EWHATEVER", 10);
        return TRUE;
    case XS_BAD_PEER_WRONG_REPLY_TYPE:
        send_msg(fd, XS_DEBUG, req->req_id, req->tx_id, "OK", 3);
        return TRUE;
    }
    return FALSE;
}

/* Serves one connection until it ends, an answer ends it, or stop. */
static void
serve(XsBadPeer *peer, int fd)
{
    struct xsd_sockmsg req;
    guint i = 0;

    for (;;) {
        if (!read_full(peer, fd, &req, sizeof(req)))
            return;
        if (req.len > XENSTORE_PAYLOAD_MAX)
            return; /* a client breaking the protocol: hang up */
        if (!read_full(peer, fd, peer->payload, req.len))
            return;
        g_atomic_int_inc(&peer->requests_read);
        if (i < peer->n_answers && !answer(peer, fd, peer->script[i], &req))
            return;
        i++;
    }
}

static gpointer
peer_thread(gpointer data)
{
    XsBadPeer *peer = data;
    int fd;

    while (wait_readable(peer, peer->listen_fd)) {
        fd = accept(peer->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(peer, fd);
        close(fd);
    }
    return NULL;
}

XsBadPeer *
xs_bad_peer_new(const XsBadPeerAnswer *script, guint n_answers, GError **error)
{
    XsBadPeer *peer = g_new0(XsBadPeer, 1);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    peer->listen_fd = -1;
    peer->stop_pipe[0] = peer->stop_pipe[1] = -1;
    peer->script = g_memdup2(script, sizeof(*script) * n_answers);
    peer->n_answers = n_answers;

    peer->dir = g_dir_make_tmp("xs-bad-peer-XXXXXX", error);
    if (!peer->dir)
        goto fail;
    peer->path = g_build_filename(peer->dir, "socket", NULL);
    if (strlen(peer->path) >= sizeof(sa.sun_path)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG,
                    "socket path too long: %s", peer->path);
        goto fail;
    }
    strcpy(sa.sun_path, peer->path);
    peer->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (peer->listen_fd < 0
        || bind(peer->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
        || listen(peer->listen_fd, 8) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot listen on %s: %s", peer->path, g_strerror(errno));
        goto fail;
    }
    if (!g_unix_open_pipe(peer->stop_pipe, FD_CLOEXEC, error))
        goto fail;
    peer->thread = g_thread_new("xs-bad-peer", peer_thread, peer);
    return peer;

fail:
    xs_bad_peer_free(peer);
    return NULL;
}

const char *
xs_bad_peer_socket_path(XsBadPeer *peer)
{
    return peer->path;
}

guint
xs_bad_peer_requests_read(XsBadPeer *peer)
{
    return (guint)g_atomic_int_get(&peer->requests_read);
}

void
xs_bad_peer_free(XsBadPeer *peer)
{
    if (!peer)
        return;
    if (peer->thread) {
        while (write(peer->stop_pipe[1], "x", 1) < 0 && errno == EINTR)
            ;
        g_thread_join(peer->thread);
    }
    if (peer->stop_pipe[0] >= 0)
        close(peer->stop_pipe[0]);
    if (peer->stop_pipe[1] >= 0)
        close(peer->stop_pipe[1]);
    if (peer->listen_fd >= 0)
        close(peer->listen_fd);
    if (peer->path)
        g_unlink(peer->path);
    if (peer->dir)
        g_rmdir(peer->dir);
    g_free(peer->path);
    g_free(peer->dir);
    g_free(peer->script);
    g_free(peer);
}

int
xs_bad_peer_connect(const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd, saved;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG,
                    "socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "cannot connect to %s: %s", path, g_strerror(saved));
        return -1;
    }
    return fd;
}
