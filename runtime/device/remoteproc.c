/* SPDX-License-Identifier: MIT */
/* remoteproc sysfs. Errors name the remoteproc and the file, since that is
 * what a user must look at on the board. */
#include "remoteproc.h"
#include "device.h"
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int describe(int index, struct rproc *r)
{
	char path[PATH_MAX + 8];
	r->index = index;
	snprintf(r->dir, sizeof r->dir, "%s/class/remoteproc/remoteproc%d", rpmsg_sysfs_root(), index);
	snprintf(path, sizeof path, "%s/name", r->dir);
	return sysfs_read(path, r->name, sizeof r->name);
}

struct each_rproc {
	int (*fn)(const struct rproc *r, void *ctx);
	void *ctx;
};

static int visit_rproc(int index, void *ctx)
{
	struct each_rproc *q = ctx;
	struct rproc r;
	return describe(index, &r) == 0 ? q->fn(&r, q->ctx) : 0;
}

int rproc_each(int (*fn)(const struct rproc *r, void *ctx), void *ctx)
{
	struct each_rproc q = { fn, ctx };
	return sysfs_each_index("class/remoteproc", "remoteproc", visit_rproc, &q);
}

struct by_name {
	const char *name;
	struct rproc *out;
};

static int match_name(const struct rproc *r, void *ctx)
{
	struct by_name *q = ctx;
	if (strcmp(r->name, q->name) != 0)
		return 0;
	*q->out = *r;
	return 1;
}

int rproc_find(const char *name, int index, struct rproc *r, struct rpmsg_err *e)
{
	if (!name) {
		if (describe(index, r) < 0)
			return rpmsg_fail(e, ENOENT, "no remoteproc%d (%s/name unreadable)", index, r->dir);
		return 0;
	}
	struct by_name q = { name, r };
	if (rproc_each(match_name, &q) != 1)
		return rpmsg_fail(e, ENOENT, "no remoteproc named '%s' under %s/class/remoteproc",
				  name, rpmsg_sysfs_root());
	return 0;
}

int rproc_read(const struct rproc *r, const char *attr, char *buf, size_t cap, struct rpmsg_err *e)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s", r->dir, attr);
	int rc = sysfs_read(path, buf, cap);
	if (rc < 0)
		return rpmsg_fail(e, -rc, "remoteproc '%s': read %s: %s", r->name, path, strerror(-rc));
	return 0;
}

int rproc_write(const struct rproc *r, const char *attr, const char *value, struct rpmsg_err *e)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s", r->dir, attr);
	/* O_TRUNC as a shell's `>` does: sysfs ignores it, a test tree needs it. */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return rpmsg_fail(e, errno, "remoteproc '%s': open %s: %s", r->name, path, strerror(errno));
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int err = errno;
	close(fd);
	if (n != (ssize_t)len)
		return rpmsg_fail(e, n < 0 ? err : EIO, "remoteproc '%s': write '%s' to %s: %s", r->name,
				  value, path, strerror(n < 0 ? err : EIO));
	return 0;
}

int rproc_start(const struct rproc *r, struct rpmsg_err *e)
{
	char state[64];
	if (rproc_read(r, "state", state, sizeof state, e) == 0 && strcmp(state, "crashed") == 0)
		return rpmsg_fail(e, EBUSY, "remoteproc '%s' has crashed and its recovery is off: "
				  "stop it first, then start it (or set its recovery to \"recover\")",
				  r->name);
	return rproc_write(r, "state", "start", e);
}

struct under {
	const struct rproc *r;
	int found;
};

/* /sys/class/rpmsg/rpmsg_ctrlN links into the device tree; the remoteproc's
 * own directory is one of its ancestors. */
static int ctrl_under(int index, void *ctx)
{
	struct under *u = ctx;
	char link[PATH_MAX], target[PATH_MAX], needle[64];
	snprintf(link, sizeof link, "%s/class/rpmsg/rpmsg_ctrl%d", rpmsg_sysfs_root(), index);
	snprintf(needle, sizeof needle, "/remoteproc%d/", u->r->index);
	if (!realpath(link, target) || !strstr(target, needle))
		return 0;
	u->found = index;
	return 1;
}

int rproc_ctrl_index(const struct rproc *r, struct rpmsg_err *e)
{
	struct under u = { r, -1 };
	if (sysfs_each_index("class/rpmsg", "rpmsg_ctrl", ctrl_under, &u) != 1)
		return rpmsg_fail(e, ENODEV, "remoteproc '%s' has no rpmsg_ctrl device (is it running?)",
				  r->name);
	return u.found;
}
