/* SPDX-License-Identifier: MIT */
/* rpmsg.trace from Lua:
 *   rpmsg.trace()          true while anything traces
 *   rpmsg.trace(true)      text lines to stderr
 *   rpmsg.trace(false)     everything off
 *   rpmsg.trace{file = PATH | "-", time = "a"|"d"|"z", pcap = PATH,
 *               to = function(lines) ... end}
 * Listeners: l_trace_listeners.c. A failure to open a file is nil,
 * message, ERRNAME, naming the path. */
#include "l_trace.h"

#include <string.h>

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
		lua_pushboolean(L, rt->trace && !rpmsg_trace_idle(rt->trace));
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
