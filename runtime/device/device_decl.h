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
};

/* Creates the endpoint through its control device (found by remoteproc
 * name when one is given) and opens its node; leaves nothing behind on
 * failure. */
struct rpmsg_ep *rpmsg_decl_create(struct rpmsg_backend *b, const struct endpoint_decl *d,
				   struct rpmsg_err *e);
/* Same control device, remoteproc, name, src and dst. */
bool rpmsg_decl_equal(const struct endpoint_decl *a, const struct endpoint_decl *b);

#endif
