/* SPDX-License-Identifier: MIT */
/* Script generations as a transaction. The host begins one, runs the new
 * script, then commits (the old generation's timers, watches and undeclared
 * endpoints go; adopted endpoints take the new handlers) or aborts (what the
 * failed load made goes; the running generation is untouched). */
#include "lrpmsg.h"
#include "lrpmsg_host.h"

static void generation_retire(lua_State *L, int idx, void *ctx)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	enum rpmsg_retire how = *(enum rpmsg_retire *)ctx;
	rpmsg_retire(L, idx, rt, how);
}

static void generation_finish(lua_State *L, enum rpmsg_retire how)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	rpmsg_each_anchored(L, generation_retire, &how);
	if (how == RPMSG_RETIRE_COMMIT)
		rt->gen = rt->load_gen;
	rt->loading = false;
}

int rpmsg_generation_begin(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	rt->loading = true;
	rt->load_gen = rt->gen + 1;
	return rt->load_gen;
}

void rpmsg_generation_commit(lua_State *L) { generation_finish(L, RPMSG_RETIRE_COMMIT); }
void rpmsg_generation_abort(lua_State *L) { generation_finish(L, RPMSG_RETIRE_ABORT); }
