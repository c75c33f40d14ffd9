/* SPDX-License-Identifier: MIT */
/* CRC-32 as zlib's crc32() and Ethernet compute it (reflected, polynomial
 * 0xEDB88320, initial and final value inverted): what a firmware has at
 * hand to check a payload that crossed in fragments (rpmsg.frag). */
#ifndef RPMSG_CRC32_H
#define RPMSG_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of the len bytes at p, continuing from crc (0 to start): as
 * zlib, crc32(crc32(0, a), b) is the CRC of a then b. */
uint32_t rpmsg_crc32(uint32_t crc, const void *p, size_t len);

#endif
