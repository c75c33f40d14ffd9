/* SPDX-License-Identifier: MIT */
/* What a host program needs from the bindings: make the module in a state
 * use the host's loop and backend, and let the host run the loop. */
#ifndef LRPMSG_HOST_H
#define LRPMSG_HOST_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "device.h"
#include "loop.h"

/* Call before the script can require "rpmsg": its module then runs on this
 * loop and backend, and has the functions only the host gives (rpmsg.reload,
 * which in a stock lua5.4 raises that it needs the host). */
void rpmsg_host_configure(lua_State *L, struct loop *loop, struct rpmsg_backend *backend);
int luaopen_rpmsg(lua_State *L);
/* The watchdog: chunks run through rpmsg_host_pcall and every handler are
 * aborted after ms milliseconds (0: never). */
void rpmsg_host_set_handler_timeout(lua_State *L, int ms);
/* Runs the loop (loop_run's result) inside one protected call on L, which
 * catches its handlers' errors (l_loop_call.c); an error that was no
 * handler's is logged and ends the run with -EIO. */
int rpmsg_host_loop_run(lua_State *L, struct loop *loop);
/* lua_pcall under the watchdog, with a traceback on error. */
int rpmsg_host_pcall(lua_State *L, int nargs, int nresults, const char *what);

/* Generations: begin before running a new script chunk, then commit if it
 * ran, abort if it failed. begin returns the new generation's number. */
int rpmsg_generation_begin(lua_State *L);
void rpmsg_generation_commit(lua_State *L);
void rpmsg_generation_abort(lua_State *L);
/* From a SIGINT handler: aborts the chunk running in L's state with
 * "interrupted!". When none runs it returns false and the Ctrl-C is the
 * prompt's: it never reaches a chunk that starts later. */
bool rpmsg_host_interrupt(lua_State *L);
/* True once after a Ctrl-C that came while no chunk ran in L's state. */
bool rpmsg_host_clear_interrupt(lua_State *L);
/* The exit status when the watchdog gives up on a call that Lua cannot
 * interrupt (a runaway __gc finalizer), after destroying our endpoints. */
#define RPMSG_EXIT_STUCK 3

/* What rpmsg.stats() counts, for the service's STATUS= line. */
struct rpmsg_host_counts {
	unsigned long messages_in, messages_out, handler_errors;
};
void rpmsg_host_counts(lua_State *L, struct rpmsg_host_counts *c);

#define RPMSG_VERSION "0.1.0"
/* One line to stderr with a timestamp. */
void rpmsg_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True once after the script called rpmsg.reload(). Needs
 * rpmsg_host_set_handler_timeout() to have been called on L. */
bool rpmsg_host_take_reload_request(lua_State *L);

#endif
