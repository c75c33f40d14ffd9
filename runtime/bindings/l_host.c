/* SPDX-License-Identifier: MIT */
/* What the host program may ask of the bindings (lrpmsg_host.h): bind a
 * state to its loop and backend (and give its module the functions only
 * the host has), arm the watchdog, and run chunks under it. */
#include "lrpmsg.h"
#include "lrpmsg_host.h"

/* The functions only the host gives the module (l_module.c lays them over
 * the ones that, in a stock lua5.4, say they need the host). */
static const luaL_Reg host_functions[] = {
	{ "reload", rpmsg_generation_l_reload },
	{ NULL, NULL },
};

void rpmsg_host_configure(lua_State *L, struct loop *loop, struct rpmsg_backend *backend)
{
	lua_createtable(L, 0, 3);
	lua_pushlightuserdata(L, loop);
	lua_setfield(L, -2, "loop");
	lua_pushlightuserdata(L, backend);
	lua_setfield(L, -2, "backend");
	luaL_newlib(L, host_functions);
	lua_setfield(L, -2, "functions");
	lua_setfield(L, LUA_REGISTRYINDEX, RPMSG_HOST_KEY);
}

void rpmsg_host_set_handler_timeout(lua_State *L, int ms)
{
	rpmsg_guard_install(L, rpmsg_runtime(L), ms);
}

int rpmsg_host_pcall(lua_State *L, int nargs, int nresults, const char *what)
{
	return rpmsg_pcall(rpmsg_runtime(L), L, nargs, nresults, what);
}

/* From a signal handler: the runtime pointer is read from the state's extra
 * space, a plain load, and the registry is not touched. */
bool rpmsg_host_interrupt(lua_State *L)
{
	return rpmsg_guard_interrupt(rpmsg_runtime_of_thread(L));
}

bool rpmsg_host_clear_interrupt(lua_State *L)
{
	return rpmsg_guard_clear_interrupt(rpmsg_runtime_of_thread(L));
}

void rpmsg_host_counts(lua_State *L, struct rpmsg_host_counts *c)
{
	const struct rpmsg_runtime *rt = rpmsg_runtime(L);
	c->messages_in = rt->messages_in;
	c->messages_out = rt->messages_out;
	c->handler_errors = rt->handler_errors;
}
