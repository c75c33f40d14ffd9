/* SPDX-License-Identifier: MIT */
/* rpmsg.remoteproc(name or index): the co-processor's lifecycle from Lua
 * (state, start, stop, firmware, recovery) and the control device under it. */
#include "lrpmsg.h"
#include "remoteproc.h"

#include <string.h>

static struct rproc *remoteproc_check(lua_State *L)
{
	return luaL_checkudata(L, 1, RPMSG_RPROC_TYPE);
}

int rpmsg_l_remoteproc(lua_State *L)
{
	const char *name = NULL;
	int index = 0;
	if (lua_type(L, 1) == LUA_TSTRING)
		name = lua_tostring(L, 1);
	else if (lua_isinteger(L, 1) && lua_tointeger(L, 1) >= 0)
		index = (int)lua_tointeger(L, 1);
	else
		return luaL_typeerror(L, 1, "remoteproc name or index");
	struct rproc *r = lua_newuserdatauv(L, sizeof *r, 0);
	struct rpmsg_err e;
	if (rproc_find(name, index, r, &e) < 0)
		return rpmsg_push_error(L, &e);
	luaL_setmetatable(L, RPMSG_RPROC_TYPE);
	return 1;
}

/* attr() reads; attr(value) writes and returns true. */
static int remoteproc_attribute(lua_State *L, const char *attr)
{
	struct rproc *r = remoteproc_check(L);
	struct rpmsg_err e;
	if (!lua_isnoneornil(L, 2)) {
		if (rproc_write(r, attr, luaL_checkstring(L, 2), &e) < 0)
			return rpmsg_push_error(L, &e);
		lua_pushboolean(L, 1);
		return 1;
	}
	char buf[256];
	if (rproc_read(r, attr, buf, sizeof buf, &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushstring(L, buf);
	return 1;
}

static int remoteproc_state(lua_State *L) { lua_settop(L, 1); return remoteproc_attribute(L, "state"); }
static int remoteproc_firmware(lua_State *L) { return remoteproc_attribute(L, "firmware"); }
static int remoteproc_recovery(lua_State *L) { return remoteproc_attribute(L, "recovery"); }

static int remoteproc_set_state(lua_State *L, const char *value)
{
	lua_settop(L, 1);
	lua_pushstring(L, value);
	return remoteproc_attribute(L, "state");
}

static int remoteproc_start(lua_State *L)
{
	struct rpmsg_err e;
	if (rproc_start(remoteproc_check(L), &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}
static int remoteproc_stop(lua_State *L) { return remoteproc_set_state(L, "stop"); }

static int remoteproc_ctrl(lua_State *L)
{
	struct rpmsg_err e;
	int idx = rproc_ctrl_index(remoteproc_check(L), &e);
	if (idx < 0)
		return rpmsg_push_error(L, &e);
	lua_pushinteger(L, idx);
	return 1;
}

static int remoteproc_index(lua_State *L)
{
	struct rproc *r = remoteproc_check(L);
	const char *key = luaL_checkstring(L, 2);
	luaL_getmetafield(L, 1, "methods");
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (strcmp(key, "name") == 0)
		lua_pushstring(L, r->name);
	else if (strcmp(key, "index") == 0)
		lua_pushinteger(L, r->index);
	else
		lua_pushnil(L);
	return 1;
}

static int remoteproc_tostring(lua_State *L)
{
	struct rproc *r = remoteproc_check(L);
	lua_pushfstring(L, "rpmsg.remoteproc '%s' (remoteproc%d)", r->name, r->index);
	return 1;
}

void rpmsg_remoteproc_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "state", remoteproc_state },
		{ "start", remoteproc_start },
		{ "stop", remoteproc_stop },
		{ "firmware", remoteproc_firmware },
		{ "recovery", remoteproc_recovery },
		{ "ctrl", remoteproc_ctrl },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_RPROC_TYPE);
	lua_pushcfunction(L, remoteproc_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, remoteproc_tostring);
	lua_setfield(L, -2, "__tostring");
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
