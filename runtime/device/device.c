/* SPDX-License-Identifier: MIT */
/* Backend-independent control-device logic: the src check before CREATE,
 * recording what CREATE made (device_created.c), destroy-by-info, and the
 * optional channel and flow requests. */
#include "device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rpmsg_ctrl *rpmsg_ctrl_open(struct rpmsg_backend *b, const char *path, int index,
				   struct rpmsg_err *e)
{
	struct rpmsg_ctrl *c = calloc(1, sizeof *c);
	if (!c) {
		rpmsg_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	c->backend = b;
	c->fd = -1;
	if (b->ops->ctrl_open(b, path, index, c, e) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void rpmsg_ctrl_close(struct rpmsg_ctrl *c)
{
	c->backend->ops->ctrl_close(c);
	free(c);
}

static int refuse_held_src(struct rpmsg_ctrl *c, const struct rpmsg_info *info, struct rpmsg_err *e)
{
	struct rpmsg_backend *b = c->backend;
	for (struct rpmsg_created *r = b->created; r; r = r->next)
		if (r->ctrl_index == c->index && r->info.src == info->src)
			return rpmsg_fail(e, EADDRINUSE,
					  "src %u is already held by our endpoint '%s' on rpmsg_ctrl%d",
					  info->src, r->info.name, c->index);
	struct rpmsg_info holder;
	int dev = -1;
	if (b->ops->src_holder(b, c->index, info->src, &holder, &dev) != 1)
		return 0;
	if (dev < 0)
		return rpmsg_fail(e, EADDRINUSE,
				  "src %u is already held by the channel '%s' that the remote announced "
				  "(rpmsg_ctrl%d's remote): pick another src",
				  info->src, holder.name, c->index);
	return rpmsg_fail(e, EADDRINUSE,
			  "src %u is already held by endpoint '%s' (rpmsg%d) on rpmsg_ctrl%d",
			  info->src, holder.name, dev, c->index);
}

int rpmsg_ctrl_create(struct rpmsg_ctrl *c, const struct rpmsg_info *info, struct rpmsg_err *e)
{
	/* The kernel accepts a second endpoint on a bound src and leaves a device
	 * that can be neither opened nor destroyed: refuse before asking. */
	if (info->src != RPMSG_ANY) {
		int r = refuse_held_src(c, info, e);
		if (r < 0)
			return r;
	}
	struct rpmsg_created *rec = calloc(1, sizeof *rec);
	if (!rec)
		return rpmsg_fail(e, ENOMEM, "out of memory");
	int dev;
	int r = c->backend->ops->create(c, info, &dev, e);
	if (r < 0) {
		free(rec);
		return r;
	}
	rpmsg_created_add(c->backend, rec, c->index, dev, info);
	rpmsg_exit_track(c->backend);   /* destroyed however the process ends */
	return dev;
}

int rpmsg_ctrl_destroy(struct rpmsg_ctrl *c, const struct rpmsg_info *info, struct rpmsg_err *e)
{
	struct rpmsg_created *rec = rpmsg_created_find(c->backend, c->index, info);
	if (rec && rec->ep)
		return rpmsg_ep_destroy(rec->ep, e);
	return rpmsg_destroy_by_node(c->backend, c->index, info, e);
}

int rpmsg_ctrl_channel(struct rpmsg_ctrl *c, const struct rpmsg_info *info, bool create,
		       struct rpmsg_err *e)
{
	if (!c->backend->ops->channel)
		return rpmsg_fail(e, ENXIO, "%s cannot create channel devices", c->path);
	return c->backend->ops->channel(c, info, create, e);
}

int rpmsg_ep_flow(struct rpmsg_ep *ep, int set, bool *enabled, struct rpmsg_err *e)
{
	if (ep->fd < 0)
		return rpmsg_fail(e, EBADF, "endpoint is closed");
	if (!ep->backend->ops->flow)
		return rpmsg_fail(e, EOPNOTSUPP, "%s has no flow control", ep->path);
	return ep->backend->ops->flow(ep, set, enabled, e);
}

int rpmsg_each_ctrl(struct rpmsg_backend *b, rpmsg_ctrl_fn fn, void *ctx)
{
	return b->ops->each_ctrl(b, fn, ctx);
}

int rpmsg_each_endpoint(struct rpmsg_backend *b, int ctrl_index, rpmsg_endpoint_fn fn, void *ctx)
{
	return b->ops->each_endpoint(b, ctrl_index, fn, ctx);
}

int rpmsg_each_rproc(struct rpmsg_backend *b, rpmsg_rproc_fn fn, void *ctx)
{
	return b->ops->each_rproc ? b->ops->each_rproc(b, fn, ctx) : 0;
}

int rpmsg_each_channel(struct rpmsg_backend *b, rpmsg_channel_fn fn, void *ctx)
{
	return b->ops->each_channel ? b->ops->each_channel(b, fn, ctx) : 0;
}

int rpmsg_channel_events_open(struct rpmsg_backend *b, struct rpmsg_err *e)
{
	if (!b->ops->channel_events)
		return rpmsg_fail(e, EOPNOTSUPP, "the %s backend does not tell when channels change",
				  b->ops->name);
	return b->ops->channel_events(b, e);
}

bool rpmsg_channel_events_read(struct rpmsg_backend *b, int fd)
{
	return b->ops->channel_events_read(b, fd);
}

void rpmsg_channel_events_close(struct rpmsg_backend *b, int fd)
{
	b->ops->channel_events_close(b, fd);
}
