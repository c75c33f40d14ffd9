/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz targets that drive the Lua library modules: a Lua
 * state with the `rpmsg` module, a driver (tests/fuzz/NAME.lua) that checks
 * the module's promises on one input, and a line hook that gives libFuzzer
 * coverage of the Lua code (liblua itself is not instrumented). A Lua error
 * out of the driver is a finding: it aborts, so libFuzzer reports it. */
#ifndef FUZZ_LUA_TARGET_H
#define FUZZ_LUA_TARGET_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lrpmsg_host.h"

#if !defined(FUZZ_DIR) || !defined(FUZZ_LUA_PATH)
#error "FUZZ_DIR (the folder of the drivers) and FUZZ_LUA_PATH are set by the Makefile"
#endif

/* libFuzzer reads this section as extra coverage counters and clears it
 * before each input. One counter per (previous line, line) pair of Lua code
 * run, hashed: edges, as the compiler's own coverage counts them. */
#define LUA_EDGES (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t lua_edges[LUA_EDGES];
static uint32_t lua_prev_line;

/* Only the line number: asking for the function's source (lua_getinfo)
 * made the hook cost twice the code it watches. The modules' line numbers
 * overlap, but an edge (a pair of lines) rarely collides. */
static void count_lua_line(lua_State *L, lua_Debug *ar)
{
	(void)L;
	uint32_t here = (uint32_t)ar->currentline * 2654435761u;
	uint8_t *c = &lua_edges[(here ^ (lua_prev_line >> 1)) % LUA_EDGES];
	if (*c < 255)
		(*c)++;
	lua_prev_line = here;
}

static int fuzz_traceback(lua_State *L)
{
	luaL_traceback(L, L, luaL_tolstring(L, 1, NULL), 1);
	return 1;
}

/* Runs fn (on the stack top, with nargs arguments) protected; any error is
 * a finding. */
static void fuzz_lua_call(lua_State *L, int nargs)
{
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, fuzz_traceback);
	lua_insert(L, base);
	if (lua_pcall(L, nargs, 0, base) != LUA_OK) {
		fprintf(stderr, "fuzz: Lua error escaped: %s\n", lua_tostring(L, -1));
		abort();
	}
	lua_remove(L, base);
}

static int open_driver(lua_State *L)
{
	const char *name = lua_touserdata(L, 1);
	luaL_openlibs(L);
	/* rpmsg and its Lua library modules (rpmsg.struct, .frag, .rpc), as a
	 * stock lua5.4 loading rpmsg.so gets them: from package.path, here the
	 * build's copies (build/rpmsg/NAME.lua). */
	luaL_requiref(L, "rpmsg", luaopen_rpmsg, 1);
	lua_pop(L, 1);
	lua_getglobal(L, "package");
	lua_pushliteral(L, FUZZ_LUA_PATH);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
	if (luaL_loadfile(L, lua_pushfstring(L, "%s/%s.lua", FUZZ_DIR, name)) != LUA_OK)
		return lua_error(L);
	lua_call(L, 0, 1);
	luaL_checktype(L, -1, LUA_TFUNCTION);
	return 1;
}

/* A new Lua state with the driver NAME's function (what FUZZ_DIR/NAME.lua
 * returns) on its stack. */
static lua_State *fuzz_lua_open(const char *name)
{
	lua_State *L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "fuzz: luaL_newstate: out of memory\n");
		abort();
	}
	lua_sethook(L, count_lua_line, LUA_MASKLINE, 0);   /* coroutines inherit it */
	lua_pushcfunction(L, open_driver);
	lua_pushlightuserdata(L, (void *)name);
	lua_pushcfunction(L, fuzz_traceback);
	lua_insert(L, 1);
	if (lua_pcall(L, 1, 1, 1) != LUA_OK) {
		fprintf(stderr, "fuzz: cannot load the driver %s: %s\n", name, lua_tostring(L, -1));
		abort();
	}
	lua_remove(L, 1);
	return L;
}

/* Calls the driver's function with the input as a string, then collects
 * its garbage: libFuzzer runs a (slow) leak check after any input that
 * frees less than it allocates, which the collector would otherwise make
 * every input do. */
static void fuzz_lua_feed(lua_State *L, const uint8_t *data, size_t size)
{
	lua_pushvalue(L, 1);
	lua_pushlstring(L, (const char *)data, size);
	fuzz_lua_call(L, 1);
	lua_settop(L, 1);
	lua_gc(L, LUA_GCCOLLECT);
}

#endif
