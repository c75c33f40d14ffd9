/* SPDX-License-Identifier: MIT */
/* The control-device userdata: rpmsg.open_ctrl(n or path) and its methods
 * create_endpoint, destroy_endpoint and close. Owns one fd, liolib-style:
 * a NULL ctrl marks it closed, and __gc and __close share one function. */
#include "lrpmsg.h"

#include <string.h>

struct lctrl {
	struct rpmsg_ctrl *ctrl;
};

static struct lctrl *ctrl_check_open(lua_State *L)
{
	struct lctrl *c = luaL_checkudata(L, 1, RPMSG_CTRL_TYPE);
	if (!c->ctrl)
		luaL_error(L, "rpmsg: attempt to use a closed control device");
	return c;
}

int rpmsg_l_open_ctrl(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	int index;
	const char *path = rpmsg_check_device(L, 1, &index);
	struct lctrl *c = lua_newuserdatauv(L, sizeof *c, 0);
	c->ctrl = NULL;
	rpmsg_setkind(L, RPMSG_CTRL_TYPE, rpmsg_ctrl_register);
	struct rpmsg_err e;
	c->ctrl = rpmsg_ctrl_open(rt->backend, path, index, &e);
	if (!c->ctrl)
		return rpmsg_push_error(L, &e);
	return 1;
}

static int ctrl_create_endpoint(lua_State *L)
{
	struct lctrl *c = ctrl_check_open(L);
	struct rpmsg_info info;
	rpmsg_check_info_args(L, 2, &info);
	struct rpmsg_err e;
	int dev = rpmsg_ctrl_create(c->ctrl, &info, &e);
	if (dev < 0)
		return rpmsg_push_error(L, &e);
	lua_pushinteger(L, dev);
	return 1;
}

static int ctrl_destroy_endpoint(lua_State *L)
{
	struct lctrl *c = ctrl_check_open(L);
	struct rpmsg_info info;
	rpmsg_check_info_args(L, 2, &info);
	struct rpmsg_err e;
	if (rpmsg_ctrl_destroy(c->ctrl, &info, &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

static int ctrl_channel(lua_State *L, bool create)
{
	struct lctrl *c = ctrl_check_open(L);
	struct rpmsg_info info;
	rpmsg_check_info_args(L, 2, &info);
	struct rpmsg_err e;
	if (rpmsg_ctrl_channel(c->ctrl, &info, create, &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

static int ctrl_create_dev(lua_State *L) { return ctrl_channel(L, true); }
static int ctrl_release_dev(lua_State *L) { return ctrl_channel(L, false); }

static int ctrl_close(lua_State *L)
{
	struct lctrl *c = luaL_checkudata(L, 1, RPMSG_CTRL_TYPE);
	if (c->ctrl) {
		rpmsg_ctrl_close(c->ctrl);
		c->ctrl = NULL;
	}
	return 0;
}

static int ctrl_index(lua_State *L)
{
	struct lctrl *c = luaL_checkudata(L, 1, RPMSG_CTRL_TYPE);
	const char *key = luaL_checkstring(L, 2);
	if (luaL_getmetafield(L, 1, "methods") != LUA_TNIL) {
		lua_getfield(L, -1, key);
		if (!lua_isnil(L, -1))
			return 1;
	}
	if (c->ctrl && strcmp(key, "index") == 0)
		lua_pushinteger(L, c->ctrl->index);
	else if (c->ctrl && strcmp(key, "path") == 0)
		lua_pushstring(L, c->ctrl->path);
	else
		lua_pushnil(L);
	return 1;
}

static int ctrl_tostring(lua_State *L)
{
	struct lctrl *c = luaL_checkudata(L, 1, RPMSG_CTRL_TYPE);
	if (c->ctrl)
		lua_pushfstring(L, "rpmsg.ctrl (%s)", c->ctrl->path);
	else
		lua_pushliteral(L, "rpmsg.ctrl (closed)");
	return 1;
}

void rpmsg_ctrl_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "create_endpoint", ctrl_create_endpoint },
		{ "destroy_endpoint", ctrl_destroy_endpoint },
		{ "create_dev", ctrl_create_dev },
		{ "release_dev", ctrl_release_dev },
		{ "close", ctrl_close },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__index", ctrl_index },
		{ "__gc", ctrl_close },
		{ "__close", ctrl_close },
		{ "__tostring", ctrl_tostring },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_CTRL_TYPE);
	luaL_setfuncs(L, meta, 0);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
