/* SPDX-License-Identifier: MIT */
/* The endpoint_info codec, tied to <linux/rpmsg.h> by static asserts so a
 * layout or ioctl number that drifts breaks the build, not a board. */
#include "rpmsg_info.h"
#include "rpmsg_abi.h"

#include <errno.h>
#include <string.h>

int rpmsg_info_init(struct rpmsg_info *info, const char *name, size_t name_len,
		    long long src, long long dst, struct rpmsg_err *e)
{
	if (name_len > RPMSG_NAME_MAX)
		return rpmsg_fail(e, EINVAL, "endpoint name '%.*s%s' is %zu bytes, over the %d-byte limit",
				  (int)(name_len > 40 ? 40 : name_len), name,
				  name_len > 40 ? "..." : "", name_len, RPMSG_NAME_MAX);
	if (memchr(name, '\0', name_len))
		return rpmsg_fail(e, EINVAL, "endpoint name contains a NUL byte");
	if (src < 0 || src > (long long)RPMSG_ANY)
		return rpmsg_fail(e, EINVAL, "src address %lld is outside 0..0xFFFFFFFF", src);
	if (dst < 0 || dst > (long long)RPMSG_ANY)
		return rpmsg_fail(e, EINVAL, "dst address %lld is outside 0..0xFFFFFFFF", dst);
	memset(info, 0, sizeof *info);
	memcpy(info->name, name, name_len);
	info->src = (uint32_t)src;
	info->dst = (uint32_t)dst;
	return 0;
}

bool rpmsg_info_equal(const struct rpmsg_info *a, const struct rpmsg_info *b)
{
	return a->src == b->src && a->dst == b->dst && strcmp(a->name, b->name) == 0;
}

void rpmsg_info_encode(const struct rpmsg_info *info, unsigned char out[RPMSG_INFO_SIZE])
{
	struct rpmsg_endpoint_info k;
	memset(&k, 0, sizeof k);
	memcpy(k.name, info->name, sizeof k.name);
	k.src = info->src;
	k.dst = info->dst;
	memcpy(out, &k, sizeof k);
}

int rpmsg_info_decode(const unsigned char *in, size_t len, struct rpmsg_info *info,
		      struct rpmsg_err *e)
{
	struct rpmsg_endpoint_info k;
	if (len != sizeof k)
		return rpmsg_fail(e, EINVAL, "endpoint_info must be %d bytes, got %zu",
				  RPMSG_INFO_SIZE, len);
	memcpy(&k, in, sizeof k);
	if (!memchr(k.name, '\0', sizeof k.name))
		return rpmsg_fail(e, EINVAL, "endpoint_info name is not NUL-terminated within 32 bytes");
	memset(info, 0, sizeof *info);
	memcpy(info->name, k.name, sizeof k.name);
	info->src = k.src;
	info->dst = k.dst;
	return 0;
}
