/* SPDX-License-Identifier: MIT */
/* The Lua files of the runtime, installed beside the binary rather than
 * compiled into it: the library modules (lua/lib/ -> rpmsg.NAME, the same
 * files a stock lua5.4 finds next to rpmsg.so) and the host's own (lua/host/,
 * help's API table). The binary loads them only from the directories it was
 * built for, never through LUA_PATH. */
#ifndef RPMSG_HOST_LUA_H
#define RPMSG_HOST_LUA_H

#include <lua.h>

/* Offers every module through package.preload: `require "rpmsg.frag"` in a
 * script gets the host's own copy. A module is compiled only when required. */
void host_lua_preload(lua_State *L);
/* Loads and runs module name ("rpmsg.host") afresh, whatever package.loaded
 * and package.preload say, and leaves what it returned. Raises, naming every
 * path it looked in, when the file is missing. */
void host_lua_load(lua_State *L, const char *name);

#endif
