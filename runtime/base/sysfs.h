/* SPDX-License-Identifier: MIT */
/* Where the kernel's files are: /dev and /sys, or the roots named by
 * RPMSG_DEV_ROOT and RPMSG_SYSFS_ROOT, so tests can point them at a
 * prepared tree. Small helpers to read sysfs attributes. */
#ifndef RPMSG_SYSFS_H
#define RPMSG_SYSFS_H

#include <stddef.h>

const char *rpmsg_dev_root(void);
const char *rpmsg_sysfs_root(void);

/* Reads a one-line attribute without its newline; -errno on failure. */
int sysfs_read(const char *path, char *buf, size_t cap);
/* Reads a decimal attribute (sysfs prints RPMSG_ADDR_ANY as -1). */
int sysfs_read_long(const char *path, long long *out);

/* The name (rpmsg3, rpmsg_ctrl0, null) and class (rpmsg, mem, tty) of the
 * character device MAJ:MIN, from /sys/dev/char/MAJ:MIN; -errno when sysfs
 * does not know it. */
int sysfs_char_device(unsigned maj, unsigned min, char *name, size_t name_cap, char *cls,
		      size_t cls_cap);

/* Calls fn(N) for each entry PREFIXN of dir (relative to the sysfs root)
 * until fn returns nonzero; returns that, or -errno if dir is unreadable. */
int sysfs_each_index(const char *dir, const char *prefix, int (*fn)(int index, void *ctx),
		     void *ctx);

/* N of a device named PREFIXN (the path's last component); -1 if it is
 * not one. */
int rpmsg_parse_index(const char *path, const char *prefix);

#endif
