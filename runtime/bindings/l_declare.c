/* rpmsg.endpoint{}: declaring an endpoint creates it through its control
 * device, finds its node and opens it. During a reload a declaration that
 * matches an endpoint the running generation holds adopts it instead, with
 * its handlers staged until the new generation commits. */
#include "l_endpoint.h"
#include "remoteproc.h"

#include <stdio.h>
#include <string.h>

/* Reads ctrl (or remoteproc), name, src and dst of an endpoint{} spec. */
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
	lua_getfield(L, spec, "ctrl");
	const char *path = rpmsg_check_device(L, -1, &d->ctrl_index);
	if (path)
		snprintf(d->ctrl_path, sizeof d->ctrl_path, "%s", path);
	if (lua_getfield(L, spec, "dst") == LUA_TNIL)
		luaL_error(L, "rpmsg: endpoint{} needs a dst address");
	lua_pop(L, 3);
	rpmsg_check_info(L, spec, &d->info, RPMSG_ANY);
}

struct rpmsg_ep *rpmsg_endpoint_create(struct rpmsg_runtime *rt, const struct endpoint_decl *d,
				       struct rpmsg_err *e)
{
	int ctrl_index = d->ctrl_index;
	if (d->rproc[0]) {   /* whatever number its control device has today */
		struct rproc r;
		if (rproc_find(d->rproc, 0, &r, e) < 0 || (ctrl_index = rproc_ctrl_index(&r, e)) < 0)
			return NULL;
	}
	struct rpmsg_ctrl *ctrl = rpmsg_ctrl_open(rt->backend, d->ctrl_path[0] ? d->ctrl_path : NULL,
						  ctrl_index, e);
	if (!ctrl)
		return NULL;
	struct rpmsg_ep *ep = NULL;
	int dev = rpmsg_ctrl_create(ctrl, &d->info, e);
	if (dev >= 0) {
		ep = rpmsg_ep_open(rt->backend, NULL, dev, e);
		struct rpmsg_err ignored;
		if (!ep)  /* leave nothing behind that nobody holds */
			rpmsg_ctrl_destroy(ctrl, &d->info, &ignored);
	}
	rpmsg_ctrl_close(ctrl);
	return ep;
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
}

static bool same_decl(const struct endpoint_decl *a, const struct endpoint_decl *b)
{
	return a->ctrl_index == b->ctrl_index && strcmp(a->ctrl_path, b->ctrl_path) == 0 &&
	       strcmp(a->rproc, b->rproc) == 0 && rpmsg_info_equal(&a->info, &b->info);
}

static void find_adoptable(lua_State *L, int idx, void *ctx)
{
	struct decl *d = ctx;
	struct lendpoint *le = luaL_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (!le || d->match || (!le->ep && !le->down) || (le->ep && le->ep->dead) ||
	    le->gen != le->rt->gen || le->adopted_gen == le->rt->load_gen ||
	    le->owned != (d->kind == DECL_CREATE))
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
		same = same_decl(&le->decl, &d->create);
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
	d->match->adopted_gen = d->match->fields_gen = rt->load_gen;
	lua_newtable(L);
	lua_setiuservalue(L, d->match_idx, STAGED_FIELDS);
	/* Closed earlier in this load and declared again: it stays. */
	if (d->match->staged_gen == rt->load_gen)
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

int rpmsg_l_endpoint(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	struct decl d;
	read_decl(L, 1, &d);
	if (rt->loading && adopt(L, rt, &d)) {
		set_handlers_from(L, 1, lua_gettop(L));
		return 1;
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
		ep = rpmsg_endpoint_create(rt, &d.create, &e);
	}
	bool owned = d.kind == DECL_CREATE;
	lua_getfield(L, 1, "recover");
	bool recover = owned && (lua_isnil(L, -1) || lua_toboolean(L, -1));
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

void rpmsg_endpoint_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	struct lendpoint *le = luaL_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (!le)
		return;
	if (how == RPMSG_RETIRE_ABORT) {
		rpmsg_endpoint_abort(L, idx, le);
		if (le->gen == rt->load_gen)   /* declared by the failed load: undo it */
			rpmsg_endpoint_release(L, le);
		return;
	}
	if (le->gen != rt->gen || (!le->ep && !le->down))
		rpmsg_endpoint_abort(L, idx, le);   /* nothing of the old generation to hand over */
	else
		rpmsg_endpoint_commit(L, idx, le);
}
