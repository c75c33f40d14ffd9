/* SPDX-License-Identifier: MIT */
/* The one clock of the runtime: CLOCK_MONOTONIC in milliseconds, for the
 * loop's timers, blocking waits and the watchdog. */
#ifndef RPMSG_CLOCK_H
#define RPMSG_CLOCK_H

#include <stdint.h>

/* Async-signal-safe (clock_gettime is, and a vDSO call): the watchdog's
 * signal handler reads it too. */
uint64_t rpmsg_now_ms(void);

#endif
