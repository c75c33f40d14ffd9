/* SPDX-License-Identifier: MIT */
/* The simulated control devices. An endpoint {src = A, dst = B} on one side
 * meets an endpoint {src = B, dst = A} (or dst = ADDR_ANY) on the other: the
 * first to be created makes a socket pair and leaves the far end for the
 * other. Messages sent before the far side exists wait in the socket, a
 * kindness real RPMsg does not offer. Destroying an endpoint takes its
 * mirror with it, as the kernel tears down an endpoint whose remote went:
 * the other side sees it close, and its recovery can pair up again with
 * whatever is declared next. */
#include "device_sim.h"
#include "device_sim_tty.h"
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct sim_dev {
	struct sim_dev *next;
	int index;            /* N of the simulated rpmsgN, unique across sides */
	int side;
	int ctrl_index;
	struct rpmsg_info info;
	unsigned addr;        /* src, with ADDR_ANY resolved to a dynamic address */
	int fd;               /* our end of the pair; an open endpoint gets a dup */
	int far_fd;           /* the end left for the mirror, -1 once claimed */
	struct sim_dev *peer; /* the mirror that claimed it, NULL until then */
	bool open;
};

struct sim_side {
	struct rpmsg_backend backend;   /* first: the backend pointer is the side */
	struct rpmsg_sim *sim;
	int side;
};

#define SIM_WATCHERS 4
struct rpmsg_sim {
	struct sim_side sides[2];
	struct sim_dev *devs;
	int next_index;
	int watchers[2][SIM_WATCHERS];   /* eventfds told when the other side's endpoints change */
	struct sim_tty *ttys;           /* rpmsg.tty{} under --sim (device_sim_tty.c) */
};

/* The endpoints of one side are the channels the other side sees: tell
 * its watchers that something changed. */
static void sim_changed(struct rpmsg_sim *sim, int side)
{
	uint64_t one = 1;
	for (int i = 0; i < SIM_WATCHERS; i++)
		if (sim->watchers[1 - side][i] >= 0 && write(sim->watchers[1 - side][i], &one, sizeof one) < 0) {
			/* the counter is full: the watcher has a change to read anyway */
		}
}

static struct sim_side *side_of(struct rpmsg_backend *b) { return (struct sim_side *)b; }

static struct sim_dev *dev_by_index(struct rpmsg_sim *sim, int side, int index)
{
	for (struct sim_dev *d = sim->devs; d; d = d->next)
		if (d->index == index && d->side == side)
			return d;
	return NULL;
}

static int sim_ctrl_open(struct rpmsg_backend *b, const char *path, int index,
			 struct rpmsg_ctrl *c, struct rpmsg_err *e)
{
	(void)b;
	if (path) {
		index = rpmsg_parse_index(path, "rpmsg_ctrl");
		if (index < 0)
			return rpmsg_fail(e, ENOENT, "simulated control device %s: name it rpmsg_ctrlN", path);
	}
	c->index = index;
	snprintf(c->path, sizeof c->path, "sim:rpmsg_ctrl%d", index);
	return 0;
}

static void sim_ctrl_close(struct rpmsg_ctrl *c) { (void)c; }

static bool addr_taken(struct rpmsg_sim *sim, int side, int ctrl, unsigned addr)
{
	for (struct sim_dev *d = sim->devs; d; d = d->next)
		if (d->side == side && d->ctrl_index == ctrl && d->addr == addr)
			return true;
	return false;
}

static struct sim_dev *find_mirror(struct rpmsg_sim *sim, const struct sim_dev *me)
{
	for (struct sim_dev *d = sim->devs; d; d = d->next)
		if (d->side != me->side && d->ctrl_index == me->ctrl_index && d->far_fd >= 0 &&
		    d->addr == me->info.dst && (d->info.dst == me->addr || d->info.dst == RPMSG_ANY))
			return d;
	return NULL;
}

static int sim_create(struct rpmsg_ctrl *c, const struct rpmsg_info *info, int *dev_index,
		      struct rpmsg_err *e)
{
	struct sim_side *s = side_of(c->backend);
	struct rpmsg_sim *sim = s->sim;
	struct sim_dev *d = calloc(1, sizeof *d);
	if (!d)
		return rpmsg_fail(e, ENOMEM, "out of memory");
	d->side = s->side;
	d->ctrl_index = c->index;
	d->info = *info;
	d->addr = info->src;
	for (unsigned a = 1024; d->addr == RPMSG_ANY; a++)  /* dynamic, as virtio does */
		if (!addr_taken(sim, d->side, d->ctrl_index, a))
			d->addr = a;
	struct sim_dev *mirror = find_mirror(sim, d);
	if (mirror) {
		d->fd = mirror->far_fd;
		d->far_fd = -1;
		mirror->far_fd = -1;
		d->peer = mirror;
		mirror->peer = d;
	} else {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
			free(d);
			return rpmsg_fail_errno(e, errno, "simulated endpoint '%s'", info->name);
		}
		d->fd = sv[0];
		d->far_fd = sv[1];
	}
	d->index = sim->next_index++;
	d->next = sim->devs;
	sim->devs = d;
	*dev_index = d->index;
	sim_changed(sim, d->side);
	return 0;
}

static int sim_src_holder(struct rpmsg_backend *b, int ctrl_index, unsigned src,
			  struct rpmsg_info *holder, int *dev_index)
{
	struct sim_side *s = side_of(b);
	for (struct sim_dev *d = s->sim->devs; d; d = d->next)
		if (d->side == s->side && d->ctrl_index == ctrl_index && d->addr == src) {
			*holder = d->info;
			*dev_index = d->index;
			return 1;
		}
	return 0;
}

static int sim_find(struct rpmsg_backend *b, int ctrl_index, const struct rpmsg_info *info,
		    struct rpmsg_err *e)
{
	struct sim_side *s = side_of(b);
	for (struct sim_dev *d = s->sim->devs; d; d = d->next)
		if (d->side == s->side && d->ctrl_index == ctrl_index &&
		    rpmsg_info_equal(&d->info, info))
			return d->index;
	return rpmsg_fail(e, ENOENT, "no simulated endpoint '%s' (src %u, dst %u) on rpmsg_ctrl%d",
			  info->name, info->src, info->dst, ctrl_index);
}

static int sim_ep_open(struct rpmsg_backend *b, const char *path, int index,
		       struct rpmsg_ep *ep, struct rpmsg_err *e)
{
	struct sim_side *s = side_of(b);
	if (path)
		index = rpmsg_parse_index(path, "rpmsg");
	snprintf(ep->path, sizeof ep->path, "sim:rpmsg%d", index);
	struct sim_dev *d = dev_by_index(s->sim, s->side, index);
	if (!d)
		return rpmsg_fail(e, ENOENT, "open %s: no such simulated endpoint", ep->path);
	if (d->open)
		return rpmsg_fail(e, EBUSY, "open %s: the endpoint is already open "
				  "(an endpoint has one opener at a time)", ep->path);
	/* A dup, so closing the endpoint without destroying it keeps the
	 * channel, as closing /dev/rpmsgN does. */
	int fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || rpmsg_socket_endpoint(fd, ep) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return rpmsg_fail_errno(e, err, "open %s", ep->path);
	}
	d->open = true;
	ep->index = index;
	ep->ctrl_index = d->ctrl_index;
	ep->info = d->info;
	return 0;
}

static void free_dev(struct rpmsg_sim *sim, struct sim_dev *d)
{
	struct sim_dev **p = &sim->devs;
	while (*p != d)
		p = &(*p)->next;
	*p = d->next;
	/* Shutdown, not just close: open dups and the far side see the end. */
	shutdown(d->fd, SHUT_RDWR);
	close(d->fd);
	if (d->far_fd >= 0)
		close(d->far_fd);
	sim_changed(sim, d->side);
	free(d);
}

/* Destroys d and its mirror: the mirror's remote is gone, so the "kernel"
 * removes it too, freeing its address for the endpoint recovery makes. */
static void unlink_dev(struct rpmsg_sim *sim, struct sim_dev *d)
{
	struct sim_dev *peer = d->peer;
	free_dev(sim, d);
	if (peer)
		free_dev(sim, peer);
}

static int sim_ep_destroy(struct rpmsg_ep *ep, struct rpmsg_err *e)
{
	struct sim_side *s = side_of(ep->backend);
	struct sim_dev *d = dev_by_index(s->sim, s->side, ep->index);
	if (!d)
		return rpmsg_fail(e, EPIPE, "destroy %s: already gone with its remote", ep->path);
	unlink_dev(s->sim, d);
	return 0;
}

static void sim_ep_close(struct rpmsg_ep *ep)
{
	struct sim_side *s = side_of(ep->backend);
	struct sim_dev *d = dev_by_index(s->sim, s->side, ep->index);
	if (d)
		d->open = false;
}

/* Control device 0, which a simulation always answers to, and every other
 * one that holds an endpoint of this side, in order. */
static int sim_each_ctrl(struct rpmsg_backend *b, rpmsg_ctrl_fn fn, void *ctx)
{
	struct sim_side *s = side_of(b);
	int last = -1;
	for (;;) {
		int next = last < 0 ? 0 : -1;
		for (struct sim_dev *d = s->sim->devs; d; d = d->next)
			if (d->side == s->side && d->ctrl_index > last && (next < 0 || d->ctrl_index < next))
				next = d->ctrl_index;
		if (next < 0)
			return 0;
		char path[64];
		snprintf(path, sizeof path, "sim:rpmsg_ctrl%d", next);
		int r = fn(next, path, ctx);
		if (r)
			return r;
		last = next;
	}
}

/* The endpoints of this side under control device ctrl_index, by index. */
static int sim_each_endpoint(struct rpmsg_backend *b, int ctrl_index, rpmsg_endpoint_fn fn,
			     void *ctx)
{
	struct sim_side *s = side_of(b);
	for (int index = 0; index < s->sim->next_index; index++) {
		struct sim_dev *d = dev_by_index(s->sim, s->side, index);
		if (!d || d->ctrl_index != ctrl_index)
			continue;
		char path[64];
		snprintf(path, sizeof path, "sim:rpmsg%d", index);
		int r = fn(index, path, &d->info, ctx);
		if (r)
			return r;
	}
	return 0;
}

/* What the other side declared is what a firmware announces: each of its
 * endpoints is a channel, at its address, with ours once paired. */
static int sim_each_channel(struct rpmsg_backend *b, rpmsg_channel_fn fn, void *ctx)
{
	struct sim_side *s = side_of(b);
	for (int index = 0; index < s->sim->next_index; index++) {
		struct sim_dev *d = dev_by_index(s->sim, 1 - s->side, index);
		if (!d)
			continue;
		struct rpmsg_channel ch;
		memset(&ch, 0, sizeof ch);
		snprintf(ch.bus, sizeof ch.bus, "sim:%d", index);
		ch.info = d->info;
		ch.info.src = d->peer ? d->peer->addr : RPMSG_ANY;
		ch.info.dst = d->addr;
		ch.ctrl_index = d->ctrl_index;
		ch.ctrl_under = -1;
		int r = fn(&ch, ctx);
		if (r)
			return r;
	}
	return 0;
}

static int sim_channel_events(struct rpmsg_backend *b, struct rpmsg_err *e)
{
	struct sim_side *s = side_of(b);
	for (int i = 0; i < SIM_WATCHERS; i++)
		if (s->sim->watchers[s->side][i] < 0) {
			int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (fd < 0)
				return rpmsg_fail_errno(e, errno, "eventfd");
			return s->sim->watchers[s->side][i] = fd;
		}
	return rpmsg_fail(e, EMFILE, "the simulation has %d channel watchers already", SIM_WATCHERS);
}

static bool sim_channel_events_read(struct rpmsg_backend *b, int fd)
{
	(void)b;
	uint64_t v;
	return read(fd, &v, sizeof v) == sizeof v;
}

static void sim_channel_events_close(struct rpmsg_backend *b, int fd)
{
	struct sim_side *s = side_of(b);
	for (int i = 0; i < SIM_WATCHERS; i++)
		if (s->sim->watchers[s->side][i] == fd)
			s->sim->watchers[s->side][i] = -1;
	close(fd);
}

static int sim_tty_open(struct rpmsg_backend *b, const char *path, struct rpmsg_err *e)
{
	struct sim_side *s = side_of(b);
	return rpmsg_sim_tty_open(&s->sim->ttys, s->side == RPMSG_SIM_REMOTE, path, e);
}

static const struct rpmsg_backend_ops sim_ops = {
	.name = "sim",
	.ctrl_open = sim_ctrl_open,
	.ctrl_close = sim_ctrl_close,
	.create = sim_create,
	.src_holder = sim_src_holder,
	.find = sim_find,
	.ep_open = sim_ep_open,
	.ep_destroy = sim_ep_destroy,
	.ep_close = sim_ep_close,
	.each_ctrl = sim_each_ctrl,
	.each_endpoint = sim_each_endpoint,
	.each_channel = sim_each_channel,
	.channel_events = sim_channel_events,
	.channel_events_read = sim_channel_events_read,
	.channel_events_close = sim_channel_events_close,
	.tty_open = sim_tty_open,
};

struct rpmsg_sim *rpmsg_sim_new(void)
{
	struct rpmsg_sim *sim = calloc(1, sizeof *sim);
	if (!sim)
		return NULL;
	for (int i = 0; i < 2; i++) {
		sim->sides[i].backend.ops = &sim_ops;
		sim->sides[i].sim = sim;
		sim->sides[i].side = i;
		for (int w = 0; w < SIM_WATCHERS; w++)
			sim->watchers[i][w] = -1;
	}
	return sim;
}

struct rpmsg_backend *rpmsg_sim_backend(struct rpmsg_sim *sim, enum rpmsg_sim_side side)
{
	return &sim->sides[side].backend;
}

void rpmsg_sim_free(struct rpmsg_sim *sim)
{
	if (!sim)
		return;
	for (int i = 0; i < 2; i++)
		rpmsg_destroy_created(&sim->sides[i].backend);
	while (sim->devs)
		unlink_dev(sim, sim->devs);
	rpmsg_sim_ttys_free(&sim->ttys);
	free(sim);
}
