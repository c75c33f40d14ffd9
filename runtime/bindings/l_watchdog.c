/* SPDX-License-Identifier: MIT */
/* The watchdog. It costs nothing while calls end in time: no hook is
 * installed. A POSIX timer, armed lazily, signals when the outermost call's
 * deadline may have passed; its handler (like lua.c's SIGINT handler) hooks
 * the running threads, and the hook keeps raising until the outermost call
 * has returned. A call Lua cannot interrupt ends the process. */
#include "l_guard.h"

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

/* The guards the timer signal may name, by slot (sival_int): a signal
 * still queued for a runtime that has gone finds NULL. */
static struct rpmsg_guard *volatile guarded[MAX_GUARDED];

static int32_t ms_after(int later, int earlier)
{
	return (int32_t)((uint32_t)later - (uint32_t)earlier);
}

/* ---- the hook: installed only on a trip ------------------------------- */

int rpmsg_watchdog_raise_trip(lua_State *L, struct rpmsg_guard *g)
{
	if (g->tripped == TRIP_INTERRUPT)
		return luaL_error(L, "interrupted!");
	return luaL_error(L, "%s ran longer than %d ms and was aborted by the watchdog",
			  g->running, g->handler_timeout_ms);
}

/* Lua's own xpcall, known by its address. */
static lua_CFunction stock_xpcall;

void rpmsg_watchdog_know_xpcall(lua_CFunction xpcall) { stock_xpcall = xpcall; }

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
	struct rpmsg_guard *g = guard_of_thread(L);
	if (!g || !g->tripped) {
		/* A coroutine created while its creator was hooked inherited
		 * the hook: it goes at its first instruction. */
		lua_sethook(L, NULL, 0, 0);
		return;
	}
	defuse_message_handlers(L);
	rpmsg_watchdog_raise_trip(L, g);
}

void rpmsg_watchdog_hook(lua_State *L)
{
	lua_sethook(L, trip_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* Signal-safe: lua_sethook only stores into the state. */
static void hook_chain(struct rpmsg_guard *g)
{
	for (int i = 0; i < g->chain_len; i++)
		rpmsg_watchdog_hook(g->chain[i]);
}

/* ---- the timer and its signal ----------------------------------------- */

void rpmsg_watchdog_arm(struct rpmsg_guard *g, int32_t ms)
{
	if (ms < 1)
		ms = 1;   /* a zero it_value would disarm */
	struct itimerspec it = { .it_value = { .tv_sec = ms / 1000,
					       .tv_nsec = (long)(ms % 1000) * 1000000L } };
	g->timer_armed = 1;
	timer_settime(g->timer, 0, &it, NULL);
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
static void give_up(struct rpmsg_guard *g, const char *why)
{
	write_str("watchdog: ");
	write_str(g->running ? g->running : "a call");
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
static int32_t trip_poll_ms(const struct rpmsg_guard *g)
{
	return g->handler_timeout_ms < TRIP_POLL_MS ? g->handler_timeout_ms : TRIP_POLL_MS;
}

static void guard_watch(struct rpmsg_guard *g)
{
	int now = guard_now_ms32();
	if (!g->tripped) {
		int32_t left = ms_after(g->deadline, now);
		if (left > 0) {   /* a newer call: its deadline is later */
			rpmsg_watchdog_arm(g, left);
			return;
		}
		g->tripped_at = now;
		g->tripped = TRIP_DEADLINE;
		hook_chain(g);
		rpmsg_watchdog_arm(g, trip_poll_ms(g));
		return;
	}
	int grace = g->handler_timeout_ms > MIN_GRACE_MS ? g->handler_timeout_ms : MIN_GRACE_MS;
	const char *stop = stop_pending();
	if (stop)
		give_up(g, stop);
	if (ms_after(now, g->tripped_at) >= grace)
		give_up(g, "");
	hook_chain(g);
	rpmsg_watchdog_arm(g, trip_poll_ms(g));
}

static void on_timer_signal(int signo, siginfo_t *si, void *uc)
{
	(void)signo;
	(void)uc;
	int saved = errno;
	int slot = si->si_value.sival_int;
	struct rpmsg_guard *g = slot >= 0 && slot < MAX_GUARDED ? guarded[slot] : NULL;
	if (g) {
		g->timer_armed = 0;
		if (g->depth > 0)
			guard_watch(g);
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

static bool take_slot(struct rpmsg_guard *g)
{
	for (int i = 0; i < MAX_GUARDED; i++)
		if (!guarded[i]) {
			guarded[i] = g;
			g->slot = i;
			return true;
		}
	return false;
}

bool rpmsg_watchdog_start_timer(struct rpmsg_guard *g)
{
	if (!install_signal_handler() || !take_slot(g))
		return false;
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = timer_signal() };
	ev.sigev_value.sival_int = g->slot;
	ev.sigev_notify_thread_id = gettid();   /* the loop's thread: it runs the calls */
	if (timer_create(CLOCK_MONOTONIC, &ev, &g->timer) < 0) {
		guarded[g->slot] = NULL;
		g->slot = -1;
		return false;
	}
	g->has_timer = true;
	return true;
}

void rpmsg_guard_close(struct rpmsg_runtime *rt)
{
	struct rpmsg_guard *g = rt->guard;
	if (g->has_timer) {
		timer_delete(g->timer);
		guarded[g->slot] = NULL;
		g->has_timer = false;
	}
}

/* ---- Ctrl-C ------------------------------------------------------------- */

bool rpmsg_guard_interrupt(struct rpmsg_runtime *rt)
{
	struct rpmsg_guard *g = rt->guard;
	if (g->depth == 0) {
		g->idle_interrupt = 1;
		return false;
	}
	if (!g->tripped) {
		g->tripped_at = guard_now_ms32();
		g->tripped = TRIP_INTERRUPT;
	}
	hook_chain(g);
	return true;
}

bool rpmsg_guard_clear_interrupt(struct rpmsg_runtime *rt)
{
	struct rpmsg_guard *g = rt->guard;
	bool pending = g->idle_interrupt;
	g->idle_interrupt = 0;
	return pending;
}
