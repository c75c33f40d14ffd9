/* SPDX-License-Identifier: MIT */
/* The kernel ABI in one place: <linux/rpmsg.h>, the ioctls that older
 * linux-libc-dev lacks, and static asserts that pin every number to
 * RPMSG-ABI.md. Only the device layer includes this. */
#ifndef RPMSG_ABI_H
#define RPMSG_ABI_H

#include <linux/rpmsg.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include "rpmsg_info.h"

/* Added in 6.6; Debian 12's headers predate them. */
#ifndef RPMSG_GET_OUTGOING_FLOWCONTROL
#define RPMSG_GET_OUTGOING_FLOWCONTROL _IOR(0xb5, 0x5, int)
#endif
#ifndef RPMSG_SET_INCOMING_FLOWCONTROL
#define RPMSG_SET_INCOMING_FLOWCONTROL _IOR(0xb5, 0x6, int)
#endif

_Static_assert(sizeof(struct rpmsg_endpoint_info) == RPMSG_INFO_SIZE, "endpoint_info is 40 bytes");
_Static_assert(offsetof(struct rpmsg_endpoint_info, name) == 0, "name at 0");
_Static_assert(sizeof(((struct rpmsg_endpoint_info *)0)->name) == RPMSG_NAME_SIZE, "name is 32 bytes");
_Static_assert(offsetof(struct rpmsg_endpoint_info, src) == 32, "src at 32");
_Static_assert(offsetof(struct rpmsg_endpoint_info, dst) == 36, "dst at 36");
_Static_assert(RPMSG_ADDR_ANY == RPMSG_ANY, "RPMSG_ADDR_ANY");
_Static_assert(RPMSG_CREATE_EPT_IOCTL == 0x4028b501u, "CREATE_EPT");
_Static_assert(RPMSG_DESTROY_EPT_IOCTL == 0x0000b502u, "DESTROY_EPT");
#ifdef RPMSG_CREATE_DEV_IOCTL
_Static_assert(RPMSG_CREATE_DEV_IOCTL == 0x4028b503u, "CREATE_DEV");
_Static_assert(RPMSG_RELEASE_DEV_IOCTL == 0x4028b504u, "RELEASE_DEV");
#endif
_Static_assert(RPMSG_GET_OUTGOING_FLOWCONTROL == 0x8004b505u, "GET_OUTGOING_FLOWCONTROL");
_Static_assert(RPMSG_SET_INCOMING_FLOWCONTROL == 0x8004b506u, "SET_INCOMING_FLOWCONTROL");

#endif
