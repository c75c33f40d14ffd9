/* SPDX-License-Identifier: MIT */
/* rpmsg_crc32: zlib's CRC-32 on the standard check vectors, and continued
 * across calls as crc32(crc32(0, a), b). */
#include <string.h>

#include "crc32.h"
#include "tap.h"

int main(void)
{
	CHECK(rpmsg_crc32(0, "", 0) == 0, "the CRC of nothing is 0");
	CHECK(rpmsg_crc32(0, "123456789", 9) == 0xCBF43926u, "the check value of \"123456789\"");
	const char *fox = "The quick brown fox jumps over the lazy dog";
	CHECK(rpmsg_crc32(0, fox, strlen(fox)) == 0x414FA339u, "the quick brown fox");
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	CHECK(rpmsg_crc32(0, all, sizeof all) == 0x29058C73u, "bytes 0..255");
	CHECK(rpmsg_crc32(rpmsg_crc32(0, all, 100), all + 100, 156) == 0x29058C73u,
	      "continued across two calls");
	return tap_done();
}
