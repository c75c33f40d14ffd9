/* SPDX-License-Identifier: MIT */
/* remoteproc through sysfs: /sys/class/remoteproc/remoteprocN/{name,state,
 * firmware,recovery}, found by name or index, and the rpmsg_ctrlN that sits
 * under it. No Lua here. */
#ifndef RPMSG_REMOTEPROC_H
#define RPMSG_REMOTEPROC_H

#include <limits.h>
#include <stddef.h>

#include "rpmsg_err.h"

struct rproc {
	int index;              /* N of remoteprocN */
	char name[64];          /* its `name` attribute, e.g. "r5f0" or "4000000.m4" */
	char dir[PATH_MAX];     /* its sysfs directory */
};

/* By name (name != NULL) or by index. */
int rproc_find(const char *name, int index, struct rproc *r, struct rpmsg_err *e);
int rproc_read(const struct rproc *r, const char *attr, char *buf, size_t cap, struct rpmsg_err *e);
int rproc_write(const struct rproc *r, const char *attr, const char *value, struct rpmsg_err *e);
/* Writes "start". Refuses a crashed core (recovery off): the kernel would
 * answer success, do nothing, and count one more user, so that the next stop
 * did nothing either. */
int rproc_start(const struct rproc *r, struct rpmsg_err *e);
/* The index of the rpmsg_ctrlN whose device lives under this remoteproc, or
 * -ENODEV while it has none (stopped). */
int rproc_ctrl_index(const struct rproc *r, struct rpmsg_err *e);
/* Calls fn for each remoteproc until it returns nonzero. */
int rproc_each(int (*fn)(const struct rproc *r, void *ctx), void *ctx);

#endif
