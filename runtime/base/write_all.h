/* SPDX-License-Identifier: MIT */
/* Writing a buffer whole to a blocking fd (a terminal, a pipe). */
#ifndef RPMSG_WRITE_ALL_H
#define RPMSG_WRITE_ALL_H

#include <stdbool.h>
#include <stddef.h>

/* Writes all n bytes, going on after a signal or a short write. false when
 * the fd fails or takes nothing (a dead terminal, a closed pipe): the rest
 * is dropped, which is what a writer of output wants. */
bool rpmsg_write_all(int fd, const void *p, size_t n);

#endif
