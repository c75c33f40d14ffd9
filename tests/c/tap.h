/* SPDX-License-Identifier: MIT */
/* A few lines of TAP for the C unit tests: ok/not ok per check, counted by
 * tests/run-all like the busted suites. */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define CHECK(cond, name)                                                          \
	do {                                                                       \
		tap_n++;                                                           \
		if (cond) {                                                        \
			printf("ok %d - %s\n", tap_n, name);                       \
		} else {                                                           \
			tap_failed++;                                              \
			printf("not ok %d - %s (%s:%d: %s)\n", tap_n, name, __FILE__, \
			       __LINE__, #cond);                                   \
		}                                                                  \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
