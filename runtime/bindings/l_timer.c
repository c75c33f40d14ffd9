/* SPDX-License-Identifier: MIT */
/* Timers: rpmsg.every(ms, fn) and rpmsg.after(ms, fn) return a timer with
 * :cancel(). An armed timer is anchored, so a script need not keep it. */
#include "lrpmsg.h"

#include <stddef.h>
#include <string.h>

struct ltimer {
	struct loop_timer t;          /* first: the loop hands back this pointer */
	struct rpmsg_runtime *rt;
	int gen;
};

static void timer_stop(lua_State *L, struct ltimer *lt)
{
	loop_timer_stop(lt->rt->loop, &lt->t);
	rpmsg_unanchor(L, lt);
}

static void timer_fire(struct loop_timer *t)
{
	struct ltimer *lt = (struct ltimer *)t;
	lua_State *L = lt->rt->L;
	rpmsg_push_anchored(L, lt);   /* held while fn runs: it may cancel us */
	int idx = lua_gettop(L);
	if (!lt->t.period_ms)
		rpmsg_unanchor(L, lt);
	lua_getiuservalue(L, idx, 1);
	lua_pushvalue(L, idx);
	rpmsg_call(lt->rt, 1, lt->t.period_ms ? "rpmsg.every callback" : "rpmsg.after callback");
	lua_settop(L, idx - 1);
}

static int timer_start(lua_State *L, bool periodic)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	lua_Integer ms = luaL_checkinteger(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_argcheck(L, ms >= (periodic ? 1 : 0), 1,
		      periodic ? "period must be at least 1 ms" : "delay must not be negative");
	struct ltimer *lt = lua_newuserdatauv(L, sizeof *lt, 1);
	memset(lt, 0, sizeof *lt);
	lt->rt = rt;
	lt->gen = rpmsg_current_gen(rt);
	loop_timer_init(&lt->t, timer_fire, lt);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 1);
	rpmsg_setkind(L, RPMSG_TIMER_TYPE, rpmsg_timer_register);
	struct rpmsg_err e;
	if (loop_timer_start(rt->loop, &lt->t, (uint64_t)ms, periodic ? (uint64_t)ms : 0, &e) < 0)
		return rpmsg_raise(L, &e);
	rpmsg_anchor(L, -1);
	return 1;
}

int rpmsg_l_every(lua_State *L) { return timer_start(L, true); }
int rpmsg_l_after(lua_State *L) { return timer_start(L, false); }

/* A timer method: raises once the runtime is shut down. */
static struct ltimer *timer_check(lua_State *L, int idx)
{
	struct ltimer *lt = luaL_checkudata(L, idx, RPMSG_TIMER_TYPE);
	rpmsg_check_live(L, lt->rt);
	return lt;
}

static int timer_cancel(lua_State *L)
{
	timer_stop(L, timer_check(L, 1));
	return 0;
}

static int timer_active(lua_State *L)
{
	struct ltimer *lt = timer_check(L, 1);
	lua_pushboolean(L, loop_timer_armed(&lt->t));
	return 1;
}

static int timer_gc(lua_State *L)
{
	struct ltimer *lt = luaL_checkudata(L, 1, RPMSG_TIMER_TYPE);
	if (!lt->rt->closed)   /* else the loop and its heap are gone */
		loop_timer_stop(lt->rt->loop, &lt->t);
	return 0;
}

void rpmsg_timer_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	struct ltimer *lt = lua_touserdata(L, idx);
	/* A commit cancels the old generation's timers, an abort the new one's. */
	if (lt && lt->gen == rpmsg_gen_retiring(rt, how))
		timer_stop(L, lt);
}

/* What the REPL shows for a timer: its kind and whether it will fire. */
static int timer_tostring(lua_State *L)
{
	struct ltimer *lt = luaL_checkudata(L, 1, RPMSG_TIMER_TYPE);
	bool armed = !lt->rt->closed && loop_timer_armed(&lt->t);
	if (lt->t.period_ms)
		lua_pushfstring(L, "rpmsg.timer (every %d ms, %s)", (int)lt->t.period_ms,
				armed ? "active" : "cancelled");
	else
		lua_pushfstring(L, "rpmsg.timer (once, %s)", armed ? "active" : "done");
	return 1;
}

void rpmsg_timer_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "cancel", timer_cancel },
		{ "active", timer_active },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_TIMER_TYPE);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, timer_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, timer_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
}
