/* SPDX-License-Identifier: MIT */
/* tests/bench/echo_c.c: the C baseline for the echo benchmark.
 *
 *   bench-echo-c [--passcred | --timestamp]
 *
 * What a hand-written C program would do for the same job as
 * tests/bench/echo.lua: one epoll loop over the endpoints listed in
 * $BENCH_FDS (inherited SOCK_SEQPACKET fds), and for each readable one, read
 * up to 64 messages (rpmsg-lua's batch) and send each straight back. Ends
 * when every endpoint has reached end of file.
 *
 * --passcred does what rpmsg-lua's socket endpoints do to tell an empty
 * message from end of file: SO_PASSCRED on each socket, recvmsg() with room
 * for the credentials. It shows how much of the gap is that, not the host.
 * --timestamp marks real messages the other way the kernel can: SO_TIMESTAMP
 * (a timestamp on every message received, none on end of file), to compare
 * the two marks' cost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_MSG 496
#define BATCH 64
#define MAX_EPS 1024

static int passcred, timestamp;

static ssize_t get(int fd, char *buf)
{
	if (!passcred && !timestamp)
		return recv(fd, buf, MAX_MSG, 0);
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(struct timeval))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = MAX_MSG };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = &control, .msg_controllen = sizeof control };
	ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	if (n == 0 && m.msg_controllen == 0)
		return 0;   /* end of file */
	if (n == 0)
		errno = 0;   /* an empty message: the driver never sends one */
	return n == 0 ? -2 : n;
}

int main(int argc, char **argv)
{
	passcred = argc > 1 && strcmp(argv[1], "--passcred") == 0;
	timestamp = argc > 1 && strcmp(argv[1], "--timestamp") == 0;
	const char *list = getenv("BENCH_FDS");
	if (!list) {
		fprintf(stderr, "bench-echo-c: BENCH_FDS is not set\n");
		return 2;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int open_fds = 0;
	for (const char *p = list; *p;) {
		char *end;
		int fd = (int)strtol(p, &end, 10);
		if (end == p)
			break;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (passcred) {
			int one = 1;
			setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
		}
		if (timestamp) {
			int one = 1;
			setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof one);
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			perror("bench-echo-c: epoll_ctl");
			return 1;
		}
		open_fds++;
		p = *end == ',' ? end + 1 : end;
	}
	while (open_fds > 0) {
		struct epoll_event evs[MAX_EPS];
		int n = epoll_wait(ep, evs, MAX_EPS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("bench-echo-c: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			for (int k = 0; k < BATCH; k++) {
				char buf[MAX_MSG];
				ssize_t r = get(fd, buf);
				if (r < 0 && errno == EAGAIN)
					break;
				if (r <= 0) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					close(fd);
					open_fds--;
					break;
				}
				if (send(fd, buf, (size_t)r, MSG_NOSIGNAL) != r) {
					perror("bench-echo-c: send");
					return 1;
				}
			}
		}
	}
	return 0;
}
