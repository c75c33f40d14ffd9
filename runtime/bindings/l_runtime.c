/* SPDX-License-Identifier: MIT */
/* What every type of the bindings stands on: the per-state runtime, the
 * anchors that keep alive what the loop points at, failures pushed the luv
 * way, and the log. Below every type, it calls none of them. */
#include "lrpmsg.h"
#include "lrpmsg_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char RUNTIME_KEY = 'r';
static const char ANCHORS_KEY = 'a';

/* ---- runtime ---------------------------------------------------------- */

struct rpmsg_runtime *rpmsg_runtime_find(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &RUNTIME_KEY);
	struct rpmsg_runtime *rt = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return rt;
}

void rpmsg_runtime_set(lua_State *L)
{
	lua_rawsetp(L, LUA_REGISTRYINDEX, &RUNTIME_KEY);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &ANCHORS_KEY);
}

struct rpmsg_runtime *rpmsg_runtime(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime_find(L);
	if (!rt)
		luaL_error(L, "rpmsg: module not initialised (require \"rpmsg\" first)");
	rpmsg_check_live(L, rt);
	return rt;
}

void rpmsg_check_live(lua_State *L, const struct rpmsg_runtime *rt)
{
	if (rt->closed)
		luaL_error(L, "rpmsg: the module was shut down (the Lua state is closing)");
}

/* ---- anchors ------------------------------------------------------------ */

void rpmsg_anchor(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHORS_KEY);
	lua_pushvalue(L, idx);
	lua_rawsetp(L, -2, lua_topointer(L, idx));
	lua_pop(L, 1);
}

void rpmsg_unanchor(lua_State *L, void *p)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHORS_KEY);
	if (lua_istable(L, -1)) {
		lua_pushnil(L);
		lua_rawsetp(L, -2, p);
	}
	lua_pop(L, 1);
}

void rpmsg_each_anchored(lua_State *L, void (*fn)(lua_State *L, int idx, void *ctx), void *ctx)
{
	/* Copied first: fn may close objects, which edits the anchor table. */
	lua_newtable(L);
	int list = lua_gettop(L);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHORS_KEY);
	lua_Integer n = 0;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_rawseti(L, list, ++n);
	}
	lua_pop(L, 1);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		fn(L, lua_gettop(L), ctx);
		lua_settop(L, list);
	}
	lua_pop(L, 1);
}

int rpmsg_push_anchored(lua_State *L, const void *p)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &ANCHORS_KEY);
	int type = lua_rawgetp(L, -1, p);
	lua_remove(L, -2);
	return type;
}

/* ---- errors and logging ------------------------------------------------ */

int rpmsg_push_error(lua_State *L, const struct rpmsg_err *e)
{
	lua_pushnil(L);
	lua_pushstring(L, e->msg);
	const char *name = strerrorname_np(e->code);
	if (name)
		lua_pushstring(L, name);
	else
		lua_pushinteger(L, e->code);
	return 3;
}

int rpmsg_raise(lua_State *L, const struct rpmsg_err *e)
{
	return luaL_error(L, "%s", e->msg);
}
