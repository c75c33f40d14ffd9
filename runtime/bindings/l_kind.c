/* SPDX-License-Identifier: MIT */
/* A kind's metatable made with its first object, not at require "rpmsg":
 * most scripts make no ctrl, remoteproc, tty, timer or watch, and each
 * kind's metatable, method table and names cost every start thousands of
 * instructions and heap it would never use (l_module.c lists which kinds
 * wait). */
#include "lrpmsg.h"

void rpmsg_setkind(lua_State *L, const char *tname, void (*open)(lua_State *L))
{
	if (luaL_getmetatable(L, tname) == LUA_TNIL) {
		lua_pop(L, 1);
		open(L);
		luaL_getmetatable(L, tname);
	}
	lua_setmetatable(L, -2);
}
