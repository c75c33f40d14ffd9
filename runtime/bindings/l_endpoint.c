/* SPDX-License-Identifier: MIT */
/* The endpoint userdata's methods send, recv (blocking, with a timeout),
 * receive (a task waits), set_flow, destroy and close; the constructors
 * open_endpoint, pair and endpoints. Its metatable (properties, fields) is
 * in l_endpoint_fields.c, what the loop does with it in l_endpoint_loop.c,
 * its send queue in l_endpoint_queue.c, rpmsg.endpoint{} and reloads in
 * l_declare.c. */
#include "l_observe.h"

#include <errno.h>
#include <string.h>

int rpmsg_push_endpoint(lua_State *L, struct rpmsg_runtime *rt, struct rpmsg_ep *ep, bool owned)
{
	struct lendpoint *le = lua_newuserdatauv(L, sizeof *le, USER_VALUES);
	memset(le, 0, sizeof *le);
	le->ep = ep;
	le->rt = rt;
	le->owned = owned;
	le->gen = rpmsg_current_gen(rt);
	le->io.fd = -1;
	le->self_ref = LUA_NOREF;
	loop_timer_init(&le->retry, rpmsg_endpoint_retry, le);
	lua_newtable(L);
	lua_setiuservalue(L, -2, LIVE_FIELDS);
	lua_newtable(L);
	lua_setiuservalue(L, -2, WAITERS);
	rpmsg_endpoint_set_metatable(L, -1);
	return 1;
}

static int endpoint_send(lua_State *L)
{
	struct lendpoint *le = endpoint_open(L, endpoint_self_own(L));
	size_t len;
	/* luaL_checklstring's rules (a number is taken as its string) with
	 * one call on the way that succeeds; it raises the usual error. */
	const char *msg = lua_tolstring(L, 2, &len);
	if (!msg)
		msg = luaL_checklstring(L, 2, &len);
	if (len > RPMSG_MAX_MESSAGE)
		return luaL_error(L, "rpmsg: message is %d bytes, over the %d-byte limit "
				  "(rpmsg.MAX_MESSAGE_SIZE); nothing was sent",
				  (int)len, RPMSG_MAX_MESSAGE);
	if (le->down)
		return endpoint_push_down(L);
	struct rpmsg_err e;
	/* Behind queued messages, to keep the order. */
	int r = outq_empty(&le->outq) ? rpmsg_ep_send(le->ep, msg, len, &e) : -EAGAIN;
	if (r == -EAGAIN && le->anchored) {   /* queued, retried on a timer */
		if (rpmsg_endpoint_enqueue(le, msg, len, &e) < 0)
			return rpmsg_push_error(L, &e);
		observe_eagain(le, len, le->outq.len);
		lua_pushboolean(L, 1);
		return 1;
	}
	if (r < 0)
		return rpmsg_push_error(L, &e);
	le->rt->messages_out++;
	observe_sent(le, msg, len);
	lua_pushboolean(L, 1);
	return 1;
}

static int endpoint_recv(lua_State *L)
{
	struct lendpoint *le = endpoint_open(L, endpoint_self(L, 1));
	lua_Integer cap = luaL_optinteger(L, 2, RPMSG_MAX_MESSAGE);
	lua_Integer timeout = luaL_optinteger(L, 3, -1);
	luaL_argcheck(L, cap >= 0 && cap <= 1 << 20, 2, "buffer size out of range");
	luaL_argcheck(L, timeout >= -1 && timeout <= 1 << 30, 3, "timeout out of range");
	if (le->down)
		return endpoint_push_down(L);
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
			observe_received(le, buf, (size_t)n);
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

static int endpoint_receive(lua_State *L)
{
	struct lendpoint *le = endpoint_open(L, endpoint_self(L, 1));
	lua_Integer timeout = luaL_optinteger(L, 2, -1);
	luaL_argcheck(L, timeout >= -1 && timeout <= 1 << 30, 2, "timeout out of range");
	struct ltask *t = rpmsg_task_current(L);
	if (!t)
		return luaL_error(L, "rpmsg: ep:receive must be called inside rpmsg.spawn "
				  "(ep:recv blocks the whole loop instead)");
	if (le->down)
		return endpoint_push_down(L);
	struct rpmsg_err e;
	if (rpmsg_endpoint_waiters(L, 1, le) == 0) {   /* nobody is ahead of us: take what is queued */
		char buf[RPMSG_MAX_MESSAGE];
		ssize_t n = rpmsg_ep_recv(le->ep, buf, sizeof buf, &e);
		if (n >= 0) {
			le->rt->messages_in++;
			size_t kept = rpmsg_endpoint_kept_length(le, n, sizeof buf);
			observe_received(le, buf, kept);
			lua_pushlstring(L, buf, kept);
			return 1;
		}
		if (n != -EAGAIN)
			return rpmsg_push_error(L, &e);
	} else if (le->ep->dead) {
		rpmsg_ep_recv(le->ep, NULL, 0, &e);
		return rpmsg_push_error(L, &e);
	}
	return rpmsg_endpoint_wait(L, 1, le, t, (int)timeout);
}

static int endpoint_set_flow(lua_State *L)
{
	struct lendpoint *le = endpoint_open(L, endpoint_self(L, 1));
	if (le->down)
		return endpoint_push_down(L);
	luaL_checktype(L, 2, LUA_TBOOLEAN);
	struct rpmsg_err e;
	if (rpmsg_ep_flow(le->ep, lua_toboolean(L, 2), NULL, &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

void rpmsg_endpoint_destroy(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_err *e, int *result)
{
	struct rpmsg_err unsent;
	rpmsg_endpoint_last_flush(le, &unsent);   /* the rest is reported by rpmsg_endpoint_closed() */
	*result = rpmsg_ep_destroy(le->ep, e);
	if (*result == 0)
		rpmsg_endpoint_closed(L, idx, le, "destroyed");
	else if (le->ep->dead)
		rpmsg_endpoint_closed(L, idx, le, endpoint_death_reason(le));
	else if (!outq_empty(&le->outq))
		rpmsg_endpoint_retry(&le->retry);   /* still open: back to retrying */
}

static int endpoint_destroy(lua_State *L)
{
	struct lendpoint *le = endpoint_open(L, endpoint_self(L, 1));
	if (le->down)
		return endpoint_push_down(L);
	if (endpoint_running_while_loading(le))
		return rpmsg_endpoint_stage(L, 1, le, STAGED_DESTROY);
	struct rpmsg_err e;
	int r;
	rpmsg_endpoint_destroy(L, 1, le, &e, &r);
	if (r < 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

/* Closes without calling Lua: queued messages get a last chance (the rest
 * is reported), an endpoint we made is destroyed. at_exit: log the destroy,
 * as the README promises for every endpoint at stop. */
static void endpoint_release_fd(struct lendpoint *le, bool at_exit)
{
	if (!le->ep)
		return;
	loop_io_stop(le->rt->loop, &le->io);
	struct rpmsg_err e;
	rpmsg_endpoint_last_flush(le, &e);
	rpmsg_endpoint_drop_queue(le, e.msg);   /* says nothing when nothing is left; frees the slots */
	if (le->owned && !le->ep->dead) {
		int r = rpmsg_ep_destroy(le->ep, &e);
		if (r == -EPIPE && at_exit)
			rpmsg_logf("endpoint '%s' (%s) was already gone with its remote", rpmsg_endpoint_label(le),
				   le->ep->path);
		else if (r < 0 && r != -EPIPE)
			rpmsg_logf("endpoint '%s' (%s) not destroyed: %s", rpmsg_endpoint_label(le), le->ep->path, e.msg);
		else if (r == 0 && at_exit)
			rpmsg_logf("destroyed endpoint '%s' (%s)", rpmsg_endpoint_label(le), le->ep->path);
	}
	rpmsg_ep_close(le->ep);
	le->ep = NULL;
}

size_t rpmsg_endpoint_close(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_err *unsent)
{
	if (!le->ep) {   /* down: nothing open, just stop waiting for it */
		le->down = false;
		rpmsg_endpoint_let_go(L, le);
		return 0;
	}
	size_t left = rpmsg_endpoint_last_flush(le, unsent);
	if (left) {
		struct rpmsg_err why = *unsent;
		rpmsg_fail(unsent, why.code, "endpoint '%s' closed with %zu queued message%s unsent: %s",
			   rpmsg_endpoint_label(le), left, left == 1 ? "" : "s", why.msg);
		rpmsg_logf("%s", unsent->msg);
		outq_free(&le->outq);
	}
	bool destroys = le->owned && !le->ep->dead;
	endpoint_release_fd(le, false);
	rpmsg_endpoint_closed(L, idx, le, destroys ? "destroyed" : "closed");
	rpmsg_endpoint_let_go(L, le);
	return left;
}

/* ep:close(): true; or, when queued messages could not be sent before the
 * fd went, nil, "endpoint 'x' closed with N queued messages unsent: ...",
 * and the error that stopped them (like close(2)'s EIO: closed anyway). */
static int endpoint_close(lua_State *L)
{
	struct lendpoint *le = endpoint_self(L, 1);
	if ((!le->ep && !le->down) ||
	    (endpoint_staged_closed(le) && (le->staged_ops & STAGED_CLOSE)))
		return 0;
	if (endpoint_running_while_loading(le))
		return rpmsg_endpoint_stage(L, 1, le, STAGED_CLOSE);
	struct rpmsg_err e;
	if (rpmsg_endpoint_close(L, 1, le, &e) > 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

void rpmsg_endpoint_release(lua_State *L, struct lendpoint *le)
{
	endpoint_release_fd(le, false);
	rpmsg_endpoint_let_go(L, le);
}

static int endpoint_gc(lua_State *L)
{
	endpoint_release_fd(endpoint_self(L, 1), true);
	return 0;
}

static int endpoint_tostring(lua_State *L)
{
	struct lendpoint *le = endpoint_self(L, 1);
	if (!le->ep)
		lua_pushliteral(L, "rpmsg.endpoint (closed)");
	else
		lua_pushfstring(L, "rpmsg.endpoint '%s' (%s, src %d, dst %d)", le->ep->info.name,
				le->ep->path, (int)le->ep->info.src, (int)le->ep->info.dst);
	return 1;
}

static void endpoints_collect(lua_State *L, int idx, void *ctx)
{
	(void)ctx;
	struct lendpoint *le = rpmsg_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (le && le->ep) {
		lua_pushvalue(L, idx);
		lua_rawseti(L, 1, (lua_Integer)luaL_len(L, 1) + 1);
	}
}

static int endpoints_by_name(lua_State *L)
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
	rpmsg_each_anchored(L, endpoints_collect, NULL);
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_pushvalue(L, 1);
	lua_pushcfunction(L, endpoints_by_name);
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

const luaL_Reg rpmsg_endpoint_methods[] = {
	{ "send", endpoint_send },
	{ "recv", endpoint_recv },
	{ "receive", endpoint_receive },
	{ "set_flow", endpoint_set_flow },
	{ "destroy", endpoint_destroy },
	{ "close", endpoint_close },
	{ "stats", rpmsg_endpoint_stats },
	{ NULL, NULL },
};

const luaL_Reg rpmsg_endpoint_metamethods[] = {
	{ "__gc", endpoint_gc },
	{ "__close", endpoint_close },
	{ "__tostring", endpoint_tostring },
	{ NULL, NULL },
};
