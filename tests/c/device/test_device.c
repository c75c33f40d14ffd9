/* SPDX-License-Identifier: MIT */
/* Device-layer guarantees that do not need a kernel: the codec, the 496-byte
 * refusal before any syscall, "" versus end of file, and DESTROY at most once. */
#include "device.h"
#include "outq.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

int main(void)
{
	struct rpmsg_err e;
	struct rpmsg_info info;
	char name[33];
	memset(name, 'n', sizeof name);
	CHECK(rpmsg_info_init(&info, name, 31, 1, 2, &e) == 0, "a 31-byte name is accepted");
	CHECK(rpmsg_info_init(&info, name, 32, 1, 2, &e) == -EINVAL, "a 32-byte name is refused");
	CHECK(rpmsg_info_init(&info, "x", 1, 0x100000000LL, 2, &e) == -EINVAL, "src over 32 bits is refused");

	struct rpmsg_ep *a, *b;
	CHECK(rpmsg_ep_pair(&a, &b, &e) == 0, "a pair opens");
	char big[RPMSG_MAX_MESSAGE + 1], buf[RPMSG_MAX_MESSAGE];
	memset(big, 'x', sizeof big);
	CHECK(rpmsg_ep_send(a, big, sizeof big, &e) == -EMSGSIZE, "497 bytes are refused");
	CHECK(rpmsg_ep_recv(b, buf, sizeof buf, &e) == -EAGAIN, "and nothing was sent");
	CHECK(rpmsg_ep_send(a, big, RPMSG_MAX_MESSAGE, &e) == 0, "496 bytes are sent");
	CHECK(rpmsg_ep_recv(b, buf, sizeof buf, &e) == RPMSG_MAX_MESSAGE, "and arrive whole");
	CHECK(rpmsg_ep_send(a, "", 0, &e) == 0, "an empty message is sent");
	CHECK(rpmsg_ep_recv(b, buf, sizeof buf, &e) == 0, "and arrives as 0 bytes");
	CHECK(rpmsg_ep_destroy(a, &e) == 0, "the first destroy is issued");
	CHECK(rpmsg_ep_destroy(a, &e) == -EPIPE && strstr(e.msg, "not destroying it again"),
	      "a second destroy is refused before reaching the backend");
	CHECK(rpmsg_ep_recv(b, buf, sizeof buf, &e) == -EPIPE, "the other end sees it closed");
	rpmsg_ep_close(a);
	rpmsg_ep_close(b);

	struct outq q = { 0 };
	for (int i = 0; i < OUTQ_CAPACITY; i++)
		outq_push(&q, &i, sizeof i);
	CHECK(outq_push(&q, "x", 1) == -ENOBUFS, "the send queue is bounded");
	int first;
	memcpy(&first, outq_front(&q)->data, sizeof first);
	CHECK(first == 0, "the send queue is first in, first out");
	outq_free(&q);
	return tap_done();
}
