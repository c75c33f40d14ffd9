/* SPDX-License-Identifier: MIT */
/* Kernel uevents on a netlink socket (uevent.h), and the announced
 * channels' use of them: a remote announcing or withdrawing a channel is
 * seen at once, though a channel with no driver makes no /dev node. */
#include "channel.h"
#include "uevent.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rpmsg_uevent_open(struct rpmsg_err *e)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "kernel uevent socket");
	/* Group 1: the kernel's own events (udev re-broadcasts on group 2). */
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int err = errno;
		close(fd);
		return rpmsg_fail_errno(e, err, "bind the kernel uevent socket");
	}
	return fd;
}

int rpmsg_uevent_drain(int fd, rpmsg_uevent_match match)
{
	char buf[8192];
	int matched = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? matched : -errno;
		if (n > 0 && match(buf, (size_t)n))
			matched = 1;
	}
}

/* Names the rpmsg bus or class? */
static bool concerns_rpmsg(const char *msg, size_t len)
{
	static const char key[] = "SUBSYSTEM=rpmsg";
	for (size_t i = 0; i < len; i += strnlen(msg + i, len - i) + 1)
		if (strnlen(msg + i, len - i) == sizeof key - 1 && memcmp(msg + i, key, sizeof key - 1) == 0)
			return true;
	return false;
}

int rpmsg_kernel_channel_events(struct rpmsg_backend *b, struct rpmsg_err *e)
{
	(void)b;
	return rpmsg_uevent_open(e);
}

bool rpmsg_kernel_channel_events_read(struct rpmsg_backend *b, int fd)
{
	(void)b;
	return rpmsg_uevent_drain(fd, concerns_rpmsg) > 0;
}

void rpmsg_kernel_channel_events_close(struct rpmsg_backend *b, int fd)
{
	(void)b;
	close(fd);
}
