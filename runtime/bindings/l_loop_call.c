/* SPDX-License-Identifier: MIT */
/* The loop inside one protected call. on_message runs with lua_call, so a
 * wake-up pays no lua_pcall of its own: a handler's error unwinds to the one
 * lua_pcall here, whose message handler reports it at the error site, where
 * the endpoint and its message are still alive; then the guard is set back
 * and the loop goes on with the rest of the wake-up (loop_resume), the
 * failed handler's endpoint first, with the messages its batch has left. */
#include "l_endpoint.h"
#include "log.h"
#include "lrpmsg_host.h"

#include <errno.h>

/* At the error site: the traceback, and a running handler's failure
 * reported from its record (counted once: the record is taken). */
static int loop_message_handler(lua_State *L)
{
	struct rpmsg_runtime *rt = lua_touserdata(L, lua_upvalueindex(1));
	rpmsg_message_handler(L);
	struct batch *b = rt->running_batch;
	if (b) {
		rt->running_batch = NULL;
		rt->handler_failed = true;   /* first: a report that fails still resumes */
		rpmsg_endpoint_handler_failed(b->le, b->started_ns, b->left, lua_tostring(L, -1));
	}
	return 1;
}

/* After lua_pcall failed: true if it was a handler's error, reported now
 * if the message handler never ran (a memory error, an error in the
 * message handler). The batch was on the C stack that was unwound: only its
 * endpoint, alive while nothing is allocated, is known; its next messages
 * wait for the next wake-up. The guard is set back either way; the error
 * value stays on top. */
static bool handler_error_reported(struct rpmsg_runtime *rt, lua_State *L, const struct rpmsg_guard_mark *m)
{
	rpmsg_guard_unwind(rt, m);
	if (rt->running_batch) {
		rt->running_batch = NULL;
		const char *msg = lua_tostring(L, -1);
		rpmsg_endpoint_handler_failed(rt->running_le, rt->handled_ns, 0,
					      msg ? msg : "(error object is not a string)");
		return true;
	}
	bool failed = rt->handler_failed;
	rt->handler_failed = false;
	return failed;
}

struct loop_call {
	struct rpmsg_runtime *rt;
	bool resuming;
	int result;
};

static int run_loop(lua_State *L)
{
	struct loop_call *c = lua_touserdata(L, 1);
	c->result = c->resuming ? loop_resume(c->rt->loop, true) : loop_run(c->rt->loop);
	return 0;
}

int rpmsg_loop_call(struct rpmsg_runtime *rt, bool *raised)
{
	lua_State *L = rt->L;
	struct loop_call c = { rt, false, 0 };
	struct rpmsg_guard_mark m;
	rpmsg_guard_mark(rt, &m);
	bool outer = rt->loop_protected;
	rt->loop_protected = true;
	*raised = false;
	int base = lua_gettop(L);
	lua_pushlightuserdata(L, rt);
	lua_pushcclosure(L, loop_message_handler, 1);
	for (;;) {
		lua_pushcfunction(L, run_loop);
		lua_pushlightuserdata(L, &c);
		if (lua_pcall(L, 1, 0, base + 1) == LUA_OK)
			break;
		if (!handler_error_reported(rt, L, &m)) {
			loop_abandon(rt->loop);
			*raised = true;
			break;
		}
		lua_pop(L, 1);
		c.resuming = true;
	}
	rt->loop_protected = outer;
	lua_remove(L, base + 1);
	return c.result;
}

struct dispatch_call {
	void (*fn)(void *ud);
	void *ud;
};

static int run_dispatch(lua_State *L)
{
	struct dispatch_call *d = lua_touserdata(L, 1);
	d->fn(d->ud);
	return 0;
}

void rpmsg_protected_dispatch(struct rpmsg_runtime *rt, void (*fn)(void *ud), void *ud)
{
	lua_State *L = rt->L;
	struct dispatch_call d = { fn, ud };
	struct rpmsg_guard_mark m;
	rpmsg_guard_mark(rt, &m);
	lua_pushlightuserdata(L, rt);
	lua_pushcclosure(L, loop_message_handler, 1);
	lua_pushcfunction(L, run_dispatch);
	lua_pushlightuserdata(L, &d);
	/* After a handler's error, again: dispatch() goes on with the rest. */
	while (lua_pcall(L, 1, 0, -3) != LUA_OK) {
		if (!handler_error_reported(rt, L, &m))
			lua_error(L);   /* no handler's: as if no protected call were here */
		lua_pop(L, 1);
		lua_pushcfunction(L, run_dispatch);
		lua_pushlightuserdata(L, &d);
	}
	lua_pop(L, 1);
}

int rpmsg_host_loop_run(lua_State *L, struct loop *loop)
{
	struct rpmsg_runtime *rt = rpmsg_runtime_of_thread(L);
	if (!rt || rt->closed || rt->loop != loop || rt->L != L)
		return loop_run(loop);
	bool raised;
	int r = rpmsg_loop_call(rt, &raised);
	if (raised) {
		const char *msg = lua_tostring(L, -1);
		rpmsg_log(RPMSG_LOG_ERR, "error in the event loop: %s", msg ? msg : "(not a string)");
		lua_pop(L, 1);
		return -EIO;
	}
	return r;
}
