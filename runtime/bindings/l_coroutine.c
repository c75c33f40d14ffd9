/* SPDX-License-Identifier: MIT */
/* What rpmsg_guard_install puts in a state: its runtime in the state's
 * extra space, where the watchdog's signal handler and every coroutine find
 * it; coroutine.resume and coroutine.wrap that keep the chain of running
 * threads (l_guard.h), so a trip reaches a coroutine too; and the timer. */
#include "l_guard.h"

#include <errno.h>
#include <string.h>

/* lua_resume of co from L with the chain kept: a trip hooks co while it runs,
 * and is raised again in L when co returns. Returns what lcorolib's resume
 * does: the number of results moved to L, or -1 with the error on L. */
static int resume_in_chain(lua_State *L, lua_State *co, int nargs, bool close_on_error,
			   int *status_out)
{
	struct rpmsg_guard *g = guard_of_thread(L);
	bool tracked = g && g->depth > 0;
	if (tracked && g->chain_len == RPMSG_CHAIN_MAX)
		return luaL_error(L, "coroutines nested too deeply for the watchdog");
	*status_out = LUA_ERRRUN;
	if (!lua_checkstack(co, nargs)) {
		lua_pushliteral(L, "too many arguments to resume");
		return -1;
	}
	lua_xmove(L, co, nargs);
	if (tracked)
		rpmsg_guard_chain_push(g, co);
	int nres;
	int status = lua_resume(co, L, nargs, &nres);
	bool failed = status != LUA_OK && status != LUA_YIELD;
	if (failed) {
		status = lua_status(co);   /* not an error of co's own when co was dead */
		if (close_on_error && status != LUA_OK && status != LUA_YIELD)
			status = lua_resetthread(co);   /* its to-be-closed variables, still guarded */
	}
	*status_out = status;
	if (tracked)
		rpmsg_guard_chain_pop(g);
	if (tracked && g->tripped)
		return rpmsg_watchdog_raise_trip(L, g);
	if (failed) {
		lua_xmove(co, L, 1);
		return -1;
	}
	if (!lua_checkstack(L, nres + 1)) {
		lua_pop(co, nres);
		lua_pushliteral(L, "too many results to resume");
		return -1;
	}
	lua_xmove(co, L, nres);
	return nres;
}

static int coroutine_resume(lua_State *L)
{
	lua_State *co = lua_tothread(L, 1);
	luaL_argexpected(L, co, 1, "thread");
	int status;
	int n = resume_in_chain(L, co, lua_gettop(L) - 1, false, &status);
	if (n < 0) {
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushboolean(L, 1);
	lua_insert(L, -(n + 1));
	return n + 1;
}

static int coroutine_wrapped_call(lua_State *L)
{
	lua_State *co = lua_tothread(L, lua_upvalueindex(1));
	int status;
	int n = resume_in_chain(L, co, lua_gettop(L), true, &status);
	if (n >= 0)
		return n;
	/* As lcorolib: a string error gets the caller's position. */
	if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
		luaL_where(L, 1);
		lua_insert(L, -2);
		lua_concat(L, 2);
	}
	return lua_error(L);
}

static int coroutine_wrap(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_State *co = lua_newthread(L);
	lua_pushvalue(L, 1);
	lua_xmove(L, co, 1);
	lua_pushcclosure(L, coroutine_wrapped_call, 1);
	return 1;
}

static void replace_field(lua_State *L, const char *table, const char *name, lua_CFunction fn)
{
	if (lua_getglobal(L, table) == LUA_TTABLE) {
		lua_pushcfunction(L, fn);
		lua_setfield(L, -2, name);
	}
	lua_pop(L, 1);
}

static void replace_functions(lua_State *L)
{
	replace_field(L, "coroutine", "resume", coroutine_resume);
	replace_field(L, "coroutine", "wrap", coroutine_wrap);
	lua_getglobal(L, "xpcall");
	rpmsg_watchdog_know_xpcall(lua_tocfunction(L, -1));
	lua_pop(L, 1);
}

void rpmsg_guard_install(lua_State *L, struct rpmsg_runtime *rt, int timeout_ms)
{
	*(struct rpmsg_runtime **)lua_getextraspace(L) = rt;   /* coroutines copy it */
	struct rpmsg_guard *g = rt->guard;
	g->handler_timeout_ms = timeout_ms;
	replace_functions(L);
	if (timeout_ms > 0 && !g->has_timer && !rpmsg_watchdog_start_timer(g))
		rpmsg_logf("watchdog: cannot start its timer (%s); handlers run without a time limit",
			   strerror(errno));
}
