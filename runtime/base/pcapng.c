/* SPDX-License-Identifier: MIT */
/* pcapng blocks, laid out as the format's specification says: every block is
 * type, total length, body padded to 32 bits, total length again; options
 * are code, length, value padded to 32 bits, ended by opt_endofopt. Written
 * in host byte order, which the section header's byte-order magic declares. */
#include "pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

enum {
	BLOCK_SHB = 0x0A0D0D0A,
	BLOCK_IDB = 0x00000001,
	BLOCK_EPB = 0x00000006,
	OPT_END = 0,
	OPT_IF_NAME = 2,
	OPT_IF_DESCRIPTION = 3,
	OPT_IF_TSRESOL = 9,
	OPT_EPB_FLAGS = 2,
	BLOCK_MAX = 1024,             /* the largest block we make: a 496-byte message and more */
};

struct block {
	uint8_t buf[BLOCK_MAX];
	size_t len;
};

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static void put(struct block *b, const void *p, size_t n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	size_t padded = pad4(b->len);
	memset(b->buf + b->len, 0, padded - b->len);
	b->len = padded;
}

static void put32(struct block *b, uint32_t v) { put(b, &v, 4); }

static void put_option(struct block *b, uint16_t code, const void *p, size_t n)
{
	uint16_t head[2] = { code, (uint16_t)n };
	memcpy(b->buf + b->len, head, 4);
	b->len += 4;
	put(b, p, n);
}

static void begin(struct block *b, uint32_t type)
{
	b->len = 0;
	put32(b, type);
	put32(b, 0);   /* total length, filled in by finish */
}

static int finish(struct pcapng *p, struct block *b, struct rpmsg_err *e)
{
	uint32_t total = (uint32_t)b->len + 4;
	memcpy(b->buf + 4, &total, 4);
	put32(b, total);
	ssize_t w = write(p->fd, b->buf, b->len);
	if (w < 0)
		return rpmsg_fail_errno(e, errno, "pcapng write");
	if ((size_t)w != b->len)
		return rpmsg_fail(e, ENOSPC, "pcapng write: short write (%zd of %zu bytes)", w, b->len);
	return 0;
}

int pcapng_open(struct pcapng *p, const char *path, struct rpmsg_err *e)
{
	p->interfaces = 0;
	p->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (p->fd < 0)
		return rpmsg_fail_errno(e, errno, "cannot open pcapng file %s", path);
	struct block b;
	begin(&b, BLOCK_SHB);
	put32(&b, 0x1A2B3C4D);                   /* byte-order magic */
	uint16_t version[2] = { 1, 0 };
	put(&b, version, 4);
	int64_t section_length = -1;             /* not known: we stream */
	put(&b, &section_length, 8);
	put32(&b, OPT_END);
	if (finish(p, &b, e) < 0) {
		struct rpmsg_err why = *e;
		pcapng_close(p);
		return rpmsg_fail(e, why.code, "pcapng file %s: %s", path, why.msg);
	}
	return 0;
}

int pcapng_interface(struct pcapng *p, const char *name, const char *description, uint16_t linktype,
		     uint32_t *id, struct rpmsg_err *e)
{
	struct block b;
	begin(&b, BLOCK_IDB);
	uint16_t link[2] = { linktype, 0 };
	put(&b, link, 4);
	put32(&b, 0);                            /* snaplen: no limit */
	put_option(&b, OPT_IF_NAME, name, strnlen(name, 200));
	if (description)
		put_option(&b, OPT_IF_DESCRIPTION, description, strnlen(description, 300));
	uint8_t tsresol = 6;                     /* microseconds */
	put_option(&b, OPT_IF_TSRESOL, &tsresol, 1);
	put32(&b, OPT_END);
	if (finish(p, &b, e) < 0)
		return -e->code;
	*id = p->interfaces++;
	return 0;
}

int pcapng_packet(struct pcapng *p, uint32_t id, uint64_t ts_us, const void *hdr, size_t hdr_len,
		  const void *data, size_t len, size_t wire_len, uint32_t flags, struct rpmsg_err *e)
{
	if (hdr_len + len > BLOCK_MAX - 64)
		return rpmsg_fail(e, EMSGSIZE, "pcapng: a %zu-byte packet is over the writer's limit",
				  hdr_len + len);
	struct block b;
	begin(&b, BLOCK_EPB);
	put32(&b, id);
	put32(&b, (uint32_t)(ts_us >> 32));
	put32(&b, (uint32_t)ts_us);
	put32(&b, (uint32_t)(hdr_len + len));    /* captured */
	put32(&b, (uint32_t)(hdr_len + (wire_len > len ? wire_len : len)));   /* on the wire */
	memcpy(b.buf + b.len, hdr, hdr_len);
	b.len += hdr_len;
	put(&b, data, len);
	put_option(&b, OPT_EPB_FLAGS, &flags, 4);
	put32(&b, OPT_END);
	return finish(p, &b, e);
}

void pcapng_close(struct pcapng *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}
