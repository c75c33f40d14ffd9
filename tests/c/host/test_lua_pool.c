/* SPDX-License-Identifier: MIT */
/* The host's Lua allocator (runtime/host/lua_pool.c): every size class,
 * realloc across classes and to and from the system allocator, reuse of
 * freed slots, alignment, failure (malloc and aligned_alloc are wrapped
 * here to fail on demand), and a Lua state on the pool counting its memory
 * as on the system allocator. */
#include "lua_pool.h"
#include "tap.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* -Wl,--wrap=malloc,--wrap=aligned_alloc: fail while `failing` is set. */
static int failing;
void *__real_malloc(size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n)
{
	return failing ? NULL : __real_malloc(n);
}
void *__wrap_aligned_alloc(size_t a, size_t n)
{
	return failing ? NULL : __real_aligned_alloc(a, n);
}

static void *palloc(struct lua_pool *p, size_t n)
{
	return lua_pool_alloc(p, NULL, LUA_TSTRING, n);
}

static void pfree(struct lua_pool *p, void *b, size_t n)
{
	lua_pool_alloc(p, b, n, 0);
}

/* What Lua needs of every block, pool or libc: malloc's alignment. (The
 * pool's own are LUA_POOL_ALIGN; libc's are 8 on 32-bit ARM.) */
static int aligned(const void *b)
{
	return ((uintptr_t)b % _Alignof(max_align_t)) == 0;
}

static int filled(const unsigned char *b, size_t n, unsigned char c)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != c)
			return 0;
	return 1;
}

/* Every size up to the limit and a few above: aligned, writable to its
 * end without touching its neighbours, and each class's slot comes back
 * for the next block of that class. */
static void test_every_class(void)
{
	struct lua_pool *p = lua_pool_new();
	static unsigned char *blocks[LUA_POOL_LIMIT + 65];
	int ok_align = 1, ok_fill = 1;
	for (size_t n = 1; n <= LUA_POOL_LIMIT + 64; n++) {
		blocks[n] = palloc(p, n);
		ok_align &= blocks[n] != NULL && aligned(blocks[n]);
		memset(blocks[n], (int)(n & 0xff), n);
	}
	for (size_t n = 1; n <= LUA_POOL_LIMIT + 64; n++)
		ok_fill &= filled(blocks[n], n, (unsigned char)(n & 0xff));
	CHECK(ok_align, "every size from 1 to the limit + 64 is aligned");
	CHECK(ok_fill, "no block overlaps another");
	CHECK(lua_pool_slab_bytes(p) > 0, "the pool took slabs");
	size_t slabs = lua_pool_slab_bytes(p);
	void *over = palloc(p, LUA_POOL_LIMIT + 1);
	CHECK(over != NULL && lua_pool_slab_bytes(p) == slabs,
	      "a block over the limit does not come from a slab");
	pfree(p, over, LUA_POOL_LIMIT + 1);
	for (size_t n = LUA_POOL_LIMIT + 1; n <= LUA_POOL_LIMIT + 64; n++)
		pfree(p, blocks[n], n);
	/* The last block allocated of each class is on top of its free list. */
	int ok_reuse = 1;
	for (size_t c = 1; c <= LUA_POOL_LIMIT / LUA_POOL_ALIGN; c++) {
		size_t n = c * LUA_POOL_ALIGN;
		void *b = blocks[n];
		pfree(p, b, n);
		ok_reuse &= palloc(p, n - LUA_POOL_ALIGN + 1) == b;
		blocks[n] = NULL;
	}
	CHECK(ok_reuse, "a freed slot is reused for the next block of its class");
	CHECK(lua_pool_slab_bytes(p) == slabs, "reuse takes no slab");
	lua_pool_delete(p);
}

static void test_realloc(void)
{
	struct lua_pool *p = lua_pool_new();
	unsigned char *b = palloc(p, 10);
	memset(b, 'a', 10);
	unsigned char *same = lua_pool_alloc(p, b, 10, 16);
	CHECK(same == b, "realloc within a class keeps the block");
	unsigned char *grown = lua_pool_alloc(p, same, 16, 100);
	CHECK(grown != b && aligned(grown) && filled(grown, 10, 'a'),
	      "realloc to a bigger class moves and keeps the contents");
	memset(grown, 'b', 100);
	unsigned char *shrunk = lua_pool_alloc(p, grown, 100, 20);
	CHECK(shrunk != grown && filled(shrunk, 20, 'b'),
	      "realloc to a smaller class moves and keeps what fits");
	unsigned char *big = lua_pool_alloc(p, shrunk, 20, 5000);
	CHECK(big && aligned(big) && filled(big, 20, 'b'), "realloc from the pool to the big path");
	memset(big, 'c', 5000);
	unsigned char *bigger = lua_pool_alloc(p, big, 5000, 9000);
	CHECK(bigger && filled(bigger, 5000, 'c'), "realloc within the big path");
	unsigned char *back = lua_pool_alloc(p, bigger, 9000, 300);
	CHECK(back && aligned(back) && filled(back, 300, 'c'),
	      "realloc from the big path back to the pool");
	CHECK(palloc(p, 20) == shrunk, "the slot left by a move is free for its class");
	CHECK(lua_pool_alloc(p, back, 300, 0) == NULL, "free returns NULL");
	CHECK(palloc(p, 300) == back, "a freed block of the pool comes back");
	CHECK(lua_pool_alloc(p, NULL, 0, 0) == NULL, "freeing NULL does nothing");
	lua_pool_delete(p);
}

static void test_failure(void)
{
	struct lua_pool *p = lua_pool_new();
	unsigned char *b = palloc(p, 40);
	memset(b, 'x', 40);
	/* Empty what is left of the slab, so the next new slot needs a slab. */
	while (lua_pool_slab_bytes(p) == LUA_POOL_SLAB)
		palloc(p, LUA_POOL_LIMIT);
	failing = 1;
	size_t before = lua_pool_slab_bytes(p);
	/* Use up the current slab, to its last 16 bytes. */
	while (palloc(p, LUA_POOL_LIMIT))
		;
	while (palloc(p, LUA_POOL_ALIGN))
		;
	CHECK(lua_pool_slab_bytes(p) == before, "no slab is counted when the system fails");
	CHECK(palloc(p, 2 * LUA_POOL_LIMIT) == NULL, "a big block fails with NULL");
	CHECK(lua_pool_alloc(p, b, 40, 5000) == NULL && filled(b, 40, 'x'),
	      "a failed move to the big path leaves the block as it was");
	unsigned char *kept = lua_pool_alloc(p, b, 40, 8);
	CHECK(kept == b && filled(kept, 8, 'x'),
	      "a shrink inside the pool with no smaller slot to be had keeps its slot");
	pfree(p, kept, 8);
	CHECK(palloc(p, 8) == b, "that slot is freed to the smaller class");
	failing = 0;
	CHECK(palloc(p, LUA_POOL_LIMIT) != NULL, "the pool grows again when the system can");
	lua_pool_delete(p);
}

static const char chunk[] =
	"local t = {}\n"
	"for i = 1, 20000 do t[i % 500 + 1] = string.rep('x', i % 700) .. i end\n"
	"local s = {}\n"
	"for i = 1, 3000 do s[#s + 1] = {i, tostring(i), {}} end\n"
	"s = nil\n"
	"collectgarbage()\n"
	"return collectgarbage('count')\n";

static void *system_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	(void)osize;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, nsize);
}

static double count_after_chunk(lua_Alloc f, void *ud, int *ok)
{
	lua_State *L = lua_newstate(f, ud);
	luaL_openlibs(L);
	*ok = luaL_dostring(L, chunk) == LUA_OK;
	double kib = lua_tonumber(L, -1);
	lua_close(L);
	return kib;
}

/* collectgarbage("count") is what Lua asked for, whatever gave it. */
static void test_lua_state(void)
{
	struct lua_pool *p = lua_pool_new();
	int ok_pool, ok_system;
	double pool = count_after_chunk(lua_pool_alloc, p, &ok_pool);
	double sys = count_after_chunk(system_alloc, NULL, &ok_system);
	CHECK(ok_pool && ok_system, "the chunk runs on both allocators");
	CHECK(pool == sys && pool > 0, "Lua counts the same memory on the pool as on malloc");
	lua_pool_delete(p);
}

int main(void)
{
	test_every_class();
	test_realloc();
	test_failure();
	test_lua_state();
	return tap_done();
}
