/* SPDX-License-Identifier: MIT */
/* The record of the endpoints this process created and has not destroyed,
 * one list per backend, each record linked to our open fd on it when we
 * have one. Below the endpoint I/O (device_ep.c), which links and forgets,
 * and below the destroys (device_exit.c), which walk it. */
#include "device.h"

#include <stdlib.h>

struct rpmsg_created *rpmsg_created_find(struct rpmsg_backend *b, int ctrl_index,
					 const struct rpmsg_info *info)
{
	for (struct rpmsg_created *r = b->created; r; r = r->next)
		if (r->ctrl_index == ctrl_index && rpmsg_info_equal(&r->info, info))
			return r;
	return NULL;
}

void rpmsg_created_add(struct rpmsg_backend *b, struct rpmsg_created *rec, int ctrl_index,
		       int dev_index, const struct rpmsg_info *info)
{
	rec->backend = b;
	rec->ctrl_index = ctrl_index;
	rec->dev_index = dev_index;
	rec->info = *info;
	rec->next = b->created;
	b->created = rec;
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
}

/* Links a freshly opened endpoint to the record of its creation, so destroy
 * by info goes through this fd (a second open would get EBUSY). */
void rpmsg_created_link(struct rpmsg_ep *ep)
{
	if (ep->ctrl_index < 0)
		return;
	struct rpmsg_created *rec = rpmsg_created_find(ep->backend, ep->ctrl_index, &ep->info);
	if (rec && !rec->ep) {
		rec->ep = ep;
		ep->created = rec;
	}
}
