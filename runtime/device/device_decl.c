/* SPDX-License-Identifier: MIT */
/* Declared endpoints: made from a declaration (control device or
 * remoteproc, name, src, dst), and told apart by it. */
#include "device_decl.h"
#include "remoteproc.h"

#include <string.h>

struct rpmsg_ep *rpmsg_decl_create(struct rpmsg_backend *b, const struct endpoint_decl *d,
				   struct rpmsg_err *e)
{
	struct endpoint_decl via;
	if (d->service[0]) {   /* its node, or a plain declaration to create */
		struct rpmsg_ep *node;
		if (rpmsg_service_resolve(b, d, &node, &via, e) < 0 || node)
			return node;
		d = &via;
	}
	int ctrl_index = d->ctrl_index;
	if (d->rproc[0]) {   /* whatever number its control device has today */
		struct rproc r;
		if (rproc_find(d->rproc, 0, &r, e) < 0 || (ctrl_index = rproc_ctrl_index(&r, e)) < 0)
			return NULL;
	}
	struct rpmsg_ctrl *ctrl = rpmsg_ctrl_open(b, d->ctrl_path[0] ? d->ctrl_path : NULL, ctrl_index, e);
	if (!ctrl)
		return NULL;
	struct rpmsg_ep *ep = NULL;
	int dev = rpmsg_ctrl_create(ctrl, &d->info, e);
	if (dev >= 0) {
		ep = rpmsg_ep_open(b, NULL, dev, e);
		struct rpmsg_err ignored;
		if (!ep)  /* leave nothing behind that nobody holds */
			rpmsg_ctrl_destroy(ctrl, &d->info, &ignored);
	}
	rpmsg_ctrl_close(ctrl);
	return ep;
}

bool rpmsg_decl_equal(const struct endpoint_decl *a, const struct endpoint_decl *b)
{
	return a->ctrl_index == b->ctrl_index && strcmp(a->ctrl_path, b->ctrl_path) == 0 &&
	       strcmp(a->rproc, b->rproc) == 0 && strcmp(a->service, b->service) == 0 &&
	       a->bind == b->bind && rpmsg_info_equal(&a->info, &b->info);
}
