/* SPDX-License-Identifier: MIT */
/* The one protected-call path for everything that runs Lua on the loop's
 * behalf (handlers, timers, script chunks, REPL input): a traceback on error,
 * reported through l_errors.c, and each call entered into the guard, whose
 * watchdog (l_watchdog.c) aborts a call that runs too long. */
#include "l_guard.h"

#include <string.h>
#include <time.h>

struct rpmsg_guard *rpmsg_guard_new(lua_State *L)
{
	struct rpmsg_guard *g = lua_newuserdatauv(L, sizeof *g, 0);
	memset(g, 0, sizeof *g);
	g->slot = -1;
	return g;
}

/* ---- the chain of running threads ------------------------------------- */

static bool in_chain(struct rpmsg_guard *g, lua_State *L)
{
	for (int i = 0; i < g->chain_len; i++)
		if (g->chain[i] == L)
			return true;
	return false;
}

void rpmsg_guard_chain_left(struct rpmsg_guard *g, lua_State *L)
{
	/* Full speed again once it is off the chain (and not still below). */
	if (!in_chain(g, L))
		lua_sethook(L, NULL, 0, 0);
}

/* ---- guarded calls ---------------------------------------------------- */

void rpmsg_guard_forget_trip(struct rpmsg_guard *g)
{
	/* A Ctrl-C between two handlers is one that came while nothing ran,
	 * as it would have between two calls: the prompt's. */
	if (g->tripped == TRIP_INTERRUPT)
		g->idle_interrupt = 1;
	g->tripped = TRIP_NONE;
	for (int i = 0; i < g->chain_len; i++)
		lua_sethook(g->chain[i], NULL, 0, 0);
}

void rpmsg_guard_mark(const struct rpmsg_runtime *rt, struct rpmsg_guard_mark *m)
{
	m->depth = rt->guard->depth;
	m->chain_len = rt->guard->chain_len;
}

/* What guard_leave would have done for each call the error unwound, in
 * the same order: depth first, then the chain (unhooked while a trip is
 * still marked), then the trip forgotten at the outermost level. */
void rpmsg_guard_unwind(struct rpmsg_runtime *rt, const struct rpmsg_guard_mark *m)
{
	struct rpmsg_guard *g = rt->guard;
	g->depth = m->depth;
	while (g->chain_len > m->chain_len)
		rpmsg_guard_chain_pop(g);
	if (m->depth == 0) {
		g->tripped = TRIP_NONE;
		g->running = NULL;
	}
}

static int refuse_deep_nesting(lua_State *L)
{
	lua_pushliteral(L, "calls and coroutines nested too deeply for the watchdog");
	return LUA_ERRRUN;
}

int rpmsg_message_handler(lua_State *L)
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

int rpmsg_pcall_since(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, int msgh,
		      const char *what, uint64_t now_ms)
{
	if (!rpmsg_guard_enter(rt->guard, L, what, now_ms)) {
		lua_pop(L, nargs + 1);
		return refuse_deep_nesting(L);
	}
	int status = lua_pcall(L, nargs, nresults, msgh);
	rpmsg_guard_leave(rt->guard);
	return status;
}

/* When a call other than on_message ended (on_message stamps its own): the
 * first on_message of the rest of the wake-up starts its time, and its
 * watchdog deadline, from here, not from the wake-up. */
static void stamp_end(struct rpmsg_runtime *rt)
{
	rt->handled_ns = rpmsg_now_ns();
}

int rpmsg_pcall_at(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, int msgh,
		   const char *what)
{
	int status = rpmsg_pcall_since(rt, L, nargs, nresults, msgh, what, 0);
	stamp_end(rt);
	return status;
}

int rpmsg_pcall(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, const char *what)
{
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, rpmsg_message_handler);
	lua_insert(L, base);
	int status = rpmsg_pcall_at(rt, L, nargs, nresults, base, what);
	lua_remove(L, base);
	return status;
}

int rpmsg_resume(struct rpmsg_runtime *rt, lua_State *co, int nargs, const char *what)
{
	int nres = 0;
	int status;
	if (rpmsg_guard_enter(rt->guard, co, what, 0)) {
		status = lua_resume(co, rt->L, nargs, &nres);
		rpmsg_guard_leave(rt->guard);
		stamp_end(rt);
	} else {
		lua_pop(co, nargs);
		status = refuse_deep_nesting(co);
	}
	if (status == LUA_OK || status == LUA_YIELD) {
		lua_pop(co, nres);
		return status;
	}
	const char *msg = lua_tostring(co, -1);
	luaL_traceback(rt->L, co, msg ? msg : "(error object is not a string)", 0);
	rt->handler_errors++;
	rpmsg_report_error(rt, what, lua_tostring(rt->L, -1));
	lua_pop(rt->L, 1);
	return status;
}

bool rpmsg_call(struct rpmsg_runtime *rt, int nargs, const char *what)
{
	lua_State *L = rt->L;
	if (rpmsg_pcall(rt, L, nargs, 0, what) == LUA_OK)
		return true;
	rt->handler_errors++;
	rpmsg_report_error(rt, what, lua_tostring(L, -1));
	lua_pop(L, 1);
	return false;
}
