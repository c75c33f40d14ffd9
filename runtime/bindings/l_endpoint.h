/* Private to the endpoint bindings: the endpoint userdata, shared by
 * l_endpoint.c (I/O and dispatch) and l_declare.c (rpmsg.endpoint{} and what
 * reloads do to declared endpoints). */
#ifndef L_ENDPOINT_H
#define L_ENDPOINT_H

#include "lrpmsg.h"
#include "outq.h"

/* How a declared endpoint is made, kept to make it again after the remote
 * comes back. */
struct endpoint_decl {
	int ctrl_index;
	char ctrl_path[256];       /* "" when ctrl_index says it */
	char rproc[64];            /* "" unless declared with remoteproc = */
	struct rpmsg_info info;
};

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
	/* What a reload in progress (loading generation load_gen) did to an
	 * endpoint of the running generation, done at commit and forgotten on
	 * abort: a failed reload leaves the running generation as it was. */
	int adopted_gen;              /* it declared it again */
	int fields_gen;               /* its field writes went to STAGED_FIELDS */
	int staged_gen;               /* it closed or destroyed it: staged_ops */
	unsigned staged_ops;          /* STAGED_CLOSE | STAGED_DESTROY */
	bool staged_anchor;           /* anchored only so the commit or abort sees it */
	char on_message_label[96];    /* "on_message of endpoint 'x'", made once: not per message */
	bool recover;                 /* made again when the remote comes back */
	bool down;                    /* the remote went; waiting for it */
	struct endpoint_decl decl;
};

enum { STAGED_CLOSE = 1, STAGED_DESTROY = 2 };

/* User values: 1 the live fields (handlers the loop calls), 2 the fields a
 * reload in progress has set on an adopted endpoint, swapped in at commit,
 * 3 the tasks waiting in ep:receive, first come first served. */
enum { LIVE_FIELDS = 1, STAGED_FIELDS = 2, WAITERS = 3, USER_VALUES = 3 };

int rpmsg_push_endpoint(lua_State *L, struct rpmsg_runtime *rt, struct rpmsg_ep *ep, bool owned);
/* Anchors it: the loop may point at it, so the script need not. */
void rpmsg_endpoint_keep(lua_State *L, int idx, struct lendpoint *le);
/* Starts, adjusts or leaves the watch to match the live handlers. */
void rpmsg_endpoint_update_watch(lua_State *L, int idx, struct lendpoint *le);
/* ep:close() for the endpoint at idx: queued messages get a last chance,
 * on_close fires. Returns how many queued messages went unsent (logged),
 * with the reason in *unsent. */
size_t rpmsg_endpoint_close(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_err *unsent);
/* The end of a reload for an endpoint of the running generation: commit
 * applies what the load staged on it, abort forgets it. */
void rpmsg_endpoint_commit(lua_State *L, int idx, struct lendpoint *le);
void rpmsg_endpoint_abort(lua_State *L, int idx, struct lendpoint *le);
/* Creates and opens the endpoint a declaration describes. */
struct rpmsg_ep *rpmsg_endpoint_create(struct rpmsg_runtime *rt, const struct endpoint_decl *d,
				       struct rpmsg_err *e);
/* Back up with a new fd after the remote returned: on_open fires. */
void rpmsg_endpoint_up(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_ep *ep);
/* Recovery (l_recover.c): wait for control devices to appear. */
void rpmsg_recovery_start(struct rpmsg_runtime *rt);
/* Destroys (if owned) and closes without calling Lua. */
void rpmsg_endpoint_release(lua_State *L, struct lendpoint *le);

#endif
