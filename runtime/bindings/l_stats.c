/* SPDX-License-Identifier: MIT */
/* ep:stats(): a fresh table of the endpoint's counters (l_ep_stats.h), a
 * snapshot the script may keep or change without touching the counters;
 * and rpmsg.clock(), the monotonic clock in seconds with nanosecond
 * resolution, for latencies (rpmsg.rpc, rpmsg-lua bench). */
#include "l_observe.h"

static void set_integer(lua_State *L, const char *key, uint64_t v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, key);
}

int rpmsg_endpoint_stats(lua_State *L)
{
	struct lendpoint *le = endpoint_check(L, 1);
	const struct rpmsg_ep_stats *s = &le->stats;
	lua_createtable(L, 0, 16);
	set_integer(L, "messages_in", s->msgs_in);
	set_integer(L, "messages_out", s->msgs_out);
	set_integer(L, "bytes_in", s->bytes_in);
	set_integer(L, "bytes_out", s->bytes_out);
	set_integer(L, "eagain", s->eagain);
	set_integer(L, "queue", le->outq.len);
	set_integer(L, "queue_high", s->queue_high);
	set_integer(L, "drops", s->drops);
	set_integer(L, "handler_errors", s->handler_errors);
	set_integer(L, "handler_calls", s->handler_calls);
	lua_pushnumber(L, (lua_Number)s->handler_ns / 1e9);
	lua_setfield(L, -2, "handler_time");
	lua_pushnumber(L, (lua_Number)s->handler_max_ns / 1e9);
	lua_setfield(L, -2, "handler_max");
	set_integer(L, "closes", s->closes);
	set_integer(L, "reopens", s->reopens);
	return 1;
}

int rpmsg_l_clock(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)rpmsg_now_ns() / 1e9);
	return 1;
}
