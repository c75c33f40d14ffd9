/* SPDX-License-Identifier: MIT */
/* A simulated tty (rpmsg.tty{} under --sim): a pty pair per path, whose
 * slave is the host's side (a real tty, as /dev/ttyRPMSGN is) and whose
 * master is the firmware's. The slave is kept open here and opened again
 * through /proc/self/fd for each host open: opening /dev/pts/N by name
 * could reach another process's pty once the number is reused. */
#include "device_sim_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sim_tty {
	struct sim_tty *next;
	char path[128];
	int master;           /* kept until the firmware takes it; -1 after */
	int slave;            /* the host's side, opened again for each open */
};

static int sim_new_pty(struct sim_tty *t, struct rpmsg_err *e)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return rpmsg_fail_errno(e, errno, "simulated tty %s: posix_openpt", t->path);
	/* By name, while our master holds the number: no other pty can have
	 * it now (later it could, hence the kept slave). */
	char pts[64];
	int sl = -1;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || fcntl(m, F_SETFL, O_NONBLOCK) < 0 ||
	    ptsname_r(m, pts, sizeof pts) != 0 ||
	    (sl = open(pts, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		int err = errno;
		close(m);
		return rpmsg_fail_errno(e, err, "simulated tty %s: pty", t->path);
	}
	if (t->slave >= 0)
		close(t->slave);
	t->master = m;
	t->slave = sl;
	return 0;
}

/* The firmware closed its master: the kept slave has hung up. */
static bool sim_tty_hung_up(const struct sim_tty *t)
{
	struct pollfd p = { .fd = t->slave, .events = POLLIN };
	return t->slave < 0 || (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP));
}

/* The first side to open a path makes its pty pair; the firmware takes
 * the master (a new pair if it took the last one: it closed and opens
 * again, so the host's side hangs up and recovers onto the new one); the
 * host opens the kept slave again (ENOENT while the firmware's side is gone). */
int rpmsg_sim_tty_open(struct sim_tty **list, bool firmware, const char *path, struct rpmsg_err *e)
{
	struct sim_tty *t = *list;
	while (t && strcmp(t->path, path) != 0)
		t = t->next;
	bool fresh = !t;
	if (fresh) {
		if (!(t = calloc(1, sizeof *t)))
			return rpmsg_fail(e, ENOMEM, "out of memory");
		snprintf(t->path, sizeof t->path, "%s", path);
		t->master = t->slave = -1;
	}
	int r = 0;
	if ((fresh || (firmware && t->master < 0)) && (r = sim_new_pty(t, e)) < 0) {
		if (fresh)
			free(t);
		return r;
	}
	if (fresh) {
		t->next = *list;
		*list = t;
	}
	if (firmware) {
		int m = t->master;
		t->master = -1;
		return m;
	}
	if (t->master < 0 && sim_tty_hung_up(t))
		return rpmsg_fail(e, ENOENT, "open simulated tty %s: the firmware's side is closed", path);
	/* A new open of the kept slave (its own file description, as each
	 * open of /dev/ttyRPMSGN has): a dup would share one, and epoll keeps
	 * watching a closed fd whose description another fd still holds. */
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", t->slave);
	int fd = open(self, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "open simulated tty %s (%s)", path, self);
	return fd;
}

void rpmsg_sim_ttys_free(struct sim_tty **list)
{
	while (*list) {
		struct sim_tty *t = *list;
		*list = t->next;
		if (t->master >= 0)
			close(t->master);
		if (t->slave >= 0)
			close(t->slave);
		free(t);
	}
}
