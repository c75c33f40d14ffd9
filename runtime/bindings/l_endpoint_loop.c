/* SPDX-License-Identifier: MIT */
/* The endpoint's loop side: once it has an on_message, on_close or on_flow
 * field (or a task waits in ep:receive) the loop watches its fd and
 * dispatches each message, to the first waiting task or to on_message; the
 * end of the endpoint wakes its waiters and fires on_close; an endpoint
 * whose remote went is made again when the remote comes back. */
#include "l_observe.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define DISPATCH_BATCH 64       /* messages per wakeup, so one busy endpoint cannot starve others */
#define PROBE_EVERY 16          /* a lone reader tries a whole batch every this many wake-ups */

#define FROM_IO(p) ((struct lendpoint *)((char *)(p) - offsetof(struct lendpoint, io)))

static void receive_timed_out(struct ltask *t, void *ctx);

/* Calls handler `name` of the endpoint at idx with the nargs values on top
 * and the endpoint after them; drops the values when there is no handler. */
static void call_handler(lua_State *L, int idx, struct lendpoint *le, const char *name, int nargs)
{
	if (endpoint_get_field(L, idx, name) != LUA_TFUNCTION) {
		lua_pop(L, 1 + nargs);
		return;
	}
	lua_insert(L, -1 - nargs);
	lua_pushvalue(L, idx);
	char what[96];
	snprintf(what, sizeof what, "%s of endpoint '%.64s'", name, rpmsg_endpoint_label(le));
	rpmsg_call(le->rt, nargs + 1, what);
}

/* Drops the waiters no longer blocked in this endpoint's receive (a task
 * cancelled, or resumed by anything else): they must never be given a
 * message. Returns how many still wait, in their order. */
lua_Integer rpmsg_endpoint_waiters(lua_State *L, int idx, struct lendpoint *le)
{
	if (le->waiting == 0)   /* the message path's case: no list to walk */
		return 0;
	lua_getiuservalue(L, idx, WAITERS);
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1), kept = 0;
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		struct ltask *t = lua_touserdata(L, -1);
		if (t && rpmsg_task_waits_in(t, receive_timed_out, le))
			lua_rawseti(L, -2, ++kept);
		else
			lua_pop(L, 1);
	}
	for (lua_Integer i = kept + 1; i <= n; i++) {
		lua_pushnil(L);
		lua_rawseti(L, -2, i);
	}
	lua_pop(L, 1);
	le->waiting = (unsigned)kept;
	return kept;
}

/* Removes entry i of the waiting list at `list` (n entries long), keeping
 * the order of the others. */
static void remove_waiter(lua_State *L, struct lendpoint *le, int list, lua_Integer i, lua_Integer n)
{
	le->waiting--;
	for (; i < n; i++) {
		lua_rawgeti(L, list, i + 1);
		lua_rawseti(L, list, i);
	}
	lua_pushnil(L);
	lua_rawseti(L, list, n);
}

/* Takes the first task waiting in ep:receive out of the list, pushing its
 * userdata; NULL (nothing pushed) when none waits. */
static struct ltask *pop_waiter(lua_State *L, int idx, struct lendpoint *le)
{
	lua_Integer n = rpmsg_endpoint_waiters(L, idx, le);
	if (n == 0)
		return NULL;
	lua_getiuservalue(L, idx, WAITERS);
	lua_rawgeti(L, -1, 1);
	remove_waiter(L, le, lua_absindex(L, -2), 1, n);
	lua_remove(L, -2);
	return lua_touserdata(L, -1);
}

/* Resumes every waiting task with nil, reason, "EPIPE". */
static void wake_waiters(lua_State *L, int idx, struct lendpoint *le, const char *reason)
{
	struct ltask *t;
	while ((t = pop_waiter(L, idx, le))) {
		rpmsg_task_unblock(t);
		lua_State *co = rpmsg_task_thread(t);
		lua_pushnil(co);
		lua_pushfstring(co, "endpoint closed (%s)", reason);
		lua_pushliteral(co, "EPIPE");
		rpmsg_task_resume(t, 3);
		lua_pop(L, 1);
	}
}

/* Fires on_close(reason) once, and stops everything the loop held. */
void rpmsg_endpoint_closed(lua_State *L, int idx, struct lendpoint *le, const char *reason)
{
	struct loop *loop = le->rt->loop;
	loop_io_stop(loop, &le->io);
	loop_timer_stop(loop, &le->retry);
	rpmsg_endpoint_drop_queue(le, reason);
	if (le->close_notified)
		return;
	le->close_notified = true;
	observe_closed(le, reason);
	/* The remote went: the kernel destroyed the endpoint, so nothing to
	 * destroy; it is down (sends say so) until the remote comes back and
	 * it is created again. */
	if (le->recover && le->ep && le->ep->dead && !le->ep->destroyed_by_us) {
		rpmsg_ep_close(le->ep);
		le->ep = NULL;
		le->down = true;
		rpmsg_recovery_start(le->rt);
	}
	wake_waiters(L, idx, le, reason);
	lua_pushstring(L, reason);
	call_handler(L, idx, le, "on_close", 1);
}

void rpmsg_endpoint_up(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_ep *ep)
{
	le->ep = ep;
	le->down = false;
	le->close_notified = false;
	observe_reopened(le);
	rpmsg_endpoint_update_watch(L, idx, le);
	call_handler(L, idx, le, "on_open", 0);
}

/* A message is read only when someone takes it: a live waiter or an
 * on_message. Otherwise it stays queued in the kernel. */
static bool has_taker(lua_State *L, int idx, struct lendpoint *le)
{
	return le->has_on_message || rpmsg_endpoint_waiters(L, idx, le) > 0;
}

/* A read failed with e: the remote went (EPIPE), or the device did. */
static void closed_by_read(lua_State *L, int idx, struct lendpoint *le, const struct rpmsg_err *e)
{
	rpmsg_endpoint_closed(L, idx, le, e->code == EPIPE ? endpoint_death_reason(le) : e->msg);
}

/* How many messages a wake-up reads. Reading until EAGAIN costs one read
 * more than there are messages: with one message per wake-up (a request
 * and its answer at a time) that is a second system call per message. So
 * an endpoint whose wake-ups found one message each reads only one, and
 * every PROBE_EVERY wake-ups reads on: a wake-up that finds more goes back
 * to reading whole batches. Either way epoll, level-triggered, reports what
 * is left at once, and a dead endpoint's read fails at the next wake-up. */
static int wakeup_limit(const struct lendpoint *le)
{
	return le->lone_wakeups % PROBE_EVERY ? 1 : DISPATCH_BATCH;
}

/* After a wake-up that read `read` messages: eagain if the last read found
 * the queue empty. */
static void note_wakeup(struct lendpoint *le, int read, bool eagain)
{
	if (read >= 2)
		le->lone_wakeups = 0;
	else if (read == 1 || eagain)
		le->lone_wakeups++;
}

/* The messages of one wake-up, up to wakeup_limit(): each to the first
 * waiting task or to on_message. A handler's error leaves by longjmp to the
 * protected call below (l_loop_call.c), which calls us again for the same
 * wake-up: rt->resume_le then says how many messages are left to it. */
static void dispatch(struct lendpoint *le, int idx, uint32_t events)
{
	lua_State *L = le->rt->L;
	struct batch b;
	b.le = le;
	b.left = wakeup_limit(le);
	if (__builtin_expect(le->rt->resume_le != NULL, 0)) {
		if (le->rt->resume_le == le)
			b.left = le->rt->resume_left;
		le->rt->resume_le = NULL;
	}
	int limit = b.left;
	/* The first handler starts from the wake-up, or from the end of the
	 * last handler of this wake-up: no clock read of its own. */
	uint64_t woke = loop_woke_ns(le->rt->loop);
	b.started_ns = woke > le->rt->handled_ns ? woke : le->rt->handled_ns;
	while (b.left > 0 && le->ep && !loop_stopping(le->rt->loop)) {
		if (!(le->io.events & LOOP_IN))
			break;  /* on_message went away: leave messages queued */
		if (!has_taker(L, idx, le)) {   /* its last waiter was cancelled */
			rpmsg_endpoint_update_watch(L, idx, le);
			break;
		}
		ssize_t got = rpmsg_ep_recv(le->ep, b.buf, sizeof b.buf, &b.e);
		if (got == -EAGAIN) {
			note_wakeup(le, limit - b.left, true);
			return;
		}
		if (got < 0) {
			closed_by_read(L, idx, le, &b.e);
			return;
		}
		b.left--;
		size_t n = endpoint_kept_length(le, got, sizeof b.buf);
		le->rt->messages_in++;
		observe_received(le, b.buf, n);
		struct ltask *t = le->waiting ? pop_waiter(L, idx, le) : NULL;
		if (t) {   /* a waiting coroutine goes first */
			rpmsg_task_unblock(t);
			lua_pushlstring(rpmsg_task_thread(t), b.buf, n);
			rpmsg_task_resume(t, 1);
			lua_pop(L, 1);
			rpmsg_endpoint_update_watch(L, idx, le);
			b.started_ns = rpmsg_now_ns();
		} else {
			got = rpmsg_endpoint_deliver(L, idx, &b, n);
			if (got == -EAGAIN) {
				note_wakeup(le, limit - b.left, true);
				return;
			}
			if (got < 0) {
				closed_by_read(L, idx, le, &b.e);
				return;
			}
		}
	}
	note_wakeup(le, limit - b.left, false);
	/* With no on_message nothing is read, so closure shows only as ERR/HUP. */
	if (le->ep && !(le->io.events & LOOP_IN) && (events & (LOOP_ERR | LOOP_HUP))) {
		if (!le->ep->is_socket)
			rpmsg_ep_mark_dead(le->ep);
		rpmsg_endpoint_closed(L, idx, le, endpoint_death_reason(le));
	}
}

/* POLLPRI: the remote changed its flow control (Linux 6.6+). */
static void flow_changed(struct lendpoint *le, int idx)
{
	lua_State *L = le->rt->L;
	bool enabled = false;
	struct rpmsg_err e;
	if (rpmsg_ep_flow(le->ep, -1, &enabled, &e) < 0) {
		rpmsg_logf("endpoint '%s': %s", rpmsg_endpoint_label(le), e.msg);
		return;
	}
	lua_pushboolean(L, enabled);
	call_handler(L, idx, le, "on_flow", 1);
}

/* One wake-up of the endpoint's fd. */
static void endpoint_turn(struct lendpoint *le, uint32_t events)
{
	lua_State *L = le->rt->L;
	/* On the stack for the whole dispatch: a handler may let go of it.
	 * Watched means anchored, so its reference is there. */
	lua_rawgeti(L, LUA_REGISTRYINDEX, le->self_ref);
	int idx = lua_gettop(L);
	bool again = le->rt->resume_le == le;   /* after a handler's error: the flow was told */
	if ((events & LOOP_PRI) && le->ep && !le->ep->dead && !again)
		flow_changed(le, idx);
	dispatch(le, idx, events);
	lua_settop(L, idx - 1);
}

struct turn {
	struct lendpoint *le;
	uint32_t events;
};

static void protected_turn(void *ud)
{
	struct turn *t = ud;
	endpoint_turn(t->le, t->events);
}

static void on_io(struct loop_io *io, uint32_t events)
{
	struct lendpoint *le = FROM_IO(io);
	if (le->rt->loop_protected) {   /* the loop runs inside a protected call of rt->L */
		endpoint_turn(le, events);
		return;
	}
	struct turn t = { le, events };
	rpmsg_protected_dispatch(le->rt, protected_turn, &t);
}

/* Starts or adjusts the watch to match the handlers present. receiving: a
 * task is about to block in ep:receive (not yet counted as waiting). */
static void endpoint_watch(lua_State *L, int idx, struct lendpoint *le, bool receiving)
{
	rpmsg_endpoint_cache_handlers(L, idx, le);
	if (!le->ep || le->close_notified)
		return;
	bool has_message = endpoint_get_field(L, idx, "on_message") != LUA_TNIL || receiving ||
			   rpmsg_endpoint_waiters(L, idx, le) > 0;
	bool has_close = endpoint_get_field(L, idx, "on_close") != LUA_TNIL;
	bool has_flow = endpoint_get_field(L, idx, "on_flow") != LUA_TNIL;
	lua_pop(L, 3);
	uint32_t events = (has_message ? LOOP_IN : 0) | (has_flow ? LOOP_PRI : 0);
	has_close = has_close || has_flow;
	struct rpmsg_err e;
	if (le->io.active) {
		if (loop_io_modify(le->rt->loop, &le->io, events, &e) < 0)
			rpmsg_raise(L, &e);
	} else if (has_message || has_close) {
		rpmsg_endpoint_keep(L, idx, le);
		if (loop_io_start(le->rt->loop, &le->io, le->ep->fd, events, on_io, le, &e) < 0)
			rpmsg_raise(L, &e);
	}
}

void rpmsg_endpoint_update_watch(lua_State *L, int idx, struct lendpoint *le)
{
	endpoint_watch(L, idx, le, false);
}

static void receive_timed_out(struct ltask *t, void *ctx)
{
	struct lendpoint *le = ctx;
	lua_State *L = le->rt->L;
	/* Out of the waiting list, then back to the task with a timeout. */
	if (rpmsg_push_anchored(L, le) != LUA_TNIL) {
		int idx = lua_gettop(L);
		lua_getiuservalue(L, idx, WAITERS);
		int list = lua_gettop(L);
		lua_Integer n = (lua_Integer)lua_rawlen(L, list);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, list, i);
			bool me = lua_touserdata(L, -1) == (void *)t;
			lua_pop(L, 1);
			if (me) {
				remove_waiter(L, le, list, i, n);
				break;
			}
		}
		lua_pop(L, 1);
		rpmsg_endpoint_update_watch(L, idx, le);
		lua_pop(L, 1);
	} else {
		lua_pop(L, 1);
	}
	lua_State *co = rpmsg_task_thread(t);
	lua_pushnil(co);
	lua_pushliteral(co, "timeout");
	lua_pushliteral(co, "ETIMEDOUT");
	rpmsg_task_resume(t, 3);
}

/* ep:receive with nothing to take: the task joins the waiting list, last,
 * and yields; a message, the endpoint's end or the timeout resumes it. */
int rpmsg_endpoint_wait(lua_State *L, int idx, struct lendpoint *le, struct ltask *t, int timeout_ms)
{
	lua_getiuservalue(L, idx, WAITERS);
	rpmsg_push_anchored(L, t);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 1);
	le->waiting++;
	rpmsg_endpoint_keep(L, idx, le);
	endpoint_watch(L, idx, le, true);
	return rpmsg_task_block(L, t, timeout_ms, receive_timed_out, le);
}

/* ---- recovery -------------------------------------------------------------
 * Endpoints declared with rpmsg.endpoint{} outlive their remote. While one
 * is down the runtime watches /dev for control devices appearing (inotify:
 * no CPU spent waiting), with a timer whose backoff grows to 5 s as the
 * fallback, and creates each down endpoint again when it can. */

#define FIRST_TRY_MS 20          /* a new control device may still be probing */
#define MAX_BACKOFF_MS 5000

struct rpmsg_recovery {
	bool on;                  /* endpoints are down and being tried */
	struct dirwatch dev;      /* /dev, for control devices appearing */
	struct loop_timer timer;  /* the next attempt */
	int backoff_ms;
};

struct rpmsg_recovery *rpmsg_recovery_new(lua_State *L)
{
	struct rpmsg_recovery *r = lua_newuserdatauv(L, sizeof *r, 0);
	memset(r, 0, sizeof *r);
	return r;
}

struct attempt {
	struct rpmsg_runtime *rt;
	int still_down;
};

static void recovery_try_one(lua_State *L, int idx, void *ctx)
{
	struct attempt *a = ctx;
	struct lendpoint *le = rpmsg_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (!le || !le->down)
		return;
	struct rpmsg_err e;
	struct rpmsg_ep *ep = rpmsg_decl_create(a->rt->backend, &le->decl, &e);
	if (ep)
		rpmsg_endpoint_up(L, idx, le, ep);
	else
		a->still_down++;
}

void rpmsg_recovery_stop(struct rpmsg_runtime *rt)
{
	rt->recovery->on = false;
	dirwatch_stop(rt->loop, &rt->recovery->dev);
	loop_timer_stop(rt->loop, &rt->recovery->timer);
}

/* The next attempt in ms. When the timer cannot be armed, say so: the down
 * endpoints then wait for a control device to appear in /dev. */
static void recovery_arm(struct rpmsg_runtime *rt, uint64_t ms)
{
	struct rpmsg_err e;
	if (loop_timer_start(rt->loop, &rt->recovery->timer, ms, 0, &e) < 0)
		rpmsg_logf("recovery: %s; down endpoints wait for a control device to appear%s", e.msg,
			   rt->recovery->dev.io.active ? "" : ", which nothing watches: they stay down");
}

static void recovery_attempt(struct loop_timer *t)
{
	struct rpmsg_runtime *rt = t->ctx;
	struct attempt a = { rt, 0 };
	rpmsg_each_anchored(rt->L, recovery_try_one, &a);
	if (!a.still_down) {
		rpmsg_recovery_stop(rt);
		return;
	}
	struct rpmsg_recovery *r = rt->recovery;
	recovery_arm(rt, (uint64_t)r->backoff_ms);
	if (r->backoff_ms < MAX_BACKOFF_MS)
		r->backoff_ms *= 2;
}

static void recovery_dev_appeared(const char *name, void *ctx)
{
	struct rpmsg_runtime *rt = ctx;
	if (strncmp(name, "rpmsg_ctrl", 10) != 0)
		return;
	rt->recovery->backoff_ms = FIRST_TRY_MS;
	recovery_arm(rt, FIRST_TRY_MS);
}

void rpmsg_recovery_start(struct rpmsg_runtime *rt)
{
	struct rpmsg_recovery *r = rt->recovery;
	if (r->on)
		return;
	r->on = true;
	r->backoff_ms = FIRST_TRY_MS;
	loop_timer_init(&r->timer, recovery_attempt, rt);
	struct rpmsg_err e;
	if (dirwatch_start(rt->loop, &r->dev, rpmsg_dev_root(), true, recovery_dev_appeared, rt, &e) < 0)
		rpmsg_logf("recovery: %s; retrying on a timer only", e.msg);
	recovery_arm(rt, FIRST_TRY_MS);
}
