/* SPDX-License-Identifier: MIT */
/* What the script writes to stdout and stderr while a REPL owns the
 * terminal (print in a handler, rpmsg.log, a child's output): caught in a
 * pipe that the loop drains, and handed to the REPL, which prints it above
 * the prompt and the line being typed instead of through them. */
#ifndef RPMSG_HOST_OUTPUT_H
#define RPMSG_HOST_OUTPUT_H

#include <stddef.h>

#include "loop.h"

typedef void (*output_show_fn)(const char *text, size_t len);

/* Points stdout (and stderr, when it is the same terminal) at the pipe.
 * Returns the terminal's own fd for the REPL, or -errno. */
int output_capture(struct loop *loop, output_show_fn show, struct rpmsg_err *e);
/* Shows what is left in the pipe and gives stdout and stderr back. */
void output_release(void);

#endif
