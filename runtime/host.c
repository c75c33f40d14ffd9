/* Script states and loading. Everything that can fail in Lua runs under
 * lua_pcall with a traceback handler, as lua.c does. */
#include "host.h"
#include "lrpmsg_host.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static void prepend_script_dir(lua_State *L, const char *script)
{
	const char *slash = strrchr(script, '/');
	lua_getglobal(L, "package");
	if (slash)
		lua_pushlstring(L, script, (size_t)(slash - script));
	else
		lua_pushliteral(L, ".");
	lua_getfield(L, -2, "path");
	lua_pushfstring(L, "%s/?.lua;%s", lua_tostring(L, -2), lua_tostring(L, -1));
	lua_setfield(L, -4, "path");
	lua_pop(L, 3);
}

lua_State *host_new_state(struct loop *loop, struct rpmsg_backend *backend, const char *script)
{
	lua_State *L = luaL_newstate();
	if (!L)
		return NULL;
	luaL_openlibs(L);
	rpmsg_host_configure(L, loop, backend);
	luaL_requiref(L, "rpmsg", luaopen_rpmsg, 0);
	lua_pop(L, 1);
	if (script)
		prepend_script_dir(L, script);
	return L;
}

int host_run_script(lua_State *L, const char *script, int argc, char **argv)
{
	/* arg[0] is the script, arg[1..] what follows it, as in lua.c */
	lua_createtable(L, argc, 1);
	lua_pushstring(L, script);
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setglobal(L, "arg");

	lua_pushcfunction(L, traceback);
	int status = luaL_loadfile(L, script);
	if (status == LUA_OK)
		status = lua_pcall(L, 0, 0, -2);
	if (status != LUA_OK) {
		fprintf(stderr, "rpmsg-lua: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return status;
}
