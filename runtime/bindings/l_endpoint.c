/* The endpoint userdata. Low level: send, recv (blocking, with a timeout),
 * destroy, close. Host level: once it has an on_message or on_close field the
 * loop watches its fd and dispatches each message; sends that meet EAGAIN wait
 * in a queue and are retried, and what cannot be sent when the endpoint goes
 * is reported, never dropped silently. During a reload, what the loading
 * script does to an endpoint of the running generation is staged until the
 * commit. */
#include "l_endpoint.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define DISPATCH_BATCH 64       /* messages per wakeup, so one busy endpoint cannot starve others */
#define RETRY_MS 1              /* virtio gives no POLLOUT: poll for a free buffer on a timer */



#define FROM_IO(p) ((struct lendpoint *)((char *)(p) - offsetof(struct lendpoint, io)))
#define FROM_TIMER(p) ((struct lendpoint *)((char *)(p) - offsetof(struct lendpoint, retry)))

static struct lendpoint *check_endpoint(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, RPMSG_ENDPOINT_TYPE);
}

/* During a reload: an endpoint of the running generation, which the loading
 * script may only change through staging. */
static bool running_while_loading(const struct lendpoint *le)
{
	return le->rt->loading && le->gen != le->rt->load_gen;
}

/* Closed or destroyed by the loading script, done at commit: closed for it. */
static bool staged_closed(const struct lendpoint *le)
{
	return le->rt->loading && le->staged_gen == le->rt->load_gen && le->staged_ops != 0;
}

static struct lendpoint *check_open(lua_State *L, int idx)
{
	struct lendpoint *le = check_endpoint(L, idx);
	if ((!le->ep && !le->down) || staged_closed(le))
		luaL_error(L, "rpmsg: attempt to use a closed endpoint");
	return le;
}

static const char *label(const struct lendpoint *le)
{
	if (le->decl.info.name[0])
		return le->decl.info.name;
	if (!le->ep)
		return "closed endpoint";
	return le->ep->info.name[0] ? le->ep->info.name : le->ep->path;
}

/* Which fields the script sees: the staged ones while a reload that adopted
 * or wrote to this endpoint is loading, so a failed reload leaves the
 * handlers alone. */
static int script_fields(const struct lendpoint *le)
{
	return le->rt->loading && le->fields_gen == le->rt->load_gen ? STAGED_FIELDS : LIVE_FIELDS;
}

/* Pushes live field `key` of the endpoint at idx. */
static int get_field(lua_State *L, int idx, const char *key)
{
	lua_getiuservalue(L, idx, LIVE_FIELDS);
	int type = lua_getfield(L, -1, key);
	lua_remove(L, -2);
	return type;
}

void rpmsg_endpoint_keep(lua_State *L, int idx, struct lendpoint *le)
{
	if (!le->anchored) {
		rpmsg_anchor(L, idx);
		le->anchored = true;
	}
}

static void let_go(lua_State *L, struct lendpoint *le)
{
	if (le->anchored) {
		le->anchored = false;
		rpmsg_unanchor(L, le);
	}
}

/* Calls handler `name` of the endpoint at idx with the nargs values on top
 * and the endpoint after them; drops the values when there is no handler. */
static void call_handler(lua_State *L, int idx, struct lendpoint *le, const char *name, int nargs)
{
	if (get_field(L, idx, name) != LUA_TFUNCTION) {
		lua_pop(L, 1 + nargs);
		return;
	}
	lua_insert(L, -1 - nargs);
	lua_pushvalue(L, idx);
	char what[96];
	snprintf(what, sizeof what, "%s of endpoint '%.64s'", name, label(le));
	rpmsg_call(le->rt, nargs + 1, what);
}

static void receive_timed_out(struct ltask *t, void *ctx);

/* Drops the waiters no longer blocked in this endpoint's receive (a task
 * cancelled, or resumed by anything else): they must never be given a
 * message. Returns how many still wait, in their order. */
static lua_Integer live_waiters(lua_State *L, int idx, struct lendpoint *le)
{
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
	return kept;
}

/* Removes entry i of the waiting list at `list` (n entries long), keeping
 * the order of the others. */
static void remove_waiter(lua_State *L, int list, lua_Integer i, lua_Integer n)
{
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
	lua_Integer n = live_waiters(L, idx, le);
	if (n == 0)
		return NULL;
	lua_getiuservalue(L, idx, WAITERS);
	lua_rawgeti(L, -1, 1);
	remove_waiter(L, lua_absindex(L, -2), 1, n);
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

/* Drops what is still queued with a log line saying how many and why:
 * nothing leaves the queue without a word. Returns how many. */
static size_t drop_queue(struct lendpoint *le, const char *why)
{
	size_t n = le->outq.len;
	if (n)
		rpmsg_logf("endpoint '%s': %zu queued message%s unsent (%s)", label(le), n,
			   n == 1 ? "" : "s", why);
	outq_free(&le->outq);
	return n;
}

/* Sends what the transport takes now of the queued messages, in order: 0
 * once the queue is empty, else what stopped it (-EAGAIN: no buffer free). */
static int flush_now(struct lendpoint *le, struct rpmsg_err *e)
{
	struct outq_msg *m;
	while ((m = outq_front(&le->outq))) {
		if (!le->ep)
			return rpmsg_fail(e, ENOTCONN, "endpoint down");
		int r = rpmsg_ep_send(le->ep, m->data, m->len, e);
		if (r < 0)
			return r;
		le->rt->messages_out++;
		outq_pop(&le->outq);
	}
	return 0;
}

/* The retry timer: virtio gives no POLLOUT, so the queue is tried again
 * every RETRY_MS while the transport says EAGAIN. */
static void flush(struct loop_timer *t)
{
	struct lendpoint *le = FROM_TIMER(t);
	struct rpmsg_err e;
	int r = flush_now(le, &e);
	if (r == -EAGAIN && loop_timer_start(le->rt->loop, &le->retry, RETRY_MS, 0, &e) == 0)
		return;
	if (r < 0)   /* the send's error, or the timer's */
		drop_queue(le, e.msg);
}

/* The last chance for queued messages before the fd goes: what the
 * transport takes now is sent. Returns how many are left, with why in *e. */
static size_t last_flush(struct lendpoint *le, struct rpmsg_err *e)
{
	loop_timer_stop(le->rt->loop, &le->retry);
	if (outq_empty(&le->outq) || flush_now(le, e) == 0)
		return 0;
	return le->outq.len;
}

/* Fires on_close(reason) once, and stops everything the loop held. */
static void closed(lua_State *L, int idx, struct lendpoint *le, const char *reason)
{
	struct loop *loop = le->rt->loop;
	loop_io_stop(loop, &le->io);
	loop_timer_stop(loop, &le->retry);
	drop_queue(le, reason);
	if (le->close_notified)
		return;
	le->close_notified = true;
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
	rpmsg_endpoint_update_watch(L, idx, le);
	call_handler(L, idx, le, "on_open", 0);
}

/* While the remote is away: nil, "endpoint down", never a block or a loss. */
static int push_down(lua_State *L)
{
	lua_pushnil(L);
	lua_pushliteral(L, "endpoint down");
	lua_pushliteral(L, "ENOTCONN");
	return 3;
}

static const char *death_reason(const struct lendpoint *le)
{
	return le->ep && le->ep->destroyed_by_us ? "destroyed" : "remote gone";
}

/* A message is read only when someone takes it: a live waiter or an
 * on_message. Otherwise it stays queued in the kernel. */
static bool has_taker(lua_State *L, int idx, struct lendpoint *le)
{
	if (live_waiters(L, idx, le) > 0)
		return true;
	bool handler = get_field(L, idx, "on_message") == LUA_TFUNCTION;
	lua_pop(L, 1);
	return handler;
}

/* n as received into a buffer of cap bytes: a longer message (a foreign
 * socket peer) was cut to cap, which is said in the log, never silently. */
static size_t kept_length(const struct lendpoint *le, ssize_t n, size_t cap)
{
	if ((size_t)n <= cap)
		return (size_t)n;
	rpmsg_logf("endpoint '%s': a %zd-byte message was cut to %zu bytes, the RPMsg limit",
		   label(le), n, cap);
	return cap;
}

static void dispatch(struct lendpoint *le, int idx, uint32_t events)
{
	lua_State *L = le->rt->L;
	char buf[RPMSG_MAX_MESSAGE];
	for (int i = 0; i < DISPATCH_BATCH && le->ep && !loop_stopping(le->rt->loop); i++) {
		if (!(le->io.events & LOOP_IN))
			break;  /* on_message went away: leave messages queued */
		if (!has_taker(L, idx, le)) {   /* its last waiter was cancelled */
			rpmsg_endpoint_update_watch(L, idx, le);
			break;
		}
		struct rpmsg_err e;
		ssize_t got = rpmsg_ep_recv(le->ep, buf, sizeof buf, &e);
		if (got == -EAGAIN)
			return;
		if (got < 0) {
			closed(L, idx, le, e.code == EPIPE ? death_reason(le) : e.msg);
			return;
		}
		size_t n = kept_length(le, got, sizeof buf);
		le->rt->messages_in++;
		struct ltask *t = pop_waiter(L, idx, le);
		if (t) {   /* a waiting coroutine goes first */
			rpmsg_task_unblock(t);
			lua_pushlstring(rpmsg_task_thread(t), buf, n);
			rpmsg_task_resume(t, 1);
			lua_pop(L, 1);
			rpmsg_endpoint_update_watch(L, idx, le);
			continue;
		}
		get_field(L, idx, "on_message");
		lua_pushlstring(L, buf, n);
		lua_pushvalue(L, idx);
		if (!le->on_message_label[0])
			snprintf(le->on_message_label, sizeof le->on_message_label,
				 "on_message of endpoint '%.64s'", label(le));
		rpmsg_call(le->rt, 2, le->on_message_label);
	}
	/* With no on_message nothing is read, so closure shows only as ERR/HUP. */
	if (le->ep && !(le->io.events & LOOP_IN) && (events & (LOOP_ERR | LOOP_HUP))) {
		if (!le->ep->is_socket)
			rpmsg_ep_mark_dead(le->ep);
		closed(L, idx, le, death_reason(le));
	}
}

/* POLLPRI: the remote changed its flow control (Linux 6.6+). */
static void flow_changed(struct lendpoint *le, int idx)
{
	lua_State *L = le->rt->L;
	bool enabled = false;
	struct rpmsg_err e;
	if (rpmsg_ep_flow(le->ep, -1, &enabled, &e) < 0) {
		rpmsg_logf("endpoint '%s': %s", label(le), e.msg);
		return;
	}
	lua_pushboolean(L, enabled);
	call_handler(L, idx, le, "on_flow", 1);
}

static void on_io(struct loop_io *io, uint32_t events)
{
	struct lendpoint *le = FROM_IO(io);
	lua_State *L = le->rt->L;
	/* On the stack for the whole dispatch: a handler may let go of it. */
	rpmsg_push_anchored(L, le);
	int idx = lua_gettop(L);
	if ((events & LOOP_PRI) && le->ep && !le->ep->dead)
		flow_changed(le, idx);
	dispatch(le, idx, events);
	lua_settop(L, idx - 1);
}

/* Starts or adjusts the watch to match the handlers present. receiving: a
 * task is about to block in ep:receive (not yet counted as waiting). */
static void watch(lua_State *L, int idx, struct lendpoint *le, bool receiving)
{
	if (!le->ep || le->close_notified)
		return;
	bool has_message = get_field(L, idx, "on_message") != LUA_TNIL || receiving ||
			   live_waiters(L, idx, le) > 0;
	bool has_close = get_field(L, idx, "on_close") != LUA_TNIL;
	bool has_flow = get_field(L, idx, "on_flow") != LUA_TNIL;
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
	watch(L, idx, le, false);
}

int rpmsg_push_endpoint(lua_State *L, struct rpmsg_runtime *rt, struct rpmsg_ep *ep, bool owned)
{
	struct lendpoint *le = lua_newuserdatauv(L, sizeof *le, USER_VALUES);
	memset(le, 0, sizeof *le);
	le->ep = ep;
	le->rt = rt;
	le->owned = owned;
	le->gen = rpmsg_current_gen(rt);
	le->io.fd = -1;
	loop_timer_init(&le->retry, flush, le);
	lua_newtable(L);
	lua_setiuservalue(L, -2, LIVE_FIELDS);
	lua_newtable(L);
	lua_setiuservalue(L, -2, WAITERS);
	luaL_setmetatable(L, RPMSG_ENDPOINT_TYPE);
	return 1;
}

static int l_send(lua_State *L)
{
	struct lendpoint *le = check_open(L, 1);
	size_t len;
	const char *msg = luaL_checklstring(L, 2, &len);
	if (len > RPMSG_MAX_MESSAGE)
		return luaL_error(L, "rpmsg: message is %d bytes, over the %d-byte limit "
				  "(rpmsg.MAX_MESSAGE_SIZE); nothing was sent",
				  (int)len, RPMSG_MAX_MESSAGE);
	if (le->down)
		return push_down(L);
	struct rpmsg_err e;
	/* Behind queued messages, to keep the order. */
	int r = outq_empty(&le->outq) ? rpmsg_ep_send(le->ep, msg, len, &e) : -EAGAIN;
	if (r == -EAGAIN && le->anchored) {
		/* Armed first: a message queued with no retry would wait forever. */
		if (!loop_timer_armed(&le->retry) &&
		    loop_timer_start(le->rt->loop, &le->retry, RETRY_MS, 0, &e) < 0) {
			struct rpmsg_err why = e;
			rpmsg_fail(&e, why.code, "endpoint '%s': cannot arm the retry of a send that met "
				   "EAGAIN (%s); nothing was sent", label(le), why.msg);
			return rpmsg_push_error(L, &e);
		}
		int q = outq_push(&le->outq, msg, len);
		if (q == -ENOBUFS)
			rpmsg_fail(&e, EAGAIN, "endpoint '%s': %d messages already wait for a "
				   "transmit buffer; nothing was sent", label(le), OUTQ_CAPACITY);
		else if (q < 0)
			rpmsg_fail_errno(&e, -q, "endpoint '%s': cannot queue a send that met EAGAIN; "
					 "nothing was sent", label(le));
		if (q < 0)
			return rpmsg_push_error(L, &e);
		lua_pushboolean(L, 1);
		return 1;
	}
	if (r < 0)
		return rpmsg_push_error(L, &e);
	le->rt->messages_out++;
	lua_pushboolean(L, 1);
	return 1;
}

static int l_recv(lua_State *L)
{
	struct lendpoint *le = check_open(L, 1);
	lua_Integer cap = luaL_optinteger(L, 2, RPMSG_MAX_MESSAGE);
	lua_Integer timeout = luaL_optinteger(L, 3, -1);
	luaL_argcheck(L, cap >= 0 && cap <= 1 << 20, 2, "buffer size out of range");
	luaL_argcheck(L, timeout >= -1 && timeout <= 1 << 30, 3, "timeout out of range");
	if (le->down)
		return push_down(L);
	/* Read whole (at least 496 bytes), so a cut to cap is known, then said
	 * with the message's full length as a second value. */
	size_t want = (size_t)cap, size = want > RPMSG_MAX_MESSAGE ? want : RPMSG_MAX_MESSAGE;
	luaL_Buffer b;
	char *buf = luaL_buffinitsize(L, &b, size);
	struct rpmsg_err e;
	for (;;) {
		ssize_t n = rpmsg_ep_recv(le->ep, buf, size, &e);
		if (n >= 0) {
			le->rt->messages_in++;
			luaL_pushresultsize(&b, (size_t)n < want ? (size_t)n : want);
			if ((size_t)n <= want)
				return 1;
			lua_pushinteger(L, n);
			return 2;
		}
		if (n != -EAGAIN)
			return rpmsg_push_error(L, &e);
		int w = rpmsg_ep_wait(le->ep, (int)timeout, &e);
		if (w < 0)
			return rpmsg_push_error(L, &e);
		if (w == 0) {
			rpmsg_fail(&e, ETIMEDOUT, "timeout");
			return rpmsg_push_error(L, &e);
		}
	}
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
		lua_Integer n = luaL_len(L, list);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, list, i);
			bool me = lua_touserdata(L, -1) == (void *)t;
			lua_pop(L, 1);
			if (me) {
				remove_waiter(L, list, i, n);
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

static int l_receive(lua_State *L)
{
	struct lendpoint *le = check_open(L, 1);
	lua_Integer timeout = luaL_optinteger(L, 2, -1);
	luaL_argcheck(L, timeout >= -1 && timeout <= 1 << 30, 2, "timeout out of range");
	struct ltask *t = rpmsg_task_current(L);
	if (!t)
		return luaL_error(L, "rpmsg: ep:receive must be called inside rpmsg.spawn "
				  "(ep:recv blocks the whole loop instead)");
	if (le->down)
		return push_down(L);
	struct rpmsg_err e;
	if (live_waiters(L, 1, le) == 0) {   /* nobody is ahead of us: take what is queued */
		char buf[RPMSG_MAX_MESSAGE];
		ssize_t n = rpmsg_ep_recv(le->ep, buf, sizeof buf, &e);
		if (n >= 0) {
			le->rt->messages_in++;
			lua_pushlstring(L, buf, kept_length(le, n, sizeof buf));
			return 1;
		}
		if (n != -EAGAIN)
			return rpmsg_push_error(L, &e);
	} else if (le->ep->dead) {
		rpmsg_ep_recv(le->ep, NULL, 0, &e);
		return rpmsg_push_error(L, &e);
	}
	lua_getiuservalue(L, 1, WAITERS);
	rpmsg_push_anchored(L, t);
	lua_rawseti(L, -2, luaL_len(L, -2) + 1);
	lua_pop(L, 1);
	rpmsg_endpoint_keep(L, 1, le);
	watch(L, 1, le, true);
	return rpmsg_task_block(L, t, (int)timeout, receive_timed_out, le);
}

static int l_set_flow(lua_State *L)
{
	struct lendpoint *le = check_open(L, 1);
	if (le->down)
		return push_down(L);
	luaL_checktype(L, 2, LUA_TBOOLEAN);
	struct rpmsg_err e;
	if (rpmsg_ep_flow(le->ep, lua_toboolean(L, 2), NULL, &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

/* Anchors the endpoint for the end of the load if nothing else does, so the
 * commit or abort sees what the load staged on it. */
static void stage_anchor(lua_State *L, int idx, struct lendpoint *le)
{
	if (!le->anchored) {
		rpmsg_endpoint_keep(L, idx, le);
		le->staged_anchor = true;
	}
}

/* ep:close() or ep:destroy() by a loading script on the running generation's
 * endpoint: done at commit, forgotten if the reload fails. */
static int stage(lua_State *L, int idx, struct lendpoint *le, unsigned op)
{
	stage_anchor(L, idx, le);
	if (le->staged_gen != le->rt->load_gen)
		le->staged_ops = 0;
	le->staged_ops |= op;   /* a destroy then a close: both, at commit */
	le->staged_gen = le->rt->load_gen;
	lua_pushboolean(L, 1);
	return 1;
}

static void destroy(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_err *e, int *result)
{
	struct rpmsg_err unsent;
	last_flush(le, &unsent);   /* the rest is reported by closed() */
	*result = rpmsg_ep_destroy(le->ep, e);
	if (*result == 0)
		closed(L, idx, le, "destroyed");
	else if (le->ep->dead)
		closed(L, idx, le, death_reason(le));
	else if (!outq_empty(&le->outq))
		flush(&le->retry);   /* still open: back to retrying */
}

static int l_destroy(lua_State *L)
{
	struct lendpoint *le = check_open(L, 1);
	if (le->down)
		return push_down(L);
	if (running_while_loading(le))
		return stage(L, 1, le, STAGED_DESTROY);
	struct rpmsg_err e;
	int r;
	destroy(L, 1, le, &e, &r);
	if (r < 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

/* Closes without calling Lua: queued messages get a last chance (the rest
 * is reported), an endpoint we made is destroyed. at_exit: log the destroy,
 * as the README promises for every endpoint at stop. */
static void release(struct lendpoint *le, bool at_exit)
{
	if (!le->ep)
		return;
	loop_io_stop(le->rt->loop, &le->io);
	struct rpmsg_err e;
	last_flush(le, &e);
	drop_queue(le, e.msg);   /* says nothing when nothing is left; frees the slots */
	if (le->owned && !le->ep->dead) {
		int r = rpmsg_ep_destroy(le->ep, &e);
		if (r == -EPIPE && at_exit)
			rpmsg_logf("endpoint '%s' (%s) was already gone with its remote", label(le),
				   le->ep->path);
		else if (r < 0 && r != -EPIPE)
			rpmsg_logf("endpoint '%s' (%s) not destroyed: %s", label(le), le->ep->path, e.msg);
		else if (r == 0 && at_exit)
			rpmsg_logf("destroyed endpoint '%s' (%s)", label(le), le->ep->path);
	}
	rpmsg_ep_close(le->ep);
	le->ep = NULL;
}

size_t rpmsg_endpoint_close(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_err *unsent)
{
	if (!le->ep) {   /* down: nothing open, just stop waiting for it */
		le->down = false;
		let_go(L, le);
		return 0;
	}
	size_t left = last_flush(le, unsent);
	if (left) {
		struct rpmsg_err why = *unsent;
		rpmsg_fail(unsent, why.code, "endpoint '%s' closed with %zu queued message%s unsent: %s",
			   label(le), left, left == 1 ? "" : "s", why.msg);
		rpmsg_logf("%s", unsent->msg);
		outq_free(&le->outq);
	}
	bool destroys = le->owned && !le->ep->dead;
	release(le, false);
	closed(L, idx, le, destroys ? "destroyed" : "closed");
	let_go(L, le);
	return left;
}

/* ep:close(): true; or, when queued messages could not be sent before the
 * fd went, nil, "endpoint 'x' closed with N queued messages unsent: ...",
 * and the error that stopped them (like close(2)'s EIO: closed anyway). */
static int l_close(lua_State *L)
{
	struct lendpoint *le = check_endpoint(L, 1);
	if ((!le->ep && !le->down) ||
	    (staged_closed(le) && (le->staged_ops & STAGED_CLOSE)))
		return 0;
	if (running_while_loading(le))
		return stage(L, 1, le, STAGED_CLOSE);
	struct rpmsg_err e;
	if (rpmsg_endpoint_close(L, 1, le, &e) > 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

void rpmsg_endpoint_release(lua_State *L, struct lendpoint *le)
{
	release(le, false);
	let_go(L, le);
}

static void forget_stage(lua_State *L, int idx, struct lendpoint *le)
{
	lua_pushnil(L);
	lua_setiuservalue(L, idx, STAGED_FIELDS);
	le->adopted_gen = le->fields_gen = le->staged_gen = 0;
	le->staged_ops = 0;
	if (le->staged_anchor) {
		le->staged_anchor = false;
		let_go(L, le);
	}
}

void rpmsg_endpoint_abort(lua_State *L, int idx, struct lendpoint *le)
{
	forget_stage(L, idx, le);
}

void rpmsg_endpoint_commit(lua_State *L, int idx, struct lendpoint *le)
{
	struct rpmsg_runtime *rt = le->rt;
	bool adopted = le->adopted_gen == rt->load_gen;
	unsigned ops = le->staged_gen == rt->load_gen ? le->staged_ops : 0;
	/* Anchored only by the staging: the reload never meant to close it. */
	bool kept_by_script = le->staged_anchor;
	if (le->fields_gen == rt->load_gen) {   /* the new fields replace the old wholesale */
		lua_getiuservalue(L, idx, STAGED_FIELDS);
		lua_setiuservalue(L, idx, LIVE_FIELDS);
	}
	forget_stage(L, idx, le);
	if (adopted)
		le->gen = rt->load_gen;
	struct rpmsg_err e;
	if ((ops & STAGED_DESTROY) && le->ep) {
		int r;
		destroy(L, idx, le, &e, &r);
		if (r < 0)
			rpmsg_logf("endpoint '%s': %s", label(le), e.msg);
	}
	if ((ops & STAGED_CLOSE) || (!adopted && !kept_by_script)) {
		/* Closed by the new script, or declared by the old one only. */
		rpmsg_endpoint_close(L, idx, le, &e);
		return;
	}
	rpmsg_endpoint_update_watch(L, idx, le);
}

static int l_gc(lua_State *L)
{
	release(check_endpoint(L, 1), true);
	return 0;
}

static int l_index(lua_State *L)
{
	struct lendpoint *le = check_endpoint(L, 1);
	const char *key = luaL_checkstring(L, 2);
	/* ep:send is looked up for every message: the methods are an upvalue,
	 * not a metatable field found by name. */
	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
		return 1;
	lua_getiuservalue(L, 1, script_fields(le));
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (strcmp(key, "closed") == 0 && staged_closed(le)) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (strcmp(key, "down") == 0 || (!le->ep && strcmp(key, "closed") == 0)) {
		/* closed: true once closed or dead, false while usable or down */
		lua_pushboolean(L, key[0] == 'd' ? le->down : !le->down);
		return 1;
	}
	if (!le->ep)
		return 1;
	const struct rpmsg_ep *ep = le->ep;
	if (strcmp(key, "fd") == 0)
		lua_pushinteger(L, ep->fd);
	else if (strcmp(key, "path") == 0)
		lua_pushstring(L, ep->path);
	else if (strcmp(key, "name") == 0)
		lua_pushstring(L, ep->info.name);
	else if (strcmp(key, "src") == 0)
		lua_pushinteger(L, ep->info.src);
	else if (strcmp(key, "dst") == 0)
		lua_pushinteger(L, ep->info.dst);
	else if (strcmp(key, "index") == 0 && ep->index >= 0)
		lua_pushinteger(L, ep->index);
	else if (strcmp(key, "ctrl") == 0 && ep->ctrl_index >= 0)
		lua_pushinteger(L, ep->ctrl_index);
	else if (strcmp(key, "closed") == 0)
		lua_pushboolean(L, ep->dead);
	else
		lua_pushnil(L);
	return 1;
}

static const char *const properties[] = {
	"fd", "path", "name", "src", "dst", "index", "ctrl", "closed", "down", NULL,
};

static int l_newindex(lua_State *L)
{
	struct lendpoint *le = check_endpoint(L, 1);
	const char *key = luaL_checkstring(L, 2);
	/* A write that would shadow a property or a method is a bug in the
	 * script: say so instead of letting it stick or vanish. */
	for (int i = 0; properties[i]; i++)
		if (strcmp(key, properties[i]) == 0)
			return luaL_error(L, "rpmsg: ep.%s is read-only", key);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
		return luaL_error(L, "rpmsg: ep.%s is a method: it cannot be assigned", key);
	lua_pop(L, 1);
	bool handler = strcmp(key, "on_message") == 0 || strcmp(key, "on_close") == 0 ||
		       strcmp(key, "on_flow") == 0 || strcmp(key, "on_open") == 0;
	if (handler && !lua_isnil(L, 3) && !lua_isfunction(L, 3))
		return luaL_error(L, "rpmsg: %s must be a function or nil, got %s", key,
				  luaL_typename(L, 3));
	int fields = script_fields(le);
	if (fields == LIVE_FIELDS && running_while_loading(le)) {
		/* The first write of a loading script: into a copy, swapped in at
		 * commit, so the running generation's handlers stay as they are. */
		lua_newtable(L);
		lua_getiuservalue(L, 1, LIVE_FIELDS);
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -5);
		}
		lua_pop(L, 1);
		lua_setiuservalue(L, 1, STAGED_FIELDS);
		le->fields_gen = le->rt->load_gen;
		stage_anchor(L, 1, le);
		fields = STAGED_FIELDS;
	}
	lua_getiuservalue(L, 1, fields);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_rawset(L, -3);
	if (handler && fields == LIVE_FIELDS)
		rpmsg_endpoint_update_watch(L, 1, le);
	return 0;
}

static int l_tostring(lua_State *L)
{
	struct lendpoint *le = check_endpoint(L, 1);
	if (!le->ep)
		lua_pushliteral(L, "rpmsg.endpoint (closed)");
	else
		lua_pushfstring(L, "rpmsg.endpoint '%s' (%s, src %d, dst %d)", le->ep->info.name,
				le->ep->path, (int)le->ep->info.src, (int)le->ep->info.dst);
	return 1;
}

/* ---- constructors ------------------------------------------------------ */

static void collect_endpoint(lua_State *L, int idx, void *ctx)
{
	(void)ctx;
	struct lendpoint *le = luaL_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (le && le->ep) {
		lua_pushvalue(L, idx);
		lua_rawseti(L, 1, (lua_Integer)luaL_len(L, 1) + 1);
	}
}

static int by_name(lua_State *L)
{
	lua_getfield(L, 1, "name");
	lua_getfield(L, 2, "name");
	lua_pushboolean(L, strcmp(luaL_optstring(L, -2, ""), luaL_optstring(L, -1, "")) < 0);
	return 1;
}

int rpmsg_l_endpoints(lua_State *L)
{
	lua_settop(L, 0);
	lua_newtable(L);
	rpmsg_each_anchored(L, collect_endpoint, NULL);
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_pushvalue(L, 1);
	lua_pushcfunction(L, by_name);
	lua_call(L, 2, 0);
	lua_settop(L, 1);
	return 1;
}

int rpmsg_l_open_endpoint(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	int index;
	const char *path = rpmsg_check_device(L, 1, &index);
	struct rpmsg_err e;
	struct rpmsg_ep *ep = rpmsg_ep_open(rt->backend, path, index, &e);
	if (!ep)
		return rpmsg_push_error(L, &e);
	return rpmsg_push_endpoint(L, rt, ep, false);
}

int rpmsg_l_pair(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	struct rpmsg_ep *a, *b;
	struct rpmsg_err e;
	if (rpmsg_ep_pair(&a, &b, &e) < 0)
		return rpmsg_push_error(L, &e);
	rpmsg_push_endpoint(L, rt, a, false);
	rpmsg_push_endpoint(L, rt, b, false);
	return 2;
}

void rpmsg_endpoint_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "send", l_send },
		{ "recv", l_recv },
		{ "receive", l_receive },
		{ "set_flow", l_set_flow },
		{ "destroy", l_destroy },
		{ "close", l_close },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", l_gc },
		{ "__close", l_close },
		{ "__tostring", l_tostring },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_ENDPOINT_TYPE);
	luaL_setfuncs(L, meta, 0);
	luaL_newlib(L, methods);
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, l_newindex, 1);
	lua_setfield(L, -3, "__newindex");
	lua_pushcclosure(L, l_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}
