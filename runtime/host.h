/* The host: Lua states for the script (and the simulated firmware), script
 * loading with tracebacks, and the command line. No ioctls here: devices are
 * reached only through the `rpmsg` module. */
#ifndef RPMSG_HOST_H
#define RPMSG_HOST_H

#include <lua.h>

#include "device.h"
#include "loop.h"

/* A fresh state with the standard libraries and `rpmsg` bound to loop and
 * backend; the script's folder goes first on package.path. */
lua_State *host_new_state(struct loop *loop, struct rpmsg_backend *backend, const char *script);
/* Loads and runs the script's top level; on failure reports to stderr with
 * file, line and traceback and returns nonzero. */
int host_run_script(lua_State *L, const char *script, int argc, char **argv);

#endif
