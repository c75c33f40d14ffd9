/* SPDX-License-Identifier: MIT */
/* libFuzzer target: rpmsg.tty's framing (lua/lib/tty.lua): the line and
 * COBS decoders never raise, never deliver more than their limit or a line
 * holding a newline, and cut a stream the same way however it is split
 * into reads. The checks are in tests/fuzz/tty.lua; lua_target.h runs it. */
#include "lua_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lua_State *L;
	if (!L)
		L = fuzz_lua_open("tty");
	fuzz_lua_feed(L, data, size);
	return 0;
}
