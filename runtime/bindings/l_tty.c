/* SPDX-License-Identifier: MIT */
/* rpmsg.open_tty(path or {service =}): a tty's fd for rpmsg.tty{} (its
 * framing, handlers and recovery are lua/lib/tty.lua), raw and
 * non-blocking, owned by the script generation that opened it: the end of
 * a reload closes the old generation's, as it destroys its endpoints.
 * rpmsg.tty{} itself is that Lua module, reached from here. */
#include "lrpmsg.h"
#include "tty.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct ltty {
	int fd;                   /* -1 once closed */
	int gen;
	struct rpmsg_runtime *rt;
	char path[256];
};

#define READ_CHUNK 4096

static struct ltty *tty_check(lua_State *L)
{
	return luaL_checkudata(L, 1, RPMSG_TTY_TYPE);
}

static struct ltty *tty_check_open(lua_State *L)
{
	struct ltty *t = tty_check(L);
	rpmsg_check_live(L, t->rt);
	if (t->fd < 0)
		luaL_error(L, "rpmsg: tty %s is closed", t->path);
	return t;
}

/* rpmsg.open_tty("/dev/ttyRPMSG0") or rpmsg.open_tty{service = "rpmsg-tty"}:
 * under the simulation a service names the simulated tty "service:NAME". */
int rpmsg_l_open_tty(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	char path[256];
	struct rpmsg_err e;
	if (lua_istable(L, 1)) {
		lua_getfield(L, 1, "service");
		const char *service = lua_tostring(L, -1);
		luaL_argcheck(L, service && *service, 1, "{service = NAME}: NAME must be a non-empty string");
		if (rt->backend->ops->tty_open)
			snprintf(path, sizeof path, "service:%s", service);
		else if (rpmsg_tty_find_service(service, path, sizeof path, &e) < 0)
			return rpmsg_push_error(L, &e);
	} else {
		size_t len;
		const char *p = luaL_checklstring(L, 1, &len);
		luaL_argcheck(L, len > 0 && len < sizeof path, 1, "tty path empty or too long");
		snprintf(path, sizeof path, "%s", p);
	}
	int fd = rpmsg_tty_open(rt->backend, path, &e);
	if (fd < 0)
		return rpmsg_push_error(L, &e);
	struct ltty *t = lua_newuserdatauv(L, sizeof *t, 0);
	t->fd = fd;
	t->rt = rt;
	t->gen = rpmsg_current_gen(rt);
	snprintf(t->path, sizeof t->path, "%s", path);
	rpmsg_setkind(L, RPMSG_TTY_TYPE, rpmsg_tty_register);
	rpmsg_anchor(L, -1);   /* owned by its generation until closed */
	return 1;
}

static void tty_shut(lua_State *L, struct ltty *t)
{
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	rpmsg_unanchor(L, t);
}

/* t:read(): the bytes there are (at most 4096), or nil, message, "EAGAIN"
 * when none, or nil, "the tty hung up", "EPIPE". */
static int tty_read(lua_State *L)
{
	struct ltty *t = tty_check_open(L);
	char buf[READ_CHUNK];
	struct rpmsg_err e;
	ssize_t n = rpmsg_tty_read(t->fd, buf, sizeof buf, &e);
	if (n == -EAGAIN)
		rpmsg_fail(&e, EAGAIN, "nothing to read");
	if (n < 0)
		return rpmsg_push_error(L, &e);
	lua_pushlstring(L, buf, (size_t)n);
	return 1;
}

/* t:write(s [, i]): writes s from byte i (default 1) on; returns how many
 * bytes went (maybe fewer), or nil, message, ERRNAME. */
static int tty_write(lua_State *L)
{
	struct ltty *t = tty_check_open(L);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);
	lua_Integer i = luaL_optinteger(L, 3, 1);
	luaL_argcheck(L, i >= 1 && (size_t)i <= len + 1, 3, "position out of range");
	struct rpmsg_err e;
	ssize_t n = rpmsg_tty_write(t->fd, s + i - 1, len - (size_t)(i - 1), &e);
	if (n == -EAGAIN)
		n = 0;
	if (n < 0)
		return rpmsg_push_error(L, &e);
	lua_pushinteger(L, n);
	return 1;
}

static int tty_close(lua_State *L)
{
	struct ltty *t = tty_check(L);
	rpmsg_check_live(L, t->rt);
	tty_shut(L, t);
	lua_pushboolean(L, 1);
	return 1;
}

static int tty_index(lua_State *L)
{
	struct ltty *t = tty_check(L);
	const char *key = luaL_checkstring(L, 2);
	luaL_getmetafield(L, 1, "methods");
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (strcmp(key, "fd") == 0)
		lua_pushinteger(L, t->fd);
	else if (strcmp(key, "path") == 0)
		lua_pushstring(L, t->path);
	else if (strcmp(key, "closed") == 0)
		lua_pushboolean(L, t->fd < 0);
	else
		lua_pushnil(L);
	return 1;
}

static int tty_gc(lua_State *L)
{
	struct ltty *t = tty_check(L);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	return 0;
}

void rpmsg_tty_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	struct ltty *t = lua_touserdata(L, idx);
	if (t && t->gen == rpmsg_gen_retiring(rt, how))
		tty_shut(L, t);
}

/* rpmsg.tty{...}: the Lua module rpmsg.tty (lua/lib/tty.lua). */
int rpmsg_l_tty(lua_State *L)
{
	return rpmsg_call_lib(L, "rpmsg.tty", "new");
}

void rpmsg_tty_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "read", tty_read },
		{ "write", tty_write },
		{ "close", tty_close },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_TTY_TYPE);
	lua_pushcfunction(L, tty_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, tty_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, tty_gc);
	lua_setfield(L, -2, "__close");
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
