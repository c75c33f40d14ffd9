/* SPDX-License-Identifier: MIT */
/* libFuzzer target: rpc frame parsing over rpmsg.pair: never raises out of the endpoint, counts every malformed frame.
 * The checks are in tests/fuzz/rpc.lua; lua_target.h runs it. */
#include "lua_target.h"

/* A fresh state per input: endpoints, tasks and timers of one input must
 * not leak into the next, and lua_close takes them all. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_State *L = fuzz_lua_open("rpc");
	fuzz_lua_feed(L, data, size);
	lua_close(L);
	return 0;
}
