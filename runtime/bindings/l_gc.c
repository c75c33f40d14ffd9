/* SPDX-License-Identifier: MIT */
/* The collector between wake-ups. Lua's collector takes a step
 * whenever allocation passes its credit, which is usually in a handler,
 * in the middle of a message. Before the loop waits again, this takes the
 * step the next EARLY_KIB of allocation would have triggered, so that it
 * runs after the replies went out: the debt is raised by EARLY_KIB (a step
 * runs if that makes it due, leaving a fresh credit) and lowered by as
 * much again (it stays as it was if no step ran). The pace of the
 * collector stays Lua's; it only moves. A loop too busy to wait still
 * collects in its handlers, so memory stays bounded either way. The same
 * holds in either mode: in the generational one the step is a minor
 * collection. */
#include "lrpmsg.h"

#define EARLY_KIB 4
/* Looking costs about 60 instructions (lua_gc is a varargs call), a third
 * of a message's own work in C: every LOOK_EVERY wake-ups is enough while
 * they allocate less than EARLY_KIB / 2 / LOOK_EVERY each (a handler that
 * answers a 64-byte message allocates about 100 bytes); one that
 * allocates more takes its steps in handlers as Lua would. */
#define LOOK_EVERY 4

/* Out of line, so that the wake-ups that do not look pay no stack frame. */
static __attribute__((noinline)) void look_at_heap(struct rpmsg_runtime *rt)
{
	rt->gc_wakeups = 0;
	lua_State *L = rt->L;
	if (rt->closed)
		return;
	int kib = lua_gc(L, LUA_GCCOUNT);
	if (kib < rt->gc_kib)
		rt->gc_kib = kib;   /* collected since: the next step is far */
	/* A try that took no step showed the next one more than EARLY_KIB
	 * away, so trying again after half of that still finds it early. */
	if (kib - rt->gc_kib < EARLY_KIB / 2)
		return;
	rt->gc_kib = kib;
	if (!lua_gc(L, LUA_GCISRUNNING))
		return;   /* collectgarbage("stop") is the script's to undo */
	lua_gc(L, LUA_GCSTEP, EARLY_KIB);
	lua_gc(L, LUA_GCSTEP, -EARLY_KIB);
}

static void step_before_wait(void *ctx)
{
	struct rpmsg_runtime *rt = ctx;
	if (++rt->gc_wakeups >= LOOK_EVERY)
		look_at_heap(rt);
}

/* Under the host, the state runs Lua's generational collector, as lua.c
 * sets for a stock lua5.4's scripts: a handler's garbage (the message
 * string first) dies young, and a minor collection frees it without the
 * incremental collector's marking of the whole heap each cycle (about 60
 * instructions fewer per message). Set before the script runs, so that
 * collectgarbage("incremental") in it stays its choice. In a stock lua5.4
 * the mode is the interpreter's and its script's, never the module's. */
void rpmsg_gc_idle_start(struct rpmsg_runtime *rt)
{
	if (rt->hosted)
		lua_gc(rt->L, LUA_GCGEN, 0, 0);
	loop_set_before_wait(rt->loop, step_before_wait, rt);
}

void rpmsg_gc_idle_stop(struct rpmsg_runtime *rt)
{
	if (rt->loop)
		loop_set_before_wait(rt->loop, NULL, NULL);
}
