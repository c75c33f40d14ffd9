/* SPDX-License-Identifier: MIT */
/* Module functions written in Lua (lua/lib/): reached from C through the
 * library module that holds them, loaded once through package.preload
 * (where rpmsg.so and the binary put the embedded modules) and kept in
 * package.loaded, as require would. */
#include "lrpmsg.h"

int rpmsg_call_lib(lua_State *L, const char *module, const char *fn)
{
	int n = lua_gettop(L);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, module) == LUA_TNIL) {
		lua_pop(L, 1);
		luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
		if (lua_getfield(L, -1, module) != LUA_TFUNCTION)
			return luaL_error(L, "rpmsg: the module %s is missing", module);
		lua_pushstring(L, module);
		lua_call(L, 1, 1);
		lua_remove(L, -2);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, module);
	}
	lua_getfield(L, -1, fn);
	for (int i = 1; i <= n; i++)
		lua_pushvalue(L, i);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L) - n - 2;
}
