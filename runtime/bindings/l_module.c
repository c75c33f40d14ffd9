/* SPDX-License-Identifier: MIT */
/* The `rpmsg` module's entry point, above every type: luaopen_rpmsg, the
 * runtime's birth and end, the kinds of object listed once, the module
 * functions (run, stop, log, stats ...). */
#include "lrpmsg.h"
#include "lrpmsg_host.h"
#include "l_log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Addresses are 32-bit unsigned and ADDR_ANY is 0xffffffff: a Lua built
 * with 32-bit integers (Buildroot's LUA_32BITS) cannot hold them. */
_Static_assert(sizeof(lua_Integer) >= 8,
	"rpmsg-lua needs 64-bit Lua integers: build Lua without LUA_32BITS");

static const char STATE_KEY = 's';
#define RUNTIME_PARTS 3   /* the user values of the runtime: guard, errors, recovery */

/* ---- runtime ---------------------------------------------------------- */

/* lua_close runs finalizers newest first, so a finalizer made before
 * require "rpmsg" runs after this one: from here on the runtime answers
 * every call with an error (rpmsg_check_live) instead of reaching the loop,
 * which is gone. Its own memory stays valid until lua_close frees all
 * objects, after the last finalizer. */
static int runtime_gc(lua_State *L)
{
	struct rpmsg_runtime *rt = lua_touserdata(L, 1);
	rt->closed = true;
	rpmsg_trace_close(rt);
	rpmsg_errors_flush(rt);
	rpmsg_guard_close(rt);
	if (rt->loop)
		rpmsg_recovery_stop(rt);
	rpmsg_gc_idle_stop(rt);
	/* Endpoints this process created are destroyed when it lets go: a
	 * leftover src would make the next run's CREATE unusable. */
	if (rt->backend) {
		int n = rpmsg_destroy_created(rt->backend);
		if (n)
			rpmsg_logf("destroyed %d endpoint%s left by create_endpoint", n, n == 1 ? "" : "s");
		rt->backend = NULL;
	}
	if (rt->owns_loop && rt->loop)
		loop_free(rt->loop);
	rt->loop = NULL;   /* the host's loop too: nothing here may arm it now */
	return 0;
}

static struct rpmsg_runtime *runtime_new(lua_State *L)
{
	struct rpmsg_runtime *rt = lua_newuserdatauv(L, sizeof *rt, RUNTIME_PARTS);
	memset(rt, 0, sizeof *rt);
	rt->raised_ref = LUA_NOREF;
	/* Each concern keeps its state in a userdata of its own, held by the
	 * runtime's: it lives exactly as long. */
	rt->guard = rpmsg_guard_new(L);
	lua_setiuservalue(L, -2, 1);
	rt->errors = rpmsg_errors_new(L);
	lua_setiuservalue(L, -2, 2);
	rt->recovery = rpmsg_recovery_new(L);
	lua_setiuservalue(L, -2, 3);
	lua_newtable(L);
	lua_pushcfunction(L, runtime_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	rpmsg_runtime_set(L);

	lua_State *main;
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	main = lua_tothread(L, -1);
	lua_pop(L, 1);
	rt->L = main;

	/* The host's loop and backend (rpmsg_host_configure), if a host set them. */
	if (lua_getfield(L, LUA_REGISTRYINDEX, RPMSG_HOST_KEY) == LUA_TTABLE) {
		lua_getfield(L, -1, "loop");
		rt->loop = lua_touserdata(L, -1);
		lua_getfield(L, -2, "backend");
		rt->backend = lua_touserdata(L, -1);
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
	rt->hosted = rt->loop != NULL;
	if (!rt->backend)
		rt->backend = rpmsg_kernel_backend();
	if (!rt->loop) {
		struct rpmsg_err e;
		rt->loop = loop_new(&e);
		if (!rt->loop)
			luaL_error(L, "rpmsg: %s", e.msg);
		rt->owns_loop = true;
	}
	rpmsg_gc_idle_start(rt);
	return rt;
}

/* ---- the kinds of object ------------------------------------------------ */

/* Every kind of userdata the module makes, listed once: its type name, how
 * its metatable is made, whether at require or with its first object, and
 * what the end of a reload does to one (NULL: nothing, it belongs to no
 * generation). Endpoints are what every script makes, and the task kind
 * also makes the registry's table of tasks; the others wait for their first
 * object (rpmsg_setkind, l_kind.c): at require they cost the start 60,000
 * instructions and two pages of heap that most scripts never use. */
static const struct kind {
	const char *name;
	void (*open)(lua_State *L);
	void (*retire)(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
	bool at_require;
} kinds[] = {
	{ RPMSG_CTRL_TYPE, rpmsg_ctrl_register, NULL, false },
	{ RPMSG_ENDPOINT_TYPE, rpmsg_endpoint_register, rpmsg_endpoint_retire, true },
	{ RPMSG_TIMER_TYPE, rpmsg_timer_register, rpmsg_timer_retire, false },
	{ RPMSG_WATCH_TYPE, rpmsg_watch_register, rpmsg_watch_retire, false },
	{ RPMSG_TASK_TYPE, rpmsg_task_register, rpmsg_task_retire, true },
	{ RPMSG_RPROC_TYPE, rpmsg_remoteproc_register, NULL, false },
	{ RPMSG_TTY_TYPE, rpmsg_tty_register, rpmsg_tty_retire, false },
	{ RPMSG_RPROC_EVENTS_TYPE, rpmsg_rproc_events_register, rpmsg_rproc_events_retire, false },
	{ NULL, NULL, NULL, false },
};

/* Pushes the kind's metatable, made now if this is its first use; nil if
 * tname is no kind of ours. */
static void push_kind(lua_State *L, const char *tname)
{
	if (luaL_getmetatable(L, tname) != LUA_TNIL)
		return;
	for (const struct kind *k = kinds; k->name; k++)
		if (strcmp(k->name, tname) == 0) {
			lua_pop(L, 1);
			k->open(L);
			luaL_getmetatable(L, tname);
			return;
		}
}

/* registry[RPMSG_KIND_KEY](tname): the kind's metatable, made if need be,
 * for code that reads a kind's methods before any object of it exists
 * (help() in the REPL, lua/host/help.lua). */
static int kind_metatable(lua_State *L)
{
	push_kind(L, luaL_checkstring(L, 1));
	return 1;
}

void rpmsg_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	for (const struct kind *k = kinds; k->name; k++)
		if (k->retire && rpmsg_testudata(L, idx, k->name)) {
			k->retire(L, idx, rt, how);
			return;
		}
}

/* ---- module functions ----------------------------------------------------- */

struct run_deadline {
	struct loop_timer timer;
	struct loop *loop;
	bool passed;
};

static void run_timed_out(struct loop_timer *t)
{
	struct run_deadline *d = t->ctx;
	d->passed = true;
	loop_stop(d->loop);
}

#define REENTRY_ERROR "rpmsg.run: the loop is already running (called from a handler?); " \
	"handlers run inside it, so return instead"

/* rpmsg.run([opts]): opts.timeout (ms) ends the run with nil, "timeout",
 * "ETIMEDOUT"; opts.raise_errors makes the first handler error end the run
 * and raise from it, so a failed assertion inside a handler fails the test
 * that called run() instead of being logged while the test hangs. */
static int module_run(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	if (rt->hosted)
		return lua_pushboolean(L, 1), 1;  /* rpmsg-lua runs the loop after the script */
	lua_Integer timeout = -1;
	bool raise_errors = false;
	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		lua_getfield(L, 1, "timeout");
		timeout = luaL_optinteger(L, -1, -1);
		luaL_argcheck(L, timeout >= -1, 1, "timeout must not be negative");
		lua_getfield(L, 1, "raise_errors");
		raise_errors = lua_toboolean(L, -1);
		lua_pop(L, 2);
	}
	if (rt->in_run)
		return luaL_error(L, REENTRY_ERROR);
	struct rpmsg_err e;
	/* SIGINT and SIGTERM end the run after the running handler, and only
	 * while it runs: lua.c's own handlers come back when it returns. */
	if (loop_stop_on_signal(rt->loop, SIGINT, &e) < 0 ||
	    loop_stop_on_signal(rt->loop, SIGTERM, &e) < 0) {
		loop_restore_stop_signals(rt->loop);
		return rpmsg_push_error(L, &e);
	}
	struct run_deadline deadline = { .loop = rt->loop };
	loop_timer_init(&deadline.timer, run_timed_out, &deadline);
	if (timeout >= 0 && loop_timer_start(rt->loop, &deadline.timer, (uint64_t)timeout, 0, &e) < 0) {
		loop_restore_stop_signals(rt->loop);
		return rpmsg_push_error(L, &e);
	}
	lua_State *outer = rt->L;
	rt->L = L;
	rt->in_run = true;
	rt->raise_errors = raise_errors;
	rt->raised_ref = LUA_NOREF;
	bool raised;
	int r = rpmsg_loop_call(rt, &raised);
	rt->in_run = false;
	rt->raise_errors = false;
	rt->L = outer;
	loop_timer_stop(rt->loop, &deadline.timer);
	loop_restore_stop_signals(rt->loop);
	if (raised)
		return lua_error(L);   /* no handler's error: it ends the run */
	if (r == -EBUSY)
		return luaL_error(L, REENTRY_ERROR);
	if (rt->raised_ref != LUA_NOREF) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, rt->raised_ref);
		luaL_unref(L, LUA_REGISTRYINDEX, rt->raised_ref);
		rt->raised_ref = LUA_NOREF;
		return lua_error(L);
	}
	if (r < 0) {
		rpmsg_fail_errno(&e, -r, "event loop");
		return rpmsg_push_error(L, &e);
	}
	if (deadline.passed) {
		rpmsg_fail(&e, ETIMEDOUT, "timeout");
		return rpmsg_push_error(L, &e);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int module_stop(lua_State *L)
{
	loop_stop(rpmsg_runtime(L)->loop);
	return 0;
}

static int module_now(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)rpmsg_now_ms());
	return 1;
}

static int module_stats(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, (lua_Integer)rt->handler_errors);
	lua_setfield(L, -2, "handler_errors");
	lua_pushinteger(L, (lua_Integer)rpmsg_errors_not_logged(rt));
	lua_setfield(L, -2, "errors_not_logged");
	lua_pushinteger(L, (lua_Integer)rt->messages_in);
	lua_setfield(L, -2, "messages_in");
	lua_pushinteger(L, (lua_Integer)rt->messages_out);
	lua_setfield(L, -2, "messages_out");
	return 1;
}

static const luaL_Reg functions[] = {
	{ "open_ctrl", rpmsg_l_open_ctrl },
	{ "open_endpoint", rpmsg_l_open_endpoint },
	{ "encode_info", rpmsg_l_encode_info },
	{ "decode_info", rpmsg_l_decode_info },
	{ "endpoint", rpmsg_l_endpoint },
	{ "endpoints", rpmsg_l_endpoints },
	{ "pair", rpmsg_l_pair },
	{ "every", rpmsg_l_every },
	{ "after", rpmsg_l_after },
	{ "watch", rpmsg_l_watch },
	{ "spawn", rpmsg_l_spawn },
	{ "remoteproc", rpmsg_l_remoteproc },
	{ "list", rpmsg_l_list },
	{ "on_announce", rpmsg_l_on_announce },
	{ "open_tty", rpmsg_l_open_tty },
	{ "tty", rpmsg_l_tty },
	{ "on_remoteproc", rpmsg_l_on_remoteproc },
	{ "open_remoteproc_events", rpmsg_l_open_rproc_events },
	{ "sleep", rpmsg_l_sleep },
	{ "suspend", rpmsg_l_suspend },
	{ "current", rpmsg_l_current },
	{ "run", module_run },
	{ "stop", module_stop },
	{ "now", module_now },
	{ "stats", module_stats },
	{ "crc32", rpmsg_l_crc32 },
	{ "trace", rpmsg_l_trace },
	{ "clock", rpmsg_l_clock },
	{ NULL, NULL },
};

/* Every module function goes through here: after the runtime's finalizer
 * (the state is closing) it raises instead of reaching freed memory. */
static int module_function(lua_State *L)
{
	rpmsg_check_live(L, lua_touserdata(L, lua_upvalueindex(1)));
	return lua_tocfunction(L, lua_upvalueindex(2))(L);
}

/* What only the rpmsg-lua host gives the module (RPMSG_HOST_KEY): in a
 * stock lua5.4 each of these raises, naming what is missing. */
static const char *const host_only[] = { "reload", NULL };

static int module_needs_host(lua_State *L)
{
	return luaL_error(L, "rpmsg: %s() needs the rpmsg-lua host",
			  lua_tostring(L, lua_upvalueindex(1)));
}

/* Sets module[name] to the C function on top, popped, behind module_function. */
static void set_function(lua_State *L, int module, struct rpmsg_runtime *rt, const char *name)
{
	lua_pushlightuserdata(L, rt);
	lua_insert(L, -2);
	lua_pushcclosure(L, module_function, 2);
	lua_setfield(L, module, name);
}

static void push_functions(lua_State *L, struct rpmsg_runtime *rt)
{
	lua_createtable(L, 0, sizeof functions / sizeof functions[0] + 4);
	int module = lua_gettop(L);
	for (const luaL_Reg *f = functions; f->name; f++) {
		lua_pushcfunction(L, f->func);
		set_function(L, module, rt, f->name);
	}
	for (const char *const *name = host_only; *name; name++) {
		lua_pushstring(L, *name);
		lua_pushcclosure(L, module_needs_host, 1);
		lua_setfield(L, module, *name);
	}
	if (lua_getfield(L, LUA_REGISTRYINDEX, RPMSG_HOST_KEY) == LUA_TTABLE &&
	    lua_getfield(L, -1, "functions") == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			set_function(L, module, rt, lua_tostring(L, -2));
		}
	}
	lua_settop(L, module);
}

int luaopen_rpmsg(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime_find(L);
	if (rt) {
		rpmsg_check_live(L, rt);
	} else {
		rt = runtime_new(L);
		for (const struct kind *k = kinds; k->name; k++)
			if (k->at_require)
				k->open(L);
		lua_pushcfunction(L, kind_metatable);
		lua_setfield(L, LUA_REGISTRYINDEX, RPMSG_KIND_KEY);
	}
	push_functions(L, rt);
	rpmsg_log_push(L);
	lua_setfield(L, -2, "log");
	lua_pushinteger(L, RPMSG_MAX_MESSAGE);
	lua_setfield(L, -2, "MAX_MESSAGE_SIZE");
	lua_pushinteger(L, (lua_Integer)RPMSG_ANY);
	lua_setfield(L, -2, "ADDR_ANY");
	lua_pushstring(L, RPMSG_VERSION);
	lua_setfield(L, -2, "version");
	/* rpmsg.state lives in the registry so it outlives script generations. */
	lua_rawgetp(L, LUA_REGISTRYINDEX, &STATE_KEY);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &STATE_KEY);
	}
	lua_setfield(L, -2, "state");
	return 1;
}
