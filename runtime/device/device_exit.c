/* SPDX-License-Identifier: MIT */
/* Destroys the endpoints this process created: on request (the module's end,
 * a simulation's end), and however the process ends, short of SIGKILL: an
 * atexit handler for exit() and os.exit(), and for the signals whose default
 * action kills, a handler that destroys and re-raises. Both are
 * installed when the first endpoint is created, so a program that creates
 * none gets no handler of ours. */
#include "device.h"
#include "rpmsg_abi.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The backends holding records (the kernel, the two sides of a simulation). */
#define MAX_BACKENDS 8
static struct rpmsg_backend *volatile live[MAX_BACKENDS];

/* Signals that end the process by default. Only those still at SIG_DFL when
 * we arm are taken: a handler someone installed stays theirs. */
static const int fatal_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGUSR1,
	SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGSYS,
};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static bool taken[NFATAL];
/* A child forked by the script inherits our records and our handlers, not
 * our endpoints: it must not destroy them when it exits. */
static pid_t owner;

void rpmsg_destroy_created_from_signal(void)
{
	struct rpmsg_backend *kernel = rpmsg_kernel_backend();
	if (getpid() != owner)
		return;
	for (int i = 0; i < MAX_BACKENDS; i++) {
		if (live[i] != kernel)
			continue;   /* a simulation ends with the process anyway */
		for (struct rpmsg_created *r = kernel->created; r; r = r->next) {
			struct rpmsg_ep *ep = r->ep;
			if (!ep || ep->fd < 0 || ep->dead)
				continue;   /* never a second DESTROY */
			ep->dead = true;
			ioctl(ep->fd, RPMSG_DESTROY_EPT_IOCTL);
		}
	}
}

/* Destroys through a temporary fd on the endpoint's node. */
int rpmsg_destroy_by_node(struct rpmsg_backend *b, int ctrl_index,
			  const struct rpmsg_info *info, struct rpmsg_err *e)
{
	int dev = b->ops->find(b, ctrl_index, info, e);
	if (dev < 0)
		return dev;
	struct rpmsg_ep *ep = rpmsg_ep_open(b, NULL, dev, e);
	if (!ep)
		return -e->code;
	int r = rpmsg_ep_destroy(ep, e);
	rpmsg_ep_close(ep);
	return r;
}

int rpmsg_destroy_created(struct rpmsg_backend *b)
{
	int destroyed = 0;
	while (b->created) {
		struct rpmsg_created *rec = b->created;
		struct rpmsg_err e;
		int r = rec->ep ? rpmsg_ep_destroy(rec->ep, &e)
				: rpmsg_destroy_by_node(b, rec->ctrl_index, &rec->info, &e);
		destroyed += r == 0;
		/* Whatever happened, do not try again: a failed destroy of a
		 * vanished endpoint must not loop. */
		if (b->created == rec)
			rpmsg_created_forget(rec);
	}
	rpmsg_exit_untrack(b);   /* nothing left to destroy at exit */
	return destroyed;
}

static void on_fatal_signal(int signo)
{
	/* SA_RESETHAND put the default action back; SA_NODEFER lets the
	 * raise below take it now. */
	rpmsg_destroy_created_from_signal();
	raise(signo);
}

static void release_signals(void)
{
	for (size_t i = 0; i < NFATAL; i++)
		if (taken[i]) {
			struct sigaction now;
			/* Only if it is still ours: the host may have taken it since. */
			if (sigaction(fatal_signals[i], NULL, &now) == 0 && now.sa_handler == on_fatal_signal)
				signal(fatal_signals[i], SIG_DFL);
			taken[i] = false;
		}
}

/* Runs at exit(), and at dlclose() of rpmsg.so (glibc runs a library's
 * atexit handlers then): after that, no handler may point into it. */
static void destroy_at_exit(void)
{
	int destroyed = 0;
	for (int i = 0; i < MAX_BACKENDS && getpid() == owner; i++)
		if (live[i])
			destroyed += rpmsg_destroy_created(live[i]);
	if (destroyed)
		fprintf(stderr, "rpmsg: destroyed %d endpoint%s this process created, at exit\n",
			destroyed, destroyed == 1 ? "" : "s");
	release_signals();
}

static void exit_arm(void)
{
	static bool armed;
	if (armed)
		return;
	armed = true;
	owner = getpid();
	atexit(destroy_at_exit);
	for (size_t i = 0; i < NFATAL; i++) {
		struct sigaction old;
		if (sigaction(fatal_signals[i], NULL, &old) < 0 || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			continue;
		struct sigaction sa = { .sa_handler = on_fatal_signal,
					.sa_flags = SA_RESETHAND | SA_NODEFER };
		sigemptyset(&sa.sa_mask);
		taken[i] = sigaction(fatal_signals[i], &sa, NULL) == 0;
	}
}

void rpmsg_exit_track(struct rpmsg_backend *b)
{
	exit_arm();
	int free_slot = -1;
	for (int i = 0; i < MAX_BACKENDS; i++) {
		if (live[i] == b)
			return;
		if (!live[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0)
		live[free_slot] = b;
}

void rpmsg_exit_untrack(struct rpmsg_backend *b)
{
	for (int i = 0; i < MAX_BACKENDS; i++)
		if (live[i] == b)
			live[i] = NULL;
}
