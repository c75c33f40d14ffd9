/* SPDX-License-Identifier: MIT */
/* The outgoing-message ring. */
#include "outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int outq_push(struct outq *q, const void *data, size_t len)
{
	if (len > RPMSG_MAX_MESSAGE)
		return -EMSGSIZE;
	if (!q->slots && !(q->slots = malloc(OUTQ_CAPACITY * sizeof *q->slots)))
		return -ENOMEM;
	if (q->len == OUTQ_CAPACITY)
		return -ENOBUFS;
	struct outq_msg *m = &q->slots[(q->head + q->len++) % OUTQ_CAPACITY];
	m->len = (uint16_t)len;
	memcpy(m->data, data, len);
	return 0;
}

struct outq_msg *outq_front(struct outq *q)
{
	return q->len ? &q->slots[q->head] : NULL;
}

void outq_pop(struct outq *q)
{
	if (!q->len)
		return;
	q->head = (q->head + 1) % OUTQ_CAPACITY;
	q->len--;
}

void outq_free(struct outq *q)
{
	free(q->slots);
	q->slots = NULL;
	q->head = q->len = 0;
}
