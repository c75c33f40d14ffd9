/* SPDX-License-Identifier: MIT */
/* The message trace (rpmsg.trace, --trace): a candump-style text line per
 * message and event, to a file descriptor and to Lua listeners (a console
 * session: `rpmsg-lua attach --trace`), and a pcapng file with one
 * interface per endpoint. rt->trace is NULL while nothing traces: the
 * endpoint's hooks (l_observe.h) test only that. */
#ifndef L_TRACE_H
#define L_TRACE_H

#include "lrpmsg.h"
#include "pcapng.h"

struct lendpoint;

enum rpmsg_trace_kind {
	RPMSG_TRACE_TX, RPMSG_TRACE_RX, RPMSG_TRACE_EAGAIN, RPMSG_TRACE_DROP,
	RPMSG_TRACE_CLOSE, RPMSG_TRACE_REOPEN,
};

struct rpmsg_trace {
	struct rpmsg_runtime *rt;
	char time_mode;               /* candump's -t: 'a' absolute, 'd' delta, 'z' from the start */
	uint64_t start_us, last_us;
	int text_fd;                  /* -1: no text sink */
	bool text_owned;              /* opened by us (not stderr): closed by us */
	char text_path[256];
	bool pcap_on;
	struct pcapng pcap;
	char pcap_path[256];
	uint32_t pcap_gen;            /* a new file numbers interfaces afresh */
	/* Lua listeners get the lines from a zero-delay timer, never from
	 * inside a send (which may run in a coroutine). */
	int listeners_ref;            /* registry: a list of functions, LUA_NOREF when none */
	char *pending;
	size_t pending_len;
	unsigned long pending_lost;
	bool delivering;
	struct loop_timer deliver;
};

/* Out of line, called only while rt->trace is set. */
void rpmsg_trace_message(struct lendpoint *le, enum rpmsg_trace_kind dir, const char *msg, size_t len);
/* An event: len (EAGAIN: the message's), n (EAGAIN: queue depth; DROP:
 * messages), text (DROP, CLOSE: why). */
void rpmsg_trace_event(struct lendpoint *le, enum rpmsg_trace_kind kind, size_t len, size_t n,
		       const char *text);

/* l_trace.c: sinks. Each returns 0 or -errno with e naming the path. */
struct rpmsg_trace *rpmsg_trace_get(struct rpmsg_runtime *rt);   /* made on demand */
int rpmsg_trace_text(struct rpmsg_trace *tr, const char *path, struct rpmsg_err *e);
int rpmsg_trace_pcap(struct rpmsg_trace *tr, const char *path, struct rpmsg_err *e);
/* Frees everything and sets rt->trace to NULL. */
void rpmsg_trace_close(struct rpmsg_runtime *rt);
/* l_trace_listeners.c: appends a line for the listeners, which get it from
 * the deliver timer. */
void rpmsg_trace_queue_line(struct rpmsg_trace *tr, const char *line, size_t len);
static inline bool rpmsg_trace_idle(const struct rpmsg_trace *tr)
{
	return tr->text_fd < 0 && !tr->pcap_on && tr->listeners_ref == LUA_NOREF;
}
/* The deliver timer's callback. */
void rpmsg_trace_deliver(struct loop_timer *t);


#endif
