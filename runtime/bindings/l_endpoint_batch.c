/* SPDX-License-Identifier: MIT */
/* on_message's call for each message of a wake-up: lua_call, no protected
 * call of its own (the loop's catches its error, l_loop_call.c), each
 * handler entered into the guard with a watchdog deadline of its own, its
 * time, and on error its report, made from the record of the running
 * handler where the error is raised. */
#include "l_observe.h"

#include <stdio.h>

static const char *on_message_label(struct lendpoint *le)
{
	if (!le->on_message_label[0])
		snprintf(le->on_message_label, sizeof le->on_message_label,
			 "on_message of endpoint '%.64s'", rpmsg_endpoint_label(le));
	return le->on_message_label;
}

void rpmsg_endpoint_handler_failed(lua_State *L, struct batch *b, const char *trace)
{
	(void)L;
	struct lendpoint *le = b->le;
	uint64_t now = rpmsg_now_ns();
	observe_handled(le, b->started_ns, now, false);
	b->started_ns = le->rt->handled_ns = now;
	le->rt->handler_errors++;
	/* The rest of the wake-up's messages go on: dispatch() takes them up. */
	le->rt->resume_le = le;
	le->rt->resume_left = b->left;
	rpmsg_report_error(le->rt, on_message_label(le), trace);
}

void rpmsg_endpoint_call_on_message(lua_State *L, int idx, struct batch *b, size_t n)
{
	struct lendpoint *le = b->le;
	struct rpmsg_runtime *rt = le->rt;
	rt->running_batch = b;   /* from here an error is this message's */
	lua_getiuservalue(L, idx, ON_MESSAGE);
	lua_pushlstring(L, b->buf, n);
	lua_pushvalue(L, idx);
	if (!rpmsg_guard_enter_call(rt, L, on_message_label(le), b->started_ns / 1000000u)) {
		lua_pop(L, 3);
		rt->running_batch = NULL;
		rpmsg_endpoint_handler_failed(L, b, "calls and coroutines nested too deeply for the watchdog");
		return;
	}
	lua_call(L, 2, 0);
	rt->running_batch = NULL;
	rpmsg_guard_leave_call(rt);
	uint64_t now = rpmsg_now_ns();
	observe_handled(le, b->started_ns, now, true);
	b->started_ns = rt->handled_ns = now;
}
