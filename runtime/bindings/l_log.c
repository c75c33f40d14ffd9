/* SPDX-License-Identifier: MIT */
/* rpmsg.log with levels. rpmsg.log(fmt, ...) stays what it was (info), so
 * the table is callable; rpmsg.log.err/warn/info/debug pick the level and
 * rpmsg.log.level([name]) reads or sets the threshold (--log-level). A line
 * below the threshold is not even formatted. Logging needs no loop, so it
 * keeps working in a finalizer after the module was shut down. */
#include "l_log.h"
#include "log.h"
#include "lrpmsg_host.h"

#include <lauxlib.h>
#include <stdarg.h>

void rpmsg_logf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rpmsg_vlog(RPMSG_LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Formats the arguments from index first on as string.format does (or
 * tostring for a lone non-string) and logs the result at level. */
static int log_args(lua_State *L, int level, int first)
{
	if (!rpmsg_log_enabled(level))
		return 0;
	int n = lua_gettop(L) - first + 1;
	if (n > 1 || lua_type(L, first) == LUA_TSTRING) {
		lua_getglobal(L, "string");
		lua_getfield(L, -1, "format");
		lua_remove(L, -2);
		lua_insert(L, first);
		lua_call(L, n, 1);
	} else {
		luaL_tolstring(L, first, NULL);
	}
	rpmsg_log(level, "%s", lua_tostring(L, -1));
	return 0;
}

static int log_call(lua_State *L) { return log_args(L, RPMSG_LOG_INFO, 2); }   /* 1: the table */
static int log_err(lua_State *L) { return log_args(L, RPMSG_LOG_ERR, 1); }
static int log_warn(lua_State *L) { return log_args(L, RPMSG_LOG_WARN, 1); }
static int log_info(lua_State *L) { return log_args(L, RPMSG_LOG_INFO, 1); }
static int log_debug(lua_State *L) { return log_args(L, RPMSG_LOG_DEBUG, 1); }

/* rpmsg.log.level([name]): the threshold's name, after setting it if given. */
static int log_level(lua_State *L)
{
	if (!lua_isnoneornil(L, 1)) {
		const char *name = luaL_checkstring(L, 1);
		int level = rpmsg_log_level_parse(name);
		if (level < 0)
			return luaL_error(L, "rpmsg.log.level: unknown level '%s' "
					  "(err, warn, info or debug)", name);
		rpmsg_log_set_level(level);
	}
	lua_pushstring(L, rpmsg_log_level_name(rpmsg_log_level()));
	return 1;
}

void rpmsg_log_push(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "err", log_err },   { "warn", log_warn },   { "info", log_info },
		{ "debug", log_debug }, { "level", log_level }, { NULL, NULL },
	};
	luaL_newlib(L, fns);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, log_call);
	lua_setfield(L, -2, "__call");
	lua_setmetatable(L, -2);
}
