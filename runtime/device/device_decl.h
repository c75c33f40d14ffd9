/* SPDX-License-Identifier: MIT */
/* Declared endpoints: what rpmsg.endpoint{} asks for, kept to make the
 * endpoint again after its remote comes back. No Lua here. */
#ifndef RPMSG_DEVICE_DECL_H
#define RPMSG_DEVICE_DECL_H

#include "device.h"

/* How a declared endpoint is made, kept to make it again after the remote
 * comes back. */
struct endpoint_decl {
	int ctrl_index;
	char ctrl_path[256];       /* "" when ctrl_index says it */
	char rproc[64];            /* "" unless declared with remoteproc = */
	struct rpmsg_info info;
	/* An announced service (service.c): "" for a plain endpoint. Its dst
	 * is the announced address, found when it is made; ctrl_index is -1
	 * when any remote's will do. */
	char service[RPMSG_NAME_SIZE];
	bool bind;                 /* bind it to rpmsg_chrdev through driver_override */
};

/* Creates the endpoint through its control device (found by remoteproc
 * name when one is given) and opens its node; leaves nothing behind on
 * failure. */
struct rpmsg_ep *rpmsg_decl_create(struct rpmsg_backend *b, const struct endpoint_decl *d,
				   struct rpmsg_err *e);
/* An announced service, service.c: its channel (1, *ch filled) or 0; what
 * was announced, for an error ("'rpmsg-raw' on r5f0, 'fw-echo' on r5f0");
 * how to reach it: the node a driver made for it, opened into *ep, else
 * the plain declaration *via of an endpoint on the control device with dst
 * = the announced address, binding the channel to rpmsg_chrdev first when
 * asked or when no control device can reach it. */
int rpmsg_service_find(struct rpmsg_backend *b, const struct endpoint_decl *d,
		       struct rpmsg_channel *ch);
void rpmsg_service_announced(struct rpmsg_backend *b, char *buf, size_t cap);
int rpmsg_service_resolve(struct rpmsg_backend *b, const struct endpoint_decl *d,
			  struct rpmsg_ep **ep, struct endpoint_decl *via, struct rpmsg_err *e);
/* Same control device, remoteproc, service, name, src and dst. */
bool rpmsg_decl_equal(const struct endpoint_decl *a, const struct endpoint_decl *b);

#endif
