/* SPDX-License-Identifier: MIT */
/* ttys that carry a co-processor's messages (/dev/ttyRPMSGN from rpmsg_tty,
 * or a pty under the simulation): opened non-blocking in raw mode, so no
 * byte is echoed, translated or eaten by the line discipline. No Lua here. */
#ifndef RPMSG_TTY_H
#define RPMSG_TTY_H

#include <stddef.h>
#include <sys/types.h>

#include "rpmsg_err.h"

struct rpmsg_backend;

/* Opens path O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC through backend b (the
 * simulation pairs it with the firmware's side; NULL or the kernel backend
 * opens the file), refuses anything that is not a tty with an error naming
 * what it is, and makes it raw. Returns the fd. */
int rpmsg_tty_open(struct rpmsg_backend *b, const char *path, struct rpmsg_err *e);

/* Reads what is there: the byte count, -EAGAIN when nothing is, -EPIPE once
 * the other side hung up (end of file or EIO, as a tty reports it). */
ssize_t rpmsg_tty_read(int fd, void *buf, size_t cap, struct rpmsg_err *e);
/* Writes what fits: the byte count (maybe short), -EAGAIN when nothing did,
 * -EPIPE once the other side hung up. */
ssize_t rpmsg_tty_write(int fd, const void *buf, size_t len, struct rpmsg_err *e);

/* The /dev path of the tty that rpmsg_tty made for the channel named
 * service (the first one, by its N of ttyRPMSGN), found in sysfs:
 * /sys/class/tty/ttyRPMSGN/device is the rpmsg channel, whose `name` is the
 * service. -ENOENT, listing the rpmsg ttys there are, when none is. */
int rpmsg_tty_find_service(const char *service, char *path, size_t cap, struct rpmsg_err *e);

#endif
