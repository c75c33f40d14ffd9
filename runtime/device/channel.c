/* SPDX-License-Identifier: MIT */
/* The kernel's announced channels, read from /sys/bus/rpmsg/devices/<bus>/
 * (name, src and dst in hex, a `driver` link, an `rpmsg/` or `tty/` folder
 * holding the node a driver made), and driver_override binding. */
#include "channel.h"
#include "sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void bus_path(char *out, size_t cap, const char *bus, const char *attr)
{
	snprintf(out, cap, "%s/bus/rpmsg/devices/%s%s%s", rpmsg_sysfs_root(), bus, attr ? "/" : "",
		 attr ? attr : "");
}

static int read_addr(const char *bus, const char *attr, uint32_t *out)
{
	char path[PATH_MAX];
	long long v;
	bus_path(path, sizeof path, bus, attr);
	int r = sysfs_read_long(path, &v);   /* "0x2a"; -1 in older kernels' names */
	if (r == 0)
		*out = (uint32_t)v;
	return r;
}

/* The remoteproc whose device is an ancestor of the channel: a component
 * "remoteprocN" of its real path. */
static void find_rproc(const char *real, struct rpmsg_channel *ch)
{
	for (const char *p = real; (p = strstr(p, "/remoteproc")); p++) {
		const char *d = p + strlen("/remoteproc");
		const char *end = d;
		while (isdigit((unsigned char)*end))
			end++;
		if (end == d || *end != '/')
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/class/remoteproc/remoteproc%.*s/name", rpmsg_sysfs_root(),
			 (int)(end - d), d);
		if (sysfs_read(path, ch->rproc, sizeof ch->rproc) < 0)
			snprintf(ch->rproc, sizeof ch->rproc, "remoteproc%.*s", (int)(end - d), d);
		return;
	}
}

static int first_index(int index, void *ctx)
{
	*(int *)ctx = index;
	return 1;
}

/* The control device of the same remote: <virtioX>.rpmsg_ctrl.0.0/rpmsg/. */
static int find_ctrl(const char *bus)
{
	const char *dot = strchr(bus, '.');
	if (!dot)
		return -1;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "bus/rpmsg/devices/%.*s.rpmsg_ctrl.0.0/rpmsg", (int)(dot - bus), bus);
	int index = -1;
	sysfs_each_index(dir, "rpmsg_ctrl", first_index, &index);
	return index;
}

/* The nodes a driver made under the channel: rpmsgN (rpmsg_char),
 * rpmsg_ctrlN (rpmsg_chrdev before 5.18), ttyRPMSGN (rpmsg_tty). */
static void find_nodes(const char *bus, struct rpmsg_channel *ch)
{
	static const char *const folders[] = { "rpmsg", "tty" };
	for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
		char dir[PATH_MAX];
		bus_path(dir, sizeof dir, bus, folders[i]);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *ent;
		while ((ent = readdir(d))) {
			if (ent->d_name[0] == '.')
				continue;
			int ctrl = rpmsg_parse_index(ent->d_name, "rpmsg_ctrl");
			if (ctrl >= 0) {
				ch->ctrl_under = ctrl;
			} else if (!ch->dev[0]) {
				if (snprintf(ch->dev, sizeof ch->dev, "%s/%s", rpmsg_dev_root(),
					     ent->d_name) >= (int)sizeof ch->dev)
					ch->dev[0] = '\0';   /* too long to open anyway */
				ch->dev_is_endpoint = rpmsg_parse_index(ent->d_name, "rpmsg") >= 0;
			}
		}
		closedir(d);
	}
}

/* Reads one bus device again (after a bind); 0, or -errno when it is gone. */
static int rpmsg_kernel_channel(const char *bus, struct rpmsg_channel *ch)
{
	char path[PATH_MAX], real[PATH_MAX];
	memset(ch, 0, sizeof *ch);
	ch->ctrl_index = ch->ctrl_under = -1;
	snprintf(ch->bus, sizeof ch->bus, "%s", bus);
	bus_path(path, sizeof path, bus, "name");
	int r = sysfs_read(path, ch->info.name, sizeof ch->info.name);
	if (r < 0)
		return r;
	if ((r = read_addr(bus, "src", &ch->info.src)) < 0 ||
	    (r = read_addr(bus, "dst", &ch->info.dst)) < 0)
		return r;
	bus_path(path, sizeof path, bus, "driver");
	if (realpath(path, real)) {
		const char *base = strrchr(real, '/');
		base = base ? base + 1 : real;
		size_t n = strnlen(base, sizeof ch->driver - 1);
		memcpy(ch->driver, base, n);
		ch->driver[n] = '\0';
	}
	bus_path(path, sizeof path, bus, NULL);
	if (realpath(path, real))
		find_rproc(real, ch);
	ch->ctrl_index = find_ctrl(bus);
	find_nodes(bus, ch);
	return 0;
}

/* The bus's own devices, which no remote announced. */
static bool is_bus_device(const struct rpmsg_channel *ch)
{
	return strcmp(ch->info.name, "rpmsg_ns") == 0 || strcmp(ch->info.name, "rpmsg_ctrl") == 0;
}

int rpmsg_kernel_each_channel(struct rpmsg_backend *b, rpmsg_channel_fn fn, void *ctx)
{
	(void)b;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/bus/rpmsg/devices", rpmsg_sysfs_root());
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;   /* no rpmsg bus: no channels */
	/* Sorted, so listings and announcements come in a stable order. */
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	closedir(d);
	if (n < 0)
		return -errno;
	int r = 0;
	for (int i = 0; i < n; i++) {
		struct rpmsg_channel ch;
		if (!r && names[i]->d_name[0] != '.' && rpmsg_kernel_channel(names[i]->d_name, &ch) == 0 &&
		    !is_bus_device(&ch))
			r = fn(&ch, ctx);
		free(names[i]);
	}
	free(names);
	return r;
}

static int write_attr(const char *path, const char *value, struct rpmsg_err *e)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "open %s", path);
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int err = n < 0 ? errno : EIO;
	close(fd);
	if (n != (ssize_t)len)
		return rpmsg_fail_errno(e, err, "write '%s' to %s", value, path);
	return 0;
}

int rpmsg_kernel_channel_bind(struct rpmsg_backend *b, struct rpmsg_channel *ch,
			      const char *driver, struct rpmsg_err *e)
{
	(void)b;
	if (ch->driver[0])
		return rpmsg_fail(e, EBUSY, "channel '%s' (%s) is already bound to %s", ch->info.name,
				  ch->bus, ch->driver);
	char path[PATH_MAX];
	bus_path(path, sizeof path, ch->bus, "driver_override");
	int r = write_attr(path, driver, e);
	if (r < 0)
		return r;
	snprintf(path, sizeof path, "%s/bus/rpmsg/drivers/%s/bind", rpmsg_sysfs_root(), driver);
	if ((r = write_attr(path, ch->bus, e)) < 0)
		return r;
	char bus[sizeof ch->bus];
	snprintf(bus, sizeof bus, "%s", ch->bus);
	if ((r = rpmsg_kernel_channel(bus, ch)) < 0)
		return rpmsg_fail(e, -r, "channel %s went away while it was bound to %s", bus, driver);
	return 0;
}
