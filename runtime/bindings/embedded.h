/* SPDX-License-Identifier: MIT */
/* The Lua parts of the runtime, compiled into the binary and rpmsg.so by
 * runtime/embed.lua, and offered through package.preload. */
#ifndef RPMSG_EMBEDDED_H
#define RPMSG_EMBEDDED_H

#include <stddef.h>

struct embedded_module {
	const char *name;       /* "rpmsg.repl" */
	const char *chunkname;  /* "@lua/repl.lua", for tracebacks */
	const char *source;
	size_t len;
};

extern const struct embedded_module rpmsg_embedded[];

#endif
