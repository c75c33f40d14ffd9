/* SPDX-License-Identifier: MIT */
/* rpmsg.trace from Lua, and the delivery of trace lines to Lua listeners:
 *   rpmsg.trace()          true while anything traces
 *   rpmsg.trace(true)      text lines to stderr
 *   rpmsg.trace(false)     everything off
 *   rpmsg.trace{file = PATH | "-", time = "a"|"d"|"z", pcap = PATH,
 *               to = function(lines) ... end}
 * A listener gets the lines queued since its last call (without the final
 * newline) from a zero-delay timer; returning false, or raising, removes
 * it. A failure to open a file is nil, message, ERRNAME, naming the path. */
#include "l_trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_MAX (256 * 1024)   /* listeners that fall this far behind lose lines (counted) */

void rpmsg_trace_queue_line(struct rpmsg_trace *tr, const char *line, size_t len)
{
	if (tr->pending_len + len > PENDING_MAX) {
		tr->pending_lost++;
		return;
	}
	if (!tr->pending) {
		tr->pending = malloc(PENDING_MAX);
		if (!tr->pending) {
			tr->pending_lost++;
			return;
		}
	}
	memcpy(tr->pending + tr->pending_len, line, len);
	tr->pending_len += len;
	struct rpmsg_err e;
	if (!loop_timer_armed(&tr->deliver))
		loop_timer_start(tr->rt->loop, &tr->deliver, 0, 0, &e);
}

/* Calls every listener with the pending lines; drops those that say no. */
void rpmsg_trace_deliver(struct loop_timer *t)
{
	struct rpmsg_trace *tr = t->ctx;
	struct rpmsg_runtime *rt = tr->rt;
	lua_State *L = rt->L;
	if (tr->listeners_ref == LUA_NOREF || tr->pending_len == 0)
		return;
	int top = lua_gettop(L);
	lua_pushlstring(L, tr->pending, tr->pending_len - 1);   /* without the last newline */
	if (tr->pending_lost) {
		lua_pushfstring(L, "\n(trace: %d lines lost: a listener fell behind)", (int)tr->pending_lost);
		lua_concat(L, 2);
	}
	tr->pending_len = 0;
	tr->pending_lost = 0;
	int lines = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, tr->listeners_ref);
	int list = lua_gettop(L);
	tr->delivering = true;
	lua_Integer n = (lua_Integer)lua_rawlen(L, list), kept = 0;
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		lua_pushvalue(L, -1);
		lua_pushvalue(L, lines);
		bool keep = lua_pcall(L, 1, 1, 0) == LUA_OK && (lua_toboolean(L, -1) || lua_isnil(L, -1));
		lua_pop(L, 1);
		if (keep)
			lua_rawseti(L, list, ++kept);
		else
			lua_pop(L, 1);
	}
	tr->delivering = false;
	if (rt->trace != tr) {   /* a listener switched the trace off: freed here, not under us */
		free(tr->pending);
		free(tr);
	} else {
		for (lua_Integer i = kept + 1; i <= n; i++) {
			lua_pushnil(L);
			lua_rawseti(L, list, i);
		}
		if (kept == 0) {
			luaL_unref(L, LUA_REGISTRYINDEX, tr->listeners_ref);
			tr->listeners_ref = LUA_NOREF;
			if (rpmsg_trace_idle(tr))
				rpmsg_trace_close(rt);
		}
	}
	lua_settop(L, top);
}

static void add_listener(lua_State *L, struct rpmsg_trace *tr, int idx)
{
	if (tr->listeners_ref == LUA_NOREF) {
		lua_newtable(L);
		tr->listeners_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, tr->listeners_ref);
	lua_pushvalue(L, idx);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 1);
}

static int push_failure(lua_State *L, struct rpmsg_runtime *rt, const struct rpmsg_err *e)
{
	if (rt->trace && rpmsg_trace_idle(rt->trace))
		rpmsg_trace_close(rt);
	return rpmsg_push_error(L, e);
}

int rpmsg_l_trace(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	if (lua_isnone(L, 1)) {
		lua_pushboolean(L, rt->trace != NULL);
		return 1;
	}
	if (lua_isboolean(L, 1) && !lua_toboolean(L, 1)) {
		rpmsg_trace_close(rt);
		lua_pushboolean(L, 1);
		return 1;
	}
	if (!lua_isboolean(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	const char *file = NULL, *pcap = NULL, *time = NULL;
	bool listener = false;
	if (lua_istable(L, 1)) {
		lua_getfield(L, 1, "file");
		file = luaL_optstring(L, -1, NULL);
		lua_getfield(L, 1, "pcap");
		pcap = luaL_optstring(L, -1, NULL);
		lua_getfield(L, 1, "time");
		time = luaL_optstring(L, -1, NULL);
		if (time && (strlen(time) != 1 || !strchr("adz", time[0])))
			return luaL_error(L, "rpmsg.trace: time must be \"a\" (absolute), \"d\" (delta) "
					  "or \"z\" (from the start), not \"%s\"", time);
		if (lua_getfield(L, 1, "to") != LUA_TNIL) {
			luaL_argcheck(L, lua_isfunction(L, -1), 1, "to must be a function");
			listener = true;
		}
	}
	struct rpmsg_trace *tr = rpmsg_trace_get(rt);
	if (!tr)
		return luaL_error(L, "rpmsg.trace: out of memory");
	struct rpmsg_err e;
	bool text = file || (!pcap && !listener);
	if (text && rpmsg_trace_text(tr, file, &e) < 0)
		return push_failure(L, rt, &e);
	if (pcap && rpmsg_trace_pcap(tr, pcap, &e) < 0)
		return push_failure(L, rt, &e);
	if (time)
		tr->time_mode = time[0];
	if (listener)
		add_listener(L, tr, lua_gettop(L));
	lua_pushboolean(L, 1);
	return 1;
}
