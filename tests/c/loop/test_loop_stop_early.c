/* SPDX-License-Identifier: MIT */
/* A stop signal that arrives before loop_run (the host's script still
 * loading) stops the run at once, before any callback; a loop_stop() made
 * before the run does not (each run starts afresh); and once the stop
 * signals are restored, the signal is consumed and the next run goes on. */
#include "loop.h"
#include "tap.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static struct loop *loop;
static struct rpmsg_err err;
static int calls;

static void count_and_stop(struct loop_io *io, uint32_t events)
{
	(void)events;
	calls++;
	loop_io_stop(loop, io);
}

static int ready_fd(void)
{
	int p[2];
	if (pipe(p) < 0 || write(p[1], "x", 1) != 1)
		abort();
	return p[0];
}

int main(void)
{
	loop = loop_new(&err);
	if (!loop)
		return 1;
	struct loop_io io = { 0 };
	int fd = ready_fd();

	CHECK(loop_stop_on_signal(loop, SIGUSR2, &err) == 0, "SIGUSR2 stops the loop");
	raise(SIGUSR2);
	CHECK(loop_stopping(loop), "the signal shows in loop_stopping before any run");
	loop_io_start(loop, &io, fd, LOOP_IN, count_and_stop, NULL, &err);
	CHECK(loop_run(loop) == 0 && calls == 0, "a run after the signal stops before any callback");
	CHECK(loop_restore_stop_signals(loop) == SIGUSR2, "restoring gives the signal that came");
	CHECK(!loop_stopping(loop), "and consumes it");
	CHECK(loop_run(loop) == 0 && calls == 1, "the next run goes on");

	loop_io_start(loop, &io, fd, LOOP_IN, count_and_stop, NULL, &err);
	loop_stop(loop);
	CHECK(loop_stopping(loop), "loop_stop() shows in loop_stopping");
	CHECK(loop_run(loop) == 0 && calls == 2, "a loop_stop() before the run does not stop it");
	close(fd);
	loop_free(loop);
	return tap_done();
}
