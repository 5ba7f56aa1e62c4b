/* fuzz-disk-vdev.c: libFuzzer target for guest disk names (vdevs)
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * FUZZ-SOURCES: libxlev-glib/core/domain/disk-vdev.c
 *
 * Built and run by tools/fuzz. The input, cut at its first NUL, is a
 * vdev as a guest's configuration (or a hostile xenstore value) may give
 * it: "xvda", "hdc1", "sdb", "d3p2", "51712". Copied to a buffer of
 * exactly its length (ASan catches an over-read). What is checked, besides
 * "no crash, no sanitizer report (signed overflow included)":
 *  - the result is -1 or a non-negative device number;
 *  - the kind of name decides the kind of number (Xen's
 *    docs/misc/vbd-interface.txt): an "xvd" or "d<n>p<n>" name gives
 *    major 202 (disk <= 15 and partition <= 15) or the extended form
 *    (bit 28, disk < 2^20, partition < 256); "hd" gives major 3 or 22;
 *    "sd" major 8;
 *  - a number of either xvd form, written back as a canonical "xvd" name
 *    (bijective base-26 letters, then the partition) by an encoder of our
 *    own, and as "d<disk>p<part>", gives the same number again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlev-event.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

#define XVD_MAJOR 202
#define XVD_EXT (1L << 28)

/* "xvd" + the letters of disk (a=0 .. z=25, aa=26, ...) + the partition
 * (none when 0). */
static void
xvd_name(char *buf, size_t size, long disk, long part)
{
    char letters[16];
    int n = 0, i;
    size_t used;

    disk += 1; /* bijective base 26: 1 = "a" */
    while (disk > 0) {
        disk -= 1;
        letters[n++] = (char)('a' + disk % 26);
        disk /= 26;
    }
    used = (size_t)snprintf(buf, size, "xvd");
    for (i = n - 1; i >= 0 && used + 1 < size; i--)
        buf[used++] = letters[i];
    buf[used] = '\0';
    if (part > 0)
        snprintf(buf + used, size - used, "%ld", part);
}

static void
check_xvd_round_trip(int devid)
{
    long disk, part;
    char name[64];

    if (devid & XVD_EXT) {
        CHECK(devid < (XVD_EXT << 1));
        disk = (devid >> 8) & ((1L << 20) - 1);
        part = devid & 0xff;
    } else {
        CHECK((devid >> 8) == XVD_MAJOR);
        disk = (devid >> 4) & 0xf;
        part = devid & 0xf;
    }
    xvd_name(name, sizeof(name), disk, part);
    CHECK(xlev_disk_vdev_to_devid(name) == devid);
    snprintf(name, sizeof(name), "d%ldp%ld", disk, part);
    CHECK(xlev_disk_vdev_to_devid(name) == devid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t len = nul ? (size_t)(nul - data) : size;
    char *s = malloc(len + 1);
    int devid;

    if (!s)
        return 0;
    memcpy(s, data, len);
    s[len] = '\0';

    devid = xlev_disk_vdev_to_devid(s);
    CHECK(devid >= -1);
    CHECK(xlev_disk_vdev_to_devid(s) == devid); /* no hidden state */
    if (devid >= 0) {
        if (strncmp(s, "xvd", 3) == 0
            || (s[0] == 'd' && s[1] >= '0' && s[1] <= '9'))
            check_xvd_round_trip(devid);
        else if (strncmp(s, "hd", 2) == 0)
            CHECK((devid >> 8) == 3 || (devid >> 8) == 22);
        else if (strncmp(s, "sd", 2) == 0)
            CHECK((devid >> 8) == 8);
        else
            CHECK(s[0] >= '0' && s[0] <= '9'); /* a plain number */
    }
    CHECK(xlev_disk_vdev_to_devid(NULL) == -1);
    free(s);
    return 0;
}
