/* SPDX-License-Identifier: MIT */
/* remoteproc state changes from the kernel's uevents and log (see the
 * header for why these two and not sysfs). */
#include "rproc_events.h"
#include "uevent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool rproc_uevent_relevant(const char *msg, size_t len)
{
	for (size_t i = 0; i < len; i += strnlen(msg + i, len - i) + 1) {
		const char *kv = msg + i;
		size_t n = strnlen(kv, len - i);
		if (n > 8 && !strncmp(kv, "DEVPATH=", 8) && memmem(kv, n, "/remoteproc", 11))
			return 1;
		if (n >= 21 && !strncmp(kv, "SUBSYSTEM=devcoredump", 21))
			return 1;
	}
	return 0;
}

int rproc_uevents_read(int fd)
{
	return rpmsg_uevent_drain(fd, rproc_uevent_relevant);
}

int rproc_kmsg_open(struct rpmsg_err *e)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "open /dev/kmsg");
	lseek(fd, 0, SEEK_END);
	return fd;
}

/* A record is "PRI,SEQ,TIME,FLAGS;remoteproc remoteproc0: handling crash #1 in fake-r5f\n". */
int rproc_kmsg_crash(const char *record, size_t len, char *name, size_t cap)
{
	static const char needle[] = "handling crash #";
	const char *p = memmem(record, len, needle, sizeof needle - 1);
	if (!p)
		return 0;
	const char *in = memmem(p, len - (size_t)(p - record), " in ", 4);
	if (!in)
		return 0;
	in += 4;
	size_t n = strcspn(in, "\n");
	if (n > len - (size_t)(in - record))
		n = len - (size_t)(in - record);
	if (n == 0 || n >= cap)
		return 0;
	memcpy(name, in, n);
	name[n] = '\0';
	return 1;
}

int rproc_kmsg_read(int fd, void (*crashed)(const char *name, void *ctx), void *ctx)
{
	char buf[2048], name[64];
	int relevant = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf - 1);   /* one record per read */
		if (n < 0) {
			if (errno == EPIPE)   /* records overwritten before we read them */
				continue;
			return errno == EAGAIN || errno == EINTR ? relevant : -errno;
		}
		if (n == 0)
			return relevant;
		buf[n] = '\0';
		if (memmem(buf, (size_t)n, "remoteproc", 10))
			relevant = 1;
		if (rproc_kmsg_crash(buf, (size_t)n, name, sizeof name))
			crashed(name, ctx);
	}
}
