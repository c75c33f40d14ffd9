/* SPDX-License-Identifier: MIT */
/* rpmsg.endpoint{}: declaring an endpoint creates it through its control
 * device, finds its node and opens it (device_decl.c); one declared by
 * service waits for its announcement inside a task (l_channel.c). During a reload a
 * declaration that matches an endpoint the running generation holds adopts
 * it instead, with its handlers staged until the new generation commits;
 * the end of the reload applies or forgets what the load staged. */
#include "l_endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A service's spec: the name it was announced under; the local name
 * defaults to it, dst is the announced address, ctrl is any remote's
 * unless given. */
static void parse_service(lua_State *L, int spec, struct endpoint_decl *d)
{
	size_t len;
	const char *service = luaL_checklstring(L, -1, &len);
	if (len == 0 || len > RPMSG_NAME_MAX || strlen(service) != len)
		luaL_error(L, "rpmsg: service name '%s' must be 1 to %d bytes", service, RPMSG_NAME_MAX);
	memcpy(d->service, service, len + 1);
	lua_pop(L, 1);
	if (lua_getfield(L, spec, "dst") != LUA_TNIL)
		luaL_error(L, "rpmsg: endpoint{service = '%s'} takes its dst from the announcement: "
			   "drop dst", service);
	lua_pop(L, 1);
	d->ctrl_index = -1;
	if (lua_getfield(L, spec, "ctrl") != LUA_TNIL) {
		const char *path = rpmsg_check_device(L, -1, &d->ctrl_index);
		if (path && (d->ctrl_index = rpmsg_parse_index(path, "rpmsg_ctrl")) < 0)
			luaL_error(L, "rpmsg: %s is not named rpmsg_ctrlN", path);
	}
	lua_getfield(L, spec, "bind");
	d->bind = lua_toboolean(L, -1);
	lua_pop(L, 2);
	/* name and src, checked as for any endpoint, from a table of their own
	 * (the script's spec is left as it was) */
	lua_createtable(L, 0, 2);
	if (lua_getfield(L, spec, "name") == LUA_TNIL) {
		lua_pop(L, 1);
		lua_pushstring(L, d->service);
	}
	lua_setfield(L, -2, "name");
	lua_getfield(L, spec, "src");
	lua_setfield(L, -2, "src");
	rpmsg_check_info(L, lua_gettop(L), &d->info, RPMSG_ANY);
	lua_pop(L, 1);
}

/* Reads ctrl (or remoteproc), name, src and dst of an endpoint{} spec, or
 * the service it names. */
static void parse_decl(lua_State *L, int spec, struct endpoint_decl *d)
{
	memset(d, 0, sizeof *d);
	if (lua_getfield(L, spec, "remoteproc") != LUA_TNIL) {
		size_t len;
		const char *name = luaL_checklstring(L, -1, &len);
		if (len >= sizeof d->rproc)
			luaL_error(L, "rpmsg: remoteproc name '%s' is too long", name);
		memcpy(d->rproc, name, len);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, spec, "service") != LUA_TNIL)
		return parse_service(L, spec, d);
	lua_pop(L, 1);
	lua_pushnil(L);   /* parse_decl pops three below */
	lua_getfield(L, spec, "ctrl");
	const char *path = rpmsg_check_device(L, -1, &d->ctrl_index);
	if (path)
		snprintf(d->ctrl_path, sizeof d->ctrl_path, "%s", path);
	if (lua_getfield(L, spec, "dst") == LUA_TNIL)
		luaL_error(L, "rpmsg: endpoint{} needs a dst address");
	lua_pop(L, 3);
	rpmsg_check_info(L, spec, &d->info, RPMSG_ANY);
}

/* An endpoint{} spec, read once: what to open or create, and what
 * identifies it across reloads: (ctrl, name, src, dst) for one we create,
 * the node for one we open, the fd for one we were given. */
struct decl {
	enum { DECL_CREATE, DECL_DEV, DECL_FD } kind;
	int fd;                   /* DECL_FD */
	const char *dev_path;     /* DECL_DEV: the path given (held by the spec), or NULL */
	int dev_arg;              /* DECL_DEV: the number given, when no path */
	int dev_index;            /* DECL_DEV: N of rpmsgN either way, -1 if none */
	struct endpoint_decl create;
	lua_Integer timeout_ms;   /* a service's wait for its announcement, inside a task */
	struct lendpoint *match;
	int match_idx;
};

static void read_decl(lua_State *L, int spec, struct decl *d)
{
	memset(d, 0, sizeof *d);
	if (lua_getfield(L, spec, "fd") != LUA_TNIL) {
		lua_Integer fd = luaL_checkinteger(L, -1);
		luaL_argcheck(L, fd >= 0 && fd < 1 << 30, 1, "fd out of range");
		d->kind = DECL_FD;
		d->fd = (int)fd;
	} else if (lua_getfield(L, spec, "dev") != LUA_TNIL) {
		d->kind = DECL_DEV;
		d->dev_path = rpmsg_check_device(L, -1, &d->dev_arg);
		d->dev_index = d->dev_path ? rpmsg_parse_index(d->dev_path, "rpmsg") : d->dev_arg;
		lua_pop(L, 1);
	} else {
		d->kind = DECL_CREATE;
		lua_pop(L, 1);
		parse_decl(L, spec, &d->create);
	}
	lua_pop(L, 1);
	d->timeout_ms = 5000;   /* a service's wait, inside a task */
	if (d->kind != DECL_CREATE || !d->create.service[0])
		return;
	if (lua_getfield(L, spec, "timeout") != LUA_TNIL) {
		d->timeout_ms = luaL_checkinteger(L, -1);
		luaL_argcheck(L, d->timeout_ms >= 0, 1, "timeout must not be negative");
	}
	lua_pop(L, 1);
}

static void find_adoptable(lua_State *L, int idx, void *ctx)
{
	struct decl *d = ctx;
	struct lendpoint *le = rpmsg_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (!le || d->match || (!le->ep && !le->down) || (le->ep && le->ep->dead) ||
	    le->gen != rpmsg_gen_running(le->rt) || le->adopted_gen == rpmsg_gen_loading(le->rt) ||
	    (le->owned || le->decl.service[0]) != (d->kind == DECL_CREATE))
		return;
	const struct rpmsg_ep *ep = le->ep;
	bool same;
	switch (d->kind) {
	case DECL_FD:
		same = ep && ep->fd == d->fd;
		break;
	case DECL_DEV:
		same = ep && ep->index == d->dev_index;
		break;
	default:
		same = rpmsg_decl_equal(&le->decl, &d->create);
	}
	if (same) {
		d->match = le;
		lua_pushvalue(L, idx);
		lua_replace(L, d->match_idx);
	}
}

/* During a reload: the endpoint the running generation already holds for
 * this declaration, pushed, or nothing. */
static bool adopt(lua_State *L, struct rpmsg_runtime *rt, struct decl *d)
{
	lua_pushnil(L);
	d->match_idx = lua_gettop(L);
	rpmsg_each_anchored(L, find_adoptable, d);
	if (!d->match) {
		lua_pop(L, 1);
		return false;
	}
	/* Its fields start empty: the new generation sets its own handlers. */
	d->match->adopted_gen = d->match->fields_gen = rpmsg_gen_loading(rt);
	lua_newtable(L);
	lua_setiuservalue(L, d->match_idx, STAGED_FIELDS);
	/* Closed earlier in this load and declared again: it stays. */
	if (d->match->staged_gen == rpmsg_gen_loading(rt))
		d->match->staged_ops = 0;
	return true;
}

static void set_handlers_from(lua_State *L, int spec, int idx)
{
	static const char *const handlers[] = { "on_message", "on_close", "on_open", "on_flow", NULL };
	for (int i = 0; handlers[i]; i++) {
		lua_getfield(L, spec, handlers[i]);
		lua_setfield(L, idx, handlers[i]);
	}
}

static int declare(lua_State *L, uint64_t deadline_ms);

static int declare_again(lua_State *L, int status, lua_KContext deadline_ms)
{
	(void)status;
	lua_settop(L, 1);
	return declare(L, (uint64_t)deadline_ms);
}

/* A service not announced yet: inside a task, wait for it; else say what
 * was announced. Returns 0 when the declaration goes on. */
static int service_not_there(lua_State *L, struct rpmsg_runtime *rt, struct decl *d,
			     uint64_t deadline_ms)
{
	struct rpmsg_channel ch;
	if (rpmsg_service_find(rt->backend, &d->create, &ch))
		return 0;
	rpmsg_channel_wait(L, rt, deadline_ms, (lua_KContext)deadline_ms, declare_again);   /* yields */
	char list[200];
	rpmsg_service_announced(rt->backend, list, sizeof list);
	struct rpmsg_err e;
	const char *where = d->create.rproc[0] ? " on " : "";
	if (rpmsg_task_current(L) && d->timeout_ms > 0)
		rpmsg_fail(&e, ETIMEDOUT, "service '%s'%s%s was not announced within %lld ms (announced: %s)",
			   d->create.service, where, d->create.rproc, (long long)d->timeout_ms, list);
	else
		rpmsg_fail(&e, ENOENT, "service '%s'%s%s is not announced (announced: %s)%s",
			   d->create.service, where, d->create.rproc, list,
			   rpmsg_task_current(L) ? "" : "; to wait for it, declare it inside rpmsg.spawn");
	return rpmsg_push_error(L, &e);
}

int rpmsg_l_endpoint(lua_State *L)
{
	return declare(L, 0);
}

/* deadline_ms: when a service's wait ends; 0 on the first call. */
static int declare(lua_State *L, uint64_t deadline_ms)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	struct decl d;
	read_decl(L, 1, &d);
	if (rpmsg_gen_loading(rt) && adopt(L, rt, &d)) {
		set_handlers_from(L, 1, lua_gettop(L));
		return 1;
	}
	if (d.kind == DECL_CREATE && d.create.service[0]) {
		rpmsg_channel_log_notices();
		if (!deadline_ms)
			deadline_ms = rpmsg_now_ms() + (uint64_t)d.timeout_ms;
		int n = service_not_there(L, rt, &d, deadline_ms);
		if (n)
			return n;
	}
	struct rpmsg_err e;
	struct rpmsg_ep *ep;
	switch (d.kind) {
	case DECL_FD:    /* an fd we were given: watched, never destroyed, closed with us */
		ep = rpmsg_ep_adopt(d.fd, &e);
		break;
	case DECL_DEV:   /* an existing /dev/rpmsgN: watched, but not ours to destroy */
		ep = rpmsg_ep_open(rt->backend, d.dev_path, d.dev_arg, &e);
		break;
	default:
		ep = rpmsg_decl_create(rt->backend, &d.create, &e);
	}
	/* A service's node made by the kernel is opened, not ours to destroy,
	 * yet recovered like any declared endpoint. */
	bool declared = d.kind == DECL_CREATE;
	bool owned = declared && (!d.create.service[0] || (ep && ep->created));
	lua_getfield(L, 1, "recover");
	bool recover = declared && (lua_isnil(L, -1) || lua_toboolean(L, -1));
	lua_settop(L, 1);
	if (!ep)
		return rpmsg_push_error(L, &e);
	rpmsg_push_endpoint(L, rt, ep, owned);
	int idx = lua_gettop(L);
	struct lendpoint *le = lua_touserdata(L, idx);
	le->decl = d.create;   /* zeroed unless created */
	le->recover = recover;
	rpmsg_endpoint_keep(L, idx, le);
	set_handlers_from(L, 1, idx);
	return 1;
}

/* ---- the end of a reload ------------------------------------------------ */

static void stage_forget(lua_State *L, int idx, struct lendpoint *le)
{
	lua_pushnil(L);
	lua_setiuservalue(L, idx, STAGED_FIELDS);
	le->adopted_gen = le->fields_gen = le->staged_gen = 0;
	le->staged_ops = 0;
	if (le->staged_anchor) {
		le->staged_anchor = false;
		rpmsg_endpoint_let_go(L, le);
	}
}

static void stage_abort(lua_State *L, int idx, struct lendpoint *le)
{
	stage_forget(L, idx, le);
}

static void stage_commit(lua_State *L, int idx, struct lendpoint *le)
{
	struct rpmsg_runtime *rt = le->rt;
	bool adopted = le->adopted_gen == rpmsg_gen_loading(rt);
	unsigned ops = le->staged_gen == rpmsg_gen_loading(rt) ? le->staged_ops : 0;
	/* Anchored only by the staging: the reload never meant to close it. */
	bool kept_by_script = le->staged_anchor;
	if (le->fields_gen == rpmsg_gen_loading(rt)) {   /* the new fields replace the old wholesale */
		lua_getiuservalue(L, idx, STAGED_FIELDS);
		lua_setiuservalue(L, idx, LIVE_FIELDS);
	}
	stage_forget(L, idx, le);
	if (adopted)
		le->gen = rpmsg_gen_loading(rt);
	struct rpmsg_err e;
	if ((ops & STAGED_DESTROY) && le->ep) {
		int r;
		rpmsg_endpoint_destroy(L, idx, le, &e, &r);
		if (r < 0)
			rpmsg_logf("endpoint '%s': %s", rpmsg_endpoint_label(le), e.msg);
	}
	if ((ops & STAGED_CLOSE) || (!adopted && !kept_by_script)) {
		/* Closed by the new script, or declared by the old one only. */
		rpmsg_endpoint_close(L, idx, le, &e);
		return;
	}
	rpmsg_endpoint_update_watch(L, idx, le);
}

void rpmsg_endpoint_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	struct lendpoint *le = lua_touserdata(L, idx);
	if (!le)
		return;
	if (how == RPMSG_RETIRE_ABORT) {
		stage_abort(L, idx, le);
		if (le->gen == rpmsg_gen_loading(rt))   /* declared by the failed load: undo it */
			rpmsg_endpoint_release(L, le);
		return;
	}
	if (le->gen != rpmsg_gen_running(rt) || (!le->ep && !le->down))
		stage_abort(L, idx, le);   /* nothing of the old generation to hand over */
	else
		stage_commit(L, idx, le);
}
