/* SPDX-License-Identifier: MIT */
/* The remote console: the REPL served on a unix socket (--console PATH) to
 * `rpmsg-lua attach PATH`. The socket is created with mode 0600, and a peer
 * whose uid (SO_PEERCRED) is neither root nor ours is refused. Any number of
 * sessions at once; a session that drops, or stops reading, leaves the host
 * unharmed. A path that a live host serves is refused, a stale one reused. */
#ifndef RPMSG_HOST_CONSOLE_H
#define RPMSG_HOST_CONSOLE_H

#include "host.h"

/* The byte that starts a request line and a frame (console_proto.c): never
 * typed at the start of a Lua line, so plain clients never send it by chance. */
#define CONSOLE_SOH '\001'

/* The first words of the line a refused client gets before the close. */
#define REFUSED "rpmsg-lua: console refused"

int console_start(struct host *h, const char *path, struct rpmsg_err *e);
void console_stop(void);

/* The client (host_attach.c): on a terminal, line editing over the console
 * protocol, reconnecting when the host restarts; otherwise copies stdin to
 * the console and the console to stdout until the console closes. trace:
 * first asks for the host's trace (TRACE_REQUEST, a plain line) and follows
 * it after stdin ends, until the host goes. Returns an exit code. */
#define TRACE_REQUEST "rpmsg.trace{to = print}\n"
int console_attach(const char *path, bool trace);

#endif
