/* SPDX-License-Identifier: MIT */
/* ttys for messages: open, the raw mode that keeps binary intact (the
 * mangled-binary problem users of /dev/ttyRPMSGN report is the default
 * line discipline echoing and turning \n into \r\n), reads and writes that
 * tell a hang-up from "nothing yet", and the tty of a named channel. */
#include "tty.h"
#include "device.h"
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* What a file is, for refusals: "a regular file", "a directory" ... */
static const char *rpmsg_file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFIFO: return "a pipe";
	case S_IFSOCK: return "a socket";
	default: return "not a device";
	}
}

/* cfmakeraw and more: 8 bits, no parity, receiver on, modem lines ignored,
 * reads return what is there (VMIN 1, VTIME 0). */
static int rpmsg_tty_make_raw(int fd, const char *what, struct rpmsg_err *e)
{
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return rpmsg_fail_errno(e, errno, "%s: tcgetattr", what);
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return rpmsg_fail_errno(e, errno, "%s: tcsetattr (raw mode)", what);
	return 0;
}

static int open_file(const char *path, struct rpmsg_err *e)
{
	/* O_NONBLOCK also keeps open() from waiting for a carrier. */
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "open %s", path);
	return fd;
}

int rpmsg_tty_open(struct rpmsg_backend *b, const char *path, struct rpmsg_err *e)
{
	struct stat st;
	/* Checked before open: opening a FIFO read-write, or a device with
	 * side effects, is not ours to do unless it is a tty. */
	if (!(b && b->ops->tty_open) && stat(path, &st) == 0 && !S_ISCHR(st.st_mode))
		return rpmsg_fail(e, ENOTTY, "%s is %s, not a tty", path, rpmsg_file_kind(st.st_mode));
	int fd = b && b->ops->tty_open ? b->ops->tty_open(b, path, e) : open_file(path, e);
	if (fd < 0)
		return fd;
	if (!isatty(fd)) {
		fstat(fd, &st);
		close(fd);
		return rpmsg_fail(e, ENOTTY, "%s is %s, not a tty", path,
				  S_ISCHR(st.st_mode) ? "a character device"
						      : rpmsg_file_kind(st.st_mode));
	}
	if (rpmsg_tty_make_raw(fd, path, e) < 0) {
		close(fd);
		return -e->code;
	}
	return fd;
}

ssize_t rpmsg_tty_read(int fd, void *buf, size_t cap, struct rpmsg_err *e)
{
	ssize_t n;
	do
		n = read(fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;
	/* A tty says its other side is gone with end of file (hang-up) or EIO
	 * (a pty whose master closed, a removed ttyRPMSG). */
	if (n == 0 || errno == EIO)
		return rpmsg_fail(e, EPIPE, "the tty hung up");
	return rpmsg_fail_errno(e, errno, "read");
}

ssize_t rpmsg_tty_write(int fd, const void *buf, size_t len, struct rpmsg_err *e)
{
	ssize_t n;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN)
		return -EAGAIN;
	if (errno == EIO)
		return rpmsg_fail(e, EPIPE, "the tty hung up");
	return rpmsg_fail_errno(e, errno, "write");
}

struct by_service {
	const char *service;
	int found;
	char seen[200];      /* the rpmsg ttys there are, for the error */
};

static int match_service(int index, void *ctx)
{
	struct by_service *q = ctx;
	char path[PATH_MAX], name[64];
	snprintf(path, sizeof path, "%s/class/tty/ttyRPMSG%d/device/name", rpmsg_sysfs_root(), index);
	if (sysfs_read(path, name, sizeof name) < 0)
		return 0;
	size_t used = strlen(q->seen);
	snprintf(q->seen + used, sizeof q->seen - used, "%sttyRPMSG%d ('%s')", used ? ", " : "",
		 index, name);
	if (strcmp(name, q->service) == 0 && (q->found < 0 || index < q->found))
		q->found = index;
	return 0;
}

int rpmsg_tty_find_service(const char *service, char *path, size_t cap, struct rpmsg_err *e)
{
	struct by_service q = { service, -1, "" };
	sysfs_each_index("class/tty", "ttyRPMSG", match_service, &q);
	if (q.found < 0)
		return rpmsg_fail(e, ENOENT, "no tty for the service '%s' (rpmsg ttys: %s)", service,
				  q.seen[0] ? q.seen : "none");
	snprintf(path, cap, "%s/ttyRPMSG%d", rpmsg_dev_root(), q.found);
	return 0;
}
