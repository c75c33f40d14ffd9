/* SPDX-License-Identifier: MIT */
/* The simulation's ttys (device_sim_tty.c): a pty pair per path, the
 * firmware's side and the host's. No Lua here. */
#ifndef RPMSG_DEVICE_SIM_TTY_H
#define RPMSG_DEVICE_SIM_TTY_H

#include <stdbool.h>

#include "rpmsg_err.h"

struct sim_tty;

/* Opens path's tty for the firmware (the pty's master) or the host (its
 * slave), making the pair on first use: an fd, or -errno. */
int rpmsg_sim_tty_open(struct sim_tty **list, bool firmware, const char *path, struct rpmsg_err *e);
/* Closes and frees every pair. */
void rpmsg_sim_ttys_free(struct sim_tty **list);

#endif
