/* SPDX-License-Identifier: MIT */
/* `rpmsg-lua stats PATH`: asks a running host's console for its counters
 * (rpmsg.observe's report) and prints the table. It speaks the console's
 * plain text: one line in, the output between the report's markers out. */
#include "host_observe.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REPORT_MAX (1 << 20)
#define BEGIN "--- rpmsg-lua stats ---\n"
#define END "\n--- end ---"

static const char request[] = "print(require('rpmsg.observe').report())\n";

static int connect_console(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path) {
		fprintf(stderr, "rpmsg-lua: console path %s is too long\n", path);
		return -1;
	}
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		fprintf(stderr, "rpmsg-lua: cannot reach the console %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Everything the console says until it closes (it does once our input
 * ended and it answered), or 10 s. */
static char *read_all(int fd, size_t *len)
{
	char *buf = malloc(REPORT_MAX + 1);
	*len = 0;
	if (!buf)
		return NULL;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (*len < REPORT_MAX && poll(&p, 1, 10000) > 0) {
		ssize_t n = read(fd, buf + *len, REPORT_MAX - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = 0;
	return buf;
}

int observe_stats_command(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: rpmsg-lua stats PATH   (PATH: a host's --console socket)\n");
		return 2;
	}
	int fd = connect_console(argv[0]);
	if (fd < 0)
		return 1;
	if (send(fd, request, sizeof request - 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "rpmsg-lua: console %s: %s\n", argv[0], strerror(errno));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	size_t len;
	char *out = read_all(fd, &len);
	close(fd);
	char *begin = out ? strstr(out, BEGIN) : NULL;
	char *end = begin ? strstr(begin, END) : NULL;
	if (!end) {
		fprintf(stderr, "rpmsg-lua: the console %s gave no report:\n%s\n", argv[0], out ? out : "");
		free(out);
		return 1;
	}
	begin += sizeof BEGIN - 1;
	printf("%.*s\n", (int)(end - begin), begin);
	free(out);
	return 0;
}
