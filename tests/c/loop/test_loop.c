/* SPDX-License-Identifier: MIT */
/* The event loop's promises to its callbacks: no nested run, a stop ends the
 * batch, an event never reaches an io stopped, freed, restarted or no longer
 * interested since the batch arrived, timers cancelled or re-armed from any
 * callback behave, and a stop signal is seen inside the callback it
 * interrupts. Run under ASan: a dispatch to a freed io is a crash here. */
#include "clock.h"
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static struct loop *loop;
static struct rpmsg_err err;

/* A pipe with one byte waiting: its read end is ready until drained. */
static int ready_fd(void)
{
	int p[2];
	if (pipe(p) < 0 || write(p[1], "x", 1) != 1)
		abort();
	return p[0];   /* the write end stays open for the test's life */
}

static int quiet_fd(int *write_end)
{
	int p[2];
	if (pipe(p) < 0)
		abort();
	*write_end = p[1];
	return p[0];
}

/* ---- re-entry ------------------------------------------------------------ */

static int nested_result = 1;

static void run_again(struct loop_io *io, uint32_t events)
{
	(void)events;
	nested_result = loop_run(loop);
	loop_io_stop(loop, io);
}

static void test_reentry(void)
{
	struct loop_io io = { 0 };
	loop_io_start(loop, &io, ready_fd(), LOOP_IN, run_again, NULL, &err);
	int r = loop_run(loop);
	CHECK(nested_result == -EBUSY, "loop_run from inside a callback is refused with -EBUSY");
	CHECK(r == 0, "the outer run goes on and ends normally");
	close(io.fd);
}

/* ---- a batch of ready ios -------------------------------------------------- */

enum { N = 3 };
static struct loop_io *ios[N];
static int calls[N];
static int dispatched;
static void (*on_first)(int self);

static void counted(struct loop_io *io, uint32_t events)
{
	(void)events;
	int self = (int)(intptr_t)io->ctx;
	calls[self]++;
	if (dispatched++ == 0 && on_first)
		on_first(self);
	/* Drain and stop: no io may come back in the next batch. */
	char c;
	if (read(io->fd, &c, 1) < 0)
		abort();
	if (ios[self] && io->active)
		loop_io_stop(loop, io);
}

static void start_batch(void (*first)(int self))
{
	on_first = first;
	dispatched = 0;
	for (int i = 0; i < N; i++) {
		calls[i] = 0;
		ios[i] = calloc(1, sizeof *ios[i]);
		loop_io_start(loop, ios[i], ready_fd(), LOOP_IN, counted, (void *)(intptr_t)i, &err);
	}
}

static void end_batch(void)
{
	for (int i = 0; i < N; i++) {
		if (!ios[i])
			continue;
		loop_io_stop(loop, ios[i]);
		close(ios[i]->fd);
		free(ios[i]);
		ios[i] = NULL;
	}
}

static void stop_loop(int self)
{
	(void)self;
	loop_stop(loop);
}

static void test_stop_in_batch(void)
{
	start_batch(stop_loop);
	loop_run(loop);
	CHECK(dispatched == 1, "loop_stop in a callback: the rest of the batch is not dispatched");
	end_batch();
}

static void free_the_others(int self)
{
	for (int i = 0; i < N; i++) {
		if (i == self)
			continue;
		loop_io_stop(loop, ios[i]);
		close(ios[i]->fd);
		free(ios[i]);
		ios[i] = NULL;
	}
}

static void test_freed_in_batch(void)
{
	start_batch(free_the_others);
	loop_run(loop);
	CHECK(dispatched == 1, "an io stopped and freed by an earlier callback of the batch is never called");
	end_batch();
}

static int spare_write_end[N];

static void restart_the_others(int self)
{
	for (int i = 0; i < N; i++) {
		if (i == self)
			continue;
		loop_io_stop(loop, ios[i]);
		close(ios[i]->fd);
		/* The same struct, another fd that has nothing to read yet. */
		loop_io_start(loop, ios[i], quiet_fd(&spare_write_end[i]), LOOP_IN, counted,
			      (void *)(intptr_t)i, &err);
	}
}

/* The ios left waiting would keep the loop going: this ends the run. */
static struct loop_timer stopper;
static void stop_now(struct loop_timer *t) { (void)t; loop_stop(loop); }
static void stop_in(uint64_t ms)
{
	loop_timer_init(&stopper, stop_now, NULL);
	loop_timer_start(loop, &stopper, ms, 0, &err);
}

static void test_restarted_in_batch(void)
{
	start_batch(NULL);
	on_first = restart_the_others;
	/* First run: one callback restarts the others; they wait on new fds. */
	stop_in(20);
	loop_run(loop);
	int first = -1;
	for (int i = 0; i < N; i++)
		if (calls[i])
			first = i;
	CHECK(dispatched == 1, "an io restarted on another fd is not called for its old fd's event");
	/* Now make the new fds ready: each restarted io is called once, on its new fd. */
	on_first = NULL;
	for (int i = 0; i < N; i++)
		if (i != first && write(spare_write_end[i], "y", 1) != 1)
			abort();
	loop_run(loop);
	bool each_once = true;
	for (int i = 0; i < N; i++)
		if (calls[i] != 1)
			each_once = false;
	CHECK(each_once, "the restarted io is called for its new fd when that is ready");
	for (int i = 0; i < N; i++)
		if (i != first)
			close(spare_write_end[i]);
	end_batch();
}

static void lose_interest_of_others(int self)
{
	for (int i = 0; i < N; i++)
		if (i != self)
			loop_io_modify(loop, ios[i], 0, &err);
}

static void test_masked_in_batch(void)
{
	start_batch(lose_interest_of_others);
	stop_in(20);
	loop_run(loop);
	CHECK(dispatched == 1, "an event the io no longer wants (loop_io_modify) is not dispatched");
	end_batch();
}

/* ---- timers ------------------------------------------------------------------ */

static struct loop_timer timers[N];
static int fired[N];
static void (*on_fire)(int self);

static void timer_fired(struct loop_timer *t)
{
	int self = (int)(t - timers);
	fired[self]++;
	if (on_fire)
		on_fire(self);
}

static void arm_all(uint64_t delay_ms)
{
	for (int i = 0; i < N; i++) {
		fired[i] = 0;
		loop_timer_init(&timers[i], timer_fired, NULL);
		loop_timer_start(loop, &timers[i], delay_ms, 0, &err);
	}
}

static int total_fired(void)
{
	int n = 0;
	for (int i = 0; i < N; i++)
		n += fired[i];
	return n;
}

static void cancel_the_others(int self)
{
	for (int i = 0; i < N; i++)
		if (i != self)
			loop_timer_stop(loop, &timers[i]);
	on_fire = NULL;
}

static void test_timer_cancels_timers(void)
{
	arm_all(0);
	on_fire = cancel_the_others;
	loop_run(loop);
	CHECK(total_fired() == 1, "timers cancelled by an earlier timer callback of the same pass never fire");
}

static int rearmed_first = -1;

static void rearm_the_others(int self)
{
	for (int i = 0; i < N; i++)
		if (i != self) {
			loop_timer_stop(loop, &timers[i]);
			loop_timer_start(loop, &timers[i], 20, 0, &err);
		}
	rearmed_first = self;
	on_fire = NULL;
}

static void test_timer_rearms_timers(void)
{
	arm_all(0);
	on_fire = rearm_the_others;
	uint64_t t0 = rpmsg_now_ms();
	loop_run(loop);
	uint64_t took = rpmsg_now_ms() - t0;
	bool once_each = true;
	for (int i = 0; i < N; i++)
		if (fired[i] != 1)
			once_each = false;
	CHECK(once_each && took >= 20, "timers cancelled and re-armed from a timer callback fire once, later");
}

static void cancel_all_timers(struct loop_io *io, uint32_t events)
{
	(void)events;
	for (int i = 0; i < N; i++)
		loop_timer_stop(loop, &timers[i]);
	loop_io_stop(loop, io);
}

static void test_io_cancels_timers(void)
{
	struct loop_io io = { 0 };
	loop_io_start(loop, &io, ready_fd(), LOOP_IN, cancel_all_timers, NULL, &err);
	arm_all(0);   /* due before epoll_wait returns: io and timers in one pass */
	loop_run(loop);
	CHECK(total_fired() == 0, "timers cancelled from an io callback of the same pass never fire");
	close(io.fd);
}

static void rearm_all_timers(struct loop_io *io, uint32_t events)
{
	(void)events;
	for (int i = 0; i < N; i++)
		loop_timer_start(loop, &timers[i], 10, 0, &err);
	loop_io_stop(loop, io);
}

static void test_io_rearms_timers(void)
{
	struct loop_io io = { 0 };
	loop_io_start(loop, &io, ready_fd(), LOOP_IN, rearm_all_timers, NULL, &err);
	arm_all(0);
	uint64_t t0 = rpmsg_now_ms();
	loop_run(loop);
	CHECK(total_fired() == N && rpmsg_now_ms() - t0 >= 10,
	      "timers re-armed from an io callback fire once, at their new time");
	close(io.fd);
}

static void test_huge_delay(void)
{
	struct loop_timer t;
	loop_timer_init(&t, timer_fired, NULL);
	loop_timer_start(loop, &t, UINT64_MAX, 0, &err);
	CHECK(t.heap.due_ms == UINT64_MAX, "a delay too long to add saturates instead of wrapping to now");
	loop_timer_stop(loop, &t);
}

/* ---- stop signals ---------------------------------------------------------- */

static void raise_and_count(int self)
{
	(void)self;
	raise(SIGUSR1);   /* delivered before raise returns */
	CHECK(loop_stopping(loop), "a stop signal is seen at once, inside the callback it interrupted");
}

static void test_stop_signal_in_batch(void)
{
	CHECK(loop_stop_on_signal(loop, SIGUSR1, &err) == 0, "loop_stop_on_signal installs a handler");
	start_batch(raise_and_count);
	loop_run(loop);
	CHECK(dispatched == 1, "a stop signal ends the run after the current callback, not the batch");
	end_batch();
	CHECK(loop_restore_stop_signals(loop) == SIGUSR1, "restoring reports the signal that stopped the run");
	CHECK(!loop_stopping(loop), "and forgets it: the next run is not stopped by it");
	struct sigaction now;
	sigaction(SIGUSR1, NULL, &now);
	CHECK(now.sa_handler == SIG_DFL, "the previous disposition is back");
}

static void never(struct loop_timer *t) { (void)t; abort(); }

static void test_stop_signal_wakes_epoll(void)
{
	loop_stop_on_signal(loop, SIGALRM, &err);
	struct loop_timer later;
	loop_timer_init(&later, never, NULL);
	loop_timer_start(loop, &later, 10000, 0, &err);
	struct itimerval in_50ms = { .it_value = { .tv_usec = 50000 } };
	setitimer(ITIMER_REAL, &in_50ms, NULL);
	uint64_t t0 = rpmsg_now_ms();
	loop_run(loop);
	uint64_t took = rpmsg_now_ms() - t0;
	CHECK(took < 2000, "a stop signal wakes a sleeping epoll_wait");
	loop_timer_stop(loop, &later);
	CHECK(loop_restore_stop_signals(loop) == SIGALRM, "the signal that stopped it is reported");
}

static void test_one_owner(void)
{
	struct loop *other = loop_new(&err);
	loop_stop_on_signal(loop, SIGUSR2, &err);
	CHECK(loop_stop_on_signal(other, SIGUSR2, &err) == -EBUSY,
	      "a second loop cannot take the stop signals another one owns");
	loop_restore_stop_signals(loop);
	CHECK(loop_stop_on_signal(other, SIGUSR2, &err) == 0, "it can once they are given back");
	loop_free(other);   /* gives them back too */
	CHECK(loop_stop_on_signal(loop, SIGUSR2, &err) == 0, "loop_free gives them back");
	loop_restore_stop_signals(loop);
}

int main(void)
{
	loop = loop_new(&err);
	if (!loop)
		return 1;
	test_reentry();
	test_stop_in_batch();
	test_freed_in_batch();
	test_restarted_in_batch();
	test_masked_in_batch();
	test_timer_cancels_timers();
	test_timer_rearms_timers();
	test_io_cancels_timers();
	test_io_rearms_timers();
	test_huge_delay();
	test_stop_signal_in_batch();
	test_stop_signal_wakes_epoll();
	test_one_owner();
	loop_free(loop);
	return tap_done();
}
