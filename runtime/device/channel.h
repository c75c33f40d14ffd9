/* SPDX-License-Identifier: MIT */
/* Channels: what a remote announced through the name service, as the
 * kernel shows them in /sys/bus/rpmsg/devices (name, addresses, the
 * remoteproc and control device they belong to, the driver bound, the /dev
 * node it made), and binding one to a driver through driver_override. No
 * Lua here. */
#ifndef RPMSG_CHANNEL_H
#define RPMSG_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "rpmsg_err.h"
#include "rpmsg_info.h"

struct rpmsg_channel {
	char bus[128];           /* its bus device, "virtio0.fw-echo.-1.42"; "sim:N" */
	struct rpmsg_info info;  /* name; src: ours (ADDR_ANY until a driver binds it); dst: the remote's */
	char rproc[64];          /* the remoteproc it belongs to, "" if none */
	int ctrl_index;          /* the control device of the same remote, -1 if none */
	int ctrl_under;          /* a control device made under the channel itself (rpmsg_chrdev
				  * before Linux 5.18), -1 if none */
	char driver[64];         /* the driver bound, "" if none */
	char dev[256];           /* the node a driver made (/dev/rpmsgN, /dev/ttyRPMSGN), "" if none */
	bool dev_is_endpoint;    /* dev is an rpmsg endpoint device (rpmsg_char) */
};

typedef int (*rpmsg_channel_fn)(const struct rpmsg_channel *ch, void *ctx);

/* The kernel backend's side (channel.c, uevent.c), in the shape of the
 * backend operations of device.h. */
struct rpmsg_backend;
/* The kernel's channels, from sysfs (RPMSG_SYSFS_ROOT and RPMSG_DEV_ROOT
 * honoured), by bus device name. The bus's own devices (rpmsg_ns,
 * rpmsg_ctrl) are not channels. */
int rpmsg_kernel_each_channel(struct rpmsg_backend *b, rpmsg_channel_fn fn, void *ctx);
/* Binds the channel to `driver` through driver_override and the driver's
 * bind file, as the OpenAMP tools do for rpmsg_chrdev, and reads it again. */
int rpmsg_kernel_channel_bind(struct rpmsg_backend *b, struct rpmsg_channel *ch,
			      const char *driver, struct rpmsg_err *e);

/* A netlink socket that turns readable on each kernel uevent, its reading
 * (true when one of them concerned the rpmsg bus or class), its closing. */
int rpmsg_kernel_channel_events(struct rpmsg_backend *b, struct rpmsg_err *e);
bool rpmsg_kernel_channel_events_read(struct rpmsg_backend *b, int fd);
void rpmsg_kernel_channel_events_close(struct rpmsg_backend *b, int fd);

#endif
