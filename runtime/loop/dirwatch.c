/* SPDX-License-Identifier: MIT */
/* The directory watch. Its io is weak: watching a script for changes does
 * not by itself keep the loop running. */
#include "dirwatch.h"

#include <errno.h>
#include <stddef.h>
#include <sys/inotify.h>
#include <unistd.h>

static void dirwatch_ready(struct loop_io *io, uint32_t events)
{
	(void)events;
	struct dirwatch *w = (struct dirwatch *)io;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(io->fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->len)
				w->fn(ev->name, w->ctx);
			p += sizeof *ev + ev->len;
		}
	}
}

int dirwatch_start(struct loop *loop, struct dirwatch *w, const char *dir, bool created,
		   dirwatch_fn fn, void *ctx, struct rpmsg_err *e)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "inotify_init1");
	uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | (created ? IN_CREATE : 0);
	if (inotify_add_watch(fd, dir, mask) < 0) {
		int err = errno;
		close(fd);
		return rpmsg_fail_errno(e, err, "watch %s", dir);
	}
	w->fn = fn;
	w->ctx = ctx;
	w->io.weak = true;
	int r = loop_io_start(loop, &w->io, fd, LOOP_IN, dirwatch_ready, w, e);
	if (r < 0)
		close(fd);
	return r;
}

void dirwatch_stop(struct loop *loop, struct dirwatch *w)
{
	if (!w->io.active)
		return;
	loop_io_stop(loop, &w->io);
	close(w->io.fd);
}
