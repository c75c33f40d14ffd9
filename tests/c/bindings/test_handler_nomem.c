/* SPDX-License-Identifier: MIT */
/* An on_message that runs out of memory: Lua raises a memory error without
 * calling the loop's message handler, so the protected call around the loop
 * reports it itself after the unwinding (l_loop_call.c), once, for the
 * handler's endpoint, and the loop goes on with the next message. Drives
 * the module through a Lua state whose allocator can be told to fail. */
#include "lrpmsg_host.h"
#include "tap.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

static int fail_allocs;   /* allocations that fail from now on, while above 0 */

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	(void)osize;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	if (fail_allocs > 0 && nsize > osize) {
		fail_allocs--;
		return NULL;
	}
	return realloc(ptr, nsize);
}

/* fail_allocs(n): the next n growing allocations fail. */
static int l_fail_allocs(lua_State *L)
{
	fail_allocs = (int)luaL_checkinteger(L, 1);
	return 0;
}

static const char *run(lua_State *L, const char *code)
{
	if (luaL_dostring(L, code) != LUA_OK)
		return lua_tostring(L, -1);
	return lua_isstring(L, -1) ? lua_tostring(L, -1) : "(no string returned)";
}

int main(void)
{
	lua_State *L = lua_newstate(alloc, NULL);
	luaL_openlibs(L);
	luaL_requiref(L, "rpmsg", luaopen_rpmsg, 1);
	lua_pop(L, 1);
	lua_register(L, "fail_allocs", l_fail_allocs);
	const char *r = run(L,
		"local a, b = rpmsg.pair()\n"
		"local got = {}\n"
		"b.on_message = function(msg)\n"
		"  got[#got + 1] = msg\n"
		"  if msg == 'starve' then fail_allocs(2); local t = {}; for i = 1, 1e6 do t[i] = i end end\n"
		"  if msg == 'last' then rpmsg.stop() end\n"
		"end\n"
		"assert(a:send('first')); assert(a:send('starve')); assert(a:send('last'))\n"
		"local before = rpmsg.stats().handler_errors\n"
		"local ok, err = rpmsg.run{timeout = 5000}\n"
		"fail_allocs(0)\n"
		"local s = b:stats()\n"
		"local out = string.format('%s %s %d %d %d %s', tostring(ok), tostring(err),\n"
		"  rpmsg.stats().handler_errors - before, s.handler_errors, s.handler_calls, table.concat(got, ','))\n"
		"a:close(); b:close()\n"
		"return out\n");
	CHECK(strcmp(r, "true nil 1 1 3 first,starve,last") == 0,
	      "a handler's memory error is reported once for its endpoint and the loop goes on");
	if (strcmp(r, "true nil 1 1 3 first,starve,last") != 0)
		printf("# got: %s\n", r);
	lua_close(L);
	return tap_done();
}
