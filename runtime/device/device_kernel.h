/* SPDX-License-Identifier: MIT */
/* Private to the kernel backend: device_kernel.c (the ioctls and the ops
 * table) reads sysfs through device_kernel_sysfs.c. */
#ifndef DEVICE_KERNEL_H
#define DEVICE_KERNEL_H

#include "device.h"

/* One endpoint node under a control device, as sysfs shows it. */
struct kernel_child {
	int index;
	struct rpmsg_info info;
};

typedef int (*kernel_child_fn)(const struct kernel_child *c, void *ctx);
/* Calls fn for each endpoint under rpmsg_ctrlN until it returns nonzero. */
int kernel_each_child(int ctrl_index, kernel_child_fn fn, void *ctx);
/* Fills what sysfs knows of /dev/rpmsgN: its control device and info. */
void kernel_describe_endpoint(struct rpmsg_ep *ep);

/* The backend ops that only read sysfs. */
int kernel_src_holder(struct rpmsg_backend *b, int ctrl_index, unsigned src,
		      struct rpmsg_info *holder, int *dev_index);
int kernel_find(struct rpmsg_backend *b, int ctrl_index, const struct rpmsg_info *info,
		struct rpmsg_err *e);
int kernel_each_ctrl(struct rpmsg_backend *b, rpmsg_ctrl_fn fn, void *ctx);
int kernel_each_endpoint(struct rpmsg_backend *b, int ctrl_index, rpmsg_endpoint_fn fn, void *ctx);
int kernel_each_rproc(struct rpmsg_backend *b, rpmsg_rproc_fn fn, void *ctx);

#endif
