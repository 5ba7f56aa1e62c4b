/* xs-wire-private.h: the xenstore wire protocol, as pure functions
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * The pieces a native xenstore connection is built from, with no lock, no
 * fd and no context: whoever owns the connection owns these structs, takes
 * its own lock around them and does its own I/O.
 *
 * The protocol (xen/io/xs_wire.h): every message, in both directions, is a
 * struct xsd_sockmsg header { type, req_id, tx_id, len } in host byte order
 * followed by len payload bytes, len <= XENSTORE_PAYLOAD_MAX ("violating
 * this is very bad"). The daemon echoes a request's type, req_id and tx_id in
 * its reply, or answers with type XS_ERROR and an errno name (xsd_errors[]).
 * A client may pipeline requests; it matches each reply to its request by
 * req_id, never by order. Watch events arrive at any time as XS_WATCH_EVENT,
 * payload "path\0token\0" (XS_WATCH_PATH, XS_WATCH_TOKEN); the C daemon
 * sends them with req_id 0 (tested); they are told apart by type, not by
 * req_id.
 *
 *   bytes from the socket --> xlev__xs_reader_feed --> struct xlev__xs_msg
 *       --> xlev__xs_pending_take (replies) / xlev__xs_parse_* (payloads)
 *   request --> xlev__xs_encode* --> struct xlev__xs_outq
 *       --> xlev__xs_outq_peek / write(2) / xlev__xs_outq_consume
 *
 * Errors. A caller's mistake is XLEV_ERROR_INVAL; input too long for the
 * wire is XLEV_ERROR_TOO_BIG (never truncated); allocation failure is
 * XLEV_ERROR_NOMEM. What the peer got wrong is one of the XLEV__XSW_E*
 * codes below: each names one violation (xlev__xs_wire_strerror says it in
 * words), and each means the connection cannot be trusted any more. All of
 * them are negative and distinct from every XLEV_ERROR_* code.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "../xlev-event.h"

/*======================================================================*/
/* Error codes (the XLEV_ERROR_* of ../xlev-event.h) */

/* Maps an errno (the daemon's, from xlev__xs_parse_error(), or one of the
 * connection's own socket calls) to an XLEV_ERROR_* code:
 *
 *   EINVAL -> INVAL      EACCES, EPERM -> PERM    ENOENT -> NOENT
 *   EEXIST, EISCONN -> EXIST   E2BIG -> TOO_BIG   ENOSPC -> NOSPC
 *   EDQUOT (EQUOTA) -> QUOTA   EAGAIN -> AGAIN    EBUSY -> BUSY
 *   EISDIR -> ISDIR      EROFS -> READONLY        ENOMEM -> NOMEM
 *   EMFILE, ENFILE -> MFILE    ENOTEMPTY -> NOTEMPTY  ENOSYS -> NOSYS
 *   EPIPE, ECONNRESET, ECONNREFUSED, ENOTCONN, ESHUTDOWN -> XENSTORE
 *   0 -> 0;  anything else (EIO included) -> FAIL
 *
 * Never returns XLEV_ERROR_XENSTORE ("cannot be reached") for an errno the
 * daemon sent in an XS_ERROR reply: the daemon was reached. */
int xlev__xs_wire_errno_to_rc(int errnoval);

/*======================================================================*/
/* What the peer got wrong */

enum {
    XLEV__XSW_EOVERSIZE = -101,  /* header len > XENSTORE_PAYLOAD_MAX */
    XLEV__XSW_ETYPE = -102,      /* header type unknown to xs_wire.h */
    XLEV__XSW_EMALFORMED = -103, /* payload not of its type's shape */
    XLEV__XSW_EERRSTR = -104,    /* XS_ERROR names no errno in the table */
    XLEV__XSW_EREQID = -105,     /* reply to no pending request */
    XLEV__XSW_EREPLYTYPE = -106, /* reply type differs from the request's */
    XLEV__XSW_ETRUNCATED = -107, /* stream ended inside a message */
    XLEV__XSW_EBROKEN = -108,    /* the reader failed before: see ->error */
};

/* A short English description of @rc: an XLEV__XSW_E* code, one of the
 * proposed codes above, or one of the XLEV_ERROR_* codes this file returns.
 * Never NULL ("unknown error" for anything else). */
const char *xlev__xs_wire_strerror(int rc);

/* TRUE if @rc is one of the XLEV__XSW_E* codes. */
int xlev__xs_wire_is_protocol_error(int rc);

/*======================================================================*/
/* Reading: an incremental reader
 *
 * Fed byte chunks split anywhere (one byte at a time, or many messages in
 * one chunk), it yields whole messages. It owns one buffer, inside the
 * struct, of header + XENSTORE_PAYLOAD_MAX + 1 bytes: nothing is ever
 * allocated, whatever the peer sends. The header is checked as soon as its
 * 16 bytes are in, before any payload is taken: a len over
 * XENSTORE_PAYLOAD_MAX is XLEV__XSW_EOVERSIZE, a type that is not in enum
 * xsd_sockmsg_type (>= XS_TYPE_COUNT, or the removed XS_RESTRICT) is
 * XLEV__XSW_ETYPE.
 *
 * States: Header (have < header size) -> Payload (have < header + len) ->
 * Complete (a message was returned; the next feed starts a new one) ->
 * Header ... Any error moves it to Broken for good: every later feed returns
 * XLEV__XSW_EBROKEN and ->error keeps the first error. Reinitialise to use
 * it again (on a new connection).
 */

#define XLEV__XS_HDR_SIZE ((uint32_t)sizeof(struct xsd_sockmsg))

struct xlev__xs_msg {
    uint32_t type; /* enum xsd_sockmsg_type */
    uint32_t req_id;
    uint32_t tx_id;
    uint32_t len;        /* payload bytes, <= XENSTORE_PAYLOAD_MAX */
    const char *payload; /* len bytes, then a NUL that is not counted in
                          * len; points into the reader's buffer */
};

struct xlev__xs_reader {
    /*< private >*/
    uint32_t have; /* bytes of the current message in buf */
    uint32_t need; /* XLEV__XS_HDR_SIZE, or header + len once known */
    int complete;  /* buf holds a message already returned */
    int error;     /* 0, or the first XLEV__XSW_E* code */
    struct xsd_sockmsg hdr;
    char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 1];
};

void xlev__xs_reader_init(struct xlev__xs_reader *rd);

/* Takes bytes from @data (@len of them) until one message is complete or
 * @data is used up; *@consumed says how many it took (always set, also on
 * error).
 *
 * Returns 1 when a message is complete: *@msg describes it, valid until the
 * next call on @rd (the payload lives in @rd's buffer); call again with the
 * rest of @data (@data + *consumed) for the next message. Returns 0 when all
 * of @data was taken and no message is complete yet. Returns an
 * XLEV__XSW_E* code when the peer broke the protocol (then *@consumed says
 * where in @data), XLEV_ERROR_INVAL on NULL arguments (or @data NULL with
 * @len > 0). @len 0 is allowed (returns 0). */
int xlev__xs_reader_feed(struct xlev__xs_reader *rd, const void *data,
                         size_t len, size_t *consumed,
                         struct xlev__xs_msg *msg);

/* The stream ended (EOF, reset). Returns 0 if it ended between messages,
 * XLEV__XSW_ETRUNCATED if a message was started and not finished (and
 * breaks the reader), the reader's ->error if it was broken already. */
int xlev__xs_reader_eof(struct xlev__xs_reader *rd);

/* TRUE if part of a message has been taken (reading stops mid-message). */
int xlev__xs_reader_in_message(const struct xlev__xs_reader *rd);

/*======================================================================*/
/* Writing: requests into a byte queue
 *
 * Requests are encoded whole (header and payload, or nothing) at the tail of
 * a growable byte queue; the owner writes from the head as the socket
 * allows:
 *
 *     while (xlev__xs_outq_peek(q, &p, &n) > 0) {
 *         ssize_t w = write(fd, p, n);
 *         if (w < 0) { EINTR: retry; EAGAIN: wait for POLLOUT; else fail }
 *         xlev__xs_outq_consume(q, w);
 *     }
 *
 * Memory: the queue holds what was encoded and not yet written, in one
 * buffer that grows by doubling from XLEV__XS_OUTQ_MIN and is compacted in
 * place (so it is less than twice the largest backlog, or
 * XLEV__XS_OUTQ_MIN); a buffer over XLEV__XS_OUTQ_KEEP is freed when the
 * queue runs empty.
 */

#define XLEV__XS_OUTQ_MIN 4096
#define XLEV__XS_OUTQ_KEEP 65536

struct xlev__xs_outq {
    /*< private >*/
    char *buf;
    size_t head; /* first byte not yet written */
    size_t tail; /* end of the bytes waiting */
    size_t cap;
};

void xlev__xs_outq_init(struct xlev__xs_outq *q);
/* Frees the buffer; @q is then empty and may be used again. */
void xlev__xs_outq_dispose(struct xlev__xs_outq *q);

/* The bytes waiting: sets *@data to the first of them (NULL if none) and
 * returns how many. */
size_t xlev__xs_outq_peek(const struct xlev__xs_outq *q, const void **data);

/* @n bytes from the head were written: drops them. XLEV_ERROR_INVAL (and
 * nothing dropped) if @n is more than are waiting. */
int xlev__xs_outq_consume(struct xlev__xs_outq *q, size_t n);

/* One piece of a request's payload: @len bytes at @data, then a NUL if
 * @nul (the terminator of a string argument). */
struct xlev__xs_part {
    const void *data;
    size_t len;
    int nul;
};

/* Appends one request: the header {@type, @req_id, @tx_id, len} and the
 * @n_parts pieces in order. XLEV_ERROR_TOO_BIG if the payload would exceed
 * XENSTORE_PAYLOAD_MAX; XLEV_ERROR_INVAL if @type is not a request type
 * (XS_WATCH_EVENT, XS_ERROR and unknown types are not), a part has NULL
 * data with len > 0, or @q is NULL; XLEV_ERROR_NOMEM. On any error the
 * queue is unchanged. */
int xlev__xs_encode(struct xlev__xs_outq *q, uint32_t type, uint32_t req_id,
                    uint32_t tx_id, const struct xlev__xs_part *parts,
                    unsigned int n_parts);

/* A request whose payload is one path: XS_READ, XS_DIRECTORY,
 * XS_GET_PERMS, XS_MKDIR, XS_RM (and any type that takes one string, such
 * as XS_GET_DOMAIN_PATH's domid). The path must be non-empty and at most
 * XENSTORE_ABS_PATH_MAX bytes if it starts with '/' or '@' (absolute or
 * special), XENSTORE_REL_PATH_MAX otherwise (relative to the connection's
 * home), else XLEV_ERROR_TOO_BIG (too long) or XLEV_ERROR_INVAL (NULL or
 * empty). Characters are not checked here. */
int xlev__xs_encode_path(struct xlev__xs_outq *q, uint32_t type,
                         uint32_t req_id, uint32_t tx_id, const char *path);

/* XS_WRITE: "path\0" then @value_len bytes of @value (no NUL: values are
 * bytes). The path as for xlev__xs_encode_path; path + 1 + value_len at
 * most XENSTORE_PAYLOAD_MAX. @value may be NULL only if @value_len is 0. */
int xlev__xs_encode_write(struct xlev__xs_outq *q, uint32_t req_id,
                          uint32_t tx_id, const char *path, const void *value,
                          size_t value_len);

/* XS_WATCH or XS_UNWATCH (@type): "path\0token\0". The path as for
 * xlev__xs_encode_path; the token any string (the daemon hands it back in
 * every event). */
int xlev__xs_encode_watch(struct xlev__xs_outq *q, uint32_t type,
                          uint32_t req_id, const char *path, const char *token);

/* XS_TRANSACTION_START (payload "\0", tx_id 0: the daemon answers with the
 * new tx_id, see xlev__xs_parse_tx_id) and XS_TRANSACTION_END (payload "T\0"
 * to commit, "F\0" to abort, with the transaction's @tx_id, not 0). */
int xlev__xs_encode_transaction_start(struct xlev__xs_outq *q, uint32_t req_id);
int xlev__xs_encode_transaction_end(struct xlev__xs_outq *q, uint32_t req_id,
                                    uint32_t tx_id, int commit);

/*======================================================================*/
/* Payload parsers
 *
 * Each takes a message's payload (@p, @len bytes; it need not be
 * NUL-terminated beyond @len) and returns 0 or XLEV__XSW_EMALFORMED (or
 * XLEV__XSW_EERRSTR), XLEV_ERROR_INVAL for NULL out-arguments. Strings
 * returned point into @p. They allocate nothing.
 */

/* XS_WATCH_EVENT: exactly two NUL-terminated strings, "path\0token\0"
 * (XS_WATCH_PATH, XS_WATCH_TOKEN); the path non-empty, the token may be
 * empty. Anything else (no NUL, one string, a third one, bytes after the
 * last NUL) is malformed. */
int xlev__xs_parse_watch_event(const char *p, uint32_t len, const char **path,
                               const char **token);

/* XS_DIRECTORY: NUL-terminated names, "a\0b\0"; len 0 is no entry. An empty
 * name or a missing last NUL is malformed. Sets *@n to the number of names
 * and, if @names is not NULL, stores the first min(*n, @max) of them there:
 * call with NULL to count, then with an array. */
int xlev__xs_parse_directory(const char *p, uint32_t len, const char **names,
                             unsigned int max, unsigned int *n);

/* A permission, as XS_GET_PERMS/XS_SET_PERMS carry it: one letter then the
 * domid in decimal ("r5"). */
enum xlev__xs_perm_mode {
    XLEV__XS_PERM_NONE = 0,  /* 'n' */
    XLEV__XS_PERM_READ = 1,  /* 'r' */
    XLEV__XS_PERM_WRITE = 2, /* 'w' */
    XLEV__XS_PERM_BOTH = 3,  /* 'b' */
};

/* The largest domid a permission can name (domid_t is 16 bits). */
#define XLEV__XS_DOMID_MAX 65535u

struct xlev__xs_perm {
    uint32_t domid;
    enum xlev__xs_perm_mode mode;
};

/* XS_GET_PERMS: one or more NUL-terminated permission strings, the first
 * the owner's (docs/misc/xenstore.txt). A letter other than n/r/w/b, a
 * domid that is empty, not decimal or over XLEV__XS_DOMID_MAX, no entry at
 * all or a missing last NUL is malformed. @perms/@max/@n as for
 * xlev__xs_parse_directory. */
int xlev__xs_parse_perms(const char *p, uint32_t len,
                         struct xlev__xs_perm *perms, unsigned int max,
                         unsigned int *n);

/* XS_ERROR: one NUL-terminated errno name. Sets *@errnoval from the table
 * in xs_wire.h (xsd_errors[]), plus "EQUOTA" (sent by oxenstored, not in
 * that table) as EDQUOT. A name outside the table is XLEV__XSW_EERRSTR
 * (*@errnoval untouched); no NUL, or bytes after it, XLEV__XSW_EMALFORMED. */
int xlev__xs_parse_error(const char *p, uint32_t len, int *errnoval);

/* XS_TRANSACTION_START's reply: the new tx_id in decimal, NUL-terminated.
 * Not decimal, 0 (which means "no transaction") or over UINT32_MAX is
 * malformed. */
int xlev__xs_parse_tx_id(const char *p, uint32_t len, uint32_t *tx_id);

/* The "OK\0" that XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS, XS_WATCH,
 * XS_UNWATCH, XS_TRANSACTION_END and the domain operations reply. */
int xlev__xs_parse_ok(const char *p, uint32_t len);

/* XS_IS_DOMAIN_INTRODUCED's reply: "T\0" (*@value 1) or "F\0" (0). */
int xlev__xs_parse_bool(const char *p, uint32_t len, int *value);

/*======================================================================*/
/* Requests in flight, by req_id
 *
 * An open-addressing hash table (linear probing, deletion by backward
 * shift, so no tombstones) of the requests sent and not yet answered: each
 * entry is {req_id, request type, the owner's pointer}. Adding, taking and
 * finding are O(1) expected; the table keeps its load at most 1/2, grows by
 * doubling and shrinks when it is at most 1/8 full.
 *
 * req_ids are handed out in sequence from 1 (0 is the id of watch events and
 * is never handed out); after 2^32 - 1 they wrap, skipping those still in
 * flight, so a late reply can only match the request it answers.
 */

struct xlev__xs_pending_entry {
    uint32_t req_id; /* 0: free slot */
    uint32_t type;
    void *data;
};

struct xlev__xs_pending {
    /*< private >*/
    struct xlev__xs_pending_entry *slots;
    uint32_t mask; /* capacity - 1 (capacity a power of two), or 0 */
    uint32_t count;
    uint32_t next_id;
};

#define XLEV__XS_PENDING_MIN 16u

void xlev__xs_pending_init(struct xlev__xs_pending *t);
/* Frees the table (not the entries' data: hand them back first with
 * xlev__xs_pending_drain, to fail each one). */
void xlev__xs_pending_dispose(struct xlev__xs_pending *t);

/* Records a request of @type with the owner's @data and sets *@req_id to
 * the id to send it with. XLEV_ERROR_NOMEM, or XLEV_ERROR_INVAL if 2^32 - 1
 * requests are in flight (or an argument is NULL). */
int xlev__xs_pending_add(struct xlev__xs_pending *t, uint32_t type, void *data,
                         uint32_t *req_id);

/* A reply (type @reply_type) came for @req_id: removes the request and
 * sets *@data (and *@type, if not NULL) from it. XLEV__XSW_EREQID if no
 * request has that id (nothing changes; also for req_id 0). If
 * @reply_type is neither the request's type nor XS_ERROR, the request is
 * still removed and returned, and the result is XLEV__XSW_EREPLYTYPE. */
int xlev__xs_pending_take(struct xlev__xs_pending *t, uint32_t req_id,
                          uint32_t reply_type, uint32_t *type, void **data);

/* The entry for @req_id, or NULL; the table keeps it. */
struct xlev__xs_pending_entry *
xlev__xs_pending_find(const struct xlev__xs_pending *t, uint32_t req_id);

/* Empties the table and then calls @fn (if not NULL) once for each entry
 * it held, in no particular order: to fail every request when the
 * connection is lost. The table is empty (and usable: next ids continue)
 * while @fn runs. O(capacity). */
typedef void (*xlev__xs_pending_fn)(uint32_t req_id, uint32_t type, void *data,
                                    void *user);
void xlev__xs_pending_drain(struct xlev__xs_pending *t, xlev__xs_pending_fn fn,
                            void *user);

uint32_t xlev__xs_pending_count(const struct xlev__xs_pending *t);
