/* SPDX-License-Identifier: MIT */
/* The endpoint's observation points: one call at each place where a message
 * goes out or comes in, a send waits on EAGAIN, queued messages are
 * dropped, the endpoint closes or comes back, and around on_message. Each
 * counts in le->stats; tracing costs one predictable branch when it is off
 * (rt->trace is NULL), and the work is out of line in l_trace.c. */
#ifndef L_OBSERVE_H
#define L_OBSERVE_H

#include "l_endpoint.h"
#include "l_trace.h"

/* ep:stats() (l_ep_stats.c). */
int rpmsg_endpoint_stats(lua_State *L);

#define OBSERVE_TRACING(le) __builtin_expect((le)->rt->trace != NULL, 0)

static inline void observe_sent(struct lendpoint *le, const char *msg, size_t len)
{
	le->stats.msgs_out++;
	le->stats.bytes_out += len;
	if (OBSERVE_TRACING(le))
		rpmsg_trace_message(le, RPMSG_TRACE_TX, msg, len);
}

static inline void observe_received(struct lendpoint *le, const char *msg, size_t len)
{
	le->stats.msgs_in++;
	le->stats.bytes_in += len;
	if (OBSERVE_TRACING(le))
		rpmsg_trace_message(le, RPMSG_TRACE_RX, msg, len);
}

/* A send met EAGAIN and was queued: the queue is now `depth` long. */
static inline void observe_eagain(struct lendpoint *le, size_t len, size_t depth)
{
	le->stats.eagain++;
	if (depth > le->stats.queue_high)
		le->stats.queue_high = depth;
	if (OBSERVE_TRACING(le))
		rpmsg_trace_event(le, RPMSG_TRACE_EAGAIN, len, depth, NULL);
}

static inline void observe_dropped(struct lendpoint *le, size_t n, const char *why)
{
	le->stats.drops += n;
	if (OBSERVE_TRACING(le))
		rpmsg_trace_event(le, RPMSG_TRACE_DROP, 0, n, why);
}

static inline void observe_closed(struct lendpoint *le, const char *reason)
{
	le->stats.closes++;
	if (OBSERVE_TRACING(le))
		rpmsg_trace_event(le, RPMSG_TRACE_CLOSE, 0, 0, reason);
}

static inline void observe_reopened(struct lendpoint *le)
{
	le->stats.reopens++;
	if (OBSERVE_TRACING(le))
		rpmsg_trace_event(le, RPMSG_TRACE_REOPEN, 0, 0, NULL);
}

/* on_message, started at started_ns and ended at ended_ns (rpmsg_now_ns),
 * has returned: its time, and its failure if it failed. */
static inline void observe_handled(struct lendpoint *le, uint64_t started_ns, uint64_t ended_ns, bool ok)
{
	uint64_t ns = ended_ns - started_ns;
	le->stats.handler_calls++;
	le->stats.handler_ns += ns;
	if (ns > le->stats.handler_max_ns)
		le->stats.handler_max_ns = ns;
	if (!ok)
		le->stats.handler_errors++;
}

#endif
