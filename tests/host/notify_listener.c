// SPDX-License-Identifier: MIT
// The service manager's end of sd_notify, for notify_spec.lua: binds a unix
// datagram socket (a path, or an abstract name given with a leading '@'),
// prints "listening", then one line per datagram: the CLOCK_MONOTONIC time
// of its arrival in microseconds and its text, newlines shown as '|'. Ends
// after STOPPING=1 or after SECONDS, whichever comes first.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s /path|@name SECONDS\n", argv[0]);
		return 2;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = strlen(argv[1]);
	if (len >= sizeof a.sun_path)
		return 2;
	memcpy(a.sun_path, argv[1], len);
	if (a.sun_path[0] == '@')
		a.sun_path[0] = '\0';
	else
		unlink(argv[1]);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, alen) < 0) {
		perror("notify_listener: bind");
		return 1;
	}
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	printf("listening\n");
	fflush(stdout);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		char buf[4096];
		ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (n >= 0) {
			buf[n] = '\0';
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] == '\n')
					buf[i] = '|';
			printf("%lld %s\n", (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000, buf);
			fflush(stdout);
			if (strstr(buf, "STOPPING=1"))
				break;
		}
		if (now.tv_sec - start.tv_sec >= atoi(argv[2]))
			break;
	}
	if (argv[1][0] != '@')
		unlink(argv[1]);
	return 0;
}
