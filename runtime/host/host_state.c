/* SPDX-License-Identifier: MIT */
/* The host's Lua states: luaL_newstate's state (its panic function, its
 * warnings off until "@on"), with the pool of lua_pool.c as the allocator.
 * Built for AddressSanitizer (a compile-time condition) or run under
 * valgrind's memcheck (a run-time one, below) a state keeps the system
 * allocator, so that both still see every Lua object as a block of its own
 * and report an overrun or a use after free in one; inside a slab they
 * could not. */
#include "host_state.h"
#include "lua_pool.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOST_SYSTEM_ALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HOST_SYSTEM_ALLOC 1
#endif

/* Memcheck, not any valgrind tool: callgrind (the bench's instruction
 * count) must see the pool. Memcheck alone answers GET_VBITS (with 1);
 * other tools and a run outside valgrind give the default, 0. */
#if !defined(HOST_SYSTEM_ALLOC) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
static int under_memcheck(void)
{
	static const char probe = 0;
	char vbits;
	return VALGRIND_GET_VBITS(&probe, &vbits, 1) == 1;
}
#define UNDER_MEMCHECK() under_memcheck()
#endif
#endif
#ifndef UNDER_MEMCHECK
#define UNDER_MEMCHECK() 0
#endif

static int panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n",
		msg ? msg : "error object is not a string");
	return 0;  /* Lua then aborts */
}

/* Warnings as lua.c shows them: off at first, "@on" and "@off" switch,
 * a message in pieces (tocont) ends on one line. */
static void warn_on(void *ud, const char *msg, int tocont);
static void warn_off(void *ud, const char *msg, int tocont);

static int warn_control(lua_State *L, const char *msg, int tocont)
{
	if (tocont || msg[0] != '@')
		return 0;
	if (strcmp(msg + 1, "off") == 0)
		lua_setwarnf(L, warn_off, L);
	if (strcmp(msg + 1, "on") == 0)
		lua_setwarnf(L, warn_on, L);
	return 1;
}

static void warn_off(void *ud, const char *msg, int tocont)
{
	warn_control(ud, msg, tocont);
}

static void warn_rest(void *ud, const char *msg, int tocont)
{
	fputs(msg, stderr);
	if (tocont) {
		lua_setwarnf(ud, warn_rest, ud);
	} else {
		fputs("\n", stderr);
		lua_setwarnf(ud, warn_on, ud);
	}
}

static void warn_on(void *ud, const char *msg, int tocont)
{
	if (warn_control(ud, msg, tocont))
		return;
	fputs("Lua warning: ", stderr);
	warn_rest(ud, msg, tocont);
}

static int system_alloc(void)
{
#ifdef HOST_SYSTEM_ALLOC
	return 1;
#else
	return UNDER_MEMCHECK();
#endif
}

lua_State *host_newstate(void)
{
	if (system_alloc())
		return luaL_newstate();
	struct lua_pool *pool = lua_pool_new();
	if (!pool)
		return NULL;
	lua_State *L = lua_newstate(lua_pool_alloc, pool);
	if (!L) {
		lua_pool_delete(pool);
		return NULL;
	}
	lua_atpanic(L, panic);
	lua_setwarnf(L, warn_off, L);
	return L;
}

void host_closestate(lua_State *L)
{
	void *ud;
	lua_Alloc f = lua_getallocf(L, &ud);
	lua_close(L);
	if (f == lua_pool_alloc)
		lua_pool_delete(ud);
}
