/* SPDX-License-Identifier: MIT */
/* Module functions written in Lua (lua/lib/): reached from C through the
 * library module that holds them, by the state's own require. In a stock
 * lua5.4 that searches package.path (where `make install` puts the files,
 * beside rpmsg.so's LUA_CMOD); under rpmsg-lua it finds the host's copy
 * in package.preload. */
#include "lrpmsg.h"

int rpmsg_call_lib(lua_State *L, const char *module, const char *fn)
{
	int n = lua_gettop(L);
	lua_getglobal(L, "require");
	lua_pushstring(L, module);
	lua_call(L, 1, 1);
	lua_getfield(L, -1, fn);
	for (int i = 1; i <= n; i++)
		lua_pushvalue(L, i);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L) - n - 1;
}
