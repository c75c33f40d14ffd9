/* SPDX-License-Identifier: MIT */
/* Roots of /dev and /sys, attribute reading, and what sysfs says a
 * character device is. */
#include "sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *root(const char *env, const char *fallback)
{
	const char *v = getenv(env);
	return v && *v ? v : fallback;
}

const char *rpmsg_dev_root(void) { return root("RPMSG_DEV_ROOT", "/dev"); }
const char *rpmsg_sysfs_root(void) { return root("RPMSG_SYSFS_ROOT", "/sys"); }

int sysfs_read(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n;
	do
		n = read(fd, buf, cap - 1);
	while (n < 0 && errno == EINTR);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int sysfs_read_long(const char *path, long long *out)
{
	char buf[64];
	int r = sysfs_read(path, buf, sizeof buf);
	if (r < 0)
		return r;
	char *end;
	errno = 0;
	*out = strtoll(buf, &end, 0);
	return (errno || end == buf) ? -EINVAL : 0;
}

int sysfs_each_index(const char *dir, const char *prefix, int (*fn)(int index, void *ctx),
		     void *ctx)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", rpmsg_sysfs_root(), dir);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int r = 0;
	struct dirent *ent;
	while (!r && (ent = readdir(d))) {
		int idx = rpmsg_parse_index(ent->d_name, prefix);
		if (idx >= 0)
			r = fn(idx, ctx);
	}
	closedir(d);
	return r;
}

/* The last component of the path the link at path resolves to. */
static int resolved_base(const char *path, char *out, size_t cap)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		return -errno;
	const char *base = strrchr(real, '/');
	snprintf(out, cap, "%s", base ? base + 1 : real);
	return 0;
}

int sysfs_char_device(unsigned maj, unsigned min, char *name, size_t name_cap, char *cls,
		      size_t cls_cap)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/dev/char/%u:%u", rpmsg_sysfs_root(), maj, min);
	int r = resolved_base(path, name, name_cap);
	if (r < 0)
		return r;
	snprintf(path, sizeof path, "%s/dev/char/%u:%u/subsystem", rpmsg_sysfs_root(), maj, min);
	return resolved_base(path, cls, cls_cap);
}

int rpmsg_parse_index(const char *path, const char *prefix)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(prefix);
	if (strncmp(base, prefix, n) != 0 || !isdigit((unsigned char)base[n]))
		return -1;
	char *end;
	long v = strtol(base + n, &end, 10);
	return (*end == '\0' && v >= 0 && v < 1 << 20) ? (int)v : -1;
}
