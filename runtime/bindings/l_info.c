/* SPDX-License-Identifier: MIT */
/* Argument checking shared by the bindings, and the endpoint_info codec as
 * seen from Lua: encode_info{...} -> 40 bytes, decode_info(bytes) -> table. */
#include "lrpmsg.h"

static long long address_field(lua_State *L, int t, const char *field, long long dflt)
{
	int type = lua_getfield(L, t, field);
	if (type == LUA_TNIL && dflt >= 0) {
		lua_pop(L, 1);
		return dflt;
	}
	int isint = 0;
	lua_Integer v = type == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : 0;
	if (!isint)
		luaL_error(L, "rpmsg: field '%s' must be an integer address, got %s", field,
			   type == LUA_TNUMBER ? "a fraction" : lua_typename(L, type));
	lua_pop(L, 1);
	return (long long)v;
}

static void make_info(lua_State *L, struct rpmsg_info *info, const char *name, size_t len,
		      long long src, long long dst)
{
	struct rpmsg_err e;
	if (rpmsg_info_init(info, name, len, src, dst, &e) < 0)
		luaL_error(L, "rpmsg: %s", e.msg);
}

void rpmsg_check_info(lua_State *L, int idx, struct rpmsg_info *info, long long dflt)
{
	idx = lua_absindex(L, idx);
	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, "name") != LUA_TSTRING)
		luaL_error(L, "rpmsg: field 'name' must be a string, got %s", luaL_typename(L, -1));
	size_t len;
	const char *name = lua_tolstring(L, -1, &len);
	long long src = address_field(L, idx, "src", dflt);
	long long dst = address_field(L, idx, "dst", dflt);
	make_info(L, info, name, len, src, dst);
	lua_pop(L, 1);
}

void rpmsg_check_info_args(lua_State *L, int idx, struct rpmsg_info *info)
{
	if (lua_istable(L, idx)) {
		rpmsg_check_info(L, idx, info, -1);
		return;
	}
	size_t len;
	const char *name = luaL_checklstring(L, idx, &len);
	lua_Integer src = luaL_checkinteger(L, idx + 1);
	lua_Integer dst = luaL_checkinteger(L, idx + 2);
	make_info(L, info, name, len, src, dst);
}

const char *rpmsg_check_device(lua_State *L, int idx, int *index)
{
	*index = 0;
	switch (lua_type(L, idx)) {
	case LUA_TNONE:
	case LUA_TNIL:
		return NULL;  /* device 0 */
	case LUA_TNUMBER: {
		lua_Integer n = luaL_checkinteger(L, idx);
		luaL_argcheck(L, n >= 0 && n < 1 << 20, idx, "device number out of range");
		*index = (int)n;
		return NULL;
	}
	case LUA_TSTRING:
		return lua_tostring(L, idx);
	default:
		luaL_typeerror(L, idx, "device number or path");
		return NULL;
	}
}

int rpmsg_l_encode_info(lua_State *L)
{
	struct rpmsg_info info;
	rpmsg_check_info(L, 1, &info, -1);
	unsigned char bytes[RPMSG_INFO_SIZE];
	rpmsg_info_encode(&info, bytes);
	lua_pushlstring(L, (const char *)bytes, sizeof bytes);
	return 1;
}

int rpmsg_l_decode_info(lua_State *L)
{
	size_t len;
	const char *bytes = luaL_checklstring(L, 1, &len);
	struct rpmsg_info info;
	struct rpmsg_err e;
	if (rpmsg_info_decode((const unsigned char *)bytes, len, &info, &e) < 0)
		return luaL_error(L, "rpmsg: %s", e.msg);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, info.name);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, info.src);
	lua_setfield(L, -2, "src");
	lua_pushinteger(L, info.dst);
	lua_setfield(L, -2, "dst");
	return 1;
}
