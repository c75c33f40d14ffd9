/* SPDX-License-Identifier: MIT */
/* A callback that does not return: it leaves by longjmp, as a Lua handler's
 * error does under the bindings' protected call around the loop. The run is
 * still on; loop_resume goes on with the same wake-up's events, from the
 * callback's own (again) or from the next, then runs as loop_run does;
 * loop_abandon ends the run so that a new loop_run is accepted. */
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct loop *loop;
static struct rpmsg_err err;
static jmp_buf escape;
static char order[16];
static int calls;

static int ready_fd(void)
{
	int p[2];
	if (pipe(p) < 0 || write(p[1], "x", 1) != 1)
		abort();
	return p[0];
}

/* Records its tag; the first call of io 'a' leaves by longjmp; each io stops
 * itself at its second call, or at its first when it is not 'a'. */
static void record(struct loop_io *io, uint32_t events)
{
	(void)events;
	char tag = *(const char *)io->ctx;
	order[calls++] = tag;
	if (tag == 'a' && calls == 1)
		longjmp(escape, 1);
	loop_io_stop(loop, io);
}

static void run_three(bool again, const char *want, const char *name)
{
	static const char tags[] = "abc";
	struct loop_io io[3] = { 0 };
	calls = 0;
	for (int i = 0; i < 3; i++)
		loop_io_start(loop, &io[i], ready_fd(), LOOP_IN, record, (void *)&tags[i], &err);
	int r;
	if (setjmp(escape) == 0)
		r = loop_run(loop);
	else
		r = loop_resume(loop, again);
	order[calls] = 0;
	/* epoll gives a batch in the order the fds became ready: a, b, c. */
	CHECK(r == 0, "the resumed run ends normally once no io is left");
	CHECK(strcmp(order, want) == 0, name);
	for (int i = 0; i < 3; i++)
		close(io[i].fd);
}

static void leave_run_on(struct loop_io *io, uint32_t events)
{
	(void)events;
	loop_io_stop(loop, io);
	longjmp(escape, 1);
}

static void test_abandon(void)
{
	struct loop_io io = { 0 };
	loop_io_start(loop, &io, ready_fd(), LOOP_IN, leave_run_on, NULL, &err);
	if (setjmp(escape) == 0)
		loop_run(loop);
	loop_abandon(loop);
	CHECK(loop_run(loop) == 0, "after loop_abandon a new loop_run is accepted");
	close(io.fd);
}

int main(void)
{
	loop = loop_new(&err);
	if (!loop)
		return 1;
	run_three(true, "aabc", "again: the callback that left is called for its event once more, then the rest");
	run_three(false, "abca", "not again: the rest of the batch first, its io at the next wake-up");
	test_abandon();
	loop_free(loop);
	return tap_done();
}
