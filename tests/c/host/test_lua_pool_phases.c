/* SPDX-License-Identifier: MIT */
/* The pool allocator (runtime/host/lua_pool.c) when what a script holds
 * changes size over time: a phase of many blocks of one size, all freed,
 * then a phase of another size. Slots are per class, so the memory of one
 * phase must come back for the next, whatever its size: the slabs must
 * stay near one phase's worth, not grow to the sum of every class's peak.
 * A few blocks live across all phases must keep their bytes meanwhile. */
#include "lua_pool.h"
#include "tap.h"

#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

#define PER_PHASE 2000
#define KEPT 64

static void *block_of(struct lua_pool *p, size_t n)
{
	return lua_pool_alloc(p, NULL, LUA_TSTRING, n);
}

static void test_blocks(void)
{
	struct lua_pool *p = lua_pool_new();
	static unsigned char *blocks[PER_PHASE];
	unsigned char *kept[KEPT];
	int ok = 1, intact = 1;
	size_t peak_phase = 0;
	for (size_t c = 1; c <= LUA_POOL_LIMIT / LUA_POOL_ALIGN; c++) {
		size_t n = c * LUA_POOL_ALIGN;
		for (int i = 0; i < PER_PHASE; i++) {
			blocks[i] = block_of(p, n);
			ok = ok && blocks[i];
			if (blocks[i])
				memset(blocks[i], (int)c, n);
		}
		if (c <= KEPT) {   /* one block of each of the first classes lives on */
			kept[c - 1] = block_of(p, n);
			memset(kept[c - 1], 0x80 + (int)c, n);
		}
		for (int i = 0; i < PER_PHASE; i++)
			if (blocks[i])
				lua_pool_alloc(p, blocks[i], n, 0);
		if (PER_PHASE * n > peak_phase)
			peak_phase = PER_PHASE * n;
		for (size_t k = 0; k < c && k < KEPT; k++)
			for (size_t j = 0; j < (k + 1) * LUA_POOL_ALIGN; j++)
				intact = intact && kept[k][j] == 0x80 + (int)(k + 1);
	}
	printf("# blocks: %zu bytes of slabs after 64 phases, %zu the biggest phase\n",
	       lua_pool_slab_bytes(p), peak_phase);
	CHECK(ok, "every block of every phase had memory");
	CHECK(intact, "the blocks that lived through every phase kept their bytes");
	CHECK(lua_pool_slab_bytes(p) <= 3 * peak_phase, "slabs near one phase's worth, not the sum of all");
	for (size_t k = 0; k < KEPT; k++)
		lua_pool_alloc(p, kept[k], (k + 1) * LUA_POOL_ALIGN, 0);
	lua_pool_delete(p);
}

/* The same from Lua: strings of a rising length, 5,000 at a time. */
static const char rising[] =
	"for len = 30, 1000, 16 do\n"
	"  local t = {}\n"
	"  for i = 1, 5000 do t[i] = string.rep('x', len - 8) .. string.format('%08d', i) end\n"
	"  t = nil\n"
	"  collectgarbage()\n"
	"end\n";

static void test_lua_strings(void)
{
	struct lua_pool *p = lua_pool_new();
	lua_State *L = lua_newstate(lua_pool_alloc, p);
	luaL_openlibs(L);
	int ran = luaL_dostring(L, rising) == LUA_OK;
	CHECK(ran, "the rising-length script ran");
	size_t phase = 5000 * (1000 + 40);   /* the last phase's strings */
	printf("# Lua: %zu bytes of slabs after 61 phases of 5,000 strings, %zu the biggest phase\n",
	       lua_pool_slab_bytes(p), phase);
	CHECK(lua_pool_slab_bytes(p) <= 3 * phase, "a Lua state's slabs near one phase's worth");
	lua_close(L);
	lua_pool_delete(p);
}

int main(void)
{
	test_blocks();
	test_lua_strings();
	return tap_done();
}
