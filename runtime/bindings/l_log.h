/* SPDX-License-Identifier: MIT */
/* rpmsg.log: a callable table, rpmsg.log(fmt, ...) at info and
 * rpmsg.log.err/warn/info/debug(fmt, ...), over runtime/base/log.c. */
#ifndef RPMSG_L_LOG_H
#define RPMSG_L_LOG_H

#include <lua.h>

/* Pushes a new rpmsg.log table. */
void rpmsg_log_push(lua_State *L);

#endif
