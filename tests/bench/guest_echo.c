/* SPDX-License-Identifier: MIT */
/* tests/bench/guest_echo.c: the C baseline of the in-guest echo benchmark.
 *
 *   bench-guest-echo [-w WINDOW] [-s BYTES] [-u WARM_S] [-d SECS] [-c N]
 *
 * Runs inside tests/kernel/run-in-guest on the full stack: /dev/rpmsg_ctrl0
 * is virtio_rpmsg_bus's, under remoteproc, and the firmware of our fake
 * remote processor (tests/kernel/fakerproc) echoes every message to its
 * sender. Creates endpoint "bench-c" (src 0x600, dst 42: the address of the
 * firmware's `fw-echo` channel) with CREATE_EPT, finds its /dev/rpmsgN
 * under /sys/class/rpmsg/rpmsg_ctrl0/ by name, sends WINDOW messages and
 * then, in an epoll loop, sends each echo straight back: the same work as
 * tests/bench/guest_echo.lua under rpmsg-lua. Counts the echoes of -d seconds after -u seconds of warm-up,
 * prints one line "guest impl=c window= size= rate= msgs=", destroys the
 * endpoint.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rpmsg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG 496
#define BATCH 64
#define NAME "bench-c"
#define FW_ECHO_ADDR 42   /* the fw-echo channel's address (fakerproc.c) */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "bench-guest-echo: %s: %s\n", what, strerror(errno));
	return 1;
}

/* N of the /dev/rpmsgN whose sysfs name is NAME, or -1. */
static int find_node(void)
{
	const char *dir = "/sys/class/rpmsg/rpmsg_ctrl0";
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int found = -1;
	struct dirent *ent;
	while (found < 0 && (ent = readdir(d))) {
		int n;
		char tail;
		if (sscanf(ent->d_name, "rpmsg%d%c", &n, &tail) != 1)
			continue;
		char path[300], name[64] = "";
		snprintf(path, sizeof path, "%s/%s/name", dir, ent->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof name, f))
			name[strcspn(name, "\n")] = '\0';
		fclose(f);
		if (strcmp(name, NAME) == 0)
			found = n;
	}
	closedir(d);
	return found;
}

int main(int argc, char **argv)
{
	int window = 1, size = 64;
	double warm = 0.3, secs = 1.0;
	int c;
	while ((c = getopt(argc, argv, "w:s:u:d:")) != -1) {
		switch (c) {
		case 'w': window = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'u': warm = atof(optarg); break;
		case 'd': secs = atof(optarg); break;
		default:
			fprintf(stderr, "usage: bench-guest-echo [-w N] [-s BYTES] [-u S] [-d S]\n");
			return 2;
		}
	}
	if (window < 1 || size < 1 || size > MAX_MSG)
		return 2;

	int ctrl = open("/dev/rpmsg_ctrl0", O_RDWR | O_CLOEXEC);
	if (ctrl < 0)
		return fail("open /dev/rpmsg_ctrl0");
	struct rpmsg_endpoint_info info = { .src = 0x600, .dst = FW_ECHO_ADDR };
	strcpy(info.name, NAME);
	if (ioctl(ctrl, RPMSG_CREATE_EPT_IOCTL, &info) < 0)
		return fail("CREATE_EPT");
	close(ctrl);
	int n = -1;
	for (int tries = 0; n < 0 && tries < 200; tries++) {   /* udev-less: the node may lag */
		n = find_node();
		if (n < 0)
			usleep(5000);
	}
	if (n < 0)
		return fail("no rpmsgN named " NAME " under /sys/class/rpmsg/rpmsg_ctrl0");
	char dev[64];
	snprintf(dev, sizeof dev, "/dev/rpmsg%d", n);
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 200; tries++) {
		fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			usleep(5000);
	}
	if (fd < 0)
		return fail(dev);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return fail("epoll_ctl");
	char msg[MAX_MSG];
	memset(msg, 'x', sizeof msg);
	for (int i = 0; i < window; i++)
		if (write(fd, msg, (size_t)size) != size)
			return fail("write");

	double t0 = now_s(), start = t0 + warm, end = start + secs, t = t0;
	long count = 0, at_start = -1;
	while (t < end) {
		struct epoll_event evs[4];
		int r = epoll_wait(ep, evs, 4, 100);
		if (r < 0 && errno != EINTR)
			return fail("epoll_wait");
		for (int k = 0; r > 0 && k < BATCH; k++) {
			char buf[MAX_MSG];
			ssize_t got = read(fd, buf, sizeof buf);
			if (got < 0) {
				if (errno == EAGAIN)
					break;
				return fail("read");
			}
			count++;
			if (write(fd, buf, (size_t)got) != got)
				return fail("write");
		}
		t = now_s();
		if (at_start < 0 && t >= start) {
			at_start = count;
			start = t;
		}
	}
	long msgs = count - at_start;
	printf("guest impl=c window=%d size=%d rate=%.0f msgs=%ld\n", window, size,
	       (double)msgs / (t - start), msgs);
	if (ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0)
		return fail("DESTROY_EPT");
	close(fd);
	return 0;
}
