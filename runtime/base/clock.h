/* SPDX-License-Identifier: MIT */
/* The one clock of the runtime: CLOCK_MONOTONIC, in milliseconds for the
 * loop's timers, blocking waits and the watchdog, in nanoseconds for the
 * wake-up time and handler timing. */
#ifndef RPMSG_CLOCK_H
#define RPMSG_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds, inline: the message path reads it (the
 * loop at each wake-up, the handler timing of ep:stats()). */
static inline uint64_t rpmsg_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Async-signal-safe (clock_gettime is, and a vDSO call): the watchdog's
 * signal handler reads it too. */
uint64_t rpmsg_now_ms(void);

#endif
