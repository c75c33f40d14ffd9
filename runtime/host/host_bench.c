/* SPDX-License-Identifier: MIT */
/* `rpmsg-lua bench [--sim FIRMWARE.lua] ...`: the loop, the backend (the
 * kernel's, or a simulation with FIRMWARE.lua as the remote) and a state
 * running lua/host/bench.lua, which parses the rest and prints the report.
 * Exit 0 when every round trip came back, 1 if not, 2 on bad arguments. */
#include "device_sim.h"
#include "host_observe.h"
#include "lrpmsg_host.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int bench_call(struct host *h, const char *fn, int nargs)
{
	lua_State *L = h->L;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "rpmsg.bench");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK)
		return -1;
	lua_getfield(L, -1, fn);
	lua_remove(L, -2);
	lua_insert(L, -1 - nargs);
	return rpmsg_host_pcall(L, nargs, 1, "rpmsg-lua bench");
}

static int bench_status(struct host *h)
{
	lua_State *L = h->L;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "rpmsg.bench");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK)
		return 1;
	lua_getfield(L, -1, "status");
	int status = (int)lua_tointeger(L, -1);
	lua_pop(L, 2);
	return status;
}

int observe_bench_command(int argc, char **argv)
{
	const char *firmware = NULL;
	if (argc >= 2 && !strcmp(argv[0], "--sim")) {
		firmware = argv[1];
		argc -= 2;
		argv += 2;
	}
	struct rpmsg_err e;
	struct loop *loop = loop_new(&e);
	if (!loop || loop_stop_on_signal(loop, SIGINT, &e) < 0 || loop_stop_on_signal(loop, SIGTERM, &e) < 0) {
		fprintf(stderr, "rpmsg-lua: %s\n", e.msg);
		if (loop)
			loop_free(loop);
		return 1;
	}
	struct rpmsg_sim *sim = NULL;
	struct rpmsg_backend *backend = rpmsg_kernel_backend();
	struct host fw = { 0 }, bench = { 0 };
	int status = 1;
	if (firmware) {
		sim = rpmsg_sim_new();
		backend = rpmsg_sim_backend(sim, RPMSG_SIM_HOST);
		if (host_init(&fw, loop, rpmsg_sim_backend(sim, RPMSG_SIM_REMOTE), firmware, 0, NULL, 1000) < 0 ||
		    host_load(&fw) != LUA_OK)
			goto out;
	}
	if (host_init(&bench, loop, backend, NULL, argc, argv, 1000) < 0)
		goto out;
	lua_getglobal(bench.L, "arg");
	if (bench_call(&bench, "main", 1) != LUA_OK) {
		fprintf(stderr, "rpmsg-lua: bench: %s\n", lua_tostring(bench.L, -1));
		goto out;
	}
	if (lua_toboolean(bench.L, -1)) {
		int r = rpmsg_host_loop_run(bench.L, loop);
		if (r < 0)
			fprintf(stderr, "rpmsg-lua: event loop: %s\n", strerror(-r));
	}
	status = bench_status(&bench);
out:
	host_close(&bench);
	host_close(&fw);
	rpmsg_sim_free(sim);
	loop_free(loop);
	return status;
}
