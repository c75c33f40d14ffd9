/* SPDX-License-Identifier: MIT */
/* on_message's calls for one wake-up of an endpoint. The first message has
 * a protected call of its own; the next ones, while on_message is all that
 * takes them, run under one protected call between them, each handler
 * with its own watchdog deadline, time and error report. */
#include "l_observe.h"

#include <stdio.h>

static const char *on_message_label(struct lendpoint *le)
{
	if (!le->on_message_label[0])
		snprintf(le->on_message_label, sizeof le->on_message_label,
			 "on_message of endpoint '%.64s'", rpmsg_endpoint_label(le));
	return le->on_message_label;
}

/* The failure of the handler that started at b->started_ns: reported with
 * its traceback (on top), counted, and the next handler's time starts. */
static void handler_failed(lua_State *L, struct batch *b)
{
	struct lendpoint *le = b->le;
	uint64_t now = rpmsg_now_ns();
	if (b->in_handler)
		observe_handled(le, b->started_ns, now, false);
	b->in_handler = false;
	b->started_ns = le->rt->handled_ns = now;
	le->rt->handler_errors++;
	rpmsg_report_error(le->rt, on_message_label(le), lua_tostring(L, -1));
	lua_pop(L, 1);
}

/* on_message(msg, ep) for the message of n bytes in b->buf, from its slot,
 * under a protected call of its own with the traceback handler at msgh. */
void rpmsg_endpoint_call_on_message(lua_State *L, int idx, int msgh, struct batch *b, size_t n)
{
	struct lendpoint *le = b->le;
	lua_getiuservalue(L, idx, ON_MESSAGE);
	lua_pushlstring(L, b->buf, n);
	lua_pushvalue(L, idx);
	b->in_handler = true;
	if (rpmsg_pcall_since(le->rt, L, 2, 0, msgh, on_message_label(le), b->started_ns / 1000000u) != LUA_OK) {
		handler_failed(L, b);
		return;
	}
	b->in_handler = false;
	uint64_t now = rpmsg_now_ns();
	observe_handled(le, b->started_ns, now, true);
	b->started_ns = le->rt->handled_ns = now;
}

/* The fast path's condition: on_message is all that takes messages. */
bool rpmsg_endpoint_only_on_message(const struct lendpoint *le)
{
	return le->ep && le->has_on_message && !le->waiting && (le->io.events & LOOP_IN);
}

/* on_message for the message of n bytes in b->buf, then for each further
 * one while only on_message takes them, each with lua_call, all under the
 * one protected call that runs this (1: the batch, 2: the endpoint). A
 * handler's error ends the protected call; dispatch() reports it and goes
 * on under a new one. Between handlers the watchdog's deadline is renewed,
 * so only a slow handler trips it, never a batch of fast ones. */
static int deliver(lua_State *L)
{
	struct batch *b = lua_touserdata(L, 1);
	struct lendpoint *le = b->le;
	struct rpmsg_runtime *rt = le->rt;
	size_t n = b->pending;
	for (;;) {
		lua_getiuservalue(L, 2, ON_MESSAGE);
		lua_pushlstring(L, b->buf, n);
		lua_pushvalue(L, 2);
		b->in_handler = true;
		lua_call(L, 2, 0);
		b->in_handler = false;
		uint64_t now = rpmsg_now_ns();
		observe_handled(le, b->started_ns, now, true);
		b->started_ns = rt->handled_ns = now;
		rpmsg_guard_renew(rt, now / 1000000u);
		if (b->left == 0 || !rpmsg_endpoint_only_on_message(le) || loop_stopping(rt->loop))
			return 0;
		ssize_t got = rpmsg_ep_recv(le->ep, b->buf, sizeof b->buf, &b->e);
		if (got < 0) {
			b->got = got;
			return 0;
		}
		b->left--;
		n = endpoint_kept_length(le, got, sizeof b->buf);
		rt->messages_in++;
		observe_received(le, b->buf, n);
	}
}

/* The second and later messages of a wake-up while only on_message takes
 * them (the first had a protected call of its own: one message per
 * wake-up costs no more than that). */
ssize_t rpmsg_endpoint_deliver(lua_State *L, int idx, int msgh, struct batch *b, size_t n)
{
	struct lendpoint *le = b->le;
	b->got = 0;
	b->pending = n;
	lua_pushcfunction(L, deliver);
	lua_pushlightuserdata(L, b);
	lua_pushvalue(L, idx);
	if (rpmsg_pcall_since(le->rt, L, 2, 0, msgh, on_message_label(le), b->started_ns / 1000000u) != LUA_OK)
		handler_failed(L, b);   /* the next message, under a new protected call */
	return b->got;
}
