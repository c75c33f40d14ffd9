/* SPDX-License-Identifier: MIT */
/* What every part of the endpoint reads: its name for messages, its anchor,
 * the staging of what a loading script does to an endpoint of the running
 * generation, and the handler slot. Calls no other part of the endpoint. */
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
