/* SPDX-License-Identifier: MIT */
/* The capture of stdout and stderr under the terminal REPL (see
 * host_output.h). The pipe is made large (1 MiB where the system allows) so
 * that one handler that prints a lot does not block on it before the loop
 * drains it; stdout is made line-buffered, as it was on the terminal. */
#include "host_output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct {
	struct loop *loop;
	struct loop_io io;
	output_show_fn show;
	int pipe[2];
	int term_fd, saved_err;
} out = { .pipe = { -1, -1 }, .term_fd = -1, .saved_err = -1 };

static void drain(void)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(out.pipe[0], buf, sizeof buf)) > 0)
		out.show(buf, (size_t)n);
}

static void readable(struct loop_io *io, uint32_t events)
{
	(void)io;
	(void)events;
	drain();
}

/* exit() and os.exit() from a chunk or a handler: what the pipe holds
 * still reaches the terminal. (_exit and fatal signals cannot wait for it:
 * the watchdog's last words and a crash's are lost from the pipe.) */
static void drain_at_exit(void)
{
	if (out.term_fd < 0 || out.pipe[0] < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	char buf[4096];
	ssize_t n;
	while ((n = read(out.pipe[0], buf, sizeof buf)) > 0)
		if (write(out.term_fd, buf, (size_t)n) < 0)
			return;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino && sa.st_rdev == sb.st_rdev;
}

int output_capture(struct loop *loop, output_show_fn show, struct rpmsg_err *e)
{
	static bool registered;
	if (!registered && atexit(drain_at_exit) == 0)
		registered = true;
	out.loop = loop;
	out.show = show;
	if (pipe2(out.pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return rpmsg_fail_errno(e, errno, "output pipe");
	fcntl(out.pipe[1], F_SETPIPE_SZ, 1 << 20);   /* as large as allowed: best effort */
	/* The write end blocks: a full pipe slows a handler, never loses output. */
	fcntl(out.pipe[1], F_SETFL, 0);
	out.term_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (out.term_fd < 0) {
		int err = errno;
		output_release();
		return rpmsg_fail_errno(e, err, "dup stdout");
	}
	out.io.weak = true;
	if (loop_io_start(loop, &out.io, out.pipe[0], LOOP_IN, readable, NULL, e) < 0) {
		output_release();
		return -e->code;
	}
	fflush(stdout);
	fflush(stderr);
	if (same_file(STDERR_FILENO, STDOUT_FILENO)) {
		out.saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		if (out.saved_err >= 0)
			dup2(out.pipe[1], STDERR_FILENO);
	}
	dup2(out.pipe[1], STDOUT_FILENO);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return out.term_fd;
}

void output_release(void)
{
	if (out.term_fd >= 0) {
		fflush(stdout);
		fflush(stderr);
		if (out.pipe[0] >= 0 && out.show)
			drain();
		dup2(out.term_fd, STDOUT_FILENO);
		close(out.term_fd);
	}
	if (out.saved_err >= 0) {
		dup2(out.saved_err, STDERR_FILENO);
		close(out.saved_err);
	}
	if (out.loop)
		loop_io_stop(out.loop, &out.io);
	for (int i = 0; i < 2; i++) {
		if (out.pipe[i] >= 0)
			close(out.pipe[i]);
		out.pipe[i] = -1;
	}
	out.term_fd = out.saved_err = -1;
	out.loop = NULL;
}
