/* xs-wire.c: the xenstore wire protocol, as pure functions
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * See xs-wire-private.h for the contract. Everything here works on the
 * caller's structs only: no lock, no fd, no global state (the errno table
 * is constant), nothing printed.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xs-wire-private.h"

/*======================================================================*/
/* Error codes */

int
xlev__xs_wire_errno_to_rc(int errnoval)
{
    switch (errnoval) {
    case 0:
        return 0;
    case EINVAL:
        return XLEV_ERROR_INVAL;
    case EACCES:
    case EPERM:
        return XLEV_ERROR_PERM;
    case ENOENT:
        return XLEV_ERROR_NOENT;
    case EEXIST:
    case EISCONN: /* XS_INTRODUCE of a domain already introduced */
        return XLEV_ERROR_EXIST;
    case E2BIG:
        return XLEV_ERROR_TOO_BIG;
    case ENOSPC:
        return XLEV_ERROR_NOSPC;
    case EDQUOT: /* "EQUOTA" on the wire, see xlev__xs_parse_error */
        return XLEV_ERROR_QUOTA;
    case EAGAIN:
        return XLEV_ERROR_AGAIN;
    case EBUSY:
        return XLEV_ERROR_BUSY;
    case EISDIR:
        return XLEV_ERROR_ISDIR;
    case EROFS:
        return XLEV_ERROR_READONLY;
    case ENOMEM:
        return XLEV_ERROR_NOMEM;
    case EMFILE:
    case ENFILE:
        return XLEV_ERROR_MFILE;
    case ENOTEMPTY:
        return XLEV_ERROR_NOTEMPTY;
    case ENOSYS:
        return XLEV_ERROR_NOSYS;
    case EPIPE:
    case ECONNRESET:
    case ECONNREFUSED:
    case ENOTCONN:
    case ESHUTDOWN:
        return XLEV_ERROR_XENSTORE;
    default:
        return XLEV_ERROR_FAIL;
    }
}

const char *
xlev__xs_wire_strerror(int rc)
{
    switch (rc) {
    case XLEV__XSW_EOVERSIZE:
        return "xenstore message longer than XENSTORE_PAYLOAD_MAX";
    case XLEV__XSW_ETYPE:
        return "xenstore message of unknown type";
    case XLEV__XSW_EMALFORMED:
        return "malformed xenstore message payload";
    case XLEV__XSW_EERRSTR:
        return "xenstore error reply names an unknown error";
    case XLEV__XSW_EREQID:
        return "xenstore reply to no pending request";
    case XLEV__XSW_EREPLYTYPE:
        return "xenstore reply of another type than its request";
    case XLEV__XSW_ETRUNCATED:
        return "xenstore connection ended inside a message";
    case XLEV__XSW_EBROKEN:
        return "xenstore stream unreadable after an earlier error";
    default:
        return xlev_strerror(rc); /* the public codes: one table */
    }
}

int
xlev__xs_wire_is_protocol_error(int rc)
{
    return rc <= XLEV__XSW_EOVERSIZE && rc >= XLEV__XSW_EBROKEN;
}

/*======================================================================*/
/* Message types */

/* A type the daemon may send: in enum xsd_sockmsg_type, which has a hole
 * where XS_RESTRICT was ("XS_RESTRICT has been removed"). */
static int
type_known(uint32_t type)
{
    return type < XS_TYPE_COUNT && type != XS_SET_TARGET + 1;
}

/* A type a client may send: a known one except those only the daemon
 * sends. */
static int
type_is_request(uint32_t type)
{
    return type_known(type) && type != XS_WATCH_EVENT && type != XS_ERROR;
}

/*======================================================================*/
/* Reader */

void
xlev__xs_reader_init(struct xlev__xs_reader *rd)
{
    rd->have = 0;
    rd->need = XLEV__XS_HDR_SIZE;
    rd->complete = 0;
    rd->error = 0;
    memset(&rd->hdr, 0, sizeof(rd->hdr));
}

static int
reader_fail(struct xlev__xs_reader *rd, int rc)
{
    rd->error = rc;
    return rc;
}

int
xlev__xs_reader_feed(struct xlev__xs_reader *rd, const void *data, size_t len,
                     size_t *consumed, struct xlev__xs_msg *msg)
{
    const char *in = data;
    size_t taken = 0, n;
    int rc;

    if (consumed)
        *consumed = 0;
    if (!rd || !consumed || !msg || (!data && len > 0)) {
        rc = XLEV_ERROR_INVAL;
        goto out;
    }
    if (rd->error) {
        rc = XLEV__XSW_EBROKEN;
        goto out;
    }
    if (rd->complete) {
        /* The message returned last time is done with: start the next. */
        rd->complete = 0;
        rd->have = 0;
        rd->need = XLEV__XS_HDR_SIZE;
    }

    for (;;) {
        n = rd->need - rd->have;
        if (n > len - taken)
            n = len - taken;
        if (n > 0)
            memcpy(rd->buf + rd->have, in + taken, n);
        rd->have += (uint32_t)n; /* n <= need - have */
        taken += n;
        if (rd->have < rd->need) {
            rc = 0; /* all of data taken, message not complete */
            goto out;
        }
        if (rd->need == XLEV__XS_HDR_SIZE && rd->have == XLEV__XS_HDR_SIZE) {
            /* The header is in: check it before taking any payload. */
            memcpy(&rd->hdr, rd->buf, XLEV__XS_HDR_SIZE);
            if (rd->hdr.len > XENSTORE_PAYLOAD_MAX) {
                rc = reader_fail(rd, XLEV__XSW_EOVERSIZE);
                goto out;
            }
            if (!type_known(rd->hdr.type)) {
                rc = reader_fail(rd, XLEV__XSW_ETYPE);
                goto out;
            }
            rd->need = XLEV__XS_HDR_SIZE + rd->hdr.len;
            if (rd->hdr.len > 0)
                continue; /* now the payload */
        }
        break;
    }

    /* Complete. The spare byte at the end of buf takes the terminator. */
    rd->buf[rd->have] = '\0';
    rd->complete = 1;
    msg->type = rd->hdr.type;
    msg->req_id = rd->hdr.req_id;
    msg->tx_id = rd->hdr.tx_id;
    msg->len = rd->hdr.len;
    msg->payload = rd->buf + XLEV__XS_HDR_SIZE;
    rc = 1;

out:
    if (consumed)
        *consumed = taken;
    return rc;
}

int
xlev__xs_reader_eof(struct xlev__xs_reader *rd)
{
    if (!rd)
        return XLEV_ERROR_INVAL;
    if (rd->error)
        return rd->error;
    if (xlev__xs_reader_in_message(rd))
        return reader_fail(rd, XLEV__XSW_ETRUNCATED);
    return 0;
}

int
xlev__xs_reader_in_message(const struct xlev__xs_reader *rd)
{
    return rd && !rd->complete && rd->have > 0;
}

/*======================================================================*/
/* Output queue */

void
xlev__xs_outq_init(struct xlev__xs_outq *q)
{
    q->buf = NULL;
    q->head = q->tail = q->cap = 0;
}

void
xlev__xs_outq_dispose(struct xlev__xs_outq *q)
{
    if (!q)
        return;
    free(q->buf);
    xlev__xs_outq_init(q);
}

size_t
xlev__xs_outq_peek(const struct xlev__xs_outq *q, const void **data)
{
    size_t n = q ? q->tail - q->head : 0;

    if (data)
        *data = n ? q->buf + q->head : NULL;
    return n;
}

int
xlev__xs_outq_consume(struct xlev__xs_outq *q, size_t n)
{
    if (!q || n > q->tail - q->head)
        return XLEV_ERROR_INVAL;
    q->head += n;
    if (q->head == q->tail) {
        q->head = q->tail = 0;
        /* Give back what a burst needed. */
        if (q->cap > XLEV__XS_OUTQ_KEEP) {
            free(q->buf);
            q->buf = NULL;
            q->cap = 0;
        }
    }
    return 0;
}

/* Makes room for @n more bytes at the tail: compacts when the written
 * prefix is enough, else grows to the next power of two that fits. */
static int
outq_reserve(struct xlev__xs_outq *q, size_t n)
{
    size_t waiting = q->tail - q->head, want, cap;
    char *nbuf;

    if (q->cap - q->tail >= n)
        return 0;
    if (q->cap - waiting >= n) {
        memmove(q->buf, q->buf + q->head, waiting);
        q->head = 0;
        q->tail = waiting;
        return 0;
    }
    if (n > SIZE_MAX / 2 - waiting)
        return XLEV_ERROR_NOMEM;
    want = waiting + n;
    cap = q->cap ? q->cap : XLEV__XS_OUTQ_MIN;
    while (cap < want)
        cap *= 2;
    if (q->head > 0) {
        memmove(q->buf, q->buf + q->head, waiting);
        q->head = 0;
        q->tail = waiting;
    }
    nbuf = realloc(q->buf, cap);
    if (!nbuf)
        return XLEV_ERROR_NOMEM;
    q->buf = nbuf;
    q->cap = cap;
    return 0;
}

int
xlev__xs_encode(struct xlev__xs_outq *q, uint32_t type, uint32_t req_id,
                uint32_t tx_id, const struct xlev__xs_part *parts,
                unsigned int n_parts)
{
    struct xsd_sockmsg hdr;
    size_t len = 0;
    unsigned int i;
    char *w;
    int rc;

    if (!q || !type_is_request(type) || (!parts && n_parts > 0)) {
        rc = XLEV_ERROR_INVAL;
        goto out;
    }
    for (i = 0; i < n_parts; i++) {
        if (!parts[i].data && parts[i].len > 0) {
            rc = XLEV_ERROR_INVAL;
            goto out;
        }
        /* Each step is checked against the limit, so len cannot wrap. */
        if (parts[i].len > XENSTORE_PAYLOAD_MAX - len) {
            rc = XLEV_ERROR_TOO_BIG;
            goto out;
        }
        len += parts[i].len;
        if (parts[i].nul) {
            if (len == XENSTORE_PAYLOAD_MAX) {
                rc = XLEV_ERROR_TOO_BIG;
                goto out;
            }
            len++;
        }
    }

    rc = outq_reserve(q, XLEV__XS_HDR_SIZE + len);
    if (rc)
        goto out;
    hdr.type = type;
    hdr.req_id = req_id;
    hdr.tx_id = tx_id;
    hdr.len = (uint32_t)len;
    w = q->buf + q->tail;
    memcpy(w, &hdr, XLEV__XS_HDR_SIZE);
    w += XLEV__XS_HDR_SIZE;
    for (i = 0; i < n_parts; i++) {
        if (parts[i].len > 0)
            memcpy(w, parts[i].data, parts[i].len);
        w += parts[i].len;
        if (parts[i].nul)
            *w++ = '\0';
    }
    q->tail += XLEV__XS_HDR_SIZE + len;
    rc = 0;

out:
    return rc;
}

/* Checks a path's length (xs_wire.h: "violating these just gets you an
 * error back"; we refuse before sending): XENSTORE_ABS_PATH_MAX for an
 * absolute or special ('@') path, XENSTORE_REL_PATH_MAX for a relative
 * one. Sets *@len to strlen(@path). */
static int
check_path(const char *path, size_t *len)
{
    size_t max;

    if (!path || !path[0])
        return XLEV_ERROR_INVAL;
    max = (path[0] == '/' || path[0] == '@') ? XENSTORE_ABS_PATH_MAX
                                             : XENSTORE_REL_PATH_MAX;
    /* Do not walk far past the limit of a huge string. */
    *len = strnlen(path, max + 1);
    if (*len > max)
        return XLEV_ERROR_TOO_BIG;
    return 0;
}

int
xlev__xs_encode_path(struct xlev__xs_outq *q, uint32_t type, uint32_t req_id,
                     uint32_t tx_id, const char *path)
{
    struct xlev__xs_part part;
    size_t plen;
    int rc;

    rc = check_path(path, &plen);
    if (rc)
        return rc;
    part.data = path;
    part.len = plen;
    part.nul = 1;
    return xlev__xs_encode(q, type, req_id, tx_id, &part, 1);
}

int
xlev__xs_encode_write(struct xlev__xs_outq *q, uint32_t req_id, uint32_t tx_id,
                      const char *path, const void *value, size_t value_len)
{
    struct xlev__xs_part parts[2];
    size_t plen;
    int rc;

    rc = check_path(path, &plen);
    if (rc)
        return rc;
    if (!value && value_len > 0)
        return XLEV_ERROR_INVAL;
    parts[0].data = path;
    parts[0].len = plen;
    parts[0].nul = 1;
    parts[1].data = value;
    parts[1].len = value_len;
    parts[1].nul = 0;
    return xlev__xs_encode(q, XS_WRITE, req_id, tx_id, parts, 2);
}

int
xlev__xs_encode_watch(struct xlev__xs_outq *q, uint32_t type, uint32_t req_id,
                      const char *path, const char *token)
{
    struct xlev__xs_part parts[2];
    size_t plen;
    int rc;

    if (type != XS_WATCH && type != XS_UNWATCH)
        return XLEV_ERROR_INVAL;
    rc = check_path(path, &plen);
    if (rc)
        return rc;
    if (!token)
        return XLEV_ERROR_INVAL;
    parts[0].data = path;
    parts[0].len = plen;
    parts[0].nul = 1;
    parts[1].data = token;
    parts[1].len = strnlen(token, XENSTORE_PAYLOAD_MAX + 1);
    parts[1].nul = 1;
    /* A token of XENSTORE_PAYLOAD_MAX + 1 or more bytes is refused by the
     * length check in xlev__xs_encode, as the payload would be longer. */
    return xlev__xs_encode(q, type, req_id, 0, parts, 2);
}

int
xlev__xs_encode_transaction_start(struct xlev__xs_outq *q, uint32_t req_id)
{
    /* The daemon ignores the payload but wants a string: an empty one. */
    struct xlev__xs_part part = { "", 0, 1 };

    return xlev__xs_encode(q, XS_TRANSACTION_START, req_id, 0, &part, 1);
}

int
xlev__xs_encode_transaction_end(struct xlev__xs_outq *q, uint32_t req_id,
                                uint32_t tx_id, int commit)
{
    struct xlev__xs_part part = { commit ? "T" : "F", 1, 1 };

    if (tx_id == 0)
        return XLEV_ERROR_INVAL;
    return xlev__xs_encode(q, XS_TRANSACTION_END, req_id, tx_id, &part, 1);
}

/*======================================================================*/
/* Payload parsers */

/* Walks the NUL-terminated strings of a payload: calls @each (if not NULL)
 * for each with its index, and sets *@n to their number. A payload whose
 * last byte is not NUL is malformed; so is an empty string. */
typedef int (*string_fn)(const char *s, size_t len, unsigned int i, void *user);

static int
each_string(const char *p, uint32_t len, string_fn each, void *user,
            unsigned int *n)
{
    const char *s = p, *end, *nul;
    unsigned int i = 0;
    int rc;

    if (len == 0) {
        *n = 0; /* (and no arithmetic on a NULL p) */
        return 0;
    }
    if (p[len - 1] != '\0')
        return XLEV__XSW_EMALFORMED;
    end = p + len;
    while (s < end) {
        nul = memchr(s, '\0', (size_t)(end - s));
        /* The last byte is NUL, so one is always found. */
        if (nul == s)
            return XLEV__XSW_EMALFORMED;
        if (each) {
            rc = each(s, (size_t)(nul - s), i, user);
            if (rc)
                return rc;
        }
        i++;
        s = nul + 1;
    }
    *n = i;
    return 0;
}

int
xlev__xs_parse_watch_event(const char *p, uint32_t len, const char **path,
                           const char **token)
{
    const char *nul;

    if ((!p && len > 0) || !path || !token)
        return XLEV_ERROR_INVAL;
    /* "path\0token\0": XS_WATCH_PATH then XS_WATCH_TOKEN, nothing else. */
    if (len < 3 || p[len - 1] != '\0' || p[0] == '\0')
        return XLEV__XSW_EMALFORMED;
    nul = memchr(p, '\0', len);
    if (nul == p + len - 1)
        return XLEV__XSW_EMALFORMED; /* one string: no token */
    if (memchr(nul + 1, '\0', (size_t)(p + len - 1 - (nul + 1))))
        return XLEV__XSW_EMALFORMED; /* a third string */
    *path = p;
    *token = nul + 1;
    return 0;
}

struct names_out {
    const char **names;
    unsigned int max;
};

static int
store_name(const char *s, size_t len, unsigned int i, void *user)
{
    struct names_out *o = user;

    (void)len;
    if (i < o->max)
        o->names[i] = s;
    return 0;
}

int
xlev__xs_parse_directory(const char *p, uint32_t len, const char **names,
                         unsigned int max, unsigned int *n)
{
    struct names_out o = { names, max };

    if ((!p && len > 0) || !n || (!names && max > 0))
        return XLEV_ERROR_INVAL;
    return each_string(p, len, names ? store_name : NULL, &o, n);
}

/* Parses @len decimal digits at @s into *@v, refusing anything over @max
 * (and no digit at all). */
static int
parse_decimal(const char *s, size_t len, uint32_t max, uint32_t *v)
{
    uint64_t acc = 0;
    size_t i;

    if (len == 0)
        return XLEV__XSW_EMALFORMED;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return XLEV__XSW_EMALFORMED;
        acc = acc * 10 + (uint64_t)(s[i] - '0');
        if (acc > max)
            return XLEV__XSW_EMALFORMED;
    }
    *v = (uint32_t)acc;
    return 0;
}

struct perms_out {
    struct xlev__xs_perm *perms;
    unsigned int max;
};

static int
parse_perm(const char *s, size_t len, unsigned int i, void *user)
{
    struct perms_out *o = user;
    struct xlev__xs_perm perm;
    int rc;

    /* docs/misc/xenstore.txt: <perm-as-string> is a letter, then the
     * domid in decimal. */
    switch (s[0]) {
    case 'n':
        perm.mode = XLEV__XS_PERM_NONE;
        break;
    case 'r':
        perm.mode = XLEV__XS_PERM_READ;
        break;
    case 'w':
        perm.mode = XLEV__XS_PERM_WRITE;
        break;
    case 'b':
        perm.mode = XLEV__XS_PERM_BOTH;
        break;
    default:
        return XLEV__XSW_EMALFORMED;
    }
    rc = parse_decimal(s + 1, len - 1, XLEV__XS_DOMID_MAX, &perm.domid);
    if (rc)
        return rc;
    if (o->perms && i < o->max)
        o->perms[i] = perm;
    return 0;
}

int
xlev__xs_parse_perms(const char *p, uint32_t len, struct xlev__xs_perm *perms,
                     unsigned int max, unsigned int *n)
{
    struct perms_out o = { perms, max };
    unsigned int count = 0;
    int rc;

    if ((!p && len > 0) || !n || (!perms && max > 0))
        return XLEV_ERROR_INVAL;
    rc = each_string(p, len, parse_perm, &o, &count);
    if (rc)
        return rc;
    if (count == 0)
        return XLEV__XSW_EMALFORMED; /* a node always has an owner */
    *n = count;
    return 0;
}

/* The names an XS_ERROR reply may carry: xs_wire.h's xsd_errors[], then
 * what it lacks. oxenstored answers "EQUOTA" when a domain's quota is
 * reached; Linux has no EQUOTA, EDQUOT ("disk quota exceeded") is its
 * counterpart. */
static const struct xsd_errors extra_errors[] = {
    { EDQUOT, "EQUOTA" },
};

static int
lookup_errstring(const char *s, const struct xsd_errors *table, size_t n,
                 int *errnoval)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(s, table[i].errstring) == 0) {
            *errnoval = table[i].errnum;
            return 1;
        }
    }
    return 0;
}

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

int
xlev__xs_parse_error(const char *p, uint32_t len, int *errnoval)
{
    if ((!p && len > 0) || !errnoval)
        return XLEV_ERROR_INVAL;
    /* One string, NUL-terminated, nothing after it. */
    if (len < 2 || p[len - 1] != '\0' || memchr(p, '\0', len) != p + len - 1)
        return XLEV__XSW_EMALFORMED;
    if (lookup_errstring(p, xsd_errors, N_ELEMENTS(xsd_errors), errnoval)
        || lookup_errstring(p, extra_errors, N_ELEMENTS(extra_errors),
                            errnoval))
        return 0;
    return XLEV__XSW_EERRSTR;
}

int
xlev__xs_parse_tx_id(const char *p, uint32_t len, uint32_t *tx_id)
{
    uint32_t v;
    int rc;

    if ((!p && len > 0) || !tx_id)
        return XLEV_ERROR_INVAL;
    if (len < 2 || p[len - 1] != '\0')
        return XLEV__XSW_EMALFORMED;
    rc = parse_decimal(p, len - 1, UINT32_MAX, &v);
    if (rc)
        return rc;
    if (v == 0)
        return XLEV__XSW_EMALFORMED;
    *tx_id = v;
    return 0;
}

int
xlev__xs_parse_ok(const char *p, uint32_t len)
{
    if (!p && len > 0)
        return XLEV_ERROR_INVAL;
    if (len != 3 || memcmp(p, "OK", 3) != 0)
        return XLEV__XSW_EMALFORMED;
    return 0;
}

int
xlev__xs_parse_bool(const char *p, uint32_t len, int *value)
{
    if ((!p && len > 0) || !value)
        return XLEV_ERROR_INVAL;
    if (len != 2 || p[1] != '\0' || (p[0] != 'T' && p[0] != 'F'))
        return XLEV__XSW_EMALFORMED;
    *value = p[0] == 'T';
    return 0;
}

/*======================================================================*/
/* Pending requests */

void
xlev__xs_pending_init(struct xlev__xs_pending *t)
{
    t->slots = NULL;
    t->mask = 0;
    t->count = 0;
    t->next_id = 1;
}

void
xlev__xs_pending_dispose(struct xlev__xs_pending *t)
{
    if (!t)
        return;
    free(t->slots);
    xlev__xs_pending_init(t);
}

uint32_t
xlev__xs_pending_count(const struct xlev__xs_pending *t)
{
    return t ? t->count : 0;
}

/* Fibonacci hashing: ids come in sequence, any multiplier spreads them;
 * this one also spreads ids that share low bits. */
static uint32_t
slot_of(const struct xlev__xs_pending *t, uint32_t req_id)
{
    return (uint32_t)(req_id * UINT32_C(2654435769)) & t->mask;
}

static uint32_t
find_slot(const struct xlev__xs_pending *t, uint32_t req_id, int *found)
{
    uint32_t i = slot_of(t, req_id);

    /* Load <= 1/2: there is always a free slot to stop at. */
    while (t->slots[i].req_id != 0) {
        if (t->slots[i].req_id == req_id) {
            *found = 1;
            return i;
        }
        i = (i + 1) & t->mask;
    }
    *found = 0;
    return i;
}

/* Rebuilds the table with @cap slots (a power of two, more than twice the
 * entries). */
static int
pending_resize(struct xlev__xs_pending *t, uint32_t cap)
{
    struct xlev__xs_pending old = *t;
    uint32_t i, j;
    int found;

    t->slots = calloc(cap, sizeof(*t->slots));
    if (!t->slots) {
        t->slots = old.slots;
        return XLEV_ERROR_NOMEM;
    }
    t->mask = cap - 1;
    if (old.slots) {
        for (i = 0; i <= old.mask; i++) {
            if (old.slots[i].req_id == 0)
                continue;
            j = find_slot(t, old.slots[i].req_id, &found);
            t->slots[j] = old.slots[i];
        }
    }
    free(old.slots);
    return 0;
}

/* Empties slot @i, moving later entries of the same probe run back so that
 * every entry stays reachable from its home slot (no tombstones). */
static void
remove_slot(struct xlev__xs_pending *t, uint32_t i)
{
    uint32_t j = i, home;

    for (;;) {
        t->slots[i].req_id = 0;
        for (;;) {
            j = (j + 1) & t->mask;
            if (t->slots[j].req_id == 0)
                return;
            home = slot_of(t, t->slots[j].req_id);
            /* Entry j may move to i if i lies cyclically in [home, j). */
            if (((j - home) & t->mask) >= ((j - i) & t->mask))
                break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

static void
maybe_shrink(struct xlev__xs_pending *t)
{
    uint32_t cap = t->mask + 1;

    if (cap > XLEV__XS_PENDING_MIN && t->count <= cap / 8)
        (void)pending_resize(t, cap / 2); /* failure: keep the bigger one */
}

int
xlev__xs_pending_add(struct xlev__xs_pending *t, uint32_t type, void *data,
                     uint32_t *req_id)
{
    uint32_t id, i;
    int found, rc;

    if (!t || !req_id)
        return XLEV_ERROR_INVAL;
    if (t->count == UINT32_MAX - 1)
        return XLEV_ERROR_INVAL; /* every id is in flight */
    if (!t->slots || (uint64_t)(t->count + 1) * 2 > (uint64_t)t->mask + 1) {
        uint64_t cap
            = t->slots ? ((uint64_t)t->mask + 1) * 2 : XLEV__XS_PENDING_MIN;
        if (cap > (uint64_t)1 << 31)
            return XLEV_ERROR_NOMEM;
        rc = pending_resize(t, (uint32_t)cap);
        if (rc)
            return rc;
    }
    /* The next id not in flight (only after a wrap can one be). */
    for (;;) {
        id = t->next_id;
        t->next_id = id == UINT32_MAX ? 1 : id + 1;
        i = find_slot(t, id, &found);
        if (!found)
            break;
    }
    t->slots[i].req_id = id;
    t->slots[i].type = type;
    t->slots[i].data = data;
    t->count++;
    *req_id = id;
    return 0;
}

struct xlev__xs_pending_entry *
xlev__xs_pending_find(const struct xlev__xs_pending *t, uint32_t req_id)
{
    uint32_t i;
    int found;

    if (!t || !t->slots || req_id == 0)
        return NULL;
    i = find_slot(t, req_id, &found);
    return found ? &t->slots[i] : NULL;
}

int
xlev__xs_pending_take(struct xlev__xs_pending *t, uint32_t req_id,
                      uint32_t reply_type, uint32_t *type, void **data)
{
    struct xlev__xs_pending_entry *e;
    uint32_t req_type;
    int rc;

    if (!t || !data)
        return XLEV_ERROR_INVAL;
    e = xlev__xs_pending_find(t, req_id);
    if (!e)
        return XLEV__XSW_EREQID;
    req_type = e->type;
    *data = e->data;
    if (type)
        *type = req_type;
    remove_slot(t, (uint32_t)(e - t->slots));
    t->count--;
    maybe_shrink(t);
    rc = 0;
    if (reply_type != req_type && reply_type != XS_ERROR)
        rc = XLEV__XSW_EREPLYTYPE;
    return rc;
}

void
xlev__xs_pending_drain(struct xlev__xs_pending *t, xlev__xs_pending_fn fn,
                       void *user)
{
    struct xlev__xs_pending old;
    uint32_t i;

    if (!t)
        return;
    /* Empty the table first, so that @fn may use it (send a new request,
     * say) without seeing the entries it is being handed. */
    old = *t;
    t->slots = NULL;
    t->mask = 0;
    t->count = 0;
    if (old.slots && fn) {
        for (i = 0; i <= old.mask; i++) {
            if (old.slots[i].req_id != 0)
                fn(old.slots[i].req_id, old.slots[i].type, old.slots[i].data,
                   user);
        }
    }
    free(old.slots);
}
