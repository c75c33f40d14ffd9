/* The one protected-call path for everything that runs Lua on the loop's
 * behalf (handlers, timers, script chunks, REPL input): a traceback on error,
 * the per-source log-flood limit, and the watchdog. The watchdog costs nothing
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

#define CHAIN_MAX (int)(sizeof ((struct rpmsg_runtime *)0)->chain / sizeof(lua_State *))
#define MAX_GUARDED 8          /* runtimes with a timer: the host has two at most */
#define TRIP_POLL_MS 100       /* after a trip: how often to look for SIGTERM */
#define MIN_GRACE_MS 1000      /* a tripped call gets at least this long to unwind */
#define ERRORS_PER_SECOND 5    /* lines per source and second; the rest are counted */

enum { TRIP_NONE, TRIP_DEADLINE, TRIP_INTERRUPT };

/* The runtimes the timer signal may name, by slot (sival_int): a signal
 * still queued for a runtime that has gone finds NULL. */
static struct rpmsg_runtime *volatile guarded[MAX_GUARDED];

static struct rpmsg_runtime *runtime_of(lua_State *L)
{
	return *(struct rpmsg_runtime **)lua_getextraspace(L);
}

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

static int raise_trip(lua_State *L, struct rpmsg_runtime *rt)
{
	if (rt->tripped == TRIP_INTERRUPT)
		return luaL_error(L, "interrupted!");
	return luaL_error(L, "%s ran longer than %d ms and was aborted by the watchdog",
			  rt->running, rt->handler_timeout_ms);
}

/* Lua's own xpcall, known by its address. */
static lua_CFunction stock_xpcall;

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
	struct rpmsg_runtime *rt = runtime_of(L);
	if (!rt || !rt->tripped) {
		/* A coroutine created while its creator was hooked inherited
		 * the hook: it goes at its first instruction. */
		lua_sethook(L, NULL, 0, 0);
		return;
	}
	defuse_message_handlers(L);
	raise_trip(L, rt);
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
static bool chain_push(struct rpmsg_runtime *rt, lua_State *L)
{
	int n = rt->chain_len;
	if (n == CHAIN_MAX)
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

static void chain_pop(struct rpmsg_runtime *rt)
{
	int n = rt->chain_len - 1;
	lua_State *L = rt->chain[n];
	rt->chain_len = n;
	/* Full speed again once it is off the chain (and not still below). */
	if (rt->tripped && !in_chain(rt, L))
		lua_sethook(L, NULL, 0, 0);
}

/* ---- the timer and its signal ----------------------------------------- */

static void arm(struct rpmsg_runtime *rt, int32_t ms)
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

static void watch(struct rpmsg_runtime *rt)
{
	int now = now_ms32();
	if (!rt->tripped) {
		int32_t left = ms_after(rt->deadline, now);
		if (left > 0) {   /* a newer call: its deadline is later */
			arm(rt, left);
			return;
		}
		rt->tripped_at = now;
		rt->tripped = TRIP_DEADLINE;
		hook_chain(rt);
		arm(rt, trip_poll_ms(rt));
		return;
	}
	int grace = rt->handler_timeout_ms > MIN_GRACE_MS ? rt->handler_timeout_ms : MIN_GRACE_MS;
	const char *stop = stop_pending();
	if (stop)
		give_up(rt, stop);
	if (ms_after(now, rt->tripped_at) >= grace)
		give_up(rt, "");
	hook_chain(rt);
	arm(rt, trip_poll_ms(rt));
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
			watch(rt);
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

static bool start_timer(struct rpmsg_runtime *rt)
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
	if (!chain_push(rt, L))
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
		arm(rt, rt->handler_timeout_ms);
	return true;
}

static void guard_leave(struct rpmsg_runtime *rt)
{
	if (rt->depth > 1) {
		rt->depth = rt->depth - 1;
		chain_pop(rt);
		return;
	}
	rt->depth = 0;   /* first: from here the handler leaves us alone */
	chain_pop(rt);
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

int rpmsg_pcall(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, const char *what)
{
	if (!guard_enter(rt, L, what)) {
		lua_pop(L, nargs + 1);
		return refuse_deep_nesting(L);
	}
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, message_handler);
	lua_insert(L, base);
	int status = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	guard_leave(rt);
	return status;
}

static void report_error(struct rpmsg_runtime *rt, const char *what, const char *trace);

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
	report_error(rt, what, lua_tostring(rt->L, -1));
	lua_pop(rt->L, 1);
	return status;
}

/* ---- coroutine.resume and coroutine.wrap, reachable -------------------- */

/* lua_resume of co from L with the chain kept: a trip hooks co while it runs,
 * and is raised again in L when co returns. Returns what lcorolib's resume
 * does: the number of results moved to L, or -1 with the error on L. */
static int resume_in_chain(lua_State *L, lua_State *co, int nargs, bool close_on_error,
			   int *status_out)
{
	struct rpmsg_runtime *rt = runtime_of(L);
	bool tracked = rt && rt->depth > 0;
	if (tracked && rt->chain_len == CHAIN_MAX)
		return luaL_error(L, "coroutines nested too deeply for the watchdog");
	*status_out = LUA_ERRRUN;
	if (!lua_checkstack(co, nargs)) {
		lua_pushliteral(L, "too many arguments to resume");
		return -1;
	}
	lua_xmove(L, co, nargs);
	if (tracked)
		chain_push(rt, co);
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
		chain_pop(rt);
	if (tracked && rt->tripped)
		return raise_trip(L, rt);
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

static int guarded_resume(lua_State *L)
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

static int wrapped_call(lua_State *L)
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

static int guarded_wrap(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_State *co = lua_newthread(L);
	lua_pushvalue(L, 1);
	lua_xmove(L, co, 1);
	lua_pushcclosure(L, wrapped_call, 1);
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
	replace_field(L, "coroutine", "resume", guarded_resume);
	replace_field(L, "coroutine", "wrap", guarded_wrap);
	lua_getglobal(L, "xpcall");
	stock_xpcall = lua_tocfunction(L, -1);
	lua_pop(L, 1);
}

void rpmsg_guard_install(lua_State *L, struct rpmsg_runtime *rt, int timeout_ms)
{
	*(struct rpmsg_runtime **)lua_getextraspace(L) = rt;   /* coroutines copy it */
	rt->handler_timeout_ms = timeout_ms;
	replace_functions(L);
	if (timeout_ms > 0 && !rt->has_timer && !start_timer(rt))
		rpmsg_logf("watchdog: cannot start its timer (%s); handlers run without a time limit",
			   strerror(errno));
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

/* ---- errors: raised from run, or logged under a per-source limit ------- */

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

static void report_unlogged(struct rpmsg_error_source *s)
{
	if (s->unlogged)
		rpmsg_logf("(error in %s repeated %lu more times, not logged: at most %d a second are)",
			   s->what, s->unlogged, ERRORS_PER_SECOND);
	s->unlogged = 0;
}

/* The record of this source, or the least recently used one, reported and
 * taken over. */
static struct rpmsg_error_source *error_source(struct rpmsg_runtime *rt, const char *what)
{
	struct rpmsg_error_source *oldest = &rt->error_sources[0];
	size_t n = sizeof rt->error_sources / sizeof rt->error_sources[0];
	for (size_t i = 0; i < n; i++) {
		struct rpmsg_error_source *s = &rt->error_sources[i];
		if (strncmp(s->what, what, sizeof s->what - 1) == 0)
			return s;
		if (s->window_ms < oldest->window_ms)
			oldest = s;
	}
	report_unlogged(oldest);
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->what, sizeof oldest->what, "%s", what);
	return oldest;
}

static void report_error(struct rpmsg_runtime *rt, const char *what, const char *trace)
{
	if (raise_from_run(rt, what, trace))
		return;
	struct rpmsg_error_source *s = error_source(rt, what);
	uint64_t now = rpmsg_now_ms();
	if (now - s->window_ms >= 1000) {
		report_unlogged(s);
		s->window_ms = now;
		s->logged = 0;
	}
	if (s->logged == ERRORS_PER_SECOND) {
		s->unlogged++;
		rt->errors_not_logged++;
		return;
	}
	s->logged++;
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

void rpmsg_guard_close(struct rpmsg_runtime *rt)
{
	for (size_t i = 0; i < sizeof rt->error_sources / sizeof rt->error_sources[0]; i++)
		report_unlogged(&rt->error_sources[i]);
	if (rt->has_timer) {
		timer_delete(rt->timer);
		guarded[rt->guard_slot] = NULL;
		rt->has_timer = false;
	}
}
