/* SPDX-License-Identifier: MIT */
/* Trace lines for Lua listeners (rpmsg.trace{to = fn}, a console session of
 * `rpmsg-lua attach --trace`): queued as they are made, and handed over
 * from a zero-delay timer, never from inside a send (which may run in a
 * coroutine). A listener gets the lines queued since its last call, without
 * the final newline; returning false, or raising, removes it. */
#include "l_trace.h"

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
		if (kept == 0) {   /* the next message ends an idle trace (l_trace.c) */
			luaL_unref(L, LUA_REGISTRYINDEX, tr->listeners_ref);
			tr->listeners_ref = LUA_NOREF;
		}
	}
	lua_settop(L, top);
}

