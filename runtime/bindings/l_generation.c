/* SPDX-License-Identifier: MIT */
/* Script generations as a transaction, the host's alone (linked into the
 * binary, not into rpmsg.so). The host begins one, runs the new script,
 * then commits (the old generation's timers, watches and undeclared
 * endpoints go; adopted endpoints take the new handlers) or aborts (what
 * the failed load made goes; the running generation is untouched). A
 * script asks for one with rpmsg.reload(). The types only read the
 * generation numbers (rt->gens, NULL in a stock lua5.4). */
#include "lrpmsg.h"
#include "lrpmsg_host.h"

#include <string.h>

struct generation_state {
	struct rpmsg_generations numbers;   /* what the types read: rt->gens */
	bool reload_requested;              /* rpmsg.reload(): done at the top of the loop */
};

static const char GENERATIONS_KEY = 'g';

/* The state's generations, made on first use and held by the registry. */
static struct generation_state *generations(lua_State *L, struct rpmsg_runtime *rt)
{
	if (!rt->gens) {
		struct generation_state *s = lua_newuserdatauv(L, sizeof *s, 0);
		memset(s, 0, sizeof *s);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &GENERATIONS_KEY);
		rt->gens = &s->numbers;
	}
	return (struct generation_state *)rt->gens;
}

static void generation_retire(lua_State *L, int idx, void *ctx)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	enum rpmsg_retire how = *(enum rpmsg_retire *)ctx;
	rpmsg_retire(L, idx, rt, how);
}

static void generation_finish(lua_State *L, enum rpmsg_retire how)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	struct rpmsg_generations *g = &generations(L, rt)->numbers;
	rpmsg_each_anchored(L, generation_retire, &how);
	if (how == RPMSG_RETIRE_COMMIT)
		g->running = g->loading;
	g->loading = 0;
}

int rpmsg_generation_begin(lua_State *L)
{
	struct rpmsg_generations *g = &generations(L, rpmsg_runtime(L))->numbers;
	g->loading = g->running + 1;
	return g->loading;
}

void rpmsg_generation_commit(lua_State *L) { generation_finish(L, RPMSG_RETIRE_COMMIT); }
void rpmsg_generation_abort(lua_State *L) { generation_finish(L, RPMSG_RETIRE_ABORT); }

/* rpmsg.reload(), as the host gives it to the module (l_host.c). */
int rpmsg_generation_l_reload(lua_State *L)
{
	generations(L, rpmsg_runtime(L))->reload_requested = true;
	return 0;   /* done at the top of the loop, never inside a handler */
}

bool rpmsg_host_take_reload_request(lua_State *L)
{
	/* Asked at every loop turn: the pointer the watchdog keeps in the
	 * state's extra space (rpmsg_host_set_handler_timeout put it there)
	 * spares a registry lookup. */
	struct rpmsg_runtime *rt = rpmsg_runtime_of_thread(L);
	if (!rt->gens)
		return false;
	struct generation_state *s = (struct generation_state *)rt->gens;
	bool asked = s->reload_requested;
	s->reload_requested = false;
	return asked;
}
