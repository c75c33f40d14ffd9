/* SPDX-License-Identifier: MIT */
/* The endpoint_info codec: struct rpmsg_endpoint_info as the kernel lays it
 * out (40 bytes, host byte order), with the validation the kernel does not do
 * for us (it silently truncates names to 31 bytes). */
#ifndef RPMSG_INFO_H
#define RPMSG_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpmsg_err.h"

#define RPMSG_INFO_SIZE 40
#define RPMSG_NAME_SIZE 32            /* including the terminating NUL */
#define RPMSG_NAME_MAX (RPMSG_NAME_SIZE - 1)
#define RPMSG_MAX_MESSAGE 496         /* 512-byte virtio buffer minus 16-byte header */
#define RPMSG_ANY 0xFFFFFFFFu

struct rpmsg_info {
	char name[RPMSG_NAME_SIZE];   /* always NUL-terminated */
	uint32_t src;
	uint32_t dst;
};

/* Validates and fills *info. Refuses names over 31 bytes or with an embedded
 * NUL, and addresses outside 0..0xFFFFFFFF. */
int rpmsg_info_init(struct rpmsg_info *info, const char *name, size_t name_len,
		    long long src, long long dst, struct rpmsg_err *e);

/* Same name, src and dst. */
bool rpmsg_info_equal(const struct rpmsg_info *a, const struct rpmsg_info *b);

/* Writes exactly RPMSG_INFO_SIZE bytes in the kernel layout. */
void rpmsg_info_encode(const struct rpmsg_info *info, unsigned char out[RPMSG_INFO_SIZE]);

/* Reads the kernel layout; refuses a wrong size or a name with no NUL. */
int rpmsg_info_decode(const unsigned char *in, size_t len, struct rpmsg_info *info,
		      struct rpmsg_err *e);

#endif
