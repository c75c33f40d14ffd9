/* remoteproc sysfs. Errors name the remoteproc and the file, since that is
 * what a user must look at on the board. */
#include "remoteproc.h"
#include "device.h"
#include "sysfs.h"

#include <dirent.h>
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

int rproc_each(int (*fn)(const struct rproc *r, void *ctx), void *ctx)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/class/remoteproc", rpmsg_sysfs_root());
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int r = 0;
	struct dirent *ent;
	while (!r && (ent = readdir(d))) {
		int idx = rpmsg_parse_index(ent->d_name, "remoteproc");
		struct rproc rp;
		if (idx >= 0 && describe(idx, &rp) == 0)
			r = fn(&rp, ctx);
	}
	closedir(d);
	return r;
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

int rproc_ctrl_index(const struct rproc *r, struct rpmsg_err *e)
{
	/* /sys/class/rpmsg/rpmsg_ctrlN links into the device tree; the
	 * remoteproc's own directory is one of its ancestors. */
	char dir[PATH_MAX], needle[64];
	snprintf(dir, sizeof dir, "%s/class/rpmsg", rpmsg_sysfs_root());
	snprintf(needle, sizeof needle, "/remoteproc%d/", r->index);
	DIR *d = opendir(dir);
	int found = -1;
	struct dirent *ent;
	while (d && found < 0 && (ent = readdir(d))) {
		int idx = rpmsg_parse_index(ent->d_name, "rpmsg_ctrl");
		char link[PATH_MAX + 300], target[PATH_MAX];
		snprintf(link, sizeof link, "%s/%s", dir, ent->d_name);
		if (idx >= 0 && realpath(link, target) && strstr(target, needle))
			found = idx;
	}
	if (d)
		closedir(d);
	if (found < 0)
		return rpmsg_fail(e, ENODEV, "remoteproc '%s' has no rpmsg_ctrl device (is it running?)",
				  r->name);
	return found;
}
