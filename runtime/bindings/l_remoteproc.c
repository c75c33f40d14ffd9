/* SPDX-License-Identifier: MIT */
/* rpmsg.remoteproc(name or index): the co-processor's lifecycle from Lua
 * (state, start, stop, firmware, recovery) and the control device under it. */
#include "lrpmsg.h"
#include "remoteproc.h"

#include <errno.h>
#include <limits.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct rproc *remoteproc_check(lua_State *L)
{
	return luaL_checkudata(L, 1, RPMSG_RPROC_TYPE);
}

int rpmsg_l_remoteproc(lua_State *L)
{
	const char *name = NULL;
	int index = 0;
	if (lua_type(L, 1) == LUA_TSTRING)
		name = lua_tostring(L, 1);
	else if (lua_isinteger(L, 1) && lua_tointeger(L, 1) >= 0)
		index = (int)lua_tointeger(L, 1);
	else
		return luaL_typeerror(L, 1, "remoteproc name or index");
	struct rproc *r = lua_newuserdatauv(L, sizeof *r, 0);
	rpmsg_setkind(L, RPMSG_RPROC_TYPE, rpmsg_remoteproc_register);
	struct rpmsg_err e;
	if (rproc_find(name, index, r, &e) < 0)
		return rpmsg_push_error(L, &e);
	return 1;
}

/* attr() reads; attr(value) writes and returns true. */
static int remoteproc_attribute(lua_State *L, const char *attr)
{
	struct rproc *r = remoteproc_check(L);
	struct rpmsg_err e;
	if (!lua_isnoneornil(L, 2)) {
		if (rproc_write(r, attr, luaL_checkstring(L, 2), &e) < 0)
			return rpmsg_push_error(L, &e);
		lua_pushboolean(L, 1);
		return 1;
	}
	char buf[256];
	if (rproc_read(r, attr, buf, sizeof buf, &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushstring(L, buf);
	return 1;
}

static int remoteproc_state(lua_State *L) { lua_settop(L, 1); return remoteproc_attribute(L, "state"); }
static int remoteproc_firmware(lua_State *L) { return remoteproc_attribute(L, "firmware"); }
static int remoteproc_recovery(lua_State *L) { return remoteproc_attribute(L, "recovery"); }

static int remoteproc_set_state(lua_State *L, const char *value)
{
	lua_settop(L, 1);
	lua_pushstring(L, value);
	return remoteproc_attribute(L, "state");
}

static int remoteproc_start(lua_State *L)
{
	struct rpmsg_err e;
	if (rproc_start(remoteproc_check(L), &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}
static int remoteproc_stop(lua_State *L) { return remoteproc_set_state(L, "stop"); }

static int push_done(lua_State *L, int rc, const struct rpmsg_err *e)
{
	if (rc < 0)
		return rpmsg_push_error(L, e);
	lua_pushboolean(L, 1);
	return 1;
}

static int remoteproc_attach(lua_State *L)
{
	struct rpmsg_err e;
	return push_done(L, rproc_attach(remoteproc_check(L), &e), &e);
}

static int remoteproc_detach(lua_State *L)
{
	struct rpmsg_err e;
	return push_done(L, rproc_detach(remoteproc_check(L), &e), &e);
}

/* r:coredump() reads the setting; r:coredump(mode) sets it. The kernel
 * (6.1) knows "disabled" (its default), "enabled" and "inline"; anything
 * else is refused here, naming them, before sysfs says only EINVAL. */
static int remoteproc_coredump(lua_State *L)
{
	if (!lua_isnoneornil(L, 2)) {
		const char *mode = luaL_checkstring(L, 2);
		if (strcmp(mode, "disabled") && strcmp(mode, "enabled") && strcmp(mode, "inline"))
			return luaL_error(L, "rpmsg: coredump mode must be \"disabled\", \"enabled\" or "
					  "\"inline\", not \"%s\"", mode);
	}
	return remoteproc_attribute(L, "coredump");
}

struct dump_sink {
	luaL_Buffer *b;
	FILE *f;
};

static int dump_to(const void *buf, size_t len, void *ctx)
{
	struct dump_sink *s = ctx;
	if (s->f)
		return fwrite(buf, 1, len, s->f) == len ? 0 : -1;
	luaL_addlstring(s->b, buf, len);
	return 0;
}

/* r:dump([path]): the coredump of the last crash (an ELF file), read to
 * the end and freed in the kernel: returned as a string, or written to
 * path (then its size is returned). */
static int remoteproc_dump(lua_State *L)
{
	struct rproc *r = remoteproc_check(L);
	const char *out = luaL_optstring(L, 2, NULL);
	char data[PATH_MAX];
	struct rpmsg_err e;
	if (rproc_dump_find(r, data, sizeof data, &e) < 0)
		return rpmsg_push_error(L, &e);
	struct dump_sink s = { NULL, NULL };
	luaL_Buffer b;
	if (out) {
		if (!(s.f = fopen(out, "wbe"))) {
			rpmsg_fail_errno(&e, errno, "open %s", out);
			return rpmsg_push_error(L, &e);
		}
	} else {
		luaL_buffinit(L, &b);
		s.b = &b;
	}
	long long n = rproc_dump_read(data, dump_to, &s, &e);
	if (s.f && fclose(s.f) != 0 && n >= 0)
		n = rpmsg_fail_errno(&e, errno, "write %s", out);
	if (n < 0)
		return rpmsg_push_error(L, &e);
	if (out)
		lua_pushinteger(L, n);
	else
		luaL_pushresult(&b);
	return 1;
}

/* r:trace_text([k]): what debugfs trace k (default 0) holds now. */
static int remoteproc_trace_text(lua_State *L)
{
	struct rproc *r = remoteproc_check(L);
	lua_Integer k = luaL_optinteger(L, 2, 0);
	luaL_argcheck(L, k >= 0 && k < 1000, 2, "trace number out of range");
	char *text;
	size_t len;
	struct rpmsg_err e;
	if (rproc_trace_read(r, (int)k, &text, &len, &e) < 0)
		return rpmsg_push_error(L, &e);
	lua_pushlstring(L, text, strnlen(text, len));
	free(text);
	return 1;
}

/* r:trace([fn or opts]): follows the trace into the log (lua/lib/remoteproc_watch.lua). */
static int remoteproc_trace(lua_State *L)
{
	remoteproc_check(L);
	return rpmsg_call_lib(L, "rpmsg.remoteproc_watch", "trace");
}

int rpmsg_l_on_remoteproc(lua_State *L)
{
	return rpmsg_call_lib(L, "rpmsg.remoteproc_watch", "on_remoteproc");
}

static int remoteproc_ctrl(lua_State *L)
{
	struct rpmsg_err e;
	int idx = rproc_ctrl_index(remoteproc_check(L), &e);
	if (idx < 0)
		return rpmsg_push_error(L, &e);
	lua_pushinteger(L, idx);
	return 1;
}

static int remoteproc_index(lua_State *L)
{
	struct rproc *r = remoteproc_check(L);
	const char *key = luaL_checkstring(L, 2);
	luaL_getmetafield(L, 1, "methods");
	if (lua_getfield(L, -1, key) != LUA_TNIL)
		return 1;
	if (strcmp(key, "name") == 0)
		lua_pushstring(L, r->name);
	else if (strcmp(key, "index") == 0)
		lua_pushinteger(L, r->index);
	else
		lua_pushnil(L);
	return 1;
}

static int remoteproc_tostring(lua_State *L)
{
	struct rproc *r = remoteproc_check(L);
	lua_pushfstring(L, "rpmsg.remoteproc '%s' (remoteproc%d)", r->name, r->index);
	return 1;
}

void rpmsg_remoteproc_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "state", remoteproc_state },
		{ "start", remoteproc_start },
		{ "stop", remoteproc_stop },
		{ "firmware", remoteproc_firmware },
		{ "recovery", remoteproc_recovery },
		{ "ctrl", remoteproc_ctrl },
		{ "attach", remoteproc_attach },
		{ "detach", remoteproc_detach },
		{ "coredump", remoteproc_coredump },
		{ "dump", remoteproc_dump },
		{ "trace_text", remoteproc_trace_text },
		{ "trace", remoteproc_trace },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_RPROC_TYPE);
	lua_pushcfunction(L, remoteproc_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, remoteproc_tostring);
	lua_setfield(L, -2, "__tostring");
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
