/* SPDX-License-Identifier: MIT */
/* The service manager's notification protocol (sd_notify), spoken by the
 * host itself: READY=1 once the script runs, RELOADING=1 and READY=1 around
 * each reload, STOPPING=1, WATCHDOG=1 from the loop, STATUS= with the
 * generation and the message counts. Everything is a no-op unless systemd
 * gave us a NOTIFY_SOCKET. */
#ifndef RPMSG_HOST_NOTIFY_H
#define RPMSG_HOST_NOTIFY_H

#include "host.h"

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (and takes them out of
 * the environment, so the programs a script starts do not speak for us),
 * arms the watchdog in h's loop and sends READY=1. 0 without NOTIFY_SOCKET;
 * -1 with *e filled when the socket or the watchdog cannot be set up. */
int notify_start(struct host *h, struct rpmsg_err *e);
/* Around a reload of h: RELOADING=1 with MONOTONIC_USEC= before it, READY=1
 * and a STATUS= after it that says whether it worked. */
void notify_reloading(void);
void notify_reloaded(struct host *h);
/* STOPPING=1, then the socket and the watchdog go. */
void notify_stop(void);

#endif
