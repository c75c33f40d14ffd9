/* SPDX-License-Identifier: MIT */
/* What every part of the endpoint reads: its name for messages, its anchor,
 * the staging of what a loading script does to an endpoint of the running
 * generation, the handler slot, and the endpoint's own metatable (made
 * here, read by l_endpoint_fields.c). Calls no other part of the endpoint. */
#include "l_endpoint.h"

#include <stdio.h>
#include <string.h>

const char *rpmsg_endpoint_label(const struct lendpoint *le)
{
	if (le->decl.info.name[0])
		return le->decl.info.name;
	if (!le->ep)
		return "closed endpoint";
	return le->ep->info.name[0] ? le->ep->info.name : le->ep->path;
}

void rpmsg_endpoint_keep(lua_State *L, int idx, struct lendpoint *le)
{
	if (!le->anchored) {
		rpmsg_anchor(L, idx);
		/* Also by integer: the loop finds it per wake-up in the
		 * registry's array part, not by hashing its address. */
		lua_pushvalue(L, idx);
		le->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
		le->anchored = true;
	}
}

void rpmsg_endpoint_let_go(lua_State *L, struct lendpoint *le)
{
	if (le->anchored) {
		le->anchored = false;
		rpmsg_unanchor(L, le);
		luaL_unref(L, LUA_REGISTRYINDEX, le->self_ref);
		le->self_ref = LUA_NOREF;
	}
}

/* n as received into a buffer of cap bytes: a longer message (a foreign
 * socket peer) was cut to cap, which is said in the log, never silently. */
size_t rpmsg_endpoint_kept_length(const struct lendpoint *le, ssize_t n, size_t cap)
{
	if ((size_t)n <= cap)
		return (size_t)n;
	rpmsg_logf("endpoint '%s': a %zd-byte message was cut to %zu bytes, the RPMsg limit",
		   rpmsg_endpoint_label(le), n, cap);
	return cap;
}

/* Anchors the endpoint for the end of the load if nothing else does, so the
 * commit or abort sees what the load staged on it. */
void rpmsg_endpoint_stage_anchor(lua_State *L, int idx, struct lendpoint *le)
{
	if (!le->anchored) {
		rpmsg_endpoint_keep(L, idx, le);
		le->staged_anchor = true;
	}
}

/* ep:close() or ep:destroy() by a loading script on the running generation's
 * endpoint: done at commit, forgotten if the reload fails. */
int rpmsg_endpoint_stage(lua_State *L, int idx, struct lendpoint *le, unsigned op)
{
	rpmsg_endpoint_stage_anchor(L, idx, le);
	if (le->staged_gen != rpmsg_gen_loading(le->rt))
		le->staged_ops = 0;
	le->staged_ops |= op;   /* a destroy then a close: both, at commit */
	le->staged_gen = rpmsg_gen_loading(le->rt);
	lua_pushboolean(L, 1);
	return 1;
}

void rpmsg_endpoint_cache_handlers(lua_State *L, int idx, struct lendpoint *le)
{
	lua_getiuservalue(L, idx, LIVE_FIELDS);
	lua_getfield(L, -1, "on_message");
	le->has_on_message = lua_isfunction(L, -1);
	lua_setiuservalue(L, idx, ON_MESSAGE);
	lua_pop(L, 1);
}

/* The key of the endpoint in its own method table (its address). */
const char rpmsg_endpoint_self_key;

/* The ones each endpoint's metatable copies from the kind's "metamethods". */
static const char *const metamethods[] = { "__name", "__gc", "__close", "__tostring", "__newindex", NULL };

/* luaL_typeerror names the value by its metatable's __name, and a table
 * given an endpoint's metatable (or an endpoint's own tables, whose
 * metatable is the kind) has "rpmsg.endpoint" there: "rpmsg.endpoint
 * expected, got rpmsg.endpoint". Only a userdata is named by its __name. */
int rpmsg_endpoint_typeerror(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TUSERDATA)
		return luaL_typeerror(L, idx, RPMSG_ENDPOINT_TYPE);
	return luaL_argerror(L, idx, lua_pushfstring(L, RPMSG_ENDPOINT_TYPE " expected, got %s",
						     luaL_typename(L, idx)));
}

void *rpmsg_testudata(lua_State *L, int idx, const char *tname)
{
	void *p = luaL_testudata(L, idx, tname);
	if (p || !(p = lua_touserdata(L, idx)) || !lua_getmetatable(L, idx))
		return p;
	bool ours = false;
	if (lua_getmetatable(L, -1)) {
		luaL_getmetatable(L, tname);
		ours = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
	return ours ? p : NULL;
}

/* The methods a handler calls per message, which each endpoint has as
 * closures of its own (the kind's function, the kind's address as upvalue
 * 1, the endpoint's userdata as upvalue 2): their type check is then one
 * pointer comparison (endpoint_self_own in l_endpoint.h). */
static const char *const own_methods[] = { "send", NULL };

/* Replaces the shared closures of own_methods in the method table at
 * methods with closures that hold the endpoint at idx. */
static void endpoint_own_methods(lua_State *L, int idx, int methods, int kind)
{
	for (int i = 0; own_methods[i]; i++) {
		lua_pushstring(L, own_methods[i]);
		lua_rawget(L, methods);
		lua_CFunction f = lua_tocfunction(L, -1);
		lua_pop(L, 1);
		lua_pushstring(L, own_methods[i]);
		lua_pushlightuserdata(L, (void *)lua_topointer(L, kind));
		lua_pushvalue(L, idx);
		lua_pushcclosure(L, f, 2);
		lua_rawset(L, methods);
	}
}

/* Gives the new endpoint at idx its metatable and its method table. About
 * 620 bytes each (two tables of 8 slots and the closure of ep:send): what
 * keeps `ep:send` in the VM and its type check one comparison. */
void rpmsg_endpoint_set_metatable(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	luaL_getmetatable(L, RPMSG_ENDPOINT_TYPE);
	int kind = lua_gettop(L);
	lua_createtable(L, 0, 8);
	int methods = kind + 1;
	lua_pushliteral(L, "methods");
	lua_rawget(L, kind);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, methods);
	}
	lua_pop(L, 1);
	endpoint_own_methods(L, idx, methods, kind);
	lua_pushvalue(L, idx);
	lua_rawsetp(L, methods, &rpmsg_endpoint_self_key);
	lua_pushvalue(L, kind);
	lua_setmetatable(L, methods);
	lua_createtable(L, 0, 6);
	int mt = methods + 1;
	lua_pushliteral(L, "metamethods");
	lua_rawget(L, kind);
	for (int i = 0; metamethods[i]; i++) {
		lua_getfield(L, -1, metamethods[i]);
		lua_setfield(L, mt, metamethods[i]);
	}
	lua_pop(L, 1);
	lua_pushvalue(L, methods);
	lua_setfield(L, mt, "__index");
	lua_pushvalue(L, kind);
	lua_setmetatable(L, mt);   /* after __gc is in: the endpoint's finalizer */
	lua_setmetatable(L, idx);
	lua_settop(L, kind - 1);
}
