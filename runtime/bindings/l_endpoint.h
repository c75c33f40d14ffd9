/* SPDX-License-Identifier: MIT */
/* Private to the endpoint bindings, which call downwards in this order:
 *   l_declare.c         rpmsg.endpoint{}, adoption, the end of a reload
 *   l_endpoint_fields.c the metatable: properties and fields
 *   l_endpoint.c        the methods and constructors
 *   l_endpoint_loop.c   dispatch, handlers, waiters, recovery
 *   l_endpoint_batch.c  on_message's calls for one wake-up
 *   l_endpoint_queue.c  the send queue and its retry
 *   l_endpoint_state.c  label, anchor, staging, the handler slot */
#ifndef L_ENDPOINT_H
#define L_ENDPOINT_H

#include "lrpmsg.h"
#include "device_decl.h"
#include "l_ep_stats.h"
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
	/* What a reload in progress (loading generation load_gen) did to an
	 * endpoint of the running generation, done at commit and forgotten on
	 * abort: a failed reload leaves the running generation as it was. */
	int adopted_gen;              /* it declared it again */
	int fields_gen;               /* its field writes went to STAGED_FIELDS */
	int staged_gen;               /* it closed or destroyed it: staged_ops */
	unsigned staged_ops;          /* STAGED_CLOSE | STAGED_DESTROY */
	bool staged_anchor;           /* anchored only so the commit or abort sees it */
	char on_message_label[96];    /* "on_message of endpoint 'x'", made once: not per message */
	/* The message path's shortcuts, so that a message costs no lookup by
	 * name: the userdata as a registry integer reference while anchored
	 * (the loop reaches it from the io pointer), the live on_message
	 * cached in user value ON_MESSAGE (kept current by every write to the
	 * live fields), and how many entries the WAITERS list holds. */
	int self_ref;                 /* LUA_NOREF unless anchored */
	bool has_on_message;          /* the live on_message is a function */
	unsigned waiting;             /* entries in WAITERS, live or not */
	bool recover;                 /* made again when the remote comes back */
	bool down;                    /* the remote went; waiting for it */
	struct endpoint_decl decl;
	struct rpmsg_ep_stats stats;  /* ep:stats(), l_observe.h */
	unsigned lone_wakeups;        /* wake-ups in a row that found one message (l_endpoint_loop.c) */
};

enum { STAGED_CLOSE = 1, STAGED_DESTROY = 2 };

/* User values: 1 the live fields (handlers the loop calls), 2 the fields a
 * reload in progress has set on an adopted endpoint, swapped in at commit,
 * 3 the tasks waiting in ep:receive, first come first served, 4 the live
 * on_message (a copy of LIVE_FIELDS.on_message, read once per message). */
enum { LIVE_FIELDS = 1, STAGED_FIELDS = 2, WAITERS = 3, ON_MESSAGE = 4, USER_VALUES = 4 };

/* "rpmsg.endpoint expected, got T" for the value at idx (l_endpoint_state.c). */
int rpmsg_endpoint_typeerror(lua_State *L, int idx);

static inline struct lendpoint *endpoint_check(lua_State *L, int idx)
{
	struct lendpoint *le = rpmsg_testudata(L, idx, RPMSG_ENDPOINT_TYPE);
	if (!le)
		rpmsg_endpoint_typeerror(L, idx);
	return le;
}

/* The endpoint at idx, for the methods and metamethods, which hold the
 * kind's address as their upvalue 1 (a light userdata; the registry keeps
 * the table). Each endpoint has a metatable of its own, whose metatable is
 * the kind (l_endpoint_fields.c): two pointer loads and a comparison, where
 * luaL_checkudata looks the metatable up in the registry by name. */
static inline struct lendpoint *endpoint_self(lua_State *L, int idx)
{
	struct lendpoint *le = lua_touserdata(L, idx);
	if (le && lua_getmetatable(L, idx)) {
		int pushed = 1 + lua_getmetatable(L, -1);
		bool ours = pushed == 2 && lua_topointer(L, -1) == lua_touserdata(L, lua_upvalueindex(1));
		lua_pop(L, pushed);
		if (ours)
			return le;
	}
	rpmsg_endpoint_typeerror(L, idx);
	return NULL;
}

/* The endpoint at 1 for a method that may be one endpoint's own closure
 * (its method table's hot methods, l_endpoint_state.c), which holds that
 * endpoint's userdata as upvalue 2: when 1 is that block, it is the
 * endpoint, and the upvalue keeps it alive, so the pointer is never stale
 * (a light userdata of that address, such as the anchor table's key, which
 * only the debug library reaches, names the same live endpoint).
 * Anything else (another endpoint, a table, the kind's shared closure,
 * which has no upvalue 2) takes endpoint_self's check and its errors. */
static inline struct lendpoint *endpoint_self_own(lua_State *L)
{
	struct lendpoint *le = lua_touserdata(L, 1);
	if (le && le == lua_touserdata(L, lua_upvalueindex(2)))
		return le;
	return endpoint_self(L, 1);
}

/* During a reload: an endpoint of the running generation, which the loading
 * script may only change through staging. */
static inline bool endpoint_running_while_loading(const struct lendpoint *le)
{
	int loading = rpmsg_gen_loading(le->rt);
	return loading && le->gen != loading;
}

/* Closed or destroyed by the loading script, done at commit: closed for it. */
static inline bool endpoint_staged_closed(const struct lendpoint *le)
{
	int loading = rpmsg_gen_loading(le->rt);
	return loading && le->staged_gen == loading && le->staged_ops != 0;
}

/* Which fields the script sees: the staged ones while a reload that adopted
 * or wrote to this endpoint is loading, so a failed reload leaves the
 * handlers alone. */
static inline int endpoint_script_fields(const struct lendpoint *le)
{
	int loading = rpmsg_gen_loading(le->rt);
	return loading && le->fields_gen == loading ? STAGED_FIELDS : LIVE_FIELDS;
}

/* Pushes live field `key` of the endpoint at idx. */
static inline int endpoint_get_field(lua_State *L, int idx, const char *key)
{
	lua_getiuservalue(L, idx, LIVE_FIELDS);
	int type = lua_getfield(L, -1, key);
	lua_remove(L, -2);
	return type;
}

/* While the remote is away: nil, "endpoint down", never a block or a loss. */
static inline int endpoint_push_down(lua_State *L)
{
	lua_pushnil(L);
	lua_pushliteral(L, "endpoint down");
	lua_pushliteral(L, "ENOTCONN");
	return 3;
}

static inline const char *endpoint_death_reason(const struct lendpoint *le)
{
	return le->ep && le->ep->destroyed_by_us ? "destroyed" : "remote gone";
}

/* Raises when le is closed (or closed by the load). */
static inline struct lendpoint *endpoint_open(lua_State *L, struct lendpoint *le)
{
	if ((!le->ep && !le->down) || endpoint_staged_closed(le))
		luaL_error(L, "rpmsg: attempt to use a closed endpoint");
	return le;
}

/* ---- l_endpoint_state.c */
size_t rpmsg_endpoint_kept_length(const struct lendpoint *le, ssize_t n, size_t cap);
/* n as received into a buffer of cap bytes; a longer message is cut and
 * logged (rpmsg_endpoint_kept_length), out of the message path's line. */
static inline size_t endpoint_kept_length(const struct lendpoint *le, ssize_t n, size_t cap)
{
	return (size_t)n <= cap ? (size_t)n : rpmsg_endpoint_kept_length(le, n, cap);
}
/* Its name for messages: declared name, device name or path. */
const char *rpmsg_endpoint_label(const struct lendpoint *le);
/* Anchors it: the loop may point at it, so the script need not. */
void rpmsg_endpoint_keep(lua_State *L, int idx, struct lendpoint *le);
void rpmsg_endpoint_let_go(lua_State *L, struct lendpoint *le);
void rpmsg_endpoint_stage_anchor(lua_State *L, int idx, struct lendpoint *le);
int rpmsg_endpoint_stage(lua_State *L, int idx, struct lendpoint *le, unsigned op);
/* Copies the live on_message into its slot: after every change of the
 * live fields (rpmsg_endpoint_update_watch calls it). */
void rpmsg_endpoint_cache_handlers(lua_State *L, int idx, struct lendpoint *le);
/* Gives the new endpoint at idx its own metatable and method table, where
 * the endpoint is kept under the address of rpmsg_endpoint_self_key. */
void rpmsg_endpoint_set_metatable(lua_State *L, int idx);
extern const char rpmsg_endpoint_self_key;

/* ---- l_endpoint_queue.c */
size_t rpmsg_endpoint_drop_queue(struct lendpoint *le, const char *why);
/* The retry timer's callback (le->retry). */
void rpmsg_endpoint_retry(struct loop_timer *t);
size_t rpmsg_endpoint_last_flush(struct lendpoint *le, struct rpmsg_err *e);
int rpmsg_endpoint_enqueue(struct lendpoint *le, const char *msg, size_t len, struct rpmsg_err *e);

/* ---- l_endpoint_batch.c */
/* One wake-up's messages for an endpoint, on dispatch()'s stack; the
 * record of the running on_message (rt->running_batch) points here. */
struct batch {
	struct lendpoint *le;
	int left;                     /* messages this wake-up may still take */
	uint64_t started_ns;          /* when the running (or next) handler started */
	struct rpmsg_err e;
	char buf[RPMSG_MAX_MESSAGE];
};

/* on_message(msg, ep) for the n bytes in b->buf, then for each further
 * message while only on_message takes them and b->left allows, each with
 * lua_call: the loop's protected call (l_loop_call.c), or one per wake-up
 * below, catches an error, whose report rt->running_batch leads to.
 * Returns 0, or what rpmsg_ep_recv returned (b->e says why). */
ssize_t rpmsg_endpoint_deliver(lua_State *L, int idx, struct batch *b, size_t n);
/* The handler of le that started at started_ns failed with trace: its
 * time, its count, its report (after the unwinding, before anything was
 * allocated, or where nesting refused the call); the wake-up goes on with
 * `left` more of its messages. */
void rpmsg_endpoint_handler_failed(struct lendpoint *le, uint64_t started_ns, int left, const char *trace);

/* ---- l_endpoint_loop.c */
/* The tasks still waiting in its ep:receive (others are dropped). */
lua_Integer rpmsg_endpoint_waiters(lua_State *L, int idx, struct lendpoint *le);
int rpmsg_endpoint_wait(lua_State *L, int idx, struct lendpoint *le, struct ltask *t, int timeout_ms);
/* Fires on_close(reason) once, wakes the waiters, stops the watch. */
void rpmsg_endpoint_closed(lua_State *L, int idx, struct lendpoint *le, const char *reason);
/* Starts, adjusts or leaves the watch to match the live handlers. */
void rpmsg_endpoint_update_watch(lua_State *L, int idx, struct lendpoint *le);
/* Back up with a new fd after the remote returned: on_open fires. */
void rpmsg_endpoint_up(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_ep *ep);
/* Recovery: wait for control devices to appear. */
void rpmsg_recovery_start(struct rpmsg_runtime *rt);

/* ---- l_endpoint.c */
/* The methods (ep:send ...), each with the metatable as upvalue 1. */
extern const luaL_Reg rpmsg_endpoint_methods[];
/* __gc, __close and __tostring, the same. */
extern const luaL_Reg rpmsg_endpoint_metamethods[];
int rpmsg_push_endpoint(lua_State *L, struct rpmsg_runtime *rt, struct rpmsg_ep *ep, bool owned);
/* ep:close() for the endpoint at idx: queued messages get a last chance,
 * on_close fires. Returns how many queued messages went unsent (logged),
 * with the reason in *unsent. */
size_t rpmsg_endpoint_close(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_err *unsent);
void rpmsg_endpoint_destroy(lua_State *L, int idx, struct lendpoint *le, struct rpmsg_err *e, int *result);
/* Destroys (if owned) and closes without calling Lua. */
void rpmsg_endpoint_release(lua_State *L, struct lendpoint *le);

#endif
