/* SPDX-License-Identifier: MIT */
/* The kernel backend: /dev/rpmsg_ctrlN and /dev/rpmsgN through rpmsg_ctrl and
 * rpmsg_char. CREATE_EPT never says which rpmsgN it made, so the new node is
 * found under /sys/class/rpmsg/rpmsg_ctrlN/ by its name, src and dst. */
#include "device_kernel.h"
#include "rpmsg_abi.h"
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The node's path (given, or ROOT/PREFIXN) and the N that sysfs knows it
 * by, which a symlinked path resolves to. */
static int node_path(char *out, size_t cap, const char *path, const char *prefix, int index)
{
	if (path)
		snprintf(out, cap, "%s", path);
	else
		snprintf(out, cap, "%s/%s%d", rpmsg_dev_root(), prefix, index);
	char real[PATH_MAX];
	return rpmsg_parse_index(realpath(out, real) ? real : out, prefix);
}

static bool child_is(const struct kernel_child *c, const struct rpmsg_info *info)
{
	return rpmsg_info_equal(&c->info, info);
}

static int kernel_ctrl_open(struct rpmsg_backend *b, const char *path, int index,
			    struct rpmsg_ctrl *c, struct rpmsg_err *e)
{
	(void)b;
	c->index = node_path(c->path, sizeof c->path, path, "rpmsg_ctrl", index);
	c->fd = open(c->path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		int err = errno;
		return rpmsg_fail(e, err, "open %s: %s%s", c->path, strerror(err),
				  err == ENOENT ? " (is rpmsg_ctrl loaded and the remote running?)" : "");
	}
	if (c->index < 0) {
		close(c->fd);
		return rpmsg_fail(e, EINVAL, "%s is not named rpmsg_ctrlN: cannot find it in sysfs",
				  c->path);
	}
	return 0;
}

static void kernel_ctrl_close(struct rpmsg_ctrl *c)
{
	if (c->fd >= 0)
		close(c->fd);
}

/* Which endpoints already match, so the new one is told from older twins. */
struct snapshot {
	const struct rpmsg_info *info;
	unsigned char seen[4096];   /* bit per rpmsgN index */
	int found;
};

static int mark_seen(const struct kernel_child *c, void *ctx)
{
	struct snapshot *s = ctx;
	if (child_is(c, s->info) && c->index < (int)sizeof s->seen * 8)
		s->seen[c->index / 8] |= (unsigned char)(1u << (c->index % 8));
	return 0;
}

static int find_new(const struct kernel_child *c, void *ctx)
{
	struct snapshot *s = ctx;
	bool old = c->index < (int)sizeof s->seen * 8 &&
		   (s->seen[c->index / 8] & (1u << (c->index % 8)));
	if (!child_is(c, s->info) || old)
		return 0;
	s->found = c->index;
	return 1;
}

/* A control fd outlives its device when the remote goes away, and
 * CREATE_EPT on it then fails with a kernel warning: check first that sysfs
 * still shows rpmsg_ctrlN with our fd's device number. */
static int check_ctrl_alive(const struct rpmsg_ctrl *c, struct rpmsg_err *e)
{
	char path[PATH_MAX], dev[32];
	struct stat st;
	snprintf(path, sizeof path, "%s/class/rpmsg/rpmsg_ctrl%d/dev", rpmsg_sysfs_root(), c->index);
	if (fstat(c->fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return 0;   /* not a device (a prepared test tree): nothing to compare */
	unsigned maj, min;
	if (sysfs_read(path, dev, sizeof dev) < 0 || sscanf(dev, "%u:%u", &maj, &min) != 2 ||
	    makedev(maj, min) != st.st_rdev)
		return rpmsg_fail(e, ENODEV, "%s is gone (the remote processor stopped?): open the "
				  "control device again", c->path);
	return 0;
}

static int kernel_create(struct rpmsg_ctrl *c, const struct rpmsg_info *info, int *dev_index,
			 struct rpmsg_err *e)
{
	int r = check_ctrl_alive(c, e);
	if (r < 0)
		return r;
	struct snapshot s = { .info = info, .found = -1 };
	kernel_each_child(c->index, mark_seen, &s);
	struct rpmsg_endpoint_info k;
	rpmsg_info_encode(info, (unsigned char *)&k);
	if (ioctl(c->fd, RPMSG_CREATE_EPT_IOCTL, &k) < 0)
		return rpmsg_fail_errno(e, errno, "create endpoint '%s' (src %u, dst %u) on %s",
					info->name, info->src, info->dst, c->path);
	kernel_each_child(c->index, find_new, &s);
	if (s.found < 0)
		return rpmsg_fail(e, ENOENT,
				  "created endpoint '%s' but found no node for it under %s/class/rpmsg/rpmsg_ctrl%d",
				  info->name, rpmsg_sysfs_root(), c->index);
	*dev_index = s.found;
	return 0;
}

static int kernel_ep_open(struct rpmsg_backend *b, const char *path, int index,
			  struct rpmsg_ep *ep, struct rpmsg_err *e)
{
	(void)b;
	ep->index = node_path(ep->path, sizeof ep->path, path, "rpmsg", index);
	/* Looked at before it is opened (no open side effects on a tty, no
	 * EACCES hiding a wrong file), and again through the fd. */
	struct stat st;
	if (stat(ep->path, &st) < 0)
		return rpmsg_fail_errno(e, errno, "open %s", ep->path);
	int r = rpmsg_check_transport(&st, -1, ep->path, e);
	if (r < 0)
		return r;
	ep->fd = open(ep->path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (ep->fd < 0) {
		int err = errno;
		return rpmsg_fail(e, err, "open %s: %s%s", ep->path, strerror(err),
				  err == EBUSY ? " (an endpoint has one opener at a time)" : "");
	}
	if (fstat(ep->fd, &st) < 0 || (r = rpmsg_check_transport(&st, ep->fd, ep->path, e)) < 0) {
		r = r < 0 ? r : rpmsg_fail_errno(e, errno, "%s", ep->path);
		close(ep->fd);
		ep->fd = -1;
		return r;
	}
	if (ep->index >= 0)
		kernel_describe_endpoint(ep);
	return 0;
}

static int kernel_ep_destroy(struct rpmsg_ep *ep, struct rpmsg_err *e)
{
	if (ioctl(ep->fd, RPMSG_DESTROY_EPT_IOCTL) < 0)
		return rpmsg_fail_errno(e, errno, "destroy %s", ep->path);
	return 0;
}

static void kernel_ep_close(struct rpmsg_ep *ep) { (void)ep; }

static int kernel_channel(struct rpmsg_ctrl *c, const struct rpmsg_info *info, bool create,
			  struct rpmsg_err *e)
{
	int r = check_ctrl_alive(c, e);
	if (r < 0)
		return r;
	struct rpmsg_endpoint_info k;
	rpmsg_info_encode(info, (unsigned char *)&k);
	if (ioctl(c->fd, create ? RPMSG_CREATE_DEV_IOCTL : RPMSG_RELEASE_DEV_IOCTL, &k) == 0)
		return 0;
	int err = errno;
	const char *what = create ? "create" : "release";
	if (err == ENXIO)
		return rpmsg_fail(e, ENXIO, "%s channel '%s' on %s: this backend cannot make channels "
				  "(RPMSG_%s_DEV needs a virtio rpmsg bus)", what, info->name, c->path,
				  create ? "CREATE" : "RELEASE");
	if (err == EINVAL)
		return rpmsg_fail(e, EINVAL, "%s channel '%s' on %s: the kernel refused it "
				  "(RPMSG_%s_DEV needs Linux 5.18 or later)", what, info->name, c->path,
				  create ? "CREATE" : "RELEASE");
	return rpmsg_fail_errno(e, err, "%s channel '%s' on %s", what, info->name, c->path);
}

static int kernel_flow(struct rpmsg_ep *ep, int set, bool *enabled, struct rpmsg_err *e)
{
	int value = 0;
	/* SET passes its value by value, GET through a pointer (RPMSG-ABI.md). */
	int r = set >= 0 ? ioctl(ep->fd, RPMSG_SET_INCOMING_FLOWCONTROL, (unsigned long)set)
			 : ioctl(ep->fd, RPMSG_GET_OUTGOING_FLOWCONTROL, &value);
	if (r < 0) {
		int err = errno;
		if (err == EINVAL || err == ENOTTY || err == EOPNOTSUPP)
			return rpmsg_fail(e, EOPNOTSUPP, "%s: no flow control here (it needs Linux 6.6 "
					  "or later and a backend that supports it)", ep->path);
		return rpmsg_fail_errno(e, err, "%s: flow control", ep->path);
	}
	if (enabled)
		*enabled = value != 0;
	return 0;
}

static const struct rpmsg_backend_ops kernel_ops = {
	.name = "kernel",
	.ctrl_open = kernel_ctrl_open,
	.ctrl_close = kernel_ctrl_close,
	.create = kernel_create,
	.src_holder = kernel_src_holder,
	.find = kernel_find,
	.ep_open = kernel_ep_open,
	.ep_destroy = kernel_ep_destroy,
	.ep_close = kernel_ep_close,
	.each_ctrl = kernel_each_ctrl,
	.each_endpoint = kernel_each_endpoint,
	.each_rproc = kernel_each_rproc,
	.channel = kernel_channel,
	.flow = kernel_flow,
	.each_channel = rpmsg_kernel_each_channel,   /* channel.c, uevent.c */
	.channel_bind = rpmsg_kernel_channel_bind,
	.channel_events = rpmsg_kernel_channel_events,
	.channel_events_read = rpmsg_kernel_channel_events_read,
	.channel_events_close = rpmsg_kernel_channel_events_close,
};

struct rpmsg_backend *rpmsg_kernel_backend(void)
{
	/* One kernel per process, so one record of what we created in it. */
	static struct rpmsg_backend kernel = { .ops = &kernel_ops };
	return &kernel;
}
