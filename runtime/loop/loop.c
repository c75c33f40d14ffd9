/* SPDX-License-Identifier: MIT */
/* The event loop. A level-triggered epoll set, one signalfd for the signals
 * that were asked for, a real handler and an eventfd for the signals that
 * stop the loop, and a timer heap whose earliest due time bounds the
 * epoll_wait timeout. */
#include "loop.h"
#include "clock.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define MAX_STOP_SIGNALS 8

struct loop {
	struct loop_head head;   /* first: loop_stopping() reads it through a cast */
	int epfd;
	bool stop;               /* loop_stop() was called */
	bool running;     /* inside loop_run: refuses a nested one */
	int strong_ios;   /* active ios that keep loop_run going */
	struct timer_heap timers;
	/* The batch being dispatched: loop_io_stop clears entries here, so a
	 * callback can stop an io whose event is still waiting in the batch. */
	struct epoll_event events[MAX_EVENTS];
	int nevents, current;
	bool dispatching;   /* inside dispatch_from: `current` is the event being handled */
	uint64_t woke_ns;   /* CLOCK_MONOTONIC when epoll_wait last returned */
	struct loop_io signal_io;
	sigset_t signals, saved_mask;
	struct { loop_signal_fn fn; void *ctx; } on_signal[NSIG];
	loop_prepare_fn prepare;
	void *prepare_ctx;
	loop_prepare_fn before_wait;
	void *before_wait_ctx;
	/* Stop signals: the eventfd their handler writes, so epoll_wait
	 * returns; what they replaced; what they had to unblock. */
	struct loop_io wake_io;
	sigset_t stop_signals, unblocked;
	/* What each stop signal replaced, in the order they were set: a few
	 * slots, not one per signal number (NSIG of them were 10 KiB of a
	 * 12 KiB loop, pages touched at every start). */
	struct { int signo; struct sigaction action; } saved[MAX_STOP_SIGNALS];
	int nsaved;
};

/* A signal handler cannot be told which loop it serves: one loop per process
 * owns the stop signals. stop_wake_fd is set before any handler is installed
 * and cleared after the last is removed. */
static volatile sig_atomic_t stop_signal;
static struct loop *stop_owner;
static int stop_wake_fd = -1;

struct loop *loop_new(struct rpmsg_err *e)
{
	struct loop *loop = calloc(1, sizeof *loop);
	if (!loop) {
		rpmsg_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		rpmsg_fail_errno(e, errno, "epoll_create1");
		free(loop);
		return NULL;
	}
	timer_heap_init(&loop->timers);
	sigemptyset(&loop->signals);
	sigemptyset(&loop->stop_signals);
	sigemptyset(&loop->unblocked);
	sigprocmask(SIG_SETMASK, NULL, &loop->saved_mask);
	loop->signal_io.fd = -1;
	loop->wake_io.fd = -1;
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	loop_restore_stop_signals(loop);
	if (loop->wake_io.fd >= 0)
		close(loop->wake_io.fd);
	if (loop->signal_io.fd >= 0) {
		close(loop->signal_io.fd);
		sigprocmask(SIG_SETMASK, &loop->saved_mask, NULL);
	}
	timer_heap_free(&loop->timers);
	close(loop->epfd);
	free(loop);
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
	loop->head.stopping = 1;
}

int loop_stop_signal_pending(void) { return stop_signal; }

uint64_t loop_woke_ns(const struct loop *loop) { return loop->woke_ns; }

void loop_set_before_wait(struct loop *loop, loop_prepare_fn fn, void *ctx)
{
	loop->before_wait = fn;
	loop->before_wait_ctx = ctx;
}

void loop_set_prepare(struct loop *loop, loop_prepare_fn fn, void *ctx)
{
	loop->prepare = fn;
	loop->prepare_ctx = ctx;
}

int loop_io_start(struct loop *loop, struct loop_io *io, int fd, uint32_t events,
		  loop_io_fn fn, void *ctx, struct rpmsg_err *e)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return rpmsg_fail_errno(e, errno, "watch fd %d", fd);
	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->ctx = ctx;
	io->active = true;
	if (!io->weak)
		loop->strong_ios++;
	return 0;
}

int loop_io_modify(struct loop *loop, struct loop_io *io, uint32_t events, struct rpmsg_err *e)
{
	if (!io->active || io->events == events)
		return 0;
	struct epoll_event ev = { .events = events, .data.ptr = io };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return rpmsg_fail_errno(e, errno, "watch fd %d", io->fd);
	io->events = events;
	return 0;
}

void loop_io_stop(struct loop *loop, struct loop_io *io)
{
	if (!io->active)
		return;
	io->active = false;
	if (!io->weak)
		loop->strong_ios--;
	/* Fails when the fd is closed already. That removed it from the set only
	 * if no other fd refers to the file: the caller must close an fd only
	 * after stopping its io (rpmsg.watch watches a copy of its own). */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (int i = loop->current; i < loop->nevents; i++)
		if (loop->events[i].data.ptr == io)
			loop->events[i].data.ptr = NULL;
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *ctx)
{
	memset(t, 0, sizeof *t);
	t->heap.slot = SIZE_MAX;
	t->fn = fn;
	t->ctx = ctx;
}

bool loop_timer_armed(const struct loop_timer *t) { return t->heap.slot != SIZE_MAX; }

/* Saturates: a delay too long to add means never, not a wrap to the past. */
static uint64_t due_after(uint64_t from_ms, uint64_t delay_ms)
{
	return delay_ms > UINT64_MAX - from_ms ? UINT64_MAX : from_ms + delay_ms;
}

int loop_timer_start(struct loop *loop, struct loop_timer *t, uint64_t delay_ms,
		     uint64_t period_ms, struct rpmsg_err *e)
{
	timer_heap_remove(&loop->timers, &t->heap);
	t->heap.due_ms = due_after(rpmsg_now_ms(), delay_ms);
	t->period_ms = period_ms;
	if (timer_heap_push(&loop->timers, &t->heap) < 0)
		return rpmsg_fail(e, ENOMEM, "out of memory for a timer");
	return 0;
}

void loop_timer_stop(struct loop *loop, struct loop_timer *t)
{
	timer_heap_remove(&loop->timers, &t->heap);
}

static void dispatch_signals(struct loop_io *io, uint32_t events)
{
	(void)events;
	struct loop *loop = io->ctx;
	struct signalfd_siginfo si;
	while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		int signo = (int)si.ssi_signo;
		if (signo > 0 && signo < NSIG && loop->on_signal[signo].fn)
			loop->on_signal[signo].fn(signo, loop->on_signal[signo].ctx);
	}
}

int loop_signal(struct loop *loop, int signo, loop_signal_fn fn, void *ctx, struct rpmsg_err *e)
{
	if (signo <= 0 || signo >= NSIG)
		return rpmsg_fail(e, EINVAL, "no signal %d", signo);
	loop->on_signal[signo].fn = fn;
	loop->on_signal[signo].ctx = ctx;
	sigaddset(&loop->signals, signo);
	/* Blocked, so the signal waits in the signalfd instead of killing us. */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, signo);
	sigprocmask(SIG_BLOCK, &block, NULL);
	int fd = signalfd(loop->signal_io.fd, &loop->signals, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		sigdelset(&loop->signals, signo);
		return rpmsg_fail_errno(e, err, "signalfd");
	}
	loop->signal_io.weak = true;
	if (loop->signal_io.fd < 0 &&
	    loop_io_start(loop, &loop->signal_io, fd, LOOP_IN, dispatch_signals, loop, e) < 0) {
		/* Nothing would ever read it: give the fd back, forget the signal. */
		close(fd);
		sigdelset(&loop->signals, signo);
		loop->signal_io.fd = -1;
		return -e->code;
	}
	return 0;
}

static void on_stop_signal(int signo)
{
	int saved_errno = errno;
	stop_signal = signo;
	stop_owner->head.stopping = 1;   /* set before any handler is installed */
	uint64_t one = 1;
	ssize_t r = write(stop_wake_fd, &one, sizeof one);   /* full counter: already awake */
	(void)r;
	errno = saved_errno;
}

static void drain_wakeup(struct loop_io *io, uint32_t events)
{
	(void)events;
	uint64_t count;
	ssize_t r = read(io->fd, &count, sizeof count);
	(void)r;
}

static int open_wakeup(struct loop *loop, struct rpmsg_err *e)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "eventfd");
	loop->wake_io.weak = true;
	if (loop_io_start(loop, &loop->wake_io, fd, LOOP_IN, drain_wakeup, loop, e) < 0) {
		close(fd);
		loop->wake_io.fd = -1;
		return -e->code;
	}
	return 0;
}

int loop_stop_on_signal(struct loop *loop, int signo, struct rpmsg_err *e)
{
	if (signo <= 0 || signo >= NSIG)
		return rpmsg_fail(e, EINVAL, "no signal %d", signo);
	if (stop_owner && stop_owner != loop)
		return rpmsg_fail(e, EBUSY, "another event loop already stops on signal %d", signo);
	if (sigismember(&loop->stop_signals, signo))
		return 0;
	if (loop->nsaved == MAX_STOP_SIGNALS)
		return rpmsg_fail(e, ENOSPC, "no room for stop signal %d: %d stop signals at most",
				  signo, MAX_STOP_SIGNALS);
	if (loop->wake_io.fd < 0 && open_wakeup(loop, e) < 0)
		return -e->code;
	stop_owner = loop;
	stop_wake_fd = loop->wake_io.fd;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;   /* a handler's blocking read goes on; epoll_wait returns anyway */
	if (sigaction(signo, &sa, &loop->saved[loop->nsaved].action) < 0)
		return rpmsg_fail_errno(e, errno, "sigaction for signal %d", signo);
	loop->saved[loop->nsaved++].signo = signo;
	sigaddset(&loop->stop_signals, signo);
	/* Blocked (inherited, or by loop_signal), it would wait instead of stopping us. */
	sigset_t mask, one;
	sigprocmask(SIG_SETMASK, NULL, &mask);
	if (sigismember(&mask, signo)) {
		sigemptyset(&one);
		sigaddset(&one, signo);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		sigaddset(&loop->unblocked, signo);
	}
	return 0;
}

int loop_restore_stop_signals(struct loop *loop)
{
	for (int i = loop->nsaved - 1; i >= 0; i--)
		sigaction(loop->saved[i].signo, &loop->saved[i].action, NULL);
	loop->nsaved = 0;
	if (!sigisemptyset(&loop->unblocked))
		sigprocmask(SIG_BLOCK, &loop->unblocked, NULL);
	sigemptyset(&loop->stop_signals);
	sigemptyset(&loop->unblocked);
	if (stop_owner != loop)
		return 0;
	/* No handler is left that could write to it. */
	int signo = stop_signal;
	stop_signal = 0;
	loop->head.stopping = loop->stop;
	stop_owner = NULL;
	stop_wake_fd = -1;
	drain_wakeup(&loop->wake_io, LOOP_IN);
	return signo;
}

static int next_timeout(struct loop *loop, int cap_ms)
{
	struct heap_timer *t = timer_heap_peek(&loop->timers);
	if (!t)
		return cap_ms;
	uint64_t now = rpmsg_now_ms();
	int until = t->due_ms <= now ? 0 : (int)(t->due_ms - now > INT32_MAX ? INT32_MAX : t->due_ms - now);
	return cap_ms < 0 || until < cap_ms ? until : cap_ms;
}

static void run_timers(struct loop *loop)
{
	if (!timer_heap_peek(&loop->timers))
		return;   /* no clock to read */
	uint64_t now = rpmsg_now_ms();
	/* Timers armed during this pass wait for the next one, so a callback that
	 * re-arms itself with no delay cannot starve the fds. */
	uint64_t limit = loop->timers.next_seq;
	struct heap_timer *h;
	while ((h = timer_heap_peek(&loop->timers)) && h->due_ms <= now && h->seq < limit) {
		struct loop_timer *t = (struct loop_timer *)h;
		timer_heap_remove(&loop->timers, h);
		if (t->period_ms) {
			/* Stay on the original grid, but skip beats missed while busy. */
			t->heap.due_ms = due_after(t->heap.due_ms, t->period_ms);
			if (t->heap.due_ms <= now)
				t->heap.due_ms = due_after(now, t->period_ms);
			/* Cannot fail: it just left the heap, so there is room. */
			timer_heap_push(&loop->timers, &t->heap);
		}
		t->fn(t);
		if (loop_stopping(loop))
			return;
	}
}

static void run_prepare(struct loop *loop)
{
	if (loop->prepare)
		loop->prepare(loop->prepare_ctx);
}

/* Each event is checked against its io just before its turn, as ae.c does:
 * an entry cleared by loop_io_stop (the io was stopped, and perhaps freed or
 * restarted on another fd since) is skipped, and the events are masked with
 * what the io wants now, not when epoll_wait returned. A callback that does
 * not return (it left by longjmp) leaves `current` at its own event:
 * loop_resume goes on from the next one. */
static void dispatch_from(struct loop *loop, int first)
{
	loop->dispatching = true;
	for (loop->current = first; loop->current < loop->nevents && !loop_stopping(loop);
	     loop->current++) {
		const struct epoll_event *ev = &loop->events[loop->current];
		struct loop_io *io = ev->data.ptr;
		if (!io || !io->active)
			continue;
		uint32_t events = ev->events & (io->events | LOOP_ERR | LOOP_HUP);
		if (events)
			io->fn(io, events);
	}
	loop->nevents = loop->current = 0;
	loop->dispatching = false;
}

/* The rest of a wake-up: its events from `first` on, then the due timers. */
static void finish_wakeup(struct loop *loop, int first)
{
	dispatch_from(loop, first);
	if (!loop_stopping(loop))
		run_timers(loop);
}

static int iterate(struct loop *loop, int timeout_ms)
{
	int n = epoll_wait(loop->epfd, loop->events, MAX_EVENTS, next_timeout(loop, timeout_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;   /* a stop signal shows in loop_stopping */
	loop->woke_ns = rpmsg_now_ns();
	loop->nevents = n;
	finish_wakeup(loop, 0);
	return 0;
}

static int run_iterations(struct loop *loop)
{
	int r = 0;
	for (;;) {
		if (loop_stopping(loop))
			break;   /* a stop signal during the last pass: no reload first */
		/* Before the liveness test: what prepare does may arm new work. */
		run_prepare(loop);
		if (loop_stopping(loop) || (loop->strong_ios == 0 && loop->timers.len == 0))
			break;
		if (loop->before_wait)
			loop->before_wait(loop->before_wait_ctx);
		r = iterate(loop, -1);
		if (r < 0)
			break;
	}
	loop->running = false;
	return r;
}

int loop_run(struct loop *loop)
{
	if (loop->running)
		return -EBUSY;
	loop->running = true;
	loop->stop = false;
	loop->head.stopping = 0;
	if (stop_signal && loop == stop_owner)   /* one came before the run: it still stops it */
		loop->head.stopping = 1;
	return run_iterations(loop);
}

int loop_resume(struct loop *loop, bool again)
{
	if (!loop->running)
		return loop_run(loop);
	/* Left from an io callback: its own event again if asked, then the
	 * events after it. Left from anywhere else (a timer, prepare): the
	 * next pass runs what is due. */
	if (loop->dispatching)
		finish_wakeup(loop, again ? loop->current : loop->current + 1);
	return run_iterations(loop);
}

void loop_abandon(struct loop *loop)
{
	loop->running = false;
	loop->dispatching = false;
	loop->nevents = loop->current = 0;
}
