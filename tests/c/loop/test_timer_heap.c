/* SPDX-License-Identifier: MIT */
/* The timer heap: order by due time then arming order, removal anywhere. */
#include "timer_heap.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>

int main(void)
{
	struct timer_heap h;
	timer_heap_init(&h);
	enum { N = 1000 };
	static struct heap_timer t[N];
	srand(7);
	for (int i = 0; i < N; i++) {
		t[i].due_ms = (uint64_t)(rand() % 50);
		timer_heap_push(&h, &t[i]);
	}
	for (int i = 0; i < N; i += 3)
		timer_heap_remove(&h, &t[i]);
	timer_heap_remove(&h, &t[0]);  /* twice: a no-op */
	int popped = 0, ordered = 1;
	struct heap_timer *prev = NULL, *cur;
	while ((cur = timer_heap_peek(&h))) {
		if (prev && (cur->due_ms < prev->due_ms ||
			     (cur->due_ms == prev->due_ms && cur->seq < prev->seq)))
			ordered = 0;
		timer_heap_remove(&h, cur);
		prev = cur;
		popped++;
	}
	CHECK(ordered, "timers come out by due time, ties in arming order");
	CHECK(popped == N - (N + 2) / 3, "removed timers never come out");
	CHECK(t[1].slot == SIZE_MAX, "a popped timer is marked unarmed");
	timer_heap_free(&h);
	return tap_done();
}
