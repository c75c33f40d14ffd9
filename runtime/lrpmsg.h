/* Private header of the bindings: the `rpmsg` Lua module over the device and
 * loop layers. One runtime per Lua state holds the loop, the backend and the
 * counters; every callback into Lua goes through rpmsg_call(). */
#ifndef LRPMSG_H
#define LRPMSG_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "loop.h"

#define RPMSG_VERSION "0.1.0"

#define RPMSG_CTRL_TYPE "rpmsg.ctrl"
#define RPMSG_ENDPOINT_TYPE "rpmsg.endpoint"
#define RPMSG_TIMER_TYPE "rpmsg.timer"
#define RPMSG_WATCH_TYPE "rpmsg.watch"

struct rpmsg_runtime {
	lua_State *L;                 /* the thread callbacks run on */
	struct loop *loop;
	struct rpmsg_backend *backend;
	bool owns_loop;               /* stock lua5.4: the module made the loop */
	bool hosted;                  /* rpmsg-lua runs the loop, not rpmsg.run() */
	unsigned long handler_errors;
	unsigned long messages_in, messages_out;
	/* A handler failing the same way on every message would flood the log:
	 * repeats within a second are counted, not printed. */
	char last_error[256];
	uint64_t last_error_ms;
	unsigned long repeats;
};

struct rpmsg_runtime *rpmsg_runtime(lua_State *L);

/* Calls the function below nargs arguments on rt->L in protected mode. An
 * error is logged with its traceback and counted; returns false then. */
bool rpmsg_call(struct rpmsg_runtime *rt, int nargs, const char *what);

/* Pushes nil, message, ERRNAME and returns 3: luv's failure convention. */
int rpmsg_push_error(lua_State *L, const struct rpmsg_err *e);
/* Raises a Lua error with e's message: for misuse. */
int rpmsg_raise(lua_State *L, const struct rpmsg_err *e);

void rpmsg_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads {name=, src=, dst=} from the table at idx, raising on bad fields.
 * src and dst default to `dflt` when absent (-1: required). */
void rpmsg_check_info(lua_State *L, int idx, struct rpmsg_info *info, long long dflt);
/* The same from three arguments (name, src, dst) starting at idx, or from a
 * table at idx. */
void rpmsg_check_info_args(lua_State *L, int idx, struct rpmsg_info *info);
/* A device argument: an index (integer >= 0) or a path. */
const char *rpmsg_check_device(lua_State *L, int idx, int *index);

/* Type registration and constructors, one file each. */
void rpmsg_ctrl_register(lua_State *L);
void rpmsg_endpoint_register(lua_State *L);
void rpmsg_timer_register(lua_State *L);
void rpmsg_watch_register(lua_State *L);

int rpmsg_l_open_ctrl(lua_State *L);
int rpmsg_l_open_endpoint(lua_State *L);
int rpmsg_l_endpoint(lua_State *L);
int rpmsg_l_pair(lua_State *L);
int rpmsg_l_every(lua_State *L);
int rpmsg_l_after(lua_State *L);
int rpmsg_l_watch(lua_State *L);
int rpmsg_l_encode_info(lua_State *L);
int rpmsg_l_decode_info(lua_State *L);

/* Keeps the value at idx alive until rpmsg_unanchor (endpoints and timers
 * the loop points at must not be collected under it). */
void rpmsg_anchor(lua_State *L, int idx);
void rpmsg_unanchor(lua_State *L, void *p);
/* Pushes the anchored value whose address is p (nil if none): holds it on
 * the stack while a callback that might let go of it runs. */
int rpmsg_push_anchored(lua_State *L, const void *p);

#endif
