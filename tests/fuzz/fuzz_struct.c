/* SPDX-License-Identifier: MIT */
/* libFuzzer target: rpmsg.struct decoding: decode returns a table or nil and a message, never raises, and a decoded table encodes back to the same bytes.
 * The checks are in tests/fuzz/struct.lua; lua_target.h runs it. */
#include "lua_target.h"

/* One state for the whole run: decoding keeps no state between inputs. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lua_State *L;
	if (!L)
		L = fuzz_lua_open("struct");
	fuzz_lua_feed(L, data, size);
	return 0;
}
