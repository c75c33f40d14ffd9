/* SPDX-License-Identifier: MIT */
/* The event loop: epoll over fds, a timer heap on CLOCK_MONOTONIC, signals
 * through a signalfd, and stop signals through a real handler. No Lua here.
 * Callers own the io and timer structs; stopping, freeing (once stopped) or
 * restarting either from inside any callback is safe: an event still waiting
 * in the batch being dispatched never reaches an io stopped meanwhile. */
#ifndef RPMSG_LOOP_H
#define RPMSG_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "rpmsg_err.h"
#include "timer_heap.h"

enum {
	LOOP_IN = EPOLLIN,
	LOOP_OUT = EPOLLOUT,
	LOOP_PRI = EPOLLPRI,
	LOOP_ERR = EPOLLERR,   /* always reported */
	LOOP_HUP = EPOLLHUP,   /* always reported */
};

struct loop;
struct loop_io;
struct loop_timer;

typedef void (*loop_io_fn)(struct loop_io *io, uint32_t events);
typedef void (*loop_timer_fn)(struct loop_timer *t);
typedef void (*loop_signal_fn)(int signo, void *ctx);
typedef void (*loop_prepare_fn)(void *ctx);

struct loop_io {
	int fd;
	uint32_t events;
	bool active;
	bool weak;        /* does not keep loop_run going (signals, file watches) */
	loop_io_fn fn;
	void *ctx;
};

struct loop_timer {
	struct heap_timer heap;   /* first, so the heap's pointer is the timer */
	uint64_t period_ms;       /* 0 for a one-shot */
	loop_timer_fn fn;
	void *ctx;
};

struct loop *loop_new(struct rpmsg_err *e);
/* Restores the signal mask the loop changed. */
void loop_free(struct loop *loop);

/* Runs until loop_stop(), a stop signal, or until no io (but weak ones) and
 * no timer is left; returns 0, -errno if epoll itself failed, or -EBUSY at
 * once when called from inside a callback of the same loop (it is not
 * re-entrant: a nested run would take over the batch being dispatched). */
int loop_run(struct loop *loop);
/* A callback may also leave without returning (longjmp: the bindings run
 * the loop inside one Lua protected call, and a Lua handler's error unwinds
 * to it). The run is then still on: loop_resume goes on with the events of
 * that wake-up from the callback's own (again: it is called once more for
 * it, if its io is still active) or from the next one, then runs as
 * loop_run does (it is loop_run when no run is on); loop_abandon ends the
 * run instead. */
int loop_resume(struct loop *loop, bool again);
void loop_abandon(struct loop *loop);
/* The run ends after the callback that asked: the rest of the batch and the
 * due timers wait for the next loop_run. */
void loop_stop(struct loop *loop);
/* The one field of the loop that its callers read on every message, first
 * in struct loop: loop_stopping() is a load, not a call. */
struct loop_head {
	volatile sig_atomic_t stopping;   /* loop_stop(), or a stop signal for this loop */
};
/* True after loop_stop() or once a stop signal arrived: long dispatchers
 * check it between items. */
static inline bool loop_stopping(const struct loop *loop)
{
	return ((const struct loop_head *)(const void *)loop)->stopping != 0;
}

/* CLOCK_MONOTONIC (ns) when the loop last woke with events: the callbacks
 * of one wake-up can start from it instead of reading the clock again. */
uint64_t loop_woke_ns(const struct loop *loop);

/* Starts a stopped (or zeroed) io; to move an io to another fd, stop it
 * first. Stop an io before freeing it. */
int loop_io_start(struct loop *loop, struct loop_io *io, int fd, uint32_t events,
		  loop_io_fn fn, void *ctx, struct rpmsg_err *e);
int loop_io_modify(struct loop *loop, struct loop_io *io, uint32_t events, struct rpmsg_err *e);
void loop_io_stop(struct loop *loop, struct loop_io *io);

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *ctx);
/* Arms t to fire after delay_ms, then every period_ms if that is not 0.
 * Any uint64 delay is honoured (a huge one means never, in practice). */
int loop_timer_start(struct loop *loop, struct loop_timer *t, uint64_t delay_ms,
		     uint64_t period_ms, struct rpmsg_err *e);
void loop_timer_stop(struct loop *loop, struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

/* Delivers signo through the loop instead of a handler; blocks it meanwhile.
 * The callback runs when the signalfd's turn comes in a batch: fine for
 * SIGHUP (reload), too late for a stop (see loop_stop_on_signal). */
int loop_signal(struct loop *loop, int signo, loop_signal_fn fn, void *ctx, struct rpmsg_err *e);

/* Stops the loop as soon as signo arrives: a real handler sets a flag that
 * loop_stopping() reads at once (so a dispatcher stops after the current
 * callback, not after the batch) and wakes a sleeping epoll_wait. One loop
 * per process at a time (-EBUSY for a second). The previous disposition of
 * each signal comes back with loop_restore_stop_signals() or loop_free(). */
int loop_stop_on_signal(struct loop *loop, int signo, struct rpmsg_err *e);
/* Puts back the dispositions loop_stop_on_signal replaced and forgets a
 * stop signal that arrived; returns that signal, or 0 if none came. */
int loop_restore_stop_signals(struct loop *loop);
/* The stop signal that arrived and is not yet consumed, or 0. Async-signal
 * safe: a watchdog that finds the loop stuck reads it from its own handler. */
int loop_stop_signal_pending(void);

/* Called at the top of every iteration, outside any handler. */
void loop_set_prepare(struct loop *loop, loop_prepare_fn fn, void *ctx);
/* Called just before the loop waits for events, after prepare: where the
 * bindings let the Lua collector work, outside any handler. */
void loop_set_before_wait(struct loop *loop, loop_prepare_fn fn, void *ctx);

#endif
