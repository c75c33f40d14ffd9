/* SPDX-License-Identifier: MIT */
/* Private header of the bindings: the `rpmsg` Lua module over the device and
 * loop layers. One runtime per Lua state holds the loop, the backend and the
 * counters; every callback into Lua goes through rpmsg_call(). */
#ifndef LRPMSG_H
#define LRPMSG_H

#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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
	struct rpmsg_trace *trace;    /* NULL while nothing traces (l_trace.c) */
	/* The log-flood limit (l_guard.c): per source (the `what` label), the
	 * first few errors of each second are logged, the rest counted. */
	struct rpmsg_error_source {
		char what[96];
		uint64_t window_ms;       /* start of the current one-second window */
		unsigned logged;          /* lines written in that window */
		unsigned long unlogged;   /* errors counted, not yet reported */
	} error_sources[8];
	unsigned long errors_not_logged;  /* all errors only counted, ever */
	/* The watchdog (l_guard.c). No hook runs until a guarded call overruns:
	 * a POSIX timer's signal handler then hooks the running threads. The
	 * fields that handler reads are volatile sig_atomic_t, written by the
	 * loop's thread in an order that never leaves a call unguarded. */
	int handler_timeout_ms;       /* 0: no timer at all (Ctrl-C still works) */
	int guard_slot;               /* our index in l_guard.c's table, while has_timer */
	bool has_timer;
	timer_t timer;
	volatile sig_atomic_t depth;          /* nesting of guarded calls */
	volatile sig_atomic_t deadline;       /* of the outermost call, ms, wraps at 2^32 */
	volatile sig_atomic_t timer_armed;    /* a one-shot expiry is pending */
	volatile sig_atomic_t tripped;        /* 0, or why the outermost call must end */
	volatile sig_atomic_t tripped_at;     /* ms (wrapping), for the grace period */
	volatile sig_atomic_t idle_interrupt; /* a Ctrl-C came while nothing ran */
	const char *volatile running;         /* what the outermost call runs */
	/* The threads running now, outermost first: the guarded call's thread,
	 * then each coroutine resumed from it. A trip hooks them all. */
	lua_State *volatile chain[200];   /* as deep as Lua nests C calls (LUAI_MAXCCALLS) */
	volatile sig_atomic_t chain_len;
	/* Script generations (l_generation.c). Objects remember the generation
	 * that made them; a reload loads generation load_gen beside gen. */
	int gen;
	int load_gen;
	bool loading;
	bool reload_requested;        /* rpmsg.reload(): the host reloads at the top of the loop */
	/* Recovery of endpoints whose remote went (l_recover.c). */
	bool recovering;
	struct dirwatch recover_dev;
	struct loop_timer recover_timer;
	int recover_backoff_ms;
};

void rpmsg_recovery_stop(struct rpmsg_runtime *rt);

/* The generation new objects belong to. */
static inline int rpmsg_current_gen(const struct rpmsg_runtime *rt)
{
	return rt->loading ? rt->load_gen : rt->gen;
}

enum rpmsg_retire { RPMSG_RETIRE_COMMIT, RPMSG_RETIRE_ABORT };

/* What the end of a reload does to the object at idx, whatever its kind
 * (l_module.c lists the kinds); each kind's own step below, given its
 * userdata at idx. */
void rpmsg_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
void rpmsg_endpoint_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
void rpmsg_timer_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
void rpmsg_task_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how);
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
/* lua_resume of co under the watchdog; an error is reported and counted
 * like a handler's. Yielded values are dropped. Returns the status. */
int rpmsg_resume(struct rpmsg_runtime *rt, lua_State *co, int nargs, const char *what);

/* Tasks (l_task.c): coroutines started by rpmsg.spawn. */
struct ltask;
typedef void (*rpmsg_task_timeout_fn)(struct ltask *t, void *ctx);
/* The task running on thread L, or NULL when L is not one. */
struct ltask *rpmsg_task_current(lua_State *L);
struct ltask *rpmsg_task_check(lua_State *L, int idx);
bool rpmsg_task_done(const struct ltask *t);
lua_State *rpmsg_task_thread(struct ltask *t);
/* Yields the task; after timeout_ms (-1: never) fn(t, ctx) is called, which
 * should resume it. Use as `return rpmsg_task_block(...)`. */
int rpmsg_task_block(lua_State *L, struct ltask *t, int64_t timeout_ms, rpmsg_task_timeout_fn fn,
		     void *ctx);
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
#define RPMSG_CHAIN_MAX (int)(sizeof ((struct rpmsg_runtime *)0)->chain / sizeof(lua_State *))
/* The watchdog's parts that l_coroutine.c uses: the chain of running
 * threads (false: too deep), the error a trip raises, its timer (false:
 * none, errno says why), and which function is Lua's own xpcall. */
bool rpmsg_guard_chain_push(struct rpmsg_runtime *rt, lua_State *L);
void rpmsg_guard_chain_pop(struct rpmsg_runtime *rt);
int rpmsg_guard_raise_trip(lua_State *L, struct rpmsg_runtime *rt);
bool rpmsg_guard_start_timer(struct rpmsg_runtime *rt);
void rpmsg_guard_know_xpcall(lua_CFunction xpcall);
/* From a signal handler: aborts the chunk running in rt ("interrupted!").
 * Returns false, and leaves rt->idle_interrupt set, when nothing ran. */
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
int rpmsg_l_sleep(lua_State *L);
int rpmsg_l_suspend(lua_State *L);
int rpmsg_l_current(lua_State *L);
int rpmsg_l_encode_info(lua_State *L);
int rpmsg_l_decode_info(lua_State *L);
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
