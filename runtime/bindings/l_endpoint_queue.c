/* SPDX-License-Identifier: MIT */
/* The endpoint's send queue: virtio never reports POLLOUT, so a send that
 * meets EAGAIN waits here and is retried on a timer, in order, and what
 * cannot be sent when the endpoint goes is reported, never dropped
 * silently. */
#include "l_observe.h"

#include <errno.h>
#include <stddef.h>

#define RETRY_MS 1              /* virtio gives no POLLOUT: poll for a free buffer on a timer */

#define FROM_TIMER(p) ((struct lendpoint *)((char *)(p) - offsetof(struct lendpoint, retry)))

/* Drops what is still queued with a log line saying how many and why:
 * nothing leaves the queue without a word. Returns how many. */
size_t rpmsg_endpoint_drop_queue(struct lendpoint *le, const char *why)
{
	size_t n = le->outq.len;
	if (n) {
		observe_dropped(le, n, why);
		rpmsg_logf("endpoint '%s': %zu queued message%s unsent (%s)", rpmsg_endpoint_label(le), n,
			   n == 1 ? "" : "s", why);
	}
	outq_free(&le->outq);
	return n;
}

/* Sends what the transport takes now of the queued messages, in order: 0
 * once the queue is empty, else what stopped it (-EAGAIN: no buffer free). */
static int queue_flush_now(struct lendpoint *le, struct rpmsg_err *e)
{
	struct outq_msg *m;
	while ((m = outq_front(&le->outq))) {
		if (!le->ep)
			return rpmsg_fail(e, ENOTCONN, "endpoint down");
		int r = rpmsg_ep_send(le->ep, m->data, m->len, e);
		if (r < 0)
			return r;
		le->rt->messages_out++;
		observe_sent(le, m->data, m->len);
		outq_pop(&le->outq);
	}
	return 0;
}

/* The retry timer: virtio gives no POLLOUT, so the queue is tried again
 * every RETRY_MS while the transport says EAGAIN. */
void rpmsg_endpoint_retry(struct loop_timer *t)
{
	struct lendpoint *le = FROM_TIMER(t);
	struct rpmsg_err e;
	int r = queue_flush_now(le, &e);
	if (r == -EAGAIN && loop_timer_start(le->rt->loop, &le->retry, RETRY_MS, 0, &e) == 0)
		return;
	if (r < 0)   /* the send's error, or the timer's */
		rpmsg_endpoint_drop_queue(le, e.msg);
}

/* The last chance for queued messages before the fd goes: what the
 * transport takes now is sent. Returns how many are left, with why in *e. */
size_t rpmsg_endpoint_last_flush(struct lendpoint *le, struct rpmsg_err *e)
{
	loop_timer_stop(le->rt->loop, &le->retry);
	if (outq_empty(&le->outq) || queue_flush_now(le, e) == 0)
		return 0;
	return le->outq.len;
}

/* A send that met EAGAIN on an endpoint the loop holds: queued behind the
 * others and retried on a timer. 0, or -errno with e saying nothing was
 * sent. */
int rpmsg_endpoint_enqueue(struct lendpoint *le, const char *msg, size_t len, struct rpmsg_err *e)
{
	/* Armed first: a message queued with no retry would wait forever. */
	if (!loop_timer_armed(&le->retry) &&
	    loop_timer_start(le->rt->loop, &le->retry, RETRY_MS, 0, e) < 0) {
		struct rpmsg_err why = *e;
		return rpmsg_fail(e, why.code, "endpoint '%s': cannot arm the retry of a send that met "
				  "EAGAIN (%s); nothing was sent", rpmsg_endpoint_label(le), why.msg);
	}
	int q = outq_push(&le->outq, msg, len);
	if (q == -ENOBUFS)
		return rpmsg_fail(e, EAGAIN, "endpoint '%s': %d messages already wait for a "
				  "transmit buffer; nothing was sent", rpmsg_endpoint_label(le), OUTQ_CAPACITY);
	if (q < 0)
		return rpmsg_fail_errno(e, -q, "endpoint '%s': cannot queue a send that met EAGAIN; "
					"nothing was sent", rpmsg_endpoint_label(le));
	return 0;
}
