/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the endpoint_info codec (runtime/device/rpmsg_info.c). decode
 * accepts exactly the 40-byte layouts whose name has a NUL, and encode gives
 * the same bytes back; init accepts exactly the valid names and addresses,
 * and what it makes decodes to itself. */
#include "rpmsg_info.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void finding(const char *what)
{
	fprintf(stderr, "fuzz_info: %s\n", what);
	abort();
}

/* The input as a 40-byte kernel struct. */
static void check_decode(const uint8_t *data, size_t size)
{
	struct rpmsg_info info;
	struct rpmsg_err e;
	int rc = rpmsg_info_decode(data, size, &info, &e);
	bool valid = size == RPMSG_INFO_SIZE && memchr(data, '\0', RPMSG_NAME_SIZE);
	if ((rc == 0) != valid)
		finding(valid ? "decode refused a valid endpoint_info" : "decode accepted a bad endpoint_info");
	if (rc != 0) {
		if (e.code == 0 || !memchr(e.msg, '\0', sizeof e.msg) || e.msg[0] == '\0')
			finding("decode failed without an errno and a message");
		return;
	}
	if (!memchr(info.name, '\0', sizeof info.name))
		finding("decoded name is not NUL-terminated");
	unsigned char out[RPMSG_INFO_SIZE];
	rpmsg_info_encode(&info, out);
	if (memcmp(out, data, RPMSG_INFO_SIZE) != 0)
		finding("encode(decode(bytes)) differs from bytes");
}

static long long take_address(const uint8_t **p)
{
	int64_t v;
	memcpy(&v, *p, sizeof v);
	*p += sizeof v;
	/* Mostly near the valid range, where the edges are. */
	return (v & 1) ? (long long)(v >> 1) : (long long)((v >> 1) % 0x200000000LL) - 0x80000000LL;
}

/* The input as init's arguments: name length, src, dst, then the name. */
static void check_init(const uint8_t *data, size_t size)
{
	if (size < 17)
		return;
	size_t name_len = data[0] % 48;
	const uint8_t *p = data + 1;
	long long src = take_address(&p), dst = take_address(&p);
	size_t have = size - 17;
	if (name_len > have)
		name_len = have;
	char *name = malloc(name_len ? name_len : 1);   /* exact size: ASan sees any overread */
	if (!name)
		abort();
	memcpy(name, p, name_len);
	struct rpmsg_info info;
	struct rpmsg_err e;
	int rc = rpmsg_info_init(&info, name, name_len, src, dst, &e);
	bool valid = name_len <= RPMSG_NAME_MAX && !memchr(name, '\0', name_len) &&
		     src >= 0 && src <= 0xFFFFFFFFLL && dst >= 0 && dst <= 0xFFFFFFFFLL;
	if ((rc == 0) != valid)
		finding(valid ? "init refused valid arguments" : "init accepted bad arguments");
	if (rc == 0) {
		unsigned char out[RPMSG_INFO_SIZE];
		struct rpmsg_info back;
		rpmsg_info_encode(&info, out);
		if (rpmsg_info_decode(out, sizeof out, &back, &e) != 0)
			finding("what init made does not decode");
		if (strlen(back.name) != name_len || memcmp(back.name, name, name_len) != 0 ||
		    back.src != (uint32_t)src || back.dst != (uint32_t)dst)
			finding("init, encode, decode changed the endpoint");
	} else if (e.code == 0 || e.msg[0] == '\0') {
		finding("init failed without an errno and a message");
	}
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode(data, size);
	check_init(data, size);
	return 0;
}
