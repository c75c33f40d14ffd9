/* SPDX-License-Identifier: MIT */
/* The send queue (runtime/outq.c): first in, first out across the ring's end
 * many times over, bounded at OUTQ_CAPACITY with nothing lost at the bound,
 * and usable again after outq_free. */
#include "outq.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Each message is its sequence number in text, so its length varies too. */
static int push_seq(struct outq *q, unsigned seq)
{
	char text[16];
	int n = snprintf(text, sizeof text, "m%u", seq);
	return outq_push(q, text, (size_t)n);
}

static bool front_is(struct outq *q, unsigned seq)
{
	char text[16];
	int n = snprintf(text, sizeof text, "m%u", seq);
	struct outq_msg *m = outq_front(q);
	return m && m->len == (uint16_t)n && memcmp(m->data, text, (size_t)n) == 0;
}

/* Pushes and pops in uneven bursts, so head and tail cross the ring's end at
 * every offset; returns true if every message came out once, in order. */
static bool wraps_in_order(struct outq *q, unsigned rounds)
{
	unsigned pushed = 0, popped = 0;
	for (unsigned r = 0; r < rounds; r++) {
		unsigned burst = 1 + (r * 7) % (OUTQ_CAPACITY - 1);
		for (unsigned i = 0; i < burst && q->len < OUTQ_CAPACITY; i++)
			if (push_seq(q, pushed++) != 0)
				return false;
		unsigned drain = 1 + (r * 5) % burst;
		for (unsigned i = 0; i < drain && !outq_empty(q); i++, popped++) {
			if (!front_is(q, popped))
				return false;
			outq_pop(q);
		}
	}
	while (!outq_empty(q)) {
		if (!front_is(q, popped++))
			return false;
		outq_pop(q);
	}
	return popped == pushed && pushed > 50u * OUTQ_CAPACITY;
}

static void test_wrap_around(void)
{
	struct outq q = { 0 };
	CHECK(wraps_in_order(&q, 20000), "order is kept across the ring's end, many times over");
	CHECK(outq_empty(&q) && outq_front(&q) == NULL, "a drained queue has no front");
	outq_pop(&q);  /* popping an empty queue is a no-op */
	CHECK(q.len == 0, "popping an empty queue leaves it empty");
	outq_free(&q);
}

static void test_bound(void)
{
	struct outq q = { 0 };
	/* Start off the ring's first slot, so the bound is checked while wrapped. */
	for (unsigned i = 0; i < 100; i++)
		push_seq(&q, i);
	for (unsigned i = 0; i < 100; i++)
		outq_pop(&q);
	int all_in = 1;
	for (unsigned i = 0; i < OUTQ_CAPACITY; i++)
		all_in &= push_seq(&q, 1000 + i) == 0;
	CHECK(all_in && q.len == OUTQ_CAPACITY, "OUTQ_CAPACITY messages are taken");
	CHECK(push_seq(&q, 9999) == -ENOBUFS, "one more is refused with -ENOBUFS");
	CHECK(q.len == OUTQ_CAPACITY, "and the refusal queues nothing");
	int intact = 1;
	for (unsigned i = 0; i < OUTQ_CAPACITY; i++) {
		intact &= front_is(&q, 1000 + i);
		outq_pop(&q);
	}
	CHECK(intact && outq_empty(&q), "none of those queued before the refusal is lost or changed");
	CHECK(push_seq(&q, 7) == 0 && front_is(&q, 7), "a message is taken again once there is room");
	outq_free(&q);
}

static void test_sizes(void)
{
	struct outq q = { 0 };
	char big[RPMSG_MAX_MESSAGE + 1];
	memset(big, 'b', sizeof big);
	CHECK(outq_push(&q, big, sizeof big) == -EMSGSIZE && outq_empty(&q),
	      "a message over RPMSG_MAX_MESSAGE is refused with -EMSGSIZE");
	CHECK(outq_push(&q, big, RPMSG_MAX_MESSAGE) == 0 &&
	      outq_front(&q)->len == RPMSG_MAX_MESSAGE &&
	      memcmp(outq_front(&q)->data, big, RPMSG_MAX_MESSAGE) == 0,
	      "a 496-byte message is kept whole");
	outq_pop(&q);
	CHECK(outq_push(&q, "", 0) == 0 && outq_front(&q)->len == 0, "an empty message is kept as empty");
	outq_free(&q);
}

static void test_free_and_reuse(void)
{
	struct outq q = { 0 };
	outq_free(&q);  /* never used: nothing allocated, nothing to free */
	CHECK(q.slots == NULL && outq_empty(&q), "freeing an unused queue is harmless");
	for (unsigned i = 0; i < 10; i++)
		push_seq(&q, i);
	outq_pop(&q);
	outq_free(&q);
	CHECK(q.slots == NULL && q.len == 0 && q.head == 0 && outq_front(&q) == NULL,
	      "outq_free drops what waited and resets the ring");
	CHECK(push_seq(&q, 42) == 0 && front_is(&q, 42) && q.len == 1,
	      "a freed queue takes messages again, from a fresh ring");
	outq_free(&q);
	outq_free(&q);  /* twice: a no-op */
	CHECK(q.slots == NULL, "freeing twice is harmless");
}

int main(void)
{
	test_wrap_around();
	test_bound();
	test_sizes();
	test_free_and_reuse();
	return tap_done();
}
