/* SPDX-License-Identifier: MIT */
/* A binary min-heap of timers ordered by due time, then by arming order, so
 * timers due at the same millisecond fire in the order they were set. The
 * caller owns the timer structs; the heap only points at them. */
#ifndef RPMSG_TIMER_HEAP_H
#define RPMSG_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct heap_timer {
	uint64_t due_ms;
	uint64_t seq;
	size_t slot;       /* position in the heap, or SIZE_MAX when not armed */
};

struct timer_heap {
	struct heap_timer **items;
	size_t len, cap;
	uint64_t next_seq;
};

void timer_heap_init(struct timer_heap *h);
void timer_heap_free(struct timer_heap *h);
int timer_heap_push(struct timer_heap *h, struct heap_timer *t);   /* -ENOMEM */
void timer_heap_remove(struct timer_heap *h, struct heap_timer *t); /* no-op if not armed */
struct heap_timer *timer_heap_peek(const struct timer_heap *h);

#endif
