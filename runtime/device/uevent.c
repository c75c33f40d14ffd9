/* SPDX-License-Identifier: MIT */
/* Kernel uevents on a netlink socket: the kernel broadcasts one for every
 * device added or removed and every driver bound, so a remote announcing or
 * withdrawing a channel is seen at once, without polling (sysfs folders give
 * no inotify events, and a channel with no driver makes no /dev node). */
#include "channel.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rpmsg_kernel_channel_events(struct rpmsg_backend *b, struct rpmsg_err *e)
{
	(void)b;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "kernel uevent socket");
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };   /* the kernel's group */
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int err = errno;
		close(fd);
		return rpmsg_fail_errno(e, err, "bind the kernel uevent socket");
	}
	return fd;
}

/* "ACTION@DEVPATH\0KEY=VALUE\0...": does it name the rpmsg bus or class? */
static bool concerns_rpmsg(const char *msg, size_t len)
{
	for (size_t i = 0; i < len; i += strlen(msg + i) + 1)
		if (strcmp(msg + i, "SUBSYSTEM=rpmsg") == 0)
			return true;
	return false;
}

bool rpmsg_kernel_channel_events_read(struct rpmsg_backend *b, int fd)
{
	(void)b;
	char buf[8192];
	bool any = false;
	ssize_t n;
	while ((n = recv(fd, buf, sizeof buf - 1, 0)) > 0 || (n < 0 && errno == EINTR)) {
		if (n <= 0)
			continue;
		buf[n] = '\0';
		any |= concerns_rpmsg(buf, (size_t)n);
	}
	return any;
}

void rpmsg_kernel_channel_events_close(struct rpmsg_backend *b, int fd)
{
	(void)b;
	close(fd);
}
