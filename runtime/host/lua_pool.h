/* SPDX-License-Identifier: MIT */
/* A size-class pool allocator for the host's Lua states (a lua_Alloc).
 * Lua tells the allocator the old size of every block it frees or resizes,
 * so blocks carry no header: a block of n bytes (n <= LUA_POOL_LIMIT) is a
 * slot of class (n + 15) / 16, carved from 16 KiB slabs and kept on its
 * class's free list once freed. Bigger blocks go to the system allocator.
 * A message's string is then a pointer pop and a pointer push, where libc's
 * malloc spends about 200 instructions (the collector frees in bursts, and
 * glibc's per-thread cache of 7 blocks per size overflows into _int_free). */
#ifndef LUA_POOL_H
#define LUA_POOL_H

#include <stddef.h>

/* Blocks up to this size come from the pool; the 496-byte message (a
 * 521-byte string object) is under it. */
#define LUA_POOL_LIMIT 1024
/* Every pool block is aligned to this, at least what malloc gives
 * (max_align_t); bigger blocks are malloc's own (8 bytes on 32-bit ARM). */
#define LUA_POOL_ALIGN 16
#define LUA_POOL_SLAB (16 * 1024)

struct lua_pool;

/* NULL when out of memory. */
struct lua_pool *lua_pool_new(void);
/* Frees the slabs, and with them every block still in the pool. The state
 * that used the pool must be closed first (blocks of the system allocator
 * are its to free). */
void lua_pool_delete(struct lua_pool *p);
/* The lua_Alloc: ud is the pool. Frees when nsize is 0; returns NULL if and
 * only if it cannot give nsize bytes, the old block then left unchanged. A
 * shrink inside the pool never fails: the old slot is kept if no smaller
 * one can be had. */
void *lua_pool_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* Bytes taken from the system for slabs (for the tests and the curious). */
size_t lua_pool_slab_bytes(const struct lua_pool *p);

#endif
