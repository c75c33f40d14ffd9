/* SPDX-License-Identifier: MIT */
/* The kernel backend's reading of sysfs: the endpoint nodes under each
 * /sys/class/rpmsg/rpmsg_ctrlN, the channels a remote announced, and what a
 * /dev/rpmsgN belongs to. No ioctl here: device_kernel.c issues those. */
#include "device_kernel.h"
#include "remoteproc.h"
#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_child(int ctrl_index, int dev_index, struct kernel_child *out)
{
	char base[PATH_MAX], path[PATH_MAX + 8];
	snprintf(base, sizeof base, "%s/class/rpmsg/rpmsg_ctrl%d/rpmsg%d", rpmsg_sysfs_root(),
		 ctrl_index, dev_index);
	long long src, dst;
	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "%s/name", base);
	if (sysfs_read(path, out->info.name, sizeof out->info.name) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/src", base);
	if (sysfs_read_long(path, &src) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/dst", base);
	if (sysfs_read_long(path, &dst) < 0)
		return -1;
	out->index = dev_index;
	out->info.src = (uint32_t)src; /* -1 reads back as RPMSG_ANY */
	out->info.dst = (uint32_t)dst;
	return 0;
}

struct each_child_ctx {
	int ctrl_index;
	kernel_child_fn fn;
	void *ctx;
};

static int visit_child(int index, void *ctx)
{
	struct each_child_ctx *q = ctx;
	struct kernel_child c;
	return read_child(q->ctrl_index, index, &c) == 0 ? q->fn(&c, q->ctx) : 0;
}

int kernel_each_child(int ctrl_index, kernel_child_fn fn, void *ctx)
{
	char dir[64];
	snprintf(dir, sizeof dir, "class/rpmsg/rpmsg_ctrl%d", ctrl_index);
	struct each_child_ctx q = { ctrl_index, fn, ctx };
	return sysfs_each_index(dir, "rpmsg", visit_child, &q);
}

struct holder_query {
	unsigned src;
	struct rpmsg_info *holder;
	int *dev_index;
};

static int holds_src(const struct kernel_child *c, void *ctx)
{
	struct holder_query *q = ctx;
	if (c->info.src != q->src)
		return 0;
	*q->holder = c->info;
	*q->dev_index = c->index;
	return 1;
}

/* The bus device a control device hangs under ("virtio1.rpmsg_ctrl.0.0"):
 * its part before the first dot names the remote's virtio device. Copies
 * "virtio1." into prefix; -1 if sysfs does not say. */
static int remote_prefix(int ctrl_index, char *prefix, size_t cap)
{
	char link[PATH_MAX], target[PATH_MAX];
	snprintf(link, sizeof link, "%s/class/rpmsg/rpmsg_ctrl%d", rpmsg_sysfs_root(), ctrl_index);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n <= 0)
		return -1;
	target[n] = '\0';
	/* .../virtio1/virtio1.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0 */
	char *bus = strstr(target, ".rpmsg_ctrl.");
	if (!bus)
		return -1;
	char *start = bus;
	while (start > target && start[-1] != '/')
		start--;
	if ((size_t)(bus - start) + 2 > cap)
		return -1;
	snprintf(prefix, cap, "%.*s.", (int)(bus - start), start);
	return 0;
}

/* A channel the remote announced (rpmsg-raw, rpmsg-tty, ...) binds a dynamic
 * local address when a driver takes it, from 1024 up, and only the bus
 * device's src shows it: a CREATE on that src would make a node that can be
 * neither opened nor destroyed. */
static int channel_holds_src(int ctrl_index, unsigned src, struct rpmsg_info *holder)
{
	char prefix[64], dir[PATH_MAX];
	if (remote_prefix(ctrl_index, prefix, sizeof prefix) < 0)
		return 0;
	snprintf(dir, sizeof dir, "%s/bus/rpmsg/devices", rpmsg_sysfs_root());
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		char path[PATH_MAX + 300], value[32];
		snprintf(path, sizeof path, "%s/%s/src", dir, de->d_name);
		if (sysfs_read(path, value, sizeof value) < 0 || strtoul(value, NULL, 0) != src)
			continue;
		memset(holder, 0, sizeof *holder);
		snprintf(path, sizeof path, "%s/%s/name", dir, de->d_name);
		if (sysfs_read(path, holder->name, sizeof holder->name) < 0)
			snprintf(holder->name, sizeof holder->name, "%.31s", de->d_name);
		holder->src = src;
		found = 1;
	}
	closedir(d);
	return found;
}

int kernel_src_holder(struct rpmsg_backend *b, int ctrl_index, unsigned src,
			     struct rpmsg_info *holder, int *dev_index)
{
	(void)b;
	struct holder_query q = { src, holder, dev_index };
	if (kernel_each_child(ctrl_index, holds_src, &q) == 1)
		return 1;
	*dev_index = -1;   /* a channel: no /dev/rpmsgN of ours */
	return channel_holds_src(ctrl_index, src, holder);
}

struct find_query {
	const struct rpmsg_info *info;
	int found;
};

static int find_info(const struct kernel_child *c, void *ctx)
{
	struct find_query *s = ctx;
	if (!rpmsg_info_equal(&c->info, s->info))
		return 0;
	s->found = c->index;
	return 1;
}

int kernel_find(struct rpmsg_backend *b, int ctrl_index, const struct rpmsg_info *info,
		       struct rpmsg_err *e)
{
	(void)b;
	struct find_query s = { .info = info, .found = -1 };
	kernel_each_child(ctrl_index, find_info, &s);
	if (s.found < 0)
		return rpmsg_fail(e, ENOENT, "no endpoint '%s' (src %u, dst %u) under rpmsg_ctrl%d",
				  info->name, info->src, info->dst, ctrl_index);
	return s.found;
}

void kernel_describe_endpoint(struct rpmsg_ep *ep)
{
	char link[PATH_MAX], target[PATH_MAX];
	snprintf(link, sizeof link, "%s/class/rpmsg/rpmsg%d", rpmsg_sysfs_root(), ep->index);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	char *slash = strrchr(target, '/');
	if (!slash)
		return;
	*slash = '\0';  /* the parent directory is rpmsg_ctrlN */
	int ctrl = rpmsg_parse_index(target, "rpmsg_ctrl");
	struct kernel_child c;
	if (ctrl >= 0 && read_child(ctrl, ep->index, &c) == 0) {
		ep->ctrl_index = ctrl;
		ep->info = c.info;
	}
}

struct each_query {
	rpmsg_ctrl_fn ctrl_fn;
	rpmsg_endpoint_fn endpoint_fn;
	void *ctx;
};

static int each_ctrl_index(int index, void *ctx)
{
	struct each_query *q = ctx;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/rpmsg_ctrl%d", rpmsg_dev_root(), index);
	return q->ctrl_fn(index, path, q->ctx);
}

int kernel_each_ctrl(struct rpmsg_backend *b, rpmsg_ctrl_fn fn, void *ctx)
{
	(void)b;
	struct each_query q = { .ctrl_fn = fn, .ctx = ctx };
	return sysfs_each_index("class/rpmsg", "rpmsg_ctrl", each_ctrl_index, &q);
}

static int each_endpoint_child(const struct kernel_child *c, void *ctx)
{
	struct each_query *q = ctx;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/rpmsg%d", rpmsg_dev_root(), c->index);
	return q->endpoint_fn(c->index, path, &c->info, q->ctx);
}

int kernel_each_endpoint(struct rpmsg_backend *b, int ctrl_index, rpmsg_endpoint_fn fn,
				void *ctx)
{
	(void)b;
	struct each_query q = { .endpoint_fn = fn, .ctx = ctx };
	return kernel_each_child(ctrl_index, each_endpoint_child, &q);
}

int kernel_each_rproc(struct rpmsg_backend *b, rpmsg_rproc_fn fn, void *ctx)
{
	(void)b;
	return rproc_each(fn, ctx);
}

