/* SPDX-License-Identifier: MIT */
/* tests/bench/echo_lua_floor.c: the Lua 5.4 floor for the echo benchmark.
 *
 *   bench-echo-lua-floor [--checked]
 *
 * About the fewest instructions per message a host built on a stock Lua
 * 5.4 (the system's shared liblua5.4) can spend on tests/bench/echo.lua's
 * job with the same shape for the user: each endpoint a full userdata whose
 * metatable's __index table holds a C function `send`, the handler the Lua
 * function `function(msg, ep) ep:send(msg) end`, called with lua_call once
 * per message with the message pushed by lua_pushlstring. Around that only
 * what any host needs: one epoll loop over the endpoints listed in
 * $BENCH_FDS (inherited SOCK_SEQPACKET fds, left blocking by the driver,
 * hence MSG_DONTWAIT) and, for each readable one, reads until EAGAIN, at
 * most 64 (rpmsg-lua's batch). Ends when every endpoint has reached end of
 * file.
 *
 * Why: rpmsg-lua's instructions per message are Lua 5.4's own price (the
 * VM call, the method lookup, the message string, the collector) plus
 * those of its features. This program has the price and none of the
 * features (no watchdog, statistics, timers, reload, send queue, error
 * reports), so the difference between the two is what the features cost.
 * Plain, send takes any userdata as an endpoint (`ep.send(io.stdout, m)`
 * would read a FILE* as one): the least anything can spend, but not sound.
 * --checked adds the cheapest sound check we know for that shape, the
 * one rpmsg-lua makes: each endpoint has a metatable and method table of
 * its own, whose send is a closure holding the endpoint's userdata, so
 * the check is one comparison of two blocks' addresses (cheaper than
 * comparing the metatable's address with one kept at start: 913 against
 * 967 instructions per message with 64 in flight). To compare hosts, not
 * allocators, the Lua state uses the host's own allocator
 * (runtime/host/lua_pool.c, compiled in) and the host's collector mode
 * (generational).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_pool.h"

#define MAX_MSG 496
#define BATCH 64
#define MAX_EPS 1024

struct ep {
	int fd;
};

static int checked;

static const char HANDLER[] = "return function(msg, ep) ep:send(msg) end";

/* ep:send(msg): sends msg, returns true; raises an error if it cannot.
 * With --checked it is each endpoint's own closure, whose upvalue is that
 * endpoint: anything else is refused. */
static int ep_send(lua_State *L)
{
	struct ep *e = lua_touserdata(L, 1);
	if (checked && e != lua_touserdata(L, lua_upvalueindex(1)))
		e = NULL;
	if (!e)
		return luaL_typeerror(L, 1, "endpoint");
	size_t len;
	const char *msg = lua_tolstring(L, 2, &len);
	if (!msg)
		msg = luaL_checklstring(L, 2, &len);
	ssize_t sent = send(e->fd, msg, len, MSG_NOSIGNAL);
	if (sent != (ssize_t)len)
		return luaL_error(L, "send: %s", sent < 0 ? strerror(errno) : "short write");
	lua_pushboolean(L, 1);
	return 1;
}

/* Gives the new endpoint on top of the stack its metatable: the shared one,
 * or with --checked one of its own whose send holds the endpoint. */
static void set_endpoint_metatable(lua_State *L)
{
	if (!checked) {
		luaL_setmetatable(L, "bench.ep");
		return;
	}
	lua_createtable(L, 0, 1);
	lua_createtable(L, 0, 1);
	lua_pushvalue(L, -3);
	lua_pushcclosure(L, ep_send, 1);
	lua_setfield(L, -2, "send");
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
}

/* The loop, run under lua_pcall: upvalue 1 is the handler. Every endpoint's
 * userdata stays on this function's stack, its slot beside its fd in the
 * epoll event. */
static int run(lua_State *L)
{
	const char *list = getenv("BENCH_FDS");
	if (!list)
		return luaL_error(L, "BENCH_FDS is not set");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return luaL_error(L, "epoll_create1: %s", strerror(errno));
	int open_fds = 0;
	for (const char *p = list; *p;) {
		char *end;
		int fd = (int)strtol(p, &end, 10);
		if (end == p)
			break;
		luaL_checkstack(L, 4, "too many endpoints");
		struct ep *e = lua_newuserdatauv(L, sizeof *e, 0);
		e->fd = fd;
		set_endpoint_metatable(L);
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.u64 = (uint64_t)lua_gettop(L) << 32 | (uint32_t)fd };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return luaL_error(L, "epoll_ctl: %s", strerror(errno));
		open_fds++;
		p = *end == ',' ? end + 1 : end;
	}
	while (open_fds > 0) {
		struct epoll_event evs[MAX_EPS];
		int n = epoll_wait(ep, evs, MAX_EPS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return luaL_error(L, "epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64, slot = (int)(evs[i].data.u64 >> 32);
			for (int k = 0; k < BATCH; k++) {
				char buf[MAX_MSG];
				ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
				if (r < 0 && errno == EAGAIN)
					break;
				if (r <= 0) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					close(fd);
					open_fds--;
					break;
				}
				lua_pushvalue(L, lua_upvalueindex(1));
				lua_pushlstring(L, buf, (size_t)r);
				lua_pushvalue(L, slot);
				lua_call(L, 2, 0);
			}
		}
	}
	close(ep);
	return 0;
}

static int panic(lua_State *L)
{
	fprintf(stderr, "bench-echo-lua-floor: %s\n", lua_tostring(L, -1));
	return 0;
}

int main(int argc, char **argv)
{
	checked = argc > 1 && strcmp(argv[1], "--checked") == 0;
	struct lua_pool *pool = lua_pool_new();
	lua_State *L = pool ? lua_newstate(lua_pool_alloc, pool) : NULL;
	if (!L) {
		fprintf(stderr, "bench-echo-lua-floor: out of memory\n");
		return 1;
	}
	lua_atpanic(L, panic);
	luaL_openlibs(L);
	lua_gc(L, LUA_GCGEN, 0, 0);
	luaL_newmetatable(L, "bench.ep");
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, ep_send);
	lua_setfield(L, -2, "send");
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	int status = luaL_loadstring(L, HANDLER);
	if (status == LUA_OK)
		status = lua_pcall(L, 0, 1, 0);
	if (status == LUA_OK) {
		lua_pushcclosure(L, run, 1);
		status = lua_pcall(L, 0, 0, 0);
	}
	if (status != LUA_OK)
		fprintf(stderr, "bench-echo-lua-floor: %s\n", lua_tostring(L, -1));
	lua_close(L);
	lua_pool_delete(pool);
	return status == LUA_OK ? 0 : 1;
}
