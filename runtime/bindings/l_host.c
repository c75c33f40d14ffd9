/* SPDX-License-Identifier: MIT */
/* What the host program may ask of the bindings (lrpmsg_host.h): bind a
 * state to its loop and backend, arm the watchdog, run chunks under it, and
 * take the requests a script makes of the host. */
#include "lrpmsg.h"
#include "lrpmsg_host.h"

bool rpmsg_host_take_reload_request(lua_State *L)
{
	/* Asked at every loop turn: the pointer the watchdog keeps in the
	 * state's extra space (rpmsg_host_set_handler_timeout put it there)
	 * spares a registry lookup. */
	struct rpmsg_runtime *rt = rpmsg_runtime_of_thread(L);
	bool asked = rt->reload_requested;
	rt->reload_requested = false;
	return asked;
}

void rpmsg_host_set_handler_timeout(lua_State *L, int ms)
{
	rpmsg_guard_install(L, rpmsg_runtime(L), ms);
}

int rpmsg_host_pcall(lua_State *L, int nargs, int nresults, const char *what)
{
	return rpmsg_pcall(rpmsg_runtime(L), L, nargs, nresults, what);
}

/* From a signal handler: the runtime pointer is read from the state's extra
 * space, a plain load, and the registry is not touched. */
bool rpmsg_host_interrupt(lua_State *L)
{
	return rpmsg_guard_interrupt(rpmsg_runtime_of_thread(L));
}

bool rpmsg_host_clear_interrupt(lua_State *L)
{
	return rpmsg_guard_clear_interrupt(rpmsg_runtime_of_thread(L));
}

void rpmsg_host_counts(lua_State *L, struct rpmsg_host_counts *c)
{
	const struct rpmsg_runtime *rt = rpmsg_runtime(L);
	c->messages_in = rt->messages_in;
	c->messages_out = rt->messages_out;
	c->handler_errors = rt->handler_errors;
}
