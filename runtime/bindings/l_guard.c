/* SPDX-License-Identifier: MIT */
/* The one protected-call path for everything that runs Lua on the loop's
 * behalf (handlers, timers, script chunks, REPL input): a traceback on error,
 * reported through l_errors.c, and the watchdog. The watchdog costs nothing
 * while calls end in time: no hook is installed. A POSIX timer, armed lazily,
 * signals when the outermost call's deadline may have passed; its handler
 * (like lua.c's SIGINT handler) hooks the running threads, and the hook keeps
 * raising until the outermost call has returned. */
#include "lrpmsg.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define MAX_GUARDED 8          /* runtimes with a timer: the host has two at most */
#define TRIP_POLL_MS 100       /* after a trip: how often to look for SIGTERM */
#define MIN_GRACE_MS 1000      /* a tripped call gets at least this long to unwind */

enum { TRIP_NONE, TRIP_DEADLINE, TRIP_INTERRUPT };

/* The runtimes the timer signal may name, by slot (sival_int): a signal
 * still queued for a runtime that has gone finds NULL. */
static struct rpmsg_runtime *volatile guarded[MAX_GUARDED];

/* ---- time, in wrapping milliseconds (a sig_atomic_t holds it) ---------- */

static int now_ms32(void)
{
	return (int)(uint32_t)rpmsg_now_ms();   /* async-signal-safe */
}

static int32_t ms_after(int later, int earlier)
{
	return (int32_t)((uint32_t)later - (uint32_t)earlier);
}

/* ---- the hook: installed only on a trip ------------------------------- */

int rpmsg_guard_raise_trip(lua_State *L, struct rpmsg_runtime *rt)
{
	if (rt->tripped == TRIP_INTERRUPT)
		return luaL_error(L, "interrupted!");
	return luaL_error(L, "%s ran longer than %d ms and was aborted by the watchdog",
			  rt->running, rt->handler_timeout_ms);
}

/* Lua's own xpcall, known by its address. */
static lua_CFunction stock_xpcall;

void rpmsg_guard_know_xpcall(lua_CFunction xpcall) { stock_xpcall = xpcall; }

static int pass_error_on(lua_State *L)
{
	lua_settop(L, 1);
	return 1;
}

/* An error raised from a hook calls the innermost message handler with
 * hooks off, so a runaway xpcall handler could never be stopped. Before the
 * hook raises, every xpcall frame on L gets a handler that passes the error
 * on: xpcall keeps its handler in its second stack slot, which the debug
 * API can write ("(C temporary)"). */
static void defuse_message_handlers(lua_State *L)
{
	lua_Debug ar;
	for (int level = 0; stock_xpcall && lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "f", &ar);
		bool is_xpcall = lua_tocfunction(L, -1) == stock_xpcall;
		lua_pop(L, 1);
		if (!is_xpcall)
			continue;
		lua_pushcfunction(L, pass_error_on);
		if (!lua_setlocal(L, &ar, 2))
			lua_pop(L, 1);
	}
}

static void trip_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct rpmsg_runtime *rt = rpmsg_runtime_of_thread(L);
	if (!rt || !rt->tripped) {
		/* A coroutine created while its creator was hooked inherited
		 * the hook: it goes at its first instruction. */
		lua_sethook(L, NULL, 0, 0);
		return;
	}
	defuse_message_handlers(L);
	rpmsg_guard_raise_trip(L, rt);
}

static void hook(lua_State *L)
{
	lua_sethook(L, trip_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* Signal-safe: lua_sethook only stores into the state. */
static void hook_chain(struct rpmsg_runtime *rt)
{
	for (int i = 0; i < rt->chain_len; i++)
		hook(rt->chain[i]);
}

/* ---- the chain of running threads ------------------------------------- */

/* The slot is written before the length, so the signal handler never sees
 * a length that counts an unwritten slot. */
bool rpmsg_guard_chain_push(struct rpmsg_runtime *rt, lua_State *L)
{
	int n = rt->chain_len;
	if (n == RPMSG_CHAIN_MAX)
		return false;
	rt->chain[n] = L;
	rt->chain_len = n + 1;
	if (rt->tripped)
		hook(L);
	return true;
}

static bool in_chain(struct rpmsg_runtime *rt, lua_State *L)
{
	for (int i = 0; i < rt->chain_len; i++)
		if (rt->chain[i] == L)
			return true;
	return false;
}

void rpmsg_guard_chain_pop(struct rpmsg_runtime *rt)
{
	int n = rt->chain_len - 1;
	lua_State *L = rt->chain[n];
	rt->chain_len = n;
	/* Full speed again once it is off the chain (and not still below). */
	if (rt->tripped && !in_chain(rt, L))
		lua_sethook(L, NULL, 0, 0);
}

/* ---- the timer and its signal ----------------------------------------- */

static void guard_arm(struct rpmsg_runtime *rt, int32_t ms)
{
	if (ms < 1)
		ms = 1;   /* a zero it_value would disarm */
	struct itimerspec it = { .it_value = { .tv_sec = ms / 1000,
					       .tv_nsec = (long)(ms % 1000) * 1000000L } };
	rt->timer_armed = 1;
	timer_settime(rt->timer, 0, &it, NULL);
}

static void write_str(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* nowhere left to say it */
	}
}

/* Lua cannot interrupt what runs now (finalizers run with hooks off): the
 * process cannot be recovered from Lua. Say so, destroy what we created,
 * and exit with a status the service manager restarts on. */
static void give_up(struct rpmsg_runtime *rt, const char *why)
{
	write_str("watchdog: ");
	write_str(rt->running ? rt->running : "a call");
	write_str(" is stuck where Lua cannot interrupt it (a __gc finalizer?)");
	write_str(why);
	write_str("; exiting\n");
	rpmsg_destroy_created_from_signal();
	_exit(RPMSG_EXIT_STUCK);
}

/* A stop signal that a stuck call keeps the loop from acting on: taken by
 * the loop's own handler (loop_stop_on_signal), or still blocked and
 * pending where nobody installed one. */
static const char *stop_pending(void)
{
	int signo = loop_stop_signal_pending();
	sigset_t pending;
	if (!signo && sigpending(&pending) == 0)
		signo = sigismember(&pending, SIGTERM) ? SIGTERM
		      : sigismember(&pending, SIGINT) ? SIGINT : 0;
	if (signo == SIGTERM)
		return " and SIGTERM came";
	if (signo == SIGINT)
		return " and SIGINT came";
	return NULL;
}

/* After a trip: look again soon, for SIGTERM, for the end of the grace
 * period, and for the next call's deadline. */
static int32_t trip_poll_ms(const struct rpmsg_runtime *rt)
{
	return rt->handler_timeout_ms < TRIP_POLL_MS ? rt->handler_timeout_ms : TRIP_POLL_MS;
}

static void guard_watch(struct rpmsg_runtime *rt)
{
	int now = now_ms32();
	if (!rt->tripped) {
		int32_t left = ms_after(rt->deadline, now);
		if (left > 0) {   /* a newer call: its deadline is later */
			guard_arm(rt, left);
			return;
		}
		rt->tripped_at = now;
		rt->tripped = TRIP_DEADLINE;
		hook_chain(rt);
		guard_arm(rt, trip_poll_ms(rt));
		return;
	}
	int grace = rt->handler_timeout_ms > MIN_GRACE_MS ? rt->handler_timeout_ms : MIN_GRACE_MS;
	const char *stop = stop_pending();
	if (stop)
		give_up(rt, stop);
	if (ms_after(now, rt->tripped_at) >= grace)
		give_up(rt, "");
	hook_chain(rt);
	guard_arm(rt, trip_poll_ms(rt));
}

static void on_timer_signal(int signo, siginfo_t *si, void *uc)
{
	(void)signo;
	(void)uc;
	int saved = errno;
	int slot = si->si_value.sival_int;
	struct rpmsg_runtime *rt = slot >= 0 && slot < MAX_GUARDED ? guarded[slot] : NULL;
	if (rt) {
		rt->timer_armed = 0;
		if (rt->depth > 0)
			guard_watch(rt);
		/* else nothing runs: stay disarmed until the next call */
	}
	errno = saved;
}

static int timer_signal(void)
{
	return SIGRTMIN;
}

static bool install_signal_handler(void)
{
	static bool installed;
	if (installed)
		return true;
	struct sigaction sa = { .sa_sigaction = on_timer_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigemptyset(&sa.sa_mask);
	if (sigaction(timer_signal(), &sa, NULL) < 0)
		return false;
	installed = true;
	return true;
}

static bool take_slot(struct rpmsg_runtime *rt)
{
	for (int i = 0; i < MAX_GUARDED; i++)
		if (!guarded[i]) {
			guarded[i] = rt;
			rt->guard_slot = i;
			return true;
		}
	return false;
}

bool rpmsg_guard_start_timer(struct rpmsg_runtime *rt)
{
	if (!install_signal_handler() || !take_slot(rt))
		return false;
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = timer_signal() };
	ev.sigev_value.sival_int = rt->guard_slot;
	ev.sigev_notify_thread_id = gettid();   /* the loop's thread: it runs the calls */
	if (timer_create(CLOCK_MONOTONIC, &ev, &rt->timer) < 0) {
		guarded[rt->guard_slot] = NULL;
		rt->guard_slot = -1;
		return false;
	}
	rt->has_timer = true;
	return true;
}

/* ---- guarded calls ---------------------------------------------------- */

/* Only the outermost call sets the deadline: nested calls share it. The
 * deadline is written before depth says a call runs, and the timer armed
 * after: the handler either sees no call, or the call with its deadline. */
static bool guard_enter(struct rpmsg_runtime *rt, lua_State *L, const char *what)
{
	if (!rpmsg_guard_chain_push(rt, L))
		return false;
	if (rt->depth > 0) {
		rt->depth = rt->depth + 1;
		return true;
	}
	rt->running = what;   /* lives as long as the call: copying it costs every message */
	if (rt->has_timer)
		rt->deadline = (int)((uint32_t)now_ms32() + (uint32_t)rt->handler_timeout_ms);
	rt->depth = 1;
	/* A steady stream of calls costs one timer syscall per timeout, not
	 * one per call: an armed timer re-arms itself for the newer call. */
	if (rt->has_timer && !rt->timer_armed)
		guard_arm(rt, rt->handler_timeout_ms);
	return true;
}

static void guard_leave(struct rpmsg_runtime *rt)
{
	if (rt->depth > 1) {
		rt->depth = rt->depth - 1;
		rpmsg_guard_chain_pop(rt);
		return;
	}
	rt->depth = 0;   /* first: from here the handler leaves us alone */
	rpmsg_guard_chain_pop(rt);
	rt->tripped = TRIP_NONE;
	rt->running = NULL;
}

static int refuse_deep_nesting(lua_State *L)
{
	lua_pushliteral(L, "calls and coroutines nested too deeply for the watchdog");
	return LUA_ERRRUN;
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

void rpmsg_push_message_handler(lua_State *L)
{
	lua_pushcfunction(L, message_handler);
}

int rpmsg_pcall_at(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, int msgh,
		   const char *what)
{
	if (!guard_enter(rt, L, what)) {
		lua_pop(L, nargs + 1);
		return refuse_deep_nesting(L);
	}
	int status = lua_pcall(L, nargs, nresults, msgh);
	guard_leave(rt);
	return status;
}

int rpmsg_pcall(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, const char *what)
{
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, message_handler);
	lua_insert(L, base);
	int status = rpmsg_pcall_at(rt, L, nargs, nresults, base, what);
	lua_remove(L, base);
	return status;
}

int rpmsg_resume(struct rpmsg_runtime *rt, lua_State *co, int nargs, const char *what)
{
	int nres = 0;
	int status;
	if (guard_enter(rt, co, what)) {
		status = lua_resume(co, rt->L, nargs, &nres);
		guard_leave(rt);
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

bool rpmsg_guard_interrupt(struct rpmsg_runtime *rt)
{
	if (rt->depth == 0) {
		rt->idle_interrupt = 1;
		return false;
	}
	if (!rt->tripped) {
		rt->tripped_at = now_ms32();
		rt->tripped = TRIP_INTERRUPT;
	}
	hook_chain(rt);
	return true;
}

bool rpmsg_guard_clear_interrupt(struct rpmsg_runtime *rt)
{
	bool pending = rt->idle_interrupt;
	rt->idle_interrupt = 0;
	return pending;
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

void rpmsg_guard_close(struct rpmsg_runtime *rt)
{
	if (rt->has_timer) {
		timer_delete(rt->timer);
		guarded[rt->guard_slot] = NULL;
		rt->has_timer = false;
	}
}
