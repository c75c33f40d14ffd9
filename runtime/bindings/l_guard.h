/* SPDX-License-Identifier: MIT */
/* Private to the guard, one per runtime (rt->guard): the protected-call path
 * (l_guard.c), the watchdog's timer, signal and hook (l_watchdog.c), and the
 * coroutine functions that keep its chain of running threads (l_coroutine.c).
 * The fields a signal handler reads are volatile sig_atomic_t, written by the
 * loop's thread in an order that never leaves a call unguarded. */
#ifndef L_GUARD_H
#define L_GUARD_H

#include "lrpmsg.h"

#include <signal.h>
#include <stdint.h>
#include <time.h>

#define RPMSG_CHAIN_MAX 200    /* as deep as Lua nests C calls (LUAI_MAXCCALLS) */

enum { TRIP_NONE, TRIP_DEADLINE, TRIP_INTERRUPT };

struct rpmsg_guard {
	/* No hook runs until a guarded call overruns: a POSIX timer's signal
	 * handler then hooks the running threads. */
	int handler_timeout_ms;       /* 0: no timer at all (Ctrl-C still works) */
	int slot;                     /* our index in l_watchdog.c's table, while has_timer */
	bool has_timer;
	timer_t timer;
	volatile sig_atomic_t depth;          /* nesting of guarded calls */
	volatile sig_atomic_t deadline;       /* of the outermost call, ms, wraps at 2^32 */
	volatile sig_atomic_t timer_armed;    /* a one-shot expiry is pending */
	volatile sig_atomic_t tripped;        /* TRIP_NONE, or why the outermost call must end */
	volatile sig_atomic_t tripped_at;     /* ms (wrapping), for the grace period */
	volatile sig_atomic_t idle_interrupt; /* a Ctrl-C came while nothing ran */
	const char *volatile running;         /* what the outermost call runs */
	/* The threads running now, outermost first: the guarded call's thread,
	 * then each coroutine resumed from it. A trip hooks them all. */
	lua_State *volatile chain[RPMSG_CHAIN_MAX];
	volatile sig_atomic_t chain_len;
};

/* The guard of the runtime rpmsg_guard_install left in L's extra space
 * (a plain load: signal handlers use it), NULL if none. */
static inline struct rpmsg_guard *guard_of_thread(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime_of_thread(L);
	return rt ? rt->guard : NULL;
}

/* Time in wrapping milliseconds, which a sig_atomic_t holds. */
static inline int guard_now_ms32(void)
{
	return (int)(uint32_t)rpmsg_now_ms();   /* async-signal-safe */
}

/* ---- the chain of running threads, inline: every guarded call and resume
 * goes through them. The slot is written before the length, so the signal
 * handler never sees a length that counts an unwritten slot. */
/* Hooks L so that it raises the trip at its next instruction (l_watchdog.c). */
void rpmsg_watchdog_hook(lua_State *L);
/* After a trip: L is off the chain; unhooked unless it is still below. */
void rpmsg_guard_chain_left(struct rpmsg_guard *g, lua_State *L);

/* false: too deep */
static inline bool rpmsg_guard_chain_push(struct rpmsg_guard *g, lua_State *L)
{
	int n = g->chain_len;
	if (n == RPMSG_CHAIN_MAX)
		return false;
	g->chain[n] = L;
	g->chain_len = n + 1;
	if (g->tripped)
		rpmsg_watchdog_hook(L);
	return true;
}

static inline void rpmsg_guard_chain_pop(struct rpmsg_guard *g)
{
	int n = g->chain_len - 1;
	lua_State *L = g->chain[n];
	g->chain_len = n;
	if (g->tripped)
		rpmsg_guard_chain_left(g, L);
}

/* ---- entering and leaving a guarded call, inline: on_message does it for
 * every message (l_endpoint_batch.c). */
/* Arms the watchdog's one-shot timer for ms from now (l_watchdog.c). */
void rpmsg_watchdog_arm(struct rpmsg_guard *g, int32_t ms);

/* Only the outermost call sets the deadline: nested calls share it. The
 * deadline is written before depth says a call runs, and the timer armed
 * after: the handler either sees no call, or the call with its deadline.
 * now_ms 0: read the clock. false (nothing entered): nested too deeply. */
static inline bool rpmsg_guard_enter(struct rpmsg_guard *g, lua_State *L, const char *what, uint64_t now_ms)
{
	if (!rpmsg_guard_chain_push(g, L))
		return false;
	if (g->depth > 0) {
		g->depth = g->depth + 1;
		return true;
	}
	g->running = what;   /* lives as long as the call: copying it costs every message */
	if (g->has_timer)
		g->deadline = (int)((uint32_t)(now_ms ? now_ms : rpmsg_now_ms()) + (uint32_t)g->handler_timeout_ms);
	g->depth = 1;
	/* A steady stream of calls costs one timer syscall per timeout, not
	 * one per call: an armed timer re-arms itself for the newer call. */
	if (g->has_timer && !g->timer_armed)
		rpmsg_watchdog_arm(g, g->handler_timeout_ms);
	return true;
}

static inline void rpmsg_guard_leave(struct rpmsg_guard *g)
{
	if (g->depth > 1) {
		g->depth = g->depth - 1;
		rpmsg_guard_chain_pop(g);
		return;
	}
	g->depth = 0;   /* first: from here the handler leaves us alone */
	rpmsg_guard_chain_pop(g);
	g->tripped = TRIP_NONE;
	g->running = NULL;
}

/* Between two handlers that one guarded call runs one after the other (a
 * batch of messages): the next gets a deadline of its own from now_ms
 * (rpmsg_now_ms's clock), and a trip that came after the last one returned
 * is forgotten, as a new call would. Inside another guarded call (depth
 * above 1) its deadline rules. */
void rpmsg_guard_forget_trip(struct rpmsg_guard *g);
static inline void rpmsg_guard_renew(struct rpmsg_guard *g, uint64_t now_ms)
{
	if (g->depth != 1)
		return;
	if (g->has_timer)
		g->deadline = (int)((uint32_t)now_ms + (uint32_t)g->handler_timeout_ms);
	if (g->tripped)   /* the deadline first: the signal handler then finds no overrun */
		rpmsg_guard_forget_trip(g);
}

/* ---- l_watchdog.c */
/* The error a trip raises in L. */
int rpmsg_watchdog_raise_trip(lua_State *L, struct rpmsg_guard *g);
/* Creates the timer; false (errno says why) if it cannot. */
bool rpmsg_watchdog_start_timer(struct rpmsg_guard *g);
/* Which function is Lua's own xpcall: its handler is defused on a trip. */
void rpmsg_watchdog_know_xpcall(lua_CFunction xpcall);

#endif
