/* rpmsg.endpoint{}: declaring an endpoint creates it through its control
 * device, finds its node and opens it. During a reload a declaration that
 * matches an endpoint the running generation holds adopts it instead, with
 * its handlers staged until the new generation commits. */
#include "l_endpoint.h"

#include <string.h>

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

/* What identifies a declared endpoint across reloads: (ctrl, name, src,
 * dst) for one we create, the node for one we open. */
struct decl {
	enum { DECL_CREATE, DECL_DEV, DECL_FD } kind;
	int index;            /* ctrl index, dev index, or fd */
	struct rpmsg_info info;
	struct lendpoint *match;
	int match_idx;
};

static void read_decl(lua_State *L, int spec, struct decl *d)
{
	memset(d, 0, sizeof *d);
	d->index = -1;
	if (lua_getfield(L, spec, "fd") != LUA_TNIL) {
		d->kind = DECL_FD;
		d->index = (int)luaL_checkinteger(L, -1);
		lua_pop(L, 1);
		return;
	}
	lua_pop(L, 1);
	d->kind = lua_getfield(L, spec, "dev") != LUA_TNIL ? DECL_DEV : DECL_CREATE;
	if (d->kind == DECL_CREATE) {
		lua_pop(L, 1);
		lua_getfield(L, spec, "ctrl");
	}
	int index;
	const char *path = rpmsg_check_device(L, -1, &index);
	d->index = path ? rpmsg_parse_index(path, d->kind == DECL_DEV ? "rpmsg" : "rpmsg_ctrl") : index;
	lua_pop(L, 1);
	if (d->kind == DECL_CREATE && lua_getfield(L, spec, "dst") != LUA_TNIL)
		rpmsg_check_info(L, spec, &d->info, RPMSG_ANY);
	if (d->kind == DECL_CREATE)
		lua_pop(L, 1);
}

static void find_adoptable(lua_State *L, int idx, void *ctx)
{
	struct decl *d = ctx;
	struct lendpoint *le = luaL_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (!le || d->match || !le->ep || le->ep->dead || le->gen != le->rt->gen ||
	    le->adopted_gen == le->rt->load_gen || le->owned != (d->kind == DECL_CREATE))
		return;
	const struct rpmsg_ep *ep = le->ep;
	bool same;
	switch (d->kind) {
	case DECL_FD:
		same = ep->fd == d->index;
		break;
	case DECL_DEV:
		same = ep->index == d->index;
		break;
	default:
		same = ep->ctrl_index == d->index && ep->info.src == d->info.src &&
		       ep->info.dst == d->info.dst && strcmp(ep->info.name, d->info.name) == 0;
	}
	if (same) {
		d->match = le;
		lua_pushvalue(L, idx);
		lua_replace(L, d->match_idx);
	}
}

/* During a reload: the endpoint the running generation already holds for
 * this declaration, pushed, or nothing. */
static bool adopt(lua_State *L, struct rpmsg_runtime *rt, int spec)
{
	struct decl d;
	read_decl(L, spec, &d);
	lua_pushnil(L);
	d.match_idx = lua_gettop(L);
	rpmsg_each_anchored(L, find_adoptable, &d);
	if (!d.match) {
		lua_pop(L, 1);
		return false;
	}
	d.match->adopted_gen = rt->load_gen;
	lua_newtable(L);
	lua_setiuservalue(L, d.match_idx, STAGED_FIELDS);
	return true;
}

static void set_handlers_from(lua_State *L, int spec, int idx)
{
	static const char *const handlers[] = { "on_message", "on_close", NULL };
	for (int i = 0; handlers[i]; i++) {
		lua_getfield(L, spec, handlers[i]);
		lua_setfield(L, idx, handlers[i]);
	}
}

int rpmsg_l_endpoint(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	if (rt->loading && adopt(L, rt, 1)) {
		set_handlers_from(L, 1, lua_gettop(L));
		return 1;
	}
	struct rpmsg_err e;
	struct rpmsg_ep *ep;
	bool owned;
	if (lua_getfield(L, 1, "fd") != LUA_TNIL) {
		/* An fd we were given: watched, never destroyed, closed with us. */
		lua_Integer fd = luaL_checkinteger(L, -1);
		luaL_argcheck(L, fd >= 0 && fd < 1 << 30, 1, "fd out of range");
		ep = rpmsg_ep_adopt((int)fd, &e);
		owned = false;
	} else if (lua_getfield(L, 1, "dev") != LUA_TNIL) {
		/* An existing /dev/rpmsgN: watched, but not ours to destroy. */
		int index;
		const char *path = rpmsg_check_device(L, -1, &index);
		ep = rpmsg_ep_open(rt->backend, path, index, &e);
		owned = false;
	} else {
		ep = create_and_open(L, rt, 1, &e);
		owned = true;
	}
	lua_settop(L, 1);
	if (!ep)
		return rpmsg_push_error(L, &e);
	rpmsg_push_endpoint(L, rt, ep, owned);
	int idx = lua_gettop(L);
	struct lendpoint *le = lua_touserdata(L, idx);
	rpmsg_endpoint_keep(L, idx, le);
	set_handlers_from(L, 1, idx);
	return 1;
}

void rpmsg_endpoint_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	struct lendpoint *le = luaL_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (!le)
		return;
	bool adopted = le->adopted_gen == rt->load_gen;
	le->adopted_gen = 0;
	if (how == RPMSG_RETIRE_ABORT) {
		lua_pushnil(L);
		lua_setiuservalue(L, idx, STAGED_FIELDS);
		if (le->gen == rt->load_gen)   /* declared by the failed load: undo it */
			rpmsg_endpoint_release(L, le);
		return;
	}
	if (le->gen != rt->gen || !le->ep)
		return;
	if (adopted) {
		/* The new generation's fields replace the old ones wholesale. */
		lua_getiuservalue(L, idx, STAGED_FIELDS);
		lua_setiuservalue(L, idx, LIVE_FIELDS);
		lua_pushnil(L);
		lua_setiuservalue(L, idx, STAGED_FIELDS);
		le->gen = rt->load_gen;
		rpmsg_endpoint_update_watch(L, idx, le);
	} else {
		/* Declared by the old generation only: no longer wanted. */
		rpmsg_endpoint_close(L, idx, le);
	}
}

