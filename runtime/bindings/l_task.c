/* SPDX-License-Identifier: MIT */
/* Coroutines in the loop: rpmsg.spawn(fn, ...) runs fn as a task that can
 * wait without blocking the loop, in rpmsg.sleep(ms) or ep:receive(ms).
 * A task is a userdata holding its thread; it is anchored while alive, and a
 * registry table maps the thread back to it. Resumes go through the
 * watchdog, and errors are reported like handler errors. A task cancelled
 * while it runs ends when control next comes back to the loop, never by
 * resetting the thread under itself. */
#include "lrpmsg.h"

#include <stddef.h>
#include <string.h>

static const char TASKS_KEY = 't';

struct ltask {
	struct loop_timer timer;          /* first: the loop hands back this pointer */
	struct rpmsg_runtime *rt;
	lua_State *co;
	int gen;
	bool done;
	rpmsg_task_timeout_fn on_timeout; /* what the timer means while blocked */
	void *timeout_ctx;
	bool suspended;                   /* in rpmsg.suspend: task:wake() may resume it */
	bool cancelled;                   /* cancel() while it ran: ends at its next yield */
	int wake_nargs;                   /* values task:wake() left on the thread */
};

/* Values moved onto a thread need room there; a few thousand arguments are
 * legal Lua, but the thread's stack only grows on request. */
static void task_check_room(lua_State *L, lua_State *co, int n, const char *what)
{
	if (!lua_checkstack(co, n))
		luaL_error(L, "%s: too many values (%d) for the task's stack", what, n);
}

/* A task method: raises once the runtime is shut down. */
static struct ltask *task_check(lua_State *L, int idx)
{
	struct ltask *t = luaL_checkudata(L, idx, RPMSG_TASK_TYPE);
	rpmsg_check_live(L, t->rt);
	return t;
}

struct ltask *rpmsg_task_current(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &TASKS_KEY);
	lua_pushthread(L);
	lua_rawget(L, -2);
	struct ltask *t = luaL_testudata(L, -1, RPMSG_TASK_TYPE);
	lua_pop(L, 2);
	return t;
}

static struct ltask *rpmsg_task_check(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, RPMSG_TASK_TYPE);
}


lua_State *rpmsg_task_thread(struct ltask *t) { return t->co; }

bool rpmsg_task_waits_in(const struct ltask *t, rpmsg_task_timeout_fn fn, const void *ctx)
{
	return !t->done && !t->cancelled && t->on_timeout == fn && t->timeout_ctx == ctx;
}

/* idx: the task userdata on L's stack, which holds the thread (taken from
 * there, not pushed on the thread's own stack, which may be full). */
static void task_finish(lua_State *L, struct ltask *t, int idx)
{
	idx = lua_absindex(L, idx);
	t->done = true;
	loop_timer_stop(t->rt->loop, &t->timer);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &TASKS_KEY);
	lua_getiuservalue(L, idx, 1);
	lua_pushnil(L);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	rpmsg_unanchor(L, t);
}

/* Ends a task that is not running: closes its to-be-closed variables. */
static void task_end_suspended(lua_State *L, struct ltask *t, int idx)
{
	task_finish(L, t, idx);
	int status = lua_resetthread(t->co);
	if (status != LUA_OK) {
		const char *msg = lua_tostring(t->co, -1);
		rpmsg_logf("error closing a cancelled task's variables: %s", msg ? msg : "(not a string)");
	}
}

void rpmsg_task_resume(struct ltask *t, int nargs)
{
	lua_State *L = t->rt->L;
	if (t->done) {
		lua_pop(t->co, nargs);
		return;
	}
	/* On the stack while it runs: finishing unanchors it. */
	rpmsg_push_anchored(L, t);
	int status = rpmsg_resume(t->rt, t->co, nargs, "rpmsg.spawn coroutine");
	if (status != LUA_YIELD)
		task_finish(L, t, -1);
	else if (t->cancelled)
		task_end_suspended(L, t, -1);   /* it cancelled itself: back in the loop now */
	lua_pop(L, 1);
}

static void task_timer_fired(struct loop_timer *timer)
{
	struct ltask *t = (struct ltask *)timer;
	rpmsg_task_timeout_fn fn = t->on_timeout;
	t->on_timeout = NULL;
	if (fn)
		fn(t, t->timeout_ctx);
}

int rpmsg_task_block(lua_State *L, struct ltask *t, int64_t timeout_ms, rpmsg_task_timeout_fn fn,
		     void *ctx)
{
	return rpmsg_task_block_k(L, t, timeout_ms, fn, ctx, 0, NULL);
}

int rpmsg_task_block_k(lua_State *L, struct ltask *t, int64_t timeout_ms, rpmsg_task_timeout_fn fn,
		       void *ctx, lua_KContext kctx, lua_KFunction k)
{
	struct rpmsg_err e;
	t->on_timeout = fn;
	t->timeout_ctx = ctx;
	if (timeout_ms >= 0 && loop_timer_start(t->rt->loop, &t->timer, (uint64_t)timeout_ms, 0, &e) < 0) {
		t->on_timeout = NULL;
		return rpmsg_raise(L, &e);
	}
	return lua_yieldk(L, 0, kctx, k);
}

void rpmsg_task_unblock(struct ltask *t)
{
	t->on_timeout = NULL;
	loop_timer_stop(t->rt->loop, &t->timer);
}

static void wake_from_sleep(struct ltask *t, void *ctx)
{
	(void)ctx;
	rpmsg_task_resume(t, 0);
}

/* Milliseconds as Lua gives them: any integer from 0 up is honoured (the
 * timer heap counts in uint64), a float must be whole ("number has no
 * integer representation" otherwise), nothing is cast down to an int. */
static lua_Integer task_check_ms(lua_State *L, int arg)
{
	lua_Integer ms = luaL_checkinteger(L, arg);
	luaL_argcheck(L, ms >= 0, arg, "milliseconds must not be negative");
	return ms;
}

static int task_sleep(lua_State *L)
{
	lua_Integer ms = task_check_ms(L, 1);
	struct ltask *t = rpmsg_task_current(L);
	if (!t)
		return luaL_error(L, "rpmsg.sleep must be called inside rpmsg.spawn");
	return rpmsg_task_block(L, t, ms, wake_from_sleep, NULL);
}

static void suspend_timed_out(struct ltask *t, void *ctx)
{
	(void)ctx;
	t->suspended = false;
	lua_pushnil(t->co);
	lua_pushliteral(t->co, "timeout");
	lua_pushliteral(t->co, "ETIMEDOUT");
	rpmsg_task_resume(t, 3);
}

/* rpmsg.suspend([timeout_ms]): waits for task:wake(...), whose values it
 * returns, or returns nil, "timeout", "ETIMEDOUT". */
static int task_suspend(lua_State *L)
{
	lua_Integer ms = lua_isnoneornil(L, 1) ? -1 : task_check_ms(L, 1);   /* -1: no timeout */
	struct ltask *t = rpmsg_task_current(L);
	if (!t)
		return luaL_error(L, "rpmsg.suspend must be called inside rpmsg.spawn");
	t->suspended = true;
	return rpmsg_task_block(L, t, ms, suspend_timed_out, NULL);
}

static void resume_woken(struct ltask *t, void *ctx)
{
	(void)ctx;
	rpmsg_task_resume(t, t->wake_nargs);
}

/* task:wake(...): resumes a suspended task with these values, from the loop
 * (never nested inside the caller). False if it was not suspended. */
static int task_wake(lua_State *L)
{
	struct ltask *t = task_check(L, 1);
	if (t->done || !t->suspended) {
		lua_pushboolean(L, 0);
		return 1;
	}
	int nargs = lua_gettop(L) - 1;
	task_check_room(L, t->co, nargs, "task:wake");
	t->suspended = false;
	rpmsg_task_unblock(t);
	t->wake_nargs = nargs;
	lua_xmove(L, t->co, nargs);
	struct rpmsg_err e;
	t->on_timeout = resume_woken;
	if (loop_timer_start(t->rt->loop, &t->timer, 0, 0, &e) < 0)
		return rpmsg_raise(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

static int task_current(lua_State *L)
{
	struct ltask *t = rpmsg_task_current(L);
	if (!t)
		return 0;
	rpmsg_push_anchored(L, t);
	return 1;
}

static int task_spawn(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	luaL_checktype(L, 1, LUA_TFUNCTION);
	int nargs = lua_gettop(L) - 1;
	lua_State *co = lua_newthread(L);
	task_check_room(L, co, nargs + 1, "rpmsg.spawn");
	struct ltask *t = lua_newuserdatauv(L, sizeof *t, 1);
	memset(t, 0, sizeof *t);
	t->rt = rt;
	t->co = co;
	t->gen = rpmsg_current_gen(rt);
	loop_timer_init(&t->timer, task_timer_fired, t);
	luaL_setmetatable(L, RPMSG_TASK_TYPE);
	lua_pushvalue(L, -2);
	lua_setiuservalue(L, -2, 1);      /* the task keeps its thread */
	lua_rawgetp(L, LUA_REGISTRYINDEX, &TASKS_KEY);
	lua_pushvalue(L, -3);
	lua_pushvalue(L, -3);
	lua_rawset(L, -3);                /* TASKS[thread] = task */
	lua_pop(L, 1);
	rpmsg_anchor(L, -1);
	lua_insert(L, 1);                 /* task, fn, args..., thread */
	lua_pop(L, 1);
	lua_xmove(L, co, nargs + 1);      /* fn and args to the thread */
	/* Runs at once, up to its first wait. */
	rpmsg_task_resume(t, nargs);
	return 1;
}

/* Running, or resumed a coroutine that is running: its thread has frames
 * in progress, which resetting would pull out from under it. */
static bool task_is_active(struct ltask *t)
{
	lua_Debug ar;
	return lua_status(t->co) == LUA_OK && lua_getstack(t->co, 0, &ar);
}

static void task_stop(lua_State *L, struct ltask *t, int idx)
{
	if (t->done)
		return;
	if (task_is_active(t)) {
		t->cancelled = true;   /* ends when it next yields to the loop */
		return;
	}
	/* An endpoint may still list it as waiting: it skips finished tasks. */
	task_end_suspended(L, t, idx);
}

/* task:cancel(). Of the running task itself it means "return now": it
 * yields to the loop, which ends it there, closing its to-be-closed
 * variables; code after the call does not run. Where it cannot yield (a C
 * boundary such as a table.sort comparator), it ends at its next wait. */
static int task_cancel(lua_State *L)
{
	struct ltask *t = task_check(L, 1);
	task_stop(L, t, 1);
	if (t->cancelled && !t->done && t->co == L && lua_isyieldable(L))
		return lua_yield(L, 0);
	return 0;
}

static int task_alive(lua_State *L)
{
	struct ltask *t = task_check(L, 1);
	lua_pushboolean(L, !t->done && !t->cancelled);
	return 1;
}

void rpmsg_task_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	struct ltask *t = lua_touserdata(L, idx);
	if (t && t->gen == rpmsg_gen_retiring(rt, how))
		task_stop(L, t, idx);
}

static int task_gc(lua_State *L)
{
	struct ltask *t = rpmsg_task_check(L, 1);
	if (!t->rt->closed)   /* else the loop and its heap are gone */
		loop_timer_stop(t->rt->loop, &t->timer);
	return 0;
}

/* What the REPL shows for a task: whether it still runs, and how it waits. */
static int task_tostring(lua_State *L)
{
	struct ltask *t = luaL_checkudata(L, 1, RPMSG_TASK_TYPE);
	const char *state = t->done ? "done" : t->cancelled ? "cancelled"
		: t->suspended ? "suspended" : t->on_timeout ? "waiting" : "running";
	lua_pushfstring(L, "rpmsg.task (%s)", state);
	return 1;
}

void rpmsg_task_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "cancel", task_cancel },
		{ "alive", task_alive },
		{ "wake", task_wake },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_TASK_TYPE);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, task_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, task_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &TASKS_KEY);
}

int rpmsg_l_spawn(lua_State *L) { return task_spawn(L); }
int rpmsg_l_sleep(lua_State *L) { return task_sleep(L); }
int rpmsg_l_suspend(lua_State *L) { return task_suspend(L); }
int rpmsg_l_current(lua_State *L) { return task_current(L); }
