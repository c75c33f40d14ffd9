/* SPDX-License-Identifier: MIT */
/* sd_notify without libsystemd: one datagram per message on the unix socket
 * NOTIFY_SOCKET names (a path, or an abstract name written with a leading
 * '@'). The watchdog is a timerfd at half of WATCHDOG_USEC, watched by the
 * loop like any fd: it pings only while the loop turns, so a loop stuck in
 * C, which the handler watchdog cannot interrupt, stops the pings and
 * systemd restarts the service. Its io is weak: it keeps no loop alive. */
#include "host_notify.h"
#include "clock.h"
#include "log.h"
#include "lrpmsg_host.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Without a watchdog, STATUS= (the message counts) is refreshed this often. */
#define STATUS_PERIOD_USEC (10 * 1000000ULL)

static struct notifier {
	int fd;                  /* the datagram socket; -1: nobody listens */
	struct sockaddr_un addr;
	socklen_t addr_len;
	bool watchdog;           /* WATCHDOG_USEC was set, for us */
	bool send_failed;        /* logged once */
	int timer_fd;
	struct loop_io timer_io;
	struct host *h;
	char status[512];        /* the last STATUS= sent */
} notifier = { .fd = -1, .timer_fd = -1 };

static void notify_send(const char *msg)
{
	if (notifier.fd < 0)
		return;
	if (sendto(notifier.fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
		   (const struct sockaddr *)&notifier.addr, notifier.addr_len) < 0 &&
	    !notifier.send_failed) {
		notifier.send_failed = true;
		rpmsg_log(RPMSG_LOG_WARN, "sd_notify: cannot send to NOTIFY_SOCKET: %s "
			  "(reported once)", strerror(errno));
	}
}

/* "generation 2, messages in 14, out 14, handler errors 0", after a failed
 * reload's report until the next reload works. One line: a newline would
 * end the STATUS= assignment. */
static void format_status(char *buf, size_t size, struct host *h)
{
	struct rpmsg_host_counts c;
	rpmsg_host_counts(h->L, &c);
	int n = 0;
	if (h->reload_error[0])
		n = snprintf(buf, size, "reload failed, generation %d runs on: %.*s; ", h->generation,
			     (int)strcspn(h->reload_error, "\n"), h->reload_error);
	if (n < 0 || (size_t)n >= size)
		n = 0;
	snprintf(buf + n, size - (size_t)n,
		 "generation %d, messages in %lu, out %lu, handler errors %lu", h->generation,
		 c.messages_in, c.messages_out, c.handler_errors);
}

/* first (READY=1, WATCHDOG=1 or NULL) and STATUS= in one datagram, as
 * systemd reads them; STATUS= only when it changed, unless forced. */
static void send_state(const char *first, bool force)
{
	char status[sizeof notifier.status];
	format_status(status, sizeof status, notifier.h);
	bool changed = force || strcmp(status, notifier.status) != 0;
	if (!changed) {
		if (first)
			notify_send(first);
		return;
	}
	snprintf(notifier.status, sizeof notifier.status, "%s", status);
	char msg[sizeof status + 64];
	snprintf(msg, sizeof msg, "%s%sSTATUS=%s", first ? first : "", first ? "\n" : "", status);
	notify_send(msg);
}

static void watchdog_tick(struct loop_io *io, uint32_t events)
{
	(void)events;
	uint64_t expirations;
	ssize_t r = read(io->fd, &expirations, sizeof expirations);
	(void)r;   /* EAGAIN at worst: the timer fires again */
	send_state(notifier.watchdog ? "WATCHDOG=1" : NULL, false);
}

/* NOTIFY_SOCKET into an address: "/path" or "@abstract". */
static int notify_address(const char *name, struct rpmsg_err *e)
{
	size_t len = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || len < 2 || len >= sizeof notifier.addr.sun_path)
		return rpmsg_fail(e, EINVAL, "NOTIFY_SOCKET='%s' is neither a socket path nor an "
				  "@abstract name that fits a unix address", name);
	memset(&notifier.addr, 0, sizeof notifier.addr);
	notifier.addr.sun_family = AF_UNIX;
	memcpy(notifier.addr.sun_path, name, len);
	if (name[0] == '@')
		notifier.addr.sun_path[0] = '\0';
	notifier.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
					(name[0] == '@' ? 0 : 1));
	return 0;
}

/* WATCHDOG_USEC, if it is meant for this process (WATCHDOG_PID unset or
 * ours); 0 if not. A value that is no number is reported, and the service
 * then runs without pings (systemd's watchdog will say so). */
static unsigned long long watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	if (!usec)
		return 0;
	if (pid && strtoll(pid, NULL, 10) != (long long)getpid())
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(usec, &end, 10);
	if (errno || *end || end == usec || v == 0) {
		rpmsg_log(RPMSG_LOG_ERR, "sd_notify: WATCHDOG_USEC='%s' is not a number of "
			  "microseconds: no WATCHDOG=1 pings", usec);
		return 0;
	}
	return v;
}

static int start_timer(struct host *h, unsigned long long period_usec, struct rpmsg_err *e)
{
	notifier.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (notifier.timer_fd < 0)
		return rpmsg_fail_errno(e, errno, "sd_notify: timerfd_create");
	struct itimerspec its = {
		.it_interval = { (time_t)(period_usec / 1000000), (long)(period_usec % 1000000) * 1000 },
	};
	its.it_value = its.it_interval;
	if (timerfd_settime(notifier.timer_fd, 0, &its, NULL) < 0)
		return rpmsg_fail_errno(e, errno, "sd_notify: timerfd_settime");
	notifier.timer_io.weak = true;
	return loop_io_start(h->loop, &notifier.timer_io, notifier.timer_fd, LOOP_IN, watchdog_tick,
			     NULL, e);
}

int notify_start(struct host *h, struct rpmsg_err *e)
{
	const char *name = getenv("NOTIFY_SOCKET");
	if (!name)
		return 0;
	int r = notify_address(name, e);
	unsigned long long usec = r < 0 ? 0 : watchdog_usec();
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (r < 0)
		return -1;
	notifier.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notifier.fd < 0)
		return rpmsg_fail_errno(e, errno, "sd_notify: socket"), -1;
	notifier.h = h;
	notifier.watchdog = usec != 0;
	/* Without the timer READY=1 still goes out: systemd's own watchdog,
	 * if set, then restarts us, which is right for a loop that cannot ping. */
	if (start_timer(h, usec ? (usec / 2 ? usec / 2 : 1) : STATUS_PERIOD_USEC, e) < 0) {
		rpmsg_log(RPMSG_LOG_ERR, "%s: no WATCHDOG=1 pings nor STATUS= updates", e->msg);
		if (notifier.timer_fd >= 0)
			close(notifier.timer_fd);
		notifier.timer_fd = -1;
	}
	send_state("READY=1", true);
	return 0;
}

void notify_reloading(void)
{
	if (notifier.fd < 0)
		return;
	char msg[64];
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)(rpmsg_now_ns() / 1000u));
	notify_send(msg);
}

/* A failed reload is told by h->reload_error, which stays in STATUS= until
 * a reload works. */
void notify_reloaded(struct host *h)
{
	if (notifier.fd < 0 || h != notifier.h)
		return;
	send_state("READY=1", true);
}

void notify_stop(void)
{
	if (notifier.fd >= 0)
		notify_send("STOPPING=1");
	if (notifier.timer_fd >= 0) {
		loop_io_stop(notifier.h->loop, &notifier.timer_io);
		close(notifier.timer_fd);
		notifier.timer_fd = -1;
	}
	if (notifier.fd >= 0)
		close(notifier.fd);
	notifier.fd = -1;
}
