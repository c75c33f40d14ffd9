/* SPDX-License-Identifier: MIT */
/* on_message's calls for a wake-up's messages: lua_call, no protected call
 * of their own (the loop's catches an error, l_loop_call.c). One guarded
 * call runs on_message for each message while only on_message takes them,
 * each handler with a watchdog deadline of its own (rpmsg_guard_renew), its
 * time, and on error its report, made where the error is raised from the
 * record of the running handler (rt->running_batch). */
#include "l_guard.h"
#include "l_observe.h"

#include <stdio.h>

static const char *on_message_label(struct lendpoint *le)
{
	if (!le->on_message_label[0])
		snprintf(le->on_message_label, sizeof le->on_message_label,
			 "on_message of endpoint '%.64s'", rpmsg_endpoint_label(le));
	return le->on_message_label;
}

void rpmsg_endpoint_handler_failed(struct lendpoint *le, uint64_t started_ns, int left, const char *trace)
{
	uint64_t now = rpmsg_now_ns();
	observe_handled(le, started_ns, now, false);
	le->rt->handled_ns = now;
	le->rt->handler_errors++;
	/* The rest of the wake-up's messages go on: dispatch() takes them up. */
	le->rt->resume_le = le;
	le->rt->resume_left = left;
	rpmsg_report_error(le->rt, on_message_label(le), trace);
}

/* The fast path's condition: on_message is all that takes messages. */
static bool only_on_message(const struct lendpoint *le)
{
	return le->ep && le->has_on_message && !le->waiting && (le->io.events & LOOP_IN);
}

ssize_t rpmsg_endpoint_deliver(lua_State *L, int idx, struct batch *b, size_t n)
{
	struct lendpoint *le = b->le;
	struct rpmsg_runtime *rt = le->rt;
	struct rpmsg_guard *g = rt->guard;
	if (!rpmsg_guard_enter(g, L, on_message_label(le), g->has_timer ? b->started_ns / 1000000u : 0)) {
		rpmsg_endpoint_handler_failed(le, b->started_ns, b->left,
					      "calls and coroutines nested too deeply for the watchdog");
		return 0;
	}
	rt->running_batch = b;   /* from here an error is the message's in b->buf */
	rt->handler_failed = false;   /* no note of an earlier batch's (l_loop_call.c) */
	rt->running_le = le;
	ssize_t got = 0;
	for (;;) {
		lua_getiuservalue(L, idx, ON_MESSAGE);
		lua_pushlstring(L, b->buf, n);
		lua_pushvalue(L, idx);
		lua_call(L, 2, 0);
		uint64_t now = rpmsg_now_ns();
		observe_handled(le, b->started_ns, now, true);
		b->started_ns = rt->handled_ns = now;
		if (b->left == 0 || !only_on_message(le) || loop_stopping(rt->loop))
			break;
		got = rpmsg_ep_recv(le->ep, b->buf, sizeof b->buf, &b->e);
		if (got < 0)
			break;
		b->left--;
		n = endpoint_kept_length(le, got, sizeof b->buf);
		rt->messages_in++;
		observe_received(le, b->buf, n);
		rpmsg_guard_renew(g, now / 1000000u);
	}
	rt->running_batch = NULL;
	rpmsg_guard_leave(g);
	return got < 0 ? got : 0;
}
