/* SPDX-License-Identifier: MIT */
/* The pcapng writer (runtime/base/pcapng.c): the bytes of each block as the
 * format lays them out (lengths at both ends, 32-bit padding, options), the
 * interface ids in order, and a write to a full disk reported, not lost. */
#include "pcapng.h"
#include "tap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t u32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static size_t slurp(const char *path, unsigned char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

static void test_blocks(void)
{
	char path[] = "/tmp/test_pcapngXXXXXX";
	int fd = mkstemp(path);
	close(fd);
	struct pcapng p;
	struct rpmsg_err e;
	uint32_t a = 99, b = 99;
	CHECK(pcapng_open(&p, path, &e) == 0, "opens and writes the section header");
	CHECK(pcapng_interface(&p, "ep-a", "first", PCAPNG_LINKTYPE_USER0, &a, &e) == 0 && a == 0,
	      "the first interface is 0");
	CHECK(pcapng_interface(&p, "ep-b", NULL, PCAPNG_LINKTYPE_USER0, &b, &e) == 0 && b == 1,
	      "the second is 1");
	const char hdr[16] = { 1, 2, 3, 4 };
	CHECK(pcapng_packet(&p, 1, 0x100000002ull, hdr, sizeof hdr, "abcde", 5, 5, PCAPNG_INBOUND, &e) == 0,
	      "writes a packet");
	pcapng_close(&p);

	unsigned char buf[4096];
	size_t n = slurp(path, buf, sizeof buf);
	unlink(path);
	size_t pos = 0, blocks = 0;
	bool lengths_agree = true;
	uint32_t types[8] = { 0 };
	while (pos + 12 <= n && blocks < 8) {
		uint32_t len = u32(buf + pos + 4);
		if (len % 4 || pos + len > n || u32(buf + pos + len - 4) != len)
			lengths_agree = false;
		types[blocks++] = u32(buf + pos);
		if (len == 0)
			break;
		pos += len;
	}
	CHECK(lengths_agree && pos == n, "every block's two lengths agree, padded to 32 bits, and fill the file");
	CHECK(blocks == 4 && types[0] == 0x0A0D0D0A && types[1] == 1 && types[2] == 1 && types[3] == 6,
	      "SHB, two IDBs, one EPB");
	CHECK(u32(buf + 8) == 0x1A2B3C4D, "the byte-order magic");
	size_t idb = u32(buf + 4);
	CHECK(buf[idb + 8] == 147 && buf[idb + 9] == 0, "link type DLT_USER0");
	CHECK(memcmp(buf + idb + 20, "ep-a", 4) == 0 && buf[idb + 16] == 2 && buf[idb + 18] == 4,
	      "if_name option: code 2, length 4, the name");
	size_t epb = idb + u32(buf + idb + 4);
	epb += u32(buf + epb + 4);
	CHECK(u32(buf + epb + 8) == 1 && u32(buf + epb + 12) == 1 && u32(buf + epb + 16) == 2,
	      "the packet's interface and its timestamp, high word then low");
	CHECK(u32(buf + epb + 20) == 21 && u32(buf + epb + 24) == 21, "captured and original length: 16 + 5");
	CHECK(memcmp(buf + epb + 28 + 16, "abcde\0\0\0", 8) == 0, "the payload after the header, padded with zeros");
	CHECK(buf[epb + 52] == 2 && buf[epb + 54] == 4 && u32(buf + epb + 56) == PCAPNG_INBOUND,
	      "epb_flags: inbound");
}

static void test_failures(void)
{
	struct pcapng p;
	struct rpmsg_err e;
	CHECK(pcapng_open(&p, "/nonexistent/dir/x.pcapng", &e) < 0 && e.code == ENOENT &&
		      strstr(e.msg, "/nonexistent/dir/x.pcapng"),
	      "an unwritable path is an error naming it");
	CHECK(pcapng_open(&p, "/dev/full", &e) < 0 && e.code == ENOSPC && strstr(e.msg, "/dev/full"),
	      "a full disk at the section header is an error naming the file");
	char big[1024] = { 0 };
	char path[] = "/tmp/test_pcapngXXXXXX";
	int fd = mkstemp(path);
	close(fd);
	uint32_t id;
	pcapng_open(&p, path, &e);
	pcapng_interface(&p, "x", NULL, PCAPNG_LINKTYPE_USER0, &id, &e);
	CHECK(pcapng_packet(&p, id, 0, big, 16, big, sizeof big, sizeof big, 0, &e) < 0 && e.code == EMSGSIZE,
	      "a packet over the writer's limit is refused, not cut");
	CHECK(pcapng_packet(&p, id, 0, big, 16, big, 496, 4000, 0, &e) == 0, "a cut packet says its length on the wire");
	pcapng_close(&p);
	unlink(path);
}

int main(void)
{
	test_blocks();
	test_failures();
	return tap_done();
}
