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
/* For a core a bootloader started: attach writes "start" to a detached
 * core (the kernel attaches instead of loading firmware), detach writes
 * "detach" to an attached one (it keeps running, Linux lets go). Either
 * refuses any other state first, naming it. (remoteproc_ops.c) */
int rproc_attach(const struct rproc *r, struct rpmsg_err *e);
int rproc_detach(const struct rproc *r, struct rpmsg_err *e);
/* The devcoredump the kernel made for this core's last crash (with
 * coredump "enabled" or "inline"): the path of its `data` into path, or
 * -ENOENT. */
int rproc_dump_find(const struct rproc *r, char *path, size_t cap, struct rpmsg_err *e);
/* Reads it to the end, in chunks to sink, then frees it (a write to data),
 * which lets an "inline" recovery go on. Returns the byte count. */
long long rproc_dump_read(const char *path, int (*sink)(const void *buf, size_t len, void *ctx),
			  void *ctx, struct rpmsg_err *e);
/* The text of that trace buffer now (up to its first NUL, as the kernel
 * gives it), into a malloc'd *text; -errno naming the file. */
int rproc_trace_read(const struct rproc *r, int k, char **text, size_t *len, struct rpmsg_err *e);

/* Calls fn for each remoteproc until it returns nonzero. */
int rproc_each(int (*fn)(const struct rproc *r, void *ctx), void *ctx);

#endif
