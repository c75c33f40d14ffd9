/* Backend-independent control-device logic: the src check before CREATE, the
 * record of endpoints this process created, and destroy-by-info. */
#include "device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct rpmsg_created *find_created(struct rpmsg_backend *b, int ctrl_index,
					  const struct rpmsg_info *info)
{
	for (struct rpmsg_created *r = b->created; r; r = r->next)
		if (r->ctrl_index == ctrl_index && rpmsg_info_equal(&r->info, info))
			return r;
	return NULL;
}

void rpmsg_created_forget(struct rpmsg_created *rec)
{
	struct rpmsg_backend *b = rec->backend;
	struct rpmsg_created **p = &b->created;
	while (*p && *p != rec)
		p = &(*p)->next;
	if (*p)
		*p = rec->next;
	if (rec->ep)
		rec->ep->created = NULL;
	free(rec);
	if (!b->created)
		rpmsg_exit_untrack(b);   /* nothing left to destroy at exit */
}

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
	rec->backend = c->backend;
	rec->ctrl_index = c->index;
	rec->dev_index = dev;
	rec->info = *info;
	rec->next = c->backend->created;
	c->backend->created = rec;
	rpmsg_exit_track(c->backend);   /* destroyed however the process ends */
	return dev;
}

/* Destroys through a temporary fd on the endpoint's node. */
static int destroy_by_node(struct rpmsg_backend *b, int ctrl_index,
			   const struct rpmsg_info *info, struct rpmsg_err *e)
{
	int dev = b->ops->find(b, ctrl_index, info, e);
	if (dev < 0)
		return dev;
	struct rpmsg_ep *ep = rpmsg_ep_open(b, NULL, dev, e);
	if (!ep)
		return -e->code;
	int r = rpmsg_ep_destroy(ep, e);
	rpmsg_ep_close(ep);
	return r;
}

int rpmsg_ctrl_destroy(struct rpmsg_ctrl *c, const struct rpmsg_info *info, struct rpmsg_err *e)
{
	struct rpmsg_created *rec = find_created(c->backend, c->index, info);
	if (rec && rec->ep)
		return rpmsg_ep_destroy(rec->ep, e);
	return destroy_by_node(c->backend, c->index, info, e);
}

int rpmsg_destroy_created(struct rpmsg_backend *b)
{
	int destroyed = 0;
	while (b->created) {
		struct rpmsg_created *rec = b->created;
		struct rpmsg_err e;
		int r = rec->ep ? rpmsg_ep_destroy(rec->ep, &e)
				: destroy_by_node(b, rec->ctrl_index, &rec->info, &e);
		destroyed += r == 0;
		/* Whatever happened, do not try again: a failed destroy of a
		 * vanished endpoint must not loop. */
		if (b->created == rec)
			rpmsg_created_forget(rec);
	}
	return destroyed;
}

/* Links a freshly opened endpoint to the record of its creation, so destroy
 * by info goes through this fd (a second open would get EBUSY). */
void rpmsg_created_link(struct rpmsg_ep *ep)
{
	if (ep->ctrl_index < 0)
		return;
	struct rpmsg_created *rec = find_created(ep->backend, ep->ctrl_index, &ep->info);
	if (rec && !rec->ep) {
		rec->ep = ep;
		ep->created = rec;
	}
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
