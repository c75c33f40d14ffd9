/* SPDX-License-Identifier: MIT */
/* The endpoint's metatable: what `ep.x` reads and `ep.x = v` writes. Each
 * endpoint has a metatable of its own whose __index is a table of its own
 * holding the methods, so the VM finds `ep:send` without calling C (as
 * liolib's files do). A miss there reaches the kind's __index, a C
 * function, which finds the endpoint in that table and answers with the
 * script's own fields (the staged ones during a reload), else a read-only
 * property computed when asked, so `ep.closed` is true the moment the
 * device layer marks the endpoint dead. The kind (the registry's
 * "rpmsg.endpoint") is the metatable of both per-endpoint tables: the type
 * check. Writes keep the handler slots current. */
#include "l_endpoint.h"

#include <string.h>

/* ep.key for the endpoint at 1 when key is no method: a field, else a
 * property, else nil. */
static int endpoint_property(lua_State *L, struct lendpoint *le)
{
	const char *key = luaL_checkstring(L, 2);
	lua_getiuservalue(L, 1, endpoint_script_fields(le));
	lua_pushvalue(L, 2);
	if (lua_rawget(L, -2) != LUA_TNIL)
		return 1;
	if (strcmp(key, "closed") == 0 && endpoint_staged_closed(le)) {
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

/* The kind's __index, reached when `ep.key` missed the endpoint's method
 * table (at 1). Any other table that has the kind as its metatable (the
 * endpoint's metatable, looked into) has no endpoint: nil. */
static int endpoint_index(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TTABLE || lua_rawgetp(L, 1, &rpmsg_endpoint_self_key) != LUA_TUSERDATA)
		return 0;
	/* A script can write any value there (pairs() shows the key): only
	 * an endpoint is read as one. */
	if (!rpmsg_testudata(L, -1, RPMSG_ENDPOINT_TYPE))
		return 0;
	lua_replace(L, 1);
	lua_settop(L, 2);
	return endpoint_property(L, lua_touserdata(L, 1));
}

static const char *const properties[] = {
	"fd", "path", "name", "src", "dst", "index", "ctrl", "closed", "down", NULL,
};

/* A loading script's first write to a running endpoint: into a copy of its
 * fields, swapped in at commit, so the running handlers stay as they are. */
static void endpoint_stage_fields(lua_State *L, struct lendpoint *le)
{
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
	le->fields_gen = rpmsg_gen_loading(le->rt);
	rpmsg_endpoint_stage_anchor(L, 1, le);
}

static int endpoint_newindex(lua_State *L)
{
	struct lendpoint *le = endpoint_self(L, 1);
	const char *key = luaL_checkstring(L, 2);
	/* A write that would shadow a property or a method is a bug in the
	 * script: say so instead of letting it stick or vanish. */
	for (int i = 0; properties[i]; i++)
		if (strcmp(key, properties[i]) == 0)
			return luaL_error(L, "rpmsg: ep.%s is read-only", key);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL)
		return luaL_error(L, "rpmsg: ep.%s is a method: it cannot be assigned", key);
	lua_pop(L, 1);
	bool handler = strcmp(key, "on_message") == 0 || strcmp(key, "on_close") == 0 ||
		       strcmp(key, "on_flow") == 0 || strcmp(key, "on_open") == 0;
	if (handler && !lua_isnil(L, 3) && !lua_isfunction(L, 3))
		return luaL_error(L, "rpmsg: %s must be a function or nil, got %s", key,
				  luaL_typename(L, 3));
	int fields = endpoint_script_fields(le);
	if (fields == LIVE_FIELDS && endpoint_running_while_loading(le)) {
		endpoint_stage_fields(L, le);
		fields = STAGED_FIELDS;
	}
	lua_getiuservalue(L, 1, fields);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_rawset(L, -3);
	if (handler && fields == LIVE_FIELDS)
		rpmsg_endpoint_update_watch(L, 1, le);   /* refreshes the slots too */
	return 0;
}

/* The kind: __index (the fields and properties), __name, the methods and
 * the metamethods that each endpoint's tables copy. It has no __gc of its
 * own: it is the metatable of tables, which Lua would then finalize. */
void rpmsg_endpoint_register(lua_State *L)
{
	luaL_newmetatable(L, RPMSG_ENDPOINT_TYPE);
	int kind = lua_gettop(L);
	lua_newtable(L);
	int metamethods = kind + 1;
	lua_pushlightuserdata(L, (void *)lua_topointer(L, kind));
	luaL_setfuncs(L, rpmsg_endpoint_metamethods, 1);
	lua_pushliteral(L, RPMSG_ENDPOINT_TYPE);
	lua_setfield(L, metamethods, "__name");
	lua_newtable(L);
	int methods = kind + 2;
	lua_pushlightuserdata(L, (void *)lua_topointer(L, kind));
	luaL_setfuncs(L, rpmsg_endpoint_methods, 1);
	lua_pushlightuserdata(L, (void *)lua_topointer(L, kind));
	lua_pushvalue(L, methods);
	lua_pushcclosure(L, endpoint_newindex, 2);
	lua_setfield(L, metamethods, "__newindex");
	lua_pushvalue(L, methods);
	lua_pushcclosure(L, endpoint_index, 1);   /* the methods as an upvalue: for help */
	lua_setfield(L, kind, "__index");
	/* Hidden from getmetatable() and fixed against setmetatable(): the
	 * type check is "the metatable's metatable is the kind", which a
	 * script holding the kind could make true of any metatable it can
	 * reach (io.stdout's, a timer's). The endpoint's own metatable stays
	 * visible; the debug library is trusted with everything. */
	lua_pushliteral(L, RPMSG_ENDPOINT_TYPE);
	lua_setfield(L, kind, "__metatable");
	lua_setfield(L, kind, "methods");
	lua_setfield(L, kind, "metamethods");
	lua_settop(L, kind - 1);
}
