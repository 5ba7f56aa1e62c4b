#!/usr/bin/env python3
# Writes the seed inputs of tests/fuzz/corpus/xs-wire/ (see the input
# format in tests/fuzz/fuzz-xs-wire.c): a few valid daemon streams, as
# xen/io/xs_wire.h defines them (host byte order: little-endian here);
# and those of tests/fuzz/corpus/xs-watch-token/ (tests/fuzz/
# fuzz-xs-watch-token.c: a byte for the number of slots, 255 for INT_MAX,
# then the token), the tokens watch.c makes and their near misses.
# Regression inputs found by fuzzing sit next to them, named crash-*; this
# script does not touch those.
import os
import struct
import sys

XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH = 1, 2, 3, 4
XS_TRANSACTION_START, XS_WRITE, XS_WATCH_EVENT, XS_ERROR = 6, 11, 15, 16
XS_IS_DOMAIN_INTRODUCED = 17


def msg(type_, req_id, tx_id, payload):
    return struct.pack('<IIII', type_, req_id, tx_id, len(payload)) + payload


def seed(sizes, stream):
    return bytes([len(sizes)]) + bytes(s - 1 for s in sizes) + stream


replies = b''.join([
    msg(XS_WRITE, 1, 0, b'OK\0'),
    msg(XS_READ, 2, 0, b'hello'),
    msg(XS_ERROR, 3, 0, b'ENOENT\0'),
    msg(XS_DIRECTORY, 4, 0, b'a\0bb\0ccc\0'),
    msg(XS_GET_PERMS, 5, 0, b'n0\0r5\0w3\0b7\0'),
    msg(XS_TRANSACTION_START, 6, 0, b'42\0'),
    msg(XS_WRITE, 7, 42, b'OK\0'),
    msg(XS_WATCH, 8, 0, b'OK\0'),
    msg(XS_WATCH_EVENT, 0, 0, b'/local/domain/1\0tok\0'),
    msg(XS_IS_DOMAIN_INTRODUCED, 9, 0, b'T\0'),
    msg(XS_ERROR, 10, 0, b'EQUOTA\0'),
    msg(XS_DIRECTORY, 11, 0, b''),
])

seeds = {
    'watch-event-one-chunk': seed([], msg(XS_WATCH_EVENT, 0, 0,
                                          b'@releaseDomain\0t\0')),
    'replies-split-1-7-16': seed([1, 7, 16], replies),
    'replies-one-chunk': seed([], replies),
    'replies-bytewise': seed([1], replies),
    'max-payload': seed([200, 3], msg(XS_READ, 12, 0, b'v' * 4096)),
    'oversized-len': seed([], struct.pack('<IIII', XS_READ, 1, 0, 4097)),
    'oversized-len-with-payload': seed([64], msg(XS_READ, 1, 0, b'w' * 4097)),
    'unknown-type': seed([3], msg(20, 1, 0, b'OK\0')),
    'truncated': seed([5], msg(XS_READ, 1, 0, b'abcdef')[:19]),
}


def token(nslots, text):
    return bytes([nslots]) + text


NSLOTS_INT_MAX = 255

token_seeds = {
    'first-slot': token(4, b'0/0'),
    'counter': token(16, b'3/1f'),
    'largest': token(NSLOTS_INT_MAX, b'2147483647/ffffffff'),
    'slot-overflow': token(NSLOTS_INT_MAX, b'2147483648/0'),
    'counter-overflow': token(4, b'1/100000000'),
    'slot-out-of-range': token(4, b'4/0'),
    'leading-zero-slot': token(4, b'01/0'),
    'leading-zero-counter': token(4, b'1/00'),
    'signed': token(4, b'+1/-1'),
    'hex-prefix': token(4, b'1/0x1'),
    'upper-case': token(16, b'1/FF'),
    'spaces': token(4, b' 1/ 1'),
    'trailing': token(4, b'1/1x'),
    'no-slash': token(4, b'11'),
    'empty': token(4, b''),
    'embedded-nul': token(4, b'1/1\0junk'),
}


def write(corpus, seeds):
    out = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])),
                       'corpus', corpus)
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


write('xs-wire', seeds)
write('xs-watch-token', token_seeds)
