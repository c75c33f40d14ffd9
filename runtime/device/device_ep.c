/* SPDX-License-Identifier: MIT */
/* Endpoint I/O, the same for every backend: one message per read or write on
 * a message-oriented fd, the 496-byte limit, EAGAIN, closure, the guard that
 * makes a second DESTROY impossible, and what may become an endpoint (an
 * rpmsg endpoint device or a SOCK_SEQPACKET socket, each fd once). */
#include "device.h"
#include "clock.h"
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static const char *ep_label(const struct rpmsg_ep *ep)
{
	return ep->path[0] ? ep->path : "endpoint";
}

static int closed_error(struct rpmsg_ep *ep, struct rpmsg_err *e)
{
	return rpmsg_fail(e, EPIPE, "%s is closed (%s)", ep_label(ep),
			  ep->destroyed_by_us ? "destroyed" : "remote gone");
}

/* Every open endpoint of the process (both --sim states share fd numbers),
 * so an fd becomes one endpoint only: two would both close it. */
static struct rpmsg_ep *open_eps;

static void track(struct rpmsg_ep *ep)
{
	ep->next_open = open_eps;
	open_eps = ep;
}

static void untrack(struct rpmsg_ep *ep)
{
	struct rpmsg_ep **p = &open_eps;
	while (*p && *p != ep)
		p = &(*p)->next_open;
	if (*p)
		*p = ep->next_open;
}

static const struct rpmsg_ep *owner_of(int fd)
{
	for (const struct rpmsg_ep *ep = open_eps; ep; ep = ep->next_open)
		if (ep->fd == fd)
			return ep;
	return NULL;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a device";
}

int rpmsg_check_transport(const struct stat *st, int fd, const char *what, struct rpmsg_err *e)
{
	if (S_ISSOCK(st->st_mode)) {
		int type = 0;
		socklen_t len = sizeof type;
		if (fd < 0)
			return rpmsg_fail(e, EINVAL, "%s is a socket file, not an rpmsg endpoint device "
					  "(connect to it and give the fd to rpmsg.endpoint{fd =})", what);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
			return rpmsg_fail(e, EINVAL, "%s is a socket but not SOCK_SEQPACKET: message "
					  "boundaries would be lost", what);
		return 0;
	}
	if (!S_ISCHR(st->st_mode))
		return rpmsg_fail(e, EINVAL, "%s is %s, not an rpmsg endpoint device", what,
				  file_kind(st->st_mode));
	unsigned maj = major(st->st_rdev), min = minor(st->st_rdev);
	char name[NAME_MAX + 1], cls[NAME_MAX + 1];
	if (sysfs_char_device(maj, min, name, sizeof name, cls, sizeof cls) < 0)
		return rpmsg_fail(e, EINVAL, "%s is a character device (%u:%u) that %s/dev/char does "
				  "not know: not an rpmsg endpoint device", what, maj, min,
				  rpmsg_sysfs_root());
	if (strcmp(cls, "rpmsg") != 0)
		return rpmsg_fail(e, EINVAL, "%s is a character device of class '%s' (%s), not an "
				  "rpmsg endpoint device", what, cls, name);
	if (rpmsg_parse_index(name, "rpmsg") < 0)
		return rpmsg_fail(e, EINVAL, "%s is %s, an rpmsg control device, not an endpoint "
				  "device: create endpoints through it (rpmsg.open_ctrl, "
				  "rpmsg.endpoint{ctrl =})", what, name);
	return 0;
}

struct rpmsg_ep *rpmsg_ep_open(struct rpmsg_backend *b, const char *path, int index,
			       struct rpmsg_err *e)
{
	struct rpmsg_ep *ep = calloc(1, sizeof *ep);
	if (!ep) {
		rpmsg_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	ep->backend = b;
	ep->fd = -1;
	ep->index = -1;
	ep->ctrl_index = -1;
	if (b->ops->ep_open(b, path, index, ep, e) < 0) {
		free(ep);
		return NULL;
	}
	rpmsg_created_link(ep);
	track(ep);
	return ep;
}

/* The ends of a pair, and adopted fds, have no backend: nothing to create
 * or destroy (DESTROY on an adopted device fd is not ours to issue). */
static int pair_destroy(struct rpmsg_ep *ep, struct rpmsg_err *e)
{
	(void)e;
	shutdown(ep->fd, SHUT_RDWR);
	return 0;
}
static void pair_close(struct rpmsg_ep *ep) { (void)ep; }
static const struct rpmsg_backend_ops pair_ops = {
	.name = "pair", .ep_destroy = pair_destroy, .ep_close = pair_close,
};
static struct rpmsg_backend pair_backend = { .ops = &pair_ops };

int rpmsg_socket_endpoint(int fd, struct rpmsg_ep *ep)
{
	/* With SO_PASSCRED every real message carries credentials, even an
	 * empty one; end of file carries none. That is how "" and EOF differ. */
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
		return -errno;
	ep->fd = fd;
	ep->is_socket = true;
	return 0;
}

/* Made non-blocking and close-on-exec: a blocking fd would stall the loop. */
static int own_fd(int fd, struct rpmsg_err *e)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return rpmsg_fail_errno(e, errno, "fd %d: cannot make it O_NONBLOCK", fd);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return rpmsg_fail_errno(e, errno, "fd %d: cannot make it close-on-exec", fd);
	return 0;
}

struct rpmsg_ep *rpmsg_ep_adopt(int fd, struct rpmsg_err *e)
{
	struct stat st;
	char what[32];
	snprintf(what, sizeof what, "fd %d", fd);
	const struct rpmsg_ep *owner = owner_of(fd);
	if (owner) {
		rpmsg_fail(e, EBUSY, "fd %d already belongs to endpoint '%s': an fd makes one endpoint",
			   fd, owner->info.name[0] ? owner->info.name : ep_label(owner));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		rpmsg_fail_errno(e, errno, "%s", what);
		return NULL;
	}
	if (rpmsg_check_transport(&st, fd, what, e) < 0 || own_fd(fd, e) < 0)
		return NULL;
	struct rpmsg_ep *ep = calloc(1, sizeof *ep);
	if (!ep) {
		rpmsg_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	ep->backend = &pair_backend;
	ep->fd = fd;
	ep->index = ep->ctrl_index = -1;
	snprintf(ep->path, sizeof ep->path, "%s", what);
	int r = S_ISSOCK(st.st_mode) ? rpmsg_socket_endpoint(fd, ep) : 0;
	if (r < 0) {
		rpmsg_fail_errno(e, -r, "%s: SO_PASSCRED", what);
		free(ep);
		return NULL;
	}
	track(ep);
	return ep;
}

int rpmsg_ep_pair(struct rpmsg_ep **a, struct rpmsg_ep **b, struct rpmsg_err *e)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return rpmsg_fail_errno(e, errno, "socketpair");
	struct rpmsg_ep *ends[2] = { calloc(1, sizeof **a), calloc(1, sizeof **a) };
	for (int i = 0; i < 2; i++) {
		int r = ends[i] ? rpmsg_socket_endpoint(sv[i], ends[i]) : -ENOMEM;
		if (r < 0) {
			free(ends[0]);
			free(ends[1]);
			close(sv[0]);
			close(sv[1]);
			return r == -ENOMEM ? rpmsg_fail(e, ENOMEM, "endpoint pair: out of memory")
					    : rpmsg_fail_errno(e, -r, "endpoint pair: SO_PASSCRED");
		}
		ends[i]->backend = &pair_backend;
		ends[i]->index = -1;
		ends[i]->ctrl_index = -1;
		strcpy(ends[i]->path, i ? "pair end b" : "pair end a");
	}
	track(ends[0]);
	track(ends[1]);
	*a = ends[0];
	*b = ends[1];
	return 0;
}

static int send_failed(struct rpmsg_ep *ep, int err, size_t len, struct rpmsg_err *e)
{
	switch (err) {
	case EAGAIN:
	case ENOMEM: /* kernels before 5.18 said ENOMEM for "no TX buffer" */
		return rpmsg_fail(e, EAGAIN, "%s: no free transmit buffer, nothing was sent",
				  ep_label(ep));
	case EPIPE:
	case ECONNRESET:
	case ENOTCONN:
		rpmsg_ep_mark_dead(ep);
		return closed_error(ep, e);
	case EMSGSIZE:
		return rpmsg_fail(e, EMSGSIZE, "%s: the transport refused a %zu-byte message as too long",
				  ep_label(ep), len);
	case EINVAL:
		return rpmsg_fail(e, EINVAL,
				  "%s: the kernel refused the message (src or dst is ADDR_ANY?)",
				  ep_label(ep));
	default:
		return rpmsg_fail_errno(e, err, "%s: send", ep_label(ep));
	}
}

int rpmsg_ep_send(struct rpmsg_ep *ep, const void *buf, size_t len, struct rpmsg_err *e)
{
	if (len > RPMSG_MAX_MESSAGE)
		return rpmsg_fail(e, EMSGSIZE, "message is %zu bytes, over the %d-byte RPMsg limit",
				  len, RPMSG_MAX_MESSAGE);
	if (ep->fd < 0)
		return rpmsg_fail(e, EBADF, "endpoint is closed");
	if (ep->dead)
		return closed_error(ep, e);
	for (;;) {
		/* MSG_NOSIGNAL: a vanished peer is an error to report, not SIGPIPE. */
		ssize_t n = ep->is_socket ? send(ep->fd, buf, len, MSG_NOSIGNAL)
					  : write(ep->fd, buf, len);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return rpmsg_fail(e, EIO, "%s: short write of %zd of %zu bytes",
					  ep_label(ep), n, len);
		if (errno != EINTR)
			return send_failed(ep, errno, len, e);
	}
}

static ssize_t socket_recv(struct rpmsg_ep *ep, void *buf, size_t cap)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = &control, .msg_controllen = sizeof control };
	/* MSG_TRUNC: the message's real length, so a cut is never silent. */
	ssize_t n = recvmsg(ep->fd, &m, MSG_CMSG_CLOEXEC | MSG_TRUNC);
	if (n == 0 && m.msg_controllen == 0) {
		errno = EPIPE;  /* end of file: the peer is gone */
		return -1;
	}
	return n;
}

ssize_t rpmsg_ep_recv(struct rpmsg_ep *ep, void *buf, size_t cap, struct rpmsg_err *e)
{
	if (ep->fd < 0)
		return rpmsg_fail(e, EBADF, "endpoint is closed");
	if (ep->dead)
		return closed_error(ep, e);
	for (;;) {
		/* A read of 0 bytes is an empty message, not end of file. */
		ssize_t n = ep->is_socket ? socket_recv(ep, buf, cap) : read(ep->fd, buf, cap);
		if (n >= 0)
			return n;
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
			return -EAGAIN;
		case EPIPE:
		case ECONNRESET:
		case ENOTCONN:
			rpmsg_ep_mark_dead(ep);
			return closed_error(ep, e);
		default:
			return rpmsg_fail_errno(e, errno, "%s: read", ep_label(ep));
		}
	}
}

int rpmsg_ep_wait(struct rpmsg_ep *ep, int timeout_ms, struct rpmsg_err *e)
{
	if (ep->fd < 0)
		return rpmsg_fail(e, EBADF, "endpoint is closed");
	if (ep->dead)
		return 1;
	long long deadline = timeout_ms < 0 ? -1 : (long long)rpmsg_now_ms() + timeout_ms;
	for (;;) {
		int left = deadline < 0 ? -1 : (int)(deadline - (long long)rpmsg_now_ms());
		if (deadline >= 0 && left < 0)
			left = 0;
		struct pollfd p = { .fd = ep->fd, .events = POLLIN };
		int r = poll(&p, 1, left);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return rpmsg_fail_errno(e, errno, "%s: poll", ep_label(ep));
	}
}

void rpmsg_ep_mark_dead(struct rpmsg_ep *ep)
{
	ep->dead = true;
	/* The kernel destroyed it for us: nothing left to clean up at exit. */
	if (ep->created)
		rpmsg_created_forget(ep->created);
}

int rpmsg_ep_destroy(struct rpmsg_ep *ep, struct rpmsg_err *e)
{
	if (ep->fd < 0)
		return rpmsg_fail(e, EBADF, "endpoint is closed");
	if (ep->dead)
		return rpmsg_fail(e, EPIPE, "%s is already gone (%s); not destroying it again",
				  ep_label(ep), ep->destroyed_by_us ? "destroyed" : "remote gone");
	/* The remote may have gone without the loop noticing yet; DESTROY then
	 * would be the second one on this fd. POLLERR tells. */
	struct pollfd p = { .fd = ep->fd, .events = POLLIN };
	if (!ep->is_socket && poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) {
		rpmsg_ep_mark_dead(ep);
		return closed_error(ep, e);
	}
	/* Marked before the call: whatever it returns, it is never issued again. */
	ep->dead = true;
	ep->destroyed_by_us = true;
	int r = ep->backend->ops->ep_destroy(ep, e);
	if (r == -EPIPE)   /* the backend found it gone with its remote */
		ep->destroyed_by_us = false;
	if (ep->created)
		rpmsg_created_forget(ep->created);
	return r;
}

void rpmsg_ep_close(struct rpmsg_ep *ep)
{
	untrack(ep);
	if (ep->created)
		ep->created->ep = NULL;
	if (ep->fd >= 0) {
		ep->backend->ops->ep_close(ep);
		close(ep->fd);
	}
	free(ep);
}
