/* SPDX-License-Identifier: MIT */
/* A console session's output queue: what the client has not read yet, sent
 * as the socket takes it and never blocking the loop. A session whose queue
 * passes OUTPUT_MAX stopped reading and is dropped. */
#include "console_session.h"
#include "lrpmsg_host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Output a client has not read yet, at most: more means it stopped reading. */
#define OUTPUT_MAX (256 * 1024)

/* Ends s from a place that may still hold it (a REPL line running, Lua
 * printing): it goes quiet now and is freed from a timer, outside them. */
static void console_drop_later(struct console_session *s)
{
	if (s->dropped)
		return;
	s->dropped = true;
	loop_io_stop(s->loop, &s->io);
	struct rpmsg_err e;
	if (loop_timer_start(s->loop, &s->reaper, 0, 0, &e) < 0)
		rpmsg_logf("console: %s: a dropped session stays until exit", e.msg);
}

size_t console_pending(const struct console_session *s) { return s->len - s->head; }

/* Reading while the client may still type, writing while output waits. */
void console_watch(struct console_session *s)
{
	uint32_t events = (s->input_ended ? 0 : LOOP_IN) | (console_pending(s) ? LOOP_OUT : 0);
	struct rpmsg_err e;
	if (loop_io_modify(s->loop, &s->io, events, &e) < 0) {
		rpmsg_logf("console: %s: session dropped", e.msg);
		console_drop_later(s);
	}
}

bool console_would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

/* Sends what the socket takes now. False if the client is gone. */
bool console_send_some(struct console_session *s, const char **p, size_t *n)
{
	while (*n > 0) {
		ssize_t w = send(s->io.fd, *p, *n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return console_would_block(errno);
		*p += w;
		*n -= (size_t)w;
	}
	return true;
}

static bool make_room(struct console_session *s, size_t n)
{
	if (s->head > 0) {
		memmove(s->out, s->out + s->head, console_pending(s));
		s->len -= s->head;
		s->head = 0;
	}
	if (s->len + n <= s->cap)
		return true;
	size_t cap = s->cap ? s->cap : 4096;
	while (cap < s->len + n)
		cap *= 2;
	if (cap > OUTPUT_MAX)
		cap = OUTPUT_MAX;
	char *out = realloc(s->out, cap);
	if (!out)
		return false;
	s->out = out;
	s->cap = cap;
	return true;
}

/* Never blocks. */
void console_send_raw(struct console_session *s, const char *p, size_t n)
{
	if (s->dropped)
		return;
	if (console_pending(s) == 0 && !console_send_some(s, &p, &n)) {
		console_drop_later(s);   /* the client left */
		return;
	}
	if (n == 0)
		return;
	if (console_pending(s) + n > OUTPUT_MAX) {
		rpmsg_logf("console: dropped a session that stopped reading (%zu bytes pending)",
			   console_pending(s) + n);
		console_drop_later(s);
		return;
	}
	if (!make_room(s, n)) {
		rpmsg_logf("console: out of memory for a session's output: session dropped");
		console_drop_later(s);
		return;
	}
	bool was_idle = console_pending(s) == 0;
	memcpy(s->out + s->len, p, n);
	s->len += n;
	if (was_idle)
		console_watch(s);
}

