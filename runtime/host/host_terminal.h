/* SPDX-License-Identifier: MIT */
/* The REPL on the terminal (rpmsg-lua -i): reads stdin inside the loop, so
 * handlers keep running while someone types. Line editing and history when
 * stdin is a terminal and libedit was found at build time. Ctrl-C interrupts
 * a running chunk (or drops the line being typed), never the host; Ctrl-D
 * (end of input) leaves, which stops the host. */
#ifndef RPMSG_HOST_TERMINAL_H
#define RPMSG_HOST_TERMINAL_H

#include "host.h"

int terminal_start(struct host *h, struct rpmsg_err *e);
void terminal_stop(void);

#endif
