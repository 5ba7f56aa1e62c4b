/* disk-vdev.c: guest disk names as Xen device numbers
 *
 * Copyright (C) 2026 The libxlev-glib authors
 * SPDX-License-Identifier: LGPL-2.1-only
 *
 * xlev_disk_vdev_to_devid(): what libxl computes from the name a guest
 * disk is configured with ("xvda", "hdc", "d0p1", "51712"), the devid
 * under which its frontend and backend live in xenstore (disk-eject.c
 * finds the backend with it).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../loop/loop-private.h"
#include "xlev-domain.h"

/* Parses the drive letters of "<prefix><letters>[<partition>]" as libxl
 * does: letters are a bijective base-26 number (a=0, z=25, aa=26); the
 * partition is decimal without leading zeroes. 1 on success. */
static int
vdev_parse_letters(const char *s, const char *prefix, long max_disk,
                   long max_part, long *disk_out, long *part_out)
{
    size_t pl = strlen(prefix);
    long disk = -1, part = 0;
    const char *p;
    char *end;

    if (strncmp(s, prefix, pl) != 0)
        return 0;
    p = s + pl;
    if (*p < 'a' || *p > 'z')
        return 0;
    while (*p >= 'a' && *p <= 'z') {
        disk = (disk + 1) * 26 + (*p - 'a');
        if (disk > max_disk)
            return 0;
        p++;
    }
    if (*p) {
        if (*p < '1' || *p > '9')
            return 0;
        errno = 0;
        part = strtol(p, &end, 10);
        if (errno || *end || part > max_part)
            return 0;
    }
    *disk_out = disk;
    *part_out = part;
    return 1;
}

/* A decimal number at *s: digits only (no sign, no blank, no leading
 * zero but "0" itself), at most max; *s moves past it. 1 on success. */
static int
vdev_parse_decimal(const char **s, long max, long *out)
{
    const char *p = *s;
    long v = 0;

    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > max)
            return 0;
    }
    *s = p;
    *out = v;
    return 1;
}

/* "d<disk>p<partition>", both decimal as vdev_parse_decimal() reads
 * them. 1 on success. */
static int
vdev_parse_dp(const char *s, long max_disk, long max_part, long *disk_out,
              long *part_out)
{
    const char *p = s;

    if (*p++ != 'd' || !vdev_parse_decimal(&p, max_disk, disk_out)
        || *p++ != 'p' || !vdev_parse_decimal(&p, max_part, part_out))
        return 0;
    return *p == '\0';
}

/* Xen's device numbers (docs/misc/vbd-interface.txt). */
#define VBD_XVD_MAJOR 202
#define VBD_XVD_EXT (1L << 28)
#define VBD_XVD_EXT_MAX_DISK ((1L << 20) - 1)
#define VBD_XVD_EXT_MAX_PART 255
#define VBD_XVD_MAX_DISK_SHORT 15
#define VBD_XVD_MAX_PART_SHORT 15
#define VBD_HD_MAJOR_01 3
#define VBD_HD_MAJOR_23 22
#define VBD_HD_MAX_DISK 3
#define VBD_HD_MAX_PART 63
#define VBD_SD_MAJOR 8
#define VBD_SD_MAX_DISK 15
#define VBD_SD_MAX_PART 15

int
xlev_disk_vdev_to_devid(const char *vdev)
{
    long disk, part;
    char *end;

    if (!vdev || !*vdev)
        return -1;

    /* "d<disk>p<partition>" (digits only: "d-0p00" or "d 1p2" is no
     * name, found by tests/fuzz/fuzz-disk-vdev.c) or
     * "xvd<letters>[<partition>]" */
    if (vdev_parse_dp(vdev, VBD_XVD_EXT_MAX_DISK, VBD_XVD_EXT_MAX_PART, &disk,
                      &part)
        || vdev_parse_letters(vdev, "xvd", VBD_XVD_EXT_MAX_DISK,
                              VBD_XVD_EXT_MAX_PART, &disk, &part)) {
        if (disk <= VBD_XVD_MAX_DISK_SHORT && part <= VBD_XVD_MAX_PART_SHORT)
            return (int)((VBD_XVD_MAJOR << 8) | (disk << 4) | part);
        return (int)(VBD_XVD_EXT | (disk << 8) | part);
    }

    /* a plain device number */
    if (*vdev >= '0' && *vdev <= '9') {
        unsigned long ul;

        errno = 0;
        ul = strtoul(vdev, &end, 0);
        if (!errno && !*end && ul <= INT_MAX)
            return (int)ul;
        return -1;
    }

    if (vdev_parse_letters(vdev, "hd", VBD_HD_MAX_DISK, VBD_HD_MAX_PART, &disk,
                           &part))
        return (int)(((disk < 2 ? VBD_HD_MAJOR_01 : VBD_HD_MAJOR_23) << 8)
                     | ((disk & 1) << 6) | part);
    if (vdev_parse_letters(vdev, "sd", VBD_SD_MAX_DISK, VBD_SD_MAX_PART, &disk,
                           &part))
        return (int)((VBD_SD_MAJOR << 8) | (disk << 4) | part);
    return -1;
}
