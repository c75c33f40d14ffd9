/* SPDX-License-Identifier: MIT */
/* The host's Lua allocator (runtime/host/lua_pool.c) against a shadow copy:
 * random allocations, resizes (inside a class, across classes, across the
 * 1 KiB limit both ways) and frees, as Lua makes them (the old size given
 * with every block). Each live block is filled with its own bytes; after
 * every step the block touched must hold what the shadow says (a resize
 * keeps the shorter of the two lengths), and every few thousand steps all of
 * them must, so two blocks that overlap or a slot handed out twice show. */
#include "lua_pool.h"
#include "tap.h"

#include <lua.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIVE 4096
#define STEPS 400000

struct block {
	unsigned char *p;
	size_t n;
	unsigned char seed;
};

static struct block live[LIVE];
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Mostly pool sizes, some just around the limit, some well over it. */
static size_t some_size(void)
{
	switch (next() % 8) {
	case 0:
		return LUA_POOL_LIMIT - 8 + next() % 17;
	case 1:
		return LUA_POOL_LIMIT + 1 + next() % 5000;
	case 2:
		return 1 + next() % 16;
	default:
		return 1 + next() % LUA_POOL_LIMIT;
	}
}

static unsigned char byte_at(const struct block *b, size_t i)
{
	return (unsigned char)(b->seed + i * 7);
}

static void fill(struct block *b, size_t from)
{
	for (size_t i = from; i < b->n; i++)
		b->p[i] = byte_at(b, i);
}

static int intact(const struct block *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->p[i] != byte_at(b, i))
			return 0;
	return 1;
}

static int all_intact(void)
{
	for (int i = 0; i < LIVE; i++)
		if (live[i].p && !intact(&live[i]))
			return 0;
	return 1;
}

int main(void)
{
	struct lua_pool *pool = lua_pool_new();
	CHECK(pool != NULL, "a pool");
	int bad_content = 0, bad_align = 0, nulls = 0, bad_all = 0;
	size_t allocs = 0, resizes = 0, frees = 0, crossings = 0, half = 0;
	for (long step = 0; step < STEPS; step++) {
		struct block *b = &live[next() % LIVE];
		if (!b->p) {
			b->n = some_size();
			b->seed = (unsigned char)next();
			/* With no block, Lua passes the kind of object as osize. */
			b->p = lua_pool_alloc(pool, NULL, (size_t)(next() % 9), b->n);
			allocs++;
			if (!b->p) {
				nulls++;
				continue;
			}
			fill(b, 0);
		} else if (next() % 3 == 0) {
			bad_content += !intact(b);
			lua_pool_alloc(pool, b->p, b->n, 0);
			b->p = NULL;
			frees++;
		} else {
			bad_content += !intact(b);
			size_t n = some_size();
			crossings += (b->n > LUA_POOL_LIMIT) != (n > LUA_POOL_LIMIT);
			unsigned char *q = lua_pool_alloc(pool, b->p, b->n, n);
			resizes++;
			if (!q) {
				nulls++;
				continue;
			}
			size_t kept = n < b->n ? n : b->n;
			b->p = q;
			b->n = kept;
			bad_content += !intact(b);   /* the shorter length survived */
			b->n = n;
			fill(b, kept);
		}
		/* the pool's own blocks to LUA_POOL_ALIGN, libc's to malloc's */
		bad_align += ((uintptr_t)b->p % (b->n <= LUA_POOL_LIMIT ? LUA_POOL_ALIGN : _Alignof(max_align_t))) != 0;
		if (step % 5000 == 0)
			bad_all += !all_intact();
		if (step == STEPS / 2)
			half = lua_pool_slab_bytes(pool);
	}
	bad_all += !all_intact();
	printf("# %zu allocations, %zu resizes (%zu across the limit), %zu frees, %zu then %zu bytes of slabs\n",
	       allocs, resizes, crossings, frees, half, lua_pool_slab_bytes(pool));
	CHECK(nulls == 0, "no allocation or resize failed while the system had memory");
	CHECK(bad_content == 0, "every block kept its bytes through its resizes");
	CHECK(bad_all == 0, "no block was overwritten by another (no slot handed out twice)");
	CHECK(bad_align == 0, "every block aligned");
	CHECK(crossings > 1000, "resizes crossed the 1 KiB limit both ways");
	/* The same mix of sizes with the same number live: the second half
	 * reuses the slots the first half freed, so the slabs barely grow
	 * (a pool that forgot freed slots would double them). */
	CHECK(lua_pool_slab_bytes(pool) <= half + half / 8,
	      "slabs bounded by what is live, not by how much was allocated");
	for (int i = 0; i < LIVE; i++)
		if (live[i].p)
			lua_pool_alloc(pool, live[i].p, live[i].n, 0);
	lua_pool_delete(pool);
	return tap_done();
}
