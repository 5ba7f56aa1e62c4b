/* fuzz-xs-wire.c: libFuzzer target for the xenstore wire protocol layer
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * FUZZ-SOURCES: libxlev-glib/core/xs/xs-wire.c libxlev-glib/core/loop/strerror.c
 *
 * Built and run by tools/fuzz (clang -fsanitize=fuzzer,address,undefined).
 *
 * An input is a byte stream as a daemon would send it, preceded by where to
 * split it:
 *
 *     byte 0          k = byte & 15: how many chunk sizes follow
 *     bytes 1..k      chunk sizes, each byte + 1 (1..256), used in turn
 *     the rest        the stream; with k = 0 it is fed in one chunk
 *
 * What is checked, besides "no crash, no sanitizer report, no leak":
 *  - the reader fed in those chunks yields the same messages and ends in
 *    the same state as a reader fed the whole stream at once;
 *  - every message keeps the reader's promises (len <= XENSTORE_PAYLOAD_MAX,
 *    a NUL after the payload, a known type) and every error is one of the
 *    protocol codes;
 *  - every payload goes through every parser, whose results point inside
 *    the payload;
 *  - a message of a request type, encoded again through the output queue
 *    and drained in pieces, reads back identical;
 *  - the pending table stays consistent as replies take requests out.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xs/xs-wire-private.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

/* A running digest of the messages a reader yields. */
struct digest {
    uint64_t h;
    unsigned int n;
};

static void
digest_add(struct digest *d, const struct xlev__xs_msg *m)
{
    const unsigned char *p = (const unsigned char *)m->payload;
    uint32_t hdr[4] = { m->type, m->req_id, m->tx_id, m->len };
    const unsigned char *q = (const unsigned char *)hdr;
    uint32_t i;

    for (i = 0; i < sizeof(hdr); i++)
        d->h = (d->h ^ q[i]) * UINT64_C(0x100000001b3);
    for (i = 0; i < m->len; i++)
        d->h = (d->h ^ p[i]) * UINT64_C(0x100000001b3);
    d->n++;
}

static int
inside(const char *s, const struct xlev__xs_msg *m)
{
    return s >= m->payload && s < m->payload + m->len;
}

static void
check_parsers(const struct xlev__xs_msg *m)
{
    const char *path, *token, *names[8];
    struct xlev__xs_perm perms[8];
    unsigned int n, i;
    uint32_t tx;
    int rc, e, b;

    rc = xlev__xs_parse_watch_event(m->payload, m->len, &path, &token);
    CHECK(rc == 0 || rc == XLEV__XSW_EMALFORMED);
    if (rc == 0) {
        CHECK(inside(path, m) && inside(token, m) && path[0] != '\0');
        CHECK(strlen(path) + 1 + strlen(token) + 1 == m->len);
    }

    rc = xlev__xs_parse_directory(m->payload, m->len, names, 8, &n);
    CHECK(rc == 0 || rc == XLEV__XSW_EMALFORMED);
    if (rc == 0) {
        for (i = 0; i < n && i < 8; i++)
            CHECK(inside(names[i], m) && names[i][0] != '\0');
        CHECK(n <= m->len / 2);
    }

    rc = xlev__xs_parse_perms(m->payload, m->len, perms, 8, &n);
    CHECK(rc == 0 || rc == XLEV__XSW_EMALFORMED);
    if (rc == 0) {
        CHECK(n >= 1);
        for (i = 0; i < n && i < 8; i++)
            CHECK(perms[i].domid <= XLEV__XS_DOMID_MAX
                  && perms[i].mode <= XLEV__XS_PERM_BOTH);
    }

    e = -1;
    rc = xlev__xs_parse_error(m->payload, m->len, &e);
    CHECK(rc == 0 || rc == XLEV__XSW_EMALFORMED || rc == XLEV__XSW_EERRSTR);
    if (rc == 0)
        CHECK(e > 0 && xlev__xs_wire_errno_to_rc(e) < 0
              && xlev__xs_wire_errno_to_rc(e) != XLEV_ERROR_XENSTORE);
    else
        CHECK(e == -1);

    rc = xlev__xs_parse_tx_id(m->payload, m->len, &tx);
    CHECK(rc == 0 || rc == XLEV__XSW_EMALFORMED);
    if (rc == 0)
        CHECK(tx != 0);

    rc = xlev__xs_parse_ok(m->payload, m->len);
    CHECK(rc == 0 || rc == XLEV__XSW_EMALFORMED);
    rc = xlev__xs_parse_bool(m->payload, m->len, &b);
    CHECK(rc == 0 || rc == XLEV__XSW_EMALFORMED);
}

/* Encodes @m again (as a request, when its type is one) and reads it back
 * through a second reader, draining the queue @step bytes at a time. */
static void
check_roundtrip(const struct xlev__xs_msg *m, size_t step)
{
    static struct xlev__xs_reader rd;
    struct xlev__xs_outq q;
    struct xlev__xs_part part = { m->payload, m->len, 0 };
    struct xlev__xs_msg back;
    const void *data;
    size_t n, used;
    int rc, got = 0;

    xlev__xs_outq_init(&q);
    rc = xlev__xs_encode(&q, m->type, m->req_id, m->tx_id, &part, 1);
    if (m->type == XS_WATCH_EVENT || m->type == XS_ERROR) {
        CHECK(rc == XLEV_ERROR_INVAL);
        CHECK(xlev__xs_outq_peek(&q, NULL) == 0);
        xlev__xs_outq_dispose(&q);
        return;
    }
    CHECK(rc == 0);
    CHECK(xlev__xs_outq_peek(&q, NULL) == XLEV__XS_HDR_SIZE + m->len);

    /* A string-shaped payload also goes through the typed encoders. */
    if (m->len > 0 && m->payload[m->len - 1] == '\0') {
        rc = xlev__xs_encode_path(&q, XS_READ, 1, 0, m->payload);
        CHECK(rc == 0 || rc == XLEV_ERROR_INVAL || rc == XLEV_ERROR_TOO_BIG);
        rc = xlev__xs_encode_watch(&q, XS_WATCH, 2, m->payload,
                                   m->payload + strlen(m->payload) / 2);
        CHECK(rc == 0 || rc == XLEV_ERROR_INVAL || rc == XLEV_ERROR_TOO_BIG);
        rc = xlev__xs_encode_write(&q, 3, 0, m->payload, m->payload, m->len);
        CHECK(rc == 0 || rc == XLEV_ERROR_INVAL || rc == XLEV_ERROR_TOO_BIG);
    }

    xlev__xs_reader_init(&rd);
    while ((n = xlev__xs_outq_peek(&q, &data)) > 0) {
        if (n > step)
            n = step;
        rc = xlev__xs_reader_feed(&rd, data, n, &used, &back);
        CHECK(rc == 0 || rc == 1);
        CHECK(xlev__xs_outq_consume(&q, used) == 0);
        if (rc == 1 && !got) {
            got = 1;
            CHECK(back.type == m->type && back.req_id == m->req_id
                  && back.tx_id == m->tx_id && back.len == m->len
                  && memcmp(back.payload, m->payload, m->len) == 0);
        }
    }
    CHECK(got);
    CHECK(xlev__xs_reader_eof(&rd) == 0);
    xlev__xs_outq_dispose(&q);
}

static void
check_pending(struct xlev__xs_pending *t, const struct xlev__xs_msg *m)
{
    uint32_t id, type, before = xlev__xs_pending_count(t);
    void *data;
    int rc;

    /* Some requests in flight, with the message's type, so that replies
     * with small req_ids find them. */
    if ((m->req_id & 3) != 0 && xlev__xs_pending_count(t) < 64) {
        CHECK(xlev__xs_pending_add(t, m->type, (void *)(uintptr_t)m->len, &id)
              == 0);
        CHECK(id != 0 && xlev__xs_pending_find(t, id) != NULL);
        before++;
    }
    rc = xlev__xs_pending_take(t, m->req_id, m->type, &type, &data);
    if (rc == XLEV__XSW_EREQID) {
        CHECK(xlev__xs_pending_count(t) == before);
    } else {
        CHECK(rc == 0 || rc == XLEV__XSW_EREPLYTYPE);
        CHECK(xlev__xs_pending_count(t) == before - 1);
        CHECK(xlev__xs_pending_find(t, m->req_id) == NULL);
        CHECK((rc == 0) == (type == m->type || m->type == XS_ERROR));
    }
}

/* Feeds @len bytes at @s in chunks of @sizes (cycled; one chunk if
 * @n_sizes is 0). Returns the final error (or 0) and the digest. */
static int
run_reader(struct xlev__xs_reader *rd, const uint8_t *s, size_t len,
           const uint8_t *sizes, size_t n_sizes, struct digest *d,
           struct xlev__xs_pending *t)
{
    struct xlev__xs_msg m;
    size_t off = 0, end, used, k = 0;
    int rc = 0;

    xlev__xs_reader_init(rd);
    while (off < len) {
        end = n_sizes ? off + (size_t)sizes[k++ % n_sizes] + 1 : len;
        if (end > len)
            end = len;
        while (off < end) {
            rc = xlev__xs_reader_feed(rd, s + off, end - off, &used, &m);
            CHECK(used <= end - off);
            off += used;
            if (rc < 0) {
                CHECK(xlev__xs_wire_is_protocol_error(rc));
                CHECK(rc == XLEV__XSW_EOVERSIZE || rc == XLEV__XSW_ETYPE);
                CHECK(xlev__xs_reader_feed(rd, s, len, &used, &m)
                      == XLEV__XSW_EBROKEN);
                CHECK(xlev__xs_reader_eof(rd) == rc);
                return rc;
            }
            if (rc == 1) {
                CHECK(m.len <= XENSTORE_PAYLOAD_MAX);
                CHECK(m.payload[m.len] == '\0');
                CHECK(m.type < XS_TYPE_COUNT);
                digest_add(d, &m);
                if (t) {
                    check_parsers(&m);
                    check_roundtrip(&m,
                                    n_sizes ? (size_t)sizes[0] + 1 : SIZE_MAX);
                    check_pending(t, &m);
                }
            } else {
                CHECK(off == end);
            }
        }
    }
    return xlev__xs_reader_eof(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct xlev__xs_reader split, whole;
    struct xlev__xs_pending t;
    struct digest d1 = { UINT64_C(0xcbf29ce484222325), 0 };
    struct digest d2 = d1;
    size_t k;
    int rc1, rc2;

    if (size < 1)
        return 0;
    k = data[0] & 15;
    if (size < 1 + k)
        return 0;

    xlev__xs_pending_init(&t);
    rc1 = run_reader(&split, data + 1 + k, size - 1 - k, data + 1, k, &d1, &t);
    rc2 = run_reader(&whole, data + 1 + k, size - 1 - k, NULL, 0, &d2, NULL);
    CHECK(rc1 == rc2 && d1.n == d2.n && d1.h == d2.h);
    CHECK(rc1 == 0 || rc1 == XLEV__XSW_EOVERSIZE || rc1 == XLEV__XSW_ETYPE
          || rc1 == XLEV__XSW_ETRUNCATED);
    xlev__xs_pending_drain(&t, NULL, NULL);
    CHECK(xlev__xs_pending_count(&t) == 0);
    xlev__xs_pending_dispose(&t);
    return 0;
}
