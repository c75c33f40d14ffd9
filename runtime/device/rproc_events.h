/* SPDX-License-Identifier: MIT */
/* What the kernel says when a remoteproc changes state. remoteproc's sysfs
 * `state` never notifies (no sysfs_notify, no uevent of its own in 6.1), so
 * two sources stand in, both without polling:
 *  - kernel uevents (NETLINK_KOBJECT_UEVENT): a start, stop, attach, detach
 *    or recovery adds or removes the core's virtio and rpmsg devices under
 *    /devices/.../remoteprocN/, and a coredump adds a devcoredump device;
 *  - the kernel log (/dev/kmsg, when readable: root, or
 *    kernel.dmesg_restrict=0): "handling crash #N in NAME" is the only trace
 *    of a crash whose recovery is disabled, which changes no device.
 * No Lua here. */
#ifndef RPMSG_RPROC_EVENTS_H
#define RPMSG_RPROC_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "rpmsg_err.h"

/* Drains a socket of rpmsg_uevent_open (uevent.h): 1 if any event was about a remoteproc (its devices or a
 * coredump), 0 if none, -errno. */
int rproc_uevents_read(int fd);

/* /dev/kmsg, non-blocking, at its end (only what comes from now on);
 * -errno (EPERM under dmesg_restrict for a user). */
int rproc_kmsg_open(struct rpmsg_err *e);
/* Drains it, calling crashed(name) for each "handling crash #N in NAME"
 * record; 1 if any record was about a remoteproc, 0 if none. */
int rproc_kmsg_read(int fd, void (*crashed)(const char *name, void *ctx), void *ctx);

/* The parsers, apart for the tests: 1 if the uevent (NUL-separated
 * KEY=VALUE lines) concerns a remoteproc; the crashed core's name from a
 * kmsg record into name (1), or 0. */
bool rproc_uevent_relevant(const char *msg, size_t len);
int rproc_kmsg_crash(const char *record, size_t len, char *name, size_t cap);

#endif
