/* SPDX-License-Identifier: MIT */
/* The remoteproc calls beyond start and stop: attach and detach (a core a
 * bootloader started), its coredump, and its trace buffer in debugfs. */
#include "remoteproc.h"
#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int require_state(const struct rproc *r, const char *want, const char *why,
			 struct rpmsg_err *e)
{
	char state[64];
	if (rproc_read(r, "state", state, sizeof state, e) < 0)
		return -e->code;
	if (strcmp(state, want) != 0)
		return rpmsg_fail(e, EINVAL, "remoteproc '%s' is %s, not %s: %s", r->name, state, want, why);
	return 0;
}

int rproc_attach(const struct rproc *r, struct rpmsg_err *e)
{
	if (require_state(r, "detached",
			  "only a core that runs without Linux (started by a bootloader, or detached) "
			  "can be attached", e) < 0)
		return -e->code;
	return rproc_write(r, "state", "start", e);
}

int rproc_detach(const struct rproc *r, struct rpmsg_err *e)
{
	if (require_state(r, "attached",
			  "only a core Linux attached to can be detached (one it booted can only be stopped)",
			  e) < 0)
		return -e->code;
	return rproc_write(r, "state", "detach", e);
}

int rproc_dump_find(const struct rproc *r, char *path, size_t cap, struct rpmsg_err *e)
{
	char dir[PATH_MAX], mine[PATH_MAX];
	if (!realpath(r->dir, mine))
		return rpmsg_fail_errno(e, errno, "remoteproc '%s': %s", r->name, r->dir);
	snprintf(dir, sizeof dir, "%s/class/devcoredump", rpmsg_sysfs_root());
	DIR *d = opendir(dir);
	if (!d)
		return rpmsg_fail(e, ENOENT, "remoteproc '%s' has no coredump (%s: %s)", r->name, dir,
				  strerror(errno));
	int found = -1;
	struct dirent *ent;
	while ((ent = readdir(d))) {
		int n = rpmsg_parse_index(ent->d_name, "devcd");
		char link[PATH_MAX + 300], target[PATH_MAX];
		snprintf(link, sizeof link, "%s/%s/failing_device", dir, ent->d_name);
		/* the newest dump of this core: the highest devcdN */
		if (n > found && realpath(link, target) && strcmp(target, mine) == 0)
			found = n;
	}
	closedir(d);
	if (found < 0)
		return rpmsg_fail(e, ENOENT, "remoteproc '%s' has no coredump in %s (its coredump "
				  "setting must be \"enabled\" or \"inline\" when it crashes, with "
				  "recovery on; the kernel drops a dump after 5 minutes)", r->name, dir);
	snprintf(path, cap, "%s/devcd%d/data", dir, found);
	return 0;
}

long long rproc_dump_read(const char *path, int (*sink)(const void *buf, size_t len, void *ctx),
			  void *ctx, struct rpmsg_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "open %s", path);
	char buf[65536];
	long long total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (sink(buf, (size_t)n, ctx) < 0) {
			close(fd);
			return rpmsg_fail(e, EIO, "coredump %s: could not keep %lld bytes", path, total + n);
		}
		total += n;
	}
	int err = errno;
	close(fd);
	if (n < 0)
		return rpmsg_fail_errno(e, err, "read %s", path);
	/* Any write to data frees the dump (devcoredump's own rule). */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) { /* gone already: nothing to free */ }
		close(fd);
	}
	return total;
}

static const char *debugfs_root(void)
{
	const char *v = getenv("RPMSG_DEBUGFS_ROOT");
	return v && *v ? v : "/sys/kernel/debug";
}

/* debugfs remoteproc/remoteprocN/traceK (RPMSG_DEBUGFS_ROOT, else
 * /sys/kernel/debug) into path. */
static void rproc_trace_path(const struct rproc *r, int k, char *path, size_t cap)
{
	snprintf(path, cap, "%s/remoteproc/remoteproc%d/trace%d", debugfs_root(), r->index, k);
}

int rproc_trace_read(const struct rproc *r, int k, char **text, size_t *len, struct rpmsg_err *e)
{
	char path[PATH_MAX];
	rproc_trace_path(r, k, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		if (err == ENOENT && access(debugfs_root(), F_OK) == 0) {
			char top[PATH_MAX];
			snprintf(top, sizeof top, "%s/remoteproc", debugfs_root());
			if (access(top, F_OK) != 0)
				return rpmsg_fail(e, ENOENT, "remoteproc '%s': no %s (is debugfs mounted? "
						  "mount -t debugfs debugfs /sys/kernel/debug)", r->name, path);
		}
		return rpmsg_fail(e, err, "remoteproc '%s': open %s: %s%s", r->name, path, strerror(err),
				  err == ENOENT ? " (the firmware has no trace buffer, or the core is stopped)" : "");
	}
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	ssize_t n = 0;
	while (buf && (n = read(fd, buf + used, cap - used)) > 0) {
		used += (size_t)n;
		if (used == cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	int err = errno;
	close(fd);
	if (!buf)
		return rpmsg_fail(e, ENOMEM, "remoteproc '%s': read %s: out of memory", r->name, path);
	if (n < 0) {
		free(buf);
		return rpmsg_fail(e, err, "remoteproc '%s': read %s: %s", r->name, path, strerror(err));
	}
	*text = buf;
	*len = used;
	return 0;
}
