/* What a host program needs from the bindings: make the module in a state
 * use the host's loop and backend, and let the host run the loop. */
#ifndef LRPMSG_HOST_H
#define LRPMSG_HOST_H

#include <lua.h>

#include "device.h"
#include "loop.h"

/* Call before the script can require "rpmsg". */
void rpmsg_host_configure(lua_State *L, struct loop *loop, struct rpmsg_backend *backend);
/* Handler errors so far in this state. */
unsigned long rpmsg_host_handler_errors(lua_State *L);

int luaopen_rpmsg(lua_State *L);

#endif
