/* SPDX-License-Identifier: MIT */
/* A bounded FIFO of outgoing messages waiting for a transmit buffer. virtio
 * never reports POLLOUT, so a send that met EAGAIN is parked here and retried
 * on a timer instead of being lost. */
#ifndef RPMSG_OUTQ_H
#define RPMSG_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpmsg_info.h"

#define OUTQ_CAPACITY 256

struct outq_msg {
	uint16_t len;
	char data[RPMSG_MAX_MESSAGE];
};

struct outq {
	struct outq_msg *slots;   /* allocated on first use */
	size_t head, len;
};

static inline bool outq_empty(const struct outq *q) { return q->len == 0; }
/* -ENOMEM, or -ENOBUFS when OUTQ_CAPACITY messages already wait. */
int outq_push(struct outq *q, const void *data, size_t len);
struct outq_msg *outq_front(struct outq *q);
void outq_pop(struct outq *q);
void outq_free(struct outq *q);

#endif
