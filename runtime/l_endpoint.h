/* Private to the endpoint bindings: the endpoint userdata, shared by
 * l_endpoint.c (I/O and dispatch) and l_declare.c (rpmsg.endpoint{} and what
 * reloads do to declared endpoints). */
#ifndef L_ENDPOINT_H
#define L_ENDPOINT_H

#include "lrpmsg.h"
#include "outq.h"

struct lendpoint {
	struct rpmsg_ep *ep;          /* NULL once closed */
	struct rpmsg_runtime *rt;
	struct loop_io io;
	struct loop_timer retry;
	struct outq outq;
	bool owned;                   /* made by rpmsg.endpoint{}: destroyed when closed */
	bool anchored;
	bool close_notified;
	int gen;                      /* the script generation that declared it */
	int adopted_gen;              /* a reload loading this generation declared it again */
};

/* User values: 1 the live fields (handlers the loop calls), 2 the fields a
 * reload in progress has set on an adopted endpoint, swapped in at commit,
 * 3 the tasks waiting in ep:receive, first come first served. */
enum { LIVE_FIELDS = 1, STAGED_FIELDS = 2, WAITERS = 3, USER_VALUES = 3 };

int rpmsg_push_endpoint(lua_State *L, struct rpmsg_runtime *rt, struct rpmsg_ep *ep, bool owned);
/* Anchors it: the loop may point at it, so the script need not. */
void rpmsg_endpoint_keep(lua_State *L, int idx, struct lendpoint *le);
/* Starts, adjusts or leaves the watch to match the live handlers. */
void rpmsg_endpoint_update_watch(lua_State *L, int idx, struct lendpoint *le);
/* ep:close() for the endpoint at idx: on_close fires. */
void rpmsg_endpoint_close(lua_State *L, int idx, struct lendpoint *le);
/* Destroys (if owned) and closes without calling Lua. */
void rpmsg_endpoint_release(lua_State *L, struct lendpoint *le);

#endif
