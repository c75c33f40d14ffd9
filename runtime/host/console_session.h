/* SPDX-License-Identifier: MIT */
/* One console session, shared by the server (host_console.c: the socket,
 * the output queue) and the protocol (console_proto.c: requests and frames),
 * so that a new request kind is one entry in console_proto.c's table and a
 * handler that may live in a file of its own. */
#ifndef RPMSG_CONSOLE_SESSION_H
#define RPMSG_CONSOLE_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "host_console.h"
#include "host_repl.h"
#include "line_reader.h"
#include "loop.h"

struct console_session {
	struct console_session *next;
	struct loop *loop;
	struct loop_io io;
	struct loop_timer reaper;     /* ends a session dropped while it was in use */
	struct repl_session repl;
	struct line_reader lines;
	char *out;                    /* queued output: out[head..len) is unsent */
	size_t head, len, cap;
	bool input_ended;             /* the client shut its side: finish sending, then close */
	bool dropped;                 /* no more input or output; the reaper frees it */
	bool framed;                  /* the client said hello: output goes in frames */
	void *ext;                    /* for request handlers elsewhere (e.g. a trace) */
};

/* The output queue (console_queue.c). Queues bytes for the client as they
 * are; never blocks. */
void console_send_raw(struct console_session *s, const char *p, size_t n);
size_t console_pending(const struct console_session *s);
/* Sends what the socket takes now. False if the client is gone. */
bool console_send_some(struct console_session *s, const char **p, size_t *n);
/* Watches for input while the client may type, for output while some waits. */
void console_watch(struct console_session *s);
bool console_would_block(int err);
/* Output for the client: a frame of kind "out" when framed, raw if not. */
void console_send_output(struct console_session *s, const char *p, size_t n);
/* The prompt for the next line: a "prompt" frame, or raw. */
void console_send_prompt(struct console_session *s);
/* The banner a session starts with. */
void console_send_banner(struct console_session *s);

/* A line from the client: a request when it starts with CONSOLE_SOH,
 * otherwise Lua input (console_proto.c). */
void console_take_line(struct console_session *s, const char *line, size_t len);

#endif
