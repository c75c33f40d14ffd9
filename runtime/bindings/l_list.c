/* SPDX-License-Identifier: MIT */
/* rpmsg.list(): what the runtime's backend has now (control devices and the
 * endpoints under them, the channels the remote announced) and the
 * machine's remoteprocs, for people (`rpmsg-lua
 * list`) and for scripts. Under --sim it lists the simulation. */
#include "lrpmsg.h"
#include "remoteproc.h"

static void set_address(lua_State *L, const char *field, unsigned addr)
{
	lua_pushinteger(L, addr);
	lua_setfield(L, -2, field);
}

struct list_ctx {
	lua_State *L;
	struct rpmsg_backend *backend;
	int ctrl;
};

static int list_endpoint(int dev_index, const char *path, const struct rpmsg_info *info, void *ctx)
{
	struct list_ctx *c = ctx;
	lua_State *L = c->L;
	lua_createtable(L, 0, 5);
	lua_pushstring(L, info->name);
	lua_setfield(L, -2, "name");
	set_address(L, "src", info->src);
	set_address(L, "dst", info->dst);
	(void)dev_index;
	lua_pushstring(L, path);
	lua_setfield(L, -2, "dev");
	lua_pushinteger(L, c->ctrl);
	lua_setfield(L, -2, "ctrl");
	lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
	return 0;
}

static int list_ctrl(int index, const char *path, void *ctx)
{
	struct list_ctx *c = ctx;
	lua_State *L = c->L;   /* stack: ctrls, endpoints */
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, index);
	lua_setfield(L, -2, "index");
	lua_pushstring(L, path);
	lua_setfield(L, -2, "dev");
	lua_rawseti(L, -3, (lua_Integer)luaL_len(L, -3) + 1);
	c->ctrl = index;
	rpmsg_each_endpoint(c->backend, index, list_endpoint, c);
	return 0;
}

static int list_rproc(const struct rproc *r, void *ctx)
{
	lua_State *L = ctx;
	struct rpmsg_err e;
	char buf[256];
	lua_createtable(L, 0, 5);
	lua_pushstring(L, r->name);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, r->index);
	lua_setfield(L, -2, "index");
	static const char *const attrs[] = { "state", "firmware", NULL };
	for (int i = 0; attrs[i]; i++) {
		if (rproc_read(r, attrs[i], buf, sizeof buf, &e) == 0) {
			lua_pushstring(L, buf);
			lua_setfield(L, -2, attrs[i]);
		}
	}
	int ctrl = rproc_ctrl_index(r, &e);
	if (ctrl >= 0) {
		lua_pushinteger(L, ctrl);
		lua_setfield(L, -2, "ctrl");
	}
	lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
	return 0;
}

static int list_channel(const struct rpmsg_channel *ch, void *ctx)
{
	lua_State *L = ctx;
	rpmsg_push_channel(L, ch);
	lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
	return 0;
}

int rpmsg_l_list(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	lua_createtable(L, 0, 3);
	lua_newtable(L);
	lua_newtable(L);
	struct list_ctx c = { L, rt->backend, -1 };
	rpmsg_each_ctrl(rt->backend, list_ctrl, &c);
	lua_setfield(L, -3, "endpoints");
	lua_setfield(L, -2, "ctrls");
	lua_newtable(L);
	rpmsg_each_rproc(rt->backend, list_rproc, L);
	lua_setfield(L, -2, "remoteprocs");
	lua_newtable(L);
	rpmsg_each_channel(rt->backend, list_channel, L);
	lua_setfield(L, -2, "channels");
	return 1;
}
