/* SPDX-License-Identifier: MIT */
/* The loop inside one protected call. on_message runs with lua_call, so a
 * wake-up pays no lua_pcall of its own: a handler's error unwinds to the one
 * lua_pcall here. Its message handler, at the error site, makes the
 * traceback and notes the running batch; once lua_pcall has returned the
 * failure is reported from that note, the guard is set back, and the loop
 * goes on with the rest of the wake-up (loop_resume), the failed handler's
 * endpoint first, with the messages its batch has left. */
#include "l_endpoint.h"
#include "log.h"
#include "lrpmsg_host.h"

#include <errno.h>

/* At the error site: the traceback, and a note of the running handler's
 * batch (its messages left, its start), which is gone after the unwinding.
 * No report here: this function is the current message handler for every
 * error raised below the loop's lua_pcall, also for one that never reaches
 * it (load() catches its reader's error under the message handler in force,
 * lua_load keeping L->errfunc), so a handler that caught it and went on
 * would be reported and counted as failed. The report is made once the
 * lua_pcall returned with the error (handler_error_reported). */
static int loop_message_handler(lua_State *L)
{
	struct rpmsg_runtime *rt = lua_touserdata(L, lua_upvalueindex(1));
	struct batch *b = rt->running_batch;
	if (b) {   /* first: a message handler that fails still leaves its note */
		rt->handler_failed = true;
		rt->failed_left = b->left;
		rt->failed_started_ns = b->started_ns;
	}
	rpmsg_message_handler(L);
	return 1;
}

/* After lua_pcall failed: true if it was a handler's error, reported now.
 * The batch was on the C stack that was unwound: its endpoint, alive while
 * nothing is allocated, and the message handler's note of it are left (no
 * note if the message handler never ran: a memory error). The note may be
 * from an error caught earlier in the same handler's batch (a larger
 * `left`: at most a batch more is read in this wake-up). Its next messages
 * are dispatched when the loop resumes. The guard is set back either way;
 * the error value stays on top. */
static bool handler_error_reported(struct rpmsg_runtime *rt, lua_State *L, const struct rpmsg_guard_mark *m)
{
	rpmsg_guard_unwind(rt, m);
	bool noted = rt->handler_failed;
	rt->handler_failed = false;
	if (!rt->running_batch)
		return false;
	rt->running_batch = NULL;
	const char *msg = lua_tostring(L, -1);
	rpmsg_endpoint_handler_failed(rt->running_le, noted ? rt->failed_started_ns : rt->handled_ns,
				      noted ? rt->failed_left : 0, msg ? msg : "(error object is not a string)");
	return true;
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
