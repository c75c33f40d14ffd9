/* SPDX-License-Identifier: MIT */
/* The size-class pool behind the host's Lua states (see lua_pool.h). One
 * bump region is carved for every class, so a class used once costs one
 * slot, not a slab of its own. Freed slots stay on their class's list,
 * where Lua's steady state (a message in, its string swept) reuses them;
 * when the slabs have doubled, those whose every slot is free go back to
 * the system (compact()), so memory freed in one class serves another. */
#include "lua_pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CLASSES (LUA_POOL_LIMIT / LUA_POOL_ALIGN)

struct slot {
	struct slot *next;
};

struct slab {
	struct slab *next;
	size_t free_bytes;   /* while compacting: its slots on the free lists */
	/* the slots follow, aligned */
};

/* The slab's header takes one aligned unit. */
#define SLAB_HEAD LUA_POOL_ALIGN
_Static_assert(sizeof(struct slab) <= SLAB_HEAD, "the slab's header fits its unit");

struct lua_pool {
	struct slot *free[CLASSES + 1];  /* by class; [0] unused */
	char *bump, *end;                /* the current slab's uncarved part */
	struct slab *slabs;
	size_t slab_bytes;
	size_t compact_at;               /* slab bytes at which grow() compacts */
};

/* No compaction below this: a small script's pool is left alone. */
#define COMPACT_MIN (1024 * 1024)

static int by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(struct slab *const *)a, y = (uintptr_t)*(struct slab *const *)b;
	return (x > y) - (x < y);
}

/* The slab that holds slot, among the n slabs of `sorted` (by address). */
static struct slab *slab_of(struct slab **sorted, size_t n, const void *slot)
{
	size_t lo = 0, hi = n;   /* the answer is in [lo, hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uintptr_t)sorted[mid] <= (uintptr_t)slot)
			lo = mid;
		else
			hi = mid;
	}
	return sorted[lo];
}

static inline size_t class_of(size_t n)
{
	return (n + LUA_POOL_ALIGN - 1) / LUA_POOL_ALIGN;
}

struct lua_pool *lua_pool_new(void)
{
	struct lua_pool *p = calloc(1, sizeof(struct lua_pool));
	if (p)
		p->compact_at = COMPACT_MIN;
	return p;
}

void lua_pool_delete(struct lua_pool *p)
{
	if (!p)
		return;
	struct slab *s = p->slabs;
	while (s) {
		struct slab *next = s->next;
		free(s);
		s = next;
	}
	free(p);
}

size_t lua_pool_slab_bytes(const struct lua_pool *p)
{
	return p->slab_bytes;
}

static inline void put(struct lua_pool *p, void *block, size_t c)
{
	struct slot *s = block;
	s->next = p->free[c];
	p->free[c] = s;
}

/* Gives back the slabs whose every slot is on a free list. Slots never
 * move between classes, so without this a script whose blocks change size
 * over time (20,000 strings of one length, freed, then of the next length)
 * would keep every class's peak at once: the sum, not the biggest. A
 * slot's slab is found by address among the slabs sorted. Run
 * when the slabs have doubled since the last time, so its walk of the free
 * lists costs a bounded share of what was allocated meanwhile. */
static void compact(struct lua_pool *p)
{
	size_t n = p->slab_bytes / LUA_POOL_SLAB, i = 0;
	struct slab **sorted = malloc(n * sizeof *sorted);
	if (!sorted)
		return;   /* no room to look: the next doubling will */
	for (struct slab *s = p->slabs; s; s = s->next) {
		s->free_bytes = 0;
		sorted[i++] = s;
	}
	qsort(sorted, n, sizeof *sorted, by_address);
	for (size_t c = 1; c <= CLASSES; c++)
		for (struct slot *f = p->free[c]; f; f = f->next)
			slab_of(sorted, n, f)->free_bytes += c * LUA_POOL_ALIGN;
	for (size_t c = 1; c <= CLASSES; c++) {
		struct slot **link = &p->free[c];
		while (*link) {
			if (slab_of(sorted, n, *link)->free_bytes == LUA_POOL_SLAB - SLAB_HEAD)
				*link = (*link)->next;   /* its slab goes */
			else
				link = &(*link)->next;
		}
	}
	struct slab **link = &p->slabs;
	while (*link) {
		struct slab *s = *link;
		if (s->free_bytes == LUA_POOL_SLAB - SLAB_HEAD) {
			*link = s->next;
			free(s);
			p->slab_bytes -= LUA_POOL_SLAB;
		} else {
			link = &s->next;
		}
	}
	free(sorted);
}

/* A new slab. What is left of the old one becomes a slot of the class that
 * fits it exactly, so nothing carved is lost and every slab is carved
 * whole (what compact() counts on). */
static int grow(struct lua_pool *p)
{
	size_t rest = (size_t)(p->end - p->bump);
	if (rest >= LUA_POOL_ALIGN)
		put(p, p->bump, rest / LUA_POOL_ALIGN);
	p->bump = p->end = NULL;   /* its slab may go now */
	if (p->slab_bytes >= p->compact_at) {
		compact(p);
		p->compact_at = 2 * p->slab_bytes > COMPACT_MIN ? 2 * p->slab_bytes : COMPACT_MIN;
	}
	struct slab *s = aligned_alloc(LUA_POOL_ALIGN, LUA_POOL_SLAB);
	if (!s)
		return -1;
	s->next = p->slabs;
	p->slabs = s;
	p->slab_bytes += LUA_POOL_SLAB;
	p->bump = (char *)s + SLAB_HEAD;
	p->end = (char *)s + LUA_POOL_SLAB;
	return 0;
}

/* A slot of class c, or NULL. */
static void *take(struct lua_pool *p, size_t c)
{
	struct slot *s = p->free[c];
	if (s) {
		p->free[c] = s->next;
		return s;
	}
	size_t bytes = c * LUA_POOL_ALIGN;
	if ((size_t)(p->end - p->bump) < bytes && grow(p) < 0)
		return NULL;
	void *block = p->bump;
	p->bump += bytes;
	return block;
}

static void release(struct lua_pool *p, void *ptr, size_t osize)
{
	if (osize > LUA_POOL_LIMIT)
		free(ptr);
	else
		put(p, ptr, class_of(osize));
}

/* ptr is not NULL and nsize not 0. */
static void *resize(struct lua_pool *p, void *ptr, size_t osize, size_t nsize)
{
	if (osize > LUA_POOL_LIMIT && nsize > LUA_POOL_LIMIT)
		return realloc(ptr, nsize);
	if (osize <= LUA_POOL_LIMIT && nsize <= LUA_POOL_LIMIT) {
		size_t oc = class_of(osize), nc = class_of(nsize);
		if (oc == nc)
			return ptr;
		void *block = take(p, nc);
		if (!block)
			/* A shrink keeps its slot, big enough; Lua will give
			 * nsize as the old size from now on, and the slot goes
			 * to the smaller class when freed. */
			return nc < oc ? ptr : NULL;
		memcpy(block, ptr, nc < oc ? nsize : osize);
		put(p, ptr, oc);
		return block;
	}
	void *block = nsize > LUA_POOL_LIMIT ? malloc(nsize) : take(p, class_of(nsize));
	if (!block)
		return NULL;
	memcpy(block, ptr, osize < nsize ? osize : nsize);
	release(p, ptr, osize);
	return block;
}

/* Everything but the two calls of a message's string, out of line so that
 * those two need no stack frame. */
static __attribute__((noinline)) void *slow_path(struct lua_pool *p, void *ptr, size_t osize,
						 size_t nsize)
{
	/* Without a block, osize is the kind of object Lua is making. */
	if (!ptr)
		return nsize > LUA_POOL_LIMIT ? malloc(nsize) : take(p, class_of(nsize));
	return resize(p, ptr, osize, nsize);
}

void *lua_pool_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lua_pool *p = ud;
	if (nsize == 0) {
		if (ptr)
			release(p, ptr, osize);
		return NULL;
	}
	if (!ptr && nsize <= LUA_POOL_LIMIT) {
		size_t c = class_of(nsize);
		struct slot *s = p->free[c];
		if (s) {
			p->free[c] = s->next;
			return s;
		}
	}
	return slow_path(p, ptr, osize, nsize);
}
