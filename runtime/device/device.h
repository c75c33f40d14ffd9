/* SPDX-License-Identifier: MIT */
/* The device layer: control devices, endpoints and the backends behind them
 * (the kernel's rpmsg_ctrl/rpmsg_char, or the in-process simulation). No Lua
 * here. Every function returns 0 (or a count) on success and -errno on
 * failure, with a sentence in *e. */
#ifndef RPMSG_DEVICE_H
#define RPMSG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "channel.h"
#include "rpmsg_err.h"
#include "rpmsg_info.h"

struct rpmsg_backend;
struct rpmsg_created;

struct rpmsg_ctrl {
	struct rpmsg_backend *backend;
	int index;           /* N of rpmsg_ctrlN */
	int fd;              /* -1 for the simulation */
	char path[256];
};

struct rpmsg_ep {
	struct rpmsg_backend *backend;
	int fd;                    /* -1 once closed */
	int index;                 /* N of rpmsgN, -1 for a pair */
	int ctrl_index;            /* owning control device, -1 if unknown */
	bool is_socket;            /* SEQPACKET: EOF told apart from "" by credentials */
	bool dead;                 /* destroyed or remote gone: never DESTROY again */
	bool destroyed_by_us;      /* the reason for dead, when dead */
	struct rpmsg_info info;    /* from sysfs or creation; zeroed if unknown */
	struct rpmsg_created *created;  /* set when this process created it */
	struct rpmsg_ep *next_open;     /* the process's open endpoints (device_ep.c) */
	char path[256];
};

/* A record of an endpoint this process created and has not destroyed. At exit
 * they are all destroyed: a leftover src makes the next CREATE_EPT produce a
 * device nobody can open or destroy. */
struct rpmsg_created {
	struct rpmsg_created *next;
	struct rpmsg_backend *backend;
	int ctrl_index;
	int dev_index;
	struct rpmsg_info info;
	struct rpmsg_ep *ep;       /* our open fd on it, if any */
};

/* Listing: fn returns non-zero to stop. */
typedef int (*rpmsg_ctrl_fn)(int index, const char *path, void *ctx);
typedef int (*rpmsg_endpoint_fn)(int dev_index, const char *path, const struct rpmsg_info *info,
				 void *ctx);
struct rproc;
typedef int (*rpmsg_rproc_fn)(const struct rproc *r, void *ctx);

struct rpmsg_backend_ops {
	const char *name;
	/* path may be NULL, then index names the device */
	int (*ctrl_open)(struct rpmsg_backend *b, const char *path, int index,
			 struct rpmsg_ctrl *c, struct rpmsg_err *e);
	void (*ctrl_close)(struct rpmsg_ctrl *c);
	/* *dev_index receives N of the new rpmsgN */
	int (*create)(struct rpmsg_ctrl *c, const struct rpmsg_info *info, int *dev_index,
		      struct rpmsg_err *e);
	/* Looks for an endpoint under control device ctrl_index holding src;
	 * fills *holder and returns 1 if one does. */
	int (*src_holder)(struct rpmsg_backend *b, int ctrl_index, unsigned src,
			  struct rpmsg_info *holder, int *dev_index);
	/* Finds the node of an endpoint by its info; returns its index. */
	int (*find)(struct rpmsg_backend *b, int ctrl_index, const struct rpmsg_info *info,
		    struct rpmsg_err *e);
	int (*ep_open)(struct rpmsg_backend *b, const char *path, int index,
		       struct rpmsg_ep *ep, struct rpmsg_err *e);
	/* The destroy itself; the once-only guard is in device_ep.c. */
	int (*ep_destroy)(struct rpmsg_ep *ep, struct rpmsg_err *e);
	void (*ep_close)(struct rpmsg_ep *ep);
	/* What it has now: control devices, and the endpoints under one, each
	 * with the path a script would open. */
	int (*each_ctrl)(struct rpmsg_backend *b, rpmsg_ctrl_fn fn, void *ctx);
	int (*each_endpoint)(struct rpmsg_backend *b, int ctrl_index, rpmsg_endpoint_fn fn, void *ctx);
	/* Optional (NULL: the backend cannot). */
	/* The remoteprocs behind it (a simulation has none). */
	int (*each_rproc)(struct rpmsg_backend *b, rpmsg_rproc_fn fn, void *ctx);
	int (*channel)(struct rpmsg_ctrl *c, const struct rpmsg_info *info, bool create,
		       struct rpmsg_err *e);
	int (*flow)(struct rpmsg_ep *ep, int set, bool *enabled, struct rpmsg_err *e);
	/* The channels the remote announced (channel.h), a driver binding
	 * (kernel only), and an fd that turns readable when they may have
	 * changed, with its reading and closing. */
	int (*each_channel)(struct rpmsg_backend *b, rpmsg_channel_fn fn, void *ctx);
	int (*channel_bind)(struct rpmsg_backend *b, struct rpmsg_channel *ch, const char *driver,
			    struct rpmsg_err *e);
	int (*channel_events)(struct rpmsg_backend *b, struct rpmsg_err *e);
	bool (*channel_events_read)(struct rpmsg_backend *b, int fd);
	void (*channel_events_close)(struct rpmsg_backend *b, int fd);
	/* A tty for rpmsg.tty{} (tty.c); NULL: open the file itself. */
	int (*tty_open)(struct rpmsg_backend *b, const char *path, struct rpmsg_err *e);
};

struct rpmsg_backend {
	const struct rpmsg_backend_ops *ops;
	struct rpmsg_created *created;
};

/* The kernel backend: /dev and /sys, or the roots named by RPMSG_DEV_ROOT and
 * RPMSG_SYSFS_ROOT (tests point them at a prepared tree). */
struct rpmsg_backend *rpmsg_kernel_backend(void);

/* Control devices. */
struct rpmsg_ctrl *rpmsg_ctrl_open(struct rpmsg_backend *b, const char *path, int index,
				   struct rpmsg_err *e);
/* Creates an endpoint; refuses a src already held under this control device
 * before asking the kernel. Returns the N of /dev/rpmsgN. */
int rpmsg_ctrl_create(struct rpmsg_ctrl *c, const struct rpmsg_info *info, struct rpmsg_err *e);
/* Destroys the endpoint with this info: through our own open fd if we have
 * one, else by opening its node. */
int rpmsg_ctrl_destroy(struct rpmsg_ctrl *c, const struct rpmsg_info *info, struct rpmsg_err *e);
void rpmsg_ctrl_close(struct rpmsg_ctrl *c);

/* Endpoints. Opened O_RDWR|O_NONBLOCK|O_CLOEXEC. */
struct rpmsg_ep *rpmsg_ep_open(struct rpmsg_backend *b, const char *path, int index,
			       struct rpmsg_err *e);
/* An fd this process was given (inherited, or from a socket library): a
 * SOCK_SEQPACKET socket, or an open /dev/rpmsgN. Made non-blocking; the
 * endpoint owns it from now on. An fd an endpoint already owns is refused
 * (EBUSY). */
struct rpmsg_ep *rpmsg_ep_adopt(int fd, struct rpmsg_err *e);
/* Two connected in-process endpoints over SOCK_SEQPACKET. */
int rpmsg_ep_pair(struct rpmsg_ep **a, struct rpmsg_ep **b, struct rpmsg_err *e);
/* Sends one message. More than RPMSG_MAX_MESSAGE bytes is refused before any
 * syscall. -EAGAIN means no transmit buffer is free now: nothing was sent. */
int rpmsg_ep_send(struct rpmsg_ep *ep, const void *buf, size_t len, struct rpmsg_err *e);
/* Receives one message: its length (0 is an empty message, never EOF),
 * -EAGAIN when none is queued, -EPIPE once the endpoint is closed. A message
 * longer than cap is cut to cap bytes, as the kernel does; a socket then
 * returns its full length (over cap), a device read says cap. */
ssize_t rpmsg_ep_recv(struct rpmsg_ep *ep, void *buf, size_t cap, struct rpmsg_err *e);
/* Waits up to timeout_ms (-1: forever) for a message or closure; returns 1
 * when recv will not say -EAGAIN, 0 on timeout. */
int rpmsg_ep_wait(struct rpmsg_ep *ep, int timeout_ms, struct rpmsg_err *e);
/* Issues DESTROY at most once in the life of the fd, and never on an endpoint
 * already seen dead (a second DESTROY oopses a 6.1 kernel). */
int rpmsg_ep_destroy(struct rpmsg_ep *ep, struct rpmsg_err *e);
/* Marks the endpoint dead after the loop saw POLLERR or EPIPE on it. */
void rpmsg_ep_mark_dead(struct rpmsg_ep *ep);
/* Closes the fd (without DESTROY) and frees ep. */
void rpmsg_ep_close(struct rpmsg_ep *ep);

/* Channel devices (Linux 5.18+): RPMSG_CREATE_DEV / RPMSG_RELEASE_DEV ask the
 * remote's bus for an rpmsg-raw channel. ENXIO where the backend cannot. */
int rpmsg_ctrl_channel(struct rpmsg_ctrl *c, const struct rpmsg_info *info, bool create,
		       struct rpmsg_err *e);
/* Flow control (Linux 6.6+): set >= 0 sets our incoming flow (0 or 1);
 * set < 0 reads the remote's outgoing flow into *enabled. */
int rpmsg_ep_flow(struct rpmsg_ep *ep, int set, bool *enabled, struct rpmsg_err *e);

/* What backend b has now (rpmsg.list(), `rpmsg-lua list`): the kernel's
 * from sysfs, a simulation's from its own records. */
int rpmsg_each_ctrl(struct rpmsg_backend *b, rpmsg_ctrl_fn fn, void *ctx);
int rpmsg_each_endpoint(struct rpmsg_backend *b, int ctrl_index, rpmsg_endpoint_fn fn, void *ctx);
int rpmsg_each_rproc(struct rpmsg_backend *b, rpmsg_rproc_fn fn, void *ctx);
/* The announced channels (none where the backend has no such notion). */
int rpmsg_each_channel(struct rpmsg_backend *b, rpmsg_channel_fn fn, void *ctx);
/* An fd that turns readable when the channels may have changed; -errno
 * (with e) where the backend cannot say. */
int rpmsg_channel_events_open(struct rpmsg_backend *b, struct rpmsg_err *e);
/* Drains it: true when a change may have happened. */
bool rpmsg_channel_events_read(struct rpmsg_backend *b, int fd);
void rpmsg_channel_events_close(struct rpmsg_backend *b, int fd);

/* Destroys every endpoint this process created on backend b and stops
 * tracking b for the exit (device_exit.c); returns how many it destroyed. */
int rpmsg_destroy_created(struct rpmsg_backend *b);

/* What may carry RPMsg messages: an rpmsg endpoint device (class rpmsg in
 * sysfs, named rpmsgN; RPMSG_SYSFS_ROOT honoured) or, given its fd, a
 * SOCK_SEQPACKET socket. Anything else is refused with an error naming what
 * it is (a write to a regular file would overwrite it). fd may be -1 when
 * only a path was stat'ed. */
struct stat;
int rpmsg_check_transport(const struct stat *st, int fd, const char *what, struct rpmsg_err *e);

/* However the process ends (exit, os.exit, a fatal signal; not SIGKILL),
 * the endpoints it created are destroyed (device_exit.c): device.c tracks
 * each backend while it holds records. */
void rpmsg_exit_track(struct rpmsg_backend *b);
void rpmsg_exit_untrack(struct rpmsg_backend *b);
/* Async-signal-safe: DESTROY on every open kernel endpoint this process
 * created, nothing else (no allocation, no stdio). For a process about to
 * die; the records are left as they are. */
void rpmsg_destroy_created_from_signal(void);

/* The records (device_created.c), shared by the backends. */
struct rpmsg_created *rpmsg_created_find(struct rpmsg_backend *b, int ctrl_index,
					 const struct rpmsg_info *info);
/* Fills rec (allocated by the caller) and links it first in b's list. */
void rpmsg_created_add(struct rpmsg_backend *b, struct rpmsg_created *rec, int ctrl_index,
		       int dev_index, const struct rpmsg_info *info);
void rpmsg_created_forget(struct rpmsg_created *rec);
/* Links a freshly opened endpoint to the record of its creation. */
void rpmsg_created_link(struct rpmsg_ep *ep);
/* Destroys the endpoint with this info through a temporary fd on its node. */
int rpmsg_destroy_by_node(struct rpmsg_backend *b, int ctrl_index, const struct rpmsg_info *info,
			  struct rpmsg_err *e);
/* Makes fd (one end of a SEQPACKET pair) the transport of ep. */
int rpmsg_socket_endpoint(int fd, struct rpmsg_ep *ep);

#endif
