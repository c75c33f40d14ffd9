/* The endpoint userdata. Low level: send, recv (blocking, with a timeout),
 * destroy, close. Host level: once it has an on_message or on_close field the
 * loop watches its fd and dispatches each message; sends that meet EAGAIN wait
 * in a queue and are retried, never dropped. */
#include "lrpmsg.h"
#include "outq.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define DISPATCH_BATCH 64       /* messages per wakeup, so one busy endpoint cannot starve others */
#define RETRY_MS 1              /* virtio gives no POLLOUT: poll for a free buffer on a timer */

struct lendpoint {
	struct rpmsg_ep *ep;          /* NULL once closed */
	struct rpmsg_runtime *rt;
	struct loop_io io;
	struct loop_timer retry;
	struct outq outq;
	bool owned;                   /* made by rpmsg.endpoint{}: destroyed when closed */
	bool anchored;
	bool close_notified;
};

#define FROM_IO(p) ((struct lendpoint *)((char *)(p) - offsetof(struct lendpoint, io)))
#define FROM_TIMER(p) ((struct lendpoint *)((char *)(p) - offsetof(struct lendpoint, retry)))

static struct lendpoint *check_endpoint(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, RPMSG_ENDPOINT_TYPE);
}

static struct lendpoint *check_open(lua_State *L, int idx)
{
	struct lendpoint *le = check_endpoint(L, idx);
	if (!le->ep)
		luaL_error(L, "rpmsg: attempt to use a closed endpoint");
	return le;
}

static const char *label(const struct lendpoint *le)
{
	if (!le->ep)
		return "closed endpoint";
	return le->ep->info.name[0] ? le->ep->info.name : le->ep->path;
}

/* Pushes field `key` of the endpoint at idx (its uservalue table). */
static int get_field(lua_State *L, int idx, const char *key)
{
	lua_getiuservalue(L, idx, 1);
	int type = lua_getfield(L, -1, key);
	lua_remove(L, -2);
	return type;
}

static void keep_alive(lua_State *L, int idx, struct lendpoint *le)
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

/* Fires on_close(reason) once, and stops everything the loop held. */
static void closed(lua_State *L, int idx, struct lendpoint *le, const char *reason)
{
	struct loop *loop = le->rt->loop;
	loop_io_stop(loop, &le->io);
	loop_timer_stop(loop, &le->retry);
	if (!outq_empty(&le->outq))
		rpmsg_logf("endpoint '%s' %s with %zu queued messages unsent", label(le), reason,
			   le->outq.len);
	outq_free(&le->outq);
	if (le->close_notified)
		return;
	le->close_notified = true;
	if (get_field(L, idx, "on_close") == LUA_TFUNCTION) {
		lua_pushstring(L, reason);
		lua_pushvalue(L, idx);
		char what[96];
		snprintf(what, sizeof what, "on_close of endpoint '%.64s'", label(le));
		rpmsg_call(le->rt, 2, what);
	} else {
		lua_pop(L, 1);
	}
}

static const char *death_reason(const struct lendpoint *le)
{
	return le->ep && le->ep->destroyed_by_us ? "destroyed" : "remote gone";
}

static void dispatch(struct lendpoint *le, int idx, uint32_t events)
{
	lua_State *L = le->rt->L;
	char buf[RPMSG_MAX_MESSAGE];
	char what[96];
	what[0] = '\0';
	for (int i = 0; i < DISPATCH_BATCH && le->ep && !loop_stopping(le->rt->loop); i++) {
		if (!(le->io.events & LOOP_IN))
			break;  /* on_message went away: leave messages queued */
		struct rpmsg_err e;
		ssize_t n = rpmsg_ep_recv(le->ep, buf, sizeof buf, &e);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			closed(L, idx, le, e.code == EPIPE ? death_reason(le) : e.msg);
			return;
		}
		le->rt->messages_in++;
		get_field(L, idx, "on_message");
		lua_pushlstring(L, buf, (size_t)n);
		lua_pushvalue(L, idx);
		if (!what[0])
			snprintf(what, sizeof what, "on_message of endpoint '%.64s'", label(le));
		rpmsg_call(le->rt, 2, what);
	}
	/* With no on_message nothing is read, so closure shows only as ERR/HUP. */
	if (le->ep && !(le->io.events & LOOP_IN) && (events & (LOOP_ERR | LOOP_HUP))) {
		if (!le->ep->is_socket)
			rpmsg_ep_mark_dead(le->ep);
		closed(L, idx, le, death_reason(le));
	}
}

static void on_io(struct loop_io *io, uint32_t events)
{
	struct lendpoint *le = FROM_IO(io);
	lua_State *L = le->rt->L;
	/* On the stack for the whole dispatch: a handler may let go of it. */
	rpmsg_push_anchored(L, le);
	int idx = lua_gettop(L);
	dispatch(le, idx, events);
	lua_settop(L, idx - 1);
}

/* Starts or adjusts the watch to match the handlers present. */
static void update_watch(lua_State *L, int idx, struct lendpoint *le)
{
	if (!le->ep || le->close_notified)
		return;
	bool has_message = get_field(L, idx, "on_message") != LUA_TNIL;
	bool has_close = get_field(L, idx, "on_close") != LUA_TNIL;
	lua_pop(L, 2);
	uint32_t events = has_message ? LOOP_IN : 0;
	struct rpmsg_err e;
	if (le->io.active) {
		if (loop_io_modify(le->rt->loop, &le->io, events, &e) < 0)
			rpmsg_raise(L, &e);
	} else if (has_message || has_close) {
		keep_alive(L, idx, le);
		if (loop_io_start(le->rt->loop, &le->io, le->ep->fd, events, on_io, le, &e) < 0)
			rpmsg_raise(L, &e);
	}
}

static void flush(struct loop_timer *t)
{
	struct lendpoint *le = FROM_TIMER(t);
	struct outq_msg *m;
	while (le->ep && (m = outq_front(&le->outq))) {
		struct rpmsg_err e;
		int r = rpmsg_ep_send(le->ep, m->data, m->len, &e);
		if (r == -EAGAIN) {
			loop_timer_start(le->rt->loop, &le->retry, RETRY_MS, 0, &e);
			return;
		}
		if (r < 0) {
			rpmsg_logf("endpoint '%s': %s; %zu queued messages dropped", label(le), e.msg,
				   le->outq.len);
			outq_free(&le->outq);
			return;
		}
		le->rt->messages_out++;
		outq_pop(&le->outq);
	}
}

static int push_endpoint(lua_State *L, struct rpmsg_runtime *rt, struct rpmsg_ep *ep, bool owned)
{
	struct lendpoint *le = lua_newuserdatauv(L, sizeof *le, 1);
	memset(le, 0, sizeof *le);
	le->ep = ep;
	le->rt = rt;
	le->owned = owned;
	le->io.fd = -1;
	loop_timer_init(&le->retry, flush, le);
	lua_newtable(L);
	lua_setiuservalue(L, -2, 1);
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
	struct rpmsg_err e;
	/* Behind queued messages, to keep the order. */
	int r = outq_empty(&le->outq) ? rpmsg_ep_send(le->ep, msg, len, &e) : -EAGAIN;
	if (r == -EAGAIN && le->anchored) {
		int q = outq_push(&le->outq, msg, len);
		if (q < 0) {
			rpmsg_fail(&e, EAGAIN, "endpoint '%s': %d messages already wait for a "
				   "transmit buffer; nothing was sent", label(le), OUTQ_CAPACITY);
			return rpmsg_push_error(L, &e);
		}
		if (!loop_timer_armed(&le->retry))
			loop_timer_start(le->rt->loop, &le->retry, RETRY_MS, 0, &e);
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
	luaL_Buffer b;
	char *buf = luaL_buffinitsize(L, &b, (size_t)cap);
	struct rpmsg_err e;
	for (;;) {
		ssize_t n = rpmsg_ep_recv(le->ep, buf, (size_t)cap, &e);
		if (n >= 0) {
			le->rt->messages_in++;
			luaL_pushresultsize(&b, (size_t)n);
			return 1;
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

static int l_destroy(lua_State *L)
{
	struct lendpoint *le = check_open(L, 1);
	struct rpmsg_err e;
	if (rpmsg_ep_destroy(le->ep, &e) < 0) {
		int n = rpmsg_push_error(L, &e);
		if (le->ep->dead)
			closed(L, 1, le, death_reason(le));
		return n;
	}
	closed(L, 1, le, "destroyed");
	lua_pushboolean(L, 1);
	return 1;
}

/* Close without calling Lua: used by __gc. */
static void release(struct lendpoint *le)
{
	if (!le->ep)
		return;
	loop_io_stop(le->rt->loop, &le->io);
	loop_timer_stop(le->rt->loop, &le->retry);
	outq_free(&le->outq);
	struct rpmsg_err e;
	if (le->owned && !le->ep->dead && rpmsg_ep_destroy(le->ep, &e) < 0)
		rpmsg_logf("endpoint '%s': %s", label(le), e.msg);
	rpmsg_ep_close(le->ep);
	le->ep = NULL;
}

static int l_close(lua_State *L)
{
	struct lendpoint *le = check_endpoint(L, 1);
	if (!le->ep)
		return 0;
	flush(&le->retry);  /* a last chance for queued messages */
	bool destroys = le->owned && !le->ep->dead;
	release(le);
	closed(L, 1, le, destroys ? "destroyed" : "closed");
	let_go(L, le);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_gc(lua_State *L)
{
	struct lendpoint *le = check_endpoint(L, 1);
	if (le->ep && le->owned && !le->ep->dead)
		rpmsg_logf("destroyed endpoint '%s' (%s)", label(le), le->ep->path);
	release(le);
	return 0;
}

static int l_index(lua_State *L)
{
	struct lendpoint *le = check_endpoint(L, 1);
	const char *key = luaL_checkstring(L, 2);
	luaL_getmetafield(L, 1, "methods");
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (get_field(L, 1, key) != LUA_TNIL || !le->ep)
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

static int l_newindex(lua_State *L)
{
	struct lendpoint *le = check_endpoint(L, 1);
	const char *key = luaL_checkstring(L, 2);
	bool handler = strcmp(key, "on_message") == 0 || strcmp(key, "on_close") == 0;
	if (handler && !lua_isnil(L, 3) && !lua_isfunction(L, 3))
		return luaL_error(L, "rpmsg: %s must be a function or nil, got %s", key,
				  luaL_typename(L, 3));
	lua_getiuservalue(L, 1, 1);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_rawset(L, -3);
	if (handler)
		update_watch(L, 1, le);
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

int rpmsg_l_open_endpoint(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	int index;
	const char *path = rpmsg_check_device(L, 1, &index);
	struct rpmsg_err e;
	struct rpmsg_ep *ep = rpmsg_ep_open(rt->backend, path, index, &e);
	if (!ep)
		return rpmsg_push_error(L, &e);
	return push_endpoint(L, rt, ep, false);
}

int rpmsg_l_pair(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	struct rpmsg_ep *a, *b;
	struct rpmsg_err e;
	if (rpmsg_ep_pair(&a, &b, &e) < 0)
		return rpmsg_push_error(L, &e);
	push_endpoint(L, rt, a, false);
	push_endpoint(L, rt, b, false);
	return 2;
}

/* Creates the endpoint of spec through its control device and opens it. */
static struct rpmsg_ep *create_and_open(lua_State *L, struct rpmsg_runtime *rt, int spec,
					struct rpmsg_err *e)
{
	int ctrl_index = 0;
	const char *ctrl_path = NULL;
	lua_getfield(L, spec, "ctrl");
	ctrl_path = rpmsg_check_device(L, -1, &ctrl_index);
	if (lua_getfield(L, spec, "dst") == LUA_TNIL)
		luaL_error(L, "rpmsg: endpoint{} needs a dst address");
	lua_pop(L, 1);
	struct rpmsg_info info;
	rpmsg_check_info(L, spec, &info, RPMSG_ANY);
	struct rpmsg_ctrl *ctrl = rpmsg_ctrl_open(rt->backend, ctrl_path, ctrl_index, e);
	lua_pop(L, 1);
	if (!ctrl)
		return NULL;
	struct rpmsg_ep *ep = NULL;
	int dev = rpmsg_ctrl_create(ctrl, &info, e);
	if (dev >= 0) {
		ep = rpmsg_ep_open(rt->backend, NULL, dev, e);
		struct rpmsg_err ignored;
		if (!ep)  /* leave nothing behind that nobody holds */
			rpmsg_ctrl_destroy(ctrl, &info, &ignored);
	}
	rpmsg_ctrl_close(ctrl);
	return ep;
}

int rpmsg_l_endpoint(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	struct rpmsg_err e;
	struct rpmsg_ep *ep;
	bool owned;
	if (lua_getfield(L, 1, "dev") != LUA_TNIL) {
		/* An existing /dev/rpmsgN: watched, but not ours to destroy. */
		int index;
		const char *path = rpmsg_check_device(L, -1, &index);
		ep = rpmsg_ep_open(rt->backend, path, index, &e);
		owned = false;
	} else {
		ep = create_and_open(L, rt, 1, &e);
		owned = true;
	}
	lua_pop(L, 1);
	if (!ep)
		return rpmsg_push_error(L, &e);
	push_endpoint(L, rt, ep, owned);
	int idx = lua_gettop(L);
	struct lendpoint *le = lua_touserdata(L, idx);
	keep_alive(L, idx, le);
	static const char *const handlers[] = { "on_message", "on_close", NULL };
	for (int i = 0; handlers[i]; i++) {
		lua_getfield(L, 1, handlers[i]);
		lua_setfield(L, idx, handlers[i]);
	}
	return 1;
}

void rpmsg_endpoint_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "send", l_send },
		{ "recv", l_recv },
		{ "destroy", l_destroy },
		{ "close", l_close },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__index", l_index },
		{ "__newindex", l_newindex },
		{ "__gc", l_gc },
		{ "__close", l_close },
		{ "__tostring", l_tostring },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_ENDPOINT_TYPE);
	luaL_setfuncs(L, meta, 0);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
