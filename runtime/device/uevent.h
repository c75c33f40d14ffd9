/* SPDX-License-Identifier: MIT */
/* Kernel uevents (NETLINK_KOBJECT_UEVENT): the kernel broadcasts one for
 * every device added or removed and every driver bound. Sysfs folders give
 * no inotify events, so this is how announced channels, ttyRPMSG nodes and
 * remoteproc state changes are seen without polling. Each consumer opens
 * its own socket and says which events concern it. No Lua here. */
#ifndef RPMSG_UEVENT_H
#define RPMSG_UEVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "rpmsg_err.h"

/* A non-blocking socket on the kernel's own group; -errno. */
int rpmsg_uevent_open(struct rpmsg_err *e);

/* Does one event ("ACTION@DEVPATH\0KEY=VALUE\0...", len bytes) concern
 * the consumer? */
typedef bool (*rpmsg_uevent_match)(const char *msg, size_t len);

/* Drains the socket: 1 if any event matched, 0 if none, -errno. */
int rpmsg_uevent_drain(int fd, rpmsg_uevent_match match);

#endif
