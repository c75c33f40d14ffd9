/* SPDX-License-Identifier: MIT */
/* rpmsg.crc32(s [, crc]): runtime/base/crc32.c for Lua, which rpmsg.frag
 * uses as frag.crc32 to check every reassembled payload. */
#include "lrpmsg.h"
#include "crc32.h"

int rpmsg_l_crc32(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer crc = luaL_optinteger(L, 2, 0);
	luaL_argcheck(L, crc >= 0 && crc <= 0xFFFFFFFF, 2, "CRC out of range 0..0xFFFFFFFF");
	lua_pushinteger(L, rpmsg_crc32((uint32_t)crc, s, len));
	return 1;
}
