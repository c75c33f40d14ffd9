/* SPDX-License-Identifier: MIT */
/* The simulated co-processor's control devices: two sides (the host script
 * and the firmware script) whose endpoints pair up by mirrored addresses over
 * SOCK_SEQPACKET pairs, so endpoint I/O takes the same path as a real device. */
#ifndef RPMSG_DEVICE_SIM_H
#define RPMSG_DEVICE_SIM_H

#include "device.h"

enum rpmsg_sim_side { RPMSG_SIM_HOST = 0, RPMSG_SIM_REMOTE = 1 };

struct rpmsg_sim;

struct rpmsg_sim *rpmsg_sim_new(void);
struct rpmsg_backend *rpmsg_sim_backend(struct rpmsg_sim *sim, enum rpmsg_sim_side side);
/* Destroys whatever is left; call after both sides have let go. */
void rpmsg_sim_free(struct rpmsg_sim *sim);

#endif
