/* SPDX-License-Identifier: MIT */
/* Several stop signals at once: restoring gives each signal back its own
 * previous disposition, never another's; a loop takes a bounded number of
 * stop signals and refuses one more with a clear error, keeping the ones
 * it has. */
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static void on_usr1(int s) { (void)s; }
static void on_usr2(int s) { (void)s; }
static void on_alrm(int s) { (void)s; }

static void set_handler(int signo, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigaction(signo, &sa, NULL);
}

static void (*handler_of(int signo))(int)
{
	struct sigaction now;
	sigaction(signo, NULL, &now);
	return now.sa_handler;
}

int main(void)
{
	struct rpmsg_err err;
	struct loop *loop = loop_new(&err);
	if (!loop)
		return 1;
	set_handler(SIGUSR1, on_usr1);
	set_handler(SIGUSR2, on_usr2);
	set_handler(SIGALRM, on_alrm);
	CHECK(loop_stop_on_signal(loop, SIGUSR1, &err) == 0 &&
	      loop_stop_on_signal(loop, SIGALRM, &err) == 0 &&
	      loop_stop_on_signal(loop, SIGUSR2, &err) == 0, "three stop signals are taken");
	CHECK(handler_of(SIGUSR1) != on_usr1 && handler_of(SIGUSR2) != on_usr2,
	      "while they stop the loop, their own handlers are replaced");
	loop_restore_stop_signals(loop);
	CHECK(handler_of(SIGUSR1) == on_usr1, "SIGUSR1 gets its own handler back");
	CHECK(handler_of(SIGALRM) == on_alrm, "SIGALRM gets its own handler back");
	CHECK(handler_of(SIGUSR2) == on_usr2, "SIGUSR2 gets its own handler back");

	/* Taken twice, a signal is one stop signal: its handler stays saved once. */
	CHECK(loop_stop_on_signal(loop, SIGUSR1, &err) == 0 && loop_stop_on_signal(loop, SIGUSR1, &err) == 0,
	      "a stop signal taken twice is taken once");
	loop_restore_stop_signals(loop);
	CHECK(handler_of(SIGUSR1) == on_usr1, "and restored to what it had before the first");

	int taken = 0, refused = 0;
	for (int signo = SIGRTMIN; signo <= SIGRTMAX && !refused; signo++) {
		if (loop_stop_on_signal(loop, signo, &err) == 0)
			taken++;
		else
			refused = signo;
	}
	CHECK(taken >= 2 && refused, "a loop takes a bounded number of stop signals");
	CHECK(err.code == ENOSPC && strstr(err.msg, "stop signals at most"),
	      "one more is refused with an error that says why");
	CHECK(handler_of(refused) == SIG_DFL, "and the refused signal is left alone");
	loop_restore_stop_signals(loop);
	CHECK(handler_of(SIGRTMIN) == SIG_DFL, "the taken ones are given back");
	CHECK(loop_stop_on_signal(loop, SIGRTMIN, &err) == 0, "and there is room again");
	loop_restore_stop_signals(loop);
	loop_free(loop);
	return tap_done();
}
