/* Endpoint I/O, the same for every backend: one message per read or write on
 * a message-oriented fd, the 496-byte limit, EAGAIN, closure, and the guard
 * that makes a second DESTROY impossible. */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

struct rpmsg_ep *rpmsg_ep_adopt(int fd, struct rpmsg_err *e)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof type;
	if (fstat(fd, &st) < 0) {
		rpmsg_fail_errno(e, errno, "fd %d", fd);
		return NULL;
	}
	bool sock = S_ISSOCK(st.st_mode);
	if (sock && (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)) {
		rpmsg_fail(e, EINVAL, "fd %d is a socket but not SOCK_SEQPACKET: message boundaries "
			   "would be lost", fd);
		return NULL;
	}
	if (!sock && !S_ISCHR(st.st_mode)) {
		rpmsg_fail(e, EINVAL, "fd %d is neither a SOCK_SEQPACKET socket nor a device", fd);
		return NULL;
	}
	struct rpmsg_ep *ep = calloc(1, sizeof *ep);
	if (!ep) {
		rpmsg_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ep->backend = &pair_backend;
	ep->fd = fd;
	ep->index = ep->ctrl_index = -1;
	snprintf(ep->path, sizeof ep->path, "fd %d", fd);
	if (sock && rpmsg_socket_endpoint(fd, ep) < 0) {
		rpmsg_fail_errno(e, errno, "fd %d", fd);
		free(ep);
		return NULL;
	}
	return ep;
}

int rpmsg_ep_pair(struct rpmsg_ep **a, struct rpmsg_ep **b, struct rpmsg_err *e)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return rpmsg_fail_errno(e, errno, "socketpair");
	struct rpmsg_ep *ends[2] = { calloc(1, sizeof **a), calloc(1, sizeof **a) };
	for (int i = 0; i < 2; i++) {
		if (!ends[i] || rpmsg_socket_endpoint(sv[i], ends[i]) < 0) {
			free(ends[0]);
			free(ends[1]);
			close(sv[0]);
			close(sv[1]);
			return rpmsg_fail(e, ENOMEM, "cannot set up endpoint pair");
		}
		ends[i]->backend = &pair_backend;
		ends[i]->index = -1;
		ends[i]->ctrl_index = -1;
		strcpy(ends[i]->path, i ? "pair end b" : "pair end a");
	}
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
	ssize_t n = recvmsg(ep->fd, &m, MSG_CMSG_CLOEXEC);
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

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rpmsg_ep_wait(struct rpmsg_ep *ep, int timeout_ms, struct rpmsg_err *e)
{
	if (ep->fd < 0)
		return rpmsg_fail(e, EBADF, "endpoint is closed");
	if (ep->dead)
		return 1;
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	for (;;) {
		int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
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
	if (ep->created)
		rpmsg_created_forget(ep->created);
	return r;
}

void rpmsg_ep_close(struct rpmsg_ep *ep)
{
	if (ep->created)
		ep->created->ep = NULL;
	if (ep->fd >= 0) {
		ep->backend->ops->ep_close(ep);
		close(ep->fd);
	}
	free(ep);
}
