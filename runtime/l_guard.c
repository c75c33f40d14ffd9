/* The one protected-call path for everything that runs Lua on the loop's
 * behalf (handlers, timers, script chunks, REPL input): a traceback on error,
 * and the watchdog. The watchdog is a count hook that checks a deadline; once
 * it fires it keeps firing on every instruction until the outermost call has
 * returned, so a pcall inside the runaway code cannot swallow it. */
#include "lrpmsg.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define HOOK_COUNT 1000   /* instructions between deadline checks */

/* Set from a SIGINT handler (rpmsg-lua -i), so it can only be a flag. */
static volatile sig_atomic_t interrupt_requested;

void rpmsg_guard_interrupt(void) { interrupt_requested = 1; }
bool rpmsg_guard_clear_interrupt(void)
{
	bool pending = interrupt_requested;
	interrupt_requested = 0;
	return pending;
}

static int message_handler(lua_State *L)
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

static struct rpmsg_runtime *runtime_of(lua_State *L)
{
	return *(struct rpmsg_runtime **)lua_getextraspace(L);
}

static void watchdog(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct rpmsg_runtime *rt = runtime_of(L);
	if (!rt || rt->depth == 0) {
		/* Back to normal after a trip: check every HOOK_COUNT again. */
		lua_sethook(L, watchdog, LUA_MASKCOUNT, HOOK_COUNT);
		return;
	}
	if (!rt->tripped) {
		if (interrupt_requested) {
			interrupt_requested = 0;   /* consumed by this chunk */
			snprintf(rt->trip, sizeof rt->trip, "interrupted!");
		} else if (rt->deadline_ms && loop_now_ms() > rt->deadline_ms) {
			snprintf(rt->trip, sizeof rt->trip,
				 "%s ran longer than %d ms and was aborted by the watchdog",
				 rt->running, rt->handler_timeout_ms);
		} else {
			return;
		}
		rt->tripped = true;
		/* From now on every instruction raises again, until the
		 * outermost call has returned. */
		lua_sethook(L, watchdog, LUA_MASKCOUNT, 1);
	}
	luaL_error(L, "%s", rt->trip);
}

void rpmsg_guard_install(lua_State *L, struct rpmsg_runtime *rt, int timeout_ms)
{
	*(struct rpmsg_runtime **)lua_getextraspace(L) = rt;
	rt->handler_timeout_ms = timeout_ms;
	/* On the main thread before any script runs: coroutines inherit it. */
	lua_sethook(L, watchdog, LUA_MASKCOUNT, HOOK_COUNT);
}

/* Only the outermost call sets the deadline: nested calls share it. */
static void guard_enter(struct rpmsg_runtime *rt, const char *what)
{
	if (rt->depth++ == 0) {
		rt->running = what;   /* lives as long as the call: copying it costs every message */
		rt->deadline_ms = rt->handler_timeout_ms ? loop_now_ms() + (uint64_t)rt->handler_timeout_ms : 0;
	}
}

static void guard_leave(struct rpmsg_runtime *rt)
{
	if (--rt->depth == 0) {
		rt->deadline_ms = 0;
		rt->tripped = false;
	}
}

int rpmsg_pcall(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, const char *what)
{
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, message_handler);
	lua_insert(L, base);
	guard_enter(rt, what);
	int status = lua_pcall(L, nargs, nresults, base);
	guard_leave(rt);
	lua_remove(L, base);
	return status;
}

static void report_error(struct rpmsg_runtime *rt, const char *what, const char *trace);

int rpmsg_resume(struct rpmsg_runtime *rt, lua_State *co, int nargs, const char *what)
{
	guard_enter(rt, what);
	int nres = 0;
	int status = lua_resume(co, rt->L, nargs, &nres);
	guard_leave(rt);
	if (status == LUA_OK || status == LUA_YIELD) {
		lua_pop(co, nres);
		return status;
	}
	const char *msg = lua_tostring(co, -1);
	luaL_traceback(rt->L, co, msg ? msg : "(error object is not a string)", 0);
	rt->handler_errors++;
	report_error(rt, what, lua_tostring(rt->L, -1));
	lua_pop(rt->L, 1);
	return status;
}

/* Under rpmsg.run{raise_errors = true} (specs, a stock lua5.4), the first
 * handler error ends the run and is raised from it instead of being logged. */
static bool raise_from_run(struct rpmsg_runtime *rt, const char *what, const char *trace)
{
	if (!rt->raise_errors || !rt->in_run)
		return false;
	if (rt->raised_ref == LUA_NOREF) {
		lua_pushfstring(rt->L, "error in %s: %s", what, trace);
		rt->raised_ref = luaL_ref(rt->L, LUA_REGISTRYINDEX);
		loop_stop(rt->loop);
	}
	return true;
}

static void report_error(struct rpmsg_runtime *rt, const char *what, const char *trace)
{
	if (raise_from_run(rt, what, trace))
		return;
	char key[sizeof rt->last_error];
	snprintf(key, sizeof key, "%s: %.*s", what, (int)strcspn(trace, "\n"), trace);
	uint64_t now = loop_now_ms();
	if (strcmp(key, rt->last_error) == 0 && now - rt->last_error_ms < 1000) {
		rt->repeats++;
		return;
	}
	if (rt->repeats)
		rpmsg_logf("(last error repeated %lu more times)", rt->repeats);
	rt->repeats = 0;
	rt->last_error_ms = now;
	snprintf(rt->last_error, sizeof rt->last_error, "%s", key);
	rpmsg_logf("error in %s: %s", what, trace);
}

bool rpmsg_call(struct rpmsg_runtime *rt, int nargs, const char *what)
{
	lua_State *L = rt->L;
	if (rpmsg_pcall(rt, L, nargs, 0, what) == LUA_OK)
		return true;
	rt->handler_errors++;
	report_error(rt, what, lua_tostring(L, -1));
	lua_pop(L, 1);
	return false;
}
