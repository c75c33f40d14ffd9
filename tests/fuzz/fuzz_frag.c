/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the rpmsg.frag reassembler: never raises, never delivers a payload whose length or CRC does not match its header, never holds more than its limit.
 * The checks are in tests/fuzz/frag.lua; lua_target.h runs it. */
#include "lua_target.h"

/* One state for the whole run: each input gets a fresh reassembler. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lua_State *L;
	if (!L)
		L = fuzz_lua_open("frag");
	fuzz_lua_feed(L, data, size);
	return 0;
}
