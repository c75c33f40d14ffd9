/* SPDX-License-Identifier: MIT */
/* Creating and closing the host's Lua states (see host_state.c). */
#ifndef HOST_STATE_H
#define HOST_STATE_H

#include <lua.h>

/* Like luaL_newstate (same panic function, warnings off until "@on"), with
 * the pool allocator unless built for AddressSanitizer or run under
 * valgrind's memcheck. NULL when out of memory. */
lua_State *host_newstate(void);
/* lua_close, then the pool's slabs. */
void host_closestate(lua_State *L);

#endif
