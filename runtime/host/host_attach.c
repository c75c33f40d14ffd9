/* SPDX-License-Identifier: MIT */
/* `rpmsg-lua attach PATH`, the console's client, with no Lua and no loop.
 * On a terminal it edits lines over the console protocol (attach_edit.c).
 * Otherwise (a pipe, a script) it is a plain pump of stdin to the socket and
 * the socket to stdout, as socat is. */
#include "attach.h"
#include "write_all.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int cannot_attach(const char *path, int err)
{
	const char *hint = err == ENOENT ? " (no console there: is a host running with --console PATH?)"
		: err == ECONNREFUSED ? " (no host serves it: a socket left by a host that is gone)"
		: err == EACCES ? " (the console is mode 0600: attach as the host's user or root)"
		: "";
	fprintf(stderr, "rpmsg-lua: cannot attach to %s: %s%s\n", path, strerror(err), hint);
	return 1;
}

static bool refused;

static bool pump(int from, int to, bool to_socket)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof buf);
	if (n <= 0)
		return false;
	if (!to_socket && !strncmp(buf, REFUSED, sizeof REFUSED - 1))
		refused = true;
	if (to_socket)
		return attach_send_all(to, buf, (size_t)n);
	rpmsg_write_all(to, buf, (size_t)n);
	return true;
}

/* trace: the host was asked for its trace; it is followed after our input
 * ends, until the host goes. */
static int pump_session(int fd, bool trace)
{
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

int console_attach(const char *path, bool trace)
{
	int fd = attach_connect(path);
	if (fd < 0)
		return cannot_attach(path, -fd);
	if (trace) {   /* a stream to read, not a session to edit: a plain line asks for it */
		if (!attach_send_all(fd, TRACE_REQUEST, sizeof TRACE_REQUEST - 1)) {
			fprintf(stderr, "rpmsg-lua: cannot ask %s for its trace: %s\n", path, strerror(errno));
			close(fd);
			return 1;
		}
		return pump_session(fd, true);
	}
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return attach_edit_session(path, fd);
	return pump_session(fd, false);
}
