/* SPDX-License-Identifier: MIT */
/* Private header of the bindings: the `rpmsg` Lua module over the device and
 * loop layers. One runtime per Lua state holds the loop, the backend and the
 * counters; every callback into Lua goes through rpmsg_call(). */
#ifndef LRPMSG_H
#define LRPMSG_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "device.h"
#include "dirwatch.h"
#include "loop.h"
#include "lrpmsg_host.h"
#include "sysfs.h"

#define RPMSG_CTRL_TYPE "rpmsg.ctrl"
#define RPMSG_ENDPOINT_TYPE "rpmsg.endpoint"
#define RPMSG_TIMER_TYPE "rpmsg.timer"
#define RPMSG_WATCH_TYPE "rpmsg.watch"
#define RPMSG_TASK_TYPE "rpmsg.task"
#define RPMSG_RPROC_TYPE "rpmsg.remoteproc"
#define RPMSG_TTY_TYPE "rpmsg.tty_fd"
#define RPMSG_RPROC_EVENTS_TYPE "rpmsg.remoteproc_events"

/* One per Lua state, made and ended by l_module.c. Its own: the loop, the
 * backend, rpmsg.run's state and the counters. Every other concern keeps
 * its state in a userdata of its own, defined by the file that owns it and
 * reached through the pointers at the end. */
struct batch;
struct lendpoint;
struct rpmsg_runtime {
	lua_State *L;                 /* the thread callbacks run on */
	struct loop *loop;
	struct rpmsg_backend *backend;
	bool owns_loop;               /* stock lua5.4: the module made the loop */
	bool hosted;                  /* rpmsg-lua runs the loop, not rpmsg.run() */
	bool in_run;                  /* inside rpmsg.run(): it is not re-entrant */
	bool closed;                  /* finalized (lua_close): every call raises */
	bool raise_errors;            /* rpmsg.run{raise_errors = true}: the first handler error stops it */
	int raised_ref;               /* that error's traceback (registry ref), LUA_NOREF if none */
	unsigned long handler_errors;
	unsigned long messages_in, messages_out;
	struct rpmsg_error_log *errors;   /* the log-flood limit (l_errors.c) */
	struct rpmsg_guard *guard;        /* the watchdog (l_guard.h) */
	struct rpmsg_recovery *recovery;  /* endpoints whose remote went (l_endpoint_loop.c) */
	struct rpmsg_generations *gens;   /* the host's (l_generation.c); NULL in a stock lua5.4 */
	int gc_kib;                       /* heap size (KiB) at l_gc.c's last try (or lower since) */
	uint64_t handled_ns;              /* when the last guarded call returned (l_endpoint_batch.c, l_guard.c) */
	struct rpmsg_trace *trace;        /* NULL while nothing traces (l_trace.c) */
	unsigned gc_wakeups;              /* wake-ups since l_gc.c last looked at the heap */
	/* The loop's protected call (l_loop_call.c). */
	bool loop_protected;              /* rt->L runs the loop inside it: on_message needs no pcall */
	bool handler_failed;              /* its message handler noted the running handler's batch: */
	int failed_left;                  /* its messages left then, */
	uint64_t failed_started_ns;       /* and its handler's start */
	struct batch *running_batch;      /* the on_message running now (l_endpoint_batch.c), on the */
	struct lendpoint *running_le;     /* C stack: after the unwinding only its endpoint is left */
	struct lendpoint *resume_le;      /* its endpoint after it failed: the wake-up goes on */
	int resume_left;                  /* with this many messages left to it */
};

/* The recovery's state, at the runtime's birth: a userdata pushed on L. */
struct rpmsg_recovery *rpmsg_recovery_new(lua_State *L);
/* At the runtime's end: stops watching for remotes coming back. */
void rpmsg_recovery_stop(struct rpmsg_runtime *rt);
/* Collector steps before the loop waits, not inside handlers (l_gc.c). */
void rpmsg_gc_idle_start(struct rpmsg_runtime *rt);
void rpmsg_gc_idle_stop(struct rpmsg_runtime *rt);

/* Where script generations stand. They are the host's: l_generation.c,
 * linked into the binary only, makes and writes this; the types only read
 * it, to stamp what they make and to stage what a loading script does to the
 * running generation's endpoints. In a stock lua5.4 no generation begins:
 * rt->gens stays NULL, everything is generation 0 and nothing loads. */
struct rpmsg_generations {
	int running;   /* the generation whose handlers run */
	int loading;   /* the one a reload is loading beside it, 0 if none */
};

static inline int rpmsg_gen_running(const struct rpmsg_runtime *rt)
{
	return rt->gens ? rt->gens->running : 0;
}

/* The generation being loaded, 0 when no reload is under way. */
static inline int rpmsg_gen_loading(const struct rpmsg_runtime *rt)
{
	return rt->gens ? rt->gens->loading : 0;
}

/* The generation new objects belong to. */
static inline int rpmsg_current_gen(const struct rpmsg_runtime *rt)
{
	int loading = rpmsg_gen_loading(rt);
	return loading ? loading : rpmsg_gen_running(rt);
}

/* rpmsg.reload(): the host gives it to the module (l_host.c, l_generation.c). */
int rpmsg_generation_l_reload(lua_State *L);
/* The registry field where rpmsg_host_configure leaves what the host gives
 * the module: {loop =, backend =, functions = {name = cfunction}}. */
#define RPMSG_HOST_KEY "rpmsg.host"

enum rpmsg_retire { RPMSG_RETIRE_COMMIT, RPMSG_RETIRE_ABORT };

/* Whose objects the end of a reload ends: a commit the old generation's,
 * an abort the failed load's. */
static inline int rpmsg_gen_retiring(const struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	return how == RPMSG_RETIRE_COMMIT ? rpmsg_gen_running(rt) : rpmsg_gen_loading(rt);
}

/* What the end of a reload does to the object at idx, whatever its kind
 * (l_module.c lists the kinds); each kind's own step below, given its
 * userdata at idx. */
/* luaL_testudata that also knows a userdata with a metatable of its own
 * whose metatable is tname's (the endpoint's, l_endpoint_fields.c). */
void *rpmsg_testudata(lua_State *L, int idx, const char *tname);
void rpmsg_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
/* luaL_setmetatable(L, tname) for the userdata on top, making the kind's
 * metatable first (open, its register function) if it is the kind's first
 * object (l_kind.c). */
void rpmsg_setkind(lua_State *L, const char *tname, void (*open)(lua_State *L));
#define RPMSG_KIND_KEY "rpmsg.kind"
void rpmsg_endpoint_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
void rpmsg_timer_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
void rpmsg_task_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
void rpmsg_tty_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
void rpmsg_rproc_events_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
void rpmsg_watch_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
/* Calls fn on every anchored object (endpoints, timers, watches). */
void rpmsg_each_anchored(lua_State *L, void (*fn)(lua_State *L, int idx, void *ctx), void *ctx);

/* The state's runtime, NULL before require "rpmsg" (l_runtime.c). */
struct rpmsg_runtime *rpmsg_runtime_find(lua_State *L);
/* Makes the runtime userdata on top (popped) the state's, with no anchors. */
void rpmsg_runtime_set(lua_State *L);
/* The state's runtime; raises if there is none or it was shut down. */
struct rpmsg_runtime *rpmsg_runtime(lua_State *L);
/* Raises "rpmsg: the module was shut down" once rt was finalized: userdata
 * methods call it before they touch the loop, which is gone then. */
void rpmsg_check_live(lua_State *L, const struct rpmsg_runtime *rt);

/* Calls the function below nargs arguments on rt->L in protected mode. An
 * error is logged with its traceback and counted; returns false then. */
bool rpmsg_call(struct rpmsg_runtime *rt, int nargs, const char *what);
/* lua_pcall under the watchdog with a traceback handler; on error the
 * traceback is left on the stack. `what` names the code in the report. */
int rpmsg_pcall(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, const char *what);
/* The same with the traceback handler already at stack index msgh
 * (rpmsg_message_handler): a loop calling handlers one after another
 * pushes it once. */
int rpmsg_pcall_at(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, int msgh,
		   const char *what);
/* The same for a call that started at now_ms (rpmsg_now_ms's clock, read
 * by the caller anyway): its watchdog deadline counts from then. */
int rpmsg_pcall_since(struct rpmsg_runtime *rt, lua_State *L, int nargs, int nresults, int msgh,
		      const char *what, uint64_t now_ms);
/* The traceback handler: any error value to a string with its traceback. */
int rpmsg_message_handler(lua_State *L);
/* A call made with lua_call under a protected call further down (the
 * loop's: l_loop_call.c) is entered into the guard as rpmsg_pcall_since
 * would (rpmsg_guard_enter in l_guard.h). When its error unwinds it,
 * rpmsg_guard_unwind back to a mark taken before does what the leaves
 * would have done. */
struct rpmsg_guard_mark {
	int depth, chain_len;
};
void rpmsg_guard_mark(const struct rpmsg_runtime *rt, struct rpmsg_guard_mark *m);
void rpmsg_guard_unwind(struct rpmsg_runtime *rt, const struct rpmsg_guard_mark *m);
/* The loop's protected call (l_loop_call.c): runs rt's loop inside one
 * lua_pcall on rt->L, so on_message needs no protected call of its own. A
 * handler's error is noted where it is raised (from the record
 * rt->running_batch), reported once lua_pcall has returned, and the loop
 * goes on with the rest of that wake-up.
 * Returns loop_run's result; *raised (the error value left on rt->L) when
 * an error that was no handler's ended the run. */
int rpmsg_loop_call(struct rpmsg_runtime *rt, bool *raised);
/* For a runtime whose loop runs elsewhere (rt->loop_protected false): fn
 * with ud as its light userdata argument under one protected call, a
 * handler's error reported as above; an error that was no handler's is
 * raised again. */
void rpmsg_protected_dispatch(struct rpmsg_runtime *rt, void (*fn)(void *ud), void *ud);
/* lua_resume of co under the watchdog; an error is reported and counted
 * like a handler's. Yielded values are dropped. Returns the status. */
int rpmsg_resume(struct rpmsg_runtime *rt, lua_State *co, int nargs, const char *what);

/* Tasks (l_task.c): coroutines started by rpmsg.spawn. */
struct ltask;
typedef void (*rpmsg_task_timeout_fn)(struct ltask *t, void *ctx);
/* The task running on thread L, or NULL when L is not one. */
struct ltask *rpmsg_task_current(lua_State *L);
lua_State *rpmsg_task_thread(struct ltask *t);
/* Yields the task; after timeout_ms (-1: never) fn(t, ctx) is called, which
 * should resume it. Use as `return rpmsg_task_block(...)`. */
int rpmsg_task_block(lua_State *L, struct ltask *t, int64_t timeout_ms, rpmsg_task_timeout_fn fn,
		     void *ctx);
/* The same, and k(L, LUA_YIELD, kctx) continues the C function when the
 * task is resumed (with the values given to resume on the stack). */
int rpmsg_task_block_k(lua_State *L, struct ltask *t, int64_t timeout_ms, rpmsg_task_timeout_fn fn,
		       void *ctx, lua_KContext kctx, lua_KFunction k);
/* True while t is blocked in the wait rpmsg_task_block(..., fn, ctx) began:
 * not cancelled, finished, or resumed by anything else since. */
bool rpmsg_task_waits_in(const struct ltask *t, rpmsg_task_timeout_fn fn, const void *ctx);
/* Disarms the timeout of a task about to be resumed by something else. */
void rpmsg_task_unblock(struct ltask *t);
/* Resumes with the nargs values on top of the task's thread. */
void rpmsg_task_resume(struct ltask *t, int nargs);

/* Binds L's runtime to the watchdog: a guarded call running longer than
 * timeout_ms (0: never) is aborted, and Ctrl-C (rpmsg_guard_interrupt)
 * aborts the running chunk. Replaces coroutine.resume and coroutine.wrap in
 * L with versions the watchdog can reach through. */
void rpmsg_guard_install(lua_State *L, struct rpmsg_runtime *rt, int timeout_ms);
/* The runtime rpmsg_guard_install left in the state's extra space (a plain
 * load: signal handlers use it), NULL if none. */
static inline struct rpmsg_runtime *rpmsg_runtime_of_thread(lua_State *L)
{
	return *(struct rpmsg_runtime **)lua_getextraspace(L);
}
/* The guard's state, at the runtime's birth: a userdata pushed on L. */
struct rpmsg_guard *rpmsg_guard_new(lua_State *L);
/* From a signal handler: aborts the chunk running in rt ("interrupted!").
 * Returns false, and keeps the interrupt for the prompt, when nothing ran. */
bool rpmsg_guard_interrupt(struct rpmsg_runtime *rt);
/* Clears the interrupt that came while nothing ran; true if there was one. */
bool rpmsg_guard_clear_interrupt(struct rpmsg_runtime *rt);
/* At the runtime's end: stops the timer. */
void rpmsg_guard_close(struct rpmsg_runtime *rt);

/* A handler's error with its traceback (l_errors.c): raised from
 * rpmsg.run{raise_errors = true}, else logged under the per-source limit. */
void rpmsg_report_error(struct rpmsg_runtime *rt, const char *what, const char *trace);
/* At the runtime's end: writes the errors still only counted. */
void rpmsg_errors_flush(struct rpmsg_runtime *rt);
/* The log-flood limit's state, at the runtime's birth: a userdata pushed on L. */
struct rpmsg_error_log *rpmsg_errors_new(lua_State *L);
/* How many errors were only counted, never logged. */
unsigned long rpmsg_errors_not_logged(const struct rpmsg_runtime *rt);

/* Pushes nil, message, ERRNAME and returns 3: luv's failure convention. */
int rpmsg_push_error(lua_State *L, const struct rpmsg_err *e);
/* Raises a Lua error with e's message: for misuse. */
int rpmsg_raise(lua_State *L, const struct rpmsg_err *e);


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
void rpmsg_task_register(lua_State *L);
void rpmsg_remoteproc_register(lua_State *L);
void rpmsg_tty_register(lua_State *L);
void rpmsg_rproc_events_register(lua_State *L);

int rpmsg_l_open_ctrl(lua_State *L);
int rpmsg_l_open_endpoint(lua_State *L);
int rpmsg_l_endpoint(lua_State *L);
int rpmsg_l_endpoints(lua_State *L);
int rpmsg_l_pair(lua_State *L);
int rpmsg_l_every(lua_State *L);
int rpmsg_l_after(lua_State *L);
int rpmsg_l_watch(lua_State *L);
int rpmsg_l_spawn(lua_State *L);
int rpmsg_l_remoteproc(lua_State *L);
int rpmsg_l_list(lua_State *L);
/* Channels (l_channel.c): a channel as a table {name, src, dst, bus, ...};
 * rpmsg.on_announce(fn). */
void rpmsg_push_channel(lua_State *L, const struct rpmsg_channel *ch);
int rpmsg_l_on_announce(lua_State *L);
/* Inside a task: yields until the channels change or deadline_ms (of
 * rpmsg_now_ms) passes, then k(L, LUA_YIELD, kctx) runs. Returns 0 without
 * yielding outside a task, or when nothing can tell of changes. */
int rpmsg_channel_wait(lua_State *L, struct rpmsg_runtime *rt, uint64_t deadline_ms,
		       lua_KContext kctx, lua_KFunction k);
/* Routes the device layer's notices to rpmsg_logf. */
void rpmsg_channel_log_notices(void);
int rpmsg_l_open_tty(lua_State *L);
int rpmsg_l_tty(lua_State *L);
int rpmsg_l_on_remoteproc(lua_State *L);
int rpmsg_l_open_rproc_events(lua_State *L);
int rpmsg_l_sleep(lua_State *L);
int rpmsg_l_suspend(lua_State *L);
int rpmsg_l_current(lua_State *L);
int rpmsg_l_encode_info(lua_State *L);
int rpmsg_l_decode_info(lua_State *L);
int rpmsg_l_crc32(lua_State *L);

/* Calls function fn of the Lua library module `module` (lua/lib/, found by
 * require: package.path in a stock lua5.4, the host's own copy under
 * rpmsg-lua) with every argument on the stack; returns its
 * results (l_lib.c). For the calls written in Lua: rpmsg.tty{},
 * r:trace(), rpmsg.on_remoteproc(). */
int rpmsg_call_lib(lua_State *L, const char *module, const char *fn);

int rpmsg_l_trace(lua_State *L);
int rpmsg_l_clock(lua_State *L);
void rpmsg_trace_close(struct rpmsg_runtime *rt);   /* at the runtime's end */

/* Keeps the value at idx alive until rpmsg_unanchor (endpoints and timers
 * the loop points at must not be collected under it). */
void rpmsg_anchor(lua_State *L, int idx);
void rpmsg_unanchor(lua_State *L, void *p);
/* Pushes the anchored value whose address is p (nil if none): holds it on
 * the stack while a callback that might let go of it runs. */
int rpmsg_push_anchored(lua_State *L, const void *p);

#endif
