/* SPDX-License-Identifier: MIT */
/* A pcapng writer (the format Wireshark and tshark read): a section header,
 * interface descriptions, enhanced packet blocks with microsecond
 * timestamps. One write(2) per block, so a reader never sees half a block
 * once a write succeeded. No Lua here. */
#ifndef RPMSG_PCAPNG_H
#define RPMSG_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#include "rpmsg_err.h"

#define PCAPNG_LINKTYPE_USER0 147     /* DLT_USER0: ours to define */
#define PCAPNG_INBOUND 1              /* epb_flags direction bits */
#define PCAPNG_OUTBOUND 2

struct pcapng {
	int fd;
	uint32_t interfaces;          /* how many IDBs written: the next one's id */
};

/* Creates (truncates) path and writes the section header. */
int pcapng_open(struct pcapng *p, const char *path, struct rpmsg_err *e);
/* An interface description block named `name`; its id in *id. */
int pcapng_interface(struct pcapng *p, const char *name, const char *description, uint16_t linktype,
		     uint32_t *id, struct rpmsg_err *e);
/* An enhanced packet block: hdr then data as one packet, at ts_us (µs since
 * the epoch), with `flags` (PCAPNG_INBOUND/OUTBOUND) as its epb_flags.
 * wire_len: the length the packet had, when data is a cut of it (or len). */
int pcapng_packet(struct pcapng *p, uint32_t id, uint64_t ts_us, const void *hdr, size_t hdr_len,
		  const void *data, size_t len, size_t wire_len, uint32_t flags, struct rpmsg_err *e);
void pcapng_close(struct pcapng *p);

#endif
