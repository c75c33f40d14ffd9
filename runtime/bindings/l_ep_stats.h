/* SPDX-License-Identifier: MIT */
/* What each endpoint counts about itself (ep:stats()), embedded in struct
 * lendpoint as one field. Plain counters, always on: an increment per
 * message. The trace and the pcapng file are elsewhere (l_trace.c). */
#ifndef L_EP_STATS_H
#define L_EP_STATS_H

#include <stdint.h>

struct rpmsg_ep_stats {
	uint64_t msgs_in, msgs_out;
	uint64_t bytes_in, bytes_out;
	uint64_t eagain;              /* sends that met EAGAIN and waited in the queue */
	uint64_t queue_high;          /* the send queue's high-water mark */
	uint64_t drops;               /* queued messages never sent (each logged) */
	uint64_t handler_errors;      /* on_message errors */
	uint64_t handler_calls;
	uint64_t handler_ns, handler_max_ns;
	uint64_t closes, reopens;
	/* Its interface in the trace's pcapng file: valid while pcap_gen
	 * matches the file's generation (a new file numbers them afresh). */
	uint32_t pcap_if, pcap_gen;
	/* Its name and addresses as the trace last saw them open: a close
	 * traced after the fd went still says which endpoint it was. */
	char trace_name[32];
	uint32_t trace_src, trace_dst;
};

#endif
