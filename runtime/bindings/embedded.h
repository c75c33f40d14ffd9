/* SPDX-License-Identifier: MIT */
/* The Lua parts of the runtime, compiled into the binary and rpmsg.so by
 * runtime/embed.lua, and offered through package.preload. */
#ifndef RPMSG_EMBEDDED_H
#define RPMSG_EMBEDDED_H

#include "lrpmsg_host.h"

/* The library modules (lua/lib/): in rpmsg.so and the binary. */
extern const struct embedded_module rpmsg_embedded[];

#endif
