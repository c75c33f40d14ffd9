/* SPDX-License-Identifier: MIT */
/* rpmsg.open_remoteproc_events(): the kernel's word on remoteproc state
 * changes (device/rproc_events.h: uevents, and /dev/kmsg where readable),
 * for rpmsg.on_remoteproc (lua/lib/remoteproc_watch.lua), which watches
 * the fds and reads the states again when either speaks. Owned by the
 * script generation that opened it, as ttys are. */
#include "lrpmsg.h"
#include "remoteproc.h"
#include "rproc_events.h"
#include "uevent.h"

#include <string.h>
#include <unistd.h>

struct lrproc_events {
	int uevent_fd;
	int kmsg_fd;              /* -1 when /dev/kmsg cannot be read */
	int gen;
	struct rpmsg_runtime *rt;
	char kmsg_error[256];
};

static struct lrproc_events *events_check(lua_State *L)
{
	struct lrproc_events *ev = luaL_checkudata(L, 1, RPMSG_RPROC_EVENTS_TYPE);
	rpmsg_check_live(L, ev->rt);
	if (ev->uevent_fd < 0)
		luaL_error(L, "rpmsg: remoteproc events are closed");
	return ev;
}

static void events_shut(lua_State *L, struct lrproc_events *ev)
{
	if (ev->uevent_fd >= 0)
		close(ev->uevent_fd);
	if (ev->kmsg_fd >= 0)
		close(ev->kmsg_fd);
	ev->uevent_fd = ev->kmsg_fd = -1;
	if (L)
		rpmsg_unanchor(L, ev);
}

int rpmsg_l_open_rproc_events(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	struct rpmsg_err e;
	int fd = rpmsg_uevent_open(&e);
	if (fd < 0)
		return rpmsg_push_error(L, &e);
	struct lrproc_events *ev = lua_newuserdatauv(L, sizeof *ev, 0);
	memset(ev, 0, sizeof *ev);
	ev->uevent_fd = fd;
	ev->rt = rt;
	ev->gen = rpmsg_current_gen(rt);
	ev->kmsg_fd = rproc_kmsg_open(&e);
	if (ev->kmsg_fd < 0) {
		snprintf(ev->kmsg_error, sizeof ev->kmsg_error, "%s", e.msg);
		ev->kmsg_fd = -1;
	}
	rpmsg_setkind(L, RPMSG_RPROC_EVENTS_TYPE, rpmsg_rproc_events_register);
	rpmsg_anchor(L, -1);
	return 1;
}

/* ev:read_uevents(): true if any uevent since the last read was about a
 * remoteproc. */
static int events_read_uevents(lua_State *L)
{
	struct lrproc_events *ev = events_check(L);
	int r = rproc_uevents_read(ev->uevent_fd);
	if (r < 0) {
		struct rpmsg_err e;
		rpmsg_fail_errno(&e, -r, "read the uevent socket");
		return rpmsg_push_error(L, &e);
	}
	lua_pushboolean(L, r);
	return 1;
}

static void push_crashed(const char *name, void *ctx)
{
	lua_State *L = ctx;
	lua_pushstring(L, name);
	lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
}

/* ev:read_kmsg(): true if a kernel log record since the last read was
 * about a remoteproc, and the names of the cores it says crashed. */
static int events_read_kmsg(lua_State *L)
{
	struct lrproc_events *ev = events_check(L);
	lua_newtable(L);
	int r = ev->kmsg_fd < 0 ? 0 : rproc_kmsg_read(ev->kmsg_fd, push_crashed, L);
	lua_pushboolean(L, r > 0);
	lua_insert(L, -2);
	return 2;
}

static int push_state(const struct rproc *r, void *ctx)
{
	lua_State *L = ctx;
	char state[64];
	struct rpmsg_err e;
	if (rproc_read(r, "state", state, sizeof state, &e) < 0)
		return 0;   /* going away while we look */
	lua_createtable(L, 0, 2);
	lua_pushstring(L, state);
	lua_setfield(L, -2, "state");
	lua_pushinteger(L, r->index);
	lua_setfield(L, -2, "index");
	lua_setfield(L, -2, r->name);
	return 0;
}

/* ev:states(): {[name] = {state =, index =}} of every remoteproc now. */
static int events_states(lua_State *L)
{
	events_check(L);
	lua_newtable(L);
	rproc_each(push_state, L);
	return 1;
}

static int events_close(lua_State *L)
{
	struct lrproc_events *ev = luaL_checkudata(L, 1, RPMSG_RPROC_EVENTS_TYPE);
	events_shut(L, ev);
	return 0;
}

static int events_index(lua_State *L)
{
	struct lrproc_events *ev = luaL_checkudata(L, 1, RPMSG_RPROC_EVENTS_TYPE);
	const char *key = luaL_checkstring(L, 2);
	luaL_getmetafield(L, 1, "methods");
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (strcmp(key, "uevent_fd") == 0 && ev->uevent_fd >= 0)
		lua_pushinteger(L, ev->uevent_fd);
	else if (strcmp(key, "kmsg_fd") == 0 && ev->kmsg_fd >= 0)
		lua_pushinteger(L, ev->kmsg_fd);
	else if (strcmp(key, "kmsg_error") == 0 && ev->kmsg_error[0])
		lua_pushstring(L, ev->kmsg_error);
	else
		lua_pushnil(L);
	return 1;
}

static int events_gc(lua_State *L)
{
	events_shut(NULL, luaL_checkudata(L, 1, RPMSG_RPROC_EVENTS_TYPE));
	return 0;
}

void rpmsg_rproc_events_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	struct lrproc_events *ev = lua_touserdata(L, idx);
	if (ev && ev->gen == rpmsg_gen_retiring(rt, how))
		events_shut(L, ev);
}

void rpmsg_rproc_events_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "read_uevents", events_read_uevents },
		{ "read_kmsg", events_read_kmsg },
		{ "states", events_states },
		{ "close", events_close },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_RPROC_EVENTS_TYPE);
	lua_pushcfunction(L, events_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, events_gc);
	lua_setfield(L, -2, "__gc");
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
