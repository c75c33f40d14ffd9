/* SPDX-License-Identifier: MIT */
/* `rpmsg-lua attach PATH`, the console's client: a plain pump of stdin to
 * the socket and the socket to stdout, with no Lua and no loop, so that
 * socat does as well. */
#include "host_console.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static bool refused;

static bool pump(int from, int to, bool to_socket)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof buf);
	if (n <= 0)
		return false;
	if (!to_socket && !strncmp(buf, REFUSED, sizeof REFUSED - 1))
		refused = true;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = to_socket ? send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL)
				      : write(to, buf + off, (size_t)(n - off));
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

int console_attach(const char *path, bool trace)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path) {
		fprintf(stderr, "rpmsg-lua: console path %s is too long\n", path);
		return 1;
	}
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		fprintf(stderr, "rpmsg-lua: cannot attach to %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (trace && send(fd, TRACE_REQUEST, sizeof TRACE_REQUEST - 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "rpmsg-lua: cannot ask %s for its trace: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
	bool input_open = true;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents && !pump(fd, STDOUT_FILENO, false))
			break;   /* the host closed the session */
		if (input_open && p[0].revents && !pump(STDIN_FILENO, fd, true)) {
			/* End of our input: let the host finish answering, then go. */
			input_open = false;
			p[0].fd = -1;
			if (!trace)   /* a trace is followed until the host goes */
				shutdown(fd, SHUT_WR);
		}
	}
	close(fd);
	return refused || (input_open && !trace) ? 1 : 0;
}
