/* SPDX-License-Identifier: MIT */
/* The host: a Lua state for a script, loaded as a generation under the
 * watchdog, and reloaded as a transaction when asked (SIGHUP, the script's
 * folder changing, rpmsg.reload()). No ioctls here: devices are reached only
 * through the `rpmsg` module. */
#ifndef RPMSG_HOST_H
#define RPMSG_HOST_H

#include <limits.h>
#include <lua.h>
#include <stdbool.h>

#include "device.h"
#include "dirwatch.h"
#include "loop.h"

struct host {
	struct loop *loop;
	lua_State *L;
	const char *script;
	char *dir;                   /* the script's folder: modules and file watch (malloc:
	                                a PATH_MAX array here put 8 KiB on main's stack) */
	int env_ref;                 /* the running generation's environment */
	int arg_ref;
	int helpers_ref;             /* the host's rpmsg.host, out of the script's reach */
	struct dirwatch files;
	struct loop_timer settle;    /* lets a burst of file events end before reloading */
	bool reload_wanted;
	int generation;              /* the running one's number, from 1 */
	char reload_error[256];      /* why the last reload failed; "" once one works */
};

/* A state with the standard libraries and `rpmsg` bound to loop and backend,
 * the watchdog armed at timeout_ms, arg[] set from script and its args. */
int host_init(struct host *h, struct loop *loop, struct rpmsg_backend *backend,
	      const char *script, int argc, char **argv, int timeout_ms);
/* Loads the script as a new generation. The first load reports failure on
 * stderr; a reload logs it and leaves the running generation untouched.
 * Returns LUA_OK or the Lua error status. */
int host_load(struct host *h);
/* Reloads on SIGHUP, when a .lua file in the script's folder changes, and on
 * rpmsg.reload(): always at the top of the loop, never inside a handler. */
int host_enable_reload(struct host *h, struct rpmsg_err *e);
void host_close(struct host *h);

#endif
